"""kit.cache.RowsWhileUnchanged: a remembered row is the stored one, whatever was written or undone since."""

import pytest

from overcast.services.kit.cache import RowsWhileUnchanged
from overcast.state import Database


@pytest.fixture
def db():
    database = Database(None)
    database.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)")
    database.execute("CREATE TABLE other (v INTEGER)")
    database.execute("INSERT INTO t VALUES ('a', 1)")
    yield database
    database.close()


def test_a_row_is_read_again_after_any_write(db):
    rows = RowsWhileUnchanged(db)
    loads = []

    def read():
        return rows.read("a", lambda: loads.append(1) or db.one("SELECT v FROM t WHERE k = 'a'"))

    assert read() == read() == (1,)
    assert len(loads) == 1  # the second came from memory
    db.execute("INSERT INTO other VALUES (5)")  # a write elsewhere: read again (same value)
    assert read() == (1,) and len(loads) == 2
    db.execute("UPDATE t SET v = 2 WHERE k = 'a'")
    assert read() == (2,)


def test_a_row_read_after_a_write_that_rolls_back_is_not_kept(db):
    rows = RowsWhileUnchanged(db)
    with pytest.raises(RuntimeError), db.transaction():
        db.execute("UPDATE t SET v = 9 WHERE k = 'a'")
        assert rows.read("a", lambda: db.one("SELECT v FROM t WHERE k = 'a'")) == (9,)
        raise RuntimeError
    assert rows.read("a", lambda: db.one("SELECT v FROM t WHERE k = 'a'")) == (1,)


def test_a_row_read_before_the_write_of_its_own_transaction_stays_true(db):
    rows = RowsWhileUnchanged(db)
    with pytest.raises(RuntimeError), db.transaction():
        assert rows.read("a", lambda: db.one("SELECT v FROM t WHERE k = 'a'")) == (1,)
        db.execute("UPDATE t SET v = 3 WHERE k = 'a'")
        assert rows.read("a", lambda: db.one("SELECT v FROM t WHERE k = 'a'")) == (3,)
        raise RuntimeError
    assert rows.read("a", lambda: db.one("SELECT v FROM t WHERE k = 'a'")) == (1,)
