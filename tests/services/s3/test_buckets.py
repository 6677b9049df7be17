"""Buckets: names, regions, ownership across accounts, deletion, listing, location, head."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of


def test_create_list_head_delete(s3):
    s3.create_bucket(Bucket="alpha-bucket")
    s3.create_bucket(Bucket="beta-bucket")
    listed = s3.list_buckets()
    assert [b["Name"] for b in listed["Buckets"]] == ["alpha-bucket", "beta-bucket"]
    assert listed["Owner"]["ID"]
    head = s3.head_bucket(Bucket="alpha-bucket")
    assert head["BucketRegion"] == "us-east-1"
    s3.delete_bucket(Bucket="alpha-bucket")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["beta-bucket"]


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "Upper-case",
        "has_underscore",
        "-leading",
        "trailing-",
        "a..b",
        "192.168.1.1",
        "xn--punycode",
        "x" * 64,
        "name-s3alias",
    ],
)
def test_invalid_names_are_refused(s3, name):
    with pytest.raises(ClientError) as raised:
        s3.create_bucket(Bucket=name)
    assert error_of(raised) == ("InvalidBucketName", 400)


def test_names_are_global_across_accounts(overcast, s3):
    s3.create_bucket(Bucket="shared-name")
    other = overcast.client("s3", aws_access_key_id="111122223333", aws_secret_access_key="x")
    with pytest.raises(ClientError) as raised:
        other.create_bucket(Bucket="shared-name")
    assert error_of(raised) == ("BucketAlreadyExists", 409)
    assert other.list_buckets()["Buckets"] == []


def test_recreating_own_bucket(overcast, s3):
    s3.create_bucket(Bucket="mine-east")
    s3.create_bucket(Bucket="mine-east")  # us-east-1 answers 200 to the owner
    west = overcast.client("s3", region="eu-west-1")
    west.create_bucket(Bucket="mine-west", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with pytest.raises(ClientError) as raised:
        west.create_bucket(Bucket="mine-west", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert error_of(raised) == ("BucketAlreadyOwnedByYou", 409)


def test_location_constraint_rules(overcast, s3):
    west = overcast.client("s3", region="eu-west-1")
    with pytest.raises(ClientError) as raised:
        west.create_bucket(Bucket="no-constraint-west")
    assert error_of(raised) == ("IllegalLocationConstraintException", 400)
    with pytest.raises(ClientError) as raised:
        s3.create_bucket(
            Bucket="explicit-east", CreateBucketConfiguration={"LocationConstraint": "us-east-1"}
        )
    assert error_of(raised)[1] == 400  # not a LocationConstraint value in the model
    west.create_bucket(Bucket="in-ireland", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket="in-ireland")["LocationConstraint"] == "eu-west-1"
    s3.create_bucket(Bucket="in-virginia")
    assert s3.get_bucket_location(Bucket="in-virginia")["LocationConstraint"] is None
    assert s3.head_bucket(Bucket="in-ireland")["BucketRegion"] == "eu-west-1"


def test_delete_non_empty_bucket_fails(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as raised:
        s3.delete_bucket(Bucket=bucket)
    assert error_of(raised) == ("BucketNotEmpty", 409)
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)


def test_missing_bucket(s3):
    with pytest.raises(ClientError) as raised:
        s3.list_objects_v2(Bucket="does-not-exist")
    assert error_of(raised) == ("NoSuchBucket", 404)
    assert raised.value.response["Error"]["BucketName"] == "does-not-exist"
    with pytest.raises(ClientError) as raised:
        s3.head_bucket(Bucket="does-not-exist")
    assert error_of(raised)[1] == 404
    with pytest.raises(ClientError) as raised:
        s3.delete_bucket(Bucket="does-not-exist")
    assert error_of(raised) == ("NoSuchBucket", 404)


def test_list_buckets_pagination_and_prefix(s3):
    for i in range(5):
        s3.create_bucket(Bucket=f"page-{i}")
    s3.create_bucket(Bucket="other-1")
    first = s3.list_buckets(MaxBuckets=2, Prefix="page-")
    assert [b["Name"] for b in first["Buckets"]] == ["page-0", "page-1"]
    second = s3.list_buckets(MaxBuckets=10, Prefix="page-", ContinuationToken=first["ContinuationToken"])
    assert [b["Name"] for b in second["Buckets"]] == ["page-2", "page-3", "page-4"]
    assert "ContinuationToken" not in second


def test_other_account_cannot_read_private_bucket(overcast, s3, bucket):
    s3.put_object(Bucket=bucket, Key="secret", Body=b"x")
    other = overcast.client("s3", aws_access_key_id="111122223333", aws_secret_access_key="x")
    with pytest.raises(ClientError) as raised:
        other.get_object(Bucket=bucket, Key="secret")
    assert error_of(raised) == ("AccessDenied", 403)


def test_ownership_controls_default_to_bucket_owner_enforced(s3, bucket):
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    assert error_of(raised) == ("AccessControlListNotSupported", 400)
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")
    assert error_of(raised) == ("AccessControlListNotSupported", 400)
    with pytest.raises(ClientError) as raised:
        s3.create_bucket(Bucket="acl-at-create", ACL="public-read")
    assert error_of(raised) == ("InvalidBucketAclWithObjectOwnership", 400)


def test_bucket_acls_when_ownership_allows(s3):
    s3.create_bucket(Bucket="acl-bucket", ObjectOwnership="ObjectWriter")
    s3.delete_public_access_block(Bucket="acl-bucket")
    s3.put_bucket_acl(Bucket="acl-bucket", ACL="public-read")
    grants = s3.get_bucket_acl(Bucket="acl-bucket")["Grants"]
    assert {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"} in [
        g["Grantee"] for g in grants
    ]
    s3.put_bucket_acl(
        Bucket="acl-bucket", GrantRead='uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"'
    )
    grants = s3.get_bucket_acl(Bucket="acl-bucket")["Grants"]
    assert [g["Permission"] for g in grants] == ["READ"]
