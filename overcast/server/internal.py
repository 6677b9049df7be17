"""Overcast's own endpoints: health, reset, the clock, the soft-mode IAM report; plus the health/reset paths existing tooling calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from overcast import __version__
from overcast.http import HttpRequest, HttpResponse
from overcast.platform import Platform
from overcast.state.clock import parse_duration


async def internal_endpoint(platform: Platform, request: HttpRequest) -> HttpResponse | None:
    """The response to an internal path, or None when the path is not one of ours."""
    method, path = request.method, request.path.rstrip("/")
    if path in ("/_overcast/health", "/_localstack/health") and method in ("GET", "HEAD"):
        return json_response(health(platform))
    if (path, method) in (("/_overcast/reset", "POST"), ("/moto-api/reset", "POST")):
        platform.reset()
        return json_response({"reset": True})
    if path == "/_overcast/clock":
        if method == "GET":
            return json_response(clock_state(platform))
        if method == "POST":
            return _move_clock(platform, request.body)
    if path == "/_overcast/iam/report" and method == "GET":
        from overcast.policy.enforcement import least_privilege_report

        return json_response({"mode": platform.config.iam, "principals": least_privilege_report(platform)})
    service = path.split("/")[2] if path.startswith("/_overcast/") and path.count("/") >= 3 else ""
    if service and hasattr(_provider(platform, service), "internal_endpoint"):
        # /_overcast/<service>/...: a service's own endpoints (SNS's outbox and signing certificate)
        return await platform.provider(service).internal_endpoint(request, path)
    if path.startswith("/_overcast/"):
        return json_response({"error": f"no internal endpoint {method} {request.path}"}, 404)
    return None


def _provider(platform: Platform, service: str):
    from overcast.services import PROVIDERS

    return platform.provider(service) if service in PROVIDERS else None


def health(platform: Platform) -> dict[str, Any]:
    from overcast.services import PROVIDERS, is_available

    loaded = set(platform.loaded_services())
    return {
        "version": __version__,
        "edition": "overcast",
        "status": "running",
        "iam": platform.config.iam,
        "persistent": not platform.config.ephemeral,
        "data_dir": None if platform.config.ephemeral else str(platform.root),
        "services": {
            name: ("running" if name in loaded else "available")
            for name in sorted(PROVIDERS)
            if is_available(name)
        },
    }


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


def json_response(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(status, [("content-type", "application/json")], json.dumps(data).encode())
