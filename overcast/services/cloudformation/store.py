"""CloudFormation's tables and every SQL statement it runs.

A stack row holds its status, its settings (JSON), the template it runs (processed, JSON) and the one it was
given, and, during an update, what it had before (to roll back to). Each resource of a stack is a row with
its physical id, the properties it was last created or updated with, the attributes Fn::GetAtt returns, the
operation that last touched it (so a resumed operation skips what it already did) and, during an update, its
state before the update. Events, exports, imports and change sets have their own tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE cfn_stacks (
        id INTEGER PRIMARY KEY,
        arn TEXT NOT NULL UNIQUE,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        live INTEGER NOT NULL DEFAULT 1,
        settings TEXT NOT NULL,
        template TEXT NOT NULL,
        original TEXT NOT NULL,
        previous TEXT,
        operation TEXT,
        outputs TEXT NOT NULL DEFAULT '[]',
        created_at REAL NOT NULL,
        updated_at REAL,
        deleted_at REAL,
        parent_arn TEXT,
        root_arn TEXT
    );
    CREATE UNIQUE INDEX cfn_stacks_live_name ON cfn_stacks (account, region, name) WHERE live = 1;
    CREATE INDEX cfn_stacks_listing ON cfn_stacks (account, region, id);
    CREATE INDEX cfn_stacks_busy ON cfn_stacks (status) WHERE operation IS NOT NULL;
    CREATE TABLE cfn_resources (
        stack_id INTEGER NOT NULL REFERENCES cfn_stacks (id) ON DELETE CASCADE,
        logical_id TEXT NOT NULL,
        type TEXT NOT NULL,
        physical_id TEXT,
        status TEXT NOT NULL,
        reason TEXT,
        properties TEXT,
        attributes TEXT NOT NULL DEFAULT '{}',
        updated_at REAL NOT NULL,
        operation TEXT,
        prior TEXT,
        pending TEXT,
        drift TEXT,
        PRIMARY KEY (stack_id, logical_id)
    );
    CREATE INDEX cfn_resources_physical ON cfn_resources (physical_id);
    CREATE TABLE cfn_events (
        id INTEGER PRIMARY KEY,
        stack_id INTEGER NOT NULL REFERENCES cfn_stacks (id) ON DELETE CASCADE,
        event_id TEXT NOT NULL,
        at REAL NOT NULL,
        logical_id TEXT NOT NULL,
        physical_id TEXT,
        type TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        properties TEXT,
        token TEXT,
        operation_id TEXT
    );
    CREATE INDEX cfn_events_stack ON cfn_events (stack_id, id);
    CREATE TABLE cfn_exports (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        stack_id INTEGER NOT NULL REFERENCES cfn_stacks (id) ON DELETE CASCADE,
        PRIMARY KEY (account, region, name)
    );
    CREATE INDEX cfn_exports_stack ON cfn_exports (stack_id);
    CREATE TABLE cfn_imports (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        stack_id INTEGER NOT NULL REFERENCES cfn_stacks (id) ON DELETE CASCADE,
        PRIMARY KEY (account, region, name, stack_id)
    );
    CREATE INDEX cfn_imports_stack ON cfn_imports (stack_id);
    CREATE TABLE cfn_change_sets (
        id INTEGER PRIMARY KEY,
        arn TEXT NOT NULL UNIQUE,
        stack_id INTEGER NOT NULL REFERENCES cfn_stacks (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        execution_status TEXT NOT NULL,
        created_at REAL NOT NULL,
        data TEXT NOT NULL,
        UNIQUE (stack_id, name)
    );
    """,
    """
    CREATE TABLE cfn_stack_sets (
        id TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX cfn_stack_sets_name ON cfn_stack_sets (account, region, name);
    CREATE TABLE cfn_stack_instances (
        set_id TEXT NOT NULL REFERENCES cfn_stack_sets (id) ON DELETE CASCADE,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        stack_arn TEXT,
        status TEXT NOT NULL,
        reason TEXT,
        data TEXT NOT NULL,
        PRIMARY KEY (set_id, account, region)
    );
    CREATE TABLE cfn_stack_set_operations (
        id TEXT PRIMARY KEY,
        set_id TEXT NOT NULL REFERENCES cfn_stack_sets (id) ON DELETE CASCADE,
        action TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at REAL NOT NULL,
        ended_at REAL,
        data TEXT NOT NULL
    );
    CREATE INDEX cfn_stack_set_operations_set ON cfn_stack_set_operations (set_id, created_at);
    """,
    """
    CREATE TABLE cfn_macros (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        function_name TEXT NOT NULL,
        stack_arn TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (account, region, name)
    );
    """,
]


@dataclass
class Stack:
    id: int
    arn: str
    account: str
    region: str
    name: str
    status: str
    reason: str | None
    live: bool
    settings: dict[str, Any]
    template: dict[str, Any]
    original: str
    previous: dict[str, Any] | None
    operation: dict[str, Any] | None
    outputs: list[dict[str, Any]]
    created_at: float
    updated_at: float | None
    deleted_at: float | None
    parent_arn: str | None
    root_arn: str | None


@dataclass
class Resource:
    stack_id: int
    logical_id: str
    type: str
    physical_id: str | None
    status: str
    reason: str | None
    properties: dict[str, Any] | None
    attributes: dict[str, Any]
    updated_at: float
    operation: str | None
    prior: dict[str, Any] | None
    pending: dict[str, Any] | None
    drift: dict[str, Any] | None = field(default=None)


@dataclass
class ChangeSet:
    id: int
    arn: str
    stack_id: int
    name: str
    status: str
    reason: str | None
    execution_status: str
    created_at: float
    data: dict[str, Any]


_STACK_COLUMNS = (
    "id, arn, account, region, name, status, reason, live, settings, template, original, previous, operation, "
    "outputs, created_at, updated_at, deleted_at, parent_arn, root_arn"
)
_RESOURCE_COLUMNS = (
    "stack_id, logical_id, type, physical_id, status, reason, properties, attributes, updated_at, operation, "
    "prior, pending, drift"
)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


# One encoder for every row: json.dumps with separators builds a new encoder on each call.
_ENCODER = json.JSONEncoder(separators=(",", ":"))


def _dumps(value: Any) -> str | None:
    return None if value is None else _ENCODER.encode(value)


def _stack(row: tuple) -> Stack:
    return Stack(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        bool(row[7]),
        json.loads(row[8]),
        json.loads(row[9]),
        row[10],
        _loads(row[11]),
        _loads(row[12]),
        json.loads(row[13]),
        row[14],
        row[15],
        row[16],
        row[17],
        row[18],
    )


def _resource(row: tuple) -> Resource:
    return Resource(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        _loads(row[6]),
        json.loads(row[7]),
        row[8],
        row[9],
        _loads(row[10]),
        _loads(row[11]),
        _loads(row[12]),
    )


class CloudFormationStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("cloudformation", MIGRATIONS)

    # -- stacks ------------------------------------------------------------------------------------

    def insert_stack(
        self,
        arn: str,
        account: str,
        region: str,
        name: str,
        status: str,
        settings: dict[str, Any],
        template: dict[str, Any],
        original: str,
        now: float,
        parent_arn: str | None = None,
        root_arn: str | None = None,
        operation: dict[str, Any] | None = None,
    ) -> Stack:
        self.db.execute(
            "INSERT INTO cfn_stacks (arn, account, region, name, status, settings, template, original, "
            "operation, created_at, parent_arn, root_arn) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                arn,
                account,
                region,
                name,
                status,
                _dumps(settings),
                _dumps(template),
                original,
                _dumps(operation),
                now,
                parent_arn,
                root_arn,
            ),
        )
        found = self.stack_by_arn(arn)
        assert found is not None
        return found

    def live_stack(self, account: str, region: str, name: str) -> Stack | None:
        row = self.db.one(
            f"SELECT {_STACK_COLUMNS} FROM cfn_stacks WHERE account = ? AND region = ? AND name = ? AND live = 1",
            (account, region, name),
        )
        return _stack(row) if row else None

    def stack_by_arn(self, arn: str) -> Stack | None:
        row = self.db.one(f"SELECT {_STACK_COLUMNS} FROM cfn_stacks WHERE arn = ?", (arn,))
        return _stack(row) if row else None

    def stack_by_id(self, stack_id: int) -> Stack | None:
        row = self.db.one(f"SELECT {_STACK_COLUMNS} FROM cfn_stacks WHERE id = ?", (stack_id,))
        return _stack(row) if row else None

    def stacks(
        self,
        account: str,
        region: str,
        after: int,
        limit: int,
        live_only: bool,
        statuses: list[str] | None = None,
    ) -> list[Stack]:
        sql = f"SELECT {_STACK_COLUMNS} FROM cfn_stacks WHERE account = ? AND region = ? AND id > ?"
        args: list[Any] = [account, region, after]
        if live_only:
            sql += " AND live = 1"
        if statuses:
            sql += f" AND status IN ({','.join('?' * len(statuses))})"
            args += statuses
        sql += " ORDER BY id LIMIT ?"
        args.append(limit)
        return [_stack(row) for row in self.db.all(sql, args)]

    def busy_stacks(self) -> list[int]:
        """Stacks with an operation in progress (resumed after a restart)."""
        return [
            row[0] for row in self.db.all("SELECT id FROM cfn_stacks WHERE operation IS NOT NULL ORDER BY id")
        ]

    def set_status(self, stack_id: int, status: str, reason: str | None, now: float | None = None) -> None:
        if now is None:
            self.db.execute(
                "UPDATE cfn_stacks SET status = ?, reason = ? WHERE id = ?", (status, reason, stack_id)
            )
        else:
            self.db.execute(
                "UPDATE cfn_stacks SET status = ?, reason = ?, updated_at = ? WHERE id = ?",
                (status, reason, now, stack_id),
            )

    def set_operation(self, stack_id: int, operation: dict[str, Any] | None) -> None:
        self.db.execute("UPDATE cfn_stacks SET operation = ? WHERE id = ?", (_dumps(operation), stack_id))

    def set_settings(self, stack_id: int, settings: dict[str, Any]) -> None:
        self.db.execute("UPDATE cfn_stacks SET settings = ? WHERE id = ?", (_dumps(settings), stack_id))

    def set_template(
        self, stack_id: int, template: dict[str, Any], original: str, previous: dict[str, Any] | None
    ) -> None:
        self.db.execute(
            "UPDATE cfn_stacks SET template = ?, original = ?, previous = ? WHERE id = ?",
            (_dumps(template), original, _dumps(previous), stack_id),
        )

    def set_previous(self, stack_id: int, previous: dict[str, Any] | None) -> None:
        self.db.execute("UPDATE cfn_stacks SET previous = ? WHERE id = ?", (_dumps(previous), stack_id))

    def set_outputs(self, stack_id: int, outputs: list[dict[str, Any]]) -> None:
        self.db.execute("UPDATE cfn_stacks SET outputs = ? WHERE id = ?", (_dumps(outputs), stack_id))

    def mark_deleted(self, stack_id: int, now: float) -> None:
        self.db.execute(
            "UPDATE cfn_stacks SET live = 0, deleted_at = ?, operation = NULL WHERE id = ?", (now, stack_id)
        )
        self.db.execute("DELETE FROM cfn_resources WHERE stack_id = ?", (stack_id,))
        self.db.execute("DELETE FROM cfn_exports WHERE stack_id = ?", (stack_id,))
        self.db.execute("DELETE FROM cfn_imports WHERE stack_id = ?", (stack_id,))
        self.db.execute("DELETE FROM cfn_change_sets WHERE stack_id = ?", (stack_id,))

    def forget_stack(self, stack_id: int) -> None:
        """A stack that never was (a change set of type CREATE deleted before it ran, REVIEW_IN_PROGRESS)."""
        self.db.execute("DELETE FROM cfn_stacks WHERE id = ?", (stack_id,))

    def set_parent(self, arn: str, parent_arn: str, root_arn: str) -> None:
        self.db.execute(
            "UPDATE cfn_stacks SET parent_arn = ?, root_arn = ? WHERE arn = ?", (parent_arn, root_arn, arn)
        )

    def children(self, parent_arn: str) -> list[Stack]:
        rows = self.db.all(
            f"SELECT {_STACK_COLUMNS} FROM cfn_stacks WHERE parent_arn = ? AND live = 1", (parent_arn,)
        )
        return [_stack(row) for row in rows]

    # -- resources ---------------------------------------------------------------------------------

    def resources(self, stack_id: int) -> list[Resource]:
        rows = self.db.all(
            f"SELECT {_RESOURCE_COLUMNS} FROM cfn_resources WHERE stack_id = ? ORDER BY rowid", (stack_id,)
        )
        return [_resource(row) for row in rows]

    def resource(self, stack_id: int, logical_id: str) -> Resource | None:
        row = self.db.one(
            f"SELECT {_RESOURCE_COLUMNS} FROM cfn_resources WHERE stack_id = ? AND logical_id = ?",
            (stack_id, logical_id),
        )
        return _resource(row) if row else None

    def resources_by_physical_id(self, physical_id: str) -> list[Resource]:
        rows = self.db.all(
            f"SELECT {_RESOURCE_COLUMNS} FROM cfn_resources WHERE physical_id = ?", (physical_id,)
        )
        return [_resource(row) for row in rows]

    def put_resource(self, resource: Resource) -> None:
        self.db.execute(
            f"INSERT INTO cfn_resources ({_RESOURCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (stack_id, logical_id) DO UPDATE SET type = excluded.type, "
            "physical_id = excluded.physical_id, status = excluded.status, reason = excluded.reason, "
            "properties = excluded.properties, attributes = excluded.attributes, "
            "updated_at = excluded.updated_at, operation = excluded.operation, prior = excluded.prior, "
            "pending = excluded.pending, drift = excluded.drift",
            (
                resource.stack_id,
                resource.logical_id,
                resource.type,
                resource.physical_id,
                resource.status,
                resource.reason,
                _dumps(resource.properties),
                _dumps(resource.attributes) or "{}",
                resource.updated_at,
                resource.operation,
                _dumps(resource.prior),
                _dumps(resource.pending),
                _dumps(resource.drift),
            ),
        )

    def delete_resource(self, stack_id: int, logical_id: str) -> None:
        self.db.execute(
            "DELETE FROM cfn_resources WHERE stack_id = ? AND logical_id = ?", (stack_id, logical_id)
        )

    # -- events ------------------------------------------------------------------------------------

    def add_event(self, stack_id: int, event: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO cfn_events (stack_id, event_id, at, logical_id, physical_id, type, status, reason, "
            "properties, token, operation_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                stack_id,
                event["event_id"],
                event["at"],
                event["logical_id"],
                event.get("physical_id"),
                event["type"],
                event["status"],
                event.get("reason"),
                event.get("properties"),
                event.get("token"),
                event.get("operation_id"),
            ),
        )

    def events(self, stack_id: int, before: int | None, limit: int) -> list[dict[str, Any]]:
        """Newest first."""
        rows = self.db.all(
            "SELECT id, event_id, at, logical_id, physical_id, type, status, reason, properties, token, "
            "operation_id FROM cfn_events WHERE stack_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
            (stack_id, before if before is not None else 2**62, limit),
        )
        keys = (
            "id",
            "event_id",
            "at",
            "logical_id",
            "physical_id",
            "type",
            "status",
            "reason",
            "properties",
            "token",
            "operation_id",
        )
        return [dict(zip(keys, row, strict=True)) for row in rows]

    # -- exports and imports -----------------------------------------------------------------------

    def export(self, account: str, region: str, name: str) -> tuple[str, int] | None:
        row = self.db.one(
            "SELECT value, stack_id FROM cfn_exports WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return (row[0], row[1]) if row else None

    def exports_of(self, stack_id: int) -> dict[str, str]:
        return dict(self.db.all("SELECT name, value FROM cfn_exports WHERE stack_id = ?", (stack_id,)))

    def put_export(self, account: str, region: str, name: str, value: str, stack_id: int) -> None:
        self.db.execute(
            "INSERT INTO cfn_exports (account, region, name, value, stack_id) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (account, region, name) DO UPDATE SET value = excluded.value, stack_id = excluded.stack_id",
            (account, region, name, value, stack_id),
        )

    def remove_export(self, account: str, region: str, name: str) -> None:
        self.db.execute(
            "DELETE FROM cfn_exports WHERE account = ? AND region = ? AND name = ?", (account, region, name)
        )

    def exports(self, account: str, region: str, after: str, limit: int) -> list[tuple[str, str, str]]:
        """(name, value, exporting stack ARN) by name."""
        return self.db.all(
            "SELECT e.name, e.value, s.arn FROM cfn_exports e JOIN cfn_stacks s ON s.id = e.stack_id "
            "WHERE e.account = ? AND e.region = ? AND e.name > ? ORDER BY e.name LIMIT ?",
            (account, region, after, limit),
        )

    def set_imports(self, account: str, region: str, stack_id: int, names: set[str]) -> None:
        self.db.execute("DELETE FROM cfn_imports WHERE stack_id = ?", (stack_id,))
        self.db.executemany(
            "INSERT INTO cfn_imports (account, region, name, stack_id) VALUES (?, ?, ?, ?)",
            [(account, region, name, stack_id) for name in sorted(names)],
        )

    def importers(self, account: str, region: str, name: str) -> list[str]:
        """The names of the live stacks importing the export `name`."""
        rows = self.db.all(
            "SELECT s.name FROM cfn_imports i JOIN cfn_stacks s ON s.id = i.stack_id "
            "WHERE i.account = ? AND i.region = ? AND i.name = ? AND s.live = 1 ORDER BY s.name",
            (account, region, name),
        )
        return [row[0] for row in rows]

    # -- change sets -------------------------------------------------------------------------------

    def insert_change_set(
        self, arn: str, stack_id: int, name: str, status: str, now: float, data: dict[str, Any]
    ) -> None:
        self.db.execute(
            "INSERT INTO cfn_change_sets (arn, stack_id, name, status, execution_status, created_at, data) "
            "VALUES (?, ?, ?, ?, 'UNAVAILABLE', ?, ?)",
            (arn, stack_id, name, status, now, _dumps(data)),
        )

    def change_set_by_arn(self, arn: str) -> ChangeSet | None:
        row = self.db.one(
            "SELECT id, arn, stack_id, name, status, reason, execution_status, created_at, data "
            "FROM cfn_change_sets WHERE arn = ?",
            (arn,),
        )
        return ChangeSet(*row[:8], json.loads(row[8])) if row else None

    def change_set(self, stack_id: int, name: str) -> ChangeSet | None:
        row = self.db.one(
            "SELECT id, arn, stack_id, name, status, reason, execution_status, created_at, data "
            "FROM cfn_change_sets WHERE stack_id = ? AND name = ?",
            (stack_id, name),
        )
        return ChangeSet(*row[:8], json.loads(row[8])) if row else None

    def change_sets(self, stack_id: int) -> list[ChangeSet]:
        rows = self.db.all(
            "SELECT id, arn, stack_id, name, status, reason, execution_status, created_at, data "
            "FROM cfn_change_sets WHERE stack_id = ? ORDER BY id",
            (stack_id,),
        )
        return [ChangeSet(*row[:8], json.loads(row[8])) for row in rows]

    def update_change_set(
        self,
        change_set_id: int,
        *,
        status: str | None = None,
        reason: str | None = None,
        execution_status: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        sets, args = [], []
        for column, value in (("status", status), ("reason", reason), ("execution_status", execution_status)):
            if value is not None:
                sets.append(f"{column} = ?")
                args.append(value)
        if data is not None:
            sets.append("data = ?")
            args.append(_dumps(data))
        if sets:
            self.db.execute(
                f"UPDATE cfn_change_sets SET {', '.join(sets)} WHERE id = ?", (*args, change_set_id)
            )

    def delete_change_set(self, change_set_id: int) -> None:
        self.db.execute("DELETE FROM cfn_change_sets WHERE id = ?", (change_set_id,))

    def obsolete_change_sets(self, stack_id: int, except_id: int | None) -> None:
        """Once a change set runs, the stack's other change sets can no longer be executed."""
        self.db.execute(
            "UPDATE cfn_change_sets SET execution_status = 'OBSOLETE' WHERE stack_id = ? AND id != ? "
            "AND execution_status IN ('AVAILABLE', 'UNAVAILABLE')",
            (stack_id, except_id or -1),
        )

    # -- stack sets ----------------------------------------------------------------------------------------

    def insert_stack_set(
        self, set_id: str, account: str, region: str, name: str, data: dict[str, Any]
    ) -> None:
        self.db.execute(
            "INSERT INTO cfn_stack_sets (id, account, region, name, status, data) VALUES (?, ?, ?, ?, 'ACTIVE', ?)",
            (set_id, account, region, name, _dumps(data)),
        )

    def stack_set(self, account: str, region: str, name: str) -> tuple[str, str, str, dict[str, Any]] | None:
        """(id, name, status, data) of the stack set `name` (or of the id `name`)."""
        row = self.db.one(
            "SELECT id, name, status, data FROM cfn_stack_sets WHERE account = ? AND region = ? AND (name = ? OR id = ?) "
            "AND status != 'DELETED'",
            (account, region, name, name),
        )
        return (row[0], row[1], row[2], json.loads(row[3])) if row else None

    def stack_set_by_id(self, set_id: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT id, account, region, name, status, data FROM cfn_stack_sets WHERE id = ?", (set_id,)
        )
        if row is None:
            return None
        return {
            "id": row[0],
            "account": row[1],
            "region": row[2],
            "name": row[3],
            "status": row[4],
            "data": json.loads(row[5]),
        }

    def stack_sets(self, account: str, region: str) -> list[tuple[str, str, str, dict[str, Any]]]:
        rows = self.db.all(
            "SELECT id, name, status, data FROM cfn_stack_sets WHERE account = ? AND region = ? ORDER BY name",
            (account, region),
        )
        return [(row[0], row[1], row[2], json.loads(row[3])) for row in rows]

    def set_stack_set(self, set_id: str, status: str, data: dict[str, Any]) -> None:
        self.db.execute(
            "UPDATE cfn_stack_sets SET status = ?, data = ? WHERE id = ?", (status, _dumps(data), set_id)
        )

    def put_instance(
        self,
        set_id: str,
        account: str,
        region: str,
        stack_arn: str | None,
        status: str,
        reason: str | None,
        data: dict[str, Any],
    ) -> None:
        self.db.execute(
            "INSERT INTO cfn_stack_instances (set_id, account, region, stack_arn, status, reason, data) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (set_id, account, region) DO UPDATE SET stack_arn = excluded.stack_arn, status = excluded.status, "
            "reason = excluded.reason, data = excluded.data",
            (set_id, account, region, stack_arn, status, reason, _dumps(data)),
        )

    def instances(self, set_id: str) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT account, region, stack_arn, status, reason, data FROM cfn_stack_instances WHERE set_id = ? ORDER BY account, region",
            (set_id,),
        )
        return [
            {
                "account": r[0],
                "region": r[1],
                "stack_arn": r[2],
                "status": r[3],
                "reason": r[4],
                **json.loads(r[5]),
            }
            for r in rows
        ]

    def delete_instance(self, set_id: str, account: str, region: str) -> None:
        self.db.execute(
            "DELETE FROM cfn_stack_instances WHERE set_id = ? AND account = ? AND region = ?",
            (set_id, account, region),
        )

    def insert_set_operation(
        self, operation_id: str, set_id: str, action: str, now: float, data: dict[str, Any]
    ) -> None:
        self.db.execute(
            "INSERT INTO cfn_stack_set_operations (id, set_id, action, status, created_at, data) VALUES (?, ?, ?, 'RUNNING', ?, ?)",
            (operation_id, set_id, action, now, _dumps(data)),
        )

    def set_operation_of_set(self, operation_id: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT id, set_id, action, status, created_at, ended_at, data FROM cfn_stack_set_operations WHERE id = ?",
            (operation_id,),
        )
        if row is None:
            return None
        return {
            "id": row[0],
            "set_id": row[1],
            "action": row[2],
            "status": row[3],
            "created_at": row[4],
            "ended_at": row[5],
            **json.loads(row[6]),
        }

    def set_operations(self, set_id: str) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT id FROM cfn_stack_set_operations WHERE set_id = ? ORDER BY created_at DESC", (set_id,)
        )
        return [found for (operation_id,) in rows if (found := self.set_operation_of_set(operation_id))]

    def running_set_operations(self) -> list[str]:
        return [
            row[0]
            for row in self.db.all(
                "SELECT id FROM cfn_stack_set_operations WHERE status = 'RUNNING' ORDER BY created_at"
            )
        ]

    def finish_set_operation(self, operation_id: str, status: str, now: float, data: dict[str, Any]) -> None:
        self.db.execute(
            "UPDATE cfn_stack_set_operations SET status = ?, ended_at = ?, data = ? WHERE id = ?",
            (status, now, _dumps(data), operation_id),
        )

    # -- macros (AWS::CloudFormation::Macro) ---------------------------------------------------------

    def add_macro(
        self, account: str, region: str, name: str, function_name: str, stack_arn: str, data: dict[str, Any]
    ) -> bool:
        """Registers a macro; False when the name is taken in that account and region."""
        inserted = self.db.execute(
            "INSERT INTO cfn_macros (account, region, name, function_name, stack_arn, data) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, name) DO NOTHING",
            (account, region, name, function_name, stack_arn, _dumps(data)),
        )
        return inserted.rowcount == 1

    def set_macro(
        self, account: str, region: str, name: str, function_name: str, data: dict[str, Any]
    ) -> None:
        self.db.execute(
            "UPDATE cfn_macros SET function_name = ?, data = ? WHERE account = ? AND region = ? AND name = ?",
            (function_name, _dumps(data), account, region, name),
        )

    def macro_function(self, account: str, region: str, name: str) -> str | None:
        row = self.db.one(
            "SELECT function_name FROM cfn_macros WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return row[0] if row else None

    def remove_macro(self, account: str, region: str, name: str) -> None:
        self.db.execute(
            "DELETE FROM cfn_macros WHERE account = ? AND region = ? AND name = ?", (account, region, name)
        )
