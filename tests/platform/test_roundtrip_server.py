"""The round-trip property through the real server: for every operation of the services below, a real
botocore client's call passes routing, signing, body handling and parsing and reaches a test handler equal
to what was sent; what the handler returns reaches the client equal; a modeled error reaches it as a
ClientError with its code and status. Routing must pick the right operation for each of them."""

from __future__ import annotations

import botocore.session
import pytest
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError

from overcast.errors import ServiceError
from overcast.protocol.common import query_error_code
from overcast.protocol.models import get_service_model
from overcast.testing import OvercastServer
from tests.platform.echo import EchoProvider
from tests.protocol.examples import example_error, example_input, example_output, normalise

SERVICES = [
    "sqs",
    "sns",
    "iam",
    "sts",
    "ec2",
    "s3",
    "dynamodb",
    "lambda",
    "kinesis",
    "cloudwatch",
    "logs",
    "route53",
    "cloudformation",
    "stepfunctions",
    "apigateway",
    "events",
]

# Members a client computes or rewrites itself, so what arrives is not what the caller passed.
CLIENT_MANAGED = {
    "ContentMD5",
    "ChecksumAlgorithm",
    "ChecksumCRC32",
    "ChecksumCRC32C",
    "ChecksumCRC64NVME",
    "ChecksumSHA1",
    "ChecksumSHA256",
    "SSECustomerKey",
    "SSECustomerKeyMD5",
    "CopySourceSSECustomerKey",
    "CopySourceSSECustomerKeyMD5",
    "PresignedUrl",
    "DestinationRegion",
    "SourceRegion",
    "ContentLength",
    "UserData",  # EC2 RunInstances: base64-encoded by the client
    "ExpiresString",  # S3: derived by the client from the Expires header
}
# Operations the server cannot tell apart from another by the request alone.
INDISTINGUISHABLE = {
    ("s3", "ListDirectoryBuckets"),  # GET / like ListBuckets; AWS tells them apart by endpoint host only
    # Deprecated forms sent exactly like their successors, which serve them.
    ("s3", "GetBucketLifecycle"),
    ("s3", "PutBucketLifecycle"),
    ("s3", "GetBucketNotification"),
    ("s3", "PutBucketNotification"),
}


@pytest.fixture(scope="module")
def echo_server():
    with OvercastServer() as server:
        providers = {}
        for service in SERVICES:
            providers[service] = EchoProvider(server.platform, service)
            server.platform.install_provider(providers[service])
        server.echo = providers
        yield server


@pytest.fixture(scope="module")
def clients(echo_server):
    session = botocore.session.get_session()
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, parameter_validation=False)
    made = {}
    for service in SERVICES:
        client = session.create_client(
            service,
            region_name="us-east-1",
            endpoint_url=echo_server.endpoint.replace("127.0.0.1", "localhost"),
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=config,
        )
        if service == "sqs":  # the example answers carry made-up MD5s; the client would reject them
            client.meta.events.unregister("after-call.sqs.SendMessage", unique_id=None)
            for event in ("SendMessage", "SendMessageBatch", "ReceiveMessage"):
                for handler in list(
                    client.meta.events._emitter._lookup_cache.get(f"after-call.sqs.{event}", [])
                ):
                    client.meta.events.unregister(f"after-call.sqs.{event}", handler)
        made[service] = client
    return made


def _cases():
    for service in SERVICES:
        model = get_service_model(service)
        for name in model.operation_names:
            operation = model.operation_model(name)
            if operation.endpoint and operation.endpoint.get("hostPrefix"):
                continue  # the client sends these to another host name (e.g. {RequestRoute}.)
            if (service, name) in INDISTINGUISHABLE:
                continue
            yield pytest.param(service, name, id=f"{service}-{name}")


def _sent(operation, params: dict) -> dict:
    return {k: v for k, v in params.items() if k not in CLIENT_MANAGED}


def _strip_event_stream(operation, value: dict) -> dict:
    shape = operation.output_shape
    if shape is not None and shape.event_stream_name:
        return {k: v for k, v in value.items() if k != shape.event_stream_name}
    return value


@pytest.mark.parametrize("service,op_name", list(_cases()))
def test_round_trip_through_the_server(echo_server, clients, service, op_name):
    model = get_service_model(service)
    operation = model.operation_model(op_name)
    provider = echo_server.echo[service]
    params = example_input(operation)
    params.pop("EndpointId", None)  # EventBridge global endpoints need SigV4a (awscrt) on the client
    params.pop("ContentLength", None)  # the client computes it from the body
    output = _strip_event_stream(operation, example_output(operation))
    for name in [k for k in output if k.startswith("Checksum")]:
        output.pop(name)  # the client verifies response checksums against the body
    if operation.has_streaming_output and "ContentLength" in output:
        payload = operation.output_shape.serialization.get("payload")
        output["ContentLength"] = len(output[payload])
    provider.received, provider.answer = None, output
    method = getattr(clients[service], xform_name(op_name))

    result = method(**params)
    assert provider.received is not None, "the request never reached the handler"
    arrived = {k: v for k, v in _sent(operation, provider.received).items() if k in params}
    assert normalise(arrived) == normalise(_sent(operation, params))
    result = _strip_event_stream(operation, result)
    if operation.has_streaming_output:
        name = operation.output_shape.serialization.get("payload")
        result[name] = result[name].read()
    assert normalise(_sent(operation, result)) == normalise(_sent(operation, output))

    for shape in operation.error_shapes[:1]:
        status = shape.metadata.get("error", {}).get("httpStatusCode", 400)
        provider.answer = ServiceError(shape.name, f"boom {shape.name}", **example_error(shape))
        with pytest.raises(ClientError) as raised:
            method(**params)
        error = raised.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == status
        uses_query_codes = model.protocol in ("query", "ec2") or "awsQueryCompatible" in model.metadata
        expected = query_error_code(model, shape.name) if uses_query_codes else shape.name
        if operation.http.get("method") != "HEAD":  # HEAD errors have no body: the client sees the status
            assert error["Error"]["Code"] == expected
