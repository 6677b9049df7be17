"""Damaged data is never served as if whole (issue 13, finding 10): a blob file truncated, zeroed or deleted
answers a clear error and a log line naming the file; `overcast check` finds and quarantines damage; a
damaged or empty database is one clear message at start."""

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from overcast.config import Config
from overcast.testing import OvercastServer
from tests.helpers import error_of, message_of
from tests.server_process import OVERCAST, free_port

SMALL = bytes(range(256)) * 512  # 128 KiB: a blob file, read at once
LARGE = bytes(range(256)) * 8192  # 2 MiB: streamed


def _blob_path(server, bucket: str, key: str) -> Path:
    """Where the object's data lives (to damage it as a disk or a careless hand would)."""
    s3 = server.platform.provider("s3")
    version = s3.store.current(s3.store.bucket(bucket).id, key)
    return server.platform.blobs.path(version.blob_id)


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "zeroed":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes(64) + data[middle + 64 :])
    else:
        path.unlink()


@pytest.mark.parametrize("how", ["truncated", "zeroed", "deleted"])
@pytest.mark.parametrize("body", [SMALL, LARGE], ids=["at-once", "streamed"])
def test_a_damaged_object_answers_a_clear_error_and_names_its_file(overcast, s3, bucket, caplog, how, body):
    s3.put_object(Bucket=bucket, Key="k", Body=body)
    path = _blob_path(overcast, bucket, "k")
    _damage(path, how)
    with caplog.at_level(logging.ERROR, logger="overcast.s3"):
        if how == "zeroed" and body is LARGE:
            # the size is right: the checksum is checked while streaming, and the last piece is held back
            with pytest.raises(Exception) as raised:
                s3.get_object(Bucket=bucket, Key="k")["Body"].read()
            assert not isinstance(raised.value, AssertionError)
        else:
            with pytest.raises(ClientError) as raised:
                s3.get_object(Bucket=bucket, Key="k")
            assert error_of(raised) == ("InternalError", 500)
            assert "stored data of this object is damaged" in message_of(raised)
    assert str(path) in caplog.text


def test_a_range_of_an_undamaged_part_is_still_served(overcast, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=SMALL)
    _damage(_blob_path(overcast, bucket, "k"), "zeroed")
    assert s3.get_object(Bucket=bucket, Key="k", Range="bytes=0-9")["Body"].read() == SMALL[:10]


@pytest.fixture
def stopped_data_dir(tmp_path):
    """A data directory with four objects written by a server that has since stopped."""
    data = tmp_path / "data"
    with OvercastServer(Config(data_dir=data, log_level="warning")) as server:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="bkt")
        for key, body in (("small", SMALL), ("large", LARGE), ("whole", SMALL), ("gone", SMALL)):
            s3.put_object(Bucket="bkt", Key=key, Body=body)
        paths = {key: _blob_path(server, "bkt", key) for key in ("small", "large", "whole", "gone")}
        tiny = s3.put_object(Bucket="bkt", Key="inline", Body=b"kept in its row")
        assert tiny["ETag"]
    return data, paths


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([OVERCAST, *args], capture_output=True, text=True, timeout=120)


def test_overcast_check_reports_and_quarantines_damage(stopped_data_dir):
    data, paths = stopped_data_dir
    clean = _run("check", "--data-dir", str(data))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no damage found" in clean.stdout
    _damage(paths["small"], "zeroed")
    _damage(paths["large"], "truncated")
    _damage(paths["gone"], "deleted")
    found = _run("check", "--data-dir", str(data), "--quarantine")
    assert found.returncode == 1
    lines = [line for line in found.stdout.splitlines() if line.startswith("DAMAGED")]
    assert len(lines) == 3, found.stdout
    assert any("s3://bkt/small" in line and "checksum" in line for line in lines)
    assert any(str(paths["large"]) in line and "holds" in line for line in lines)
    assert any(str(paths["gone"]) in line and "missing" in line for line in lines)
    assert (data / "quarantine" / paths["small"].name).exists() and not paths["small"].exists()
    assert "whole" not in found.stdout and "inline" not in found.stdout


@pytest.mark.parametrize("damage", ["garbage", "empty"])
def test_a_damaged_or_empty_database_is_one_clear_message_at_start(stopped_data_dir, damage):
    data, _paths = stopped_data_dir
    database = data / "overcast.db"
    if damage == "empty":
        database.write_bytes(b"")
    else:
        content = bytearray(database.read_bytes())
        content[4096:8192] = b"\xde\xad" * 2048  # a page of the tables overwritten
        database.write_bytes(bytes(content))
    started = _run("start", "--port", str(free_port()), "--data-dir", str(data))
    assert started.returncode == 1
    message = started.stderr.strip().splitlines()
    assert len(message) == 1, started.stderr
    assert message[0].startswith(f"overcast: {database} ")
    assert "Traceback" not in started.stderr
    assert ("empty (0 bytes)" if damage == "empty" else "is damaged") in message[0]
    checked = _run("check", "--data-dir", str(data))
    assert checked.returncode == 1 and "DAMAGED" in checked.stdout


def test_check_of_a_directory_without_a_store(tmp_path):
    nothing = _run("check", "--data-dir", str(tmp_path / "none"))
    assert nothing.returncode == 2 and "no store" in nothing.stderr
    assert sys.executable  # the check ran the installed `overcast` command
