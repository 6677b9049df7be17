"""Rows as last read, for the hot read paths (GetSecretValue's secret, GetParameter's latest version).

A bounded LRU keyed as the caller looks a row up. Every write to what the rows were read from calls `forget()`
inside its transaction: the rows are dropped now, and again if that transaction rolls back (a read in between
may have cached what it wrote). So a row found here is always the stored one: this process is the database's
only writer. It starts empty at each start; a service's `reset` forgets it after `overcast reset`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from overcast.state import Database


class StoredRows:
    def __init__(self, db: Database, size: int = 1024) -> None:
        self.db = db
        self.size = size
        self._rows: OrderedDict[Hashable, Any] = OrderedDict()

    def read(self, key: Hashable, load: Callable[[], Any], keep: Callable[[Any], bool] | None = None) -> Any:
        """The row under `key`: remembered, else `load()` (None: no such row, not remembered), remembered
        when `keep(row)` says so (e.g. only small values)."""
        rows = self._rows
        row = rows.get(key)
        if row is not None:
            rows.move_to_end(key)
            return row
        row = load()
        if row is not None and (keep is None or keep(row)):
            rows[key] = row
            if len(rows) > self.size:
                rows.popitem(last=False)
        return row

    def forget(self) -> None:
        """Drop every row: called by each write to their tables (and by reset)."""
        self._rows.clear()
        self.db.after_rollback(self._rows.clear)
