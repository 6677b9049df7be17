"""Round trips through botocore's own client serializers and parsers for every operation of the query, ec2
and rest-xml services: what a boto3 client sends arrives unchanged, what a handler returns reaches the
client unchanged, and every modeled error reaches it with its code and status."""

from __future__ import annotations

import pytest

from overcast.errors import ServiceError
from overcast.protocol import parse_request, serialize_error, serialize_response
from overcast.protocol.models import get_service_model
from tests.protocol.examples import example_error, example_input, example_output, normalise
from tests.protocol.harness import client_parse, client_request

SERVICES = [
    ("sns", "query"),
    ("iam", "query"),
    ("sts", "query"),
    ("cloudformation", "query"),
    ("cloudwatch", "query"),
    ("ec2", "ec2"),
    ("s3", "rest-xml"),
    ("route53", "rest-xml"),
    ("cloudfront", "rest-xml"),
]


# Known not to round trip, and why.
AMBIGUOUS = {
    # the deprecated TopicConfiguration/QueueConfiguration have both `Event` (one value) and `Events`
    # (a flattened list whose items are also named <Event>): the XML cannot tell them apart.
    ("s3", "PutBucketNotification"): "request",
    ("s3", "GetBucketNotification"): "response",
}


def _cases():
    for service, protocol in SERVICES:
        model = get_service_model(service)
        for name in model.operation_names:
            yield pytest.param(service, protocol, name, id=f"{protocol}-{service}-{name}")


def _skip_ambiguous(service, op_name, direction):
    if AMBIGUOUS.get((service, op_name)) == direction:
        pytest.xfail("the model's XML names are ambiguous for this operation")


CASES = list(_cases())


def _drop_empty_lists(value):
    """EC2's serializer sends nothing for an empty list: [] cannot arrive."""
    if isinstance(value, dict):
        return {k: _drop_empty_lists(v) for k, v in value.items() if v != []}
    if isinstance(value, list):
        return [_drop_empty_lists(v) for v in value]
    return value


def _transport_members(operation) -> set[str]:
    """Input members the HTTP client itself fills in (Content-Length, ...), not the caller."""
    shape = operation.input_shape
    out = set()
    if shape is None:
        return out
    for name, member in shape.members.items():
        if member.serialization.get("location") == "header" and member.serialization.get(
            "name", ""
        ).lower() in ("content-length",):
            out.add(name)
    return out


def _prefix_header_members(shape) -> set[str]:
    if shape is None:
        return set()
    return {n for n, m in shape.members.items() if m.serialization.get("location") == "headers"}


def _strip_streams(operation, value: dict) -> dict:
    shape = operation.output_shape
    if shape is not None and shape.event_stream_name:
        value = {k: v for k, v in value.items() if k != shape.event_stream_name}
    return value


@pytest.mark.parametrize("service,protocol,op_name", CASES)
def test_request_round_trip(service, protocol, op_name):
    _skip_ambiguous(service, op_name, "request")
    operation = get_service_model(service).operation_model(op_name)
    params = example_input(operation)
    request = client_request(protocol, operation, params)
    parsed = parse_request(protocol, operation, request)
    for name in _transport_members(operation):
        if name not in params:
            parsed.pop(name, None)
    if protocol == "ec2":
        params = _drop_empty_lists(params)
    assert normalise(parsed) == normalise(params)


@pytest.mark.parametrize("service,protocol,op_name", CASES)
def test_response_round_trip(service, protocol, op_name):
    _skip_ambiguous(service, op_name, "response")
    operation = get_service_model(service).operation_model(op_name)
    result = _strip_streams(operation, example_output(operation))
    payload = operation.output_shape.serialization.get("payload") if operation.output_shape else None
    if operation.has_streaming_output and "ContentLength" in result and payload in result:
        result["ContentLength"] = len(result[payload])  # the body's own length is what goes out
    response = serialize_response(protocol, operation, result, "req-1234")
    if operation.http.get("method") == "HEAD":
        assert response.body == b""
    if service == "s3" and op_name == "GetBucketLocation":
        # botocore's parse_get_bucket_location handler reads the bare <LocationConstraint> itself
        from xml.etree import ElementTree

        parsed = {"LocationConstraint": ElementTree.fromstring(response.body).text}
    else:
        parsed = client_parse(protocol, operation, response)
        assert parsed["ResponseMetadata"]["RequestId"] == "req-1234"
    parsed = _strip_streams(operation, parsed)
    for name in _prefix_header_members(operation.output_shape):
        if parsed.get(name) == {} and name not in result:
            del parsed[name]
    assert normalise(parsed) == normalise(result)


@pytest.mark.parametrize("service,protocol,op_name", CASES)
def test_error_round_trip(service, protocol, op_name):
    model = get_service_model(service)
    operation = model.operation_model(op_name)
    is_head = operation.http.get("method") == "HEAD"
    for shape in operation.error_shapes:
        err = shape.metadata.get("error", {})
        status = err.get("httpStatusCode", 400)
        fields = example_error(shape)
        error = ServiceError(shape.name, f"boom {shape.name}", **fields)
        response = serialize_error(protocol, model, operation, error, "req-err")
        assert response.status == status, shape.name
        parsed = client_parse(protocol, operation, response)
        if is_head:  # no body: the client can only go by the status
            assert parsed["Error"]["Code"] == str(status)
            continue
        assert parsed["Error"]["Code"] == err.get("code", shape.name), shape.name
        assert parsed["Error"]["Message"] == f"boom {shape.name}"
        assert parsed["ResponseMetadata"]["RequestId"] == "req-err"
        modeled = client_parse(protocol, operation, response, shape)
        for name, value in fields.items():
            assert normalise(modeled.get(name)) == normalise(value), (shape.name, name)


@pytest.mark.parametrize(
    "protocol,service", [("query", "iam"), ("ec2", "ec2"), ("rest-xml", "s3"), ("rest-xml", "route53")]
)
def test_unmodeled_error(protocol, service):
    model = get_service_model(service)
    operation = model.operation_model(model.operation_names[0])
    response = serialize_error(
        protocol, model, operation, ServiceError("Throttling", "slow down", 503), "rid-9"
    )
    assert response.status == 503
    parsed = client_parse(protocol, operation, response)
    if operation.http.get("method") != "HEAD":
        assert parsed["Error"]["Code"] == "Throttling"
        assert parsed["Error"]["Message"] == "slow down"


def _other_services():
    import botocore.session

    listed = {s for s, _ in SERVICES}
    for name in botocore.session.get_session().get_available_services():
        if name in listed:
            continue
        model = get_service_model(name)
        protocols = [model.protocol, *model.metadata.get("protocols", [])]
        for protocol in protocols:
            if protocol in ("query", "ec2", "rest-xml"):
                yield pytest.param(name, protocol, id=f"{protocol}-{name}")
                break


@pytest.mark.parametrize("service,protocol", list(_other_services()))
def test_every_other_xml_family_service(service, protocol):
    """The same three round trips for every other service botocore speaks query/ec2/rest-xml to (ELB,
    Auto Scaling, RDS, SES, ...), one test per service to keep the run short."""
    model = get_service_model(service)
    failures = []
    for op_name in model.operation_names:
        operation = model.operation_model(op_name)
        try:
            params = example_input(operation)
            parsed = parse_request(protocol, operation, client_request(protocol, operation, params))
            for name in _transport_members(operation):
                if name not in params:
                    parsed.pop(name, None)
            expected = _drop_empty_lists(params) if protocol == "ec2" else params
            assert normalise(parsed) == normalise(expected), "request"
            result = _strip_streams(operation, example_output(operation))
            parsed = client_parse(protocol, operation, serialize_response(protocol, operation, result, "r"))
            assert normalise(_strip_streams(operation, parsed)) == normalise(result), "response"
            for shape in operation.error_shapes:
                error = ServiceError(shape.name, "boom", **example_error(shape))
                response = serialize_error(protocol, model, operation, error, "r")
                assert response.status == shape.metadata.get("error", {}).get("httpStatusCode", 400)
                assert client_parse(protocol, operation, response)["Error"]["Code"] == shape.error_code
        except Exception as exc:  # collect them all: one service, many operations
            failures.append(f"{op_name}: {exc!r}"[:300])
    assert not failures, "\n".join(failures)
