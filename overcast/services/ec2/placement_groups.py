"""Placement groups (cluster, spread, partition) as records; RunInstances places instances in one by name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import kinds
from overcast.services.ec2.errors import invalid
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Resource

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

FILTERS = {"group-name": "GroupName", "group-arn": "GroupArn", "state": "State", "strategy": "Strategy",
           "spread-level": "SpreadLevel"}  # fmt: skip
MAX_PARTITIONS = 7


class PlacementGroupOperations(Operations):
    service: Ec2Provider

    def create_placement_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("GroupName") or ""
        strategy = params.get("Strategy") or "cluster"
        store = self.service.store
        if store.named(ctx.account_id, ctx.region, kinds.PLACEMENT_GROUP.name, name):
            raise ServiceError(
                "InvalidPlacementGroup.Duplicate", f"The Placement Group '{name}' already exists."
            )
        body: dict[str, Any] = {"GroupName": name, "State": "available", "Strategy": strategy}
        if strategy == "partition":
            count = params.get("PartitionCount") or 2
            if not 1 <= count <= MAX_PARTITIONS:
                raise invalid(f"Value ({count}) for parameter partitionCount is invalid. The partition count must "
                              f"be between 1 and {MAX_PARTITIONS}.")  # fmt: skip
            body["PartitionCount"] = count
        elif params.get("PartitionCount"):
            raise invalid("PartitionCount can only be specified with the partition strategy.")
        if strategy == "spread":
            body["SpreadLevel"] = params.get("SpreadLevel") or "rack"
        group_id = new_id("pg")
        body["GroupId"] = group_id
        body["GroupArn"] = kinds.PLACEMENT_GROUP.arn(ctx.region, ctx.account_id, name)
        group = store.insert(Resource(group_id, ctx.account_id, ctx.region, kinds.PLACEMENT_GROUP.name, body,
                                      name=name))  # fmt: skip
        self.service.net.tag(group, tag_specifications(params, "placement-group"))
        return {"PlacementGroup": self.service.net.render(group)}

    def by_name(self, ctx: RequestContext, name: str) -> Resource:
        found = self.service.store.named(ctx.account_id, ctx.region, kinds.PLACEMENT_GROUP.name, name)
        if not found:
            raise kinds.PLACEMENT_GROUP.not_found([name])
        return found[0]

    def describe_placement_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = list(params.get("GroupIds") or ())
        ids += [self.by_name(ctx, name).id for name in params.get("GroupNames") or ()]
        return self.service.net.describe(ctx, params, kinds.PLACEMENT_GROUP, ids or None, FILTERS,
                                         "PlacementGroups")  # fmt: skip

    def delete_placement_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.by_name(ctx, params["GroupName"])
        for instance in self.service.store.page(ctx.account_id, ctx.region, kinds.INSTANCE.name, 0, 100_000):
            if (
                instance.body["Placement"].get("GroupName") == group.name
                and instance.body["State"]["Name"] != "terminated"
            ):
                raise ServiceError("InvalidPlacementGroup.InUse",
                                   f"The placement group '{group.name}' is in use and may not be deleted.")  # fmt: skip
        self.service.net.forget(group)
        return {}
