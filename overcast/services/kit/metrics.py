"""The metrics a service publishes to CloudWatch as AWS services publish theirs (AWS/SQS, AWS/Lambda, ...).

A service counts what happens (`MetricCounters.add`, a dictionary increment on the hot path) and answers
CloudWatch's `published_metrics(minutes)` hook with its counters and its gauges (a queue's depth, read from
its store). CloudWatch asks once per minute of virtual time that has passed, before it evaluates alarms or
answers a metric query, so nothing wakes up while nobody looks and a jump of the clock is filled in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MetricPoint:
    """One datapoint: `value` of `namespace`/`name` with `dimensions` at `timestamp` (virtual seconds); a
    statistic set when `count` > 1 (`value` is then the sum of `count` samples between `minimum` and
    `maximum`)."""

    account: str
    region: str
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    value: float
    unit: str
    timestamp: float
    count: float = 1.0
    minimum: float | None = None
    maximum: float | None = None


@dataclass
class MetricCounters:
    """Counts per resource since CloudWatch last collected them, and when each resource was last used (AWS
    publishes a resource's metrics only while it is active). Bounded by the resources in use."""

    counts: dict[tuple[str, str, str], dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    samples: dict[tuple[str, str, str], dict[str, list[float]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    last_used: dict[tuple[str, str, str], float] = field(default_factory=dict)

    def add(self, account: str, region: str, resource: str, now: float, **amounts: float) -> None:
        key = (account, region, resource)
        self.last_used[key] = now
        counts = self.counts[key]
        for name, amount in amounts.items():
            counts[name] = counts.get(name, 0.0) + amount

    def observe(self, account: str, region: str, resource: str, now: float, name: str, value: float) -> None:
        """One sample of a measured value (a duration): kept as [count, sum, min, max]."""
        key = (account, region, resource)
        self.last_used[key] = now
        found = self.samples[key].get(name)
        if found is None:
            self.samples[key][name] = [1.0, value, value, value]
        else:
            found[0] += 1
            found[1] += value
            found[2] = min(found[2], value)
            found[3] = max(found[3], value)

    def take_samples(self, key: tuple[str, str, str]) -> dict[str, list[float]]:
        """The samples of a resource `drain` just listed, [count, sum, min, max] by name."""
        return self.samples.pop(key, {})

    def touch(self, account: str, region: str, resource: str, now: float) -> None:
        self.last_used[(account, region, resource)] = now

    def drain(self, now: float, active_for: float) -> dict[tuple[str, str, str], dict[str, float]]:
        """{resource key: counts} of every resource used within `active_for` seconds (zero counts for those
        used earlier but idle since), forgetting the ones idle for longer."""
        drained: dict[tuple[str, str, str], dict[str, float]] = {}
        for key, used in list(self.last_used.items()):
            if now - used > active_for:
                del self.last_used[key]
                self.counts.pop(key, None)
                self.samples.pop(key, None)
                continue
            drained[key] = self.counts.pop(key, {})
        return drained


def minute_marks(since: float, now: float, limit: int = 60) -> list[float]:
    """The whole minutes in (since, now], the latest `limit` of them."""
    first = since - since % 60 + 60
    last = now - now % 60
    count = int((last - first) // 60) + 1 if last >= first else 0
    return [last - 60 * k for k in range(min(count, limit))][::-1]
