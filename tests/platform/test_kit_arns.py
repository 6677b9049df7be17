"""The kit's ARN parser: the resource type is what precedes the first "/" or ":" of the resource part."""

import pytest

from overcast.services.kit.arns import parse_arn


@pytest.mark.parametrize(
    "arn, resource_type, resource_id",
    [
        ("arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f:*", "log-group", "/aws/lambda/f:*"),
        ("arn:aws:logs:us-east-1:000000000000:log-group:app", "log-group", "app"),
        ("arn:aws:lambda:us-east-1:000000000000:function:f:3", "function", "f:3"),
        ("arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024", "table", "t/stream/2024"),
        ("arn:aws:iam::000000000000:role/path/r", "role", "path/r"),
        ("arn:aws:sqs:us-east-1:000000000000:q", "queue", "q"),
        ("arn:aws:s3:::bucket/key/with:colon", "object", "key/with:colon"),
    ],
)
def test_resource_type_and_id(arn, resource_type, resource_id):
    parsed = parse_arn(arn)
    assert (parsed.resource_type, parsed.resource_id) == (resource_type, resource_id)


def test_not_an_arn():
    assert parse_arn("my-queue") is None
    assert parse_arn("arn:aws:sqs") is None
