"""WebSocket connections (RFC 6455) upgraded from an HTTP/1.1 request, served to the ASGI application as a
`websocket` scope (ASGI's WebSocket protocol, with its `websocket.http.response` denial extension).

The HTTP parser (http11.py) sees the upgrade request's headers, hands them here, and from then on feeds every
byte the client sends to this exchange. Framing (masking, fragmentation, ping/pong, the close handshake) is
wsproto's, the field's library for it; this module only moves its events to and from the application.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any

from wsproto.connection import Connection as FrameConnection
from wsproto.connection import ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Message, Ping, TextMessage
from wsproto.utilities import RemoteProtocolError, generate_accept_token

if TYPE_CHECKING:
    from overcast.server.http11 import Connection

MAX_MESSAGE = 1 << 20  # a message larger than this closes the connection with 1009 (message too big)
CLOSE_WAIT_SECONDS = 2.0  # after our close frame, how long the client has to answer with its own
_GOING_AWAY = 1001
_ABNORMAL = 1006


def is_upgrade(method: str, headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether a request asks to become a WebSocket (RFC 6455 section 4.2.1)."""
    if method != "GET":
        return False
    upgrade = next((value for name, value in headers if name == b"upgrade"), b"")
    key = next((value for name, value in headers if name == b"sec-websocket-key"), None)
    return b"websocket" in upgrade.lower() and key is not None


class WebSocketExchange:
    """One upgraded connection: the ASGI `receive` and `send` of its websocket scope."""

    def __init__(self, conn: Connection, scope: dict[str, Any]) -> None:
        self.conn = conn
        self.scope = scope
        self.key = next(value for name, value in scope["headers"] if name == b"sec-websocket-key")
        self.frames = FrameConnection(ConnectionType.SERVER)
        self.inbox: deque[dict[str, Any]] = deque([{"type": "websocket.connect"}])
        self.waiter: asyncio.Future | None = None
        self.accepted = False
        self.denying = False  # an HTTP response is being sent instead of the upgrade
        self.finished = False  # closed: nothing more is sent
        self.task: asyncio.Task | None = None
        self._parts: list[str | bytes] = []
        self._size = 0

    # -- from the connection ---------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.denying or (self.finished and self.frames.state is not ConnectionState.LOCAL_CLOSING):
            return
        try:
            self.frames.receive_data(data)
            for event in self.frames.events():
                self._on_event(event)
        except RemoteProtocolError as error:  # a frame RFC 6455 forbids: close as the RFC says
            self._close_now(error.event_hint.code if error.event_hint else 1002)

    def _on_event(self, event: Any) -> None:
        if isinstance(event, Message):
            if self.finished:
                return
            self._parts.append(event.data)
            self._size += len(event.data)
            if self._size > MAX_MESSAGE:
                self._close_now(1009)
                return
            if event.message_finished:
                text = isinstance(event, TextMessage)
                joined = "".join(self._parts) if text else b"".join(self._parts)  # type: ignore[arg-type]
                self._parts, self._size = [], 0
                self._push({"type": "websocket.receive", "text" if text else "bytes": joined})
        elif isinstance(event, Ping):
            self._write(self.frames.send(event.response()))
        elif isinstance(event, CloseConnection):
            if self.frames.state is ConnectionState.REMOTE_CLOSING:
                self._write(self.frames.send(event.response()))
            elif self.frames.state is ConnectionState.OPEN:  # wsproto's verdict on a malformed frame
                self._write(self.frames.send(CloseConnection(code=event.code, reason=event.reason)))
            if not self.finished:
                self._push({"type": "websocket.disconnect", "code": event.code, "reason": event.reason or ""})
            self.finished = True
            self.conn.transport.close()

    def _wake(self) -> None:
        """(The connection wakes its HTTP exchanges when it is lost; a WebSocket learns it below.)"""

    def connection_lost(self) -> None:
        if not self.finished:
            self.finished = True
            self._push({"type": "websocket.disconnect", "code": _ABNORMAL, "reason": ""})

    def going_away(self) -> None:
        """The server is stopping: say so to the client (1001) and to the application."""
        self._close_now(_GOING_AWAY)

    # -- ASGI --------------------------------------------------------------------------------------------

    async def receive(self) -> dict[str, Any]:
        while not self.inbox:
            self.waiter = self.conn.loop.create_future()
            await self.waiter
        return self.inbox.popleft()

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if self.finished and kind != "websocket.http.response.body":
            return
        if kind == "websocket.accept":
            self._accept(message)
        elif kind == "websocket.send":
            if not self.accepted:
                raise RuntimeError("websocket.send before websocket.accept")
            text = message.get("text")
            event = (
                TextMessage(data=text) if text is not None else BytesMessage(data=message.get("bytes") or b"")
            )
            self._write(self.frames.send(event))
            if self.conn.write_paused:
                await self.conn.drained()
        elif kind == "websocket.close":
            if self.accepted:
                self._close_now(message.get("code", 1000), message.get("reason") or "")
            else:  # refused before the upgrade: an HTTP 403, as ASGI servers answer
                self._deny(403, [(b"content-type", b"text/plain")], b"Forbidden")
        elif kind == "websocket.http.response.start":
            self.denying = True
            self._status, self._headers = message["status"], list(message.get("headers") or [])
        elif kind == "websocket.http.response.body":
            if self.denying and not message.get("more_body"):
                self._deny(self._status, self._headers, message.get("body", b""))
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r}")

    def _accept(self, message: dict[str, Any]) -> None:
        lines = [
            b"HTTP/1.1 101 Switching Protocols\r\n",
            b"upgrade: websocket\r\nconnection: Upgrade\r\n",
            b"sec-websocket-accept: " + generate_accept_token(self.key) + b"\r\n",
        ]
        if message.get("subprotocol"):
            lines.append(b"sec-websocket-protocol: " + message["subprotocol"].encode() + b"\r\n")
        for name, value in message.get("headers") or ():
            lines.append(bytes(name) + b": " + bytes(value) + b"\r\n")
        lines.append(b"\r\n")
        self.conn.transport.write(b"".join(lines))
        self.accepted = True

    def _deny(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        from overcast.server.http11 import _REASONS

        lines = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b""))]
        lines += [bytes(name) + b": " + bytes(value) + b"\r\n" for name, value in headers]
        lines.append(b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body))
        self.conn.transport.write(b"".join(lines) + body)
        self.finished = True
        self.conn.transport.close()

    # -- helpers -----------------------------------------------------------------------------------------

    def _push(self, message: dict[str, Any]) -> None:
        self.inbox.append(message)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            self.waiter = None
            waiter.set_result(None)

    def _write(self, data: bytes) -> None:
        if data and not self.conn.closed:
            self.conn.transport.write(data)

    def _close_now(self, code: int, reason: str = "") -> None:
        """Send a close frame (when the connection is still open) and end the connection."""
        if self.finished:
            return
        self.finished = True
        self._push({"type": "websocket.disconnect", "code": code, "reason": reason})
        if self.accepted and self.frames.state is ConnectionState.OPEN and not self.conn.closed:
            # the client answers with its own close frame (then the TCP connection ends); a client that
            # never does is cut off after a moment
            self._write(self.frames.send(CloseConnection(code=code, reason=reason)))
            self.conn.loop.call_later(CLOSE_WAIT_SECONDS, self.conn.transport.close)
        else:
            self.conn.transport.close()
