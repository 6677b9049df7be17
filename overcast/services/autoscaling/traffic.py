"""Traffic sources: the ELBv2 target groups of a group (TargetGroupARNs, Attach/DetachLoadBalancerTargetGroups,
Attach/DetachTrafficSources). The worker registers the group's InService instances with them and deregisters
those that leave (through ELBv2's RegisterTargets/DeregisterTargets, as the service-linked role); with
`HealthCheckType: ELB` an instance a target group reports unhealthy after the grace period is replaced."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.autoscaling.store import GROUP
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.autoscaling.provider import AutoScalingProvider

ELBV2 = "elbv2"


def _invalid_target_groups() -> ServiceError:
    return ServiceError("ValidationError", "Provided Target Groups may not be valid. Please ensure they exist and "
                        "try again.")  # fmt: skip


class TrafficOperations(Operations):
    service: AutoScalingProvider

    def check_target_groups(self, account: str, region: str, arns: list[str]) -> None:
        from overcast.services.elbv2 import api as elbv2

        if any(not elbv2.target_group_exists(self.platform, account, region, arn) for arn in arns):
            raise _invalid_target_groups()

    def attach(self, ctx: RequestContext, name: str, sources: list[dict[str, Any]]) -> None:
        group = self.service.group(ctx, name)
        for source in sources:
            kind = source.get("Type") or ELBV2
            if kind != ELBV2:
                raise ServiceError("ValidationError", f"Traffic source type {kind} is not supported.")
        self.check_target_groups(ctx.account_id, ctx.region, [s["Identifier"] for s in sources])
        for source in sources:
            arn = source["Identifier"]
            if arn not in group["TargetGroupARNs"]:
                group["TargetGroupARNs"].append(arn)
                group["TrafficSources"].append({"Identifier": arn, "Type": ELBV2})
        self.service.store.put(ctx.account_id, ctx.region, GROUP, name, group)
        self.service.kick()

    def detach(self, ctx: RequestContext, name: str, arns: list[str]) -> None:
        group = self.service.group(ctx, name)
        group["TargetGroupARNs"] = [a for a in group["TargetGroupARNs"] if a not in arns]
        group["_attached_at_creation"] = [a for a in group.get("_attached_at_creation", []) if a not in arns]
        group["TrafficSources"] = [s for s in group["TrafficSources"] if s["Identifier"] not in arns]
        self.service.store.put(ctx.account_id, ctx.region, GROUP, name, group)
        self.service.kick()

    def attach_load_balancer_target_groups(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        self.attach(
            ctx, params["AutoScalingGroupName"], [{"Identifier": a} for a in params["TargetGroupARNs"]]
        )
        return {}

    def detach_load_balancer_target_groups(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        self.detach(ctx, params["AutoScalingGroupName"], params["TargetGroupARNs"])
        return {}

    def attach_traffic_sources(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.attach(ctx, params["AutoScalingGroupName"], params["TrafficSources"])
        return {}

    def detach_traffic_sources(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.detach(ctx, params["AutoScalingGroupName"], [s["Identifier"] for s in params["TrafficSources"]])
        return {}

    def describe_load_balancer_target_groups(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        group = self.service.group(ctx, params["AutoScalingGroupName"])
        return {"LoadBalancerTargetGroups": [{"LoadBalancerTargetGroupARN": arn, "State": self._state(group, arn)}
                                             for arn in group["TargetGroupARNs"]]}  # fmt: skip

    def describe_traffic_sources(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.service.group(ctx, params["AutoScalingGroupName"])
        wanted = params.get("TrafficSourceType")
        return {
            "TrafficSources": [
                {
                    "TrafficSource": s["Identifier"],
                    "State": self._state(group, s["Identifier"]),
                    "Identifier": s["Identifier"],
                    "Type": s["Type"],
                }
                for s in group["TrafficSources"]
                if not wanted or s["Type"] == wanted
            ]  # fmt: skip
        }

    def _state(self, group: dict[str, Any], arn: str) -> str:
        """Adding until every InService instance is registered; InService once one passes the health check (at
        once for a target group given to CreateAutoScalingGroup, as AWS documents)."""
        from overcast.services.elbv2 import api as elbv2

        if arn in group.get("_attached_at_creation", []):
            return "InService"
        health = elbv2.instance_health(self.platform, arn)
        members = [m["InstanceId"] for m in group["Instances"]
                   if m["LifecycleState"] == "InService" and not m.get("_unlisted")]  # fmt: skip
        if any(health.get(i) == "healthy" for i in members):
            return "InService"
        return "Added" if all(i in health for i in members) else "Adding"

    # -- the worker ------------------------------------------------------------------------------------------

    def unhealthy(self, group: dict[str, Any], now: float) -> list[str]:
        """The InService members a target group reports unhealthy once their grace period is over
        (HealthCheckType ELB)."""
        from overcast.services.elbv2 import api as elbv2

        if group["HealthCheckType"] != "ELB" or not group["TargetGroupARNs"]:
            return []
        health = [elbv2.instance_health(self.platform, arn) for arn in group["TargetGroupARNs"]]
        grace = group["HealthCheckGracePeriod"] or 0
        return [
            m["InstanceId"]
            for m in group["Instances"]
            if m["LifecycleState"] == "InService"
            and m.get("_launched", 0) + grace <= now
            and any(h.get(m["InstanceId"]) == "unhealthy" for h in health)
        ]

    async def sync(self, account: str, region: str, name: str) -> None:
        """Register InService members with the group's target groups; deregister those that left (or whose
        target group was detached)."""
        from overcast.services.autoscaling.provider import PRINCIPAL_HOST
        from overcast.services.elbv2 import api as elbv2

        with self.db.transaction():
            group = self.service.store.get(account, region, GROUP, name)
        if group is None:
            return
        registered: dict[str, list[str]] = group.get("_registered") or {}
        wanted = [m["InstanceId"] for m in group["Instances"]
                  if m["LifecycleState"] == "InService" and not m.get("_unlisted")]  # fmt: skip
        now_registered: dict[str, list[str]] = {}
        for arn in set(registered) | set(group["TargetGroupARNs"]):
            before = registered.get(arn, [])
            keep = wanted if arn in group["TargetGroupARNs"] else []
            leaving = [i for i in before if i not in keep]
            joining = [i for i in keep if i not in before]
            try:
                if leaving:
                    await elbv2.deregister_instances(
                        self.platform, PRINCIPAL_HOST, account, region, arn, leaving
                    )
                if joining:
                    await elbv2.register_instances(
                        self.platform, PRINCIPAL_HOST, account, region, arn, joining
                    )
            except ServiceError:  # a target group deleted, an instance not running yet: the next pass retries
                if arn in group["TargetGroupARNs"]:
                    now_registered[arn] = [i for i in before if i not in leaving]
                continue
            if keep:
                now_registered[arn] = keep
        if now_registered == registered:
            return
        with self.db.transaction():
            group = self.service.store.get(account, region, GROUP, name)
            if group is not None:
                group["_registered"] = now_registered
                self.service.store.put(account, region, GROUP, name, group)

    async def forget(self, account: str, region: str, group: dict[str, Any]) -> None:
        """A deleted group's instances leave its target groups."""
        from overcast.services.autoscaling.provider import PRINCIPAL_HOST
        from overcast.services.elbv2 import api as elbv2

        for arn, ids in (group.get("_registered") or {}).items():
            try:
                await elbv2.deregister_instances(self.platform, PRINCIPAL_HOST, account, region, arn, ids)
            except ServiceError:
                continue
