"""The arithmetic of shards: hash key ranges, shard ids, sequence numbers and shard iterators (no database).

- A partition key maps to the 128-bit integer of its MD5 digest (or the record's ExplicitHashKey); the open
  shard whose [StartingHashKey, EndingHashKey] contains it takes the record.
- Sequence numbers have the shape of AWS's (a 56-digit decimal number, 47 hex digits): a version nibble, the
  shard's creation second, the shard index's low nibble, a counter, the arrival second, the shard index and a
  closing nibble. The counter grows across the whole stream, so numbers increase within a shard, and a
  child shard's numbers (created later) are above its parents'.
- A shard iterator is an opaque token naming the stream (its row and ARN), the shard, the counter after which
  reading starts and when it was issued (it expires five minutes later on the virtual clock).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import re
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from overcast.services.kinesis.store import Shard

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


class Routes:
    """A stream's open shards ordered by hash key: which one takes a record (a binary search)."""

    def __init__(self, shards: list[Shard]) -> None:
        self.shards = sorted(shards, key=lambda s: s.start_hash)
        self.starts = [s.start_hash for s in self.shards]

    def shard_for(self, key: int) -> Shard | None:
        at = bisect.bisect_right(self.starts, key) - 1
        if at >= 0 and self.shards[at].holds(key):
            return self.shards[at]
        return None


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


# Bit positions of the parts, from the most significant: version 2 (4 bits), shard creation second (36), the
# shard index's low nibble (4), counter (64), zero (8), arrival second (36), shard index (32), closing 2 (4).
_MASK_36, _MASK_64 = (1 << 36) - 1, (1 << 64) - 1


def sequence_base(shard_created: int, shard: int) -> int:
    """The parts of a shard's sequence numbers that do not change from record to record."""
    return (
        (2 << 184)
        | ((shard_created & _MASK_36) << 148)
        | ((shard & 0xF) << 144)
        | ((shard & 0xFFFFFFFF) << 4)
        | 2
    )


def sequence_number(shard_created: int, shard: int, counter: int, arrival: int) -> str:
    base = sequence_base(shard_created, shard)
    return str(base | ((counter & _MASK_64) << 80) | ((arrival & _MASK_36) << 36))


def format_sequence(seq: Sequence) -> str:
    return sequence_number(seq.shard_created, seq.shard, seq.counter, seq.arrival)


def parse_sequence(text: str) -> Sequence | None:
    """The parts of a sequence number of ours, or None for one that is not."""
    if not text.isdigit() or len(text) > 60:
        return None
    value = int(text)
    if value >> 184 != 2 or value & 0xF != 2 or (value >> 72) & 0xFF:
        return None
    shard = (value >> 4) & 0xFFFFFFFF
    if (value >> 144) & 0xF != shard & 0xF:
        return None
    return Sequence((value >> 148) & _MASK_36, shard, (value >> 80) & _MASK_64, (value >> 36) & _MASK_36)


# -- shard iterators -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Iterator:
    stream: int  # the stream's row id (a stream created again under the same name is another stream)
    stream_arn: str
    shard: int
    after: int  # reading starts at the first record whose counter is greater
    issued_ms: int

    @property
    def stream_name(self) -> str:
        return self.stream_arn.rsplit("/", 1)[-1]


_HEADER = b"\x00\x00\x00\x00\x00\x00\x00\x01"
_LAYOUT = struct.Struct(">qiqq")


def encode_iterator(iterator: Iterator) -> str:
    body = _LAYOUT.pack(iterator.stream, iterator.shard, iterator.after, iterator.issued_ms)
    body += iterator.stream_arn.encode()
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
        arn = body[_LAYOUT.size :].decode()
    except UnicodeDecodeError:
        return None
    return Iterator(stream, arn, shard, after, issued)
