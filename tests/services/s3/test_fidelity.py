"""S3 to the byte (issue 14): each answer as AWS documents it, through a real server with boto3 (raw HTTP where
the item is about the wire)."""

import base64
import hashlib
import json
import urllib.request
import uuid
from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of, signed_headers
from tests.waiting import wait_for

KEY_1 = b"k" * 32


def _versioned(s3, bucket, status="Enabled"):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})


# -- listings ------------------------------------------------------------------------------------------


def test_a_list_and_delete_loop_goes_on_past_a_key_whose_null_version_is_gone(s3, bucket):
    for key in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    _versioned(s3, bucket)
    page = s3.list_object_versions(Bucket=bucket, MaxKeys=1)
    assert page["IsTruncated"] and page["NextKeyMarker"] == "a" and page["NextVersionIdMarker"] == "null"
    s3.delete_object(Bucket=bucket, Key="a", VersionId="null")
    rest = s3.list_object_versions(Bucket=bucket, KeyMarker="a", VersionIdMarker="null")
    assert [v["Key"] for v in rest["Versions"]] == ["b", "c"]
    assert rest["VersionIdMarker"] == "null"


def test_list_object_versions_always_says_its_version_id_marker(s3, bucket):
    listed = s3.list_object_versions(Bucket=bucket)
    assert listed["VersionIdMarker"] == "" and listed["KeyMarker"] == ""


@pytest.mark.parametrize("listing", ["list_objects", "list_objects_v2", "list_object_versions"])
def test_max_keys_zero_answers_nothing_and_is_not_truncated(s3, bucket, listing):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    answer = getattr(s3, listing)(Bucket=bucket, MaxKeys=0)
    assert answer["IsTruncated"] is False and answer["MaxKeys"] == 0
    assert not answer.get("Contents") and not answer.get("Versions")


def test_an_empty_continuation_token_is_refused(s3, bucket):
    with pytest.raises(ClientError) as raised:
        s3.list_objects_v2(Bucket=bucket, ContinuationToken="")
    assert error_of(raised) == ("InvalidArgument", 400)
    assert message_of(raised) == "The continuation token provided is incorrect"


# -- multipart -----------------------------------------------------------------------------------------


def _upload(s3, bucket, key, parts=(b"a" * (5 << 20), b"end"), **create):
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    done = [
        {
            "PartNumber": n,
            "ETag": s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=n, Body=b)["ETag"],
        }
        for n, b in enumerate(parts, start=1)
    ]
    return upload, done


def test_a_repeated_completion_answers_as_the_first(s3, bucket):
    upload, parts = _upload(s3, bucket, "mp")
    first = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    again = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    assert again["ETag"] == first["ETag"] and again["ChecksumCRC64NVME"] == first["ChecksumCRC64NVME"]
    with pytest.raises(ClientError) as raised:  # other parts: that upload is no more
        s3.complete_multipart_upload(
            Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": parts[:1]}
        )
    assert error_of(raised) == ("NoSuchUpload", 404)


def test_an_upload_without_an_algorithm_reports_its_full_object_crc64nvme(s3, bucket):
    upload, parts = _upload(s3, bucket, "mp")
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    assert done["ChecksumType"] == "FULL_OBJECT" and done["ChecksumCRC64NVME"]
    attributes = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"])
    assert attributes["ObjectParts"] == {"TotalPartsCount": 2}


def test_completion_needs_at_least_one_part(s3, bucket):
    upload, _ = _upload(s3, bucket, "mp", parts=(b"x",))
    with pytest.raises(ClientError) as raised:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": []})
    assert error_of(raised) == ("InvalidRequest", 400)
    assert message_of(raised) == "You must specify at least one part"


@pytest.mark.parametrize("header", ["0-4", "bytes=4", "bytes=a-b", "bytes=-4"])
def test_copy_source_range_must_be_bytes_first_last(s3, bucket, header):
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    with pytest.raises(ClientError) as raised:
        s3.upload_part_copy(
            Bucket=bucket,
            Key="dst",
            UploadId=upload,
            PartNumber=1,
            CopySource=f"{bucket}/src",
            CopySourceRange=header,
        )
    assert error_of(raised) == ("InvalidArgument", 400)
    assert message_of(raised).startswith(
        "The x-amz-copy-source-range value must be of the form bytes=first-last"
    )
    copied = s3.upload_part_copy(
        Bucket=bucket,
        Key="dst",
        UploadId=upload,
        PartNumber=1,
        CopySource=f"{bucket}/src",
        CopySourceRange="bytes=2-4",
    )
    assert copied["CopyPartResult"]["ETag"]


def test_list_multipart_uploads_names_the_initiator_by_canonical_id(s3, bucket):
    s3.create_multipart_upload(Bucket=bucket, Key="mp")
    owner = s3.list_buckets()["Owner"]["ID"]
    upload = s3.list_multipart_uploads(Bucket=bucket)["Uploads"][0]
    assert upload["Initiator"] == {"ID": owner} and upload["Owner"] == {"ID": owner}


# -- versioning ----------------------------------------------------------------------------------------


def test_suspended_versioning_writes_answer_no_version_id(s3, bucket):
    _versioned(s3, bucket, "Suspended")
    assert "VersionId" not in s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    upload, parts = _upload(s3, bucket, "mp", parts=(b"x",))
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    assert "VersionId" not in done


def test_mfa_delete_disabled_needs_no_mfa_on_a_bucket_that_never_had_it(s3, bucket):
    s3.put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Disabled"}
    )
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"}
        )
    assert error_of(raised) == ("AccessDenied", 403)


# -- server-side encryption ----------------------------------------------------------------------------


def _raw(overcast, method, path, headers=None, body=b""):
    url = f"{overcast.endpoint}{path}"
    request = urllib.request.Request(
        url,
        data=body if method in ("PUT", "POST") else None,
        method=method,
        headers=signed_headers(method, url, body, "s3", headers or {}),
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_the_encryption_header_is_refused_on_reads(overcast, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    status, _, body = _raw(overcast, "GET", f"/{bucket}/k", {"x-amz-server-side-encryption": "AES256"})
    assert status == 400 and b"<Code>InvalidArgument</Code>" in body
    assert b"x-amz-server-side-encryption header is not supported for this operation." in body


def test_customer_keys_do_not_mix_with_other_encryption(s3, bucket):
    with pytest.raises(ClientError) as raised:
        s3.put_object(
            Bucket=bucket,
            Key="k",
            Body=b"x",
            ServerSideEncryption="AES256",
            SSECustomerAlgorithm="AES256",
            SSECustomerKey=KEY_1.decode(),
        )
    assert error_of(raised) == ("InvalidArgument", 400)
    assert message_of(raised) == (
        "Server Side Encryption with Customer provided key is incompatible with the encryption method specified"
    )


def test_a_kms_key_id_needs_aws_kms(s3, bucket):
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", SSEKMSKeyId="alias/mine")
    assert error_of(raised) == ("InvalidArgument", 400)
    assert message_of(raised) == (
        "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms"
    )


def test_aws_kms_without_a_key_id_uses_the_aws_managed_key(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms")
    again = s3.put_object(Bucket=bucket, Key="k2", Body=b"x", ServerSideEncryption="aws:kms")
    assert put["SSEKMSKeyId"].startswith("arn:aws:kms:us-east-1:") and ":key/" in put["SSEKMSKeyId"]
    assert put["SSEKMSKeyId"] == again["SSEKMSKeyId"]


def test_a_customer_key_without_its_md5_is_refused(overcast, bucket):
    import base64

    headers = {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": base64.b64encode(KEY_1).decode(),
    }
    status, _, body = _raw(overcast, "PUT", f"/{bucket}/k", headers, b"x")
    assert status == 400 and b"<Code>InvalidArgument</Code>" in body
    assert b"must provide the client calculated MD5 of the secret key" in body


def test_a_part_with_another_customer_key_is_refused(s3, bucket):
    key = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY_1.decode()}
    other = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": (b"o" * 32).decode()}
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", **key)["UploadId"]
    with pytest.raises(ClientError) as raised:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"x", **other)
    assert error_of(raised) == ("InvalidRequest", 400)
    assert message_of(raised) == "The provided encryption parameters did not match the ones used originally."
    s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"x", **key)


# -- object lock and lifecycle validation -------------------------------------------------------------


@pytest.fixture
def locked(s3):
    name = f"lock-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    return name


@pytest.mark.parametrize(
    "configuration",
    [
        {"ObjectLockEnabled": "Disabled"},
        {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "governance", "Days": 1}}},
        {
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}},
        },
    ],
)
def test_malformed_object_lock_configurations(s3, locked, configuration):
    with pytest.raises(ClientError) as raised:
        s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=configuration)
    assert error_of(raised) == ("MalformedXML", 400)


@pytest.mark.parametrize("period", [{"Days": 0}, {"Years": -1}])
def test_a_retention_period_must_be_positive(s3, locked, period):
    configuration = {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", **period}},
    }
    with pytest.raises(ClientError) as raised:
        s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=configuration)
    assert error_of(raised) == ("InvalidArgument", 400)


def test_bad_legal_hold_and_retention_values_are_malformed_xml(s3, locked):
    with pytest.raises(ClientError) as raised:
        s3.put_object_legal_hold(Bucket=locked, Key="k", LegalHold={"Status": "abc"})
    assert error_of(raised) == ("MalformedXML", 400)


def test_object_lock_reads_on_a_bucket_without_object_lock(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for call in (s3.get_object_retention, s3.get_object_legal_hold):
        with pytest.raises(ClientError) as raised:
            call(Bucket=bucket, Key="k")
        assert error_of(raised) == ("InvalidRequest", 400)
        assert message_of(raised) == "Bucket is missing Object Lock Configuration"


def _lifecycle(s3, bucket, rule):
    base = {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}
    return s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [{**base, **rule}]}
    )


def test_lifecycle_validation(s3, bucket):
    with pytest.raises(ClientError) as raised:
        _lifecycle(s3, bucket, {"ID": "x" * 256})
    assert error_of(raised) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as raised:
        _lifecycle(s3, bucket, {"Status": "enabled"})
    assert error_of(raised) == ("MalformedXML", 400)
    with pytest.raises(ClientError) as raised:
        _lifecycle(s3, bucket, {"Expiration": {"Date": datetime(2030, 1, 1, 12, tzinfo=UTC)}})
    assert error_of(raised) == ("InvalidArgument", 400)
    assert message_of(raised) == "'Date' must be at midnight GMT"
    put = _lifecycle(s3, bucket, {"Expiration": {"Date": datetime(2030, 1, 1, tzinfo=UTC)}})
    assert put["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"


# -- buckets -------------------------------------------------------------------------------------------


def test_location_constraints(overcast, s3):
    name = f"eu-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "EU"})
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "EU"
    assert s3.head_bucket(Bucket=name)["BucketRegion"] == "eu-west-1"
    with pytest.raises(ClientError) as raised:
        s3.create_bucket(
            Bucket=f"x-{uuid.uuid4().hex[:10]}", CreateBucketConfiguration={"LocationConstraint": "moon-1"}
        )
    assert error_of(raised) == ("InvalidLocationConstraint", 400)
    assert message_of(raised) == "The specified location-constraint is not valid"
    west = overcast.client("s3", region="us-west-2")
    with pytest.raises(ClientError) as raised:
        west.create_bucket(
            Bucket=f"x-{uuid.uuid4().hex[:10]}", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
    assert error_of(raised) == ("IllegalLocationConstraintException", 400)
    assert message_of(raised) == (
        "The eu-west-1 location constraint is incompatible for the region specific endpoint this request was sent to."
    )


def test_create_and_head_bucket_answer_the_bucket_arn(s3):
    name = f"arn-{uuid.uuid4().hex[:10]}"
    assert s3.create_bucket(Bucket=name)["BucketArn"] == f"arn:aws:s3:::{name}"
    assert s3.head_bucket(Bucket=name)["BucketArn"] == f"arn:aws:s3:::{name}"


def test_expected_bucket_owner_must_be_an_account_id(s3, bucket):
    with pytest.raises(ClientError) as raised:
        s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner="not-an-account")
    assert error_of(raised) == ("InvalidBucketOwnerAWSAccountID", 400)
    assert (
        message_of(raised) == "The value of the expected bucket owner parameter must be an AWS Account ID..."
    )
    with pytest.raises(ClientError) as raised:
        s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner="999999999999")
    assert error_of(raised) == ("AccessDenied", 403)


def test_owners_and_grantees_carry_only_their_id(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    owner = s3.list_buckets()["Owner"]
    assert set(owner) == {"ID"}
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert set(acl["Owner"]) == {"ID"} and set(acl["Grants"][0]["Grantee"]) == {"ID", "Type"}
    listed = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]
    assert set(listed["Owner"]) == {"ID"}


@pytest.mark.parametrize("operation", ["analytics", "intelligent_tiering", "inventory"])
def test_id_keyed_configurations_answer_204(s3, bucket, operation):
    documents = {
        "analytics": (
            "put_bucket_analytics_configuration",
            "AnalyticsConfiguration",
            {"Id": "a", "StorageClassAnalysis": {}},
        ),
        "intelligent_tiering": (
            "put_bucket_intelligent_tiering_configuration",
            "IntelligentTieringConfiguration",
            {"Id": "a", "Status": "Enabled", "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}]},
        ),
        "inventory": (
            "put_bucket_inventory_configuration",
            "InventoryConfiguration",
            {
                "Id": "a",
                "IsEnabled": True,
                "IncludedObjectVersions": "All",
                "Schedule": {"Frequency": "Daily"},
                "Destination": {"S3BucketDestination": {"Bucket": f"arn:aws:s3:::{bucket}", "Format": "CSV"}},
            },
        ),
    }
    method, member, document = documents[operation]
    answer = getattr(s3, method)(Bucket=bucket, Id="a", **{member: document})
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204


# -- ACLs with ObjectWriter / BucketOwnerPreferred ----------------------------------------------------


@pytest.fixture
def acl_bucket(s3):
    name = f"acl-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    s3.delete_public_access_block(Bucket=name)
    return name


def _anonymous_status(overcast, bucket, key):
    try:
        with urllib.request.urlopen(f"{overcast.endpoint}/{bucket}/{key}") as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_an_object_does_not_inherit_its_buckets_acl(overcast, s3, acl_bucket):
    s3.put_bucket_acl(Bucket=acl_bucket, ACL="public-read")
    s3.put_object(Bucket=acl_bucket, Key="private", Body=b"x")
    s3.put_object(Bucket=acl_bucket, Key="public", Body=b"x", ACL="public-read")
    assert _anonymous_status(overcast, acl_bucket, "private") == 403
    assert _anonymous_status(overcast, acl_bucket, "public") == 200


def test_grants_to_unknown_grantees_are_refused(s3, acl_bucket):
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_acl(Bucket=acl_bucket, GrantRead='id="' + "0" * 64 + '"')
    assert error_of(raised) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_acl(Bucket=acl_bucket, GrantRead='emailAddress="someone@example.com"')
    assert error_of(raised) == ("UnresolvableGrantByEmailAddress", 400)


def test_an_empty_grant_list_leaves_no_grants_and_nothing_at_all_is_missing_security_header(s3, acl_bucket):
    s3.put_object(Bucket=acl_bucket, Key="k", Body=b"x")
    owner = s3.get_object_acl(Bucket=acl_bucket, Key="k")["Owner"]
    s3.put_object_acl(Bucket=acl_bucket, Key="k", AccessControlPolicy={"Owner": owner, "Grants": []})
    assert s3.get_object_acl(Bucket=acl_bucket, Key="k").get("Grants", []) == []
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_acl(Bucket=acl_bucket)
    assert error_of(raised) == ("MissingSecurityHeader", 400)


def test_bucket_owner_enforced_is_refused_while_the_acl_grants_others(s3, acl_bucket):
    s3.put_bucket_acl(Bucket=acl_bucket, ACL="public-read")
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_ownership_controls(
            Bucket=acl_bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        )
    assert error_of(raised) == ("InvalidBucketAclWithObjectOwnership", 400)


def test_objects_written_by_another_account_belong_to_it(overcast, s3):
    name = f"pref-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerPreferred")
    s3.delete_public_access_block(Bucket=name)
    other = overcast.client("s3", aws_access_key_id="111122223333", aws_secret_access_key="x" * 8)
    other_id = other.list_buckets()["Owner"]["ID"]
    s3.put_bucket_policy(
        Bucket=name,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "111122223333"},
                        "Action": ["s3:PutObject", "s3:PutObjectAcl"],  # an ACL with the object: its own
                        "Resource": f"arn:aws:s3:::{name}/*",
                    }
                ],
            }
        ),
    )
    other.put_object(Bucket=name, Key="theirs", Body=b"x")
    other.put_object(Bucket=name, Key="given", Body=b"x", ACL="bucket-owner-full-control")
    s3.put_object(Bucket=name, Key="src", Body=b"source")
    assert other.get_object_acl(Bucket=name, Key="theirs")["Owner"]["ID"] == other_id
    assert s3.get_object_acl(Bucket=name, Key="given")["Owner"]["ID"] != other_id
    with pytest.raises(ClientError) as raised:  # the bucket owner may not read another account's ACL
        s3.get_object_acl(Bucket=name, Key="theirs")
    assert error_of(raised) == ("AccessDenied", 403)
    # an account that writes a copy into the bucket owns it and can read it
    s3.put_object_acl(Bucket=name, Key="src", ACL="public-read")
    other.copy_object(Bucket=name, Key="copy", CopySource={"Bucket": name, "Key": "src"})
    assert other.get_object(Bucket=name, Key="copy")["Body"].read() == b"source"


# -- the wire ------------------------------------------------------------------------------------------


def test_a_plain_body_with_aws_chunked_encoding_is_stored_without_it(overcast, s3, bucket):
    status, _, _ = _raw(
        overcast, "PUT", f"/{bucket}/k", {"Content-Encoding": "gzip, aws-chunked"}, b"plain body"
    )
    assert status == 200
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"plain body" and got["ContentEncoding"] == "gzip"


def test_timestamps_have_milliseconds_and_responses_say_amazon_s3(overcast, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    status, headers, body = _raw(overcast, "GET", f"/{bucket}?list-type=2")
    assert status == 200 and headers["Server"] == "AmazonS3"
    modified = body.split(b"<LastModified>")[1].split(b"</LastModified>")[0]
    assert modified.endswith(b".000Z") and len(modified) == len(b"2026-01-01T00:00:00.000Z")
    status, headers, _ = _raw(overcast, "GET", f"/{bucket}/missing")
    assert status == 404 and headers["Server"] == "AmazonS3"


def test_a_malformed_checksum_header_is_invalid_request(overcast, s3, bucket):
    status, _, body = _raw(overcast, "PUT", f"/{bucket}/k", {"x-amz-checksum-crc32": "not base64!"}, b"x")
    assert status == 400 and b"<Code>InvalidRequest</Code>" in body
    assert b"Value for x-amz-checksum-crc32 header is invalid." in body
    with pytest.raises(ClientError) as raised:  # well formed, not the body's: BadDigest
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ChecksumCRC32="AAAAAA==")
    assert error_of(raised) == ("BadDigest", 400)


def test_put_bucket_logging_needs_an_existing_target(s3, bucket):
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_logging(
            Bucket=bucket,
            BucketLoggingStatus={
                "LoggingEnabled": {"TargetBucket": f"missing-{bucket}", "TargetPrefix": "logs/"}
            },
        )
    assert error_of(raised) == ("InvalidTargetBucketForLogging", 400)
    assert message_of(raised) == "The target bucket for logging does not exist"
    s3.put_bucket_logging(
        Bucket=bucket,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": bucket, "TargetPrefix": "logs/"}},
    )


def test_operations_on_a_delete_marker_are_405_with_method_and_resource_type(s3, bucket):
    _versioned(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    with pytest.raises(ClientError) as raised:
        s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=marker)
    assert error_of(raised) == ("MethodNotAllowed", 405)
    error = raised.value.response["Error"]
    assert error["Method"] == "GET" and error["ResourceType"] == "DeleteMarker"
    with pytest.raises(ClientError) as raised:
        s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=marker, Tagging={"TagSet": []})
    assert raised.value.response["Error"]["Method"] == "PUT"


def test_an_in_place_copy_that_changes_nothing_is_refused(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={"a": "1"})
    with pytest.raises(ClientError) as raised:
        s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"})
    assert error_of(raised) == ("InvalidRequest", 400)
    assert "without changing the object's metadata" in message_of(raised)
    s3.copy_object(
        Bucket=bucket,
        Key="k",
        CopySource={"Bucket": bucket, "Key": "k"},
        MetadataDirective="REPLACE",
        Metadata={"a": "2"},
    )
    assert s3.head_object(Bucket=bucket, Key="k")["Metadata"] == {"a": "2"}


def test_copy_keeps_the_sources_checksum_algorithm(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"hello", ChecksumAlgorithm="SHA256")
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert (
        "ChecksumSHA256" in copied["CopyObjectResult"] and "ChecksumCRC32" not in copied["CopyObjectResult"]
    )


@pytest.mark.parametrize("size", [5, 200 * 1024], ids=["in-row", "in-a-file"])
def test_a_copy_asking_for_another_checksum_algorithm_gets_it_computed(s3, bucket, size):
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    s3.put_object(Bucket=bucket, Key="src", Body=body, ChecksumAlgorithm="CRC32")
    copied = s3.copy_object(
        Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"}, ChecksumAlgorithm="SHA256"
    )["CopyObjectResult"]
    expected = base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert (copied["ChecksumSHA256"], copied["ChecksumType"]) == (expected, "FULL_OBJECT")
    assert "ChecksumCRC32" not in copied
    head = s3.head_object(Bucket=bucket, Key="dst", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == expected and "ChecksumCRC32" not in head
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == body


def test_a_multipart_object_copied_with_another_algorithm_has_one_whole_object_checksum(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big", ChecksumAlgorithm="CRC32")["UploadId"]
    pieces = [b"a" * (5 * 1024 * 1024), b"b" * 1000]
    parts = []
    for number, piece in enumerate(pieces, 1):
        part = s3.upload_part(
            Bucket=bucket,
            Key="big",
            UploadId=upload,
            PartNumber=number,
            Body=piece,
            ChecksumAlgorithm="CRC32",
        )
        parts.append({"PartNumber": number, "ETag": part["ETag"], "ChecksumCRC32": part["ChecksumCRC32"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": parts})
    copied = s3.copy_object(
        Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "big"}, ChecksumAlgorithm="CRC32C"
    )["CopyObjectResult"]
    assert copied["ChecksumType"] == "FULL_OBJECT" and "ChecksumCRC32C" in copied
    attributes = s3.get_object_attributes(
        Bucket=bucket, Key="copy", ObjectAttributes=["Checksum", "ObjectParts"]
    )
    assert attributes["Checksum"] == {
        "ChecksumCRC32C": copied["ChecksumCRC32C"],
        "ChecksumType": "FULL_OBJECT",
    }
    assert all("ChecksumCRC32" not in part for part in attributes.get("ObjectParts", {}).get("Parts", []))
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == b"".join(pieces)


def test_a_presigned_url_with_an_unsigned_amz_header_is_refused(overcast, bucket):
    s3 = overcast.client("s3", config=Config(signature_version="s3v4"))
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
    request = urllib.request.Request(
        url, data=b"x", method="PUT", headers={"x-amz-acl": "public-read", "Content-Type": ""}
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request)
    body = raised.value.read()
    assert raised.value.code == 403 and b"<Code>AccessDenied</Code>" in body
    assert b"There were headers present in the request which were not signed" in body
    assert b"<HeadersNotSigned>x-amz-acl</HeadersNotSigned>" in body
    plain = urllib.request.Request(url, data=b"x", method="PUT", headers={"Content-Type": ""})
    with urllib.request.urlopen(plain) as response:
        assert response.status == 200


# -- Block Public Access: what counts as public ---------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "public"),
    [
        (None, True),
        ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, False),
        ({"StringEquals": {"aws:PrincipalAccount": "111122223333"}}, False),
        ({"StringEquals": {"aws:SourceVpc": "vpc-1234"}}, False),
        ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, True),
        ({"StringLike": {"aws:PrincipalAccount": "*"}}, True),
        ({"StringEquals": {"s3:prefix": "public/"}}, True),
        ({"Bool": {"aws:SecureTransport": "true"}}, True),
    ],
)
def test_a_policy_is_public_unless_its_conditions_pin_fixed_values(s3, bucket, condition, public):
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    if condition:
        statement["Condition"] = condition
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    if public:
        with pytest.raises(ClientError) as raised:  # BlockPublicPolicy is on for a new bucket
            s3.put_bucket_policy(Bucket=bucket, Policy=policy)
        assert error_of(raised) == ("AccessDenied", 403)
        s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is public


def test_objects_under_128_kib_are_not_transitioned_by_default(overcast, s3, bucket):
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "r",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}],
                }
            ]
        },
    )
    s3.put_object(Bucket=bucket, Key="small", Body=b"x")
    s3.put_object(Bucket=bucket, Key="large", Body=b"x" * (128 * 1024))
    overcast.advance_clock("3d")
    assert wait_for(lambda: s3.head_object(Bucket=bucket, Key="large").get("StorageClass") == "GLACIER")
    assert s3.head_object(Bucket=bucket, Key="small").get("StorageClass") is None


def test_a_listing_of_keys_with_control_characters_stays_well_formed_xml(overcast, s3, bucket):
    """A key may hold characters XML 1.0 cannot carry: with encoding-type=url (what SDKs ask) the key comes back
    whole; without it the listing is still well-formed (the character replaced), never unparseable."""
    s3.put_object(Bucket=bucket, Key="a\x01b\rc", Body=b"x")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["a\x01b\rc"]
    status, _, body = _raw(overcast, "GET", f"/{bucket}?list-type=2")
    assert status == 200
    keys = [e.text for e in ElementTree.fromstring(body).iter("{http://s3.amazonaws.com/doc/2006-03-01/}Key")]
    assert keys == ["a\ufffdb\rc"]


def test_a_copy_checks_the_expected_owner_of_its_source(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    source = {"Bucket": bucket, "Key": "src"}
    with pytest.raises(ClientError) as raised:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, ExpectedSourceBucketOwner="999999999999")
    assert error_of(raised) == ("AccessDenied", 403)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    with pytest.raises(ClientError) as raised:
        s3.upload_part_copy(
            Bucket=bucket,
            Key="mp",
            UploadId=upload,
            PartNumber=1,
            CopySource=source,
            ExpectedSourceBucketOwner="999999999999",
        )
    assert error_of(raised) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as raised:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, ExpectedSourceBucketOwner="nope")
    assert error_of(raised) == ("InvalidBucketOwnerAWSAccountID", 400)
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, ExpectedSourceBucketOwner="000000000000")
