"""Payload compression of REST APIs: `minimumCompressionSize` turns on gzip/deflate compression of responses
the client accepts so (an explicit `Accept-Encoding`; none means `*`, which API Gateway never compresses
for), and a non-proxy integration's request body sent with a `Content-Encoding` is decompressed before
validation and mapping templates (an unsupported coding, or a payload not in it: 415). Codings: gzip,
deflate (zlib), identity."""

from __future__ import annotations

import gzip
import zlib

from overcast.http import HttpResponse

CODINGS = ("gzip", "deflate")


class UnsupportedEncoding(Exception):
    """A request payload in a coding API Gateway does not support, or not in the coding it names."""


def decompress(body: bytes, coding: str | None) -> bytes:
    coding = (coding or "identity").strip().lower()
    try:
        if coding == "identity":
            return body
        if coding == "gzip":
            return gzip.decompress(body)
        if coding == "deflate":  # zlib-wrapped as HTTP says, or raw as some clients send it
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)
    except (OSError, EOFError, zlib.error):
        raise UnsupportedEncoding(coding) from None
    raise UnsupportedEncoding(coding)


def chosen_coding(accept_encoding: str | None) -> str | None:
    """The first supported coding the client lists with a non-zero weight (`gzip, deflate, br`)."""
    for item in (accept_encoding or "").split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        weight = params.strip()
        if weight.startswith("q="):
            try:
                if float(weight[2:]) <= 0:
                    continue
            except ValueError:
                continue
        if name in CODINGS:
            return name
    return None


def compress(response: HttpResponse, accept_encoding: str | None, minimum: int | None) -> HttpResponse:
    """The response compressed as the client accepts, when the API enables compression, the payload is at
    least `minimum` bytes and the integration did not encode it already."""
    if minimum is None or not isinstance(response.body, (bytes, bytearray)):
        return response
    coding = chosen_coding(accept_encoding)
    if coding is None or len(response.body) < minimum:
        return response
    if any(name.lower() == "content-encoding" for name, _ in response.headers):
        return response
    data = bytes(response.body)
    response.body = gzip.compress(data, mtime=0) if coding == "gzip" else zlib.compress(data)
    response.headers = [(n, v) for n, v in response.headers if n.lower() != "content-length"]
    response.headers.append(("content-encoding", coding))
    return response
