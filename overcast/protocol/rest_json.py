"""The 'rest-json' protocol (Lambda, API Gateway, ...): members in path labels, query string, headers and
a JSON body (or a payload member: raw blob/string, structure, or event stream); status code members."""

from __future__ import annotations

from typing import TYPE_CHECKING

from overcast.errors import ServiceError
from overcast.http import HttpResponse
from overcast.protocol import json_protocol as jp
from overcast.protocol.common import (
    WireError,
    error_status,
    layout_for,
    parse_rest_members,
    serialize_rest_members,
)
from overcast.protocol.uri import template_for

if TYPE_CHECKING:  # pragma: no cover
    from botocore.model import OperationModel, ServiceModel

    from overcast.http import HttpRequest

JSON_CONTENT_TYPE = "application/json"


def parse(operation: OperationModel, request: HttpRequest) -> dict:
    shape = operation.input_shape
    if shape is None:
        return {}
    layout = layout_for(shape)
    params: dict = {}
    template = template_for(operation)
    labels = template.match(request.path) if layout.uri else None
    try:
        parse_rest_members(layout, labels, request, params, template.query_literals)
    except WireError as exc:
        raise ServiceError("SerializationException", str(exc)) from None
    kind = layout.payload_kind
    if kind is not None:
        name = layout.payload
        if kind in ("blob", "string"):
            if request.stream is not None:
                params[name] = request.stream
            elif request.body:
                params[name] = request.body if kind == "blob" else request.body.decode("utf-8")
        elif kind == "eventstream":
            # an input event stream (bidirectional APIs): handed over undecoded
            if request.stream is not None:
                params[name] = request.stream
            elif request.body and request.body.strip() != b"{}":
                params[name] = request.body
        elif request.body:
            data = jp.loads_body(request.body)
            params[name] = data if kind == "document" else jp.decode_value(layout.payload_shape, data)
        return params
    if layout.body_members and request.body:
        data = jp.loads_body(request.body)
        if not isinstance(data, dict):
            raise ServiceError("SerializationException", "Request body must be a JSON object")
        body = jp.decode_value(shape, data)
        for k, v in body.items():
            if k in layout.body_members:
                params[k] = v
    return params


def serialize(operation: OperationModel, result: dict, request_id: str) -> HttpResponse:
    shape = operation.output_shape
    headers: list[tuple[str, str]] = [("x-amzn-RequestId", request_id)]
    status = operation.http.get("responseCode", 200)
    if shape is None:
        return HttpResponse(status, headers, b"")
    layout = layout_for(shape)
    code = serialize_rest_members(layout, result, headers)
    if code is not None:
        status = code
    kind = layout.payload_kind
    body: object = b""
    if kind is not None:
        value = result.get(layout.payload)
        if kind in ("blob", "string"):
            if value is None:
                body = b""
            elif isinstance(value, str):
                body = value.encode("utf-8")
            else:
                body = value  # bytes or an async iterator of bytes: passed through unbuffered
            _default_content_type(headers, "application/octet-stream" if kind == "blob" else "text/plain")
        elif kind == "eventstream":
            from overcast.protocol.eventstream import encode_event_stream

            body = encode_event_stream(layout.payload_shape, value, jp.encode_body, JSON_CONTENT_TYPE)
            _default_content_type(headers, jp.EVENTSTREAM_CONTENT_TYPE)
        elif value is not None:
            body = jp.dumps(value if kind == "document" else jp.encode_value(layout.payload_shape, value))
            _default_content_type(headers, JSON_CONTENT_TYPE)
    elif layout.body_members:
        members = layout.body_members
        data = {k: v for k, v in result.items() if k in members and v is not None}
        body = jp.dumps(jp.encode_value(shape, data))
        _default_content_type(headers, JSON_CONTENT_TYPE)
    return HttpResponse(status, headers, body)


def _default_content_type(headers: list[tuple[str, str]], value: str) -> None:
    for k, _ in headers:
        if k.lower() == "content-type":
            return
    headers.append(("Content-Type", value))


def serialize_error(
    service: ServiceModel, operation: OperationModel | None, error: ServiceError, request_id: str
) -> HttpResponse:
    shape, body = jp.error_body(service, error)
    code = body["__type"]
    headers = [
        ("x-amzn-RequestId", request_id),
        ("Content-Type", JSON_CONTENT_TYPE),
        ("x-amzn-ErrorType", code),
    ]
    if shape is not None and "Type" in shape.members and "Type" not in body:
        # Lambda-style errors say whose fault it was
        body["Type"] = "User" if error.sender_fault and error_status(service, error) < 500 else "Service"
    if shape is not None:
        # members bound to headers (Lambda's Retry-After, ...) go there, not in the body
        layout = layout_for(shape)
        if layout.header or layout.prefix_headers:
            serialize_rest_members(layout, error.fields, headers)
            for name, _wire, _s in layout.header:
                body.pop(name, None)
    qe = jp.query_error_header(service, shape, error)
    if qe:
        headers.append(qe)
    headers.extend(error.headers.items())
    return HttpResponse(error_status(service, error), headers, jp.dumps(body))
