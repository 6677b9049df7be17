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
