"""Kinesis Data Streams: the provider composes the operation families and holds what they share."""

from __future__ import annotations

import asyncio
import json
import os
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import ServiceProvider
from overcast.services.kinesis import errors, metrics
from overcast.services.kinesis.consumers import ConsumerOperations
from overcast.services.kinesis.kms_keys import StreamKeys
from overcast.services.kinesis.records import RecordOperations
from overcast.services.kinesis.resharding import ReshardingOperations
from overcast.services.kinesis.shards import (
    MAX_COUNTER,
    Routes,
    Sequence,
    decode_iterator,
    format_sequence,
    sequence_number,
    shard_id,
    shard_index,
)
from overcast.services.kinesis.store import KinesisStore, Shard, Stream
from overcast.services.kinesis.streams import StreamOperations
from overcast.services.kinesis.tagging import PolicyOperations, TagOperations
from overcast.services.kinesis.throttling import Throttle
from overcast.services.kinesis.workers import KinesisWorkers
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.metrics import MetricCounters, MetricPoint

if TYPE_CHECKING:
    from overcast.platform import Platform


class KinesisProvider(ServiceProvider):
    service_name = "kinesis"
    families = (
        StreamOperations,
        ReshardingOperations,
        RecordOperations,
        ConsumerOperations,
        TagOperations,
        PolicyOperations,
    )

    def tagging_request(self, arn: str, add=None, remove=None) -> tuple[str, dict[str, Any]] | None:
        """TagResource / UntagResource of a stream or consumer (the Resource Groups Tagging API's road)."""
        if add is not None:
            return "TagResource", {"ResourceARN": arn, "Tags": dict(add)}
        return "UntagResource", {"ResourceARN": arn, "TagKeys": list(remove or ())}

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.store = KinesisStore(self.db)
        self.throttle = Throttle(enabled=_throttling_by_default())
        self.workers = KinesisWorkers(self)
        self._arrivals: dict[int, asyncio.Event] = {}  # stream id -> set when records arrive
        self._routes: dict[int, tuple[int, Routes]] = {}  # stream id -> (shard version, its open shards)
        # (consumer ARN, shard index) -> when its current SubscribeToShard began (virtual time)
        self.subscriptions: dict[tuple[str, int], float] = {}
        self.metrics = MetricCounters()  # AWS/Kinesis per stream, collected by CloudWatch (metrics.py)
        self.keys = StreamKeys(self)  # SSE-KMS: the KMS requests producers and consumers make through Kinesis

    async def start(self) -> None:
        self.workers.start()

    def reset(self) -> None:
        self.throttle = Throttle(enabled=_throttling_by_default())
        self._routes.clear()
        self.subscriptions.clear()
        self.metrics = MetricCounters()
        self.keys.forget()

    def handler(self, operation: str):
        found = super().handler(operation)
        if found is None or operation not in metrics.METERED:
            return found
        method, now = found[0], self.clock.now
        return (lambda ctx, params: metrics.metered(self.metrics, now, operation, method, ctx, params)), False

    def published_metrics(self, minutes: list[float]) -> list[MetricPoint]:
        """AWS/Kinesis per stream for the minute that ended last (metrics.py)."""
        return metrics.published(self.metrics, self.clock.now(), minutes)

    # -- authorization hooks -------------------------------------------------------------------------

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        for member in ("ResourceARN", "ConsumerARN", "StreamARN"):
            if params.get(member):
                return str(params[member])
        if params.get("ShardIterator"):  # GetRecords: the stream the iterator reads, whoever's it is
            iterator = decode_iterator(str(params["ShardIterator"]))
            if iterator is not None:
                return iterator.stream_arn
        name = params.get("StreamName")
        return ctx.arn("kinesis", f"stream/{name}") if name else None

    def authorization_resource(self, ctx: RequestContext, arn: str) -> Any:
        """A stream's or consumer's owner, resource policy and tags, for the policy engine."""
        from overcast.policy.enforcement import ResourcePolicy

        parsed = parse_arn(arn)
        if parsed is None or parsed.service != "kinesis" or not parsed.resource.startswith("stream/"):
            return None
        if "/consumer/" in parsed.resource:
            consumer = self.store.consumer_by_arn(arn)
            if consumer is None:
                return None
            return ResourcePolicy(parsed.account, consumer.policy, self.tags.get(arn))
        stream = self.store.stream(parsed.account, parsed.region, parsed.resource_id)
        if stream is None:
            return None
        return ResourcePolicy(stream.account, stream.policy, self.tags.get(stream.arn))

    async def internal_endpoint(self, request: Any, path: str) -> Any:
        """/_overcast/kinesis/throttling: GET tells, POST {"enabled": bool} turns the shard limits on or off."""
        from overcast.http import json_response

        if path != "/_overcast/kinesis/throttling" or request.method not in ("GET", "POST"):
            return json_response({"error": f"no internal endpoint {request.method} {path}"}, 404)
        if request.method == "POST":
            try:
                enabled = json.loads(request.body or b"{}")["enabled"]
                if not isinstance(enabled, bool):
                    raise TypeError(enabled)
            except (ValueError, KeyError, TypeError):
                return json_response({"error": 'expected {"enabled": true|false}'}, 400)
            self.throttle.enabled = enabled
            self.throttle.forget()
        return json_response({"enabled": self.throttle.enabled})

    # -- streams -------------------------------------------------------------------------------------

    def stream_ref(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[str, str, str]:
        """(account, region, name) of the stream a request names by StreamARN and/or StreamName."""
        name = params.get("StreamName")
        arn_text = params.get("StreamARN")
        if arn_text:
            arn = parse_arn(arn_text)
            if arn is None or not arn.resource.startswith("stream/"):
                raise errors.invalid(f"Invalid StreamARN {arn_text}.")
            if name and name != arn.resource_id:
                raise errors.invalid(
                    f"StreamName {name} and StreamARN {arn_text} do not refer to the same stream."
                )
            return arn.account, arn.region, arn.resource_id
        if not name:
            raise errors.invalid("Either StreamName or StreamARN should be provided.")
        return ctx.account_id, ctx.region, name

    def stream_for(self, ctx: RequestContext, params: dict[str, Any]) -> Stream:
        account, region, name = self.stream_ref(ctx, params)
        stream = self.store.stream(account, region, name)
        if stream is None:
            raise errors.stream_not_found(name, account)
        return stream

    def active_stream(self, ctx: RequestContext, params: dict[str, Any]) -> Stream:
        stream = self.stream_for(ctx, params)
        if stream.status != "ACTIVE":
            raise errors.not_active(stream.name, stream.account, stream.status)
        return stream

    def readable_stream(self, ctx: RequestContext, params: dict[str, Any]) -> Stream:
        """A stream records may be read from or written to: not one being deleted."""
        stream = self.stream_for(ctx, params)
        if stream.status == "DELETING":
            raise errors.stream_not_found(stream.name, stream.account)
        return stream

    def cutoff(self, stream: Stream) -> float:
        """Records that arrived before this moment are past the stream's retention period."""
        return self.clock.now() - stream.retention_hours * 3600

    def visible_shards(self, stream: Stream) -> list[Shard]:
        """The shards a stream lists: the open ones and the closed ones still holding retained records."""
        cutoff = self.cutoff(stream)
        return [s for s in self.store.shards(stream.id) if s.closed is None or s.closed >= cutoff]

    def shard_for(self, stream: Stream, text: str, *, wording: str = "read") -> Shard:
        """The stream's shard named `text`; ResourceNotFoundException in the operation's wording."""
        index = shard_index(text)
        shard = self.store.shard(stream.id, index) if index is not None else None
        if shard is None or (shard.closed is not None and shard.closed < self.cutoff(stream)):
            name = shard_id(index) if index is not None else text
            if wording == "reshard":
                raise errors.no_such_shard(name, stream.name, stream.account)
            raise errors.shard_not_found(name, stream.name, stream.account)
        return shard

    def shard_routes(self, stream: Stream) -> Routes:
        """The stream's open shards by hash key, cached until its shards change (every put routes through
        them; a handful of rows per stream, not records)."""
        cached = self._routes.get(stream.id)
        if cached is None or cached[0] != stream.shard_version:
            cached = (stream.shard_version, Routes(self.store.open_shards(stream.id)))
            if len(self._routes) > 10_000:
                self._routes.clear()
            self._routes[stream.id] = cached
        return cached[1]

    # -- shapes --------------------------------------------------------------------------------------

    @staticmethod
    def starting_sequence(shard: Shard) -> str:
        """Just below the shard's first record: AFTER_SEQUENCE_NUMBER of it reads the whole shard."""
        created = int(shard.created)
        return format_sequence(Sequence(created, shard.index, shard.start_counter - 1, created))

    @staticmethod
    def record_sequence(shard: Shard, counter: int, arrival: float) -> str:
        return sequence_number(int(shard.created), shard.index, counter, int(arrival))

    def shard_shape(self, shard: Shard) -> dict[str, Any]:
        shape: dict[str, Any] = {"ShardId": shard_id(shard.index)}
        if shard.parent is not None:
            shape["ParentShardId"] = shard_id(shard.parent)
        if shard.adjacent_parent is not None:
            shape["AdjacentParentShardId"] = shard_id(shard.adjacent_parent)
        shape["HashKeyRange"] = {
            "StartingHashKey": str(shard.start_hash),
            "EndingHashKey": str(shard.end_hash),
        }
        sequence_range = {"StartingSequenceNumber": self.starting_sequence(shard)}
        if shard.closed is not None:
            ending = Sequence(int(shard.created), shard.index, MAX_COUNTER, int(shard.closed))
            sequence_range["EndingSequenceNumber"] = format_sequence(ending)
        shape["SequenceNumberRange"] = sequence_range
        return shape

    def child_shapes(self, stream: Stream, shard: Shard) -> list[dict[str, Any]]:
        """ChildShards of GetRecords and SubscribeToShard at the end of a closed shard."""
        shapes = []
        for child in self.store.children(stream.id, shard.index):
            parents = [shard_id(p) for p in (child.parent, child.adjacent_parent) if p is not None]
            shapes.append(
                {
                    "ShardId": shard_id(child.index),
                    "ParentShards": parents,
                    "HashKeyRange": {
                        "StartingHashKey": str(child.start_hash),
                        "EndingHashKey": str(child.end_hash),
                    },
                }
            )
        return shapes

    # -- record arrivals (enhanced fan-out and pollers wait on them instead of polling) -----------------

    def notify(self, stream_id: int) -> None:
        event = self._arrivals.pop(stream_id, None)
        if event is not None:
            event.set()

    async def wait_for_records(self, stream_id: int, timeout: float) -> None:
        """Return when records arrive in the stream, the clock moves, or `timeout` real seconds pass."""
        event = self._arrivals.setdefault(stream_id, asyncio.Event())
        clock_moved = asyncio.ensure_future(self.clock.wait_for_change(timeout))
        arrived = asyncio.ensure_future(event.wait())
        try:
            await asyncio.wait({clock_moved, arrived}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (clock_moved, arrived):
                task.cancel()


def _throttling_by_default() -> bool:
    """Shard limits apply unless OVERCAST_KINESIS_THROTTLING says otherwise (0, false, no, off)."""
    return os.environ.get("OVERCAST_KINESIS_THROTTLING", "1").lower() not in ("0", "false", "no", "off")
