"""Statistics of datapoints over periods: SampleCount, Sum, Average, Minimum, Maximum and percentiles (`p99`,
`p99.9`), plus the trimmed mean family (`TM(10%:90%)`, `IQM`) that GetMetricData and alarms accept.

A stored sample is (timestamp, unit, count, sum, min, max, values): one PutMetricData datum. `values` holds
[value, count] pairs when the datum carried single values (Value, or Values/Counts); a statistic set carries
only its aggregate, and counts towards percentiles only when its minimum equals its maximum (as in AWS, which
cannot place the values of a set otherwise).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

BASIC = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d{1,10})?|100)$")
_TRIMMED = re.compile(r"^(TM|WM|TC|TS)\((\d+(?:\.\d+)?)?%?:(\d+(?:\.\d+)?)?%?\)$")
_TRIMMED_SHORT = re.compile(r"^(tm|wm|tc|ts)(\d{1,2}(?:\.\d+)?)$")


@dataclass
class Sample:
    timestamp: float
    unit: str
    count: float
    total: float
    minimum: float
    maximum: float
    values: list[list[float]] | None = None  # [[value, count], ...]


@dataclass
class Bucket:
    """The samples of one period, aggregated."""

    start: float
    count: float = 0.0
    total: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    unit: str | None = None
    values: list[tuple[float, float]] = field(default_factory=list)

    def add(self, sample: Sample) -> None:
        self.count += sample.count
        self.total += sample.total
        self.minimum = min(self.minimum, sample.minimum)
        self.maximum = max(self.maximum, sample.maximum)
        self.unit = sample.unit if self.unit in (None, sample.unit) else self.unit
        if sample.values is not None:
            self.values.extend((value, count) for value, count in sample.values)
        elif sample.minimum == sample.maximum:
            self.values.append((sample.minimum, sample.count))

    def statistic(self, name: str) -> float | None:
        """The value of statistic `name` for this period (None when it cannot be computed)."""
        if name == "SampleCount":
            return self.count
        if name == "Sum":
            return self.total
        if name == "Average":
            return self.total / self.count if self.count else None
        if name == "Minimum":
            return self.minimum
        if name == "Maximum":
            return self.maximum
        percentile = _PERCENTILE.match(name)
        if percentile:
            return self.percentile(float(percentile.group(1)))
        return self._trimmed(name)

    def percentile(self, p: float) -> float | None:
        ordered = sorted(self.values)
        total = sum(count for _, count in ordered)
        if not total:
            return None
        rank = max(1.0, math.ceil(p / 100.0 * total))
        seen = 0.0
        for value, count in ordered:
            seen += count
            if seen >= rank:
                return value
        return ordered[-1][0]

    def _trimmed(self, name: str) -> float | None:
        bounds = trimmed_bounds(name)
        if bounds is None:
            return None
        kind, low, high = bounds
        low_value = self.percentile(low) if low > 0 else -math.inf
        high_value = self.percentile(high) if high < 100 else math.inf
        if low_value is None or high_value is None:
            return None
        kept = [(v, c) for v, c in self.values if low_value <= v <= high_value]
        count = sum(c for _, c in kept)
        if kind == "TC":
            return count
        total = sum(v * c for v, c in kept)
        if kind == "TS":
            return total
        return total / count if count else None


def trimmed_bounds(name: str) -> tuple[str, float, float] | None:
    """(TM|WM|TC|TS, low %, high %) of a trimmed statistic (`TM(10%:90%)`, `tm90`, `IQM`), or None."""
    if name == "IQM":
        return "TM", 25.0, 75.0
    found = _TRIMMED.match(name)
    if found:
        low, high = float(found.group(2) or 0), float(found.group(3) or 100)
        return found.group(1), low, high
    short = _TRIMMED_SHORT.match(name)
    if short:
        return short.group(1).upper(), 0.0, float(short.group(2))
    return None


def valid_statistic(name: str) -> bool:
    return name in BASIC or bool(_PERCENTILE.match(name)) or trimmed_bounds(name) is not None


def is_extended(name: str) -> bool:
    return name not in BASIC and valid_statistic(name)


def buckets(samples: Iterable[Sample], period: int, start: float, end: float) -> list[Bucket]:
    """The samples in [start, end) grouped by period (aligned to multiples of `period`), oldest first; periods
    without samples are left out."""
    found: dict[float, Bucket] = {}
    for sample in samples:
        if not start <= sample.timestamp < end:
            continue
        key = sample.timestamp - sample.timestamp % period
        bucket = found.get(key)
        if bucket is None:
            bucket = found[key] = Bucket(key)
        bucket.add(sample)
    return [found[key] for key in sorted(found)]
