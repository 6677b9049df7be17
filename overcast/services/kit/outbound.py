"""Requests Overcast's services make to endpoints users give them (Firehose HTTP endpoints, SNS HTTPS
subscriptions, EventBridge API destinations).

AWS requires HTTPS for most of them. On this machine the endpoint is usually a developer's own test server with a
self-signed certificate, so for loopback hosts the certificate is not verified (the traffic never leaves the
machine); other hosts are verified as usual.
"""

from __future__ import annotations

import ipaddress
import ssl
from functools import cache
from urllib.parse import urlsplit


@cache
def _unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@cache
def _verified() -> ssl.SSLContext:
    return ssl.create_default_context()


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_context(url: str) -> ssl.SSLContext:
    """The TLS settings for an HTTPS request to `url` (see the module docstring)."""
    return _unverified() if is_loopback(url) else _verified()
