"""Cognito user pools' tables and every SQL statement they run.

A pool, an app client, a group, a domain... is a row holding its AWS description as JSON, with the columns its
lookups need. Users are rows keyed by (pool, key), where the key is the username as given, or lower-cased in
a case-insensitive pool; their searchable attributes and aliases are also rows of `cognito_user_attrs`, so a
sign-in by email and a ListUsers filter are index lookups whatever the pool's size. Codes, challenge sessions,
refresh tokens and authorization codes are rows with their expiry, checked on the virtual clock when used.
Pool ids and client ids are unique across accounts and regions (as in AWS), so the operations AWS serves
without a signature find their pool from the id alone.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE cognito_pools (
        id TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
        config TEXT NOT NULL, kid TEXT NOT NULL, key_pem TEXT NOT NULL
    );
    CREATE INDEX cognito_pools_owner ON cognito_pools (account, region, id);
    CREATE TABLE cognito_clients (
        id TEXT PRIMARY KEY, pool_id TEXT NOT NULL, config TEXT NOT NULL
    );
    CREATE INDEX cognito_clients_pool ON cognito_clients (pool_id, id);
    CREATE TABLE cognito_domains (
        domain TEXT PRIMARY KEY, pool_id TEXT NOT NULL, config TEXT NOT NULL
    );
    CREATE INDEX cognito_domains_pool ON cognito_domains (pool_id);
    CREATE TABLE cognito_children (
        pool_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, config TEXT NOT NULL,
        PRIMARY KEY (pool_id, kind, name)
    );
    CREATE TABLE cognito_users (
        pool_id TEXT NOT NULL, key TEXT NOT NULL, username TEXT NOT NULL, sub TEXT NOT NULL,
        status TEXT NOT NULL, enabled INTEGER NOT NULL, attributes TEXT NOT NULL, secrets TEXT NOT NULL,
        settings TEXT NOT NULL, created REAL NOT NULL, modified REAL NOT NULL,
        PRIMARY KEY (pool_id, key)
    );
    CREATE INDEX cognito_users_sub ON cognito_users (pool_id, sub);
    CREATE TABLE cognito_user_attrs (
        pool_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, folded TEXT NOT NULL, key TEXT NOT NULL,
        PRIMARY KEY (pool_id, name, value, key)
    );
    CREATE INDEX cognito_user_attrs_folded ON cognito_user_attrs (pool_id, name, folded);
    CREATE INDEX cognito_user_attrs_user ON cognito_user_attrs (pool_id, key);
    CREATE TABLE cognito_members (
        pool_id TEXT NOT NULL, group_name TEXT NOT NULL, key TEXT NOT NULL,
        PRIMARY KEY (pool_id, group_name, key)
    );
    CREATE INDEX cognito_members_user ON cognito_members (pool_id, key, group_name);
    CREATE TABLE cognito_codes (
        pool_id TEXT NOT NULL, key TEXT NOT NULL, purpose TEXT NOT NULL, code TEXT NOT NULL,
        expires REAL NOT NULL, PRIMARY KEY (pool_id, key, purpose)
    );
    CREATE TABLE cognito_sessions (
        id TEXT PRIMARY KEY, pool_id TEXT NOT NULL, data TEXT NOT NULL, expires REAL NOT NULL
    );
    CREATE INDEX cognito_sessions_expires ON cognito_sessions (expires);
    CREATE TABLE cognito_refresh_tokens (
        digest TEXT PRIMARY KEY, pool_id TEXT NOT NULL, client_id TEXT NOT NULL, key TEXT NOT NULL,
        origin_jti TEXT NOT NULL, data TEXT NOT NULL, issued REAL NOT NULL, expires REAL NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX cognito_refresh_user ON cognito_refresh_tokens (pool_id, key);
    CREATE INDEX cognito_refresh_origin ON cognito_refresh_tokens (origin_jti);
    CREATE TABLE cognito_outbox (
        id INTEGER PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, pool_id TEXT NOT NULL,
        username TEXT NOT NULL, channel TEXT NOT NULL, destination TEXT NOT NULL, purpose TEXT NOT NULL,
        subject TEXT, message TEXT NOT NULL, code TEXT, created REAL NOT NULL
    );
    CREATE INDEX cognito_outbox_pool ON cognito_outbox (pool_id, id);
    CREATE TABLE cognito_devices (
        pool_id TEXT NOT NULL, key TEXT NOT NULL, device_key TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (pool_id, key, device_key)
    );
    """,
    # Expired refresh tokens are dropped as new ones are issued (a day after expiry: revocation of their
    # sign-in's access tokens must outlive those tokens).
    """
    CREATE INDEX cognito_refresh_expires ON cognito_refresh_tokens (expires);
    """,
]
REFRESH_KEPT = 86400.0


@dataclass
class Pool:
    id: str
    account: str
    region: str
    name: str
    config: dict[str, Any]
    kid: str
    key_pem: str

    @property
    def arn(self) -> str:
        return f"arn:aws:cognito-idp:{self.region}:{self.account}:userpool/{self.id}"

    @property
    def short_name(self) -> str:
        """The part of the id after "_": the "pool name" SRP hashes with."""
        return self.id.split("_", 1)[1]

    @property
    def case_sensitive(self) -> bool:
        return bool((self.config.get("UsernameConfiguration") or {}).get("CaseSensitive", True))

    def key_of(self, username: str) -> str:
        return username if self.case_sensitive else username.lower()


@dataclass
class User:
    pool_id: str
    key: str
    username: str
    sub: str
    status: str
    enabled: bool
    attributes: dict[str, str]
    secrets: dict[str, Any]  # password digest, SRP salt and verifier, TOTP secret, temporary expiry
    settings: dict[str, Any]  # MFA preferences and options, global sign-out time, failed attempts
    created: float
    modified: float
    groups: list[str] = field(default_factory=list)


_USER_COLUMNS = (
    "pool_id, key, username, sub, status, enabled, attributes, secrets, settings, created, modified"
)


def _user(row: tuple) -> User:
    pool_id, key, username, sub, status, enabled, attributes, secrets, settings, created, modified = row
    return User(
        pool_id,
        key,
        username,
        sub,
        status,
        bool(enabled),
        json.loads(attributes),
        json.loads(secrets),
        json.loads(settings),
        created,
        modified,
    )


class CognitoIdpStore:
    # Attributes kept in the index table: searchable ones and sign-in aliases.
    INDEXED = ("email", "phone_number", "name", "given_name", "family_name", "preferred_username")

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("cognito-idp", MIGRATIONS)
        # pool id -> (its stored config text, the Pool parsed from it): token checks read pools on every
        # request; the text read each time keeps the cache exact.
        self._pools: OrderedDict[str, tuple[str, Pool]] = OrderedDict()
        self._swept = 0.0  # when expired refresh tokens were last dropped

    # -- pools ---------------------------------------------------------------------------------------

    def add_pool(self, pool: Pool) -> None:
        self.db.execute(
            "INSERT INTO cognito_pools VALUES (?, ?, ?, ?, ?, ?, ?)",
            (pool.id, pool.account, pool.region, pool.name, json.dumps(pool.config), pool.kid, pool.key_pem),
        )

    def pool(self, pool_id: str) -> Pool | None:
        row = self.db.one(
            "SELECT id, account, region, name, config, kid, key_pem FROM cognito_pools WHERE id = ?",
            (pool_id,),
        )
        return Pool(*row[:4], json.loads(row[4]), row[5], row[6]) if row else None  # type: ignore[misc]

    def forget(self) -> None:
        self._pools.clear()

    def pool_readonly(self, pool_id: str) -> Pool | None:
        """The pool, shared between callers: never change what it returns."""
        row = self.db.one("SELECT config FROM cognito_pools WHERE id = ?", (pool_id,))
        if row is None:
            return None
        cached = self._pools.get(pool_id)
        if cached is not None and cached[0] == row[0]:
            return cached[1]
        pool = self.pool(pool_id)
        if pool is not None:
            self._pools[pool_id] = (row[0], pool)
            if len(self._pools) > 256:
                self._pools.popitem(last=False)
        return pool

    def save_pool(self, pool: Pool) -> None:
        self.db.execute(
            "UPDATE cognito_pools SET name = ?, config = ? WHERE id = ?",
            (pool.name, json.dumps(pool.config), pool.id),
        )

    def pools(self, account: str, region: str, after: str | None, limit: int) -> list[Pool]:
        rows = self.db.all(
            "SELECT id, account, region, name, config, kid, key_pem FROM cognito_pools "
            "WHERE account = ? AND region = ? AND id > ? ORDER BY id LIMIT ?",
            (account, region, after or "", limit),
        )
        return [Pool(*row[:4], json.loads(row[4]), row[5], row[6]) for row in rows]  # type: ignore[misc]

    def delete_pool(self, pool_id: str) -> None:
        for table in (
            "cognito_clients",
            "cognito_domains",
            "cognito_children",
            "cognito_users",
            "cognito_user_attrs",
            "cognito_members",
            "cognito_codes",
            "cognito_sessions",
            "cognito_refresh_tokens",
            "cognito_devices",
        ):
            self.db.execute(f"DELETE FROM {table} WHERE pool_id = ?", (pool_id,))
        self.db.execute("DELETE FROM cognito_pools WHERE id = ?", (pool_id,))

    def user_count(self, pool_id: str) -> int:
        return self.db.one("SELECT count(*) FROM cognito_users WHERE pool_id = ?", (pool_id,))[0]  # type: ignore[index]

    # -- app clients ------------------------------------------------------------------------------------

    def put_client(self, client_id: str, pool_id: str, config: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO cognito_clients VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET config = excluded.config",
            (client_id, pool_id, json.dumps(config)),
        )

    def client(self, client_id: str) -> dict[str, Any] | None:
        row = self.db.one("SELECT config FROM cognito_clients WHERE id = ?", (client_id,))
        return json.loads(row[0]) if row else None

    def clients(self, pool_id: str, after: str | None, limit: int) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT config FROM cognito_clients WHERE pool_id = ? AND id > ? ORDER BY id LIMIT ?",
            (pool_id, after or "", limit),
        )
        return [json.loads(config) for (config,) in rows]

    def delete_client(self, client_id: str) -> None:
        self.db.execute("DELETE FROM cognito_clients WHERE id = ?", (client_id,))

    # -- domains ---------------------------------------------------------------------------------------

    def put_domain(self, domain: str, pool_id: str, config: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO cognito_domains VALUES (?, ?, ?) ON CONFLICT(domain) DO UPDATE SET config = excluded.config",
            (domain, pool_id, json.dumps(config)),
        )

    def domain(self, domain: str) -> tuple[str, dict[str, Any]] | None:
        row = self.db.one("SELECT pool_id, config FROM cognito_domains WHERE domain = ?", (domain,))
        return (row[0], json.loads(row[1])) if row else None

    def pool_domains(self, pool_id: str) -> list[tuple[str, dict[str, Any]]]:
        rows = self.db.all(
            "SELECT domain, config FROM cognito_domains WHERE pool_id = ? ORDER BY domain", (pool_id,)
        )
        return [(domain, json.loads(config)) for domain, config in rows]

    def delete_domain(self, domain: str) -> None:
        self.db.execute("DELETE FROM cognito_domains WHERE domain = ?", (domain,))

    # -- groups, resource servers, identity providers (children of a pool, by kind and name) ------------

    def put_child(self, pool_id: str, kind: str, name: str, config: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO cognito_children VALUES (?, ?, ?, ?) "
            "ON CONFLICT(pool_id, kind, name) DO UPDATE SET config = excluded.config",
            (pool_id, kind, name, json.dumps(config)),
        )

    def child(self, pool_id: str, kind: str, name: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT config FROM cognito_children WHERE pool_id = ? AND kind = ? AND name = ?",
            (pool_id, kind, name),
        )
        return json.loads(row[0]) if row else None

    def children(self, pool_id: str, kind: str, after: str | None, limit: int) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT config FROM cognito_children WHERE pool_id = ? AND kind = ? AND name > ? ORDER BY name LIMIT ?",
            (pool_id, kind, after or "", limit),
        )
        return [json.loads(config) for (config,) in rows]

    def delete_child(self, pool_id: str, kind: str, name: str) -> None:
        self.db.execute(
            "DELETE FROM cognito_children WHERE pool_id = ? AND kind = ? AND name = ?", (pool_id, kind, name)
        )

    # -- users -----------------------------------------------------------------------------------------

    def add_user(self, user: User) -> None:
        self.db.execute(
            f"INSERT INTO cognito_users ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self._user_row(user),
        )
        self._index(user)

    def save_user(self, user: User, *, reindex: bool = False) -> None:
        self.db.execute(
            "UPDATE cognito_users SET username = ?, status = ?, enabled = ?, attributes = ?, secrets = ?, "
            "settings = ?, modified = ? WHERE pool_id = ? AND key = ?",
            (
                user.username,
                user.status,
                int(user.enabled),
                json.dumps(user.attributes),
                json.dumps(user.secrets),
                json.dumps(user.settings),
                user.modified,
                user.pool_id,
                user.key,
            ),
        )
        if reindex:
            self.db.execute(
                "DELETE FROM cognito_user_attrs WHERE pool_id = ? AND key = ?", (user.pool_id, user.key)
            )
            self._index(user)

    @staticmethod
    def _user_row(user: User) -> tuple:
        return (
            user.pool_id,
            user.key,
            user.username,
            user.sub,
            user.status,
            int(user.enabled),
            json.dumps(user.attributes),
            json.dumps(user.secrets),
            json.dumps(user.settings),
            user.created,
            user.modified,
        )

    def _index(self, user: User) -> None:
        rows = [
            (user.pool_id, name, user.attributes[name], user.attributes[name].lower(), user.key)
            for name in self.INDEXED
            if user.attributes.get(name)
        ]
        if rows:
            self.db.executemany("INSERT OR IGNORE INTO cognito_user_attrs VALUES (?, ?, ?, ?, ?)", rows)

    def user(self, pool_id: str, key: str) -> User | None:
        row = self.db.one(
            f"SELECT {_USER_COLUMNS} FROM cognito_users WHERE pool_id = ? AND key = ?", (pool_id, key)
        )
        return _user(row) if row else None

    def user_by_sub(self, pool_id: str, sub: str) -> User | None:
        row = self.db.one(
            f"SELECT {_USER_COLUMNS} FROM cognito_users WHERE pool_id = ? AND sub = ?", (pool_id, sub)
        )
        return _user(row) if row else None

    def keys_with(self, pool_id: str, name: str, value: str, *, fold: bool) -> list[str]:
        """The keys of the users whose attribute `name` is `value` (compared lower-cased when `fold`)."""
        if fold:
            rows = self.db.all(
                "SELECT key FROM cognito_user_attrs WHERE pool_id = ? AND name = ? AND folded = ?",
                (pool_id, name, value.lower()),
            )
        else:
            rows = self.db.all(
                "SELECT key FROM cognito_user_attrs WHERE pool_id = ? AND name = ? AND value = ?",
                (pool_id, name, value),
            )
        return [key for (key,) in rows]

    def delete_user(self, pool_id: str, key: str) -> None:
        for table in (
            "cognito_users",
            "cognito_user_attrs",
            "cognito_members",
            "cognito_codes",
            "cognito_devices",
        ):
            self.db.execute(f"DELETE FROM {table} WHERE pool_id = ? AND key = ?", (pool_id, key))
        self.db.execute("DELETE FROM cognito_refresh_tokens WHERE pool_id = ? AND key = ?", (pool_id, key))

    def users(self, pool_id: str, after: str | None, limit: int) -> list[User]:
        rows = self.db.all(
            f"SELECT {_USER_COLUMNS} FROM cognito_users WHERE pool_id = ? AND key > ? ORDER BY key LIMIT ?",
            (pool_id, after or "", limit),
        )
        return [_user(row) for row in rows]

    def users_where(
        self, pool_id: str, column: str, value: str, prefix: bool, after: str | None, limit: int
    ) -> list[User]:
        """Users whose `column` (username, sub, status, enabled) equals or starts with `value`, by key."""
        assert column in ("username", "sub", "status", "enabled")
        test = f"{column} >= ? AND {column} < ?" if prefix else f"{column} = ?"
        args: tuple = (value, value + "\U0010ffff") if prefix else (value,)
        rows = self.db.all(
            f"SELECT {_USER_COLUMNS} FROM cognito_users WHERE pool_id = ? AND {test} AND key > ? ORDER BY key LIMIT ?",
            (pool_id, *args, after or "", limit),
        )
        return [_user(row) for row in rows]

    def users_with_attribute(
        self, pool_id: str, name: str, value: str, prefix: bool, after: str | None, limit: int
    ) -> list[User]:
        test = "a.value >= ? AND a.value < ?" if prefix else "a.value = ?"
        args: tuple = (value, value + "\U0010ffff") if prefix else (value,)
        rows = self.db.all(
            f"SELECT DISTINCT {', '.join('u.' + c.strip() for c in _USER_COLUMNS.split(','))} "
            "FROM cognito_user_attrs a JOIN cognito_users u ON u.pool_id = a.pool_id AND u.key = a.key "
            f"WHERE a.pool_id = ? AND a.name = ? AND {test} AND a.key > ? ORDER BY a.key LIMIT ?",
            (pool_id, name, *args, after or "", limit),
        )
        return [_user(row) for row in rows]

    # -- group membership --------------------------------------------------------------------------------

    def add_member(self, pool_id: str, group: str, key: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO cognito_members VALUES (?, ?, ?)", (pool_id, group, key))

    def remove_member(self, pool_id: str, group: str, key: str) -> None:
        self.db.execute(
            "DELETE FROM cognito_members WHERE pool_id = ? AND group_name = ? AND key = ?",
            (pool_id, group, key),
        )

    def groups_of(self, pool_id: str, key: str) -> list[str]:
        rows = self.db.all(
            "SELECT group_name FROM cognito_members WHERE pool_id = ? AND key = ? ORDER BY group_name",
            (pool_id, key),
        )
        return [name for (name,) in rows]

    def members(self, pool_id: str, group: str, after: str | None, limit: int) -> list[User]:
        rows = self.db.all(
            f"SELECT {', '.join('u.' + c.strip() for c in _USER_COLUMNS.split(','))} FROM cognito_members m "
            "JOIN cognito_users u ON u.pool_id = m.pool_id AND u.key = m.key "
            "WHERE m.pool_id = ? AND m.group_name = ? AND m.key > ? ORDER BY m.key LIMIT ?",
            (pool_id, group, after or "", limit),
        )
        return [_user(row) for row in rows]

    def forget_group(self, pool_id: str, group: str) -> None:
        self.db.execute("DELETE FROM cognito_members WHERE pool_id = ? AND group_name = ?", (pool_id, group))

    # -- codes -----------------------------------------------------------------------------------------

    def put_code(self, pool_id: str, key: str, purpose: str, code: str, expires: float) -> None:
        self.db.execute(
            "INSERT INTO cognito_codes VALUES (?, ?, ?, ?, ?) ON CONFLICT(pool_id, key, purpose) "
            "DO UPDATE SET code = excluded.code, expires = excluded.expires",
            (pool_id, key, purpose, code, expires),
        )

    def code(self, pool_id: str, key: str, purpose: str) -> tuple[str, float] | None:
        row = self.db.one(
            "SELECT code, expires FROM cognito_codes WHERE pool_id = ? AND key = ? AND purpose = ?",
            (pool_id, key, purpose),
        )
        return (row[0], row[1]) if row else None

    def delete_code(self, pool_id: str, key: str, purpose: str) -> None:
        self.db.execute(
            "DELETE FROM cognito_codes WHERE pool_id = ? AND key = ? AND purpose = ?", (pool_id, key, purpose)
        )

    # -- challenge sessions ------------------------------------------------------------------------------

    def put_session(
        self, session_id: str, pool_id: str, data: dict[str, Any], expires: float, now: float
    ) -> None:
        self.db.execute("DELETE FROM cognito_sessions WHERE expires < ?", (now - 3600,))
        self.db.execute(
            "INSERT INTO cognito_sessions VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data, "
            "expires = excluded.expires",
            (session_id, pool_id, json.dumps(data), expires),
        )

    def session(self, session_id: str) -> tuple[str, dict[str, Any], float] | None:
        row = self.db.one("SELECT pool_id, data, expires FROM cognito_sessions WHERE id = ?", (session_id,))
        return (row[0], json.loads(row[1]), row[2]) if row else None

    def delete_session(self, session_id: str) -> None:
        self.db.execute("DELETE FROM cognito_sessions WHERE id = ?", (session_id,))

    # -- refresh tokens ----------------------------------------------------------------------------------

    def add_refresh(
        self,
        digest: str,
        pool_id: str,
        client_id: str,
        key: str,
        origin_jti: str,
        data: dict[str, Any],
        issued: float,
        expires: float,
    ) -> None:
        if issued - self._swept > 60:  # drop expired ones at most once a minute
            self._swept = issued
            self.db.execute("DELETE FROM cognito_refresh_tokens WHERE expires < ?", (issued - REFRESH_KEPT,))
        self.db.execute(
            "INSERT INTO cognito_refresh_tokens (digest, pool_id, client_id, key, origin_jti, data, issued, expires) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (digest, pool_id, client_id, key, origin_jti, json.dumps(data), issued, expires),
        )

    def refresh(self, digest: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT pool_id, client_id, key, origin_jti, data, issued, expires, revoked "
            "FROM cognito_refresh_tokens WHERE digest = ?",
            (digest,),
        )
        if row is None:
            return None
        pool_id, client_id, key, origin_jti, data, issued, expires, revoked = row
        return {
            "pool_id": pool_id,
            "client_id": client_id,
            "key": key,
            "origin_jti": origin_jti,
            "data": json.loads(data),
            "issued": issued,
            "expires": expires,
            "revoked": bool(revoked),
        }

    def revoke_refresh(self, digest: str) -> None:
        self.db.execute("UPDATE cognito_refresh_tokens SET revoked = 1 WHERE digest = ?", (digest,))

    def origin_revoked(self, origin_jti: str) -> bool:
        row = self.db.one("SELECT revoked FROM cognito_refresh_tokens WHERE origin_jti = ?", (origin_jti,))
        return bool(row and row[0])

    def revoke_user_tokens(self, pool_id: str, key: str) -> None:
        self.db.execute(
            "UPDATE cognito_refresh_tokens SET revoked = 1 WHERE pool_id = ? AND key = ?", (pool_id, key)
        )

    # -- outbox ----------------------------------------------------------------------------------------

    def add_message(self, message: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO cognito_outbox (account, region, pool_id, username, channel, destination, purpose, subject, "
            "message, code, created) VALUES (:account, :region, :pool_id, :username, :channel, :destination, "
            ":purpose, :subject, :message, :code, :created)",
            message,
        )

    def messages(self, pool_id: str | None, after: int, limit: int) -> Iterator[dict[str, Any]]:
        columns = "id, account, region, pool_id, username, channel, destination, purpose, subject, message, code, created"
        if pool_id:
            cursor = self.db.execute(
                f"SELECT {columns} FROM cognito_outbox WHERE pool_id = ? AND id > ? ORDER BY id LIMIT ?",
                (pool_id, after, limit),
            )
        else:
            cursor = self.db.execute(
                f"SELECT {columns} FROM cognito_outbox WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
            )
        names = [name.strip() for name in columns.split(",")]
        for row in cursor:
            yield dict(zip(names, row, strict=True))

    def clear_messages(self) -> None:
        self.db.execute("DELETE FROM cognito_outbox")

    # -- devices ---------------------------------------------------------------------------------------

    def put_device(self, pool_id: str, key: str, device_key: str, data: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO cognito_devices VALUES (?, ?, ?, ?) ON CONFLICT(pool_id, key, device_key) "
            "DO UPDATE SET data = excluded.data",
            (pool_id, key, device_key, json.dumps(data)),
        )

    def device(self, pool_id: str, key: str, device_key: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT data FROM cognito_devices WHERE pool_id = ? AND key = ? AND device_key = ?",
            (pool_id, key, device_key),
        )
        return json.loads(row[0]) if row else None

    def devices(self, pool_id: str, key: str, after: str | None, limit: int) -> list[dict[str, Any]]:
        rows = self.db.all(
            "SELECT data FROM cognito_devices WHERE pool_id = ? AND key = ? AND device_key > ? "
            "ORDER BY device_key LIMIT ?",
            (pool_id, key, after or "", limit),
        )
        return [json.loads(data) for (data,) in rows]

    def delete_device(self, pool_id: str, key: str, device_key: str) -> None:
        self.db.execute(
            "DELETE FROM cognito_devices WHERE pool_id = ? AND key = ? AND device_key = ?",
            (pool_id, key, device_key),
        )
