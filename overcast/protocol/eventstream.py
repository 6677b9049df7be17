"""AWS binary event-stream framing (application/vnd.amazon.eventstream), the server side.

A message is: total length (u32) | headers length (u32) | prelude CRC32 | headers | payload | message CRC32.
A header is: name length (u8) | name | type (u8) | value. botocore/eventstream.py is the client mirror.

`encode_event_stream` turns an iterable or async iterable of event dicts ({"Records": {"Payload": b"..."}})
into an async iterator of framed messages for an event-stream member shape; a ServiceError raised by the
source becomes an exception (modeled) or error (unmodeled) message that ends the stream.
"""

from __future__ import annotations

import json
import struct
import uuid
from binascii import crc32
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.protocol.common import datetime_to_epoch, shape_cached, to_datetime

if TYPE_CHECKING:  # pragma: no cover
    from botocore.model import Shape

_BOOL_TRUE, _BOOL_FALSE, _BYTE, _SHORT, _INT, _LONG, _BYTES, _STRING, _TIMESTAMP, _UUID = range(10)


class HeaderValue:
    """A header value with an explicit wire type (_BYTE, _SHORT, _INT, _LONG, _TIMESTAMP, _UUID, ...)."""

    __slots__ = ("type", "value")

    def __init__(self, type_: int, value: Any) -> None:
        self.type, self.value = type_, value


def _encode_header(name: str, value: Any) -> bytes:
    raw_name = name.encode("utf-8")
    out = bytearray(struct.pack("!B", len(raw_name)))
    out += raw_name
    if isinstance(value, HeaderValue):
        t, v = value.type, value.value
    elif isinstance(value, bool):
        t, v = (_BOOL_TRUE if value else _BOOL_FALSE), None
    elif isinstance(value, int):
        t, v = (_INT if -(2**31) <= value < 2**31 else _LONG), value
    elif isinstance(value, (bytes, bytearray)):
        t, v = _BYTES, bytes(value)
    elif isinstance(value, datetime):
        t, v = _TIMESTAMP, int(datetime_to_epoch(value) * 1000)
    elif isinstance(value, uuid.UUID):
        t, v = _UUID, value
    else:
        t, v = _STRING, str(value)
    out.append(t)
    if t in (_BOOL_TRUE, _BOOL_FALSE):
        pass
    elif t == _BYTE:
        out += struct.pack("!b", v)
    elif t == _SHORT:
        out += struct.pack("!h", v)
    elif t == _INT:
        out += struct.pack("!i", v)
    elif t in (_LONG, _TIMESTAMP):
        if isinstance(v, datetime):
            v = int(datetime_to_epoch(v) * 1000)
        out += struct.pack("!q", v)
    elif t in (_BYTES, _STRING):
        data = v.encode("utf-8") if isinstance(v, str) else bytes(v)
        out += struct.pack("!H", len(data)) + data
    elif t == _UUID:
        out += (v if isinstance(v, uuid.UUID) else uuid.UUID(str(v))).bytes
    return bytes(out)


def encode_message(headers: dict[str, Any], payload: bytes = b"") -> bytes:
    """One framed event-stream message."""
    header_bytes = b"".join(_encode_header(k, v) for k, v in headers.items())
    total = 12 + len(header_bytes) + len(payload) + 4
    prelude = struct.pack("!II", total, len(header_bytes))
    prelude += struct.pack("!I", crc32(prelude) & 0xFFFFFFFF)
    message = prelude + header_bytes + payload
    return message + struct.pack("!I", crc32(message) & 0xFFFFFFFF)


# ------------------------------------------------------------------------------------ model-driven events


class _EventPlan:
    __slots__ = ("name", "headers", "payload_member", "payload_type", "body_members", "exception")

    def __init__(self, name: str, shape: Shape) -> None:
        self.name = name
        self.headers: list[tuple[str, Shape]] = []
        self.payload_member: str | None = None
        self.payload_type: str | None = None
        self.body_members: list[str] = []
        self.exception = bool(shape.metadata.get("exception"))
        for mname, member in shape.members.items():
            if member.serialization.get("eventheader"):
                self.headers.append((mname, member))
            elif member.serialization.get("eventpayload"):
                self.payload_member = mname
                self.payload_type = member.type_name
            else:
                self.body_members.append(mname)


@shape_cached
def _plans(stream_shape: Shape) -> dict[str, _EventPlan]:
    return {name: _EventPlan(name, member) for name, member in stream_shape.members.items()}


def _header_value(shape: Shape, value: Any) -> Any:
    t = shape.type_name
    if t == "timestamp":
        return HeaderValue(_TIMESTAMP, int(datetime_to_epoch(to_datetime(value)) * 1000))
    if t == "long":
        return HeaderValue(_LONG, int(value))
    if t == "integer":
        return HeaderValue(_INT, int(value))
    if t == "byte":
        return HeaderValue(_BYTE, int(value))
    if t == "short":
        return HeaderValue(_SHORT, int(value))
    if t == "boolean":
        return bool(value)
    if t == "blob":
        return HeaderValue(_BYTES, value if isinstance(value, bytes) else str(value).encode())
    return HeaderValue(_STRING, str(value))


BodyEncoder = Callable[["Shape", dict], bytes]


def encode_event(stream_shape: Shape, event: dict, body_encoder: BodyEncoder, content_type: str) -> bytes:
    """Frame one event dict {"EventName": {...members}} of `stream_shape`."""
    if len(event) != 1:
        raise ValueError(f"an event must have exactly one key, got {list(event)}")
    ((name, value),) = event.items()
    plans = _plans(stream_shape)
    plan = plans.get(name)
    if plan is None:
        raise ValueError(f"{name!r} is not an event of {stream_shape.name}")
    value = value or {}
    member_shape = stream_shape.members[name]
    if plan.exception:
        headers: dict[str, Any] = {
            ":message-type": "exception",
            ":exception-type": name,
            ":content-type": content_type,
        }
        body = body_encoder(member_shape, value)
        return encode_message(headers, body)
    headers = {":message-type": "event", ":event-type": name}
    for mname, mshape in plan.headers:
        v = value.get(mname)
        if v is not None:
            headers[mname] = _header_value(mshape, v)
    if plan.payload_member is not None:
        v = value.get(plan.payload_member)
        if plan.payload_type == "blob":
            headers[":content-type"] = "application/octet-stream"
            payload = b"" if v is None else (v if isinstance(v, bytes) else bytes(v))
        elif plan.payload_type == "string":
            headers[":content-type"] = "text/plain"
            payload = b"" if v is None else v.encode("utf-8")
        else:
            headers[":content-type"] = content_type
            payload = body_encoder(member_shape.members[plan.payload_member], v or {})
    elif plan.body_members:
        headers[":content-type"] = content_type
        payload = body_encoder(member_shape, {k: value[k] for k in plan.body_members if k in value})
    else:
        payload = b""
    return encode_message(headers, payload)


def encode_initial_response(payload: bytes, content_type: str) -> bytes:
    return encode_message(
        {":message-type": "event", ":event-type": "initial-response", ":content-type": content_type}, payload
    )


def encode_error(
    stream_shape: Shape, error: ServiceError, body_encoder: BodyEncoder, content_type: str
) -> bytes:
    """A ServiceError inside a stream: a modeled exception event if the stream declares it, else an error."""
    plans = _plans(stream_shape)
    plan = plans.get(error.code)
    if plan is not None and plan.exception:
        value = dict(error.fields)
        member = stream_shape.members[error.code]
        msg_name = "Message" if "Message" in member.members else "message"
        if error.message:
            value.setdefault(msg_name, error.message)
        return encode_event(stream_shape, {error.code: value}, body_encoder, content_type)
    return encode_message(
        {":message-type": "error", ":error-code": error.code, ":error-message": error.message or error.code}
    )


async def encode_event_stream(
    stream_shape: Shape,
    events: Any,
    body_encoder: BodyEncoder,
    content_type: str,
    initial: bytes | None = None,
) -> AsyncIterator[bytes]:
    """Frame every event of `events` (an iterable or async iterable of event dicts), optionally after an
    initial-response message (json and rpc-v2 protocols)."""
    if initial is not None:
        yield encode_initial_response(initial, content_type)
    try:
        if hasattr(events, "__aiter__"):
            async for event in events:
                yield encode_event(stream_shape, event, body_encoder, content_type)
        else:
            for event in events or ():
                yield encode_event(stream_shape, event, body_encoder, content_type)
    except ServiceError as error:
        yield encode_error(stream_shape, error, body_encoder, content_type)


def json_body_encoder(encode: Callable[[Shape], Callable[[Any], Any] | None]) -> BodyEncoder:
    """A body encoder writing JSON through the protocol's compiled per-shape converters."""

    def body(shape: Shape, value: dict) -> bytes:
        conv = encode(shape)
        return json.dumps(conv(value) if conv is not None else value, default=_json_default).encode("utf-8")

    return body


def _json_default(value: Any) -> Any:
    from overcast.protocol.common import b64encode

    if isinstance(value, datetime):
        return datetime_to_epoch(value)
    if isinstance(value, (bytes, bytearray)):
        return b64encode(bytes(value))
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
