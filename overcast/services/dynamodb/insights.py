"""Contributor Insights settings of a table and its GSIs (UpdateContributorInsights, DescribeContributorInsights,
ListContributorInsights): enabling names the CloudWatch rules AWS would create, in AWS's format. The rules'
reports (CloudWatch's) are not computed. Kept in the table's meta under `_insights`, by index name ("" for
the table): {"status", "mode", "updated", "created"}."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.dynamodb.store import Table
from overcast.services.kit.paging import decode_token, page_of

if TYPE_CHECKING:
    from overcast.services.dynamodb.provider import DynamoDBProvider

ALL_KEYS = "ACCESSED_AND_THROTTLED_KEYS"


def _invalid_token() -> ServiceError:
    return ServiceError("ValidationException", "Invalid NextToken")


class ContributorInsightsOperations(Operations):
    service: DynamoDBProvider

    def update_contributor_insights(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.service.table(ctx, params["TableName"])
        index = self._index(table, params.get("IndexName"))
        meta = json.loads(json.dumps(table.meta))
        settings = meta.setdefault("_insights", {})
        current = settings.get(index)
        now = self.clock.now()
        if params["ContributorInsightsAction"] == "ENABLE":
            mode = params.get("ContributorInsightsMode") or ALL_KEYS  # omitted: back to the default, as AWS
            if current and current["status"] == "ENABLED" and current["mode"] == mode:
                answer = "ENABLED"  # nothing changes
            else:
                answer = "ENABLING"
                created = current["created"] if current and current["status"] == "ENABLED" else now
                settings[index] = {"status": "ENABLED", "mode": mode, "updated": now, "created": created}
        elif current is None or current["status"] == "DISABLED":
            answer = "DISABLED"
        else:
            answer = "DISABLING"
            settings[index] = {**current, "status": "DISABLED", "updated": now}
        self.service.store.save_meta(ctx.account_id, ctx.region, table.name, table.id, meta)
        result: dict[str, Any] = {"TableName": table.name}
        if index:
            result["IndexName"] = index
        result["ContributorInsightsStatus"] = answer
        if index in settings:
            result["ContributorInsightsMode"] = settings[index]["mode"]
        return result

    def describe_contributor_insights(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.service.table(ctx, params["TableName"])
        index = self._index(table, params.get("IndexName"))
        result: dict[str, Any] = {"TableName": table.name}
        if index:
            result["IndexName"] = index
        setting = table.meta.get("_insights", {}).get(index)
        if setting is None:  # never configured
            result["ContributorInsightsStatus"] = "DISABLED"
            return result
        if setting["status"] == "ENABLED":
            result["ContributorInsightsRuleList"] = _rules(table, index, setting)
        result["ContributorInsightsStatus"] = setting["status"]
        result["LastUpdateDateTime"] = datetime.fromtimestamp(setting["updated"], UTC)
        result["ContributorInsightsMode"] = setting["mode"]
        return result

    def list_contributor_insights(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Every table and GSI whose insights are not DISABLED: each table, then its indexes."""
        store = self.service.store
        if params.get("TableName"):
            names = [self.service.table(ctx, params["TableName"]).name]
        else:
            names = store.tables(ctx.account_id, ctx.region, None, 1_000_000)
        summaries = []
        for name in names:
            table = store.table(ctx.account_id, ctx.region, name)
            settings = table.meta.get("_insights", {}) if table else {}
            for index in sorted(settings):
                if settings[index]["status"] == "DISABLED":
                    continue
                summary = {"TableName": name, "ContributorInsightsStatus": settings[index]["status"]}
                if index:
                    summary["IndexName"] = index
                summary["ContributorInsightsMode"] = settings[index]["mode"]
                summaries.append(summary)
        start = decode_token(params.get("NextToken"), _invalid_token, "insights") or 0
        rows = list(enumerate(summaries))[start:]
        page, token = page_of(rows, params.get("MaxResults") or 100, lambda row: row[0] + 1, "insights")
        result: dict[str, Any] = {"ContributorInsightsSummaries": [summary for _, summary in page]}
        if token:
            result["NextToken"] = token
        return result

    @staticmethod
    def _index(table: Table, name: str | None) -> str:
        """ "" for the table itself, or a GSI's name (AWS: LSIs have no insights of their own)."""
        if not name:
            return ""
        index = table.indexes.get(name)
        if index is None or index.local:
            raise ServiceError(
                "ResourceNotFoundException", f"Index: {name} not found for table: {table.name}"
            )
        return name


def _rules(table: Table, index: str, setting: dict[str, Any]) -> list[str]:
    """The CloudWatch Contributor Insights rules AWS creates: most accessed (C) and most throttled (T)
    partition keys, and key pairs (SK) when there is a sort key; only the throttled ones in THROTTLED_KEYS mode."""
    resource = f"{table.name}-{index}" if index else table.name
    stamp = int(setting["created"] * 1000)
    sorted_key = (table.indexes[index].key if index else table.key).range_name is not None
    kinds = ["PKC", "SKC", "PKT", "SKT"] if setting["mode"] == ALL_KEYS else ["PKT", "SKT"]
    return [
        f"DynamoDBContributorInsights-{kind}-{resource}-{stamp}"
        for kind in kinds
        if sorted_key or kind.startswith("PK")
    ]
