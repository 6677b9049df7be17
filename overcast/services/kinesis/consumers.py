"""Enhanced fan-out: registered stream consumers and SubscribeToShard, which pushes a shard's records over the
event stream for five minutes (virtual clock), as they arrive.

A subscription holds no records in memory: each event is one read of the records table from the
subscription's position. A second subscription of the same consumer to the same shard within five seconds is
refused; a later one takes the subscription over and the earlier stream ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kinesis import errors
from overcast.services.kinesis.records import Batch, read_batch, record_shapes, starting_point
from overcast.services.kinesis.store import Consumer, Shard, Stream
from overcast.services.kinesis.tagging import RULES
from overcast.services.kit.paging import decode_token, encode_token

if TYPE_CHECKING:
    from overcast.services.kinesis.provider import KinesisProvider

MAX_CONSUMERS = 20
SUBSCRIPTION_SECONDS = 300.0
TAKEOVER_SECONDS = 5.0
EVENT_RECORDS = 10_000
HEARTBEAT_SECONDS = 5.0  # real seconds between empty events while nothing arrives


def _time(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


class ConsumerOperations(Operations):
    service: KinesisProvider

    def register_stream_consumer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.active_stream(ctx, {"StreamARN": params["StreamARN"]})
        name = params["ConsumerName"]
        store = self.service.store
        if store.consumer(stream.id, name) is not None:
            raise ServiceError(
                "ResourceInUseException",
                f"Consumer {name} under stream {stream.arn} already exists.",
            )
        if store.consumer_count(stream.id) >= MAX_CONSUMERS:
            raise ServiceError(
                "LimitExceededException",
                f"Stream {stream.arn} already has the maximum of {MAX_CONSUMERS} registered consumers.",
            )
        now = self.clock.now()
        arn = f"{stream.arn}/consumer/{name}:{int(now)}"
        store.add_consumer(stream.id, name, arn, now)
        if params.get("Tags"):
            self.service.tags.add(arn, params["Tags"], RULES, account=stream.account, region=stream.region)
        return {
            "Consumer": {
                "ConsumerName": name,
                "ConsumerARN": arn,
                "ConsumerStatus": "CREATING",
                "ConsumerCreationTimestamp": _time(now),
            }
        }

    def describe_stream_consumer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        consumer, stream = self._consumer(ctx, params)
        return {
            "ConsumerDescription": {
                "ConsumerName": consumer.name,
                "ConsumerARN": consumer.arn,
                "ConsumerStatus": "ACTIVE",
                "ConsumerCreationTimestamp": _time(consumer.created),
                "StreamARN": stream.arn,
            }
        }

    def list_stream_consumers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.stream_for(ctx, {"StreamARN": params["StreamARN"]})
        limit = params.get("MaxResults") or 100
        after = decode_token(params.get("NextToken"), _bad_token, stream.arn) or ""
        rows = self.service.store.consumers(stream.id, after, limit + 1)
        result: dict[str, Any] = {
            "Consumers": [
                {
                    "ConsumerName": c.name,
                    "ConsumerARN": c.arn,
                    "ConsumerStatus": "ACTIVE",
                    "ConsumerCreationTimestamp": _time(c.created),
                }
                for c in rows[:limit]
            ]
        }
        if len(rows) > limit:
            result["NextToken"] = encode_token(rows[limit - 1].name, stream.arn)
        return result

    def deregister_stream_consumer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        consumer, _ = self._consumer(ctx, params)
        self.service.store.remove_consumer(consumer.id)
        self.service.tags.forget(consumer.arn)
        return {}

    def _consumer(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[Consumer, Stream]:
        store = self.service.store
        if params.get("ConsumerARN"):
            consumer = store.consumer_by_arn(params["ConsumerARN"])
            if consumer is None:
                raise errors.consumer_not_found(params["ConsumerARN"])
        elif params.get("StreamARN") and params.get("ConsumerName"):
            stream = self.service.stream_for(ctx, {"StreamARN": params["StreamARN"]})
            consumer = store.consumer(stream.id, params["ConsumerName"])
            if consumer is None:
                raise ServiceError(
                    "ResourceNotFoundException",
                    f"Consumer {params['ConsumerName']} under stream {stream.arn} not found.",
                )
        else:
            raise errors.invalid("Either ConsumerARN or both StreamARN and ConsumerName must be provided.")
        stream = store.stream_by_id(consumer.stream)
        assert stream is not None
        return consumer, stream

    # -- SubscribeToShard ----------------------------------------------------------------------------

    async def subscribe_to_shard(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction():
            consumer, stream = self._consumer(ctx, {"ConsumerARN": params["ConsumerARN"]})
            shard = self.service.shard_for(stream, params["ShardId"])
            position = params["StartingPosition"]
            after = starting_point(
                self.service,
                stream,
                shard,
                position["Type"],
                position.get("SequenceNumber"),
                position.get("Timestamp"),
            )
        if params.get("DryRun"):
            raise ServiceError(
                "DryRunOperationException", "Request would have succeeded, but DryRun flag is set."
            )
        key = (consumer.arn, shard.index)
        now = self.clock.now()
        began = self.service.subscriptions.get(key)
        if began is not None and now - began < TAKEOVER_SECONDS:
            raise ServiceError(
                "ResourceInUseException",
                f"Another active subscription exists for consumer {consumer.arn} and shard {params['ShardId']}.",
            )
        self.service.subscriptions[key] = now
        return {"EventStream": self._events(stream, shard, key, now, after)}

    async def _events(
        self, stream: Stream, shard: Shard, key: tuple[str, int], began: float, after: int
    ) -> AsyncIterator[dict[str, Any]]:
        """SubscribeToShardEvents from `after` until the subscription's five minutes are over, another
        subscription takes it over, or the shard (closed) has been read to its end."""
        service = self.service
        try:
            while service.subscriptions.get(key) == began:
                with self.db.transaction():
                    current = service.store.shard(stream.id, shard.index)
                    if current is None:
                        return
                    batch = read_batch(service, stream, current, after, EVENT_RECORDS)
                    event = self._event(stream, current, batch)
                after = batch.last
                yield {"SubscribeToShardEvent": event}
                remaining = began + SUBSCRIPTION_SECONDS - self.clock.now()
                if batch.ended or remaining <= 0:
                    return
                if not batch.records:
                    await service.wait_for_records(stream.id, min(HEARTBEAT_SECONDS, remaining))
        finally:
            if service.subscriptions.get(key) == began:
                del service.subscriptions[key]

    def _event(self, stream: Stream, shard: Shard, batch: Batch) -> dict[str, Any]:
        """One SubscribeToShardEvent; a closed shard's last one names its children."""
        service = self.service
        now = self.clock.now()
        arrival = batch.records[-1].arrival if batch.records else now
        event: dict[str, Any] = {
            "Records": record_shapes(stream, shard, batch.records),
            "ContinuationSequenceNumber": service.record_sequence(shard, batch.last, arrival),
            "MillisBehindLatest": batch.millis_behind(now),
        }
        if batch.ended:
            event["ChildShards"] = service.child_shapes(stream, shard)
        return event


def _bad_token() -> ServiceError:
    return errors.invalid("Invalid NextToken.")
