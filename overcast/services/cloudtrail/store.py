"""CloudTrail's tables and every SQL statement of the service.

`ct_events` holds every recorded call (management events for the 90 days of the event history; data events
only while a trail that logs them exists), with the columns LookupEvents filters on beside the record's JSON;
`ct_event_resources` the resources each names. Trails keep their configuration as JSON, their logging state,
and how far their delivery to S3 has gone (`delivered_through`, a record id).
"""

from __future__ import annotations

import json
from typing import Any

from overcast.services.cloudtrail.records import COLUMNS
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
        identity TEXT NOT NULL,
        source_ip TEXT,
        agent TEXT,
        request_id TEXT,
        params TEXT,
        response TEXT,
        error_code TEXT,
        error_message TEXT,
        resources TEXT
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
_EVENT_COLUMNS = ", ".join(COLUMNS)
_INSERT_EVENT = f"INSERT INTO ct_events ({_EVENT_COLUMNS}) VALUES ({', '.join('?' * len(COLUMNS))})"
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
        """Calls in records.COLUMNS order, each with the (type, name) resources it names."""
        if not rows:
            return
        self.db.executemany(_INSERT_EVENT, rows)
        if any(resources):
            # one statement inserted them all: AUTOINCREMENT gave them the ids up to the last, one after another
            first = self.db.one("SELECT last_insert_rowid()")[0] - len(rows) + 1
            self.db.executemany(
                "INSERT INTO ct_event_resources VALUES (?, ?, ?, ?)",
                [
                    (first + index, row[0], kind, name)
                    for index, (row, named) in enumerate(zip(rows, resources, strict=True))
                    for kind, name in named
                ],
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
    ) -> list[tuple]:
        """(id, *records.COLUMNS) of management events, newest first, matching one lookup attribute."""
        sql = (
            f"SELECT id, {_EVENT_COLUMNS} FROM ct_events WHERE account = ? AND region = ? "
            "AND category = 'Management' AND time >= ? AND time <= ?"
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
        """(id, *records.COLUMNS) of an account's events with after < id <= through, oldest first."""
        return self.db.all(
            f"SELECT id, {_EVENT_COLUMNS} FROM ct_events WHERE account = ? AND id > ? AND id <= ? "
            "ORDER BY id LIMIT ?",
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
        """Start (with the calls recorded from now on) or stop a trail's logging."""
        if logging:
            self.db.execute(
                "UPDATE ct_trails SET logging = 1, started = ?, next_delivery = ?, "
                "delivered_through = CASE WHEN logging = 1 THEN delivered_through "
                "ELSE (SELECT COALESCE(MAX(id), 0) FROM ct_events) END WHERE account = ? AND name = ?",
                (now, next_delivery, account, name),
            )
        else:
            self.db.execute(
                "UPDATE ct_trails SET logging = 0, stopped = ?, next_delivery = NULL WHERE account = ? AND name = ?",
                (now, account, name),
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
