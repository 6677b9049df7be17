"""The same round trips as test_json_family.py over more services with protocol features the core ten do
not use: jsonvalue headers (lex-runtime, iot-data), blob payloads with header members (ebs, glacier),
input/output event streams (bedrock-runtime, lexv2-runtime), document types (bedrock-agent-runtime),
query-string maps (apigatewayv2), and a few large json services."""

from __future__ import annotations

import pytest

from overcast.protocol import parse_request, serialize_response
from overcast.protocol.models import get_service_model
from tests.protocol.examples import example_input, example_output, normalise
from tests.protocol.harness import client_parse, client_request

SERVICES = [
    "lex-runtime",
    "iot-data",
    "ebs",
    "glacier",
    "bedrock-runtime",
    "lexv2-runtime",
    "bedrock-agent-runtime",
    "apigatewayv2",
    "secretsmanager",
    "kms",
    "ssm",
    "sagemaker-runtime",
    "dataexchange",
    "scheduler",
    "pipes",
]

# Known not to round-trip, and why.
KNOWN = {
    # a prefix-less `location: headers` map: the client puts every response header into it
    ("dataexchange", "SendApiAsset", "response"),
}


def _protocol(model):
    for p in model.metadata.get("protocols") or [model.protocol]:
        if p in ("json", "rest-json", "smithy-rpc-v2-cbor"):
            return p
    return model.protocol


@pytest.mark.parametrize("service", SERVICES)
def test_breadth_round_trips(service):
    model = get_service_model(service)
    protocol = _protocol(model)
    failures = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        params = example_input(operation)
        stream_in = operation.input_shape is not None and operation.input_shape.event_stream_name
        if stream_in:
            params.pop(stream_in, None)
        got = parse_request(protocol, operation, client_request(protocol, operation, params))
        if stream_in:
            got.pop(stream_in, None)
        if normalise(got) != normalise(params) and (service, name, "request") not in KNOWN:
            failures.append(f"{name} request: {normalise(got)!r:.300} != {normalise(params)!r:.300}")
        shape = operation.output_shape
        result = example_output(operation)
        stream_out = shape is not None and shape.event_stream_name
        if stream_out:
            result.pop(stream_out, None)
        parsed = client_parse(protocol, operation, serialize_response(protocol, operation, result, "rid"))
        if stream_out:
            parsed.pop(stream_out, None)
        if normalise(parsed) != normalise(result) and (service, name, "response") not in KNOWN:
            failures.append(f"{name} response: {normalise(parsed)!r:.300} != {normalise(result)!r:.300}")
    assert not failures, "\n".join(failures)
