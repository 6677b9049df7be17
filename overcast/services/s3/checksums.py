"""S3's additional checksums: CRC32, CRC32C, CRC64NVME, SHA1, SHA256 (plus SHA512, MD5), whole and per part.

A hasher is hashlib-like (`update`, `digest`) so `blobs.write` can feed it while the body streams to disk.
Multipart objects get either a COMPOSITE checksum (the checksum of the parts' checksums, "-N") or, for the
CRCs, a FULL_OBJECT one, combined from the parts' CRCs without reading the data again (zlib's crc32_combine
arithmetic, generalised to any reflected CRC).
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable
from functools import cache

from awscrt import checksums as crt

ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "SHA512", "MD5")
CRC_ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME")
# Reflected polynomial and width of each CRC.
_CRC_SPEC = {"CRC32": (0xEDB88320, 32), "CRC32C": (0x82F63B78, 32), "CRC64NVME": (0x9A6C9329AC4BC9B5, 64)}
_CRC_FUNCS: dict[str, Callable[[bytes, int], int]] = {
    "CRC32": zlib.crc32,
    "CRC32C": crt.crc32c,
    "CRC64NVME": crt.crc64nvme,
}


class CrcHasher:
    __slots__ = ("_fn", "_width", "value")

    def __init__(self, algorithm: str) -> None:
        self._fn = _CRC_FUNCS[algorithm]
        self._width = _CRC_SPEC[algorithm][1]
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = self._fn(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(self._width // 8, "big")


def new_hasher(algorithm: str):
    if algorithm in _CRC_FUNCS:
        return CrcHasher(algorithm)
    return hashlib.new(algorithm.lower())


_DIGEST_SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32, "SHA512": 64, "MD5": 16}


def well_formed(algorithm: str, value: str) -> bool:
    """Whether `value` is a base64 digest of the algorithm's size (BadDigest is for a mismatch only)."""
    try:
        return len(base64.b64decode(value, validate=True)) == _DIGEST_SIZES[algorithm]
    except (ValueError, KeyError):
        return False


def encode(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def param_name(algorithm: str) -> str:
    """The request/response member carrying an algorithm's value (ChecksumCRC32, ...)."""
    return "Checksum" + algorithm


def header_name(algorithm: str) -> str:
    return "x-amz-checksum-" + algorithm.lower()


def composite(algorithm: str, part_values: list[str]) -> str:
    """COMPOSITE multipart checksum: the checksum of the concatenated binary part checksums, then -N."""
    hasher = new_hasher(algorithm)
    for value in part_values:
        hasher.update(base64.b64decode(value))
    return f"{encode(hasher.digest())}-{len(part_values)}"


def full_object_crc(algorithm: str, parts: list[tuple[str, int]]) -> str:
    """FULL_OBJECT CRC of a multipart object from its parts' (base64 CRC, size)."""
    poly, width = _CRC_SPEC[algorithm]
    combined = 0
    for index, (value, size) in enumerate(parts):
        crc = int.from_bytes(base64.b64decode(value), "big")
        combined = crc if index == 0 else _crc_combine(poly, width, combined, crc, size)
    return encode(combined.to_bytes(width // 8, "big"))


def _multiply_mod(poly: int, width: int, a: int, b: int) -> int:
    """a * b modulo the CRC polynomial, in the reflected bit order."""
    top = 1 << (width - 1)
    product = 0
    m = top
    while m:
        if a & m:
            product ^= b
        b = (b >> 1) ^ poly if b & 1 else b >> 1
        m >>= 1
    return product


@cache
def _powers(poly: int, width: int) -> tuple[int, ...]:
    """x^(2^k) modulo the polynomial for k = 0..63."""
    table = [1 << (width - 2)]  # x^1
    for _ in range(63):
        table.append(_multiply_mod(poly, width, table[-1], table[-1]))
    return tuple(table)


def _crc_combine(poly: int, width: int, crc1: int, crc2: int, length2: int) -> int:
    """CRC of A+B from CRC(A), CRC(B) and len(B)."""
    powers = _powers(poly, width)
    factor = 1 << (width - 1)  # x^0
    n, k = length2, 3  # x^(8 * length2)
    while n:
        if n & 1:
            factor = _multiply_mod(poly, width, powers[k], factor)
        n >>= 1
        k += 1
    return _multiply_mod(poly, width, factor, crc1) ^ crc2
