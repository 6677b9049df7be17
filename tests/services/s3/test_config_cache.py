"""S3Store.config's cache of bucket configurations: parsed documents in and after the writing transaction,
nothing kept from a rolled-back write."""

import pytest

from overcast.services.s3.store import S3Store
from overcast.state import Database


@pytest.fixture
def store(tmp_path):
    db = Database(tmp_path / "overcast.db")
    yield S3Store(db)
    db.close()


def test_config_read_in_the_writing_transaction_is_parsed(store):
    assert store.config(1, "encryption") is None  # cached as absent
    with store.db.transaction():
        store.put_config(1, "encryption", {"Rules": [{"BucketKeyEnabled": True}]})
        assert store.config(1, "encryption") == {"Rules": [{"BucketKeyEnabled": True}]}
    assert store.config(1, "encryption") == {"Rules": [{"BucketKeyEnabled": True}]}
    store.config(1, "encryption")["Rules"].clear()  # a caller may change what it got
    assert store.config(1, "encryption") == {"Rules": [{"BucketKeyEnabled": True}]}


def test_rolled_back_config_write_is_not_kept(store):
    store.put_config(1, "notification", {"QueueConfigurations": []})
    assert store.config(1, "notification") == {"QueueConfigurations": []}
    with pytest.raises(RuntimeError), store.db.transaction():
        store.delete_config(1, "notification")
        assert store.config(1, "notification") is None
        raise RuntimeError("roll back")
    assert store.config(1, "notification") == {"QueueConfigurations": []}
    with store.db.transaction():
        assert store.config(1, "notification") == {"QueueConfigurations": []}
