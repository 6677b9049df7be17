"""Per-shard throughput limits, measured on the virtual clock (token buckets; no database).

Provisioned shards take 1 MiB/s and 1,000 records/s of writes, 5 GetShardIterator calls/s, and 5 GetRecords
calls/s returning at most 2 MiB/s; a bucket holds one second of its rate (GetRecords' bytes: one 10 MiB call, so a call that returns
10 MiB keeps the shard's reads throttled for the next five seconds, as AWS documents). An on-demand stream is
limited as a whole: 4 MiB/s and 4,000 records/s at first, then up to double the highest write rate it has seen.

The buckets live in memory: after a restart every shard starts full, which AWS could also do. Throttling can
be switched off (`OVERCAST_KINESIS_THROTTLING=0`, or `POST /_overcast/kinesis/throttling {"enabled": false}`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MIB = 1 << 20
WRITE_BYTES = 1 * MIB
WRITE_RECORDS = 1000
READ_CALLS = 5
READ_BYTES = 2 * MIB
READ_BURST_BYTES = 10 * MIB
ON_DEMAND_BYTES = 4 * MIB
ON_DEMAND_RECORDS = 4000


@dataclass
class Bucket:
    rate: float  # units per second
    capacity: float
    tokens: float
    as_of: float

    def level(self, now: float) -> float:
        elapsed = max(0.0, now - self.as_of)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.as_of = now
        return self.tokens


@dataclass
class OnDemandPeak:
    """The highest per-second write rate of an on-demand stream, which its limit follows (doubled)."""

    second: int = 0
    bytes_this_second: float = 0.0
    records_this_second: int = 0
    peak_bytes: float = 0.0
    peak_records: int = 0

    def record(self, now: float, size: int) -> None:
        second = int(now)
        if second != self.second:
            self.second, self.bytes_this_second, self.records_this_second = second, 0.0, 0
        self.bytes_this_second += size
        self.records_this_second += 1
        self.peak_bytes = max(self.peak_bytes, self.bytes_this_second)
        self.peak_records = max(self.peak_records, self.records_this_second)


@dataclass
class Throttle:
    enabled: bool = True
    buckets: dict[tuple, Bucket] = field(default_factory=dict)
    peaks: dict[int, OnDemandPeak] = field(default_factory=dict)

    def forget(self) -> None:
        self.buckets.clear()
        self.peaks.clear()

    def _bucket(self, key: tuple, rate: float, capacity: float, now: float) -> Bucket:
        bucket = self.buckets.get(key)
        if bucket is None or bucket.rate != rate:
            if len(self.buckets) > 100_000:  # shards of deleted streams: start over rather than grow
                self.buckets.clear()
            bucket = self.buckets[key] = Bucket(rate, capacity, capacity, now)
        return bucket

    def write(self, stream: int, shard: int, on_demand: bool, size: int, now: float) -> bool:
        """Whether one record of `size` bytes may be written now (and, if so, take its share)."""
        if not self.enabled:
            return True
        if on_demand:
            peak = self.peaks.setdefault(stream, OnDemandPeak())
            rate_bytes = max(ON_DEMAND_BYTES, 2 * peak.peak_bytes)
            rate_records = max(ON_DEMAND_RECORDS, 2 * peak.peak_records)
            key: tuple = (stream, None)
        else:
            rate_bytes, rate_records, key = WRITE_BYTES, WRITE_RECORDS, (stream, shard)
        data = self._bucket((*key, "wb"), rate_bytes, rate_bytes, now)
        count = self._bucket((*key, "wr"), rate_records, rate_records, now)
        # a record larger than a second's budget (MaxRecordSizeInKiB above 1024) passes a full bucket, into debt
        if data.level(now) < min(size, data.capacity) or count.level(now) < 1:
            return False
        data.tokens -= size
        count.tokens -= 1
        if on_demand:
            self.peaks[stream].record(now, size)
        return True

    def read(self, stream: int, shard: int, now: float) -> bool:
        """Whether a GetRecords call may read the shard now (taking one call from its budget)."""
        if not self.enabled:
            return True
        calls = self._bucket((stream, shard, "rc"), READ_CALLS, READ_CALLS, now)
        data = self._bucket((stream, shard, "rb"), READ_BYTES, READ_BURST_BYTES, now)
        if calls.level(now) < 1 or data.level(now) <= 0:
            return False
        calls.tokens -= 1
        return True

    def iterator(self, stream: int, shard: int, now: float) -> bool:
        """Whether a GetShardIterator call may be made on the shard now (5 a second)."""
        if not self.enabled:
            return True
        calls = self._bucket((stream, shard, "it"), READ_CALLS, READ_CALLS, now)
        if calls.level(now) < 1:
            return False
        calls.tokens -= 1
        return True

    def read_bytes(self, stream: int, shard: int, size: int) -> None:
        """Charge what a GetRecords call returned (the bucket may go into debt)."""
        if self.enabled:
            bucket = self.buckets.get((stream, shard, "rb"))
            if bucket is not None:
                bucket.tokens -= size
