"""HTTP and WebSocket API tables and every SQL statement of the service.

Resources are JSON documents in `apigwv2_records` addressed by (account, region, kind, parent, id), as
AWS's API returns them; a deployment's document holds the snapshot of the routes, integrations and
authorizers it froze. `apigwv2_connections` lists the open WebSocket connections (their sockets live in the
server's memory; rows left by a stopped server are dropped at start-up, as AWS drops connections).
"""

from __future__ import annotations

import json
from typing import Any

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE apigwv2_records (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        kind TEXT NOT NULL,
        parent TEXT NOT NULL,
        id TEXT NOT NULL,
        created REAL NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (account, region, kind, parent, id)
    );
    CREATE INDEX apigwv2_records_by_id ON apigwv2_records (kind, id);
    CREATE TABLE apigwv2_connections (
        connection_id TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        api_id TEXT NOT NULL,
        stage TEXT NOT NULL,
        connected_at REAL NOT NULL,
        last_active_at REAL NOT NULL,
        source_ip TEXT NOT NULL,
        user_agent TEXT
    );
    """,
]


class ApiGatewayV2Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("apigatewayv2", MIGRATIONS)
        self.generation = 0  # bumped by every document write: the gateway's reads stay valid while unchanged

    # -- documents ---------------------------------------------------------------------------------

    def get(self, account: str, region: str, kind: str, parent: str, id: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT doc FROM apigwv2_records WHERE account = ? AND region = ? AND kind = ? AND parent = ? AND id = ?",
            (account, region, kind, parent, id),
        )
        return json.loads(row[0]) if row else None

    def put(
        self, account: str, region: str, kind: str, parent: str, id: str, doc: dict[str, Any], created: float
    ) -> None:
        self.generation += 1
        self.db.execute(
            "INSERT INTO apigwv2_records (account, region, kind, parent, id, created, doc) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (account, region, kind, parent, id) DO UPDATE SET doc = excluded.doc",
            (account, region, kind, parent, id, created, json.dumps(doc)),
        )

    def delete(self, account: str, region: str, kind: str, parent: str, id: str) -> bool:
        self.generation += 1
        cursor = self.db.execute(
            "DELETE FROM apigwv2_records WHERE account = ? AND region = ? AND kind = ? AND parent = ? AND id = ?",
            (account, region, kind, parent, id),
        )
        return cursor.rowcount > 0

    def delete_children(self, account: str, region: str, parent: str) -> None:
        self.generation += 1
        self.db.execute(
            "DELETE FROM apigwv2_records WHERE account = ? AND region = ? AND parent = ?",
            (account, region, parent),
        )

    def list(self, account: str, region: str, kind: str, parent: str = "") -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT doc FROM apigwv2_records WHERE account = ? AND region = ? AND kind = ? AND parent = ? "
            "ORDER BY created, id",
            (account, region, kind, parent),
        )
        return [json.loads(row[0]) for row in rows]

    def ids(self, kind: str) -> list[str]:
        """The ids of every document of `kind` in every account and region (custom domain names)."""
        return [row[0] for row in self.db.all("SELECT id FROM apigwv2_records WHERE kind = ?", (kind,))]

    def owner(self, kind: str, id: str) -> tuple[str, str] | None:
        row = self.db.one("SELECT account, region FROM apigwv2_records WHERE kind = ? AND id = ?", (kind, id))
        return (row[0], row[1]) if row else None

    # -- WebSocket connections -------------------------------------------------------------------------

    def add_connection(
        self,
        connection_id: str,
        account: str,
        region: str,
        api_id: str,
        stage: str,
        now: float,
        source_ip: str,
        user_agent: str | None,
    ) -> None:
        self.db.execute(
            "INSERT INTO apigwv2_connections (connection_id, account, region, api_id, stage, connected_at, "
            "last_active_at, source_ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (connection_id, account, region, api_id, stage, now, now, source_ip, user_agent),
        )

    def connection(self, connection_id: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT account, region, api_id, stage, connected_at, last_active_at, source_ip, user_agent "
            "FROM apigwv2_connections WHERE connection_id = ?",
            (connection_id,),
        )
        if row is None:
            return None
        keys = (
            "account",
            "region",
            "api_id",
            "stage",
            "connected_at",
            "last_active_at",
            "source_ip",
            "user_agent",
        )
        return dict(zip(keys, row, strict=True))

    def touch_connection(self, connection_id: str, now: float) -> None:
        self.db.execute(
            "UPDATE apigwv2_connections SET last_active_at = ? WHERE connection_id = ?", (now, connection_id)
        )

    def remove_connection(self, connection_id: str) -> None:
        self.db.execute("DELETE FROM apigwv2_connections WHERE connection_id = ?", (connection_id,))

    def next_timeout(self, idle: float, maximum: float) -> tuple[str, float] | None:
        """The connection whose idle or maximum time runs out first, and when."""
        row = self.db.one(
            "SELECT connection_id, MIN(last_active_at + ?, connected_at + ?) AS due FROM apigwv2_connections "
            "ORDER BY due LIMIT 1",
            (idle, maximum),
        )
        return (row[0], row[1]) if row and row[0] is not None else None

    def drop_connections(self) -> None:
        self.db.execute("DELETE FROM apigwv2_connections")
