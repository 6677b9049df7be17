"""Versioning: version ids, delete markers, reading and deleting versions, the null version, listing."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of


def _enable(s3, bucket, status="Enabled"):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})


def test_status(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    _enable(s3, bucket)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    _enable(s3, bucket, "Suspended")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_versions_and_delete_markers(s3, bucket):
    _enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert v1 != v2 and len(v1) == 32
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    assert s3.head_object(Bucket=bucket, Key="k", VersionId=v1)["VersionId"] == v1
    marker = s3.delete_object(Bucket=bucket, Key="k")
    assert marker["DeleteMarker"] is True
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_of(raised) == ("NoSuchKey", 404)
    assert raised.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="k", VersionId=marker["VersionId"])
    assert error_of(raised) == ("MethodNotAllowed", 405)
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v2)["Body"].read() == b"two"
    listed = s3.list_object_versions(Bucket=bucket)
    assert [(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [(v2, False), (v1, False)]
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [(marker["VersionId"], True)]
    # Removing the delete marker brings the object back.
    removed = s3.delete_object(Bucket=bucket, Key="k", VersionId=marker["VersionId"])
    assert removed["DeleteMarker"] is True
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    # Deleting the current version permanently promotes the previous one.
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"


def test_missing_version(s3, bucket):
    _enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="k", VersionId="A" * 32)
    assert error_of(raised) == ("NoSuchVersion", 404)
    with pytest.raises(ClientError) as raised:
        s3.delete_object(Bucket=bucket, Key="k", VersionId="bad")
    assert error_of(raised) == ("InvalidArgument", 400)


def test_null_version_before_and_while_suspended(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"before")
    _enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"versioned")["VersionId"]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"before"
    _enable(s3, bucket, "Suspended")
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"suspended")
    assert "VersionId" not in put  # AWS sends no x-amz-version-id for the null version a suspended PUT makes
    # The suspended write replaced the old null version; the versioned one is kept.
    ids = [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]]
    assert ids == ["null", v1]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"suspended"
    marker = s3.delete_object(Bucket=bucket, Key="k")
    assert marker["VersionId"] == "null"
    listed = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in listed["Versions"]] == [v1]
    assert [m["VersionId"] for m in listed["DeleteMarkers"]] == ["null"]


def test_list_object_versions_pagination(s3, bucket):
    _enable(s3, bucket)
    expected = []
    for key in ("a", "b"):
        ids = [s3.put_object(Bucket=bucket, Key=key, Body=b"x")["VersionId"] for _ in range(3)]
        expected += [(key, vid) for vid in reversed(ids)]
    seen, kwargs = [], {}
    while True:
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=2, **kwargs)
        seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
        if not page["IsTruncated"]:
            break
        kwargs = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
    assert seen == expected


def test_delete_objects_with_versions(s3, bucket):
    _enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]})
    assert result["Deleted"][0]["DeleteMarker"] is True
    marker_id = result["Deleted"][0]["DeleteMarkerVersionId"]
    result = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "k", "VersionId": v1}, {"Key": "k", "VersionId": marker_id}]},
    )
    assert len(result["Deleted"]) == 2
    assert s3.list_object_versions(Bucket=bucket).get("Versions", []) == []
    s3.delete_bucket(Bucket=bucket)


def test_bucket_with_versions_is_not_empty(s3, bucket):
    _enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError) as raised:
        s3.delete_bucket(Bucket=bucket)
    assert error_of(raised) == ("BucketNotEmpty", 409)


def test_copy_specific_version(s3, bucket):
    _enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"old")["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"new")
    result = s3.copy_object(
        Bucket=bucket, Key="restored", CopySource={"Bucket": bucket, "Key": "k", "VersionId": v1}
    )
    assert result["CopySourceVersionId"] == v1
    assert s3.get_object(Bucket=bucket, Key="restored")["Body"].read() == b"old"


def test_mfa_delete_recorded(s3, bucket):
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"}
        )
    assert error_of(raised)[1] == 403
    s3.put_bucket_versioning(
        Bucket=bucket,
        MFA="arn:aws:iam::000000000000:mfa/root 123456",
        VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
    )
    assert s3.get_bucket_versioning(Bucket=bucket)["MFADelete"] == "Enabled"
    version = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    with pytest.raises(ClientError) as raised:
        s3.delete_object(Bucket=bucket, Key="k", VersionId=version)
    assert error_of(raised) == ("AccessDenied", 403)
    s3.delete_object(
        Bucket=bucket, Key="k", VersionId=version, MFA="arn:aws:iam::000000000000:mfa/root 123456"
    )
