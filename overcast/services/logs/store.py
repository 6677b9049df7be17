"""CloudWatch Logs tables and the SQL that reads and writes them.

Events live in one table with two indexes: (stream, timestamp, id) so a GetLogEvents page is an index range
scan of one stream, and (group, timestamp, id) so FilterLogEvents, Insights and retention walk a group in
time order. A position in a stream or group is the pair (timestamp, id): ids grow with ingestion, so events
with equal timestamps keep their arrival order. Groups keep their stored byte count as events come and go.
Log group tags live in the kit's table (services/kit/tags.py); `logs_groups.tags` is kept empty for old
data dirs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from overcast.services.kit.store import TagStore
from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE logs_groups (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        retention_days INTEGER,
        kms_key_id TEXT,
        group_class TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '{}',
        stored_bytes INTEGER NOT NULL DEFAULT 0,
        UNIQUE (account, region, name)
    );
    CREATE INDEX logs_groups_retention ON logs_groups (retention_days) WHERE retention_days IS NOT NULL;
    CREATE TABLE logs_streams (
        id INTEGER PRIMARY KEY,
        group_id INTEGER NOT NULL REFERENCES logs_groups (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        first_event INTEGER,
        last_event INTEGER,
        last_ingestion INTEGER,
        UNIQUE (group_id, name)
    );
    CREATE INDEX logs_streams_last_event ON logs_streams (group_id, last_event, name);
    CREATE TABLE logs_events (
        id INTEGER PRIMARY KEY,
        group_id INTEGER NOT NULL,
        stream_id INTEGER NOT NULL REFERENCES logs_streams (id) ON DELETE CASCADE,
        timestamp INTEGER NOT NULL,
        ingestion INTEGER NOT NULL,
        message TEXT NOT NULL
    );
    CREATE INDEX logs_events_stream ON logs_events (stream_id, timestamp, id);
    CREATE INDEX logs_events_group ON logs_events (group_id, timestamp, id);
    CREATE TABLE logs_metric_filters (
        group_id INTEGER NOT NULL REFERENCES logs_groups (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        pattern TEXT NOT NULL,
        transformations TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (group_id, name)
    );
    CREATE TABLE logs_subscription_filters (
        group_id INTEGER NOT NULL REFERENCES logs_groups (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        pattern TEXT NOT NULL,
        destination_arn TEXT NOT NULL,
        role_arn TEXT,
        distribution TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (group_id, name)
    );
    CREATE TABLE logs_queries (
        query_id TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        query_string TEXT NOT NULL,
        group_names TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        results TEXT NOT NULL,
        statistics TEXT NOT NULL
    );
    CREATE INDEX logs_queries_created ON logs_queries (account, region, created_at);
    """,
    """
    CREATE TABLE logs_resource_policies (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        resource_arn TEXT NOT NULL,
        document TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        revision TEXT NOT NULL,
        PRIMARY KEY (account, region, resource_arn, name)
    );
    """,
    # Log group tags move to the kit's table (one place for every service's tags).
    """
    INSERT OR IGNORE INTO resource_tags
        (arn, tag_key, tag_value, account, region, service, resource_type, position)
    SELECT 'arn:aws:logs:' || g.region || ':' || g.account || ':log-group:' || g.name, t.key, t.value,
           g.account, g.region, 'logs', 'log-group', t.id
    FROM logs_groups AS g, json_each(g.tags) AS t;
    UPDATE logs_groups SET tags = '{}' WHERE tags != '{}';
    """,
    """
    CREATE TABLE logs_query_definitions (
        account TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL,
        definition TEXT NOT NULL,
        PRIMARY KEY (account, region, id)
    );
    CREATE INDEX logs_query_definitions_name ON logs_query_definitions (account, region, name);
    """,
    """
    CREATE TABLE logs_destinations (
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, target_arn TEXT NOT NULL,
        role_arn TEXT NOT NULL, access_policy TEXT, created_at INTEGER NOT NULL,
        PRIMARY KEY (account, region, name)
    );
    """,
    """
    CREATE TABLE logs_export_tasks (
        id TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, status TEXT NOT NULL,
        created_at INTEGER NOT NULL, task TEXT NOT NULL
    );
    CREATE INDEX logs_export_tasks_scope ON logs_export_tasks (account, region, created_at);
    """,
]

DESTINATION_COLUMNS = "account, region, name, target_arn, role_arn, access_policy, created_at"


class Destination(NamedTuple):
    account: str
    region: str
    name: str
    target_arn: str
    role_arn: str
    access_policy: str | None
    created_at: int

    @property
    def arn(self) -> str:
        return f"arn:aws:logs:{self.region}:{self.account}:destination:{self.name}"


GROUP_COLUMNS = "id, account, region, name, created_at, retention_days, kms_key_id, group_class, stored_bytes"
STREAM_COLUMNS = "id, group_id, name, created_at, first_event, last_event, last_ingestion"


@dataclass
class LogGroup:
    id: int
    account: str
    region: str
    name: str
    created_at: int
    retention_days: int | None
    kms_key_id: str | None
    group_class: str
    stored_bytes: int

    @property
    def arn(self) -> str:
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:{self.name}"

    def retention_cutoff(self, now_ms: int) -> int:
        """The oldest timestamp still kept (0 when events never expire)."""
        return now_ms - self.retention_days * 86_400_000 if self.retention_days else 0


@dataclass
class LogStream:
    id: int
    group_id: int
    name: str
    created_at: int
    first_event: int | None
    last_event: int | None
    last_ingestion: int | None


@dataclass
class Event:
    id: int
    timestamp: int
    ingestion: int
    message: str
    stream: str = ""


class LogsStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        TagStore(db)  # the kit's table, which a migration copies log group tags into
        db.migrate("logs", MIGRATIONS)

    # -- groups --------------------------------------------------------------------------------------

    def group(self, account: str, region: str, name: str) -> LogGroup | None:
        row = self.db.one(
            f"SELECT {GROUP_COLUMNS} FROM logs_groups WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return LogGroup(*row) if row else None

    def create_group(
        self,
        account: str,
        region: str,
        name: str,
        created_at: int,
        kms_key_id: str | None,
        group_class: str,
    ) -> None:
        self.db.execute(
            "INSERT INTO logs_groups (account, region, name, created_at, kms_key_id, group_class) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (account, region, name, created_at, kms_key_id, group_class),
        )

    def delete_group(self, group_id: int) -> None:
        self.db.execute("DELETE FROM logs_events WHERE group_id = ?", (group_id,))
        self.db.execute("DELETE FROM logs_groups WHERE id = ?", (group_id,))

    def list_groups(
        self,
        account: str,
        region: str,
        prefix: str,
        pattern: str | None,
        after: str,
        group_class: str | None,
        limit: int,
    ) -> list[LogGroup]:
        sql = f"SELECT {GROUP_COLUMNS} FROM logs_groups WHERE account = ? AND region = ? AND name > ?"
        args: list[Any] = [account, region, after]
        if prefix:
            sql += " AND name >= ? AND substr(name, 1, ?) = ?"
            args += [prefix, len(prefix), prefix]
        if pattern:
            sql += " AND instr(lower(name), lower(?)) > 0"
            args.append(pattern)
        if group_class:
            sql += " AND group_class = ?"
            args.append(group_class)
        sql += " ORDER BY name LIMIT ?"
        args.append(limit)
        return [LogGroup(*row) for row in self.db.all(sql, args)]

    def query_definition(self, account: str, region: str, definition_id: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT definition FROM logs_query_definitions WHERE account = ? AND region = ? AND id = ?",
            (account, region, definition_id),
        )
        return json.loads(row[0]) if row else None

    def put_query_definition(self, account: str, region: str, definition: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO logs_query_definitions (account, region, id, name, definition) "
            "VALUES (?, ?, ?, ?, ?)",
            (account, region, definition["queryDefinitionId"], definition["name"], json.dumps(definition)),
        )

    def delete_query_definition(self, account: str, region: str, definition_id: str) -> bool:
        cursor = self.db.execute(
            "DELETE FROM logs_query_definitions WHERE account = ? AND region = ? AND id = ?",
            (account, region, definition_id),
        )
        return cursor.rowcount > 0

    def query_definitions(
        self, account: str, region: str, prefix: str, after: tuple[str, str], limit: int
    ) -> list[dict[str, Any]]:
        """Definitions whose name starts with `prefix`, by name (then id), after the position `after`."""
        rows = self.db.all(
            "SELECT definition FROM logs_query_definitions WHERE account = ? AND region = ? "
            "AND substr(name, 1, ?) = ? AND (name, id) > (?, ?) ORDER BY name, id LIMIT ?",
            (account, region, len(prefix), prefix, *after, limit),
        )
        return [json.loads(text) for (text,) in rows]

    def count_query_definitions(self, account: str, region: str) -> int:
        row = self.db.one(
            "SELECT count(*) FROM logs_query_definitions WHERE account = ? AND region = ?", (account, region)
        )
        return row[0] if row else 0

    # -- destinations (targets other accounts subscribe to) -----------------------------------------------------

    def destination(self, account: str, region: str, name: str) -> Destination | None:
        row = self.db.one(
            f"SELECT {DESTINATION_COLUMNS} FROM logs_destinations WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return Destination(*row) if row else None

    def put_destination(self, account: str, region: str, name: str, target: str, role: str, now: int) -> None:
        self.db.execute(
            "INSERT INTO logs_destinations (account, region, name, target_arn, role_arn, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, name) "
            "DO UPDATE SET target_arn = excluded.target_arn, role_arn = excluded.role_arn",
            (account, region, name, target, role, now),
        )

    def set_destination_policy(self, account: str, region: str, name: str, policy: str) -> None:
        self.db.execute(
            "UPDATE logs_destinations SET access_policy = ? WHERE account = ? AND region = ? AND name = ?",
            (policy, account, region, name),
        )

    def delete_destination(self, account: str, region: str, name: str) -> bool:
        cursor = self.db.execute(
            "DELETE FROM logs_destinations WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return cursor.rowcount > 0

    def destinations(
        self, account: str, region: str, prefix: str, after: str, limit: int
    ) -> list[Destination]:
        rows = self.db.all(
            f"SELECT {DESTINATION_COLUMNS} FROM logs_destinations WHERE account = ? AND region = ? "
            "AND substr(name, 1, ?) = ? AND name > ? ORDER BY name LIMIT ?",
            (account, region, len(prefix), prefix, after, limit),
        )
        return [Destination(*row) for row in rows]

    # -- export tasks -------------------------------------------------------------------------------------------

    def export_task(self, task_id: str) -> dict[str, Any] | None:
        row = self.db.one("SELECT task FROM logs_export_tasks WHERE id = ?", (task_id,))
        return json.loads(row[0]) if row else None

    def save_export_task(self, account: str, region: str, task: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO logs_export_tasks (id, account, region, status, created_at, task) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET status = excluded.status, task = excluded.task",
            (
                task["taskId"],
                account,
                region,
                task["status"]["code"],
                task["executionInfo"]["creationTime"],
                json.dumps(task),
            ),
        )

    def export_tasks(self, account: str, region: str, status: str | None = None) -> list[dict[str, Any]]:
        """The account's export tasks in the region, newest first."""
        sql = "SELECT task FROM logs_export_tasks WHERE account = ? AND region = ?"
        args: list[Any] = [account, region]
        if status:
            sql += " AND status = ?"
            args.append(status)
        return [json.loads(t) for (t,) in self.db.all(sql + " ORDER BY created_at DESC, id", args)]

    def unfinished_export_tasks(self) -> list[tuple[str, str, dict[str, Any]]]:
        rows = self.db.all(
            "SELECT account, region, task FROM logs_export_tasks WHERE status IN ('PENDING', 'RUNNING')"
        )
        return [(account, region, json.loads(task)) for account, region, task in rows]

    def update_group(self, group_id: int, **columns: Any) -> None:
        assignments = ", ".join(f"{name} = ?" for name in columns)
        self.db.execute(f"UPDATE logs_groups SET {assignments} WHERE id = ?", (*columns.values(), group_id))

    def metric_filter_count(self, group_id: int) -> int:
        return self.db.one("SELECT count(*) FROM logs_metric_filters WHERE group_id = ?", (group_id,))[0]

    def groups_with_retention(self) -> list[LogGroup]:
        return [
            LogGroup(*row)
            for row in self.db.all(
                f"SELECT {GROUP_COLUMNS} FROM logs_groups WHERE retention_days IS NOT NULL"
            )
        ]

    # -- streams -------------------------------------------------------------------------------------

    def stream(self, group_id: int, name: str) -> LogStream | None:
        row = self.db.one(
            f"SELECT {STREAM_COLUMNS} FROM logs_streams WHERE group_id = ? AND name = ?", (group_id, name)
        )
        return LogStream(*row) if row else None

    def create_stream(self, group_id: int, name: str, created_at: int) -> None:
        self.db.execute(
            "INSERT INTO logs_streams (group_id, name, created_at) VALUES (?, ?, ?)",
            (group_id, name, created_at),
        )

    def delete_stream(self, stream: LogStream) -> None:
        freed = self.db.one(
            "SELECT coalesce(sum(length(CAST(message AS BLOB))), 0) FROM logs_events WHERE stream_id = ?",
            (stream.id,),
        )[0]
        self.db.execute("DELETE FROM logs_events WHERE stream_id = ?", (stream.id,))
        self.db.execute("DELETE FROM logs_streams WHERE id = ?", (stream.id,))
        self.db.execute(
            "UPDATE logs_groups SET stored_bytes = stored_bytes - ? WHERE id = ?", (freed, stream.group_id)
        )

    def list_streams_by_name(
        self, group_id: int, prefix: str, after: str | None, descending: bool, limit: int
    ) -> list[LogStream]:
        sql = f"SELECT {STREAM_COLUMNS} FROM logs_streams WHERE group_id = ?"
        args: list[Any] = [group_id]
        if prefix:
            sql += " AND name >= ? AND substr(name, 1, ?) = ?"
            args += [prefix, len(prefix), prefix]
        if after is not None:
            sql += " AND name < ?" if descending else " AND name > ?"
            args.append(after)
        sql += f" ORDER BY name {'DESC' if descending else 'ASC'} LIMIT ?"
        return [LogStream(*row) for row in self.db.all(sql, [*args, limit])]

    def list_streams_by_time(
        self, group_id: int, after: tuple[int, str] | None, descending: bool, limit: int
    ) -> list[LogStream]:
        """Ordered by last event time (streams without events first ascending), then by name."""
        sql = f"SELECT {STREAM_COLUMNS} FROM logs_streams WHERE group_id = ?"
        args: list[Any] = [group_id]
        if after is not None:
            op = "<" if descending else ">"
            sql += f" AND (coalesce(last_event, -1), name) {op} (?, ?)"
            args += list(after)
        order = "DESC" if descending else "ASC"
        sql += f" ORDER BY coalesce(last_event, -1) {order}, name {order} LIMIT ?"
        return [LogStream(*row) for row in self.db.all(sql, [*args, limit])]

    def stream_ids(self, group_id: int, names: Sequence[str] | None, prefix: str | None) -> dict[int, str]:
        if names:
            marks = ",".join("?" * len(names))
            rows = self.db.all(
                f"SELECT id, name FROM logs_streams WHERE group_id = ? AND name IN ({marks})",
                (group_id, *names),
            )
        else:
            rows = self.db.all(
                "SELECT id, name FROM logs_streams WHERE group_id = ? AND name >= ? "
                "AND substr(name, 1, ?) = ?",
                (group_id, prefix, len(prefix or ""), prefix),
            )
        return dict(rows)

    # -- events --------------------------------------------------------------------------------------

    def add_events(
        self, group: LogGroup, stream: LogStream, events: list[tuple[int, str]], now_ms: int
    ) -> list[int]:
        """Store (timestamp, message) pairs; returns their ids."""
        cursor = self.db.execute("SELECT coalesce(max(id), 0) FROM logs_events")
        first_id = cursor.fetchone()[0] + 1
        rows = [
            (first_id + i, group.id, stream.id, ts, now_ms, message) for i, (ts, message) in enumerate(events)
        ]
        self.db.executemany(
            "INSERT INTO logs_events (id, group_id, stream_id, timestamp, ingestion, message) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        self.db.execute(
            "UPDATE logs_streams SET first_event = min(coalesce(first_event, ?), ?), "
            "last_event = max(coalesce(last_event, ?), ?), last_ingestion = ? WHERE id = ?",
            (
                events[0][0],
                min(ts for ts, _ in events),
                events[-1][0],
                max(ts for ts, _ in events),
                now_ms,
                stream.id,
            ),
        )
        size = sum(len(message.encode()) for _, message in events)
        self.db.execute(
            "UPDATE logs_groups SET stored_bytes = stored_bytes + ? WHERE id = ?", (size, group.id)
        )
        return [row[0] for row in rows]

    def stream_page(
        self, stream_id: int, low: int, high: int, cursor: tuple[int, int] | None, forward: bool, limit: int
    ) -> list[Event]:
        """Up to `limit` events of a stream in [low, high), after (forward) or before the cursor, in time order."""
        sql = (
            "SELECT id, timestamp, ingestion, message FROM logs_events WHERE stream_id = ? AND timestamp >= ? "
            "AND timestamp < ?"
        )
        args: list[Any] = [stream_id, low, high]
        if cursor is not None:
            ts, event_id = cursor
            if forward:
                sql += " AND timestamp >= ? AND (timestamp > ? OR id > ?)"
            else:
                sql += " AND timestamp <= ? AND (timestamp < ? OR id < ?)"
            args += [ts, ts, event_id]
        order = "ASC" if forward else "DESC"
        sql += f" ORDER BY timestamp {order}, id {order} LIMIT ?"
        events = [Event(*row) for row in self.db.all(sql, [*args, limit])]
        return events if forward else events[::-1]

    def group_scan(
        self,
        group_id: int,
        low: int,
        high: int,
        cursor: tuple[int, int] | None,
        stream_ids: Sequence[int] | None,
        chunk: int = 1000,
        contains: Sequence[str] = (),
        lacks: Sequence[str] = (),
    ) -> Iterator[Event]:
        """Every event of the group in [low, high) after the cursor, in (timestamp, id) order, a chunk at a time.

        `contains` / `lacks`: substrings a message must / must not hold, tested by SQLite before Python sees it.
        """
        where = ""
        if stream_ids is not None:
            where = f" AND e.stream_id IN ({','.join(str(int(i)) for i in stream_ids) or 'NULL'})"
        where += " AND instr(e.message, ?) > 0" * len(contains) + " AND instr(e.message, ?) = 0" * len(lacks)
        sql = (
            "SELECT e.id, e.timestamp, e.ingestion, e.message, s.name FROM logs_events e "
            "JOIN logs_streams s ON s.id = e.stream_id WHERE e.group_id = ? AND e.timestamp >= ? "
            f"AND e.timestamp < ? AND e.timestamp >= ? AND (e.timestamp > ? OR e.id > ?){where} "
            "ORDER BY e.timestamp, e.id LIMIT ?"
        )
        ts, event_id = cursor or (low, 0)
        while True:
            rows = self.db.all(sql, (group_id, low, high, ts, ts, event_id, *contains, *lacks, chunk))
            for row in rows:
                yield Event(*row)
            if len(rows) < chunk:
                return
            ts, event_id = rows[-1][1], rows[-1][0]

    def expire_events(self, group: LogGroup, cutoff: int, batch: int = 5000) -> int:
        """Delete up to `batch` of the group's events older than `cutoff`; returns how many went."""
        rows = self.db.all(
            "SELECT id, length(CAST(message AS BLOB)) FROM logs_events WHERE group_id = ? AND timestamp < ? "
            "ORDER BY timestamp LIMIT ?",
            (group.id, cutoff, batch),
        )
        if not rows:
            return 0
        self.db.executemany("DELETE FROM logs_events WHERE id = ?", [(row[0],) for row in rows])
        self.db.execute(
            "UPDATE logs_groups SET stored_bytes = max(stored_bytes - ?, 0) WHERE id = ?",
            (sum(row[1] for row in rows), group.id),
        )
        return len(rows)

    # -- metric and subscription filters -------------------------------------------------------------

    def put_metric_filter(
        self, group_id: int, name: str, pattern: str, transformations: list[dict[str, Any]], now_ms: int
    ) -> None:
        self.db.execute(
            "INSERT INTO logs_metric_filters (group_id, name, pattern, transformations, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (group_id, name) DO UPDATE SET pattern = excluded.pattern, "
            "transformations = excluded.transformations",
            (group_id, name, pattern, json.dumps(transformations), now_ms),
        )

    def metric_filters(
        self,
        account: str,
        region: str,
        group_id: int | None,
        prefix: str,
        after: tuple[str, str] | None,
        limit: int,
    ) -> list[tuple[str, str, str, str, int]]:
        """(group name, filter name, pattern, transformations JSON, created) ordered by group, then name."""
        sql = (
            "SELECT g.name, f.name, f.pattern, f.transformations, f.created_at FROM logs_metric_filters f "
            "JOIN logs_groups g ON g.id = f.group_id WHERE g.account = ? AND g.region = ?"
        )
        args: list[Any] = [account, region]
        if group_id is not None:
            sql += " AND f.group_id = ?"
            args.append(group_id)
        if prefix:
            sql += " AND substr(f.name, 1, ?) = ?"
            args += [len(prefix), prefix]
        if after:
            sql += " AND (g.name, f.name) > (?, ?)"
            args += list(after)
        sql += " ORDER BY g.name, f.name LIMIT ?"
        return self.db.all(sql, [*args, limit])

    def delete_filter(self, table: str, group_id: int, name: str) -> bool:
        return (
            self.db.execute(f"DELETE FROM {table} WHERE group_id = ? AND name = ?", (group_id, name)).rowcount
            > 0
        )

    def subscription_filters(self, group_id: int) -> list[tuple[str, str, str, str | None, str, int]]:
        """(name, pattern, destination, role, distribution, created) of a group, by name."""
        return self.db.all(
            "SELECT name, pattern, destination_arn, role_arn, distribution, created_at "
            "FROM logs_subscription_filters WHERE group_id = ? ORDER BY name",
            (group_id,),
        )

    def put_subscription_filter(
        self,
        group_id: int,
        name: str,
        pattern: str,
        destination: str,
        role: str | None,
        distribution: str,
        now_ms: int,
    ) -> None:
        self.db.execute(
            "INSERT INTO logs_subscription_filters (group_id, name, pattern, destination_arn, role_arn, "
            "distribution, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (group_id, name) DO UPDATE SET "
            "pattern = excluded.pattern, destination_arn = excluded.destination_arn, role_arn = excluded.role_arn, "
            "distribution = excluded.distribution",
            (group_id, name, pattern, destination, role, distribution, now_ms),
        )

    def event(self, group_id: int, event_id: int) -> Event | None:
        row = self.db.one(
            "SELECT e.id, e.timestamp, e.ingestion, e.message, s.name FROM logs_events e "
            "JOIN logs_streams s ON s.id = e.stream_id WHERE e.id = ? AND e.group_id = ?",
            (event_id, group_id),
        )
        return Event(*row) if row else None

    def group_by_id(self, group_id: int) -> LogGroup | None:
        row = self.db.one(f"SELECT {GROUP_COLUMNS} FROM logs_groups WHERE id = ?", (group_id,))
        return LogGroup(*row) if row else None

    # -- resource policies ---------------------------------------------------------------------------

    def put_resource_policy(
        self,
        account: str,
        region: str,
        name: str,
        resource_arn: str,
        document: str,
        now_ms: int,
        revision: str,
    ) -> None:
        self.db.execute(
            "INSERT INTO logs_resource_policies (account, region, name, resource_arn, document, updated_at, revision) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, resource_arn, name) DO UPDATE SET "
            "document = excluded.document, updated_at = excluded.updated_at, revision = excluded.revision",
            (account, region, name, resource_arn, document, now_ms, revision),
        )

    def resource_policies(
        self, account: str, region: str, resource_arn: str
    ) -> list[tuple[str, str, int, str]]:
        """(name, document, updated, revision) of the account's policies ('' ARN) or of one resource's."""
        return self.db.all(
            "SELECT name, document, updated_at, revision FROM logs_resource_policies "
            "WHERE account = ? AND region = ? AND resource_arn = ? ORDER BY name",
            (account, region, resource_arn),
        )

    def delete_resource_policy(self, account: str, region: str, name: str, resource_arn: str) -> bool:
        return (
            self.db.execute(
                "DELETE FROM logs_resource_policies WHERE account = ? AND region = ? AND name = ? AND resource_arn = ?",
                (account, region, name, resource_arn),
            ).rowcount
            > 0
        )

    # -- queries -------------------------------------------------------------------------------------

    def save_query(
        self,
        query_id: str,
        account: str,
        region: str,
        query_string: str,
        groups: list[str],
        now_ms: int,
        status: str,
        results: list[Any],
        statistics: dict[str, float],
    ) -> None:
        self.db.execute(
            "INSERT INTO logs_queries (query_id, account, region, query_string, group_names, created_at, status, "
            "results, statistics) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                query_id,
                account,
                region,
                query_string,
                json.dumps(groups),
                now_ms,
                status,
                json.dumps(results),
                json.dumps(statistics),
            ),
        )

    def query(self, account: str, region: str, query_id: str) -> tuple | None:
        return self.db.one(
            "SELECT query_id, query_string, group_names, created_at, status, results, statistics "
            "FROM logs_queries WHERE account = ? AND region = ? AND query_id = ?",
            (account, region, query_id),
        )

    def queries(
        self, account: str, region: str, status: str | None, before: tuple[int, str] | None, limit: int
    ) -> list[tuple]:
        sql = (
            "SELECT query_id, query_string, group_names, created_at, status FROM logs_queries "
            "WHERE account = ? AND region = ?"
        )
        args: list[Any] = [account, region]
        if status:
            sql += " AND status = ?"
            args.append(status)
        if before:
            sql += " AND (created_at, query_id) < (?, ?)"
            args += list(before)
        sql += " ORDER BY created_at DESC, query_id DESC LIMIT ?"
        return self.db.all(sql, [*args, limit])
