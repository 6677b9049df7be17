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


def _create(store, name):
    store.create_bucket(name, "111111111111", "us-east-1", 0.0, None, None, False)


def test_bucket_row_changes_are_seen_and_rolled_back_ones_forgotten(store):
    assert store.bucket("b") is None  # cached as absent
    _create(store, "b")
    bucket = store.bucket("b")
    assert bucket is not None and bucket.versioning is None
    with store.db.transaction():
        store.update_bucket(bucket.id, versioning="Enabled")
        assert store.bucket("b").versioning == "Enabled"  # read again inside the writing transaction
    assert store.bucket("b").versioning == "Enabled"
    with pytest.raises(RuntimeError), store.db.transaction():
        store.update_bucket(bucket.id, versioning="Suspended")
        assert store.bucket("b").versioning == "Suspended"
        raise RuntimeError("roll back")
    assert store.bucket("b").versioning == "Enabled"
    with store.db.transaction():
        store.delete_bucket(bucket.id)
    assert store.bucket("b") is None


def test_settings_cache_stays_bounded(store):
    from overcast.services.s3.store import _SETTINGS_LIMIT

    _create(store, "first")
    assert store.bucket("first") is not None
    for n in range(_SETTINGS_LIMIT + 50):
        assert store.bucket(f"missing-{n}") is None
        assert store.config(n, "lifecycle") is None
    assert len(store._settings) <= _SETTINGS_LIMIT
    assert store.bucket("first").name == "first"  # evicted, then read again


def test_shared_document_follows_writes_and_rollbacks(store):
    assert store.document(1, "lifecycle") is None
    store.put_config(1, "lifecycle", {"Rules": [{"ID": "a"}]})
    assert store.document(1, "lifecycle") == {"Rules": [{"ID": "a"}]}
    with pytest.raises(RuntimeError), store.db.transaction():
        store.put_config(1, "lifecycle", {"Rules": [{"ID": "b"}]})
        assert store.document(1, "lifecycle") == {"Rules": [{"ID": "b"}]}
        raise RuntimeError("roll back")
    assert store.document(1, "lifecycle") == {"Rules": [{"ID": "a"}]}
    store.delete_config(1, "lifecycle")
    assert store.document(1, "lifecycle") is None
