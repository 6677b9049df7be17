"""EC2 and VPC resource types: VPCs, subnets, gateways, route tables and routes, security groups and their
rules, Elastic IPs, instances, volumes, key pairs."""

from __future__ import annotations

from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    HandlerError,
    ResourceContext,
    ResourceHandler,
    boolean,
    document,
    drop_none,
    ignore_missing,
    integer,
    not_found,
    tag_list,
)

RUNNING_WAIT = 120


def _tags(kind: str, value: Any) -> list[dict[str, Any]] | None:
    tags = tag_list(value)
    return [{"ResourceType": kind, "Tags": tags}] if tags else None


async def _retag(ctx: ResourceContext, resource: str, new: Any, old: Any) -> None:
    before, after = tag_list(old), tag_list(new)
    gone = [{"Key": t["Key"]} for t in before if t["Key"] not in {n["Key"] for n in after}]
    if gone:
        await ctx.call("ec2", "DeleteTags", {"Resources": [resource], "Tags": gone})
    if after and after != before:
        await ctx.call("ec2", "CreateTags", {"Resources": [resource], "Tags": after})


class VPC(ResourceHandler):
    type_name = "AWS::EC2::VPC"
    service = "ec2"
    create_only = frozenset({"CidrBlock", "InstanceTenancy", "Ipv4IpamPoolId", "Ipv4NetmaskLength"})
    attributes = (
        "CidrBlock",
        "CidrBlockAssociations",
        "DefaultNetworkAcl",
        "DefaultSecurityGroup",
        "Ipv6CidrBlocks",
        "VpcId",
    )
    primary_identifier = "VpcId"

    async def create(self, ctx, properties):
        vpc = (
            await ctx.call(
                "ec2",
                "CreateVpc",
                drop_none(
                    {
                        "CidrBlock": properties.get("CidrBlock"),
                        "InstanceTenancy": properties.get("InstanceTenancy"),
                        "TagSpecifications": _tags("vpc", properties.get("Tags")),
                    }
                ),
            )
        )["Vpc"]
        vpc_id = vpc["VpcId"]
        await self._attributes(ctx, vpc_id, properties, {})
        return Created(vpc_id, await self._outputs(ctx, vpc))

    async def _attributes(
        self, ctx: ResourceContext, vpc_id: str, new: dict[str, Any], old: dict[str, Any]
    ) -> None:
        for key in ("EnableDnsSupport", "EnableDnsHostnames"):
            if key in new and new.get(key) != old.get(key):
                await ctx.call(
                    "ec2", "ModifyVpcAttribute", {"VpcId": vpc_id, key: {"Value": bool(boolean(new[key]))}}
                )

    async def _outputs(self, ctx: ResourceContext, vpc: dict[str, Any]) -> dict[str, Any]:
        vpc_id = vpc["VpcId"]
        groups = await ctx.call(
            "ec2",
            "DescribeSecurityGroups",
            {
                "Filters": [
                    {"Name": "vpc-id", "Values": [vpc_id]},
                    {"Name": "group-name", "Values": ["default"]},
                ]
            },
        )
        acls = await ctx.call(
            "ec2",
            "DescribeNetworkAcls",
            {"Filters": [{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "default", "Values": ["true"]}]},
        )
        return {
            "VpcId": vpc_id,
            "CidrBlock": vpc["CidrBlock"],
            "CidrBlockAssociations": [a["AssociationId"] for a in vpc.get("CidrBlockAssociationSet", [])],
            "DefaultSecurityGroup": next((g["GroupId"] for g in groups.get("SecurityGroups", [])), ""),
            "DefaultNetworkAcl": next((a["NetworkAclId"] for a in acls.get("NetworkAcls", [])), ""),
            "Ipv6CidrBlocks": [a["Ipv6CidrBlock"] for a in vpc.get("Ipv6CidrBlockAssociationSet", [])],
        }

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await self._attributes(ctx, physical_id, properties, previous)
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DeleteVpc", {"VpcId": physical_id}))

    async def read(self, ctx, physical_id, properties):
        try:
            found = (await ctx.call("ec2", "DescribeVpcs", {"VpcIds": [physical_id]})).get("Vpcs", [])
        except ServiceError as error:
            if error.code.endswith("NotFound"):
                return None
            raise
        if not found:
            return None
        result = dict(properties)
        result["CidrBlock"] = found[0]["CidrBlock"]
        return result

    async def list(self, ctx):
        return [vpc["VpcId"] for vpc in (await ctx.call("ec2", "DescribeVpcs", {})).get("Vpcs", [])]


class Subnet(ResourceHandler):
    type_name = "AWS::EC2::Subnet"
    service = "ec2"
    required = ("VpcId",)
    create_only = frozenset({"VpcId", "CidrBlock", "AvailabilityZone", "AvailabilityZoneId", "Ipv6CidrBlock"})
    attributes = (
        "AvailabilityZone",
        "AvailabilityZoneId",
        "CidrBlock",
        "Ipv6CidrBlocks",
        "NetworkAclAssociationId",
        "OutpostArn",
        "SubnetId",
        "VpcId",
    )
    primary_identifier = "SubnetId"

    async def create(self, ctx, properties):
        subnet = (
            await ctx.call(
                "ec2",
                "CreateSubnet",
                drop_none(
                    {
                        "VpcId": properties["VpcId"],
                        "CidrBlock": properties.get("CidrBlock"),
                        "AvailabilityZone": properties.get("AvailabilityZone"),
                        "AvailabilityZoneId": properties.get("AvailabilityZoneId"),
                        "Ipv6CidrBlock": properties.get("Ipv6CidrBlock"),
                        "TagSpecifications": _tags("subnet", properties.get("Tags")),
                    }
                ),
            )
        )["Subnet"]
        if boolean(properties.get("MapPublicIpOnLaunch")):
            await ctx.call(
                "ec2",
                "ModifySubnetAttribute",
                {"SubnetId": subnet["SubnetId"], "MapPublicIpOnLaunch": {"Value": True}},
            )
        return Created(
            subnet["SubnetId"],
            {
                "SubnetId": subnet["SubnetId"],
                "VpcId": subnet["VpcId"],
                "CidrBlock": subnet.get("CidrBlock", ""),
                "AvailabilityZone": subnet.get("AvailabilityZone", ""),
                "AvailabilityZoneId": subnet.get("AvailabilityZoneId", ""),
                "Ipv6CidrBlocks": [a["Ipv6CidrBlock"] for a in subnet.get("Ipv6CidrBlockAssociationSet", [])],
                "NetworkAclAssociationId": "",
                "OutpostArn": "",
            },
        )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        if boolean(properties.get("MapPublicIpOnLaunch")) != boolean(previous.get("MapPublicIpOnLaunch")):
            await ctx.call(
                "ec2",
                "ModifySubnetAttribute",
                {
                    "SubnetId": physical_id,
                    "MapPublicIpOnLaunch": {"Value": bool(boolean(properties.get("MapPublicIpOnLaunch")))},
                },
            )
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DeleteSubnet", {"SubnetId": physical_id}))


class InternetGateway(ResourceHandler):
    type_name = "AWS::EC2::InternetGateway"
    service = "ec2"
    attributes = ("InternetGatewayId",)
    primary_identifier = "InternetGatewayId"

    async def create(self, ctx, properties):
        gateway = (
            await ctx.call(
                "ec2",
                "CreateInternetGateway",
                drop_none({"TagSpecifications": _tags("internet-gateway", properties.get("Tags"))}),
            )
        )["InternetGateway"]
        return Created(gateway["InternetGatewayId"], {"InternetGatewayId": gateway["InternetGatewayId"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DeleteInternetGateway", {"InternetGatewayId": physical_id}))


class VPCGatewayAttachment(ResourceHandler):
    type_name = "AWS::EC2::VPCGatewayAttachment"
    service = "ec2"
    required = ("VpcId",)
    create_only = frozenset({"VpcId", "InternetGatewayId", "VpnGatewayId"})

    async def create(self, ctx, properties):
        if properties.get("VpnGatewayId"):
            await ctx.call(
                "ec2",
                "AttachVpnGateway",
                {"VpnGatewayId": properties["VpnGatewayId"], "VpcId": properties["VpcId"]},
            )
            return Created(f"VGW|{properties['VpcId']}")
        if not properties.get("InternetGatewayId"):
            raise HandlerError("Either InternetGatewayId or VpnGatewayId is required")
        await ctx.call(
            "ec2",
            "AttachInternetGateway",
            {"InternetGatewayId": properties["InternetGatewayId"], "VpcId": properties["VpcId"]},
        )
        return Created(f"IGW|{properties['VpcId']}")

    async def delete(self, ctx, physical_id, properties):
        if properties.get("VpnGatewayId"):
            await ignore_missing(
                ctx.call(
                    "ec2",
                    "DetachVpnGateway",
                    {"VpnGatewayId": properties["VpnGatewayId"], "VpcId": properties["VpcId"]},
                )
            )
            return
        await ignore_missing(
            ctx.call(
                "ec2",
                "DetachInternetGateway",
                {"InternetGatewayId": properties["InternetGatewayId"], "VpcId": properties["VpcId"]},
            )
        )


class RouteTable(ResourceHandler):
    type_name = "AWS::EC2::RouteTable"
    service = "ec2"
    required = ("VpcId",)
    create_only = frozenset({"VpcId"})
    attributes = ("RouteTableId",)
    primary_identifier = "RouteTableId"

    async def create(self, ctx, properties):
        table = (
            await ctx.call(
                "ec2",
                "CreateRouteTable",
                drop_none(
                    {
                        "VpcId": properties["VpcId"],
                        "TagSpecifications": _tags("route-table", properties.get("Tags")),
                    }
                ),
            )
        )["RouteTable"]
        return Created(table["RouteTableId"], {"RouteTableId": table["RouteTableId"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DeleteRouteTable", {"RouteTableId": physical_id}))


_ROUTE_TARGETS = (
    "GatewayId",
    "NatGatewayId",
    "InstanceId",
    "NetworkInterfaceId",
    "VpcPeeringConnectionId",
    "TransitGatewayId",
    "EgressOnlyInternetGatewayId",
    "VpcEndpointId",
    "CarrierGatewayId",
    "LocalGatewayId",
    "CoreNetworkArn",
)


class Route(ResourceHandler):
    type_name = "AWS::EC2::Route"
    service = "ec2"
    required = ("RouteTableId",)
    create_only = frozenset(
        {"RouteTableId", "DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId"}
    )

    def _params(self, properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "RouteTableId": properties["RouteTableId"],
                "DestinationCidrBlock": properties.get("DestinationCidrBlock"),
                "DestinationIpv6CidrBlock": properties.get("DestinationIpv6CidrBlock"),
                "DestinationPrefixListId": properties.get("DestinationPrefixListId"),
                **{key: properties.get(key) for key in _ROUTE_TARGETS},
            }
        )

    async def create(self, ctx, properties):
        await ctx.call("ec2", "CreateRoute", self._params(properties))
        destination = (
            properties.get("DestinationCidrBlock")
            or properties.get("DestinationIpv6CidrBlock")
            or properties.get("DestinationPrefixListId")
        )
        return Created(f"{properties['RouteTableId']}|{destination}")

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call("ec2", "ReplaceRoute", self._params(properties))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        params = {
            key: value
            for key, value in self._params(properties).items()
            if not key.endswith(("Id", "Arn")) or key.startswith("Destination") or key == "RouteTableId"
        }
        await ignore_missing(ctx.call("ec2", "DeleteRoute", params))


class SubnetRouteTableAssociation(ResourceHandler):
    type_name = "AWS::EC2::SubnetRouteTableAssociation"
    service = "ec2"
    required = ("RouteTableId", "SubnetId")
    create_only = frozenset({"RouteTableId", "SubnetId"})
    attributes = ("Id",)

    async def create(self, ctx, properties):
        found = await ctx.call(
            "ec2",
            "AssociateRouteTable",
            {"RouteTableId": properties["RouteTableId"], "SubnetId": properties["SubnetId"]},
        )
        return Created(found["AssociationId"], {"Id": found["AssociationId"]})

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DisassociateRouteTable", {"AssociationId": physical_id}))


def permissions(rules: list[dict[str, Any]], egress: bool = False) -> list[dict[str, Any]]:
    """CloudFormation's flat security group rules as IpPermissions."""
    converted = []
    for rule in rules:
        permission: dict[str, Any] = {"IpProtocol": str(rule.get("IpProtocol", "-1"))}
        if rule.get("FromPort") is not None:
            permission["FromPort"] = integer(rule["FromPort"])
        if rule.get("ToPort") is not None:
            permission["ToPort"] = integer(rule["ToPort"])
        description = {"Description": rule["Description"]} if rule.get("Description") else {}
        if rule.get("CidrIp"):
            permission["IpRanges"] = [{"CidrIp": rule["CidrIp"], **description}]
        if rule.get("CidrIpv6"):
            permission["Ipv6Ranges"] = [{"CidrIpv6": rule["CidrIpv6"], **description}]
        peer = rule.get("DestinationSecurityGroupId") if egress else rule.get("SourceSecurityGroupId")
        peer_name = None if egress else rule.get("SourceSecurityGroupName")
        if peer or peer_name:
            pair = drop_none(
                {
                    "GroupId": peer,
                    "GroupName": peer_name,
                    "UserId": rule.get("SourceSecurityGroupOwnerId"),
                    **description,
                }
            )
            permission["UserIdGroupPairs"] = [pair]
        prefix = rule.get("DestinationPrefixListId") if egress else rule.get("SourcePrefixListId")
        if prefix:
            permission["PrefixListIds"] = [{"PrefixListId": prefix, **description}]
        converted.append(permission)
    return converted


class SecurityGroup(ResourceHandler):
    """Ref: the group's id (its name for a group made without a VpcId, in the default VPC, as AWS answers)."""

    type_name = "AWS::EC2::SecurityGroup"
    service = "ec2"
    required = ("GroupDescription",)
    create_only = frozenset({"GroupDescription", "GroupName", "VpcId"})
    attributes = ("GroupId", "VpcId")
    primary_identifier = "GroupId"

    async def create(self, ctx, properties):
        name = properties.get("GroupName") or ctx.generated_name(255)
        created = await ctx.call(
            "ec2",
            "CreateSecurityGroup",
            drop_none(
                {
                    "GroupName": name,
                    "Description": properties["GroupDescription"],
                    "VpcId": properties.get("VpcId"),
                    "TagSpecifications": _tags("security-group", properties.get("Tags")),
                }
            ),
        )
        group_id = created["GroupId"]
        await self._rules(ctx, group_id, properties, {}, fresh=True)
        vpc = properties.get("VpcId") or (
            await ctx.call("ec2", "DescribeSecurityGroups", {"GroupIds": [group_id]})
        )["SecurityGroups"][0].get("VpcId", "")
        return Created(group_id if properties.get("VpcId") else name, {"GroupId": group_id, "VpcId": vpc})

    async def _rules(
        self,
        ctx: ResourceContext,
        group_id: str,
        new: dict[str, Any],
        old: dict[str, Any],
        fresh: bool = False,
    ) -> None:
        ingress, before = (
            permissions(new.get("SecurityGroupIngress") or []),
            permissions(old.get("SecurityGroupIngress") or []),
        )
        if before and before != ingress:
            await ignore_missing(
                ctx.call("ec2", "RevokeSecurityGroupIngress", {"GroupId": group_id, "IpPermissions": before})
            )
        if ingress and ingress != before:
            await ctx.call(
                "ec2", "AuthorizeSecurityGroupIngress", {"GroupId": group_id, "IpPermissions": ingress}
            )
        egress, before = (
            permissions(new.get("SecurityGroupEgress") or [], True),
            permissions(old.get("SecurityGroupEgress") or [], True),
        )
        if egress != before or (fresh and egress):
            if fresh or not before:
                before = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]  # the default rule
            if new.get("VpcId"):
                await ignore_missing(
                    ctx.call(
                        "ec2", "RevokeSecurityGroupEgress", {"GroupId": group_id, "IpPermissions": before}
                    )
                )
                if egress:
                    await ctx.call(
                        "ec2", "AuthorizeSecurityGroupEgress", {"GroupId": group_id, "IpPermissions": egress}
                    )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await self._rules(ctx, attributes["GroupId"], properties, previous)
        await _retag(ctx, attributes["GroupId"], properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        key = "GroupId" if physical_id.startswith("sg-") else "GroupName"
        await ignore_missing(ctx.call("ec2", "DeleteSecurityGroup", {key: physical_id}))

    async def read(self, ctx, physical_id, properties):
        key = "GroupIds" if physical_id.startswith("sg-") else "GroupNames"
        try:
            found = (await ctx.call("ec2", "DescribeSecurityGroups", {key: [physical_id]})).get(
                "SecurityGroups", []
            )
        except ServiceError as error:
            if error.code.endswith("NotFound"):
                return None
            raise
        if not found:
            return None
        result = dict(properties)
        result["GroupDescription"] = found[0].get("Description")
        return result


class SecurityGroupIngress(ResourceHandler):
    type_name = "AWS::EC2::SecurityGroupIngress"
    service = "ec2"
    required = ("IpProtocol",)
    create_only = frozenset(
        {
            "GroupId",
            "GroupName",
            "IpProtocol",
            "FromPort",
            "ToPort",
            "CidrIp",
            "CidrIpv6",
            "SourceSecurityGroupId",
            "SourceSecurityGroupName",
            "SourcePrefixListId",
        }
    )
    attributes = ("Id",)
    direction = "Ingress"

    def _group(self, properties: dict[str, Any]) -> dict[str, Any]:
        return (
            {"GroupId": properties["GroupId"]}
            if properties.get("GroupId")
            else {"GroupName": properties.get("GroupName")}
        )

    async def create(self, ctx, properties):
        found = await ctx.call(
            "ec2",
            f"AuthorizeSecurityGroup{self.direction}",
            {
                **self._group(properties),
                "IpPermissions": permissions([properties], egress=self.direction == "Egress"),
            },
        )
        rule_id = next(
            (rule["SecurityGroupRuleId"] for rule in found.get("SecurityGroupRules", [])),
            ctx.generated_name(64),
        )
        return Created(rule_id, {"Id": rule_id})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        return attributes  # only Description may change in place

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "ec2",
                f"RevokeSecurityGroup{self.direction}",
                {
                    **self._group(properties),
                    "IpPermissions": permissions([properties], egress=self.direction == "Egress"),
                },
            )
        )


class SecurityGroupEgress(SecurityGroupIngress):
    type_name = "AWS::EC2::SecurityGroupEgress"
    required = ("GroupId", "IpProtocol")
    create_only = frozenset(
        {
            "GroupId",
            "IpProtocol",
            "FromPort",
            "ToPort",
            "CidrIp",
            "CidrIpv6",
            "DestinationSecurityGroupId",
            "DestinationPrefixListId",
        }
    )
    direction = "Egress"


class EIP(ResourceHandler):
    """Ref: the address; AllocationId among its attributes."""

    type_name = "AWS::EC2::EIP"
    service = "ec2"
    create_only = frozenset({"Domain", "NetworkBorderGroup", "PublicIpv4Pool"})
    attributes = ("AllocationId", "PublicIp")
    primary_identifier = "PublicIp"

    async def create(self, ctx, properties):
        address = await ctx.call(
            "ec2",
            "AllocateAddress",
            drop_none(
                {
                    "Domain": properties.get("Domain") or "vpc",
                    "TagSpecifications": _tags("elastic-ip", properties.get("Tags")),
                }
            ),
        )
        if properties.get("InstanceId"):
            await ctx.call(
                "ec2",
                "AssociateAddress",
                {"AllocationId": address["AllocationId"], "InstanceId": properties["InstanceId"]},
            )
        return Created(
            address["PublicIp"], {"AllocationId": address["AllocationId"], "PublicIp": address["PublicIp"]}
        )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        if properties.get("InstanceId") != previous.get("InstanceId"):
            found = (
                await ctx.call("ec2", "DescribeAddresses", {"AllocationIds": [attributes["AllocationId"]]})
            ).get("Addresses", [])
            if found and found[0].get("AssociationId"):
                await ctx.call("ec2", "DisassociateAddress", {"AssociationId": found[0]["AssociationId"]})
            if properties.get("InstanceId"):
                await ctx.call(
                    "ec2",
                    "AssociateAddress",
                    {"AllocationId": attributes["AllocationId"], "InstanceId": properties["InstanceId"]},
                )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        found = (await ctx.call("ec2", "DescribeAddresses", {"PublicIps": [physical_id]})).get(
            "Addresses", []
        )
        if not found:
            return
        if found[0].get("AssociationId"):
            await ignore_missing(
                ctx.call("ec2", "DisassociateAddress", {"AssociationId": found[0]["AssociationId"]})
            )
        await ignore_missing(ctx.call("ec2", "ReleaseAddress", {"AllocationId": found[0]["AllocationId"]}))


class EIPAssociation(ResourceHandler):
    type_name = "AWS::EC2::EIPAssociation"
    service = "ec2"
    create_only = frozenset({"AllocationId", "EIP", "InstanceId", "NetworkInterfaceId", "PrivateIpAddress"})
    attributes = ("Id",)

    async def create(self, ctx, properties):
        found = await ctx.call(
            "ec2",
            "AssociateAddress",
            drop_none(
                {
                    "AllocationId": properties.get("AllocationId"),
                    "PublicIp": properties.get("EIP"),
                    "InstanceId": properties.get("InstanceId"),
                    "NetworkInterfaceId": properties.get("NetworkInterfaceId"),
                    "PrivateIpAddress": properties.get("PrivateIpAddress"),
                }
            ),
        )
        association = found.get("AssociationId") or ctx.generated_name(64)
        return Created(association, {"Id": association})

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DisassociateAddress", {"AssociationId": physical_id}))


class NatGateway(ResourceHandler):
    type_name = "AWS::EC2::NatGateway"
    service = "ec2"
    required = ("SubnetId",)
    create_only = frozenset({"SubnetId", "AllocationId", "ConnectivityType", "PrivateIpAddress"})
    attributes = ("NatGatewayId",)
    primary_identifier = "NatGatewayId"

    async def create(self, ctx, properties):
        gateway = (
            await ctx.call(
                "ec2",
                "CreateNatGateway",
                drop_none(
                    {
                        "SubnetId": properties["SubnetId"],
                        "AllocationId": properties.get("AllocationId"),
                        "ConnectivityType": properties.get("ConnectivityType"),
                        "TagSpecifications": _tags("natgateway", properties.get("Tags")),
                    }
                ),
            )
        )["NatGateway"]
        nat_id = gateway["NatGatewayId"]
        await ctx.settle(lambda: self._reached(ctx, nat_id, "available"))
        return Created(nat_id, {"NatGatewayId": nat_id})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DeleteNatGateway", {"NatGatewayId": physical_id}))
        # As AWS's handler does: the subnet and the address are free only once the gateway is deleted.
        await ctx.settle(lambda: self._reached(ctx, physical_id, "deleted"))

    @staticmethod
    async def _reached(ctx: ResourceContext, nat_id: str, wanted: str) -> bool | None:
        """True once the gateway is in the `wanted` state; None while it is on its way."""
        try:
            found = (await ctx.call("ec2", "DescribeNatGateways", {"NatGatewayIds": [nat_id]}))["NatGateways"]
        except ServiceError as error:
            if not_found(error):
                found = []
            else:
                raise
        state = found[0]["State"] if found else "deleted"
        if state == "failed" and wanted != "deleted":
            message = found[0].get("FailureMessage") or "NAT gateway failed"
            raise HandlerError(f"NAT gateway {nat_id} failed to stabilize: {message}", "NotStabilized")
        return True if state == wanted or (wanted == "deleted" and state == "failed") else None


class Instance(ResourceHandler):
    type_name = "AWS::EC2::Instance"
    service = "ec2"
    required = ()
    create_only = frozenset(
        {
            "ImageId",
            "KeyName",
            "SubnetId",
            "AvailabilityZone",
            "SecurityGroups",
            "PrivateIpAddress",
            "NetworkInterfaces",
            "Tenancy",
        }
    )
    attributes = (
        "AvailabilityZone",
        "InstanceId",
        "PrivateDnsName",
        "PrivateIp",
        "PublicDnsName",
        "PublicIp",
        "VpcId",
    )
    primary_identifier = "InstanceId"

    async def create(self, ctx, properties):
        profile = properties.get("IamInstanceProfile")
        params = drop_none(
            {
                "ImageId": properties.get("ImageId"),
                "InstanceType": properties.get("InstanceType") or "m1.small",
                "MinCount": 1,
                "MaxCount": 1,
                "KeyName": properties.get("KeyName"),
                "SecurityGroupIds": properties.get("SecurityGroupIds"),
                "SecurityGroups": properties.get("SecurityGroups"),
                "SubnetId": properties.get("SubnetId"),
                "UserData": properties.get("UserData"),
                "PrivateIpAddress": properties.get("PrivateIpAddress"),
                "IamInstanceProfile": ({"Arn": profile} if profile.startswith("arn:") else {"Name": profile})
                if profile
                else None,
                "Placement": {"AvailabilityZone": properties["AvailabilityZone"]}
                if properties.get("AvailabilityZone")
                else None,
                "BlockDeviceMappings": properties.get("BlockDeviceMappings"),
                "TagSpecifications": _tags("instance", properties.get("Tags")),
            }
        )
        instance = (await ctx.call("ec2", "RunInstances", params))["Instances"][0]
        instance = await self._running(ctx, instance["InstanceId"])
        for volume in properties.get("Volumes") or []:
            await ctx.call(
                "ec2",
                "AttachVolume",
                {
                    "Device": volume["Device"],
                    "VolumeId": volume["VolumeId"],
                    "InstanceId": instance["InstanceId"],
                },
            )
        return Created(instance["InstanceId"], self._attributes(instance))

    async def _running(self, ctx: ResourceContext, instance_id: str) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            reservations = (await ctx.call("ec2", "DescribeInstances", {"InstanceIds": [instance_id]})).get(
                "Reservations", []
            )
            instance = reservations[0]["Instances"][0]
            state = instance["State"]["Name"]
            if state in ("terminated", "shutting-down", "stopped"):
                raise HandlerError(f"Instance {instance_id} is {state}", "NotStabilized")
            return instance if state == "running" else None

        return await ctx.settle(probe, every=0.1, limit=RUNNING_WAIT)

    @staticmethod
    def _attributes(instance: dict[str, Any]) -> dict[str, Any]:
        return {
            "InstanceId": instance["InstanceId"],
            "AvailabilityZone": instance.get("Placement", {}).get("AvailabilityZone", ""),
            "PrivateDnsName": instance.get("PrivateDnsName", ""),
            "PrivateIp": instance.get("PrivateIpAddress", ""),
            "PublicDnsName": instance.get("PublicDnsName", ""),
            "PublicIp": instance.get("PublicIpAddress", ""),
            "VpcId": instance.get("VpcId", ""),
        }

    async def update(self, ctx, physical_id, properties, previous, attributes):
        if properties.get("InstanceType") != previous.get("InstanceType"):
            await ctx.call("ec2", "StopInstances", {"InstanceIds": [physical_id]})
            await ctx.call(
                "ec2",
                "ModifyInstanceAttribute",
                {
                    "InstanceId": physical_id,
                    "InstanceType": {"Value": properties.get("InstanceType") or "m1.small"},
                },
            )
            await ctx.call("ec2", "StartInstances", {"InstanceIds": [physical_id]})
        if properties.get("SecurityGroupIds") != previous.get("SecurityGroupIds") and properties.get(
            "SecurityGroupIds"
        ):
            await ctx.call(
                "ec2",
                "ModifyInstanceAttribute",
                {"InstanceId": physical_id, "Groups": properties["SecurityGroupIds"]},
            )
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return self._attributes(await self._running(ctx, physical_id))

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "TerminateInstances", {"InstanceIds": [physical_id]}))


class Volume(ResourceHandler):
    type_name = "AWS::EC2::Volume"
    service = "ec2"
    required = ("AvailabilityZone",)
    create_only = frozenset({"AvailabilityZone", "Encrypted", "KmsKeyId", "SnapshotId", "OutpostArn"})
    attributes = ("VolumeId",)
    primary_identifier = "VolumeId"

    async def create(self, ctx, properties):
        volume = await ctx.call(
            "ec2",
            "CreateVolume",
            drop_none(
                {
                    "AvailabilityZone": properties["AvailabilityZone"],
                    "Size": integer(properties.get("Size")),
                    "VolumeType": properties.get("VolumeType"),
                    "Iops": integer(properties.get("Iops")),
                    "Encrypted": boolean(properties.get("Encrypted")),
                    "KmsKeyId": properties.get("KmsKeyId"),
                    "SnapshotId": properties.get("SnapshotId"),
                    "TagSpecifications": _tags("volume", properties.get("Tags")),
                }
            ),
        )
        return Created(volume["VolumeId"], {"VolumeId": volume["VolumeId"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        change = drop_none(
            {
                "Size": integer(properties.get("Size"))
                if properties.get("Size") != previous.get("Size")
                else None,
                "VolumeType": properties.get("VolumeType")
                if properties.get("VolumeType") != previous.get("VolumeType")
                else None,
            }
        )
        if change:
            await ctx.call("ec2", "ModifyVolume", {"VolumeId": physical_id, **change})
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DeleteVolume", {"VolumeId": physical_id}))


class VolumeAttachment(ResourceHandler):
    type_name = "AWS::EC2::VolumeAttachment"
    service = "ec2"
    required = ("InstanceId", "VolumeId")
    create_only = frozenset({"Device", "InstanceId", "VolumeId"})

    async def create(self, ctx, properties):
        await ctx.call(
            "ec2",
            "AttachVolume",
            {
                "Device": properties.get("Device") or "/dev/sdf",
                "InstanceId": properties["InstanceId"],
                "VolumeId": properties["VolumeId"],
            },
        )
        return Created(f"{properties['VolumeId']}|{properties['InstanceId']}")

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "ec2",
                "DetachVolume",
                {"VolumeId": properties["VolumeId"], "InstanceId": properties["InstanceId"]},
            )
        )


class KeyPair(ResourceHandler):
    type_name = "AWS::EC2::KeyPair"
    service = "ec2"
    required = ("KeyName",)
    create_only = frozenset({"KeyName", "KeyType", "KeyFormat", "PublicKeyMaterial"})
    attributes = ("KeyFingerprint", "KeyPairId")
    primary_identifier = "KeyName"

    async def create(self, ctx, properties):
        if properties.get("PublicKeyMaterial"):
            found = await ctx.call(
                "ec2",
                "ImportKeyPair",
                {
                    "KeyName": properties["KeyName"],
                    "PublicKeyMaterial": properties["PublicKeyMaterial"].encode(),
                },
            )
        else:
            found = await ctx.call(
                "ec2",
                "CreateKeyPair",
                drop_none(
                    {
                        "KeyName": properties["KeyName"],
                        "KeyType": properties.get("KeyType"),
                        "KeyFormat": properties.get("KeyFormat"),
                    }
                ),
            )
        return Created(
            properties["KeyName"],
            {"KeyFingerprint": found.get("KeyFingerprint", ""), "KeyPairId": found.get("KeyPairId", "")},
        )

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DeleteKeyPair", {"KeyName": physical_id}))


class VPCEndpoint(ResourceHandler):
    """A gateway endpoint (its route tables) or an interface endpoint (its subnets' interfaces and groups)."""

    type_name = "AWS::EC2::VPCEndpoint"
    service = "ec2"
    required = ("ServiceName", "VpcId")
    create_only = frozenset({"ServiceName", "VpcEndpointType", "VpcId"})
    attributes = ("CreationTimestamp", "DnsEntries", "Id", "NetworkInterfaceIds")

    async def create(self, ctx, properties):
        params = drop_none(
            {
                "VpcId": properties["VpcId"],
                "ServiceName": properties["ServiceName"],
                "VpcEndpointType": properties.get("VpcEndpointType"),
                "PolicyDocument": document(properties.get("PolicyDocument")),
                "PrivateDnsEnabled": boolean(properties.get("PrivateDnsEnabled")),
                "RouteTableIds": properties.get("RouteTableIds"),
                "SubnetIds": properties.get("SubnetIds"),
                "SecurityGroupIds": properties.get("SecurityGroupIds"),
                "TagSpecifications": _tags("vpc-endpoint", properties.get("Tags")),
            }
        )
        endpoint = (await ctx.call("ec2", "CreateVpcEndpoint", params))["VpcEndpoint"]
        return Created(endpoint["VpcEndpointId"], self._attributes(endpoint))

    @staticmethod
    def _attributes(endpoint: dict[str, Any]) -> dict[str, Any]:
        created = endpoint.get("CreationTimestamp")
        return {
            "Id": endpoint["VpcEndpointId"],
            "CreationTimestamp": created.isoformat() if hasattr(created, "isoformat") else str(created or ""),
            "DnsEntries": [
                f"{e.get('HostedZoneId', '')}:{e.get('DnsName', '')}" for e in endpoint.get("DnsEntries", [])
            ],
            "NetworkInterfaceIds": endpoint.get("NetworkInterfaceIds", []),
        }

    async def update(self, ctx, physical_id, properties, previous, attributes):
        params: dict[str, Any] = {"VpcEndpointId": physical_id}
        if document(properties.get("PolicyDocument")) != document(previous.get("PolicyDocument")):
            policy = document(properties.get("PolicyDocument"))
            params.update({"PolicyDocument": policy} if policy else {"ResetPolicy": True})
        for key, add, remove in (
            ("RouteTableIds", "AddRouteTableIds", "RemoveRouteTableIds"),
            ("SubnetIds", "AddSubnetIds", "RemoveSubnetIds"),
            ("SecurityGroupIds", "AddSecurityGroupIds", "RemoveSecurityGroupIds"),
        ):
            new, old = properties.get(key) or [], previous.get(key) or []
            if [item for item in new if item not in old]:
                params[add] = [item for item in new if item not in old]
            if [item for item in old if item not in new]:
                params[remove] = [item for item in old if item not in new]
        if properties.get("PrivateDnsEnabled") != previous.get("PrivateDnsEnabled"):
            params["PrivateDnsEnabled"] = bool(boolean(properties.get("PrivateDnsEnabled")))
        if len(params) > 1:
            await ctx.call("ec2", "ModifyVpcEndpoint", params)
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        found = (await ctx.call("ec2", "DescribeVpcEndpoints", {"VpcEndpointIds": [physical_id]}))[
            "VpcEndpoints"
        ]
        return self._attributes(found[0]) if found else attributes

    async def delete(self, ctx, physical_id, properties):
        await ctx.call("ec2", "DeleteVpcEndpoints", {"VpcEndpointIds": [physical_id]})

    async def read(self, ctx, physical_id, properties):
        try:
            found = (await ctx.call("ec2", "DescribeVpcEndpoints", {"VpcEndpointIds": [physical_id]}))[
                "VpcEndpoints"
            ]
        except ServiceError as error:
            if not_found(error) or error.code.endswith(".NotFound"):
                return None
            raise
        if not found or found[0].get("State", "").lower() == "deleted":
            return None
        live = found[0].get("RouteTableIds") or []
        if set(live) == set(properties.get("RouteTableIds") or []):
            return dict(properties)
        return {**properties, "RouteTableIds": live}


HANDLERS = (
    VPC,
    Subnet,
    InternetGateway,
    VPCGatewayAttachment,
    RouteTable,
    Route,
    SubnetRouteTableAssociation,
    SecurityGroup,
    SecurityGroupIngress,
    SecurityGroupEgress,
    EIP,
    EIPAssociation,
    NatGateway,
    Instance,
    Volume,
    VolumeAttachment,
    KeyPair,
    VPCEndpoint,
)
