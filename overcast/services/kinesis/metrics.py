"""AWS/Kinesis stream-level metrics (dimension StreamName), as Kinesis publishes them each minute a stream is
used.

PutRecord, PutRecords and GetRecords are counted on their way out (`KinesisProvider.handler` wraps them) from
the request and its answer: a dictionary update per request, collected by CloudWatch through `published`.
Each request is one sample, so for GetRecords.Records, IncomingRecords, ... Minimum, Maximum and Average are
per request and Sum the total, and the .Success metrics' Average is the share of requests that succeeded.
"""

from __future__ import annotations

import time
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.kinesis.shards import decode_iterator
from overcast.services.kit.metrics import MetricCounters, MetricPoint

NAMESPACE = "AWS/Kinesis"
ACTIVE_FOR = 3600
METERED = {"PutRecord", "PutRecords", "GetRecords"}
THROTTLED = "ProvisionedThroughputExceededException"


def unit(metric: str) -> str:
    if metric.endswith("Bytes"):
        return "Bytes"
    if metric.endswith(("Latency", "Milliseconds")):
        return "Milliseconds"
    return "Count"


def record_size(record: dict[str, Any]) -> int:
    return len(record.get("Data") or b"") + len(str(record.get("PartitionKey") or "").encode())


def stream_name(operation: str, params: dict[str, Any]) -> str | None:
    if operation == "GetRecords":
        iterator = decode_iterator(str(params.get("ShardIterator") or ""))
        return iterator.stream_arn.rsplit("/", 1)[-1] if iterator is not None else None
    if params.get("StreamName"):
        return str(params["StreamName"])
    arn = params.get("StreamARN")
    return str(arn).rsplit("/", 1)[-1] if arn else None


def metered(
    counters: MetricCounters,
    now: Any,
    operation: str,
    method: Any,
    ctx: RequestContext,
    params: dict[str, Any],
) -> Any:
    """Run PutRecord, PutRecords or GetRecords and count what it did."""
    started = time.perf_counter()
    try:
        result = method(ctx, params)
    except ServiceError as error:
        name = stream_name(operation, params) if error.code == THROTTLED else None
        if name is not None:
            kind = (
                "ReadProvisionedThroughputExceeded"
                if operation == "GetRecords"
                else "WriteProvisionedThroughputExceeded"
            )
            observed = {kind: 1.0}
            if operation == "PutRecord":
                observed["PutRecord.Success"] = 0.0
            count(counters, ctx, now(), name, observed)
        raise
    name = stream_name(operation, params)
    if name is None:
        return result
    latency = (time.perf_counter() - started) * 1000
    if operation == "PutRecord":
        size = float(record_size(params))
        observed = {"PutRecord.Success": 1.0, "PutRecord.Bytes": size, "PutRecord.Latency": latency}
        observed |= {"IncomingRecords": 1.0, "IncomingBytes": size}
    elif operation == "PutRecords":
        entries = list(zip(params["Records"], result["Records"], strict=True))
        accepted = [record_size(entry) for entry, placed in entries if "ErrorCode" not in placed]
        throttled = sum(1 for _, placed in entries if placed.get("ErrorCode") == THROTTLED)
        observed = {
            "PutRecords.TotalRecords": float(len(entries)),
            "PutRecords.SuccessfulRecords": float(len(accepted)),
            "PutRecords.FailedRecords": float(len(entries) - len(accepted) - throttled),
            "PutRecords.ThrottledRecords": float(throttled),
            "PutRecords.Bytes": float(sum(accepted)),
            "PutRecords.Latency": latency,
            "IncomingRecords": float(len(accepted)),
            "IncomingBytes": float(sum(accepted)),
        }
        if throttled:
            observed["WriteProvisionedThroughputExceeded"] = float(throttled)
    else:
        records = result["Records"]
        # AWS: how long ago the last record returned was written (0 for a read that returned none)
        age = (now() - records[-1]["ApproximateArrivalTimestamp"]) * 1000 if records else 0.0
        observed = {
            "GetRecords.Success": 1.0,
            "GetRecords.Records": float(len(records)),
            "GetRecords.Bytes": float(sum(record_size(record) for record in records)),
            "GetRecords.Latency": latency,
            "GetRecords.IteratorAgeMilliseconds": max(float(age), 0.0),
        }
    count(counters, ctx, now(), name, observed)
    return result


def count(counters: MetricCounters, ctx: RequestContext, moment: float, name: str, observed: dict) -> None:
    for metric, value in observed.items():
        counters.observe(ctx.account_id, ctx.region, name, moment, metric, value)


def published(counters: MetricCounters, now: float, minutes: list[float]) -> list[MetricPoint]:
    """The statistic sets counted since the last collection, stamped with the minute that ended last."""
    stamp = minutes[-1] - 60
    points: list[MetricPoint] = []
    for key in counters.drain(now, ACTIVE_FOR):
        account, region, stream = key
        dimensions = (("StreamName", stream),)
        for metric, (samples, total, low, high) in counters.take_samples(key).items():
            points.append(
                MetricPoint(
                    account,
                    region,
                    NAMESPACE,
                    metric,
                    dimensions,
                    total,
                    unit(metric),
                    stamp,
                    samples,
                    low,
                    high,
                )
            )
    return points
