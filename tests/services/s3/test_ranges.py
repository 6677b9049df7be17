"""Ranges and part numbers as S3 answers them (issue 13, findings 6 and 9): unsatisfiable ranges are 416,
suffixes and open ends are clamped, partNumber is a part (416 InvalidPartNumber beyond the parts, 400 for 0
or with a Range), and a response-* override that is not ASCII is never a 500."""

import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of, signed_headers

BODY = bytes(range(100))


@pytest.fixture
def hundred(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=BODY)
    return bucket


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=-0", "bytes=100-200"])
def test_ranges_no_byte_satisfies_are_416(s3, hundred, header):
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=hundred, Key="k", Range=header)
    assert error_of(raised) == ("InvalidRange", 416)
    assert message_of(raised) == "The requested range is not satisfiable"
    assert raised.value.response["Error"]["ActualObjectSize"] == "100"
    with pytest.raises(ClientError) as raised:
        s3.head_object(Bucket=hundred, Key="k", Range=header)
    assert error_of(raised)[1] == 416


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=-200", 0, 99),
        ("bytes=0-99999999999999999999", 0, 99),
        ("bytes=99-", 99, 99),
        ("bytes=-1", 99, 99),
    ],
)
def test_ranges_past_the_end_are_clamped(s3, hundred, header, first, last):
    got = s3.get_object(Bucket=hundred, Key="k", Range=header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == f"bytes {first}-{last}/100"
    assert got["Body"].read() == BODY[first : last + 1]


@pytest.mark.parametrize("header", ["bytes=5-2", "bytes=abc", "bytes=1-2,4-5", "items=0-1", "bytes=-"])
def test_malformed_ranges_are_ignored(s3, hundred, header):
    got = s3.get_object(Bucket=hundred, Key="k", Range=header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert got["Body"].read() == BODY


def test_any_range_of_an_empty_object_is_416(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    for header in ("bytes=0-", "bytes=-5"):
        with pytest.raises(ClientError) as raised:
            s3.get_object(Bucket=bucket, Key="empty", Range=header)
        assert error_of(raised) == ("InvalidRange", 416)


def test_part_numbers(s3, hundred):
    got = s3.get_object(Bucket=hundred, Key="k", PartNumber=1)
    assert got["PartsCount"] == 1 and got["Body"].read() == BODY
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=hundred, Key="k", PartNumber=2)
    assert error_of(raised) == ("InvalidPartNumber", 416)
    with pytest.raises(ClientError) as raised:  # HEAD: the status alone, no body
        s3.head_object(Bucket=hundred, Key="k", PartNumber=2)
    assert error_of(raised)[1] == 416
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=hundred, Key="k", PartNumber=0)
    assert error_of(raised) == ("InvalidArgument", 400)
    assert message_of(raised) == "Part number must be an integer between 1 and 10000, inclusive"
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=hundred, Key="k", PartNumber=1, Range="bytes=0-1")
    assert error_of(raised) == ("InvalidRequest", 400)
    assert message_of(raised) == "Cannot specify both Range header and partNumber query parameter"


def _multipart(s3, bucket, key, **create):
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    parts = []
    for number, data in ((1, b"a" * (5 << 20)), (2, b"tail")):
        answer = s3.upload_part(
            Bucket=bucket,
            Key=key,
            UploadId=upload,
            PartNumber=number,
            Body=data,
            **({"ChecksumAlgorithm": create["ChecksumAlgorithm"]} if "ChecksumAlgorithm" in create else {}),
        )
        entry = {"PartNumber": number, "ETag": answer["ETag"]}
        for name, value in answer.items():
            if name.startswith("Checksum") and name != "ChecksumType":
                entry[name] = value
        parts.append(entry)
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})


def test_part_number_beyond_a_multipart_objects_parts_with_checksums_is_416(s3, bucket):
    _multipart(s3, bucket, "mp", ChecksumAlgorithm="SHA256")
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="mp", PartNumber=3, ChecksumMode="ENABLED")
    assert error_of(raised) == ("InvalidPartNumber", 416)
    part = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2, ChecksumMode="ENABLED")
    assert part["Body"].read() == b"tail"
    assert part["ChecksumType"] == "COMPOSITE" and part["ChecksumSHA256"]


def test_one_part_of_a_full_object_checksum_upload_reports_no_checksum(s3, bucket):
    _multipart(s3, bucket, "full", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    part = s3.get_object(Bucket=bucket, Key="full", PartNumber=2, ChecksumMode="ENABLED")
    assert "ChecksumType" not in part and "ChecksumCRC32" not in part
    whole = s3.head_object(Bucket=bucket, Key="full", ChecksumMode="ENABLED")
    assert whole["ChecksumType"] == "FULL_OBJECT" and whole["ChecksumCRC32"]


def test_a_non_ascii_response_override_is_answered_not_a_500(overcast, s3, hundred):
    url = f"{overcast.endpoint}/{hundred}/k?response-content-type=%E2%82%AC"
    request = urllib.request.Request(url, headers=signed_headers("GET", url, b"", "s3"))
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "=?UTF-8?B?4oKs?="
        assert response.read() == BODY


def test_rfc_2047_metadata_is_decoded_on_put_and_encoded_on_get(overcast, s3, bucket):
    url = f"{overcast.endpoint}/{bucket}/meta"
    headers = {"x-amz-meta-name": "=?UTF-8?B?w6lsw6h2ZQ==?=", "x-amz-meta-plain": "ascii"}
    request = urllib.request.Request(
        url, data=b"x", method="PUT", headers=signed_headers("PUT", url, b"x", "s3", headers)
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
    metadata = s3.head_object(Bucket=bucket, Key="meta")["Metadata"]
    assert metadata == {"name": "=?UTF-8?B?w6lsw6h2ZQ==?=", "plain": "ascii"}
    s3.copy_object(
        Bucket=bucket,
        Key="copy",
        CopySource={"Bucket": bucket, "Key": "meta"},
        MetadataDirective="REPLACE",
        Metadata={"name": "=?UTF-8?Q?caf=C3=A9?="},
    )
    assert s3.get_object(Bucket=bucket, Key="copy")["Metadata"] == {"name": "=?UTF-8?B?Y2Fmw6k=?="}
