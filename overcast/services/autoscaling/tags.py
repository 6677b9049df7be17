"""Tags of Auto Scaling groups (CreateOrUpdateTags, DeleteTags, DescribeTags): kept in the group's `Tags` as
DescribeAutoScalingGroups shows them; those with PropagateAtLaunch go on the instances launched after."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.autoscaling.store import GROUP
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.autoscaling.provider import AutoScalingProvider

RESOURCE_TYPE = "auto-scaling-group"
MAX_TAGS = 50
FILTERS = {
    "auto-scaling-group": "ResourceId",
    "key": "Key",
    "value": "Value",
    "propagate-at-launch": "PropagateAtLaunch",
}


def _validation(message: str) -> ServiceError:
    return ServiceError("ValidationError", message)


def _shown(tag: dict[str, Any]) -> str:
    return (f"Key:{tag.get('Key')},PropagateAtLaunch:{str(tag['PropagateAtLaunch']).lower() if 'PropagateAtLaunch' in tag else 'null'},"
            f"ResourceId:{tag.get('ResourceId') or 'null'},ResourceType:{tag.get('ResourceType') or 'null'}")  # fmt: skip


class TagOperations(Operations):
    service: AutoScalingProvider

    def _groups_of(self, ctx: RequestContext, tags: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        incomplete = [t for t in tags if not t.get("ResourceId") or t.get("ResourceType") != RESOURCE_TYPE]
        if incomplete:
            raise _validation("Incomplete tags information for these tags. "
                              + "".join(f"Tag - '{_shown(t)}' , " for t in incomplete))  # fmt: skip
        groups = {}
        for tag in tags:
            name = tag["ResourceId"]
            if name not in groups:
                found = self.service.store.get(ctx.account_id, ctx.region, GROUP, name)
                if found is None:
                    raise _validation(f"AutoScalingGroup not found - AutoScaling Group {name} not found")
                groups[name] = found
        return groups

    def create_or_update_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        groups = self._groups_of(ctx, params["Tags"])
        for tag in params["Tags"]:
            group = groups[tag["ResourceId"]]
            described = {"ResourceId": tag["ResourceId"], "ResourceType": RESOURCE_TYPE, "Key": tag["Key"],
                         "Value": tag.get("Value", ""), "PropagateAtLaunch": bool(tag.get("PropagateAtLaunch"))}  # fmt: skip
            group["Tags"] = [t for t in group["Tags"] if t["Key"] != tag["Key"]] + [described]
        for name, group in groups.items():
            if len(group["Tags"]) > MAX_TAGS:
                raise ServiceError("LimitExceeded", f"The quota for the number of tags ({MAX_TAGS}) has been "
                                   f"exceeded for Auto Scaling group {name}.")  # fmt: skip
            group["Tags"].sort(key=lambda t: t["Key"])
            self.service.store.put(ctx.account_id, ctx.region, GROUP, name, group)
        return {}

    def delete_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        groups = self._groups_of(ctx, params["Tags"])
        for tag in params["Tags"]:
            group = groups[tag["ResourceId"]]
            group["Tags"] = [t for t in group["Tags"] if t["Key"] != tag["Key"] or
                             ("Value" in tag and tag["Value"] != t["Value"])]  # fmt: skip
        for name, group in groups.items():
            self.service.store.put(ctx.account_id, ctx.region, GROUP, name, group)
        return {}

    def describe_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tags = [
            t
            for group in self.service.store.listing(ctx.account_id, ctx.region, GROUP)
            for t in group["Tags"]
        ]
        for given in params.get("Filters") or []:
            field = FILTERS.get(given.get("Name") or "")
            if field is None:
                raise _validation(f"Filter type {given.get('Name')} is not correct. Allowed Filter types are: "
                                  "auto-scaling-group key value propagate-at-launch")  # fmt: skip
            values = given.get("Values") or []
            tags = [
                t
                for t in tags
                if (str(t[field]).lower() if field == "PropagateAtLaunch" else t[field]) in values
            ]
        tags.sort(key=lambda t: (t["ResourceId"], t["Key"]))
        return {"Tags": [{k: t[k] for k in ("ResourceId", "ResourceType", "Key", "Value", "PropagateAtLaunch")}
                         for t in tags]}  # fmt: skip
