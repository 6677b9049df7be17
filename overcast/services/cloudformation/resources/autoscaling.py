"""Auto Scaling resource types: AWS::AutoScaling::AutoScalingGroup, LaunchConfiguration, ScalingPolicy,
LifecycleHook, ScheduledAction."""

from __future__ import annotations

from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    ResourceHandler,
    boolean,
    drop_none,
    integer,
    not_found,
    shaped,
    text,
)


async def _ignore_missing(call) -> None:
    try:
        await call
    except ServiceError as error:
        if not (not_found(error) or error.code == "ValidationError" and "not found" in error.message.lower()):
            raise


def _group_settings(properties: dict[str, Any]) -> dict[str, Any]:
    """The parameters CreateAutoScalingGroup and UpdateAutoScalingGroup share."""
    template = properties.get("LaunchTemplate")
    zones = properties.get("VPCZoneIdentifier")
    return drop_none(
        {
            "LaunchConfigurationName": properties.get("LaunchConfigurationName"),
            "LaunchTemplate": drop_none(
                {
                    "LaunchTemplateId": template.get("LaunchTemplateId"),
                    "LaunchTemplateName": template.get("LaunchTemplateName"),
                    "Version": text(template.get("Version")),
                }
            )
            if template
            else None,
            "MixedInstancesPolicy": properties.get("MixedInstancesPolicy"),
            "MinSize": integer(properties.get("MinSize")),
            "MaxSize": integer(properties.get("MaxSize")),
            "DesiredCapacity": integer(properties.get("DesiredCapacity")),
            "DefaultCooldown": integer(properties.get("Cooldown")),
            "AvailabilityZones": properties.get("AvailabilityZones"),
            "HealthCheckType": properties.get("HealthCheckType"),
            "HealthCheckGracePeriod": integer(properties.get("HealthCheckGracePeriod")),
            "PlacementGroup": properties.get("PlacementGroup"),
            "VPCZoneIdentifier": ",".join(zones) if isinstance(zones, list) else zones,
            "TerminationPolicies": properties.get("TerminationPolicies"),
            "NewInstancesProtectedFromScaleIn": boolean(properties.get("NewInstancesProtectedFromScaleIn")),
            "CapacityRebalance": boolean(properties.get("CapacityRebalance")),
            "MaxInstanceLifetime": integer(properties.get("MaxInstanceLifetime")),
            "ServiceLinkedRoleARN": properties.get("ServiceLinkedRoleARN"),
            "DefaultInstanceWarmup": integer(properties.get("DefaultInstanceWarmup")),
            "Context": properties.get("Context"),
            "DesiredCapacityType": properties.get("DesiredCapacityType"),
        }
    )


def _group_tags(name: str, value: Any) -> list[dict[str, Any]]:
    tags = value or []
    return [
        {
            "ResourceId": name,
            "ResourceType": "auto-scaling-group",
            "Key": str(tag["Key"]),
            "Value": text(tag.get("Value")) or "",
            "PropagateAtLaunch": bool(boolean(tag.get("PropagateAtLaunch"))),
        }
        for tag in tags
    ]


class AutoScalingGroup(ResourceHandler):
    type_name = "AWS::AutoScaling::AutoScalingGroup"
    service = "autoscaling"
    required = ("MaxSize", "MinSize")
    create_only = frozenset({"AutoScalingGroupName", "InstanceId"})
    primary_identifier = "AutoScalingGroupName"

    async def create(self, ctx, properties):
        name = properties.get("AutoScalingGroupName") or ctx.generated_name(255)
        params = {
            "AutoScalingGroupName": name,
            **_group_settings(properties),
            **drop_none(
                {
                    "InstanceId": properties.get("InstanceId"),
                    "TargetGroupARNs": properties.get("TargetGroupARNs"),
                    "LoadBalancerNames": properties.get("LoadBalancerNames"),
                    "LifecycleHookSpecificationList": properties.get("LifecycleHookSpecificationList"),
                    "Tags": _group_tags(name, properties.get("Tags")) or None,
                }
            ),
        }
        await ctx.call(
            "autoscaling", "CreateAutoScalingGroup", shaped("autoscaling", "CreateAutoScalingGroup", params)
        )
        for metrics in properties.get("MetricsCollection") or []:
            await ctx.call(
                "autoscaling",
                "EnableMetricsCollection",
                drop_none(
                    {
                        "AutoScalingGroupName": name,
                        "Granularity": metrics["Granularity"],
                        "Metrics": metrics.get("Metrics"),
                    }
                ),
            )
        for notification in properties.get("NotificationConfigurations") or []:
            await ctx.call(
                "autoscaling",
                "PutNotificationConfiguration",
                {
                    "AutoScalingGroupName": name,
                    "TopicARN": notification["TopicARN"],
                    "NotificationTypes": notification.get("NotificationTypes") or [],
                },
            )
        return Created(name)

    async def update(self, ctx, physical_id, properties, previous, attributes):
        params = {"AutoScalingGroupName": physical_id, **_group_settings(properties)}
        await ctx.call(
            "autoscaling", "UpdateAutoScalingGroup", shaped("autoscaling", "UpdateAutoScalingGroup", params)
        )
        await self._swap(
            ctx,
            physical_id,
            "TargetGroupARNs",
            properties.get("TargetGroupARNs"),
            previous.get("TargetGroupARNs"),
        )
        if properties.get("Tags") != previous.get("Tags"):
            await self._retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def _retag(self, ctx, name: str, new: Any, old: Any) -> None:
        after = _group_tags(name, new)
        gone = [tag for tag in _group_tags(name, old) if tag["Key"] not in {t["Key"] for t in after}]
        if gone:
            await ctx.call("autoscaling", "DeleteTags", {"Tags": gone})
        if after:
            await ctx.call("autoscaling", "CreateOrUpdateTags", {"Tags": after})

    async def _swap(self, ctx, name: str, key: str, new: list | None, old: list | None) -> None:
        added = [arn for arn in new or [] if arn not in (old or [])]
        removed = [arn for arn in old or [] if arn not in (new or [])]
        if removed:
            await ctx.call(
                "autoscaling", "DetachLoadBalancerTargetGroups", {"AutoScalingGroupName": name, key: removed}
            )
        if added:
            await ctx.call(
                "autoscaling", "AttachLoadBalancerTargetGroups", {"AutoScalingGroupName": name, key: added}
            )

    async def delete(self, ctx, physical_id, properties):
        await _ignore_missing(
            ctx.call(
                "autoscaling",
                "DeleteAutoScalingGroup",
                {"AutoScalingGroupName": physical_id, "ForceDelete": True},
            )
        )

        async def gone() -> bool | None:
            found = await ctx.call(
                "autoscaling", "DescribeAutoScalingGroups", {"AutoScalingGroupNames": [physical_id]}
            )
            return True if not found.get("AutoScalingGroups") else None

        await ctx.settle(gone, every=0.2, limit=600)

    async def read(self, ctx, physical_id, properties):
        found = (
            await ctx.call(
                "autoscaling", "DescribeAutoScalingGroups", {"AutoScalingGroupNames": [physical_id]}
            )
        ).get("AutoScalingGroups", [])
        if not found:
            return None
        group = found[0]
        result = dict(properties)
        result["MinSize"] = str(group["MinSize"])
        result["MaxSize"] = str(group["MaxSize"])
        if "DesiredCapacity" in properties:
            result["DesiredCapacity"] = str(group["DesiredCapacity"])
        return result

    async def list(self, ctx):
        found = await ctx.call("autoscaling", "DescribeAutoScalingGroups", {})
        return [group["AutoScalingGroupName"] for group in found.get("AutoScalingGroups", [])]


class LaunchConfiguration(ResourceHandler):
    type_name = "AWS::AutoScaling::LaunchConfiguration"
    service = "autoscaling"
    required = ("ImageId", "InstanceType")
    create_only = frozenset(
        {
            "AssociatePublicIpAddress",
            "BlockDeviceMappings",
            "ClassicLinkVPCId",
            "ClassicLinkVPCSecurityGroups",
            "EbsOptimized",
            "IamInstanceProfile",
            "ImageId",
            "InstanceId",
            "InstanceMonitoring",
            "InstanceType",
            "KernelId",
            "KeyName",
            "LaunchConfigurationName",
            "MetadataOptions",
            "PlacementTenancy",
            "RamDiskId",
            "SecurityGroups",
            "SpotPrice",
            "UserData",
        }
    )
    primary_identifier = "LaunchConfigurationName"

    async def create(self, ctx, properties):
        name = properties.get("LaunchConfigurationName") or ctx.generated_name(255)
        monitoring = properties.get("InstanceMonitoring")
        params = drop_none(
            {
                "LaunchConfigurationName": name,
                "ImageId": properties.get("ImageId"),
                "InstanceType": properties.get("InstanceType"),
                "InstanceId": properties.get("InstanceId"),
                "KeyName": properties.get("KeyName"),
                "SecurityGroups": properties.get("SecurityGroups"),
                "UserData": properties.get("UserData"),
                "IamInstanceProfile": properties.get("IamInstanceProfile"),
                "BlockDeviceMappings": properties.get("BlockDeviceMappings"),
                "InstanceMonitoring": {"Enabled": bool(boolean(monitoring))}
                if monitoring is not None
                else None,
                "SpotPrice": properties.get("SpotPrice"),
                "EbsOptimized": boolean(properties.get("EbsOptimized")),
                "AssociatePublicIpAddress": boolean(properties.get("AssociatePublicIpAddress")),
                "PlacementTenancy": properties.get("PlacementTenancy"),
                "KernelId": properties.get("KernelId"),
                "RamdiskId": properties.get("RamDiskId"),
                "MetadataOptions": properties.get("MetadataOptions"),
            }
        )
        await ctx.call("autoscaling", "CreateLaunchConfiguration", params)
        return Created(name)

    async def delete(self, ctx, physical_id, properties):
        await _ignore_missing(
            ctx.call("autoscaling", "DeleteLaunchConfiguration", {"LaunchConfigurationName": physical_id})
        )

    async def read(self, ctx, physical_id, properties):
        found = await ctx.call(
            "autoscaling", "DescribeLaunchConfigurations", {"LaunchConfigurationNames": [physical_id]}
        )
        return dict(properties) if found.get("LaunchConfigurations") else None


def _policy(group: str, name: str, properties: dict[str, Any]) -> dict[str, Any]:
    return shaped("autoscaling", "PutScalingPolicy", _policy_params(group, name, properties))


def _policy_params(group: str, name: str, properties: dict[str, Any]) -> dict[str, Any]:
    return drop_none(
        {
            "AutoScalingGroupName": group,
            "PolicyName": name,
            "PolicyType": properties.get("PolicyType"),
            "AdjustmentType": properties.get("AdjustmentType"),
            "ScalingAdjustment": integer(properties.get("ScalingAdjustment")),
            "Cooldown": integer(properties.get("Cooldown")),
            "MinAdjustmentMagnitude": integer(properties.get("MinAdjustmentMagnitude")),
            "MetricAggregationType": properties.get("MetricAggregationType"),
            "StepAdjustments": [
                drop_none(
                    {
                        "MetricIntervalLowerBound": _number(step.get("MetricIntervalLowerBound")),
                        "MetricIntervalUpperBound": _number(step.get("MetricIntervalUpperBound")),
                        "ScalingAdjustment": integer(step["ScalingAdjustment"]),
                    }
                )
                for step in properties["StepAdjustments"]
            ]
            if properties.get("StepAdjustments")
            else None,
            "EstimatedInstanceWarmup": integer(properties.get("EstimatedInstanceWarmup")),
            "TargetTrackingConfiguration": _target_tracking(properties.get("TargetTrackingConfiguration")),
            "PredictiveScalingConfiguration": properties.get("PredictiveScalingConfiguration"),
        }
    )


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _target_tracking(config: dict[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    converted = dict(config)
    converted["TargetValue"] = float(config["TargetValue"])
    if "DisableScaleIn" in converted:
        converted["DisableScaleIn"] = bool(boolean(converted["DisableScaleIn"]))
    return converted


class ScalingPolicy(ResourceHandler):
    type_name = "AWS::AutoScaling::ScalingPolicy"
    service = "autoscaling"
    required = ("AutoScalingGroupName",)
    create_only = frozenset({"AutoScalingGroupName"})
    attributes = ("Arn", "PolicyName")
    primary_identifier = "Arn"

    async def create(self, ctx, properties):
        name = ctx.generated_name(255)
        found = await ctx.call(
            "autoscaling", "PutScalingPolicy", _policy(properties["AutoScalingGroupName"], name, properties)
        )
        return Created(found["PolicyARN"], {"Arn": found["PolicyARN"], "PolicyName": name})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call(
            "autoscaling",
            "PutScalingPolicy",
            _policy(properties["AutoScalingGroupName"], attributes["PolicyName"], properties),
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await _ignore_missing(
            ctx.call(
                "autoscaling",
                "DeletePolicy",
                {"AutoScalingGroupName": properties["AutoScalingGroupName"], "PolicyName": physical_id},
            )
        )

    async def read(self, ctx, physical_id, properties):
        try:
            found = await ctx.call(
                "autoscaling",
                "DescribePolicies",
                {"AutoScalingGroupName": properties["AutoScalingGroupName"], "PolicyNames": [physical_id]},
            )
        except ServiceError as error:
            if not_found(error) or error.code == "ValidationError":
                return None
            raise
        return dict(properties) if found.get("ScalingPolicies") else None

    def known_attributes(self, ctx, physical_id):
        return {"Arn": physical_id, "PolicyName": physical_id.rsplit("policyName/", 1)[-1]}


class LifecycleHook(ResourceHandler):
    type_name = "AWS::AutoScaling::LifecycleHook"
    service = "autoscaling"
    required = ("AutoScalingGroupName", "LifecycleTransition")
    create_only = frozenset({"AutoScalingGroupName", "LifecycleHookName"})
    primary_identifier = "LifecycleHookName"

    @staticmethod
    def _params(name: str, properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "LifecycleHookName": name,
                "AutoScalingGroupName": properties["AutoScalingGroupName"],
                "LifecycleTransition": properties.get("LifecycleTransition"),
                "RoleARN": properties.get("RoleARN"),
                "NotificationTargetARN": properties.get("NotificationTargetARN"),
                "NotificationMetadata": properties.get("NotificationMetadata"),
                "HeartbeatTimeout": integer(properties.get("HeartbeatTimeout")),
                "DefaultResult": properties.get("DefaultResult"),
            }
        )

    async def create(self, ctx, properties):
        name = properties.get("LifecycleHookName") or ctx.generated_name(255)
        await ctx.call("autoscaling", "PutLifecycleHook", self._params(name, properties))
        return Created(name)

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call("autoscaling", "PutLifecycleHook", self._params(physical_id, properties))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await _ignore_missing(
            ctx.call(
                "autoscaling",
                "DeleteLifecycleHook",
                {
                    "LifecycleHookName": physical_id,
                    "AutoScalingGroupName": properties["AutoScalingGroupName"],
                },
            )
        )


class ScheduledAction(ResourceHandler):
    type_name = "AWS::AutoScaling::ScheduledAction"
    service = "autoscaling"
    required = ("AutoScalingGroupName",)
    create_only = frozenset({"AutoScalingGroupName"})
    attributes = ("ScheduledActionName",)
    primary_identifier = "ScheduledActionName"

    @staticmethod
    def _params(name: str, properties: dict[str, Any]) -> dict[str, Any]:
        params = drop_none(
            {
                "ScheduledActionName": name,
                "AutoScalingGroupName": properties["AutoScalingGroupName"],
                "Recurrence": properties.get("Recurrence"),
                "StartTime": properties.get("StartTime"),
                "EndTime": properties.get("EndTime"),
                "TimeZone": properties.get("TimeZone"),
                "MinSize": properties.get("MinSize"),
                "MaxSize": properties.get("MaxSize"),
                "DesiredCapacity": properties.get("DesiredCapacity"),
            }
        )
        return shaped("autoscaling", "PutScheduledUpdateGroupAction", params)

    async def create(self, ctx, properties):
        name = ctx.generated_name(255)
        await ctx.call("autoscaling", "PutScheduledUpdateGroupAction", self._params(name, properties))
        return Created(name, {"ScheduledActionName": name})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call("autoscaling", "PutScheduledUpdateGroupAction", self._params(physical_id, properties))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await _ignore_missing(
            ctx.call(
                "autoscaling",
                "DeleteScheduledAction",
                {
                    "ScheduledActionName": physical_id,
                    "AutoScalingGroupName": properties["AutoScalingGroupName"],
                },
            )
        )


HANDLERS = (AutoScalingGroup, LaunchConfiguration, ScalingPolicy, LifecycleHook, ScheduledAction)
