"""kill -9 in the middle of a burst of writes: every acknowledged write survives, nothing half-written shows."""

import hashlib
import signal
import subprocess
import sys
from pathlib import Path

from overcast.state import BlobStore, Database

WRITER = Path(__file__).with_name("crash_writer.py")


def test_acknowledged_writes_survive_kill_9(tmp_path):
    process = subprocess.Popen(
        [sys.executable, str(WRITER), str(tmp_path), "4"], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "ready"
    acknowledged = []
    for line in process.stdout:
        acknowledged.append(int(line.split()[1]))
        if len(acknowledged) == 300:
            break
    process.send_signal(signal.SIGKILL)
    process.wait()
    # Anything printed before the kill was acknowledged too.
    acknowledged += [
        int(line.split()[1]) for line in process.stdout.read().splitlines() if line.startswith("ack")
    ]

    db = Database(tmp_path / "overcast.db")
    assert db.one("PRAGMA integrity_check")[0] == "ok"
    blobs = BlobStore(tmp_path / "blobs", db)
    blobs.sweep()  # what start-up does: drop files no committed record owns
    rows = {n: (blob_id, digest) for n, blob_id, digest in db.all("SELECT id, blob, digest FROM records")}
    missing = set(acknowledged) - set(rows)
    assert not missing, f"{len(missing)} acknowledged writes lost"
    for n, (blob_id, digest) in rows.items():
        data = blobs.path(blob_id).read_bytes()
        assert hashlib.md5(data).hexdigest() == digest, f"record {n} points to a damaged blob"
    on_disk = {
        p.name for folder in (tmp_path / "blobs").iterdir() if folder.name != "tmp" for p in folder.iterdir()
    }
    assert on_disk == {blob_id for blob_id, _ in rows.values()}, (
        "orphan or missing blob files after the sweep"
    )
    assert not list((tmp_path / "blobs" / "tmp").iterdir())


def test_transaction_is_all_or_nothing(tmp_path):
    db = Database(tmp_path / "x.db")
    db.migrate("t", ["CREATE TABLE t (k TEXT PRIMARY KEY)"])
    try:
        with db.transaction():
            db.execute("INSERT INTO t VALUES ('a')")
            with db.transaction():
                db.execute("INSERT INTO t VALUES ('b')")
            raise RuntimeError("the request failed")
    except RuntimeError:
        pass
    assert db.all("SELECT k FROM t") == []


def test_inner_failure_rolls_back_only_the_savepoint(tmp_path):
    db = Database(tmp_path / "x.db")
    db.migrate("t", ["CREATE TABLE t (k TEXT PRIMARY KEY)"])
    with db.transaction():
        db.execute("INSERT INTO t VALUES ('a')")
        try:
            with db.transaction():
                db.execute("INSERT INTO t VALUES ('b')")
                raise RuntimeError
        except RuntimeError:
            pass
    assert db.all("SELECT k FROM t") == [("a",)]


def test_migrations_apply_once_and_in_order(tmp_path):
    path = tmp_path / "m.db"
    db = Database(path)
    db.migrate("svc", ["CREATE TABLE a (x INTEGER)"])
    db.close()
    db = Database(path)
    db.migrate("svc", ["CREATE TABLE a (x INTEGER)", "ALTER TABLE a ADD COLUMN y TEXT"])
    assert [c[1] for c in db.all("PRAGMA table_info(a)")] == ["x", "y"]
    assert db.one("SELECT version FROM schema_versions WHERE namespace = 'svc'") == (2,)
