"""Cloud Control's tables: resource requests (their progress events), and the desired state of the resources
it made (what their handlers' reads start from)."""

from __future__ import annotations

import json
from typing import Any

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE cloudcontrol_requests (
        token TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        client_token TEXT,
        event TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX cloudcontrol_requests_account ON cloudcontrol_requests (account, region, created_at);
    CREATE TABLE cloudcontrol_resources (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        type TEXT NOT NULL,
        identifier TEXT NOT NULL,
        properties TEXT NOT NULL,
        PRIMARY KEY (account, region, type, identifier)
    );
    """,
]


class CloudControlStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("cloudcontrol", MIGRATIONS)

    def put_request(
        self,
        token: str,
        account: str,
        region: str,
        client_token: str | None,
        event: dict[str, Any],
        now: float,
    ) -> None:
        self.db.execute(
            "INSERT INTO cloudcontrol_requests (token, account, region, client_token, event, created_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (token) DO UPDATE SET event = excluded.event",
            (token, account, region, client_token, json.dumps(event, default=str), now),
        )

    def request(self, token: str) -> tuple[str, str, dict[str, Any]] | None:
        row = self.db.one(
            "SELECT account, region, event FROM cloudcontrol_requests WHERE token = ?", (token,)
        )
        return (row[0], row[1], json.loads(row[2])) if row else None

    def request_by_client_token(self, account: str, region: str, client_token: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT event FROM cloudcontrol_requests WHERE account = ? AND region = ? AND client_token = ?",
            (account, region, client_token),
        )
        return json.loads(row[0]) if row else None

    def requests(self, account: str, region: str) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT event FROM cloudcontrol_requests WHERE account = ? AND region = ? ORDER BY created_at DESC, token",
            (account, region),
        )
        return [json.loads(row[0]) for row in rows]

    def unfinished(self) -> list[str]:
        rows = self.db.all("SELECT token, event FROM cloudcontrol_requests")
        return [
            token
            for token, event in rows
            if json.loads(event)["OperationStatus"] in ("PENDING", "IN_PROGRESS")
        ]

    def properties(self, account: str, region: str, kind: str, identifier: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT properties FROM cloudcontrol_resources WHERE account = ? AND region = ? AND type = ? AND identifier = ?",
            (account, region, kind, identifier),
        )
        return json.loads(row[0]) if row else None

    def set_properties(
        self, account: str, region: str, kind: str, identifier: str, properties: dict[str, Any] | None
    ) -> None:
        if properties is None:
            self.db.execute(
                "DELETE FROM cloudcontrol_resources WHERE account = ? AND region = ? AND type = ? AND identifier = ?",
                (account, region, kind, identifier),
            )
            return
        self.db.execute(
            "INSERT INTO cloudcontrol_resources (account, region, type, identifier, properties) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (account, region, type, identifier) DO UPDATE SET properties = excluded.properties",
            (account, region, kind, identifier, json.dumps(properties)),
        )
