"""IAM's tables. IAM is global: every row is scoped by account only.

Named entities (users, groups, roles, managed policies, instance profiles, OIDC providers) share one table keyed
by (account, kind, lower-cased name), since IAM names are unique case-insensitively within a kind; what differs
per kind lives in the JSON `data` column. Listing by path prefix and paging by name use the (account, kind,
name_key) order, so every hot lookup is an index seek. Tags are the kit's (services/kit/tags.py, by ARN):
iam_tags keeps only what versions before that wrote, until the provider moves it at start-up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE iam_entities (
        account TEXT NOT NULL, kind TEXT NOT NULL, name_key TEXT NOT NULL, name TEXT NOT NULL,
        id TEXT NOT NULL, path TEXT NOT NULL, arn TEXT NOT NULL, created REAL NOT NULL,
        data TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (account, kind, name_key)
    );
    CREATE UNIQUE INDEX iam_entities_id ON iam_entities (id);
    CREATE INDEX iam_entities_arn ON iam_entities (arn);
    CREATE TABLE iam_members (
        account TEXT NOT NULL, group_key TEXT NOT NULL, user_key TEXT NOT NULL,
        PRIMARY KEY (account, group_key, user_key)
    );
    CREATE INDEX iam_members_user ON iam_members (account, user_key);
    CREATE TABLE iam_inline (
        account TEXT NOT NULL, kind TEXT NOT NULL, owner_key TEXT NOT NULL, name_key TEXT NOT NULL,
        name TEXT NOT NULL, document TEXT NOT NULL,
        PRIMARY KEY (account, kind, owner_key, name_key)
    );
    CREATE TABLE iam_attached (
        account TEXT NOT NULL, kind TEXT NOT NULL, owner_key TEXT NOT NULL, policy_arn TEXT NOT NULL,
        PRIMARY KEY (account, kind, owner_key, policy_arn)
    );
    CREATE INDEX iam_attached_policy ON iam_attached (account, policy_arn);
    CREATE TABLE iam_policy_versions (
        account TEXT NOT NULL, policy_key TEXT NOT NULL, version INTEGER NOT NULL, document TEXT NOT NULL,
        created REAL NOT NULL,
        PRIMARY KEY (account, policy_key, version)
    );
    CREATE TABLE iam_tags (
        account TEXT NOT NULL, kind TEXT NOT NULL, owner_key TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (account, kind, owner_key, key)
    );
    CREATE TABLE iam_access_keys (
        key_id TEXT PRIMARY KEY, account TEXT NOT NULL, user_key TEXT NOT NULL, secret TEXT NOT NULL,
        status TEXT NOT NULL, created REAL NOT NULL, last_used REAL, last_service TEXT, last_region TEXT
    );
    CREATE INDEX iam_access_keys_user ON iam_access_keys (account, user_key);
    CREATE TABLE iam_login_profiles (
        account TEXT NOT NULL, user_key TEXT NOT NULL, password_hash TEXT NOT NULL, reset_required INTEGER NOT NULL,
        created REAL NOT NULL,
        PRIMARY KEY (account, user_key)
    );
    CREATE TABLE iam_profile_roles (
        account TEXT NOT NULL, profile_key TEXT NOT NULL, role_key TEXT NOT NULL,
        PRIMARY KEY (account, profile_key, role_key)
    );
    CREATE INDEX iam_profile_roles_role ON iam_profile_roles (account, role_key);
    CREATE TABLE iam_mfa_devices (
        serial TEXT PRIMARY KEY, account TEXT NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL, seed TEXT NOT NULL,
        user_key TEXT, enabled REAL, created REAL NOT NULL, last_counter INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX iam_mfa_devices_user ON iam_mfa_devices (account, user_key);
    CREATE TABLE iam_accounts (
        account TEXT PRIMARY KEY, alias TEXT, password_policy TEXT, report TEXT, report_time REAL
    );
    CREATE UNIQUE INDEX iam_accounts_alias ON iam_accounts (alias);
    """,
    """
    CREATE TABLE iam_service_access (
        account TEXT NOT NULL, entity_arn TEXT NOT NULL, namespace TEXT NOT NULL, last REAL NOT NULL,
        region TEXT NOT NULL,
        PRIMARY KEY (account, entity_arn, namespace)
    );
    CREATE TABLE iam_access_jobs (
        job_id TEXT PRIMARY KEY, account TEXT NOT NULL, arn TEXT NOT NULL, created REAL NOT NULL,
        snapshot TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE iam_org_features (
        org_id TEXT NOT NULL, feature TEXT NOT NULL, PRIMARY KEY (org_id, feature)
    );
    """,
    "ALTER TABLE iam_accounts ADD COLUMN token_version INTEGER;",
]


@dataclass
class Entity:
    account: str
    kind: str
    name: str
    id: str
    path: str
    arn: str
    created: float
    data: dict[str, Any]

    @property
    def key(self) -> str:
        return self.name.lower()


_COLUMNS = "account, kind, name, id, path, arn, created, data"


def _entity(row: tuple | None) -> Entity | None:
    if row is None:
        return None
    account, kind, name, id_, path, arn, created, data = row
    return Entity(account, kind, name, id_, path, arn, created, json.loads(data))


class IamStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("iam", MIGRATIONS)

    # -- centralized root access (per organization) ----------------------------------------------------------

    def org_features(self, org_id: str) -> set[str]:
        rows = self.db.all("SELECT feature FROM iam_org_features WHERE org_id = ?", (org_id,))
        return {feature for (feature,) in rows}

    def set_org_feature(self, org_id: str, feature: str, enabled: bool) -> None:
        if enabled:
            self.db.execute("INSERT OR IGNORE INTO iam_org_features VALUES (?, ?)", (org_id, feature))
        else:
            self.db.execute(
                "DELETE FROM iam_org_features WHERE org_id = ? AND feature = ?", (org_id, feature)
            )

    # -- entities ------------------------------------------------------------------------------------------

    def get(self, account: str, kind: str, name: str) -> Entity | None:
        return _entity(
            self.db.one(
                f"SELECT {_COLUMNS} FROM iam_entities WHERE account = ? AND kind = ? AND name_key = ?",
                (account, kind, name.lower()),
            )
        )

    def by_arn(self, arn: str) -> Entity | None:
        return _entity(self.db.one(f"SELECT {_COLUMNS} FROM iam_entities WHERE arn = ?", (arn,)))

    def by_id(self, entity_id: str) -> Entity | None:
        return _entity(self.db.one(f"SELECT {_COLUMNS} FROM iam_entities WHERE id = ?", (entity_id,)))

    def insert(self, entity: Entity) -> None:
        self.db.execute(
            "INSERT INTO iam_entities (account, kind, name_key, name, id, path, arn, created, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entity.account,
                entity.kind,
                entity.key,
                entity.name,
                entity.id,
                entity.path,
                entity.arn,
                entity.created,
                json.dumps(entity.data),
            ),
        )

    def update(self, entity: Entity, old_key: str | None = None) -> None:
        self.db.execute(
            "UPDATE iam_entities SET name_key = ?, name = ?, path = ?, arn = ?, data = ? "
            "WHERE account = ? AND kind = ? AND name_key = ?",
            (
                entity.key,
                entity.name,
                entity.path,
                entity.arn,
                json.dumps(entity.data),
                entity.account,
                entity.kind,
                old_key or entity.key,
            ),
        )

    def delete(self, entity: Entity) -> None:
        self.db.execute(
            "DELETE FROM iam_entities WHERE account = ? AND kind = ? AND name_key = ?",
            (entity.account, entity.kind, entity.key),
        )

    def rename_owner(self, account: str, kind: str, old_key: str, new_key: str) -> None:
        """What a user or group owns (policies, keys, memberships, devices) follows it to a new name."""
        args = (new_key, account, kind, old_key)
        for table in ("iam_inline", "iam_attached"):
            self.db.execute(
                f"UPDATE {table} SET owner_key = ? WHERE account = ? AND kind = ? AND owner_key = ?", args
            )
        if kind == "user":
            for table in ("iam_members", "iam_access_keys", "iam_login_profiles", "iam_mfa_devices"):
                self.db.execute(
                    f"UPDATE {table} SET user_key = ? WHERE account = ? AND user_key = ?",
                    (new_key, account, old_key),
                )
        if kind == "group":
            self.db.execute(
                "UPDATE iam_members SET group_key = ? WHERE account = ? AND group_key = ?",
                (new_key, account, old_key),
            )

    def page(self, account: str, kind: str, path_prefix: str, after: str, limit: int) -> list[Entity]:
        rows = self.db.all(
            f"SELECT {_COLUMNS} FROM iam_entities WHERE account = ? AND kind = ? AND name_key > ? "
            "AND substr(path, 1, ?) = ? ORDER BY name_key LIMIT ?",
            (account, kind, after, len(path_prefix), path_prefix, limit),
        )
        return [e for e in map(_entity, rows) if e]

    def count(self, account: str, kind: str) -> int:
        row = self.db.one("SELECT count(*) FROM iam_entities WHERE account = ? AND kind = ?", (account, kind))
        return row[0] if row else 0

    def all_of(self, account: str, kind: str) -> list[Entity]:
        rows = self.db.all(
            f"SELECT {_COLUMNS} FROM iam_entities WHERE account = ? AND kind = ? ORDER BY name_key",
            (account, kind),
        )
        return [e for e in map(_entity, rows) if e]

    # -- group membership ----------------------------------------------------------------------------------

    def add_member(self, account: str, group_key: str, user_key: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO iam_members VALUES (?, ?, ?)", (account, group_key, user_key))

    def remove_member(self, account: str, group_key: str, user_key: str) -> None:
        self.db.execute(
            "DELETE FROM iam_members WHERE account = ? AND group_key = ? AND user_key = ?",
            (account, group_key, user_key),
        )

    def groups_of(self, account: str, user_key: str) -> list[str]:
        rows = self.db.all(
            "SELECT group_key FROM iam_members WHERE account = ? AND user_key = ?", (account, user_key)
        )
        return [r[0] for r in rows]

    def members_of(self, account: str, group_key: str) -> list[str]:
        rows = self.db.all(
            "SELECT user_key FROM iam_members WHERE account = ? AND group_key = ? ORDER BY user_key",
            (account, group_key),
        )
        return [r[0] for r in rows]

    # -- inline and attached policies ----------------------------------------------------------------------

    def put_inline(self, account: str, kind: str, owner_key: str, name: str, document: str) -> None:
        self.db.execute(
            "INSERT INTO iam_inline VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, kind, owner_key, name_key) "
            "DO UPDATE SET name = excluded.name, document = excluded.document",
            (account, kind, owner_key, name.lower(), name, document),
        )

    def inline(self, account: str, kind: str, owner_key: str) -> list[tuple[str, str]]:
        return [
            (r[0], r[1])
            for r in self.db.all(
                "SELECT name, document FROM iam_inline WHERE account = ? AND kind = ? AND owner_key = ? ORDER BY name_key",
                (account, kind, owner_key),
            )
        ]

    def delete_inline(self, account: str, kind: str, owner_key: str, name: str) -> bool:
        cursor = self.db.execute(
            "DELETE FROM iam_inline WHERE account = ? AND kind = ? AND owner_key = ? AND name_key = ?",
            (account, kind, owner_key, name.lower()),
        )
        return cursor.rowcount > 0

    def attach(self, account: str, kind: str, owner_key: str, policy_arn: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO iam_attached VALUES (?, ?, ?, ?)", (account, kind, owner_key, policy_arn)
        )

    def detach(self, account: str, kind: str, owner_key: str, policy_arn: str) -> bool:
        cursor = self.db.execute(
            "DELETE FROM iam_attached WHERE account = ? AND kind = ? AND owner_key = ? AND policy_arn = ?",
            (account, kind, owner_key, policy_arn),
        )
        return cursor.rowcount > 0

    def attached(self, account: str, kind: str, owner_key: str) -> list[str]:
        rows = self.db.all(
            "SELECT policy_arn FROM iam_attached WHERE account = ? AND kind = ? AND owner_key = ? ORDER BY policy_arn",
            (account, kind, owner_key),
        )
        return [r[0] for r in rows]

    def attachments_of(self, account: str, policy_arn: str) -> list[tuple[str, str]]:
        rows = self.db.all(
            "SELECT kind, owner_key FROM iam_attached WHERE account = ? AND policy_arn = ? ORDER BY kind, owner_key",
            (account, policy_arn),
        )
        return [(r[0], r[1]) for r in rows]

    def attachment_counts(self, account: str) -> dict[str, int]:
        """How many users, groups and roles each attached managed policy of an account is attached to."""
        rows = self.db.all(
            "SELECT policy_arn, COUNT(*) FROM iam_attached WHERE account = ? GROUP BY policy_arn", (account,)
        )
        return {r[0]: r[1] for r in rows}

    def forget_owner(self, account: str, kind: str, owner_key: str) -> None:
        for table in ("iam_inline", "iam_attached"):
            self.db.execute(
                f"DELETE FROM {table} WHERE account = ? AND kind = ? AND owner_key = ?",
                (account, kind, owner_key),
            )

    # -- managed policy versions ---------------------------------------------------------------------------

    def add_version(self, account: str, policy_key: str, version: int, document: str, created: float) -> None:
        self.db.execute(
            "INSERT INTO iam_policy_versions VALUES (?, ?, ?, ?, ?)",
            (account, policy_key, version, document, created),
        )

    def versions(self, account: str, policy_key: str) -> list[tuple[int, str, float]]:
        rows = self.db.all(
            "SELECT version, document, created FROM iam_policy_versions WHERE account = ? AND policy_key = ? "
            "ORDER BY version DESC",
            (account, policy_key),
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def version(self, account: str, policy_key: str, version: int) -> tuple[str, float] | None:
        row = self.db.one(
            "SELECT document, created FROM iam_policy_versions WHERE account = ? AND policy_key = ? AND version = ?",
            (account, policy_key, version),
        )
        return (row[0], row[1]) if row else None

    def version_count(self, account: str) -> int:
        row = self.db.one("SELECT count(*) FROM iam_policy_versions WHERE account = ?", (account,))
        return row[0] if row else 0

    def delete_versions(self, account: str, policy_key: str, version: int | None = None) -> None:
        if version is None:
            self.db.execute(
                "DELETE FROM iam_policy_versions WHERE account = ? AND policy_key = ?", (account, policy_key)
            )
        else:
            self.db.execute(
                "DELETE FROM iam_policy_versions WHERE account = ? AND policy_key = ? AND version = ?",
                (account, policy_key, version),
            )

    # -- tags written before they moved to the kit's table (services/kit/tags.py) ----------------------------

    def legacy_tags(self) -> list[tuple[str, str, str, str]]:
        """(entity ARN, account, key, value) of the tags left in iam_tags, by entity and key."""
        return self.db.all(
            "SELECT e.arn, t.account, t.key, t.value FROM iam_tags t JOIN iam_entities e "
            "ON e.account = t.account AND e.kind = t.kind AND e.name_key = t.owner_key ORDER BY e.arn, t.key"
        )

    def forget_legacy_tags(self) -> None:
        self.db.execute("DELETE FROM iam_tags")

    # -- access keys ---------------------------------------------------------------------------------------

    def access_key(self, key_id: str) -> tuple | None:
        return self.db.one(
            "SELECT key_id, account, user_key, secret, status, created, last_used, last_service, last_region "
            "FROM iam_access_keys WHERE key_id = ?",
            (key_id,),
        )

    def access_keys_of(self, account: str, user_key: str) -> list[tuple]:
        return self.db.all(
            "SELECT key_id, account, user_key, secret, status, created, last_used, last_service, last_region "
            "FROM iam_access_keys WHERE account = ? AND user_key = ? ORDER BY created",
            (account, user_key),
        )

    def add_access_key(self, key_id: str, account: str, user_key: str, secret: str, created: float) -> None:
        self.db.execute(
            "INSERT INTO iam_access_keys (key_id, account, user_key, secret, status, created) "
            "VALUES (?, ?, ?, ?, 'Active', ?)",
            (key_id, account, user_key, secret, created),
        )

    def set_access_key_status(self, key_id: str, status: str) -> None:
        self.db.execute("UPDATE iam_access_keys SET status = ? WHERE key_id = ?", (status, key_id))

    def delete_access_key(self, key_id: str) -> None:
        self.db.execute("DELETE FROM iam_access_keys WHERE key_id = ?", (key_id,))

    def touch_access_key(self, key_id: str, moment: float, service: str, region: str) -> None:
        self.db.execute(
            "UPDATE iam_access_keys SET last_used = ?, last_service = ?, last_region = ? WHERE key_id = ?",
            (moment, service, region, key_id),
        )

    # -- login profiles ------------------------------------------------------------------------------------

    def login_profile(self, account: str, user_key: str) -> tuple | None:
        return self.db.one(
            "SELECT password_hash, reset_required, created FROM iam_login_profiles WHERE account = ? AND user_key = ?",
            (account, user_key),
        )

    def put_login_profile(
        self, account: str, user_key: str, password_hash: str, reset: bool, created: float
    ) -> None:
        self.db.execute(
            "INSERT INTO iam_login_profiles VALUES (?, ?, ?, ?, ?) ON CONFLICT (account, user_key) "
            "DO UPDATE SET password_hash = excluded.password_hash, reset_required = excluded.reset_required",
            (account, user_key, password_hash, int(reset), created),
        )

    def delete_login_profile(self, account: str, user_key: str) -> None:
        self.db.execute(
            "DELETE FROM iam_login_profiles WHERE account = ? AND user_key = ?", (account, user_key)
        )

    # -- instance profiles ---------------------------------------------------------------------------------

    def profile_roles(self, account: str, profile_key: str) -> list[str]:
        rows = self.db.all(
            "SELECT role_key FROM iam_profile_roles WHERE account = ? AND profile_key = ?",
            (account, profile_key),
        )
        return [r[0] for r in rows]

    def profiles_of_role(self, account: str, role_key: str) -> list[str]:
        rows = self.db.all(
            "SELECT profile_key FROM iam_profile_roles WHERE account = ? AND role_key = ?",
            (account, role_key),
        )
        return [r[0] for r in rows]

    def link_profile(self, account: str, profile_key: str, role_key: str) -> None:
        self.db.execute("INSERT INTO iam_profile_roles VALUES (?, ?, ?)", (account, profile_key, role_key))

    def unlink_profile(self, account: str, profile_key: str, role_key: str | None = None) -> None:
        if role_key is None:
            self.db.execute(
                "DELETE FROM iam_profile_roles WHERE account = ? AND profile_key = ?", (account, profile_key)
            )
        else:
            self.db.execute(
                "DELETE FROM iam_profile_roles WHERE account = ? AND profile_key = ? AND role_key = ?",
                (account, profile_key, role_key),
            )

    # -- MFA devices ---------------------------------------------------------------------------------------

    def mfa_device(self, serial: str) -> tuple | None:
        return self.db.one(
            "SELECT serial, account, name, path, seed, user_key, enabled, created, last_counter "
            "FROM iam_mfa_devices WHERE serial = ?",
            (serial,),
        )

    def mfa_devices(self, account: str, user_key: str | None = None) -> list[tuple]:
        sql = (
            "SELECT serial, account, name, path, seed, user_key, enabled, created, last_counter "
            "FROM iam_mfa_devices WHERE account = ?"
        )
        args: tuple = (account,)
        if user_key is not None:
            sql += " AND user_key = ?"
            args += (user_key,)
        return self.db.all(sql + " ORDER BY serial", args)

    def add_mfa_device(
        self, serial: str, account: str, name: str, path: str, seed: str, created: float
    ) -> None:
        self.db.execute(
            "INSERT INTO iam_mfa_devices (serial, account, name, path, seed, created) VALUES (?, ?, ?, ?, ?, ?)",
            (serial, account, name, path, seed, created),
        )

    def set_mfa_user(
        self, serial: str, user_key: str | None, enabled: float | None, counter: int = 0
    ) -> None:
        self.db.execute(
            "UPDATE iam_mfa_devices SET user_key = ?, enabled = ?, last_counter = ? WHERE serial = ?",
            (user_key, enabled, counter, serial),
        )

    def set_mfa_counter(self, serial: str, counter: int) -> None:
        self.db.execute("UPDATE iam_mfa_devices SET last_counter = ? WHERE serial = ?", (counter, serial))

    def delete_mfa_device(self, serial: str) -> None:
        self.db.execute("DELETE FROM iam_mfa_devices WHERE serial = ?", (serial,))

    # -- account settings ----------------------------------------------------------------------------------

    def account_settings(self, account: str) -> tuple[str | None, dict[str, Any] | None]:
        row = self.db.one("SELECT alias, password_policy FROM iam_accounts WHERE account = ?", (account,))
        if not row:
            return None, None
        return row[0], json.loads(row[1]) if row[1] else None

    def report(self, account: str) -> tuple[str, float] | None:
        row = self.db.one("SELECT report, report_time FROM iam_accounts WHERE account = ?", (account,))
        return (row[0], row[1]) if row and row[0] is not None else None

    def set_report(self, account: str, report: str, moment: float) -> None:
        self.db.execute(
            "INSERT INTO iam_accounts (account, report, report_time) VALUES (?, ?, ?) "
            "ON CONFLICT (account) DO UPDATE SET report = excluded.report, report_time = excluded.report_time",
            (account, report, moment),
        )

    def alias_owner(self, alias: str) -> str | None:
        """The account that has the alias `alias` (aliases are unique across accounts)."""
        row = self.db.one("SELECT account FROM iam_accounts WHERE alias = ?", (alias,))
        return row[0] if row else None

    def set_alias(self, account: str, alias: str | None) -> None:
        self.db.execute(
            "INSERT INTO iam_accounts (account, alias) VALUES (?, ?) ON CONFLICT (account) DO UPDATE SET alias = ?",
            (account, alias, alias),
        )

    def token_version(self, account: str) -> int:
        """The version of the tokens STS's global endpoint issues (SetSecurityTokenServicePreferences)."""
        row = self.db.one("SELECT token_version FROM iam_accounts WHERE account = ?", (account,))
        return row[0] if row and row[0] else 1

    def set_token_version(self, account: str, version: int) -> None:
        self.db.execute(
            "INSERT INTO iam_accounts (account, token_version) VALUES (?, ?) "
            "ON CONFLICT (account) DO UPDATE SET token_version = ?",
            (account, version, version),
        )

    def set_password_policy(self, account: str, policy: dict[str, Any] | None) -> None:
        text = json.dumps(policy) if policy is not None else None
        self.db.execute(
            "INSERT INTO iam_accounts (account, password_policy) VALUES (?, ?) "
            "ON CONFLICT (account) DO UPDATE SET password_policy = ?",
            (account, text, text),
        )

    # -- access advisor ------------------------------------------------------------------------------------

    def record_access(
        self, account: str, entity_arn: str, namespace: str, moment: float, region: str
    ) -> None:
        self.db.execute(
            "INSERT INTO iam_service_access VALUES (?, ?, ?, ?, ?) ON CONFLICT (account, entity_arn, namespace) "
            "DO UPDATE SET last = excluded.last, region = excluded.region",
            (account, entity_arn, namespace, moment, region),
        )

    def accesses(self, account: str, entity_arns: list[str]) -> list[tuple[str, str, float, str]]:
        """(entity arn, namespace, last, region) of the given entities."""
        if not entity_arns:
            return []
        marks = ", ".join("?" for _ in entity_arns)
        rows = self.db.all(
            "SELECT entity_arn, namespace, last, region FROM iam_service_access "
            f"WHERE account = ? AND entity_arn IN ({marks}) ORDER BY entity_arn, namespace",
            (account, *entity_arns),
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def put_access_job(self, job_id: str, account: str, arn: str, created: float, snapshot: str) -> None:
        self.db.execute(
            "INSERT INTO iam_access_jobs VALUES (?, ?, ?, ?, ?)", (job_id, account, arn, created, snapshot)
        )

    def access_job(self, account: str, job_id: str) -> tuple[float, str] | None:
        row = self.db.one(
            "SELECT created, snapshot FROM iam_access_jobs WHERE job_id = ? AND account = ?",
            (job_id, account),
        )
        return (row[0], row[1]) if row else None
