"""HTTP/1.1 messages for the load balancers' data plane: reading requests from clients and responses from
targets (httptools, the parser Overcast's server uses), and writing them back out.

Bodies are read whole (the data plane buffers each message, as a target of an emulator needs no streaming);
keep-alive and pipelining are kept on both sides. A message asking for a protocol upgrade (WebSocket) ends the
HTTP part of its connection: the bytes after it are kept (`MessageReader.rest`) for whatever follows.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus

import httptools

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
     "proxy-authenticate", "proxy-authorization"}
)  # fmt: skip
MAX_BODY = 1 << 30


class BadMessage(Exception):
    """The bytes received are not an HTTP/1.1 message."""


@dataclass
class Message:
    headers: list[tuple[str, str]] = field(default_factory=list)  # names as received
    body: bytes = b""
    keep_alive: bool = True
    method: str = ""  # requests
    target: str = ""  # requests: path and query as sent
    status: int = 0  # responses
    version: str = "1.1"
    upgrade: bool = False  # a request asking to switch protocols, or a response switching (101)

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key.lower() == name]


class _Collector:
    """httptools callbacks that collect whole messages (several per feed when pipelined)."""

    def __init__(self, is_request: bool) -> None:
        self.done: deque[Message] = deque()
        self.current: Message | None = None
        self._body: list[bytes] = []
        self._size = 0
        self.headers_complete = False
        self.parser = httptools.HttpRequestParser(self) if is_request else httptools.HttpResponseParser(self)

    def on_message_begin(self) -> None:
        self.current = Message()
        self._body, self._size = [], 0
        self.headers_complete = False

    def on_url(self, url: bytes) -> None:
        assert self.current is not None
        self.current.target += url.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self.current is not None
        self.current.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self.headers_complete = True

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > MAX_BODY:
            raise BadMessage("body too large")
        self._body.append(body)

    def on_message_complete(self) -> None:
        message = self.current
        assert message is not None
        parser = self.parser
        message.body = b"".join(self._body)
        message.keep_alive = parser.should_keep_alive()
        message.version = parser.get_http_version()
        if isinstance(parser, httptools.HttpRequestParser):
            message.method = parser.get_method().decode()
        else:
            message.status = parser.get_status_code()
        self.done.append(message)
        self.current = None

    def finish_at_eof(self) -> Message | None:
        """A response whose body ends where the connection does (no length given)."""
        if self.current is None or not self.headers_complete:
            return None
        message = self.current
        message.body = b"".join(self._body)
        message.keep_alive = False
        message.status = self.parser.get_status_code()
        self.current = None
        return message


class MessageReader:
    """Reads successive messages of one connection."""

    def __init__(self, reader: asyncio.StreamReader, is_request: bool) -> None:
        self.reader = reader
        self.collector = _Collector(is_request)
        self.is_request = is_request
        self.rest = b""  # bytes after an upgrade, not parsed yet

    async def next(self, head: bool = False) -> Message | None:
        """The next whole message, or None when the peer closed between messages. `head`: the response to a
        HEAD request, which ends with its headers whatever length they announce."""
        collector = self.collector
        while not collector.done:
            if head and collector.headers_complete and collector.current is not None:
                message = collector.current
                message.status = collector.parser.get_status_code()
                message.keep_alive = False  # the parser is mid-body: this connection is not reused
                self.collector = _Collector(self.is_request)
                return message
            data, self.rest = self.rest or await self.reader.read(65536), b""
            if not data:
                if not self.is_request:
                    finished = collector.finish_at_eof()
                    if finished is not None:
                        return finished
                if collector.current is not None:
                    raise BadMessage("connection closed mid-message")
                return None
            try:
                collector.parser.feed_data(data)
            except httptools.HttpParserUpgrade as upgrade:
                self._upgraded(data[upgrade.args[0] :])
            except httptools.HttpParserError as error:
                raise BadMessage(str(error)) from None
        return collector.done.popleft()

    def _upgraded(self, rest: bytes) -> None:
        """The parser stopped at an upgrade: the message asking (or agreeing) to switch is done; what follows is
        kept unparsed, and a fresh parser takes over if the connection goes on in HTTP/1.1."""
        done = self.collector.done
        if not done or done[-1].method == "CONNECT":
            raise BadMessage("CONNECT is not supported")
        done[-1].upgrade = True
        self.collector = _Collector(self.is_request)
        self.collector.done = done
        self.rest = rest


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def serialize_response(
    status: int, headers: list[tuple[str, str]], body: bytes, *, head: bool = False
) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason(status)}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    if status >= 200 and status not in (204, 304):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if head else body)


def serialize_request(method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    lines = [f"{method} {target} HTTP/1.1"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
