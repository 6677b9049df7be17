"""Object bodies: streaming a request body to a blob with its hashes, and reading a byte range back.

Bodies are stored encrypted (encryption.py): hashes are computed over the plain text on the way in, and the
stored form is ciphertext, in the row or in the blob file. Small ranges are read at once (a GET of 1 KiB
should not pay for an async iterator); larger ones stream a chunk at a time from files opened before the
request's transaction ends, so a concurrent overwrite that unlinks the file cannot cut a download short.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from overcast.errors import ServiceError
from overcast.services.s3 import checksums
from overcast.services.s3.encryption import HEADER, BodyCipher
from overcast.services.s3.store import INLINE, ObjectVersion
from overcast.state import BlobStore

CHUNK = 1 << 20
READ_AT_ONCE = 256 * 1024
log = logging.getLogger("overcast.s3")
INLINE_LIMIT = 64 * 1024  # bodies up to this size are kept in the database row, not in a file
# Hashing (MD5 above all) is the slowest step of a large upload; hashlib releases the GIL, so a worker thread
# hashes one piece while the event loop receives and writes the next.
_HASHING = ThreadPoolExecutor(max_workers=4, thread_name_prefix="s3-hash")


@dataclass
class Received:
    """A request body (on disk as a blob, or in memory when small), with what S3 computes over it."""

    blob: Any  # PendingBlob, or None when the body is `data`
    data: bytes | None  # as stored in the row: sealed when received with a cipher
    size: int  # of the body as sent
    md5_hex: str
    checksums: dict[str, str]  # algorithm -> base64 value
    trailers: dict[str, str]


async def receive(
    blobs: BlobStore,
    body: Any,
    algorithms: list[str],
    *,
    inline: bool = False,
    cipher: BodyCipher | None = None,
) -> Received:
    """Take in `body` (a BodyStream, bytes, an async iterator or None), hashing it on the way: a small body
    whose length is announced is kept in memory when `inline`, anything else streams to a new blob; either
    is encrypted with `cipher` (None: stored in plain text, as the parts of a multipart upload started before
    encryption at rest, which complete into a plain-text object)."""
    md5 = hashlib.md5()
    hashers = {algorithm: checksums.new_hasher(algorithm) for algorithm in algorithms}
    every = [md5, *hashers.values()]
    length = len(body) if isinstance(body, (bytes, bytearray)) else getattr(body, "content_length", None)
    pending, data = None, None
    if inline and (body is None or (length is not None and length <= INLINE_LIMIT)):
        data = await _whole(body)
        size = len(data)
        for hasher in every:
            hasher.update(data)
        if cipher is not None:
            data = cipher.seal(data)
    else:
        chunks = _hashed(_chunks(body), every)
        if cipher is not None:
            pending = await blobs.write(cipher.encrypting(chunks))
            size = pending.size - HEADER
        else:
            pending = await blobs.write(chunks)
            size = pending.size
    values = {algorithm: checksums.encode(h.digest()) for algorithm, h in hashers.items()}
    trailers = getattr(body, "trailers", None) or {}
    return Received(pending, data, size, md5.hexdigest(), values, {k.lower(): v for k, v in trailers.items()})


async def _hashed(chunks: AsyncIterator[bytes], hashers: list[Any]) -> AsyncIterator[bytes]:
    """Pass `chunks` through, feeding each to the hashers in a worker thread, one piece behind at most."""
    loop = asyncio.get_running_loop()
    previous = None
    try:
        async for chunk in chunks:
            if previous is not None:
                await previous
            previous = loop.run_in_executor(_HASHING, _update, hashers, chunk)
            yield chunk
    finally:
        if previous is not None:
            await previous


def _update(hashers: list[Any], chunk: bytes) -> None:
    for hasher in hashers:
        hasher.update(chunk)


def discard(blobs: BlobStore, received: Received) -> None:
    if received.blob is not None:
        blobs.discard(received.blob)


async def _whole(body: Any) -> bytes:
    """A small body, read whole (read() until b"": a stream that checks what it passed on does so at its end)."""
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    read = getattr(body, "read", None)
    if read is None:  # an async iterator (of a range read)
        return b"".join([chunk async for chunk in body])
    pieces = []
    while piece := await read():
        pieces.append(piece)
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


async def _chunks(body: Any) -> AsyncIterator[bytes]:
    """The body in pieces of about CHUNK bytes: the server receives it in small ones, and every piece costs
    a call to each hasher and to write()."""
    if body is None:
        return
    if isinstance(body, (bytes, bytearray, memoryview)):
        if body:
            yield bytes(body)
        return
    pending: list[bytes] = []  # (a BodyStream, or the async iterator of a range read for a part copy)
    size = 0
    async for chunk in body:
        pending.append(chunk)
        size += len(chunk)
        if size >= CHUNK:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


class _RefusingUnreadBody:
    """(A class rather than @contextmanager: it runs on every PutObject.)"""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> bool:
        if isinstance(error, ServiceError):
            error.headers.setdefault("Connection", "close")
        return False  # raised on as it was


_REFUSING_UNREAD_BODY = _RefusingUnreadBody()


def refusing_unread_body() -> _RefusingUnreadBody:
    """An error answered before the body was read closes the connection: the client may still send the body
    (after Expect: 100-continue it will not), and the server must not read it as the next request."""
    return _REFUSING_UNREAD_BODY


def segments(version: ObjectVersion) -> list[tuple[str, int]]:
    """(blob_id, size) of each blob file holding the object, in order (none for a body kept in its row)."""
    if version.parts:
        return [(part[0], part[1]) for part in version.part_list]
    return [(version.blob_id, version.size)] if version.blob_id else []


def read_range(
    blobs: BlobStore,
    version: ObjectVersion,
    start: int,
    end: int,
    inline: bytes | None = None,
    cipher: BodyCipher | None = None,
) -> bytes | AsyncIterator[bytes]:
    """Bytes [start, end) of the object, decrypted with `cipher` (None: stored in plain text): bytes when
    small, else an async iterator over open files. `inline` is the body of an object kept in its row.

    Damaged data is never served as if whole: every file's size is checked against its record before a
    byte is sent, and a whole-object read verifies the stored checksum (at once when small; while streaming
    a large one, whose connection is cut if it does not match). A damaged object answers `damaged()`, and
    the server log names the file."""
    if version.blob_id == INLINE:
        data = inline or b""
        if cipher is not None and data:
            try:
                data = cipher.open(data)
            except ServiceError:
                raise damaged(
                    f"the row of object {version.key!r}", "its sealed body does not authenticate"
                ) from None
        return data[start:end]
    pieces = []
    offset = 0
    for blob_id, size in segments(version):
        lo, hi = max(start, offset), min(end, offset + size)
        if lo < hi:
            pieces.append((blob_id, lo - offset, hi - lo, size))
        offset += size
    verify = _whole_object_checksum(version) if (start, end) == (0, version.size) else None
    header = HEADER if cipher is not None else 0
    if end - start <= READ_AT_ONCE:
        out = bytearray()
        for blob_id, at, length, size in pieces:
            with open_blob(blobs, blob_id, size + header) as f:
                out += _read_piece(f, at, length, cipher)
        if verify is not None and not verify.matches(out):
            raise damaged(blobs.path(pieces[0][0]), "its content does not match the stored checksum")
        return bytes(out)
    if not pieces:
        return b""
    first = open_blob(blobs, pieces[0][0], pieces[0][3] + header)
    return _stream(blobs, first, pieces, cipher, verify)


class _Verifier:
    """The stored FULL_OBJECT checksum of an object, to check what is read against."""

    def __init__(self, algorithm: str, value: str) -> None:
        self.algorithm, self.value = algorithm, value
        self.hasher = checksums.new_hasher(algorithm)

    def update(self, data: bytes) -> None:
        self.hasher.update(data)

    def matches(self, data: bytes | None = None) -> bool:
        if data is not None:
            self.hasher.update(data)
        return checksums.encode(self.hasher.digest()) == self.value


def _whole_object_checksum(version: ObjectVersion, any_algorithm: bool = False) -> _Verifier | None:
    """A verifier for an object stored in one file whose checksum covers its whole content (when streamed:
    a CRC, which costs little beside sending the bytes; a SHA would slow a large GET down)."""
    checksum = version.meta.get("Checksum")
    if version.parts or not checksum or checksum.get("type") != "FULL_OBJECT":
        return None
    cheap = any_algorithm or version.size <= READ_AT_ONCE
    allowed = checksums.ALGORITHMS if cheap else checksums.CRC_ALGORITHMS
    if checksum.get("algorithm") not in allowed or "-" in checksum.get("value", ""):
        return None
    return _Verifier(checksum["algorithm"], checksum["value"])


def open_blob(blobs: BlobStore, blob_id: str, expected_size: int) -> Any:
    """The blob file opened for reading, once it is there with the size its record says."""
    path = blobs.path(blob_id)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - the caller closes it
    except FileNotFoundError:
        raise damaged(path, "the file is missing") from None
    actual = os.fstat(handle.fileno()).st_size
    if actual != expected_size:
        handle.close()
        raise damaged(path, f"the file holds {actual} bytes, its record {expected_size}")
    return handle


def damaged(where: Any, reason: str) -> ServiceError:
    """The answer for an object whose stored data is damaged, logged with the file it lives in."""
    log.error("S3 object data damaged: %s: %s (overcast check reports every damaged file)", where, reason)
    return ServiceError(
        "InternalError",
        "The stored data of this object is damaged and cannot be served (the server log names the file).",
        500,
        sender_fault=False,
    )


def check_stored(
    blobs: BlobStore, version: ObjectVersion, inline: bytes | None, cipher: BodyCipher | None, known: bool
) -> str | None:
    """What is wrong with a version's stored data (`overcast check`), or None: every file there with its
    recorded size, a row's sealed body authentic, and the content matching the stored whole-object checksum
    (when the data can be read: `known` is False for SSE-C, whose key S3 does not keep)."""
    verify = _whole_object_checksum(version, any_algorithm=True) if known else None
    header = HEADER if version.enc is not None else 0
    if version.blob_id == INLINE:
        if not known:
            return None
        data = inline or b""
        if cipher is not None and data:
            try:
                data = cipher.open(data)
            except ServiceError:
                return "its body in the database does not authenticate"
        if verify is not None and not verify.matches(data):
            return "its body in the database does not match the stored checksum"
        return None
    for blob_id, size in segments(version):
        path = blobs.path(blob_id)
        if not path.exists():
            return f"{path} is missing"
        actual = path.stat().st_size
        if actual != size + header:
            return f"{path} holds {actual} bytes, its record {size + header}"
    if verify is not None:
        ((blob_id, size),) = segments(version)
        with open(blobs.path(blob_id), "rb") as f:
            decryptor = cipher.decryptor(f.read(HEADER), 0) if cipher is not None else None
            while chunk := f.read(CHUNK):
                verify.update(decryptor.update(chunk) if decryptor is not None else chunk)
        if not verify.matches():
            return f"{blobs.path(blob_id)} does not match the stored checksum"
    return None


def _read_piece(f: Any, at: int, length: int, cipher: BodyCipher | None) -> bytes:
    if cipher is None:
        f.seek(at)
        return f.read(length)
    iv = f.read(HEADER)
    f.seek(HEADER + at)
    return cipher.decryptor(iv, at).update(f.read(length))


async def _stream(
    blobs: BlobStore,
    first: Any,
    pieces: list[tuple[str, int, int, int]],
    cipher: BodyCipher | None,
    verify: _Verifier | None,
) -> AsyncIterator[bytes]:
    handle = first
    header = HEADER if cipher is not None else 0
    held = b""  # the last piece is held back until the checksum is verified
    try:
        for index, (blob_id, at, length, size) in enumerate(pieces):
            if index:
                handle.close()
                handle = open_blob(blobs, blob_id, size + header)
            decryptor = None
            if cipher is not None:
                decryptor = cipher.decryptor(handle.read(HEADER), at)
                at += HEADER
            handle.seek(at)
            remaining = length
            while remaining > 0:
                chunk = handle.read(min(CHUNK, remaining))
                if not chunk:
                    raise damaged(blobs.path(blob_id), "the file ended early")
                remaining -= len(chunk)
                plain = decryptor.update(chunk) if decryptor is not None else chunk
                if verify is not None:
                    verify.update(plain)
                if held:
                    yield held
                held = plain
        if verify is not None and not verify.matches():
            # too late for an error status: the connection is cut short, so the client sees a failed download
            raise damaged(blobs.path(pieces[0][0]), "its content does not match the stored checksum")
        if held:
            yield held
    finally:
        handle.close()


async def read_file(path: Any, size: int, cipher: BodyCipher | None) -> AsyncIterator[bytes]:
    """The whole body of one blob file, decrypted, a chunk at a time (re-encrypting a copy)."""
    with open(path, "rb") as f:
        decryptor = cipher.decryptor(f.read(HEADER), 0) if cipher is not None else None
        remaining = size
        while remaining > 0:
            chunk = f.read(min(CHUNK, remaining))
            if not chunk:
                raise _missing()
            remaining -= len(chunk)
            yield decryptor.update(chunk) if decryptor is not None else chunk


def _missing() -> ServiceError:
    return damaged("a blob file being copied", "the file ended early")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """A single 'bytes=' range as [start, end); None to send the whole object (no range, or one S3 ignores
    as malformed: several ranges, last before first, not numbers); 416 InvalidRange when it is well formed
    but no byte of the object satisfies it (first past the end, a suffix of 0, any range of an empty object)."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, dash, last = header[6:].strip().partition("-")
    if (
        not dash
        or not (first or last)
        or not (first.isdigit() or first == "")
        or not (last.isdigit() or last == "")
    ):
        return None
    if first == "":  # bytes=-N: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(header, size)
        return max(0, size - suffix), size
    start = int(first)
    end = int(last) + 1 if last else size
    if last and end <= start:
        return None
    if start >= size:
        raise _unsatisfiable(header, size)
    return start, min(end, size)


def _unsatisfiable(header: str, size: int) -> ServiceError:
    return ServiceError(
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
        RangeRequested=header,
        ActualObjectSize=size,
    )
