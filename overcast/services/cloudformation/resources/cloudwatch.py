"""CloudWatch resource types: AWS::CloudWatch::Alarm, CompositeAlarm, Dashboard."""

from __future__ import annotations

import json
from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    ResourceHandler,
    boolean,
    drop_none,
    integer,
    not_found,
    tag_list,
)


def _alarm(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    metrics = properties.get("Metrics")
    return drop_none(
        {
            "AlarmName": name,
            "AlarmDescription": properties.get("AlarmDescription"),
            "ActionsEnabled": boolean(properties.get("ActionsEnabled")),
            "OKActions": properties.get("OKActions"),
            "AlarmActions": properties.get("AlarmActions"),
            "InsufficientDataActions": properties.get("InsufficientDataActions"),
            "MetricName": properties.get("MetricName"),
            "Namespace": properties.get("Namespace"),
            "Statistic": properties.get("Statistic"),
            "ExtendedStatistic": properties.get("ExtendedStatistic"),
            "Dimensions": properties.get("Dimensions"),
            "Period": integer(properties.get("Period")),
            "Unit": properties.get("Unit"),
            "EvaluationPeriods": integer(properties.get("EvaluationPeriods")),
            "DatapointsToAlarm": integer(properties.get("DatapointsToAlarm")),
            "Threshold": float(properties["Threshold"]) if properties.get("Threshold") is not None else None,
            "ComparisonOperator": properties.get("ComparisonOperator"),
            "TreatMissingData": properties.get("TreatMissingData"),
            "EvaluateLowSampleCountPercentile": properties.get("EvaluateLowSampleCountPercentile"),
            "ThresholdMetricId": properties.get("ThresholdMetricId"),
            "Metrics": [_query(metric) for metric in metrics] if metrics else None,
            "Tags": tag_list(properties.get("Tags")) or None,
        }
    )


def _query(metric: dict[str, Any]) -> dict[str, Any]:
    converted = dict(metric)
    if "ReturnData" in converted:
        converted["ReturnData"] = bool(boolean(converted["ReturnData"]))
    if "Period" in converted:
        converted["Period"] = integer(converted["Period"])
    stat = converted.get("MetricStat")
    if stat:
        converted["MetricStat"] = {**stat, "Period": integer(stat["Period"])}
    return converted


class Alarm(ResourceHandler):
    type_name = "AWS::CloudWatch::Alarm"
    service = "cloudwatch"
    required = ("ComparisonOperator", "EvaluationPeriods")
    create_only = frozenset({"AlarmName"})
    attributes = ("Arn",)
    primary_identifier = "AlarmName"

    async def create(self, ctx, properties):
        name = properties.get("AlarmName") or ctx.generated_name(255)
        await ctx.call("cloudwatch", "PutMetricAlarm", _alarm(name, properties))
        return Created(name, {"Arn": ctx.arn("cloudwatch", f"alarm:{name}")})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        params = _alarm(physical_id, properties)
        params.pop("Tags", None)
        await ctx.call("cloudwatch", "PutMetricAlarm", params)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("cloudwatch", "DeleteAlarms", {"AlarmNames": [physical_id]})
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        found = (await ctx.call("cloudwatch", "DescribeAlarms", {"AlarmNames": [physical_id]})).get(
            "MetricAlarms", []
        )
        if not found:
            return None
        alarm = found[0]
        result = dict(properties)
        for key in ("Threshold", "EvaluationPeriods", "Period", "ComparisonOperator"):
            if key in properties and key in alarm:
                result[key] = alarm[key]
        return result


class Dashboard(ResourceHandler):
    type_name = "AWS::CloudWatch::Dashboard"
    service = "cloudwatch"
    required = ("DashboardBody",)
    create_only = frozenset({"DashboardName"})
    primary_identifier = "DashboardName"

    async def create(self, ctx, properties):
        name = properties.get("DashboardName") or ctx.generated_name(255)
        body = properties["DashboardBody"]
        await ctx.call(
            "cloudwatch",
            "PutDashboard",
            {"DashboardName": name, "DashboardBody": body if isinstance(body, str) else json.dumps(body)},
        )
        return Created(name)

    async def update(self, ctx, physical_id, properties, previous, attributes):
        body = properties["DashboardBody"]
        await ctx.call(
            "cloudwatch",
            "PutDashboard",
            {
                "DashboardName": physical_id,
                "DashboardBody": body if isinstance(body, str) else json.dumps(body),
            },
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("cloudwatch", "DeleteDashboards", {"DashboardNames": [physical_id]})
        except ServiceError as error:
            if not not_found(error):
                raise


def _composite(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    return drop_none(
        {
            "AlarmName": name,
            "AlarmRule": properties["AlarmRule"],
            "AlarmDescription": properties.get("AlarmDescription"),
            "ActionsEnabled": boolean(properties.get("ActionsEnabled")),
            "AlarmActions": properties.get("AlarmActions"),
            "OKActions": properties.get("OKActions"),
            "InsufficientDataActions": properties.get("InsufficientDataActions"),
            "ActionsSuppressor": properties.get("ActionsSuppressor"),
            "ActionsSuppressorWaitPeriod": integer(properties.get("ActionsSuppressorWaitPeriod")),
            "ActionsSuppressorExtensionPeriod": integer(properties.get("ActionsSuppressorExtensionPeriod")),
        }
    )


class CompositeAlarm(ResourceHandler):
    type_name = "AWS::CloudWatch::CompositeAlarm"
    service = "cloudwatch"
    required = ("AlarmRule",)
    create_only = frozenset({"AlarmName"})
    attributes = ("Arn",)
    primary_identifier = "AlarmName"

    async def create(self, ctx, properties):
        name = properties.get("AlarmName") or ctx.generated_name(255)
        params = _composite(name, properties)
        tags = tag_list(properties.get("Tags"))
        if tags:
            params["Tags"] = tags
        await ctx.call("cloudwatch", "PutCompositeAlarm", params)
        return Created(name, {"Arn": ctx.arn("cloudwatch", f"alarm:{name}")})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call("cloudwatch", "PutCompositeAlarm", _composite(physical_id, properties))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("cloudwatch", "DeleteAlarms", {"AlarmNames": [physical_id]})
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        found = await ctx.call(
            "cloudwatch", "DescribeAlarms", {"AlarmNames": [physical_id], "AlarmTypes": ["CompositeAlarm"]}
        )
        alarms = found.get("CompositeAlarms", [])
        return {**properties, "AlarmRule": alarms[0]["AlarmRule"]} if alarms else None

    def known_attributes(self, ctx, physical_id):
        return {"Arn": ctx.arn("cloudwatch", f"alarm:{physical_id}")}


HANDLERS = (Alarm, CompositeAlarm, Dashboard)
