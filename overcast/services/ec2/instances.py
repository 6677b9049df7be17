"""Instances: RunInstances (validated as AWS validates it), the lifecycle on the virtual clock, attributes,
status and console output. An instance is a row of `ec2_resources` (kind "instance"); what it has in the VPC
is its interfaces (rows attached to it: the primary one, device 0, gives the instance its private and public
addresses, groups and source/destination check), its volumes are rows of kind "volume". A running instance
with user data is also a sandbox (`sandbox.py`) that runs it."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import instance_types, kinds, zones
from overcast.services.ec2.errors import combination, invalid, missing, not_permitted
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Resource

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

STATES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}
BOOT_TIME = 2.0  # virtual seconds pending → running (and stopping → stopped, shutting-down → terminated)
TERMINATED_VISIBLE = 3600.0  # a terminated instance stays listed about an hour
USER_DATA_LIMIT = 16384  # bytes, before base64
VCPU_LIMIT = (
    64  # "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances" default quota, per region
)
MAX_COUNT = 1000
DEFAULT_TYPE = "m1.small"  # RunInstances' default InstanceType; it is not in our catalogue, so it is refused

FILTERS = {
    "affinity": "Placement.Affinity",
    "architecture": "Architecture",
    "availability-zone": "Placement.AvailabilityZone",
    "block-device-mapping.device-name": "BlockDeviceMappings.DeviceName",
    "block-device-mapping.volume-id": "BlockDeviceMappings.Ebs.VolumeId",
    "block-device-mapping.status": "BlockDeviceMappings.Ebs.Status",
    "client-token": "ClientToken",
    "dns-name": "PublicDnsName",
    "iam-instance-profile.arn": "IamInstanceProfile.Arn",
    "image-id": "ImageId",
    "instance-id": "InstanceId",
    "instance-lifecycle": "InstanceLifecycle",
    "instance-state-code": "State.Code",
    "instance-state-name": "State.Name",
    "instance-type": "InstanceType",
    "instance.group-id": "SecurityGroups.GroupId",
    "instance.group-name": "SecurityGroups.GroupName",
    "ip-address": "PublicIpAddress",
    "key-name": "KeyName",
    "launch-index": "AmiLaunchIndex",
    "launch-time": "LaunchTime",
    "metadata-options.http-tokens": "MetadataOptions.HttpTokens",
    "metadata-options.http-endpoint": "MetadataOptions.HttpEndpoint",
    "monitoring-state": "Monitoring.State",
    "network-interface.network-interface-id": "NetworkInterfaces.NetworkInterfaceId",
    "network-interface.subnet-id": "NetworkInterfaces.SubnetId",
    "network-interface.vpc-id": "NetworkInterfaces.VpcId",
    "network-interface.addresses.private-ip-address": "NetworkInterfaces.PrivateIpAddresses.PrivateIpAddress",
    "placement-group-name": "Placement.GroupName",
    "platform": "Platform",
    "platform-details": "PlatformDetails",
    "private-dns-name": "PrivateDnsName",
    "private-ip-address": "PrivateIpAddress",
    "reservation-id": "_ReservationId",
    "root-device-name": "RootDeviceName",
    "root-device-type": "RootDeviceType",
    "source-dest-check": "SourceDestCheck",
    "subnet-id": "SubnetId",
    "tenancy": "Placement.Tenancy",
    "virtualization-type": "VirtualizationType",
    "vpc-id": "VpcId",
    "owner-id": "_OwnerId",
}
STATUS_FILTERS = {
    "availability-zone": "AvailabilityZone",
    "instance-state-name": "InstanceState.Name",
    "instance-state-code": "InstanceState.Code",
    "instance-status.status": "InstanceStatus.Status",
    "system-status.status": "SystemStatus.Status",
}


def state(name: str) -> dict[str, Any]:
    return {"Code": STATES[name], "Name": name}


def _iso(moment: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class InstanceOperations(Operations):
    service: Ec2Provider

    @property
    def sandboxes(self):  # the provider's Sandboxes
        return self.service.sandboxes

    # -- RunInstances ----------------------------------------------------------------------------------

    def run_instances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service, net = self.service, self.service.net
        params = service.launch_templates.merged(ctx, params)
        min_count, max_count = params["MinCount"], params["MaxCount"]
        if min_count < 1:
            raise invalid(
                f"Value ({min_count}) for parameter minCount is invalid. Expected a positive integer."
            )
        if max_count < min_count:
            raise invalid(f"Value ({max_count}) for parameter maxCount is invalid. "
                          "Expected a value greater than or equal to minCount.")  # fmt: skip
        if not params.get("ImageId"):
            raise missing("ImageId")
        image = service.images.image(ctx, params["ImageId"])
        type_name = params.get("InstanceType") or DEFAULT_TYPE
        itype = instance_types.lookup(type_name)
        if itype is None:
            raise invalid(f"Invalid value '{type_name}' for InstanceType.")
        image_arch = image["Architecture"]
        type_archs = ["i386", "x86_64"] if type_name.startswith("t2.") else [itype.arch]
        if image_arch not in type_archs:
            raise invalid(
                f"The architecture '{itype.arch}' of the specified instance type does not match the architecture "
                f"'{image_arch}' of the specified AMI. Specify an instance type and an AMI that have matching "
                "architectures, and try again. You can use 'describe-instance-types' or 'describe-images' to "
                "discover the architecture of the instance type or AMI."
            )
        user_data = _user_data(params.get("UserData"))
        key = service.key_pairs.find_key(ctx, params["KeyName"]) if params.get("KeyName") else None
        spec = _interface_spec(params)
        subnet = self._subnet(ctx, params, spec)
        groups = self._groups(ctx, params, spec, subnet)
        profile = self._instance_profile(ctx, params.get("IamInstanceProfile"))
        placement = dict(params.get("Placement") or {})
        if placement.get("GroupName"):
            service.placement_groups.by_name(ctx, placement["GroupName"])
        if (
            placement.get("AvailabilityZone")
            and placement["AvailabilityZone"] != subnet.body["AvailabilityZone"]
        ):
            raise invalid(f"Value ({placement['AvailabilityZone']}) for parameter availabilityZone is invalid. "
                          f"Subnet '{subnet.id}' is in the availability zone {subnet.body['AvailabilityZone']}")  # fmt: skip
        in_use = self._vcpus_in_use(ctx)
        count = min(max_count, max(min_count, (VCPU_LIMIT - in_use) // itype.vcpus))
        if in_use + count * itype.vcpus > VCPU_LIMIT:
            raise ServiceError(
                "VcpuLimitExceeded",
                f"You have requested more vCPU capacity than your current vCPU limit of {VCPU_LIMIT} allows for "
                "the instance bucket that the specified instance type belongs to. Please visit "
                "http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.",
            )
        if count > 1 and (spec.get("PrivateIpAddress") or spec.get("NetworkInterfaceId")):
            raise combination(
                "Cannot specify a private IP address or network interface when launching more than one instance"
            )
        reservation = new_id("r")
        instances = [
            self._launch(ctx, params, image, itype, subnet, groups, spec, key, profile, placement, user_data,
                         reservation, index)
            for index in range(count)
        ]  # fmt: skip
        return {
            "Groups": [],
            "Instances": net.render_many(instances),
            "OwnerId": ctx.account_id,
            "ReservationId": reservation,
        }

    def _subnet(self, ctx: RequestContext, params: dict[str, Any], spec: dict[str, Any]) -> Resource:
        net = self.service.net
        if spec.get("NetworkInterfaceId"):
            eni = net.require(ctx, kinds.NETWORK_INTERFACE, spec["NetworkInterfaceId"])
            return net.require(ctx, kinds.SUBNET, eni.subnet_id or "")
        subnet_id = spec.get("SubnetId") or params.get("SubnetId")
        if subnet_id:
            return net.require(ctx, kinds.SUBNET, subnet_id)
        vpc = net.default_vpc(ctx.account_id, ctx.region)
        if vpc is None:
            raise ServiceError("VPCIdNotSpecified", "No default VPC for this user")
        zone = (params.get("Placement") or {}).get("AvailabilityZone") or zones.zones(ctx.region)[0].name
        for subnet in self.service.store.in_vpc(vpc.id, kinds.SUBNET.name):
            if subnet.body["DefaultForAz"] and subnet.body["AvailabilityZone"] == zone:
                return subnet
        raise ServiceError(
            "MissingInput", f"No subnets found for the default VPC '{vpc.id}'. Please specify a subnet."
        )

    def _groups(
        self, ctx: RequestContext, params: dict[str, Any], spec: dict[str, Any], subnet: Resource
    ) -> list[Resource]:
        store = self.service.store
        ids = list(spec.get("Groups") or params.get("SecurityGroupIds") or ())
        names = params.get("SecurityGroups") or []
        if names:
            vpc = self.service.net.default_vpc(ctx.account_id, ctx.region)
            if vpc is None or subnet.vpc_id != vpc.id:
                raise invalid("The parameter groupName cannot be used with the parameter subnet")
            for name in names:
                found = [
                    g for g in store.in_vpc(vpc.id, kinds.SECURITY_GROUP.name) if g.body["GroupName"] == name
                ]
                if not found:
                    raise ServiceError("InvalidGroup.NotFound", f"The security group '{name}' does not exist in "
                                       f"default VPC '{vpc.id}'")  # fmt: skip
                ids.append(found[0].id)
        return self.service.network_interfaces.groups_for(ctx, subnet, ids or None)

    def _instance_profile(self, ctx: RequestContext, asked: dict[str, Any] | None) -> dict[str, Any] | None:
        if not asked:
            return None
        from overcast.services.iam import api as iam

        profile = iam.instance_profile(
            self.service.platform, ctx.account_id, asked.get("Arn") or asked.get("Name") or ""
        )
        if profile is None:
            which = "arn" if asked.get("Arn") else "name"
            value = asked.get("Arn") or asked.get("Name")
            raise invalid(f"Value ({value}) for parameter iamInstanceProfile.{which} is invalid. "
                          f"Invalid IAM Instance Profile {which}")  # fmt: skip
        return {"Arn": profile.arn, "Id": profile.id, "_role": profile.role_arn}

    def _vcpus_in_use(self, ctx: RequestContext) -> int:
        return self.service.store.vcpus_running(ctx.account_id, ctx.region)

    def _launch(
        self, ctx: RequestContext, params: dict[str, Any], image: dict[str, Any], itype: instance_types.Type,
        subnet: Resource, groups: list[Resource], spec: dict[str, Any], key: Resource | None,
        profile: dict[str, Any] | None, placement: dict[str, Any], user_data: bytes | None, reservation: str,
        index: int,
    ) -> Resource:  # fmt: skip
        service, net = self.service, self.service.net
        now = round(service.clock.now(), 3)
        instance_id = new_id("i")
        imds_v2 = image.get("ImdsSupport") == "v2.0"
        metadata = params.get("MetadataOptions") or {}
        body: dict[str, Any] = {
            "AmiLaunchIndex": index,
            "ImageId": image["ImageId"],
            "InstanceId": instance_id,
            "InstanceType": itype.name,
            "LaunchTime": now,
            "Monitoring": {
                "State": "enabled" if (params.get("Monitoring") or {}).get("Enabled") else "disabled"
            },
            "Placement": {
                "AvailabilityZoneId": subnet.body["AvailabilityZoneId"],
                "GroupName": placement.get("GroupName") or "",
                "Tenancy": placement.get("Tenancy") or "default",
                "AvailabilityZone": subnet.body["AvailabilityZone"],
            },
            "ProductCodes": [],
            "State": state("pending"),
            "StateTransitionReason": "",
            "Architecture": image["Architecture"],
            "BlockDeviceMappings": [],
            "ClientToken": params.get("ClientToken") or "",
            "EbsOptimized": bool(params.get("EbsOptimized")),
            "EnaSupport": True,
            "Hypervisor": "xen",
            "RootDeviceName": image["RootDeviceName"],
            "RootDeviceType": "ebs",
            "VirtualizationType": "hvm",
            "CpuOptions": {"CoreCount": itype.default_cores, "ThreadsPerCore": itype.threads_per_core},
            "CapacityReservationSpecification": {"CapacityReservationPreference": "open"},
            "HibernationOptions": {"Configured": False},
            "MetadataOptions": {
                "State": "pending",
                "HttpTokens": metadata.get("HttpTokens") or ("required" if imds_v2 else "optional"),
                "HttpPutResponseHopLimit": metadata.get("HttpPutResponseHopLimit") or (2 if imds_v2 else 1),
                "HttpEndpoint": metadata.get("HttpEndpoint") or "enabled",
                "HttpProtocolIpv6": metadata.get("HttpProtocolIpv6") or "disabled",
                "InstanceMetadataTags": metadata.get("InstanceMetadataTags") or "disabled",
            },
            "EnclaveOptions": {"Enabled": False},
            "PlatformDetails": image["PlatformDetails"],
            "UsageOperation": image["UsageOperation"],
            "UsageOperationUpdateTime": now,
            "PrivateDnsNameOptions": {
                "HostnameType": "ip-name",
                "EnableResourceNameDnsARecord": False,
                "EnableResourceNameDnsAAAARecord": False,
            },
            "MaintenanceOptions": {"AutoRecovery": "default", "RebootMigration": "default"},
            "CurrentInstanceBootMode": "uefi" if image.get("BootMode") == "uefi" else "legacy-bios",
            "NetworkPerformanceOptions": {"BandwidthWeighting": "default"},
            "Operator": {"Managed": False},
            "_ReservationId": reservation,
            "_OwnerId": ctx.account_id,
            "_DisableApiTermination": bool(params.get("DisableApiTermination")),
            "_DisableApiStop": bool(params.get("DisableApiStop")),
            "_ShutdownBehavior": params.get("InstanceInitiatedShutdownBehavior") or "stop",
            "_UserData": base64.b64encode(user_data).decode() if user_data is not None else None,
            "_Booted": False,
            "_PublicKey": key.body["_public"] if key else None,
            "_CpuCredits": (params.get("CreditSpecification") or {}).get("CpuCredits")
            or ("standard" if itype.name.startswith("t2.") else "unlimited"),
        }
        if key is not None:
            body["KeyName"] = key.name
        market = (params.get("InstanceMarketOptions") or {}).get("MarketType")
        if params.get("_spot_request") or market == "spot":
            body["InstanceLifecycle"] = "spot"
            if params.get("_spot_request"):
                body["SpotInstanceRequestId"] = params["_spot_request"]
        if image.get("Platform"):
            body["Platform"] = image["Platform"]
        for source in ("BootMode", "ImdsSupport", "Platform"):
            if image.get(source):
                body[f"_image_{source}"] = image[source]
        if profile is not None:
            body["IamInstanceProfile"] = profile
        instance = service.store.insert(
            Resource(instance_id, ctx.account_id, ctx.region, kinds.INSTANCE.name, body, vpc_id=subnet.vpc_id,
                     subnet_id=subnet.id)
        )  # fmt: skip
        self._interface(ctx, instance, subnet, groups, spec)
        body["BlockDeviceMappings"] = service.volumes.launch_volumes(ctx, instance, image, params)
        if not image.get("Public", True):  # an image made by CreateImage: the instance starts with its files
            self.sandboxes.seed_from_image(instance_id, image["ImageId"])
        self.boot(instance)
        service.store.save(instance)
        self._announce(instance)
        net.tag(instance, tag_specifications(params, "instance"))
        service.schedule(instance_id, "instance-running", BOOT_TIME)
        return instance

    def _interface(
        self, ctx: RequestContext, instance: Resource, subnet: Resource, groups: list[Resource],
        spec: dict[str, Any],
    ) -> None:  # fmt: skip
        from overcast.services.ec2 import api

        net = self.service.net
        if spec.get("NetworkInterfaceId"):
            eni = net.require(ctx, kinds.NETWORK_INTERFACE, spec["NetworkInterfaceId"])
            if eni.body.get("Attachment"):
                raise ServiceError("InvalidNetworkInterface.InUse", f"Interface: [{eni.id}] in use.")
            net.attach_interface(
                eni, instance.id, 0, delete_on_termination=bool(spec.get("DeleteOnTermination"))
            )
        else:
            eni = net.create_interface(subnet, groups=groups, private_ip=spec.get("PrivateIpAddress"),
                                       description=spec.get("Description") or "",
                                       secondary_count=spec.get("SecondaryPrivateIpAddressCount") or 0)  # fmt: skip
            delete = spec.get("DeleteOnTermination", True)
            net.attach_interface(eni, instance.id, 0, delete_on_termination=bool(delete))
            net.tag(
                eni, tag_specifications({"TagSpecifications": spec.get("_tags") or []}, "network-interface")
            )
        public = spec.get("AssociatePublicIpAddress")
        if public is None:
            public = subnet.body.get("MapPublicIpOnLaunch", False)
        instance.body["_PublicIp"] = bool(public)
        if public:
            api.assign_public_ip(self.service.platform, eni.id)

    # -- describing ------------------------------------------------------------------------------------

    def describe_instances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("MaxResults")
        if limit is not None and not 5 <= limit <= 1000:
            raise invalid(f"Value ( {limit} ) for parameter maxResults is invalid. Expecting a value greater "
                          "than 5.")  # fmt: skip
        if limit is not None and params.get("InstanceIds"):
            raise combination("The parameter instancesSet cannot be used with the parameter maxResults")
        found = self.service.net.describe(
            ctx, params, kinds.INSTANCE, params.get("InstanceIds"), FILTERS, "Instances"
        )
        reservations: list[dict[str, Any]] = []
        for described in found["Instances"]:
            described = dict(described)
            reservation = described.pop("_ReservationId")
            owner = described.pop("_OwnerId")
            if not reservations or reservations[-1]["ReservationId"] != reservation:
                reservations.append(
                    {"Groups": [], "Instances": [], "OwnerId": owner, "ReservationId": reservation}
                )
            reservations[-1]["Instances"].append(described)
        result: dict[str, Any] = {"Reservations": reservations}
        if found.get("NextToken"):
            result["NextToken"] = found["NextToken"]
        return result

    def describe_instance_status(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        include_all = bool(params.get("IncludeAllInstances"))
        found = self.service.net.describe(
            ctx, {k: v for k, v in params.items() if k != "Filters"}, kinds.INSTANCE, params.get("InstanceIds"),
            FILTERS, "Instances",
        )  # fmt: skip
        from overcast.services.ec2.filters import check, matches

        filters = params.get("Filters") or []
        check(filters, STATUS_FILTERS)
        statuses = []
        for described in found["Instances"]:
            name = described["State"]["Name"]
            if name != "running" and not include_all:
                continue
            ok = name == "running"
            summary = {
                "Details": [{"Name": "reachability", "Status": "passed" if ok else "initializing"}],
                "Status": "ok" if ok else "not-applicable",
            }
            status = {
                "AvailabilityZone": described["Placement"]["AvailabilityZone"],
                "AvailabilityZoneId": described["Placement"]["AvailabilityZoneId"],
                "Operator": {"Managed": False},
                "InstanceId": described["InstanceId"],
                "InstanceState": described["State"],
                "InstanceStatus": summary if name == "running" else {"Status": "not-applicable"},
                "SystemStatus": summary if name == "running" else {"Status": "not-applicable"},
                "AttachedEbsStatus": summary if name == "running" else {"Status": "not-applicable"},
                "Events": [],
            }
            if matches(status, filters, STATUS_FILTERS):
                statuses.append(status)
        result: dict[str, Any] = {"InstanceStatuses": statuses}
        if found.get("NextToken"):
            result["NextToken"] = found["NextToken"]
        return result

    # -- the lifecycle ---------------------------------------------------------------------------------

    def stop_instances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        instances = self.service.net.require_all(ctx, kinds.INSTANCE, params["InstanceIds"])
        for instance in instances:
            current = instance.body["State"]["Name"]
            if instance.body["_DisableApiStop"]:
                raise not_permitted(f"The instance '{instance.id}' may not be stopped. Modify its 'disableApiStop' "
                                    "instance attribute and try again.")  # fmt: skip
            if current == "pending":
                raise ServiceError("IncorrectInstanceState", f"Instance '{instance.id}' cannot be stopped as it "
                                   "has never reached the 'running' state.")  # fmt: skip
            if current in ("shutting-down", "terminated"):
                raise ServiceError("IncorrectInstanceState", f"This instance '{instance.id}' is not in a state from "
                                   "which it can be stopped.")  # fmt: skip
        changes = []
        for instance in instances:
            previous = instance.body["State"]
            if previous["Name"] == "running":
                self.set_state(instance, "stopping", "User initiated")
                self.service.schedule(instance.id, "instance-stopped", BOOT_TIME)
            changes.append({"CurrentState": instance.body["State"], "InstanceId": instance.id,
                            "PreviousState": previous})  # fmt: skip
        return {"StoppingInstances": changes}

    def start_instances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        instances = self.service.net.require_all(ctx, kinds.INSTANCE, params["InstanceIds"])
        for instance in instances:
            if instance.body["State"]["Name"] not in ("stopped", "running", "pending"):
                raise ServiceError("IncorrectInstanceState", f"The instance '{instance.id}' is not in a state from "
                                   "which it can be started.")  # fmt: skip
        changes = []
        for instance in instances:
            previous = instance.body["State"]
            if previous["Name"] == "stopped":
                self.set_state(instance, "pending", "")
                if instance.body.get("_PublicIp"):
                    from overcast.services.ec2 import api

                    eni = self.service.net.interface_of_instance(
                        instance.account, instance.region, instance.id
                    )
                    if eni is not None:
                        api.assign_public_ip(self.service.platform, eni.id)
                self.service.schedule(instance.id, "instance-running", BOOT_TIME)
            changes.append({"CurrentState": instance.body["State"], "InstanceId": instance.id,
                            "PreviousState": previous})  # fmt: skip
        return {"StartingInstances": changes}

    def terminate_instances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        instances = self.service.net.require_all(ctx, kinds.INSTANCE, params["InstanceIds"])
        for instance in instances:
            if instance.body["_DisableApiTermination"]:
                raise not_permitted(f"The instance '{instance.id}' may not be terminated. Modify its "
                                    "'disableApiTermination' instance attribute and try again.")  # fmt: skip
        changes = []
        for instance in instances:
            previous = instance.body["State"]
            if previous["Name"] not in ("shutting-down", "terminated"):
                self.set_state(instance, "shutting-down", "User initiated")
                self.service.store.cancel(instance.id)
                self.service.schedule(instance.id, "instance-terminated", BOOT_TIME)
            changes.append({"CurrentState": instance.body["State"], "InstanceId": instance.id,
                            "PreviousState": previous})  # fmt: skip
        return {"TerminatingInstances": changes}

    def reboot_instances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        for instance in self.service.net.require_all(ctx, kinds.INSTANCE, params["InstanceIds"]):
            if instance.body["State"]["Name"] == "running":
                self.sandboxes.reboot_after_commit(instance.id)
        return {}

    def set_state(self, instance: Resource, name: str, reason: str) -> None:
        """Move an instance to state `name`, doing what the move does to its sandbox and addresses."""
        store, net = self.service.store, self.service.net
        previous = instance.body["State"]["Name"]
        instance.body["State"] = state(name)
        if reason == "User initiated":
            instance.body["StateTransitionReason"] = f"User initiated ({_iso(self.service.clock.now())})"
            instance.body["StateReason"] = {
                "Code": "Client.UserInitiatedShutdown",
                "Message": "Client.UserInitiatedShutdown: User initiated shutdown",
            }
        elif name in ("pending", "running"):
            instance.body["StateTransitionReason"] = ""
            instance.body.pop("StateReason", None)
        if name == "running":
            instance.body["MetadataOptions"]["State"] = "applied"
        if name == "pending":  # the machine boots while the API says pending
            self.boot(instance)
        if previous in ("pending", "running") and name in ("stopping", "shutting-down"):
            self.sandboxes.halt_after_commit(instance.id)
        if name == "stopped" or name == "terminated":
            from overcast.services.ec2 import api

            eni = net.interface_of_instance(instance.account, instance.region, instance.id)
            if eni is not None:
                api.release_public_ip(self.service.platform, eni.id)
        if name == "terminated":
            self._release(instance)
        store.save(instance)
        if name != previous:
            self._announce(instance)

    def _announce(self, instance: Resource) -> None:
        """EventBridge's "EC2 Instance State-change Notification" on the default bus, as EC2 sends it."""
        from overcast.services.events.api import put_event
        from overcast.services.kit.arns import build_arn

        put_event(self.service.platform, instance.account, instance.region, source="aws.ec2",
                  detail_type="EC2 Instance State-change Notification",
                  detail={"instance-id": instance.id, "state": instance.body["State"]["Name"]},
                  resources=[build_arn("ec2", instance.region, instance.account, f"instance/{instance.id}")])  # fmt: skip

    def boot(self, instance: Resource) -> None:
        """Start the instance's sandbox once this request commits (user data runs at its first boot only)."""
        self.sandboxes.boot_after_commit(instance)
        instance.body["_Booted"] = True

    def _release(self, instance: Resource) -> None:
        """What terminating frees: interfaces (deleted when DeleteOnTermination, else detached), Elastic IPs
        (disassociated), volumes (deleted when DeleteOnTermination, else detached), the sandbox's root."""
        net, store = self.service.net, self.service.store
        for eni in store.children(instance.id, kinds.NETWORK_INTERFACE.name):
            association = eni.body.get("Association") or {}
            if association.get("AllocationId"):
                address = store.get(association["AllocationId"])
                if address is not None:
                    net.disassociate_address(address)
            if eni.body["Attachment"].get("DeleteOnTermination"):
                net.delete_interface(eni)
            else:
                net.detach_interface(eni)
        self.service.volumes.release_instance(instance)
        self.service.spot.instance_terminated(instance)
        instance.vpc_id = instance.subnet_id = None
        instance.body["BlockDeviceMappings"] = []
        self.sandboxes.remove_after_commit(instance.id)
        self.service.schedule(instance.id, "forget", TERMINATED_VISIBLE)

    def root_volume(self, instance: Resource) -> Resource | None:
        return self.service.volumes.root_of(instance)

    # -- attributes ------------------------------------------------------------------------------------

    def describe_instance_attribute(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        instance = self.service.net.require(ctx, kinds.INSTANCE, params["InstanceId"])
        described = self.service.net.render(instance)
        body = instance.body
        attribute = params["Attribute"]
        result: dict[str, Any] = {"InstanceId": instance.id}
        simple = {
            "instanceType": ("InstanceType", body["InstanceType"]),
            "instanceInitiatedShutdownBehavior": (
                "InstanceInitiatedShutdownBehavior",
                body["_ShutdownBehavior"],
            ),
            "rootDeviceName": ("RootDeviceName", body["RootDeviceName"]),
        }
        booleans = {
            "disableApiTermination": ("DisableApiTermination", body["_DisableApiTermination"]),
            "disableApiStop": ("DisableApiStop", body["_DisableApiStop"]),
            "ebsOptimized": ("EbsOptimized", body["EbsOptimized"]),
            "enaSupport": ("EnaSupport", body["EnaSupport"]),
            "sourceDestCheck": ("SourceDestCheck", described.get("SourceDestCheck", True)),
        }
        if attribute in simple:
            key, value = simple[attribute]
            result[key] = {"Value": value}
        elif attribute in booleans:
            key, value = booleans[attribute]
            result[key] = {"Value": value}
        elif attribute == "userData":
            result["UserData"] = {"Value": body["_UserData"]} if body["_UserData"] else {}
        elif attribute == "groupSet":
            result["Groups"] = described.get("SecurityGroups", [])
        elif attribute == "blockDeviceMapping":
            result["BlockDeviceMappings"] = described["BlockDeviceMappings"]
        elif attribute == "productCodes":
            result["ProductCodes"] = []
        elif attribute in ("kernel", "ramdisk"):
            result["KernelId" if attribute == "kernel" else "RamdiskId"] = {}
        elif attribute == "sriovNetSupport":
            result["SriovNetSupport"] = {"Value": "simple"}
        else:
            raise invalid(f"Value ({attribute}) for parameter attribute is invalid. Unknown attribute.")
        return result

    def modify_instance_attribute(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        instance = net.require(ctx, kinds.INSTANCE, params["InstanceId"])
        body = instance.body
        attribute, value = params.get("Attribute"), (params.get("Value") or None)
        current = body["State"]["Name"]

        def asked(key: str, attr: str) -> Any:
            given = params.get(key)
            if given is not None:
                return given.get("Value")
            return value if attribute == attr else None

        new_type = asked("InstanceType", "instanceType")
        if new_type is not None:
            if current != "stopped":
                raise ServiceError("IncorrectInstanceState", f"The instance '{instance.id}' is not in the "
                                   "'stopped' state.")  # fmt: skip
            itype = instance_types.lookup(new_type)
            if itype is None:
                raise invalid(f"Invalid value '{new_type}' for InstanceType.")
            body["InstanceType"] = new_type
            body["CpuOptions"] = {"CoreCount": itype.default_cores, "ThreadsPerCore": itype.threads_per_core}
        user_data = params.get("UserData")
        if user_data is not None or attribute == "userData":
            if current != "stopped":
                raise ServiceError("IncorrectInstanceState", f"The instance '{instance.id}' is not in the "
                                   "'stopped' state.")  # fmt: skip
            raw = (user_data or {}).get("Value") if user_data is not None else value
            data = raw if isinstance(raw, bytes) else str(raw or "").encode()
            body["_UserData"] = base64.b64encode(data).decode() if data else None
        for key, attr, field in (
            ("DisableApiTermination", "disableApiTermination", "_DisableApiTermination"),
            ("DisableApiStop", "disableApiStop", "_DisableApiStop"),
            ("EbsOptimized", "ebsOptimized", "EbsOptimized"),
            ("EnaSupport", "enaSupport", "EnaSupport"),
        ):
            given = asked(key, attr)
            if given is not None:
                body[field] = given in (True, "true", "True")
        behaviour = asked("InstanceInitiatedShutdownBehavior", "instanceInitiatedShutdownBehavior")
        if behaviour is not None:
            if behaviour not in ("stop", "terminate"):
                raise invalid(
                    f"Value ({behaviour}) for parameter instanceInitiatedShutdownBehavior is invalid."
                )
            body["_ShutdownBehavior"] = behaviour
        eni = net.interface_of_instance(instance.account, instance.region, instance.id)
        check = asked("SourceDestCheck", "sourceDestCheck")
        if check is not None and eni is not None:
            eni.body["SourceDestCheck"] = check in (True, "true", "True")
            store.save(eni)
        if params.get("Groups") and eni is not None:
            subnet = store.get(eni.subnet_id or "")
            assert subnet is not None
            groups = self.service.network_interfaces.groups_for(ctx, subnet, params["Groups"])
            eni.body["Groups"] = [{"GroupId": g.id, "GroupName": g.body["GroupName"]} for g in groups]
            store.save(eni)
        for mapping in params.get("BlockDeviceMappings") or ():
            self.service.volumes.set_delete_on_termination(instance, mapping)
        store.save(instance)
        return {}

    def get_console_output(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        instance = self.service.net.require(ctx, kinds.INSTANCE, params["InstanceId"])
        output = self.sandboxes.console(instance.id)
        result: dict[str, Any] = {"InstanceId": instance.id, "Timestamp": round(self.service.clock.now(), 3)}
        if output:
            result["Output"] = base64.b64encode(output[-65536:]).decode()
        return result

    def describe_instance_credit_specifications(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        found = self.service.net.describe(
            ctx, params, kinds.INSTANCE, params.get("InstanceIds"), FILTERS, "Instances"
        )
        specs = []
        for described in found["Instances"]:
            instance = self.service.store.get(described["InstanceId"])
            if instance is not None and described["InstanceType"].split(".")[0] in ("t2", "t3", "t3a", "t4g"):
                specs.append({"InstanceId": instance.id, "CpuCredits": instance.body["_CpuCredits"]})
        return {"InstanceCreditSpecifications": specs}

    def modify_instance_metadata_options(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        instance = self.service.net.require(ctx, kinds.INSTANCE, params["InstanceId"])
        options = instance.body["MetadataOptions"]
        for key in ("HttpTokens", "HttpPutResponseHopLimit", "HttpEndpoint", "HttpProtocolIpv6",
                    "InstanceMetadataTags"):  # fmt: skip
            if params.get(key) is not None:
                options[key] = params[key]
        hop = options["HttpPutResponseHopLimit"]
        if not 1 <= hop <= 64:
            raise invalid(f"Value ({hop}) for parameter httpPutResponseHopLimit is invalid. "
                          "Hop limit must be between 1 and 64")  # fmt: skip
        self.service.store.save(instance)
        return {"InstanceId": instance.id, "InstanceMetadataOptions": options}


def _user_data(encoded: str | None) -> bytes | None:
    """The user data RunInstances carries (base64, as the SDKs send it), decoded; AWS's limit of 16 KB."""
    if encoded is None:
        return None
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("Invalid BASE64 encoding of user data.") from None
    if len(data) > USER_DATA_LIMIT:
        raise invalid(f"User data is limited to {USER_DATA_LIMIT} bytes")
    return data


def _interface_spec(params: dict[str, Any]) -> dict[str, Any]:
    """The primary interface's specification: NetworkInterfaces' device 0, or the top-level members."""
    specs = params.get("NetworkInterfaces") or []
    primary = next((s for s in specs if s.get("DeviceIndex", 0) == 0), None)
    if primary is not None and params.get("SubnetId"):
        raise combination(
            "Network interfaces and an instance-level subnet ID may not be specified on the same request"
        )
    if primary is not None and params.get("SecurityGroupIds"):
        raise combination(
            "Network interfaces and an instance-level security groups may not be specified on the same request"
        )
    spec = dict(primary or {})
    if params.get("PrivateIpAddress") and not spec.get("PrivateIpAddress"):
        spec["PrivateIpAddress"] = params["PrivateIpAddress"]
    spec["_tags"] = params.get("TagSpecifications") or []
    return spec
