"""Metrics: PutMetricData, ListMetrics, GetMetricStatistics and GetMetricData (with metric math)."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.cloudwatch.statistics import is_extended, valid_statistic
from overcast.services.cloudwatch.store import dimensions_of
from overcast.services.kit.paging import decode_token, encode_token

MAX_DATAPOINTS = 1440
LIST_PAGE = 500
TWO_WEEKS = 14 * 86400.0
RECENT = 3 * 3600.0
_QUERY_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValue", message, 400)


def combination(message: str) -> ServiceError:
    return ServiceError("InvalidParameterCombination", message, 400)


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationError", message, 400)


def epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def datum_rows(
    datum: dict[str, Any], index: int, now: float
) -> tuple[float, str, float, float, float, float, str | None, int]:
    """(timestamp, unit, count, sum, min, max, values JSON, resolution) of one MetricDatum, or AWS's error."""
    member = f"MetricData.member.{index}"
    has_value, has_values, stats = "Value" in datum, bool(datum.get("Values")), datum.get("StatisticValues")
    if has_value and has_values:
        raise combination(
            f"The parameters {member}.Value and {member}.Values are mutually exclusive and you have specified both."
        )
    if has_value and stats:
        raise combination(
            f"The parameters {member}.Value and {member}.StatisticValues are mutually exclusive and you have specified both."
        )
    if has_values and stats:
        raise combination(
            f"The parameters {member}.Values and {member}.StatisticValues are mutually exclusive and you have specified both."
        )
    resolution = datum.get("StorageResolution", 60)
    if resolution not in (1, 60):
        raise invalid(f"The value {resolution} for parameter {member}.StorageResolution is invalid.")
    moment = epoch(datum["Timestamp"]) if datum.get("Timestamp") is not None else now
    if moment < now - TWO_WEEKS:
        raise invalid(
            f"The parameter {member}.Timestamp must specify a time no more than two weeks in the past."
        )
    if moment > now + 2 * 3600:
        raise invalid(
            f"The parameter {member}.Timestamp must specify a time no more than two hours in the future."
        )
    unit = datum.get("Unit") or "None"
    if stats:
        for name in ("SampleCount", "Sum", "Minimum", "Maximum"):
            if not math.isfinite(stats[name]):
                raise invalid(
                    f"The value {stats[name]} for parameter {member}.StatisticValues.{name} is invalid."
                )
        if stats["Maximum"] < stats["Minimum"]:
            raise invalid(
                f"The parameter {member}.StatisticValues.Maximum must be greater than {member}.StatisticValues.Minimum."
            )
        if stats["SampleCount"] <= 0:
            raise invalid(f"The parameter {member}.StatisticValues.SampleCount must be greater than 0.")
        return (
            moment,
            unit,
            stats["SampleCount"],
            stats["Sum"],
            stats["Minimum"],
            stats["Maximum"],
            None,
            resolution,
        )
    if has_values:
        values, counts = datum["Values"], datum.get("Counts") or [1.0] * len(datum["Values"])
        if len(counts) != len(values):
            raise invalid(f"The parameters {member}.Values and {member}.Counts must be of the same size.")
        for value in values:
            if not math.isfinite(value):
                raise invalid(f"The value {value} for parameter {member}.Values is invalid.")
        pairs = [[v, c] for v, c in zip(values, counts, strict=True) if c > 0]
        total = sum(c for _, c in pairs)
        if not total:
            raise invalid(f"The parameter {member}.Counts must contain a positive count.")
        return (
            moment,
            unit,
            total,
            sum(v * c for v, c in pairs),
            min(v for v, _ in pairs),
            max(v for v, _ in pairs),
            json.dumps(pairs, separators=(",", ":")),
            resolution,
        )
    if not has_value:
        raise ServiceError(
            "MissingParameter",
            f"At least one of the parameters {member}.Value, {member}.Values or {member}.StatisticValues must be specified.",
            400,
        )
    value = datum["Value"]
    if not math.isfinite(value):
        raise invalid(
            f"The value {'NaN' if math.isnan(value) else value} for parameter {member}.Value is invalid."
        )
    return moment, unit, 1.0, value, value, value, None, resolution


def check_period(period: int, where: str = "Period") -> None:
    if period < 1 or (period >= 60 and period % 60) or (period < 60 and period not in (1, 5, 10, 20, 30)):
        raise invalid(f"The parameter {where} must be a multiple of 60.")


def label_of(metric: dict[str, Any]) -> str:
    return metric["MetricName"]


class MetricOperations(Operations):
    def put_metric_data(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        namespace = params["Namespace"]
        if namespace.startswith("AWS/"):
            raise invalid(f"The value {namespace} for parameter Namespace is invalid.")
        self.service.record(ctx.account_id, ctx.region, namespace, params.get("MetricData") or [])
        return {}

    def list_metrics(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.collect_published()

        def bad_token() -> ServiceError:
            return invalid("The value for parameter NextToken is invalid.")

        after = decode_token(params.get("NextToken"), bad_token, "metrics") or 0
        now = self.clock.now()
        since = now - (RECENT if params.get("RecentlyActive") == "PT3H" else TWO_WEEKS)
        wanted = params.get("Dimensions") or []
        found: list[dict[str, Any]] = []
        last_id = after
        store = self.service.store
        while len(found) < LIST_PAGE:
            rows = store.metrics(
                ctx.account_id,
                ctx.region,
                params.get("Namespace"),
                params.get("MetricName"),
                since,
                last_id,
                1000,
            )
            if not rows:
                last_id = None
                break
            for metric_id, namespace, name, dims in rows:
                last_id = metric_id
                dimensions = dimensions_of(dims)
                if _has_dimensions(dimensions, wanted):
                    found.append({"Namespace": namespace, "MetricName": name, "Dimensions": dimensions})
                    if len(found) == LIST_PAGE:
                        break
        result: dict[str, Any] = {"Metrics": found}
        if last_id is not None and len(found) == LIST_PAGE:
            result["NextToken"] = encode_token(last_id, "metrics")
        return result

    def get_metric_statistics(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.collect_published()
        start, end, period = epoch(params["StartTime"]), epoch(params["EndTime"]), params["Period"]
        statistics = params.get("Statistics") or []
        extended = params.get("ExtendedStatistics") or []
        if not statistics and not extended:
            raise ServiceError(
                "MissingParameter", "Must specify either Statistics or ExtendedStatistics, but not both.", 400
            )
        if statistics and extended:
            raise combination("Must specify either Statistics or ExtendedStatistics, but not both.")
        for name in extended:
            if not is_extended(name):
                raise invalid(f"The value {name} for parameter ExtendedStatistics is not supported.")
        if start >= end:
            raise invalid("The parameter StartTime must be less than the parameter EndTime.")
        check_period(period)
        requested = math.ceil((end - start) / period)
        if requested > MAX_DATAPOINTS:
            raise combination(
                f"You have requested up to {requested:,} datapoints, which exceeds the limit of {MAX_DATAPOINTS:,}. "
                "You may reduce the datapoints requested by increasing Period, or decreasing the time range."
            )
        found = self.service.buckets_of(
            ctx.account_id,
            ctx.region,
            {
                "Namespace": params["Namespace"],
                "MetricName": params["MetricName"],
                "Dimensions": params.get("Dimensions"),
            },
            period,
            start,
            end,
            params.get("Unit"),
        )
        datapoints = []
        for bucket in found:
            point: dict[str, Any] = {"Timestamp": bucket.start}
            for name in statistics:
                point[name] = bucket.statistic(name)
            if extended:
                point["ExtendedStatistics"] = {
                    name: value for name in extended if (value := bucket.statistic(name)) is not None
                }
            point["Unit"] = bucket.unit or "None"
            datapoints.append(point)
        return {"Label": params["MetricName"], "Datapoints": datapoints}

    def get_metric_data(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.collect_published()
        start, end = epoch(params["StartTime"]), epoch(params["EndTime"])
        if start >= end:
            raise validation("The parameter StartTime must be less than the parameter EndTime.")
        queries = params["MetricDataQueries"]
        results = self.service.evaluate_queries(ctx.account_id, ctx.region, queries, start, end)
        descending = params.get("ScanBy", "TimestampDescending") == "TimestampDescending"
        output = []
        for query_id, label, series in results:
            stamps = sorted(series, reverse=descending)
            output.append(
                {
                    "Id": query_id,
                    "Label": label,
                    "Timestamps": stamps,
                    "Values": [series[t] for t in stamps],
                    "StatusCode": "Complete",
                }
            )
        return {"MetricDataResults": output, "Messages": []}


def _has_dimensions(dimensions: list[dict[str, str]], wanted: list[dict[str, Any]]) -> bool:
    present = {d["Name"]: d["Value"] for d in dimensions}
    for filter_ in wanted:
        if filter_["Name"] not in present:
            return False
        if filter_.get("Value") is not None and present[filter_["Name"]] != filter_["Value"]:
            return False
    return True


def validate_queries(queries: list[dict[str, Any]]) -> None:
    """AWS's ValidationErrors for a GetMetricData (or metric-math alarm) request's queries."""
    seen: set[str] = set()
    for index, query in enumerate(queries, 1):
        query_id = query["Id"]
        if not _QUERY_ID.match(query_id):
            raise validation(
                f"The value {query_id} for parameter MetricDataQueries.member.{index}.Id is invalid. "
                "It must match the pattern ^[a-z][a-zA-Z0-9_]*$."
            )
        if query_id in seen:
            raise validation("The values for parameter id in MetricDataQueries are not unique.")
        seen.add(query_id)
        has_expression, has_stat = bool(query.get("Expression")), bool(query.get("MetricStat"))
        if has_expression and has_stat:
            raise validation(
                f"The parameters MetricDataQueries.member.{index}.Expression and "
                f"MetricDataQueries.member.{index}.MetricStat are mutually exclusive and you have specified both."
            )
        if not has_expression and not has_stat:
            raise validation(
                f"The parameter MetricDataQueries.member.{index}.MetricStat or "
                f"MetricDataQueries.member.{index}.Expression must be specified."
            )
        if has_stat:
            stat = query["MetricStat"]
            if query.get("Period") is not None:
                raise validation(
                    f"The parameters MetricDataQueries.member.{index}.Period and "
                    f"MetricDataQueries.member.{index}.MetricStat are mutually exclusive and you have specified both."
                )
            if not valid_statistic(stat["Stat"]):
                raise validation(
                    f"The value {stat['Stat']} for parameter MetricDataQueries.member.{index}.MetricStat.Stat is invalid."
                )
            check_period(stat["Period"], f"MetricDataQueries.member.{index}.MetricStat.Period")
    if not any(query.get("ReturnData", True) for query in queries):
        raise validation("At least one of the MetricDataQueries must have ReturnData set to true.")
