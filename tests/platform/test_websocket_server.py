"""The server's WebSocket upgrade facility (RFC 6455), byte for byte on a socket, with a route of a provider
made for the test: the handshake, text and binary frames, fragmentation, ping/pong, the close handshake,
denials, and upgrades no route takes."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct

import pytest

from overcast.http import HttpRequest, HttpResponse, WebSocket
from overcast.services.base import HttpRoute, ServiceProvider
from overcast.testing import OvercastServer

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class EchoSockets(ServiceProvider):
    """Echoes each message back upper-cased; `/deny` answers 401 instead of upgrading; `/bye` is closed by
    the server after its first message."""

    service_name = "wsecho"
    routes = (HttpRoute("serve", "Echo", path="/_ws/", websocket=True),)

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.closed_with: list[int | None] = []

    async def serve(self, request: HttpRequest, socket: WebSocket) -> None:
        if request.path == "/_ws/deny":
            await socket.deny(HttpResponse(401, [("content-type", "application/json")], b'{"message":"no"}'))
            return
        await socket.accept(headers=[("x-echo", request.query or "-")])
        while (message := await socket.receive()) is not None:
            await socket.send(message.upper() if isinstance(message, str) else message[::-1])
            if request.path == "/_ws/bye":
                await socket.close(4000, "done")
                break
        self.closed_with.append(socket.close_code)


@pytest.fixture(scope="module")
def server():
    with OvercastServer() as running:
        running.sockets = EchoSockets(running.platform)
        running.platform.install_provider(running.sockets)
        yield running


def handshake(server, path: str, key: bytes | None = None) -> tuple[socket.socket, bytes, bytes]:
    """Open a socket and send the upgrade request; (socket, response head, bytes after it)."""
    key = key or base64.b64encode(os.urandom(16))
    sock = socket.create_connection(("127.0.0.1", server.config.port), timeout=10)
    sock.sendall(
        b"GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path.encode(), key)
    )
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(4096)
        assert data, "closed during the handshake"
        buffer += data
    head, _, rest = buffer.partition(b"\r\n\r\n")
    return sock, head, rest


def frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """A client frame (masked, as RFC 6455 requires of clients)."""
    mask = os.urandom(4)
    first = (0x80 if fin else 0) | opcode
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", first, 0x80 | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, length)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_frame(sock: socket.socket, buffer: bytearray) -> tuple[int, bytes]:
    """(opcode, payload) of the next server frame (servers never mask)."""

    def need(count: int) -> None:
        while len(buffer) < count:
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            buffer.extend(data)

    need(2)
    opcode, length = buffer[0] & 0x0F, buffer[1] & 0x7F
    offset = 2
    if length == 126:
        need(4)
        length, offset = struct.unpack("!H", buffer[2:4])[0], 4
    elif length == 127:
        need(10)
        length, offset = struct.unpack("!Q", buffer[2:10])[0], 10
    need(offset + length)
    payload = bytes(buffer[offset : offset + length])
    del buffer[: offset + length]
    return opcode, payload


def test_handshake_answers_101_with_the_accept_token_and_the_routes_headers(server):
    key = base64.b64encode(os.urandom(16))
    sock, head, _ = handshake(server, "/_ws/echo?room=1", key)
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 101 Switching Protocols"
    headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in lines[1:]}
    assert headers["upgrade"].lower() == "websocket"
    assert headers["sec-websocket-accept"] == base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
    assert headers["x-echo"] == "room=1"
    sock.close()


def test_text_binary_fragmented_and_large_messages_and_ping(server):
    sock, _, rest = handshake(server, "/_ws/echo")
    buffer = bytearray(rest)
    sock.sendall(frame(0x1, b"hello"))
    assert read_frame(sock, buffer) == (0x1, b"HELLO")
    sock.sendall(frame(0x2, b"\x01\x02\x03"))
    assert read_frame(sock, buffer) == (0x2, b"\x03\x02\x01")
    sock.sendall(frame(0x1, b"frag", fin=False) + frame(0x0, b"mented"))
    assert read_frame(sock, buffer) == (0x1, b"FRAGMENTED")
    big = b"x" * 70000
    sock.sendall(frame(0x1, big))
    assert read_frame(sock, buffer) == (0x1, big.upper())
    sock.sendall(frame(0x9, b"are you there"))
    assert read_frame(sock, buffer) == (0xA, b"are you there")
    # the close handshake: the server answers our close frame with its own and ends the connection
    sock.sendall(frame(0x8, struct.pack("!H", 1000) + b"bye"))
    opcode, payload = read_frame(sock, buffer)
    assert opcode == 0x8 and struct.unpack("!H", payload[:2])[0] == 1000
    assert sock.recv(10) == b""
    sock.close()


def test_the_server_closing_sends_its_code_and_the_handler_sees_the_end(server):
    sock, _, rest = handshake(server, "/_ws/bye")
    buffer = bytearray(rest)
    sock.sendall(frame(0x1, b"last"))
    assert read_frame(sock, buffer) == (0x1, b"LAST")
    opcode, payload = read_frame(sock, buffer)
    assert opcode == 0x8 and struct.unpack("!H", payload[:2])[0] == 4000 and payload[2:] == b"done"
    sock.sendall(frame(0x8, payload[:2]))
    assert sock.recv(10) == b""
    sock.close()
    assert server.sockets.closed_with[-1] == 4000


def test_a_dropped_connection_ends_the_handlers_receive(server):
    sock, _, rest = handshake(server, "/_ws/echo")
    buffer = bytearray(rest)
    sock.sendall(frame(0x1, b"x"))
    read_frame(sock, buffer)
    before = len(server.sockets.closed_with)
    sock.close()
    import time

    deadline = time.monotonic() + 5
    while len(server.sockets.closed_with) == before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.sockets.closed_with[-1] == 1006


def test_a_denied_upgrade_is_an_http_response(server):
    sock, head, rest = handshake(server, "/_ws/deny")
    assert head.startswith(b"HTTP/1.1 401 ")
    assert rest == b'{"message":"no"}'
    sock.close()


def test_an_upgrade_no_route_takes_is_404_and_plain_requests_still_work(server):
    sock, head, _ = handshake(server, "/nowhere/at/all")
    assert head.startswith(b"HTTP/1.1 404 ")
    sock.close()
    import urllib.request

    with urllib.request.urlopen(f"{server.endpoint}/_overcast/health", timeout=10) as response:
        assert response.status == 200


def test_unmasked_client_frames_are_a_protocol_error(server):
    sock, _, rest = handshake(server, "/_ws/echo")
    buffer = bytearray(rest)
    sock.sendall(struct.pack("!BB", 0x81, 2) + b"hi")  # clients must mask
    opcode, payload = read_frame(sock, buffer)
    assert opcode == 0x8 and struct.unpack("!H", payload[:2])[0] == 1002
    sock.close()
