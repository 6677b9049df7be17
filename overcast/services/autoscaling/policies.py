"""Scaling policies: simple and step policies change a group's desired capacity when executed (ExecutePolicy,
or a CloudWatch alarm whose action names the policy), with AWS's adjustment types (ChangeInCapacity,
ExactCapacity, PercentChangeInCapacity with MinAdjustmentMagnitude), clamped to the group's min and max, and
the cooldown honoured when asked (always, for an alarm). A target tracking policy makes its two CloudWatch
alarms as AWS does (AlarmHigh: 3 of 3 minutes above the target; AlarmLow: 15 of 15 minutes below 90% of it,
unless scale-in is disabled) and, when one fires, sets the capacity that brings the metric to the target."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import root_principal
from overcast.services.autoscaling.store import GROUP
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.autoscaling.provider import AutoScalingProvider

POLICY = "policy"
ADJUSTMENTS = ("ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity")
PREDEFINED = {  # PredefinedMetricType: (namespace, metric, statistic)
    "ASGAverageCPUUtilization": ("AWS/EC2", "CPUUtilization", "Average"),
    "ASGAverageNetworkIn": ("AWS/EC2", "NetworkIn", "Average"),
    "ASGAverageNetworkOut": ("AWS/EC2", "NetworkOut", "Average"),
    "ALBRequestCountPerTarget": ("AWS/ApplicationELB", "RequestCountPerTarget", "Sum"),
}


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
            policy["Alarms"] = self._target_tracking_alarms(
                ctx, group, policy, (existing or {}).get("Alarms") or []
            )
        if existing:  # the alarms the policy no longer has
            kept = {a["AlarmName"] for a in policy["Alarms"]}
            self._delete_alarms(ctx.account_id, ctx.region, existing, kept)
        self.service.store.put(ctx.account_id, ctx.region, POLICY, name, policy)
        return {"PolicyARN": arn, "Alarms": policy["Alarms"]}

    def _target_tracking_alarms(
        self, ctx: RequestContext, group: dict[str, Any], policy: dict[str, Any], before: list[dict[str, str]]
    ) -> list[dict[str, str]]:
        """AWS's two alarms of a target tracking policy (CloudWatch PutMetricAlarm, as Auto Scaling); putting
        the policy again updates the alarms it had (`before`) under their names."""
        config = policy["TargetTrackingConfiguration"]
        target = float(config["TargetValue"])
        metric = _tracked_metric(group["AutoScalingGroupName"], config)
        alarms = [("AlarmHigh", "GreaterThanThreshold", target, 3)]
        if not config["DisableScaleIn"]:
            alarms.append(("AlarmLow", "LessThanThreshold", round(target * 0.9, 10), 15))
        made = []
        for suffix, comparison, threshold, periods in alarms:
            name = next((a["AlarmName"] for a in before if f"-{suffix}-" in a["AlarmName"]), None) or (
                f"TargetTracking-{group['AutoScalingGroupName']}-{suffix}-{uuid.uuid4()}"
            )
            params = {
                "AlarmName": name,
                "AlarmDescription": f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {policy['PolicyARN']}.",
                "ActionsEnabled": True,
                "AlarmActions": [policy["PolicyARN"]],
                "EvaluationPeriods": periods,
                "DatapointsToAlarm": periods,
                "Threshold": threshold,
                "ComparisonOperator": comparison,
                **metric,
            }
            self._cloudwatch(ctx.account_id, ctx.region, "PutMetricAlarm", params)
            made.append({"AlarmName": name, "AlarmARN": ctx.arn("cloudwatch", f"alarm:{name}")})
        return made

    def _delete_alarms(
        self, account: str, region: str, policy: dict[str, Any], kept: set[str] = frozenset()
    ) -> None:
        names = [a["AlarmName"] for a in policy.get("Alarms") or []
                 if a["AlarmName"].startswith("TargetTracking-") and a["AlarmName"] not in kept]  # fmt: skip
        if names:
            self._cloudwatch(account, region, "DeleteAlarms", {"AlarmNames": names})

    def _cloudwatch(self, account: str, region: str, operation: str, params: dict[str, Any]) -> None:
        """A CloudWatch call Auto Scaling makes with its service-linked role, whose permissions are AWS's (its
        managed policy allows the alarms): made as the account, so `--iam enforce` does not refuse it."""
        principal = root_principal(account)
        self.service.platform.call_now("cloudwatch", operation, params, principal=principal, account_id=account,
                                       region=region)  # fmt: skip

    def forget(self, account: str, region: str, policy: dict[str, Any]) -> None:
        """Delete a policy and the alarms it made (inside the caller's transaction)."""
        self._delete_alarms(account, region, policy)
        self.service.store.delete(
            account, region, POLICY, f"{policy['AutoScalingGroupName']}/{policy['PolicyName']}"
        )

    def describe_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policies = self.service.store.listing(ctx.account_id, ctx.region, POLICY)
        if params.get("AutoScalingGroupName"):
            policies = [p for p in policies if p["AutoScalingGroupName"] == params["AutoScalingGroupName"]]
        if params.get("PolicyNames"):
            policies = [p for p in policies if p["PolicyName"] in params["PolicyNames"]
                        or p["PolicyARN"] in params["PolicyNames"]]  # fmt: skip
        if params.get("PolicyTypes"):
            policies = [p for p in policies if p["PolicyType"] in params["PolicyTypes"]]
        for policy in policies:
            if policy["PolicyType"] != "TargetTrackingScaling":
                policy["Alarms"] = self._alarms_naming(ctx.account_id, ctx.region, policy["PolicyARN"])
        return {"ScalingPolicies": policies}

    def _alarms_naming(self, account: str, region: str, arn: str) -> list[dict[str, str]]:
        """The CloudWatch alarms whose actions run a simple or step policy (none while CloudWatch is unused)."""
        if self.service.platform.running("cloudwatch") is None:
            return []
        found: list[dict[str, str]] = []
        params: dict[str, Any] = {"ActionPrefix": arn, "AlarmTypes": ["MetricAlarm"], "MaxRecords": 100}
        for _ in range(1000):  # pages of 100
            page = self.service.platform.call_now("cloudwatch", "DescribeAlarms", params, principal=root_principal(account),
                                                  account_id=account, region=region)  # fmt: skip
            found += [
                {"AlarmName": a["AlarmName"], "AlarmARN": a["AlarmArn"]} for a in page.get("MetricAlarms", [])
            ]
            if not page.get("NextToken"):
                break
            params["NextToken"] = page["NextToken"]
        return found

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
        self.forget(ctx.account_id, ctx.region, policy)
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

    def alarm_fired(self, account: str, region: str, policy_arn: str, alarm: str, state: str,
                    reason_data: dict[str, Any] | None) -> None:  # fmt: skip
        """A CloudWatch alarm's action ran the policy: simple scaling within the cooldown (skipped during it),
        step scaling by the breach (the newest datapoint minus the threshold), target tracking towards the
        target. Raises ValidationError when the policy is gone (the alarm's history records the failure)."""
        store = self.service.store
        policy = next(
            (p for p in store.listing(account, region, POLICY) if p["PolicyARN"] == policy_arn), None
        )
        group = policy and store.get(account, region, GROUP, policy["AutoScalingGroupName"])
        if policy is None or group is None:
            raise validation(f"No scaling policy found for service namespace: ec2, resource ID: {policy_arn}")
        if not policy.get("Enabled", True) or any(
            p["ProcessName"] == "AlarmNotification" for p in group["SuspendedProcesses"]
        ):
            return
        points = (reason_data or {}).get("recentDatapoints") or []
        value = points[-1] if points else None
        threshold = (reason_data or {}).get("threshold")
        current = group["DesiredCapacity"]
        now = self.service.clock.now()
        kind = policy["PolicyType"]
        if kind == "TargetTrackingScaling":
            if value is None:
                return
            wanted = _tracking_capacity(
                current, value, float(policy["TargetTrackingConfiguration"]["TargetValue"])
            )
            if (wanted < current) == (state == "ALARM" and "-AlarmHigh-" in alarm):
                return  # the high alarm only scales out, the low one only in
        elif kind == "StepScaling":
            if value is None or threshold is None:
                return
            adjustment = _step(policy["StepAdjustments"], value - threshold)
            if adjustment is None:
                return
            wanted = new_capacity(
                current, policy["AdjustmentType"], adjustment, policy.get("MinAdjustmentMagnitude")
            )
        else:
            if now < group.get("_cooldown_until", 0):
                return
            group["_cooldown_until"] = now + policy.get("Cooldown", group["DefaultCooldown"])
            wanted = new_capacity(current, policy["AdjustmentType"], policy["ScalingAdjustment"],
                                  policy.get("MinAdjustmentMagnitude"))  # fmt: skip
        wanted = min(max(wanted, group["MinSize"]), group["MaxSize"])
        if wanted != current:
            stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            group["DesiredCapacity"] = wanted
            group["_cause"] = (f"At {stamp} a monitor alarm {alarm} in state {state} triggered policy "
                               f"{policy['PolicyName']} changing the desired capacity from {current} to {wanted}.")  # fmt: skip
        store.put(account, region, GROUP, group["AutoScalingGroupName"], group)
        self.service.kick()


def _tracked_metric(group: str, config: dict[str, Any]) -> dict[str, Any]:
    """The alarm's metric (PutMetricAlarm's members) of a target tracking configuration."""
    predefined = config.get("PredefinedMetricSpecification")
    if predefined:
        kind = predefined["PredefinedMetricType"]
        if kind not in PREDEFINED:
            raise validation(f"Invalid predefined metric type: {kind}")
        namespace, name, statistic = PREDEFINED[kind]
        if kind == "ALBRequestCountPerTarget":
            label = predefined.get("ResourceLabel") or ""
            if "/targetgroup/" not in label:
                raise validation(
                    "ResourceLabel is required for the predefined metric ALBRequestCountPerTarget"
                )
            dimensions = [
                {"Name": "TargetGroup", "Value": "targetgroup/" + label.split("/targetgroup/", 1)[1]}
            ]
        else:
            dimensions = [{"Name": "AutoScalingGroupName", "Value": group}]
        return {"Namespace": namespace, "MetricName": name, "Dimensions": dimensions, "Statistic": statistic,
                "Period": 60}  # fmt: skip
    custom = config.get("CustomizedMetricSpecification")
    if not custom:
        raise validation("Either PredefinedMetricSpecification or CustomizedMetricSpecification is required")
    if custom.get("Metrics"):
        return {"Metrics": [_query(q) for q in custom["Metrics"]]}
    metric = {"Namespace": custom["Namespace"], "MetricName": custom["MetricName"],
              "Dimensions": custom.get("Dimensions") or [], "Statistic": custom["Statistic"], "Period": 60}  # fmt: skip
    if custom.get("Unit"):
        metric["Unit"] = custom["Unit"]
    return metric


def _query(query: dict[str, Any]) -> dict[str, Any]:
    """A target tracking metric query as a PutMetricAlarm metric query (one-minute periods)."""
    made = {k: v for k, v in query.items() if k in ("Id", "Expression", "Label", "ReturnData")}
    if query.get("MetricStat"):
        made["MetricStat"] = {**query["MetricStat"], "Period": 60}
    return made


def _tracking_capacity(current: int, value: float, target: float) -> int:
    """The capacity that brings a per-instance metric back to the target: proportional, rounded up (scaling
    out never falls short, scaling in never overshoots)."""
    if target <= 0:
        return current
    return max(math.ceil(round(max(current, 1) * value / target, 9)), 0)


def _step(steps: list[dict[str, Any]], difference: float) -> int | None:
    """The adjustment of the step whose interval holds the metric's distance from the breach threshold."""
    for step in steps:
        low = step.get("MetricIntervalLowerBound", -math.inf)
        high = step.get("MetricIntervalUpperBound", math.inf)
        if low <= difference < high:
            return step["ScalingAdjustment"]
    return None
