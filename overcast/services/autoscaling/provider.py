"""EC2 Auto Scaling: launch configurations and groups. A worker on the virtual clock keeps each group at its
desired capacity: instances that are gone, stopped or terminated behind the group's back are replaced
(EC2 health checks), new instances go to the zone with the fewest (balancing across the group's subnets),
scale-in picks by the Default termination policy (the zone with the most, then the oldest instance), skipping
protected instances. Instances are launched and terminated through EC2's API, as the service does, and each
change is a scaling activity (DescribeScalingActivities)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.autoscaling.lifecycle import HOOK, LAUNCHING, TERMINATING, LifecycleOperations
from overcast.services.autoscaling.policies import POLICY, PolicyOperations
from overcast.services.autoscaling.refresh import REFRESH, RefreshOperations
from overcast.services.autoscaling.scheduled import SCHEDULED, ScheduledOperations
from overcast.services.autoscaling.store import GROUP, LAUNCH_CONFIGURATION, AutoScalingStore
from overcast.services.autoscaling.tags import TagOperations
from overcast.services.autoscaling.traffic import ELBV2, TrafficOperations
from overcast.services.base import ServiceProvider
from overcast.services.kit.metrics import MetricPoint

log = logging.getLogger("overcast.autoscaling")
CHECK_INTERVAL = 10.0  # virtual seconds between health checks of every group
GONE = ("shutting-down", "terminated", "stopping", "stopped")
PRINCIPAL_HOST = "autoscaling.amazonaws.com"
PROCESSES = ("Launch", "Terminate", "AddToLoadBalancer", "AlarmNotification", "AZRebalance", "HealthCheck",
             "InstanceRefresh", "ReplaceUnhealthy", "ScheduledActions")  # fmt: skip


GROUP_METRICS = ("GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity", "GroupInServiceInstances",
                 "GroupPendingInstances", "GroupStandbyInstances", "GroupTerminatingInstances", "GroupTotalInstances",
                 "GroupInServiceCapacity", "GroupPendingCapacity", "GroupStandbyCapacity", "GroupTerminatingCapacity",
                 "GroupTotalCapacity", "WarmPoolDesiredCapacity", "WarmPoolWarmedCapacity", "WarmPoolPendingCapacity",
                 "WarmPoolTerminatingCapacity", "WarmPoolTotalCapacity", "GroupAndWarmPoolDesiredCapacity",
                 "GroupAndWarmPoolTotalCapacity")  # fmt: skip
# The events of activities, by their description's beginning: (detail-type, Origin, Destination).
EVENTS = {
    "Launching a new EC2 instance: ": ("EC2 Instance Launch Successful", "EC2", "AutoScalingGroup"),
    "Launching a new EC2 instance.  Status Reason": (
        "EC2 Instance Launch Unsuccessful",
        "EC2",
        "AutoScalingGroup",
    ),
    "Terminating EC2 instance: ": ("EC2 Instance Terminate Successful", "AutoScalingGroup", "EC2"),
}


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationError", message)


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AutoScalingProvider(ServiceProvider):
    service_name = "autoscaling"
    families = (
        PolicyOperations,
        LifecycleOperations,
        ScheduledOperations,
        RefreshOperations,
        TrafficOperations,
        TagOperations,
    )

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = AutoScalingStore(self.db)
        from overcast.services.ec2 import api as ec2

        ec2.build(platform)  # outside a transaction: groups read subnets and instances
        self._wake = asyncio.Event()

    async def start(self) -> None:
        self.platform.spawn(self._keep_capacity())

    # -- launch configurations -------------------------------------------------------------------------

    def create_launch_configuration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["LaunchConfigurationName"]
        if self.store.get(ctx.account_id, ctx.region, LAUNCH_CONFIGURATION, name):
            raise ServiceError("AlreadyExists", f"Launch Configuration by this name already exists - A launch "
                               f"configuration already exists with the name {name}")  # fmt: skip
        if not params.get("ImageId") or not params.get("InstanceType"):
            raise validation("Valid requests must contain either the InstanceID parameter or both the ImageId "
                             "and InstanceType parameters.")  # fmt: skip
        body = {
            "LaunchConfigurationName": name,
            "LaunchConfigurationARN": ctx.arn(
                "autoscaling", f"launchConfiguration:{uuid.uuid4()}:launchConfigurationName/{name}"
            ),  # fmt: skip
            "ImageId": params["ImageId"],
            "KeyName": params.get("KeyName") or "",
            "SecurityGroups": params.get("SecurityGroups") or [],
            "ClassicLinkVPCSecurityGroups": [],
            "UserData": params.get("UserData") or "",
            "InstanceType": params["InstanceType"],
            "KernelId": "",
            "RamdiskId": "",
            "BlockDeviceMappings": params.get("BlockDeviceMappings") or [],
            "InstanceMonitoring": params.get("InstanceMonitoring") or {"Enabled": True},
            "CreatedTime": _iso(self.clock.now()),
            "EbsOptimized": bool(params.get("EbsOptimized")),
        }
        for key in ("IamInstanceProfile", "AssociatePublicIpAddress", "MetadataOptions"):
            if params.get(key) is not None:
                body[key] = params[key]
        self.store.put(ctx.account_id, ctx.region, LAUNCH_CONFIGURATION, name, body)
        return {}

    def describe_launch_configurations(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        names = params.get("LaunchConfigurationNames")
        found = self.store.listing(ctx.account_id, ctx.region, LAUNCH_CONFIGURATION)
        if names:
            found = [c for c in found if c["LaunchConfigurationName"] in names]
        return {"LaunchConfigurations": found}

    def delete_launch_configuration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["LaunchConfigurationName"]
        if not self.store.get(ctx.account_id, ctx.region, LAUNCH_CONFIGURATION, name):
            raise validation("Launch configuration name not found - Launch configuration "
                             f"{name} not found")  # fmt: skip
        for group in self.store.listing(ctx.account_id, ctx.region, GROUP):
            if group.get("LaunchConfigurationName") == name:
                raise ServiceError("ResourceInUse", "Cannot delete launch configuration "
                                   f"{name} because it is attached to AutoScalingGroup {group['AutoScalingGroupName']}")  # fmt: skip
        self.store.delete(ctx.account_id, ctx.region, LAUNCH_CONFIGURATION, name)
        return {}

    # -- groups ----------------------------------------------------------------------------------------

    def create_auto_scaling_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        from overcast.services.ec2 import api as ec2

        name = params["AutoScalingGroupName"]
        if self.store.get(ctx.account_id, ctx.region, GROUP, name):
            raise ServiceError("AlreadyExists", f"AutoScalingGroup by this name already exists - A group with "
                               f"the name {name} already exists")  # fmt: skip
        sources = [k for k in ("LaunchConfigurationName", "LaunchTemplate", "MixedInstancesPolicy", "InstanceId")
                   if params.get(k)]  # fmt: skip
        if len(sources) != 1:
            raise validation("Valid requests must contain either LaunchTemplate, LaunchConfigurationName, "
                             "InstanceId or MixedInstancesPolicy parameter.")  # fmt: skip
        if params.get("LaunchConfigurationName") and not self.store.get(
            ctx.account_id, ctx.region, LAUNCH_CONFIGURATION, params["LaunchConfigurationName"]
        ):
            raise validation(f"Launch configuration name not found - Launch configuration "
                             f"{params['LaunchConfigurationName']} not found")  # fmt: skip
        minimum, maximum = params["MinSize"], params["MaxSize"]
        desired = params.get("DesiredCapacity", minimum)
        _check_sizes(minimum, maximum, desired)
        subnets = [s.strip() for s in (params.get("VPCZoneIdentifier") or "").split(",") if s.strip()]
        zones: list[str] = []
        for subnet_id in subnets:
            subnet = ec2.subnet(self.platform, ctx.account_id, ctx.region, subnet_id)
            if subnet is None:
                raise validation(f"The subnet ID '{subnet_id}' does not exist")
            zones.append(subnet["AvailabilityZone"])
        if not subnets:
            zones = list(params.get("AvailabilityZones") or [])
            if not zones:
                raise validation("At least one Availability Zone or VPC Subnet is required.")
            for zone in zones:
                default = ec2.default_subnet(self.platform, ctx.account_id, ctx.region, zone)
                if default is None:
                    raise validation(f"No default subnet for availability zone: '{zone}'")
                subnets.append(default)
        sources = [{"Identifier": a, "Type": ELBV2} for a in params.get("TargetGroupARNs") or []]
        sources += [{"Identifier": s["Identifier"], "Type": s.get("Type") or ELBV2}
                    for s in params.get("TrafficSources") or [] if s["Identifier"] not in params.get("TargetGroupARNs", [])]  # fmt: skip
        if any(s["Type"] != ELBV2 for s in sources):
            raise validation("Only traffic sources of type elbv2 are supported.")
        self.family(TrafficOperations).check_target_groups(
            ctx.account_id, ctx.region, [s["Identifier"] for s in sources]
        )
        group: dict[str, Any] = {
            "AutoScalingGroupName": name,
            "AutoScalingGroupARN": ctx.arn(
                "autoscaling", f"autoScalingGroup:{uuid.uuid4()}:autoScalingGroupName/{name}"
            ),  # fmt: skip
            "MinSize": minimum,
            "MaxSize": maximum,
            "DesiredCapacity": desired,
            "DefaultCooldown": params.get("DefaultCooldown", 300),
            "AvailabilityZones": sorted(set(zones)),
            "LoadBalancerNames": params.get("LoadBalancerNames") or [],
            "TargetGroupARNs": [s["Identifier"] for s in sources],
            "HealthCheckType": params.get("HealthCheckType") or "EC2",
            "HealthCheckGracePeriod": params.get("HealthCheckGracePeriod", 0),
            "Instances": [],
            "CreatedTime": _iso(self.clock.now()),
            "SuspendedProcesses": [],
            "VPCZoneIdentifier": ",".join(subnets) if params.get("VPCZoneIdentifier") else "",
            "EnabledMetrics": [],
            "Tags": [
                {
                    **t,
                    "ResourceId": name,
                    "ResourceType": "auto-scaling-group",
                    "PropagateAtLaunch": bool(t.get("PropagateAtLaunch", False)),
                }
                for t in params.get("Tags") or []
            ],  # fmt: skip
            "TerminationPolicies": params.get("TerminationPolicies") or ["Default"],
            "NewInstancesProtectedFromScaleIn": bool(params.get("NewInstancesProtectedFromScaleIn")),
            "ServiceLinkedRoleARN": f"arn:aws:iam::{ctx.account_id}:role/aws-service-role/autoscaling.amazonaws"
            ".com/AWSServiceRoleForAutoScaling",  # fmt: skip
            "CapacityRebalance": bool(params.get("CapacityRebalance")),
            "TrafficSources": sources,
            "_subnets": subnets,
            "_attached_at_creation": [s["Identifier"] for s in sources],  # InService at once, as AWS
        }
        for key in ("LaunchConfigurationName", "LaunchTemplate", "MixedInstancesPolicy"):
            if params.get(key):
                group[key] = params[key]
        if params.get("LaunchTemplate"):
            group["LaunchTemplate"] = self._template_of_group(ctx, params["LaunchTemplate"])
        self.store.put(ctx.account_id, ctx.region, GROUP, name, group)
        self._soon()
        return {}

    def _template_of_group(self, ctx: RequestContext, spec: dict[str, Any]) -> dict[str, Any]:
        """The group's launch template as AWS describes it: its id and name, the version as given
        ($Default when none)."""
        try:
            found = self._template_version(ctx.account_id, ctx.region, spec)
        except ServiceError as error:
            raise validation(f"You must use a valid fully-formed launch template. {error.message}") from None
        return {**found, "Version": spec.get("Version") or "$Default"}

    def _template_version(self, account: str, region: str, spec: dict[str, Any]) -> dict[str, Any]:
        """The launch template and the version number `spec` names now ($Default, $Latest or a number)."""
        from overcast.services.ec2 import api as ec2

        named = {k: v for k, v in spec.items() if k in ("LaunchTemplateId", "LaunchTemplateName")}
        if "LaunchTemplateId" in named:
            named.pop("LaunchTemplateName", None)
        versions = ec2.act_for_service(self.platform, PRINCIPAL_HOST, account, region,
                                       "DescribeLaunchTemplateVersions",
                                       {**named, "Versions": [spec.get("Version") or "$Default"]})  # fmt: skip
        version = versions["LaunchTemplateVersions"][0]
        return {"LaunchTemplateId": version["LaunchTemplateId"], "LaunchTemplateName": version["LaunchTemplateName"],
                "Version": str(version["VersionNumber"])}  # fmt: skip

    def group(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        found = self.store.get(ctx.account_id, ctx.region, GROUP, name)
        if found is None:
            raise validation(f"AutoScalingGroup name not found - AutoScalingGroup '{name}' not found")
        return found

    def describe_auto_scaling_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        names = params.get("AutoScalingGroupNames")
        groups = self.store.listing(ctx.account_id, ctx.region, GROUP)
        if names:
            groups = [g for g in groups if g["AutoScalingGroupName"] in names]
        for given in params.get("Filters") or []:
            groups = [g for g in groups if _tagged(g, given)]
        return {"AutoScalingGroups": [_public(g) for g in groups]}

    def update_auto_scaling_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.group(ctx, params["AutoScalingGroupName"])
        minimum = params.get("MinSize", group["MinSize"])
        maximum = params.get("MaxSize", group["MaxSize"])
        desired = params.get("DesiredCapacity", group["DesiredCapacity"])
        if "DesiredCapacity" not in params:
            desired = min(max(desired, minimum), maximum)
        _check_sizes(minimum, maximum, desired)
        group.update(MinSize=minimum, MaxSize=maximum, DesiredCapacity=desired)
        group.pop("_cause", None)
        for key in ("HealthCheckType", "HealthCheckGracePeriod", "DefaultCooldown", "TerminationPolicies",
                    "NewInstancesProtectedFromScaleIn", "LaunchConfigurationName", "LaunchTemplate"):  # fmt: skip
            if params.get(key) is not None:
                group[key] = params[key]
        if params.get("LaunchTemplate"):
            group["LaunchTemplate"] = self._template_of_group(ctx, params["LaunchTemplate"])
            group.pop("LaunchConfigurationName", None)
        self.store.put(ctx.account_id, ctx.region, GROUP, group["AutoScalingGroupName"], group)
        self._soon()
        return {}

    def set_desired_capacity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.group(ctx, params["AutoScalingGroupName"])
        desired = params["DesiredCapacity"]
        if not group["MinSize"] <= desired <= group["MaxSize"]:
            raise validation(f"New SetDesiredCapacity value {desired} is "
                             f"{'below min value ' + str(group['MinSize']) if desired < group['MinSize'] else 'above max value ' + str(group['MaxSize'])} for the AutoScalingGroup.")  # fmt: skip
        group["DesiredCapacity"] = desired
        group.pop("_cause", None)
        self.store.put(ctx.account_id, ctx.region, GROUP, group["AutoScalingGroupName"], group)
        self._soon()
        return {}

    def set_instance_protection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.group(ctx, params["AutoScalingGroupName"])
        members = {i["InstanceId"]: i for i in group["Instances"]}
        for instance_id in params["InstanceIds"]:
            if instance_id not in members:
                raise validation(f"The instance {instance_id} is not part of Auto Scaling group "
                                 f"{group['AutoScalingGroupName']}.")  # fmt: skip
            members[instance_id]["ProtectedFromScaleIn"] = params["ProtectedFromScaleIn"]
        self.store.put(ctx.account_id, ctx.region, GROUP, group["AutoScalingGroupName"], group)
        return {}

    async def delete_auto_scaling_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["AutoScalingGroupName"]
        with self.db.transaction():
            group = self.group(ctx, name)
            if group["Instances"] and not params.get("ForceDelete"):
                raise ServiceError("ResourceInUse", "You cannot delete an AutoScalingGroup while there are "
                                   "instances or pending Spot instance request(s) still in the group.")  # fmt: skip
            self.store.delete(ctx.account_id, ctx.region, GROUP, name)
            self.store.forget_activities(ctx.account_id, ctx.region, name)
            for policy in self.store.listing(ctx.account_id, ctx.region, POLICY):
                if policy["AutoScalingGroupName"] == name:
                    self.family(PolicyOperations).forget(ctx.account_id, ctx.region, policy)
            for refresh in self.store.listing(ctx.account_id, ctx.region, REFRESH):
                if refresh["AutoScalingGroupName"] == name:
                    self.store.delete(
                        ctx.account_id, ctx.region, REFRESH, f"{name}/{refresh['InstanceRefreshId']}"
                    )
            for action in self.store.listing(ctx.account_id, ctx.region, SCHEDULED):
                if action["AutoScalingGroupName"] == name:
                    self.store.delete(ctx.account_id, ctx.region, SCHEDULED,
                                      f"{name}/{action['ScheduledActionName']}")  # fmt: skip
            for hook in self.store.listing(ctx.account_id, ctx.region, HOOK):
                if hook["AutoScalingGroupName"] == name:
                    self.store.delete(ctx.account_id, ctx.region, HOOK, f"{name}/{hook['LifecycleHookName']}")
        ids = [i["InstanceId"] for i in group["Instances"]]
        if ids:
            await self._ec2(ctx.account_id, ctx.region, "TerminateInstances", {"InstanceIds": ids})
        await self.family(TrafficOperations).forget(ctx.account_id, ctx.region, group)
        return {}

    def describe_auto_scaling_instances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        wanted = set(params.get("InstanceIds") or [])
        found = []
        for group in self.store.listing(ctx.account_id, ctx.region, GROUP):
            for instance in group["Instances"]:
                if not wanted or instance["InstanceId"] in wanted:
                    found.append({**_member(instance), "AutoScalingGroupName": group["AutoScalingGroupName"],
                                  "HealthStatus": instance["HealthStatus"].upper()})  # fmt: skip
        return {"AutoScalingInstances": found}

    async def terminate_instance_in_auto_scaling_group(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        instance_id = params["InstanceId"]
        with self.db.transaction():
            for group in self.store.listing(ctx.account_id, ctx.region, GROUP):
                member = next((i for i in group["Instances"] if i["InstanceId"] == instance_id), None)
                if member is None:
                    continue
                group["Instances"].remove(member)
                if params["ShouldDecrementDesiredCapacity"]:
                    if group["DesiredCapacity"] - 1 < group["MinSize"]:
                        raise validation(f"Currently, desiredSize equals minSize ({group['MinSize']}). Terminating "
                                         "instance without replacement will violate group's min size constraint. "
                                         "Either set shouldDecrementDesiredCapacity flag to false or lower group's "
                                         "min size.")  # fmt: skip
                    group["DesiredCapacity"] -= 1
                activity = self._activity(ctx.account_id, ctx.region, group,
                                          f"Terminating EC2 instance: {instance_id}",
                                          f"At {_iso(self.clock.now())} instance {instance_id} was taken out of "
                                          "service in response to a user request.")  # fmt: skip
                self.store.put(ctx.account_id, ctx.region, GROUP, group["AutoScalingGroupName"], group)
                break
            else:
                raise validation(
                    f"Instance Id not found - No managed instance found for instance ID: {instance_id}"
                )
        await self._ec2(ctx.account_id, ctx.region, "TerminateInstances", {"InstanceIds": [instance_id]})
        self._soon()
        return {"Activity": activity}

    def describe_scaling_activities(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("AutoScalingGroupName")
        if name:
            self.group(ctx, name)
        return {
            "Activities": self.store.activities(
                ctx.account_id, ctx.region, name, params.get("MaxRecords") or 100
            )
        }

    # -- keeping capacity ------------------------------------------------------------------------------

    def _soon(self) -> None:
        self.db.after_commit(self._wake.set)

    def scheduled_activity(
        self, account: str, region: str, group: dict[str, Any], action: dict[str, Any]
    ) -> None:
        self._activity(account, region, group, "Scheduled action executed",
                       f"At {_iso(self.clock.now())} the scheduled action {action['ScheduledActionName']} executed. "
                       f"Setting min size to {group['MinSize']}. Setting max size to {group['MaxSize']}. Setting "
                       f"desired capacity to {group['DesiredCapacity']}.")  # fmt: skip

    def kick(self) -> None:
        """Look at the groups' capacity once the current request commits."""
        self._soon()

    def _activity(
        self, account: str, region: str, group: dict[str, Any], description: str, cause: str
    ) -> dict:
        now = _iso(self.clock.now())
        activity = {
            "ActivityId": str(uuid.uuid4()),
            "AutoScalingGroupName": group["AutoScalingGroupName"],
            "AutoScalingGroupARN": group["AutoScalingGroupARN"],
            "Description": description,
            "Cause": cause,
            "StartTime": now,
            "EndTime": now,
            "StatusCode": "Successful",
            "Progress": 100,
            "Details": "{}",
        }
        self.store.add_activity(account, region, group["AutoScalingGroupName"], activity)
        self._announce(account, region, activity)
        return activity

    def _announce(self, account: str, region: str, activity: dict[str, Any]) -> None:
        """The EventBridge event of a launch or termination (on the default bus), in AWS's shape."""
        from overcast.services.ec2 import api as ec2
        from overcast.services.events.api import put_event
        from overcast.services.kit.arns import build_arn

        description = activity["Description"]
        kind = next((k for prefix, k in EVENTS.items() if description.startswith(prefix)), None)
        if kind is None:
            return
        detail_type, origin, destination = kind
        instance_id = description.rsplit(": ", 1)[-1] if "Unsuccessful" not in detail_type else ""
        described = (
            ec2.instances(self.platform, account, region, [instance_id]).get(instance_id, {})
            if instance_id
            else {}
        )
        detail = {
            "Origin": origin,
            "Destination": destination,
            "StatusCode": "Failed" if "Unsuccessful" in detail_type else "InProgress",
            "AutoScalingGroupName": activity["AutoScalingGroupName"],
            "ActivityId": activity["ActivityId"],
            "Details": {
                "Availability Zone": (described.get("Placement") or {}).get("AvailabilityZone", ""),
                "Subnet ID": described.get("SubnetId", ""),
            },  # fmt: skip
            "RequestId": activity["ActivityId"],
            "StatusMessage": description.split("Status Reason: ", 1)[1]
            if "Status Reason: " in description
            else "",
            "EndTime": activity["EndTime"],
            "EC2InstanceId": instance_id,
            "StartTime": activity["StartTime"],
            "Cause": activity["Cause"],
            "Description": description,
        }
        resources = [activity["AutoScalingGroupARN"]]
        if instance_id:
            resources.append(build_arn("ec2", region, account, f"instance/{instance_id}"))
        put_event(self.platform, account, region, source="aws.autoscaling", detail_type=detail_type, detail=detail,
                  resources=resources)  # fmt: skip

    async def _keep_capacity(self) -> None:
        while True:
            try:
                await self.reconcile_all()
            except Exception:  # a failed pass must not end the worker
                log.exception("Auto Scaling: keeping capacity failed")
            self._wake.clear()
            sleeper = asyncio.ensure_future(self._wake.wait())
            moved = asyncio.ensure_future(self.clock.wait_for_change(CHECK_INTERVAL))
            await asyncio.wait({sleeper, moved}, return_when=asyncio.FIRST_COMPLETED)
            for task in (sleeper, moved):
                task.cancel()

    async def reconcile_all(self) -> None:
        with self.db.transaction():
            groups = self.store.every_group()
        for account, region, group in groups:
            await self.reconcile(account, region, group["AutoScalingGroupName"])

    async def reconcile(self, account: str, region: str, name: str) -> None:
        """One health check and capacity pass over a group."""
        from overcast.services.ec2 import api as ec2

        with self.db.transaction():
            group = self.store.get(account, region, GROUP, name)
            if group is None:
                return
            suspended = {p["ProcessName"] for p in group["SuspendedProcesses"]}
            if "ScheduledActions" not in suspended:
                self.family(ScheduledOperations).apply_due(account, region, name)
                group = self.store.get(account, region, GROUP, name) or group
            members = [i["InstanceId"] for i in group["Instances"]]
        described = ec2.instances(self.platform, account, region, members)
        unhealthy = [
            i for i in members if described.get(i, {}).get("State", {}).get("Name", "terminated") in GONE
        ]
        if "HealthCheck" in suspended or "ReplaceUnhealthy" in suspended:
            unhealthy = [i for i in unhealthy if i not in described]  # only instances that are gone
            failing_elb: list[str] = []
        else:
            failing_elb = [i for i in self.family(TrafficOperations).unhealthy(group, self.clock.now())
                           if i not in unhealthy]  # fmt: skip
        now = _iso(self.clock.now())
        with self.db.transaction():
            group = self.store.get(account, region, GROUP, name)
            if group is None:
                return
            for instance_id in unhealthy:
                group["Instances"] = [i for i in group["Instances"] if i["InstanceId"] != instance_id]
                self._activity(account, region, group, f"Terminating EC2 instance: {instance_id}",
                               f"At {now} an instance was taken out of service in response to an EC2 health check "
                               "indicating it has been terminated or stopped.")  # fmt: skip
            for instance_id in failing_elb:
                group["Instances"] = [i for i in group["Instances"] if i["InstanceId"] != instance_id]
                self._activity(account, region, group, f"Terminating EC2 instance: {instance_id}",
                               f"At {now} an instance was taken out of service in response to an ELB system health "
                               "check failure.")  # fmt: skip
            self.store.put(account, region, GROUP, name, group)
        stopped = [
            i
            for i in unhealthy
            if described.get(i, {}).get("State", {}).get("Name") in ("stopped", "stopping")
        ]
        if stopped or failing_elb:
            await self._ec2(account, region, "TerminateInstances", {"InstanceIds": stopped + failing_elb})
        await self._settle_actions(account, region, name)
        if "InstanceRefresh" not in suspended:
            await self._refresh(account, region, name)
        with self.db.transaction():
            group = self.store.get(account, region, GROUP, name) or group
        counted = [
            i for i in group["Instances"] if i["LifecycleState"] not in ("Terminating:Wait", "Standby")
        ]
        missing = group["DesiredCapacity"] - len(counted)
        if missing == 0 and group.get("_cause"):  # the change an alarm asked for is done
            with self.db.transaction():
                settled = self.store.get(account, region, GROUP, name)
                if settled is not None and settled.pop("_cause", None):
                    self.store.put(account, region, GROUP, name, settled)
        if "Launch" not in suspended:
            for _ in range(max(0, missing)):
                await self._launch_one(account, region, name)
        if missing < 0 and "Terminate" not in suspended:
            await self._scale_in(account, region, name, -missing)
        await self.family(TrafficOperations).sync(account, region, name)

    # -- group metrics -----------------------------------------------------------------------------------

    def enable_metrics_collection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.group(ctx, params["AutoScalingGroupName"])
        if params["Granularity"] != "1Minute":
            raise validation(
                f"Granularity {params['Granularity']} is not supported. Valid granularity is: 1Minute"
            )
        wanted = params.get("Metrics") or list(GROUP_METRICS)
        for metric in wanted:
            if metric not in GROUP_METRICS:
                raise validation(f"Metric {metric} is not a valid metric.")
        enabled = {m["Metric"] for m in group["EnabledMetrics"]} | set(wanted)
        group["EnabledMetrics"] = [
            {"Metric": m, "Granularity": "1Minute"} for m in GROUP_METRICS if m in enabled
        ]
        self.store.put(ctx.account_id, ctx.region, GROUP, group["AutoScalingGroupName"], group)
        return {}

    def disable_metrics_collection(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.group(ctx, params["AutoScalingGroupName"])
        dropped = set(params.get("Metrics") or GROUP_METRICS)
        group["EnabledMetrics"] = [m for m in group["EnabledMetrics"] if m["Metric"] not in dropped]
        self.store.put(ctx.account_id, ctx.region, GROUP, group["AutoScalingGroupName"], group)
        return {}

    def describe_metric_collection_types(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "Metrics": [{"Metric": m} for m in GROUP_METRICS],
            "Granularities": [{"Granularity": "1Minute"}],
        }

    def published_metrics(self, minutes: list[float]) -> list[MetricPoint]:
        """AWS/AutoScaling: each group's enabled metrics (EnableMetricsCollection), every minute."""
        points = []
        with self.db.transaction():
            groups = self.store.every_group()
        for account, region, group in groups:
            if not group["EnabledMetrics"]:
                continue
            values = _group_metrics(group)
            dimensions = (("AutoScalingGroupName", group["AutoScalingGroupName"]),)
            for enabled in group["EnabledMetrics"]:
                name = enabled["Metric"]
                points += [MetricPoint(account, region, "AWS/AutoScaling", name, dimensions, float(values[name]), "None",
                                       mark - 60) for mark in minutes]  # fmt: skip
        return points

    # -- processes, attaching and detaching ------------------------------------------------------------

    def suspend_processes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.group(ctx, params["AutoScalingGroupName"])
        names = params.get("ScalingProcesses") or list(PROCESSES)
        for process in names:
            if process not in PROCESSES:
                raise validation(f"Process {process} is not a valid process.")
        held = {p["ProcessName"] for p in group["SuspendedProcesses"]}
        group["SuspendedProcesses"] += [
            {"ProcessName": p, "SuspensionReason": f"User suspended at {_iso(self.clock.now())}"}
            for p in names if p not in held
        ]  # fmt: skip
        self.store.put(ctx.account_id, ctx.region, GROUP, group["AutoScalingGroupName"], group)
        return {}

    def resume_processes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.group(ctx, params["AutoScalingGroupName"])
        names = set(params.get("ScalingProcesses") or PROCESSES)
        group["SuspendedProcesses"] = [
            p for p in group["SuspendedProcesses"] if p["ProcessName"] not in names
        ]
        self.store.put(ctx.account_id, ctx.region, GROUP, group["AutoScalingGroupName"], group)
        self._soon()
        return {}

    def attach_instances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Running instances join the group (its desired capacity grows by as many, within MaxSize)."""
        from overcast.services.ec2 import api as ec2

        group = self.group(ctx, params["AutoScalingGroupName"])
        ids = params.get("InstanceIds") or []
        found = ec2.instances(self.platform, ctx.account_id, ctx.region, ids)
        for instance_id in ids:
            described = found.get(instance_id)
            if described is None or described["State"]["Name"] not in ("pending", "running"):
                raise validation(f"Instance {instance_id} is not in correct state")
            if any(m["InstanceId"] == instance_id for g in self.store.listing(ctx.account_id, ctx.region, GROUP)
                   for m in g["Instances"]):  # fmt: skip
                raise validation(f"The instance {instance_id} is already part of an Auto Scaling group")
        if group["DesiredCapacity"] + len(ids) > group["MaxSize"]:
            raise validation(f"AutoScalingGroup: {group['AutoScalingGroupName']} has min-size={group['MinSize']}, "
                             f"max-size={group['MaxSize']}, and desired-size={group['DesiredCapacity']}. Adding "
                             f"{len(ids)} instance(s) would exceed the max size.")  # fmt: skip
        for instance_id in ids:
            described = found[instance_id]
            group["Instances"].append({
                "InstanceId": instance_id, "InstanceType": described["InstanceType"],
                "AvailabilityZone": described["Placement"]["AvailabilityZone"],
                "AvailabilityZoneId": described["Placement"].get("AvailabilityZoneId", ""),
                "LifecycleState": "InService", "HealthStatus": "Healthy", "ImageId": described["ImageId"],
                "ProtectedFromScaleIn": group["NewInstancesProtectedFromScaleIn"], "_launched": self.clock.now(),
            })  # fmt: skip
            self._activity(ctx.account_id, ctx.region, group, f"Attaching an existing EC2 instance: {instance_id}",
                           f"At {_iso(self.clock.now())} an instance was added in response to a user request.")  # fmt: skip
        group["DesiredCapacity"] += len(ids)
        self.store.put(ctx.account_id, ctx.region, GROUP, group["AutoScalingGroupName"], group)
        return {}

    def detach_instances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Instances leave the group and keep running; the desired capacity falls when asked (else they are
        replaced)."""
        group = self.group(ctx, params["AutoScalingGroupName"])
        ids = params.get("InstanceIds") or []
        members = {m["InstanceId"] for m in group["Instances"]}
        for instance_id in ids:
            if instance_id not in members:
                raise validation(f"The instance {instance_id} is not part of Auto Scaling group "
                                 f"{group['AutoScalingGroupName']}.")  # fmt: skip
        decrement = params["ShouldDecrementDesiredCapacity"]
        if decrement and group["DesiredCapacity"] - len(ids) < group["MinSize"]:
            raise validation(f"AutoScalingGroup: {group['AutoScalingGroupName']} has min-size={group['MinSize']}, "
                             f"max-size={group['MaxSize']}, and desired-size={group['DesiredCapacity']}. Detaching "
                             f"{len(ids)} instance(s) would violate the min size.")  # fmt: skip
        activities = []
        group["Instances"] = [m for m in group["Instances"] if m["InstanceId"] not in ids]
        for instance_id in ids:
            activities.append(self._activity(ctx.account_id, ctx.region, group,
                                             f"Detaching EC2 instance: {instance_id}",
                                             f"At {_iso(self.clock.now())} instance {instance_id} was detached in "
                                             "response to a user request."))  # fmt: skip
        if decrement:
            group["DesiredCapacity"] -= len(ids)
        self.store.put(ctx.account_id, ctx.region, GROUP, group["AutoScalingGroupName"], group)
        self._soon()
        return {"Activities": activities}

    async def _settle_actions(self, account: str, region: str, name: str) -> None:
        """Lifecycle actions completed or timed out: a launch goes in service (CONTINUE) or is terminated
        (ABANDON); a termination goes on either way."""
        now = self.clock.now()
        doomed = []
        with self.db.transaction():
            group = self.store.get(account, region, GROUP, name)
            if group is None:
                return
            for member in list(group["Instances"]):
                action = member.get("_action")
                if not action or action["deadline"] > now:
                    continue
                result = action.get("result") or action["default"]
                del member["_action"]
                if action["transition"] == LAUNCHING and result == "CONTINUE":
                    member["LifecycleState"] = "InService"
                    continue
                group["Instances"].remove(member)
                doomed.append(member["InstanceId"])
                self._activity(account, region, group, f"Terminating EC2 instance: {member['InstanceId']}",
                               f"At {_iso(now)} the lifecycle action of hook {action['hook']} ended with "
                               f"{result}.")  # fmt: skip
            self.store.put(account, region, GROUP, name, group)
        if doomed:
            await self._ec2(account, region, "TerminateInstances", {"InstanceIds": doomed})

    async def _refresh(self, account: str, region: str, name: str) -> None:
        """An instance refresh's next batch: out of the group and terminated (replacements follow)."""
        with self.db.transaction():
            doomed = self.family(RefreshOperations).next_batch(account, region, name)
            group = self.store.get(account, region, GROUP, name)
            if not doomed or group is None:
                return
            group["Instances"] = [m for m in group["Instances"] if m["InstanceId"] not in doomed]
            for instance_id in doomed:
                self._activity(account, region, group, f"Terminating EC2 instance: {instance_id}",
                               f"At {_iso(self.clock.now())} an instance was taken out of service in response to an "
                               "instance refresh.")  # fmt: skip
            self.store.put(account, region, GROUP, name, group)
        await self._ec2(account, region, "TerminateInstances", {"InstanceIds": doomed})

    async def _launch_one(self, account: str, region: str, name: str) -> None:
        with self.db.transaction():
            group = self.store.get(account, region, GROUP, name)
            if group is None:
                return
        try:
            with self.db.transaction():
                params = self._launch_params(account, region, group)
            result = await self._ec2(
                account, region, "RunInstances", {k: v for k, v in params.items() if k != "_template"}
            )
        except ServiceError as error:
            with self.db.transaction():
                self._failed(account, region, group, error)
            return
        launched = result["Instances"][0]
        from overcast.services.ec2 import api as ec2

        ec2.tag_as_aws(
            self.platform, account, region, launched["InstanceId"], {"aws:autoscaling:groupName": name}
        )
        with self.db.transaction():
            group = self.store.get(account, region, GROUP, name)
            if group is None:
                return
            member: dict[str, Any] = {
                "InstanceId": launched["InstanceId"],
                "InstanceType": launched["InstanceType"],
                "AvailabilityZone": launched["Placement"]["AvailabilityZone"],
                "AvailabilityZoneId": launched["Placement"].get("AvailabilityZoneId", ""),
                "LifecycleState": "InService",
                "HealthStatus": "Healthy",
                "ImageId": launched["ImageId"],
                "ProtectedFromScaleIn": group["NewInstancesProtectedFromScaleIn"],
                "_launched": self.clock.now(),
            }
            if any(p["ProcessName"] == "AddToLoadBalancer" for p in group["SuspendedProcesses"]):
                member["_unlisted"] = True  # never added to its target groups, even once resumed (as AWS)
            if group.get("LaunchConfigurationName"):
                member["LaunchConfigurationName"] = group["LaunchConfigurationName"]
            if params.get("_template"):
                member["LaunchTemplate"] = params["_template"]
            self.family(LifecycleOperations).wait(account, region, group, member, LAUNCHING)
            group["Instances"].append(member)
            self._activity(account, region, group, f"Launching a new EC2 instance: {launched['InstanceId']}",
                           _cause(group) + f"At {_iso(self.clock.now())} an instance was started in response to a "
                           f"difference between desired and actual capacity, increasing the capacity from "
                           f"{len(group['Instances']) - 1} to {len(group['Instances'])}.")  # fmt: skip
            self.store.put(account, region, GROUP, name, group)

    def _failed(self, account: str, region: str, group: dict[str, Any], error: ServiceError) -> None:
        self._activity(account, region, group, "Launching a new EC2 instance.  Status Reason: "
                       f"{error.message}. Launching EC2 instance failed.",
                       f"At {_iso(self.clock.now())} an instance was started in response to a difference between "
                       "desired and actual capacity.")  # fmt: skip

    def _launch_params(self, account: str, region: str, group: dict[str, Any]) -> dict[str, Any]:
        """RunInstances for one more instance: in the subnet of the zone with the fewest of the group's."""
        counts: dict[str, int] = {}
        for member in group["Instances"]:
            counts[member["AvailabilityZone"]] = counts.get(member["AvailabilityZone"], 0) + 1
        subnets = group["_subnets"]
        zones = group["AvailabilityZones"]
        from overcast.services.ec2 import api as ec2

        def zone_of(subnet_id: str) -> str:
            found = ec2.subnet(self.platform, account, region, subnet_id)
            return found["AvailabilityZone"] if found else zones[0]

        subnet = min(subnets, key=lambda s: counts.get(zone_of(s), 0))
        params: dict[str, Any] = {"MinCount": 1, "MaxCount": 1, "SubnetId": subnet}
        tags = [
            {"Key": t["Key"], "Value": t.get("Value", "")} for t in group["Tags"] if t["PropagateAtLaunch"]
        ]
        if tags:
            params["TagSpecifications"] = [{"ResourceType": "instance", "Tags": tags}]
        mixed = (group.get("MixedInstancesPolicy") or {}).get("LaunchTemplate") or {}
        if group.get("LaunchTemplate") or mixed:
            spec = group.get("LaunchTemplate") or mixed.get("LaunchTemplateSpecification") or {}
            resolved = self._template_version(account, region, spec)  # the version launched, by number
            params["LaunchTemplate"] = {
                "LaunchTemplateId": resolved["LaunchTemplateId"],
                "Version": resolved["Version"],
            }
            if group.get("LaunchTemplate"):
                params["_template"] = resolved
            overrides = [o for o in mixed.get("Overrides") or [] if o.get("InstanceType")]
            if overrides:  # the first override: On-Demand, prioritized allocation
                params["InstanceType"] = overrides[0]["InstanceType"]
        elif group.get("LaunchConfigurationName"):
            config = (
                self.store.get(account, region, LAUNCH_CONFIGURATION, group["LaunchConfigurationName"]) or {}
            )
            params.update(ImageId=config["ImageId"], InstanceType=config["InstanceType"])
            if config.get("KeyName"):
                params["KeyName"] = config["KeyName"]
            if config.get("SecurityGroups"):
                params["SecurityGroupIds"] = config["SecurityGroups"]
            if config.get("UserData"):
                params["UserData"] = _base64(config["UserData"])
            if config.get("IamInstanceProfile"):
                profile = config["IamInstanceProfile"]
                params["IamInstanceProfile"] = (
                    {"Arn": profile} if profile.startswith("arn:") else {"Name": profile}
                )
        return params

    async def _scale_in(self, account: str, region: str, name: str, count: int) -> None:
        """The Default termination policy: the zone with the most instances, then the oldest instance there."""
        with self.db.transaction():
            group = self.store.get(account, region, GROUP, name)
            if group is None:
                return
            doomed = []
            for _ in range(count):
                candidates = [i for i in group["Instances"]
                              if not i["ProtectedFromScaleIn"] and i["LifecycleState"] != "Terminating:Wait"]  # fmt: skip
                if not candidates:
                    break
                per_zone: dict[str, int] = {}
                for member in group["Instances"]:
                    per_zone[member["AvailabilityZone"]] = per_zone.get(member["AvailabilityZone"], 0) + 1
                busiest = max(candidates, key=lambda i: per_zone[i["AvailabilityZone"]])["AvailabilityZone"]
                victim = next(i for i in candidates if i["AvailabilityZone"] == busiest)
                if self.family(LifecycleOperations).wait(account, region, group, victim, TERMINATING):
                    continue  # it is terminated when its lifecycle action ends
                group["Instances"].remove(victim)
                doomed.append(victim["InstanceId"])
                cause = _cause(group) or (f"At {_iso(self.clock.now())} a user request explicitly set group "
                                          "desired capacity changing the desired capacity.  ")  # fmt: skip
                self._activity(account, region, group, f"Terminating EC2 instance: {victim['InstanceId']}",
                               f"{cause}At {_iso(self.clock.now())} an instance was taken out of service in response "
                               f"to a difference between desired and actual capacity, shrinking the capacity to "
                               f"{group['DesiredCapacity']}.")  # fmt: skip
            self.store.put(account, region, GROUP, name, group)
        if doomed:
            await self._ec2(account, region, "TerminateInstances", {"InstanceIds": doomed})

    async def _ec2(self, account: str, region: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """An EC2 call as Auto Scaling makes it: with its service-linked role (see ec2 api.act_for_service)."""
        from overcast.services.ec2 import api as ec2

        return ec2.act_for_service(self.platform, PRINCIPAL_HOST, account, region, operation, params)


def _check_sizes(minimum: int, maximum: int, desired: int) -> None:
    if minimum > maximum:
        raise validation(f"Max bound, {maximum}, must be greater than or equal to min bound, {minimum}")
    if not minimum <= desired <= maximum:
        raise validation(f"Desired capacity:{desired} must be between the specified min size:{minimum} and max "
                         f"size:{maximum}")  # fmt: skip


def _group_metrics(group: dict[str, Any]) -> dict[str, int]:
    """The values of AWS/AutoScaling's group metrics now (each instance weighs one unit of capacity; no warm
    pools)."""
    states = [m["LifecycleState"] for m in group["Instances"]]
    pending = sum(s.startswith("Pending") for s in states)
    in_service = states.count("InService")
    standby = sum(s.startswith("Standby") for s in states)
    terminating = sum(s.startswith("Terminating") for s in states)
    values = {
        "GroupMinSize": group["MinSize"], "GroupMaxSize": group["MaxSize"],
        "GroupDesiredCapacity": group["DesiredCapacity"], "GroupInServiceInstances": in_service,
        "GroupPendingInstances": pending, "GroupStandbyInstances": standby,
        "GroupTerminatingInstances": terminating, "GroupTotalInstances": len(states),
        "GroupInServiceCapacity": in_service, "GroupPendingCapacity": pending, "GroupStandbyCapacity": standby,
        "GroupTerminatingCapacity": terminating, "GroupTotalCapacity": len(states),
        "GroupAndWarmPoolDesiredCapacity": group["DesiredCapacity"], "GroupAndWarmPoolTotalCapacity": len(states),
    }  # fmt: skip
    return {m: values.get(m, 0) for m in GROUP_METRICS}


def _tagged(group: dict[str, Any], given: dict[str, Any]) -> bool:
    """Whether a group passes one of DescribeAutoScalingGroups' filters (tag-key, tag-value, tag:<key>)."""
    name, values = given.get("Name") or "", given.get("Values") or []
    if name == "tag-key":
        return any(t["Key"] in values for t in group["Tags"])
    if name == "tag-value":
        return any(t.get("Value", "") in values for t in group["Tags"])
    if name.startswith("tag:"):
        return any(t["Key"] == name[4:] and t.get("Value", "") in values for t in group["Tags"])
    raise validation(
        f"Filter type {name} is not correct. Allowed Filter types are: tag-key tag-value tag:<key>"
    )


def _cause(group: dict[str, Any]) -> str:
    """What asked for the change of capacity (an alarm's policy), leading the activities' causes."""
    return f"{group['_cause']}  " if group.get("_cause") else ""


def _public(group: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in group.items() if not k.startswith("_")}
    shown["Instances"] = [_member(m) for m in group["Instances"]]
    return shown


def _member(member: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in member.items() if not k.startswith("_")}


def _base64(text: str) -> str:
    try:
        base64.b64decode(text, validate=True)
        return text
    except (binascii.Error, ValueError):
        return base64.b64encode(text.encode()).decode()
