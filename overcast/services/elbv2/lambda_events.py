"""An Application Load Balancer's Lambda targets (pure): the request as the ALB event, the function's answer
as the HTTP response, following "Lambda functions as targets" of the ALB User Guide.

Query string parameters and the path are passed as the client sent them (not URL-decoded); header names are
lower case; with `lambda.multi_value_headers.enabled` every value is passed (multiValueHeaders,
multiValueQueryStringParameters), else the last one. Bodies of non-text types are base64-encoded.
"""

from __future__ import annotations

import base64
import json
from typing import Any

_TEXT = ("text/", "application/json", "application/javascript", "application/xml", "+json", "+xml",
         "application/x-www-form-urlencoded")  # fmt: skip


def is_text(content_type: str | None) -> bool:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return not kind or any(marker in kind for marker in _TEXT)


def request_event(
    tg_arn: str,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    multi_value: bool,
) -> dict[str, Any]:
    path, _, query = target.partition("?")
    pairs = []
    for part in query.split("&") if query else ():
        key, _, value = part.partition("=")
        pairs.append((key, value))
    content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
    text = is_text(content_type)
    event: dict[str, Any] = {
        "requestContext": {"elb": {"targetGroupArn": tg_arn}},
        "httpMethod": method,
        "path": path,
    }
    if multi_value:
        grouped_query: dict[str, list[str]] = {}
        for key, value in pairs:
            grouped_query.setdefault(key, []).append(value)
        grouped_headers: dict[str, list[str]] = {}
        for name, value in headers:
            grouped_headers.setdefault(name.lower(), []).append(value)
        event["multiValueQueryStringParameters"] = grouped_query
        event["multiValueHeaders"] = grouped_headers
    else:
        event["queryStringParameters"] = dict(pairs)
        event["headers"] = {name.lower(): value for name, value in headers}
    event["body"] = body.decode("utf-8", "replace") if text else base64.b64encode(body).decode()
    event["isBase64Encoded"] = not text and bool(body)
    if text:
        event["isBase64Encoded"] = False
    return event


class BadLambdaResponse(Exception):
    """The function's answer is not an ALB response: the client gets a 502."""


def http_response(payload: bytes, multi_value: bool) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of the function's answer."""
    try:
        answer = json.loads(payload or b"null")
    except ValueError:
        raise BadLambdaResponse("not JSON") from None
    if not isinstance(answer, dict) or "statusCode" not in answer:
        raise BadLambdaResponse("no statusCode")
    try:
        status = int(answer["statusCode"])
    except (TypeError, ValueError):
        raise BadLambdaResponse("bad statusCode") from None
    if not 100 <= status <= 599:
        raise BadLambdaResponse("bad statusCode")
    headers: list[tuple[str, str]] = []
    if multi_value:
        for name, values in (answer.get("multiValueHeaders") or {}).items():
            for value in values if isinstance(values, list) else [values]:
                headers.append((str(name), str(value)))
    else:
        for name, value in (answer.get("headers") or {}).items():
            headers.append((str(name), str(value)))
    body = answer.get("body") or ""
    if not isinstance(body, str):
        raise BadLambdaResponse("body is not a string")
    data = base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode()
    return status, headers, data
