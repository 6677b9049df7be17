"""Alarms: metric alarms (a metric or a metric-math expression against a threshold), composite alarms (a rule
over other alarms' states), their states, history and actions."""

from __future__ import annotations

import json
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.cloudwatch import evaluation
from overcast.services.cloudwatch.evaluation import compact
from overcast.services.cloudwatch.metrics import check_period, epoch, validate_queries
from overcast.services.cloudwatch.statistics import is_extended
from overcast.services.cloudwatch.store import dimensions_key
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.paging import decode_token, encode_token

STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
INITIAL_REASON = "Unchecked: Initial alarm creation"
_ACTION_SERVICES = ("sns", "lambda", "autoscaling", "automate", "ssm", "ssm-incidents", "ec2", "swf")


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationError", message, 400)


def _invalid_token() -> ServiceError:
    return ServiceError("InvalidNextToken", "The service returned an invalid NextToken.", 400)


def _check_actions(params: dict[str, Any]) -> None:
    for member in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        for action in params.get(member) or []:
            arn = parse_arn(action)
            if arn is None or arn.service not in _ACTION_SERVICES:
                raise validation(f"Invalid arn syntax: {action}")


class AlarmOperations(Operations):
    def put_metric_alarm(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _check_actions(params)
        if params.get("Metrics"):
            if params.get("MetricName") or params.get("Namespace") or params.get("Statistic"):
                raise validation(
                    "The parameters MetricName, Namespace, Statistic, ExtendedStatistic, Dimensions, Period and "
                    "Unit must not be specified when Metrics is specified."
                )
            validate_queries(params["Metrics"])
            returned = [q for q in params["Metrics"] if q.get("ReturnData", True)]
            if len(returned) != 1 and not params.get("ThresholdMetricId"):
                raise validation("Exactly one element of the metrics list should return data.")
            period = max(
                (q.get("MetricStat") or {}).get("Period") or q.get("Period") or 60 for q in params["Metrics"]
            )
        else:
            for required in ("MetricName", "Namespace", "Period"):
                if params.get(required) is None:
                    raise ServiceError("MissingParameter", f"The parameter {required} is required.", 400)
            if bool(params.get("Statistic")) == bool(params.get("ExtendedStatistic")):
                raise ServiceError(
                    "InvalidParameterCombination",
                    "Exactly one element of the Statistic and ExtendedStatistic parameters must be specified.",
                    400,
                )
            if params.get("ExtendedStatistic") and not is_extended(params["ExtendedStatistic"]):
                raise ServiceError(
                    "InvalidParameterValue",
                    f"The value {params['ExtendedStatistic']} for parameter ExtendedStatistic is not supported.",
                    400,
                )
            period = params["Period"]
            check_period(period)
        evaluation_periods = params["EvaluationPeriods"]
        if (params.get("DatapointsToAlarm") or evaluation_periods) > evaluation_periods:
            raise validation("DatapointsToAlarm must be less than or equal to EvaluationPeriods.")
        if period * evaluation_periods > 86400:
            raise validation(
                "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400)."
            )
        if params.get("Threshold") is None and not params.get("ThresholdMetricId"):
            raise validation("The parameter Threshold is required unless ThresholdMetricId is specified.")
        config = {k: v for k, v in params.items() if k != "Tags"}
        self.service.save_alarm(ctx, "MetricAlarm", config, period, params.get("Tags"))
        return {}

    def put_composite_alarm(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _check_actions(params)
        try:
            tokens = evaluation.parse_rule(params["AlarmRule"])
        except evaluation.RuleError as error:
            raise validation(str(error)) from None
        store = self.service.store
        for name in evaluation.rule_alarms(tokens):
            alarm_name = name.rsplit(":alarm:", 1)[-1]
            if alarm_name == params["AlarmName"]:
                raise validation("A composite alarm cannot refer to itself in its rule.")
            if store.alarm(ctx.account_id, ctx.region, alarm_name) is None:
                raise validation(
                    f"Could not save the composite alarm as alarms [{alarm_name}] in the alarm rule do not exist"
                )
        config = {k: v for k, v in params.items() if k != "Tags"}
        self.service.save_alarm(ctx, "CompositeAlarm", config, 60, params.get("Tags"))
        self.service.evaluate_composites(ctx.account_id, ctx.region)
        return {}

    def describe_alarms(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        types = params.get("AlarmTypes") or ["MetricAlarm"]
        names = params.get("AlarmNames")
        rows = [
            row
            for row in self.service.store.alarms(
                ctx.account_id, ctx.region, params.get("AlarmNamePrefix") or ""
            )
            if row[4] in types
            and (not names or row[2] in names)
            and (not params.get("StateValue") or row[6] == params["StateValue"])
            and (
                not params.get("ActionPrefix")
                or _has_action_prefix(json.loads(row[5]), params["ActionPrefix"])
            )
        ]
        if params.get("ParentsOfAlarmName") or params.get("ChildrenOfAlarmName"):
            rows = self._related(ctx, rows, params)
        limit = params.get("MaxRecords") or 50
        start = decode_token(params.get("NextToken"), _invalid_token, "alarms") or 0
        page = rows[start : start + limit]
        result: dict[str, Any] = {
            "CompositeAlarms": [self.service.describe(row) for row in page if row[4] == "CompositeAlarm"],
            "MetricAlarms": [self.service.describe(row) for row in page if row[4] == "MetricAlarm"],
        }
        if start + limit < len(rows):
            result["NextToken"] = encode_token(start + limit, "alarms")
        return result

    def describe_alarms_for_metric(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        wanted = dimensions_key(params.get("Dimensions"))
        found = []
        for row in self.service.store.alarms(ctx.account_id, ctx.region):
            config = json.loads(row[5])
            if row[4] != "MetricAlarm" or config.get("MetricName") != params["MetricName"]:
                continue
            if config.get("Namespace") != params["Namespace"]:
                continue
            if params.get("Dimensions") is not None and dimensions_key(config.get("Dimensions")) != wanted:
                continue
            if any(
                params.get(k) is not None and config.get(k) != params[k]
                for k in ("Statistic", "ExtendedStatistic", "Period", "Unit")
            ):
                continue
            found.append(self.service.describe(row))
        return {"MetricAlarms": found}

    def delete_alarms(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        missing = [
            name for name in params["AlarmNames"] if store.alarm(ctx.account_id, ctx.region, name) is None
        ]
        if missing:
            raise ServiceError("ResourceNotFound", f"Alarm(s) {', '.join(missing)} not found", 404)
        for composite in store.composite_alarms(ctx.account_id, ctx.region):
            if composite[2] in params["AlarmNames"]:
                continue
            refers = evaluation.rule_alarms(evaluation.parse_rule(json.loads(composite[5])["AlarmRule"]))
            if any(name.rsplit(":alarm:", 1)[-1] in params["AlarmNames"] for name in refers):
                raise ServiceError(
                    "ResourceConflict",
                    f"Alarm {composite[2]} refers to one or more of the alarms to delete in its rule.",
                    409,
                )
        for name in params["AlarmNames"]:
            row = store.alarm(ctx.account_id, ctx.region, name)
            store.delete_alarm(ctx.account_id, ctx.region, name)
            self.service.tags.forget(row[3])
            store.add_history(
                ctx.account_id,
                ctx.region,
                name,
                row[4],
                self.clock.now(),
                "ConfigurationUpdate",
                f'Alarm "{name}" deleted',
                compact({"version": "1.0", "type": "Delete", "deletedAlarm": json.loads(row[5])}),
            )
        return {}

    def set_alarm_state(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self.service.store.alarm(ctx.account_id, ctx.region, params["AlarmName"])
        if row is None:
            raise ServiceError("ResourceNotFound", f"Alarm {params['AlarmName']} not found", 404)
        data = None
        if params.get("StateReasonData"):
            try:
                data = json.loads(params["StateReasonData"])
            except ValueError:
                raise ServiceError("InvalidFormat", "StateReasonData is not valid JSON.", 400) from None
        self.service.transition(row, params["StateValue"], params["StateReason"], data, self.clock.now())
        self.service.evaluate_composites(ctx.account_id, ctx.region)
        return {}

    def describe_alarm_history(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        newest_first = params.get("ScanBy", "TimestampDescending") == "TimestampDescending"
        start = epoch(params["StartDate"]) if params.get("StartDate") else 0.0
        end = epoch(params["EndDate"]) if params.get("EndDate") else float("inf")
        types = params.get("AlarmTypes") or ["MetricAlarm", "CompositeAlarm"]
        limit = params.get("MaxRecords") or 100
        after = decode_token(params.get("NextToken"), _invalid_token, "history")
        rows = self.service.store.history(
            ctx.account_id,
            ctx.region,
            params.get("AlarmName"),
            params.get("HistoryItemType"),
            start,
            end,
            newest_first,
            after,
            limit + 1,
        )
        rows = [row for row in rows if row[2] in types]
        items = [
            {
                "AlarmName": alarm,
                "AlarmType": kind,
                "Timestamp": ts,
                "HistoryItemType": item_type,
                "HistorySummary": summary,
                "HistoryData": data,
            }
            for _, alarm, kind, ts, item_type, summary, data in rows[:limit]
        ]
        result: dict[str, Any] = {"AlarmHistoryItems": items}
        if len(rows) > limit:
            result["NextToken"] = encode_token(rows[limit - 1][0], "history")
        return result

    def enable_alarm_actions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        for name in params["AlarmNames"]:
            self.service.store.set_actions_enabled(ctx.account_id, ctx.region, name, True)
        return {}

    def disable_alarm_actions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        for name in params["AlarmNames"]:
            self.service.store.set_actions_enabled(ctx.account_id, ctx.region, name, False)
        return {}

    def _related(self, ctx: RequestContext, rows: list[tuple], params: dict[str, Any]) -> list[tuple]:
        store = self.service.store
        if params.get("ChildrenOfAlarmName"):
            parent = store.alarm(ctx.account_id, ctx.region, params["ChildrenOfAlarmName"])
            if parent is None or parent[4] != "CompositeAlarm":
                return []
            names = {
                name.rsplit(":alarm:", 1)[-1]
                for name in evaluation.rule_alarms(evaluation.parse_rule(json.loads(parent[5])["AlarmRule"]))
            }
            return [row for row in store.alarms(ctx.account_id, ctx.region) if row[2] in names]
        child = params["ParentsOfAlarmName"]
        parents = []
        for row in store.composite_alarms(ctx.account_id, ctx.region):
            refers = evaluation.rule_alarms(evaluation.parse_rule(json.loads(row[5])["AlarmRule"]))
            if any(name.rsplit(":alarm:", 1)[-1] == child for name in refers):
                parents.append(row)
        return parents


def _has_action_prefix(config: dict[str, Any], prefix: str) -> bool:
    actions = [*(config.get("AlarmActions") or []), *(config.get("OKActions") or [])]
    actions += config.get("InsufficientDataActions") or []
    return any(action.startswith(prefix) for action in actions)


__all__ = ["AlarmOperations", "INITIAL_REASON", "STATES"]
