"""What other services may call besides Platform.call: publishing their own metrics cheaply, as AWS services
publish theirs (SQS's ApproximateNumberOfMessagesVisible, Lambda's Invocations/Errors/Duration, DynamoDB's
consumed capacity, ...), without a request's validation and authorization.

    from overcast.services.cloudwatch import api as cloudwatch
    cloudwatch.put_metric(platform, account, region, "AWS/SQS", "NumberOfMessagesSent",
                          {"QueueName": "orders"}, 1.0, "Count")

The datapoint is written in the caller's transaction when there is one (so it commits, or not, with the
caller's own write); otherwise in its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from overcast.platform import Platform


def put_metric(
    platform: Platform,
    account: str,
    region: str,
    namespace: str,
    name: str,
    dimensions: dict[str, str] | None,
    value: float,
    unit: str = "None",
    timestamp: float | None = None,
) -> None:
    """One datapoint of metric `namespace`/`name` with `dimensions` ({"QueueName": "q"}); `timestamp` is virtual
    epoch seconds (now by default)."""
    put_metrics(platform, account, region, namespace, [(name, dimensions, value, unit, timestamp)])


def put_metrics(
    platform: Platform,
    account: str,
    region: str,
    namespace: str,
    data: Iterable[tuple[str, dict[str, str] | None, float, str, float | None]],
) -> None:
    """Several datapoints at once: (name, dimensions, value, unit, timestamp or None) each."""
    from overcast.services.cloudwatch.provider import CloudWatchProvider

    provider = platform.provider("cloudwatch")
    assert isinstance(provider, CloudWatchProvider)
    now = platform.clock.now()
    rows: list[tuple[Any, ...]] = []
    with platform.db.transaction():
        for name, dimensions, value, unit, timestamp in data:
            moment = now if timestamp is None else timestamp
            dims = [{"Name": k, "Value": v} for k, v in (dimensions or {}).items()]
            metric = provider.metric_id(account, region, namespace, name, dims, moment)
            rows.append((metric, moment, unit, 1.0, value, value, value, None, 60))
        provider.store.add_datapoints(rows)
