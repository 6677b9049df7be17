"""Objects: bodies, metadata, ETags, checksums, ranges, conditional reads and writes, copy, delete."""

import base64
import hashlib
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of


def test_put_get_head_round_trip(s3, bucket):
    body = b"hello world"
    put = s3.put_object(
        Bucket=bucket,
        Key="dir/file.txt",
        Body=body,
        ContentType="text/plain",
        Metadata={"colour": "blue"},
        CacheControl="max-age=60",
        ContentDisposition="inline",
        ContentLanguage="en",
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert "VersionId" not in put
    got = s3.get_object(Bucket=bucket, Key="dir/file.txt")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"colour": "blue"}
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentDisposition"] == "inline"
    assert got["ContentLanguage"] == "en"
    assert got["ContentLength"] == len(body)
    assert got["ETag"] == put["ETag"]
    assert got["AcceptRanges"] == "bytes"
    assert got["ServerSideEncryption"] == "AES256"
    head = s3.head_object(Bucket=bucket, Key="dir/file.txt")
    assert head["ContentLength"] == len(body)
    assert head["Metadata"] == {"colour": "blue"}
    assert head["LastModified"] == got["LastModified"]


def test_default_content_type_and_empty_body(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty")
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b""
    assert got["ContentType"] == "binary/octet-stream"
    assert got["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'


def test_overwrite_replaces(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"one")
    s3.put_object(Bucket=bucket, Key="k", Body=b"two")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1


def test_missing_key(s3, bucket):
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="nope")
    assert error_of(raised) == ("NoSuchKey", 404)
    assert raised.value.response["Error"]["Key"] == "nope"
    with pytest.raises(ClientError) as raised:
        s3.head_object(Bucket=bucket, Key="nope")
    assert error_of(raised)[1] == 404


def test_large_body_streams(s3, bucket):
    body = bytes(range(256)) * 40_000  # ~10 MB, several chunks
    s3.put_object(Bucket=bucket, Key="big", Body=body)
    got = s3.get_object(Bucket=bucket, Key="big")
    assert got["Body"].read() == body


def test_unicode_and_special_keys(s3, bucket):
    keys = ["spaces in name", "ünïcödé/ключ", "plus+sign", "a%20b", "q?x=1&y", "../dots", "tab\there"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    for key in keys:
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(listed) == sorted(keys)


def test_key_too_long(s3, bucket):
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")
    assert error_of(raised) == ("KeyTooLongError", 400)


def test_metadata_too_large(s3, bucket):
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={"big": "v" * 2100})
    assert error_of(raised) == ("MetadataTooLarge", 400)


# -- integrity -----------------------------------------------------------------------------------------


def test_content_md5_checked(s3, bucket):
    good = base64.b64encode(hashlib.md5(b"data").digest()).decode()
    s3.put_object(Bucket=bucket, Key="k", Body=b"data", ContentMD5=good)
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data", ContentMD5=bad)
    assert error_of(raised) == ("BadDigest", 400)
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data", ContentMD5="not-base64!")
    assert error_of(raised) == ("InvalidDigest", 400)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_checksums_stored_and_returned(s3, bucket, algorithm):
    body = b"checksum me" * 1000
    put = s3.put_object(Bucket=bucket, Key="k", Body=body, ChecksumAlgorithm=algorithm)
    value = put[f"Checksum{algorithm}"]
    got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert got[f"Checksum{algorithm}"] == value
    assert got["ChecksumType"] == "FULL_OBJECT"
    assert got["Body"].read() == body  # botocore validates the checksum while reading
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == value
    if algorithm == "SHA256":
        assert base64.b64decode(value) == hashlib.sha256(body).digest()
    if algorithm == "CRC32":
        assert int.from_bytes(base64.b64decode(value), "big") == zlib.crc32(body)


def test_wrong_checksum_header_refused(s3, bucket):
    wrong = base64.b64encode((zlib.crc32(b"other")).to_bytes(4, "big")).decode()
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data", ChecksumCRC32=wrong)
    assert error_of(raised) == ("BadDigest", 400)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k")


def test_default_checksum_is_crc64nvme_without_one(overcast, bucket):
    from botocore.config import Config

    client = overcast.client("s3", config=Config(request_checksum_calculation="when_required"))
    client.put_object(Bucket=bucket, Key="k", Body=b"abc")
    head = client.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"]
    assert head["ChecksumType"] == "FULL_OBJECT"


# -- ranges --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header, expected, content_range",
    [
        ("bytes=0-4", b"01234", "bytes 0-4/10"),
        ("bytes=5-", b"56789", "bytes 5-9/10"),
        ("bytes=-3", b"789", "bytes 7-9/10"),
        ("bytes=8-100", b"89", "bytes 8-9/10"),
    ],
)
def test_ranges(s3, bucket, header, expected, content_range):
    s3.put_object(Bucket=bucket, Key="k", Body=b"0123456789")
    got = s3.get_object(Bucket=bucket, Key="k", Range=header)
    assert got["Body"].read() == expected
    assert got["ContentRange"] == content_range
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentLength"] == len(expected)


def test_unsatisfiable_range(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"0123456789")
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="k", Range="bytes=20-30")
    assert error_of(raised) == ("InvalidRange", 416)
    whole = s3.get_object(Bucket=bucket, Key="k", Range="bytes=garbage")
    assert whole["Body"].read() == b"0123456789"


def test_large_range_streams(s3, bucket):
    body = bytes(range(256)) * 8192  # 2 MiB
    s3.put_object(Bucket=bucket, Key="k", Body=body)
    got = s3.get_object(Bucket=bucket, Key="k", Range="bytes=1000-1500999")
    assert got["Body"].read() == body[1000:1501000]


# -- conditional requests ------------------------------------------------------------------------------


def test_conditional_reads(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["ETag"]
    modified = s3.head_object(Bucket=bucket, Key="k")["LastModified"]
    assert s3.get_object(Bucket=bucket, Key="k", IfMatch=etag)["Body"].read() == b"x"
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="k", IfMatch='"other"')
    assert error_of(raised) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=etag)
    assert error_of(raised)[1] == 304
    with pytest.raises(ClientError) as raised:
        s3.head_object(Bucket=bucket, Key="k", IfNoneMatch=etag)
    assert error_of(raised)[1] == 304
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="k", IfModifiedSince=modified + timedelta(seconds=1))
    assert error_of(raised)[1] == 304
    assert s3.get_object(Bucket=bucket, Key="k", IfModifiedSince=modified - timedelta(days=1))["Body"].read()
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="k", IfUnmodifiedSince=modified - timedelta(days=1))
    assert error_of(raised) == ("PreconditionFailed", 412)
    # If-Match true wins over a failing If-Unmodified-Since, as RFC 7232 says.
    assert (
        s3.get_object(Bucket=bucket, Key="k", IfMatch=etag, IfUnmodifiedSince=modified - timedelta(days=1))[
            "Body"
        ].read()
        == b"x"
    )
    # The connection stays usable after a 304.
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_conditional_writes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="k", Body=b"second", IfNoneMatch="*")
    assert error_of(raised) == ("PreconditionFailed", 412)
    etag = s3.head_object(Bucket=bucket, Key="k")["ETag"]
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="k", Body=b"third", IfMatch='"wrong"')
    assert error_of(raised) == ("PreconditionFailed", 412)
    s3.put_object(Bucket=bucket, Key="k", Body=b"third", IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"third"
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="absent", Body=b"x", IfMatch=etag)
    assert error_of(raised) == ("NoSuchKey", 404)


# -- delete --------------------------------------------------------------------------------------------


def test_delete_object_and_objects(s3, bucket):
    for key in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    assert s3.delete_object(Bucket=bucket, Key="a")["ResponseMetadata"]["HTTPStatusCode"] == 204
    s3.delete_object(Bucket=bucket, Key="never-existed")  # idempotent
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b"}, {"Key": "c"}, {"Key": "zz"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == ["b", "c", "zz"]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "q"}], "Quiet": True})
    assert "Deleted" not in quiet


# -- copy ----------------------------------------------------------------------------------------------


def test_copy_object_metadata_directives(s3, bucket):
    s3.put_object(
        Bucket=bucket,
        Key="src",
        Body=b"payload",
        ContentType="text/plain",
        Metadata={"a": "1"},
        Tagging="t=1",
    )
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "src"})
    copied = s3.get_object(Bucket=bucket, Key="copy")
    assert copied["Body"].read() == b"payload"
    assert copied["Metadata"] == {"a": "1"}
    assert copied["ContentType"] == "text/plain"
    assert s3.get_object_tagging(Bucket=bucket, Key="copy")["TagSet"] == [{"Key": "t", "Value": "1"}]
    s3.copy_object(
        Bucket=bucket,
        Key="replaced",
        CopySource=f"{bucket}/src",
        MetadataDirective="REPLACE",
        Metadata={"b": "2"},
        ContentType="application/json",
    )
    replaced = s3.head_object(Bucket=bucket, Key="replaced")
    assert replaced["Metadata"] == {"b": "2"}
    assert replaced["ContentType"] == "application/json"


def test_copy_into_itself(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={"v": "1"})
    with pytest.raises(ClientError) as raised:
        s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"})
    assert error_of(raised) == ("InvalidRequest", 400)
    s3.copy_object(
        Bucket=bucket,
        Key="k",
        CopySource={"Bucket": bucket, "Key": "k"},
        MetadataDirective="REPLACE",
        Metadata={"v": "2"},
    )
    assert s3.head_object(Bucket=bucket, Key="k")["Metadata"] == {"v": "2"}
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_copy_across_buckets_and_conditions(s3, bucket):
    s3.create_bucket(Bucket="copy-target")
    etag = s3.put_object(Bucket=bucket, Key="src", Body=b"data")["ETag"]
    result = s3.copy_object(
        Bucket="copy-target", Key="dst", CopySource={"Bucket": bucket, "Key": "src"}, CopySourceIfMatch=etag
    )
    assert result["CopyObjectResult"]["ETag"] == etag
    assert s3.get_object(Bucket="copy-target", Key="dst")["Body"].read() == b"data"
    with pytest.raises(ClientError) as raised:
        s3.copy_object(
            Bucket="copy-target",
            Key="dst2",
            CopySource={"Bucket": bucket, "Key": "src"},
            CopySourceIfNoneMatch=etag,
        )
    assert error_of(raised) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as raised:
        s3.copy_object(
            Bucket="copy-target",
            Key="dst2",
            CopySource={"Bucket": bucket, "Key": "src"},
            CopySourceIfModifiedSince=datetime.now(UTC) + timedelta(days=1),
        )
    assert error_of(raised) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as raised:
        s3.copy_object(Bucket="copy-target", Key="dst2", CopySource={"Bucket": bucket, "Key": "missing"})
    assert error_of(raised) == ("NoSuchKey", 404)
    # The source stays intact when the copy is deleted (hard links or copies, never shared files).
    s3.delete_object(Bucket="copy-target", Key="dst")
    assert s3.get_object(Bucket=bucket, Key="src")["Body"].read() == b"data"


def test_get_object_attributes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"abc", ChecksumAlgorithm="SHA256")
    attributes = s3.get_object_attributes(
        Bucket=bucket, Key="k", ObjectAttributes=["ETag", "Checksum", "ObjectSize", "StorageClass"]
    )
    assert attributes["ETag"] == hashlib.md5(b"abc").hexdigest()
    assert attributes["ObjectSize"] == 3
    assert attributes["StorageClass"] == "STANDARD"
    assert (
        attributes["Checksum"]["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(b"abc").digest()).decode()
    )


def test_object_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1&b=two%20words")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [
        {"Key": "a", "Value": "1"},
        {"Key": "b", "Value": "two words"},
    ]
    assert s3.head_object(Bucket=bucket, Key="k").get("ResponseMetadata")
    assert s3.get_object(Bucket=bucket, Key="k")["TagCount"] == 2
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": "c", "Value": "3"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [{"Key": "c", "Value": "3"}]
    s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    with pytest.raises(ClientError) as raised:
        s3.put_object_tagging(
            Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]}
        )
    assert error_of(raised)[1] == 400


def test_sse_c_requires_the_key(s3, bucket):
    key = b"k" * 32
    s3.put_object(
        Bucket=bucket, Key="secret", Body=b"data", SSECustomerAlgorithm="AES256", SSECustomerKey=key
    )
    got = s3.get_object(Bucket=bucket, Key="secret", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert got["Body"].read() == b"data"
    assert got["SSECustomerAlgorithm"] == "AES256"
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="secret")
    assert error_of(raised) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="secret", SSECustomerAlgorithm="AES256", SSECustomerKey=b"x" * 32)
    assert error_of(raised) == ("AccessDenied", 403)


def test_storage_class_recorded(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass="STANDARD_IA")
    assert s3.head_object(Bucket=bucket, Key="k")["StorageClass"] == "STANDARD_IA"
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["StorageClass"] == "STANDARD_IA"


def test_overwrites_in_a_never_versioned_bucket_keep_one_version_and_no_stale_file(overcast, s3, bucket):
    """An unversioned key is overwritten in place, whether its body is kept in its row (small) or in a blob
    file (large): each read answers the last write, and a replaced file is removed."""
    blobs = overcast.platform.blobs

    def files() -> set:
        return {path.name for path in blobs.root.glob("??/*") if path.is_file()}

    before = files()
    bodies = [b"a" * 10, b"b" * 20, b"L" * 200_000, b"M" * 150_000, b"c" * 30, b"d" * 40]
    for n, body in enumerate(bodies):
        s3.put_object(Bucket=bucket, Key="k", Body=body, Metadata={"n": str(n)})
        got = s3.get_object(Bucket=bucket, Key="k")
        assert got["Body"].read() == body
        assert got["Metadata"] == {"n": str(n)}
        assert got["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
        assert len(files() - before) == (1 if len(body) > 100_000 else 0)
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [(v["Key"], v["VersionId"], v["Size"]) for v in versions] == [("k", "null", 40)]


def test_a_put_refused_before_its_body_is_read_closes_the_connection(s3, bucket):
    """The client may still be sending the body: the server must not read it as the next request."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(
        s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k" * 1025}, ExpiresIn=300)
    )
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        connection.request("PUT", f"{url.path}?{url.query}", body=b"x" * 100)
        response = connection.getresponse()
        assert (response.status, b"<Code>KeyTooLongError</Code>" in response.read()) == (400, True)
        assert response.will_close  # Connection: close
        assert response.getheader("connection") == "close"  # once, not "close, close"
    finally:
        connection.close()
