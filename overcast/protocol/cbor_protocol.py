"""The 'smithy-rpc-v2-cbor' protocol: POST /service/{Service}/operation/{Operation},
header smithy-protocol: rpc-v2-cbor, a CBOR body; timestamps are CBOR tag 1 (epoch seconds), blobs are
byte strings. Requests name members by their serialized name, responses by member name (as botocore
reads them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import cbor2

from overcast.errors import ServiceError
from overcast.http import HttpResponse
from overcast.protocol.common import (
    UTC,
    WireError,
    apply_decoder,
    compile_transform,
    error_status,
    shape_cached,
    to_bytes,
    to_datetime,
)
from overcast.protocol.json_protocol import MAX_DEPTH, depth

if TYPE_CHECKING:  # pragma: no cover
    from botocore.model import OperationModel, ServiceModel, Shape

    from overcast.http import HttpRequest

CONTENT_TYPE = "application/cbor"
EVENTSTREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"


def _decode_timestamp(value):
    return value if isinstance(value, datetime) and value.tzinfo is not None else to_datetime(value)


def _decode_blob(value):
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise WireError("Expected a byte string for a blob")


def _decode_leaf(shape: Shape) -> Callable[[Any], Any] | None:
    t = shape.type_name
    if t == "timestamp":
        return _decode_timestamp
    if t == "blob":
        return _decode_blob
    return None


def _encode_timestamp(value):
    return to_datetime(value)


def _encode_blob(value):
    return value if isinstance(value, bytes) else to_bytes(value)


def _encode_float(value):
    return float(value) if isinstance(value, Decimal) else value


def _encode_leaf(shape: Shape) -> Callable[[Any], Any] | None:
    t = shape.type_name
    if t == "timestamp":
        return _encode_timestamp
    if t == "blob":
        return _encode_blob
    if t in ("float", "double"):
        return _encode_float
    return None


@shape_cached
def decoder(shape: Shape):
    return compile_transform(shape, _decode_leaf, in_names=True)


@shape_cached
def encoder(shape: Shape):
    return compile_transform(shape, _encode_leaf)


def _default(enc, value):
    if isinstance(value, (set, frozenset, tuple)):
        enc.encode(list(value))
    else:
        raise cbor2.CBOREncodeValueError(f"cannot encode {type(value).__name__}")


def dumps(value: Any) -> bytes:
    return cbor2.dumps(value, datetime_as_timestamp=True, timezone=UTC, default=_default)


def encode_value(shape: Shape, value: Any) -> Any:
    conv = encoder(shape)
    return conv(value) if conv is not None else value


def encode_body(shape: Shape, value: dict) -> bytes:
    return dumps(encode_value(shape, value))


def parse(operation: OperationModel, request: HttpRequest) -> dict:
    shape = operation.input_shape
    if not request.body:
        return {}
    try:
        data = cbor2.loads(request.body)
    except Exception as exc:  # cbor2 raises several error types
        raise ServiceError("SerializationException", f"Could not parse request body as CBOR: {exc}") from None
    if not isinstance(data, dict):
        raise ServiceError("SerializationException", "Request body must be a CBOR map")
    if len(request.body) > MAX_DEPTH and depth(data) > MAX_DEPTH:
        raise ServiceError("SerializationException", f"Request body nested deeper than {MAX_DEPTH}")
    return decode_value(shape, data) if shape is not None else {}


def decode_value(shape: Shape, value: Any) -> Any:
    return apply_decoder(decoder(shape), value)


def _headers(request_id: str, content_type: str = CONTENT_TYPE) -> list[tuple[str, str]]:
    return [
        ("x-amzn-RequestId", request_id),
        ("smithy-protocol", "rpc-v2-cbor"),
        ("Content-Type", content_type),
    ]


def serialize(operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
    shape = operation.output_shape
    if shape is None:
        return HttpResponse(200, _headers(request_id), dumps({}))
    stream_name = shape.event_stream_name
    if stream_name:
        from overcast.protocol.eventstream import encode_event_stream

        initial = {k: v for k, v in result.items() if k != stream_name}
        body = encode_event_stream(
            shape.members[stream_name],
            result.get(stream_name),
            encode_body,
            CONTENT_TYPE,
            initial=encode_body(shape, initial),
        )
        return HttpResponse(200, _headers(request_id, EVENTSTREAM_CONTENT_TYPE), body)
    return HttpResponse(200, _headers(request_id), encode_body(shape, result))


def serialize_error(
    service: ServiceModel, operation: OperationModel | None, error: ServiceError, request_id: str
) -> HttpResponse:
    from overcast.protocol import json_protocol as jp

    shape, body = jp.error_body(service, error)
    if shape is not None:
        fields = {k: v for k, v in error.fields.items() if k in shape.members}
        body.update(encode_value(shape, fields))
    headers = _headers(request_id)
    headers.append(("x-amzn-ErrorType", body["__type"]))
    qe = jp.query_error_header(service, shape, error)
    if qe:
        headers.append(qe)
    headers.extend(error.headers.items())
    return HttpResponse(error_status(service, error), headers, dumps(body))
