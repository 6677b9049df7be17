"""Multipart uploads: parts, completion rules, ETags, checksums, copy parts, listing, abort."""

import base64
import hashlib
import io
import zlib

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of

MiB = 1024 * 1024


def _upload(s3, bucket, key, parts, **create):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    etags = []
    for number, data in enumerate(parts, start=1):
        etags.append(
            s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data)["ETag"]
        )
    return upload_id, etags


def test_multipart_round_trip_and_etag(s3, bucket):
    parts = [b"a" * (5 * MiB), b"b" * (5 * MiB), b"tail"]
    upload_id, etags = _upload(s3, bucket, "mp", parts, ContentType="text/plain", Metadata={"m": "1"})
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]},
    )
    expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-3"
    assert done["ETag"] == f'"{expected}"'
    got = s3.get_object(Bucket=bucket, Key="mp")
    assert got["Body"].read() == b"".join(parts)
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"m": "1"}
    second = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert second["Body"].read() == parts[1]
    assert second["PartsCount"] == 3
    assert second["ContentRange"] == f"bytes {5 * MiB}-{10 * MiB - 1}/{10 * MiB + 4}"
    across = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={5 * MiB - 2}-{5 * MiB + 1}")
    assert across["Body"].read() == b"aabb"
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_completion_rules(s3, bucket):
    upload_id, etags = _upload(s3, bucket, "k", [b"small", b"x" * (5 * MiB), b"end"])
    with pytest.raises(ClientError) as raised:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="k",
            UploadId=upload_id,
            MultipartUpload={
                "Parts": [{"PartNumber": 1, "ETag": etags[0]}, {"PartNumber": 2, "ETag": etags[1]}]
            },
        )
    assert error_of(raised) == ("EntityTooSmall", 400)
    with pytest.raises(ClientError) as raised:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="k",
            UploadId=upload_id,
            MultipartUpload={
                "Parts": [{"PartNumber": 2, "ETag": etags[1]}, {"PartNumber": 1, "ETag": etags[0]}]
            },
        )
    assert error_of(raised) == ("InvalidPartOrder", 400)
    with pytest.raises(ClientError) as raised:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="k",
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": '"0000"'}]},
        )
    assert error_of(raised) == ("InvalidPart", 400)
    # Parts may be skipped: 2 then 3 is a valid object (only the last may be small).
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": etags[1]}, {"PartNumber": 3, "ETag": etags[2]}]},
    )
    assert s3.head_object(Bucket=bucket, Key="k")["ContentLength"] == 5 * MiB + 3
    with pytest.raises(ClientError) as raised:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="k",
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 3, "ETag": etags[2]}]},
        )
    assert error_of(raised) == ("NoSuchUpload", 404)


def test_part_number_limits_and_unknown_upload(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    with pytest.raises(ClientError) as raised:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=10001, Body=b"x")
    assert error_of(raised) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as raised:
        s3.upload_part(Bucket=bucket, Key="k", UploadId="nope", PartNumber=1, Body=b"x")
    assert error_of(raised) == ("NoSuchUpload", 404)
    s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=10000, Body=b"x")


def test_abort_and_list(s3, bucket):
    first = s3.create_multipart_upload(Bucket=bucket, Key="dir/one")["UploadId"]
    second = s3.create_multipart_upload(Bucket=bucket, Key="two")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="two", UploadId=second, PartNumber=1, Body=b"p1")
    s3.upload_part(Bucket=bucket, Key="two", UploadId=second, PartNumber=2, Body=b"p2")
    listed = s3.list_multipart_uploads(Bucket=bucket)
    assert [(u["Key"], u["UploadId"]) for u in listed["Uploads"]] == [("dir/one", first), ("two", second)]
    grouped = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["dir/"]
    parts = s3.list_parts(Bucket=bucket, Key="two", UploadId=second)
    assert [(p["PartNumber"], p["Size"]) for p in parts["Parts"]] == [(1, 2), (2, 2)]
    page = s3.list_parts(Bucket=bucket, Key="two", UploadId=second, MaxParts=1)
    assert page["IsTruncated"] is True and page["NextPartNumberMarker"] == 1
    s3.abort_multipart_upload(Bucket=bucket, Key="two", UploadId=second)
    with pytest.raises(ClientError) as raised:
        s3.list_parts(Bucket=bucket, Key="two", UploadId=second)
    assert error_of(raised) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as raised:
        s3.abort_multipart_upload(Bucket=bucket, Key="two", UploadId=second)
    assert error_of(raised) == ("NoSuchUpload", 404)


def test_upload_part_copy(s3, bucket):
    source = bytes(range(256)) * 40_000
    s3.put_object(Bucket=bucket, Key="src", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    first = s3.upload_part_copy(
        Bucket=bucket,
        Key="dst",
        UploadId=upload_id,
        PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "src"},
        CopySourceRange=f"bytes=0-{5 * MiB - 1}",
    )
    second = s3.upload_part_copy(
        Bucket=bucket,
        Key="dst",
        UploadId=upload_id,
        PartNumber=2,
        CopySource={"Bucket": bucket, "Key": "src"},
        CopySourceRange=f"bytes={5 * MiB}-{len(source) - 1}",
    )
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="dst",
        UploadId=upload_id,
        MultipartUpload={
            "Parts": [
                {"PartNumber": 1, "ETag": first["CopyPartResult"]["ETag"]},
                {"PartNumber": 2, "ETag": second["CopyPartResult"]["ETag"]},
            ]
        },
    )
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == source


def test_composite_and_full_object_checksums(s3, bucket):
    parts = [b"x" * (5 * MiB), b"y" * 100]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="c", ChecksumAlgorithm="CRC32")["UploadId"]
    sent = []
    for number, data in enumerate(parts, start=1):
        part = s3.upload_part(
            Bucket=bucket,
            Key="c",
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            ChecksumAlgorithm="CRC32",
        )
        sent.append({"PartNumber": number, "ETag": part["ETag"], "ChecksumCRC32": part["ChecksumCRC32"]})
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="c", UploadId=upload_id, MultipartUpload={"Parts": sent}
    )
    crcs = b"".join(zlib.crc32(p).to_bytes(4, "big") for p in parts)
    assert done["ChecksumCRC32"] == base64.b64encode(zlib.crc32(crcs).to_bytes(4, "big")).decode() + "-2"
    assert done["ChecksumType"] == "COMPOSITE"
    upload_id = s3.create_multipart_upload(
        Bucket=bucket, Key="f", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT"
    )["UploadId"]
    sent = []
    for number, data in enumerate(parts, start=1):
        part = s3.upload_part(
            Bucket=bucket,
            Key="f",
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            ChecksumAlgorithm="CRC32",
        )
        sent.append({"PartNumber": number, "ETag": part["ETag"], "ChecksumCRC32": part["ChecksumCRC32"]})
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="f", UploadId=upload_id, MultipartUpload={"Parts": sent}
    )
    assert done["ChecksumCRC32"] == base64.b64encode(zlib.crc32(b"".join(parts)).to_bytes(4, "big")).decode()
    got = s3.get_object(Bucket=bucket, Key="f", ChecksumMode="ENABLED")
    assert got["ChecksumType"] == "FULL_OBJECT"
    assert got["Body"].read() == b"".join(parts)
    attributes = s3.get_object_attributes(
        Bucket=bucket, Key="c", ObjectAttributes=["ObjectParts", "Checksum"]
    )
    assert attributes["ObjectParts"]["TotalPartsCount"] == 2
    assert attributes["ObjectParts"]["Parts"][1]["Size"] == 100


def test_invalid_checksum_type(s3, bucket):
    with pytest.raises(ClientError) as raised:
        s3.create_multipart_upload(
            Bucket=bucket, Key="k", ChecksumAlgorithm="SHA256", ChecksumType="FULL_OBJECT"
        )
    assert error_of(raised) == ("InvalidRequest", 400)


def test_conditional_complete(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"existing")
    upload_id, etags = _upload(s3, bucket, "k", [b"new"])
    with pytest.raises(ClientError) as raised:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="k",
            UploadId=upload_id,
            IfNoneMatch="*",
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etags[0]}]},
        )
    assert error_of(raised) == ("PreconditionFailed", 412)


def test_boto3_transfer_manager(s3, bucket):
    data = bytes(range(256)) * 100_000  # 25.6 MB: several parts, in parallel
    s3.upload_fileobj(io.BytesIO(data), bucket, "managed")
    out = io.BytesIO()
    s3.download_fileobj(bucket, "managed", out)
    assert out.getvalue() == data
    assert s3.head_object(Bucket=bucket, Key="managed")["ETag"].endswith('-4"')
