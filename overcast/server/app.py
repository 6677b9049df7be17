"""The ASGI application: internal endpoints, then route → authenticate → parse → invoke → serialize."""

from __future__ import annotations

import asyncio
import logging
import time
from functools import cache
from typing import Any

from overcast.auth.sigv4 import SigV4, parse_sigv4
from overcast.errors import ServiceError
from overcast.http import Headers, HttpRequest, HttpResponse
from overcast.platform import Platform, new_request_id
from overcast.routing.router import FORM, Route, parse_host, resolve
from overcast.server.authenticate import authenticate, error_style
from overcast.server.internal import internal_endpoint
from overcast.server.log import RequestLog
from overcast.server.streams import BytesStream, ReceiveStream, read_body
from overcast.services.base import RequestContext

log = logging.getLogger("overcast")

# The protocol and a representative model used to word errors raised before a service is known.
_FALLBACK = {"smithy-rpc-v2-cbor": "cloudwatch", "json": "dynamodb", "query": "sts", "rest-xml": "s3"}
MULTIPART = "multipart/form-data"
_CORS_HEADERS = [
    ("access-control-allow-origin", "*"),
    ("access-control-allow-methods", "HEAD,GET,PUT,POST,DELETE,OPTIONS,PATCH"),
    ("access-control-allow-headers", "*"),
    ("access-control-expose-headers", "*"),
]


class OvercastApp:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.request_log = RequestLog(platform.config.log_level)

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                asyncio.get_running_loop().call_soon(self.platform.resume_services)  # once serving
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.request_log.flush()
                await self.platform.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _s3_for(self, request: HttpRequest):
        """The S3 provider when a browser request (a CORS preflight, an HTML form POST) addresses a bucket.

        Such requests are unsigned and name no operation: the bucket is known by an S3 host name, or by the
        first path segment naming an existing bucket."""
        preflight = request.method == "OPTIONS" and "origin" in request.headers
        form_post = request.method == "POST" and request.headers.get("content-type", "").startswith(MULTIPART)
        if not (preflight or form_post):
            return None
        from overcast.services.s3.cors import bucket_of

        host = parse_host(request.host)
        name = bucket_of(request)
        if host.service not in (None, "s3") or not name:
            return None
        if form_post and request.path.strip("/") not in ("", name):  # a form POST goes to the bucket itself
            return None
        s3 = self.platform.provider("s3")
        if not hasattr(s3, "preflight"):  # another provider installed for s3 (protocol tests)
            return None
        return s3 if host.service == "s3" or s3.store.bucket(name) is not None else None

    def _s3_cors(self, request: HttpRequest) -> list[tuple[str, str]]:
        """CORS headers by the bucket's rules for an S3 response to a request carrying an Origin."""
        s3 = self.platform.provider("s3")
        return s3.response_headers(request) if hasattr(s3, "response_headers") else []

    async def _http(self, scope: dict[str, Any], receive, send) -> None:
        started = time.perf_counter()
        headers = Headers.from_raw(scope["headers"])
        raw_path = scope.get("raw_path")
        request = HttpRequest(
            method=scope["method"],
            path=raw_path.decode("latin-1").split("?", 1)[0] if raw_path else scope["path"],
            query=scope["query_string"].decode("latin-1"),
            headers=headers,
            host=headers.get("host") or "localhost",
            client_ip=(scope.get("client") or ("127.0.0.1", 0))[0],
        )
        if ".lambda-url." in request.host or request.path.startswith("/_overcast/lambda-url/"):
            lam = self.platform.provider("lambda")  # a function URL (docs/services/lambda.md)
            if hasattr(lam, "serve_url"):
                request.body = await read_body(receive)
                await _send(send, await lam.serve_url(request), request.method)
                return
        if request.path.startswith(("/_overcast/", "/_localstack/", "/moto-api/")):
            request.body = await read_body(receive)
            response = await internal_endpoint(self.platform, request)
            if response is not None:
                await _send(send, response, request.method)
                return
        if ".s3-website" in request.host:
            from overcast.services.s3.website import website_bucket

            s3 = self.platform.provider("s3")
            if website_bucket(request.host) and hasattr(s3, "website"):
                response = await s3.website(request)
                await _send(send, response, request.method)
                route = Route("s3", "WebsiteGet", "rest-xml", None)
                self.request_log.record(route, None, response.status, time.perf_counter() - started)
                return
        s3 = self._s3_for(request)
        if request.method == "OPTIONS" and "origin" in headers:
            preflight = s3.preflight(request) if s3 else HttpResponse(200, list(_CORS_HEADERS))
            await _send(send, preflight, "OPTIONS")
            return
        if s3 and request.method == "POST":
            request.body = await read_body(receive)
            response = await s3.post_object(request)
            response.headers.extend(s3.response_headers(request))
            await _send(send, response, "POST")
            self.request_log.record(
                Route("s3", "PostObject", "rest-xml", None),
                None,
                response.status,
                time.perf_counter() - started,
            )
            return
        request_id = new_request_id()
        route: Route | None = None
        ctx: RequestContext | None = None
        try:
            if request.method == "POST" and headers.get("content-type", "").startswith(FORM):
                request.body = await read_body(receive)
            sig = parse_sigv4(request)
            sent_path = request.path
            route = resolve(request, sig.service if sig else None)
            streaming = _has_streaming_input(route.service, route.operation)
            if not streaming and not request.body:
                request.body = await _whole_body(receive, request, sig)
            style = error_style(route.protocol, route.service)
            if streaming:  # the body is not read yet: its hash is checked as it streams, not here
                request.stream = BytesStream(b"")
            principal, secret = authenticate(self.platform, request, sig, style, sent_path)
            if streaming:
                request.stream = _body_stream(receive, request, sig, secret)
            region = (sig.region if sig else None) or route.region or self.platform.config.default_region
            ctx = RequestContext(
                route.service,
                route.operation,
                principal.account_id or self.platform.config.default_account,
                region,
                principal,
                request_id,
                request,
            )
            from overcast.protocol import parse_request, serialize_response

            operation_model = route.operation_model
            params = parse_request(route.protocol, operation_model, request)
            result = await self.platform.invoke(ctx, params)
            response = serialize_response(route.protocol, operation_model, result, request_id)
        except ServiceError as error:
            response = _error_response(request, route, error, request_id)
        except Exception:  # a bug of ours: answer at once (never hang), and say so in the log
            log.exception("internal error in %s", route and f"{route.service}.{route.operation}")
            error = ServiceError(
                "InternalError", "Overcast hit an internal error; see its log", 500, sender_fault=False
            )
            response = _error_response(request, route, error, request_id)
        if "origin" in headers:
            cors = _CORS_HEADERS if route is None or route.service != "s3" else self._s3_cors(request)
            response.headers.extend(cors)
        await _send(send, response, request.method)
        self.request_log.record(route, ctx, response.status, time.perf_counter() - started)


def _is_chunked(request: HttpRequest, sig: SigV4 | None) -> bool:
    """aws-chunked framing: signed per chunk (STREAMING-*) or with checksum trailers."""
    if sig is not None and (sig.content_sha256 or "").startswith("STREAMING-"):
        return True
    return "aws-chunked" in (request.headers.get("content-encoding") or "")


async def _whole_body(receive, request: HttpRequest, sig: SigV4 | None) -> bytes:
    body = await read_body(receive)
    if _is_chunked(request, sig):
        body = await _dechunk(BytesStream(body), request, sig, None).read()
    return body


def _body_stream(receive, request: HttpRequest, sig: SigV4 | None, secret: str | None):
    """The body of a streaming operation, decoded (and its chunk signatures checked) as it is read."""
    length = request.headers.get("content-length")
    stream = ReceiveStream(receive, int(length) if length and length.isdigit() else None)
    if _is_chunked(request, sig):
        return _dechunk(stream, request, sig, secret)
    declared = sig.content_sha256 if sig is not None and secret is not None and not sig.presigned else None
    if (
        declared and len(declared) == 64
    ):  # a verified signature covers a hex payload hash: hold the body to it
        from overcast.auth.chunked import Sha256CheckingStream

        return Sha256CheckingStream(stream, declared)
    return stream


def _dechunk(stream, request: HttpRequest, sig: SigV4 | None, secret: str | None):
    from overcast.auth.chunked import decode_aws_chunked

    decoded = request.headers.get("x-amz-decoded-content-length")
    return decode_aws_chunked(stream, sig, secret, int(decoded) if decoded and decoded.isdigit() else None)


@cache
def _has_streaming_input(service: str, operation: str) -> bool:
    """Payloads marked `streaming` (S3 object bodies) flow as streams; other blobs arrive as bytes."""
    from overcast.protocol.models import get_operation_model

    payload = get_operation_model(service, operation).get_streaming_input()
    return payload is not None and bool(payload.serialization.get("streaming"))


def _error_response(
    request: HttpRequest, route: Route | None, error: ServiceError, request_id: str
) -> HttpResponse:
    from overcast.protocol import serialize_error
    from overcast.protocol.models import get_service_model

    try:
        if route is not None:
            protocol, service, operation = (
                route.protocol,
                get_service_model(route.service),
                route.operation_model,
            )
        else:
            protocol = _guess_protocol(request)
            service, operation = get_service_model(_FALLBACK[protocol]), None
        return serialize_error(protocol, service, operation, error, request_id)
    except Exception:  # the error itself could not be worded: still answer at once
        log.exception("could not serialize %s", error.code)
        return HttpResponse(500, [("content-type", "text/plain")], f"{error.code}: {error.message}".encode())


def _guess_protocol(request: HttpRequest) -> str:
    headers = request.headers
    if headers.get("smithy-protocol") == "rpc-v2-cbor":
        return "smithy-rpc-v2-cbor"
    if "x-amz-target" in headers:
        return "json"
    if headers.get("content-type", "").startswith(FORM) or "Action=" in request.query:
        return "query"
    return "rest-xml"


async def _send(send, response: HttpResponse, method: str) -> None:
    headers = [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in response.headers]
    body = response.body
    if isinstance(body, (bytes, bytearray)):
        if not any(k == b"content-length" for k, _ in headers):
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else bytes(body)})
        return
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    async for chunk in body:
        if chunk:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
