"""CORS as S3 answers it: preflight OPTIONS requests and the headers of actual requests, from the bucket's
CORS rules (the first rule that matches the origin, the method and every requested header wins).

The provider's declared route for `OPTIONS` with an `Origin` (a preflight names no operation) hands it to
`preflight(request)`, and its `cors_headers` hook extends the response of any S3 request that carries an
`Origin` with `response_headers(request)`.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from overcast.http import HttpRequest, HttpResponse
from overcast.routing.router import parse_host
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.s3.provider import S3Provider

_NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of "
    "Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are "
    "not whitelisted by the resource's CORS spec."
)


def bucket_of(request: HttpRequest) -> str | None:
    """The bucket a raw request addresses (virtual-hosted or path style)."""
    host = parse_host(request.host)
    if host.bucket:
        return host.bucket
    first = unquote(request.path.lstrip("/").split("/", 1)[0])
    return first or None


def _matches(pattern: str, value: str) -> bool:
    return fnmatchcase(value.lower(), pattern.lower())


def matching_rule(
    rules: list[dict[str, Any]], origin: str, method: str, requested_headers: list[str]
) -> dict[str, Any] | None:
    for rule in rules:
        if not any(_matches(o, origin) for o in rule.get("AllowedOrigins") or []):
            continue
        if method not in (rule.get("AllowedMethods") or []):
            continue
        allowed = rule.get("AllowedHeaders") or []
        if all(any(_matches(a, h) for a in allowed) for h in requested_headers):
            return rule
    return None


def rule_headers(rule: dict[str, Any], origin: str, requested_headers: list[str]) -> list[tuple[str, str]]:
    wildcard = (rule.get("AllowedOrigins") or []) == ["*"]
    headers = [
        ("Access-Control-Allow-Origin", "*" if wildcard else origin),
        ("Access-Control-Allow-Methods", ", ".join(rule.get("AllowedMethods") or [])),
    ]
    if not wildcard:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    if requested_headers:
        headers.append(("Access-Control-Allow-Headers", ", ".join(requested_headers)))
    if rule.get("ExposeHeaders"):
        headers.append(("Access-Control-Expose-Headers", ", ".join(rule["ExposeHeaders"])))
    if rule.get("MaxAgeSeconds") is not None:
        headers.append(("Access-Control-Max-Age", str(rule["MaxAgeSeconds"])))
    headers.append(("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"))
    return headers


class CorsOperations(Operations):
    """How S3 answers browsers by a bucket's CORS rules (the rules themselves are stored by ConfigOperations)."""

    service: S3Provider

    def preflight(self, request: HttpRequest) -> HttpResponse:
        """The answer to an OPTIONS request with an Origin, by the bucket's CORS rules."""
        origin = request.headers.get("origin") or ""
        method = request.headers.get("access-control-request-method") or ""
        requested = [
            h.strip().lower()
            for h in (request.headers.get("access-control-request-headers") or "").split(",")
            if h.strip()
        ]
        name = bucket_of(request)
        bucket = self.service.store.bucket(name) if name else None
        rules = (self.service.store.document(bucket.id, "cors") or {}).get("CORSRules") if bucket else None
        if not origin or not method:
            return _error(400, "BadRequest", "Insufficient information. Origin request header needed.")
        if not rules:
            return _error(403, "AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.")
        rule = matching_rule(rules, origin, method, requested)
        if rule is None:
            return _error(403, "AccessForbidden", _NOT_ALLOWED)
        return HttpResponse(200, rule_headers(rule, origin, requested), b"")

    def response_headers(self, request: HttpRequest) -> list[tuple[str, str]]:
        """CORS headers for the response to an actual (non-OPTIONS) request carrying an Origin."""
        origin = request.headers.get("origin")
        name = bucket_of(request)
        if not origin or not name:
            return []
        bucket = self.service.store.bucket(name)
        rules = (self.service.store.document(bucket.id, "cors") or {}).get("CORSRules") if bucket else None
        # a request that says which method it stands for (Access-Control-Request-Method) is matched as that one
        method = request.headers.get("access-control-request-method") or request.method
        rule = matching_rule(rules or [], origin, method, [])
        return rule_headers(rule, origin, []) if rule else []


def _error(status: int, code: str, message: str) -> HttpResponse:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
        "</Error>"
    ).encode()
    return HttpResponse(status, [("Content-Type", "application/xml")], body)
