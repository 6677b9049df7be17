"""STS's table: the temporary credentials it issued, keyed by access key id (ASIA...), with their expiry."""

from __future__ import annotations

import json
from typing import Any

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE sts_sessions (
        key_id TEXT PRIMARY KEY, account TEXT NOT NULL, secret TEXT NOT NULL, token TEXT NOT NULL,
        expires REAL NOT NULL, principal TEXT NOT NULL
    );
    CREATE INDEX sts_sessions_expires ON sts_sessions (expires);
    """
]


class StsStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("sts", MIGRATIONS)

    def session(self, key_id: str) -> tuple[str, str, float, dict[str, Any]] | None:
        """(secret, session token, expiry, principal) of the session with access key `key_id`."""
        row = self.db.one(
            "SELECT secret, token, expires, principal FROM sts_sessions WHERE key_id = ?", (key_id,)
        )
        if row is None:
            return None
        secret, token, expires, principal = row
        return secret, token, expires, json.loads(principal)

    def add_session(
        self, key_id: str, account: str, secret: str, token: str, expires: float, principal: dict[str, Any]
    ) -> None:
        self.db.execute(
            "INSERT INTO sts_sessions VALUES (?, ?, ?, ?, ?, ?)",
            (key_id, account, secret, token, expires, json.dumps(principal)),
        )

    def forget_expired(self, before: float) -> None:
        self.db.execute("DELETE FROM sts_sessions WHERE expires < ?", (before,))
