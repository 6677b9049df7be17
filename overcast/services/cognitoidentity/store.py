"""Identity pools' tables: pools (their description and roles as JSON), identities with the logins linked to
them (one row per provider and subject, so the same login always finds its identity), and the region's key
that signs OpenID tokens."""

from __future__ import annotations

import json
from typing import Any

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE cognito_identity_pools (
        id TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, config TEXT NOT NULL,
        roles TEXT NOT NULL
    );
    CREATE INDEX cognito_identity_pools_owner ON cognito_identity_pools (account, region, id);
    CREATE TABLE cognito_identities (
        id TEXT PRIMARY KEY, pool_id TEXT NOT NULL, logins TEXT NOT NULL, created REAL NOT NULL,
        modified REAL NOT NULL
    );
    CREATE INDEX cognito_identities_pool ON cognito_identities (pool_id, id);
    CREATE TABLE cognito_identity_logins (
        pool_id TEXT NOT NULL, provider TEXT NOT NULL, subject TEXT NOT NULL, identity_id TEXT NOT NULL,
        PRIMARY KEY (pool_id, provider, subject)
    );
    CREATE INDEX cognito_identity_logins_identity ON cognito_identity_logins (identity_id);
    CREATE TABLE cognito_identity_keys (
        region TEXT PRIMARY KEY, kid TEXT NOT NULL, key_pem TEXT NOT NULL
    );
    """
]


class CognitoIdentityStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("cognito-identity", MIGRATIONS)

    # -- pools -----------------------------------------------------------------------------------------

    def put_pool(
        self, pool_id: str, account: str, region: str, config: dict[str, Any], roles: dict[str, Any]
    ) -> None:
        self.db.execute(
            "INSERT INTO cognito_identity_pools VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "config = excluded.config, roles = excluded.roles",
            (pool_id, account, region, json.dumps(config), json.dumps(roles)),
        )

    def pool(self, pool_id: str) -> tuple[str, str, dict[str, Any], dict[str, Any]] | None:
        """(account, region, description, roles) of a pool."""
        row = self.db.one(
            "SELECT account, region, config, roles FROM cognito_identity_pools WHERE id = ?", (pool_id,)
        )
        return (row[0], row[1], json.loads(row[2]), json.loads(row[3])) if row else None

    def pools(self, account: str, region: str, after: str | None, limit: int) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT config FROM cognito_identity_pools WHERE account = ? AND region = ? AND id > ? ORDER BY id LIMIT ?",
            (account, region, after or "", limit),
        )
        return [json.loads(config) for (config,) in rows]

    def delete_pool(self, pool_id: str) -> None:
        self.db.execute("DELETE FROM cognito_identity_logins WHERE pool_id = ?", (pool_id,))
        self.db.execute("DELETE FROM cognito_identities WHERE pool_id = ?", (pool_id,))
        self.db.execute("DELETE FROM cognito_identity_pools WHERE id = ?", (pool_id,))

    # -- identities ------------------------------------------------------------------------------------

    def add_identity(self, identity_id: str, pool_id: str, now: float) -> None:
        self.db.execute(
            "INSERT INTO cognito_identities VALUES (?, ?, '{}', ?, ?)", (identity_id, pool_id, now, now)
        )

    def identity(self, identity_id: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT pool_id, logins, created, modified FROM cognito_identities WHERE id = ?", (identity_id,)
        )
        if row is None:
            return None
        return {
            "IdentityId": identity_id,
            "pool_id": row[0],
            "logins": json.loads(row[1]),
            "created": row[2],
            "modified": row[3],
        }

    def identities(self, pool_id: str, after: str | None, limit: int) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT id FROM cognito_identities WHERE pool_id = ? AND id > ? ORDER BY id LIMIT ?",
            (pool_id, after or "", limit),
        )
        return [found for (identity_id,) in rows if (found := self.identity(identity_id)) is not None]

    def identity_for_login(self, pool_id: str, provider: str, subject: str) -> str | None:
        row = self.db.one(
            "SELECT identity_id FROM cognito_identity_logins WHERE pool_id = ? AND provider = ? AND subject = ?",
            (pool_id, provider, subject),
        )
        return row[0] if row else None

    def link(self, identity_id: str, pool_id: str, provider: str, subject: str, now: float) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO cognito_identity_logins VALUES (?, ?, ?, ?)",
            (pool_id, provider, subject, identity_id),
        )
        found = self.identity(identity_id)
        logins = found["logins"] if found else {}
        logins[provider] = subject
        self.db.execute(
            "UPDATE cognito_identities SET logins = ?, modified = ? WHERE id = ?",
            (json.dumps(logins), now, identity_id),
        )

    def unlink(self, identity_id: str, provider: str) -> None:
        found = self.identity(identity_id)
        if found is None:
            return
        found["logins"].pop(provider, None)
        self.db.execute(
            "DELETE FROM cognito_identity_logins WHERE identity_id = ? AND provider = ?",
            (identity_id, provider),
        )
        self.db.execute(
            "UPDATE cognito_identities SET logins = ? WHERE id = ?",
            (json.dumps(found["logins"]), identity_id),
        )

    def delete_identity(self, identity_id: str) -> None:
        self.db.execute("DELETE FROM cognito_identity_logins WHERE identity_id = ?", (identity_id,))
        self.db.execute("DELETE FROM cognito_identities WHERE id = ?", (identity_id,))

    # -- signing key -----------------------------------------------------------------------------------

    def key(self, region: str) -> tuple[str, str] | None:
        row = self.db.one("SELECT kid, key_pem FROM cognito_identity_keys WHERE region = ?", (region,))
        return (row[0], row[1]) if row else None

    def put_key(self, region: str, kid: str, pem: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO cognito_identity_keys VALUES (?, ?, ?)", (region, kid, pem))
