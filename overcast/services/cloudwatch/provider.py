"""CloudWatch: composition, hooks, and what the families share (storing datapoints, reading them back by period,
evaluating metric queries, saving alarms and moving them between states with their history and actions)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import ServiceProvider
from overcast.services.cloudwatch import evaluation, mathexpr
from overcast.services.cloudwatch.alarms import INITIAL_REASON, AlarmOperations
from overcast.services.cloudwatch.dashboards import DashboardOperations
from overcast.services.cloudwatch.evaluation import compact
from overcast.services.cloudwatch.metrics import MetricOperations, datum_rows, validate_queries, validation
from overcast.services.cloudwatch.statistics import Bucket, buckets
from overcast.services.cloudwatch.store import ALARM_COLUMNS, CloudWatchStore, dimensions_key
from overcast.services.cloudwatch.tagging import TagOperations
from overcast.services.kit.metrics import minute_marks
from overcast.services.kit.tags import tag_dict

log = logging.getLogger("overcast.cloudwatch")
METRIC_IDS = 10_000  # metric ids remembered (the hot path of PutMetricData skips a lookup for them)
_COLUMNS = [c.strip() for c in ALARM_COLUMNS.split(",")]


class CloudWatchProvider(ServiceProvider):
    service_name = "cloudwatch"
    families = (MetricOperations, AlarmOperations, DashboardOperations, TagOperations)

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = CloudWatchStore(self.db)
        self._metric_ids: OrderedDict[tuple[str, str, str, str, str], tuple[int, float]] = OrderedDict()
        self.alarms_changed = asyncio.Event()
        # Services' published metrics are in up to this moment; starting a minute back, the first collection
        # takes in what services counted before CloudWatch was first used.
        self._collected_at = self.clock.now() - 60

    async def start(self) -> None:
        from overcast.services.cloudwatch import workers

        self.platform.spawn(workers.evaluate_forever(self))

    def reset(self) -> None:
        self._metric_ids.clear()

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        if params.get("AlarmName"):
            return ctx.arn("cloudwatch", f"alarm:{params['AlarmName']}")
        if params.get("DashboardName"):
            return ctx.arn("cloudwatch", f"dashboard/{params['DashboardName']}", region="")
        return params.get("ResourceARN")

    # -- datapoints ----------------------------------------------------------------------------------------

    def collect_published(self) -> None:
        """Store what the running services publish (AWS/SQS, AWS/Lambda, ...) for each whole minute passed
        since the last collection: before alarms are evaluated and metrics are read, so a metric is complete
        whenever someone looks, and nothing runs while nobody does."""
        now = self.clock.now()
        if now < self._collected_at:  # the clock was set back
            self._collected_at = now
        minutes = minute_marks(self._collected_at, now)
        if not minutes:
            return
        self._collected_at = minutes[-1]
        rows = []
        with self.db.transaction():
            for provider in self.platform.running_providers():
                for point in provider.published_metrics(minutes):
                    dimensions = [{"Name": k, "Value": v} for k, v in point.dimensions]
                    metric = self.metric_id(
                        point.account, point.region, point.namespace, point.name, dimensions, point.timestamp
                    )
                    low = point.value if point.minimum is None else point.minimum
                    high = point.value if point.maximum is None else point.maximum
                    row = (metric, point.timestamp, point.unit, point.count, point.value, low, high, None, 60)
                    rows.append(row)
            if rows:
                self.store.add_datapoints(rows)

    def record(self, account: str, region: str, namespace: str, data: list[dict[str, Any]]) -> None:
        """Store MetricData (validated datum by datum, AWS's errors naming the member) in the current
        transaction."""
        now = self.clock.now()
        rows = []
        for index, datum in enumerate(data, 1):
            moment, unit, count, total, low, high, values, resolution = datum_rows(datum, index, now)
            metric = self.metric_id(
                account, region, namespace, datum["MetricName"], datum.get("Dimensions"), moment
            )
            rows.append((metric, moment, unit, count, total, low, high, values, resolution))
        self.store.add_datapoints(rows)

    def metric_id(
        self, account: str, region: str, namespace: str, name: str, dimensions: Any, moment: float
    ) -> int:
        """The metric's id (made on first use). A remembered id whose last datapoint is within the minute skips
        the write that keeps `last_seen` (ListMetrics' two weeks) current."""
        key = (account, region, namespace, name, dimensions_key(dimensions))
        known = self._metric_ids.get(key)
        if known is not None and moment <= known[1] + 60:
            self._metric_ids.move_to_end(key)
            return known[0]
        metric = self.store.metric_id(*key, moment)
        self._metric_ids[key] = (metric, max(moment, known[1] if known else moment))
        if len(self._metric_ids) > METRIC_IDS:
            self._metric_ids.popitem(last=False)
        return metric

    def buckets_of(
        self,
        account: str,
        region: str,
        metric: dict[str, Any],
        period: int,
        start: float,
        end: float,
        unit: str | None = None,
    ) -> list[Bucket]:
        metric_id = self.store.find_metric(
            account,
            region,
            metric["Namespace"],
            metric["MetricName"],
            dimensions_key(metric.get("Dimensions")),
        )
        if metric_id is None:
            return []
        aligned = start - start % period
        return buckets(self.store.samples(metric_id, aligned, end, unit), period, aligned, end)

    # -- metric queries (GetMetricData, metric-math alarms) ------------------------------------------------

    def evaluate_queries(
        self, account: str, region: str, queries: list[dict[str, Any]], start: float, end: float
    ) -> list[tuple[str, str, dict[float, float]]]:
        """(id, label, {timestamp: value}) of each query that returns data (an array gives one per series)."""
        validate_queries(queries)
        values: dict[str, Any] = {}
        metrics: list[tuple[str, str, dict[float, float]]] = []
        periods: dict[str, int] = {}
        for query in queries:
            stat = query.get("MetricStat")
            if not stat:
                continue
            found = self.buckets_of(
                account, region, stat["Metric"], stat["Period"], start, end, stat.get("Unit")
            )
            series = {b.start: v for b in found if (v := b.statistic(stat["Stat"])) is not None}
            values[query["Id"]] = series
            periods[query["Id"]] = stat["Period"]
            metrics.append((query["Id"], query.get("Label") or stat["Metric"]["MetricName"], series))
        self._evaluate_expressions(queries, values, periods, metrics, start, end)
        results = []
        for query in queries:
            if not query.get("ReturnData", True):
                continue
            value = values[query["Id"]]
            label = query.get("Label") or (
                query["MetricStat"]["Metric"]["MetricName"] if query.get("MetricStat") else query["Id"]
            )
            if isinstance(value, list):
                results.extend((query["Id"], item.label, item.series) for item in value)
            elif isinstance(value, dict):
                results.append((query["Id"], label, value))
            else:
                grid = _grid(start, end, periods.get(query["Id"], 60))
                results.append((query["Id"], label, {t: float(value) for t in grid}))
        return results

    def _evaluate_expressions(
        self,
        queries: list[dict[str, Any]],
        values: dict[str, Any],
        periods: dict[str, int],
        metrics: list[tuple[str, str, dict[float, float]]],
        start: float,
        end: float,
    ) -> None:
        pending = {q["Id"]: q for q in queries if q.get("Expression")}
        compiled = {}
        for query_id, query in pending.items():
            try:
                compiled[query_id] = (
                    mathexpr.compile_expression(query["Expression"]),
                    mathexpr.references(query["Expression"]),
                )
            except mathexpr.ExpressionError as error:
                raise validation(f"Error in expression {query_id}: {error}") from None
        known_ids = {q["Id"] for q in queries}
        while pending:
            ready = [
                i for i in pending if compiled[i][1] <= set(values) or not (compiled[i][1] & set(pending))
            ]
            if not ready:
                raise validation(f"Circular dependency in expressions: {', '.join(sorted(pending))}")
            for query_id in ready:
                query = pending.pop(query_id)
                node, refs = compiled[query_id]
                unknown = refs - known_ids
                if unknown:
                    raise validation(
                        f'Error in expression {query_id}: Unrecognized identifier "{sorted(unknown)[0]}"'
                    )
                period = (
                    query.get("Period")
                    or max((periods.get(r, 60) for r in refs), default=0)
                    or max(periods.values(), default=60)
                )
                periods[query_id] = period
                context = mathexpr.Context(values, _grid(start, end, period), period, metrics)
                try:
                    values[query_id] = node(context)
                except mathexpr.ExpressionError as error:
                    raise validation(f"Error in expression {query_id}: {error}") from None

    # -- alarms ----------------------------------------------------------------------------------------------

    def save_alarm(
        self, ctx: RequestContext, kind: str, config: dict[str, Any], period: int, tags: list | None = None
    ) -> None:
        name = config["AlarmName"]
        now = self.clock.now()
        existing = self.store.alarm(ctx.account_id, ctx.region, name)
        arn = ctx.arn("cloudwatch", f"alarm:{name}")
        if existing is not None and existing[4] != kind:
            raise ServiceError(
                "InvalidParameterCombination", f"An alarm named {name} of another type already exists.", 400
            )
        state, reason, reason_data, updated, transitioned = (
            existing[6:11] if existing else ("INSUFFICIENT_DATA", INITIAL_REASON, None, now, now)
        )
        step = min(period, 60) if period < 60 else period
        next_evaluation = now - now % step + step
        self.store.put_alarm(
            (
                ctx.account_id,
                ctx.region,
                name,
                arn,
                kind,
                compact(config),
                state,
                reason,
                reason_data,
                updated,
                transitioned,
                now,
                int(config.get("ActionsEnabled", True)),
                next_evaluation,
            )
        )
        if tags:
            self.tags.add(arn, tag_dict(tags), account=ctx.account_id, region=ctx.region)
        created = existing is None
        self.store.add_history(
            ctx.account_id,
            ctx.region,
            name,
            kind,
            now,
            "ConfigurationUpdate",
            f'Alarm "{name}" {"created" if created else "updated"}',
            compact(
                {
                    "version": "1.0",
                    "type": "Create" if created else "Update",
                    "createdAlarm" if created else "updatedAlarm": config,
                }
            ),
        )
        self.db.after_commit(self.alarms_changed.set)

    def describe(self, row: tuple) -> dict[str, Any]:
        """DescribeAlarms' entry for an alarm row."""
        alarm = dict(zip(_COLUMNS, row, strict=True))
        config = json.loads(alarm["config"])
        result: dict[str, Any] = {"AlarmName": alarm["name"], "AlarmArn": alarm["arn"]}
        if config.get("AlarmDescription"):
            result["AlarmDescription"] = config["AlarmDescription"]
        result["AlarmConfigurationUpdatedTimestamp"] = alarm["config_updated"]
        result["ActionsEnabled"] = bool(alarm["actions_enabled"])
        for member in ("OKActions", "AlarmActions", "InsufficientDataActions"):
            result[member] = config.get(member) or []
        result["StateValue"] = alarm["state"]
        result["StateReason"] = alarm["reason"]
        if alarm["reason_data"]:
            result["StateReasonData"] = alarm["reason_data"]
        result["StateUpdatedTimestamp"] = alarm["state_updated"]
        if alarm["kind"] == "CompositeAlarm":
            result["AlarmRule"] = config["AlarmRule"]
            result["StateTransitionedTimestamp"] = alarm["state_transitioned"]
            for member in (
                "ActionsSuppressor",
                "ActionsSuppressorWaitPeriod",
                "ActionsSuppressorExtensionPeriod",
            ):
                if config.get(member) is not None:
                    result[member] = config[member]
            return result
        for member in ("MetricName", "Namespace", "Statistic", "ExtendedStatistic"):
            if config.get(member):
                result[member] = config[member]
        result["Dimensions"] = config.get("Dimensions") or []
        for member in ("Period", "Unit"):
            if config.get(member) is not None:
                result[member] = config[member]
        result["EvaluationPeriods"] = config["EvaluationPeriods"]
        if config.get("DatapointsToAlarm") is not None:
            result["DatapointsToAlarm"] = config["DatapointsToAlarm"]
        if config.get("Threshold") is not None:
            result["Threshold"] = float(config["Threshold"])
        result["ComparisonOperator"] = config["ComparisonOperator"]
        for member in (
            "TreatMissingData",
            "EvaluateLowSampleCountPercentile",
            "Metrics",
            "ThresholdMetricId",
        ):
            if config.get(member) is not None:
                result[member] = config[member]
        result["StateTransitionedTimestamp"] = alarm["state_transitioned"]
        return result

    def transition(
        self, row: tuple, state: str, reason: str, reason_data: dict[str, Any] | None, moment: float
    ) -> bool:
        """Set an alarm's state (inside the caller's transaction); on a change of state, record the history
        and run its actions (after commit). Whether the state changed."""
        alarm = dict(zip(_COLUMNS, row, strict=True))
        old = alarm["state"]
        changed = old != state
        data_text = compact(reason_data) if reason_data else None
        self.store.set_alarm_state(
            alarm["account"], alarm["region"], alarm["name"], state, reason, data_text, moment, changed
        )
        if not changed:
            return False
        self.store.add_history(
            alarm["account"],
            alarm["region"],
            alarm["name"],
            alarm["kind"],
            moment,
            "StateUpdate",
            f"Alarm updated from {old} to {state}",
            evaluation.history_data((old, alarm["reason"]), (state, reason, reason_data)),
        )
        alarm.update(state=state, reason=reason, reason_data=data_text)
        alarm["config"] = json.loads(alarm["config"])
        from overcast.services.cloudwatch import workers

        self.db.after_commit(lambda: self.platform.spawn(workers.run_actions(self, alarm, old, moment)))
        return True

    def evaluate_composites(self, account: str, region: str) -> None:
        """Re-evaluate every composite alarm of the account and region (inside the caller's transaction)."""
        for _ in range(3):  # composites of composites settle within a few passes
            moved = False
            for row in self.store.composite_alarms(account, region):
                config = json.loads(row[5])
                tokens = evaluation.parse_rule(config["AlarmRule"])

                def state_of(name: str) -> str | None:
                    found = self.store.alarm(account, region, name.rsplit(":alarm:", 1)[-1])
                    return found[6] if found else None

                holds = evaluation.evaluate_rule(tokens, state_of)
                state = "ALARM" if holds else "OK"
                if state != row[6]:
                    children = ", ".join(evaluation.rule_alarms(tokens))
                    reason = f"{'' if holds else 'NOT '}{config['AlarmRule']} evaluated over [{children}]"
                    moved |= self.transition(row, state, reason, None, self.clock.now())
            if not moved:
                return


def _grid(start: float, end: float, period: int) -> list[float]:
    first = start - start % period
    count = int((end - first) // period) + (1 if (end - first) % period else 0)
    return [first + i * period for i in range(count) if first + i * period < end]
