"""Scaling policies: simple and step policies change a group's desired capacity when executed
(ExecutePolicy now; CloudWatch alarms once that service lands), with AWS's adjustment types
(ChangeInCapacity, ExactCapacity, PercentChangeInCapacity with MinAdjustmentMagnitude), clamped to the
group's min and max, and the cooldown honoured when asked; target tracking policies are kept as records."""

from __future__ import annotations

import math
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.autoscaling.store import GROUP
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.autoscaling.provider import AutoScalingProvider

POLICY = "policy"
ADJUSTMENTS = ("ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity")


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationError", message)


def new_capacity(current: int, adjustment_type: str, adjustment: int, min_magnitude: int | None) -> int:
    """The desired capacity an adjustment asks for (before the group's bounds)."""
    if adjustment_type == "ExactCapacity":
        return adjustment
    if adjustment_type == "PercentChangeInCapacity":
        change = current * adjustment / 100
        change = math.floor(change) if change > 0 else math.ceil(change)  # AWS rounds toward zero...
        if change == 0 and adjustment != 0:
            change = 1 if adjustment > 0 else -1  # ...but a change of less than one is one
        if min_magnitude and abs(change) < min_magnitude:
            change = min_magnitude if change > 0 else -min_magnitude
        return current + change
    return current + adjustment


class PolicyOperations(Operations):
    service: AutoScalingProvider

    def put_scaling_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.service.group(ctx, params["AutoScalingGroupName"])
        kind = params.get("PolicyType") or "SimpleScaling"
        if kind in ("SimpleScaling", "StepScaling"):
            adjustment_type = params.get("AdjustmentType")
            if adjustment_type not in ADJUSTMENTS:
                raise validation("AdjustmentType is required for simple and step scaling policies" if not
                                 adjustment_type else f"Invalid adjustment type {adjustment_type}")  # fmt: skip
            if kind == "SimpleScaling" and params.get("ScalingAdjustment") is None:
                raise validation("ScalingAdjustment is required for simple scaling policies")
            if kind == "StepScaling" and not params.get("StepAdjustments"):
                raise validation("StepAdjustments is required for step scaling policies")
        elif kind == "TargetTrackingScaling" and not params.get("TargetTrackingConfiguration"):
            raise validation("TargetTrackingConfiguration is required for target tracking scaling policies")
        name = f"{group['AutoScalingGroupName']}/{params['PolicyName']}"
        existing = self.service.store.get(ctx.account_id, ctx.region, POLICY, name)
        arn = existing["PolicyARN"] if existing else ctx.arn(
            "autoscaling", f"scalingPolicy:{uuid.uuid4()}:autoScalingGroupName/{group['AutoScalingGroupName']}:"
                           f"policyName/{params['PolicyName']}")  # fmt: skip
        policy: dict[str, Any] = {
            "AutoScalingGroupName": group["AutoScalingGroupName"],
            "PolicyName": params["PolicyName"],
            "PolicyARN": arn,
            "PolicyType": kind,
            "Alarms": [],
            "Enabled": params.get("Enabled", True),
        }
        for key in ("AdjustmentType", "MinAdjustmentMagnitude", "ScalingAdjustment", "Cooldown", "StepAdjustments",
                    "MetricAggregationType", "EstimatedInstanceWarmup", "TargetTrackingConfiguration"):  # fmt: skip
            if params.get(key) is not None:
                policy[key] = params[key]
        if kind == "StepScaling":
            policy.setdefault("MetricAggregationType", "Average")
        if kind == "TargetTrackingScaling":
            policy["TargetTrackingConfiguration"].setdefault("DisableScaleIn", False)
        self.service.store.put(ctx.account_id, ctx.region, POLICY, name, policy)
        return {"PolicyARN": arn, "Alarms": []}

    def describe_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policies = self.service.store.listing(ctx.account_id, ctx.region, POLICY)
        if params.get("AutoScalingGroupName"):
            policies = [p for p in policies if p["AutoScalingGroupName"] == params["AutoScalingGroupName"]]
        if params.get("PolicyNames"):
            policies = [p for p in policies if p["PolicyName"] in params["PolicyNames"]
                        or p["PolicyARN"] in params["PolicyNames"]]  # fmt: skip
        if params.get("PolicyTypes"):
            policies = [p for p in policies if p["PolicyType"] in params["PolicyTypes"]]
        return {"ScalingPolicies": policies}

    def _policy(self, ctx: RequestContext, group: str | None, name: str) -> dict[str, Any]:
        for policy in self.service.store.listing(ctx.account_id, ctx.region, POLICY):
            if name in (policy["PolicyARN"], policy["PolicyName"]) and group in (
                None,
                policy["AutoScalingGroupName"],
            ):
                return policy
        raise validation("Policy not found")

    def delete_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policy = self._policy(ctx, params.get("AutoScalingGroupName"), params["PolicyName"])
        self.service.store.delete(ctx.account_id, ctx.region, POLICY,
                                  f"{policy['AutoScalingGroupName']}/{policy['PolicyName']}")  # fmt: skip
        return {}

    def execute_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policy = self._policy(ctx, params.get("AutoScalingGroupName"), params["PolicyName"])
        group = self.service.group(ctx, policy["AutoScalingGroupName"])
        kind = policy["PolicyType"]
        if kind == "TargetTrackingScaling":
            raise validation("ExecutePolicy is not supported for target tracking scaling policies.")
        if kind == "StepScaling":
            if params.get("MetricValue") is None or params.get("BreachThreshold") is None:
                raise validation("MetricValue and BreachThreshold are required for step scaling policies")
            adjustment = _step(policy["StepAdjustments"], params["MetricValue"] - params["BreachThreshold"])
            if adjustment is None:
                return {}
        else:
            adjustment = policy["ScalingAdjustment"]
            now = self.service.clock.now()
            cooldown = policy.get("Cooldown", group["DefaultCooldown"])
            if params.get("HonorCooldown") and now < group.get("_cooldown_until", 0):
                raise ServiceError("ScalingActivityInProgress", "Scaling activity is in progress and blocks this "
                                   "action.")  # fmt: skip
            group["_cooldown_until"] = now + cooldown
        current = group["DesiredCapacity"]
        wanted = new_capacity(
            current, policy["AdjustmentType"], adjustment, policy.get("MinAdjustmentMagnitude")
        )
        group["DesiredCapacity"] = min(max(wanted, group["MinSize"]), group["MaxSize"])
        self.service.store.put(ctx.account_id, ctx.region, GROUP, group["AutoScalingGroupName"], group)
        self.service.kick()
        return {}


def _step(steps: list[dict[str, Any]], difference: float) -> int | None:
    """The adjustment of the step whose interval holds the metric's distance from the breach threshold."""
    for step in steps:
        low = step.get("MetricIntervalLowerBound", -math.inf)
        high = step.get("MetricIntervalUpperBound", math.inf)
        if low <= difference < high:
            return step["ScalingAdjustment"]
    return None
