"""CloudTrail's tables and every SQL statement of the service.

`ct_events` holds every recorded call (management events for the 90 days of the event history; data events
only while a trail that logs them exists), with the columns LookupEvents filters on beside the record's JSON;
`ct_event_resources` the resources each names. Trails keep their configuration as JSON, their logging state,
and how far their delivery to S3 has gone (`delivered_through`, a record id).
"""

from __future__ import annotations

import json
from typing import Any

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE ct_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        time REAL NOT NULL,
        event_id TEXT NOT NULL,
        name TEXT NOT NULL,
        source TEXT NOT NULL,
        username TEXT,
        access_key TEXT,
        read_only INTEGER NOT NULL,
        category TEXT NOT NULL,
        resource_type TEXT,
        resource_arn TEXT,
        record TEXT NOT NULL
    );
    CREATE INDEX ct_events_time ON ct_events (account, region, category, time);
    CREATE TABLE ct_event_resources (
        event INTEGER NOT NULL,
        account TEXT NOT NULL,
        type TEXT NOT NULL,
        name TEXT NOT NULL
    );
    CREATE INDEX ct_event_resources_name ON ct_event_resources (account, name, event);
    CREATE INDEX ct_event_resources_event ON ct_event_resources (event);
    CREATE TABLE ct_trails (
        account TEXT NOT NULL,
        name TEXT NOT NULL,
        region TEXT NOT NULL,
        arn TEXT NOT NULL,
        config TEXT NOT NULL,
        logging INTEGER NOT NULL DEFAULT 0,
        started REAL,
        stopped REAL,
        delivered_through INTEGER NOT NULL DEFAULT 0,
        last_delivery REAL,
        last_attempt REAL,
        last_error TEXT,
        next_delivery REAL,
        PRIMARY KEY (account, name)
    ) WITHOUT ROWID;
    """
]

TRAIL_COLUMNS = (
    "account, name, region, arn, config, logging, started, stopped, delivered_through, last_delivery, "
    "last_attempt, last_error, next_delivery"
)
LOOKUP_COLUMNS = {
    "EventId": "event_id",
    "EventName": "name",
    "ReadOnly": "read_only",
    "Username": "username",
    "EventSource": "source",
    "AccessKeyId": "access_key",
}


class CloudTrailStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("cloudtrail", MIGRATIONS)

    # -- events --------------------------------------------------------------------------------------------

    def add_events(self, rows: list[tuple[Any, ...]], resources: list[list[tuple[str, str]]]) -> None:
        """Rows of (account, region, time, event_id, name, source, username, access_key, read_only, category,
        resource_type, resource_arn, record), each with its [(type, name)] resources."""
        for row, named in zip(rows, resources, strict=True):
            cursor = self.db.execute(
                "INSERT INTO ct_events (account, region, time, event_id, name, source, username, access_key, "
                "read_only, category, resource_type, resource_arn, record) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            if named:
                self.db.executemany(
                    "INSERT INTO ct_event_resources VALUES (?, ?, ?, ?)",
                    [(cursor.lastrowid, row[0], kind, name) for kind, name in named],
                )

    def lookup(
        self,
        account: str,
        region: str,
        start: float,
        end: float,
        attribute: tuple[str, str] | None,
        before: int | None,
        limit: int,
    ) -> list[tuple[int, str]]:
        """(id, record) of management events, newest first, matching one lookup attribute."""
        sql = (
            "SELECT id, record FROM ct_events WHERE account = ? AND region = ? AND category = 'Management' "
            "AND time >= ? AND time <= ?"
        )
        args: list[Any] = [account, region, start, end]
        if attribute is not None:
            key, value = attribute
            if key in LOOKUP_COLUMNS:
                sql += f" AND {LOOKUP_COLUMNS[key]} = ?"
                args.append(int(value == "true") if key == "ReadOnly" else value)
            else:
                column = "type" if key == "ResourceType" else "name"
                sql += f" AND id IN (SELECT event FROM ct_event_resources WHERE account = ? AND {column} = ?)"
                args.extend([account, value])
        if before is not None:
            sql += " AND id < ?"
            args.append(before)
        return self.db.all(sql + " ORDER BY id DESC LIMIT ?", (*args, limit))

    def resources(self, event: int) -> list[tuple[str, str]]:
        return self.db.all("SELECT type, name FROM ct_event_resources WHERE event = ?", (event,))

    def events_after(self, account: str, after: int, through: int, limit: int) -> list[tuple]:
        """(id, region, category, read_only, source, name, resource_type, resource_arn, record) of an
        account's events with after < id <= through, oldest first."""
        return self.db.all(
            "SELECT id, region, category, read_only, source, name, resource_type, resource_arn, record "
            "FROM ct_events WHERE account = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?",
            (account, after, through, limit),
        )

    def last_event_id(self) -> int:
        return self.db.one("SELECT COALESCE(MAX(id), 0) FROM ct_events")[0]

    def expire(self, before: float, data_before_id: int | None) -> None:
        """Forget management events older than the event history keeps, and data events every trail has
        delivered (all of them when `data_before_id` is None)."""
        self.db.execute(
            "DELETE FROM ct_event_resources WHERE event IN (SELECT id FROM ct_events WHERE time < ?)",
            (before,),
        )
        self.db.execute("DELETE FROM ct_events WHERE time < ?", (before,))
        limit = data_before_id if data_before_id is not None else self.last_event_id() + 1
        self.db.execute(
            "DELETE FROM ct_event_resources WHERE event IN "
            "(SELECT id FROM ct_events WHERE category = 'Data' AND id < ?)",
            (limit,),
        )
        self.db.execute("DELETE FROM ct_events WHERE category = 'Data' AND id < ?", (limit,))

    # -- trails ----------------------------------------------------------------------------------------------

    def trail(self, account: str, name: str) -> tuple | None:
        return self.db.one(
            f"SELECT {TRAIL_COLUMNS} FROM ct_trails WHERE account = ? AND name = ?", (account, name)
        )

    def trail_by_arn(self, arn: str) -> tuple | None:
        return self.db.one(f"SELECT {TRAIL_COLUMNS} FROM ct_trails WHERE arn = ?", (arn,))

    def put_trail(
        self, account: str, name: str, region: str, arn: str, config: dict[str, Any], first: int
    ) -> None:
        self.db.execute(
            "INSERT INTO ct_trails (account, name, region, arn, config, delivered_through) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (account, name) DO UPDATE SET config = excluded.config",
            (account, name, region, arn, json.dumps(config), first),
        )

    def set_logging(
        self, account: str, name: str, logging: bool, now: float, next_delivery: float | None
    ) -> None:
        column = "started" if logging else "stopped"
        self.db.execute(
            f"UPDATE ct_trails SET logging = ?, {column} = ?, next_delivery = ? WHERE account = ? AND name = ?",
            (int(logging), now, next_delivery, account, name),
        )

    def delete_trail(self, account: str, name: str) -> None:
        self.db.execute("DELETE FROM ct_trails WHERE account = ? AND name = ?", (account, name))

    def trails(self, account: str | None = None) -> list[tuple]:
        if account is None:
            return self.db.all(f"SELECT {TRAIL_COLUMNS} FROM ct_trails ORDER BY account, name")
        return self.db.all(
            f"SELECT {TRAIL_COLUMNS} FROM ct_trails WHERE account = ? ORDER BY name", (account,)
        )

    def due_trails(self, now: float) -> list[tuple]:
        return self.db.all(
            f"SELECT {TRAIL_COLUMNS} FROM ct_trails WHERE logging = 1 AND next_delivery <= ? ORDER BY next_delivery",
            (now,),
        )

    def next_delivery(self) -> float | None:
        return self.db.one("SELECT MIN(next_delivery) FROM ct_trails WHERE logging = 1")[0]

    def delivered(
        self, account: str, name: str, through: int, now: float, error: str | None, next_delivery: float
    ) -> None:
        self.db.execute(
            "UPDATE ct_trails SET delivered_through = CASE WHEN ? IS NULL THEN ? ELSE delivered_through END, "
            "last_delivery = CASE WHEN ? IS NULL THEN ? ELSE last_delivery END, last_attempt = ?, last_error = ?, "
            "next_delivery = ? WHERE account = ? AND name = ?",
            (error, through, error, now, now, error, next_delivery, account, name),
        )

    def lowest_delivered(self) -> int | None:
        return self.db.one("SELECT MIN(delivered_through) FROM ct_trails")[0]
