"""Listing: v1 and v2, prefixes, delimiters, pagination, StartAfter, url encoding, owners."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of

KEYS = ["a/1", "a/2", "a/b/3", "b/1", "c", "d/e/f", "d/g"]


@pytest.fixture
def filled(s3, bucket):
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def test_v2_plain_and_prefix(s3, filled):
    listed = s3.list_objects_v2(Bucket=filled)
    assert [o["Key"] for o in listed["Contents"]] == KEYS
    assert listed["KeyCount"] == len(KEYS)
    assert listed["IsTruncated"] is False
    assert listed["Contents"][0]["Size"] == 3
    assert "Owner" not in listed["Contents"][0]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=filled, Prefix="a/")["Contents"]] == [
        "a/1",
        "a/2",
        "a/b/3",
    ]


def test_v2_delimiter(s3, filled):
    listed = s3.list_objects_v2(Bucket=filled, Delimiter="/")
    assert [o["Key"] for o in listed["Contents"]] == ["c"]
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["a/", "b/", "d/"]
    assert listed["KeyCount"] == 4
    nested = s3.list_objects_v2(Bucket=filled, Delimiter="/", Prefix="a/")
    assert [o["Key"] for o in nested["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in nested["CommonPrefixes"]] == ["a/b/"]


def test_v2_pagination_counts_common_prefixes(s3, filled):
    seen, prefixes, token = [], [], None
    while True:
        kwargs = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=filled, Delimiter="/", MaxKeys=2, **kwargs)
        assert page["KeyCount"] <= 2
        seen += [o["Key"] for o in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert seen == ["c"]
    assert prefixes == ["a/", "b/", "d/"]


def test_v2_paginator_and_start_after(s3, filled):
    paginator = s3.get_paginator("list_objects_v2")
    keys = [
        o["Key"]
        for page in paginator.paginate(Bucket=filled, PaginationConfig={"PageSize": 3})
        for o in page.get("Contents", [])
    ]
    assert keys == KEYS
    after = s3.list_objects_v2(Bucket=filled, StartAfter="b/1")
    assert [o["Key"] for o in after["Contents"]] == ["c", "d/e/f", "d/g"]
    assert after["StartAfter"] == "b/1"


def test_v2_fetch_owner_and_empty(s3, bucket):
    empty = s3.list_objects_v2(Bucket=bucket)
    assert empty["KeyCount"] == 0
    assert "Contents" not in empty
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    owned = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)
    assert owned["Contents"][0]["Owner"]["ID"]


def test_v1_markers(s3, filled):
    first = s3.list_objects(Bucket=filled, MaxKeys=3)
    assert [o["Key"] for o in first["Contents"]] == KEYS[:3]
    assert first["IsTruncated"] is True
    assert "NextMarker" not in first  # only with a delimiter
    rest = s3.list_objects(Bucket=filled, Marker=first["Contents"][-1]["Key"])
    assert [o["Key"] for o in rest["Contents"]] == KEYS[3:]
    with_delimiter = s3.list_objects(Bucket=filled, Delimiter="/", MaxKeys=2)
    assert with_delimiter["NextMarker"] == "b/"
    assert first["Contents"][0]["Owner"]["ID"]


def test_url_encoding(s3, bucket):
    key = "folder/with space+plus&ünï"
    s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    # botocore asks for EncodingType=url and decodes: the key comes back as it was written.
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["Key"] == key
    assert s3.list_objects(Bucket=bucket)["Contents"][0]["Key"] == key
    listed = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert listed["CommonPrefixes"][0]["Prefix"] == "folder/"


def test_raw_url_encoded_listing(overcast, s3, bucket):
    import urllib.request

    from botocore.config import Config

    s3 = overcast.client("s3", config=Config(signature_version="s3v4"))
    s3.put_object(Bucket=bucket, Key="a b+c", Body=b"x")
    url = s3.generate_presigned_url("list_objects_v2", Params={"Bucket": bucket, "EncodingType": "url"})
    body = urllib.request.urlopen(url).read().decode()
    assert "<Key>a%20b%2Bc</Key>" in body


def test_delete_markers_hidden_from_listing(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="gone", Body=b"x")
    s3.put_object(Bucket=bucket, Key="kept", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="gone")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["kept"]


def test_invalid_continuation_token(s3, bucket):
    with pytest.raises(ClientError) as raised:
        s3.list_objects_v2(Bucket=bucket, ContinuationToken="!!!not-a-token")
    assert error_of(raised) == ("InvalidArgument", 400)


def test_delimiter_listing_skips_large_prefixes(overcast, s3, bucket):
    """A page under a delimiter reads one row per common prefix, whatever the prefix holds."""
    provider = overcast.platform.provider("s3")
    bucket_id = provider.store.bucket(bucket).id
    with provider.db.transaction():
        for i in range(5000):
            provider.store.insert_version(bucket_id, f"big/{i:05d}", "null", etag='"x"', modified=0)
        provider.store.insert_version(bucket_id, "z-last", "null", etag='"x"', modified=0)
    calls = []
    original = provider.store.current_page
    provider.store.current_page = lambda *a: calls.append(a) or original(*a)
    try:
        listed = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    finally:
        provider.store.current_page = original
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["big/"]
    assert [o["Key"] for o in listed["Contents"]] == ["z-last"]
    assert len(calls) <= 3
