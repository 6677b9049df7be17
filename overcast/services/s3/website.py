"""Static website hosting: the website endpoint (`<bucket>.s3-website-<region>.amazonaws.com`, and the same
under `localhost` / `localhost.localstack.cloud`) serving a bucket's website configuration.

What it does, as AWS's website endpoint does: GET and HEAD only (anything else 405); anonymous reads, so
objects must be public by bucket policy or ACL (403 otherwise); the index document for `/` and every
`folder/`, and a 302 to `folder/` when `folder` is no object but `folder/<index>` is; the error document
(with the error's status) for 4xx errors, or an HTML error page; `RedirectAllRequestsTo`; routing rules
(`KeyPrefixEquals`, `HttpErrorCodeReturnedEquals`; `ReplaceKeyWith`, `ReplaceKeyPrefixWith`, `HostName`,
`Protocol`, `HttpRedirectCode`); an object's `x-amz-website-redirect-location` as a 301. Reads go through
GetObject/HeadObject as the anonymous principal, so ranges, conditional requests, archived objects and
access rules behave as on the REST endpoint.

The provider's declared route for website-endpoint hosts hands those requests to `website(request)`.
"""

from __future__ import annotations

import re
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.http import Headers, HttpRequest, HttpResponse
from overcast.identity import ANONYMOUS
from overcast.platform import new_request_id
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.s3.provider import S3Provider

_WEBSITE_HOST = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.\-]*)\.s3-website(?:[.-](?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d))?"
    r"\.(?:localhost\.localstack\.cloud|localhost|amazonaws\.com(?:\.cn)?)$"
)
_REASONS = {
    301: "Moved Permanently",
    302: "Found",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    412: "Precondition Failed",
    416: "Requested Range Not Satisfiable",
    500: "Internal Server Error",
}
# Request headers a website GET passes on to GetObject (ranges and conditional requests).
_PASSED_HEADERS = ("range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since")


def website_bucket(host: str) -> str | None:
    """The bucket a website-endpoint host names, or None when `host` is no website endpoint."""
    match = _WEBSITE_HOST.match(host.rsplit(":", 1)[0].lower())
    return match.group("bucket") if match else None


class WebsiteOperations(Operations):
    service: S3Provider

    async def website(self, request: HttpRequest) -> HttpResponse:
        request_id = new_request_id()
        # CORS by the bucket's rules, as on the REST endpoint (those functions take path-style requests).
        path_style = HttpRequest(
            request.method,
            "/" + quote(website_bucket(request.host) or "") + request.path,
            request.query,
            request.headers,
            host="localhost",
        )
        if request.method == "OPTIONS" and "origin" in request.headers:
            return self.service.cors.preflight(path_style)
        try:
            response = await self._website(request, request_id)
        except ServiceError as error:
            response = _error_page(error, request_id)
        if "origin" in request.headers:
            response.headers.extend(self.service.cors.response_headers(path_style))
        return response

    async def _website(self, request: HttpRequest, request_id: str) -> HttpResponse:
        name = website_bucket(request.host) or ""
        if request.method not in ("GET", "HEAD"):
            raise ServiceError(
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
                405,
                Method=request.method,
                ResourceType="OBJECT",
            )
        bucket = self.service.store.bucket(name)
        if bucket is None:
            raise ServiceError("NoSuchBucket", "The specified bucket does not exist", 404, BucketName=name)
        config = self.service.store.config(bucket.id, "website")
        if config is None:
            raise ServiceError(
                "NoSuchWebsiteConfiguration",
                "The specified bucket does not have a website configuration",
                404,
                BucketName=name,
            )
        if (self.service.store.config(bucket.id, "request_payment") or {}).get("Payer") == "Requester":
            raise ServiceError("AccessDenied", "Access Denied", 403)
        key = unquote(request.path)[1:]
        everything = config.get("RedirectAllRequestsTo")
        if everything:
            target = f"{everything.get('Protocol') or request.scheme}://{everything['HostName']}"
            return _redirect(301, target + quote("/" + key), request_id)
        rules = config.get("RoutingRules") or []
        rule = _matching_rule(rules, key, None)
        if rule is not None:
            return _rule_redirect(rule, key, request, request_id)
        index = (config.get("IndexDocument") or {}).get("Suffix") or "index.html"
        wanted = key + index if key == "" or key.endswith("/") else key
        response, error = await self._read(request, bucket.name, bucket.region, wanted, request_id)
        if error is None:
            return response
        if error.status in (403, 404) and wanted == key and key:
            # `folder` is no object: `folder/<index>` may be, and then S3 redirects to `folder/`.
            found, _ = await self._read(
                request, bucket.name, bucket.region, key + "/" + index, request_id, head=True
            )
            if found is not None:
                return _redirect(302, "/" + quote(key) + "/", request_id)
        status = error.status or 400
        rule = _matching_rule(rules, key, status)
        if rule is not None:
            return _rule_redirect(rule, key, request, request_id)
        if status == 304:
            return HttpResponse(304, [(k, str(v)) for k, v in error.headers.items()], b"")
        document = (config.get("ErrorDocument") or {}).get("Key")
        if document and 400 <= status < 500:
            page, page_error = await self._read(
                request, bucket.name, bucket.region, document, request_id, conditional=False
            )
            if page is not None:
                page.status = status
                return page
            return _error_page(error, request_id, page_error)
        return _error_page(error, request_id)

    async def _read(
        self,
        request: HttpRequest,
        bucket: str,
        region: str,
        key: str,
        request_id: str,
        *,
        head: bool = False,
        conditional: bool = True,
    ) -> tuple[HttpResponse | None, ServiceError | None]:
        """GetObject (HeadObject) of `key` as an anonymous reader: (the response, None) or (None, the error)."""
        from overcast.protocol import parse_request, serialize_response
        from overcast.protocol.models import get_operation_model

        operation = "HeadObject" if head or request.method == "HEAD" else "GetObject"
        headers = Headers()
        for name in _PASSED_HEADERS if conditional else ():
            value = request.headers.get(name)
            if value is not None:
                headers[name] = value
        inner = HttpRequest(
            operation == "HeadObject" and "HEAD" or "GET",
            "/" + quote(bucket) + "/" + quote(key, safe="/~"),
            "",
            headers,
            host=request.host,
            client_ip=request.client_ip,
        )
        model = get_operation_model("s3", operation)
        ctx = RequestContext("s3", operation, "", region, ANONYMOUS, request_id, inner)
        try:
            params = parse_request("rest-xml", model, inner)
            result = await self.platform.invoke(ctx, params)
        except ServiceError as error:
            return None, error
        redirect = result.get("WebsiteRedirectLocation")
        if redirect and not head:
            await _close(result.get("Body"))
            return _redirect(301, redirect, request_id), None
        response = serialize_response("rest-xml", model, result, request_id)
        response.headers = [(k, v) for k, v in response.headers if k.lower() != "x-amz-version-id"]
        return response, None


def _matching_rule(rules: list[dict[str, Any]], key: str, status: int | None) -> dict[str, Any] | None:
    """The first routing rule whose condition holds for `key` (before the read when `status` is None,
    after an error with HTTP `status` otherwise)."""
    for rule in rules:
        condition = rule.get("Condition") or {}
        code = condition.get("HttpErrorCodeReturnedEquals")
        if (code is None) != (status is None) or (code is not None and str(code) != str(status)):
            continue
        if key.startswith(condition.get("KeyPrefixEquals") or ""):
            return rule
    return None


def _rule_redirect(rule: dict[str, Any], key: str, request: HttpRequest, request_id: str) -> HttpResponse:
    redirect = rule.get("Redirect") or {}
    prefix = (rule.get("Condition") or {}).get("KeyPrefixEquals") or ""
    if "ReplaceKeyWith" in redirect:
        key = redirect["ReplaceKeyWith"] or ""
    elif "ReplaceKeyPrefixWith" in redirect:
        key = (redirect["ReplaceKeyPrefixWith"] or "") + key[len(prefix) :]
    protocol = redirect.get("Protocol") or request.scheme
    host = redirect.get("HostName") or request.host
    return _redirect(
        int(redirect.get("HttpRedirectCode") or 301), f"{protocol}://{host}/{quote(key)}", request_id
    )


def _redirect(status: int, location: str, request_id: str) -> HttpResponse:
    return HttpResponse(
        status, [("Location", location), ("x-amz-request-id", request_id), ("Content-Length", "0")], b""
    )


def _page_lines(error: ServiceError, request_id: str) -> list[str]:
    lines = [f"<li>Code: {escape(error.code)}</li>", f"<li>Message: {escape(error.message)}</li>"]
    lines += [f"<li>{escape(name)}: {escape(str(value))}</li>" for name, value in error.fields.items()]
    return lines


def _error_page(
    error: ServiceError, request_id: str, document_error: ServiceError | None = None
) -> HttpResponse:
    """AWS's HTML error page (and, when the error document itself failed, its section about that)."""
    status = error.status or 400
    title = f"{status} {_REASONS.get(status, 'Error')}"
    from overcast.protocol.rest_xml import host_id

    lines = [
        "<html>",
        f"<head><title>{title}</title></head>",
        "<body>",
        f"<h1>{title}</h1>",
        "<ul>",
        *_page_lines(error, request_id),
        f"<li>RequestId: {request_id}</li>",
        f"<li>HostId: {host_id(request_id)}</li>",
        "</ul>",
    ]
    if document_error is not None:
        lines += [
            "<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>",
            "<ul>",
            *_page_lines(document_error, request_id),
            "</ul>",
        ]
    lines += ["<hr/>", "</body>", "</html>", ""]
    body = "\n".join(lines).encode("utf-8")
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("x-amz-error-code", error.code),
        ("x-amz-error-message", error.message),
        ("x-amz-request-id", request_id),
        ("Content-Length", str(len(body))),
    ]
    headers += [(k, str(v)) for k, v in error.headers.items() if k.lower().startswith("x-amz-delete")]
    return HttpResponse(status, headers, body)


async def _close(body: Any) -> None:
    close = getattr(body, "aclose", None)
    if close is not None:
        await close()
