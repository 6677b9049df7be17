"""The ASGI application: services' own HTTP routes, internal endpoints, then route → authenticate → parse →
invoke → serialize. It names no service: what is special about one is declared by its provider."""

from __future__ import annotations

import asyncio
import logging
import time
from functools import cache
from typing import Any

from overcast.auth.authenticate import authenticate, error_style
from overcast.auth.sigv4 import SigV4, parse_sigv4
from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.http import Headers, HttpRequest, HttpResponse, WebSocket, json_response
from overcast.platform import Platform, new_request_id
from overcast.routing.router import FORM, Route, resolve
from overcast.server.internal import internal_endpoint
from overcast.server.landing import is_landing_request, landing
from overcast.server.log import RequestLog
from overcast.server.origins import origin_allowed, refused_origin
from overcast.server.streams import BytesStream, ReceiveStream, read_body
from overcast.services.base import OPEN_CORS

log = logging.getLogger("overcast")

INTERNAL_PREFIXES = ("/_overcast/", "/_localstack/", "/moto-api/")


class OvercastApp:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.request_log = RequestLog(platform.config.log_level)

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
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

    async def _service_route(self, request: HttpRequest, receive, send, started: float) -> bool:
        """Serve the request by a running service's declared HTTP route (a website, a form POST, a CORS
        preflight, a function URL); False when none takes it."""
        for route, provider in self.platform.routes:
            if route.websocket or not route.matches(request):
                continue
            if route.read_body and request.stream is None:
                try:
                    request.body = await read_body(receive)
                except ServiceError as error:  # the body stopped arriving
                    await self._answer(
                        send, _error_response(request, None, error, new_request_id()), request.method
                    )
                    return True
                request.stream = BytesStream(request.body)  # read: later steps take it from here
            response = await getattr(provider, route.handler)(request)
            if response is None:
                continue
            await self._answer(send, response, request.method)
            name = Route(provider.service_name, route.operation, "http", None)
            self.request_log.record(name, None, response.status, time.perf_counter() - started)
            return True
        return False

    async def _committed(self) -> ServiceError | None:
        """Wait for the group commit (state/database.py) holding what this answer may depend on: no answer is
        sent before the writes it acknowledges, or reads, are durable. The error to answer if it failed."""
        pending = self.platform.db.durable()
        if pending is None:
            return None
        try:
            # shared by the group: one request's cancellation must not cancel it
            await asyncio.shield(pending)
        except Exception:
            log.exception("a group commit failed")
            return ServiceError(
                "InternalError", "Overcast could not store the changes; see its log", 500, sender_fault=False
            )
        return None

    async def _answer(self, send, response: HttpResponse, method: str) -> None:
        if await self._committed() is not None:
            response = HttpResponse(
                500, [("content-type", "text/plain")], b"InternalError: see Overcast's log"
            )
        await _send(send, response, method)

    def _internal_allowed(self, request: HttpRequest, foreign: bool) -> bool:
        """Overcast's own endpoints: never for pages of other sites; under --iam enforce, changes (reset, the
        clock) need the root's secret key in `x-overcast-token`."""
        if foreign:
            return False
        config = self.platform.config
        if config.iam != "enforce" or request.method in ("GET", "HEAD"):
            return True
        return request.headers.get("x-overcast-token") == config.root_secret_key

    async def _websocket(self, scope: dict[str, Any], receive, send) -> None:
        """A WebSocket upgrade: served by the route a running service declared for it (HttpRoute.websocket),
        or refused with 404."""
        started = time.perf_counter()
        request = _request_of(scope, "GET")
        socket = WebSocket(receive, send)
        for route, provider in self.platform.routes:
            if route.websocket and route.matches(request):
                try:
                    await getattr(provider, route.handler)(request, socket)
                finally:
                    if not socket.accepted and not socket.closed:
                        await socket.deny(HttpResponse(403, [("content-type", "text/plain")], b"Forbidden"))
                name = Route(provider.service_name, route.operation, "websocket", None)
                self.request_log.record(
                    name, None, 101 if socket.accepted else 403, time.perf_counter() - started
                )
                return
        await socket.deny(HttpResponse(404, [("content-type", "text/plain")], b"Not Found"))

    async def _http(self, scope: dict[str, Any], receive, send) -> None:
        started = time.perf_counter()
        request = _request_of(scope, scope["method"])
        headers = request.headers
        if self.platform.routes and await self._service_route(request, receive, send, started):
            return
        body_read = request.stream is not None  # a route read the body, then passed
        request.stream = None
        origin = headers.get("origin")
        foreign = origin is not None and not origin_allowed(
            origin, self.platform.config.cors_origins, request.host
        )
        if request.path.startswith(INTERNAL_PREFIXES) and not self._internal_allowed(request, foreign):
            await self._answer(send, json_response({"error": "not allowed"}, 403), request.method)
            return
        if not body_read and request.path.startswith(INTERNAL_PREFIXES):
            try:
                request.body = await read_body(receive)
            except ServiceError as error:  # the body stopped arriving
                await self._answer(
                    send, _error_response(request, None, error, new_request_id()), request.method
                )
                return
            body_read = True
            response = await internal_endpoint(self.platform, request, self.request_log)
            if response is not None:
                await self._answer(send, response, request.method)
                return
        if is_landing_request(request):  # a person (or a probe) opening the endpoint itself
            await self._answer(send, landing(self.platform, request), request.method)
            return
        if request.method == "OPTIONS" and origin is not None:  # a preflight no service claimed
            asked = (headers.get("access-control-request-headers") or "").lower()
            if foreign and ("authorization" in asked or "x-amz-security-token" in asked):
                await self._answer(
                    send, HttpResponse(403), "OPTIONS"
                )  # no CORS headers: the browser stops there
            else:
                await self._answer(send, HttpResponse(200, list(OPEN_CORS)), "OPTIONS")
            return
        request_id = new_request_id()
        route: Route | None = None
        ctx: RequestContext | None = None
        params: dict[str, Any] | None = None
        outcome: Any = None  # the result, or the error, for the console's request log
        try:
            if (
                not body_read
                and request.method == "POST"
                and headers.get("content-type", "").startswith(FORM)
            ):
                request.body = await read_body(receive)
                body_read = True
            sig = parse_sigv4(request)
            sent_path = request.path
            route = resolve(request, sig.service if sig else None)
            if foreign and (sig is not None or "authorization" in headers or "Signature=" in request.query):
                provider = self.platform.provider(route.service)
                if provider is None or not provider.accepts_origin(request):
                    raise refused_origin(origin)
            streaming = _has_streaming_input(route.service, route.operation)
            if not streaming and not body_read:
                request.body = await _whole_body(receive, request, sig)
            style = error_style(route.protocol, route.service)
            if streaming:  # the body is not read yet: its hash is checked as it streams, not here
                request.stream = BytesStream(b"")
            unsigned = sig is None and self.platform.serves_unsigned(route.service, route.operation)
            principal, secret = authenticate(self.platform, request, sig, style, sent_path, unsigned)
            if streaming:
                request.stream = (
                    BytesStream(request.body) if body_read else _body_stream(receive, request, sig, secret)
                )
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
            outcome = result = await self.platform.invoke(ctx, params)
            response = self.platform.answers.response(
                result,
                request_id,
                lambda rid: serialize_response(route.protocol, operation_model, result, rid),
            )
        except ServiceError as error:
            outcome = error
            response = _error_response(request, route, error, request_id)
        except RecursionError:  # input nested past what any AWS API accepts (a policy, an expression)
            error = ServiceError(_invalid_input_code(route), "The input is nested too deeply", 400)
            response = _error_response(request, route, error, request_id)
        except Exception:  # a bug of ours: answer at once (never hang), and say so in the log
            log.exception("internal error in %s", route and f"{route.service}.{route.operation}")
            error = ServiceError(
                "InternalError", "Overcast hit an internal error; see its log", 500, sender_fault=False
            )
            response = _error_response(request, route, error, request_id)
        failed = await self._committed()
        if failed is not None:
            response = _error_response(request, route, failed, request_id)
        if "origin" in headers:
            provider = self.platform.running(route.service) if route is not None else None
            response.headers.extend(provider.cors_headers(request) if provider else OPEN_CORS)
        await _send(send, response, request.method)
        self.request_log.record(route, ctx, response.status, time.perf_counter() - started, params, outcome)


def _request_of(scope: dict[str, Any], method: str) -> HttpRequest:
    headers = Headers.from_raw(scope["headers"])
    raw_path = scope.get("raw_path")
    return HttpRequest(
        method=method,
        path=raw_path.decode("latin-1").split("?", 1)[0] if raw_path else scope["path"],
        query=scope["query_string"].decode("latin-1"),
        headers=headers,
        host=headers.get("host") or "localhost",
        client_ip=(scope.get("client") or ("127.0.0.1", 0))[0],
        scheme="https" if scope.get("scheme") in ("https", "wss") else "http",
        raw_headers=scope["headers"],
        header_names=scope.get("header_names"),
    )


def _is_chunked(request: HttpRequest, sig: SigV4 | None) -> bool:
    """aws-chunked framing: signed per chunk (STREAMING-*) or with checksum trailers. `Content-Encoding:
    aws-chunked` alone, without the decoded length that framing always announces, is a plain body (S3 stores
    it and drops aws-chunked from the object's encoding)."""
    if sig is not None and (sig.content_sha256 or "").startswith("STREAMING-"):
        return True
    return "aws-chunked" in (request.headers.get("content-encoding") or "") and (
        "x-amz-decoded-content-length" in request.headers
    )


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


def _invalid_input_code(route: Route | None) -> str:
    from overcast.protocol.validate import PROTOCOL_CODES

    return PROTOCOL_CODES.get(route.protocol if route else "json", "ValidationException")


def _error_response(
    request: HttpRequest, route: Route | None, error: ServiceError, request_id: str
) -> HttpResponse:
    from overcast.protocol import serialize_error, serialize_unrouted_error
    from overcast.protocol.models import get_service_model

    try:
        if route is None:
            return serialize_unrouted_error(request, error, request_id)
        service = get_service_model(route.service)
        return serialize_error(route.protocol, service, route.operation_model, error, request_id)
    except Exception:  # the error itself could not be worded: still answer at once
        log.exception("could not serialize %s", error.code)
        return HttpResponse(500, [("content-type", "text/plain")], f"{error.code}: {error.message}".encode())


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
