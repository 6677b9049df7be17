"""S3's tables and the SQL that reads and writes them (nothing else in the service writes SQL).

Bucket names are global, so a bucket row carries its owning account and region and everything below a
bucket is keyed by the bucket's integer id. Every version of an object is one row of `s3_objects`; the
current one has `is_latest = 1` and a partial unique index over (bucket, key) of those rows makes a listing
page an index range scan whatever the bucket holds. Bodies are blob files (`platform.blobs`); a multipart
object keeps its parts' blobs (no copy at completion).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from overcast.services.kit.cache import RowsWhileUnchanged
from overcast.services.kit.store import TagStore
from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE s3_buckets (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        created REAL NOT NULL,
        versioning TEXT,
        mfa_delete TEXT,
        ownership TEXT,
        acl TEXT,
        object_lock INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX s3_buckets_by_account ON s3_buckets (account, name);
    CREATE TABLE s3_bucket_configs (
        bucket_id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        config_id TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL,
        PRIMARY KEY (bucket_id, kind, config_id)
    );
    CREATE TABLE s3_objects (
        id INTEGER PRIMARY KEY,
        bucket_id INTEGER NOT NULL,
        key TEXT NOT NULL,
        version_id TEXT NOT NULL,
        is_latest INTEGER NOT NULL,
        delete_marker INTEGER NOT NULL DEFAULT 0,
        size INTEGER NOT NULL DEFAULT 0,
        etag TEXT,
        modified REAL NOT NULL,
        storage_class TEXT NOT NULL DEFAULT 'STANDARD',
        blob_id TEXT,
        parts TEXT,
        meta TEXT NOT NULL DEFAULT '{}'
    );
    CREATE UNIQUE INDEX s3_objects_current ON s3_objects (bucket_id, key) WHERE is_latest = 1;
    CREATE INDEX s3_objects_versions ON s3_objects (bucket_id, key, id);
    CREATE TABLE s3_uploads (
        id TEXT PRIMARY KEY,
        bucket_id INTEGER NOT NULL,
        key TEXT NOT NULL,
        initiated REAL NOT NULL,
        meta TEXT NOT NULL
    );
    CREATE INDEX s3_uploads_by_key ON s3_uploads (bucket_id, key, initiated);
    CREATE TABLE s3_parts (
        upload_id TEXT NOT NULL,
        part_number INTEGER NOT NULL,
        blob_id TEXT NOT NULL,
        size INTEGER NOT NULL,
        etag TEXT NOT NULL,
        modified REAL NOT NULL,
        checksum TEXT,
        PRIMARY KEY (upload_id, part_number)
    );
    CREATE TABLE s3_account_settings (
        account TEXT NOT NULL,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (account, kind)
    );
    """,
    # Small bodies live in the row itself: no file to create, rename and unlink per request.
    "ALTER TABLE s3_objects ADD COLUMN data BLOB",
    # Encryption at rest (encryption.py): how each version's data is stored (NULL: plain text, as every
    # version written before), and the server's own key for SSE-S3.
    """
    ALTER TABLE s3_objects ADD COLUMN enc TEXT;
    CREATE TABLE s3_keys (id INTEGER PRIMARY KEY, key BLOB NOT NULL, created REAL NOT NULL);
    """,
    # Restores in progress (archived versions by row id), for their ObjectRestore:Completed event.
    """
    CREATE TABLE s3_restores (object_id INTEGER PRIMARY KEY, ready_at REAL NOT NULL);
    CREATE INDEX s3_restores_due ON s3_restores (ready_at);
    """,
    # Bucket tags move to the kit's table of every service's tags (services/kit/store.py), where the Resource
    # Groups Tagging API sees them.
    """
    INSERT INTO resource_tags (arn, tag_key, tag_value, account, region, service, resource_type, position)
    SELECT 'arn:aws:s3:::' || b.name, json_extract(t.value, '$.Key'),
           COALESCE(json_extract(t.value, '$.Value'), ''), b.account, b.region, 's3', 'bucket', t.key
    FROM s3_bucket_configs c JOIN s3_buckets b ON b.id = c.bucket_id, json_each(c.body, '$.TagSet') t
    WHERE c.kind = 'tagging'
    ON CONFLICT (arn, tag_key) DO NOTHING;
    DELETE FROM s3_bucket_configs WHERE kind = 'tagging';
    """,
    # Completed multipart uploads, for a repeated CompleteMultipartUpload (answered again as the first was).
    """
    CREATE TABLE s3_completed_uploads (
        id TEXT PRIMARY KEY,
        bucket_id INTEGER NOT NULL,
        key TEXT NOT NULL,
        completed REAL NOT NULL,
        parts TEXT NOT NULL,
        result TEXT NOT NULL
    );
    CREATE INDEX s3_completed_uploads_by_time ON s3_completed_uploads (completed);
    """,
]

_SETTINGS_LIMIT = 1024  # entries of S3Store's cache of bucket rows and configurations

INLINE = ""  # blob_id of an object whose body is stored in its row (`data`)
# json.dumps(value, separators=(",", ":")), without building an encoder per call (a version's metadata is
# written on every PutObject)
_compact = json.JSONEncoder(separators=(",", ":")).encode


@dataclass
class Bucket:
    id: int
    name: str
    account: str
    region: str
    created: float
    versioning: str | None
    mfa_delete: str | None
    ownership: str | None
    acl: str | None
    object_lock: int

    @property
    def grants(self) -> list[dict[str, Any]]:
        return json.loads(self.acl) if self.acl else []


@dataclass
class ObjectVersion:
    id: int
    bucket_id: int
    key: str
    version_id: str
    is_latest: int
    delete_marker: int
    size: int
    etag: str | None
    modified: float
    storage_class: str
    blob_id: str | None
    parts: str | None
    meta_json: str
    enc: str | None  # how the data is stored: None (plain text), "S3" or "C" (encryption.py)
    _meta: dict[str, Any] | None = field(default=None, repr=False)
    # the body kept in the row, when the row was read with it (`with_data`); else None: `inline_data` reads it
    inline: bytes | None = field(default=None, repr=False)

    @property
    def meta(self) -> dict[str, Any]:
        if self._meta is None:
            self._meta = json.loads(self.meta_json)
        return self._meta

    @property
    def part_list(self) -> list[list[Any]]:
        """[[blob_id, size, checksum or None], ...] of a multipart object."""
        return json.loads(self.parts) if self.parts else []


_BUCKET_COLUMNS = "id, name, account, region, created, versioning, mfa_delete, ownership, acl, object_lock"
_OBJECT_COLUMNS = (
    "id, bucket_id, key, version_id, is_latest, delete_marker, size, etag, modified, storage_class, blob_id, "
    "parts, meta, enc"
)

_OBJECT_COLUMNS_DATA = f"{_OBJECT_COLUMNS}, data"


def _version_of(row: tuple, with_data: bool) -> ObjectVersion:
    """An ObjectVersion of a row of _OBJECT_COLUMNS (with_data: of _OBJECT_COLUMNS_DATA)."""
    if not with_data:
        return ObjectVersion(*row)
    version = ObjectVersion(*row[:-1])
    if version.blob_id == INLINE:
        version.inline = bytes(row[-1]) if row[-1] is not None else b""  # as inline_data reads it
    return version


INLINE_BYTES_KEPT = 4096  # a row read with its body is remembered only when the body is this small


class S3Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        TagStore(
            db
        )  # the kit's table, which a migration fills (the platform makes it first; a bare store here)
        db.migrate("s3", MIGRATIONS)
        # Bucket rows by name and configuration bodies by (bucket id, kind, config id): what every object
        # request reads, read once per change. Every write of either empties it, and so does the write's
        # rollback (a read in between may have kept what it wrote). Bounded (the oldest entry goes first): a
        # few rows per bucket in use, never per object.
        self._settings: dict[Any, Any] = {}
        self._current = RowsWhileUnchanged(
            db
        )  # the current version rows GetObject/HeadObject read (kit/cache.py)

    def forget_rows(self) -> None:
        """Drop the remembered object rows (after `overcast reset`)."""
        self._current.forget()

    def forget_settings(self) -> None:
        """Drop the settings cache: on a write of `s3_buckets` or `s3_bucket_configs` (and `overcast reset`),
        and again if that write is undone (its own rollback, or a failed group commit)."""
        self._settings.clear()
        self.db.after_rollback(self._settings.clear)

    def _setting(self, key: Any, read: Callable[[Any], Any]) -> Any:
        """`read(key)`, kept until the next write of a bucket or configuration."""
        cache = self._settings
        try:
            return cache[key]
        except KeyError:
            pass
        if len(cache) >= _SETTINGS_LIMIT:
            del cache[next(iter(cache))]
        value = cache[key] = read(key)
        return value

    # -- buckets -----------------------------------------------------------------------------------

    def bucket(self, name: str) -> Bucket | None:
        """The bucket `name` (shared with other requests until it changes: not to be modified)."""
        return self._setting(name, self._read_bucket)

    def _read_bucket(self, name: str) -> Bucket | None:
        row = self.db.one(f"SELECT {_BUCKET_COLUMNS} FROM s3_buckets WHERE name = ?", (name,))
        return Bucket(*row) if row else None

    def bucket_by_id(self, bucket_id: int) -> Bucket | None:
        row = self.db.one(f"SELECT {_BUCKET_COLUMNS} FROM s3_buckets WHERE id = ?", (bucket_id,))
        return Bucket(*row) if row else None

    def buckets_of(self, account: str, after: str, prefix: str, limit: int) -> list[Bucket]:
        rows = self.db.all(
            f"SELECT {_BUCKET_COLUMNS} FROM s3_buckets WHERE account = ? AND name > ? AND name >= ? "
            "ORDER BY name LIMIT ?",
            (account, after, prefix, limit),
        )
        return [Bucket(*row) for row in rows if row[1].startswith(prefix)]

    def accounts(self) -> list[str]:
        """The accounts that own buckets (those whose canonical ids S3 can resolve in a grant)."""
        return [account for (account,) in self.db.all("SELECT DISTINCT account FROM s3_buckets")]

    def all_buckets(self) -> list[Bucket]:
        return [Bucket(*row) for row in self.db.all(f"SELECT {_BUCKET_COLUMNS} FROM s3_buckets")]

    def create_bucket(
        self,
        name: str,
        account: str,
        region: str,
        created: float,
        ownership: str | None,
        acl: list | None,
        object_lock: bool,
    ) -> None:
        self.forget_settings()
        self.db.execute(
            "INSERT INTO s3_buckets (name, account, region, created, ownership, acl, object_lock, versioning) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                name,
                account,
                region,
                created,
                ownership,
                json.dumps(acl) if acl else None,
                int(object_lock),
                "Enabled" if object_lock else None,
            ),
        )

    def update_bucket(self, bucket_id: int, **columns: Any) -> None:
        self.forget_settings()
        assignments = ", ".join(f"{name} = ?" for name in columns)
        self.db.execute(f"UPDATE s3_buckets SET {assignments} WHERE id = ?", (*columns.values(), bucket_id))

    def delete_bucket(self, bucket_id: int) -> list[str]:
        """Remove the bucket, its configurations and abandoned uploads; returns the uploads' blob ids."""
        blob_ids = [
            b
            for (b,) in self.db.all(
                "SELECT p.blob_id FROM s3_parts p JOIN s3_uploads u ON u.id = p.upload_id WHERE u.bucket_id = ?",
                (bucket_id,),
            )
        ]
        self.db.execute(
            "DELETE FROM s3_parts WHERE upload_id IN (SELECT id FROM s3_uploads WHERE bucket_id = ?)",
            (bucket_id,),
        )
        self.db.execute("DELETE FROM s3_uploads WHERE bucket_id = ?", (bucket_id,))
        self.db.execute("DELETE FROM s3_completed_uploads WHERE bucket_id = ?", (bucket_id,))
        self.db.execute("DELETE FROM s3_bucket_configs WHERE bucket_id = ?", (bucket_id,))
        self.forget_settings()
        self.db.execute("DELETE FROM s3_buckets WHERE id = ?", (bucket_id,))
        return blob_ids

    def has_objects(self, bucket_id: int) -> bool:
        return self.db.one("SELECT 1 FROM s3_objects WHERE bucket_id = ? LIMIT 1", (bucket_id,)) is not None

    # -- bucket configurations (stored documents) ---------------------------------------------------

    def config(self, bucket_id: int, kind: str, config_id: str = "") -> Any:
        """The stored document (a fresh object: callers may change it), or None. Read once per change: every
        PutObject looks up the bucket's encryption and notification configurations."""
        body = self._setting((bucket_id, kind, config_id), self._read_config)
        return json.loads(body) if body is not None else None

    def document(self, bucket_id: int, kind: str, config_id: str = "") -> Any:
        """The stored document as `config` reads it, but shared with other requests until it changes (never to
        be modified): for what every object request reads (encryption, lifecycle, notification...)."""
        return self._setting(("parsed", bucket_id, kind, config_id), self._read_document)

    def _read_document(self, key: tuple[str, int, str, str]) -> Any:
        body = self._read_config(key[1:])
        return json.loads(body) if body is not None else None

    def _read_config(self, key: tuple[int, str, str]) -> str | None:
        row = self.db.one(
            "SELECT body FROM s3_bucket_configs WHERE bucket_id = ? AND kind = ? AND config_id = ?", key
        )
        return row[0] if row else None

    def configs(self, bucket_id: int, kind: str) -> list[Any]:
        rows = self.db.all(
            "SELECT body FROM s3_bucket_configs WHERE bucket_id = ? AND kind = ? ORDER BY config_id",
            (bucket_id, kind),
        )
        return [json.loads(body) for (body,) in rows]

    def put_config(self, bucket_id: int, kind: str, body: Any, config_id: str = "") -> None:
        self.forget_settings()
        self.db.execute(
            "INSERT INTO s3_bucket_configs (bucket_id, kind, config_id, body) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (bucket_id, kind, config_id) DO UPDATE SET body = excluded.body",
            (bucket_id, kind, config_id, json.dumps(body, default=str)),
        )

    def delete_config(self, bucket_id: int, kind: str, config_id: str = "") -> None:
        self.forget_settings()
        self.db.execute(
            "DELETE FROM s3_bucket_configs WHERE bucket_id = ? AND kind = ? AND config_id = ?",
            (bucket_id, kind, config_id),
        )

    def buckets_with_config(self, kind: str) -> list[tuple[int, Any]]:
        rows = self.db.all("SELECT bucket_id, body FROM s3_bucket_configs WHERE kind = ?", (kind,))
        return [(bucket_id, json.loads(body)) for bucket_id, body in rows]

    def account_setting(self, account: str, kind: str) -> Any:
        row = self.db.one(
            "SELECT body FROM s3_account_settings WHERE account = ? AND kind = ?", (account, kind)
        )
        return json.loads(row[0]) if row else None

    def put_account_setting(self, account: str, kind: str, body: Any) -> None:
        self.db.execute(
            "INSERT INTO s3_account_settings (account, kind, body) VALUES (?, ?, ?) "
            "ON CONFLICT (account, kind) DO UPDATE SET body = excluded.body",
            (account, kind, json.dumps(body)),
        )

    def delete_account_setting(self, account: str, kind: str) -> None:
        self.db.execute("DELETE FROM s3_account_settings WHERE account = ? AND kind = ?", (account, kind))

    # -- objects -----------------------------------------------------------------------------------

    def current(self, bucket_id: int, key: str, with_data: bool = False) -> ObjectVersion | None:
        """The current version of `key`; `with_data`: with the body kept in its row, if it is (for a read)."""
        columns = _OBJECT_COLUMNS_DATA if with_data else _OBJECT_COLUMNS
        row = self._current.read(
            (bucket_id, key, with_data),
            lambda: self.db.one(
                f"SELECT {columns} FROM s3_objects WHERE bucket_id = ? AND key = ? AND is_latest = 1",
                (bucket_id, key),
            ),
            keep=lambda row: not with_data or row[-1] is None or len(row[-1]) <= INLINE_BYTES_KEPT,
        )
        return _version_of(row, with_data) if row else None

    def version(
        self, bucket_id: int, key: str, version_id: str, with_data: bool = False
    ) -> ObjectVersion | None:
        columns = _OBJECT_COLUMNS_DATA if with_data else _OBJECT_COLUMNS
        row = self.db.one(
            f"SELECT {columns} FROM s3_objects WHERE bucket_id = ? AND key = ? AND version_id = ?",
            (bucket_id, key, version_id),
        )
        return _version_of(row, with_data) if row else None

    def insert_version(
        self,
        bucket_id: int,
        key: str,
        version_id: str,
        *,
        delete_marker: bool = False,
        size: int = 0,
        etag: str | None = None,
        modified: float,
        storage_class: str = "STANDARD",
        blob_id: str | None = None,
        parts: list | None = None,
        meta: dict | None = None,
        data: bytes | None = None,
        enc: str | None = None,
    ) -> None:
        """Store a new current version (the previous current one, if any, must be demoted or removed first).
        A small body may come as `data` (kept in the row) instead of a blob; `enc` says how either is stored."""
        if data is not None:
            blob_id = INLINE
        self.db.execute(
            "INSERT INTO s3_objects (bucket_id, key, version_id, is_latest, delete_marker, size, etag, modified, "
            "storage_class, blob_id, parts, meta, data, enc) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                bucket_id,
                key,
                version_id,
                int(delete_marker),
                size,
                etag,
                modified,
                storage_class,
                blob_id,
                json.dumps(parts) if parts else None,
                _compact(meta or {}),
                data,
                enc,
            ),
        )

    def replace_version(self, row_id: int, **fields: Any) -> None:
        """Overwrite the current "null" version `row_id` in place with a new one (what removing it and inserting
        the new one stores, in one UPDATE): for a bucket that was never versioned, its only version. `fields`:
        every one of `_replace`'s."""
        self._replace(
            "version_id = 'null', is_latest = 1, delete_marker = 0, ", "id = ?", (row_id,), **fields
        )

    def replace_unfiled_current(self, bucket_id: int, key: str, **fields: Any) -> bool:
        """replace_version of the current "null" version of `key` if it has no blob file (its body is in its
        row), found and overwritten in one statement; False (nothing written) when there is none. The columns
        the indexes cover stay as they are (the row is already current, "null", not a delete marker), so the
        UPDATE leaves the index pages alone: one page for the commit to write instead of two."""
        return (
            self._replace(
                "",
                "bucket_id = ? AND key = ? AND is_latest = 1 AND version_id = 'null' AND delete_marker = 0 "
                "AND COALESCE(blob_id, '') = '' AND parts IS NULL",
                (bucket_id, key),
                **fields,
            )
            == 1
        )

    def _replace(
        self,
        assign: str,
        where: str,
        args: tuple[Any, ...],
        *,
        size: int,
        etag: str | None,
        modified: float,
        storage_class: str,
        blob_id: str | None,
        parts: list | None,
        meta: dict | None,
        data: bytes | None,
        enc: str | None,
    ) -> int:
        if data is not None:
            blob_id = INLINE
        return self.db.execute(
            f"UPDATE s3_objects SET {assign}size = ?, etag = ?, modified = ?, storage_class = ?, blob_id = ?, "
            f"parts = ?, meta = ?, data = ?, enc = ? WHERE {where}",
            (
                size,
                etag,
                modified,
                storage_class,
                blob_id,
                json.dumps(parts) if parts else None,
                _compact(meta or {}),
                data,
                enc,
                *args,
            ),
        ).rowcount

    def server_key(self, now: float) -> bytes:
        """The server's SSE-S3 key (AES-256), made and stored the first time."""
        row = self.db.one("SELECT key FROM s3_keys WHERE id = 1")
        if row is not None:
            return bytes(row[0])
        key = os.urandom(32)
        self.save_server_key(key, now)
        return key

    def save_server_key(self, key: bytes, created: float) -> None:
        """Store the key (again: `overcast reset` empties every table, and the key must outlive it)."""
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO s3_keys (id, key, created) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING",
                (key, created),
            )

    def inline_data(self, row_id: int) -> bytes:
        row = self.db.one("SELECT data FROM s3_objects WHERE id = ?", (row_id,))
        return bytes(row[0]) if row and row[0] is not None else b""

    def version_by_id(self, row_id: int) -> ObjectVersion | None:
        row = self.db.one(f"SELECT {_OBJECT_COLUMNS} FROM s3_objects WHERE id = ?", (row_id,))
        return ObjectVersion(*row) if row else None

    # -- restores in progress ----------------------------------------------------------------------

    def schedule_restore(self, row_id: int, ready_at: float) -> None:
        self.db.execute(
            "INSERT INTO s3_restores (object_id, ready_at) VALUES (?, ?) "
            "ON CONFLICT (object_id) DO UPDATE SET ready_at = excluded.ready_at",
            (row_id, ready_at),
        )

    def due_restores(self, now: float) -> list[tuple[int, float]]:
        return self.db.all(
            "SELECT object_id, ready_at FROM s3_restores WHERE ready_at <= ? ORDER BY ready_at", (now,)
        )

    def next_restore(self) -> float | None:
        row = self.db.one("SELECT MIN(ready_at) FROM s3_restores")
        return row[0] if row else None

    def forget_restore(self, row_id: int) -> None:
        self.db.execute("DELETE FROM s3_restores WHERE object_id = ?", (row_id,))

    def demote(self, row_id: int) -> None:
        self.db.execute("UPDATE s3_objects SET is_latest = 0 WHERE id = ?", (row_id,))

    def remove(self, row_id: int) -> None:
        self.db.execute("DELETE FROM s3_objects WHERE id = ?", (row_id,))

    def promote_newest(self, bucket_id: int, key: str) -> None:
        """After the current version was deleted: the newest remaining version becomes current."""
        self.db.execute(
            "UPDATE s3_objects SET is_latest = 1 WHERE id = (SELECT id FROM s3_objects WHERE bucket_id = ? AND "
            "key = ? ORDER BY id DESC LIMIT 1)",
            (bucket_id, key),
        )

    def update_object(self, row_id: int, **columns: Any) -> None:
        if "meta" in columns:
            columns["meta"] = _compact(columns["meta"])
        assignments = ", ".join(f"{name} = ?" for name in columns)
        self.db.execute(f"UPDATE s3_objects SET {assignments} WHERE id = ?", (*columns.values(), row_id))

    def current_page(
        self, bucket_id: int, lower: str, inclusive: bool, upper: str | None, limit: int
    ) -> Iterator[ObjectVersion]:
        """Up to `limit` current versions (delete markers included) from `lower` up to `upper`, by key, read
        lazily: a caller that stops early (at a common prefix) has not paid for the rest."""
        sql = (
            f"SELECT {_OBJECT_COLUMNS} FROM s3_objects INDEXED BY s3_objects_current WHERE bucket_id = ? AND "
            f"is_latest = 1 AND key {'>=' if inclusive else '>'} ? {'AND key < ?' if upper is not None else ''} "
            "ORDER BY key LIMIT ?"
        )
        args = (bucket_id, lower, upper, limit) if upper is not None else (bucket_id, lower, limit)
        return (ObjectVersion(*row) for row in self.db.execute(sql, args))

    def versions_page(
        self,
        bucket_id: int,
        lower: str,
        inclusive: bool,
        upper: str | None,
        limit: int,
        within: tuple[str, int] | None = None,
    ) -> Iterator[ObjectVersion]:
        """Versions by key, newest first within a key: first the versions of `within` = (key, row id) older
        than that row, then those of keys from `lower` up to `upper`."""
        if within is not None:
            older = self.db.execute(
                f"SELECT {_OBJECT_COLUMNS} FROM s3_objects WHERE bucket_id = ? AND key = ? AND id < ? "
                "ORDER BY id DESC LIMIT ?",
                (bucket_id, within[0], within[1], limit),
            )
            for row in older:
                limit -= 1
                yield ObjectVersion(*row)
        if limit > 0:
            sql = (
                f"SELECT {_OBJECT_COLUMNS} FROM s3_objects WHERE bucket_id = ? AND "
                f"key {'>=' if inclusive else '>'} ? {'AND key < ?' if upper is not None else ''} "
                "ORDER BY key, id DESC LIMIT ?"
            )
            args = (bucket_id, lower, upper, limit) if upper is not None else (bucket_id, lower, limit)
            for row in self.db.execute(sql, args):
                yield ObjectVersion(*row)

    def versions_of(self, bucket_id: int, key: str) -> list[ObjectVersion]:
        rows = self.db.all(
            f"SELECT {_OBJECT_COLUMNS} FROM s3_objects WHERE bucket_id = ? AND key = ? ORDER BY id DESC",
            (bucket_id, key),
        )
        return [ObjectVersion(*row) for row in rows]

    def versions_after(self, bucket_id: int, after_id: int, limit: int) -> list[ObjectVersion]:
        """Every version of the bucket in storage order (the lifecycle worker walks them in batches)."""
        rows = self.db.all(
            f"SELECT {_OBJECT_COLUMNS} FROM s3_objects WHERE bucket_id = ? AND id > ? ORDER BY id LIMIT ?",
            (bucket_id, after_id, limit),
        )
        return [ObjectVersion(*row) for row in rows]

    # -- multipart uploads -------------------------------------------------------------------------

    def create_upload(self, upload_id: str, bucket_id: int, key: str, initiated: float, meta: dict) -> None:
        self.db.execute(
            "INSERT INTO s3_uploads (id, bucket_id, key, initiated, meta) VALUES (?, ?, ?, ?, ?)",
            (upload_id, bucket_id, key, initiated, json.dumps(meta)),
        )

    def upload(self, upload_id: str) -> tuple[int, str, float, dict] | None:
        row = self.db.one("SELECT bucket_id, key, initiated, meta FROM s3_uploads WHERE id = ?", (upload_id,))
        return (row[0], row[1], row[2], json.loads(row[3])) if row else None

    def uploads_page(self, bucket_id: int, after_key: str, after_id: str, limit: int) -> list[tuple]:
        rows = self.db.all(
            "SELECT id, key, initiated, meta FROM s3_uploads WHERE bucket_id = ? AND (key > ? OR (key = ? AND "
            "id > ?)) ORDER BY key, initiated, id LIMIT ?",
            (bucket_id, after_key, after_key, after_id, limit),
        )
        return [(upload_id, key, initiated, json.loads(meta)) for upload_id, key, initiated, meta in rows]

    def uploads_started_before(self, bucket_id: int, moment: float) -> list[tuple[str, str]]:
        return self.db.all(
            "SELECT id, key FROM s3_uploads WHERE bucket_id = ? AND initiated <= ?", (bucket_id, moment)
        )

    def put_part(
        self,
        upload_id: str,
        number: int,
        blob_id: str,
        size: int,
        etag: str,
        modified: float,
        checksum: str | None,
    ) -> str | None:
        """Store a part; returns the blob id of the part it replaced, if any."""
        old = self.db.one(
            "SELECT blob_id FROM s3_parts WHERE upload_id = ? AND part_number = ?", (upload_id, number)
        )
        self.db.execute(
            "INSERT INTO s3_parts (upload_id, part_number, blob_id, size, etag, modified, checksum) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (upload_id, part_number) DO UPDATE SET "
            "blob_id = excluded.blob_id, size = excluded.size, etag = excluded.etag, "
            "modified = excluded.modified, checksum = excluded.checksum",
            (upload_id, number, blob_id, size, etag, modified, checksum),
        )
        return old[0] if old else None

    def parts(self, upload_id: str, after: int = 0, limit: int = 10_001) -> list[tuple]:
        """(part_number, blob_id, size, etag, modified, checksum) in part order."""
        return self.db.all(
            "SELECT part_number, blob_id, size, etag, modified, checksum FROM s3_parts WHERE upload_id = ? "
            "AND part_number > ? ORDER BY part_number LIMIT ?",
            (upload_id, after, limit),
        )

    def record_completion(
        self, upload_id: str, bucket_id: int, key: str, completed: float, parts: list, result: dict
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO s3_completed_uploads (id, bucket_id, key, completed, parts, result) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (upload_id, bucket_id, key, completed, json.dumps(parts), json.dumps(result)),
        )

    def completion(self, upload_id: str) -> tuple[int, str, list, dict] | None:
        """(bucket id, key, parts as requested, result) of a completed upload."""
        row = self.db.one(
            "SELECT bucket_id, key, parts, result FROM s3_completed_uploads WHERE id = ?", (upload_id,)
        )
        return (row[0], row[1], json.loads(row[2]), json.loads(row[3])) if row else None

    def forget_completions_before(self, moment: float) -> None:
        self.db.execute("DELETE FROM s3_completed_uploads WHERE completed < ?", (moment,))

    def delete_upload(self, upload_id: str) -> None:
        self.db.execute("DELETE FROM s3_parts WHERE upload_id = ?", (upload_id,))
        self.db.execute("DELETE FROM s3_uploads WHERE id = ?", (upload_id,))
