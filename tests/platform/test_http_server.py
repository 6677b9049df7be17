"""The HTTP/1.1 server itself, byte for byte on a socket: what clients other than boto3 may send."""

import json
import socket
import urllib.parse

import pytest


def _connect(overcast) -> socket.socket:
    host, port = urllib.parse.urlsplit(overcast.endpoint).netloc.split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _read_response(sock: socket.socket, buffer: bytearray) -> tuple[int, dict[str, str], bytes]:
    """One response from `sock` (Content-Length or chunked framing); leftovers stay in `buffer`."""
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed before a response")
        buffer += data
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    del buffer[: len(head) + 4]
    status_line, *lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = bytearray()
        while True:
            while b"\r\n" not in buffer:
                buffer += sock.recv(65536)
            size_line, _, _ = bytes(buffer).partition(b"\r\n")
            size = int(size_line, 16)
            while len(buffer) < len(size_line) + 2 + size + 2:
                buffer += sock.recv(65536)
            body += buffer[len(size_line) + 2 : len(size_line) + 2 + size]
            del buffer[: len(size_line) + 2 + size + 2]
            if size == 0:
                return status, headers, bytes(body)
    length = int(headers.get("content-length", "0"))
    if status in (204, 304):
        length = 0
    while len(buffer) < length:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed inside a body")
        buffer += data
    body = bytes(buffer[:length])
    del buffer[:length]
    return status, headers, body


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


HEALTH = b"GET /_overcast/health HTTP/1.1\r\nHost: localhost\r\n\r\n"


def test_keep_alive_serves_many_requests_on_one_connection(overcast):
    with _connect(overcast) as sock:
        buffer = bytearray()
        for _ in range(3):
            sock.sendall(HEALTH)
            status, headers, body = _read_response(sock, buffer)
            assert status == 200 and json.loads(body)["status"] == "running"
            assert "date" in headers and headers.get("connection") != "close"


def test_pipelined_requests_are_answered_in_order(overcast):
    advance = json.dumps({"advance": "1s"}).encode()
    clock = (
        b"POST /_overcast/clock HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(advance), advance)
    )
    with _connect(overcast) as sock:
        sock.sendall(HEALTH + clock + HEALTH)  # three requests in one write
        buffer = bytearray()
        first, second, third = (_read_response(sock, buffer) for _ in range(3))
    assert json.loads(first[2])["status"] == "running"
    assert "offset_seconds" in json.loads(second[2])
    assert json.loads(third[2])["status"] == "running"


def test_chunked_request_body_is_decoded(overcast):
    body = json.dumps({"advance": "2s"}).encode()
    request = (
        b"POST /_overcast/clock HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n%s\r\n" % (5, body[:5])
        + b"%x\r\n%s\r\n" % (len(body) - 5, body[5:])
        + b"0\r\n\r\n"
    )
    before = overcast.advance_clock("0s")
    with _connect(overcast) as sock:
        sock.sendall(request)
        status, _, answer = _read_response(sock, bytearray())
    assert status == 200, answer
    after = overcast.advance_clock("0s")
    assert after["offset_seconds"] - before["offset_seconds"] == pytest.approx(2, abs=0.01)


def test_expect_100_continue_waits_for_the_go_ahead(overcast):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="continue-bucket")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "continue-bucket", "Key": "k"})
    parts = urllib.parse.urlsplit(url)
    data = b"x" * 100_000
    with _connect(overcast) as sock:
        sock.sendall(
            b"PUT %s?%s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n"
            % (parts.path.encode(), parts.query.encode(), parts.netloc.encode(), len(data))
        )
        interim = sock.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        buffer = bytearray(interim[len(b"HTTP/1.1 100 Continue\r\n\r\n") :])
        sock.sendall(data)
        status, headers, _ = _read_response(sock, buffer)
    assert status == 200 and headers["etag"]
    assert s3.get_object(Bucket="continue-bucket", Key="k")["Body"].read() == data


def test_a_refused_upload_closes_the_connection_without_reading_the_body(overcast):
    with _connect(overcast) as sock:
        sock.sendall(
            b"PUT /no-such-bucket-here/k HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        buffer = bytearray()
        status, headers, _ = _read_response(sock, buffer)
        assert status >= 400 and headers["connection"] == "close"
        assert _closed(sock)


def test_head_response_has_a_length_and_no_body(overcast):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="head-bucket")
    s3.put_object(Bucket="head-bucket", Key="k", Body=b"12345")
    url = s3.generate_presigned_url("head_object", Params={"Bucket": "head-bucket", "Key": "k"})
    parts = urllib.parse.urlsplit(url)
    head = b"HEAD %s?%s HTTP/1.1\r\nHost: %s\r\n\r\n" % (
        parts.path.encode(),
        parts.query.encode(),
        parts.netloc.encode(),
    )
    with _connect(overcast) as sock:
        sock.sendall(head + HEALTH)
        buffer = bytearray()
        while b"\r\n\r\n" not in buffer:
            buffer += sock.recv(65536)
        first_head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
        assert b"200 OK" in first_head.split(b"\r\n")[0] and b"content-length: 5" in first_head.lower()
        buffer = bytearray(rest)  # the next response follows at once: no body bytes in between
        status, _, body = _read_response(sock, buffer)
    assert status == 200 and json.loads(body)["status"] == "running"


def test_connection_close_is_honoured(overcast):
    with _connect(overcast) as sock:
        sock.sendall(b"GET /_overcast/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        status, headers, _ = _read_response(sock, bytearray())
        assert status == 200 and headers["connection"] == "close"
        assert _closed(sock)


def test_malformed_request_is_a_400_and_the_server_goes_on(overcast):
    with _connect(overcast) as sock:
        sock.sendall(b"GET /\x00bad HTTP/1.1\r\nHost localhost\r\n\r\n")
        status, headers, _ = _read_response(sock, bytearray())
        assert status == 400 and headers["connection"] == "close"
    assert overcast.health()["status"] == "running"


def test_client_gone_in_the_middle_of_a_body_leaves_the_server_serving(overcast):
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="half-bucket")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "half-bucket", "Key": "k"})
    parts = urllib.parse.urlsplit(url)
    with _connect(overcast) as sock:
        sock.sendall(
            b"PUT %s?%s HTTP/1.1\r\nHost: %s\r\nContent-Length: 5000000\r\n\r\n"
            % (parts.path.encode(), parts.query.encode(), parts.netloc.encode())
        )
        sock.sendall(b"y" * 2_000_000)
    assert overcast.health()["status"] == "running"
    assert s3.list_objects_v2(Bucket="half-bucket").get("KeyCount") == 0  # nothing half-written is listed


def test_headers_that_never_finish_arriving_close_the_connection(overcast, monkeypatch):
    from overcast.server import http11

    monkeypatch.setattr(http11, "HEAD_SECONDS", 0.3)
    with _connect(overcast) as sock:
        sock.sendall(b"GET /_overcast/health HTTP/1.1\r\nHost: local")  # and then nothing more
        sock.settimeout(10)
        assert _closed(sock)
    assert overcast.health()["status"] == "running"


def _presigned_put(overcast, bucket: str) -> urllib.parse.SplitResult:
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket=bucket)
    return urllib.parse.urlsplit(
        s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k"})
    )


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_that_stops_arriving_is_a_request_timeout(overcast, monkeypatch, framing):
    from overcast.server import http11

    monkeypatch.setattr(http11, "BODY_SECONDS", 0.5)
    parts = _presigned_put(overcast, f"stalled-{framing}")
    head = b"PUT %s?%s HTTP/1.1\r\nHost: %s\r\n" % (
        parts.path.encode(),
        parts.query.encode(),
        parts.netloc.encode(),
    )
    with _connect(overcast) as sock:
        if framing == "chunked":
            sock.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")  # no terminating chunk
        else:
            sock.sendall(head + b"Content-Length: 100\r\n\r\nonly-part")  # 9 of the 100 bytes declared
        status, headers, body = _read_response(sock, bytearray())
        assert status == 400 and b"<Code>RequestTimeout</Code>" in body
        assert _closed(sock)
    assert "Contents" not in overcast.client("s3").list_objects_v2(Bucket=f"stalled-{framing}")


def test_a_stalled_body_of_a_json_api_times_out_too(overcast, monkeypatch):
    from overcast.server import http11

    monkeypatch.setattr(http11, "BODY_SECONDS", 0.5)
    with _connect(overcast) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: AmazonSQS.ListQueues\r\n"
            b"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 50\r\n\r\n{"
        )
        status, _, body = _read_response(sock, bytearray())
        assert status == 400 and b"RequestTimeout" in body


def test_malformed_chunked_framing_is_a_400(overcast):
    parts = _presigned_put(overcast, "bad-chunks")
    with _connect(overcast) as sock:
        sock.sendall(
            b"PUT %s?%s HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
            % (parts.path.encode(), parts.query.encode(), parts.netloc.encode())
        )
        status, headers, _ = _read_response(sock, bytearray())
        assert status == 400 and headers["connection"] == "close"
    assert overcast.health()["status"] == "running"


def test_a_transfer_coding_other_than_chunked_is_not_implemented(overcast):
    with _connect(overcast) as sock:
        sock.sendall(
            b"POST /_overcast/clock HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
            b"2\r\n{}\r\n0\r\n\r\n"
        )
        status, _, body = _read_response(sock, bytearray())
        assert status == 501 and b"gzip" in body


def test_a_header_value_with_a_line_break_is_never_written(tmp_path):
    """Defence in depth: an application header carrying CR or LF (a would-be injected header) makes the answer a
    500, never a response with the smuggled line in it."""
    import threading

    from overcast.server.http11 import Server

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": message["type"] + ".complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        headers = [(b"content-type", b"text/plain"), (b"x-note", b"a\r\nx-injected: 1")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"hello"})

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    server = Server(app, spin_seconds=0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            status, headers, body = _read_response(sock, bytearray())
        assert status == 500
        assert "x-injected" not in headers and "x-note" not in headers
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        listener.close()
