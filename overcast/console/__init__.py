"""The Overcast console: a single-page app served at `/_overcast/console/` (docs/console.md).

The page is plain JavaScript modules shipped in `static/` (no build step); it signs AWS requests itself and
talks to Overcast through the AWS APIs, plus these endpoints of its own:

- `api/config`: the IAM mode, the default account and region, and (outside `--iam enforce`) the root
  credentials the page signs with;
- `api/services`: the services Overcast serves, with their protocols and signing names;
- `api/models/<service>`: a botocore model without its documentation, for the generic views.

When Overcast listens beyond this machine, a login token (printed at start-up) guards the console and the
request log: `?token=` once sets a cookie (docs/security.md).
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
from functools import lru_cache
from http.cookies import SimpleCookie
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from overcast.http import HttpRequest, HttpResponse, json_response

if TYPE_CHECKING:
    from overcast.platform import Platform

PREFIX = "/_overcast/console"
STATIC = Path(__file__).with_name("static")
COOKIE = "overcast_console"
TOKEN_HEADER = "x-overcast-console-token"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
# The page loads only its own scripts and styles and talks only to this server.
SECURITY_HEADERS = (
    (
        "content-security-policy",
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
)


def authorized(platform: Platform, request: HttpRequest) -> bool:
    """Whether the request may use the console (and the request log): always when no login token is set
    (Overcast listens on loopback only), else with the token as cookie or header."""
    token = platform.config.console_token
    if not token:
        return True
    offered = request.headers.get(TOKEN_HEADER) or _cookie(request, COOKIE) or ""
    return hmac.compare_digest(offered.encode(), token.encode())


async def console_endpoint(platform: Platform, request: HttpRequest, path: str) -> HttpResponse:
    """Answer a path under /_overcast/console (`path` without its trailing slash)."""
    sub = path[len(PREFIX) :]
    if request.path == PREFIX:  # relative asset paths need the trailing slash
        location = PREFIX + "/" + (f"?{request.query}" if request.query else "")
        return HttpResponse(301, [("location", location)], b"")
    if request.method not in ("GET", "HEAD"):
        return json_response({"error": f"{request.method} is not served here"}, 405)
    if not authorized(platform, request):
        return _login(platform, request, sub)
    if sub.startswith("/api/"):
        return await _api(platform, request, sub[len("/api/") :])
    return _static(request, sub)


# -- login ------------------------------------------------------------------------------------------------


def _login(platform: Platform, request: HttpRequest, sub: str) -> HttpResponse:
    offered = (parse_qs(request.query).get("token") or [""])[-1]
    token = platform.config.console_token
    if offered and hmac.compare_digest(offered.encode(), token.encode()):
        cookie = f"{COOKIE}={token}; Path=/_overcast; HttpOnly; SameSite=Strict"
        return HttpResponse(303, [("location", f"{PREFIX}/"), ("set-cookie", cookie)], b"")
    if sub.startswith("/api/") or "." in sub.rsplit("/", 1)[-1]:
        return json_response({"error": "the console needs its login token (printed at start-up)"}, 401)
    page = (STATIC / "login.html").read_bytes()
    return HttpResponse(401, [("content-type", CONTENT_TYPES[".html"]), *SECURITY_HEADERS], page)


def _cookie(request: HttpRequest, name: str) -> str | None:
    header = request.headers.get("cookie")
    if not header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed Cookie header: as if none was sent
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


# -- the console's own API ----------------------------------------------------------------------------


async def _api(platform: Platform, request: HttpRequest, name: str) -> HttpResponse:
    import asyncio

    from overcast.console.models import service_index, service_model

    if name == "config":
        return json_response(_config(platform))
    if name == "services":
        return json_response({"services": service_index(platform.health()["services"])})
    if name.startswith("models/"):
        # the first read of a model parses botocore's JSON (half a second for EC2's): off the event loop
        model = await asyncio.to_thread(service_model, name[len("models/") :])
        if model is None:
            return json_response({"error": f"botocore has no model {name[len('models/') :]!r}"}, 404)
        return _cached(request, *model[:2], "application/json", "public, max-age=3600", model[2])
    return json_response({"error": f"no console endpoint {name!r}"}, 404)


def _config(platform: Platform) -> dict:
    config = platform.config
    enforce = config.iam == "enforce"
    return {
        "version": platform.health()["version"],
        "iam": config.iam,
        "account": config.default_account,
        "region": config.default_region,
        # Outside --iam enforce the root signature is not checked (presigned URLs are, with this secret); under
        # enforce the person at the page enters credentials.
        "credentials": None
        if enforce
        else {"accessKeyId": config.root_access_key, "secretAccessKey": config.root_secret_key},
        "rootAccessKeyId": config.root_access_key,
    }


# -- static files -----------------------------------------------------------------------------------------


def _static(request: HttpRequest, sub: str) -> HttpResponse:
    relative = sub.lstrip("/") or "index.html"
    if ".." in relative.split("/") or "\\" in relative:
        return json_response({"error": "no such file"}, 404)
    asset = _asset(relative)
    if asset is None:
        return json_response({"error": f"no such file {relative!r}"}, 404)
    body, packed, content_type, etag = asset
    return _cached(request, body, packed, content_type, "no-cache", etag)


@lru_cache(maxsize=64)
def _asset(relative: str) -> tuple[bytes, bytes | None, str, str] | None:
    """(bytes, gzip'd bytes or None, content type, ETag) of a shipped file; read once (the assets are small)."""
    import gzip

    path = (STATIC / relative).resolve()
    if not path.is_relative_to(STATIC.resolve()) or not path.is_file():
        return None
    body = path.read_bytes()
    content_type = CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
    packed = gzip.compress(body, 6) if len(body) > 1024 and path.suffix != ".png" else None
    return body, packed, content_type or "application/octet-stream", _etag(body)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _cached(
    request: HttpRequest, body: bytes, packed: bytes | None, content_type: str, cache_control: str, etag: str
) -> HttpResponse:
    """A response the browser may keep and revalidate (ETag → 304), gzip'd when the browser takes it."""
    headers = [("etag", etag), ("cache-control", cache_control), ("vary", "accept-encoding")]
    headers.extend(SECURITY_HEADERS)
    if request.headers.get("if-none-match") == etag:
        return HttpResponse(304, headers, b"")
    headers.append(("content-type", content_type))
    if packed is not None and "gzip" in (request.headers.get("accept-encoding") or ""):
        headers.append(("content-encoding", "gzip"))
        return HttpResponse(200, headers, packed)
    return HttpResponse(200, headers, body)
