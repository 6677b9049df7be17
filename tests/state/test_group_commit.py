"""Group commit (`Database.commit_in_groups`): while other requests are being served, the transactions of one
turn of the event loop share one SQLite commit on the next turn. Each still succeeds or fails alone; what waits
for the commit (after-commit work, the answers awaiting `durable()`) waits for the shared one; and when that
commit fails, every transaction of the group fails with it."""

import asyncio
import sqlite3

import pytest

from overcast.state import Database


def grouping(path) -> Database:
    database = Database(path)
    database.execute("CREATE TABLE IF NOT EXISTS t (v INTEGER)")
    database.commit_in_groups(lambda: True)  # as if other requests were always waiting
    return database


@pytest.fixture
def db(tmp_path):
    database = grouping(tmp_path / "group.db")
    yield database
    database.close()


def committed_rows(path) -> list[int]:
    """The rows on disk, as a restarted server would find them (its own connection, after this one closed)."""
    conn = sqlite3.connect(path)
    try:
        return sorted(v for (v,) in conn.execute("SELECT v FROM t"))
    finally:
        conn.close()


def test_a_turns_transactions_commit_together_and_fail_alone(tmp_path):
    db = grouping(tmp_path / "group.db")
    done = []

    async def turn():
        with db.transaction():
            db.execute("INSERT INTO t VALUES (1)")
            db.after_commit(lambda: done.append("first committed"))
        with pytest.raises(RuntimeError), db.transaction():
            db.execute("INSERT INTO t VALUES (2)")
            db.after_commit(lambda: done.append("failed one committed"))
            db.after_rollback(lambda: done.append("failed one rolled back"))
            raise RuntimeError
        with db.transaction():
            db.execute("INSERT INTO t VALUES (3)")
        pending = db.durable()
        assert pending is not None and not pending.done()
        assert done == ["failed one rolled back"]  # the others' after-commit work waits for the commit
        await pending
        assert done == ["failed one rolled back", "first committed"]
        assert db.durable() is None

    asyncio.run(turn())
    db.close()
    assert committed_rows(tmp_path / "group.db") == [1, 3]


def test_a_failed_group_commit_fails_every_transaction_of_the_group(db):
    # a deferred foreign key is checked at COMMIT only: the shared commit fails, not the savepoint
    db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    db.execute("CREATE TABLE child (parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)")
    done = []

    async def turn():
        with db.transaction():
            db.execute("INSERT INTO t VALUES (1)")
            db.after_commit(lambda: done.append("committed"))
            db.after_rollback(lambda: done.append("rolled back"))
        with db.transaction():
            db.execute("INSERT INTO child VALUES (42)")
        with pytest.raises(sqlite3.IntegrityError):
            await db.durable()
        assert done == ["rolled back"]

    asyncio.run(turn())
    assert db.all("SELECT v FROM t") == []
    with db.transaction():  # the store goes on: the next transaction commits at once (no loop here)
        db.execute("INSERT INTO t VALUES (5)")
    assert db.all("SELECT v FROM t") == [(5,)]


def test_a_lone_transaction_commits_at_once(db):
    db.commit_in_groups(lambda: False)  # nobody else is waiting (c=1)

    async def turn():
        with db.transaction():
            db.execute("INSERT INTO t VALUES (7)")
        assert db.durable() is None
        assert not db.conn.in_transaction

    asyncio.run(turn())


def test_a_transaction_that_wrote_nothing_opens_no_group(db):
    async def turn():
        with db.transaction():
            db.all("SELECT v FROM t")
        assert db.durable() is None  # a read is answered at once: nothing of it waits for a commit
        with db.transaction():
            db.execute("INSERT INTO t VALUES (8)")
        pending = db.durable()
        assert pending is not None
        with db.transaction():  # a read after a write of this turn joins its group, and so waits for it
            assert db.all("SELECT v FROM t") == [(8,)]
        assert db.durable() is pending
        await pending

    asyncio.run(turn())
