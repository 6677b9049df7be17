"""Account-level Block Public Access (s3control Put/Get/DeletePublicAccessBlock) and its effect on buckets,
through boto3's s3control client (which puts the account id in front of the endpoint's host)."""

import json
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of

ACCOUNT = "000000000000"
OPEN = {
    "BlockPublicAcls": False,
    "IgnorePublicAcls": False,
    "BlockPublicPolicy": False,
    "RestrictPublicBuckets": False,
}


@pytest.fixture
def s3control(overcast):
    """boto3 sends to `000000000000.localhost:<port>`; the request goes to the server with that Host, as a
    wildcard DNS name (or /etc/hosts) would send it."""
    client = overcast.client("s3control", endpoint_url=overcast.endpoint.replace("127.0.0.1", "localhost"))
    server = urlsplit(overcast.endpoint).netloc

    def send_here(request, **kwargs):
        parts = urlsplit(request.url)
        request.headers["Host"] = parts.netloc
        request.url = urlunsplit(parts._replace(netloc=server))

    client.meta.events.register_first("before-send.s3-control", send_here)
    yield client
    client.delete_public_access_block(AccountId=ACCOUNT)


def _status(url):
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _public_policy(bucket):
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _open_bucket(s3, **create):
    name = f"bpa-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, **create)
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=OPEN)
    return name


def test_put_get_delete(s3control):
    with pytest.raises(ClientError) as raised:
        s3control.get_public_access_block(AccountId=ACCOUNT)
    assert error_of(raised) == ("NoSuchPublicAccessBlockConfiguration", 404)
    s3control.put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration={"BlockPublicPolicy": True}
    )
    got = s3control.get_public_access_block(AccountId=ACCOUNT)["PublicAccessBlockConfiguration"]
    assert got == {**OPEN, "BlockPublicPolicy": True}
    s3control.delete_public_access_block(AccountId=ACCOUNT)
    with pytest.raises(ClientError) as raised:
        s3control.get_public_access_block(AccountId=ACCOUNT)
    assert error_of(raised) == ("NoSuchPublicAccessBlockConfiguration", 404)


def test_another_accounts_setting_is_refused(s3control):
    with pytest.raises(ClientError) as raised:
        s3control.put_public_access_block(AccountId="111122223333", PublicAccessBlockConfiguration=OPEN)
    assert error_of(raised) == ("AccessDenied", 403)


def test_account_setting_blocks_public_policy_of_an_open_bucket(overcast, s3, s3control):
    bucket = _open_bucket(s3)
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    s3control.put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration={"BlockPublicPolicy": True}
    )
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_policy(Bucket=bucket, Policy=_public_policy(bucket))
    assert error_of(raised) == ("AccessDenied", 403)
    s3control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration=OPEN)
    s3.put_bucket_policy(Bucket=bucket, Policy=_public_policy(bucket))
    assert _status(f"{overcast.endpoint}/{bucket}/k") == (200, b"data")
    # RestrictPublicBuckets: the public policy stays, but admits no one from outside the account
    s3control.put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True}
    )
    assert _status(f"{overcast.endpoint}/{bucket}/k")[0] == 403
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"  # the owner still reads


def test_account_setting_blocks_and_ignores_public_acls(overcast, s3, s3control):
    bucket = _open_bucket(s3, ObjectOwnership="BucketOwnerPreferred")
    s3control.put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration={"BlockPublicAcls": True}
    )
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")
    assert error_of(raised) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    assert error_of(raised) == ("AccessDenied", 403)
    s3control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration=OPEN)
    s3.put_object(Bucket=bucket, Key="k", Body=b"open", ACL="public-read")
    assert _status(f"{overcast.endpoint}/{bucket}/k") == (200, b"open")
    s3control.put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration={"IgnorePublicAcls": True}
    )
    assert _status(f"{overcast.endpoint}/{bucket}/k")[0] == 403
    s3control.delete_public_access_block(AccountId=ACCOUNT)
    assert _status(f"{overcast.endpoint}/{bucket}/k") == (200, b"open")


def test_s3_control_host_routes_by_itself(overcast):
    """`<account>.s3-control.<region>.amazonaws.com` as the Host header reaches S3 Control, not a bucket."""
    client = overcast.client("s3control")
    server = urlsplit(overcast.endpoint).netloc

    def send_here(request, **kwargs):
        request.headers["Host"] = f"{ACCOUNT}.s3-control.us-east-1.amazonaws.com"
        request.url = urlunsplit(urlsplit(request.url)._replace(netloc=server))

    client.meta.events.register_first("before-send.s3-control", send_here)
    with pytest.raises(ClientError) as raised:
        client.get_public_access_block(AccountId=ACCOUNT)
    assert error_of(raised) == ("NoSuchPublicAccessBlockConfiguration", 404)
