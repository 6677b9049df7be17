"""Request bodies read from ASGI `receive`, whole or a piece at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from overcast.errors import ServiceError

Receive = Callable[[], Awaitable[dict[str, Any]]]


def request_timeout() -> ServiceError:
    """A body that stopped arriving (the HTTP server gave up waiting for it), in AWS's words."""
    return ServiceError(
        "RequestTimeout",
        "Your socket connection to the server was not read from or written to within the timeout period. "
        "Idle connections will be closed.",
        400,
    )


def _incomplete(message: dict[str, Any]) -> Exception:
    if message.get("timeout"):
        return request_timeout()
    return ConnectionError("client disconnected before the body was complete")


async def read_body(receive: Receive) -> bytes:
    message = await receive()
    if message["type"] == "http.disconnect":
        raise _incomplete(message)
    body = message.get("body", b"")
    if not message.get("more_body"):
        return body
    chunks = [body]
    while message.get("more_body"):
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _incomplete(message)
        chunks.append(message.get("body", b""))
    return b"".join(chunks)


class ReceiveStream:
    """A BodyStream over ASGI receive: S3 object bodies flow to disk without being held in memory."""

    def __init__(self, receive: Receive, content_length: int | None) -> None:
        self._receive = receive
        self._buffer = b""
        self._done = False
        self.content_length = content_length

    async def _next(self) -> bytes:
        if self._done:
            return b""
        message = await self._receive()
        if message["type"] == "http.disconnect":
            raise _incomplete(message)
        self._done = not message.get("more_body", False)
        return message.get("body", b"")

    async def read(self, size: int = -1) -> bytes:
        if size < 0:
            chunks = [self._buffer]
            self._buffer = b""
            while not self._done:
                chunks.append(await self._next())
            return b"".join(chunks)
        while len(self._buffer) < size and not self._done:
            self._buffer += await self._next()
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._buffer:
            data, self._buffer = self._buffer, b""
            yield data
        while not self._done:
            chunk = await self._next()
            if chunk:
                yield chunk


class BytesStream:
    """A BodyStream over bytes already in memory (small bodies that still need stream decoding)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0
        self.content_length = len(data)

    async def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._pos + size
        chunk = self._data[self._pos : end]
        self._pos += len(chunk)
        return chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunk = await self.read()
        if chunk:
            yield chunk
