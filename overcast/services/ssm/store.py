"""Parameter Store's tables and every SQL statement of the service."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from overcast.services.kit.cache import StoredRows
from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE ssm_parameters (
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
        type TEXT NOT NULL, tier TEXT NOT NULL, expires REAL, notify_at REAL, no_change_at REAL,
        PRIMARY KEY (account, region, name)
    ) WITHOUT ROWID;
    CREATE INDEX ssm_parameters_expires ON ssm_parameters (expires) WHERE expires IS NOT NULL;
    CREATE INDEX ssm_parameters_notify ON ssm_parameters (notify_at) WHERE notify_at IS NOT NULL;
    CREATE INDEX ssm_parameters_no_change ON ssm_parameters (no_change_at) WHERE no_change_at IS NOT NULL;

    CREATE TABLE ssm_versions (
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
        type TEXT NOT NULL, value BLOB NOT NULL, key_id TEXT, tier TEXT NOT NULL, data_type TEXT NOT NULL,
        description TEXT, allowed_pattern TEXT, policies TEXT, modified REAL NOT NULL, user TEXT NOT NULL,
        PRIMARY KEY (account, region, name, version)
    ) WITHOUT ROWID;

    CREATE TABLE ssm_labels (
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, label TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (account, region, name, label)
    ) WITHOUT ROWID;
    CREATE INDEX ssm_labels_version ON ssm_labels (account, region, name, version);
    """,
    """
    CREATE TABLE ssm_documents (
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, document_type TEXT NOT NULL,
        target_type TEXT, default_version INTEGER NOT NULL, latest_version INTEGER NOT NULL, created REAL NOT NULL,
        PRIMARY KEY (account, region, name)
    ) WITHOUT ROWID;
    CREATE TABLE ssm_document_versions (
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
        version_name TEXT, display_name TEXT, content TEXT NOT NULL, format TEXT NOT NULL, created REAL NOT NULL,
        PRIMARY KEY (account, region, name, version)
    ) WITHOUT ROWID;
    """,
]

_VERSION_COLUMNS = "name, version, type, value, key_id, tier, data_type, description, allowed_pattern, policies, modified, user"


@dataclass
class ParameterVersion:
    name: str
    version: int
    type: str
    value: bytes  # the value's UTF-8 bytes, or for a SecureString the sealed form (see values.py)
    key_id: str | None
    tier: str
    data_type: str
    description: str | None
    allowed_pattern: str | None
    policies: list[dict[str, str]] = field(default_factory=list)
    modified: float = 0.0
    user: str = ""

    def row(self) -> tuple:
        return (
            self.name,
            self.version,
            self.type,
            self.value,
            self.key_id,
            self.tier,
            self.data_type,
            self.description,
            self.allowed_pattern,
            json.dumps(self.policies) if self.policies else None,
            self.modified,
            self.user,
        )


@dataclass
class Document:
    name: str
    document_type: str
    target_type: str | None
    default_version: int
    latest_version: int
    created: float


@dataclass
class DocumentVersion:
    version: int
    version_name: str | None
    display_name: str | None
    content: str
    format: str
    created: float


def _version(row: tuple | None) -> ParameterVersion | None:
    if row is None:
        return None
    found = ParameterVersion(*row)
    found.policies = json.loads(row[9]) if row[9] else []
    return found


VALUE_BYTES_CACHED = 4096  # a latest version is remembered only when its value is this small


class ParameterStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("ssm", MIGRATIONS)
        # The latest version's row of the parameters last read: every GetParameter reads one (kit/cache.py)
        self._latest = StoredRows(db)

    def forget(self) -> None:
        """After a write to ssm_parameters or ssm_versions, and after `overcast reset` emptied the tables."""
        self._latest.forget()

    def latest(self, account: str, region: str, name: str) -> ParameterVersion | None:
        """A fresh ParameterVersion each call, from a cached row when there is one."""
        where = (account, region, name)
        row = self._latest.read(
            where,
            lambda: self.db.one(
                f"SELECT {_VERSION_COLUMNS} FROM ssm_versions WHERE account = ? AND region = ? AND name = ? "
                "AND version = (SELECT version FROM ssm_parameters WHERE account = ? AND region = ? AND name = ?)",
                (*where, *where),
            ),
            lambda row: len(row[3]) <= VALUE_BYTES_CACHED,
        )
        return _version(row)

    def version(self, account: str, region: str, name: str, version: int) -> ParameterVersion | None:
        return _version(
            self.db.one(
                f"SELECT {_VERSION_COLUMNS} FROM ssm_versions WHERE account = ? AND region = ? AND name = ? "
                "AND version = ?",
                (account, region, name, version),
            )
        )

    def versions(
        self, account: str, region: str, name: str, after: int, limit: int
    ) -> list[ParameterVersion]:
        rows = self.db.all(
            f"SELECT {_VERSION_COLUMNS} FROM ssm_versions WHERE account = ? AND region = ? AND name = ? "
            "AND version > ? ORDER BY version LIMIT ?",
            (account, region, name, after, limit),
        )
        return [_version(row) for row in rows]  # type: ignore[misc]

    def oldest_version(self, account: str, region: str, name: str) -> int | None:
        row = self.db.one(
            "SELECT MIN(version) FROM ssm_versions WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return row[0] if row else None

    def version_count(self, account: str, region: str, name: str) -> int:
        row = self.db.one(
            "SELECT COUNT(*) FROM ssm_versions WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return row[0] if row else 0

    def put(
        self,
        account: str,
        region: str,
        found: ParameterVersion,
        moments: tuple[float | None, float | None, float | None],
    ) -> None:
        self.forget()
        self.db.execute(
            "INSERT INTO ssm_parameters VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, name) "
            "DO UPDATE SET version = excluded.version, type = excluded.type, tier = excluded.tier, "
            "expires = excluded.expires, notify_at = excluded.notify_at, no_change_at = excluded.no_change_at",
            (account, region, found.name, found.version, found.type, found.tier, *moments),
        )
        self.db.execute(
            f"INSERT OR REPLACE INTO ssm_versions (account, region, {_VERSION_COLUMNS}) "
            f"VALUES (?, ?, {', '.join('?' * 12)})",
            (account, region, *found.row()),
        )

    def delete_version(self, account: str, region: str, name: str, version: int) -> None:
        self.forget()
        self.db.execute(
            "DELETE FROM ssm_versions WHERE account = ? AND region = ? AND name = ? AND version = ?",
            (account, region, name, version),
        )

    def delete(self, account: str, region: str, name: str) -> bool:
        self.forget()
        gone = self.db.execute(
            "DELETE FROM ssm_parameters WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        ).rowcount
        for table in ("ssm_versions", "ssm_labels"):
            self.db.execute(
                f"DELETE FROM {table} WHERE account = ? AND region = ? AND name = ?", (account, region, name)
            )
        return bool(gone)

    def exists(self, account: str, region: str, name: str) -> bool:
        return bool(
            self.db.one(
                "SELECT 1 FROM ssm_parameters WHERE account = ? AND region = ? AND name = ?",
                (account, region, name),
            )
        )

    def count(self, account: str, region: str, tier: str) -> int:
        row = self.db.one(
            "SELECT COUNT(*) FROM ssm_parameters WHERE account = ? AND region = ? AND tier = ?",
            (account, region, tier),
        )
        return row[0] if row else 0

    def names_after(
        self, account: str, region: str, low: str, high: str, after: str, limit: int
    ) -> list[str]:
        """Names in [low, high) after `after`, in order (a path's subtree is such a range)."""
        return [
            name
            for (name,) in self.db.all(
                "SELECT name FROM ssm_parameters WHERE account = ? AND region = ? AND name >= ? AND name < ? "
                "AND name > ? ORDER BY name LIMIT ?",
                (account, region, low, high, after, limit),
            )
        ]

    # -- labels --------------------------------------------------------------------------------------

    def label(self, account: str, region: str, name: str, label: str) -> int | None:
        row = self.db.one(
            "SELECT version FROM ssm_labels WHERE account = ? AND region = ? AND name = ? AND label = ?",
            (account, region, name, label),
        )
        return row[0] if row else None

    def labels_of(self, account: str, region: str, name: str, version: int) -> list[str]:
        return [
            label
            for (label,) in self.db.all(
                "SELECT label FROM ssm_labels WHERE account = ? AND region = ? AND name = ? AND version = ? "
                "ORDER BY label",
                (account, region, name, version),
            )
        ]

    def set_label(self, account: str, region: str, name: str, label: str, version: int) -> None:
        self.db.execute(
            "INSERT INTO ssm_labels VALUES (?, ?, ?, ?, ?) ON CONFLICT (account, region, name, label) "
            "DO UPDATE SET version = excluded.version",
            (account, region, name, label, version),
        )

    def remove_label(self, account: str, region: str, name: str, label: str) -> None:
        self.db.execute(
            "DELETE FROM ssm_labels WHERE account = ? AND region = ? AND name = ? AND label = ?",
            (account, region, name, label),
        )

    # -- timed policies ------------------------------------------------------------------------------

    def due(self, column: str, now: float, limit: int = 100) -> list[tuple[str, str, str]]:
        assert column in ("expires", "notify_at", "no_change_at")
        return self.db.all(
            f"SELECT account, region, name FROM ssm_parameters WHERE {column} <= ? ORDER BY {column} LIMIT ?",
            (now, limit),
        )

    def clear_moment(self, account: str, region: str, name: str, column: str) -> None:
        self.forget()
        assert column in ("expires", "notify_at", "no_change_at")
        self.db.execute(
            f"UPDATE ssm_parameters SET {column} = NULL WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )

    def earliest(self) -> float | None:
        row = self.db.one(
            "SELECT MIN(m) FROM (SELECT MIN(expires) AS m FROM ssm_parameters UNION ALL "
            "SELECT MIN(notify_at) FROM ssm_parameters UNION ALL SELECT MIN(no_change_at) FROM ssm_parameters)"
        )
        return row[0] if row else None

    # -- documents -----------------------------------------------------------------------------------

    def document(self, account: str, region: str, name: str) -> Document | None:
        row = self.db.one(
            "SELECT name, document_type, target_type, default_version, latest_version, created FROM ssm_documents "
            "WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return Document(*row) if row else None

    def put_document(self, account: str, region: str, document: Document) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO ssm_documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                account,
                region,
                document.name,
                document.document_type,
                document.target_type,
                document.default_version,
                document.latest_version,
                document.created,
            ),
        )

    def document_version(self, account: str, region: str, name: str, version: int) -> DocumentVersion | None:
        row = self.db.one(
            "SELECT version, version_name, display_name, content, format, created FROM ssm_document_versions "
            "WHERE account = ? AND region = ? AND name = ? AND version = ?",
            (account, region, name, version),
        )
        return DocumentVersion(*row) if row else None

    def document_version_named(
        self, account: str, region: str, name: str, version_name: str
    ) -> DocumentVersion | None:
        row = self.db.one(
            "SELECT version, version_name, display_name, content, format, created FROM ssm_document_versions "
            "WHERE account = ? AND region = ? AND name = ? AND version_name = ?",
            (account, region, name, version_name),
        )
        return DocumentVersion(*row) if row else None

    def document_versions(self, account: str, region: str, name: str) -> list[DocumentVersion]:
        rows = self.db.all(
            "SELECT version, version_name, display_name, content, format, created FROM ssm_document_versions "
            "WHERE account = ? AND region = ? AND name = ? ORDER BY version",
            (account, region, name),
        )
        return [DocumentVersion(*row) for row in rows]

    def put_document_version(self, account: str, region: str, name: str, version: DocumentVersion) -> None:
        self.db.execute(
            "INSERT INTO ssm_document_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                account,
                region,
                name,
                version.version,
                version.version_name,
                version.display_name,
                version.content,
                version.format,
                version.created,
            ),
        )

    def delete_document(self, account: str, region: str, name: str, version: int | None = None) -> None:
        if version is not None:
            self.db.execute(
                "DELETE FROM ssm_document_versions WHERE account = ? AND region = ? AND name = ? AND version = ?",
                (account, region, name, version),
            )
            return
        for table in ("ssm_document_versions", "ssm_documents"):
            self.db.execute(
                f"DELETE FROM {table} WHERE account = ? AND region = ? AND name = ?", (account, region, name)
            )

    def document_names_after(self, account: str, region: str, after: str, limit: int) -> list[str]:
        return [
            name
            for (name,) in self.db.all(
                "SELECT name FROM ssm_documents WHERE account = ? AND region = ? AND name > ? ORDER BY name LIMIT ?",
                (account, region, after, limit),
            )
        ]
