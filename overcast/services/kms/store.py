"""KMS's tables and every SQL statement of the service."""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE kms_keys (
        account TEXT NOT NULL, region TEXT NOT NULL, key_id TEXT NOT NULL,
        description TEXT NOT NULL, usage TEXT NOT NULL, spec TEXT NOT NULL, origin TEXT NOT NULL,
        manager TEXT NOT NULL, state TEXT NOT NULL, created REAL NOT NULL,
        deletion_date REAL, pending_window INTEGER,
        valid_to REAL, expiration_model TEXT,
        multi_region INTEGER NOT NULL, primary_region TEXT,
        rotation_period INTEGER, next_rotation REAL,
        policy TEXT NOT NULL, generation INTEGER NOT NULL,
        PRIMARY KEY (account, region, key_id)
    ) WITHOUT ROWID;
    CREATE INDEX kms_keys_deletion ON kms_keys (deletion_date) WHERE deletion_date IS NOT NULL;
    CREATE INDEX kms_keys_rotation ON kms_keys (next_rotation) WHERE next_rotation IS NOT NULL;
    CREATE INDEX kms_keys_expiry ON kms_keys (valid_to) WHERE valid_to IS NOT NULL;
    CREATE INDEX kms_keys_by_id ON kms_keys (account, key_id);

    CREATE TABLE kms_materials (
        account TEXT NOT NULL, key_id TEXT NOT NULL, generation INTEGER NOT NULL,
        material_id TEXT NOT NULL, wrapped BLOB NOT NULL, public_key BLOB,
        created REAL NOT NULL, rotation_type TEXT,
        PRIMARY KEY (account, key_id, generation)
    ) WITHOUT ROWID;

    CREATE TABLE kms_aliases (
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, key_id TEXT NOT NULL,
        created REAL NOT NULL, updated REAL NOT NULL,
        PRIMARY KEY (account, region, name)
    ) WITHOUT ROWID;
    CREATE INDEX kms_aliases_key ON kms_aliases (account, region, key_id);

    CREATE TABLE kms_grants (
        grant_id TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, key_id TEXT NOT NULL,
        name TEXT, grantee TEXT NOT NULL, retiring TEXT, issuing_account TEXT NOT NULL,
        operations TEXT NOT NULL, constraints TEXT, created REAL NOT NULL, token TEXT NOT NULL
    );
    CREATE INDEX kms_grants_key ON kms_grants (account, region, key_id, grant_id);

    CREATE TABLE kms_imports (
        account TEXT NOT NULL, region TEXT NOT NULL, key_id TEXT NOT NULL, token TEXT NOT NULL,
        wrapping_key BLOB NOT NULL, algorithm TEXT NOT NULL, expires REAL NOT NULL,
        PRIMARY KEY (account, region, key_id)
    ) WITHOUT ROWID;
    """
]

_KEY_COLUMNS = (
    "account, region, key_id, description, usage, spec, origin, manager, state, created, deletion_date, "
    "pending_window, valid_to, expiration_model, multi_region, primary_region, rotation_period, "
    "next_rotation, policy, generation"
)


@dataclass
class Key:
    account: str
    region: str
    key_id: str
    description: str
    usage: str
    spec: str
    origin: str
    manager: str  # CUSTOMER | AWS
    state: str
    created: float
    deletion_date: float | None = None
    pending_window: int | None = None
    valid_to: float | None = None
    expiration_model: str | None = None
    multi_region: bool = False
    primary_region: str | None = None
    rotation_period: int | None = None  # days, when automatic rotation is on
    next_rotation: float | None = None
    policy: str = ""
    generation: int = 0  # the current key material's generation (0: none yet, as an import awaits)

    @property
    def arn(self) -> str:
        return f"arn:aws:kms:{self.region}:{self.account}:key/{self.key_id}"

    def row(self) -> tuple:
        return (
            self.account,
            self.region,
            self.key_id,
            self.description,
            self.usage,
            self.spec,
            self.origin,
            self.manager,
            self.state,
            self.created,
            self.deletion_date,
            self.pending_window,
            self.valid_to,
            self.expiration_model,
            int(self.multi_region),
            self.primary_region,
            self.rotation_period,
            self.next_rotation,
            self.policy,
            self.generation,
        )


def _key(row: tuple | None) -> Key | None:
    if row is None:
        return None
    key = Key(*row)
    key.multi_region = bool(key.multi_region)
    return key


@dataclass
class Material:
    generation: int
    material_id: str
    wrapped: bytes
    public_key: bytes | None
    created: float
    rotation_type: str | None


@dataclass
class Grant:
    grant_id: str
    account: str
    region: str
    key_id: str
    name: str | None
    grantee: str
    retiring: str | None
    issuing_account: str
    operations: list[str]
    constraints: dict[str, Any] | None
    created: float
    token: str = field(repr=False, default="")


def _grant(row: tuple) -> Grant:
    values = list(row)
    values[8] = json.loads(values[8])
    values[9] = json.loads(values[9]) if values[9] else None
    return Grant(*values)


KEY_ROWS_CACHED = 1024


class KmsStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("kms", MIGRATIONS)
        # Key rows as last read (every Encrypt/Decrypt reads its key): a bounded LRU of immutable rows. Every
        # write of a key drops its row, again if the write rolls back, so a row here is always the stored one.
        self._key_rows: OrderedDict[tuple[str, str, str], tuple] = OrderedDict()

    # -- keys ---------------------------------------------------------------------------------------

    def key(self, account: str, region: str, key_id: str) -> Key | None:
        """A fresh Key each call (callers change theirs before put_key), from the cached row when there is one."""
        rows, where = self._key_rows, (account, region, key_id)
        row = rows.get(where)
        if row is None:
            row = self.db.one(
                f"SELECT {_KEY_COLUMNS} FROM kms_keys WHERE account = ? AND region = ? AND key_id = ?", where
            )
            if row is None:
                return None
            rows[where] = row
            if len(rows) > KEY_ROWS_CACHED:
                rows.popitem(last=False)
        else:
            rows.move_to_end(where)
        return _key(row)

    def _forget_key(self, account: str, region: str, key_id: str) -> None:
        where = (account, region, key_id)
        self._key_rows.pop(where, None)
        self.db.after_rollback(lambda: self._key_rows.pop(where, None))

    def forget_keys(self) -> None:
        """After `overcast reset` emptied the tables."""
        self._key_rows.clear()

    def put_key(self, key: Key) -> None:
        self._forget_key(key.account, key.region, key.key_id)
        self.db.execute(
            f"INSERT OR REPLACE INTO kms_keys ({_KEY_COLUMNS}) VALUES ({', '.join('?' * 20)})", key.row()
        )

    def delete_key(self, key: Key) -> None:
        self._forget_key(key.account, key.region, key.key_id)
        self.db.execute(
            "DELETE FROM kms_keys WHERE account = ? AND region = ? AND key_id = ?",
            (key.account, key.region, key.key_id),
        )
        self.db.execute(
            "DELETE FROM kms_aliases WHERE account = ? AND region = ? AND key_id = ?",
            (key.account, key.region, key.key_id),
        )
        self.db.execute(
            "DELETE FROM kms_grants WHERE account = ? AND region = ? AND key_id = ?",
            (key.account, key.region, key.key_id),
        )
        self.db.execute(
            "DELETE FROM kms_imports WHERE account = ? AND region = ? AND key_id = ?",
            (key.account, key.region, key.key_id),
        )
        if not self.db.one(
            "SELECT 1 FROM kms_keys WHERE account = ? AND key_id = ?", (key.account, key.key_id)
        ):
            self.delete_materials(key.account, key.key_id)  # no replica shares the material any more

    def keys_after(self, account: str, region: str, after: str, limit: int) -> list[Key]:
        rows = self.db.all(
            f"SELECT {_KEY_COLUMNS} FROM kms_keys WHERE account = ? AND region = ? AND key_id > ? "
            "ORDER BY key_id LIMIT ?",
            (account, region, after, limit),
        )
        return [_key(row) for row in rows]  # type: ignore[misc]

    def replicas(self, account: str, key_id: str) -> list[Key]:
        rows = self.db.all(
            f"SELECT {_KEY_COLUMNS} FROM kms_keys WHERE account = ? AND key_id = ? ORDER BY region",
            (account, key_id),
        )
        return [_key(row) for row in rows]  # type: ignore[misc]

    def earliest(self, column: str) -> float | None:
        """The soonest due time of a timed change (deletion_date, next_rotation, valid_to)."""
        assert column in ("deletion_date", "next_rotation", "valid_to")
        row = self.db.one(f"SELECT MIN({column}) FROM kms_keys WHERE {column} IS NOT NULL")
        return row[0] if row else None

    def due(self, column: str, now: float, limit: int = 100) -> list[Key]:
        assert column in ("deletion_date", "next_rotation", "valid_to")
        rows = self.db.all(
            f"SELECT {_KEY_COLUMNS} FROM kms_keys WHERE {column} <= ? ORDER BY {column} LIMIT ?", (now, limit)
        )
        return [_key(row) for row in rows]  # type: ignore[misc]

    def managed_key(self, account: str, region: str, alias: str) -> Key | None:
        row = self.db.one(
            "SELECT key_id FROM kms_aliases WHERE account = ? AND region = ? AND name = ?",
            (account, region, alias),
        )
        return self.key(account, region, row[0]) if row else None

    # -- key material --------------------------------------------------------------------------------

    def add_material(self, account: str, key_id: str, material: Material) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO kms_materials VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                account,
                key_id,
                material.generation,
                material.material_id,
                material.wrapped,
                material.public_key,
                material.created,
                material.rotation_type,
            ),
        )

    def material(self, account: str, key_id: str, generation: int) -> Material | None:
        row = self.db.one(
            "SELECT generation, material_id, wrapped, public_key, created, rotation_type FROM kms_materials "
            "WHERE account = ? AND key_id = ? AND generation = ?",
            (account, key_id, generation),
        )
        return Material(*row) if row else None

    def rotations(self, account: str, key_id: str, after: int, limit: int) -> list[Material]:
        """The key's rotations (every generation after the first), oldest first."""
        rows = self.db.all(
            "SELECT generation, material_id, wrapped, public_key, created, rotation_type FROM kms_materials "
            "WHERE account = ? AND key_id = ? AND generation > ? AND rotation_type IS NOT NULL "
            "ORDER BY generation LIMIT ?",
            (account, key_id, after, limit),
        )
        return [Material(*row) for row in rows]

    def delete_materials(self, account: str, key_id: str) -> None:
        self.db.execute("DELETE FROM kms_materials WHERE account = ? AND key_id = ?", (account, key_id))

    # -- aliases -------------------------------------------------------------------------------------

    def alias(self, account: str, region: str, name: str) -> tuple[str, float, float] | None:
        row = self.db.one(
            "SELECT key_id, created, updated FROM kms_aliases WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return (row[0], row[1], row[2]) if row else None

    def put_alias(self, account: str, region: str, name: str, key_id: str, now: float) -> None:
        self.db.execute(
            "INSERT INTO kms_aliases VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, name) "
            "DO UPDATE SET key_id = excluded.key_id, updated = excluded.updated",
            (account, region, name, key_id, now, now),
        )

    def delete_alias(self, account: str, region: str, name: str) -> None:
        self.db.execute(
            "DELETE FROM kms_aliases WHERE account = ? AND region = ? AND name = ?", (account, region, name)
        )

    def aliases_after(
        self, account: str, region: str, key_id: str | None, after: str, limit: int
    ) -> list[tuple[str, str, float, float]]:
        if key_id is None:
            return self.db.all(
                "SELECT name, key_id, created, updated FROM kms_aliases WHERE account = ? AND region = ? "
                "AND name > ? ORDER BY name LIMIT ?",
                (account, region, after, limit),
            )
        return self.db.all(
            "SELECT name, key_id, created, updated FROM kms_aliases WHERE account = ? AND region = ? "
            "AND key_id = ? AND name > ? ORDER BY name LIMIT ?",
            (account, region, key_id, after, limit),
        )

    def alias_count(self, account: str, region: str, key_id: str) -> int:
        row = self.db.one(
            "SELECT COUNT(*) FROM kms_aliases WHERE account = ? AND region = ? AND key_id = ?",
            (account, region, key_id),
        )
        return row[0] if row else 0

    # -- grants --------------------------------------------------------------------------------------

    def add_grant(self, grant: Grant) -> None:
        self.db.execute(
            "INSERT INTO kms_grants VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                grant.grant_id,
                grant.account,
                grant.region,
                grant.key_id,
                grant.name,
                grant.grantee,
                grant.retiring,
                grant.issuing_account,
                json.dumps(grant.operations),
                json.dumps(grant.constraints) if grant.constraints else None,
                grant.created,
                grant.token,
            ),
        )

    def grant(self, grant_id: str) -> Grant | None:
        row = self.db.one("SELECT * FROM kms_grants WHERE grant_id = ?", (grant_id,))
        return _grant(row) if row else None

    def grant_by_token(self, token: str) -> Grant | None:
        row = self.db.one("SELECT * FROM kms_grants WHERE token = ?", (token,))
        return _grant(row) if row else None

    def grant_named(self, account: str, region: str, key_id: str, name: str) -> Grant | None:
        row = self.db.one(
            "SELECT * FROM kms_grants WHERE account = ? AND region = ? AND key_id = ? AND name = ?",
            (account, region, key_id, name),
        )
        return _grant(row) if row else None

    def grants(self, account: str, region: str, key_id: str) -> list[Grant]:
        rows = self.db.all(
            "SELECT * FROM kms_grants WHERE account = ? AND region = ? AND key_id = ? ORDER BY created, grant_id",
            (account, region, key_id),
        )
        return [_grant(row) for row in rows]

    def retirable_grants(self, retiring: str) -> list[Grant]:
        rows = self.db.all(
            "SELECT * FROM kms_grants WHERE retiring = ? ORDER BY created, grant_id", (retiring,)
        )
        return [_grant(row) for row in rows]

    def delete_grant(self, grant_id: str) -> None:
        self.db.execute("DELETE FROM kms_grants WHERE grant_id = ?", (grant_id,))

    # -- imports -------------------------------------------------------------------------------------

    def put_import(self, key: Key, token: str, wrapping_key: bytes, algorithm: str, expires: float) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO kms_imports VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key.account, key.region, key.key_id, token, wrapping_key, algorithm, expires),
        )

    def pending_import(self, key: Key) -> tuple[str, bytes, str, float] | None:
        row = self.db.one(
            "SELECT token, wrapping_key, algorithm, expires FROM kms_imports WHERE account = ? AND region = ? "
            "AND key_id = ?",
            (key.account, key.region, key.key_id),
        )
        return (row[0], row[1], row[2], row[3]) if row else None

    def forget_material(self, account: str, key_id: str) -> None:
        """Imported material deleted or expired: only its fingerprint (material_id) stays, to check a re-import."""
        self.db.execute(
            "UPDATE kms_materials SET wrapped = x'' WHERE account = ? AND key_id = ?", (account, key_id)
        )
