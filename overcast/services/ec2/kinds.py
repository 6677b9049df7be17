"""The kinds of resource EC2's VPC part keeps: id prefix, ARN resource type, the tag resource type
DescribeTags reports, and how AWS words "no such resource"."""

from __future__ import annotations

from dataclasses import dataclass

from overcast.errors import ServiceError
from overcast.services.kit.arns import build_arn


@dataclass(frozen=True)
class Kind:
    name: str  # the tag resource type (DescribeTags resource-type): vpc, subnet, route-table, ...
    prefix: str  # id prefix
    not_found_code: str
    noun: str  # "The {noun} ID 'x' does not exist"
    tags_key: str = "Tags"  # the member a description carries its tags in
    arn_type: str = ""  # ARN resource type when it differs from `name`
    message: str = (
        ""  # AWS's own wording of "not found" where it is not "The {noun} ID '{id}' does not exist"
    )

    @property
    def arn_resource(self) -> str:
        return self.arn_type or self.name

    def arn(self, region: str, account: str, resource_id: str) -> str:
        return build_arn("ec2", region, account, f"{self.arn_resource}/{resource_id}")

    def not_found(self, ids: list[str]) -> ServiceError:
        if self.message:
            return ServiceError(self.not_found_code, self.message.format(id=", ".join(ids)))
        if len(ids) == 1:
            return ServiceError(self.not_found_code, f"The {self.noun} ID '{ids[0]}' does not exist")
        return ServiceError(self.not_found_code, f"The {self.noun} IDs '{', '.join(ids)}' do not exist")


VPC = Kind("vpc", "vpc", "InvalidVpcID.NotFound", "vpc")
# Instances are the instances families' (issue 17); their rows live in ec2_resources like the rest.
INSTANCE = Kind("instance", "i", "InvalidInstanceID.NotFound", "instance")
KEY_PAIR = Kind(
    "key-pair", "key", "InvalidKeyPair.NotFound", "key pair", message="The key pair '{id}' does not exist"
)
IMAGE = Kind("image", "ami", "InvalidAMIID.NotFound", "image", message="The image id '[{id}]' does not exist")
VOLUME = Kind(
    "volume", "vol", "InvalidVolume.NotFound", "volume", message="The volume '{id}' does not exist."
)
SNAPSHOT = Kind(
    "snapshot", "snap", "InvalidSnapshot.NotFound", "snapshot", message="The snapshot '{id}' does not exist."
)
LAUNCH_TEMPLATE = Kind(
    "launch-template", "lt", "InvalidLaunchTemplateId.NotFound", "launch template",
    message="The specified launch template, with template ID {id}, does not exist.",
)  # fmt: skip
PLACEMENT_GROUP = Kind(
    "placement-group", "pg", "InvalidPlacementGroup.Unknown", "placement group",
    message="The Placement Group '{id}' is unknown.",
)  # fmt: skip
SPOT_REQUEST = Kind(
    "spot-instances-request", "sir", "InvalidSpotInstanceRequestID.NotFound", "spot instance request",
    message="The spot instance request ID '{id}' does not exist",
)  # fmt: skip
SUBNET = Kind("subnet", "subnet", "InvalidSubnetID.NotFound", "subnet")
ROUTE_TABLE = Kind("route-table", "rtb", "InvalidRouteTableID.NotFound", "routeTable")
INTERNET_GATEWAY = Kind("internet-gateway", "igw", "InvalidInternetGatewayID.NotFound", "internetGateway")
EGRESS_ONLY_GATEWAY = Kind(
    "egress-only-internet-gateway", "eigw", "InvalidGatewayID.NotFound", "egressOnlyInternetGateway"
)
NAT_GATEWAY = Kind(
    "natgateway", "nat", "NatGatewayNotFound", "natGateway", message="NAT gateway {id} was not found"
)
ADDRESS = Kind("elastic-ip", "eipalloc", "InvalidAllocationID.NotFound", "allocation")
NETWORK_ACL = Kind("network-acl", "acl", "InvalidNetworkAclID.NotFound", "networkAcl")
SECURITY_GROUP = Kind(
    "security-group",
    "sg",
    "InvalidGroup.NotFound",
    "security group",
    message="The security group '{id}' does not exist",
)
SECURITY_GROUP_RULE = Kind(
    "security-group-rule", "sgr", "InvalidSecurityGroupRuleId.NotFound", "security group rule"
)
NETWORK_INTERFACE = Kind(
    "network-interface", "eni", "InvalidNetworkInterfaceID.NotFound", "networkInterface", tags_key="TagSet"
)
PEERING = Kind(
    "vpc-peering-connection", "pcx", "InvalidVpcPeeringConnectionID.NotFound", "vpcPeeringConnection"
)
VPC_ENDPOINT = Kind("vpc-endpoint", "vpce", "InvalidVpcEndpointId.NotFound", "VpcEndpoint")
DHCP_OPTIONS = Kind("dhcp-options", "dopt", "InvalidDhcpOptionID.NotFound", "dhcpOption")
PREFIX_LIST = Kind("prefix-list", "pl", "InvalidPrefixListID.NotFound", "prefix list")
TRANSIT_GATEWAY = Kind("transit-gateway", "tgw", "InvalidTransitGatewayID.NotFound", "transitGateway")
TGW_ATTACHMENT = Kind(
    "transit-gateway-attachment",
    "tgw-attach",
    "InvalidTransitGatewayAttachmentID.NotFound",
    "transitGatewayAttachment",
)
TGW_ROUTE_TABLE = Kind(
    "transit-gateway-route-table", "tgw-rtb", "InvalidRouteTableID.NotFound", "transitGatewayRouteTable"
)
VPN_GATEWAY = Kind("vpn-gateway", "vgw", "InvalidVpnGatewayID.NotFound", "vpnGateway")
CUSTOMER_GATEWAY = Kind("customer-gateway", "cgw", "InvalidCustomerGatewayID.NotFound", "customerGateway")
VPN_CONNECTION = Kind("vpn-connection", "vpn", "InvalidVpnConnectionID.NotFound", "vpnConnection")
FLOW_LOG = Kind("vpc-flow-log", "fl", "InvalidFlowLogId.NotFound", "flow log")
INSIGHTS_PATH = Kind(
    "network-insights-path", "nip", "InvalidNetworkInsightsPathId.NotFound", "NetworkInsightsPath"
)
INSIGHTS_ANALYSIS = Kind(
    "network-insights-analysis", "nia", "InvalidNetworkInsightsAnalysisId.NotFound", "NetworkInsightsAnalysis"
)
ACCESS_SCOPE = Kind(
    "network-insights-access-scope",
    "nis",
    "InvalidNetworkInsightsAccessScopeId.NotFound",
    "NetworkInsightsAccessScope",
)
ACCESS_SCOPE_ANALYSIS = Kind(
    "network-insights-access-scope-analysis", "nisa", "InvalidNetworkInsightsAccessScopeAnalysisId.NotFound",
    "NetworkInsightsAccessScopeAnalysis",
)  # fmt: skip
# Associations are rows of their own (looked up by id), described inside their route table or ACL.
RTB_ASSOCIATION = Kind("route-table-association", "rtbassoc", "InvalidAssociationID.NotFound", "association")
ACL_ASSOCIATION = Kind("network-acl-association", "aclassoc", "InvalidAssociationID.NotFound", "association")

ALL = (
    VPC, INSTANCE, SUBNET, ROUTE_TABLE, INTERNET_GATEWAY, EGRESS_ONLY_GATEWAY, NAT_GATEWAY, ADDRESS, NETWORK_ACL,
    SECURITY_GROUP, SECURITY_GROUP_RULE, NETWORK_INTERFACE, PEERING, VPC_ENDPOINT, DHCP_OPTIONS, PREFIX_LIST,
    TRANSIT_GATEWAY, TGW_ATTACHMENT, TGW_ROUTE_TABLE, FLOW_LOG, INSIGHTS_PATH, INSIGHTS_ANALYSIS, RTB_ASSOCIATION,
    ACL_ASSOCIATION, VPN_GATEWAY, CUSTOMER_GATEWAY, VPN_CONNECTION, ACCESS_SCOPE, ACCESS_SCOPE_ANALYSIS, KEY_PAIR, IMAGE, VOLUME, SNAPSHOT,
    LAUNCH_TEMPLATE, PLACEMENT_GROUP, SPOT_REQUEST,
)  # fmt: skip
BY_PREFIX = {kind.prefix: kind for kind in ALL}


def kind_of(resource_id: str) -> Kind | None:
    """The kind an id names by its prefix (`tgw-attach-...` before `tgw-...`)."""
    head = resource_id.rsplit("-", 1)[0] if "-" in resource_id else ""
    return BY_PREFIX.get(head)
