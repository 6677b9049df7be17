"""Transactions and their callbacks: a savepoint that rolls back takes its after-commit work with it and runs its
after-rollback work; one that is released hands both to the block around it."""

import pytest

from overcast.state import Database


@pytest.fixture
def db():
    database = Database(None)
    database.execute("CREATE TABLE t (v INTEGER)")
    yield database
    database.close()


def test_inner_rollback_drops_its_commit_work_and_runs_its_rollback_work(db):
    done = []
    with db.transaction():
        db.after_commit(lambda: done.append("outer committed"))
        with pytest.raises(RuntimeError), db.transaction():
            db.execute("INSERT INTO t VALUES (1)")
            db.after_commit(lambda: done.append("inner committed"))
            db.after_rollback(lambda: done.append("inner rolled back"))
            raise RuntimeError
        assert done == ["inner rolled back"]
    assert done == ["inner rolled back", "outer committed"]
    assert db.all("SELECT v FROM t") == []


def test_released_savepoint_work_follows_the_outer_block(db):
    done = []
    with pytest.raises(RuntimeError), db.transaction():
        with db.transaction():
            db.execute("INSERT INTO t VALUES (2)")
            db.after_commit(lambda: done.append("committed"))
            db.after_rollback(lambda: done.append("rolled back"))
        raise RuntimeError
    assert done == ["rolled back"]
    with db.transaction():
        with db.transaction():
            db.after_commit(lambda: done.append("committed"))
            db.after_rollback(lambda: done.append("never"))
    assert done == ["rolled back", "committed"]
    assert not db.in_transaction


def statements_of(db, block) -> list[str]:
    """The SQL `block()` made SQLite run (each statement's first word, and savepoint names)."""
    ran: list[str] = []
    db.conn.set_trace_callback(lambda sql: ran.append(" ".join(sql.split()[:2])))
    try:
        block()
    finally:
        db.conn.set_trace_callback(None)
    return ran


def test_a_block_that_runs_no_statement_issues_no_begin_or_savepoint(db):
    done = []

    def untouched():
        with db.transaction():
            db.after_commit(lambda: done.append("committed"))
            with db.transaction():  # an internal call that reads nothing
                pass

    assert statements_of(db, untouched) == []
    assert done == ["committed"]


def test_the_first_statement_issues_the_begin_and_savepoints_of_the_blocks_around_it(db):
    def nested_write():
        with db.transaction(), db.transaction():
            db.execute("INSERT INTO t VALUES (1)")

    assert statements_of(db, nested_write) == [
        "BEGIN IMMEDIATE", "SAVEPOINT sp1", "INSERT INTO", "RELEASE sp1", "COMMIT"
    ]  # fmt: skip
    assert db.all("SELECT v FROM t") == [(1,)]


def test_an_inner_block_that_fails_before_any_statement_undoes_nothing_of_the_outer_one(db):
    done = []
    with db.transaction():
        db.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(RuntimeError), db.transaction():
            db.after_rollback(lambda: done.append("inner rolled back"))
            raise RuntimeError
        with pytest.raises(RuntimeError), db.transaction():
            db.execute("INSERT INTO t VALUES (2)")  # its savepoint issued here, and rolled back alone
            raise RuntimeError
        db.execute("INSERT INTO t VALUES (3)")
    assert done == ["inner rolled back"]
    assert db.all("SELECT v FROM t ORDER BY v") == [(1,), (3,)]


def test_a_statement_from_another_thread_waits_for_the_transaction_in_progress(db):
    """Lambda reads its code's row off the event loop: that read must neither issue the loop's (lazy) BEGIN
    nor run inside its transaction, and must not see what the transaction may yet undo."""
    import threading

    seen = []
    with db.transaction():
        reader = threading.Thread(target=lambda: seen.append(db.all("SELECT v FROM t")))
        reader.start()
        reader.join(timeout=0.3)
        assert reader.is_alive()  # waiting for the transaction to end
        db.execute("INSERT INTO t VALUES (7)")
        db.execute("DELETE FROM t WHERE v = 7")
    reader.join(timeout=5)
    assert seen == [[]]
