"""Subnets: a block inside the VPC's, in one Availability Zone, /16 to /28, overlapping no sibling, with AWS's
five reserved addresses and an available-address count that falls as interfaces take addresses."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import cidrs, kinds
from overcast.services.ec2.errors import bad_cidr, dependency, invalid, invalid_value
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.shapes import subnet_ipv6_association

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

MAX_SUBNETS = 200  # per VPC
FILTERS = {
    "availability-zone": "AvailabilityZone",
    "availabilityZone": "AvailabilityZone",
    "availability-zone-id": "AvailabilityZoneId",
    "available-ip-address-count": "AvailableIpAddressCount",
    "cidr-block": "CidrBlock",
    "cidr": "CidrBlock",
    "cidrBlock": "CidrBlock",
    "default-for-az": "DefaultForAz",
    "defaultForAz": "DefaultForAz",
    "ipv6-cidr-block-association.ipv6-cidr-block": "Ipv6CidrBlockAssociationSet.Ipv6CidrBlock",
    "ipv6-cidr-block-association.association-id": "Ipv6CidrBlockAssociationSet.AssociationId",
    "ipv6-cidr-block-association.state": "Ipv6CidrBlockAssociationSet.Ipv6CidrBlockState.State",
    "ipv6-native": "Ipv6Native",
    "map-public-ip-on-launch": "MapPublicIpOnLaunch",
    "map-customer-owned-ip-on-launch": "MapCustomerOwnedIpOnLaunch",
    "owner-id": "OwnerId",
    "state": "State",
    "subnet-arn": "SubnetArn",
    "subnet-id": "SubnetId",
    "vpc-id": "VpcId",
}
# ModifySubnetAttribute: request member -> description member
BOOLEAN_ATTRIBUTES = {
    "MapPublicIpOnLaunch": "MapPublicIpOnLaunch",
    "AssignIpv6AddressOnCreation": "AssignIpv6AddressOnCreation",
    "MapCustomerOwnedIpOnLaunch": "MapCustomerOwnedIpOnLaunch",
    "EnableDns64": "EnableDns64",
}
DNS_ATTRIBUTES = {
    "EnableResourceNameDnsARecordOnLaunch": "EnableResourceNameDnsARecord",
    "EnableResourceNameDnsAAAARecordOnLaunch": "EnableResourceNameDnsAAAARecord",
}


class SubnetOperations(Operations):
    service: Ec2Provider

    def create_subnet(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        vpc = net.require(ctx, kinds.VPC, params["VpcId"])
        cidr = params.get("CidrBlock")
        ipv6 = params.get("Ipv6CidrBlock")
        if not cidr:
            raise ServiceError(
                "MissingParameter", "Either 'cidrBlock' or 'ipv6CidrBlock' should be provided."
            )
        network = cidrs.parse_ipv4_network(cidr)
        if network is None:
            raise bad_cidr(cidr)
        blocks = net.vpc_networks(vpc)
        if not cidrs.size_allowed(network) or not cidrs.within(network, blocks):
            raise ServiceError("InvalidSubnet.Range", f"The CIDR '{cidr}' is invalid.")
        siblings = store.in_vpc(vpc.id, kinds.SUBNET.name)
        if cidrs.overlaps(network, [ipaddress.ip_network(s.body["CidrBlock"]) for s in siblings]):
            raise ServiceError("InvalidSubnet.Conflict", f"The CIDR '{cidr}' conflicts with another subnet")
        if ipv6 is not None:
            self._check_ipv6(ipv6, blocks, siblings)
        if len(siblings) >= MAX_SUBNETS:
            raise ServiceError("SubnetLimitExceeded", "The maximum number of subnets has been reached.")
        zone = net.check_zone(ctx.region, params.get("AvailabilityZone"), params.get("AvailabilityZoneId"))
        subnet = net.create_subnet(ctx.account_id, ctx.region, vpc, str(network), zone, ipv6=ipv6)
        net.tag(subnet, tag_specifications(params, "subnet"))
        return {"Subnet": net.render(subnet)}

    def _check_ipv6(self, block: str, vpc_blocks: list, siblings: list) -> None:
        network = cidrs.parse_network(block)
        if network is None or not cidrs.ipv6_subnet_allowed(network, vpc_blocks):
            raise ServiceError("InvalidSubnet.Range", f"The IPv6 CIDR '{block}' is invalid.")
        taken = [
            ipaddress.ip_network(a["Ipv6CidrBlock"])
            for s in siblings
            for a in s.body["Ipv6CidrBlockAssociationSet"]
        ]
        if cidrs.overlaps(network, taken):
            raise ServiceError("InvalidSubnet.Conflict", f"The CIDR '{block}' conflicts with another subnet")

    def create_default_subnet(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        vpc = net.default_vpc(ctx.account_id, ctx.region)
        if vpc is None:
            raise ServiceError("DefaultVpcDoesNotExist", "No default VPC for this user")
        zone = net.check_zone(ctx.region, params.get("AvailabilityZone"), params.get("AvailabilityZoneId"))
        siblings = store.in_vpc(vpc.id, kinds.SUBNET.name)
        if any(s.body["DefaultForAz"] and s.body["AvailabilityZone"] == zone.name for s in siblings):
            raise ServiceError(
                "DefaultSubnetAlreadyExistsInAvailabilityZone",
                f"A Default Subnet already exists in availability zone {zone.name}",
            )
        taken = [ipaddress.ip_network(s.body["CidrBlock"]) for s in siblings]
        for candidate in ipaddress.ip_network("172.31.0.0/16").subnets(new_prefix=20):
            if not cidrs.overlaps(candidate, taken):
                subnet = net.create_subnet(
                    ctx.account_id, ctx.region, vpc, str(candidate), zone, default_for_az=True
                )
                return {"Subnet": net.render(subnet)}
        raise ServiceError(
            "InsufficientCidrBlocks", "There are not enough free cidr blocks in the default VPC."
        )

    def describe_subnets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.service.net.describe(
            ctx, params, kinds.SUBNET, params.get("SubnetIds"), FILTERS, "Subnets"
        )

    def delete_subnet(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        subnet = net.require(ctx, kinds.SUBNET, params["SubnetId"])
        live_nats = [
            n for n in store.in_subnet(subnet.id, kinds.NAT_GATEWAY.name) if n.body["State"] != "deleted"
        ]
        if store.in_subnet(subnet.id, kinds.NETWORK_INTERFACE.name) or live_nats:
            raise dependency("subnet", subnet.id)
        for kind in (kinds.RTB_ASSOCIATION, kinds.ACL_ASSOCIATION):
            for association in store.in_subnet(subnet.id, kind.name):
                store.delete(association.id)
        for nat in store.in_subnet(subnet.id, kinds.NAT_GATEWAY.name):
            net.forget(nat)
        net.forget(subnet)
        return {}

    def modify_subnet_attribute(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        subnet = net.require(ctx, kinds.SUBNET, params["SubnetId"])
        body = subnet.body
        for member, field in BOOLEAN_ATTRIBUTES.items():
            if params.get(member) is not None:
                body[field] = bool(params[member]["Value"])
        options = body["PrivateDnsNameOptionsOnLaunch"]
        for member, field in DNS_ATTRIBUTES.items():
            if params.get(member) is not None:
                options[field] = bool(params[member]["Value"])
        if params.get("PrivateDnsHostnameTypeOnLaunch"):
            options["HostnameType"] = params["PrivateDnsHostnameTypeOnLaunch"]
        if body["AssignIpv6AddressOnCreation"] and not body["Ipv6CidrBlockAssociationSet"]:
            raise invalid(
                f"Invalid value 'true' for assignIpv6AddressOnCreation. Subnet {subnet.id} does not have an IPv6 CIDR block."
            )
        self.service.store.save(subnet)
        return {}

    def associate_subnet_cidr_block(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        subnet = net.require(ctx, kinds.SUBNET, params["SubnetId"])
        block = params.get("Ipv6CidrBlock")
        if not block:
            raise invalid_value(block, "ipv6CidrBlock")
        vpc = store.get(subnet.vpc_id or "")
        assert vpc is not None
        if subnet.body["Ipv6CidrBlockAssociationSet"]:
            raise ServiceError(
                "InvalidSubnet.Conflict", f"The subnet '{subnet.id}' already has an IPv6 CIDR block"
            )
        siblings = [s for s in store.in_vpc(vpc.id, kinds.SUBNET.name) if s.id != subnet.id]
        self._check_ipv6(block, net.vpc_networks(vpc), siblings)
        association = subnet_ipv6_association(str(ipaddress.ip_network(block)))
        subnet.body["Ipv6CidrBlockAssociationSet"] = [association]
        store.save(subnet)
        answer = {**association, "Ipv6CidrBlockState": {"State": "associating"}}
        return {"Ipv6CidrBlockAssociation": answer, "SubnetId": subnet.id}

    def disassociate_subnet_cidr_block(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        association_id = params["AssociationId"]
        store = self.service.store
        for subnet in store.page(ctx.account_id, ctx.region, kinds.SUBNET.name, 0, 100_000):
            for association in subnet.body["Ipv6CidrBlockAssociationSet"]:
                if association["AssociationId"] == association_id:
                    subnet.body["Ipv6CidrBlockAssociationSet"] = []
                    subnet.body["AssignIpv6AddressOnCreation"] = False
                    store.save(subnet)
                    answer = {**association, "Ipv6CidrBlockState": {"State": "disassociating"}}
                    return {"Ipv6CidrBlockAssociation": answer, "SubnetId": subnet.id}
        raise ServiceError(
            "InvalidSubnetCidrBlockAssociationID.NotFound",
            f"The subnet CIDR block association ID '{association_id}' does not exist",
        )
