"""Metric filters: patterns whose matches become metric values (kept and described; CloudWatch metrics
come with that service), and TestMetricFilter."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import encode_token
from overcast.services.logs.common import invalid, not_found, pattern_matcher, token_position

if TYPE_CHECKING:
    from overcast.services.logs.provider import LogsProvider

MAX_METRIC_FILTERS = 100


class MetricFilterOperations(Operations):
    service: LogsProvider

    def put_metric_filter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        group = self.service.group(ctx, params)
        pattern_matcher(params["filterPattern"])
        name = params["filterName"]
        existing = {
            row[1] for row in store.metric_filters(ctx.account_id, ctx.region, group.id, name, None, 1)
        }
        if name not in existing and store.metric_filter_count(group.id) >= MAX_METRIC_FILTERS:
            raise ServiceError("LimitExceededException", "Resource limit exceeded.")
        transformations = [{k: v for k, v in t.items()} for t in params["metricTransformations"]]
        store.put_metric_filter(
            group.id, name, params["filterPattern"], transformations, self.service.now_ms()
        )
        return {}

    def describe_metric_filters(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        metric_name, namespace = params.get("metricName"), params.get("metricNamespace")
        if bool(metric_name) != bool(namespace):
            raise invalid("metricName and metricNamespace must be specified together.")
        group_id = self.service.group(ctx, params).id if params.get("logGroupName") else None
        if params.get("filterNamePrefix") and group_id is None:
            raise invalid("logGroupName is required when filterNamePrefix is specified.")
        limit = params.get("limit") or 50
        token = token_position(params, "DescribeMetricFilters", str, str)
        rows = self.service.store.metric_filters(
            ctx.account_id,
            ctx.region,
            group_id,
            params.get("filterNamePrefix") or "",
            (token[0], token[1]) if token else None,
            10_000 if metric_name else limit + 1,
        )
        filters = [describe_metric_filter(row) for row in rows]
        if metric_name:
            filters = [
                f
                for f in filters
                if any(
                    t["metricName"] == metric_name and t["metricNamespace"] == namespace
                    for t in f["metricTransformations"]
                )
            ]
        result: dict[str, Any] = {"metricFilters": filters[:limit]}
        if len(filters) > limit:
            last = filters[limit - 1]
            result["nextToken"] = encode_token(
                [last["logGroupName"], last["filterName"]], "DescribeMetricFilters"
            )
        return result

    def delete_metric_filter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.service.group(ctx, params)
        if not self.service.store.delete_filter("logs_metric_filters", group.id, params["filterName"]):
            raise not_found("The specified metric filter does not exist.")
        return {}

    def test_metric_filter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        matcher = pattern_matcher(params["filterPattern"])
        matches = []
        for number, message in enumerate(params["logEventMessages"], start=1):
            extracted = matcher(message)
            if extracted is not None:
                matches.append({"eventNumber": number, "eventMessage": message, "extractedValues": extracted})
        return {"matches": matches}


def describe_metric_filter(row: tuple[str, str, str, str, int]) -> dict[str, Any]:
    group, name, pattern, transformations, created = row
    return {
        "filterName": name,
        "filterPattern": pattern,
        "metricTransformations": json.loads(transformations),
        "creationTime": created,
        "logGroupName": group,
    }
