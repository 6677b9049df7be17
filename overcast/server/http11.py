"""The HTTP/1.1 server: asyncio + httptools, serving the ASGI application.

Overcast answers small requests from one client at a time as often as many at once, so the cost of each
request's trip through the server counts. This server does only what AWS clients need (keep-alive,
pipelining, `Expect: 100-continue`, chunked bodies both ways, back-pressure both ways, graceful shutdown)
with a fraction of a general ASGI server's per-request work: no timer per request, no task bookkeeping
per request, headers checked once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import httptools

if TYPE_CHECKING:  # imported on the first upgrade: wsproto costs start-up time most servers never need
    from overcast.server.websocket import WebSocketExchange

log = logging.getLogger("overcast.http")

KEEP_ALIVE_SECONDS = 5.0  # an idle connection is closed after this (clients reconnect, as with AWS)
HEAD_SECONDS = 30.0  # a request line and headers must arrive within this, or the connection is closed
LINGER_SECONDS = 2.0  # how long an answered connection drains an unread body before it closes
BODY_SECONDS = 20.0  # a body that makes no progress this long is refused with 400 RequestTimeout, as S3 does
HIGH_WATER = 1 << 20  # request body buffered before reading pauses
MAX_HEAD = 64 * 1024  # request line and headers
_REASONS = {status.value: status.phrase.encode() for status in HTTPStatus}
_NO_BODY_STATUSES = frozenset({204, 304}) | frozenset(range(100, 200))
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_COALESCE = 64 * 1024  # a response's head and a body up to this size go out in one write


def _bad_request(message: str, status: int = 400) -> bytes:
    body = message.encode()
    head = b"HTTP/1.1 %d %s\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: %d\r\n\r\n"
    return head % (status, _REASONS.get(status, b""), len(body)) + body


class _Unsupported(Exception):
    """A request framed in a way this server does not implement (RFC 9112: answered 501)."""


class _Dates:
    """The Date header, formatted once a second rather than per response."""

    __slots__ = ("second", "header")

    def __init__(self) -> None:
        self.second = -1
        self.header = b""

    def current(self) -> bytes:
        now = int(time.time())
        if now != self.second:
            self.second = now
            self.header = b"date: " + formatdate(now, usegmt=True).encode() + b"\r\n"
        return self.header


class Exchange:
    """One request and its response on a connection: the ASGI `receive` and `send` of that request."""

    __slots__ = (
        "conn",
        "scope",
        "keep_alive",
        "expect_continue",
        "head",
        "pending_head",
        "chunks",
        "buffered",
        "complete",
        "waiter",
        "started",
        "chunked",
        "finished",
        "no_body",
        "task",
        "progress_at",
        "timed_out",
    )

    def __init__(self, conn: Connection, scope: dict[str, Any], keep_alive: bool, expect_continue: bool):
        self.conn = conn
        self.scope = scope
        self.keep_alive = keep_alive
        self.expect_continue = expect_continue
        self.head = scope["method"] == "HEAD"
        self.pending_head: bytes | None = None  # the response's status line and headers, not yet written
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.complete = False  # the whole request body has arrived
        self.waiter: asyncio.Future | None = None
        self.started = False  # the response's status line is written
        self.chunked = False
        self.finished = False  # the response is complete
        self.no_body = False
        self.task: asyncio.Task | None = None  # held here: the loop keeps only a weak reference
        self.progress_at = conn.loop.time()  # when body bytes last arrived (or the headers did)
        self.timed_out = False  # the body stopped arriving: its reader is told so

    # -- from the parser ---------------------------------------------------------------------------

    def body_arrived(self, data: bytes) -> None:
        if self.finished:
            return  # the answer went without reading it: drop the rest
        self.chunks.append(data)
        self.buffered += len(data)
        self.progress_at = self.conn.loop.time()
        if self.buffered > HIGH_WATER:
            self.conn.pause_reading()
        self._wake()

    def body_complete(self) -> None:
        self.complete = True
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # -- ASGI ----------------------------------------------------------------------------------------

    def time_out(self) -> None:
        """The body made no progress for BODY_SECONDS: its reader gets a disconnect marked as a timeout."""
        self.timed_out = True
        self._wake()

    async def receive(self) -> dict[str, Any]:
        conn = self.conn
        if self.finished or conn.closed:
            return {"type": "http.disconnect"}
        if not self.chunks and not self.complete:
            if self.expect_continue:
                self.expect_continue = False
                conn.transport.write(_CONTINUE)
                self.progress_at = conn.loop.time()
            while not self.chunks and not self.complete and not conn.closed and not self.timed_out:
                self.waiter = conn.loop.create_future()
                await self.waiter
            if self.timed_out and not self.chunks:
                return {"type": "http.disconnect", "timeout": True}
            if conn.closed and not self.chunks and not self.complete:
                return {"type": "http.disconnect"}
        chunks = self.chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self.chunks = []
        self.buffered = 0
        if conn.parsing is self:
            conn.resume_reading()
        return {"type": "http.request", "body": body, "more_body": not self.complete}

    async def send(self, message: dict[str, Any]) -> None:
        conn = self.conn
        if self.finished or conn.closed:
            return
        kind = message["type"]
        if kind == "http.response.start":
            if self.started:
                raise RuntimeError("the response has already started")
            self._start(message["status"], message.get("headers") or ())
            self.started = True  # not if _start refused the headers: the server then answers 500 itself
            return
        if kind != "http.response.body":
            raise RuntimeError(f"unexpected ASGI message {kind!r}")
        if not self.started:
            raise RuntimeError("a response body before the response start")
        body = message.get("body", b"")
        more = message.get("more_body", False)
        head, self.pending_head = self.pending_head, None
        if body and not self.no_body:
            data = b"%x\r\n%b\r\n" % (len(body), body) if self.chunked else body
            if head is not None and len(data) <= _COALESCE:  # one write (one system call) for both
                conn.transport.write(head + data)
            else:
                if head is not None:
                    conn.transport.write(head)
                conn.transport.write(data)
            if conn.write_paused:
                await conn.drained()
        elif head is not None:
            conn.transport.write(head)
        if not more:
            if self.chunked:
                conn.transport.write(b"0\r\n\r\n")
            self.finished = True
            conn.exchange_finished(self)

    def _start(self, status: int, headers) -> None:
        conn = self.conn
        if conn.parsing is self and not self.complete:
            self.keep_alive = False  # answered before its body was read: say so, the client must not reuse it
        self.no_body = self.head or status in _NO_BODY_STATUSES
        lines = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b"")), conn.server.dates.current()]
        has_length = said_close = False
        for name, value in headers:
            if name == b"content-length":
                has_length = True
            elif name == b"connection" and value.lower() == b"close":
                self.keep_alive = False
                said_close = True
            lines.append(b"%s: %s\r\n" % (name, value))
        if not has_length and not self.no_body:
            if self.scope["http_version"] == "1.1":
                self.chunked = True
                lines.append(b"transfer-encoding: chunked\r\n")
            else:
                self.keep_alive = False  # an HTTP/1.0 body without a length ends when the connection does
        if not self.keep_alive and not said_close:
            lines.append(b"connection: close\r\n")
        lines.append(b"\r\n")
        head = b"".join(lines)
        if head.count(b"\n") != len(lines) or head.count(b"\r") != len(lines):  # one CRLF per line, no more
            bad = next(name for name, value in headers if b"\r" in name + value or b"\n" in name + value)
            raise RuntimeError(f"invalid HTTP header {bad!r}")
        self.pending_head = head  # written with the first body bytes (send), in one write when small


class Connection(asyncio.Protocol):
    """One client connection: parses requests and runs them one after another (pipelined ones queue)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.app = server.app
        self.loop = server.loop
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.parser = httptools.HttpRequestParser(self)
        self.closed = False
        self.read_paused = False
        self.write_paused = False
        self._drain: asyncio.Future | None = None
        self.idle_since: float | None = None
        self.client: tuple[str, int] | None = None
        self.local: tuple[str, int] | None = None
        self.current: Exchange | None = None  # the one running
        self.pipeline: deque[Exchange] = deque()  # parsed after it, waiting their turn
        self.parsing: Exchange | None = None  # the one whose body the parser is reading
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._names: list[bytes] = []  # the header names as the client spelled them (ASGI's are lower-case)
        self._head_size = 0
        self.head_since: float | None = None  # when the headers being received began to arrive
        self.lingering = False  # answered without reading the body: draining until closed
        self.websocket: WebSocketExchange | None = None  # set once the request upgraded to a WebSocket

    # -- asyncio.Protocol ----------------------------------------------------------------------------

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport
        self.client = _address(transport.get_extra_info("peername"))
        self.local = _address(transport.get_extra_info("sockname"))
        self.idle_since = self.loop.time()
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        if self.websocket is not None:
            self.websocket.connection_lost()
        for exchange in (self.current, *self.pipeline):
            if exchange is not None:
                exchange._wake()
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def data_received(self, data: bytes) -> None:
        if self.lingering:
            return  # the rest of a body nobody will read
        self.idle_since = None
        if self.websocket is not None:
            self.websocket.data_received(data)
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            if self.websocket is None:
                self._refuse("upgrades other than to a WebSocket are not supported")
            else:  # the bytes after the handshake are already WebSocket frames
                self.websocket.data_received(data[upgrade.args[0] :])
        except httptools.HttpParserError as error:
            cause = error.__context__  # what a callback of ours raised
            if isinstance(cause, _Unsupported):
                self._refuse(str(cause), 501)
            else:
                self._refuse(f"malformed request: {cause or error}")

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)
        self._drain = None

    async def drained(self) -> None:
        if self.write_paused and not self.closed:
            self._drain = self._drain or self.loop.create_future()
            await self._drain

    def pause_reading(self) -> None:
        if not self.read_paused and not self.closed:
            self.read_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused and not self.closed:
            self.read_paused = False
            self.transport.resume_reading()

    # -- httptools callbacks -------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._names = []
        self._head_size = 0
        self.head_since = self.loop.time()

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._head_size += len(url)
        if self._head_size > MAX_HEAD:
            raise httptools.HttpParserError("request line too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_size += len(name) + len(value)
        if self._head_size > MAX_HEAD:
            raise httptools.HttpParserError("headers too large")
        self._headers.append((name.lower(), value))
        self._names.append(name)

    def on_headers_complete(self) -> None:
        self.head_since = None
        parser = self.parser
        raw_path, _, query = self._url.partition(b"?")
        version = parser.get_http_version()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": version,
            "method": parser.get_method().decode("ascii"),
            "scheme": "http",
            "path": unquote(raw_path.decode("latin-1")),
            "raw_path": raw_path,
            "query_string": query,
            "root_path": "",
            "headers": self._headers,
            "header_names": self._names,
            "client": self.client,
            "server": self.local,
        }
        coding = next((value for name, value in self._headers if name == b"transfer-encoding"), None)
        if coding is not None and coding.strip().lower() != b"chunked":
            raise _Unsupported(f"transfer-coding not supported: {coding.decode('latin-1')}")
        expect_continue = version == "1.1" and any(
            name == b"expect" and value.lower() == b"100-continue" for name, value in self._headers
        )
        if parser.should_upgrade() and _websocket().is_upgrade(scope["method"], self._headers):
            self._upgrade(scope)
            return
        exchange = Exchange(self, scope, parser.should_keep_alive(), expect_continue)
        self.parsing = exchange
        if self.current is None:
            self._run(exchange)
        else:
            self.pipeline.append(exchange)

    def _upgrade(self, scope: dict[str, Any]) -> None:
        """Serve the request as a WebSocket (an ASGI websocket scope) once the requests before it are done."""
        if self.current is not None or self.pipeline:
            raise httptools.HttpParserError("a WebSocket upgrade pipelined behind other requests")
        scope["type"] = "websocket"
        scope["scheme"] = "ws"
        scope["subprotocols"] = [
            part.strip()
            for name, value in self._headers
            if name == b"sec-websocket-protocol"
            for part in value.decode("latin-1").split(",")
            if part.strip()
        ]
        del scope["method"]
        exchange = _websocket().WebSocketExchange(self, scope)
        self.websocket = exchange
        self.current = exchange  # type: ignore[assignment]  (never idle while it is open)
        exchange.task = self.loop.create_task(self._serve_websocket(exchange))

    async def _serve_websocket(self, exchange: WebSocketExchange) -> None:
        try:
            await self.app(exchange.scope, exchange.receive, exchange.send)
        except Exception:
            log.exception("the application failed on the WebSocket %s", exchange.scope["path"])
        finally:
            if not exchange.accepted and not exchange.finished:  # the application said nothing: refuse
                await exchange.send({"type": "websocket.close", "code": 1011})
            elif not exchange.finished:
                exchange.going_away()

    def on_body(self, body: bytes) -> None:
        if self.parsing is not None:
            self.parsing.body_arrived(body)

    def on_message_complete(self) -> None:
        if self.websocket is not None:
            return
        if self.parsing is not None:
            self.parsing.body_complete()
            self.parsing = None

    # -- running requests ----------------------------------------------------------------------------

    def _run(self, exchange: Exchange) -> None:
        self.current = exchange
        self.server.serving += 1  # from now, not from when its task first runs: it counts as waiting
        exchange.task = self.loop.create_task(self._serve(exchange))

    async def _serve(self, exchange: Exchange) -> None:
        try:
            await self.app(exchange.scope, exchange.receive, exchange.send)
        except Exception:
            log.exception("the application failed on %s %s", exchange.scope["method"], exchange.scope["path"])
            if not exchange.started and not self.closed:
                exchange.keep_alive = False
                await exchange.send({"type": "http.response.start", "status": 500, "headers": []})
                await exchange.send({"type": "http.response.body", "body": b"Internal Server Error"})
        finally:
            self.server.serving -= 1
            if not exchange.finished and not self.closed:
                # the application returned without completing its response: nothing more can be said
                self.transport.close()

    def exchange_finished(self, exchange: Exchange) -> None:
        """The response is written: close, or go on with the next request on this connection."""
        self.current = None
        self.server.stay_awake()
        if self.parsing is exchange:  # the body was not read to its end: the connection cannot be reused
            exchange.keep_alive = False
            self.parsing = None
            self._linger()
            return
        if not exchange.keep_alive or self.server.stopping:
            self.transport.close()
            return
        if self.parsing is None or self.parsing.buffered <= HIGH_WATER:
            self.resume_reading()
        if self.pipeline:
            self._run(self.pipeline.popleft())
        else:
            self.idle_since = self.loop.time()

    def _linger(self) -> None:
        """Close after answering a request whose body was not read, without losing the answer: closing a socket
        with unread data in it resets the connection, and the client may never read what was sent. So the
        sending side is shut, what still arrives is read and dropped, and the socket closes when the client
        closes or after LINGER_SECONDS."""
        self.lingering = True
        self.resume_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _refuse(self, message: str, status: int = 400) -> None:
        """Answer a request the parser cannot take (malformed framing) and close: the running request's own
        answer is replaced when it has not started yet."""
        current = self.current
        if current is not None and not current.started and current.task is not None:
            current.task.cancel()
            current.finished = True
            current = None
        if current is None or current.finished:
            self.transport.write(_bad_request(message, status))
        self.transport.close()
        self.closed = True


def _websocket():
    from overcast.server import websocket

    return websocket


def default_spin_seconds() -> float:
    """0.25 ms where another CPU is free to run the client meanwhile; none on a single CPU."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return 0.00025 if cpus > 1 else 0.0


def _address(value: Any) -> tuple[str, int] | None:
    if isinstance(value, tuple) and len(value) >= 2:
        return str(value[0]), int(value[1])
    return None


class Server:
    """Serve `app` on host:port (or on a socket already bound) until `should_exit` or SIGINT/SIGTERM."""

    def __init__(
        self,
        app,
        host: str = "127.0.0.1",
        port: int = 4566,
        *,
        graceful_seconds: float = 10,
        spin_seconds: float | None = None,
        on_stopped: Callable[[], None] | None = None,
    ):
        self.app = app
        self.on_stopped = on_stopped  # called once serving has ended (the CLI says so)
        self.host = host
        self.port = port
        self.graceful_seconds = graceful_seconds
        self.connections: set[Connection] = set()
        self.serving = 0  # HTTP requests handed to the application and not yet done with (one per connection)
        self.dates = _Dates()
        self.started = False
        self.should_exit = False
        self.stopping = False
        self.loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]
        self._signal: int | None = None
        self.spin_seconds = spin_seconds if spin_seconds is not None else default_spin_seconds()
        self._awake_until = 0.0
        self._spinning = False

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        """Block serving; re-raise the signal that stopped it, so the process ends as signalled."""
        try:
            import uvloop

            uvloop.run(self.serve(sockets))
        except ImportError:
            asyncio.run(self.serve(sockets))
        if self.on_stopped is not None:
            self.on_stopped()
        if self._signal is not None:
            signal.signal(self._signal, signal.SIG_DFL)
            signal.raise_signal(self._signal)

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self._install_signal_handlers()  # before the first request can be answered: a stop then is graceful
        if sockets:
            servers = [await self.loop.create_server(lambda: Connection(self), sock=s) for s in sockets]
        else:
            servers = [
                await self.loop.create_server(
                    lambda: Connection(self), self.host, self.port, reuse_address=True, backlog=1024
                )
            ]
        lifespan = _Lifespan(self.app)
        await lifespan.startup()
        self.started = True
        try:
            while not self.should_exit:
                await asyncio.sleep(0.1)
                self._close_idle()
        finally:
            await self._shut_down(servers, lifespan)

    def stay_awake(self) -> None:
        """Keep polling for a moment after a response instead of sleeping: a client sending its next
        request at once (most do) finds the server running, which saves the wake-up of a sleeping process
        (tens of microseconds on a virtual machine). Costs CPU only in that moment, never when idle."""
        if not self.spin_seconds:
            return
        self._awake_until = time.perf_counter() + self.spin_seconds
        if not self._spinning:
            self._spinning = True
            self.loop.call_soon(self._spin)

    def _spin(self) -> None:
        if time.perf_counter() < self._awake_until:
            self.loop.call_soon(self._spin)  # a ready callback makes the loop poll without blocking
        else:
            self._spinning = False

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                self.loop.add_signal_handler(signum, self._on_signal, signum)
            except (NotImplementedError, RuntimeError):  # not on this platform
                pass

    def _on_signal(self, signum: int) -> None:
        if self.should_exit and signum == signal.SIGINT:  # a second Ctrl-C: stop waiting for requests
            self.graceful_seconds = 0
        self._signal = signum
        self.should_exit = True

    def _close_idle(self) -> None:
        """Close connections idle past the keep-alive time, and those whose headers never finish arriving;
        time out request bodies that stopped arriving."""
        now = self.loop.time()
        idle_limit, head_limit = now - KEEP_ALIVE_SECONDS, now - HEAD_SECONDS
        body_limit = now - BODY_SECONDS
        for conn in list(self.connections):
            idle = conn.idle_since is not None and conn.idle_since < idle_limit and conn.current is None
            if idle or (conn.head_since is not None and conn.head_since < head_limit):
                conn.transport.close()
                continue
            body = conn.parsing
            if (
                body is not None
                and not body.complete
                and not body.timed_out
                and body.progress_at < body_limit
            ):
                if body is conn.current and not body.started:
                    body.time_out()  # its reader answers 400 RequestTimeout; then the connection closes
                else:
                    conn.transport.close()

    async def _shut_down(self, servers, lifespan: _Lifespan) -> None:
        """Stop accepting, let requests in flight finish (for a while), then stop the application."""
        self.stopping = True
        for server in servers:
            server.close()
        for conn in list(self.connections):
            if conn.websocket is not None:
                conn.websocket.going_away()
        deadline = self.loop.time() + self.graceful_seconds
        while True:
            for conn in list(self.connections):
                if conn.current is None:
                    conn.transport.close()
            if not self.connections or self.loop.time() >= deadline:
                break
            await asyncio.sleep(0.05)
        for conn in list(self.connections):
            conn.transport.close()
        await lifespan.shutdown()


class _Lifespan:
    """The ASGI lifespan protocol, driven from the server: start-up before serving, shut-down after."""

    def __init__(self, app) -> None:
        self.app = app
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.outbox: asyncio.Queue = asyncio.Queue()
        self.task: asyncio.Task | None = None

    async def startup(self) -> None:
        self.task = asyncio.get_running_loop().create_task(
            self.app({"type": "lifespan", "asgi": {"version": "3.0"}}, self.inbox.get, self.outbox.put)
        )
        await self.inbox.put({"type": "lifespan.startup"})
        await self._expect("lifespan.startup.complete")

    async def shutdown(self) -> None:
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self._expect("lifespan.shutdown.complete")

    async def _expect(self, kind: str) -> None:
        getter = asyncio.ensure_future(self.outbox.get())
        done, _ = await asyncio.wait({getter, self.task}, return_when=asyncio.FIRST_COMPLETED)
        if getter not in done:
            getter.cancel()
            self.task.result()  # the application failed: its exception
            raise RuntimeError(f"the application ended before {kind}")
        message = getter.result()
        if message["type"] != kind:
            raise RuntimeError(f"expected {kind}, the application sent {message['type']}")
