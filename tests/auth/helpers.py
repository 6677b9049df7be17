"""Turning botocore-signed requests into the server's HttpRequest values, and capturing real client calls."""

from __future__ import annotations

import asyncio
import random
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSRequest, AWSResponse

from overcast.http import Headers, HttpRequest

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _text(value) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _body_bytes(body) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    if hasattr(body, "seek"):
        body.seek(0)
    return body.read()


def to_http(request: AWSRequest | AWSPreparedRequest) -> HttpRequest:
    """The HttpRequest the server would build from what this request puts on the wire."""
    prepared = request.prepare() if isinstance(request, AWSRequest) else request
    parts = urlsplit(prepared.url)
    headers = Headers()
    for name, value in prepared.headers.items():
        headers.add(name, _text(value))
    if "host" not in headers:
        headers["host"] = parts.netloc
    return HttpRequest(
        method=prepared.method,
        path=parts.path or "/",
        query=parts.query,
        headers=headers,
        body=_body_bytes(prepared.body),
        host=parts.hostname or "localhost",
        scheme=parts.scheme,
    )


def url_request(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> HttpRequest:
    """A request for a (presigned) URL as a browser or curl would send it."""
    parts = urlsplit(url)
    h = Headers(headers or {})
    h["host"] = parts.netloc
    return HttpRequest(
        method=method, path=parts.path or "/", query=parts.query, headers=h, host=parts.hostname
    )


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs):
        yield self._body


def capturing_client(
    service: str,
    *,
    https: bool = False,
    token: str | None = None,
    region: str = "us-east-1",
    response_body: bytes = b"{}",
    **config,
):
    """A real boto3 client whose requests are captured (and answered with an empty 200) instead of sent."""
    session = boto3.Session(
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=token,
        region_name=region,
    )
    endpoint = ("https" if https else "http") + "://localhost:4566"
    kwargs = {}
    if config:
        from botocore.config import Config

        kwargs["config"] = Config(**config)
    client = session.client(service, endpoint_url=endpoint, **kwargs)
    captured: list[AWSPreparedRequest] = []

    def before_send(request, **_kwargs):
        captured.append(request)
        return AWSResponse(request.url, 200, {}, _Raw(response_body))

    client.meta.events.register("before-send", before_send)
    return client, captured


class PieceStream:
    """A BodyStream delivering `data` in small random pieces, as a network would."""

    def __init__(self, data: bytes, *, max_piece: int = 97, seed: int = 7) -> None:
        self._data = data
        self._pos = 0
        self._random = random.Random(seed)
        self._max = max_piece
        self.content_length = len(data)

    async def read(self, size: int = -1) -> bytes:
        await asyncio.sleep(0)
        if self._pos >= len(self._data):
            return b""
        n = self._random.randint(1, self._max)
        if size is not None and size >= 0:
            n = min(n, size)
        piece = self._data[self._pos : self._pos + n]
        self._pos += len(piece)
        return piece

    async def __aiter__(self):
        while True:
            piece = await self.read(65536)
            if not piece:
                return
            yield piece
