"""EventBridge's tables and every SQL statement of the service.

Buses, rules and targets are rows; a target's whole configuration is kept as the JSON of its PutTargets entry.
Work that happens later is rows with due times: `events_deliveries` (an event on its way to one target, with its
attempts) and `events_schedules` (a scheduled rule's next firing). Archives keep their events in
`events_archived`, which replays read back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE events_buses (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL,
        description TEXT,
        policy TEXT,
        source_name TEXT,
        dead_letter TEXT,
        created REAL NOT NULL,
        modified REAL NOT NULL,
        PRIMARY KEY (account, region, name)
    ) WITHOUT ROWID;
    CREATE TABLE events_rules (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        bus TEXT NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL,
        pattern TEXT,
        schedule TEXT,
        state TEXT NOT NULL,
        description TEXT,
        role_arn TEXT,
        managed_by TEXT,
        created_by TEXT NOT NULL,
        PRIMARY KEY (account, region, bus, name)
    ) WITHOUT ROWID;
    CREATE TABLE events_targets (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        bus TEXT NOT NULL,
        rule TEXT NOT NULL,
        target_id TEXT NOT NULL,
        arn TEXT NOT NULL,
        config TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (account, region, bus, rule, target_id)
    ) WITHOUT ROWID;
    CREATE INDEX events_targets_arn ON events_targets (account, region, arn);
    CREATE TABLE events_schedules (
        rule_arn TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        bus TEXT NOT NULL,
        rule TEXT NOT NULL,
        anchor REAL NOT NULL,
        next_fire REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX events_schedules_due ON events_schedules (next_fire);
    CREATE TABLE events_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        rule_arn TEXT NOT NULL,
        target TEXT NOT NULL,
        event TEXT NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL,
        due REAL NOT NULL
    );
    CREATE INDEX events_deliveries_due ON events_deliveries (due);
    CREATE TABLE events_archives (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL,
        source_arn TEXT NOT NULL,
        description TEXT,
        pattern TEXT,
        retention_days INTEGER NOT NULL,
        state TEXT NOT NULL,
        created REAL NOT NULL,
        PRIMARY KEY (account, region, name)
    ) WITHOUT ROWID;
    CREATE TABLE events_archived (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        archive_arn TEXT NOT NULL,
        time REAL NOT NULL,
        event TEXT NOT NULL
    );
    CREATE INDEX events_archived_time ON events_archived (archive_arn, time);
    CREATE TABLE events_replays (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL,
        config TEXT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        started REAL,
        ended REAL,
        last_replayed REAL,
        PRIMARY KEY (account, region, name)
    ) WITHOUT ROWID;
    CREATE TABLE events_connections (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL,
        config TEXT NOT NULL,
        state TEXT NOT NULL,
        created REAL NOT NULL,
        modified REAL NOT NULL,
        PRIMARY KEY (account, region, name)
    ) WITHOUT ROWID;
    CREATE TABLE events_destinations (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL,
        config TEXT NOT NULL,
        created REAL NOT NULL,
        modified REAL NOT NULL,
        PRIMARY KEY (account, region, name)
    ) WITHOUT ROWID;
    """
]


@dataclass
class Bus:
    account: str
    region: str
    name: str
    arn: str
    description: str | None
    policy: str | None
    source_name: str | None
    dead_letter: str | None
    created: float
    modified: float


@dataclass
class Rule:
    account: str
    region: str
    bus: str
    name: str
    arn: str
    pattern: str | None
    schedule: str | None
    state: str
    description: str | None
    role_arn: str | None
    managed_by: str | None
    created_by: str


@dataclass
class Delivery:
    id: int
    account: str
    region: str
    rule_arn: str
    target: dict[str, Any]
    event: str
    payload: str
    attempts: int
    created: float


_BUS = "account, region, name, arn, description, policy, source_name, dead_letter, created, modified"
_RULE = (
    "account, region, bus, name, arn, pattern, schedule, state, description, role_arn, managed_by, created_by"
)


class EventsStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("events", MIGRATIONS)

    # -- buses ---------------------------------------------------------------------------------------------

    def bus(self, account: str, region: str, name: str) -> Bus | None:
        row = self.db.one(
            f"SELECT {_BUS} FROM events_buses WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return Bus(*row) if row else None

    def add_bus(self, bus: Bus) -> None:
        self.db.execute(
            f"INSERT INTO events_buses ({_BUS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                bus.account,
                bus.region,
                bus.name,
                bus.arn,
                bus.description,
                bus.policy,
                bus.source_name,
                bus.dead_letter,
                bus.created,
                bus.modified,
            ),
        )

    def update_bus(self, bus: Bus) -> None:
        self.db.execute(
            "UPDATE events_buses SET description = ?, policy = ?, dead_letter = ?, modified = ? "
            "WHERE account = ? AND region = ? AND name = ?",
            (bus.description, bus.policy, bus.dead_letter, bus.modified, bus.account, bus.region, bus.name),
        )

    def delete_bus(self, account: str, region: str, name: str) -> None:
        for table in ("events_targets", "events_rules"):
            self.db.execute(
                f"DELETE FROM {table} WHERE account = ? AND region = ? AND bus = ?", (account, region, name)
            )
        self.db.execute(
            "DELETE FROM events_schedules WHERE account = ? AND region = ? AND bus = ?",
            (account, region, name),
        )
        self.db.execute(
            "DELETE FROM events_buses WHERE account = ? AND region = ? AND name = ?", (account, region, name)
        )

    def buses(self, account: str, region: str, prefix: str, after: str, limit: int) -> list[Bus]:
        rows = self.db.all(
            f"SELECT {_BUS} FROM events_buses WHERE account = ? AND region = ? AND name > ? "
            "AND substr(name, 1, ?) = ? ORDER BY name LIMIT ?",
            (account, region, after, len(prefix), prefix, limit),
        )
        return [Bus(*row) for row in rows]

    # -- rules ---------------------------------------------------------------------------------------------

    def rule(self, account: str, region: str, bus: str, name: str) -> Rule | None:
        row = self.db.one(
            f"SELECT {_RULE} FROM events_rules WHERE account = ? AND region = ? AND bus = ? AND name = ?",
            (account, region, bus, name),
        )
        return Rule(*row) if row else None

    def put_rule(self, rule: Rule) -> None:
        self.db.execute(
            f"INSERT INTO events_rules ({_RULE}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (account, region, bus, name) DO UPDATE SET pattern = excluded.pattern, "
            "schedule = excluded.schedule, state = excluded.state, description = excluded.description, "
            "role_arn = excluded.role_arn",
            (
                rule.account,
                rule.region,
                rule.bus,
                rule.name,
                rule.arn,
                rule.pattern,
                rule.schedule,
                rule.state,
                rule.description,
                rule.role_arn,
                rule.managed_by,
                rule.created_by,
            ),
        )

    def set_rule_state(self, account: str, region: str, bus: str, name: str, state: str) -> None:
        self.db.execute(
            "UPDATE events_rules SET state = ? WHERE account = ? AND region = ? AND bus = ? AND name = ?",
            (state, account, region, bus, name),
        )

    def delete_rule(self, account: str, region: str, bus: str, name: str) -> None:
        self.db.execute(
            "DELETE FROM events_rules WHERE account = ? AND region = ? AND bus = ? AND name = ?",
            (account, region, bus, name),
        )

    def rules(self, account: str, region: str, bus: str, prefix: str, after: str, limit: int) -> list[Rule]:
        rows = self.db.all(
            f"SELECT {_RULE} FROM events_rules WHERE account = ? AND region = ? AND bus = ? AND name > ? "
            "AND substr(name, 1, ?) = ? ORDER BY name LIMIT ?",
            (account, region, bus, after, len(prefix), prefix, limit),
        )
        return [Rule(*row) for row in rows]

    def enabled_pattern_rules(self, account: str, region: str, bus: str) -> list[tuple[str, str, str]]:
        """(name, arn, pattern) of the bus's enabled rules that have an event pattern."""
        return self.db.all(
            "SELECT name, arn, pattern FROM events_rules WHERE account = ? AND region = ? AND bus = ? "
            "AND pattern IS NOT NULL AND state IN ('ENABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS')",
            (account, region, bus),
        )

    def rule_names_by_target(
        self, account: str, region: str, bus: str, arn: str, after: str, limit: int
    ) -> list[str]:
        return [
            name
            for (name,) in self.db.all(
                "SELECT DISTINCT rule FROM events_targets WHERE account = ? AND region = ? AND bus = ? "
                "AND arn = ? AND rule > ? ORDER BY rule LIMIT ?",
                (account, region, bus, arn, after, limit),
            )
        ]

    # -- targets -------------------------------------------------------------------------------------------

    def targets(self, account: str, region: str, bus: str, rule: str) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT config FROM events_targets WHERE account = ? AND region = ? AND bus = ? AND rule = ? "
            "ORDER BY position, target_id",
            (account, region, bus, rule),
        )
        return [json.loads(config) for (config,) in rows]

    def target_count(self, account: str, region: str, bus: str, rule: str) -> int:
        return self.db.one(
            "SELECT COUNT(*) FROM events_targets WHERE account = ? AND region = ? AND bus = ? AND rule = ?",
            (account, region, bus, rule),
        )[0]

    def put_target(self, account: str, region: str, bus: str, rule: str, target: dict[str, Any]) -> None:
        position = self.db.one(
            "SELECT COALESCE(MAX(position), -1) + 1 FROM events_targets "
            "WHERE account = ? AND region = ? AND bus = ? AND rule = ?",
            (account, region, bus, rule),
        )[0]
        self.db.execute(
            "INSERT INTO events_targets VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (account, region, bus, rule, target_id) DO UPDATE SET arn = excluded.arn, "
            "config = excluded.config",
            (account, region, bus, rule, target["Id"], target["Arn"], json.dumps(target), position),
        )

    def remove_target(self, account: str, region: str, bus: str, rule: str, target_id: str) -> bool:
        cursor = self.db.execute(
            "DELETE FROM events_targets WHERE account = ? AND region = ? AND bus = ? AND rule = ? "
            "AND target_id = ?",
            (account, region, bus, rule, target_id),
        )
        return cursor.rowcount > 0

    # -- schedules ---------------------------------------------------------------------------------------

    def schedule_rule(self, rule: Rule, anchor: float, next_fire: float) -> None:
        self.db.execute(
            "INSERT INTO events_schedules VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rule_arn) DO UPDATE SET "
            "anchor = excluded.anchor, next_fire = excluded.next_fire",
            (rule.arn, rule.account, rule.region, rule.bus, rule.name, anchor, next_fire),
        )

    def unschedule_rule(self, rule_arn: str) -> None:
        self.db.execute("DELETE FROM events_schedules WHERE rule_arn = ?", (rule_arn,))

    def due_schedules(self, now: float, limit: int) -> list[tuple[str, str, str, str, str, float, float]]:
        return self.db.all(
            "SELECT rule_arn, account, region, bus, rule, anchor, next_fire FROM events_schedules "
            "WHERE next_fire <= ? ORDER BY next_fire LIMIT ?",
            (now, limit),
        )

    def set_next_fire(self, rule_arn: str, next_fire: float) -> None:
        self.db.execute("UPDATE events_schedules SET next_fire = ? WHERE rule_arn = ?", (next_fire, rule_arn))

    def next_schedule(self) -> float | None:
        return self.db.one("SELECT MIN(next_fire) FROM events_schedules")[0]

    # -- deliveries --------------------------------------------------------------------------------------

    def enqueue(
        self,
        account: str,
        region: str,
        rule_arn: str,
        target: dict[str, Any],
        event: str,
        payload: str,
        now: float,
    ) -> None:
        self.db.execute(
            "INSERT INTO events_deliveries (account, region, rule_arn, target, event, payload, created, due) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (account, region, rule_arn, json.dumps(target), event, payload, now, now),
        )

    def due_deliveries(self, now: float, limit: int) -> list[Delivery]:
        rows = self.db.all(
            "SELECT id, account, region, rule_arn, target, event, payload, attempts, created "
            "FROM events_deliveries WHERE due <= ? ORDER BY due, id LIMIT ?",
            (now, limit),
        )
        return [Delivery(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7], r[8]) for r in rows]

    def retry_delivery(self, delivery_id: int, attempts: int, due: float) -> None:
        self.db.execute(
            "UPDATE events_deliveries SET attempts = ?, due = ? WHERE id = ?", (attempts, due, delivery_id)
        )

    def finish_delivery(self, delivery_id: int) -> None:
        self.db.execute("DELETE FROM events_deliveries WHERE id = ?", (delivery_id,))

    def next_delivery(self) -> float | None:
        return self.db.one("SELECT MIN(due) FROM events_deliveries")[0]

    # -- archives --------------------------------------------------------------------------------------------

    def archive(self, account: str, region: str, name: str) -> tuple | None:
        return self.db.one(
            "SELECT account, region, name, arn, source_arn, description, pattern, retention_days, state, created "
            "FROM events_archives WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )

    def put_archive(self, row: tuple) -> None:
        self.db.execute(
            "INSERT INTO events_archives VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, name) "
            "DO UPDATE SET description = excluded.description, pattern = excluded.pattern, "
            "retention_days = excluded.retention_days",
            row,
        )

    def delete_archive(self, account: str, region: str, name: str, arn: str) -> None:
        self.db.execute(
            "DELETE FROM events_archives WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        self.db.execute("DELETE FROM events_archived WHERE archive_arn = ?", (arn,))

    def archives(self, account: str, region: str) -> list[tuple]:
        return self.db.all(
            "SELECT account, region, name, arn, source_arn, description, pattern, retention_days, state, created "
            "FROM events_archives WHERE account = ? AND region = ? ORDER BY name",
            (account, region),
        )

    def archives_of_bus(self, bus_arn: str) -> list[tuple[str, str | None]]:
        return self.db.all("SELECT arn, pattern FROM events_archives WHERE source_arn = ?", (bus_arn,))

    def archive_event(self, archive_arn: str, time: float, event: str) -> None:
        self.db.execute(
            "INSERT INTO events_archived (archive_arn, time, event) VALUES (?, ?, ?)",
            (archive_arn, time, event),
        )

    def archive_stats(self, archive_arn: str) -> tuple[int, int]:
        row = self.db.one(
            "SELECT COUNT(*), COALESCE(SUM(length(event)), 0) FROM events_archived WHERE archive_arn = ?",
            (archive_arn,),
        )
        return row[0], row[1]

    def archived_events(self, archive_arn: str, start: float, end: float) -> list[tuple[float, str]]:
        return self.db.all(
            "SELECT time, event FROM events_archived WHERE archive_arn = ? AND time >= ? AND time < ? "
            "ORDER BY time, id",
            (archive_arn, start, end),
        )

    def expire_archived(self, archive_arn: str, before: float) -> None:
        self.db.execute(
            "DELETE FROM events_archived WHERE archive_arn = ? AND time < ?", (archive_arn, before)
        )

    # -- replays ---------------------------------------------------------------------------------------------

    def replay(self, account: str, region: str, name: str) -> tuple | None:
        return self.db.one(
            "SELECT account, region, name, arn, config, state, reason, started, ended, last_replayed "
            "FROM events_replays WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )

    def put_replay(self, row: tuple) -> None:
        self.db.execute(
            "INSERT INTO events_replays VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, name) "
            "DO UPDATE SET state = excluded.state, reason = excluded.reason, started = excluded.started, "
            "ended = excluded.ended, last_replayed = excluded.last_replayed",
            row,
        )

    def replays(self, account: str, region: str) -> list[tuple]:
        return self.db.all(
            "SELECT account, region, name, arn, config, state, reason, started, ended, last_replayed "
            "FROM events_replays WHERE account = ? AND region = ? ORDER BY name",
            (account, region),
        )

    def pending_replays(self) -> list[tuple]:
        return self.db.all(
            "SELECT account, region, name, arn, config, state, reason, started, ended, last_replayed "
            "FROM events_replays WHERE state IN ('STARTING', 'RUNNING', 'CANCELLING')"
        )

    # -- connections and API destinations ----------------------------------------------------------------

    def named(self, table: str, account: str, region: str, name: str) -> tuple | None:
        assert table in ("events_connections", "events_destinations")
        return self.db.one(
            f"SELECT * FROM {table} WHERE account = ? AND region = ? AND name = ?", (account, region, name)
        )

    def put_named(self, table: str, row: tuple) -> None:
        assert table in ("events_connections", "events_destinations")
        marks = ", ".join("?" * len(row))
        self.db.execute(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", row)

    def delete_named(self, table: str, account: str, region: str, name: str) -> None:
        assert table in ("events_connections", "events_destinations")
        self.db.execute(
            f"DELETE FROM {table} WHERE account = ? AND region = ? AND name = ?", (account, region, name)
        )

    def all_named(self, table: str, account: str, region: str) -> list[tuple]:
        assert table in ("events_connections", "events_destinations")
        return self.db.all(
            f"SELECT * FROM {table} WHERE account = ? AND region = ? ORDER BY name", (account, region)
        )

    def named_by_arn(self, table: str, arn: str) -> tuple | None:
        assert table in ("events_connections", "events_destinations")
        return self.db.one(f"SELECT * FROM {table} WHERE arn = ?", (arn,))


# -- EventBridge Scheduler (botocore "scheduler"), served from this package like DynamoDB Streams is -----------

SCHEDULER_MIGRATIONS = [
    """
    CREATE TABLE sch_groups (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL,
        created REAL NOT NULL,
        modified REAL NOT NULL,
        PRIMARY KEY (account, region, name)
    ) WITHOUT ROWID;
    CREATE TABLE sch_schedules (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        grp TEXT NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL,
        config TEXT NOT NULL,
        state TEXT NOT NULL,
        created REAL NOT NULL,
        modified REAL NOT NULL,
        anchor REAL NOT NULL,
        next_fire REAL,
        PRIMARY KEY (account, region, grp, name)
    ) WITHOUT ROWID;
    CREATE INDEX sch_schedules_due ON sch_schedules (next_fire);
    CREATE TABLE sch_invocations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        schedule_arn TEXT NOT NULL,
        target TEXT NOT NULL,
        scheduled REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        due REAL NOT NULL
    );
    CREATE INDEX sch_invocations_due ON sch_invocations (due);
    """
]
SCHEDULE_COLUMNS = "account, region, grp, name, arn, config, state, created, modified, anchor, next_fire"


class SchedulerStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("scheduler", SCHEDULER_MIGRATIONS)

    # -- groups ----------------------------------------------------------------------------------------------

    def group(self, account: str, region: str, name: str) -> tuple | None:
        return self.db.one(
            "SELECT account, region, name, arn, created, modified FROM sch_groups "
            "WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )

    def add_group(self, account: str, region: str, name: str, arn: str, now: float) -> None:
        self.db.execute(
            "INSERT INTO sch_groups VALUES (?, ?, ?, ?, ?, ?)", (account, region, name, arn, now, now)
        )

    def delete_group(self, account: str, region: str, name: str) -> None:
        self.db.execute(
            "DELETE FROM sch_schedules WHERE account = ? AND region = ? AND grp = ?", (account, region, name)
        )
        self.db.execute(
            "DELETE FROM sch_groups WHERE account = ? AND region = ? AND name = ?", (account, region, name)
        )

    def groups(self, account: str, region: str, prefix: str, after: str, limit: int) -> list[tuple]:
        return self.db.all(
            "SELECT account, region, name, arn, created, modified FROM sch_groups WHERE account = ? AND region = ? "
            "AND substr(name, 1, ?) = ? AND name > ? ORDER BY name LIMIT ?",
            (account, region, len(prefix), prefix, after, limit),
        )

    def group_by_arn(self, arn: str) -> tuple | None:
        return self.db.one("SELECT account, region, name FROM sch_groups WHERE arn = ?", (arn,))

    # -- schedules -------------------------------------------------------------------------------------------

    def schedule(self, account: str, region: str, group: str, name: str) -> tuple | None:
        return self.db.one(
            f"SELECT {SCHEDULE_COLUMNS} FROM sch_schedules WHERE account = ? AND region = ? AND grp = ? AND name = ?",
            (account, region, group, name),
        )

    def put_schedule(self, row: tuple) -> None:
        self.db.execute(
            f"INSERT OR REPLACE INTO sch_schedules ({SCHEDULE_COLUMNS}) VALUES ({', '.join('?' * 11)})", row
        )

    def delete_schedule(self, account: str, region: str, group: str, name: str) -> None:
        self.db.execute(
            "DELETE FROM sch_schedules WHERE account = ? AND region = ? AND grp = ? AND name = ?",
            (account, region, group, name),
        )

    def schedules(
        self,
        account: str,
        region: str,
        group: str | None,
        prefix: str,
        state: str | None,
        after: str,
        limit: int,
    ) -> list[tuple]:
        sql = (
            f"SELECT {SCHEDULE_COLUMNS} FROM sch_schedules WHERE account = ? AND region = ? "
            "AND substr(name, 1, ?) = ? AND grp || '/' || name > ?"
        )
        args: list[Any] = [account, region, len(prefix), prefix, after]
        if group is not None:
            sql += " AND grp = ?"
            args.append(group)
        if state is not None:
            sql += " AND state = ?"
            args.append(state)
        return self.db.all(sql + " ORDER BY grp, name LIMIT ?", (*args, limit))

    def due_schedules(self, now: float, limit: int) -> list[tuple]:
        return self.db.all(
            f"SELECT {SCHEDULE_COLUMNS} FROM sch_schedules WHERE next_fire <= ? ORDER BY next_fire LIMIT ?",
            (now, limit),
        )

    def set_next_fire(self, account: str, region: str, group: str, name: str, moment: float | None) -> None:
        self.db.execute(
            "UPDATE sch_schedules SET next_fire = ? WHERE account = ? AND region = ? AND grp = ? AND name = ?",
            (moment, account, region, group, name),
        )

    # -- invocations -----------------------------------------------------------------------------------------

    def enqueue(
        self,
        account: str,
        region: str,
        schedule_arn: str,
        target: dict[str, Any],
        scheduled: float,
        due: float,
    ) -> None:
        self.db.execute(
            "INSERT INTO sch_invocations (account, region, schedule_arn, target, scheduled, due) VALUES (?, ?, ?, ?, ?, ?)",
            (account, region, schedule_arn, json.dumps(target), scheduled, due),
        )

    def due_invocations(self, now: float, limit: int) -> list[tuple]:
        """(id, account, region, schedule_arn, target, scheduled, attempts) of invocations due by now."""
        rows = self.db.all(
            "SELECT id, account, region, schedule_arn, target, scheduled, attempts FROM sch_invocations "
            "WHERE due <= ? ORDER BY due, id LIMIT ?",
            (now, limit),
        )
        return [(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6]) for r in rows]

    def retry_invocation(self, invocation: int, attempts: int, due: float) -> None:
        self.db.execute(
            "UPDATE sch_invocations SET attempts = ?, due = ? WHERE id = ?", (attempts, due, invocation)
        )

    def finish_invocation(self, invocation: int) -> None:
        self.db.execute("DELETE FROM sch_invocations WHERE id = ?", (invocation,))

    def next_due(self) -> float | None:
        return self.db.one(
            "SELECT MIN(m) FROM (SELECT MIN(next_fire) AS m FROM sch_schedules UNION ALL "
            "SELECT MIN(due) FROM sch_invocations)"
        )[0]


# -- EventBridge Pipes (botocore "pipes"), served from this package ----------------------------------------------

PIPES_MIGRATIONS = [
    """
    CREATE TABLE pipes (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL,
        config TEXT NOT NULL,
        desired TEXT NOT NULL,
        current TEXT NOT NULL,
        created REAL NOT NULL,
        modified REAL NOT NULL,
        PRIMARY KEY (account, region, name)
    ) WITHOUT ROWID;
    """
]
PIPE_COLUMNS = "account, region, name, arn, config, desired, current, created, modified"


class PipesStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("pipes", PIPES_MIGRATIONS)

    def pipe(self, account: str, region: str, name: str) -> tuple | None:
        return self.db.one(
            f"SELECT {PIPE_COLUMNS} FROM pipes WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )

    def put_pipe(self, row: tuple) -> None:
        self.db.execute(f"INSERT OR REPLACE INTO pipes ({PIPE_COLUMNS}) VALUES ({', '.join('?' * 9)})", row)

    def delete_pipe(self, account: str, region: str, name: str) -> None:
        self.db.execute(
            "DELETE FROM pipes WHERE account = ? AND region = ? AND name = ?", (account, region, name)
        )

    def pipes(self, account: str, region: str, prefix: str, after: str, limit: int) -> list[tuple]:
        return self.db.all(
            f"SELECT {PIPE_COLUMNS} FROM pipes WHERE account = ? AND region = ? AND substr(name, 1, ?) = ? "
            "AND name > ? ORDER BY name LIMIT ?",
            (account, region, len(prefix), prefix, after, limit),
        )

    def running(self) -> list[tuple]:
        return self.db.all(
            f"SELECT {PIPE_COLUMNS} FROM pipes WHERE current = 'RUNNING' ORDER BY account, region, name"
        )

    def by_arn(self, arn: str) -> tuple | None:
        return self.db.one(f"SELECT {PIPE_COLUMNS} FROM pipes WHERE arn = ?", (arn,))
