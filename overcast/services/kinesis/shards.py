"""The arithmetic of shards: hash key ranges, shard ids, sequence numbers and shard iterators (no database).

- A partition key maps to the 128-bit integer of its MD5 digest (or the record's ExplicitHashKey); the open
  shard whose [StartingHashKey, EndingHashKey] contains it takes the record.
- Sequence numbers have the shape of AWS's (a 56-digit decimal number, 47 hex digits): a version nibble, the
  shard's creation second, the shard index's low nibble, a counter, the arrival second, the shard index and a
  closing nibble. The counter grows across the whole stream, so numbers increase within a shard, and a
  child shard's numbers (created later) are above its parents'.
- A shard iterator is an opaque token naming the stream, the shard, the counter after which reading starts
  and when it was issued (it expires five minutes later on the virtual clock).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass

HASH_SPACE = 1 << 128
MAX_HASH_KEY = HASH_SPACE - 1
MAX_COUNTER = (1 << 63) - 1  # the counter of a closed shard's EndingSequenceNumber
_SHARD_ID = re.compile(r"^shardId-(\d{12})$")


def hash_key(partition_key: str) -> int:
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def even_ranges(count: int) -> list[tuple[int, int]]:
    """`count` adjacent hash key ranges covering the whole key space, as CreateStream makes them."""
    step = HASH_SPACE // count
    return [(i * step, MAX_HASH_KEY if i == count - 1 else (i + 1) * step - 1) for i in range(count)]


def uniform_boundaries(count: int) -> list[int]:
    """The starting hash keys of shards 2..count of an even split (where UpdateShardCount cuts)."""
    return [start for start, _ in even_ranges(count)[1:]]


def shard_id(index: int) -> str:
    return f"shardId-{index:012d}"


def shard_index(text: str) -> int | None:
    """The index a shard id names ("shardId-000000000003" or AWS's short form "3"), or None."""
    found = _SHARD_ID.match(text)
    if found:
        return int(found.group(1))
    if text.isdigit() and len(text) <= 12:
        return int(text)
    return None


# -- sequence numbers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sequence:
    shard_created: int  # epoch seconds
    shard: int  # shard index
    counter: int
    arrival: int = 0  # epoch seconds


def format_sequence(seq: Sequence) -> str:
    hex_digits = (
        "2"
        + f"{seq.shard_created & 0xFFFFFFFFF:09x}"
        + f"{seq.shard & 0xF:x}"
        + f"{seq.counter & 0xFFFFFFFFFFFFFFFF:016x}"
        + "00"
        + f"{seq.arrival & 0xFFFFFFFFF:09x}"
        + f"{seq.shard & 0xFFFFFFFF:08x}"
        + "2"
    )
    return str(int(hex_digits, 16))


def parse_sequence(text: str) -> Sequence | None:
    """The parts of a sequence number of ours, or None for one that is not."""
    if not text.isdigit() or len(text) > 60:
        return None
    digits = f"{int(text):x}"
    if len(digits) != 47 or digits[0] != "2" or digits[-1] != "2":
        return None
    shard = int(digits[38:46], 16)
    if int(digits[10], 16) != shard & 0xF:
        return None
    return Sequence(int(digits[1:10], 16), shard, int(digits[11:27], 16), int(digits[29:38], 16))


# -- shard iterators -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Iterator:
    stream: int  # the stream's row id (a stream created again under the same name is another stream)
    stream_name: str
    shard: int
    after: int  # reading starts at the first record whose counter is greater
    issued_ms: int


_HEADER = b"\x00\x00\x00\x00\x00\x00\x00\x01"
_LAYOUT = struct.Struct(">qiqq")


def encode_iterator(iterator: Iterator) -> str:
    body = _LAYOUT.pack(iterator.stream, iterator.shard, iterator.after, iterator.issued_ms)
    body += iterator.stream_name.encode()
    raw = _HEADER + body + struct.pack(">I", binascii.crc32(body))
    return base64.b64encode(raw).decode()


def decode_iterator(token: str) -> Iterator | None:
    try:
        raw = base64.b64decode(token.encode(), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    if len(raw) < len(_HEADER) + _LAYOUT.size + 4 or not raw.startswith(_HEADER):
        return None
    body, check = raw[len(_HEADER) : -4], raw[-4:]
    if struct.pack(">I", binascii.crc32(body)) != check:
        return None
    stream, shard, after, issued = _LAYOUT.unpack(body[: _LAYOUT.size])
    try:
        name = body[_LAYOUT.size :].decode()
    except UnicodeDecodeError:
        return None
    return Iterator(stream, name, shard, after, issued)
