"""Lambda's records in SQLite: functions, their versions, aliases, layers, code packages, queued events,
event source mappings and function URLs. Every SQL statement of the service is here.

A version's configuration is kept as the JSON of its FunctionConfiguration (what GetFunctionConfiguration
answers), since it is read and written whole; the columns are what is looked up or counted. Function tags
live in the kit's table (services/kit/tags.py); `lambda_functions.tags` is kept empty for old data dirs.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from overcast.services.kit.store import TagStore
from overcast.state.database import Database

MIGRATIONS = [
    """
    CREATE TABLE lambda_functions (
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
        reserved_concurrency INTEGER,
        tags TEXT NOT NULL DEFAULT '{}',
        policy TEXT NOT NULL DEFAULT '[]',
        next_version INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (account, region, name)
    ) WITHOUT ROWID;
    CREATE TABLE lambda_versions (
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,
        config TEXT NOT NULL,
        code_sha TEXT NOT NULL,
        PRIMARY KEY (account, region, name, version)
    ) WITHOUT ROWID;
    CREATE INDEX lambda_versions_code ON lambda_versions (code_sha);
    CREATE TABLE lambda_code (
        sha TEXT PRIMARY KEY,
        blob_id TEXT NOT NULL,
        size INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE lambda_aliases (
        account TEXT NOT NULL, region TEXT NOT NULL, function TEXT NOT NULL, name TEXT NOT NULL,
        config TEXT NOT NULL,
        PRIMARY KEY (account, region, function, name)
    ) WITHOUT ROWID;
    CREATE TABLE lambda_layers (
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
        config TEXT NOT NULL,
        code_sha TEXT NOT NULL,
        PRIMARY KEY (account, region, name, version)
    ) WITHOUT ROWID;
    CREATE INDEX lambda_layers_code ON lambda_layers (code_sha);
    CREATE TABLE lambda_layer_counters (
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, next_version INTEGER NOT NULL,
        PRIMARY KEY (account, region, name)
    ) WITHOUT ROWID;
    CREATE TABLE lambda_event_configs (
        account TEXT NOT NULL, region TEXT NOT NULL, function TEXT NOT NULL, qualifier TEXT NOT NULL,
        config TEXT NOT NULL,
        PRIMARY KEY (account, region, function, qualifier)
    ) WITHOUT ROWID;
    CREATE TABLE lambda_async_events (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL, region TEXT NOT NULL, function TEXT NOT NULL, qualifier TEXT NOT NULL,
        request_id TEXT NOT NULL,
        payload BLOB NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        due REAL NOT NULL,
        created REAL NOT NULL,
        running INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX lambda_async_due ON lambda_async_events (running, due);
    """,
    """
    CREATE TABLE lambda_event_sources (
        uuid TEXT PRIMARY KEY,
        account TEXT NOT NULL, region TEXT NOT NULL, function TEXT NOT NULL,
        source_arn TEXT NOT NULL,
        config TEXT NOT NULL,
        position TEXT
    ) WITHOUT ROWID;
    CREATE INDEX lambda_event_sources_function ON lambda_event_sources (account, region, function);
    """,
    """
    CREATE TABLE lambda_function_urls (
        url_id TEXT PRIMARY KEY,
        account TEXT NOT NULL, region TEXT NOT NULL, function TEXT NOT NULL, qualifier TEXT NOT NULL,
        config TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX lambda_function_urls_function ON lambda_function_urls (account, region, function, qualifier);
    """,
    # Function tags move to the kit's table (one place for every service's tags).
    """
    INSERT OR IGNORE INTO resource_tags
        (arn, tag_key, tag_value, account, region, service, resource_type, position)
    SELECT 'arn:aws:lambda:' || f.region || ':' || f.account || ':function:' || f.name, t.key, t.value,
           f.account, f.region, 'lambda', 'function', t.id
    FROM lambda_functions AS f, json_each(f.tags) AS t;
    UPDATE lambda_functions SET tags = '{}' WHERE tags != '{}';
    """,
    # PutFunctionRecursionConfig: Allow or Terminate (NULL: AWS's default, Terminate).
    "ALTER TABLE lambda_functions ADD COLUMN recursive_loop TEXT;",
    # Provisioned concurrency per version or alias: the requested count and when it is READY.
    """
    CREATE TABLE lambda_provisioned (
        account TEXT NOT NULL, region TEXT NOT NULL, function TEXT NOT NULL, qualifier TEXT NOT NULL,
        config TEXT NOT NULL,
        PRIMARY KEY (account, region, function, qualifier)
    ) WITHOUT ROWID;
    """,
    # Code signing configurations, and the one a function uses.
    """
    CREATE TABLE lambda_code_signing (
        arn TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, config TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX lambda_code_signing_scope ON lambda_code_signing (account, region, arn);
    ALTER TABLE lambda_functions ADD COLUMN code_signing_arn TEXT;
    """,
    # PutRuntimeManagementConfig: {"UpdateRuntimeOn", "RuntimeVersionArn"?} as JSON.
    "ALTER TABLE lambda_functions ADD COLUMN runtime_management TEXT;",
]


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class FunctionRow(NamedTuple):
    reserved_concurrency: int | None
    policy: str  # the resource policy's statements, as JSON
    next_version: int


class LambdaStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        TagStore(db)  # the kit's table, which a migration copies function tags into
        db.migrate("lambda", MIGRATIONS)

    # -- functions and versions --------------------------------------------------------------------

    def function_row(self, account: str, region: str, name: str) -> FunctionRow | None:
        row = self.db.one(
            "SELECT reserved_concurrency, policy, next_version FROM lambda_functions "
            "WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return FunctionRow(*row) if row else None

    def add_function(self, account: str, region: str, name: str) -> None:
        self.db.execute(
            "INSERT INTO lambda_functions (account, region, name) VALUES (?, ?, ?)", (account, region, name)
        )

    def usage(self, account: str, region: str) -> tuple[int, int]:
        """(functions, total code size of their versions) of an account in a region."""
        functions = self.db.one(
            "SELECT COUNT(*) FROM lambda_functions WHERE account = ? AND region = ?", (account, region)
        )[0]
        size = self.db.one(
            "SELECT COALESCE(SUM(json_extract(config, '$.CodeSize')), 0) FROM lambda_versions "
            "WHERE account = ? AND region = ?",
            (account, region),
        )[0]
        return functions, size

    def version(self, account: str, region: str, name: str, version: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT config FROM lambda_versions WHERE account = ? AND region = ? AND name = ? AND version = ?",
            (account, region, name, version),
        )
        return json.loads(row[0]) if row else None

    def put_version(self, account: str, region: str, name: str, config: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO lambda_versions (account, region, name, version, config, code_sha) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (account, region, name, version) DO UPDATE SET config = excluded.config, "
            "code_sha = excluded.code_sha",
            (account, region, name, config["Version"], dumps(config), config["_CodeSha"]),
        )

    def versions(self, account: str, region: str, name: str) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT config FROM lambda_versions WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        configs = [json.loads(config) for (config,) in rows]
        return sorted(configs, key=lambda c: -1 if c["Version"] == "$LATEST" else int(c["Version"]))

    def functions_page(self, account: str, region: str, after: str, limit: int) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT config FROM lambda_versions WHERE account = ? AND region = ? AND version = '$LATEST' "
            "AND name > ? ORDER BY name LIMIT ?",
            (account, region, after, limit),
        )
        return [json.loads(config) for (config,) in rows]

    def versions_page(
        self, account: str, region: str, after: tuple[str, int], limit: int
    ) -> list[tuple[str, int, dict[str, Any]]]:
        """Every version of every function ($LATEST first, then published ones in order), after a position
        (name, order): ListFunctions(FunctionVersion=ALL)."""
        order = "CASE version WHEN '$LATEST' THEN 0 ELSE CAST(version AS INTEGER) END"
        rows = self.db.all(
            f"SELECT name, {order}, config FROM lambda_versions WHERE account = ? AND region = ? "
            f"AND (name > ? OR (name = ? AND {order} > ?)) ORDER BY name, {order} LIMIT ?",
            (account, region, after[0], after[0], after[1], limit),
        )
        return [(name, rank, json.loads(config)) for name, rank, config in rows]

    def delete_version(self, account: str, region: str, name: str, version: str) -> str | None:
        """Remove one version; returns its code sha (for releasing the package)."""
        row = self.db.one(
            "DELETE FROM lambda_versions WHERE account = ? AND region = ? AND name = ? AND version = ? "
            "RETURNING code_sha",
            (account, region, name, version),
        )
        return row[0] if row else None

    def delete_function(self, account: str, region: str, name: str) -> list[str]:
        shas = self.db.all(
            "DELETE FROM lambda_versions WHERE account = ? AND region = ? AND name = ? RETURNING code_sha",
            (account, region, name),
        )
        for table, column in (
            ("lambda_functions", "name"),
            ("lambda_aliases", "function"),
            ("lambda_event_configs", "function"),
            ("lambda_async_events", "function"),
            ("lambda_function_urls", "function"),
            ("lambda_provisioned", "function"),
        ):
            self.db.execute(
                f"DELETE FROM {table} WHERE account = ? AND region = ? AND {column} = ?",
                (account, region, name),
            )
        return [sha for (sha,) in shas]

    def set_function_field(self, account: str, region: str, name: str, column: str, value: Any) -> None:
        assert column in (
            "reserved_concurrency",
            "policy",
            "next_version",
            "recursive_loop",
            "code_signing_arn",
            "runtime_management",
        )
        self.db.execute(
            f"UPDATE lambda_functions SET {column} = ? WHERE account = ? AND region = ? AND name = ?",
            (value, account, region, name),
        )

    # -- provisioned concurrency -------------------------------------------------------------------

    def put_provisioned(self, account: str, region: str, function: str, qualifier: str, config: dict) -> None:
        self.db.execute(
            "INSERT INTO lambda_provisioned (account, region, function, qualifier, config) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (account, region, function, qualifier) DO UPDATE SET config = excluded.config",
            (account, region, function, qualifier, dumps(config)),
        )

    def provisioned(self, account: str, region: str, function: str, qualifier: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT config FROM lambda_provisioned WHERE account = ? AND region = ? AND function = ? "
            "AND qualifier = ?",
            (account, region, function, qualifier),
        )
        return json.loads(row[0]) if row else None

    def provisioned_of(self, account: str, region: str, function: str) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT config FROM lambda_provisioned WHERE account = ? AND region = ? AND function = ? "
            "ORDER BY qualifier",
            (account, region, function),
        )
        return [json.loads(config) for (config,) in rows]

    def delete_provisioned(self, account: str, region: str, function: str, qualifier: str) -> bool:
        cursor = self.db.execute(
            "DELETE FROM lambda_provisioned WHERE account = ? AND region = ? AND function = ? AND qualifier = ?",
            (account, region, function, qualifier),
        )
        return cursor.rowcount > 0

    # -- code signing ----------------------------------------------------------------------------

    def put_code_signing(self, arn: str, account: str, region: str, config: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO lambda_code_signing (arn, account, region, config) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (arn) DO UPDATE SET config = excluded.config",
            (arn, account, region, dumps(config)),
        )

    def code_signing(self, arn: str) -> dict[str, Any] | None:
        row = self.db.one("SELECT config FROM lambda_code_signing WHERE arn = ?", (arn,))
        return json.loads(row[0]) if row else None

    def code_signings(self, account: str, region: str, after: str, limit: int) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT config FROM lambda_code_signing WHERE account = ? AND region = ? AND arn > ? ORDER BY arn "
            "LIMIT ?",
            (account, region, after, limit),
        )
        return [json.loads(config) for (config,) in rows]

    def delete_code_signing(self, arn: str) -> None:
        self.db.execute("DELETE FROM lambda_code_signing WHERE arn = ?", (arn,))

    def function_code_signing(self, account: str, region: str, name: str) -> str | None:
        row = self.db.one(
            "SELECT code_signing_arn FROM lambda_functions WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return row[0] if row else None

    def functions_signed_with(self, arn: str) -> list[str]:
        rows = self.db.all(
            "SELECT name FROM lambda_functions WHERE code_signing_arn = ? ORDER BY name", (arn,)
        )
        return [name for (name,) in rows]

    def runtime_management(self, account: str, region: str, name: str) -> str | None:
        row = self.db.one(
            "SELECT runtime_management FROM lambda_functions WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return row[0] if row else None

    def recursive_loop(self, account: str, region: str, name: str) -> str | None:
        row = self.db.one(
            "SELECT recursive_loop FROM lambda_functions WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return row[0] if row else None

    def total_reserved(self, account: str, region: str, excluding: str = "") -> int:
        row = self.db.one(
            "SELECT COALESCE(SUM(reserved_concurrency), 0) FROM lambda_functions "
            "WHERE account = ? AND region = ? AND name != ?",
            (account, region, excluding),
        )
        return row[0]

    # -- code packages (content addressed, shared by every version and layer that has the same zip) ------

    def code_blob(self, sha: str) -> str | None:
        row = self.db.one("SELECT blob_id FROM lambda_code WHERE sha = ?", (sha,))
        return row[0] if row else None

    def add_code(self, sha: str, blob_id: str, size: int) -> None:
        self.db.execute("INSERT INTO lambda_code (sha, blob_id, size) VALUES (?, ?, ?)", (sha, blob_id, size))

    def code_unused(self, sha: str) -> bool:
        return not self.db.one(
            "SELECT 1 FROM lambda_versions WHERE code_sha = ? UNION ALL SELECT 1 FROM lambda_layers WHERE code_sha = ?"
            " LIMIT 1",
            (sha, sha),
        )

    def drop_code(self, sha: str) -> str | None:
        row = self.db.one("DELETE FROM lambda_code WHERE sha = ? RETURNING blob_id", (sha,))
        return row[0] if row else None

    # -- aliases -----------------------------------------------------------------------------------

    def alias(self, account: str, region: str, function: str, name: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT config FROM lambda_aliases WHERE account = ? AND region = ? AND function = ? AND name = ?",
            (account, region, function, name),
        )
        return json.loads(row[0]) if row else None

    def put_alias(self, account: str, region: str, function: str, config: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO lambda_aliases (account, region, function, name, config) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (account, region, function, name) DO UPDATE SET config = excluded.config",
            (account, region, function, config["Name"], dumps(config)),
        )

    def aliases(self, account: str, region: str, function: str) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT config FROM lambda_aliases WHERE account = ? AND region = ? AND function = ? ORDER BY name",
            (account, region, function),
        )
        return [json.loads(config) for (config,) in rows]

    def delete_alias(self, account: str, region: str, function: str, name: str) -> None:
        self.db.execute(
            "DELETE FROM lambda_aliases WHERE account = ? AND region = ? AND function = ? AND name = ?",
            (account, region, function, name),
        )

    # -- layers ------------------------------------------------------------------------------------

    def next_layer_version(self, account: str, region: str, name: str) -> int:
        row = self.db.one(
            "INSERT INTO lambda_layer_counters (account, region, name, next_version) VALUES (?, ?, ?, 2) "
            "ON CONFLICT (account, region, name) DO UPDATE SET next_version = next_version + 1 "
            "RETURNING next_version - 1",
            (account, region, name),
        )
        return row[0]

    def put_layer(
        self, account: str, region: str, name: str, version: int, config: dict[str, Any], sha: str
    ) -> None:
        self.db.execute(
            "INSERT INTO lambda_layers (account, region, name, version, config, code_sha) VALUES (?, ?, ?, ?, ?, ?)",
            (account, region, name, version, dumps(config), sha),
        )

    def update_layer(
        self, account: str, region: str, name: str, version: int, config: dict[str, Any]
    ) -> None:
        self.db.execute(
            "UPDATE lambda_layers SET config = ? WHERE account = ? AND region = ? AND name = ? AND version = ?",
            (dumps(config), account, region, name, version),
        )

    def layer(self, account: str, region: str, name: str, version: int) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT config FROM lambda_layers WHERE account = ? AND region = ? AND name = ? AND version = ?",
            (account, region, name, version),
        )
        return json.loads(row[0]) if row else None

    def layer_versions(self, account: str, region: str, name: str) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT config FROM lambda_layers WHERE account = ? AND region = ? AND name = ? ORDER BY version DESC",
            (account, region, name),
        )
        return [json.loads(config) for (config,) in rows]

    def latest_layers(self, account: str, region: str) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT config FROM lambda_layers AS l WHERE account = ? AND region = ? AND version = "
            "(SELECT MAX(version) FROM lambda_layers WHERE account = l.account AND region = l.region "
            "AND name = l.name) ORDER BY name",
            (account, region),
        )
        return [json.loads(config) for (config,) in rows]

    def delete_layer(self, account: str, region: str, name: str, version: int) -> str | None:
        row = self.db.one(
            "DELETE FROM lambda_layers WHERE account = ? AND region = ? AND name = ? AND version = ? "
            "RETURNING code_sha",
            (account, region, name, version),
        )
        return row[0] if row else None

    # -- asynchronous invocation settings and queue ------------------------------------------------

    def event_config(self, account: str, region: str, function: str, qualifier: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT config FROM lambda_event_configs WHERE account = ? AND region = ? AND function = ? "
            "AND qualifier = ?",
            (account, region, function, qualifier),
        )
        return json.loads(row[0]) if row else None

    def put_event_config(
        self, account: str, region: str, function: str, qualifier: str, config: dict
    ) -> None:
        self.db.execute(
            "INSERT INTO lambda_event_configs (account, region, function, qualifier, config) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (account, region, function, qualifier) DO UPDATE SET config = excluded.config",
            (account, region, function, qualifier, dumps(config)),
        )

    def delete_event_config(self, account: str, region: str, function: str, qualifier: str) -> int:
        return self.db.execute(
            "DELETE FROM lambda_event_configs WHERE account = ? AND region = ? AND function = ? AND qualifier = ?",
            (account, region, function, qualifier),
        ).rowcount

    def event_configs(self, account: str, region: str, function: str) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT config FROM lambda_event_configs WHERE account = ? AND region = ? AND function = ?",
            (account, region, function),
        )
        return [json.loads(config) for (config,) in rows]

    def enqueue(
        self,
        account: str,
        region: str,
        function: str,
        qualifier: str,
        request_id: str,
        payload: bytes,
        now: float,
    ) -> None:
        self.db.execute(
            "INSERT INTO lambda_async_events (account, region, function, qualifier, request_id, payload, due, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (account, region, function, qualifier, request_id, payload, now, now),
        )

    def due_events(self, now: float, limit: int) -> list[tuple]:
        return self.db.all(
            "SELECT id, account, region, function, qualifier, request_id, payload, attempts, created "
            "FROM lambda_async_events WHERE running = 0 AND due <= ? ORDER BY due, id LIMIT ?",
            (now, limit),
        )

    def next_due(self) -> float | None:
        row = self.db.one("SELECT MIN(due) FROM lambda_async_events WHERE running = 0")
        return row[0] if row else None

    def mark_running(self, event_id: int, running: bool) -> None:
        self.db.execute("UPDATE lambda_async_events SET running = ? WHERE id = ?", (int(running), event_id))

    def retry_later(self, event_id: int, attempts: int, due: float) -> None:
        self.db.execute(
            "UPDATE lambda_async_events SET running = 0, attempts = ?, due = ? WHERE id = ?",
            (attempts, due, event_id),
        )

    def finish_event(self, event_id: int) -> None:
        self.db.execute("DELETE FROM lambda_async_events WHERE id = ?", (event_id,))

    def requeue_running(self) -> None:
        """At start-up: events that were running when the server stopped run again."""
        self.db.execute("UPDATE lambda_async_events SET running = 0 WHERE running = 1")

    # -- event source mappings ---------------------------------------------------------------------

    def mapping(self, account: str, region: str, mapping_id: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT config FROM lambda_event_sources WHERE uuid = ? AND account = ? AND region = ?",
            (mapping_id, account, region),
        )
        return json.loads(row[0]) if row else None

    def mapping_between(
        self, account: str, region: str, function: str, source_arn: str, function_arn: str
    ) -> str | None:
        """The UUID of the mapping from `source_arn` to the function (with its qualifier), if there is one."""
        row = self.db.one(
            "SELECT uuid FROM lambda_event_sources WHERE account = ? AND region = ? AND function = ? "
            "AND source_arn = ? AND json_extract(config, '$.FunctionArn') = ?",
            (account, region, function, source_arn, function_arn),
        )
        return row[0] if row else None

    def add_mapping(self, account: str, region: str, function: str, mapping: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO lambda_event_sources (uuid, account, region, function, source_arn, config) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (mapping["UUID"], account, region, function, mapping["EventSourceArn"], json.dumps(mapping)),
        )

    def put_mapping(self, function: str, mapping: dict[str, Any]) -> None:
        self.db.execute(
            "UPDATE lambda_event_sources SET config = ?, function = ? WHERE uuid = ?",
            (json.dumps(mapping), function, mapping["UUID"]),
        )

    def delete_mapping(self, mapping_id: str) -> None:
        self.db.execute("DELETE FROM lambda_event_sources WHERE uuid = ?", (mapping_id,))

    def mappings(
        self, account: str, region: str, source_arn: str | None, function: str | None, after: str
    ) -> list[dict[str, Any]]:
        """An account's mappings after the UUID `after`, in UUID order, of one source and/or function."""
        sql = "SELECT config FROM lambda_event_sources WHERE account = ? AND region = ?"
        args: list[Any] = [account, region]
        if source_arn:
            sql += " AND source_arn = ?"
            args.append(source_arn)
        if function:
            sql += " AND function = ?"
            args.append(function)
        sql += " AND uuid > ? ORDER BY uuid"
        args.append(after)
        return [json.loads(config) for (config,) in self.db.all(sql, args)]

    def enabled_mappings(self) -> list[str]:
        rows = self.db.all(
            "SELECT uuid FROM lambda_event_sources WHERE json_extract(config, '$.State') = 'Enabled'"
        )
        return [mapping_id for (mapping_id,) in rows]

    def mapping_by_id(self, mapping_id: str) -> tuple[str, str, dict[str, Any]] | None:
        """(account, region, configuration) of a mapping, wherever it is."""
        row = self.db.one(
            "SELECT account, region, config FROM lambda_event_sources WHERE uuid = ?", (mapping_id,)
        )
        return (row[0], row[1], json.loads(row[2])) if row else None

    def set_mapping_result(self, mapping_id: str, result: str) -> None:
        self.db.execute(
            "UPDATE lambda_event_sources SET config = json_set(config, '$.LastProcessingResult', ?) "
            "WHERE uuid = ?",
            (result, mapping_id),
        )

    def mapping_position(self, mapping_id: str) -> str | None:
        """The sequence number of the last stream record a mapping processed."""
        row = self.db.one("SELECT position FROM lambda_event_sources WHERE uuid = ?", (mapping_id,))
        return row[0] if row else None

    def set_mapping_position(self, mapping_id: str, position: str) -> None:
        self.db.execute("UPDATE lambda_event_sources SET position = ? WHERE uuid = ?", (position, mapping_id))

    # -- function URLs -----------------------------------------------------------------------------

    def function_url(self, account: str, region: str, function: str, qualifier: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT config FROM lambda_function_urls WHERE account = ? AND region = ? AND function = ? "
            "AND qualifier = ?",
            (account, region, function, qualifier),
        )
        return json.loads(row[0]) if row else None

    def add_function_url(
        self, url_id: str, account: str, region: str, function: str, qualifier: str, config: dict[str, Any]
    ) -> None:
        self.db.execute(
            "INSERT INTO lambda_function_urls (url_id, account, region, function, qualifier, config) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (url_id, account, region, function, qualifier, json.dumps(config)),
        )

    def put_function_url(
        self, account: str, region: str, function: str, qualifier: str, config: dict[str, Any]
    ) -> None:
        self.db.execute(
            "UPDATE lambda_function_urls SET config = ? WHERE account = ? AND region = ? AND function = ? "
            "AND qualifier = ?",
            (json.dumps(config), account, region, function, qualifier),
        )

    def delete_function_url(self, account: str, region: str, function: str, qualifier: str) -> None:
        self.db.execute(
            "DELETE FROM lambda_function_urls WHERE account = ? AND region = ? AND function = ? AND qualifier = ?",
            (account, region, function, qualifier),
        )

    def function_urls(self, account: str, region: str, function: str) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT config FROM lambda_function_urls WHERE account = ? AND region = ? AND function = ? "
            "ORDER BY qualifier",
            (account, region, function),
        )
        return [json.loads(config) for (config,) in rows]

    def url_target(self, url_id: str) -> tuple[str, str, str, str, dict[str, Any]] | None:
        """(account, region, function, qualifier, configuration) of the function URL `url_id`."""
        row = self.db.one(
            "SELECT account, region, function, qualifier, config FROM lambda_function_urls WHERE url_id = ?",
            (url_id,),
        )
        return (*row[:4], json.loads(row[4])) if row else None
