"""S3 SigV2: boto3 still presigns S3 URLs with it by default, and old tools sign headers with it."""

from __future__ import annotations

import time

import pytest
from botocore.auth import HmacV1Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from overcast.auth import parse_sigv2, parse_sigv4, verify_sigv2
from overcast.errors import ServiceError

from .helpers import ACCESS_KEY, SECRET_KEY, capturing_client, to_http, url_request


def test_boto3_default_presigned_url_is_sigv2_and_verifies():
    client, _ = capturing_client("s3")
    url = client.generate_presigned_url(
        "get_object",
        Params={"Bucket": "bucket", "Key": "dir/a b+c.txt", "ResponseContentDisposition": "attachment"},
        ExpiresIn=120,
    )
    http = url_request(url)
    assert parse_sigv4(http) is None
    sig = parse_sigv2(http)
    assert sig.presigned and sig.access_key_id == ACCESS_KEY
    assert abs(sig.expires - (time.time() + 120)) < 60
    verify_sigv2(http, sig, SECRET_KEY, time.time())

    with pytest.raises(ServiceError) as exc:
        verify_sigv2(http, sig, "wrong", time.time())
    assert (exc.value.code, exc.value.status) == ("SignatureDoesNotMatch", 403)
    assert exc.value.fields["StringToSign"].startswith("GET\n\n\n")

    with pytest.raises(ServiceError) as exc:
        verify_sigv2(http, sig, SECRET_KEY, sig.expires + 1)
    assert (exc.value.code, exc.value.status, exc.value.message) == (
        "AccessDenied",
        403,
        "Request has expired",
    )

    other = url_request(url.replace("attachment", "inline"))
    with pytest.raises(ServiceError):
        verify_sigv2(other, parse_sigv2(other), SECRET_KEY, time.time())


def test_presigned_sigv2_with_session_token_and_virtual_host():
    client, _ = capturing_client("s3", token="TOKEN", s3={"addressing_style": "virtual"})
    url = client.generate_presigned_url("get_object", Params={"Bucket": "bucket", "Key": "k"})
    http = url_request(url)
    assert http.headers["host"].startswith("bucket.")
    sig = parse_sigv2(http)
    assert sig.security_token == "TOKEN"
    verify_sigv2(http, sig, SECRET_KEY, time.time(), virtual_host_bucket="bucket")
    with pytest.raises(ServiceError):
        verify_sigv2(http, sig, SECRET_KEY, time.time())  # the bucket is part of what was signed


def test_header_sigv2():
    creds = Credentials(ACCESS_KEY, SECRET_KEY)
    request = AWSRequest(
        method="PUT",
        url="http://localhost:4566/bucket/key?acl",
        data=b"<AccessControlPolicy/>",
        headers={"Content-Type": "application/xml", "x-amz-acl": "private", "X-Amz-Meta-A": " b "},
    )
    HmacV1Auth(creds).add_auth(request)
    http = to_http(request)
    assert parse_sigv4(http) is None
    sig = parse_sigv2(http)
    assert not sig.presigned and sig.access_key_id == ACCESS_KEY
    verify_sigv2(http, sig, SECRET_KEY, time.time())
    with pytest.raises(ServiceError) as exc:
        verify_sigv2(http, sig, SECRET_KEY, time.time() + 3600)
    assert exc.value.code == "RequestTimeTooSkewed"
    http.headers["x-amz-acl"] = "public-read"
    with pytest.raises(ServiceError) as exc:
        verify_sigv2(http, sig, SECRET_KEY, time.time())
    assert exc.value.code == "SignatureDoesNotMatch"


def test_not_sigv2():
    client, captured = capturing_client("s3", response_body=b"")
    client.head_bucket(Bucket="b")
    assert parse_sigv2(to_http(captured[0])) is None
