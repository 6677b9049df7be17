"""Every request form real clients produce reaches the right service and operation, on localhost and
127.0.0.1 alike: host styles, protocol markers, signing scopes, presigned and anonymous requests."""

import http.client

import boto3
import pytest
from botocore.config import Config

from overcast.testing import OvercastServer
from tests.helpers import signed_headers
from tests.platform.echo import EchoProvider


@pytest.fixture(scope="module")
def echo():
    with OvercastServer() as server:
        server.s3 = EchoProvider(server.platform, "s3")
        server.sqs = EchoProvider(server.platform, "sqs")
        server.platform.install_provider(server.s3)
        server.platform.install_provider(server.sqs)
        yield server


def raw(
    server,
    method: str,
    path: str,
    host: str,
    headers: dict | None = None,
    body: bytes = b"",
    sign_as: str | None = None,
) -> int:
    """Send a request by hand; `sign_as`: SigV4-sign it for that service (test/test) as an SDK would."""
    headers = {"Host": host, **(headers or {})}
    if sign_as:
        headers = signed_headers(method, f"http://{host}{path}", body, sign_as, headers)
    connection = http.client.HTTPConnection("127.0.0.1", server.config.port, timeout=5)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    server.last_body = response.read()
    connection.close()
    return response.status


@pytest.mark.parametrize(
    "host, path, bucket, key",
    [
        ("photos.s3.localhost.localstack.cloud:4566", "/cat.jpg", "photos", "cat.jpg"),
        ("photos.s3.eu-west-1.localhost.localstack.cloud:4566", "/a/b.txt", "photos", "a/b.txt"),
        ("photos.localhost:4566", "/cat.jpg", "photos", "cat.jpg"),
        ("my.dotted.bucket.localhost:4566", "/k", "my.dotted.bucket", "k"),
        ("photos.s3.amazonaws.com", "/cat.jpg", "photos", "cat.jpg"),
        ("photos.s3.us-west-2.amazonaws.com", "/cat.jpg", "photos", "cat.jpg"),
        ("s3.us-east-1.amazonaws.com", "/photos/cat.jpg", "photos", "cat.jpg"),
        ("localhost:4566", "/photos/dir%20x/cat%2B1.jpg", "photos", "dir x/cat+1.jpg"),
        ("127.0.0.1:4566", "/photos/cat.jpg", "photos", "cat.jpg"),
    ],
)
def test_anonymous_s3_get_by_host_style(echo, host, path, bucket, key):
    echo.s3.answer = {}
    assert raw(echo, "GET", path, host) == 200
    assert echo.s3.received["Bucket"] == bucket and echo.s3.received["Key"] == key


def test_virtual_hosted_bucket_listing(echo):
    echo.s3.answer = {"Name": "photos", "Contents": []}
    assert raw(echo, "GET", "/?list-type=2&prefix=a", "photos.s3.localhost.localstack.cloud:4566") == 200
    assert echo.s3.received == {"Bucket": "photos", "Prefix": "a"}


def test_service_host_routes_unsigned_json(echo):
    """Routed by the host to SQS, whose JSON protocol words AWS's refusal of an unsigned request."""
    echo.sqs.answer = {"QueueUrls": []}
    echo.sqs.received = None
    status = raw(
        echo,
        "POST",
        "/",
        "sqs.us-east-1.localhost:4566",
        {"X-Amz-Target": "AmazonSQS.ListQueues", "Content-Type": "application/x-amz-json-1.0"},
        b"{}",
    )
    assert status == 400 and b"MissingAuthenticationToken" in echo.last_body
    assert echo.sqs.received is None


def test_sqs_legacy_query_protocol(echo):
    echo.sqs.answer = {"QueueUrl": "http://localhost:4566/000000000000/q"}
    status = raw(
        echo,
        "POST",
        "/",
        "localhost:4566",
        {"Content-Type": "application/x-www-form-urlencoded"},
        b"Action=GetQueueUrl&QueueName=q&Version=2012-11-05",
        sign_as="sqs",
    )
    assert status == 200 and echo.sqs.received == {"QueueName": "q"}


@pytest.mark.parametrize("addressing", ["path", "virtual"])
def test_boto3_s3_addressing_styles_and_presigned_urls(echo, addressing):
    endpoint = echo.endpoint if addressing == "path" else echo.endpoint.replace("127.0.0.1", "localhost")
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(s3={"addressing_style": addressing}),
    )
    echo.s3.answer = {}
    try:
        s3.put_object(Bucket="bucket1", Key="a/b c", Body=b"data")
    except Exception as error:  # virtual style needs bucket1.localhost to resolve on this machine
        if addressing == "virtual" and "Could not connect" in str(error):
            pytest.skip("bucket1.localhost does not resolve here")
        raise
    assert echo.s3.received["Bucket"] == "bucket1" and echo.s3.received["Key"] == "a/b c"
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "bucket1", "Key": "x.txt"}, ExpiresIn=60)
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200
    assert echo.s3.received["Key"] == "x.txt"


def test_presigned_url_expires_on_the_virtual_clock(echo):
    s3 = boto3.client(
        "s3",
        endpoint_url=echo.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(signature_version="s3v4"),
    )
    echo.s3.answer = {}
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=60)
    import urllib.error
    import urllib.request

    assert urllib.request.urlopen(url, timeout=5).status == 200
    echo.advance_clock("2m")
    try:
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(url, timeout=5)
        assert raised.value.code == 403 and b"Request has expired" in raised.value.read()
    finally:
        echo.reset()


def test_presigned_url_with_wrong_signature_is_refused_for_the_root_key(echo):
    s3 = boto3.client(
        "s3",
        endpoint_url=echo.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="not-the-secret",
        config=Config(signature_version="s3v4"),
    )
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=60)
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(url, timeout=5)
    assert raised.value.code == 403 and b"SignatureDoesNotMatch" in raised.value.read()
