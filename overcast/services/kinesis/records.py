"""Records: PutRecord/PutRecords into the shard a hash key falls in; GetShardIterator/GetRecords read a shard
in order from an iterator's position, within the stream's retention period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kinesis import errors
from overcast.services.kinesis.shards import (
    MAX_HASH_KEY,
    Iterator,
    decode_iterator,
    encode_iterator,
    hash_key,
    parse_sequence,
    sequence_base,
    sequence_number,
    shard_id,
)
from overcast.services.kinesis.store import Record, Shard, Stream

if TYPE_CHECKING:
    from overcast.services.kinesis.provider import KinesisProvider

MIB = 1 << 20
MAX_REQUEST_BYTES = 10 * MIB  # PutRecords, partition keys included
MAX_READ_RECORDS = 10_000
MAX_READ_BYTES = 10 * MIB
ITERATOR_MS = 300_000


def _dry_run(params: dict[str, Any]) -> None:
    if params.get("DryRun"):
        raise ServiceError(
            "DryRunOperationException", "Request would have succeeded, but DryRun flag is set."
        )


def _with_encryption(result: dict[str, Any], stream: Stream) -> dict[str, Any]:
    """A put's answer names the encryption only when there is some (AWS leaves out EncryptionType NONE)."""
    if stream.encryption == "KMS":
        result["EncryptionType"] = "KMS"
    return result


def _moment(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def _amz_time(moment: float) -> str:
    """'Thu Jan 22 01:22:02 UTC 2015': how Kinesis writes times in its messages."""
    return datetime.fromtimestamp(moment, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")


class RecordOperations(Operations):
    service: KinesisProvider

    # -- writing -------------------------------------------------------------------------------------

    def put_record(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.readable_stream(ctx, params)
        entry = {key: params.get(key) for key in ("Data", "PartitionKey", "ExplicitHashKey")}
        size = self._check_entry(stream, entry, "")
        ordering = params.get("SequenceNumberForOrdering")
        if ordering is not None and parse_sequence(ordering) is None:
            raise errors.invalid(
                f"ExclusiveMinimumSequenceNumber {ordering} used in PutRecord on stream {stream.name} under "
                f"account {stream.account} is invalid."
            )
        _dry_run(params)
        self.service.keys.before_put(ctx, stream)
        now = round(self.clock.now(), 3)  # arrival times have AWS's millisecond precision
        shard = self._route(stream, entry)
        if not self.service.throttle.write(stream.id, shard.index, stream.on_demand, size, now):
            raise errors.throughput_exceeded(shard_id(shard.index), stream.name, stream.account)
        counter = self.service.store.take_counters(stream.id, 1)
        self.service.store.add_records(
            [(stream.id, shard.index, counter, now, entry["PartitionKey"], entry["Data"])]
        )
        self.service.notify(stream.id)
        result = {
            "ShardId": shard_id(shard.index),
            "SequenceNumber": self.service.record_sequence(shard, counter, now),
        }
        return _with_encryption(result, stream)

    def put_records(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.readable_stream(ctx, params)
        entries = params["Records"]
        sizes = [
            self._check_entry(stream, entry, f"records.{i + 1}.member.") for i, entry in enumerate(entries)
        ]
        if sum(sizes) > MAX_REQUEST_BYTES:
            raise errors.invalid(f"Records size exceeds {MAX_REQUEST_BYTES // MIB} MB limit")
        _dry_run(params)
        self.service.keys.before_put(ctx, stream)
        now = round(self.clock.now(), 3)
        write = self.service.throttle.write
        placed = []
        for entry, size in zip(entries, sizes, strict=True):
            shard = self._route(stream, entry)
            placed.append((entry, shard, write(stream.id, shard.index, stream.on_demand, size, now)))
        accepted = sum(1 for _, _, ok in placed if ok)
        counter = self.service.store.take_counters(stream.id, accepted) if accepted else 0
        rows, results = [], []
        arrival = int(now)
        for entry, shard, ok in placed:
            sid = shard_id(shard.index)
            if not ok:
                message = errors.throughput_message(sid, stream.name, stream.account)
                results.append(
                    {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": message}
                )
                continue
            rows.append((stream.id, shard.index, counter, now, entry["PartitionKey"], entry["Data"]))
            number = sequence_number(int(shard.created), shard.index, counter, arrival)
            results.append({"SequenceNumber": number, "ShardId": sid})
            counter += 1
        self.service.store.add_records(rows)
        if rows:
            self.service.notify(stream.id)
        return _with_encryption({"FailedRecordCount": len(entries) - accepted, "Records": results}, stream)

    def _check_entry(self, stream: Stream, entry: dict[str, Any], member: str) -> int:
        """The record's size (data and partition key), after checking it as AWS does."""
        key = entry.get("PartitionKey")
        if not key:
            raise errors.validation(
                f"1 validation error detected: Value null at '{member}partitionKey' failed to satisfy constraint: "
                "Member must not be null"
            )
        size = len(entry["Data"]) + (len(key) if key.isascii() else len(key.encode()))
        limit = stream.max_record_kib * 1024
        if size > limit:
            raise errors.validation(
                f"1 validation error detected: Value at '{member}data' failed to satisfy constraint: Member must "
                f"have length less than or equal to {limit}"
            )
        explicit = entry.get("ExplicitHashKey")
        if explicit is not None and int(explicit) > MAX_HASH_KEY:
            raise errors.invalid(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was "
                f"{explicit}"
            )
        return size

    def _route(self, stream: Stream, entry: dict[str, Any]) -> Shard:
        explicit = entry.get("ExplicitHashKey")
        key = int(explicit) if explicit is not None else hash_key(entry["PartitionKey"])
        shard = self.service.shard_routes(stream).shard_for(key)
        if shard is None:
            raise ServiceError("InternalFailure", "No open shard holds the record's hash key.", 500)
        return shard

    # -- reading -------------------------------------------------------------------------------------

    def get_shard_iterator(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.readable_stream(ctx, params)
        shard = self.service.shard_for(stream, params["ShardId"])
        _dry_run(params)
        if not self.service.throttle.iterator(stream.id, shard.index, self.clock.now()):
            raise errors.throughput_exceeded(shard_id(shard.index), stream.name, stream.account)
        after = starting_point(
            self.service,
            stream,
            shard,
            params["ShardIteratorType"],
            params.get("StartingSequenceNumber"),
            params.get("Timestamp"),
        )
        iterator = Iterator(stream.id, stream.arn, shard.index, after, int(self.clock.now() * 1000))
        return {"ShardIterator": encode_iterator(iterator)}

    def get_records(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iterator = decode_iterator(params["ShardIterator"])
        if iterator is None:
            raise errors.invalid("Invalid ShardIterator.")
        now = self.clock.now()
        if now * 1000 - iterator.issued_ms > ITERATOR_MS:
            raise ServiceError(
                "ExpiredIteratorException",
                f"Iterator expired. The iterator was created at time {_amz_time(iterator.issued_ms / 1000)} while "
                f"right now it is {_amz_time(now)} which is further in the future than the tolerated delay of "
                f"{ITERATOR_MS} milliseconds.",
            )
        stream, shard = self._iterator_target(ctx, params, iterator)
        _dry_run(params)
        self.service.keys.before_get(ctx, stream)
        if not self.service.throttle.read(stream.id, shard.index, now):
            raise errors.throughput_exceeded(shard_id(shard.index), stream.name, stream.account)
        limit = min(params.get("Limit") or MAX_READ_RECORDS, MAX_READ_RECORDS)
        batch = read_batch(self.service, stream, shard, iterator.after, limit)
        self.service.throttle.read_bytes(stream.id, shard.index, batch.size)
        result: dict[str, Any] = {"Records": record_shapes(stream, shard, batch.records)}
        if batch.ended:
            result["ChildShards"] = self.service.child_shapes(stream, shard)
        else:
            following = Iterator(stream.id, stream.arn, shard.index, batch.last, int(now * 1000))
            result["NextShardIterator"] = encode_iterator(following)
        result["MillisBehindLatest"] = batch.millis_behind(now)
        return result

    def _iterator_target(
        self, ctx: RequestContext, params: dict[str, Any], iterator: Iterator
    ) -> tuple[Stream, Shard]:
        stream = self.service.store.stream_by_id(iterator.stream)
        sid = shard_id(iterator.shard)
        if stream is None or stream.arn != iterator.stream_arn or stream.status == "DELETING":
            raise errors.shard_not_found(sid, iterator.stream_name, ctx.account_id)
        if params.get("StreamARN") and params["StreamARN"] != stream.arn:
            raise errors.invalid(
                f"StreamARN {params['StreamARN']} does not match the stream of the ShardIterator."
            )
        shard = self.service.store.shard(stream.id, iterator.shard)
        if shard is None:
            raise errors.shard_not_found(sid, stream.name, stream.account)
        return stream, shard


def starting_point(
    service: KinesisProvider, stream: Stream, shard: Shard, kind: str, sequence: str | None, timestamp: Any
) -> int:
    """The counter after which an iterator (or a subscription) of `kind` starts reading."""
    sid = shard_id(shard.index)
    if sequence is not None and kind in ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"):
        raise errors.invalid(
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or "
            f"(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified {kind} and also a "
            "StartingSequenceNumber."
        )
    if kind == "TRIM_HORIZON":
        return shard.start_counter - 1
    if kind == "LATEST":
        return stream.next_counter - 1
    if kind == "AT_TIMESTAMP":
        return _at_timestamp(service, stream, shard, timestamp)
    if sequence is None:
        raise errors.invalid(
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or "
            f"(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified {kind} and no "
            "StartingSequenceNumber."
        )
    parsed = parse_sequence(sequence)
    where = f"used in GetShardIterator on shard {sid} in stream {stream.name} under account {stream.account}"
    if parsed is None:
        raise errors.invalid(f"StartingSequenceNumber {sequence} {where} is invalid.")
    if parsed.shard != shard.index:
        raise errors.invalid(
            f"Invalid StartingSequenceNumber. It encodes {shard_id(parsed.shard)}, while it was used in a call "
            f"to a shard with {sid}"
        )
    if parsed.shard_created != int(shard.created):
        raise errors.invalid(
            f"StartingSequenceNumber {sequence} {where} is invalid because it did not come from this stream."
        )
    return parsed.counter - 1 if kind == "AT_SEQUENCE_NUMBER" else parsed.counter


def _at_timestamp(service: KinesisProvider, stream: Stream, shard: Shard, timestamp: Any) -> int:
    if timestamp is None:
        raise errors.invalid(
            "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has "
            "no timestamp parameter."
        )
    moment, now = _moment(timestamp), service.clock.now()
    if moment > now:
        raise errors.invalid(
            "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. "
            f"timestampInMillis: {int(moment * 1000)}, currentTimestampInMillis: {int(now * 1000)}"
        )
    first = service.store.first_at(stream.id, shard.index, moment)
    return first - 1 if first is not None else stream.next_counter - 1


@dataclass
class Batch:
    """What one read of a shard found: its records, where the next read starts, the first record it left."""

    records: list[Record]
    last: int  # the counter after which the next read starts
    pending: float | None  # when the first record not read yet arrived (None: caught up)
    ended: bool  # a closed shard read to its end
    size: int  # bytes of data and partition keys returned

    def millis_behind(self, now: float) -> int:
        return int(max(0.0, now - self.pending) * 1000) if self.pending is not None else 0


def read_batch(service: KinesisProvider, stream: Stream, shard: Shard, after: int, limit: int) -> Batch:
    """Up to `limit` retained records after the counter `after`, at most 10 MiB (at least one record); one
    more is read to know whether the shard holds more."""
    records = service.store.read(stream.id, shard.index, after, service.cutoff(stream), limit + 1)
    total = 0
    for i, record in enumerate(records):
        size = len(record.data) + len(record.partition_key)
        if i == limit or (total + size > MAX_READ_BYTES and i > 0):
            return Batch(records[:i], records[i - 1].counter, record.arrival, False, total)
        total += size
    last = records[-1].counter if records else after
    return Batch(records, last, None, shard.closed is not None, total)


def record_shapes(stream: Stream, shard: Shard, records: list[Record]) -> list[dict[str, Any]]:
    """Records as GetRecords and SubscribeToShard answer them (ApproximateArrivalTimestamp in epoch seconds:
    clients get what their protocol parses, internal callers a number)."""
    base = sequence_base(int(shard.created), shard.index)
    shapes = [
        {
            "SequenceNumber": str(base | (r.counter << 80) | ((int(r.arrival) & 0xFFFFFFFFF) << 36)),
            "ApproximateArrivalTimestamp": r.arrival,
            "Data": r.data,
            "PartitionKey": r.partition_key,
        }
        for r in records
    ]
    if stream.encryption == "KMS":
        for shape in shapes:
            shape["EncryptionType"] = "KMS"
    return shapes
