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


class RowsWhileUnchanged:
    """Rows as last read, reused only while nothing at all has been written since (`total_changes`, this
    process being the database's only writer): for reads of tables written in many places (objects, items),
    where a `forget()` in each would be one to miss. A write anywhere empties it in effect; a row read by a
    transaction that had written is not kept (it may roll back), and one read inside a group commit is
    dropped if the group fails. Bounded LRU; a service's `reset` calls `forget()`."""

    def __init__(self, db: Database, size: int = 1024) -> None:
        self.db = db
        self.size = size
        self._rows: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()

    def read(self, key: Hashable, load: Callable[[], Any], keep: Callable[[Any], bool] | None = None) -> Any:
        """The row under `key` (immutable: a tuple as SQLite gives it): remembered while the database has not
        changed, else `load()` (None: no such row, not remembered)."""
        db = self.db
        changes = db.conn.total_changes
        found = self._rows.get(key)
        if found is not None and found[0] == changes:
            return found[1]
        row = load()
        if row is None or (db.in_transaction and changes != db.changes_at_begin):
            return row  # this transaction wrote: what it read may yet be undone
        if keep is None or keep(row):
            self._rows[key] = (changes, row)
            self._rows.move_to_end(key)
            if len(self._rows) > self.size:
                self._rows.popitem(last=False)
            db.after_rollback(self._rows.clear)
        return row

    def forget(self) -> None:
        self._rows.clear()
