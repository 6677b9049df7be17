"""DynamoDB time-to-live settings (UpdateTimeToLive, DescribeTimeToLive); the sweeper is workers.py's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.dynamodb import replicas
from overcast.services.dynamodb.store import Table
from overcast.services.dynamodb.values import validation

if TYPE_CHECKING:
    from overcast.services.dynamodb.provider import DynamoDBProvider


class TtlOperations(Operations):
    service: DynamoDBProvider

    def update_time_to_live(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        table = self.service.table(ctx, params["TableName"])
        spec = params["TimeToLiveSpecification"]
        current = table.ttl_attribute
        if spec["Enabled"]:
            if current is not None:
                raise validation("TimeToLive is already enabled")
            for member in self._group(table):
                store.set_ttl_attribute(member, spec["AttributeName"], self.clock.now())
        else:
            if current is None:
                raise validation("TimeToLive is already disabled")
            if current != spec["AttributeName"]:
                raise validation(
                    "TimeToLive is active on a different AttributeName: current AttributeName is " + current
                )
            for member in self._group(table):
                store.set_ttl_attribute(member, None, self.clock.now())
        return {
            "TimeToLiveSpecification": {"Enabled": spec["Enabled"], "AttributeName": spec["AttributeName"]}
        }

    def _group(self, table: Table) -> list[Table]:
        """The table and, for a global table, its replicas: TTL settings hold group-wide, as in AWS."""
        return [table, *replicas.peers(self.service.store, table)]

    def describe_time_to_live(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.service.table(ctx, params["TableName"])
        if table.ttl_attribute is None:
            return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
        return {
            "TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": table.ttl_attribute}
        }
