"""AWS/ApiGateway metrics, as API Gateway publishes them each minute an API is called.

REST APIs (this package) are named by ApiName, and ApiName with Stage: Count, 4XXError, 5XXError (Count),
Latency and IntegrationLatency (Milliseconds). HTTP APIs (apigatewayv2) by ApiId, and ApiId with Stage: Count,
4xx, 5xx, Latency, IntegrationLatency and DataProcessed (Bytes). Each request is one sample, so a metric's
SampleCount is the number of requests and the error metrics' Average is the error rate, as AWS documents.
Counting is a dictionary update per request; CloudWatch collects the counts through `published`.
"""

from __future__ import annotations

from overcast.services.kit.metrics import MetricCounters, MetricPoint

NAMESPACE = "AWS/ApiGateway"
ACTIVE_FOR = 3600
SEPARATOR = "\n"  # between the API's name or id and the stage in a counter's key
REST_ERRORS = ("4XXError", "5XXError")
HTTP_ERRORS = ("4xx", "5xx")


def count_request(
    counters: MetricCounters,
    account: str,
    region: str,
    api: str,
    stage: str,
    now: float,
    status: int,
    latency_ms: float,
    integration_ms: float | None,
    errors: tuple[str, str] = REST_ERRORS,
    processed: int | None = None,
) -> None:
    """One request to `api` (its name for a REST API, its id for an HTTP API) on `stage`."""
    client, server = errors
    samples = {
        "Count": 1.0,
        client: 1.0 if 400 <= status < 500 else 0.0,
        server: 1.0 if status >= 500 else 0.0,
        "Latency": latency_ms,
    }
    if integration_ms is not None:
        samples["IntegrationLatency"] = integration_ms
    if processed is not None:
        samples["DataProcessed"] = float(processed)
    for key in (api, f"{api}{SEPARATOR}{stage}"):
        for name, value in samples.items():
            counters.observe(account, region, key, now, name, value)


def unit(metric: str) -> str:
    if metric.endswith("Latency"):
        return "Milliseconds"
    return "Bytes" if metric == "DataProcessed" else "Count"


def published(
    counters: MetricCounters, now: float, minutes: list[float], api_dimension: str
) -> list[MetricPoint]:
    """The statistic sets counted since the last collection, stamped with the minute that ended last."""
    stamp = minutes[-1] - 60
    points: list[MetricPoint] = []
    for key in counters.drain(now, ACTIVE_FOR):
        account, region, resource = key
        api, _, stage = resource.partition(SEPARATOR)
        dimensions: tuple[tuple[str, str], ...] = ((api_dimension, api),)
        if stage:
            dimensions += (("Stage", stage),)
        for metric, (count, total, low, high) in counters.take_samples(key).items():
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
                    count,
                    low,
                    high,
                )
            )
    return points
