"""Which web pages may drive Overcast from a browser.

Credentials are not secret here (`test`/`test` works), so a page on any site the developer visits could sign
requests and read the answers. A request that carries an `Origin` (browsers add it to cross-origin requests) is
therefore served only when the origin is a page of this machine (localhost, *.localhost, 127.0.0.0/8, ::1,
which includes Overcast's own console) or one the user allowed (`--cors-origins` / OVERCAST_CORS_ORIGINS), or
when the request is unsigned and AWS serves it unsigned (anonymous S3, Cognito's sign-in): what any site may do
in AWS too. docs/security.md says the whole of it.
"""

from __future__ import annotations

import ipaddress
from functools import cache
from urllib.parse import urlsplit

from overcast.errors import ServiceError


@cache
def is_local_origin(origin: str) -> bool:
    try:
        host = urlsplit(origin).hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin_allowed(origin: str, allowed: str, host: str | None = None) -> bool:
    """Whether pages of `origin` may send signed requests (`allowed`: the configured list; `host`: the
    request's Host header, for the console opened at this server's own IP address)."""
    if is_local_origin(origin) or (host is not None and is_own_address(origin, host)):
        return True
    listed = {item.strip().rstrip("/") for item in allowed.split(",") if item.strip()}
    return "*" in listed or origin.rstrip("/") in listed


def is_own_address(origin: str, host: str) -> bool:
    """A page this server served at an IP address (the console opened at http://192.168.1.5:4566 when
    Overcast listens beyond loopback): its origin is the very address the request went to. Only IP literals
    count: a name could be rebound by its DNS to this machine, and its pages would then look the same."""
    try:
        parts = urlsplit(origin)
        address = (parts.hostname or "").strip("[]")
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return parts.netloc.lower() == host.lower()


def refused_origin(origin: str) -> ServiceError:
    return ServiceError(
        "AccessDenied",
        f"Overcast does not take signed requests from pages of {origin}: allow it with --cors-origins "
        "(docs/security.md)",
        403,
    )
