"""Step Functions' tables and every SQL statement it runs.

State machines, their versions and aliases, activities; executions with their history events; and the
execution *threads*: one row per running branch of an execution (the root, each Parallel branch, each Map
iteration), holding its current state, input, variables, retry counts and what it waits for (`due_at`: a Wait's
end, a retry's next attempt, a task's timeout or heartbeat deadline). The engine (workers.py) steps the rows
whose `due_at` has come, so waiting executions cost no memory and resume after a restart.
Definitions are stored once per distinct text (`sfn_definitions`), shared by machines, versions and executions.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from overcast.services.kit.cache import StoredRows
from overcast.services.stepfunctions.failures import dumps as _dump
from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE sfn_definitions (
        id INTEGER PRIMARY KEY,
        digest TEXT NOT NULL UNIQUE,
        text TEXT NOT NULL
    );
    CREATE TABLE sfn_machines (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        definition_id INTEGER NOT NULL,
        role_arn TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        logging TEXT NOT NULL,
        tracing TEXT NOT NULL,
        encryption TEXT NOT NULL,
        revision_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL,
        last_version INTEGER NOT NULL DEFAULT 0,
        UNIQUE (account, region, name)
    );
    CREATE TABLE sfn_versions (
        machine_id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        arn TEXT NOT NULL UNIQUE,
        definition_id INTEGER NOT NULL,
        role_arn TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        revision_id TEXT NOT NULL,
        logging TEXT NOT NULL,
        tracing TEXT NOT NULL,
        encryption TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (machine_id, version)
    );
    CREATE TABLE sfn_aliases (
        machine_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL DEFAULT '',
        routing TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL,
        PRIMARY KEY (machine_id, name)
    );
    CREATE TABLE sfn_activities (
        arn TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX sfn_activities_scope ON sfn_activities (account, region, name);
    CREATE TABLE sfn_executions (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        arn TEXT NOT NULL UNIQUE,
        machine_arn TEXT NOT NULL,
        version_arn TEXT,
        alias_arn TEXT,
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        status TEXT NOT NULL,
        definition_id INTEGER NOT NULL,
        role_arn TEXT NOT NULL,
        input TEXT NOT NULL,
        output TEXT,
        error TEXT,
        cause TEXT,
        started_at REAL NOT NULL,
        stopped_at REAL,
        timeout_at REAL,
        trace_header TEXT,
        last_event INTEGER NOT NULL DEFAULT 0,
        redrive_count INTEGER NOT NULL DEFAULT 0,
        redriven_at REAL,
        parent_token TEXT,
        map_run_arn TEXT,
        details TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX sfn_executions_machine ON sfn_executions (machine_arn, started_at, id);
    CREATE INDEX sfn_executions_timeout ON sfn_executions (timeout_at) WHERE timeout_at IS NOT NULL;
    CREATE INDEX sfn_executions_map_run ON sfn_executions (map_run_arn) WHERE map_run_arn IS NOT NULL;
    CREATE TABLE sfn_events (
        execution_id INTEGER NOT NULL,
        id INTEGER NOT NULL,
        type TEXT NOT NULL,
        timestamp REAL NOT NULL,
        previous INTEGER NOT NULL,
        details TEXT,
        PRIMARY KEY (execution_id, id)
    ) WITHOUT ROWID;
    CREATE TABLE sfn_threads (
        id INTEGER PRIMARY KEY,
        execution_id INTEGER NOT NULL,
        parent_id INTEGER,
        branch INTEGER NOT NULL DEFAULT 0,
        scope TEXT NOT NULL,
        state TEXT NOT NULL,
        input TEXT NOT NULL,
        phase TEXT NOT NULL,
        due_at REAL,
        attempts TEXT NOT NULL DEFAULT '{}',
        variables TEXT NOT NULL DEFAULT '{}',
        result TEXT,
        entered_event INTEGER NOT NULL DEFAULT 0,
        entered_at REAL NOT NULL DEFAULT 0,
        last_event INTEGER NOT NULL DEFAULT 0,
        run INTEGER NOT NULL DEFAULT 0,
        task TEXT,
        token TEXT,
        scratch TEXT
    );
    CREATE INDEX sfn_threads_due ON sfn_threads (due_at) WHERE due_at IS NOT NULL;
    CREATE INDEX sfn_threads_execution ON sfn_threads (execution_id);
    CREATE INDEX sfn_threads_children ON sfn_threads (parent_id, branch) WHERE parent_id IS NOT NULL;
    CREATE UNIQUE INDEX sfn_threads_token ON sfn_threads (token) WHERE token IS NOT NULL;
    CREATE TABLE sfn_activity_tasks (
        id INTEGER PRIMARY KEY,
        activity_arn TEXT NOT NULL,
        token TEXT NOT NULL,
        input TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX sfn_activity_tasks_queue ON sfn_activity_tasks (activity_arn, id);
    CREATE TABLE sfn_map_runs (
        arn TEXT PRIMARY KEY,
        execution_arn TEXT NOT NULL,
        thread_id INTEGER,
        status TEXT NOT NULL,
        started_at REAL NOT NULL,
        stopped_at REAL,
        max_concurrency INTEGER NOT NULL,
        tolerated_percentage REAL NOT NULL,
        tolerated_count INTEGER NOT NULL,
        counts TEXT NOT NULL
    );
    CREATE INDEX sfn_map_runs_execution ON sfn_map_runs (execution_arn, started_at);
    """,
    """
    CREATE TABLE sfn_log_outbox (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        log_group TEXT NOT NULL,
        log_stream TEXT NOT NULL,
        timestamp INTEGER NOT NULL,
        message TEXT NOT NULL
    );
    """,
    # ListExecutions' pages, newest first, walk this index instead of sorting every execution of the machine
    """
    CREATE INDEX sfn_executions_machine_id ON sfn_executions (machine_arn, id);
    """,
]


@dataclass
class Machine:
    id: int
    account: str
    region: str
    name: str
    arn: str
    type: str
    definition_id: int
    role_arn: str
    description: str
    logging: dict[str, Any]
    tracing: dict[str, Any]
    encryption: dict[str, Any]
    revision_id: str
    created_at: float
    updated_at: float | None
    last_version: int


@dataclass
class Version:
    machine_id: int
    version: int
    arn: str
    definition_id: int
    role_arn: str
    description: str
    revision_id: str
    logging: dict[str, Any]
    tracing: dict[str, Any]
    encryption: dict[str, Any]
    created_at: float


@dataclass
class Alias:
    machine_id: int
    name: str
    arn: str
    description: str
    routing: list[dict[str, Any]]
    created_at: float
    updated_at: float | None


@dataclass
class Execution:
    id: int
    account: str
    region: str
    arn: str
    machine_arn: str
    version_arn: str | None
    alias_arn: str | None
    name: str
    type: str
    status: str
    definition_id: int
    role_arn: str
    input: str
    output: str | None
    error: str | None
    cause: str | None
    started_at: float
    stopped_at: float | None
    timeout_at: float | None
    trace_header: str | None
    last_event: int
    redrive_count: int
    redriven_at: float | None
    parent_token: str | None
    map_run_arn: str | None
    details: dict[str, Any]


@dataclass
class Thread:
    id: int
    execution_id: int
    parent_id: int | None
    branch: int
    scope: tuple[tuple[str, int], ...]
    state: str
    input: Any
    phase: str
    due_at: float | None
    attempts: dict[str, int]
    variables: dict[str, Any]
    result: Any
    entered_event: int
    entered_at: float
    last_event: int
    run: int
    task: dict[str, Any] | None
    token: str | None
    scratch: dict[str, Any] | None


_MACHINE_COLUMNS = (
    "id, account, region, name, arn, type, definition_id, role_arn, description, logging, tracing, encryption, "
    "revision_id, created_at, updated_at, last_version"
)
_VERSION_COLUMNS = (
    "machine_id, version, arn, definition_id, role_arn, description, revision_id, logging, tracing, encryption, "
    "created_at"
)
_EXECUTION_COLUMNS = (
    "id, account, region, arn, machine_arn, version_arn, alias_arn, name, type, status, definition_id, role_arn, "
    "input, output, error, cause, started_at, stopped_at, timeout_at, trace_header, last_event, redrive_count, "
    "redriven_at, parent_token, map_run_arn, details"
)
# A Standard execution's events are numbered by the history itself (its highest id + 1, one statement per event);
# `last_event` counts only what has no history row (an Express execution's logged events), so an execution's
# last event is the greater of the two.
_EXECUTION_SELECT = _EXECUTION_COLUMNS.replace(
    "last_event,",
    "MAX(last_event, COALESCE((SELECT MAX(sfn_events.id) FROM sfn_events "
    "WHERE sfn_events.execution_id = sfn_executions.id), 0)),",
)
_THREAD_COLUMNS = (
    "id, execution_id, parent_id, branch, scope, state, input, phase, due_at, attempts, variables, result, "
    "entered_event, entered_at, last_event, run, task, token, scratch"
)


def _machine(row: tuple) -> Machine:
    values = list(row)
    for i in (9, 10, 11):
        values[i] = json.loads(values[i])
    return Machine(*values)


def _version(row: tuple) -> Version:
    values = list(row)
    for i in (7, 8, 9):
        values[i] = json.loads(values[i])
    return Version(*values)


def _execution(row: tuple) -> Execution:
    values = list(row)
    values[25] = json.loads(values[25])
    return Execution(*values)


def _thread(row: tuple) -> Thread:
    values = list(row)
    values[4] = tuple(tuple(part) for part in json.loads(values[4]))
    values[6] = json.loads(values[6])
    for i in (9, 10):
        values[i] = json.loads(values[i])
    for i in (11, 16, 18):
        values[i] = json.loads(values[i]) if values[i] is not None else None
    return Thread(*values)


class StepFunctionsStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("stepfunctions", MIGRATIONS)
        # Every StartExecution reads its machine: the rows as last read (kit/cache.py), a fresh Machine each time
        self._machines = StoredRows(db)  # arn -> sfn_machines row

    def forget(self) -> None:
        """After `overcast reset` emptied the tables."""
        self._machines.forget()

    # -- definitions -----------------------------------------------------------------------------------------

    def definition_id(self, text: str) -> int:
        digest = hashlib.sha256(text.encode()).hexdigest()
        row = self.db.one("SELECT id FROM sfn_definitions WHERE digest = ?", (digest,))
        if row:
            return row[0]
        return self.db.execute(
            "INSERT INTO sfn_definitions (digest, text) VALUES (?, ?)", (digest, text)
        ).lastrowid

    def definition_text(self, definition_id: int) -> str:
        row = self.db.one("SELECT text FROM sfn_definitions WHERE id = ?", (definition_id,))
        return row[0] if row else "{}"

    # -- state machines ----------------------------------------------------------------------------------------

    def add_machine(self, machine: Machine) -> int:
        self._machines.forget()
        return self.db.execute(
            "INSERT INTO sfn_machines (account, region, name, arn, type, definition_id, role_arn, description, "
            "logging, tracing, encryption, revision_id, created_at, updated_at, last_version) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                machine.account,
                machine.region,
                machine.name,
                machine.arn,
                machine.type,
                machine.definition_id,
                machine.role_arn,
                machine.description,
                _dump(machine.logging),
                _dump(machine.tracing),
                _dump(machine.encryption),
                machine.revision_id,
                machine.created_at,
                machine.updated_at,
                machine.last_version,
            ),
        ).lastrowid

    def machine(self, arn: str) -> Machine | None:
        row = self._machines.read(
            arn, lambda: self.db.one(f"SELECT {_MACHINE_COLUMNS} FROM sfn_machines WHERE arn = ?", (arn,))
        )
        return _machine(row) if row else None

    def machine_by_id(self, machine_id: int) -> Machine | None:
        row = self.db.one(f"SELECT {_MACHINE_COLUMNS} FROM sfn_machines WHERE id = ?", (machine_id,))
        return _machine(row) if row else None

    def update_machine(self, machine: Machine) -> None:
        self._machines.forget()
        self.db.execute(
            "UPDATE sfn_machines SET definition_id = ?, role_arn = ?, description = ?, logging = ?, tracing = ?, "
            "encryption = ?, revision_id = ?, updated_at = ?, last_version = ? WHERE id = ?",
            (
                machine.definition_id,
                machine.role_arn,
                machine.description,
                _dump(machine.logging),
                _dump(machine.tracing),
                _dump(machine.encryption),
                machine.revision_id,
                machine.updated_at,
                machine.last_version,
                machine.id,
            ),
        )

    def delete_machine(self, machine_id: int) -> None:
        self._machines.forget()
        self.db.execute("DELETE FROM sfn_versions WHERE machine_id = ?", (machine_id,))
        self.db.execute("DELETE FROM sfn_aliases WHERE machine_id = ?", (machine_id,))
        self.db.execute("DELETE FROM sfn_machines WHERE id = ?", (machine_id,))

    def machines_after(self, account: str, region: str, after: str, limit: int) -> list[Machine]:
        rows = self.db.all(
            f"SELECT {_MACHINE_COLUMNS} FROM sfn_machines WHERE account = ? AND region = ? AND name > ? "
            "ORDER BY name LIMIT ?",
            (account, region, after, limit),
        )
        return [_machine(row) for row in rows]

    # -- versions and aliases ----------------------------------------------------------------------------------

    def add_version(self, version: Version) -> None:
        self.db.execute(
            f"INSERT INTO sfn_versions ({_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                version.machine_id,
                version.version,
                version.arn,
                version.definition_id,
                version.role_arn,
                version.description,
                version.revision_id,
                _dump(version.logging),
                _dump(version.tracing),
                _dump(version.encryption),
                version.created_at,
            ),
        )

    def version(self, arn: str) -> Version | None:
        row = self.db.one(f"SELECT {_VERSION_COLUMNS} FROM sfn_versions WHERE arn = ?", (arn,))
        return _version(row) if row else None

    def latest_version(self, machine_id: int) -> Version | None:
        row = self.db.one(
            f"SELECT {_VERSION_COLUMNS} FROM sfn_versions WHERE machine_id = ? ORDER BY version DESC LIMIT 1",
            (machine_id,),
        )
        return _version(row) if row else None

    def versions(self, machine_id: int, below: int, limit: int) -> list[Version]:
        rows = self.db.all(
            f"SELECT {_VERSION_COLUMNS} FROM sfn_versions WHERE machine_id = ? AND version < ? "
            "ORDER BY version DESC LIMIT ?",
            (machine_id, below, limit),
        )
        return [_version(row) for row in rows]

    def count_versions(self, machine_id: int) -> int:
        return self.db.one("SELECT COUNT(*) FROM sfn_versions WHERE machine_id = ?", (machine_id,))[0]

    def delete_version(self, arn: str) -> None:
        self.db.execute("DELETE FROM sfn_versions WHERE arn = ?", (arn,))

    def add_alias(self, alias: Alias) -> None:
        self.db.execute(
            "INSERT INTO sfn_aliases (machine_id, name, arn, description, routing, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                alias.machine_id,
                alias.name,
                alias.arn,
                alias.description,
                _dump(alias.routing),
                alias.created_at,
                alias.updated_at,
            ),
        )

    def alias(self, arn: str) -> Alias | None:
        row = self.db.one(
            "SELECT machine_id, name, arn, description, routing, created_at, updated_at FROM sfn_aliases "
            "WHERE arn = ?",
            (arn,),
        )
        if not row:
            return None
        values = list(row)
        values[4] = json.loads(values[4])
        return Alias(*values)

    def aliases(self, machine_id: int, after: str, limit: int) -> list[Alias]:
        rows = self.db.all(
            "SELECT arn FROM sfn_aliases WHERE machine_id = ? AND name > ? ORDER BY name LIMIT ?",
            (machine_id, after, limit),
        )
        return [alias for (arn,) in rows if (alias := self.alias(arn))]

    def aliases_routing_to(self, version_arn: str) -> list[str]:
        prefix = version_arn.rsplit(":", 1)[0]
        rows = self.db.all(
            "SELECT arn, routing FROM sfn_aliases WHERE arn LIKE ? ESCAPE '\\'",
            (prefix.replace("_", "\\_").replace("%", "\\%") + ":%",),
        )
        return [
            arn
            for arn, routing in rows
            if any(r["stateMachineVersionArn"] == version_arn for r in json.loads(routing))
        ]

    def count_aliases(self, machine_id: int) -> int:
        return self.db.one("SELECT COUNT(*) FROM sfn_aliases WHERE machine_id = ?", (machine_id,))[0]

    def update_alias(self, alias: Alias) -> None:
        self.db.execute(
            "UPDATE sfn_aliases SET description = ?, routing = ?, updated_at = ? WHERE arn = ?",
            (alias.description, _dump(alias.routing), alias.updated_at, alias.arn),
        )

    def delete_alias(self, arn: str) -> None:
        self.db.execute("DELETE FROM sfn_aliases WHERE arn = ?", (arn,))

    # -- activities --------------------------------------------------------------------------------------------

    def add_activity(self, arn: str, account: str, region: str, name: str, now: float) -> None:
        self.db.execute(
            "INSERT INTO sfn_activities (arn, account, region, name, created_at) VALUES (?, ?, ?, ?, ?)",
            (arn, account, region, name, now),
        )

    def activity(self, arn: str) -> tuple[str, str, float] | None:
        row = self.db.one("SELECT arn, name, created_at FROM sfn_activities WHERE arn = ?", (arn,))
        return tuple(row) if row else None  # type: ignore[return-value]

    def activities_after(
        self, account: str, region: str, after: str, limit: int
    ) -> list[tuple[str, str, float]]:
        rows = self.db.all(
            "SELECT arn, name, created_at FROM sfn_activities WHERE account = ? AND region = ? AND name > ? "
            "ORDER BY name LIMIT ?",
            (account, region, after, limit),
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]

    def delete_activity(self, arn: str) -> None:
        self.db.execute("DELETE FROM sfn_activities WHERE arn = ?", (arn,))
        self.db.execute("DELETE FROM sfn_activity_tasks WHERE activity_arn = ?", (arn,))

    def queue_activity_task(self, activity_arn: str, token: str, payload: str, now: float) -> None:
        self.db.execute(
            "INSERT INTO sfn_activity_tasks (activity_arn, token, input, created_at) VALUES (?, ?, ?, ?)",
            (activity_arn, token, payload, now),
        )

    def take_activity_task(self, activity_arn: str) -> tuple[str, str] | None:
        row = self.db.one(
            "SELECT id, token, input FROM sfn_activity_tasks WHERE activity_arn = ? ORDER BY id LIMIT 1",
            (activity_arn,),
        )
        if not row:
            return None
        self.db.execute("DELETE FROM sfn_activity_tasks WHERE id = ?", (row[0],))
        return row[1], row[2]

    def drop_activity_task(self, token: str) -> None:
        self.db.execute("DELETE FROM sfn_activity_tasks WHERE token = ?", (token,))

    # -- executions --------------------------------------------------------------------------------------------

    def add_execution(self, execution: Execution) -> int:
        return self.db.execute(
            f"INSERT INTO sfn_executions ({_EXECUTION_COLUMNS}) VALUES "
            "(NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                execution.account,
                execution.region,
                execution.arn,
                execution.machine_arn,
                execution.version_arn,
                execution.alias_arn,
                execution.name,
                execution.type,
                execution.status,
                execution.definition_id,
                execution.role_arn,
                execution.input,
                execution.output,
                execution.error,
                execution.cause,
                execution.started_at,
                execution.stopped_at,
                execution.timeout_at,
                execution.trace_header,
                execution.last_event,
                execution.redrive_count,
                execution.redriven_at,
                execution.parent_token,
                execution.map_run_arn,
                _dump(execution.details),
            ),
        ).lastrowid

    def execution(self, arn: str) -> Execution | None:
        row = self.db.one(f"SELECT {_EXECUTION_SELECT} FROM sfn_executions WHERE arn = ?", (arn,))
        return _execution(row) if row else None

    def execution_by_id(self, execution_id: int) -> Execution | None:
        row = self.db.one(f"SELECT {_EXECUTION_SELECT} FROM sfn_executions WHERE id = ?", (execution_id,))
        return _execution(row) if row else None

    def finish_execution(
        self,
        execution_id: int,
        status: str,
        now: float,
        *,
        output: str | None = None,
        error: str | None = None,
        cause: str | None = None,
    ) -> None:
        self.db.execute(
            "UPDATE sfn_executions SET status = ?, stopped_at = ?, output = ?, error = ?, cause = ?, "
            "timeout_at = NULL WHERE id = ?",
            (status, now, output, error, cause, execution_id),
        )

    def redrive_execution(self, execution_id: int, now: float, timeout_at: float | None) -> None:
        self.db.execute(
            "UPDATE sfn_executions SET status = 'RUNNING', stopped_at = NULL, output = NULL, error = NULL, "
            "cause = NULL, redrive_count = redrive_count + 1, redriven_at = ?, timeout_at = ? WHERE id = ?",
            (now, timeout_at, execution_id),
        )

    def running_children(self, tokens: list[str]) -> list[Execution]:
        """Running executions started by `.sync` tasks waiting on these tokens."""
        if not tokens:
            return []
        rows = self.db.all(
            f"SELECT {_EXECUTION_SELECT} FROM sfn_executions WHERE status = 'RUNNING' AND parent_token IN "
            f"({', '.join('?' for _ in tokens)})",
            tokens,
        )
        return [_execution(row) for row in rows]

    def set_parent_token(self, execution_id: int, token: str) -> None:
        self.db.execute("UPDATE sfn_executions SET parent_token = ? WHERE id = ?", (token, execution_id))

    def root_thread(self, execution_id: int) -> Thread | None:
        row = self.db.one(
            f"SELECT {_THREAD_COLUMNS} FROM sfn_threads WHERE execution_id = ? AND parent_id IS NULL",
            (execution_id,),
        )
        return _thread(row) if row else None

    def set_execution_details(self, execution_id: int, details: dict[str, Any]) -> None:
        self.db.execute("UPDATE sfn_executions SET details = ? WHERE id = ?", (_dump(details), execution_id))

    def delete_execution(self, execution_id: int) -> None:
        self.db.execute("DELETE FROM sfn_events WHERE execution_id = ?", (execution_id,))
        self.db.execute("DELETE FROM sfn_threads WHERE execution_id = ?", (execution_id,))
        self.db.execute("DELETE FROM sfn_executions WHERE id = ?", (execution_id,))

    def executions(
        self,
        machine_arns: list[str],
        status: str | None,
        map_run_arn: str | None,
        after: int | None,
        limit: int,
        version_arn: str | None = None,
        alias_arn: str | None = None,
    ) -> list[Execution]:
        """Newest first: (started_at, id) descending, after the execution id `after`."""
        where, args = [], []
        if map_run_arn is not None:
            where.append("map_run_arn = ?")
            args.append(map_run_arn)
        else:
            where.append(f"machine_arn IN ({', '.join('?' for _ in machine_arns)})")
            args.extend(machine_arns)
        if status:
            where.append("status = ?")
            args.append(status)
        if version_arn:
            where.append("version_arn = ?")
            args.append(version_arn)
        if alias_arn:
            where.append("alias_arn = ?")
            args.append(alias_arn)
        if after is not None:
            where.append("id < ?")
            args.append(after)
        rows = self.db.all(
            f"SELECT {_EXECUTION_SELECT} FROM sfn_executions WHERE {' AND '.join(where)} "
            "ORDER BY id DESC LIMIT ?",
            (*args, limit),
        )
        return [_execution(row) for row in rows]

    def running_executions_of(self, machine_arn: str) -> int:
        return self.db.one(
            "SELECT COUNT(*) FROM sfn_executions WHERE machine_arn = ? AND status = 'RUNNING'", (machine_arn,)
        )[0]

    def timed_out_executions(self, now: float, limit: int) -> list[int]:
        return [
            row[0]
            for row in self.db.all(
                "SELECT id FROM sfn_executions WHERE timeout_at IS NOT NULL AND timeout_at <= ? LIMIT ?",
                (now, limit),
            )
        ]

    def next_execution_timeout(self) -> float | None:
        return self.db.one("SELECT MIN(timeout_at) FROM sfn_executions WHERE timeout_at IS NOT NULL")[0]

    # -- history -----------------------------------------------------------------------------------------------

    def next_event_id(self, execution_id: int) -> int:
        """The next event id of an execution that keeps no history (Express: numbered for its logs only)."""
        row = self.db.one(
            "UPDATE sfn_executions SET last_event = last_event + 1 WHERE id = ? RETURNING last_event",
            (execution_id,),
        )
        return row[0]

    def add_event(self, execution_id: int, event_type: str, now: float, previous: int, details: Any) -> int:
        """Append an event to an execution's history; its id (one more than the history's last)."""
        return self.db.one(
            "INSERT INTO sfn_events (execution_id, id, type, timestamp, previous, details) VALUES "
            "(?1, COALESCE((SELECT MAX(id) FROM sfn_events WHERE execution_id = ?1), 0) + 1, ?2, ?3, ?4, ?5) "
            "RETURNING id",
            (execution_id, event_type, now, previous, _dump(details) if details is not None else None),
        )[0]

    def events(self, execution_id: int, after: int, limit: int, reverse: bool) -> list[tuple]:
        if reverse:
            rows = self.db.all(
                "SELECT id, type, timestamp, previous, details FROM sfn_events WHERE execution_id = ? AND id < ? "
                "ORDER BY id DESC LIMIT ?",
                (execution_id, after, limit),
            )
        else:
            rows = self.db.all(
                "SELECT id, type, timestamp, previous, details FROM sfn_events WHERE execution_id = ? AND id > ? "
                "ORDER BY id LIMIT ?",
                (execution_id, after, limit),
            )
        return [(i, t, ts, p, json.loads(d) if d else None) for i, t, ts, p, d in rows]

    # -- threads -----------------------------------------------------------------------------------------------

    def add_thread(
        self,
        execution_id: int,
        parent_id: int | None,
        branch: int,
        scope: tuple,
        state: str,
        data: Any,
        variables: dict[str, Any],
        due_at: float | None,
        last_event: int,
    ) -> int:
        return self.db.execute(
            "INSERT INTO sfn_threads (execution_id, parent_id, branch, scope, state, input, phase, due_at, "
            "variables, last_event) VALUES (?, ?, ?, ?, ?, ?, 'enter', ?, ?, ?)",
            (
                execution_id,
                parent_id,
                branch,
                _dump(scope),
                state,
                _dump(data),
                due_at,
                _dump(variables),
                last_event,
            ),
        ).lastrowid

    def add_root_thread(
        self, execution_id: int, state: str, data: Any, due_at: float, last_event: int
    ) -> Thread:
        """An execution's first thread, stored, and as `thread()` would read it back."""
        thread_id = self.add_thread(execution_id, None, 0, (), state, data, {}, due_at, last_event)
        return Thread(
            id=thread_id, execution_id=execution_id, parent_id=None, branch=0, scope=(), state=state, input=data,
            phase="enter", due_at=due_at, attempts={}, variables={}, result=None, entered_event=0, entered_at=0.0,
            last_event=last_event, run=0, task=None, token=None, scratch=None,
        )  # fmt: skip

    def add_pending_children(
        self,
        execution_id: int,
        parent_id: int,
        scope: tuple,
        state: str,
        inputs: list[Any],
        variables: dict[str, Any],
        last_event: int,
    ) -> None:
        """A Map's iterations, waiting for their turn (phase 'pending', never due until activated)."""
        scope_text, variables_text = _dump(scope), _dump(variables)
        self.db.executemany(
            "INSERT INTO sfn_threads (execution_id, parent_id, branch, scope, state, input, phase, variables, "
            "last_event) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
            [
                (execution_id, parent_id, index, scope_text, state, _dump(data), variables_text, last_event)
                for index, data in enumerate(inputs)
            ],
        )

    def activate_children(self, parent_id: int, limit: int, now: float) -> list[int]:
        """Let up to `limit` pending iterations run, in item order; their indexes."""
        rows = self.db.all(
            "SELECT id, branch FROM sfn_threads WHERE parent_id = ? AND phase = 'pending' ORDER BY branch LIMIT ?",
            (parent_id, limit),
        )
        self.db.executemany(
            "UPDATE sfn_threads SET phase = 'enter', due_at = ? WHERE id = ?", [(now, row[0]) for row in rows]
        )
        return [row[1] for row in rows]

    def thread(self, thread_id: int) -> Thread | None:
        row = self.db.one(f"SELECT {_THREAD_COLUMNS} FROM sfn_threads WHERE id = ?", (thread_id,))
        return _thread(row) if row else None

    def thread_by_token(self, token: str) -> Thread | None:
        row = self.db.one(f"SELECT {_THREAD_COLUMNS} FROM sfn_threads WHERE token = ?", (token,))
        return _thread(row) if row else None

    def save_thread(self, thread: Thread) -> None:
        self.db.execute(
            "UPDATE sfn_threads SET state = ?, input = ?, phase = ?, due_at = ?, attempts = ?, variables = ?, "
            "result = ?, entered_event = ?, entered_at = ?, last_event = ?, run = ?, task = ?, token = ?, "
            "scratch = ? WHERE id = ?",
            (
                thread.state,
                _dump(thread.input),
                thread.phase,
                thread.due_at,
                _dump(thread.attempts),
                _dump(thread.variables),
                _dump(thread.result) if thread.result is not None else None,
                thread.entered_event,
                thread.entered_at,
                thread.last_event,
                thread.run,
                _dump(thread.task) if thread.task is not None else None,
                thread.token,
                _dump(thread.scratch) if thread.scratch is not None else None,
                thread.id,
            ),
        )

    def children(self, parent_id: int) -> list[Thread]:
        rows = self.db.all(
            f"SELECT {_THREAD_COLUMNS} FROM sfn_threads WHERE parent_id = ? ORDER BY branch", (parent_id,)
        )
        return [_thread(row) for row in rows]

    def delete_children(self, parent_id: int) -> None:
        """Every thread below `parent_id` (children, their children...)."""
        self.db.execute(
            "WITH RECURSIVE below(id) AS (SELECT id FROM sfn_threads WHERE parent_id = ? "
            "UNION ALL SELECT t.id FROM sfn_threads t JOIN below b ON t.parent_id = b.id) "
            "DELETE FROM sfn_threads WHERE id IN (SELECT id FROM below)",
            (parent_id,),
        )

    def tokens_below(self, parent_id: int) -> list[str]:
        return [
            token
            for (token,) in self.db.all(
                "WITH RECURSIVE below(id) AS (SELECT id FROM sfn_threads WHERE parent_id = ? "
                "UNION ALL SELECT t.id FROM sfn_threads t JOIN below b ON t.parent_id = b.id) "
                "SELECT token FROM sfn_threads WHERE id IN (SELECT id FROM below) AND token IS NOT NULL",
                (parent_id,),
            )
        ]

    def execution_tokens(self, execution_id: int) -> list[str]:
        return [
            token
            for (token,) in self.db.all(
                "SELECT token FROM sfn_threads WHERE execution_id = ? AND token IS NOT NULL", (execution_id,)
            )
        ]

    def delete_threads(self, execution_id: int) -> None:
        self.db.execute("DELETE FROM sfn_threads WHERE execution_id = ?", (execution_id,))

    def delete_thread(self, thread_id: int) -> None:
        self.db.execute("DELETE FROM sfn_threads WHERE id = ?", (thread_id,))

    def due_threads(self, now: float, limit: int) -> list[int]:
        return [
            row[0]
            for row in self.db.all(
                "SELECT id FROM sfn_threads WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?",
                (now, limit),
            )
        ]

    def next_due(self) -> float | None:
        return self.db.one("SELECT MIN(due_at) FROM sfn_threads WHERE due_at IS NOT NULL")[0]

    def interrupted_tasks(self) -> list[int]:
        """Threads whose work was in flight when the server stopped: a request-response call, reading a
        distributed Map's items or writing its results."""
        return [
            row[0]
            for row in self.db.all(
                "SELECT id FROM sfn_threads WHERE (phase = 'task' AND token IS NULL) OR phase IN ('loading', 'writing')"
            )
        ]

    # -- log delivery -----------------------------------------------------------------------------------------

    def queue_log(
        self, account: str, region: str, group: str, stream: str, timestamp: int, message: str
    ) -> None:
        self.db.execute(
            "INSERT INTO sfn_log_outbox (account, region, log_group, log_stream, timestamp, message) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (account, region, group, stream, timestamp, message),
        )

    def queued_logs(self, limit: int) -> list[tuple]:
        return self.db.all(
            "SELECT id, account, region, log_group, log_stream, timestamp, message FROM sfn_log_outbox "
            "ORDER BY id LIMIT ?",
            (limit,),
        )

    def drop_logs(self, ids: list[int]) -> None:
        self.db.executemany("DELETE FROM sfn_log_outbox WHERE id = ?", [(i,) for i in ids])

    # -- map runs ----------------------------------------------------------------------------------------------

    def add_map_run(
        self,
        arn: str,
        execution_arn: str,
        thread_id: int,
        now: float,
        max_concurrency: int,
        tolerated_percentage: float,
        tolerated_count: int,
        counts: dict[str, int],
    ) -> None:
        self.db.execute(
            "INSERT INTO sfn_map_runs (arn, execution_arn, thread_id, status, started_at, max_concurrency, "
            "tolerated_percentage, tolerated_count, counts) VALUES (?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?)",
            (
                arn,
                execution_arn,
                thread_id,
                now,
                max_concurrency,
                tolerated_percentage,
                tolerated_count,
                _dump(counts),
            ),
        )

    def map_run(self, arn: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT arn, execution_arn, thread_id, status, started_at, stopped_at, max_concurrency, "
            "tolerated_percentage, tolerated_count, counts FROM sfn_map_runs WHERE arn = ?",
            (arn,),
        )
        if not row:
            return None
        keys = (
            "arn",
            "execution_arn",
            "thread_id",
            "status",
            "started_at",
            "stopped_at",
            "max_concurrency",
            "tolerated_percentage",
            "tolerated_count",
            "counts",
        )
        found = dict(zip(keys, row, strict=True))
        found["counts"] = json.loads(found["counts"])
        return found

    def update_map_run(self, arn: str, **fields: Any) -> None:
        if "counts" in fields:
            fields["counts"] = _dump(fields["counts"])
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self.db.execute(f"UPDATE sfn_map_runs SET {assignments} WHERE arn = ?", (*fields.values(), arn))

    def map_runs(self, execution_arn: str, after: str, limit: int) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT arn FROM sfn_map_runs WHERE execution_arn = ? AND arn > ? ORDER BY arn LIMIT ?",
            (execution_arn, after, limit),
        )
        return [run for (arn,) in rows if (run := self.map_run(arn))]
