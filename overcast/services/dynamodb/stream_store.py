"""DynamoDB Streams' SQL: the streams of tables (ddb_streams) and their change records (ddb_stream_records).

The tables are created by the DynamoDB store's migrations (store.py); the DynamoDB provider writes here, the
DynamoDB Streams provider (streams.py) reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from overcast.services.dynamodb.values import dump_item
from overcast.state.database import Database

_COLUMNS = "id, account, region, table_name, arn, label, view_type, key_schema, created, disabled"


@dataclass(frozen=True)
class Stream:
    id: int
    account: str
    region: str
    table_name: str
    arn: str
    label: str
    view_type: str
    key_schema: list[dict[str, str]]
    created: float
    disabled: float | None


def _stream(row: tuple) -> Stream:
    return Stream(*row[:7], json.loads(row[7]), row[8], row[9])  # type: ignore[call-arg]


class StreamStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- streams -----------------------------------------------------------------------------------

    def create(
        self,
        account: str,
        region: str,
        table_name: str,
        arn: str,
        label: str,
        view_type: str,
        key_schema: list[dict[str, str]],
        created: float,
    ) -> int:
        """A new enabled stream of a table; its id."""
        return self.db.execute(
            "INSERT INTO ddb_streams (account, region, table_name, arn, label, view_type, key_schema, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (account, region, table_name, arn, label, view_type, json.dumps(key_schema), created),
        ).lastrowid

    def disable(self, stream_id: int, at: float) -> None:
        self.db.execute("UPDATE ddb_streams SET disabled = ? WHERE id = ?", (at, stream_id))

    def stream(self, arn: str, account: str, region: str) -> Stream | None:
        row = self.db.one(
            f"SELECT {_COLUMNS} FROM ddb_streams WHERE arn = ? AND account = ? AND region = ?",
            (arn, account, region),
        )
        return _stream(row) if row else None

    def streams(
        self,
        account: str,
        region: str,
        visible_after: float,
        table_name: str | None,
        after_arn: str | None,
        limit: int,
    ) -> list[Stream]:
        """Streams of an account and region (of one table if named) enabled, or disabled since
        `visible_after`, in ARN order after `after_arn`."""
        sql = f"SELECT {_COLUMNS} FROM ddb_streams WHERE account = ? AND region = ? AND (disabled IS NULL OR disabled >= ?)"
        args: list[Any] = [account, region, visible_after]
        if table_name:
            sql += " AND table_name = ?"
            args.append(table_name)
        if after_arn:
            sql += " AND arn > ?"
            args.append(after_arn)
        return [_stream(row) for row in self.db.all(sql + " ORDER BY arn LIMIT ?", (*args, limit))]

    # -- records -----------------------------------------------------------------------------------

    def append(self, stream_id: int, created: float, record: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO ddb_stream_records (stream_id, created, record) VALUES (?, ?, ?)",
            (stream_id, created, dump_item(record)),
        )

    def sequence_range(self, stream_id: int, visible_after: float) -> tuple[int | None, int | None]:
        """(first, last) sequence numbers of the records still readable (None, None when there are none)."""
        row = self.db.one(
            "SELECT MIN(seq), MAX(seq) FROM ddb_stream_records WHERE stream_id = ? AND created >= ?",
            (stream_id, visible_after),
        )
        return (row[0], row[1]) if row else (None, None)

    def last_sequence(self, stream_id: int) -> int:
        row = self.db.one("SELECT MAX(seq) FROM ddb_stream_records WHERE stream_id = ?", (stream_id,))
        return (row[0] if row else None) or 0

    def records(
        self, stream_id: int, after: int, visible_after: float, limit: int
    ) -> list[tuple[int, float, str]]:
        """(seq, created, record JSON) of the records after sequence number `after`, oldest first."""
        return self.db.all(
            "SELECT seq, created, record FROM ddb_stream_records WHERE stream_id = ? AND seq > ? AND created >= ? "
            "ORDER BY seq LIMIT ?",
            (stream_id, after, visible_after, limit),
        )
