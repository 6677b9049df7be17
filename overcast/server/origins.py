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


def origin_allowed(origin: str, allowed: str) -> bool:
    """Whether pages of `origin` may send signed requests (`allowed`: the configured list)."""
    if is_local_origin(origin):
        return True
    listed = {item.strip().rstrip("/") for item in allowed.split(",") if item.strip()}
    return "*" in listed or origin.rstrip("/") in listed


def refused_origin(origin: str) -> ServiceError:
    return ServiceError(
        "AccessDenied",
        f"Overcast does not take signed requests from pages of {origin}: allow it with --cors-origins "
        "(docs/security.md)",
        403,
    )
