"""aws-chunked request bodies (S3 streaming uploads), decoded incrementally.

The wire form is a sequence of chunks, each `<hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n`, ended by
a zero-size chunk, optionally followed by trailer lines (`x-amz-checksum-crc32:<b64>`,
`x-amz-trailer-signature:<sig>`) and a blank line. Which variant a request uses is named by its
x-amz-content-sha256 header:

- STREAMING-AWS4-HMAC-SHA256-PAYLOAD: every chunk signed, chained from the Authorization header's signature
  (string to sign 'AWS4-HMAC-SHA256-PAYLOAD', date, scope, previous signature, hash of '', hash of the data);
- STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: the same, plus trailers signed after the final chunk
  ('AWS4-HMAC-SHA256-TRAILER', date, scope, final chunk signature, hash of the 'name:value\\n' lines);
- STREAMING-UNSIGNED-PAYLOAD-TRAILER: unsigned chunks and trailers (what boto3 sends for S3 uploads with a
  flexible checksum; botocore's AwsChunkedWrapper writes it).

The decoder never holds more than one read of the underlying stream plus one chunk header: data is handed on
as it arrives and each chunk's signature is checked when the chunk ends, before the next chunk (and before
end of stream), so a consumer that commits only after reading to the end never commits a tampered body.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator

from overcast.auth.sigv4 import (
    EMPTY_SHA256,
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    SigV4,
    derive_signing_key,
    signature_mismatch,
)
from overcast.errors import ServiceError
from overcast.http import BodyStream

_READ_SIZE = 64 * 1024
_MAX_LINE = 4096  # a chunk header or one trailer line
_MAX_TRAILERS = 16 * 1024  # all trailer lines together
_HEX = frozenset(b"0123456789abcdefABCDEF")

_HEADER, _DATA, _DATA_END, _DONE = range(4)


def _incomplete_body() -> ServiceError:
    return ServiceError(
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        400,
    )


def _malformed(detail: str) -> ServiceError:
    return ServiceError("InvalidRequest", f"Malformed aws-chunked body: {detail}", 400)


class _BytesStream:
    """A BodyStream over bytes already in memory."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0
        self.content_length: int | None = len(data)

    async def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = len(self._data) - self._pos
        piece = self._data[self._pos : self._pos + size]
        self._pos += len(piece)
        return piece

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            piece = await self.read(_READ_SIZE)
            if not piece:
                return
            yield piece


class AwsChunkedStream:
    """The decoded payload of an aws-chunked body; `.trailers` is filled in once the end is reached."""

    def __init__(
        self,
        inner: BodyStream,
        *,
        decoded_length: int | None,
        sig: SigV4 | None = None,
        signing_key: bytes | None = None,
        signed_trailer: bool = False,
    ) -> None:
        self._inner = inner
        self.content_length = decoded_length
        self.trailers: dict[str, str] = {}
        self._sig = sig
        self._key = signing_key  # None: signatures are not checked
        self._signed_trailer = signed_trailer
        if signing_key is not None and sig is not None:
            self._sts_prefix = f"\n{sig.amz_date}\n{sig.scope}\n"
            self._previous = sig.signature
        self._buf = b""
        self._pos = 0
        self._eof = False
        self._state = _HEADER
        self._remaining = 0
        self._chunk_signature: str | None = None
        self._hasher = None
        self._decoded = 0

    # ---- the BodyStream interface

    async def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            parts = []
            while True:
                piece = await self._next(_READ_SIZE)
                if not piece:
                    return b"".join(parts)
                parts.append(piece)
        if size == 0:
            return b""
        piece = await self._next(size)
        if len(piece) >= size or not piece:
            return piece
        parts = [piece]
        have = len(piece)
        while have < size:
            piece = await self._next(size - have)
            if not piece:
                break
            parts.append(piece)
            have += len(piece)
        return b"".join(parts)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            piece = await self._next(_READ_SIZE)
            if not piece:
                return
            yield piece

    # ---- raw input

    async def _fill(self) -> bool:
        if self._eof:
            return False
        data = await self._inner.read(_READ_SIZE)
        if not data:
            self._eof = True
            return False
        if self._pos >= len(self._buf):
            self._buf = bytes(data)
        else:
            self._buf = self._buf[self._pos :] + data
        self._pos = 0
        return True

    async def _line(self) -> bytes | None:
        """The next line without its line end, or None at end of input with nothing pending."""
        while True:
            end = self._buf.find(b"\n", self._pos)
            if end >= 0:
                line = self._buf[self._pos : end]
                self._pos = end + 1
                if line.endswith(b"\r"):
                    line = line[:-1]
                if len(line) > _MAX_LINE:
                    raise _malformed("line too long")
                return line
            if len(self._buf) - self._pos > _MAX_LINE:
                raise _malformed("line too long")
            if not await self._fill():
                if self._pos < len(self._buf):
                    line = self._buf[self._pos :]
                    self._pos = len(self._buf)
                    return line.rstrip(b"\r")
                return None

    # ---- decoding

    async def _next(self, limit: int) -> bytes:
        while True:
            state = self._state
            if state == _DATA:
                if self._remaining == 0:
                    self._state = _DATA_END
                    continue
                available = len(self._buf) - self._pos
                if available == 0:
                    if not await self._fill():
                        raise _incomplete_body()
                    available = len(self._buf)
                n = min(limit, self._remaining, available)
                pos = self._pos
                piece = self._buf if (pos == 0 and n == len(self._buf)) else self._buf[pos : pos + n]
                self._pos = pos + n
                self._remaining -= n
                if self._hasher is not None:
                    self._hasher.update(piece)
                self._decoded += n
                if self.content_length is not None and self._decoded > self.content_length:
                    raise _malformed("more data than x-amz-decoded-content-length")
                return piece
            if state == _HEADER:
                await self._chunk_header()
                if self._state == _DONE:
                    return b""
                continue
            if state == _DATA_END:
                while len(self._buf) - self._pos < 2:
                    if not await self._fill():
                        raise _incomplete_body()
                if self._buf[self._pos : self._pos + 2] != b"\r\n":
                    raise _malformed("chunk data not followed by CRLF")
                self._pos += 2
                if self._key is not None:
                    self._verify_chunk(self._hasher.hexdigest() if self._hasher else EMPTY_SHA256)
                self._state = _HEADER
                continue
            return b""  # _DONE

    async def _chunk_header(self) -> None:
        line = await self._line()
        if line is None:
            raise _incomplete_body()
        size_text, _, extensions = line.partition(b";")
        size_text = size_text.strip()
        if not size_text or len(size_text) > 16 or not _HEX.issuperset(size_text):
            raise _malformed("invalid chunk size")
        size = int(size_text, 16)
        signature = None
        if extensions:
            for extension in extensions.split(b";"):
                name, _, value = extension.partition(b"=")
                if name.strip() == b"chunk-signature":
                    signature = value.strip().decode("latin-1")
        self._chunk_signature = signature
        if size == 0:
            if self._key is not None:
                self._verify_chunk(EMPTY_SHA256)
            await self._read_trailers()
            if self.content_length is not None and self._decoded != self.content_length:
                raise _incomplete_body()
            self._state = _DONE
            return
        self._remaining = size
        self._hasher = hashlib.sha256() if self._key is not None else None
        self._state = _DATA

    def _verify_chunk(self, data_hash: str) -> None:
        provided = self._chunk_signature
        if provided is None:
            raise signature_mismatch(self._sig)
        string_to_sign = (
            f"AWS4-HMAC-SHA256-PAYLOAD{self._sts_prefix}{self._previous}\n{EMPTY_SHA256}\n{data_hash}"
        )
        expected = hmac.new(self._key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, provided.lower()):
            raise signature_mismatch(self._sig)
        self._previous = expected

    async def _read_trailers(self) -> None:
        trailers: dict[str, str] = {}
        canonical: list[str] = []
        trailer_signature = None
        total = 0
        while True:
            line = await self._line()
            if not line:  # blank line (or end of input) ends the trailers
                break
            total += len(line)
            if total > _MAX_TRAILERS:
                raise _malformed("trailers too long")
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise _malformed("invalid trailer line")
            name = name.strip().lower()
            value = value.strip()
            if name == "x-amz-trailer-signature":
                trailer_signature = value
                continue
            trailers[name] = value
            canonical.append(f"{name}:{value}\n")
        if self._key is not None and self._signed_trailer:
            if trailer_signature is None:
                if trailers:
                    raise signature_mismatch(self._sig)
            else:
                digest = hashlib.sha256("".join(canonical).encode()).hexdigest()
                string_to_sign = f"AWS4-HMAC-SHA256-TRAILER{self._sts_prefix}{self._previous}\n{digest}"
                expected = hmac.new(self._key, string_to_sign.encode(), hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, trailer_signature.lower()):
                    raise signature_mismatch(self._sig)
        self.trailers = trailers


def decode_aws_chunked(
    stream: BodyStream | bytes,
    sig: SigV4 | None,
    secret_key: str | None,
    decoded_length: int | None,
) -> AwsChunkedStream:
    """The decoded payload of an aws-chunked body, as a BodyStream with `.trailers` after EOF.

    Chunk (and trailer) signatures are checked when `secret_key` is given and `sig` names a signed streaming
    mode; `sig` must already have been verified with `verify_sigv4` (its signature seeds the chain).
    `decoded_length` is x-amz-decoded-content-length; a body that decodes to another length is refused.
    """
    if isinstance(stream, (bytes, bytearray, memoryview)):
        stream = _BytesStream(bytes(stream))
    mode = sig.content_sha256 if sig is not None else None
    signing_key = None
    if secret_key is not None and sig is not None and mode in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER):
        signing_key = derive_signing_key(secret_key, sig.date_stamp, sig.region, sig.service)
    return AwsChunkedStream(
        stream,
        decoded_length=decoded_length,
        sig=sig,
        signing_key=signing_key,
        signed_trailer=mode == STREAMING_SIGNED_TRAILER,
    )


class Sha256CheckingStream:
    """Passes a streamed body through, raising S3's XAmzContentSHA256Mismatch at EOF if its SHA-256 differs
    from the hex x-amz-content-sha256 the request declared (verify_sigv4 checks buffered bodies itself)."""

    def __init__(self, inner: BodyStream, expected_hex: str) -> None:
        self._inner = inner
        self._expected = expected_hex.lower()
        self._hasher = hashlib.sha256()
        self._checked = False
        self.content_length = getattr(inner, "content_length", None)

    async def read(self, size: int = -1) -> bytes:
        data = await self._inner.read(size)
        if data:
            self._hasher.update(data)
        elif not self._checked:
            self._checked = True
            actual = self._hasher.hexdigest()
            if not hmac.compare_digest(actual, self._expected):
                raise ServiceError(
                    "XAmzContentSHA256Mismatch",
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                    400,
                    ClientComputedContentSHA256=self._expected,
                    S3ComputedContentSHA256=actual,
                )
        return data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            piece = await self.read(_READ_SIZE)
            if not piece:
                return
            yield piece


__all__ = ["AwsChunkedStream", "Sha256CheckingStream", "decode_aws_chunked"]
