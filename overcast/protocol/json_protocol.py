"""The 'json' protocol (awsJson1_0 / awsJson1_1): POST /, X-Amz-Target: Prefix.Operation, a JSON body.

Timestamps are epoch seconds (numbers), blobs base64. After json.loads only the shapes that hold blobs,
timestamps, floats or renamed members are walked; the converters are compiled once per shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.http import HttpResponse
from overcast.protocol.common import (
    WireError,
    apply_decoder,
    b64decode,
    b64encode,
    compile_transform,
    datetime_to_epoch,
    error_is_sender_fault,
    error_shape,
    error_status,
    format_timestamp,
    json_error_type,
    query_error_code,
    shape_cached,
    to_bytes,
    to_datetime,
)

if TYPE_CHECKING:  # pragma: no cover
    from botocore.model import OperationModel, ServiceModel, Shape

    from overcast.http import HttpRequest

EVENTSTREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"

# ------------------------------------------------------------------------------------------- converters


def _decode_blob(value):
    if isinstance(value, str):
        return b64decode(value)
    raise WireError("Expected a base64 string for a blob")


def _decode_timestamp(value):
    return to_datetime(value)


def _decode_float(value):
    if isinstance(value, str):
        try:
            return float(value)  # "NaN", "Infinity", "-Infinity"
        except ValueError as exc:
            raise WireError(f"Invalid number {value!r}") from exc
    return value


def _decode_leaf(shape: Shape) -> Callable[[Any], Any] | None:
    t = shape.type_name
    if t == "blob":
        return _decode_blob
    if t == "timestamp":
        return _decode_timestamp
    if t in ("float", "double"):
        return _decode_float
    return None


def _encode_blob(value):
    return b64encode(to_bytes(value))


def _encode_float(value):
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value == float("inf"):
            return "Infinity"
        if value == float("-inf"):
            return "-Infinity"
    return value


def _encode_leaf(shape: Shape) -> Callable[[Any], Any] | None:
    t = shape.type_name
    if t == "blob":
        return _encode_blob
    if t == "timestamp":
        fmt = shape.serialization.get("timestampFormat")
        if fmt and fmt.lower() != "unixtimestamp":
            return lambda v, _f=fmt: format_timestamp(v, _f)
        return datetime_to_epoch
    if t in ("float", "double"):
        return _encode_float
    return None


@shape_cached
def decoder(shape: Shape) -> Callable[[Any], Any] | None:
    """Wire JSON value -> Python value for `shape` (None: identity)."""
    return compile_transform(shape, _decode_leaf, in_names=True)


@shape_cached
def encoder(shape: Shape) -> Callable[[Any], Any] | None:
    """Python value -> JSON-ready value for `shape` (None: identity)."""
    return compile_transform(shape, _encode_leaf, out_names=True)


def json_default(value: Any) -> Any:
    """Fallback for values the compiled encoders did not reach (unmodeled extras)."""
    from datetime import datetime

    if isinstance(value, datetime):
        return datetime_to_epoch(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return b64encode(bytes(value))
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_dumps = json.JSONEncoder(default=json_default, separators=(",", ":"), ensure_ascii=False).encode


def dumps(value: Any) -> bytes:
    return _dumps(value).encode("utf-8")


# JSON nested deeper than this is refused before any recursive code sees it (a DynamoDB item's 32 levels of
# maps take about 70).
MAX_DEPTH = 128


def loads_body(body: bytes | str, code: str = "SerializationException") -> Any:
    """json.loads with the service's error for garbage and for documents nested too deep."""
    if not body:
        return {}
    try:
        value = json.loads(body)
    except RecursionError:
        raise ServiceError(code, "Could not parse request body into json: nesting too deep") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ServiceError(code, f"Could not parse request body into json: {exc}") from None
    opening = (b"{", b"[") if isinstance(body, bytes) else ("{", "[")
    if body.count(opening[0]) + body.count(opening[1]) > MAX_DEPTH and depth(value) > MAX_DEPTH:
        raise ServiceError(code, f"Could not parse request body into json: nested deeper than {MAX_DEPTH}")
    return value


def depth(value: Any) -> int:
    """How deep objects and arrays nest in `value` (iteratively: no recursion limit to hit)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def decode_value(shape: Shape, value: Any, code: str = "SerializationException") -> Any:
    return apply_decoder(decoder(shape), value, code)


def encode_value(shape: Shape, value: Any) -> Any:
    conv = encoder(shape)
    return conv(value) if conv is not None else value


def encode_body(shape: Shape, value: dict) -> bytes:
    return dumps(encode_value(shape, value))


# ------------------------------------------------------------------------------------------- protocol


@shape_cached
def _content_type(service: ServiceModel) -> str:
    return f"application/x-amz-json-{service.metadata.get('jsonVersion', '1.0')}"


def parse(operation: OperationModel, request: HttpRequest) -> dict:
    shape = operation.input_shape
    data = loads_body(request.body)
    if not isinstance(data, dict):
        raise ServiceError("SerializationException", "Request body must be a JSON object")
    return decode_value(shape, data) if shape is not None else {}


def serialize(operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
    service = operation.service_model
    headers = [("x-amzn-RequestId", request_id)]
    shape = operation.output_shape
    if shape is not None:
        stream_name = shape.event_stream_name
        if stream_name:
            return _serialize_event_stream(operation, shape, stream_name, result, headers)
    headers.append(("Content-Type", _content_type(service)))
    if shape is None:
        return HttpResponse(200, headers, b"{}")
    conv = encoder(shape)
    return HttpResponse(200, headers, dumps(conv(result) if conv is not None else result))


def _serialize_event_stream(operation, shape, stream_name, result, headers) -> HttpResponse:
    from overcast.protocol.eventstream import encode_event_stream

    initial = {k: v for k, v in result.items() if k != stream_name}
    body = encode_event_stream(
        shape.members[stream_name],
        result.get(stream_name),
        encode_body,
        "application/json",
        initial=encode_body(shape, initial),
    )
    headers.append(("Content-Type", EVENTSTREAM_CONTENT_TYPE))
    return HttpResponse(200, headers, body)


def error_body(service: ServiceModel, error: ServiceError, with_type: bool = True) -> tuple[Any, dict]:
    """(error shape or None, JSON-ready body dict) for a ServiceError."""
    shape = error_shape(service, error.code)
    body: dict[str, Any] = {}
    if with_type:
        body["__type"] = shape.name if shape is not None else json_error_type(service, error.code)
    fields = dict(error.fields)
    if shape is not None and fields:
        fields = encode_value(shape, fields)
    msg_key = "Message" if shape is not None and "Message" in shape.members else "message"
    if error.message or msg_key not in fields:
        body[msg_key] = error.message
    body.update(fields)
    return shape, body


def query_error_header(service: ServiceModel, shape, error: ServiceError) -> tuple[str, str] | None:
    """x-amzn-query-error for awsQueryCompatible services: '<query code>;Sender|Receiver'."""
    if service.metadata.get("awsQueryCompatible") is None:
        return None
    code = query_error_code(service, error.code)
    fault = "Sender" if error_is_sender_fault(service, error) else "Receiver"
    return ("x-amzn-query-error", f"{code};{fault}")


def serialize_error(
    service: ServiceModel, operation: OperationModel | None, error: ServiceError, request_id: str
) -> HttpResponse:
    shape, body = error_body(service, error)
    headers = [
        ("x-amzn-RequestId", request_id),
        ("Content-Type", _content_type(service)),
        ("x-amzn-ErrorType", body["__type"]),
    ]
    qe = query_error_header(service, shape, error)
    if qe:
        headers.append(qe)
    headers.extend(error.headers.items())
    return HttpResponse(error_status(service, error), headers, dumps(body))
