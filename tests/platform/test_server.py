"""The server end to end with real clients: identity, internal endpoints, unimplemented operations."""

import json
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError


def test_get_caller_identity_as_default_root(overcast):
    identity = overcast.client("sts").get_caller_identity()
    assert identity["Account"] == "000000000000"
    assert identity["Arn"] == "arn:aws:iam::000000000000:root"
    assert identity["UserId"] == "000000000000"


def test_twelve_digit_access_key_selects_that_account(overcast):
    sts = overcast.client("sts", aws_access_key_id="123456789012", aws_secret_access_key="anything")
    identity = sts.get_caller_identity()
    assert identity["Account"] == "123456789012"
    assert identity["Arn"] == "arn:aws:iam::123456789012:root"


def test_unknown_key_is_the_default_account(overcast):
    sts = overcast.client("sts", aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x")
    assert sts.get_caller_identity()["Account"] == "000000000000"


def test_region_comes_from_the_signature(overcast):
    sts = overcast.client("sts", region="eu-west-1")
    assert sts.get_caller_identity()["Account"] == "000000000000"


def test_environment_points_boto3_at_the_server(overcast):
    # The plugin sets AWS_ENDPOINT_URL and credentials: a plain client needs no arguments.
    assert boto3.client("sts").get_caller_identity()["Account"] == "000000000000"


@pytest.mark.parametrize(
    "service, call, kwargs",
    [
        ("codecommit", "list_repositories", {}),  # json
        ("appmesh", "list_meshes", {}),  # rest-json
        ("cloudfront", "list_distributions", {}),  # rest-xml
        ("elasticbeanstalk", "describe_applications", {}),  # query
    ],
)
def test_unimplemented_operation_fails_at_once_with_501(overcast, service, call, kwargs):
    client = overcast.client(service, config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    started = time.monotonic()
    with pytest.raises(ClientError) as raised:
        getattr(client, call)(**kwargs)
    assert time.monotonic() - started < 30  # answered, not left to botocore's 60 s read timeout
    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert error["Error"]["Code"] == "NotImplemented"
    assert service in error["Error"]["Message"]


def test_unknown_query_action_is_a_client_error(overcast):
    request = urllib.request.Request(
        overcast.endpoint + "/",
        data=b"Action=NoSuchThing&Version=2011-06-15",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=30)
    assert raised.value.code == 400
    assert b"InvalidAction" in raised.value.read()


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def test_health_endpoints(overcast):
    health = _get(overcast.endpoint + "/_overcast/health")
    assert health["status"] == "running"
    assert "sts" in health["services"]
    assert _get(overcast.endpoint + "/_localstack/health")["services"]


def test_moto_reset_path_is_accepted(overcast):
    request = urllib.request.Request(overcast.endpoint + "/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def test_clock_advances(overcast):
    before = _get(overcast.endpoint + "/_overcast/clock")["epoch"]
    after = overcast.advance_clock("3d")["epoch"]
    assert after - before >= 3 * 86400


def test_model_enum_that_sqs_does_not_enforce_reaches_the_service(overcast):
    # Real SQS accepts message system attribute names here; boto3 does not check enums client-side.
    from overcast.protocol.models import get_operation_model
    from overcast.protocol.validate import validate

    operation = get_operation_model("sqs", "ReceiveMessage")
    validate(
        operation, {"QueueUrl": "http://localhost:4566/000000000000/q", "AttributeNames": ["SentTimestamp"]}
    )
