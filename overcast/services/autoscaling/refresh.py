"""Instance refresh (rolling): the group's instances at the start are replaced in batches, keeping
MinHealthyPercentage of the desired capacity in service (90% by default, at least one instance per batch);
the worker terminates a batch, launches replacements from the group's current template or configuration,
and takes the next batch once they are in service."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.autoscaling.store import GROUP
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.autoscaling.provider import AutoScalingProvider

REFRESH = "refresh"
ACTIVE = ("Pending", "InProgress", "Cancelling")


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RefreshOperations(Operations):
    service: AutoScalingProvider

    def start_instance_refresh(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.service.group(ctx, params["AutoScalingGroupName"])
        name = group["AutoScalingGroupName"]
        if any(r["Status"] in ACTIVE for r in self._of(ctx.account_id, ctx.region, name)):
            raise ServiceError("InstanceRefreshInProgress", "An Instance Refresh is already in progress and blocks "
                               "the execution of this Instance Refresh.")  # fmt: skip
        preferences = {"MinHealthyPercentage": 90, "InstanceWarmup": group.get("DefaultInstanceWarmup", 0) or 0,
                       "SkipMatching": False, "AutoRollback": False, "ScaleInProtectedInstances": "Ignore",
                       "StandbyInstances": "Ignore", **(params.get("Preferences") or {})}  # fmt: skip
        old = [m["InstanceId"] for m in group["Instances"]]
        refresh_id = str(uuid.uuid4())
        refresh = {
            "InstanceRefreshId": refresh_id,
            "AutoScalingGroupName": name,
            "Status": "InProgress" if old else "Successful",
            "StartTime": _iso(self.service.clock.now()),
            "PercentageComplete": 0 if old else 100,
            "InstancesToUpdate": len(old),
            "Preferences": preferences,
            "Strategy": params.get("Strategy") or "Rolling",
            "_old": old,
            "_total": len(old),
        }
        if not old:
            refresh["EndTime"] = refresh["StartTime"]
        self.service.store.put(ctx.account_id, ctx.region, REFRESH, f"{name}/{refresh_id}", refresh)
        self.service.kick()
        return {"InstanceRefreshId": refresh_id}

    def _of(self, account: str, region: str, group: str) -> list[dict[str, Any]]:
        return [
            r
            for r in self.service.store.listing(account, region, REFRESH)
            if r["AutoScalingGroupName"] == group
        ]

    def describe_instance_refreshes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.group(ctx, params["AutoScalingGroupName"])
        refreshes = self._of(ctx.account_id, ctx.region, params["AutoScalingGroupName"])
        if params.get("InstanceRefreshIds"):
            refreshes = [r for r in refreshes if r["InstanceRefreshId"] in params["InstanceRefreshIds"]]
        refreshes.sort(key=lambda r: r["StartTime"], reverse=True)
        return {
            "InstanceRefreshes": [{k: v for k, v in r.items() if not k.startswith("_")} for r in refreshes]
        }

    def cancel_instance_refresh(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = self.service.group(ctx, params["AutoScalingGroupName"])["AutoScalingGroupName"]
        for refresh in self._of(ctx.account_id, ctx.region, name):
            if refresh["Status"] in ACTIVE:
                refresh.update(Status="Cancelled", EndTime=_iso(self.service.clock.now()))
                self.service.store.put(ctx.account_id, ctx.region, REFRESH, f"{name}/{refresh['InstanceRefreshId']}",
                                       refresh)  # fmt: skip
                return {"InstanceRefreshId": refresh["InstanceRefreshId"]}
        raise ServiceError("ActiveInstanceRefreshNotFound", "No in progress or pending Instance Refresh found for "
                           f"Auto Scaling group {name}")  # fmt: skip

    def next_batch(self, account: str, region: str, name: str) -> list[str]:
        """The old instances to take out of the group now (inside the caller's transaction)."""
        group = self.service.store.get(account, region, GROUP, name)
        if group is None:
            return []
        for refresh in self._of(account, region, name):
            if refresh["Status"] != "InProgress":
                continue
            members = {m["InstanceId"]: m for m in group["Instances"]}
            old = [i for i in refresh["_old"] if i in members]
            refresh["_old"] = old
            done = refresh["_total"] - len(old)
            refresh["PercentageComplete"] = int(100 * done / refresh["_total"]) if refresh["_total"] else 100
            key = f"{name}/{refresh['InstanceRefreshId']}"
            if not old:
                refresh.update(
                    Status="Successful", PercentageComplete=100, EndTime=_iso(self.service.clock.now())
                )
                self.service.store.put(account, region, REFRESH, key, refresh)
                return []
            desired = group["DesiredCapacity"]
            healthy_needed = math.ceil(desired * refresh["Preferences"]["MinHealthyPercentage"] / 100)
            in_service = sum(1 for m in group["Instances"] if m["LifecycleState"] == "InService")
            if len(group["Instances"]) < desired:  # replacements of the last batch are not launched yet
                self.service.store.put(account, region, REFRESH, key, refresh)
                return []
            batch = max(1, in_service - healthy_needed) if in_service >= desired else 0
            doomed = old[:batch]
            refresh["InstancesToUpdate"] = len(old)
            self.service.store.put(account, region, REFRESH, key, refresh)
            return doomed
        return []
