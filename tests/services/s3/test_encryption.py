"""Encryption at rest: SSE-S3, SSE-KMS and SSE-C bodies are ciphertext on disk (blob files and rows), read
back whole and by ranges, re-keyed by copies, and survive a restart; objects stored in plain text by earlier
versions still read.

The on-disk checks look for a distinctive plain text in every file under the data directory (and, for the
in-memory database of the test server, in every row), with a control that the same scan does find what is
stored in plain text (metadata, or bodies written the old way)."""

import json
import sqlite3
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.helpers import error_of
from tests.server_process import ServerProcess
from tests.waiting import wait_for

MiB = 1024 * 1024
MARKER = b"PLAINTEXT-MUST-NOT-REACH-THE-DISK:"
CONTROL = "stored-in-plain-text-as-in-aws"
KEY_1 = b"k" * 32
KEY_2 = bytes(range(32))


def body(tag: str, size: int) -> bytes:
    unit = MARKER + tag.encode() + b"|"
    return (unit * (size // len(unit) + 1))[:size]


def sse_c(key: bytes, prefix: str = "") -> dict:
    return {f"{prefix}SSECustomerAlgorithm": "AES256", f"{prefix}SSECustomerKey": key}


def files_containing(root: Path, needle: bytes) -> list[str]:
    found = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        with open(path, "rb") as f:
            tail = b""
            while chunk := f.read(MiB):
                if needle in tail + chunk:
                    found.append(str(path.relative_to(root)))
                    break
                tail = chunk[-len(needle) :]
    return found


def complete(s3, bucket, key, upload_id, etags, **extra):
    parts = [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, start=1)]
    return s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}, **extra
    )


def multipart(s3, bucket, key, parts, **create):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    extra = {k: v for k, v in create.items() if k.startswith("SSECustomer")}
    etags = [
        s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=data, **extra)["ETag"]
        for n, data in enumerate(parts, start=1)
    ]
    return complete(s3, bucket, key, upload_id, etags)


def read(s3, bucket, key, range_header=None, **extra) -> bytes:
    if range_header:
        extra["Range"] = range_header
    return s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()


RANGES = ["bytes=0-0", "bytes=17-33", "bytes=1000-", "bytes=-15", "bytes=5-300000", "bytes=123457-3000001"]


def check_ranges(s3, bucket, key, expected: bytes, **extra) -> None:
    assert read(s3, bucket, key, **extra) == expected
    for header in RANGES:
        first, _, last = header[6:].partition("-")
        if first == "":
            want = expected[-int(last) :]
        else:
            want = expected[int(first) : int(last) + 1 if last else None]
        if int(first or 0) < len(expected):
            assert read(s3, bucket, key, header, **extra) == want, header


def row(overcast, bucket: str, key: str) -> tuple:
    """(blob_id, parts, enc, data) of the current version, read from the server's database."""
    return overcast.platform.db.one(
        "SELECT o.blob_id, o.parts, o.enc, o.data FROM s3_objects o JOIN s3_buckets b ON b.id = o.bucket_id "
        "WHERE b.name = ? AND o.key = ? AND o.is_latest = 1",
        (bucket, key),
    )


def decrypt_file(path: Path, key: bytes) -> bytes:
    raw = path.read_bytes()
    return Cipher(algorithms.AES(key), modes.CTR(raw[:16])).decryptor().update(raw[16:])


def server_key(overcast) -> bytes:
    return bytes(overcast.platform.db.one("SELECT key FROM s3_keys")[0])


def test_bodies_are_ciphertext_in_rows_and_in_files(overcast, s3, bucket):
    small, large = body("small", 1024), body("large", 3 * MiB + 5)
    s3.put_object(Bucket=bucket, Key="small", Body=small, Metadata={"note": CONTROL})
    s3.put_object(Bucket=bucket, Key="large", Body=large)
    s3.put_object(Bucket=bucket, Key="small-c", Body=small, **sse_c(KEY_1))
    s3.put_object(Bucket=bucket, Key="large-c", Body=large, **sse_c(KEY_1))
    s3.put_object(Bucket=bucket, Key="kms", Body=small, ServerSideEncryption="aws:kms")
    multipart(s3, bucket, "mp", [body("p1", 5 * MiB), body("p2", 1000)])

    root = overcast.platform.root
    assert files_containing(root, MARKER) == []
    rows = overcast.platform.db.all("SELECT key, enc, data, meta FROM s3_objects")
    assert {key: enc[:2] if enc.startswith("K:") else enc for key, enc, _data, _meta in rows} == {
        "small": "S3",
        "large": "S3",
        "small-c": "C",
        "large-c": "C",
        "kms": "K:",  # under a data key from KMS
        "mp": "S3",
    }
    assert not [key for key, _enc, data, _meta in rows if data is not None and MARKER in data]
    assert [key for key, _enc, _data, meta in rows if CONTROL in meta] == ["small"]  # the scan sees rows

    # The files hold these very bodies: under the server's key, or under the customer's and no other.
    blobs = overcast.platform.blobs
    assert decrypt_file(blobs.path(row(overcast, bucket, "large")[0]), server_key(overcast)) == large
    customer_file = blobs.path(row(overcast, bucket, "large-c")[0])
    assert decrypt_file(customer_file, KEY_1) == large
    assert decrypt_file(customer_file, server_key(overcast)) != large
    sealed = row(overcast, bucket, "small-c")[3]
    assert AESGCM(KEY_1).decrypt(sealed[:12], sealed[12:], None) == small


def test_reads_whole_and_by_ranges(s3, bucket):
    small, large = body("s", 1024), body("l", 3 * MiB + 7)
    parts = [body("a", 5 * MiB + 3), body("b", 2 * MiB + 1)]
    s3.put_object(Bucket=bucket, Key="small", Body=small)
    s3.put_object(Bucket=bucket, Key="large", Body=large)
    s3.put_object(Bucket=bucket, Key="large-c", Body=large, **sse_c(KEY_1))
    multipart(s3, bucket, "mp", parts)
    multipart(s3, bucket, "mp-c", parts, **sse_c(KEY_2))
    check_ranges(s3, bucket, "small", small)
    check_ranges(s3, bucket, "large", large)
    check_ranges(s3, bucket, "large-c", large, **sse_c(KEY_1))
    whole = b"".join(parts)
    for key, extra in (("mp", {}), ("mp-c", sse_c(KEY_2))):
        check_ranges(s3, bucket, key, whole, **extra)
        edge = len(parts[0])
        assert read(s3, bucket, key, f"bytes={edge - 5}-{edge + 4}", **extra) == whole[edge - 5 : edge + 5]
        got = s3.get_object(Bucket=bucket, Key=key, PartNumber=2, **extra)
        assert got["Body"].read() == parts[1]


def test_wrong_or_missing_customer_key_reads_nothing(s3, bucket):
    s3.put_object(Bucket=bucket, Key="c", Body=body("c", 400_000), **sse_c(KEY_1))
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="c", Range="bytes=0-99", **sse_c(KEY_2))
    assert error_of(raised) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="c")
    assert error_of(raised) == ("InvalidRequest", 400)


@pytest.mark.parametrize("size", [1024, 3 * MiB + 11])
def test_copy_re_keys_between_sse_s3_and_sse_c(overcast, s3, bucket, size):
    data = body("copy", size)
    s3.put_object(Bucket=bucket, Key="plain-s3", Body=data)
    steps = [  # (source, destination, source key, destination key)
        ("plain-s3", "to-c1", None, KEY_1),
        ("to-c1", "to-c2", KEY_1, KEY_2),
        ("to-c2", "back-s3", KEY_2, None),
        ("back-s3", "same-s3", None, None),
    ]
    for source, destination, old, new in steps:
        extra = {**(sse_c(old, "CopySource") if old else {}), **(sse_c(new) if new else {})}
        result = s3.copy_object(Bucket=bucket, Key=destination, CopySource=f"{bucket}/{source}", **extra)
        assert ("SSECustomerKeyMD5" in result) == bool(new)
        assert read(s3, bucket, destination, **(sse_c(new) if new else {})) == data
        assert (
            read(s3, bucket, destination, "bytes=1000-1010", **(sse_c(new) if new else {})) == data[1000:1011]
        )
        if new is not None:
            with pytest.raises(ClientError) as raised:
                read(s3, bucket, destination, **sse_c(KEY_2 if new == KEY_1 else KEY_1))
            assert error_of(raised) == ("AccessDenied", 403)
    assert files_containing(overcast.platform.root, MARKER) == []
    # re-keyed copies are new files; a copy under the same key shares the file
    files = {key: row(overcast, bucket, key)[0] for key in ("plain-s3", "to-c1", "back-s3", "same-s3")}
    if size > 64 * 1024:
        assert len({files["plain-s3"], files["to-c1"], files["back-s3"]}) == 3
        assert files["same-s3"] != files["back-s3"]
        path = overcast.platform.blobs.path
        assert path(files["same-s3"]).stat().st_ino == path(files["back-s3"]).stat().st_ino


def test_copy_in_place_changes_the_key(s3, bucket):
    data = body("in-place", 2 * MiB)
    s3.put_object(Bucket=bucket, Key="k", Body=data, **sse_c(KEY_1))
    s3.copy_object(
        Bucket=bucket, Key="k", CopySource=f"{bucket}/k", **sse_c(KEY_1, "CopySource"), **sse_c(KEY_2)
    )
    assert read(s3, bucket, "k", "bytes=10-20", **sse_c(KEY_2)) == data[10:21]
    s3.copy_object(Bucket=bucket, Key="k", CopySource=f"{bucket}/k", **sse_c(KEY_2, "CopySource"))
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ServerSideEncryption"] == "AES256"
    assert read(s3, bucket, "k") == data


def test_copy_of_a_multipart_source_under_another_key(overcast, s3, bucket):
    parts = [body("m1", 5 * MiB), body("m2", 300_000)]
    multipart(s3, bucket, "mp", parts)
    s3.copy_object(Bucket=bucket, Key="mp-c", CopySource=f"{bucket}/mp", **sse_c(KEY_1))
    whole = b"".join(parts)
    check_ranges(s3, bucket, "mp-c", whole, **sse_c(KEY_1))
    got = s3.get_object(Bucket=bucket, Key="mp-c", PartNumber=2, **sse_c(KEY_1))
    assert got["Body"].read() == parts[1] and got["PartsCount"] == 2
    assert files_containing(overcast.platform.root, MARKER) == []


def test_upload_part_copy_across_keys(overcast, s3, bucket):
    first, second = body("first", 5 * MiB), body("second", 200_000)
    s3.put_object(Bucket=bucket, Key="src-c", Body=first, **sse_c(KEY_1))
    s3.put_object(Bucket=bucket, Key="src-s3", Body=second)
    for key, create in (("dst-s3", {}), ("dst-c", sse_c(KEY_2))):
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
        etags = [
            s3.upload_part_copy(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=1,
                CopySource=f"{bucket}/src-c",
                **sse_c(KEY_1, "CopySource"),
                **create,
            )["CopyPartResult"]["ETag"],
            s3.upload_part_copy(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=2,
                CopySource=f"{bucket}/src-s3",
                CopySourceRange="bytes=100-199999",
                **create,
            )["CopyPartResult"]["ETag"],
        ]
        complete(s3, bucket, key, upload_id, etags)
        check_ranges(s3, bucket, key, first + second[100:], **create)
    with pytest.raises(ClientError) as raised:  # the SSE-C upload's key is required for a part copy too
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key="needs-key", **sse_c(KEY_2))["UploadId"]
        s3.upload_part_copy(
            Bucket=bucket, Key="needs-key", UploadId=upload_id, PartNumber=1, CopySource=f"{bucket}/src-s3"
        )
    assert error_of(raised) == ("InvalidRequest", 400)
    assert files_containing(overcast.platform.root, MARKER) == []


def test_sse_kms_is_encrypted_and_reports_its_key(overcast, s3, bucket):
    key_id = overcast.client("kms").create_key()["KeyMetadata"]["Arn"]
    data = body("kms", 500_000)
    put = s3.put_object(
        Bucket=bucket, Key="kms", Body=data, ServerSideEncryption="aws:kms", SSEKMSKeyId=key_id
    )
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == key_id
    got = s3.get_object(Bucket=bucket, Key="kms", Range="bytes=7-77")
    assert got["SSEKMSKeyId"] == key_id and got["Body"].read() == data[7:78]
    enc = row(overcast, bucket, "kms")[2]
    sealed = json.loads(enc[2:])
    assert enc.startswith("K:") and sealed["arn"] == key_id
    assert sealed["context"] == {"aws:s3:arn": f"arn:aws:s3:::{bucket}/kms"}
    assert files_containing(overcast.platform.root, MARKER) == []
    default = s3.put_object(Bucket=bucket, Key="managed", Body=b"x", ServerSideEncryption="aws:kms")
    managed = overcast.client("kms").describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert default["SSEKMSKeyId"] == managed["Arn"] and managed["KeyManager"] == "AWS"


def test_select_and_replication_of_encrypted_objects(overcast, s3, bucket):
    csv = b"name,n\n" + b"".join(b"row%d,%d\n" % (i, i) for i in range(40_000))
    s3.put_object(Bucket=bucket, Key="data.csv", Body=csv, **sse_c(KEY_1))
    events = s3.select_object_content(
        Bucket=bucket,
        Key="data.csv",
        Expression="SELECT COUNT(*) FROM S3Object s WHERE CAST(s.n AS INT) >= 39990",
        ExpressionType="SQL",
        InputSerialization={"CSV": {"FileHeaderInfo": "USE"}},
        OutputSerialization={"CSV": {}},
        **sse_c(KEY_1),
    )["Payload"]
    assert b"".join(e["Records"]["Payload"] for e in events if "Records" in e) == b"10\n"

    for name in (bucket, "replica-" + bucket):
        if name != bucket:
            s3.create_bucket(Bucket=name)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(
        Bucket=bucket,
        ReplicationConfiguration={
            "Role": "arn:aws:iam::000000000000:role/replication",
            "Rules": [
                {
                    "Status": "Enabled",
                    "Prefix": "",
                    "Destination": {"Bucket": f"arn:aws:s3:::replica-{bucket}"},
                }
            ],
        },
    )
    data = body("replicated", 2 * MiB)
    s3.put_object(Bucket=bucket, Key="big", Body=data)
    s3.put_object(Bucket=bucket, Key="small", Body=data[:100], **sse_c(KEY_2))
    wait_for(lambda: s3.head_object(Bucket=bucket, Key="big").get("ReplicationStatus") == "COMPLETED")
    assert read(s3, "replica-" + bucket, "big", "bytes=3-30") == data[3:31]
    assert read(s3, "replica-" + bucket, "small", **sse_c(KEY_2)) == data[:100]


# -- a real server on a data directory -----------------------------------------------------------------


def client(server: ServerProcess):
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


def write_everything(s3) -> dict[str, tuple[bytes, dict]]:
    """One object of each way of storing a body; key -> (body, the read parameters it needs)."""
    s3.create_bucket(Bucket="vault")
    written = {}
    for key, size, extra in (
        ("small", 2000, {}),
        ("large", 2 * MiB + 3, {}),
        ("small-c", 3000, sse_c(KEY_1)),
        ("large-c", 1 * MiB + 9, sse_c(KEY_1)),
        ("kms", 70_000, {"ServerSideEncryption": "aws:kms"}),
    ):
        data = body(key, size)
        s3.put_object(Bucket="vault", Key=key, Body=data, Metadata={"note": CONTROL}, **extra)
        written[key] = (data, {k: v for k, v in extra.items() if k.startswith("SSECustomer")})
    parts = [body("part-1", 5 * MiB), body("part-2", 4000)]
    multipart(s3, "vault", "mp", parts, **sse_c(KEY_2))
    written["mp"] = (b"".join(parts), sse_c(KEY_2))
    return written


def read_everything(s3, written: dict[str, tuple[bytes, dict]]) -> None:
    for key, (data, extra) in written.items():
        check_ranges(s3, "vault", key, data, **extra)


def test_encrypted_objects_survive_a_restart(tmp_path):
    server = ServerProcess(tmp_path)
    try:
        written = write_everything(client(server))
        read_everything(client(server), written)
    finally:
        server.stop()
    assert files_containing(tmp_path, MARKER) == []
    assert files_containing(tmp_path, CONTROL.encode())  # the scan reads the database files
    server = ServerProcess(tmp_path)
    try:
        s3 = client(server)
        read_everything(s3, written)
        s3.put_object(Bucket="vault", Key="after", Body=body("after", 100_000))
    finally:
        server.stop()
    assert files_containing(tmp_path, MARKER) == []


def _as_written_before_encryption(data_dir: Path) -> None:
    """Turn the data directory into what the version before encryption at rest left: schema 2 of S3's
    tables, bodies in plain text in rows and files, no `enc`, no server key."""
    db = sqlite3.connect(data_dir / "overcast.db")
    key = bytes(db.execute("SELECT key FROM s3_keys").fetchone()[0])
    blobs = data_dir / "blobs"
    for row_id, blob_id, parts, data in db.execute(
        "SELECT id, blob_id, parts, data FROM s3_objects WHERE enc = 'S3'"
    ).fetchall():
        if blob_id == "":
            plain = AESGCM(key).decrypt(data[:12], data[12:], None)
            db.execute("UPDATE s3_objects SET data = ? WHERE id = ?", (plain, row_id))
        ids = [blob_id] if blob_id else [part[0] for part in json.loads(parts or "[]")]
        for blob in ids:
            path = blobs / blob[:2] / blob
            path.write_bytes(decrypt_file(path, key))
            db.execute("UPDATE blobs SET size = ? WHERE id = ?", (path.stat().st_size, blob))
    for (blob,) in db.execute("SELECT blob_id FROM s3_parts").fetchall():  # uploads in progress
        path = blobs / blob[:2] / blob
        path.write_bytes(decrypt_file(path, key))
        db.execute("UPDATE blobs SET size = ? WHERE id = ?", (path.stat().st_size, blob))
    for upload_id, meta in db.execute("SELECT id, meta FROM s3_uploads").fetchall():
        old = json.loads(meta)
        old.pop("enc")
        db.execute("UPDATE s3_uploads SET meta = ? WHERE id = ?", (json.dumps(old), upload_id))
    db.execute("UPDATE s3_objects SET enc = NULL")
    db.execute("ALTER TABLE s3_objects DROP COLUMN enc")
    db.execute("DROP TABLE s3_keys")
    db.execute("DROP TABLE IF EXISTS s3_restores")  # (newer still)
    db.execute("DROP TABLE IF EXISTS s3_completed_uploads")
    db.execute("UPDATE schema_versions SET version = 2 WHERE namespace = 's3'")
    db.commit()
    db.close()


def test_objects_stored_before_encryption_still_read(tmp_path):
    server = ServerProcess(tmp_path)
    try:
        s3 = client(server)
        s3.create_bucket(Bucket="vault")
        written = {}
        for key, size in (("small", 5000), ("large", 3 * MiB + 1)):
            written[key] = (body(key, size), {})
            s3.put_object(Bucket="vault", Key=key, Body=written[key][0])
        parts = [body("old-1", 5 * MiB), body("old-2", 10)]
        multipart(s3, "vault", "mp", parts)
        written["mp"] = (b"".join(parts), {})
        # an upload in progress across the upgrade: a part before, a part after
        upload_id = s3.create_multipart_upload(Bucket="vault", Key="across")["UploadId"]
        first = s3.upload_part(Bucket="vault", Key="across", UploadId=upload_id, PartNumber=1, Body=parts[0])
    finally:
        server.stop()
    _as_written_before_encryption(tmp_path)
    assert files_containing(tmp_path, MARKER)  # plain text as the old version stored it: the scan sees it

    server = ServerProcess(tmp_path)
    try:
        s3 = client(server)
        read_everything(s3, written)
        second = s3.upload_part(Bucket="vault", Key="across", UploadId=upload_id, PartNumber=2, Body=b"end")
        complete(s3, "vault", "across", upload_id, [first["ETag"], second["ETag"]])
        check_ranges(s3, "vault", "across", parts[0] + b"end")
        s3.delete_object(Bucket="vault", Key="across")
        # copies of old objects are new objects: encrypted, whatever the key
        s3.copy_object(Bucket="vault", Key="large-copy", CopySource="vault/large")
        s3.copy_object(Bucket="vault", Key="small-c", CopySource="vault/small", **sse_c(KEY_1))
        assert read(s3, "vault", "large-copy", "bytes=5-50") == written["large"][0][5:51]
        assert read(s3, "vault", "small-c", **sse_c(KEY_1)) == written["small"][0]
        for key in ("small", "large", "mp"):
            s3.delete_object(Bucket="vault", Key=key)
    finally:
        server.stop()
    # (SQLite may keep the deleted rows' old plain text in free pages; blob files are gone whole)
    assert files_containing(tmp_path / "blobs", MARKER) == []
