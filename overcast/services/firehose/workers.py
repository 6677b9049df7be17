"""Firehose's background work on the virtual clock.

- The flusher sleeps until the earliest moment a buffer is due (its oldest record has waited the buffering
  interval, or a failed delivery's retry time) or until a put fills a buffer past its size, then flushes.
- The Kinesis reader polls the source streams of KinesisStreamAsSource delivery streams through the public
  Kinesis API (ListShards, GetShardIterator, GetRecords as firehose.amazonaws.com), children after their
  parents, and appends what it reads to the buffer with its checkpoint in the same transaction.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.services.firehose.delivery import S3_RETRY_SECONDS, DeliveryFailed, acting_as, buffering
from overcast.services.firehose.store import DeliveryStream
from overcast.services.kit.arns import parse_arn

if TYPE_CHECKING:
    from overcast.services.firehose.provider import FirehoseProvider

log = logging.getLogger("overcast.firehose")

IDLE_SECONDS = 60.0  # real seconds the flusher sleeps when no buffer is due sooner
SOURCE_POLL_SECONDS = 1.0  # real seconds between reads of a source stream's shards


class FirehoseWorkers:
    def __init__(self, service: FirehoseProvider) -> None:
        self.service = service
        self._wake = asyncio.Event()
        self._flushing: set[int] = set()  # delivery streams with a flush in progress

    def start(self) -> None:
        self.service.platform.spawn(self._flusher())
        self.service.platform.spawn(self._reader())

    def wake(self) -> None:
        self._wake.set()

    # -- flushing ------------------------------------------------------------------------------------

    def _due(self, stream: DeliveryStream, now: float) -> float | None:
        if stream.buffered_since is None:
            return None
        if stream.retry_at is not None:
            return stream.retry_at
        size, interval = buffering(stream.destination)
        return now if stream.buffered_bytes >= size else stream.buffered_since + interval

    async def _flusher(self) -> None:
        """Start a flush for every due buffer (each its own task: an HTTP endpoint retrying for minutes holds
        up no other delivery stream), then sleep until the next one is due or a put or a flush wakes it."""
        clock = self.service.clock
        while True:
            with self.service.db.transaction():
                streams = [s for s in self.service.store.buffering() if s.id not in self._flushing]
            now = clock.now()
            due = [(self._due(s, now), s) for s in streams]
            for moment, stream in due:
                if moment is not None and moment <= now:
                    self._flushing.add(stream.id)
                    self.service.platform.spawn(self._flush(stream))
            later = [m for m, _ in due if m is not None and m > now]
            await self._sleep(min(later) - now if later else IDLE_SECONDS)

    async def _flush(self, stream: DeliveryStream) -> None:
        try:
            await self.service.delivery.flush(stream)
        except DeliveryFailed as failure:
            self._retry_later(stream, str(failure))
        except Exception:  # a bug must not stop every delivery stream's flushing
            log.exception("firehose %s: delivery failed", stream.name)
            self._retry_later(stream, "internal error")
        finally:
            self._flushing.discard(stream.id)
            self.wake()  # more may have arrived meanwhile

    def _retry_later(self, stream: DeliveryStream, reason: str) -> None:
        now = self.service.clock.now()
        since = stream.failing_since or now
        store = self.service.store
        with self.service.db.transaction():
            current = store.stream_by_id(stream.id)
            if current is None:
                return
            if now - since >= S3_RETRY_SECONDS:
                log.warning(
                    "firehose %s: dropping a batch after 24 hours of failed delivery (%s)",
                    stream.name,
                    reason,
                )
                last = store.buffered(stream.id, 1 << 62)
                store.release(stream.id, last[-1].id if last else 0)
                return
            delay = min(60.0 * 2 ** min(int((now - since) // 60), 5), 600.0) if now > since else 5.0
            log.warning("firehose %s: %s; retrying in %.0f s", stream.name, reason, delay)
            store.update(stream.id, retry_at=now + delay, failing_since=since)

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        clock = self.service.clock
        woken = asyncio.ensure_future(self._wake.wait())
        moved = asyncio.ensure_future(clock.sleep_until(clock.now() + max(seconds, 0.0)))
        try:
            await asyncio.wait(
                {woken, moved}, timeout=max(seconds, 0.0) + 0.01, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            woken.cancel()
            moved.cancel()

    # -- Kinesis source ------------------------------------------------------------------------------

    async def _reader(self) -> None:
        while True:
            with self.service.db.transaction():
                sourced = self.service.store.sourced_streams()
            for stream in sourced:
                try:
                    await self._read_source(stream)
                except ServiceError as error:
                    log.info("firehose %s: reading its source failed: %s", stream.name, error.message)
            await asyncio.sleep(SOURCE_POLL_SECONDS)

    async def _kinesis(
        self, stream: DeliveryStream, operation: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        source_arn = stream.source["KinesisStreamSourceDescription"]["KinesisStreamARN"]
        arn = parse_arn(source_arn)
        assert arn is not None
        return await self.service.platform.call(
            "kinesis",
            operation,
            params,
            principal=await acting_as(
                self.service.platform, stream, stream.source["KinesisStreamSourceDescription"].get("RoleARN")
            ),
            account_id=arn.account,
            region=arn.region,
            condition_keys={"aws:SourceArn": stream.arn, "aws:SourceAccount": stream.account},
        )

    async def _read_source(self, stream: DeliveryStream) -> None:
        source = stream.source["KinesisStreamSourceDescription"]
        shards, token = [], None
        while True:
            page = await self._kinesis(
                stream,
                "ListShards",
                {"NextToken": token} if token else {"StreamARN": source["KinesisStreamARN"]},
            )
            shards += page.get("Shards", [])
            token = page.get("NextToken")
            if not token:
                break
        with self.service.db.transaction():
            marks = self.service.store.checkpoints(stream.id)
        listed = {s["ShardId"] for s in shards}
        for shard in shards:
            parents = [p for p in (shard.get("ParentShardId"), shard.get("AdjacentParentShardId")) if p]
            if marks.get(shard["ShardId"], (None, False))[1]:
                continue
            if any(p in listed and not marks.get(p, (None, False))[1] for p in parents):
                continue  # its parents first, so records of a key stay in order
            await self._read_shard(
                stream, shard["ShardId"], marks.get(shard["ShardId"], (None, False))[0], source
            )

    async def _read_shard(
        self, stream: DeliveryStream, shard: str, sequence: str | None, source: dict[str, Any]
    ) -> None:
        params: dict[str, Any] = {"StreamARN": source["KinesisStreamARN"], "ShardId": shard}
        if sequence:
            params.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=sequence)
        else:
            start = datetime.fromtimestamp(source["DeliveryStartTimestamp"], UTC)
            params.update(ShardIteratorType="AT_TIMESTAMP", Timestamp=start)
        iterator = (await self._kinesis(stream, "GetShardIterator", params))["ShardIterator"]
        answer = await self._kinesis(stream, "GetRecords", {"ShardIterator": iterator, "Limit": 10000})
        records = answer.get("Records", [])
        rows = [
            (
                _epoch(r["ApproximateArrivalTimestamp"]),
                r["Data"],
                json.dumps(
                    {
                        "shardId": shard,
                        "partitionKey": r["PartitionKey"],
                        "approximateArrivalTimestamp": int(_epoch(r["ApproximateArrivalTimestamp"]) * 1000),
                        "sequenceNumber": r["SequenceNumber"],
                        "subsequenceNumber": 0,
                    }
                ),
            )
            for r in records
        ]
        finished = "NextShardIterator" not in answer
        with self.service.db.transaction():
            if self.service.store.stream_by_id(stream.id) is None:
                return
            if rows:
                self.service.store.buffer(stream.id, rows)
            last = records[-1]["SequenceNumber"] if records else None
            self.service.store.checkpoint(stream.id, shard, last, finished)
        if rows:
            self.wake()


def _epoch(value: Any) -> float:
    """Epoch seconds of a timestamp an internal call answered (a number, or a datetime)."""
    return value.timestamp() if isinstance(value, datetime) else float(value)
