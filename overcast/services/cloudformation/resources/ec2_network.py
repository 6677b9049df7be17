"""More EC2 resource types: launch templates, network ACLs, egress-only internet gateways, DHCP options,
VPC peering, flow logs, transit gateways (with their VPC attachments, route tables, routes, associations and
propagations), network interfaces and their attachments, managed prefix lists, VPC CIDR blocks, placement
groups, site-to-site VPN (virtual private and customer gateways, connections, their routes and propagation)."""

from __future__ import annotations

from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    HandlerError,
    ResourceContext,
    ResourceHandler,
    boolean,
    drop_none,
    ignore_missing,
    integer,
    not_found,
    shaped,
    text,
)
from overcast.services.cloudformation.resources.ec2 import _retag, _tags

SETTLE_SECONDS = 300


async def _until(ctx: ResourceContext, describe, want: str, failed: tuple[str, ...] = ("failed",)) -> dict:
    """Poll `describe()` (the resource's description, None once gone) until its State is `want`. Deleting
    counts as deleted: EC2 keeps a deleted transit gateway or attachment "deleting" while it stays visible,
    and lets what it used go meanwhile."""

    async def probe() -> dict | None:
        try:
            found = await describe()
        except ServiceError as error:
            if not (not_found(error) or error.code.endswith(".NotFound")):
                raise
            found = None
        state = (found or {}).get("State") or (found or {}).get("Status", {}).get("Code")
        if want == "deleted" and (found is None or state in ("deleting", "deleted")):
            return found or {}
        if state in failed:
            raise HandlerError(f"Resource {ctx.logical_id} is {state}", "NotStabilized")
        return found if state == want else None

    return await ctx.settle(probe, every=0.1, limit=SETTLE_SECONDS)


# -- launch templates --------------------------------------------------------------------------------


class LaunchTemplate(ResourceHandler):
    type_name = "AWS::EC2::LaunchTemplate"
    service = "ec2"
    required = ("LaunchTemplateData",)
    create_only = frozenset({"LaunchTemplateName", "TagSpecifications"})
    attributes = ("DefaultVersionNumber", "LatestVersionNumber", "LaunchTemplateId")
    primary_identifier = "LaunchTemplateId"

    async def create(self, ctx, properties):
        params = drop_none(
            {
                "LaunchTemplateName": properties.get("LaunchTemplateName") or ctx.generated_name(128),
                "VersionDescription": properties.get("VersionDescription"),
                "LaunchTemplateData": properties["LaunchTemplateData"],
                "TagSpecifications": properties.get("TagSpecifications"),
            }
        )
        found = await ctx.call("ec2", "CreateLaunchTemplate", shaped("ec2", "CreateLaunchTemplate", params))
        template = found["LaunchTemplate"]
        return Created(template["LaunchTemplateId"], self._attributes(template))

    @staticmethod
    def _attributes(template: dict[str, Any]) -> dict[str, Any]:
        return {
            "LaunchTemplateId": template["LaunchTemplateId"],
            "DefaultVersionNumber": str(template["DefaultVersionNumber"]),
            "LatestVersionNumber": str(template["LatestVersionNumber"]),
        }

    async def update(self, ctx, physical_id, properties, previous, attributes):
        """As in AWS: a change writes a new version and makes it the default."""
        params = drop_none(
            {
                "LaunchTemplateId": physical_id,
                "VersionDescription": properties.get("VersionDescription"),
                "LaunchTemplateData": properties["LaunchTemplateData"],
            }
        )
        version = (
            await ctx.call(
                "ec2", "CreateLaunchTemplateVersion", shaped("ec2", "CreateLaunchTemplateVersion", params)
            )
        )["LaunchTemplateVersion"]
        found = await ctx.call(
            "ec2",
            "ModifyLaunchTemplate",
            {"LaunchTemplateId": physical_id, "DefaultVersion": str(version["VersionNumber"])},
        )
        return self._attributes(found["LaunchTemplate"])

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DeleteLaunchTemplate", {"LaunchTemplateId": physical_id}))

    async def read(self, ctx, physical_id, properties):
        try:
            await ctx.call("ec2", "DescribeLaunchTemplates", {"LaunchTemplateIds": [physical_id]})
        except ServiceError as error:
            if error.code.endswith(".NotFound"):
                return None
            raise
        return dict(properties)


# -- network ACLs ------------------------------------------------------------------------------------


class NetworkAcl(ResourceHandler):
    type_name = "AWS::EC2::NetworkAcl"
    service = "ec2"
    required = ("VpcId",)
    create_only = frozenset({"VpcId"})
    attributes = ("Id",)

    async def create(self, ctx, properties):
        acl = (
            await ctx.call(
                "ec2",
                "CreateNetworkAcl",
                drop_none(
                    {
                        "VpcId": properties["VpcId"],
                        "TagSpecifications": _tags("network-acl", properties.get("Tags")),
                    }
                ),
            )
        )["NetworkAcl"]
        return Created(acl["NetworkAclId"], {"Id": acl["NetworkAclId"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DeleteNetworkAcl", {"NetworkAclId": physical_id}))

    async def read(self, ctx, physical_id, properties):
        found = await ctx.call("ec2", "DescribeNetworkAcls", {"Filters": [
            {"Name": "network-acl-id", "Values": [physical_id]}]})  # fmt: skip
        return dict(properties) if found.get("NetworkAcls") else None


def _acl_entry(properties: dict[str, Any]) -> dict[str, Any]:
    icmp = properties.get("Icmp")
    ports = properties.get("PortRange")
    return drop_none(
        {
            "NetworkAclId": properties["NetworkAclId"],
            "RuleNumber": integer(properties["RuleNumber"]),
            "Protocol": text(properties["Protocol"]),
            "RuleAction": properties["RuleAction"],
            "Egress": bool(boolean(properties.get("Egress"))),
            "CidrBlock": properties.get("CidrBlock"),
            "Ipv6CidrBlock": properties.get("Ipv6CidrBlock"),
            "IcmpTypeCode": {"Code": integer(icmp.get("Code")), "Type": integer(icmp.get("Type"))}
            if icmp
            else None,
            "PortRange": {"From": integer(ports.get("From")), "To": integer(ports.get("To"))}
            if ports
            else None,
        }
    )


class NetworkAclEntry(ResourceHandler):
    type_name = "AWS::EC2::NetworkAclEntry"
    service = "ec2"
    required = ("NetworkAclId", "Protocol", "RuleAction", "RuleNumber")
    create_only = frozenset({"Egress", "NetworkAclId", "RuleNumber"})
    attributes = ("Id",)

    async def create(self, ctx, properties):
        await ctx.call("ec2", "CreateNetworkAclEntry", _acl_entry(properties))
        direction = "true" if boolean(properties.get("Egress")) else "false"
        entry_id = f"{properties['NetworkAclId']}|{properties['RuleNumber']}|{direction}"
        return Created(entry_id, {"Id": entry_id})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call("ec2", "ReplaceNetworkAclEntry", _acl_entry(properties))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "ec2",
                "DeleteNetworkAclEntry",
                {
                    "NetworkAclId": properties["NetworkAclId"],
                    "RuleNumber": integer(properties["RuleNumber"]),
                    "Egress": bool(boolean(properties.get("Egress"))),
                },
            )
        )


async def _acl_association(ctx: ResourceContext, subnet_id: str) -> dict[str, Any]:
    """The subnet's current network ACL association (every subnet has one)."""
    found = await ctx.call("ec2", "DescribeNetworkAcls", {"Filters": [
        {"Name": "association.subnet-id", "Values": [subnet_id]}]})  # fmt: skip
    for acl in found.get("NetworkAcls", []):
        for association in acl.get("Associations", []):
            if association["SubnetId"] == subnet_id:
                return {**association, "IsDefault": acl.get("IsDefault", False), "VpcId": acl["VpcId"]}
    raise HandlerError(f"Subnet {subnet_id} has no network ACL association", "NotFound")


class SubnetNetworkAclAssociation(ResourceHandler):
    """AWS's handler replaces the subnet's current association (the VPC's default ACL) with one to the named
    ACL, and on delete gives the subnet back to the default ACL."""

    type_name = "AWS::EC2::SubnetNetworkAclAssociation"
    service = "ec2"
    required = ("NetworkAclId", "SubnetId")
    create_only = frozenset({"NetworkAclId", "SubnetId"})
    attributes = ("AssociationId",)

    async def create(self, ctx, properties):
        current = await _acl_association(ctx, properties["SubnetId"])
        found = await ctx.call(
            "ec2",
            "ReplaceNetworkAclAssociation",
            {"AssociationId": current["NetworkAclAssociationId"], "NetworkAclId": properties["NetworkAclId"]},
        )
        return Created(found["NewAssociationId"], {"AssociationId": found["NewAssociationId"]})

    async def delete(self, ctx, physical_id, properties):
        try:
            current = await _acl_association(ctx, properties["SubnetId"])
        except HandlerError:
            return
        if current["NetworkAclAssociationId"] != physical_id:
            return
        defaults = await ctx.call("ec2", "DescribeNetworkAcls", {"Filters": [
            {"Name": "vpc-id", "Values": [current["VpcId"]]},
            {"Name": "default", "Values": ["true"]}]})  # fmt: skip
        for acl in defaults.get("NetworkAcls", []):
            await ignore_missing(
                ctx.call(
                    "ec2",
                    "ReplaceNetworkAclAssociation",
                    {"AssociationId": physical_id, "NetworkAclId": acl["NetworkAclId"]},
                )
            )


# -- gateways, DHCP options, peering, flow logs ----------------------------------------------------------


class EgressOnlyInternetGateway(ResourceHandler):
    type_name = "AWS::EC2::EgressOnlyInternetGateway"
    service = "ec2"
    required = ("VpcId",)
    create_only = frozenset({"VpcId"})
    attributes = ("Id",)

    async def create(self, ctx, properties):
        gateway = (
            await ctx.call(
                "ec2",
                "CreateEgressOnlyInternetGateway",
                drop_none(
                    {
                        "VpcId": properties["VpcId"],
                        "TagSpecifications": _tags("egress-only-internet-gateway", properties.get("Tags")),
                    }
                ),
            )
        )["EgressOnlyInternetGateway"]
        gateway_id = gateway["EgressOnlyInternetGatewayId"]
        return Created(gateway_id, {"Id": gateway_id})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call("ec2", "DeleteEgressOnlyInternetGateway", {"EgressOnlyInternetGatewayId": physical_id})
        )


class DHCPOptions(ResourceHandler):
    type_name = "AWS::EC2::DHCPOptions"
    service = "ec2"
    create_only = frozenset(
        {
            "DomainName",
            "DomainNameServers",
            "NetbiosNameServers",
            "NetbiosNodeType",
            "NtpServers",
            "Ipv6AddressPreferredLeaseTime",
        }  # fmt: skip
    )
    attributes = ("DhcpOptionsId",)
    primary_identifier = "DhcpOptionsId"

    async def create(self, ctx, properties):
        configurations = [
            {"Key": key, "Values": [text(value) for value in values]}
            for key, values in (
                ("domain-name", [properties["DomainName"]] if properties.get("DomainName") else []),
                ("domain-name-servers", properties.get("DomainNameServers") or []),
                ("ntp-servers", properties.get("NtpServers") or []),
                ("netbios-name-servers", properties.get("NetbiosNameServers") or []),
                (
                    "netbios-node-type",
                    [properties["NetbiosNodeType"]] if properties.get("NetbiosNodeType") else [],
                ),
                (
                    "ipv6-address-preferred-lease-time",
                    [properties["Ipv6AddressPreferredLeaseTime"]]
                    if properties.get("Ipv6AddressPreferredLeaseTime")
                    else [],
                ),
            )
            if values
        ]
        options = (
            await ctx.call(
                "ec2",
                "CreateDhcpOptions",
                drop_none(
                    {
                        "DhcpConfigurations": configurations,
                        "TagSpecifications": _tags("dhcp-options", properties.get("Tags")),
                    }
                ),
            )
        )["DhcpOptions"]
        return Created(options["DhcpOptionsId"], {"DhcpOptionsId": options["DhcpOptionsId"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DeleteDhcpOptions", {"DhcpOptionsId": physical_id}))


class VPCDHCPOptionsAssociation(ResourceHandler):
    type_name = "AWS::EC2::VPCDHCPOptionsAssociation"
    service = "ec2"
    required = ("DhcpOptionsId", "VpcId")
    create_only = frozenset({"DhcpOptionsId", "VpcId"})

    async def create(self, ctx, properties):
        await ctx.call(
            "ec2",
            "AssociateDhcpOptions",
            {"DhcpOptionsId": properties["DhcpOptionsId"], "VpcId": properties["VpcId"]},
        )
        return Created(f"{properties['DhcpOptionsId']}|{properties['VpcId']}")

    async def delete(self, ctx, physical_id, properties):
        """The VPC goes back to no DHCP options (`default`), as AWS's handler does."""
        await ignore_missing(
            ctx.call(
                "ec2", "AssociateDhcpOptions", {"DhcpOptionsId": "default", "VpcId": properties["VpcId"]}
            )
        )


class VPCPeeringConnection(ResourceHandler):
    """A peering within the account is accepted by the handler itself, as AWS's does; across accounts the
    peer account accepts it (PeerRoleArn is not assumed)."""

    type_name = "AWS::EC2::VPCPeeringConnection"
    service = "ec2"
    required = ("PeerVpcId", "VpcId")
    create_only = frozenset({"PeerOwnerId", "PeerRegion", "PeerRoleArn", "PeerVpcId", "VpcId"})
    attributes = ("Id",)

    async def create(self, ctx, properties):
        owner = properties.get("PeerOwnerId") or ctx.account
        region = properties.get("PeerRegion") or ctx.region
        connection = (
            await ctx.call(
                "ec2",
                "CreateVpcPeeringConnection",
                drop_none(
                    {
                        "VpcId": properties["VpcId"],
                        "PeerVpcId": properties["PeerVpcId"],
                        "PeerOwnerId": properties.get("PeerOwnerId"),
                        "PeerRegion": properties.get("PeerRegion"),
                        "TagSpecifications": _tags("vpc-peering-connection", properties.get("Tags")),
                    }
                ),
            )
        )["VpcPeeringConnection"]
        connection_id = connection["VpcPeeringConnectionId"]
        if owner == ctx.account:

            async def describe() -> dict | None:
                found = await ctx.call(
                    "ec2", "DescribeVpcPeeringConnections", {"VpcPeeringConnectionIds": [connection_id]}
                )
                return (found.get("VpcPeeringConnections") or [None])[0]

            await _until(ctx, describe, "pending-acceptance", ("failed", "rejected"))
            await ctx.call(
                "ec2", "AcceptVpcPeeringConnection", {"VpcPeeringConnectionId": connection_id}, region=region
            )
            await _until(ctx, describe, "active", ("failed", "rejected"))
        return Created(connection_id, {"Id": connection_id})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call("ec2", "DeleteVpcPeeringConnection", {"VpcPeeringConnectionId": physical_id})
        )


class FlowLog(ResourceHandler):
    type_name = "AWS::EC2::FlowLog"
    service = "ec2"
    required = ("ResourceId", "ResourceType")
    create_only = frozenset(
        {
            "DeliverLogsPermissionArn",
            "DeliverCrossAccountRole",
            "DestinationOptions",
            "LogDestination",
            "LogDestinationType",
            "LogFormat",
            "LogGroupName",
            "MaxAggregationInterval",
            "ResourceId",
            "ResourceType",
            "TrafficType",
        }  # fmt: skip
    )
    attributes = ("Id",)

    async def create(self, ctx, properties):
        kind = {
            "VPC": "VPC",
            "Subnet": "Subnet",
            "NetworkInterface": "NetworkInterface",
            "TransitGateway": "TransitGateway",
            "TransitGatewayAttachment": "TransitGatewayAttachment",
        }.get(properties["ResourceType"], properties["ResourceType"])
        found = await ctx.call(
            "ec2",
            "CreateFlowLogs",
            drop_none(
                {
                    "ResourceIds": [properties["ResourceId"]],
                    "ResourceType": kind,
                    "TrafficType": properties.get("TrafficType"),
                    "DeliverLogsPermissionArn": properties.get("DeliverLogsPermissionArn"),
                    "DeliverCrossAccountRole": properties.get("DeliverCrossAccountRole"),
                    "LogDestinationType": properties.get("LogDestinationType"),
                    "LogDestination": properties.get("LogDestination"),
                    "LogGroupName": properties.get("LogGroupName"),
                    "LogFormat": properties.get("LogFormat"),
                    "MaxAggregationInterval": integer(properties.get("MaxAggregationInterval")),
                    "DestinationOptions": properties.get("DestinationOptions"),
                    "TagSpecifications": _tags("vpc-flow-log", properties.get("Tags")),
                }
            ),
        )
        if found.get("Unsuccessful"):
            error = found["Unsuccessful"][0]["Error"]
            raise HandlerError(error["Message"], error["Code"])
        flow_log_id = found["FlowLogIds"][0]
        return Created(flow_log_id, {"Id": flow_log_id})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DeleteFlowLogs", {"FlowLogIds": [physical_id]}))

    async def read(self, ctx, physical_id, properties):
        found = await ctx.call("ec2", "DescribeFlowLogs", {"FlowLogIds": [physical_id]})
        return dict(properties) if found.get("FlowLogs") else None


# -- transit gateways --------------------------------------------------------------------------------


class TransitGateway(ResourceHandler):
    type_name = "AWS::EC2::TransitGateway"
    service = "ec2"
    create_only = frozenset({"AmazonSideAsn", "MulticastSupport"})
    attributes = ("Id", "TransitGatewayArn")

    async def create(self, ctx, properties):
        options = drop_none(
            {
                "AmazonSideAsn": integer(properties.get("AmazonSideAsn")),
                "AutoAcceptSharedAttachments": properties.get("AutoAcceptSharedAttachments"),
                "DefaultRouteTableAssociation": properties.get("DefaultRouteTableAssociation"),
                "DefaultRouteTablePropagation": properties.get("DefaultRouteTablePropagation"),
                "VpnEcmpSupport": properties.get("VpnEcmpSupport"),
                "DnsSupport": properties.get("DnsSupport"),
                "MulticastSupport": properties.get("MulticastSupport"),
                "TransitGatewayCidrBlocks": properties.get("TransitGatewayCidrBlocks"),
            }
        )
        gateway = (
            await ctx.call(
                "ec2",
                "CreateTransitGateway",
                drop_none(
                    {
                        "Description": properties.get("Description"),
                        "Options": options or None,
                        "TagSpecifications": _tags("transit-gateway", properties.get("Tags")),
                    }
                ),
            )
        )["TransitGateway"]
        gateway_id = gateway["TransitGatewayId"]
        await _until(ctx, lambda: self._describe(ctx, gateway_id), "available")
        return Created(gateway_id, {"Id": gateway_id, "TransitGatewayArn": gateway["TransitGatewayArn"]})

    @staticmethod
    async def _describe(ctx: ResourceContext, gateway_id: str) -> dict | None:
        found = await ctx.call("ec2", "DescribeTransitGateways", {"TransitGatewayIds": [gateway_id]})
        return (found.get("TransitGateways") or [None])[0]

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DeleteTransitGateway", {"TransitGatewayId": physical_id}))
        await _until(ctx, lambda: self._describe(ctx, physical_id), "deleted")

    async def read(self, ctx, physical_id, properties):
        found = await self._describe(ctx, physical_id)
        return None if found is None or found["State"] == "deleted" else dict(properties)


class TransitGatewayVpcAttachment(ResourceHandler):
    type_name = "AWS::EC2::TransitGatewayVpcAttachment"
    service = "ec2"
    required = ("SubnetIds", "TransitGatewayId", "VpcId")
    create_only = frozenset({"TransitGatewayId", "VpcId", "SubnetIds"})
    attributes = ("Id",)

    async def create(self, ctx, properties):
        options = properties.get("Options") or {}
        attachment = (
            await ctx.call(
                "ec2",
                "CreateTransitGatewayVpcAttachment",
                drop_none(
                    {
                        "TransitGatewayId": properties["TransitGatewayId"],
                        "VpcId": properties["VpcId"],
                        "SubnetIds": properties["SubnetIds"],
                        "Options": options or None,
                        "TagSpecifications": _tags("transit-gateway-attachment", properties.get("Tags")),
                    }
                ),
            )
        )["TransitGatewayVpcAttachment"]
        attachment_id = attachment["TransitGatewayAttachmentId"]
        await _until(ctx, lambda: self._describe(ctx, attachment_id), "available")
        return Created(attachment_id, {"Id": attachment_id})

    @staticmethod
    async def _describe(ctx: ResourceContext, attachment_id: str) -> dict | None:
        found = await ctx.call(
            "ec2", "DescribeTransitGatewayVpcAttachments", {"TransitGatewayAttachmentIds": [attachment_id]}
        )
        return (found.get("TransitGatewayVpcAttachments") or [None])[0]

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call("ec2", "DeleteTransitGatewayVpcAttachment", {"TransitGatewayAttachmentId": physical_id})
        )
        await _until(ctx, lambda: self._describe(ctx, physical_id), "deleted")


class TransitGatewayRouteTable(ResourceHandler):
    type_name = "AWS::EC2::TransitGatewayRouteTable"
    service = "ec2"
    required = ("TransitGatewayId",)
    create_only = frozenset({"TransitGatewayId", "Tags"})
    attributes = ("TransitGatewayRouteTableId",)
    primary_identifier = "TransitGatewayRouteTableId"

    async def create(self, ctx, properties):
        table = (
            await ctx.call(
                "ec2",
                "CreateTransitGatewayRouteTable",
                drop_none(
                    {
                        "TransitGatewayId": properties["TransitGatewayId"],
                        "TagSpecifications": _tags("transit-gateway-route-table", properties.get("Tags")),
                    }
                ),
            )
        )["TransitGatewayRouteTable"]
        table_id = table["TransitGatewayRouteTableId"]
        await _until(ctx, lambda: self._describe(ctx, table_id), "available")
        return Created(table_id, {"TransitGatewayRouteTableId": table_id})

    @staticmethod
    async def _describe(ctx: ResourceContext, table_id: str) -> dict | None:
        found = await ctx.call(
            "ec2", "DescribeTransitGatewayRouteTables", {"TransitGatewayRouteTableIds": [table_id]}
        )
        return (found.get("TransitGatewayRouteTables") or [None])[0]

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call("ec2", "DeleteTransitGatewayRouteTable", {"TransitGatewayRouteTableId": physical_id})
        )
        await _until(ctx, lambda: self._describe(ctx, physical_id), "deleted")


class TransitGatewayRoute(ResourceHandler):
    type_name = "AWS::EC2::TransitGatewayRoute"
    service = "ec2"
    required = ("TransitGatewayRouteTableId",)
    create_only = frozenset(
        {"TransitGatewayRouteTableId", "DestinationCidrBlock", "TransitGatewayAttachmentId", "Blackhole"}
    )

    async def create(self, ctx, properties):
        await ctx.call(
            "ec2",
            "CreateTransitGatewayRoute",
            drop_none(
                {
                    "TransitGatewayRouteTableId": properties["TransitGatewayRouteTableId"],
                    "DestinationCidrBlock": properties.get("DestinationCidrBlock"),
                    "TransitGatewayAttachmentId": properties.get("TransitGatewayAttachmentId"),
                    "Blackhole": boolean(properties.get("Blackhole")),
                }
            ),
        )
        return Created(f"{properties['TransitGatewayRouteTableId']}|{properties.get('DestinationCidrBlock')}")

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "ec2",
                "DeleteTransitGatewayRoute",
                {
                    "TransitGatewayRouteTableId": properties["TransitGatewayRouteTableId"],
                    "DestinationCidrBlock": properties.get("DestinationCidrBlock"),
                },
            )
        )


class TransitGatewayRouteTableAssociation(ResourceHandler):
    type_name = "AWS::EC2::TransitGatewayRouteTableAssociation"
    service = "ec2"
    required = ("TransitGatewayAttachmentId", "TransitGatewayRouteTableId")
    create_only = frozenset({"TransitGatewayAttachmentId", "TransitGatewayRouteTableId"})

    async def create(self, ctx, properties):
        await ctx.call(
            "ec2",
            "AssociateTransitGatewayRouteTable",
            {
                "TransitGatewayRouteTableId": properties["TransitGatewayRouteTableId"],
                "TransitGatewayAttachmentId": properties["TransitGatewayAttachmentId"],
            },
        )
        return Created(
            f"{properties['TransitGatewayRouteTableId']}|{properties['TransitGatewayAttachmentId']}"
        )

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "ec2",
                "DisassociateTransitGatewayRouteTable",
                {
                    "TransitGatewayRouteTableId": properties["TransitGatewayRouteTableId"],
                    "TransitGatewayAttachmentId": properties["TransitGatewayAttachmentId"],
                },
            )
        )


class TransitGatewayRouteTablePropagation(TransitGatewayRouteTableAssociation):
    type_name = "AWS::EC2::TransitGatewayRouteTablePropagation"

    async def create(self, ctx, properties):
        await ctx.call(
            "ec2",
            "EnableTransitGatewayRouteTablePropagation",
            {
                "TransitGatewayRouteTableId": properties["TransitGatewayRouteTableId"],
                "TransitGatewayAttachmentId": properties["TransitGatewayAttachmentId"],
            },
        )
        return Created(
            f"{properties['TransitGatewayRouteTableId']}|{properties['TransitGatewayAttachmentId']}"
        )

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "ec2",
                "DisableTransitGatewayRouteTablePropagation",
                {
                    "TransitGatewayRouteTableId": properties["TransitGatewayRouteTableId"],
                    "TransitGatewayAttachmentId": properties["TransitGatewayAttachmentId"],
                },
            )
        )


# -- network interfaces, prefix lists, CIDR blocks, placement groups ---------------------------------------


class NetworkInterface(ResourceHandler):
    type_name = "AWS::EC2::NetworkInterface"
    service = "ec2"
    required = ("SubnetId",)
    create_only = frozenset(
        {"SubnetId", "PrivateIpAddress", "InterfaceType", "Ipv6AddressCount", "Ipv6Addresses"}
    )
    attributes = ("Id", "PrimaryPrivateIpAddress", "SecondaryPrivateIpAddresses", "VpcId")

    async def create(self, ctx, properties):
        interface = (
            await ctx.call(
                "ec2",
                "CreateNetworkInterface",
                drop_none(
                    {
                        "SubnetId": properties["SubnetId"],
                        "Description": properties.get("Description"),
                        "Groups": properties.get("GroupSet"),
                        "PrivateIpAddress": properties.get("PrivateIpAddress"),
                        "PrivateIpAddresses": [
                            {
                                "PrivateIpAddress": a["PrivateIpAddress"],
                                "Primary": bool(boolean(a.get("Primary"))),
                            }
                            for a in properties["PrivateIpAddresses"]
                        ]
                        if properties.get("PrivateIpAddresses")
                        else None,
                        "SecondaryPrivateIpAddressCount": integer(
                            properties.get("SecondaryPrivateIpAddressCount")
                        ),
                        "Ipv6AddressCount": integer(properties.get("Ipv6AddressCount")),
                        "InterfaceType": properties.get("InterfaceType"),
                        "TagSpecifications": _tags("network-interface", properties.get("Tags")),
                    }
                ),
            )
        )["NetworkInterface"]
        interface_id = interface["NetworkInterfaceId"]
        if boolean(properties.get("SourceDestCheck")) is False:
            await ctx.call(
                "ec2",
                "ModifyNetworkInterfaceAttribute",
                {"NetworkInterfaceId": interface_id, "SourceDestCheck": {"Value": False}},
            )
        return Created(interface_id, self._attributes(interface))

    @staticmethod
    def _attributes(interface: dict[str, Any]) -> dict[str, Any]:
        addresses = interface.get("PrivateIpAddresses", [])
        return {
            "Id": interface["NetworkInterfaceId"],
            "PrimaryPrivateIpAddress": interface.get("PrivateIpAddress", ""),
            "SecondaryPrivateIpAddresses": [a["PrivateIpAddress"] for a in addresses if not a.get("Primary")],
            "VpcId": interface.get("VpcId", ""),
        }

    async def update(self, ctx, physical_id, properties, previous, attributes):
        changes = {
            "Description": {"Value": properties.get("Description") or ""}
            if properties.get("Description") != previous.get("Description")
            else None,
            "Groups": properties.get("GroupSet")
            if properties.get("GroupSet") != previous.get("GroupSet") and properties.get("GroupSet")
            else None,
            "SourceDestCheck": {"Value": boolean(properties.get("SourceDestCheck")) is not False}
            if properties.get("SourceDestCheck") != previous.get("SourceDestCheck")
            else None,
        }
        for key, value in changes.items():
            if value is not None:
                await ctx.call(
                    "ec2", "ModifyNetworkInterfaceAttribute", {"NetworkInterfaceId": physical_id, key: value}
                )
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DeleteNetworkInterface", {"NetworkInterfaceId": physical_id}))

    async def read(self, ctx, physical_id, properties):
        found = await ctx.call("ec2", "DescribeNetworkInterfaces", {"Filters": [
            {"Name": "network-interface-id", "Values": [physical_id]}]})  # fmt: skip
        return dict(properties) if found.get("NetworkInterfaces") else None


class NetworkInterfaceAttachment(ResourceHandler):
    type_name = "AWS::EC2::NetworkInterfaceAttachment"
    service = "ec2"
    required = ("DeviceIndex", "InstanceId", "NetworkInterfaceId")
    create_only = frozenset({"DeviceIndex", "InstanceId", "NetworkInterfaceId"})
    attributes = ("AttachmentId",)

    async def create(self, ctx, properties):
        found = await ctx.call(
            "ec2",
            "AttachNetworkInterface",
            {
                "DeviceIndex": integer(properties["DeviceIndex"]),
                "InstanceId": properties["InstanceId"],
                "NetworkInterfaceId": properties["NetworkInterfaceId"],
            },
        )
        attachment_id = found["AttachmentId"]
        if boolean(properties.get("DeleteOnTermination")) is not None:
            await self._on_termination(ctx, properties, attachment_id)
        return Created(attachment_id, {"AttachmentId": attachment_id})

    @staticmethod
    async def _on_termination(ctx: ResourceContext, properties: dict[str, Any], attachment_id: str) -> None:
        await ctx.call(
            "ec2",
            "ModifyNetworkInterfaceAttribute",
            {
                "NetworkInterfaceId": properties["NetworkInterfaceId"],
                "Attachment": {
                    "AttachmentId": attachment_id,
                    "DeleteOnTermination": bool(boolean(properties.get("DeleteOnTermination"))),
                },
            },
        )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await self._on_termination(ctx, properties, physical_id)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call("ec2", "DetachNetworkInterface", {"AttachmentId": physical_id, "Force": True})
        )


class PrefixList(ResourceHandler):
    type_name = "AWS::EC2::PrefixList"
    service = "ec2"
    required = ("AddressFamily", "PrefixListName")
    create_only = frozenset({"AddressFamily"})
    attributes = ("Arn", "OwnerId", "PrefixListId", "Version")
    primary_identifier = "PrefixListId"

    async def create(self, ctx, properties):
        found = (
            await ctx.call(
                "ec2",
                "CreateManagedPrefixList",
                drop_none(
                    {
                        "PrefixListName": properties["PrefixListName"],
                        "AddressFamily": properties["AddressFamily"],
                        "MaxEntries": integer(properties.get("MaxEntries"))
                        or max(len(properties.get("Entries") or []), 1),
                        "Entries": properties.get("Entries") or None,
                        "TagSpecifications": _tags("prefix-list", properties.get("Tags")),
                    }
                ),
            )
        )["PrefixList"]
        prefix_list_id = found["PrefixListId"]
        return Created(prefix_list_id, self._attributes(await self._complete(ctx, prefix_list_id)))

    @staticmethod
    async def _complete(ctx: ResourceContext, prefix_list_id: str) -> dict[str, Any]:
        async def probe() -> dict | None:
            found = await ctx.call("ec2", "DescribeManagedPrefixLists", {"PrefixListIds": [prefix_list_id]})
            prefix_list = found["PrefixLists"][0]
            state = prefix_list["State"]
            if state.endswith("-failed"):
                raise HandlerError(prefix_list.get("StateMessage") or state, "NotStabilized")
            return prefix_list if state.endswith("-complete") else None

        return await ctx.settle(probe, every=0.1, limit=SETTLE_SECONDS)

    @staticmethod
    def _attributes(prefix_list: dict[str, Any]) -> dict[str, Any]:
        return {
            "Arn": prefix_list["PrefixListArn"],
            "OwnerId": prefix_list["OwnerId"],
            "PrefixListId": prefix_list["PrefixListId"],
            "Version": prefix_list["Version"],
        }

    async def update(self, ctx, physical_id, properties, previous, attributes):
        new = {e["Cidr"]: e.get("Description") for e in properties.get("Entries") or []}
        old = {e["Cidr"]: e.get("Description") for e in previous.get("Entries") or []}
        added = [
            drop_none({"Cidr": cidr, "Description": note})
            for cidr, note in new.items()
            if old.get(cidr, 0) != note
        ]
        removed = [{"Cidr": cidr} for cidr in old if cidr not in new]
        params = drop_none(
            {
                "PrefixListId": physical_id,
                "PrefixListName": properties["PrefixListName"]
                if properties["PrefixListName"] != previous.get("PrefixListName")
                else None,
                "MaxEntries": integer(properties.get("MaxEntries"))
                if properties.get("MaxEntries") != previous.get("MaxEntries")
                else None,
                "AddEntries": added or None,
                "RemoveEntries": removed or None,
            }
        )
        if added or removed:
            params["CurrentVersion"] = integer(attributes["Version"])
        if len(params) > 1:
            await ctx.call("ec2", "ModifyManagedPrefixList", params)
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return self._attributes(await self._complete(ctx, physical_id))

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DeleteManagedPrefixList", {"PrefixListId": physical_id}))


class VPCCidrBlock(ResourceHandler):
    type_name = "AWS::EC2::VPCCidrBlock"
    service = "ec2"
    required = ("VpcId",)
    create_only = frozenset(
        {
            "AmazonProvidedIpv6CidrBlock",
            "CidrBlock",
            "Ipv6CidrBlock",
            "Ipv6Pool",
            "VpcId",
            "Ipv4IpamPoolId",
            "Ipv4NetmaskLength",
            "Ipv6IpamPoolId",
            "Ipv6NetmaskLength",
        }  # fmt: skip
    )
    attributes = ("Id", "Ipv6CidrBlock")

    async def create(self, ctx, properties):
        found = await ctx.call(
            "ec2",
            "AssociateVpcCidrBlock",
            drop_none(
                {
                    "VpcId": properties["VpcId"],
                    "CidrBlock": properties.get("CidrBlock"),
                    "AmazonProvidedIpv6CidrBlock": boolean(properties.get("AmazonProvidedIpv6CidrBlock")),
                    "Ipv6CidrBlock": properties.get("Ipv6CidrBlock"),
                }
            ),
        )
        association = found.get("CidrBlockAssociation") or found.get("Ipv6CidrBlockAssociation") or {}
        association_id = association["AssociationId"]
        return Created(
            association_id, {"Id": association_id, "Ipv6CidrBlock": association.get("Ipv6CidrBlock", "")}
        )

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DisassociateVpcCidrBlock", {"AssociationId": physical_id}))


class SubnetCidrBlock(ResourceHandler):
    type_name = "AWS::EC2::SubnetCidrBlock"
    service = "ec2"
    required = ("SubnetId",)
    create_only = frozenset({"Ipv6CidrBlock", "Ipv6IpamPoolId", "Ipv6NetmaskLength", "SubnetId"})
    attributes = ("Id",)

    async def create(self, ctx, properties):
        found = await ctx.call(
            "ec2",
            "AssociateSubnetCidrBlock",
            drop_none({"SubnetId": properties["SubnetId"], "Ipv6CidrBlock": properties.get("Ipv6CidrBlock")}),
        )
        association_id = found["Ipv6CidrBlockAssociation"]["AssociationId"]
        return Created(association_id, {"Id": association_id})

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DisassociateSubnetCidrBlock", {"AssociationId": physical_id}))


class PlacementGroup(ResourceHandler):
    type_name = "AWS::EC2::PlacementGroup"
    service = "ec2"
    create_only = frozenset({"PartitionCount", "SpreadLevel", "Strategy", "Tags"})
    attributes = ("GroupName",)
    primary_identifier = "GroupName"

    async def create(self, ctx, properties):
        name = ctx.generated_name(255)
        await ctx.call(
            "ec2",
            "CreatePlacementGroup",
            drop_none(
                {
                    "GroupName": name,
                    "Strategy": properties.get("Strategy"),
                    "SpreadLevel": properties.get("SpreadLevel"),
                    "PartitionCount": integer(properties.get("PartitionCount")),
                    "TagSpecifications": _tags("placement-group", properties.get("Tags")),
                }
            ),
        )
        return Created(name, {"GroupName": name})

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DeletePlacementGroup", {"GroupName": physical_id}))


# -- site-to-site VPN -------------------------------------------------------------------------------


class VPNGateway(ResourceHandler):
    type_name = "AWS::EC2::VPNGateway"
    service = "ec2"
    required = ("Type",)
    create_only = frozenset({"AmazonSideAsn", "Type"})
    attributes = ("VPNGatewayId",)
    primary_identifier = "VPNGatewayId"

    async def create(self, ctx, properties):
        gateway = (
            await ctx.call(
                "ec2",
                "CreateVpnGateway",
                drop_none(
                    {
                        "Type": properties["Type"],
                        "AmazonSideAsn": integer(properties.get("AmazonSideAsn")),
                        "TagSpecifications": _tags("vpn-gateway", properties.get("Tags")),
                    }
                ),
            )
        )["VpnGateway"]
        return Created(gateway["VpnGatewayId"], {"VPNGatewayId": gateway["VpnGatewayId"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DeleteVpnGateway", {"VpnGatewayId": physical_id}))


class CustomerGateway(ResourceHandler):
    type_name = "AWS::EC2::CustomerGateway"
    service = "ec2"
    required = ("IpAddress", "Type")
    create_only = frozenset({"BgpAsn", "BgpAsnExtended", "CertificateArn", "DeviceName", "IpAddress", "Type"})
    attributes = ("CustomerGatewayId",)
    primary_identifier = "CustomerGatewayId"

    async def create(self, ctx, properties):
        gateway = (
            await ctx.call(
                "ec2",
                "CreateCustomerGateway",
                drop_none(
                    {
                        "Type": properties["Type"],
                        "IpAddress": properties["IpAddress"],
                        "BgpAsn": integer(properties.get("BgpAsn")),
                        "BgpAsnExtended": integer(properties.get("BgpAsnExtended")),
                        "CertificateArn": properties.get("CertificateArn"),
                        "DeviceName": properties.get("DeviceName"),
                        "TagSpecifications": _tags("customer-gateway", properties.get("Tags")),
                    }
                ),
            )
        )["CustomerGateway"]
        return Created(gateway["CustomerGatewayId"], {"CustomerGatewayId": gateway["CustomerGatewayId"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DeleteCustomerGateway", {"CustomerGatewayId": physical_id}))


class VPNConnection(ResourceHandler):
    type_name = "AWS::EC2::VPNConnection"
    service = "ec2"
    required = ("CustomerGatewayId", "Type")
    create_only = frozenset(
        {
            "CustomerGatewayId",
            "StaticRoutesOnly",
            "TransitGatewayId",
            "Type",
            "VpnGatewayId",
            "VpnTunnelOptionsSpecifications",
            "LocalIpv4NetworkCidr",
            "RemoteIpv4NetworkCidr",
        }  # fmt: skip
    )
    attributes = ("VpnConnectionId",)
    primary_identifier = "VpnConnectionId"

    async def create(self, ctx, properties):
        options = drop_none(
            {
                "StaticRoutesOnly": boolean(properties.get("StaticRoutesOnly")),
                "TunnelOptions": properties.get("VpnTunnelOptionsSpecifications"),
                "LocalIpv4NetworkCidr": properties.get("LocalIpv4NetworkCidr"),
                "RemoteIpv4NetworkCidr": properties.get("RemoteIpv4NetworkCidr"),
            }
        )
        params = drop_none(
            {
                "CustomerGatewayId": properties["CustomerGatewayId"],
                "Type": properties["Type"],
                "VpnGatewayId": properties.get("VpnGatewayId"),
                "TransitGatewayId": properties.get("TransitGatewayId"),
                "Options": options or None,
                "TagSpecifications": _tags("vpn-connection", properties.get("Tags")),
            }
        )
        connection = (
            await ctx.call("ec2", "CreateVpnConnection", shaped("ec2", "CreateVpnConnection", params))
        )["VpnConnection"]
        connection_id = connection["VpnConnectionId"]
        await _until(ctx, lambda: self._describe(ctx, connection_id), "available")
        return Created(connection_id, {"VpnConnectionId": connection_id})

    @staticmethod
    async def _describe(ctx: ResourceContext, connection_id: str) -> dict | None:
        found = await ctx.call("ec2", "DescribeVpnConnections", {"VpnConnectionIds": [connection_id]})
        return (found.get("VpnConnections") or [None])[0]

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await _retag(ctx, physical_id, properties.get("Tags"), previous.get("Tags"))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("ec2", "DeleteVpnConnection", {"VpnConnectionId": physical_id}))


class VPNConnectionRoute(ResourceHandler):
    type_name = "AWS::EC2::VPNConnectionRoute"
    service = "ec2"
    required = ("DestinationCidrBlock", "VpnConnectionId")
    create_only = frozenset({"DestinationCidrBlock", "VpnConnectionId"})

    async def create(self, ctx, properties):
        params = {
            "DestinationCidrBlock": properties["DestinationCidrBlock"],
            "VpnConnectionId": properties["VpnConnectionId"],
        }
        await ctx.call("ec2", "CreateVpnConnectionRoute", params)
        return Created(f"{properties['VpnConnectionId']}|{properties['DestinationCidrBlock']}")

    async def delete(self, ctx, physical_id, properties):
        params = {
            "DestinationCidrBlock": properties["DestinationCidrBlock"],
            "VpnConnectionId": properties["VpnConnectionId"],
        }
        await ignore_missing(ctx.call("ec2", "DeleteVpnConnectionRoute", params))


class VPNGatewayRoutePropagation(ResourceHandler):
    type_name = "AWS::EC2::VPNGatewayRoutePropagation"
    service = "ec2"
    required = ("RouteTableIds", "VpnGatewayId")
    create_only = frozenset({"VpnGatewayId"})

    async def create(self, ctx, properties):
        await self._propagate(ctx, properties["VpnGatewayId"], properties["RouteTableIds"], [])
        return Created(f"{properties['VpnGatewayId']}|{'|'.join(properties['RouteTableIds'])}")

    @staticmethod
    async def _propagate(ctx: ResourceContext, gateway: str, tables: list[str], before: list[str]) -> None:
        for table in before:
            if table not in tables:
                await ignore_missing(
                    ctx.call(
                        "ec2", "DisableVgwRoutePropagation", {"GatewayId": gateway, "RouteTableId": table}
                    )
                )
        for table in tables:
            if table not in before:
                await ctx.call(
                    "ec2", "EnableVgwRoutePropagation", {"GatewayId": gateway, "RouteTableId": table}
                )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await self._propagate(
            ctx, properties["VpnGatewayId"], properties["RouteTableIds"], previous.get("RouteTableIds") or []
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await self._propagate(ctx, properties["VpnGatewayId"], [], properties.get("RouteTableIds") or [])


HANDLERS = (
    LaunchTemplate,
    NetworkAcl,
    NetworkAclEntry,
    SubnetNetworkAclAssociation,
    EgressOnlyInternetGateway,
    DHCPOptions,
    VPCDHCPOptionsAssociation,
    VPCPeeringConnection,
    FlowLog,
    TransitGateway,
    TransitGatewayVpcAttachment,
    TransitGatewayRouteTable,
    TransitGatewayRoute,
    TransitGatewayRouteTableAssociation,
    TransitGatewayRouteTablePropagation,
    NetworkInterface,
    NetworkInterfaceAttachment,
    PrefixList,
    VPCCidrBlock,
    SubnetCidrBlock,
    PlacementGroup,
    VPNGateway,
    CustomerGateway,
    VPNConnection,
    VPNConnectionRoute,
    VPNGatewayRoutePropagation,
)
