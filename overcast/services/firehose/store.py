"""Firehose's tables and every SQL statement it runs.

Records wait in `firehose_records` (the durable buffer) until their delivery stream is flushed: by size when
a put crosses the buffer size, by interval when the oldest buffered record has waited the buffering interval.
The delivery stream row carries its buffer's size and age, and when a failed delivery is tried again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from overcast.state import Database

MIGRATIONS = [
    """
    CREATE TABLE firehose_streams (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        created REAL NOT NULL,
        updated REAL NOT NULL,
        source TEXT NOT NULL DEFAULT '{}',
        destination TEXT NOT NULL,
        encryption TEXT,
        buffered_bytes INTEGER NOT NULL DEFAULT 0,
        buffered_since REAL,
        retry_at REAL,
        failing_since REAL,
        UNIQUE (account, region, name)
    );
    CREATE TABLE firehose_records (
        id INTEGER PRIMARY KEY,
        stream INTEGER NOT NULL,
        arrival REAL NOT NULL,
        data BLOB NOT NULL,
        metadata TEXT
    );
    CREATE INDEX firehose_records_stream ON firehose_records (stream, id);
    CREATE TABLE firehose_checkpoints (
        stream INTEGER NOT NULL,
        shard TEXT NOT NULL,
        sequence TEXT,
        finished INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (stream, shard)
    ) WITHOUT ROWID;
    """
]

_COLUMNS = (
    "id, account, region, name, kind, status, version, created, updated, source, destination, encryption, "
    "buffered_bytes, buffered_since, retry_at, failing_since"
)


@dataclass
class DeliveryStream:
    id: int
    account: str
    region: str
    name: str
    kind: str  # DirectPut | KinesisStreamAsSource | ...
    status: str
    version: int
    created: float
    updated: float
    source: dict[str, Any]  # the SourceDescription
    destination: dict[str, Any]  # {"kind": "ExtendedS3", "config": {...}, "id": "destinationId-..."}
    encryption: dict[str, Any] | None
    buffered_bytes: int
    buffered_since: float | None
    retry_at: float | None
    failing_since: float | None

    @property
    def arn(self) -> str:
        return f"arn:aws:firehose:{self.region}:{self.account}:deliverystream/{self.name}"

    @classmethod
    def of(cls, row: Any) -> DeliveryStream:
        values = list(row)
        values[9], values[10] = json.loads(values[9]), json.loads(values[10])
        values[11] = json.loads(values[11]) if values[11] else None
        return cls(*values)


@dataclass
class Buffered:
    id: int
    arrival: float
    data: bytes
    metadata: dict[str, Any] | None  # Kinesis source: shardId, partitionKey, sequenceNumber, arrival


class FirehoseStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("firehose", MIGRATIONS)

    # -- delivery streams ------------------------------------------------------------------------------

    def stream(self, account: str, region: str, name: str) -> DeliveryStream | None:
        row = self.db.one(
            f"SELECT {_COLUMNS} FROM firehose_streams WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return DeliveryStream.of(row) if row else None

    def stream_by_id(self, stream_id: int) -> DeliveryStream | None:
        row = self.db.one(f"SELECT {_COLUMNS} FROM firehose_streams WHERE id = ?", (stream_id,))
        return DeliveryStream.of(row) if row else None

    def create(
        self,
        account: str,
        region: str,
        name: str,
        kind: str,
        now: float,
        source: dict[str, Any],
        destination: dict[str, Any],
        encryption: dict[str, Any] | None,
    ) -> None:
        self.db.execute(
            "INSERT INTO firehose_streams (account, region, name, kind, status, created, updated, source, "
            "destination, encryption) VALUES (?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?, ?)",
            (
                account,
                region,
                name,
                kind,
                now,
                now,
                json.dumps(source),
                json.dumps(destination),
                json.dumps(encryption) if encryption else None,
            ),
        )

    def streams_after(
        self, account: str, region: str, after: str, kind: str | None, limit: int
    ) -> list[DeliveryStream]:
        sql = f"SELECT {_COLUMNS} FROM firehose_streams WHERE account = ? AND region = ? AND name > ?"
        args: list[Any] = [account, region, after]
        if kind:
            sql += " AND kind = ?"
            args.append(kind)
        rows = self.db.all(sql + " ORDER BY name LIMIT ?", (*args, limit))
        return [DeliveryStream.of(row) for row in rows]

    def update(self, stream_id: int, **fields: Any) -> None:
        values = [
            json.dumps(v) if name in ("destination", "source", "encryption") and v is not None else v
            for name, v in fields.items()
        ]
        columns = ", ".join(f"{name} = ?" for name in fields)
        self.db.execute(f"UPDATE firehose_streams SET {columns} WHERE id = ?", (*values, stream_id))

    def delete(self, stream_id: int) -> None:
        self.db.execute("DELETE FROM firehose_records WHERE stream = ?", (stream_id,))
        self.db.execute("DELETE FROM firehose_checkpoints WHERE stream = ?", (stream_id,))
        self.db.execute("DELETE FROM firehose_streams WHERE id = ?", (stream_id,))

    def sourced_streams(self) -> list[DeliveryStream]:
        rows = self.db.all(f"SELECT {_COLUMNS} FROM firehose_streams WHERE kind = 'KinesisStreamAsSource'")
        return [DeliveryStream.of(row) for row in rows]

    def buffering(self) -> list[DeliveryStream]:
        """The delivery streams holding buffered records."""
        rows = self.db.all(f"SELECT {_COLUMNS} FROM firehose_streams WHERE buffered_since IS NOT NULL")
        return [DeliveryStream.of(row) for row in rows]

    # -- the buffer ------------------------------------------------------------------------------------

    def buffer(self, stream_id: int, rows: list[tuple[float, bytes, str | None]]) -> list[int]:
        """Append (arrival, data, metadata JSON) records; their ids."""
        ids = []
        for arrival, data, metadata in rows:
            cursor = self.db.execute(
                "INSERT INTO firehose_records (stream, arrival, data, metadata) VALUES (?, ?, ?, ?)",
                (stream_id, arrival, data, metadata),
            )
            ids.append(int(cursor.lastrowid or 0))
        size = sum(len(data) for _, data, _ in rows)
        first = min(arrival for arrival, _, _ in rows)
        self.db.execute(
            "UPDATE firehose_streams SET buffered_bytes = buffered_bytes + ?, "
            "buffered_since = COALESCE(buffered_since, ?) WHERE id = ?",
            (size, first, stream_id),
        )
        return ids

    def buffered(self, stream_id: int, limit_bytes: int) -> list[Buffered]:
        """The oldest buffered records of a stream, until they reach `limit_bytes` (the last one crossing it)."""
        out: list[Buffered] = []
        total = 0
        cursor = self.db.execute(
            "SELECT id, arrival, data, metadata FROM firehose_records WHERE stream = ? ORDER BY id",
            (stream_id,),
        )
        for rid, arrival, data, metadata in cursor:
            if total >= limit_bytes:
                break
            out.append(Buffered(rid, arrival, bytes(data), json.loads(metadata) if metadata else None))
            total += len(data)
        cursor.close()
        return out

    def release(self, stream_id: int, last_id: int) -> None:
        """Forget the records up to `last_id` (delivered) and recount what the buffer still holds."""
        self.db.execute("DELETE FROM firehose_records WHERE stream = ? AND id <= ?", (stream_id, last_id))
        row = self.db.one(
            "SELECT COALESCE(SUM(LENGTH(data)), 0), MIN(arrival) FROM firehose_records WHERE stream = ?",
            (stream_id,),
        )
        size, since = row if row else (0, None)
        self.db.execute(
            "UPDATE firehose_streams SET buffered_bytes = ?, buffered_since = ?, retry_at = NULL, "
            "failing_since = NULL WHERE id = ?",
            (size, since, stream_id),
        )

    # -- Kinesis source checkpoints --------------------------------------------------------------------

    def checkpoints(self, stream_id: int) -> dict[str, tuple[str | None, bool]]:
        rows = self.db.all(
            "SELECT shard, sequence, finished FROM firehose_checkpoints WHERE stream = ?", (stream_id,)
        )
        return {shard: (sequence, bool(finished)) for shard, sequence, finished in rows}

    def checkpoint(self, stream_id: int, shard: str, sequence: str | None, finished: bool) -> None:
        self.db.execute(
            "INSERT INTO firehose_checkpoints (stream, shard, sequence, finished) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (stream, shard) DO UPDATE SET sequence = COALESCE(excluded.sequence, sequence), "
            "finished = excluded.finished",
            (stream_id, shard, sequence, int(finished)),
        )
