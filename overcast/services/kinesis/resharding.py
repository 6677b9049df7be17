"""Resharding: SplitShard, MergeShards and UpdateShardCount (uniform scaling).

A split or merge closes its parent shard(s) at once and opens the child shard(s); a closed parent keeps its
records, readable to their end, until the retention period has passed. UpdateShardCount does what AWS says it
does: splits and merges of individual shards, so every new shard names its parents and consumers can finish a
parent before they read its children (short-lived intermediate shards appear, closed, as in AWS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kinesis import errors
from overcast.services.kinesis.shards import even_ranges, shard_id, uniform_boundaries
from overcast.services.kinesis.store import Shard, Stream
from overcast.services.kinesis.streams import limit_exceeded, shard_limit

if TYPE_CHECKING:
    from overcast.services.kinesis.provider import KinesisProvider


@dataclass
class Reshard:
    """The shards one resharding request closes and opens, applied to the store at the end."""

    stream: Stream
    now: float
    next_index: int
    closed: list[Shard] = field(default_factory=list)  # existing shards it closes
    opened: list[Shard] = field(default_factory=list)  # shards it creates (some closed again at once)

    def _child(self, start: int, end: int, parent: int, adjacent: int | None = None) -> Shard:
        child = Shard(
            self.stream.id,
            self.next_index,
            parent,
            adjacent,
            start,
            end,
            self.now,
            self.stream.next_counter,
            None,
        )
        self.next_index += 1
        self.opened.append(child)
        return child

    def _close(self, shard: Shard) -> None:
        shard.closed = self.now
        if shard not in self.opened:
            self.closed.append(shard)

    def split(self, shard: Shard, new_start: int) -> tuple[Shard, Shard]:
        self._close(shard)
        return (
            self._child(shard.start_hash, new_start - 1, shard.index),
            self._child(new_start, shard.end_hash, shard.index),
        )

    def merge(self, shard: Shard, adjacent: Shard) -> Shard:
        self._close(shard)
        self._close(adjacent)
        start, end = min(shard.start_hash, adjacent.start_hash), max(shard.end_hash, adjacent.end_hash)
        return self._child(start, end, shard.index, adjacent.index)


class ReshardingOperations(Operations):
    service: KinesisProvider

    def split_shard(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._reshardable(ctx, params, "SplitShard")
        shard = self._open_shard(stream, params["ShardToSplit"])
        key = int(params["NewStartingHashKey"])
        if key <= shard.start_hash + 1 or key >= shard.end_hash:
            raise errors.invalid(
                f"NewStartingHashKey {params['NewStartingHashKey']} used in SplitShard() on shard "
                f"{shard_id(shard.index)} in stream {stream.name} under account {stream.account} is not both "
                f"greater than one plus the shard's StartingHashKey {shard.start_hash} and less than the shard's "
                f"EndingHashKey {shard.end_hash}."
            )
        self._check_limit(stream, 1)
        plan = self._plan(stream)
        plan.split(shard, key)
        self._apply(plan)
        return {}

    def merge_shards(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._reshardable(ctx, params, "MergeShards")
        shard = self._open_shard(stream, params["ShardToMerge"])
        adjacent = self._open_shard(stream, params["AdjacentShardToMerge"])
        if shard.end_hash + 1 != adjacent.start_hash and adjacent.end_hash + 1 != shard.start_hash:
            raise errors.invalid(
                f"Shards {shard_id(shard.index)} and {shard_id(adjacent.index)} in stream {stream.name} under "
                f"account {stream.account} are not an adjacent pair of shards eligible for merging"
            )
        plan = self._plan(stream)
        plan.merge(shard, adjacent)
        self._apply(plan)
        return {}

    def update_shard_count(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self._reshardable(ctx, params, "UpdateShardCount")
        current = self.service.store.open_shards(stream.id)
        target = params["TargetShardCount"]
        counts = f"Current open shard count: {len(current)}, Target shard count: {target}"
        if target > 2 * len(current):
            raise ServiceError(
                "LimitExceededException",
                f"UpdateShardCount cannot scale up over double your current open shard count. {counts}",
            )
        if target * 2 < len(current):
            raise ServiceError(
                "LimitExceededException",
                f"UpdateShardCount cannot scale down below half your current open shard count. {counts}",
            )
        self._check_limit(stream, max(0, target - len(current)))
        if target != len(current):
            self._apply(self._uniform(stream, current, target))
        return {
            "StreamName": stream.name,
            "CurrentShardCount": len(current),
            "TargetShardCount": target,
            "StreamARN": stream.arn,
        }

    # -- helpers -------------------------------------------------------------------------------------

    def _reshardable(self, ctx: RequestContext, params: dict[str, Any], operation: str) -> Stream:
        stream = self.service.active_stream(ctx, params)
        if stream.on_demand:
            raise errors.validation(
                f"{operation} is not supported for stream {stream.name} under account {stream.account} because it "
                "is in ON_DEMAND capacity mode."
            )
        return stream

    def _open_shard(self, stream: Stream, text: str) -> Shard:
        shard = self.service.shard_for(stream, text, wording="reshard")
        if shard.closed is not None:
            raise errors.invalid(
                f"Shard {shard_id(shard.index)} in stream {stream.name} under account {stream.account} has already "
                "been merged or split, and thus is not eligible for merging or splitting."
            )
        return shard

    def _check_limit(self, stream: Stream, more: int) -> None:
        open_count, _ = self.service.store.stream_counts(stream.account, stream.region)
        if open_count + more > shard_limit(stream.region):
            raise limit_exceeded(stream.account, stream.region, open_count, more)

    def _plan(self, stream: Stream) -> Reshard:
        return Reshard(stream, self.clock.now(), stream.next_shard)

    def _uniform(self, stream: Stream, current: list[Shard], target: int) -> Reshard:
        """Split every open shard at the new boundaries inside it, then merge the pieces of each new range."""
        plan = self._plan(stream)
        boundaries = uniform_boundaries(target)
        pieces: list[Shard] = []
        for shard in sorted(current, key=lambda s: s.start_hash):
            for cut in [k for k in boundaries if shard.start_hash < k <= shard.end_hash]:
                low, shard = plan.split(shard, cut)
                pieces.append(low)
            pieces.append(shard)
        for start, end in even_ranges(target):
            group = [p for p in pieces if start <= p.start_hash and p.end_hash <= end]
            merged = group[0]
            for piece in group[1:]:
                merged = plan.merge(merged, piece)
        return plan

    def _apply(self, plan: Reshard) -> None:
        store = self.service.store
        for shard in plan.closed:
            store.close_shard(plan.stream.id, shard.index, plan.now)
        store.add_shards(plan.opened)
        store.update_stream(
            plan.stream.id, next_shard=plan.next_index, shard_version=plan.stream.shard_version + 1
        )
