"""The shapes of EC2's VPC descriptions that several modules build: routes, ACL entries, CIDR block
associations, security group permissions as DescribeSecurityGroups groups them, and the constants they use."""

from __future__ import annotations

from typing import Any

from overcast.services.ec2.ids import new_id
from overcast.services.ec2.store import Rule

ALL_TRAFFIC = "-1"
ACL_DEFAULT_RULE = 32767  # the "*" rule every network ACL ends with (32768 for IPv6)
OPEN_POLICY = (
    '{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'
)


def public(body: dict[str, Any]) -> dict[str, Any]:
    """A stored description without Overcast's own bookkeeping (keys starting with '_')."""
    return {key: value for key, value in body.items() if key[0] != "_"}


TARGET_KEYS = (
    "GatewayId",
    "NatGatewayId",
    "NetworkInterfaceId",
    "InstanceId",
    "VpcPeeringConnectionId",
    "TransitGatewayId",
    "EgressOnlyInternetGatewayId",
    "LocalGatewayId",
    "CarrierGatewayId",
)


def permissions(rules: list[Rule]) -> list[dict[str, Any]]:
    """Rules as DescribeSecurityGroups groups them: one IpPermission per protocol and port range."""
    grouped: dict[tuple, dict[str, Any]] = {}
    for rule in rules:
        body = rule.body
        key = (body["IpProtocol"], body.get("FromPort"), body.get("ToPort"))
        permission = grouped.get(key)
        if permission is None:
            permission = {"IpProtocol": body["IpProtocol"]}
            if body["IpProtocol"] != ALL_TRAFFIC:
                permission.update(FromPort=body.get("FromPort"), ToPort=body.get("ToPort"))
            permission.update(UserIdGroupPairs=[], IpRanges=[], Ipv6Ranges=[], PrefixListIds=[])
            grouped[key] = permission
        note = {"Description": body["Description"]} if body.get("Description") else {}
        if "CidrIpv4" in body:
            permission["IpRanges"].append({**note, "CidrIp": body["CidrIpv4"]})
        elif "CidrIpv6" in body:
            permission["Ipv6Ranges"].append({**note, "CidrIpv6": body["CidrIpv6"]})
        elif "PrefixListId" in body:
            permission["PrefixListIds"].append({**note, "PrefixListId": body["PrefixListId"]})
        else:
            peer = body["ReferencedGroupInfo"]
            permission["UserIdGroupPairs"].append({**note, **peer})
    return list(grouped.values())


def cidr_association(cidr: str) -> dict[str, Any]:
    return {
        "AssociationId": new_id("vpc-cidr-assoc"),
        "CidrBlock": cidr,
        "CidrBlockState": {"State": "associated"},
    }


def ipv6_association(block: str, region: str) -> dict[str, Any]:
    return {
        "AssociationId": new_id("vpc-cidr-assoc"),
        "Ipv6CidrBlock": block,
        "Ipv6CidrBlockState": {"State": "associated"},
        "NetworkBorderGroup": region,
        "Ipv6Pool": "Amazon",
    }


def subnet_ipv6_association(block: str) -> dict[str, Any]:
    return {
        "AssociationId": new_id("subnet-cidr-assoc"),
        "Ipv6CidrBlock": block,
        "Ipv6CidrBlockState": {"State": "associated"},
        "Ipv6AddressAttribute": "public",
        "IpSource": "amazon",
    }


def route_entry(destination: str | None, target: dict[str, Any], origin: str) -> dict[str, Any]:
    route: dict[str, Any] = {"DestinationCidrBlock": destination} if destination else {}
    return {**route, **target, "Origin": origin, "State": "active"}


def acl_entry(
    number: int, action: str, egress: bool, cidr: str | None = None, ipv6: str | None = None
) -> dict:
    entry: dict[str, Any] = {"CidrBlock": cidr} if cidr else {"Ipv6CidrBlock": ipv6}
    return {**entry, "Egress": egress, "Protocol": ALL_TRAFFIC, "RuleAction": action, "RuleNumber": number}
