"""The Lambda proxy contract: the event API Gateway sends a function and how it reads the function's answer.

Payload format 1.0 is the REST API's (and an HTTP API's when it asks for 1.0): `resource`, `path`,
`httpMethod`, `headers`/`multiValueHeaders` (the last value of a repeated header / all of them),
`queryStringParameters`/`multiValueQueryStringParameters`, `pathParameters`, `stageVariables`,
`requestContext`, `body` (base64 when binary) and `isBase64Encoded`; absent collections are `null`.
Payload format 2.0 is the HTTP API's: `rawPath`, `rawQueryString`, lower-case `headers` with repeated values
joined by commas, `cookies`, `routeKey`, and a `requestContext` with `http`.

A 1.0 answer must be an object of `statusCode`, `headers`, `multiValueHeaders`, `body` (a string) and
`isBase64Encoded`, nothing else: any other shape is "Malformed Lambda proxy response" (502). A 2.0 answer
may also carry `cookies`, and one without `statusCode` is the body of a 200 `application/json` response.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import unquote

_V1_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
_V2_KEYS = _V1_KEYS | {"cookies"}
TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml", "+json", "+xml")


class MalformedResponse(Exception):
    """The function's answer is not a proxy response (API Gateway: 502, "Internal server error")."""


@dataclass
class ProxyResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def is_binary(content_type: str | None, binary_media_types: Iterable[str]) -> bool:
    """Whether a content type (or an Accept header's first type, the only one API Gateway heeds) is one of
    the API's binary media types (wildcards as `image/*`, `*/*`)."""
    if not content_type:
        return False
    media = content_type.split(",", 1)[0].split(";", 1)[0].strip().lower()
    return any(fnmatchcase(media, pattern.lower()) for pattern in binary_media_types)


def is_text(content_type: str | None) -> bool:
    return content_type is not None and any(marker in content_type.lower() for marker in TEXT_TYPES)


def split_query(query: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(last value per name, every value per name) of a raw query string, decoded."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for part in query.split("&") if query else ():
        if not part:
            continue
        name, _, value = part.partition("=")
        name, value = unquote(name.replace("+", " ")), unquote(value.replace("+", " "))
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def split_headers(raw: Iterable[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(last value per name, every value per name), names as the client sent them."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in raw:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def body_field(body: bytes, binary: bool) -> tuple[str | None, bool]:
    """(the event's `body`, `isBase64Encoded`) of a request body."""
    if not body:
        return None, False
    if binary:
        return base64.b64encode(body).decode(), True
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode(), True


def event_v1(
    *,
    resource: str,
    path: str,
    method: str,
    headers: list[tuple[str, str]],
    query: str,
    path_parameters: dict[str, str] | None,
    stage_variables: dict[str, str] | None,
    request_context: dict[str, Any],
    body: bytes,
    binary: bool,
) -> dict[str, Any]:
    """The payload format 1.0 event."""
    single_headers, multi_headers = split_headers(headers)
    single_query, multi_query = split_query(query)
    text, encoded = body_field(body, binary)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": stage_variables or None,
        "requestContext": request_context,
        "body": text,
        "isBase64Encoded": encoded,
    }


def event_v2(
    *,
    route_key: str,
    raw_path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    path_parameters: dict[str, str] | None,
    stage_variables: dict[str, str] | None,
    request_context: dict[str, Any],
    body: bytes,
) -> dict[str, Any]:
    """The payload format 2.0 event (HTTP APIs)."""
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        joined[lowered] = f"{joined[lowered]},{value}" if lowered in joined else value
    query: dict[str, str] = {}
    for part in raw_query.split("&") if raw_query else ():
        if part:
            name, _, value = part.partition("=")
            name, value = unquote(name.replace("+", " ")), unquote(value.replace("+", " "))
            query[name] = f"{query[name]},{value}" if name in query else value
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = joined
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = request_context
    if body:
        text, encoded = body_field(body, not is_text(joined.get("content-type")))
        event["body"] = text
        event["isBase64Encoded"] = encoded
    else:
        event["isBase64Encoded"] = False
    if path_parameters:
        event["pathParameters"] = path_parameters
    if stage_variables:
        event["stageVariables"] = stage_variables
    return event


def _status(value: Any) -> int:
    if isinstance(value, bool):
        raise MalformedResponse("statusCode")
    if isinstance(value, int):
        status = value
    elif isinstance(value, str) and value.strip().isdigit():
        status = int(value)
    else:
        raise MalformedResponse("statusCode")
    if not 100 <= status <= 599:
        raise MalformedResponse("statusCode")
    return status


def _headers(answer: dict[str, Any]) -> list[tuple[str, str]]:
    headers = answer.get("headers") or {}
    multi = answer.get("multiValueHeaders") or {}
    if not isinstance(headers, dict) or not isinstance(multi, dict):
        raise MalformedResponse("headers")
    found: list[tuple[str, str]] = []
    named = {name.lower() for name in multi}
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedResponse("multiValueHeaders")
        found.extend((str(name), _scalar(v)) for v in values)
    found.extend((str(name), _scalar(v)) for name, v in headers.items() if name.lower() not in named)
    return found


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise MalformedResponse("header value")
    return str(value)


def _body(answer: dict[str, Any], decode: bool) -> bytes:
    body = answer.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedResponse("body")
    if answer.get("isBase64Encoded") and decode:
        try:
            return base64.b64decode(body, validate=False)
        except ValueError:
            raise MalformedResponse("body") from None
    return body.encode()


def response_v1(payload: bytes, decode_base64: bool) -> ProxyResponse:
    """Read a payload format 1.0 answer; `decode_base64`: the body of an `isBase64Encoded` answer is
    decoded (the REST API does so when the response's type is a binary media type of the API)."""
    try:
        answer = json.loads(payload) if payload.strip() else None
    except ValueError:
        raise MalformedResponse("not JSON") from None
    if not isinstance(answer, dict) or "statusCode" not in answer or set(answer) - _V1_KEYS:
        raise MalformedResponse("shape")
    if "isBase64Encoded" in answer and not isinstance(answer["isBase64Encoded"], bool):
        raise MalformedResponse("isBase64Encoded")
    return ProxyResponse(_status(answer["statusCode"]), _headers(answer), _body(answer, decode_base64))


def response_v2(payload: bytes) -> ProxyResponse:
    """Read a payload format 2.0 answer (HTTP APIs)."""
    try:
        answer = json.loads(payload) if payload.strip() else None
    except ValueError:
        raise MalformedResponse("not JSON") from None
    if not isinstance(answer, dict) or "statusCode" not in answer:
        data = payload if answer is not None else b""
        if isinstance(answer, str):
            data = answer.encode()
        return ProxyResponse(200, [("content-type", "application/json")], data)
    if set(answer) - _V2_KEYS:
        raise MalformedResponse("shape")
    headers = _headers(answer)
    cookies = answer.get("cookies") or []
    if not isinstance(cookies, list):
        raise MalformedResponse("cookies")
    headers.extend(("set-cookie", str(cookie)) for cookie in cookies)
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/json"))
    return ProxyResponse(_status(answer["statusCode"]), headers, _body(answer, True))
