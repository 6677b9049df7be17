"""Overcast's own endpoints: health, reset, the clock, the request log, the console, services' own endpoints
(`/_overcast/<service>/...`); plus the health/reset paths existing tooling calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from overcast.http import HttpRequest, HttpResponse, json_response
from overcast.platform import Platform
from overcast.server.log import RequestLog
from overcast.services import PROVIDERS
from overcast.state.clock import parse_duration


async def internal_endpoint(
    platform: Platform, request: HttpRequest, request_log: RequestLog | None = None
) -> HttpResponse | None:
    """The response to an internal path, or None when the path is not one of ours."""
    method, path = request.method, request.path.rstrip("/")
    if path == "/_overcast/console" or path.startswith("/_overcast/console/"):
        from overcast.console import console_endpoint

        return await console_endpoint(platform, request, path)
    if (path == "/_overcast/requests" or path.startswith("/_overcast/requests/")) and request_log is not None:
        return _requests(platform, request, path, request_log)
    if path in ("/_overcast/health", "/_localstack/health") and method in ("GET", "HEAD"):
        return json_response(platform.health())
    if path == "/_localstack/info" and method in ("GET", "HEAD"):
        from overcast.server.landing import localstack_info

        return localstack_info(platform)
    if (path, method) in (("/_overcast/reset", "POST"), ("/moto-api/reset", "POST")):
        platform.reset()
        return json_response({"reset": True})
    if path == "/_overcast/clock":
        if method == "GET":
            return json_response(clock_state(platform))
        if method == "POST":
            return _move_clock(platform, request.body)
    service = path.split("/")[2] if path.startswith("/_overcast/") and path.count("/") >= 3 else ""
    provider = platform.provider(service) if service in PROVIDERS else None
    if provider is not None:
        # /_overcast/<service>/...: a service's own endpoints (SNS's outbox, IAM's soft-mode report)
        response = await provider.internal_endpoint(request, path)
        if response is not None:
            return response
    if path.startswith("/_overcast/"):
        return json_response({"error": f"no internal endpoint {method} {request.path}"}, 404)
    return None


def _requests(platform: Platform, request: HttpRequest, path: str, request_log: RequestLog) -> HttpResponse:
    """GET /_overcast/requests?after=&limit=&service=&operation=&status=&principal=: the recent calls;
    GET /_overcast/requests/<seq>: one call's parsed request and response, while it is kept."""
    from overcast.console import authorized

    if request.method not in ("GET", "HEAD"):
        return json_response({"error": f"{request.method} is not served here"}, 405)
    if not authorized(platform, request):
        return json_response({"error": "the request log needs the console's login token"}, 401)
    request_log.watch()
    if path != "/_overcast/requests":
        seq = path.rsplit("/", 1)[-1]
        detail = request_log.detail(int(seq)) if seq.isdigit() else None
        if detail is None:
            return json_response({"error": f"the request and response of call {seq} are not kept"}, 404)
        return json_response(detail)
    query = {name: values[-1] for name, values in parse_qs(request.query).items()}
    try:
        after, limit = int(query.pop("after", 0)), max(1, min(int(query.pop("limit", 500)), 2000))
    except ValueError:
        return json_response({"error": "after and limit must be integers"}, 400)
    entries = request_log.entries(after, limit, query)
    return json_response({"entries": entries, "last": request_log.seq, "clock": clock_state(platform)})


def clock_state(platform: Platform) -> dict[str, Any]:
    now = platform.clock.now()
    return {
        "now": datetime.fromtimestamp(now, UTC).isoformat(),
        "epoch": now,
        "offset_seconds": platform.clock.offset,
    }


def _move_clock(platform: Platform, body: bytes) -> HttpResponse:
    """Body {"advance": "3d"} (or seconds) or {"set": "2030-01-01T00:00:00Z"} (or epoch seconds)."""
    try:
        order = json.loads(body or b"{}")
        if "advance" in order:
            platform.clock.advance(parse_duration(str(order["advance"])))
        elif "set" in order:
            platform.clock.set(_moment(order["set"]))
        else:
            raise ValueError('expected {"advance": "3d"} or {"set": "2030-01-01T00:00:00Z"}')
    except (ValueError, TypeError) as error:
        return json_response({"error": str(error)}, 400)
    return json_response(clock_state(platform))


def _moment(value: Any) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
