"""Records of the streams Lambda polls (DynamoDB Streams, Kinesis) as Lambda's events carry them: pure functions.

`StreamShape` says how to read a record of each kind (its sequence number, shard, arrival) and how Lambda names
a failed batch's description (`DDBStreamBatchInfo` / `KinesisBatchInfo`).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class StreamShape:
    batch_info: str
    sequence: Callable[[dict[str, Any]], str]
    arrived: Callable[[dict[str, Any]], float | None]
    shard: Callable[[dict[str, Any]], str]


DYNAMODB = StreamShape(
    "DDBStreamBatchInfo",
    lambda event: event["dynamodb"]["SequenceNumber"],
    lambda event: event["dynamodb"].get("ApproximateCreationDateTime"),
    lambda event: "",
)

KINESIS = StreamShape(
    "KinesisBatchInfo",
    lambda event: event["kinesis"]["sequenceNumber"],
    lambda event: event["kinesis"].get("approximateArrivalTimestamp"),
    lambda event: event["eventID"].split(":", 1)[0],
)


def epoch(value: Any) -> float:
    """A timestamp as a boto3-shaped answer carries it (datetime) or an internal one (epoch seconds)."""
    return value.timestamp() if isinstance(value, datetime) else float(value or 0)


def kinesis_event(
    record: dict[str, Any], shard: str, stream_arn: str, region: str, role: str
) -> dict[str, Any]:
    """One Kinesis record in Lambda's `aws:kinesis` event shape."""
    data = record["Data"]
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": base64.b64encode(data if isinstance(data, bytes) else bytes(data)).decode(),
            "approximateArrivalTimestamp": epoch(record.get("ApproximateArrivalTimestamp")),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role,
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


def ready_shards(shards: list[dict[str, Any]], finished: set[str]) -> list[str]:
    """The shards to read now, in order: not finished, and whose parents (if still listed) are finished, so a
    key's records are read in order across a reshard."""
    listed = {shard["ShardId"] for shard in shards}
    ready = []
    for shard in shards:
        shard_id = shard["ShardId"]
        if shard_id in finished:
            continue
        parents = [shard.get("ParentShardId"), shard.get("AdjacentParentShardId")]
        if all(parent is None or parent not in listed or parent in finished for parent in parents):
            ready.append(shard_id)
    return ready


def filterable(event: dict[str, Any]) -> dict[str, Any]:
    """What a Kinesis record's filter patterns are matched against: its `kinesis` fields with `data` decoded
    (matched as JSON when it is a JSON object, as AWS does)."""
    fields = dict(event["kinesis"])
    fields["data"] = base64.b64decode(fields["data"]).decode("utf-8", "replace")
    return fields
