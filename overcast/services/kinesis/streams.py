"""Streams: create, describe, list, delete; shards listing; retention, capacity mode, encryption, monitoring."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kinesis import errors
from overcast.services.kinesis.shards import even_ranges, shard_index
from overcast.services.kinesis.store import Shard, Stream
from overcast.services.kinesis.tagging import RULES
from overcast.services.kit.paging import decode_token, encode_token

if TYPE_CHECKING:
    from overcast.services.kinesis.provider import KinesisProvider

ON_DEMAND_SHARDS = 4
ON_DEMAND_STREAM_LIMIT = 50
MIN_RETENTION, MAX_RETENTION = 24, 8760
ALL_METRICS = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
]
_BIG_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")


def shard_limit(region: str) -> int:
    """The default shard quota of an account in a region."""
    return 500 if region in _BIG_REGIONS else 200


def limit_exceeded(account: str, region: str, current: int, more: int) -> ServiceError:
    return ServiceError(
        "LimitExceededException",
        f"This request would exceed the shard limit for the account {account} in {region}. Current shard count "
        f"for the account: {current}. Limit: {shard_limit(region)}. Number of additional shards that would have "
        f"resulted from this request: {more}. Refer to the AWS Service Limits page "
        "(https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to "
        "request higher limits.",
    )


def _stream_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(random.choices(alphabet, k=20)) + "-" + "".join(random.choices(alphabet, k=3))


def _timestamp(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


class StreamOperations(Operations):
    service: KinesisProvider

    def create_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["StreamName"]
        mode = (params.get("StreamModeDetails") or {}).get("StreamMode") or "PROVISIONED"
        count = params.get("ShardCount")
        if mode == "PROVISIONED" and count is None:
            raise errors.invalid("ShardCount is required for a stream in PROVISIONED mode.")
        if mode == "ON_DEMAND":
            if count is not None:
                raise errors.invalid("ShardCount must not be specified for a stream in ON_DEMAND mode.")
            count = ON_DEMAND_SHARDS
        store = self.service.store
        if store.stream(ctx.account_id, ctx.region, name) is not None:
            raise ServiceError(
                "ResourceInUseException", f"Stream {name} under account {ctx.account_id} already exists."
            )
        open_count, on_demand_count = store.stream_counts(ctx.account_id, ctx.region)
        if open_count + count > shard_limit(ctx.region):
            raise limit_exceeded(ctx.account_id, ctx.region, open_count, count)
        if mode == "ON_DEMAND" and on_demand_count >= ON_DEMAND_STREAM_LIMIT:
            raise ServiceError(
                "LimitExceededException",
                f"This request would exceed the on-demand stream limit for the account {ctx.account_id} in "
                f"{ctx.region}. Limit: {ON_DEMAND_STREAM_LIMIT}.",
            )
        tags = params.get("Tags") or {}
        RULES.check(tags)
        now = self.clock.now()
        warm = params.get("WarmThroughputMiBps") if mode == "ON_DEMAND" else None
        sid = store.create_stream(
            ctx.account_id,
            ctx.region,
            name,
            _stream_id(),
            mode,
            now,
            params.get("MaxRecordSizeInKiB") or 1024,
            warm,
        )
        store.add_shards(
            Shard(sid, i, None, None, start, end, now, 1, None)
            for i, (start, end) in enumerate(even_ranges(count))
        )
        store.update_stream(sid, next_shard=count)
        if tags:
            arn = f"arn:aws:kinesis:{ctx.region}:{ctx.account_id}:stream/{name}"
            self.service.tags.add(arn, tags, RULES, account=ctx.account_id, region=ctx.region)
        return {}

    def delete_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.stream_for(ctx, params)
        if stream.status == "DELETING":
            raise errors.stream_not_found(stream.name, stream.account)
        consumers = self.service.store.consumer_arns(stream.id)
        if consumers and not params.get("EnforceConsumerDeletion"):
            raise ServiceError(
                "ResourceInUseException",
                f"Stream {stream.name} under account {stream.account} has registered consumers. Deregister them "
                "first or set EnforceConsumerDeletion.",
            )
        for arn in [stream.arn, *consumers]:
            self.service.tags.forget(arn)
        self.service.store.update_stream(stream.id, status="DELETING")
        self.service.workers.wake()
        return {}

    # -- describing ----------------------------------------------------------------------------------

    def _common(self, stream: Stream) -> dict[str, Any]:
        shape: dict[str, Any] = {
            "StreamName": stream.name,
            "StreamARN": stream.arn,
            "StreamStatus": stream.status,
            "StreamModeDetails": {"StreamMode": stream.mode},
            "RetentionPeriodHours": stream.retention_hours,
            "StreamCreationTimestamp": _timestamp(stream.created),
            "EnhancedMonitoring": [{"ShardLevelMetrics": list(stream.metrics)}],
            "EncryptionType": stream.encryption,
        }
        if stream.key_id:
            shape["KeyId"] = stream.key_id
        return shape

    def describe_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.stream_for(ctx, params)
        limit = params.get("Limit") or 100
        shards = self.service.visible_shards(stream)
        start = params.get("ExclusiveStartShardId")
        if start:
            after = shard_index(start)
            shards = [s for s in shards if after is not None and s.index > after]
        page = shards[:limit]
        description = self._common(stream)
        description["Shards"] = [self.service.shard_shape(s) for s in page]
        description["HasMoreShards"] = len(shards) > limit
        return {"StreamDescription": description}

    def describe_stream_summary(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.stream_for(ctx, params)
        summary = self._common(stream)
        summary["StreamId"] = stream.stream_id
        summary["OpenShardCount"] = len(self.service.store.open_shards(stream.id))
        summary["ConsumerCount"] = self.service.store.consumer_count(stream.id)
        summary["MaxRecordSizeInKiB"] = stream.max_record_kib
        if stream.on_demand and stream.warm_mibps is not None:
            summary["WarmThroughput"] = {"TargetMiBps": stream.warm_mibps, "CurrentMiBps": stream.warm_mibps}
        return {"StreamDescriptionSummary": summary}

    def list_streams(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = min(params.get("Limit") or 100, 100)
        after = params.get("ExclusiveStartStreamName") or ""
        if params.get("NextToken"):
            after = decode_token(params["NextToken"], _bad_token, "ListStreams")
        rows = self.service.store.streams_after(ctx.account_id, ctx.region, after, limit + 1)
        page = rows[:limit]
        result: dict[str, Any] = {
            "StreamNames": [s.name for s in page],
            "HasMoreStreams": len(rows) > limit,
            "StreamSummaries": [
                {
                    "StreamName": s.name,
                    "StreamARN": s.arn,
                    "StreamStatus": s.status,
                    "StreamModeDetails": {"StreamMode": s.mode},
                    "StreamCreationTimestamp": _timestamp(s.created),
                }
                for s in page
            ],
        }
        if len(rows) > limit:
            result["NextToken"] = encode_token(page[-1].name, "ListStreams")
        return result

    def list_shards(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        token = params.get("NextToken")
        if token and (params.get("StreamName") or params.get("StreamARN")):
            raise errors.invalid("NextToken and StreamName cannot be provided together.")
        if not token and not (params.get("StreamName") or params.get("StreamARN")):
            raise errors.invalid("Either NextToken or StreamName should be provided.")
        after = -1
        shard_filter = params.get("ShardFilter")
        if token:
            account, region, name, after, shard_filter = decode_token(token, _bad_token, "ListShards")
            stream = self.service.stream_for(
                ctx, {"StreamARN": f"arn:aws:kinesis:{region}:{account}:stream/{name}"}
            )
        else:
            stream = self.service.stream_for(ctx, params)
            if params.get("ExclusiveStartShardId"):
                start = shard_index(params["ExclusiveStartShardId"])
                after = start if start is not None else after
        limit = params.get("MaxResults") or 1000
        shards = [s for s in self._filtered(stream, shard_filter) if s.index > after]
        page = shards[:limit]
        result: dict[str, Any] = {"Shards": [self.service.shard_shape(s) for s in page]}
        if len(shards) > limit:
            position = [stream.account, stream.region, stream.name, page[-1].index, shard_filter]
            result["NextToken"] = encode_token(position, "ListShards")
        return result

    def _filtered(self, stream: Stream, shard_filter: dict[str, Any] | None) -> list[Shard]:
        shards = self.service.visible_shards(stream)
        if not shard_filter:
            return shards
        kind = shard_filter["Type"]
        moment = shard_filter.get("Timestamp")
        if kind == "AFTER_SHARD_ID":
            if not shard_filter.get("ShardId"):
                raise errors.invalid("ShardId must be provided for the AFTER_SHARD_ID ShardFilter type.")
            after = shard_index(shard_filter["ShardId"])
            return [s for s in shards if after is not None and s.index > after]
        if kind == "AT_LATEST":
            return [s for s in shards if s.closed is None]
        if kind == "FROM_TRIM_HORIZON":
            return shards
        if kind in ("AT_TIMESTAMP", "FROM_TIMESTAMP"):
            if moment is None:
                raise errors.invalid(f"Timestamp must be provided for the {kind} ShardFilter type.")
            at = max(moment.timestamp() if isinstance(moment, datetime) else float(moment), stream.created)
        else:  # AT_TRIM_HORIZON
            at = max(self.service.cutoff(stream), stream.created)
        alive = [s for s in shards if s.closed is None or s.closed > at]
        if kind == "FROM_TIMESTAMP":
            return alive
        return [s for s in alive if s.created <= at]

    # -- settings ------------------------------------------------------------------------------------

    def increase_stream_retention_period(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.active_stream(ctx, params)
        hours = params["RetentionPeriodHours"]
        _check_retention(hours)
        if hours < stream.retention_hours:
            raise errors.invalid(
                f"Requested retention period ({hours} hours) for stream {stream.name} can not be shorter than "
                f"existing retention period ({stream.retention_hours} hours). Use DecreaseRetentionPeriod API."
            )
        self.service.store.update_stream(stream.id, retention_hours=hours)
        return {}

    def decrease_stream_retention_period(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.active_stream(ctx, params)
        hours = params["RetentionPeriodHours"]
        _check_retention(hours)
        if hours > stream.retention_hours:
            raise errors.invalid(
                f"Requested retention period ({hours} hours) for stream {stream.name} can not be longer than "
                f"existing retention period ({stream.retention_hours} hours). Use IncreaseRetentionPeriod API."
            )
        self.service.store.update_stream(stream.id, retention_hours=hours)
        self.service.workers.wake()
        return {}

    def update_stream_mode(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.active_stream(ctx, params)
        mode = params["StreamModeDetails"]["StreamMode"]
        if mode == stream.mode:
            raise errors.invalid(
                f"Stream {stream.name} under account {stream.account} is already in {mode} mode."
            )
        warm = params.get("WarmThroughputMiBps") if mode == "ON_DEMAND" else None
        self.service.store.update_stream(stream.id, mode=mode, warm_mibps=warm)
        return {}

    def update_max_record_size(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.active_stream(ctx, params)
        self.service.store.update_stream(stream.id, max_record_kib=params["MaxRecordSizeInKiB"])
        return {}

    def start_stream_encryption(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Producers and consumers go through the key from now on (kms_keys.py); the caller must be able to use it."""
        stream = self.service.active_stream(ctx, params)
        if params["EncryptionType"] != "KMS":
            raise errors.invalid("EncryptionType must be KMS to start stream encryption.")
        self.service.keys.check_key(ctx, stream, params["KeyId"])
        self.service.store.update_stream(stream.id, encryption="KMS", key_id=params["KeyId"])
        return {}

    def stop_stream_encryption(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.active_stream(ctx, params)
        self.service.store.update_stream(stream.id, encryption="NONE", key_id=None)
        return {}

    def enable_enhanced_monitoring(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._monitoring(ctx, params, enable=True)

    def disable_enhanced_monitoring(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._monitoring(ctx, params, enable=False)

    def _monitoring(self, ctx: RequestContext, params: dict[str, Any], enable: bool) -> dict[str, Any]:
        stream = self.service.active_stream(ctx, params)
        asked = params["ShardLevelMetrics"]
        named = ALL_METRICS if "ALL" in asked else asked
        current = list(stream.metrics)
        if enable:
            desired = [m for m in ALL_METRICS if m in current or m in named]
        else:
            desired = [m for m in current if m not in named]
        self.service.store.update_stream(stream.id, metrics=desired)
        result: dict[str, Any] = {
            "StreamName": stream.name,
            "CurrentShardLevelMetrics": current,
            "DesiredShardLevelMetrics": desired,
            "StreamARN": stream.arn,
        }
        return {key: value for key, value in result.items() if value != []}

    def describe_limits(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        open_count, on_demand_count = self.service.store.stream_counts(ctx.account_id, ctx.region)
        return {
            "ShardLimit": shard_limit(ctx.region),
            "OpenShardCount": open_count,
            "OnDemandStreamCount": on_demand_count,
            "OnDemandStreamCountLimit": ON_DEMAND_STREAM_LIMIT,
        }


def _check_retention(hours: int) -> None:
    if hours < MIN_RETENTION:
        raise errors.invalid(
            f"Minimum allowed retention period is {MIN_RETENTION} hours. Requested retention period ({hours} hours) "
            "is too short."
        )
    if hours > MAX_RETENTION:
        raise errors.invalid(
            f"Maximum allowed retention period is {MAX_RETENTION} hours. Requested retention period ({hours} hours) "
            "is too long."
        )


def _bad_token() -> ServiceError:
    return errors.invalid("Invalid NextToken.")
