"""DynamoDB on-demand backups' SQL: a backup's row (definition and source statistics) and its items.

The tables are created by the DynamoDB store's migrations (store.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from overcast.state.database import Database

_COLUMNS = "arn, table_name, name, created, meta"


@dataclass(frozen=True)
class Backup:
    arn: str
    table_name: str
    name: str
    created: float
    meta: dict[str, Any]  # the table's definition when backed up, and "_source" (its ARN, id, counts)


def _backup(row: tuple) -> Backup:
    return Backup(row[0], row[1], row[2], row[3], json.loads(row[4]))


class BackupStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self,
        arn: str,
        account: str,
        region: str,
        table_name: str,
        name: str,
        created: float,
        meta: dict[str, Any],
        items: Iterable[tuple[str, int]],
    ) -> None:
        """Store a backup and its items ((item JSON, has binary) as the table stores them)."""
        self.db.execute(
            "INSERT INTO ddb_backups (arn, account, region, table_name, name, created, meta) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (arn, account, region, table_name, name, created, json.dumps(meta)),
        )
        for seq, (text, binary) in enumerate(items):
            self.db.execute(
                "INSERT INTO ddb_backup_items (backup_arn, seq, item, binary) VALUES (?, ?, ?, ?)",
                (arn, seq, text, binary),
            )

    def backup(self, arn: str, account: str, region: str) -> Backup | None:
        row = self.db.one(
            f"SELECT {_COLUMNS} FROM ddb_backups WHERE arn = ? AND account = ? AND region = ?",
            (arn, account, region),
        )
        return _backup(row) if row else None

    def delete(self, arn: str) -> None:
        self.db.execute("DELETE FROM ddb_backup_items WHERE backup_arn = ?", (arn,))
        self.db.execute("DELETE FROM ddb_backups WHERE arn = ?", (arn,))

    def backups(
        self,
        account: str,
        region: str,
        table_name: str | None,
        after_arn: str | None,
        created_from: float | None,
        created_before: float | None,
        limit: int,
    ) -> list[Backup]:
        """Backups of an account and region in ARN order (of one table, after an ARN, in a time range)."""
        sql = f"SELECT {_COLUMNS} FROM ddb_backups WHERE account = ? AND region = ?"
        args: list[Any] = [account, region]
        for condition, value in (
            ("table_name = ?", table_name),
            ("arn > ?", after_arn),
            ("created >= ?", created_from),
            ("created < ?", created_before),
        ):
            if value is not None:
                sql += f" AND {condition}"
                args.append(value)
        return [_backup(row) for row in self.db.all(sql + " ORDER BY arn LIMIT ?", (*args, limit))]

    def items(self, arn: str) -> Iterator[tuple[str, int]]:
        """(item JSON, has binary) of a backup's items, in the order they were stored."""
        yield from self.db.execute(
            "SELECT item, binary FROM ddb_backup_items WHERE backup_arn = ? ORDER BY seq", (arn,)
        )
