"""Object bodies: streaming a request body to a blob with its hashes, and reading a byte range back.

Small ranges are read at once (a GET of 1 KiB should not pay for an async iterator); larger ones stream a
chunk at a time from files opened before the request's transaction ends, so a concurrent overwrite that
unlinks the file cannot cut a download short.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from overcast.errors import ServiceError
from overcast.services.s3 import checksums
from overcast.services.s3.store import ObjectVersion
from overcast.state import BlobStore

CHUNK = 1 << 20
READ_AT_ONCE = 256 * 1024


@dataclass
class Received:
    """A request body on disk, with what S3 computes over it."""

    blob: Any  # PendingBlob
    md5_hex: str
    checksums: dict[str, str]  # algorithm -> base64 value
    trailers: dict[str, str]

    @property
    def size(self) -> int:
        return self.blob.size


async def receive(blobs: BlobStore, body: Any, algorithms: list[str]) -> Received:
    """Stream `body` (a BodyStream, bytes or None) to a new blob, hashing it on the way."""
    md5 = hashlib.md5()
    hashers = {algorithm: checksums.new_hasher(algorithm) for algorithm in algorithms}
    pending = await blobs.write(_chunks(body), [md5, *hashers.values()])
    values = {algorithm: checksums.encode(h.digest()) for algorithm, h in hashers.items()}
    trailers = getattr(body, "trailers", None) or {}
    return Received(pending, md5.hexdigest(), values, {k.lower(): v for k, v in trailers.items()})


async def _chunks(body: Any) -> AsyncIterator[bytes]:
    if body is None:
        return
    if isinstance(body, (bytes, bytearray, memoryview)):
        if body:
            yield bytes(body)
        return
    async for chunk in body:
        yield chunk


@contextmanager
def refusing_unread_body() -> Iterator[None]:
    """An error answered before the body was read closes the connection: the client may still send the body
    (after Expect: 100-continue it will not), and the server must not read it as the next request."""
    try:
        yield
    except ServiceError as error:
        error.headers.setdefault("Connection", "close")
        raise


def segments(version: ObjectVersion) -> list[tuple[str, int]]:
    """(blob_id, size) of each stored piece of the object, in order."""
    if version.parts:
        return [(part[0], part[1]) for part in version.part_list]
    return [(version.blob_id, version.size)] if version.blob_id else []


def read_range(blobs: BlobStore, version: ObjectVersion, start: int, end: int) -> bytes | AsyncIterator[bytes]:
    """Bytes [start, end) of the object: bytes when small, else an async iterator over open files."""
    pieces = []
    offset = 0
    for blob_id, size in segments(version):
        lo, hi = max(start, offset), min(end, offset + size)
        if lo < hi:
            pieces.append((blob_id, lo - offset, hi - lo))
        offset += size
    if end - start <= READ_AT_ONCE:
        out = bytearray()
        for blob_id, at, length in pieces:
            with open(blobs.path(blob_id), "rb") as f:
                f.seek(at)
                out += f.read(length)
        return bytes(out)
    if not pieces:
        return b""
    first = open(blobs.path(pieces[0][0]), "rb")  # noqa: SIM115 - closed by the iterator
    return _stream(blobs, first, pieces)


async def _stream(blobs: BlobStore, first: Any, pieces: list[tuple[str, int, int]]) -> AsyncIterator[bytes]:
    handle = first
    try:
        for index, (blob_id, at, length) in enumerate(pieces):
            if index:
                handle.close()
                handle = open(blobs.path(blob_id), "rb")  # noqa: SIM115
            handle.seek(at)
            remaining = length
            while remaining > 0:
                chunk = handle.read(min(CHUNK, remaining))
                if not chunk:
                    raise ServiceError("InternalError", "object data is missing", 500, sender_fault=False)
                remaining -= len(chunk)
                yield chunk
    finally:
        handle.close()


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """A single 'bytes=' range as [start, end), None to send the whole object; 416 when unsatisfiable."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].strip().partition("-")
    try:
        if first == "":
            suffix = int(last)
            if suffix <= 0:
                return None
            return max(0, size - suffix), size
        start = int(first)
        end = int(last) + 1 if last else size
    except ValueError:
        return None
    if end <= start:
        return None
    if start >= size:
        raise ServiceError("InvalidRange", "The requested range is not satisfiable", 416,
                           RangeRequested=header, ActualObjectSize=size)
    return start, min(end, size)
