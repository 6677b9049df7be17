"""DynamoDB storage in SQLite: tables, items, secondary-index entries, point-in-time history (streams' and
backups' SQL is in stream_store.py and backup_store.py; every table of the service is created here).

One row per item keyed by (table, hash of partition key, partition key, sort key). Keys are stored in an
order-preserving byte encoding (values.encode_key_value), so a Query is one range scan of the primary key
B-tree and Scan walks it in hash order (parallel-scan segments are ranges of that hash). Index entries hold
only keys and point at the item row; they are written in the same transaction as the item.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from overcast.services.dynamodb.backup_store import BackupStore
from overcast.services.dynamodb.stream_store import StreamStore
from overcast.services.dynamodb.values import (
    Item,
    dump_item,
    encode_key_value,
    encode_number,
    has_binary,
    invalid_parameter,
    load_item,
    parse_number,
    validation,
)
from overcast.services.kit.cache import RowsWhileUnchanged
from overcast.services.kit.store import TagStore
from overcast.state.database import Database

MIGRATIONS = [
    """
    CREATE TABLE ddb_tables (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        meta TEXT NOT NULL,
        ttl_attribute TEXT,
        UNIQUE (account, region, name)
    );
    CREATE TABLE ddb_items (
        table_id INTEGER NOT NULL,
        h INTEGER NOT NULL,
        pk BLOB NOT NULL,
        sk BLOB NOT NULL,
        item TEXT NOT NULL,
        binary INTEGER NOT NULL,
        size INTEGER NOT NULL,
        expires REAL,
        PRIMARY KEY (table_id, h, pk, sk)
    ) WITHOUT ROWID;
    CREATE INDEX ddb_items_expiry ON ddb_items (table_id, expires) WHERE expires IS NOT NULL;
    CREATE TABLE ddb_index_entries (
        index_id INTEGER NOT NULL,
        h INTEGER NOT NULL,
        ipk BLOB NOT NULL,
        isk BLOB NOT NULL,
        th INTEGER NOT NULL,
        tpk BLOB NOT NULL,
        tsk BLOB NOT NULL,
        PRIMARY KEY (index_id, h, ipk, isk, tpk, tsk)
    ) WITHOUT ROWID;
    CREATE TABLE ddb_index_ids (id INTEGER PRIMARY KEY AUTOINCREMENT, table_id INTEGER NOT NULL, name TEXT NOT NULL);
    CREATE TABLE ddb_streams (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        table_name TEXT NOT NULL,
        arn TEXT NOT NULL UNIQUE,
        label TEXT NOT NULL,
        view_type TEXT NOT NULL,
        key_schema TEXT NOT NULL,
        created REAL NOT NULL,
        disabled REAL
    );
    CREATE INDEX ddb_streams_by_table ON ddb_streams (account, region, table_name);
    CREATE TABLE ddb_stream_records (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        stream_id INTEGER NOT NULL,
        created REAL NOT NULL,
        record TEXT NOT NULL
    );
    CREATE INDEX ddb_stream_records_by_stream ON ddb_stream_records (stream_id, seq);
    CREATE TABLE ddb_tx_tokens (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        token TEXT NOT NULL,
        digest TEXT NOT NULL,
        created REAL NOT NULL,
        response TEXT NOT NULL,
        PRIMARY KEY (account, region, token)
    );
    CREATE TABLE ddb_backups (
        arn TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        table_name TEXT NOT NULL,
        name TEXT NOT NULL,
        created REAL NOT NULL,
        meta TEXT NOT NULL
    );
    CREATE TABLE ddb_backup_items (
        backup_arn TEXT NOT NULL,
        seq INTEGER NOT NULL,
        item TEXT NOT NULL,
        binary INTEGER NOT NULL,
        PRIMARY KEY (backup_arn, seq)
    ) WITHOUT ROWID;
    """,
    # Counters kept with every write so DescribeTable stays O(1) at any table size.
    """
    ALTER TABLE ddb_tables ADD COLUMN item_count INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE ddb_tables ADD COLUMN size_bytes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE ddb_index_ids ADD COLUMN item_count INTEGER NOT NULL DEFAULT 0;
    """,
    # Point-in-time recovery: every item version (NULL item: deleted) while recovery is enabled.
    """
    CREATE TABLE ddb_item_history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        table_id INTEGER NOT NULL,
        at REAL NOT NULL,
        h INTEGER NOT NULL,
        pk BLOB NOT NULL,
        sk BLOB NOT NULL,
        item TEXT,
        binary INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX ddb_item_history_by_key ON ddb_item_history (table_id, h, pk, sk, seq);
    """,
    # Table tags move from the table's meta to the kit's table of every service's tags (services/kit/store.py),
    # in their order.
    """
    INSERT OR IGNORE INTO resource_tags (arn, tag_key, tag_value, account, region, service, resource_type, position)
    SELECT json_extract(t.meta, '$.TableArn'), json_extract(tag.value, '$.Key'),
        COALESCE(json_extract(tag.value, '$.Value'), ''), t.account, t.region, 'dynamodb', 'table', tag.key
    FROM ddb_tables AS t, json_each(t.meta, '$.Tags') AS tag;
    UPDATE ddb_tables SET meta = json_remove(meta, '$.Tags') WHERE json_type(meta, '$.Tags') IS NOT NULL;
    """,
    # Exports to S3 (ExportTableToPointInTime): their ExportDescription, by ARN.
    """
    CREATE TABLE ddb_exports (
        arn TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, table_arn TEXT NOT NULL,
        started REAL NOT NULL, description TEXT NOT NULL
    );
    CREATE INDEX ddb_exports_scope ON ddb_exports (account, region, started);
    """,
    # Imports from S3 (ImportTable): their ImportTableDescription, by ARN.
    """
    CREATE TABLE ddb_imports (
        arn TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, table_arn TEXT NOT NULL,
        started REAL NOT NULL, description TEXT NOT NULL
    );
    CREATE INDEX ddb_imports_scope ON ddb_imports (account, region, started);
    """,
]

HASH_SPACE = 1 << 32
_EMPTY = b""


@dataclass
class KeyShape:
    hash_name: str
    hash_type: str
    range_name: str | None
    range_type: str | None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.hash_name, self.range_name) if self.range_name else (self.hash_name,)


@dataclass
class Index:
    id: int
    name: str
    local: bool
    key: KeyShape
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    non_key: tuple[str, ...] = ()

    def projected_names(self, table_key: KeyShape) -> set[str] | None:
        """Attribute names the index holds, None for ALL."""
        if self.projection == "ALL":
            return None
        return {*table_key.names, *self.key.names, *self.non_key}


@dataclass
class Table:
    id: int
    name: str
    account: str
    region: str
    meta: dict[str, Any]
    key: KeyShape
    indexes: dict[str, Index] = field(default_factory=dict)
    stream_id: int | None = None
    stream_view: str | None = None
    ttl_attribute: str | None = None

    @property
    def arn(self) -> str:
        return self.meta["TableArn"]


def key_shape(key_schema: list[dict[str, str]], definitions: dict[str, str]) -> KeyShape:
    hash_name = next(k["AttributeName"] for k in key_schema if k["KeyType"] == "HASH")
    range_name = next((k["AttributeName"] for k in key_schema if k["KeyType"] == "RANGE"), None)
    return KeyShape(
        hash_name, definitions[hash_name], range_name, definitions.get(range_name) if range_name else None
    )


def partition_hash(pk: bytes) -> int:
    return zlib.crc32(pk)


ITEM_BYTES_KEPT = 4096  # an item row is remembered only when its item is this small


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        TagStore(db)  # the kit's tag table first: a migration copies table tags into it
        db.migrate("dynamodb", MIGRATIONS)
        self._tables: dict[tuple[str, str, str], Table] = {}
        self._items = RowsWhileUnchanged(db)  # GetItem's rows of small items (kit/cache.py)
        self.streams = StreamStore(db)
        self.backups = BackupStore(db)

    def forget(self) -> None:
        self._tables.clear()
        self._items.forget()

    # -- tables ------------------------------------------------------------------------------------

    def table(self, account: str, region: str, name: str) -> Table | None:
        cache_key = (account, region, name)
        found = self._tables.get(cache_key)
        if found is None:
            row = self.db.one(
                "SELECT id, meta, ttl_attribute FROM ddb_tables WHERE account = ? AND region = ? AND name = ?",
                cache_key,
            )
            if row is None:
                return None
            found = self._build_table(row[0], account, region, name, json.loads(row[1]), row[2])
            self._tables[cache_key] = found
        return found

    def _build_table(
        self, table_id: int, account: str, region: str, name: str, meta: dict, ttl: str | None
    ) -> Table:
        definitions = {d["AttributeName"]: d["AttributeType"] for d in meta["AttributeDefinitions"]}
        table = Table(table_id, name, account, region, meta, key_shape(meta["KeySchema"], definitions))
        for local, listing in ((False, "GlobalSecondaryIndexes"), (True, "LocalSecondaryIndexes")):
            for index in meta.get(listing, ()):
                projection = index["Projection"]
                table.indexes[index["IndexName"]] = Index(
                    index["_id"],
                    index["IndexName"],
                    local,
                    key_shape(index["KeySchema"], definitions),
                    projection.get("ProjectionType", "ALL"),
                    tuple(projection.get("NonKeyAttributes", ())),
                )
        stream = meta.get("_stream")
        if stream:
            table.stream_id, table.stream_view = stream["id"], stream["view"]
        table.ttl_attribute = ttl
        return table

    def tables(self, account: str, region: str, after: str | None, limit: int) -> list[str]:
        return [
            name
            for (name,) in self.db.all(
                "SELECT name FROM ddb_tables WHERE account = ? AND region = ? AND name > ? ORDER BY name LIMIT ?",
                (account, region, after or "", limit),
            )
        ]

    def create_table(self, account: str, region: str, name: str, meta: dict[str, Any]) -> Table:
        cursor = self.db.execute(
            "INSERT INTO ddb_tables (account, region, name, meta) VALUES (?, ?, ?, ?)",
            (account, region, name, "{}"),
        )
        table_id = cursor.lastrowid
        for listing in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            for index in meta.get(listing, ()):
                index["_id"] = self.new_index_id(table_id, index["IndexName"])
        self.save_meta(account, region, name, table_id, meta)
        return self.table(account, region, name)  # type: ignore[return-value]

    def new_index_id(self, table_id: int, name: str) -> int:
        return self.db.execute(
            "INSERT INTO ddb_index_ids (table_id, name) VALUES (?, ?)", (table_id, name)
        ).lastrowid

    def save_meta(self, account: str, region: str, name: str, table_id: int, meta: dict[str, Any]) -> None:
        self.db.execute("UPDATE ddb_tables SET meta = ? WHERE id = ?", (json.dumps(meta), table_id))
        self._invalidate(account, region, name)

    def set_ttl_attribute(self, table: Table, attribute: str | None, now: float) -> None:
        self.db.execute("UPDATE ddb_tables SET ttl_attribute = ? WHERE id = ?", (attribute, table.id))
        self._invalidate(table.account, table.region, table.name)
        if attribute is None:
            self.db.execute(
                "UPDATE ddb_items SET expires = NULL WHERE table_id = ? AND expires IS NOT NULL", (table.id,)
            )
            return
        for h, pk, sk, text, binary in self.all_items(table.id):
            expires = expiry_of(load_item(text, bool(binary)), attribute)
            if expires is not None:
                self.db.execute(
                    "UPDATE ddb_items SET expires = ? WHERE table_id = ? AND h = ? AND pk = ? AND sk = ?",
                    (expires, table.id, h, pk, sk),
                )

    def all_items(self, table_id: int, chunk: int = 1000) -> Iterator[tuple]:
        """Every item row of a table, read a chunk at a time in key order (safe to write between chunks)."""
        position: tuple = (-1, b"", b"")
        while True:
            rows = self.db.all(
                "SELECT h, pk, sk, item, binary FROM ddb_items WHERE table_id = ? AND (h, pk, sk) > (?, ?, ?) "
                "ORDER BY h, pk, sk LIMIT ?",
                (table_id, *position, chunk),
            )
            yield from rows
            if len(rows) < chunk:
                return
            position = rows[-1][:3]

    def copy_items(self, source: Table, target: Table) -> None:
        """Every item of `source` into the empty table `target` (same keys), with its indexes and counts."""
        self.db.execute(
            "INSERT INTO ddb_items (table_id, h, pk, sk, item, binary, size, expires) "
            "SELECT ?, h, pk, sk, item, binary, size, expires FROM ddb_items WHERE table_id = ?",
            (target.id, source.id),
        )
        self.db.execute(
            "UPDATE ddb_tables SET (item_count, size_bytes) = "
            "(SELECT item_count, size_bytes FROM ddb_tables WHERE id = ?) WHERE id = ?",
            (source.id, target.id),
        )
        for index in target.indexes.values():
            self.backfill_index(target, index)

    def delete_table(self, table: Table) -> None:
        self.db.execute("DELETE FROM ddb_items WHERE table_id = ?", (table.id,))
        self.drop_history(table)
        for index in table.indexes.values():
            self.drop_index_entries(index.id)
        self.db.execute("DELETE FROM ddb_tables WHERE id = ?", (table.id,))
        self._invalidate(table.account, table.region, table.name)

    def drop_index_entries(self, index_id: int) -> None:
        self.db.execute("DELETE FROM ddb_index_entries WHERE index_id = ?", (index_id,))

    def _invalidate(self, account: str, region: str, name: str) -> None:
        # Dropped now and again after commit: a rolled-back change must not survive in the cache either.
        self._tables.pop((account, region, name), None)
        self.db.after_commit(lambda: self._tables.pop((account, region, name), None))

    def table_stats(self, table: Table) -> tuple[int, int]:
        row = self.db.one("SELECT item_count, size_bytes FROM ddb_tables WHERE id = ?", (table.id,))
        return row[0], row[1]  # type: ignore[index]

    def index_stats(self, index: Index) -> int:
        row = self.db.one("SELECT item_count FROM ddb_index_ids WHERE id = ?", (index.id,))
        return row[0]  # type: ignore[index]

    def count_change(self, table: Table, items: int, size: int) -> None:
        if not items and not size:  # an overwrite of the same size: nothing to add (and no page to dirty)
            return
        self.db.execute(
            "UPDATE ddb_tables SET item_count = item_count + ?, size_bytes = size_bytes + ? WHERE id = ?",
            (items, size, table.id),
        )

    def _count_index_change(self, index_id: int, items: int) -> None:
        self.db.execute(
            "UPDATE ddb_index_ids SET item_count = item_count + ? WHERE id = ?", (items, index_id)
        )

    # -- items -------------------------------------------------------------------------------------

    def collection_size(self, table: Table, key: tuple[int, bytes, bytes]) -> int:
        """Bytes of the items sharing `key`'s partition key (an item collection)."""
        row = self.db.one(
            "SELECT COALESCE(SUM(size), 0) FROM ddb_items WHERE table_id = ? AND h = ? AND pk = ?",
            (table.id, key[0], key[1]),
        )
        return int(row[0]) if row else 0

    def get(self, table: Table, key: tuple[int, bytes, bytes]) -> tuple[Item, int] | None:
        """The item (a fresh dict each call: callers change theirs) and its size."""
        row = self._items.read(
            (table.id, *key),
            lambda: self.db.one(
                "SELECT item, binary, size FROM ddb_items WHERE table_id = ? AND h = ? AND pk = ? AND sk = ?",
                (table.id, *key),
            ),
            keep=lambda row: row[2] <= ITEM_BYTES_KEPT,
        )
        if row is None:
            return None
        return load_item(row[0], bool(row[1])), row[2]

    def put(
        self, table: Table, key: tuple[int, bytes, bytes], item: Item, size: int, exists: bool = False
    ) -> None:
        """Store `item` under `key`; `exists`: the caller read a stored item there in this transaction (an
        UPDATE in place then costs less than INSERT OR REPLACE's delete and insert)."""
        expires = expiry_of(item, table.ttl_attribute) if table.ttl_attribute else None
        text, binary = dump_item(item), has_binary(item)
        if exists:
            cursor = self.db.execute(
                "UPDATE ddb_items SET item = ?, binary = ?, size = ?, expires = ? "
                "WHERE table_id = ? AND h = ? AND pk = ? AND sk = ?",
                (text, binary, size, expires, table.id, *key),
            )
            if cursor.rowcount:
                return
        self.db.execute(
            "INSERT OR REPLACE INTO ddb_items (table_id, h, pk, sk, item, binary, size, expires) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (table.id, *key, text, binary, size, expires),
        )

    def delete(self, table: Table, key: tuple[int, bytes, bytes]) -> None:
        self.db.execute(
            "DELETE FROM ddb_items WHERE table_id = ? AND h = ? AND pk = ? AND sk = ?", (table.id, *key)
        )

    def write_index_entries(
        self, table: Table, key: tuple[int, bytes, bytes], old: Item | None, new: Item | None
    ) -> None:
        for index in table.indexes.values():
            old_entry = index_key(index, old) if old is not None else None
            new_entry = index_key(index, new) if new is not None else None
            if old_entry == new_entry:
                continue
            if old_entry is not None:
                self.db.execute(
                    "DELETE FROM ddb_index_entries WHERE index_id = ? AND h = ? AND ipk = ? AND isk = ? "
                    "AND tpk = ? AND tsk = ?",
                    (index.id, *old_entry, key[1], key[2]),
                )
            if new_entry is not None:
                self.db.execute(
                    "INSERT OR REPLACE INTO ddb_index_entries (index_id, h, ipk, isk, th, tpk, tsk) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (index.id, *new_entry, *key),
                )
            if (old_entry is None) != (new_entry is None):
                self._count_index_change(index.id, 1 if old_entry is None else -1)

    def backfill_index(self, table: Table, index: Index) -> None:
        count = 0
        for h, pk, sk, text, binary in self.all_items(table.id):
            entry = index_key(index, load_item(text, bool(binary)))
            if entry is not None:
                self.db.execute(
                    "INSERT OR REPLACE INTO ddb_index_entries (index_id, h, ipk, isk, th, tpk, tsk) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (index.id, *entry, h, pk, sk),
                )
                count += 1
        self._count_index_change(index.id, count)

    # -- reading many ------------------------------------------------------------------------------

    def range(
        self,
        table: Table,
        index: Index | None,
        where: str,
        args: tuple,
        descending: bool,
    ) -> Iterator[tuple[Item, int, tuple]]:
        """Items in key order matching `where` (over columns h, pk, sk or the index's), lazily.

        Yields (item, size, position) where position is the row's full key for LastEvaluatedKey.
        """
        order = "DESC" if descending else "ASC"
        if index is None:
            sql = (
                f"SELECT item, binary, size, h, pk, sk FROM ddb_items WHERE table_id = ? AND {where} "
                f"ORDER BY h {order}, pk {order}, sk {order}"
            )
            cursor = self.db.execute(sql, (table.id, *args))
        else:
            sql = (
                "SELECT i.item, i.binary, i.size, x.h, x.ipk, x.isk, x.tpk, x.tsk FROM ddb_index_entries x "
                "JOIN ddb_items i ON i.table_id = ? AND i.h = x.th AND i.pk = x.tpk AND i.sk = x.tsk "
                f"WHERE x.index_id = ? AND {where} "
                f"ORDER BY x.h {order}, x.ipk {order}, x.isk {order}, x.tpk {order}, x.tsk {order}"
            )
            cursor = self.db.execute(sql, (table.id, index.id, *args))
        for row in cursor:
            yield load_item(row[0], bool(row[1])), row[2], row[3:]

    # -- point-in-time recovery -------------------------------------------------------------------------

    def record_history(
        self, table: Table, key: tuple[int, bytes, bytes], item: Item | None, at: float
    ) -> None:
        self.db.execute(
            "INSERT INTO ddb_item_history (table_id, at, h, pk, sk, item, binary) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                table.id,
                at,
                *key,
                dump_item(item) if item is not None else None,
                has_binary(item) if item else 0,
            ),
        )

    def snapshot_history(self, table: Table, at: float) -> None:
        """The baseline when recovery is turned on: every current item as a version at `at`."""
        for h, pk, sk, text, binary in self.all_items(table.id):
            self.db.execute(
                "INSERT INTO ddb_item_history (table_id, at, h, pk, sk, item, binary) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (table.id, at, h, pk, sk, text, binary),
            )

    def drop_history(self, table: Table) -> None:
        self.db.execute("DELETE FROM ddb_item_history WHERE table_id = ?", (table.id,))

    def history_at(self, table: Table, moment: float) -> Iterator[Item]:
        """The items of a table as they were at `moment`: each key's latest version written by then."""
        rows = self.db.execute(
            "SELECT x.item, x.binary FROM ddb_item_history x WHERE x.table_id = ? AND x.seq = ("
            "SELECT MAX(y.seq) FROM ddb_item_history y WHERE y.table_id = x.table_id AND y.h = x.h AND y.pk = x.pk "
            "AND y.sk = x.sk AND y.at <= ?) AND x.item IS NOT NULL",
            (table.id, moment),
        )
        for text, binary in rows:
            yield load_item(text, bool(binary))

    # -- TTL ---------------------------------------------------------------------------------------

    def ttl_tables(self) -> list[tuple[str, str, str]]:
        return self.db.all("SELECT account, region, name FROM ddb_tables WHERE ttl_attribute IS NOT NULL")

    def expired(
        self, table: Table, before: float, after: float, limit: int
    ) -> list[tuple[int, bytes, bytes]]:
        return self.db.all(
            "SELECT h, pk, sk FROM ddb_items WHERE table_id = ? AND expires IS NOT NULL AND expires <= ? "
            "AND expires > ? LIMIT ?",
            (table.id, before, after, limit),
        )

    # -- transaction idempotency -------------------------------------------------------------------

    # -- exports to S3 -----------------------------------------------------------------------------------------

    def export(self, arn: str) -> dict[str, Any] | None:
        row = self.db.one("SELECT description FROM ddb_exports WHERE arn = ?", (arn,))
        return json.loads(row[0]) if row else None

    def save_export(self, account: str, region: str, description: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO ddb_exports (arn, account, region, table_arn, started, description) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (arn) DO UPDATE SET description = excluded.description",
            (
                description["ExportArn"],
                account,
                region,
                description["TableArn"],
                description["StartTime"],
                json.dumps(description),
            ),
        )

    def exports(self, account: str, region: str, table_arn: str | None) -> list[dict[str, Any]]:
        sql = "SELECT description FROM ddb_exports WHERE account = ? AND region = ?"
        args: list[Any] = [account, region]
        if table_arn:
            sql += " AND table_arn = ?"
            args.append(table_arn)
        return [json.loads(d) for (d,) in self.db.all(sql + " ORDER BY started, arn", args)]

    def unfinished_exports(self) -> list[tuple[str, str, dict[str, Any]]]:
        rows = self.db.all(
            "SELECT account, region, description FROM ddb_exports "
            "WHERE json_extract(description, '$.ExportStatus') = 'IN_PROGRESS'"
        )
        return [(a, r, json.loads(d)) for a, r, d in rows]

    # -- imports from S3 ---------------------------------------------------------------------------------------

    def import_(self, arn: str) -> dict[str, Any] | None:
        row = self.db.one("SELECT description FROM ddb_imports WHERE arn = ?", (arn,))
        return json.loads(row[0]) if row else None

    def save_import(self, account: str, region: str, description: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO ddb_imports (arn, account, region, table_arn, started, description) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (arn) DO UPDATE SET description = excluded.description",
            (
                description["ImportArn"],
                account,
                region,
                description["TableArn"],
                description["StartTime"],
                json.dumps(description),
            ),
        )

    def imports(self, account: str, region: str, table_arn: str | None) -> list[dict[str, Any]]:
        sql = "SELECT description FROM ddb_imports WHERE account = ? AND region = ?"
        args: list[Any] = [account, region]
        if table_arn:
            sql += " AND table_arn = ?"
            args.append(table_arn)
        return [json.loads(d) for (d,) in self.db.all(sql + " ORDER BY started, arn", args)]

    def unfinished_imports(self) -> list[tuple[str, str, dict[str, Any]]]:
        rows = self.db.all(
            "SELECT account, region, description FROM ddb_imports "
            "WHERE json_extract(description, '$.ImportStatus') = 'IN_PROGRESS'"
        )
        return [(a, r, json.loads(d)) for a, r, d in rows]

    def transaction(self, account: str, region: str, token: str, since: float) -> tuple[str, str] | None:
        """(request digest, response JSON) of a transaction with this client token made after `since`."""
        row = self.db.one(
            "SELECT digest, response FROM ddb_tx_tokens WHERE account = ? AND region = ? AND token = ? AND created > ?",
            (account, region, token, since),
        )
        return (row[0], row[1]) if row else None

    def remember_transaction(
        self, account: str, region: str, token: str, digest: str, created: float, response: str
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO ddb_tx_tokens (account, region, token, digest, created, response) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (account, region, token, digest, created, response),
        )


def expiry_of(item: Item, attribute: str | None) -> float | None:
    value = item.get(attribute) if attribute else None
    if value is None or "N" not in value:
        return None
    try:
        return float(value["N"])
    except ValueError:
        return None


# -- keys --------------------------------------------------------------------------------------------


def _key_part(value: dict[str, Any] | None, name: str, expected: str) -> bytes:
    if value is None or expected not in value or len(value) != 1:
        raise validation("The provided key element does not match the schema")
    encoded = encode_number(parse_number(value["N"])) if expected == "N" else encode_key_value(value)
    if not encoded:
        kind = "string" if expected == "S" else "binary"
        raise validation(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an "
            f"empty {kind} value. Key: {name}"
        )
    return encoded


def key_from_key(shape: KeyShape, key: Item) -> tuple[int, bytes, bytes]:
    """The storage key for a `Key` parameter (exactly the key attributes, of the right types)."""
    if len(key) != len(shape.names):
        raise validation("The provided key element does not match the schema")
    pk = _key_part(key.get(shape.hash_name), shape.hash_name, shape.hash_type)
    sk = (
        _key_part(key.get(shape.range_name), shape.range_name, shape.range_type)
        if shape.range_name
        else _EMPTY
    )
    return partition_hash(pk), pk, sk


def key_from_item(shape: KeyShape, item: Item) -> tuple[int, bytes, bytes]:
    """The storage key of a whole item (PutItem), with PutItem's messages for missing or mistyped keys."""
    parts = []
    for name, expected in ((shape.hash_name, shape.hash_type), (shape.range_name, shape.range_type)):
        if name is None:
            parts.append(_EMPTY)
            continue
        value = item.get(name)
        if value is None:
            raise invalid_parameter(f"Missing the key {name} in the item")
        if expected not in value:
            raise invalid_parameter(
                f"Type mismatch for key {name} expected: {expected} actual: {next(iter(value))}"
            )
        parts.append(_key_part(value, name, expected))
    return partition_hash(parts[0]), parts[0], parts[1]


def key_attributes(shape: KeyShape, item: Item) -> Item:
    return {name: item[name] for name in shape.names}


def index_key(index: Index, item: Item) -> tuple[int, bytes, bytes] | None:
    """The index entry key of an item, None when the item lacks the index's key attributes (sparse index)."""
    hash_value = item.get(index.key.hash_name)
    if hash_value is None or index.key.hash_type not in hash_value:
        return None
    ipk = encode_key_value(hash_value)
    isk = _EMPTY
    if index.key.range_name:
        range_value = item.get(index.key.range_name)
        if range_value is None or index.key.range_type not in range_value:
            return None
        isk = encode_key_value(range_value)
    return partition_hash(ipk), ipk, isk


def check_index_keys(table: Table, item: Item) -> None:
    """Index key attributes present in an item must have the index's type and not be empty."""
    for index in table.indexes.values():
        for name, expected in (
            (index.key.hash_name, index.key.hash_type),
            (index.key.range_name, index.key.range_type),
        ):
            value = item.get(name) if name else None
            if value is None:
                continue
            actual = next(iter(value))
            if actual != expected:
                raise invalid_parameter(
                    f"Type mismatch for Index Key {name} Expected: {expected} Actual: {actual} IndexName: {index.name}"
                )
            if actual in ("S", "B") and not value[actual]:
                raise validation(
                    "One or more parameter values are not valid. A value specified for a secondary index key is not "
                    "supported. The AttributeValue for a key attribute cannot contain an empty string value. "
                    f"IndexName: {index.name}, IndexKey: {name}"
                )
