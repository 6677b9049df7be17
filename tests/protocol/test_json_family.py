"""Round trips through botocore's own client serializers and parsers for every operation of the json,
rest-json and rpc-v2-cbor services: what a boto3 client sends arrives unchanged, what a handler returns
reaches the client unchanged, and every modeled error reaches it with its code and status."""

from __future__ import annotations

import pytest

from overcast.errors import ServiceError
from overcast.protocol import parse_request, serialize_error, serialize_response
from overcast.protocol.common import query_error_code
from overcast.protocol.models import get_service_model
from tests.protocol.examples import example_error, example_input, example_output, normalise
from tests.protocol.harness import client_parse, client_request

SERVICES = [
    ("sqs", "json"),
    ("dynamodb", "json"),
    ("dynamodbstreams", "json"),
    ("kinesis", "json"),
    ("logs", "json"),
    ("stepfunctions", "json"),
    ("events", "json"),
    ("lambda", "rest-json"),
    ("apigateway", "rest-json"),
    ("cloudwatch", "smithy-rpc-v2-cbor"),
    ("cloudwatch", "json"),
]


def _cases():
    for service, protocol in SERVICES:
        model = get_service_model(service)
        for name in model.operation_names:
            yield pytest.param(service, protocol, name, id=f"{protocol}-{service}-{name}")


CASES = list(_cases())


def _strip_streams(operation, value: dict) -> dict:
    shape = operation.output_shape
    if shape is not None and shape.event_stream_name:
        value = {k: v for k, v in value.items() if k != shape.event_stream_name}
    return value


@pytest.mark.parametrize("service,protocol,op_name", CASES)
def test_request_round_trip(service, protocol, op_name):
    operation = get_service_model(service).operation_model(op_name)
    params = example_input(operation)
    request = client_request(protocol, operation, params)
    parsed = parse_request(protocol, operation, request)
    assert normalise(parsed) == normalise(params)


@pytest.mark.parametrize("service,protocol,op_name", CASES)
def test_response_round_trip(service, protocol, op_name):
    operation = get_service_model(service).operation_model(op_name)
    result = _strip_streams(operation, example_output(operation))
    response = serialize_response(protocol, operation, result, "req-1234")
    parsed = client_parse(protocol, operation, response)
    parsed = _strip_streams(operation, parsed)
    assert normalise(parsed) == normalise(result)


@pytest.mark.parametrize("service,protocol,op_name", CASES)
def test_error_round_trip(service, protocol, op_name):
    model = get_service_model(service)
    operation = model.operation_model(op_name)
    query_compatible = model.metadata.get("awsQueryCompatible") is not None
    for shape in operation.error_shapes:
        err = shape.metadata.get("error", {})
        status = err.get("httpStatusCode", 400)
        fields = example_error(shape)
        error = ServiceError(shape.name, f"boom {shape.name}", **fields)
        response = serialize_error(protocol, model, operation, error, "req-err")
        assert response.status == status, shape.name
        parsed = client_parse(protocol, operation, response)
        expected = query_error_code(model, shape.name) if query_compatible else shape.name
        assert parsed["Error"]["Code"] == expected, shape.name
        assert parsed["Error"]["Message"] == f"boom {shape.name}"
        assert parsed["ResponseMetadata"]["RequestId"] == "req-err"
        # the modeled members, as botocore adds them to the exception's response
        modeled = client_parse(protocol, operation, response, shape)
        modeled = {k: v for k, v in modeled.items() if k in fields}
        assert normalise(modeled) == normalise(fields), shape.name
