"""Network interfaces: created in a subnet (taking its addresses), with security groups, secondary private
addresses and the source/destination check; attached to and detached from instances."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import kinds, zones
from overcast.services.ec2.errors import invalid, not_permitted
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.store import Resource

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

MAX_GROUPS = 5  # security groups per interface
MAX_ADDRESSES = 50  # private addresses per interface (the largest instance types' figure)
FILTERS = {
    "addresses.private-ip-address": "PrivateIpAddresses.PrivateIpAddress",
    "addresses.primary": "PrivateIpAddresses.Primary",
    "addresses.association.public-ip": "PrivateIpAddresses.Association.PublicIp",
    "addresses.association.owner-id": "PrivateIpAddresses.Association.IpOwnerId",
    "association.association-id": "Association.AssociationId",
    "association.allocation-id": "Association.AllocationId",
    "association.ip-owner-id": "Association.IpOwnerId",
    "association.public-ip": "Association.PublicIp",
    "association.public-dns-name": "Association.PublicDnsName",
    "attachment.attachment-id": "Attachment.AttachmentId",
    "attachment.attach-time": "Attachment.AttachTime",
    "attachment.delete-on-termination": "Attachment.DeleteOnTermination",
    "attachment.device-index": "Attachment.DeviceIndex",
    "attachment.instance-id": "Attachment.InstanceId",
    "attachment.instance-owner-id": "Attachment.InstanceOwnerId",
    "attachment.status": "Attachment.Status",
    "availability-zone": "AvailabilityZone",
    "description": "Description",
    "group-id": "Groups.GroupId",
    "group-name": "Groups.GroupName",
    "ipv6-addresses.ipv6-address": "Ipv6Addresses.Ipv6Address",
    "interface-type": "InterfaceType",
    "mac-address": "MacAddress",
    "network-interface-id": "NetworkInterfaceId",
    "owner-id": "OwnerId",
    "private-ip-address": "PrivateIpAddress",
    "private-dns-name": "PrivateDnsName",
    "requester-id": "RequesterId",
    "requester-managed": "RequesterManaged",
    "source-dest-check": "SourceDestCheck",
    "status": "Status",
    "subnet-id": "SubnetId",
    "vpc-id": "VpcId",
}


class NetworkInterfaceOperations(Operations):
    service: Ec2Provider

    def create_network_interface(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        subnet = net.require(ctx, kinds.SUBNET, params["SubnetId"])
        groups = self.groups_for(ctx, subnet, params.get("Groups"))
        primary = params.get("PrivateIpAddress")
        secondary: list[str] = []
        for item in params.get("PrivateIpAddresses") or ():
            if item.get("Primary") and not primary:
                primary = item["PrivateIpAddress"]
            elif item["PrivateIpAddress"] != primary:
                secondary.append(item["PrivateIpAddress"])
        count = params.get("SecondaryPrivateIpAddressCount") or 0
        if 1 + len(secondary) + count > MAX_ADDRESSES:
            raise ServiceError(
                "PrivateIpAddressLimitExceeded", "Number of private addresses exceeds the limit."
            )
        eni = net.create_interface(
            subnet,
            groups=groups,
            description=params.get("Description") or "",
            private_ip=primary,
            interface_type=params.get("InterfaceType") or "interface",
            secondary_ips=secondary,
            secondary_count=count,
        )
        net.tag(eni, tag_specifications(params, "network-interface"))
        result: dict[str, Any] = {"NetworkInterface": net.render(eni)}
        if params.get("ClientToken"):
            result["ClientToken"] = params["ClientToken"]
        return result

    def groups_for(
        self, ctx: RequestContext, subnet: Resource, group_ids: list[str] | None
    ) -> list[Resource]:
        """The security groups an interface in `subnet` gets: those named (same VPC, at most 5), else the
        VPC's default group."""
        net = self.service.net
        if not group_ids:
            default = [
                g
                for g in self.service.store.in_vpc(subnet.vpc_id or "", kinds.SECURITY_GROUP.name)
                if g.name == "default"
            ]
            return default[:1]
        if len(group_ids) > MAX_GROUPS:
            raise ServiceError(
                "SecurityGroupsPerInterfaceLimitExceeded",
                "The maximum number of security groups per interface has been reached.",
            )
        groups = net.require_all(ctx, kinds.SECURITY_GROUP, group_ids)
        for group in groups:
            if group.vpc_id != subnet.vpc_id:
                raise invalid(
                    f"Security group {group.id} and subnet {subnet.id} belong to different networks."
                )
        return groups

    def delete_network_interface(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        eni = net.require(ctx, kinds.NETWORK_INTERFACE, params["NetworkInterfaceId"])
        if eni.body.get("Attachment") or eni.body["RequesterManaged"]:
            raise ServiceError(
                "InvalidNetworkInterface.InUse", f"The network interface '{eni.id}' is currently in use."
            )
        association = eni.body.get("Association") or {}
        if association.get("AllocationId"):
            address = self.service.store.get(association["AllocationId"])
            if address is not None:
                net.disassociate_address(address)
        net.delete_interface(eni)
        return {}

    def describe_network_interfaces(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ids = params.get("NetworkInterfaceIds")
        return self.service.net.describe(
            ctx, params, kinds.NETWORK_INTERFACE, ids, FILTERS, "NetworkInterfaces"
        )

    # -- attachment ------------------------------------------------------------------------------------

    def attach_network_interface(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        eni = net.require(ctx, kinds.NETWORK_INTERFACE, params["NetworkInterfaceId"])
        instance_id = params["InstanceId"]
        instance = store.get(instance_id)
        if instance is None or instance.kind != kinds.INSTANCE.name or not net.visible(ctx, instance):
            raise ServiceError(
                "InvalidInstanceID.NotFound", f"The instance ID '{instance_id}' does not exist"
            )
        if eni.body.get("Attachment"):
            raise ServiceError(
                "InvalidNetworkInterface.InUse", f"The network interface '{eni.id}' is currently in use."
            )
        if instance.body.get("Placement", {}).get("AvailabilityZone") not in (
            None,
            eni.body["AvailabilityZone"],
        ):
            raise invalid(
                f"The network interface {eni.id} and instance {instance_id} are in different availability zones."
            )
        index = params["DeviceIndex"]
        for other in store.children(instance_id, kinds.NETWORK_INTERFACE.name):
            if other.body["Attachment"]["DeviceIndex"] == index:
                raise invalid(
                    f"Instance '{instance_id}' already has an interface attached at device index '{index}'."
                )
        attachment_id = net.attach_interface(eni, instance_id, index)
        return {"AttachmentId": attachment_id, "NetworkCardIndex": params.get("NetworkCardIndex") or 0}

    def detach_network_interface(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        attachment_id = params["AttachmentId"]
        for eni in self.service.store.page(
            ctx.account_id, ctx.region, kinds.NETWORK_INTERFACE.name, 0, 1_000_000
        ):
            attachment = eni.body.get("Attachment") or {}
            if attachment.get("AttachmentId") == attachment_id:
                if attachment["DeviceIndex"] == 0:
                    raise not_permitted("The network interface at device index 0 cannot be detached.")
                net.detach_interface(eni)
                return {}
        raise ServiceError(
            "InvalidAttachmentID.NotFound", f"The attachment ID '{attachment_id}' does not exist"
        )

    # -- attributes ------------------------------------------------------------------------------------

    def modify_network_interface_attribute(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        eni = net.require(ctx, kinds.NETWORK_INTERFACE, params["NetworkInterfaceId"])
        body = eni.body
        if params.get("Description") is not None:
            body["Description"] = params["Description"].get("Value") or ""
        if params.get("SourceDestCheck") is not None:
            body["SourceDestCheck"] = bool(params["SourceDestCheck"]["Value"])
        if params.get("Groups"):
            subnet = store.get(eni.subnet_id or "")
            assert subnet is not None
            groups = self.groups_for(ctx, subnet, params["Groups"])
            body["Groups"] = [{"GroupId": g.id, "GroupName": g.body["GroupName"]} for g in groups]
        if params.get("Attachment"):
            attachment = body.get("Attachment") or {}
            if attachment.get("AttachmentId") != params["Attachment"].get("AttachmentId"):
                raise ServiceError(
                    "InvalidAttachmentID.NotFound",
                    f"The attachment ID '{params['Attachment'].get('AttachmentId')}' does not exist",
                )
            attachment["DeleteOnTermination"] = bool(params["Attachment"].get("DeleteOnTermination"))
        store.save(eni)
        return {}

    def describe_network_interface_attribute(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        eni = self.service.net.require(ctx, kinds.NETWORK_INTERFACE, params["NetworkInterfaceId"])
        attribute = params.get("Attribute")
        result: dict[str, Any] = {"NetworkInterfaceId": eni.id}
        if attribute == "description":
            result["Description"] = {"Value": eni.body["Description"]}
        elif attribute == "groupSet":
            result["Groups"] = eni.body["Groups"]
        elif attribute == "sourceDestCheck":
            result["SourceDestCheck"] = {"Value": eni.body["SourceDestCheck"]}
        elif attribute == "attachment":
            if eni.body.get("Attachment"):
                result["Attachment"] = eni.body["Attachment"]
        elif attribute == "associatePublicIpAddress":
            result["AssociatePublicIpAddress"] = bool(eni.body.get("Association"))
        else:
            raise ServiceError("MissingParameter", "The request must contain the parameter attribute")
        return result

    def reset_network_interface_attribute(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        eni = self.service.net.require(ctx, kinds.NETWORK_INTERFACE, params["NetworkInterfaceId"])
        if params.get("SourceDestCheck") is not None:
            eni.body["SourceDestCheck"] = True
            self.service.store.save(eni)
        return {}

    # -- secondary addresses ---------------------------------------------------------------------------

    def assign_private_ip_addresses(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        eni = net.require(ctx, kinds.NETWORK_INTERFACE, params["NetworkInterfaceId"])
        subnet = store.get(eni.subnet_id or "")
        assert subnet is not None
        wanted = list(params.get("PrivateIpAddresses") or ())
        count = params.get("SecondaryPrivateIpAddressCount") or 0
        if not wanted and not count:
            raise ServiceError(
                "MissingParameter",
                "Either private ip addresses or secondary private ip address count must be specified",
            )
        if len(eni.body["PrivateIpAddresses"]) + len(wanted) + count > MAX_ADDRESSES:
            raise ServiceError(
                "PrivateIpAddressLimitExceeded", "Number of private addresses exceeds the limit."
            )
        assigned = [net.allocate_ip(subnet, eni.id, ip) for ip in wanted]
        assigned += [net.allocate_ip(subnet, eni.id) for _ in range(count)]
        eni.body["PrivateIpAddresses"] += [
            {
                "Primary": False,
                "PrivateDnsName": zones.private_dns_name(ip, eni.region),
                "PrivateIpAddress": ip,
            }
            for ip in assigned
        ]
        store.save(eni)
        return {
            "NetworkInterfaceId": eni.id,
            "AssignedPrivateIpAddresses": [{"PrivateIpAddress": ip} for ip in assigned],
        }

    def unassign_private_ip_addresses(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        eni = net.require(ctx, kinds.NETWORK_INTERFACE, params["NetworkInterfaceId"])
        held = {p["PrivateIpAddress"]: p for p in eni.body["PrivateIpAddresses"]}
        doomed = params.get("PrivateIpAddresses") or []
        for ip in doomed:
            if ip not in held:
                raise invalid(f"Some of the specified addresses are not assigned to interface {eni.id}")
            if held[ip]["Primary"]:
                raise invalid(
                    f"The primary private IP address {ip} cannot be unassigned from interface {eni.id}"
                )
        for ip in doomed:
            store.release_ip(eni.subnet_id or "", int(ipaddress.ip_address(ip)))
        eni.body["PrivateIpAddresses"] = [
            p for p in eni.body["PrivateIpAddresses"] if p["PrivateIpAddress"] not in doomed
        ]
        store.save(eni)
        return {}
