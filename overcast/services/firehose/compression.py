"""Compression of delivered objects: GZIP and ZIP with the standard library; Snappy (the framing format) and
Hadoop-Snappy written as valid uncompressed Snappy (no Snappy library is at hand: readers decode it, it is
just not smaller)."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile

from awscrt import checksums

EXTENSIONS = {
    "UNCOMPRESSED": "",
    "GZIP": ".gz",
    "ZIP": ".zip",
    "Snappy": ".snappy",
    "HADOOP_SNAPPY": ".snappy",
}
_CHUNK = 65536


def compress(data: bytes, fmt: str) -> bytes:
    if fmt == "GZIP":
        return gzip.compress(data)
    if fmt == "ZIP":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("data", data)
        return out.getvalue()
    if fmt == "Snappy":
        return snappy_framed(data)
    if fmt == "HADOOP_SNAPPY":
        return hadoop_snappy(data)
    return data


def _masked_crc(data: bytes) -> int:
    crc = checksums.crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def snappy_framed(data: bytes) -> bytes:
    """The Snappy framing format: a stream identifier, then uncompressed-data chunks of at most 64 KiB."""
    out = bytearray(b"\xff\x06\x00\x00sNaPpY")
    for at in range(0, len(data), _CHUNK):
        chunk = data[at : at + _CHUNK]
        out += b"\x01" + struct.pack("<I", len(chunk) + 4)[:3] + struct.pack("<I", _masked_crc(chunk)) + chunk
    return bytes(out)


def _raw_snappy(block: bytes) -> bytes:
    """A raw Snappy block made of literals only."""
    out = bytearray()
    length = len(block)
    while True:  # varint of the uncompressed length
        byte = length & 0x7F
        length >>= 7
        out.append(byte | (0x80 if length else 0))
        if not length:
            break
    for at in range(0, len(block), _CHUNK):
        literal = block[at : at + _CHUNK]
        size = len(literal) - 1
        if size < 60:
            out.append(size << 2)
        else:
            out += bytes([62 << 2]) + struct.pack("<I", size)[:3]
        out += literal
    return bytes(out)


def hadoop_snappy(data: bytes) -> bytes:
    """Hadoop's block format: [uncompressed length][compressed length][raw Snappy] per block."""
    out = bytearray()
    for at in range(0, max(len(data), 1), 256 * 1024):
        block = data[at : at + 256 * 1024]
        raw = _raw_snappy(block)
        out += struct.pack(">II", len(block), len(raw)) + raw
    return bytes(out)
