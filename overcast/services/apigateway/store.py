"""API Gateway (REST APIs) tables and every SQL statement of the service.

Every resource of the API (a REST API, its resources with their methods and integrations, models, validators,
authorizers, gateway responses, deployments, stages; API keys, usage plans, domain names, client
certificates) is one JSON document in `apigw_records`, addressed by (account, region, kind, parent, id): the
service reads and returns whole documents, as AWS's API does. A deployment's document holds the snapshot of
the API it froze, which is what invocations run. `lookup` indexes the one secondary key the service needs
(an API key's value). Usage plan quotas count in `apigw_usage`, one row per plan, key and period.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE apigw_records (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        kind TEXT NOT NULL,
        parent TEXT NOT NULL,
        id TEXT NOT NULL,
        created REAL NOT NULL,
        lookup TEXT,
        doc TEXT NOT NULL,
        PRIMARY KEY (account, region, kind, parent, id)
    );
    CREATE INDEX apigw_records_by_id ON apigw_records (kind, id);
    CREATE INDEX apigw_records_lookup ON apigw_records (kind, lookup) WHERE lookup IS NOT NULL;
    CREATE TABLE apigw_usage (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        plan_id TEXT NOT NULL,
        key_id TEXT NOT NULL,
        period TEXT NOT NULL,
        used INTEGER NOT NULL,
        PRIMARY KEY (account, region, plan_id, key_id, period)
    );
    """,
]


class ApiGatewayStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("apigateway", MIGRATIONS)
        # Bumped by every write of a document: what the gateway read of the documents stays valid while it
        # is unchanged (serving reads no row of an unchanged API).
        self.generation = 0

    # -- documents ---------------------------------------------------------------------------------

    def get(self, account: str, region: str, kind: str, parent: str, id: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT doc FROM apigw_records WHERE account = ? AND region = ? AND kind = ? AND parent = ? AND id = ?",
            (account, region, kind, parent, id),
        )
        return json.loads(row[0]) if row else None

    def put(
        self,
        account: str,
        region: str,
        kind: str,
        parent: str,
        id: str,
        doc: dict[str, Any],
        created: float,
        lookup: str | None = None,
    ) -> None:
        """Insert or replace a document (its creation time and position in listings are kept)."""
        self.generation += 1
        self.db.execute(
            "INSERT INTO apigw_records (account, region, kind, parent, id, created, lookup, doc) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, kind, parent, id) "
            "DO UPDATE SET doc = excluded.doc, lookup = excluded.lookup",
            (account, region, kind, parent, id, created, lookup, json.dumps(doc)),
        )

    def delete(self, account: str, region: str, kind: str, parent: str, id: str) -> bool:
        self.generation += 1
        cursor = self.db.execute(
            "DELETE FROM apigw_records WHERE account = ? AND region = ? AND kind = ? AND parent = ? AND id = ?",
            (account, region, kind, parent, id),
        )
        return cursor.rowcount > 0

    def delete_children(self, account: str, region: str, parent: str) -> None:
        """Every document under `parent` (an API's resources, stages, ...)."""
        self.generation += 1
        self.db.execute(
            "DELETE FROM apigw_records WHERE account = ? AND region = ? AND parent = ?",
            (account, region, parent),
        )

    def list(self, account: str, region: str, kind: str, parent: str = "") -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT doc FROM apigw_records WHERE account = ? AND region = ? AND kind = ? AND parent = ? "
            "ORDER BY created, id",
            (account, region, kind, parent),
        )
        return [json.loads(row[0]) for row in rows]

    def iter_kind(self, account: str, region: str, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(parent, document) of every document of `kind` in a region (usage plan keys across plans)."""
        rows = self.db.all(
            "SELECT parent, doc FROM apigw_records WHERE account = ? AND region = ? AND kind = ? ORDER BY created",
            (account, region, kind),
        )
        for parent, doc in rows:
            yield parent, json.loads(doc)

    def count(self, account: str, region: str, kind: str, parent: str = "") -> int:
        row = self.db.one(
            "SELECT COUNT(*) FROM apigw_records WHERE account = ? AND region = ? AND kind = ? AND parent = ?",
            (account, region, kind, parent),
        )
        return row[0] if row else 0

    def owner(self, kind: str, id: str) -> tuple[str, str] | None:
        """(account, region) of the document of `kind` with this globally unique id (an API's id)."""
        row = self.db.one("SELECT account, region FROM apigw_records WHERE kind = ? AND id = ?", (kind, id))
        return (row[0], row[1]) if row else None

    def ids(self, kind: str) -> list[str]:
        """The ids of every document of `kind` in every account and region (custom domain names)."""
        return [row[0] for row in self.db.all("SELECT id FROM apigw_records WHERE kind = ?", (kind,))]

    def by_lookup(self, kind: str, lookup: str) -> tuple[str, str, dict[str, Any]] | None:
        row = self.db.one(
            "SELECT account, region, doc FROM apigw_records WHERE kind = ? AND lookup = ?", (kind, lookup)
        )
        return (row[0], row[1], json.loads(row[2])) if row else None

    # -- usage plan quotas -------------------------------------------------------------------------

    def use(
        self, account: str, region: str, plan_id: str, key_id: str, period: str, limit: int
    ) -> int | None:
        """Count one request of `key_id` under `plan_id` in `period`; the new count, or None when the quota
        (`limit`) is already used up (the request is not counted)."""
        row = self.db.one(
            "SELECT used FROM apigw_usage WHERE account = ? AND region = ? AND plan_id = ? AND key_id = ? "
            "AND period = ?",
            (account, region, plan_id, key_id, period),
        )
        used = row[0] if row else 0
        if used >= limit:
            return None
        self.db.execute(
            "INSERT INTO apigw_usage (account, region, plan_id, key_id, period, used) VALUES (?, ?, ?, ?, ?, 1) "
            "ON CONFLICT (account, region, plan_id, key_id, period) DO UPDATE SET used = used + 1",
            (account, region, plan_id, key_id, period),
        )
        return used + 1

    def usage(self, account: str, region: str, plan_id: str) -> list[tuple[str, str, int]]:
        """(key id, period, used) of a plan, oldest period first."""
        return [
            (row[0], row[1], row[2])
            for row in self.db.all(
                "SELECT key_id, period, used FROM apigw_usage WHERE account = ? AND region = ? AND plan_id = ? "
                "ORDER BY period",
                (account, region, plan_id),
            )
        ]

    def set_usage(self, account: str, region: str, plan_id: str, key_id: str, period: str, used: int) -> None:
        self.db.execute(
            "INSERT INTO apigw_usage (account, region, plan_id, key_id, period, used) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (account, region, plan_id, key_id, period) DO UPDATE SET used = excluded.used",
            (account, region, plan_id, key_id, period, used),
        )

    def forget_usage(self, account: str, region: str, plan_id: str, key_id: str | None = None) -> None:
        if key_id is None:
            self.db.execute(
                "DELETE FROM apigw_usage WHERE account = ? AND region = ? AND plan_id = ?",
                (account, region, plan_id),
            )
        else:
            self.db.execute(
                "DELETE FROM apigw_usage WHERE account = ? AND region = ? AND plan_id = ? AND key_id = ?",
                (account, region, plan_id, key_id),
            )
