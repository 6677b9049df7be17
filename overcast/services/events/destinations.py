"""Calling an API destination: the HTTP request EventBridge makes for a target that is an API destination, with
its connection's authorization (basic, API key, OAuth client credentials with a token fetched and kept until it
expires) and the target's HttpParameters.

Only endpoints on this machine are called (localhost, 127.0.0.1, ::1), as SNS calls only local HTTP
subscribers: a call elsewhere fails with CONNECTION_FAILURE instead of leaving the machine. A 2xx answer is
success; 429 and 5xx are retried by the target's retry policy; other answers go to the dead-letter queue.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.services.events.connections import CONNECTIONS, DESTINATIONS

if TYPE_CHECKING:
    from overcast.services.events.provider import EventsProvider

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
USER_AGENT = "Amazon/EventBridge/ApiDestinations"
TIMEOUT = 5.0  # seconds EventBridge waits for an API destination's answer
_tokens: dict[str, tuple[str, float]] = {}  # connection ARN -> (OAuth access token, real expiry)


def _failure(code: str, message: str, status: int) -> ServiceError:
    return ServiceError(code, message, status, dlq_code=code if code.isupper() else "ERROR_FROM_TARGET")


def _send(method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise _failure("CONNECTION_FAILURE", f"Connection to the endpoint failed: {error}", 502) from None


def _parameters(groups: dict[str, Any] | None) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(headers, query, body) of a connection's InvocationHttpParameters or OAuthHttpParameters."""
    groups = groups or {}
    return tuple(  # type: ignore[return-value]
        {item["Key"]: item.get("Value", "") for item in groups.get(name) or []}
        for name in ("HeaderParameters", "QueryStringParameters", "BodyParameters")
    )


async def _authorization(arn: str, kind: str, auth: dict[str, Any]) -> dict[str, str]:
    if kind == "BASIC":
        basic = auth["BasicAuthParameters"]
        token = base64.b64encode(f"{basic['Username']}:{basic['Password']}".encode()).decode()
        return {"Authorization": f"Basic {token}"}
    if kind == "API_KEY":
        key = auth["ApiKeyAuthParameters"]
        return {key["ApiKeyName"]: key["ApiKeyValue"]}
    return {"Authorization": f"Bearer {await _oauth_token(arn, auth['OAuthParameters'])}"}


async def _oauth_token(arn: str, oauth: dict[str, Any]) -> str:
    known = _tokens.get(arn)
    if known and known[1] > time.monotonic():
        return known[0]
    client = oauth["ClientParameters"]
    headers, query, body = _parameters(oauth.get("OAuthHttpParameters"))
    credentials = base64.b64encode(f"{client['ClientID']}:{client['ClientSecret']}".encode()).decode()
    headers = {
        "Authorization": f"Basic {credentials}",
        "Content-Type": "application/x-www-form-urlencoded",
        **headers,
    }
    url = _with_query(oauth["AuthorizationEndpoint"], query)
    _check_local(url)
    data = urllib.parse.urlencode(body).encode() if oauth["HttpMethod"] != "GET" else None
    status, answer = await asyncio.to_thread(_send, oauth["HttpMethod"], url, headers, data)
    try:
        document = json.loads(answer)
        token = document["access_token"]
    except (ValueError, KeyError, TypeError):
        raise _failure(
            "FAILED_TO_ASSUME_ROLE", f"The OAuth endpoint answered {status} without an access token", 400
        ) from None
    # Real time: a token's lifetime is the authorization server's, not the virtual clock's.
    _tokens[arn] = (token, time.monotonic() + float(document.get("expires_in") or 3600) - 5)
    return token


def _with_query(url: str, query: dict[str, str]) -> str:
    if not query:
        return url
    return url + ("&" if urllib.parse.urlsplit(url).query else "?") + urllib.parse.urlencode(query)


def _check_local(url: str) -> None:
    if (urllib.parse.urlsplit(url).hostname or "") not in LOCAL_HOSTS:
        raise _failure("CONNECTION_FAILURE", f"Overcast calls only endpoints on this machine, not {url}", 400)


async def invoke(provider: EventsProvider, target: dict[str, Any], payload: str) -> None:
    """Make the HTTP request of an API destination target; raise a ServiceError describing a failure."""
    destination = provider.store.named_by_arn(DESTINATIONS, target["Arn"])
    if destination is None:
        raise _failure("NO_RESOURCE", f"API destination {target['Arn']} does not exist.", 404)
    config = json.loads(destination[4])
    connection = provider.store.named_by_arn(CONNECTIONS, config["ConnectionArn"])
    if connection is None:
        raise _failure("NO_RESOURCE", f"Connection {config['ConnectionArn']} does not exist.", 404)
    if connection[5] != "AUTHORIZED":
        raise _failure("NO_PERMISSIONS", f"Connection {config['ConnectionArn']} is not authorized.", 403)
    auth_config = json.loads(connection[4])
    http = target.get("HttpParameters") or {}
    endpoint = config["InvocationEndpoint"]
    for value in http.get("PathParameterValues") or []:
        endpoint = endpoint.replace("*", urllib.parse.quote(value, safe=""), 1)
    headers, query, body_parameters = _parameters(
        auth_config["AuthParameters"].get("InvocationHttpParameters")
    )
    query.update(http.get("QueryStringParameters") or {})
    url = _with_query(endpoint, query)
    _check_local(url)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        **headers,
        **(http.get("HeaderParameters") or {}),
        **await _authorization(
            connection[3], auth_config["AuthorizationType"], auth_config["AuthParameters"]
        ),
    }
    body = _body(payload, body_parameters)
    method = config["HttpMethod"]
    data = None if method in ("GET", "HEAD") else body.encode()
    status, answer = await asyncio.to_thread(_send, method, url, headers, data)
    if not 200 <= status < 300:
        text = answer.decode("utf-8", "replace")[:256]
        raise ServiceError(
            f"HTTP{status}", f"Http response {status}: {text}", status, dlq_code="ERROR_FROM_TARGET"
        )


def _body(payload: str, extra: dict[str, str]) -> str:
    """The payload, with the connection's BodyParameters added when it is a JSON object."""
    if not extra:
        return payload
    try:
        document = json.loads(payload)
    except ValueError:
        return payload
    if isinstance(document, dict):
        document.update(extra)
        return json.dumps(document, separators=(",", ":"))
    return payload
