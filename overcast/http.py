"""The request and response values that pass between the server, routing, auth and protocol layers.

They are deliberately plain: the server builds an `HttpRequest` from the ASGI scope, every layer below reads
it, and the protocol layer produces an `HttpResponse` that the server writes back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote


class Headers:
    """Case-insensitive HTTP headers; repeated headers are joined with ',' as RFC 9110 allows."""

    __slots__ = ("_items",)

    def __init__(self, items: dict[str, str] | None = None) -> None:
        self._items: dict[str, str] = {}
        for name, value in (items or {}).items():
            self.add(name, value)

    @classmethod
    def from_raw(cls, raw: list[tuple[bytes, bytes]]) -> Headers:
        headers = cls()
        items = headers._items
        for name, value in raw:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            items[key] = f"{items[key]},{text}" if key in items else text
        return headers

    def add(self, name: str, value: str) -> None:
        key = name.lower()
        self._items[key] = f"{self._items[key]},{value}" if key in self._items else value

    def get(self, name: str, default: str | None = None) -> str | None:
        items = self._items
        if name in items:  # callers mostly ask in lower case already: no lower() then
            return items[name]
        return items.get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __setitem__(self, name: str, value: str) -> None:
        self._items[name.lower()] = value

    def __delitem__(self, name: str) -> None:
        del self._items[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def lowered(self) -> dict[str, str]:
        """{lower-case name: value}; read-only (the headers' own dict)."""
        return self._items

    def items(self):
        """(lower-case name, value) pairs."""
        return self._items.items()

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class BodyStream(Protocol):
    """A request body read incrementally (S3 object bodies, chunked uploads): never held whole in memory."""

    content_length: int | None

    async def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (all that remain when -1); b'' at the end."""
        ...

    def __aiter__(self) -> AsyncIterator[bytes]: ...


@dataclass
class HttpRequest:
    method: str
    path: str  # raw, percent-encoded path without the query string
    query: str  # raw query string without '?'
    headers: Headers
    body: bytes = b""  # the whole body, unless `stream` is set
    stream: BodyStream | None = None  # set instead of `body` for operations with a streaming payload
    host: str = "localhost"
    scheme: str = "http"
    client_ip: str = "127.0.0.1"
    # the headers as received, in order and unjoined (lower-case names), and the names as the client spelled
    # them when the server kept them: for services that hand requests on as they came (API Gateway)
    raw_headers: list[tuple[bytes, bytes]] | None = field(default=None, repr=False, compare=False)
    header_names: list[bytes] | None = field(default=None, repr=False, compare=False)
    # (query, its parse): routing and the rest protocols both need the query parsed; it is parsed once
    _parsed_query: tuple[str, dict[str, list[str]]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def header_pairs(self) -> list[tuple[str, str]]:
        """Every header as received: (name as the client spelled it, value), repeated names repeated."""
        if self.raw_headers is None:
            return list(self.headers.items())
        names = (
            self.header_names
            if self.header_names is not None and len(self.header_names) == len(self.raw_headers)
            else None
        )
        return [
            ((names[i] if names else name).decode("latin-1"), value.decode("latin-1"))
            for i, (name, value) in enumerate(self.raw_headers)
        ]

    def query_params(self) -> dict[str, list[str]]:
        """The query string as {name: [values...]}, blank values kept ('?uploads' -> {'uploads': ['']}),
        decoded as urllib's parse_qs does. Read-only: the dict is shared by every caller."""
        cached = self._parsed_query
        query = self.query
        if cached is not None and cached[0] == query:
            return cached[1]
        parsed = decode_form(query)
        self._parsed_query = (query, parsed)
        return parsed


def decode_form(text: str) -> dict[str, list[str]]:
    """A query string or form body as {name: [values...]}, blank values kept, decoded as urllib's
    parse_qs(keep_blank_values=True) does."""
    parsed: dict[str, list[str]] = {}
    for key, value in form_pairs_of(text):
        parsed.setdefault(key, []).append(value)
    return parsed


def form_pairs_of(text: str, errors: str = "replace") -> list[tuple[str, str]]:
    """urllib's parse_qsl(text, keep_blank_values=True, errors=errors), without its calls for the (usual)
    parts that need no decoding: it runs on every query-protocol request."""
    pairs: list[tuple[str, str]] = []
    for part in text.split("&") if text else ():
        if not part:
            continue
        key, _, value = part.partition("=")
        if "%" in part or "+" in part:
            key = unquote(key.replace("+", " "), errors=errors)
            value = unquote(value.replace("+", " "), errors=errors)
        pairs.append((key, value))
    return pairs


ResponseBody = bytes | AsyncIterator[bytes]


@dataclass
class HttpResponse:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: ResponseBody = b""


def json_response(data: object, status: int = 200) -> HttpResponse:
    """A JSON document as a response (Overcast's own endpoints, and services' routes outside AWS's APIs)."""
    import json

    return HttpResponse(status, [("content-type", "application/json")], json.dumps(data).encode())


class WebSocket:
    """A WebSocket a client opened (RFC 6455), handed to a service's route declared with `websocket=True`:
    accept it (or deny it with an HTTP response), then receive and send messages until either side closes.

    It wraps the server's ASGI websocket `receive`/`send`, so a service needs no server module."""

    def __init__(self, receive, send) -> None:
        self._receive = receive
        self._send = send
        self.accepted = False
        self.closed = False
        self.close_code: int | None = None  # the code the connection ended with (1006: dropped)

    async def accept(
        self, headers: list[tuple[str, str]] | None = None, subprotocol: str | None = None
    ) -> None:
        connect = await self._receive()  # websocket.connect
        if connect["type"] != "websocket.connect":
            self.closed = True
            return
        message: dict = {"type": "websocket.accept", "headers": _raw_headers(headers or [])}
        if subprotocol:
            message["subprotocol"] = subprotocol
        await self._send(message)
        self.accepted = True

    async def deny(self, response: HttpResponse) -> None:
        """Answer the upgrade request with an HTTP response instead (a 401, a 403, ...)."""
        body = response.body if isinstance(response.body, (bytes, bytearray)) else b""
        await self._send(
            {
                "type": "websocket.http.response.start",
                "status": response.status,
                "headers": _raw_headers(response.headers),
            }
        )
        await self._send({"type": "websocket.http.response.body", "body": bytes(body)})
        self.closed = True

    async def receive(self) -> str | bytes | None:
        """The next message (text as str, binary as bytes), or None once the connection has closed."""
        if self.closed:
            return None
        message = await self._receive()
        if message["type"] == "websocket.receive":
            text = message.get("text")
            return text if text is not None else message.get("bytes") or b""
        self.closed = True
        self.close_code = message.get("code", 1006)
        return None

    async def send(self, data: str | bytes) -> None:
        if self.closed:
            return
        await self._send({"type": "websocket.send", "text" if isinstance(data, str) else "bytes": data})

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if not self.closed:
            self.closed = True
            self.close_code = code
            await self._send({"type": "websocket.close", "code": code, "reason": reason})


def _raw_headers(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), str(value).encode("latin-1")) for name, value in headers]
