"""awsJson with CBOR bodies: `X-Amz-Target: Prefix.Operation` and `Content-Type: application/x-amz-cbor-1.1`, as
the AWS SDKs for Java send Kinesis and CloudWatch requests by default (and the Kinesis Client Library with them).

The envelope is the json protocol's (target header, `__type` errors); the values are CBOR's (raw bytes for blobs,
timestamps as CBOR epoch times), the same value codecs as smithy-rpc-v2-cbor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from overcast.http import HttpResponse
from overcast.protocol import cbor_protocol as cbor
from overcast.protocol import json_protocol as jp
from overcast.protocol.common import error_status

if TYPE_CHECKING:  # pragma: no cover
    from botocore.model import OperationModel, ServiceModel

    from overcast.errors import ServiceError
    from overcast.http import HttpRequest

CONTENT_TYPE = "application/x-amz-cbor-1.1"


def parse(operation: OperationModel, request: HttpRequest) -> dict:
    return cbor.parse(operation, request)


def serialize(operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
    headers = [("x-amzn-RequestId", request_id), ("Content-Type", CONTENT_TYPE)]
    shape = operation.output_shape
    if shape is None:
        return HttpResponse(200, headers, cbor.dumps({}))
    if shape.event_stream_name:  # event streams frame their events the same way whatever the body encoding
        return cbor.serialize(operation, result, request_id)
    return HttpResponse(200, headers, cbor.encode_body(shape, result))


def serialize_error(
    service: ServiceModel, operation: OperationModel | None, error: ServiceError, request_id: str
) -> HttpResponse:
    shape, body = jp.error_body(service, error)
    headers = [
        ("x-amzn-RequestId", request_id),
        ("Content-Type", CONTENT_TYPE),
        ("x-amzn-ErrorType", body["__type"]),
    ]
    headers.extend(error.headers.items())
    return HttpResponse(error_status(service, error), headers, cbor.dumps(body))
