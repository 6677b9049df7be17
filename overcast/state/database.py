"""The record store: one SQLite database in WAL mode, one transaction per request.

Every write of a request commits together or not at all. With WAL and `synchronous=NORMAL` a commit is in
the operating system's hands when it returns, so an acknowledged write survives `kill -9` of the server
(what it does not survive is a power cut between the commit and the next checkpoint; `--fsync` turns
on `synchronous=FULL` for that).

Services declare their tables as numbered migrations (`Database.migrate`), so data written by an older
version opens in a newer one. SQL stays inside this package and each service's own store module.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


class StoreInUse(RuntimeError):
    """The data directory's database is held by another process."""


class StoreDamaged(RuntimeError):
    """The data directory's database cannot be read as it is: its message says which file and what to do."""


def _damaged(path: Path, what: str) -> StoreDamaged:
    return StoreDamaged(
        f"{path} {what}. Overcast will not start on it: restore it from a backup, or move it away to start "
        f"with an empty store (`overcast check --data-dir {path.parent}` reports what else is damaged)"
    )


def file_problems(path: Path) -> list[str]:
    """What is wrong with a database file, as SQLite's full integrity check finds it (`overcast check`)."""
    if path.stat().st_size == 0:
        return [f"{path} is empty (0 bytes): the database was truncated"]
    try:
        conn = sqlite3.connect(str(path), isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=0")
            rows = [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()
    except sqlite3.OperationalError as error:
        if "locked" in str(error):
            raise StoreInUse(f"{path} is in use by another Overcast process: stop it first") from None
        return [f"{path} is damaged ({error})"]
    except sqlite3.DatabaseError as error:
        return [f"{path} is damaged ({error})"]
    return [] if rows == ["ok"] else [f"{path}: {row}" for row in rows]


class Database:
    def __init__(self, path: Path | None, *, fsync: bool = False) -> None:
        """`path` None keeps everything in memory (ephemeral mode): the same code path, nothing kept."""
        self.path = path
        target = str(path) if path else ":memory:"
        if path is not None and path.exists() and path.stat().st_size == 0:
            # SQLite would take an empty file for a new database: a store truncated to nothing must not
            # quietly become an empty one
            raise _damaged(path, "is empty (0 bytes): the database was truncated")
        # The server uses the connection from its event-loop thread only; worker threads take their own.
        self.conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        try:
            self._configure(path, fsync)
        except sqlite3.DatabaseError as error:
            self.conn.close()
            if path is None or isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
                raise
            raise _damaged(path, f"is damaged ({error})") from None
        self._depth = 0
        self.transactions = 0  # outermost transactions begun so far: tells one transaction from the next
        self.changes_at_begin = 0  # conn.total_changes when the current (or last) outermost one began
        self._lock = threading.RLock()
        # (depth registered at, callback): run when the outermost transaction commits / when the block they
        # were registered in rolls back; a savepoint released hands its callbacks to the block around it.
        self._after_commit: list[tuple[int, Callable[[], None]]] = []
        self._after_rollback: list[tuple[int, Callable[[], None]]] = []
        # Group commit (`commit_in_groups`): the commit every transaction since the last one waits for.
        self._others_waiting: Callable[[], bool] | None = None
        self._group: asyncio.Future | None = None
        self._group_commits: list[Callable[[], None]] = []  # run once the group commits
        self._group_rollbacks: list[Callable[[], None]] = []  # run if its commit fails
        self._in_group = False  # the current outermost transaction is a savepoint of the open group
        self._issued = 0  # how many of the blocks entered have issued their BEGIN or SAVEPOINT: see _begin

    def _configure(self, path: Path | None, fsync: bool) -> None:
        # One process owns the store (its transactions rely on being the only writer): the exclusive lock
        # makes a second server on the same directory fail at once, and spares every transaction the
        # file-lock calls a shared database makes (eight fcntl() per commit).
        self.conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        self.conn.execute("PRAGMA busy_timeout=0")
        try:
            self.conn.execute("PRAGMA journal_mode=WAL" if path else "PRAGMA journal_mode=MEMORY")
        except sqlite3.OperationalError as error:
            self.conn.close()
            if "locked" in str(error):
                raise StoreInUse(f"{path} is in use by another Overcast process") from None
            raise
        self.conn.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
        self.conn.execute("PRAGMA foreign_keys=ON")
        # Checkpoint (copy the WAL into the database file, with its fsyncs) every 8192 pages rather than
        # SQLite's 1000: hot pages rewritten by many requests are copied once, and a fraction of requests
        # pays for it. The WAL file grows to about 32 MB; what it holds is as durable as the database.
        self.conn.execute("PRAGMA wal_autocheckpoint=8192")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_versions (namespace TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
        self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        if path is not None:
            # every page read once (about 1 GB/s): damage anywhere is one clear message now, not a 500 later
            problems = self.integrity_problems(quick=True)
            if problems:
                raise _damaged(path, f"is damaged ({problems[0]})")

    def integrity_problems(self, quick: bool = False) -> list[str]:
        """What SQLite's own check finds wrong with the database (nothing: [])."""
        rows = self.conn.execute("PRAGMA quick_check" if quick else "PRAGMA integrity_check").fetchall()
        found = [str(row[0]) for row in rows]
        return [] if found == ["ok"] else found

    # -- transactions ------------------------------------------------------------------------------

    def transaction(self) -> _Transaction:
        """All-or-nothing. Re-entrant: an inner block (an internal call from another service) is a savepoint.

        Never `await` inside: the event loop would interleave another request's statements.
        (A plain context-manager class rather than @contextmanager: it runs on every request.)
        """
        return _Transaction(self)

    def commit_in_groups(self, others_waiting: Callable[[], bool]) -> None:
        """Group commit, for the server: a transaction on the event loop that wrote, while `others_waiting()`
        says other requests are being served, is not committed at its end but left open as a group: the
        transactions of the requests that follow in this turn of the loop are savepoints of it (each still
        undone alone), and the group commits once on the loop's next turn. An answer must not be sent before
        the commit it may depend on: the server awaits `durable()` before every response. A lone request (c=1)
        and a transaction that wrote nothing commit at once, as without groups."""
        self._others_waiting = others_waiting

    def durable(self) -> asyncio.Future | None:
        """The pending group commit to await before answering (None: everything read or written is committed).
        Await it through `asyncio.shield`: it is shared by every request of the group."""
        return self._group

    def _open_group(self) -> bool:
        """Leave the transaction that just ended open as a group, its commit scheduled on the loop, if other
        requests are waiting (never from a worker thread: it commits its own)."""
        if self._others_waiting is None or not self._others_waiting():
            return False
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        self._group = loop.create_future()
        loop.call_soon(self._commit_group)
        return True

    def _commit_group(self) -> None:
        with self._lock:
            group, self._group = self._group, None
            committed, self._group_commits = self._group_commits, []
            undone, self._group_rollbacks = self._group_rollbacks, []
            if group is None:
                return
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error as error:
                # every request of the group fails with it: none is answered as done
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                for callback in reversed(undone):
                    callback()
                group.set_exception(error)
                return
            for callback in committed:
                callback()
        group.set_result(None)

    def _begin(self) -> None:
        """A block issues its BEGIN (outermost) or SAVEPOINT (nested) with the first statement run inside it
        (`_open`): a request that touches no row (answered from a cache, or from no data at all), and an internal
        call that reads nothing, spend no BEGIN/COMMIT or SAVEPOINT/RELEASE."""
        self._lock.acquire()
        if self._depth == 0:
            self._issued = 0
            self.transactions += 1
            self.changes_at_begin = self.conn.total_changes
        self._depth += 1

    def _open(self) -> None:
        """Issue the BEGIN and SAVEPOINTs of the blocks entered so far (an outermost one in a group is this
        request's part of it, undone alone)."""
        while self._issued < self._depth:
            level = self._issued
            if level == 0:
                self._in_group = self._group is not None
                self.conn.execute("SAVEPOINT sp0" if self._in_group else "BEGIN IMMEDIATE")
            else:
                self.conn.execute(f"SAVEPOINT sp{level}")
            self._issued = level + 1

    def _end(self, failed: bool) -> None:
        try:
            self._depth -= 1
            depth = self._depth
            outermost = depth == 0
            issued = self._issued > depth  # False: no statement ran in the block, nothing to release or undo
            self._issued = min(self._issued, depth)
            savepoint = not outermost or self._in_group
            if failed:
                if issued:
                    self.conn.execute(f"ROLLBACK TO sp{depth}" if savepoint else "ROLLBACK")
                    if savepoint:
                        self.conn.execute(f"RELEASE sp{depth}")
                undone = self._split(self._after_rollback, depth)
                self._split(self._after_commit, depth)  # what the block would have done after commit: never
                for callback in reversed(undone):
                    callback()
                return
            if not outermost:  # the block's callbacks now belong to the one around it
                if issued:
                    self.conn.execute(f"RELEASE sp{depth}")
                self._after_commit = [(min(d, depth), c) for d, c in self._after_commit]
                self._after_rollback = [(min(d, depth), c) for d, c in self._after_rollback]
                return
            if issued and self._in_group:
                self.conn.execute("RELEASE sp0")
            elif not issued or self.conn.total_changes == self.changes_at_begin or not self._open_group():
                if issued:
                    self.conn.execute("COMMIT")
                callbacks = [c for _, c in self._after_commit]
                self._after_commit, self._after_rollback = [], []
                for callback in callbacks:
                    callback()
                return
            # in a group (joined, or just opened by this transaction): its callbacks wait for the group's commit
            self._group_commits.extend(c for _, c in self._after_commit)
            self._group_rollbacks.extend(c for _, c in self._after_rollback)
            self._after_commit, self._after_rollback = [], []
        finally:
            self._lock.release()

    @staticmethod
    def _split(pending: list[tuple[int, Callable[[], None]]], depth: int) -> list[Callable[[], None]]:
        """Remove and return the callbacks registered deeper than `depth` (in the block that just ended)."""
        mine = [c for d, c in pending if d > depth]
        pending[:] = [(d, c) for d, c in pending if d <= depth]
        return mine

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the current transaction commits (dropped if its block rolls back)."""
        if self._depth:
            self._after_commit.append((self._depth, callback))
        else:
            callback()

    def after_rollback(self, callback: Callable[[], None]) -> None:
        """Run `callback` if the current block rolls back (an outer one's rollback counts); never otherwise."""
        if self._depth:
            self._after_rollback.append((self._depth, callback))

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    # -- shortcuts ---------------------------------------------------------------------------------

    # Every statement goes through these (never `conn.execute` directly): the first one in a block issues
    # the BEGIN and SAVEPOINTs not issued yet (see _begin). A statement from another thread (Lambda unpacking
    # code off the loop) waits for the loop's transaction to end (it holds the lock from _begin to _end):
    # otherwise it could issue that transaction's BEGIN, or run inside it.

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            if self._issued < self._depth:
                self._open()
            return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> sqlite3.Cursor:
        with self._lock:
            if self._issued < self._depth:
                self._open()
            return self.conn.executemany(sql, rows)

    def one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> tuple | None:
        with self._lock:
            if self._issued < self._depth:
                self._open()
            return self.conn.execute(sql, params).fetchone()

    def all(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple]:
        with self._lock:
            if self._issued < self._depth:
                self._open()
            return self.conn.execute(sql, params).fetchall()

    # -- schema ------------------------------------------------------------------------------------

    def migrate(self, namespace: str, migrations: Sequence[str]) -> None:
        """Apply the migrations of `namespace` that this database has not seen yet, in order.

        `migrations[i]` moves the schema from version i to i+1; append, never edit a released one.
        """
        with self.transaction():
            row = self.one("SELECT version FROM schema_versions WHERE namespace = ?", (namespace,))
            current = row[0] if row else 0
            for script in migrations[current:]:
                for statement in _statements(script):
                    self.execute(statement)
            if len(migrations) > current:
                self.execute(
                    "INSERT INTO schema_versions (namespace, version) VALUES (?, ?) "
                    "ON CONFLICT(namespace) DO UPDATE SET version = excluded.version",
                    (namespace, len(migrations)),
                )

    def namespaces(self) -> list[str]:
        """The namespaces (services) whose tables this database holds."""
        return [name for (name,) in self.all("SELECT namespace FROM schema_versions ORDER BY namespace")]

    def get_meta(self, key: str) -> str | None:
        row = self.one("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def reset(self) -> None:
        """Drop every record (`overcast reset`): tables stay, rows go, the clock offset too."""
        tables = [
            name
            for (name,) in self.all("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name not in ("schema_versions", "meta") and not name.startswith("sqlite_")
        ]
        with self.transaction():
            self.execute("PRAGMA defer_foreign_keys=ON")
            for name in tables:
                self.execute(f'DELETE FROM "{name}"')
            self.execute("DELETE FROM meta")

    def close(self) -> None:
        self._commit_group()
        if self.path:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()  # releases the exclusive lock


class _Transaction:
    """`Database.transaction()`: BEGIN IMMEDIATE (or a savepoint) on enter, COMMIT or ROLLBACK on exit."""

    __slots__ = ("_db",)

    def __init__(self, db: Database) -> None:
        self._db = db

    def __enter__(self) -> sqlite3.Connection:
        self._db._begin()
        return self._db.conn

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._db._end(exc_type is not None)
        return False  # an exception inside the block propagates


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (sqlite3 executes one at a time inside a transaction)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
