"""Access: presigned URLs, anonymous requests, bucket policies, Block Public Access, object ACLs."""

import json
import urllib.error
import urllib.request

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.helpers import error_of


def _public_read_policy(bucket):
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PublicRead",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                }
            ],
        }
    )


def _status(url, method="GET", data=None):
    # An explicit empty Content-Type: urllib would otherwise add a form type that presigned URLs did not sign.
    request = urllib.request.Request(
        url, method=method, data=data, headers={"Content-Type": ""} if data else {}
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.parametrize("signature", ["s3v4", "s3"])
def test_presigned_get_and_put(overcast, bucket, signature):
    s3 = overcast.client("s3", config=Config(signature_version=signature))
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up"}, ExpiresIn=300)
    assert _status(put_url, "PUT", b"uploaded")[0] == 200
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "up"}, ExpiresIn=300)
    assert _status(get_url) == (200, b"uploaded")


def test_anonymous_requests_are_refused_on_private_buckets(overcast, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    status, body = _status(f"{overcast.endpoint}/{bucket}/k")
    assert status == 403 and b"AccessDenied" in body
    assert _status(f"{overcast.endpoint}/{bucket}")[0] == 403
    assert _status(f"{overcast.endpoint}/{bucket}/new", "PUT", b"x")[0] == 403


def test_public_policy_blocked_until_block_public_access_is_lifted(overcast, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"public data")
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_policy(Bucket=bucket, Policy=_public_read_policy(bucket))
    assert error_of(raised) == ("AccessDenied", 403)
    s3.delete_public_access_block(Bucket=bucket)
    with pytest.raises(ClientError) as raised:
        s3.get_public_access_block(Bucket=bucket)
    assert error_of(raised) == ("NoSuchPublicAccessBlockConfiguration", 404)
    s3.put_bucket_policy(Bucket=bucket, Policy=_public_read_policy(bucket))
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"][0]["Sid"] == "PublicRead"
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    assert _status(f"{overcast.endpoint}/{bucket}/k") == (200, b"public data")
    assert _status(f"{overcast.endpoint}/{bucket}")[0] == 403  # the policy grants GetObject only
    s3.delete_bucket_policy(Bucket=bucket)
    assert _status(f"{overcast.endpoint}/{bucket}/k")[0] == 403


def test_policy_validation(s3, bucket):
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_policy(Bucket=bucket, Policy="not json")
    assert error_of(raised) == ("MalformedPolicy", 400)
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_policy(
            Bucket=bucket,
            Policy=json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "111122223333"},
                            "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::some-other-bucket/*",
                        }
                    ]
                }
            ),
        )
    assert error_of(raised) == ("MalformedPolicy", 400)
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_policy(Bucket=bucket)
    assert error_of(raised) == ("NoSuchBucketPolicy", 404)


def test_cross_account_access_through_policy(overcast, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"shared")
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                        "Action": ["s3:GetObject", "s3:ListBucket"],
                        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    }
                ]
            }
        ),
    )
    other = overcast.client("s3", aws_access_key_id="111122223333", aws_secret_access_key="x")
    assert other.get_object(Bucket=bucket, Key="k")["Body"].read() == b"shared"
    assert other.list_objects_v2(Bucket=bucket)["KeyCount"] == 1
    with pytest.raises(ClientError) as raised:
        other.put_object(Bucket=bucket, Key="k2", Body=b"x")
    assert error_of(raised) == ("AccessDenied", 403)


def test_public_object_acl(overcast, s3):
    s3.create_bucket(Bucket="acl-objects", ObjectOwnership="BucketOwnerPreferred")
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket="acl-objects", Key="k", Body=b"x", ACL="public-read")
    assert error_of(raised) == ("AccessDenied", 403)  # BlockPublicAcls
    s3.put_public_access_block(
        Bucket="acl-objects",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_object(Bucket="acl-objects", Key="public", Body=b"open", ACL="public-read")
    s3.put_object(Bucket="acl-objects", Key="private", Body=b"closed")
    assert _status(f"{overcast.endpoint}/acl-objects/public") == (200, b"open")
    assert _status(f"{overcast.endpoint}/acl-objects/private")[0] == 403
    grants = s3.get_object_acl(Bucket="acl-objects", Key="public")["Grants"]
    assert {g["Permission"] for g in grants} == {"FULL_CONTROL", "READ"}
    s3.put_object_acl(Bucket="acl-objects", Key="public", ACL="private")
    assert _status(f"{overcast.endpoint}/acl-objects/public")[0] == 403


def test_virtual_hosted_addressing(overcast, s3, bucket):
    s3.put_object(Bucket=bucket, Key="vh", Body=b"virtual")
    virtual = overcast.client(
        "s3",
        endpoint_url=f"http://s3.localhost.localstack.cloud:{overcast.config.port}",
        config=Config(s3={"addressing_style": "virtual"}),
    )
    try:
        assert virtual.get_object(Bucket=bucket, Key="vh")["Body"].read() == b"virtual"
    except Exception as exc:  # no DNS for *.localhost.localstack.cloud in this sandbox
        pytest.skip(f"virtual-hosted names do not resolve here: {exc}")


def test_virtual_hosted_by_host_header(overcast, s3, bucket):
    import http.client

    s3.put_object(Bucket=bucket, Key="vh", Body=b"virtual")
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=_public_read_policy(bucket))
    connection = http.client.HTTPConnection("127.0.0.1", overcast.config.port)
    connection.request("GET", "/vh", headers={"Host": f"{bucket}.s3.localhost.localstack.cloud"})
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, b"virtual")


def test_a_copy_of_a_source_version_is_authorized_by_that_versions_acl(overcast, s3):
    """Another account copies an old version it was granted READ on; the current version's ACL grants nothing."""
    other = overcast.client("s3", aws_access_key_id="111122223333", aws_secret_access_key="x" * 8)
    other.create_bucket(Bucket="acl-copy-theirs")
    other_id = other.list_buckets()["Owner"]["ID"]
    s3.create_bucket(Bucket="acl-copy-source", ObjectOwnership="ObjectWriter")
    s3.put_bucket_versioning(Bucket="acl-copy-source", VersioningConfiguration={"Status": "Enabled"})
    shared = s3.put_object(Bucket="acl-copy-source", Key="k", Body=b"old", GrantRead=f'id="{other_id}"')
    current = s3.put_object(Bucket="acl-copy-source", Key="k", Body=b"new")
    source = {"Bucket": "acl-copy-source", "Key": "k"}
    other.copy_object(
        Bucket="acl-copy-theirs", Key="old", CopySource={**source, "VersionId": shared["VersionId"]}
    )
    assert other.get_object(Bucket="acl-copy-theirs", Key="old")["Body"].read() == b"old"
    for version in ({}, {"VersionId": current["VersionId"]}):
        with pytest.raises(ClientError) as raised:
            other.copy_object(Bucket="acl-copy-theirs", Key="new", CopySource={**source, **version})
        assert error_of(raised) == ("AccessDenied", 403)


def test_another_accounts_bucket_policy_is_not_its_to_manage_even_when_allowed(overcast, s3, bucket):
    """AWS: 405 MethodNotAllowed to an identity of another account that the policy allows."""
    other = overcast.client("s3", aws_access_key_id="111122223333", aws_secret_access_key="x" * 8)
    allow_other = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "s3:*Policy",
                "Resource": f"arn:aws:s3:::{bucket}",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(allow_other))
    for attempt in (
        lambda: other.get_bucket_policy(Bucket=bucket),
        lambda: other.put_bucket_policy(Bucket=bucket, Policy=json.dumps(allow_other)),
        lambda: other.delete_bucket_policy(Bucket=bucket),
    ):
        with pytest.raises(ClientError) as raised:
            attempt()
        assert error_of(raised) == ("MethodNotAllowed", 405)
    with pytest.raises(ClientError) as raised:  # not allowed at all: 403
        other.get_bucket_policy_status(Bucket=bucket)
    assert error_of(raised) == ("AccessDenied", 403)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == allow_other


def test_denials_outside_the_buckets_account_are_a_plain_access_denied(overcast, s3, bucket):
    """S3 explains a denial (who, what, which policy) only to its own account (or organization)."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{overcast.endpoint}/{bucket}/k")
    body = raised.value.read()
    assert raised.value.code == 403 and b"<Message>Access Denied</Message>" in body
    other = overcast.client("s3", aws_access_key_id="111122223333", aws_secret_access_key="x" * 8)
    with pytest.raises(ClientError) as raised:
        other.get_object(Bucket=bucket, Key="k")
    assert raised.value.response["Error"]["Message"] == "Access Denied"
    with pytest.raises(urllib.error.HTTPError) as raised:  # buckets are never created anonymously
        urllib.request.urlopen(urllib.request.Request(f"{overcast.endpoint}/anon-made", method="PUT"))
    assert raised.value.code == 403 and b"<Message>Access Denied</Message>" in raised.value.read()


def test_a_bucket_policy_can_limit_the_age_of_a_signature(overcast, s3, bucket):
    """s3:signatureAge (milliseconds since signing, on the virtual clock): links older than 10 minutes refused."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "111122223333"},
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                    },
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                        "Condition": {"NumericGreaterThan": {"s3:signatureAge": "600000"}},
                    },
                ],
            }
        ),
    )
    other = overcast.client(
        "s3",
        aws_access_key_id="111122223333",
        aws_secret_access_key="x" * 8,
        config=Config(signature_version="s3v4"),
    )
    url = other.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=3600)
    assert _status(url) == (200, b"x")
    overcast.advance_clock("11m")
    assert _status(url)[0] == 403


def test_anonymous_reads_cannot_override_response_headers(overcast, s3):
    """AWS: response-* overrides need a signed request (an Authorization header or a presigned URL)."""
    s3.create_bucket(Bucket="anon-overrides")
    s3.put_public_access_block(
        Bucket="anon-overrides",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    s3.put_bucket_policy(Bucket="anon-overrides", Policy=_public_read_policy("anon-overrides"))
    s3.put_object(Bucket="anon-overrides", Key="page", Body=b"<p>", ContentType="text/html")
    base = f"{overcast.endpoint}/anon-overrides/page"
    assert _status(base) == (200, b"<p>")
    status, body = _status(base + "?response-content-type=text/plain")
    assert status == 400 and b"<Code>InvalidRequest</Code>" in body
    assert b"Request specific response headers cannot be used for anonymous GET requests." in body
    signed = s3.get_object(Bucket="anon-overrides", Key="page", ResponseContentType="text/plain")
    assert signed["ContentType"] == "text/plain"
