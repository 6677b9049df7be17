"""AWS/DynamoDB metrics, as DynamoDB publishes them to CloudWatch each minute a table is used.

Every item read and write is counted on its way out (`DynamoDBProvider.handler` wraps it): the capacity it
consumed (ConsumedRead/WriteCapacityUnits by TableName, and by TableName and GlobalSecondaryIndexName), its
latency when it succeeded (SuccessfulRequestLatency by TableName and Operation), the items a Query or Scan
returned (ReturnedItemCount by TableName and Operation) and the requests refused for throughput
(ThrottledRequests by TableName and Operation). Counting is a dictionary update; CloudWatch collects the
counts through `published`.

Each request is one sample, so SampleCount is the number of requests and Average the units (or items, or
milliseconds) per request, as in AWS.
"""

from __future__ import annotations

import time
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.dynamodb.throttling import READS
from overcast.services.kit.metrics import MetricCounters, MetricPoint

NAMESPACE = "AWS/DynamoDB"
ACTIVE_FOR = 3600
UNITS = {"SuccessfulRequestLatency": "Milliseconds"}  # the others count
ITEM_COUNTS = {"Query", "Scan"}  # the operations that publish ReturnedItemCount


def metered(
    counters: MetricCounters,
    now: Any,
    operation: str,
    method: Any,
    ctx: RequestContext,
    params: dict[str, Any],
) -> Any:
    """Run a read or write and count what it did; ConsumedCapacity is returned only as the caller asked."""
    asked = params.get("ReturnConsumedCapacity")
    started = time.perf_counter()
    try:
        result = method(ctx, {**params, "ReturnConsumedCapacity": "INDEXES"})
    except ServiceError as error:
        if error.code == "ProvisionedThroughputExceededException" and params.get("TableName"):
            observe(counters, ctx, now(), params["TableName"], "ThrottledRequests", operation, 1)
        raise
    elapsed = (time.perf_counter() - started) * 1000
    consumed = result.get("ConsumedCapacity")
    entries = [consumed] if isinstance(consumed, dict) else list(consumed or [])
    moment = now()
    metric = "ConsumedReadCapacityUnits" if operation in READS else "ConsumedWriteCapacityUnits"
    for entry in entries:
        table = entry.get("TableName")
        if not table:
            continue
        own = entry.get("Table", {}).get("CapacityUnits", entry.get("CapacityUnits", 0.0))
        local = sum(u["CapacityUnits"] for u in (entry.get("LocalSecondaryIndexes") or {}).values())
        counters.observe(ctx.account_id, ctx.region, table, moment, metric, own + local)
        for index, units in (entry.get("GlobalSecondaryIndexes") or {}).items():
            name = f"{metric}/GlobalSecondaryIndexName={index}"
            counters.observe(ctx.account_id, ctx.region, table, moment, name, units["CapacityUnits"])
    table_name = params.get("TableName")
    # a batch or a transaction counts toward the latency of each table it used
    tables = [table_name] if table_name else sorted({e["TableName"] for e in entries if e.get("TableName")})
    for table in tables:
        observe(counters, ctx, moment, table, "SuccessfulRequestLatency", operation, elapsed)
    if table_name and operation in ITEM_COUNTS:
        observe(counters, ctx, moment, table_name, "ReturnedItemCount", operation, result.get("Count", 0))
    if asked not in ("TOTAL", "INDEXES"):
        result.pop("ConsumedCapacity", None)
    elif asked == "TOTAL":
        for entry in entries:
            for detail in ("Table", "GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
                entry.pop(detail, None)
    return result


def observe(
    counters: MetricCounters,
    ctx: RequestContext,
    moment: float,
    table: str,
    metric: str,
    operation: str,
    value: float,
) -> None:
    name = table.rsplit("/", 1)[-1]  # a table ARN names the table last
    counters.observe(
        ctx.account_id, ctx.region, name, moment, f"{metric}/Operation={operation}", float(value)
    )


def published(counters: MetricCounters, now: float, minutes: list[float]) -> list[MetricPoint]:
    """The statistic sets counted since the last collection, stamped with the minute that ended last."""
    stamp = minutes[-1] - 60
    points: list[MetricPoint] = []
    for key in counters.drain(now, ACTIVE_FOR):
        account, region, table = key
        for name, (count, total, low, high) in counters.take_samples(key).items():
            metric, _, extra = name.partition("/")
            dimensions: tuple[tuple[str, str], ...] = (("TableName", table),)
            if extra:
                dimension, _, value = extra.partition("=")
                dimensions += ((dimension, value),)
            unit = UNITS.get(metric, "Count")
            points.append(
                MetricPoint(
                    account, region, NAMESPACE, metric, dimensions, total, unit, stamp, count, low, high
                )
            )
    return points
