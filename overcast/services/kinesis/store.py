"""Kinesis Data Streams' tables and every SQL statement the service runs.

Records live in one table indexed by (stream, shard, counter): a GetRecords is an index range scan from the
iterator's position (the query names that index: with the arrival index beside it, the planner could choose
to scan every retained record), whatever the size of the stream, and nothing of a record is held in memory. A second
index by arrival time serves AT_TIMESTAMP iterators and the retention sweep. The stream row carries the
stream-wide counter that orders records (see shards.py) and the next shard index.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE kinesis_streams (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        stream_id TEXT NOT NULL,
        status TEXT NOT NULL,
        mode TEXT NOT NULL,
        retention_hours INTEGER NOT NULL,
        created REAL NOT NULL,
        encryption TEXT NOT NULL DEFAULT 'NONE',
        key_id TEXT,
        metrics TEXT NOT NULL DEFAULT '[]',
        max_record_kib INTEGER NOT NULL DEFAULT 1024,
        warm_mibps INTEGER,
        policy TEXT,
        next_counter INTEGER NOT NULL DEFAULT 1,
        next_shard INTEGER NOT NULL DEFAULT 0,
        shard_version INTEGER NOT NULL DEFAULT 0,
        UNIQUE (account, region, name)
    );
    CREATE INDEX kinesis_streams_deleting ON kinesis_streams (status) WHERE status = 'DELETING';
    CREATE TABLE kinesis_shards (
        stream INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        parent INTEGER,
        adjacent_parent INTEGER,
        start_hash TEXT NOT NULL,
        end_hash TEXT NOT NULL,
        created REAL NOT NULL,
        start_counter INTEGER NOT NULL,
        closed REAL,
        PRIMARY KEY (stream, idx)
    ) WITHOUT ROWID;
    CREATE TABLE kinesis_records (
        stream INTEGER NOT NULL,
        shard INTEGER NOT NULL,
        counter INTEGER NOT NULL,
        arrival REAL NOT NULL,
        partition_key TEXT NOT NULL,
        data BLOB NOT NULL
    );
    CREATE UNIQUE INDEX kinesis_records_position ON kinesis_records (stream, shard, counter);
    CREATE INDEX kinesis_records_arrival ON kinesis_records (stream, shard, arrival);
    CREATE TABLE kinesis_consumers (
        id INTEGER PRIMARY KEY,
        stream INTEGER NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL UNIQUE,
        created REAL NOT NULL,
        policy TEXT,
        UNIQUE (stream, name)
    );
    """
]

_STREAM = (
    "id, account, region, name, stream_id, status, mode, retention_hours, created, encryption, key_id, "
    "metrics, max_record_kib, warm_mibps, policy, next_counter, next_shard, shard_version"
)
_SHARD = "stream, idx, parent, adjacent_parent, start_hash, end_hash, created, start_counter, closed"


@dataclass
class Stream:
    id: int
    account: str
    region: str
    name: str
    stream_id: str
    status: str
    mode: str
    retention_hours: int
    created: float
    encryption: str
    key_id: str | None
    metrics: list[str]
    max_record_kib: int
    warm_mibps: int | None
    policy: str | None
    next_counter: int
    next_shard: int
    shard_version: int

    @property
    def arn(self) -> str:
        return f"arn:aws:kinesis:{self.region}:{self.account}:stream/{self.name}"

    @property
    def on_demand(self) -> bool:
        return self.mode == "ON_DEMAND"

    @classmethod
    def of(cls, row: Sequence[Any]) -> Stream:
        values = list(row)
        values[11] = json.loads(values[11])
        return cls(*values)


@dataclass
class Shard:
    stream: int
    index: int
    parent: int | None
    adjacent_parent: int | None
    start_hash: int
    end_hash: int
    created: float
    start_counter: int
    closed: float | None

    @classmethod
    def of(cls, row: Sequence[Any]) -> Shard:
        values = list(row)
        values[4], values[5] = int(values[4]), int(values[5])
        return cls(*values)

    def holds(self, key: int) -> bool:
        return self.start_hash <= key <= self.end_hash


@dataclass(slots=True)
class Record:
    counter: int
    arrival: float
    partition_key: str
    data: bytes


@dataclass
class Consumer:
    id: int
    stream: int
    name: str
    arn: str
    created: float
    policy: str | None


class KinesisStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("kinesis", MIGRATIONS)

    # -- streams ---------------------------------------------------------------------------------------

    def stream(self, account: str, region: str, name: str) -> Stream | None:
        row = self.db.one(
            f"SELECT {_STREAM} FROM kinesis_streams WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return Stream.of(row) if row else None

    def stream_by_id(self, stream_id: int) -> Stream | None:
        row = self.db.one(f"SELECT {_STREAM} FROM kinesis_streams WHERE id = ?", (stream_id,))
        return Stream.of(row) if row else None

    def create_stream(
        self,
        account: str,
        region: str,
        name: str,
        stream_id: str,
        mode: str,
        created: float,
        max_record_kib: int,
        warm_mibps: int | None,
    ) -> int:
        cursor = self.db.execute(
            "INSERT INTO kinesis_streams (account, region, name, stream_id, status, mode, retention_hours, "
            "created, max_record_kib, warm_mibps) VALUES (?, ?, ?, ?, 'ACTIVE', ?, 24, ?, ?, ?)",
            (account, region, name, stream_id, mode, created, max_record_kib, warm_mibps),
        )
        return int(cursor.lastrowid or 0)

    def streams_after(self, account: str, region: str, after: str, limit: int) -> list[Stream]:
        rows = self.db.all(
            f"SELECT {_STREAM} FROM kinesis_streams WHERE account = ? AND region = ? AND name > ? "
            "ORDER BY name LIMIT ?",
            (account, region, after, limit),
        )
        return [Stream.of(row) for row in rows]

    def stream_counts(self, account: str, region: str) -> tuple[int, int]:
        """(open shards, on-demand streams) of an account in a region."""
        row = self.db.one(
            "SELECT (SELECT COUNT(*) FROM kinesis_shards sh JOIN kinesis_streams st ON st.id = sh.stream "
            "WHERE st.account = ? AND st.region = ? AND sh.closed IS NULL), "
            "(SELECT COUNT(*) FROM kinesis_streams WHERE account = ? AND region = ? AND mode = 'ON_DEMAND')",
            (account, region, account, region),
        )
        return (row[0], row[1]) if row else (0, 0)

    def update_stream(self, stream_id: int, **fields: Any) -> None:
        columns = ", ".join(f"{name} = ?" for name in fields)
        values = [json.dumps(v) if name == "metrics" else v for name, v in fields.items()]
        self.db.execute(f"UPDATE kinesis_streams SET {columns} WHERE id = ?", (*values, stream_id))

    def take_counters(self, stream_id: int, count: int) -> int:
        """Reserve `count` counters of the stream; the first one."""
        row = self.db.one(
            "UPDATE kinesis_streams SET next_counter = next_counter + ? WHERE id = ? RETURNING next_counter",
            (count, stream_id),
        )
        assert row is not None
        return int(row[0]) - count

    def deleting_streams(self) -> list[int]:
        return [sid for (sid,) in self.db.all("SELECT id FROM kinesis_streams WHERE status = 'DELETING'")]

    def purge_records(self, stream_id: int, limit: int) -> int:
        """Delete up to `limit` records of a deleted stream; how many went."""
        cursor = self.db.execute(
            "DELETE FROM kinesis_records WHERE rowid IN "
            "(SELECT rowid FROM kinesis_records WHERE stream = ? LIMIT ?)",
            (stream_id, limit),
        )
        return cursor.rowcount

    def drop_stream(self, stream_id: int) -> None:
        self.db.execute("DELETE FROM kinesis_shards WHERE stream = ?", (stream_id,))
        self.db.execute("DELETE FROM kinesis_consumers WHERE stream = ?", (stream_id,))
        self.db.execute("DELETE FROM kinesis_streams WHERE id = ?", (stream_id,))

    def all_streams(self) -> list[Stream]:
        return [Stream.of(row) for row in self.db.all(f"SELECT {_STREAM} FROM kinesis_streams")]

    # -- shards ----------------------------------------------------------------------------------------

    def shards(self, stream_id: int) -> list[Shard]:
        rows = self.db.all(f"SELECT {_SHARD} FROM kinesis_shards WHERE stream = ? ORDER BY idx", (stream_id,))
        return [Shard.of(row) for row in rows]

    def shard(self, stream_id: int, index: int) -> Shard | None:
        row = self.db.one(
            f"SELECT {_SHARD} FROM kinesis_shards WHERE stream = ? AND idx = ?", (stream_id, index)
        )
        return Shard.of(row) if row else None

    def open_shards(self, stream_id: int) -> list[Shard]:
        rows = self.db.all(
            f"SELECT {_SHARD} FROM kinesis_shards WHERE stream = ? AND closed IS NULL ORDER BY idx",
            (stream_id,),
        )
        return [Shard.of(row) for row in rows]

    def children(self, stream_id: int, index: int) -> list[Shard]:
        rows = self.db.all(
            f"SELECT {_SHARD} FROM kinesis_shards WHERE stream = ? AND (parent = ? OR adjacent_parent = ?) "
            "ORDER BY idx",
            (stream_id, index, index),
        )
        return [Shard.of(row) for row in rows]

    def add_shards(self, shards: Iterable[Shard]) -> None:
        self.db.executemany(
            f"INSERT INTO kinesis_shards ({_SHARD}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    s.stream,
                    s.index,
                    s.parent,
                    s.adjacent_parent,
                    str(s.start_hash),
                    str(s.end_hash),
                    s.created,
                    s.start_counter,
                    s.closed,
                )
                for s in shards
            ],
        )

    def close_shard(self, stream_id: int, index: int, when: float) -> None:
        self.db.execute(
            "UPDATE kinesis_shards SET closed = ? WHERE stream = ? AND idx = ?", (when, stream_id, index)
        )

    def forget_shards_before(self, stream_id: int, closed_before: float) -> list[int]:
        """Remove the closed shards whose records have all expired; their indexes."""
        gone = [
            idx
            for (idx,) in self.db.all(
                "SELECT idx FROM kinesis_shards WHERE stream = ? AND closed IS NOT NULL AND closed < ?",
                (stream_id, closed_before),
            )
        ]
        self.db.executemany(
            "DELETE FROM kinesis_shards WHERE stream = ? AND idx = ?", [(stream_id, idx) for idx in gone]
        )
        return gone

    # -- records ---------------------------------------------------------------------------------------

    def add_records(self, rows: list[tuple[int, int, int, float, str, bytes]]) -> None:
        """(stream, shard, counter, arrival, partition key, data) rows."""
        self.db.executemany("INSERT INTO kinesis_records VALUES (?, ?, ?, ?, ?, ?)", rows)

    def read(self, stream_id: int, shard: int, after: int, not_before: float, limit: int) -> list[Record]:
        rows = self.db.all(
            "SELECT counter, arrival, partition_key, data FROM kinesis_records INDEXED BY kinesis_records_position "
            "WHERE stream = ? AND shard = ? AND counter > ? AND arrival >= ? ORDER BY counter LIMIT ?",
            (stream_id, shard, after, not_before, limit),
        )
        return [Record(*row) for row in rows]

    def first_at(self, stream_id: int, shard: int, moment: float) -> int | None:
        """The counter of the shard's first record that arrived at or after `moment`."""
        row = self.db.one(
            "SELECT counter FROM kinesis_records WHERE stream = ? AND shard = ? AND arrival >= ? "
            "ORDER BY arrival, counter LIMIT 1",
            (stream_id, shard, moment),
        )
        return row[0] if row else None

    def expire(self, stream_id: int, shard: int, before: float, limit: int) -> int:
        """Delete up to `limit` records of a shard that arrived before `before`; how many went."""
        cursor = self.db.execute(
            "DELETE FROM kinesis_records WHERE rowid IN (SELECT rowid FROM kinesis_records "
            "WHERE stream = ? AND shard = ? AND arrival < ? LIMIT ?)",
            (stream_id, shard, before, limit),
        )
        return cursor.rowcount

    # -- consumers -------------------------------------------------------------------------------------

    def consumer(self, stream_id: int, name: str) -> Consumer | None:
        row = self.db.one(
            "SELECT id, stream, name, arn, created, policy FROM kinesis_consumers WHERE stream = ? AND name = ?",
            (stream_id, name),
        )
        return Consumer(*row) if row else None

    def consumer_by_arn(self, arn: str) -> Consumer | None:
        row = self.db.one(
            "SELECT id, stream, name, arn, created, policy FROM kinesis_consumers WHERE arn = ?", (arn,)
        )
        return Consumer(*row) if row else None

    def consumers(self, stream_id: int, after: str, limit: int) -> list[Consumer]:
        rows = self.db.all(
            "SELECT id, stream, name, arn, created, policy FROM kinesis_consumers WHERE stream = ? AND name > ? "
            "ORDER BY name LIMIT ?",
            (stream_id, after, limit),
        )
        return [Consumer(*row) for row in rows]

    def consumer_count(self, stream_id: int) -> int:
        row = self.db.one("SELECT COUNT(*) FROM kinesis_consumers WHERE stream = ?", (stream_id,))
        return int(row[0]) if row else 0

    def add_consumer(self, stream_id: int, name: str, arn: str, created: float) -> None:
        self.db.execute(
            "INSERT INTO kinesis_consumers (stream, name, arn, created) VALUES (?, ?, ?, ?)",
            (stream_id, name, arn, created),
        )

    def remove_consumer(self, consumer_id: int) -> None:
        self.db.execute("DELETE FROM kinesis_consumers WHERE id = ?", (consumer_id,))

    def consumer_arns(self, stream_id: int) -> list[str]:
        return [
            arn for (arn,) in self.db.all("SELECT arn FROM kinesis_consumers WHERE stream = ?", (stream_id,))
        ]

    def set_consumer_policy(self, consumer_id: int, policy: str | None) -> None:
        self.db.execute("UPDATE kinesis_consumers SET policy = ? WHERE id = ?", (policy, consumer_id))
