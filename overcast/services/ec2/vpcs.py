"""VPCs: their IPv4 and IPv6 blocks, DNS attributes, tenancy, the default VPC, and deleting only empty ones."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import cidrs, kinds
from overcast.services.ec2.errors import bad_cidr, combination, dependency, invalid, missing
from overcast.services.ec2.filters import tag_specifications
from overcast.services.ec2.shapes import cidr_association, ipv6_association, route_entry
from overcast.services.ec2.store import Resource

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

MAX_VPCS = 5  # per region (AWS's default quota)
MAX_CIDRS = 5  # IPv4 blocks per VPC
ATTRIBUTES = {
    "enableDnsSupport": ("EnableDnsSupport", "_dns_support"),
    "enableDnsHostnames": ("EnableDnsHostnames", "_dns_hostnames"),
    "enableNetworkAddressUsageMetrics": ("EnableNetworkAddressUsageMetrics", "_nau_metrics"),
}
FILTERS = {
    "cidr": "CidrBlock",
    "cidr-block-association.cidr-block": "CidrBlockAssociationSet.CidrBlock",
    "cidr-block-association.association-id": "CidrBlockAssociationSet.AssociationId",
    "cidr-block-association.state": "CidrBlockAssociationSet.CidrBlockState.State",
    "dhcp-options-id": "DhcpOptionsId",
    "ipv6-cidr-block-association.ipv6-cidr-block": "Ipv6CidrBlockAssociationSet.Ipv6CidrBlock",
    "ipv6-cidr-block-association.ipv6-pool": "Ipv6CidrBlockAssociationSet.Ipv6Pool",
    "ipv6-cidr-block-association.association-id": "Ipv6CidrBlockAssociationSet.AssociationId",
    "ipv6-cidr-block-association.state": "Ipv6CidrBlockAssociationSet.Ipv6CidrBlockState.State",
    "is-default": "IsDefault",
    "owner-id": "OwnerId",
    "state": "State",
    "vpc-id": "VpcId",
}
# What keeps a VPC from being deleted, beyond its subnets: (kind, does this one count?)
_DEPENDENTS = (
    (kinds.SUBNET, lambda r: True),
    (kinds.INTERNET_GATEWAY, lambda r: True),
    (kinds.VPN_GATEWAY, lambda r: True),
    (kinds.EGRESS_ONLY_GATEWAY, lambda r: True),
    (kinds.NAT_GATEWAY, lambda r: r.body["State"] not in ("deleted", "deleting", "failed")),
    (kinds.NETWORK_INTERFACE, lambda r: True),
    (kinds.VPC_ENDPOINT, lambda r: r.body["State"].lower() not in ("deleted", "deleting")),
    (kinds.SECURITY_GROUP, lambda r: r.body["GroupName"] != "default"),
    (kinds.NETWORK_ACL, lambda r: not r.body["IsDefault"]),
    (kinds.TGW_ATTACHMENT, lambda r: r.body["State"] not in ("deleted", "deleting")),
)


def check_vpc_cidr(cidr: str) -> ipaddress.IPv4Network:
    network = cidrs.parse_ipv4_network(cidr)
    if network is None:
        raise bad_cidr(cidr)
    if not cidrs.size_allowed(network):
        raise ServiceError("InvalidVpc.Range", f"The CIDR '{cidr}' is invalid.")
    return network


class VpcOperations(Operations):
    service: Ec2Provider

    def create_vpc(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        cidr = params.get("CidrBlock")
        if not cidr:
            raise missing("cidrBlock")
        check_vpc_cidr(cidr)
        tenancy = params.get("InstanceTenancy") or "default"
        if self.service.store.count(ctx.account_id, ctx.region, kinds.VPC.name) >= MAX_VPCS:
            raise ServiceError("VpcLimitExceeded", "The maximum number of VPCs has been reached.")
        net = self.service.net
        ipv6 = str(cidrs.amazon_ipv6_block()) if params.get("AmazonProvidedIpv6CidrBlock") else None
        vpc = net.create_vpc(ctx.account_id, ctx.region, cidr, tenancy, ipv6=ipv6)
        net.tag(vpc, tag_specifications(params, "vpc"))
        described = net.render(vpc)
        for association in described.get("Ipv6CidrBlockAssociationSet") or ():
            association["Ipv6CidrBlockState"] = {"State": "associating"}
        return {"Vpc": {**described, "State": "pending"}}

    def create_default_vpc(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        if net.default_vpc(ctx.account_id, ctx.region) is not None:
            raise ServiceError(
                "DefaultVpcAlreadyExists", "A Default VPC already exists for this account in this region."
            )
        vpc = net.create_default_vpc(ctx.account_id, ctx.region)
        return {"Vpc": {**net.render(vpc), "State": "pending"}}

    def describe_vpcs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.service.net.describe(ctx, params, kinds.VPC, params.get("VpcIds"), FILTERS, "Vpcs")

    def delete_vpc(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net, store = self.service.net, self.service.store
        vpc = net.require(ctx, kinds.VPC, params["VpcId"])
        for kind, counts in _DEPENDENTS:
            if any(counts(r) for r in store.in_vpc(vpc.id, kind.name)):
                raise dependency("vpc", vpc.id)
        tables = store.in_vpc(vpc.id, kinds.ROUTE_TABLE.name)
        main = net.main_route_table(vpc.id)
        if any(t.id != main.id for t in tables):
            raise dependency("vpc", vpc.id)
        for kind in (kinds.RTB_ASSOCIATION, kinds.ROUTE_TABLE, kinds.NETWORK_ACL, kinds.SECURITY_GROUP,
                     kinds.NAT_GATEWAY, kinds.VPC_ENDPOINT, kinds.FLOW_LOG, kinds.TGW_ATTACHMENT):  # fmt: skip
            for resource in store.in_vpc(vpc.id, kind.name):
                if kind is kinds.SECURITY_GROUP:
                    store.delete_rules_of(resource.id)
                net.forget(resource)
        net.forget(vpc)
        return {}

    def describe_vpc_attribute(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        vpc = self.service.net.require(ctx, kinds.VPC, params["VpcId"])
        member, key = ATTRIBUTES[params["Attribute"]]
        return {"VpcId": vpc.id, member: {"Value": vpc.body[key]}}

    def modify_vpc_attribute(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        vpc = self.service.net.require(ctx, kinds.VPC, params["VpcId"])
        given = [(name, member, key) for name, (member, key) in ATTRIBUTES.items() if params.get(member)]
        if not given:
            raise missing("attribute")
        if len(given) > 1:
            names = ", ".join(name for name, _, _ in given)
            raise combination(f"Fields for multiple attribute types specified: {names}")
        name, member, key = given[0]
        value = bool(params[member].get("Value"))
        if name == "enableDnsHostnames" and value and not vpc.body["_dns_support"]:
            raise invalid("Cannot enable DNS hostnames without DNS support.")
        vpc.body[key] = value
        self.service.store.save(vpc)
        return {}

    def modify_vpc_tenancy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        vpc = self.service.net.require(ctx, kinds.VPC, params["VpcId"])
        vpc.body["InstanceTenancy"] = params["InstanceTenancy"]
        self.service.store.save(vpc)
        return {"ReturnValue": True}

    def associate_vpc_cidr_block(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = self.service.net
        vpc = net.require(ctx, kinds.VPC, params["VpcId"])
        if params.get("AmazonProvidedIpv6CidrBlock"):
            return self._associate_ipv6(vpc)
        cidr = params.get("CidrBlock")
        if not cidr:
            raise missing("cidrBlock")
        network = check_vpc_cidr(cidr)
        current = [
            a for a in vpc.body["CidrBlockAssociationSet"] if a["CidrBlockState"]["State"] == "associated"
        ]
        if len(current) >= MAX_CIDRS:
            raise ServiceError(
                "CidrLimitExceeded",
                f"This network '{vpc.id}' has met its maximum number of allowed CIDRs: {MAX_CIDRS}",
            )
        blocks = [ipaddress.ip_network(a["CidrBlock"]) for a in current]
        if cidrs.overlaps(network, blocks):
            raise ServiceError(
                "InvalidVpc.Range", f"The CIDR '{cidr}' conflicts with another CIDR block in the VPC."
            )
        primary = ipaddress.ip_network(vpc.body["CidrBlock"])
        if _restricted(primary, network):
            raise ServiceError(
                "InvalidVpc.Range",
                f"The CIDR '{cidr}' is restricted. Use a CIDR from the same private address range as the current "
                "VPC CIDR, or use a publicly-routable CIDR.",
            )
        association = cidr_association(cidr)
        vpc.body["CidrBlockAssociationSet"].append(association)
        self.service.store.save(vpc)
        self._add_local_route(vpc, {"DestinationCidrBlock": cidr})
        answer = {**association, "CidrBlockState": {"State": "associating"}}
        return {"CidrBlockAssociation": answer, "VpcId": vpc.id}

    def _associate_ipv6(self, vpc: Resource) -> dict[str, Any]:
        if vpc.body.get("Ipv6CidrBlockAssociationSet"):
            raise ServiceError(
                "CidrLimitExceeded", f"This network '{vpc.id}' has met its maximum number of allowed CIDRs: 1"
            )
        association = ipv6_association(str(cidrs.amazon_ipv6_block()), vpc.region)
        vpc.body["Ipv6CidrBlockAssociationSet"] = [association]
        self.service.store.save(vpc)
        self._add_local_route(vpc, {"DestinationIpv6CidrBlock": association["Ipv6CidrBlock"]})
        answer = {**association, "Ipv6CidrBlockState": {"State": "associating"}}
        return {"Ipv6CidrBlockAssociation": answer, "VpcId": vpc.id}

    def _add_local_route(self, vpc: Resource, destination: dict[str, str]) -> None:
        for table in self.service.store.in_vpc(vpc.id, kinds.ROUTE_TABLE.name):
            route = route_entry(None, {"GatewayId": "local"}, "CreateRouteTable")
            table.body["Routes"].insert(0, {**destination, **route})
            self.service.store.save(table)

    def disassociate_vpc_cidr_block(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        association_id = params["AssociationId"]
        store = self.service.store
        for vpc in store.page(ctx.account_id, ctx.region, kinds.VPC.name, 0, 10_000):
            for association in vpc.body["CidrBlockAssociationSet"]:
                if association["AssociationId"] == association_id:
                    return self._disassociate_ipv4(vpc, association)
            for association in vpc.body.get("Ipv6CidrBlockAssociationSet") or ():
                if association["AssociationId"] == association_id:
                    vpc.body["Ipv6CidrBlockAssociationSet"] = []
                    store.save(vpc)
                    self._remove_local_route(vpc, "DestinationIpv6CidrBlock", association["Ipv6CidrBlock"])
                    answer = {**association, "Ipv6CidrBlockState": {"State": "disassociating"}}
                    return {"Ipv6CidrBlockAssociation": answer, "VpcId": vpc.id}
        raise ServiceError(
            "InvalidVpcCidrBlockAssociationID.NotFound",
            f"The vpc CIDR block association ID '{association_id}' does not exist",
        )

    def _disassociate_ipv4(self, vpc: Resource, association: dict[str, Any]) -> dict[str, Any]:
        cidr = association["CidrBlock"]
        if cidr == vpc.body["CidrBlock"]:
            raise ServiceError(
                "OperationNotPermitted",
                f"The vpc {vpc.id} has a primary CIDR block {cidr} which cannot be disassociated.",
            )
        block = ipaddress.ip_network(cidr)
        for subnet in self.service.store.in_vpc(vpc.id, kinds.SUBNET.name):
            if ipaddress.ip_network(subnet.body["CidrBlock"]).subnet_of(block):
                raise dependency("vpc", vpc.id)
        vpc.body["CidrBlockAssociationSet"].remove(association)
        self.service.store.save(vpc)
        self._remove_local_route(vpc, "DestinationCidrBlock", cidr)
        answer = {**association, "CidrBlockState": {"State": "disassociating"}}
        return {"CidrBlockAssociation": answer, "VpcId": vpc.id}

    def _remove_local_route(self, vpc: Resource, key: str, destination: str) -> None:
        for table in self.service.store.in_vpc(vpc.id, kinds.ROUTE_TABLE.name):
            table.body["Routes"] = [
                r
                for r in table.body["Routes"]
                if not (r.get(key) == destination and r.get("GatewayId") == "local")
            ]
            self.service.store.save(table)


def _restricted(primary: ipaddress.IPv4Network, secondary: ipaddress.IPv4Network) -> bool:
    """A secondary block from another RFC 1918 range than the primary's (AWS's "restricted" associations)."""
    home = next((r for r in cidrs.PRIVATE_RANGES if primary.subnet_of(r)), None)
    other = next((r for r in cidrs.PRIVATE_RANGES if secondary.subnet_of(r)), None)
    return home is not None and other is not None and home != other
