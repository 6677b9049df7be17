"""Secrets Manager's tables and every SQL statement of the service."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from overcast.services.kit.cache import StoredRows
from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE sm_secrets (
        arn TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
        description TEXT, kms_key_id TEXT, created REAL NOT NULL, last_changed REAL NOT NULL,
        last_accessed REAL, deleted_date REAL, policy TEXT,
        rotation_lambda TEXT, rotation_rules TEXT, rotation_enabled INTEGER NOT NULL DEFAULT 0,
        next_rotation REAL, last_rotated REAL, owning_service TEXT, primary_region TEXT
    );
    CREATE UNIQUE INDEX sm_secrets_name ON sm_secrets (account, region, name);
    CREATE INDEX sm_secrets_deleted ON sm_secrets (deleted_date) WHERE deleted_date IS NOT NULL;
    CREATE INDEX sm_secrets_rotation ON sm_secrets (next_rotation) WHERE next_rotation IS NOT NULL;

    CREATE TABLE sm_versions (
        arn TEXT NOT NULL, version_id TEXT NOT NULL, created REAL NOT NULL, kind TEXT,
        data_key BLOB, sealed BLOB, kms_key_arn TEXT, last_accessed REAL, position INTEGER NOT NULL,
        PRIMARY KEY (arn, version_id)
    ) WITHOUT ROWID;
    CREATE INDEX sm_versions_order ON sm_versions (arn, position);

    CREATE TABLE sm_stages (
        arn TEXT NOT NULL, label TEXT NOT NULL, version_id TEXT NOT NULL,
        PRIMARY KEY (arn, label)
    ) WITHOUT ROWID;
    CREATE INDEX sm_stages_version ON sm_stages (arn, version_id);

    CREATE TABLE sm_replicas (
        arn TEXT NOT NULL, region TEXT NOT NULL, kms_key_id TEXT, status TEXT NOT NULL, message TEXT,
        PRIMARY KEY (arn, region)
    ) WITHOUT ROWID;

    CREATE TABLE sm_rotations (
        arn TEXT PRIMARY KEY, token TEXT NOT NULL, step TEXT NOT NULL, started REAL NOT NULL,
        principal TEXT NOT NULL
    );
    """
]

_SECRET_COLUMNS = (
    "arn, account, region, name, description, kms_key_id, created, last_changed, last_accessed, deleted_date, "
    "policy, rotation_lambda, rotation_rules, rotation_enabled, next_rotation, last_rotated, owning_service, "
    "primary_region"
)


@dataclass
class Secret:
    arn: str
    account: str
    region: str
    name: str
    description: str | None
    kms_key_id: str | None
    created: float
    last_changed: float
    last_accessed: float | None = None
    deleted_date: float | None = None
    policy: str | None = None
    rotation_lambda: str | None = None
    rotation_rules: dict[str, Any] | None = None
    rotation_enabled: bool = False
    next_rotation: float | None = None
    last_rotated: float | None = None
    owning_service: str | None = None
    primary_region: str | None = None  # a replica's primary Region

    def row(self) -> tuple:
        return (
            self.arn,
            self.account,
            self.region,
            self.name,
            self.description,
            self.kms_key_id,
            self.created,
            self.last_changed,
            self.last_accessed,
            self.deleted_date,
            self.policy,
            self.rotation_lambda,
            json.dumps(self.rotation_rules) if self.rotation_rules else None,
            int(self.rotation_enabled),
            self.next_rotation,
            self.last_rotated,
            self.owning_service,
            self.primary_region,
        )


def _secret(row: tuple | None) -> Secret | None:
    if row is None:
        return None
    secret = Secret(*row)
    secret.rotation_rules = json.loads(row[12]) if row[12] else None
    secret.rotation_enabled = bool(row[13])
    return secret


@dataclass
class Version:
    version_id: str
    created: float
    kind: str | None  # "string" | "binary" | None (a version made by RotateSecret, before its value is put)
    data_key: bytes | None
    sealed: bytes | None
    kms_key_arn: str | None
    last_accessed: float | None


VALUE_BYTES_CACHED = 4096  # a version row is remembered only when its sealed value is this small


class SecretsStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("secretsmanager", MIGRATIONS)
        # Every GetSecretValue reads its secret and its version: their rows as last read (kit/cache.py)
        self._secrets = StoredRows(db)  # ("arn", arn) | ("name", account, region, name) -> sm_secrets row
        self._versions = StoredRows(db)  # (arn, version id, label) -> version_with_labels' row

    def forget(self) -> None:
        """After `overcast reset` emptied the tables."""
        self._secrets.forget()
        self._versions.forget()

    def _secret_row(self, where: tuple, sql: str, params: tuple) -> Secret | None:
        return _secret(self._secrets.read(where, lambda: self.db.one(sql, params)))

    # -- secrets -------------------------------------------------------------------------------------

    def secret_by_name(self, account: str, region: str, name: str) -> Secret | None:
        """A fresh Secret each call (callers change theirs before put_secret), from a cached row when there is one."""
        return self._secret_row(
            ("name", account, region, name),
            f"SELECT {_SECRET_COLUMNS} FROM sm_secrets WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )

    def secret_by_arn(self, arn: str) -> Secret | None:
        return self._secret_row(
            ("arn", arn), f"SELECT {_SECRET_COLUMNS} FROM sm_secrets WHERE arn = ?", (arn,)
        )

    def put_secret(self, secret: Secret) -> None:
        self._secrets.forget()
        self.db.execute(
            f"INSERT OR REPLACE INTO sm_secrets ({_SECRET_COLUMNS}) VALUES ({', '.join('?' * 18)})",
            secret.row(),
        )

    def purge(self, arn: str) -> None:
        self.forget()
        for table in ("sm_stages", "sm_versions", "sm_rotations", "sm_replicas", "sm_secrets"):
            self.db.execute(f"DELETE FROM {table} WHERE arn = ?", (arn,))

    def secrets_after(
        self, account: str, region: str, after: str, limit: int, descending: bool
    ) -> list[Secret]:
        order, compare = ("DESC", "<") if descending else ("ASC", ">")
        if descending and not after:
            after, compare = "\uffff", "<"
        rows = self.db.all(
            f"SELECT {_SECRET_COLUMNS} FROM sm_secrets WHERE account = ? AND region = ? AND name {compare} ? "
            f"ORDER BY name {order} LIMIT ?",
            (account, region, after, limit),
        )
        return [_secret(row) for row in rows]  # type: ignore[misc]

    def due(self, column: str, now: float, limit: int = 50) -> list[Secret]:
        assert column in ("deleted_date", "next_rotation")
        rows = self.db.all(
            f"SELECT {_SECRET_COLUMNS} FROM sm_secrets WHERE {column} <= ? ORDER BY {column} LIMIT ?",
            (now, limit),
        )
        return [_secret(row) for row in rows]  # type: ignore[misc]

    def earliest(self, column: str) -> float | None:
        assert column in ("deleted_date", "next_rotation")
        row = self.db.one(f"SELECT MIN({column}) FROM sm_secrets")
        return row[0] if row else None

    # -- versions and stages -------------------------------------------------------------------------

    def version(self, arn: str, version_id: str) -> Version | None:
        row = self.db.one(
            "SELECT version_id, created, kind, data_key, sealed, kms_key_arn, last_accessed FROM sm_versions "
            "WHERE arn = ? AND version_id = ?",
            (arn, version_id),
        )
        return Version(*row) if row else None

    def put_version(self, arn: str, version: Version) -> None:
        self._versions.forget()
        position = self.db.one(
            "SELECT COALESCE((SELECT position FROM sm_versions WHERE arn = ? AND version_id = ?), "
            "(SELECT COALESCE(MAX(position), 0) + 1 FROM sm_versions WHERE arn = ?))",
            (arn, version.version_id, arn),
        )[0]
        self.db.execute(
            "INSERT OR REPLACE INTO sm_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                arn,
                version.version_id,
                version.created,
                version.kind,
                version.data_key,
                version.sealed,
                version.kms_key_arn,
                version.last_accessed,
                position,
            ),
        )

    def touch_version(self, arn: str, version_id: str, day: float) -> None:
        self._versions.forget()
        self.db.execute(
            "UPDATE sm_versions SET last_accessed = ? WHERE arn = ? AND version_id = ?",
            (day, arn, version_id),
        )

    def versions(self, arn: str) -> list[Version]:
        rows = self.db.all(
            "SELECT version_id, created, kind, data_key, sealed, kms_key_arn, last_accessed FROM sm_versions "
            "WHERE arn = ? ORDER BY position DESC",
            (arn,),
        )
        return [Version(*row) for row in rows]

    def delete_version(self, arn: str, version_id: str) -> None:
        self._versions.forget()
        self.db.execute("DELETE FROM sm_versions WHERE arn = ? AND version_id = ?", (arn, version_id))

    def stages(self, arn: str) -> dict[str, list[str]]:
        """{version id: [labels]} of the versions that carry labels."""
        found: dict[str, list[str]] = {}
        for label, version_id in self.db.all(
            "SELECT label, version_id FROM sm_stages WHERE arn = ? ORDER BY label", (arn,)
        ):
            found.setdefault(version_id, []).append(label)
        return found

    def stage(self, arn: str, label: str) -> str | None:
        row = self.db.one("SELECT version_id FROM sm_stages WHERE arn = ? AND label = ?", (arn, label))
        return row[0] if row else None

    def version_with_labels(
        self, arn: str, version_id: str | None, stage: str | None = None
    ) -> tuple[Version, list[str]] | None:
        """A version (by id, or the one a label is on) and its labels, in one query (GetSecretValue's path)."""
        chosen = (
            "?"
            if version_id is not None
            else "(SELECT version_id FROM sm_stages WHERE arn = ? AND label = ?)"
        )
        row = self._versions.read(
            (arn, version_id, stage),
            lambda: self.db.one(
                "SELECT version_id, created, kind, data_key, sealed, kms_key_arn, last_accessed, "
                "(SELECT GROUP_CONCAT(label, char(0)) FROM (SELECT label FROM sm_stages s WHERE s.arn = v.arn "
                f"AND s.version_id = v.version_id ORDER BY label)) FROM sm_versions v WHERE arn = ? AND version_id = {chosen}",
                (arn, version_id) if version_id is not None else (arn, arn, stage),
            ),
            lambda row: row[4] is None or len(row[4]) <= VALUE_BYTES_CACHED,
        )
        if row is None:
            return None
        return Version(*row[:7]), row[7].split("\0") if row[7] else []

    def labels_of(self, arn: str, version_id: str) -> list[str]:
        return [
            label
            for (label,) in self.db.all(
                "SELECT label FROM sm_stages WHERE arn = ? AND version_id = ? ORDER BY label",
                (arn, version_id),
            )
        ]

    def set_stage(self, arn: str, label: str, version_id: str) -> None:
        self._versions.forget()
        self.db.execute(
            "INSERT INTO sm_stages VALUES (?, ?, ?) ON CONFLICT (arn, label) DO UPDATE SET version_id = "
            "excluded.version_id",
            (arn, label, version_id),
        )

    def remove_stage(self, arn: str, label: str) -> None:
        self._versions.forget()
        self.db.execute("DELETE FROM sm_stages WHERE arn = ? AND label = ?", (arn, label))

    def clear_stages(self, arn: str) -> None:
        self._versions.forget()
        self.db.execute("DELETE FROM sm_stages WHERE arn = ?", (arn,))

    # -- replicas ------------------------------------------------------------------------------------

    def replicas(self, arn: str) -> list[tuple[str, str | None, str, str | None]]:
        """(region, KMS key id, status, message) of a primary secret's replicas."""
        return self.db.all(
            "SELECT region, kms_key_id, status, message FROM sm_replicas WHERE arn = ? ORDER BY region",
            (arn,),
        )

    def put_replica(
        self, arn: str, region: str, kms_key_id: str | None, status: str, message: str | None
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO sm_replicas VALUES (?, ?, ?, ?, ?)",
            (arn, region, kms_key_id, status, message),
        )

    def remove_replica(self, arn: str, region: str) -> None:
        self.db.execute("DELETE FROM sm_replicas WHERE arn = ? AND region = ?", (arn, region))

    # -- rotations in progress -----------------------------------------------------------------------

    def start_rotation(self, arn: str, token: str, now: float, principal: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO sm_rotations VALUES (?, ?, 'createSecret', ?, ?)",
            (arn, token, now, principal),
        )

    def rotation(self, arn: str) -> tuple[str, str, str] | None:
        row = self.db.one("SELECT token, step, principal FROM sm_rotations WHERE arn = ?", (arn,))
        return (row[0], row[1], row[2]) if row else None

    def set_rotation_step(self, arn: str, step: str) -> None:
        self.db.execute("UPDATE sm_rotations SET step = ? WHERE arn = ?", (step, arn))

    def end_rotation(self, arn: str) -> None:
        self.db.execute("DELETE FROM sm_rotations WHERE arn = ?", (arn,))

    def rotations_in_progress(self) -> list[str]:
        return [arn for (arn,) in self.db.all("SELECT arn FROM sm_rotations ORDER BY started")]
