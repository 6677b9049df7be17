"""Peering (across accounts, on the clock), endpoints, DHCP options, prefix lists, transit gateways, flow logs."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of

OTHER = "111111111111"


@pytest.fixture
def other(overcast):
    """A client of another account (a 12-digit access key id selects the account)."""
    return overcast.client("ec2", aws_access_key_id=OTHER, aws_secret_access_key="test")


def test_cross_account_peering(ec2, other, vpc):
    theirs = other.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    created = ec2.create_vpc_peering_connection(VpcId=vpc, PeerVpcId=theirs, PeerOwnerId=OTHER)[
        "VpcPeeringConnection"
    ]
    pcx = created["VpcPeeringConnectionId"]
    assert created["RequesterVpcInfo"]["CidrBlock"] == "10.0.0.0/16"
    assert created["AccepterVpcInfo"] == {"OwnerId": OTHER, "VpcId": theirs, "Region": "us-east-1"}
    seen = other.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx])["VpcPeeringConnections"][0]
    assert seen["Status"] == {"Code": "pending-acceptance", "Message": f"Pending Acceptance by {OTHER}"}
    with pytest.raises(ClientError) as raised:
        ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert error_of(raised) == ("OperationNotPermitted", 400)
    assert message_of(raised) == f"User 000000000000 cannot accept peering {pcx}"
    accepted = other.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)["VpcPeeringConnection"]
    assert (
        accepted["Status"]["Code"] == "provisioning"
        and accepted["AccepterVpcInfo"]["CidrBlock"] == "10.1.0.0/16"
    )
    assert (
        ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx])["VpcPeeringConnections"][0][
            "Status"
        ]["Code"]
        == "active"
    )
    # their group is a valid peer for our rules across the peering
    their_group = other.create_security_group(GroupName="app", Description="app", VpcId=theirs)["GroupId"]
    ours = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=ours, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
        "UserIdGroupPairs": [{"GroupId": their_group, "UserId": OTHER, "VpcPeeringConnectionId": pcx}],
    }])  # fmt: skip
    pair = ec2.describe_security_groups(GroupIds=[ours])["SecurityGroups"][0]["IpPermissions"][0][
        "UserIdGroupPairs"
    ][0]
    assert (pair["GroupId"], pair["UserId"], pair["VpcPeeringConnectionId"]) == (their_group, OTHER, pcx)


def test_peering_requests_expire_after_a_week(overcast, ec2, vpc):
    second = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=vpc, PeerVpcId=second)["VpcPeeringConnection"][
        "VpcPeeringConnectionId"
    ]
    overcast.advance_clock("6d23h")
    assert (
        ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx])["VpcPeeringConnections"][0][
            "Status"
        ]["Code"]
        == "pending-acceptance"
    )
    overcast.advance_clock("2h")
    status = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx])["VpcPeeringConnections"][0][
        "Status"
    ]
    assert status == {"Code": "expired", "Message": "Expired"}
    with pytest.raises(ClientError) as raised:
        ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert error_of(raised) == ("InvalidStateTransition", 400)


def test_overlapping_peering_fails_and_rejection(ec2, vpc):
    overlapping = ec2.create_vpc(CidrBlock="10.0.128.0/17")["Vpc"]["VpcId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=vpc, PeerVpcId=overlapping)["VpcPeeringConnection"][
        "VpcPeeringConnectionId"
    ]
    status = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx])["VpcPeeringConnections"][0][
        "Status"
    ]
    assert status == {"Code": "failed", "Message": "Overlapping CIDR range"}
    other = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=vpc, PeerVpcId=other)["VpcPeeringConnection"][
        "VpcPeeringConnectionId"
    ]
    assert ec2.reject_vpc_peering_connection(VpcPeeringConnectionId=pcx)["Return"] is True
    found = ec2.describe_vpc_peering_connections(Filters=[{"Name": "status-code", "Values": ["rejected"]}])
    assert [p["VpcPeeringConnectionId"] for p in found["VpcPeeringConnections"]] == [pcx]


def test_gateway_and_interface_endpoints(overcast, ec2, vpc, subnet):
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    s3 = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", RouteTableIds=[table])[
        "VpcEndpoint"
    ]
    assert s3["VpcEndpointType"] == "Gateway" and s3["State"] == "available"
    assert json.loads(s3["PolicyDocument"])["Statement"][0]["Effect"] == "Allow"
    prefix_list = next(
        p for p in ec2.describe_prefix_lists()["PrefixLists"] if p["PrefixListName"].endswith(".s3")
    )
    route = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"][1]
    assert (
        route["DestinationPrefixListId"] == prefix_list["PrefixListId"]
        and route["GatewayId"] == s3["VpcEndpointId"]
    )
    sqs = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.sqs", VpcEndpointType="Interface",
                                  SubnetIds=[subnet])["VpcEndpoint"]  # fmt: skip
    assert sqs["State"] == "pending" and len(sqs["NetworkInterfaceIds"]) == 1
    eni = ec2.describe_network_interfaces(NetworkInterfaceIds=sqs["NetworkInterfaceIds"])[
        "NetworkInterfaces"
    ][0]
    assert eni["InterfaceType"] == "vpc_endpoint" and eni["RequesterManaged"] is True
    overcast.advance_clock("5s")
    assert (
        ec2.describe_vpc_endpoints(VpcEndpointIds=[sqs["VpcEndpointId"]])["VpcEndpoints"][0]["State"]
        == "available"
    )
    policy = json.dumps(
        {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}
    )
    ec2.modify_vpc_endpoint(VpcEndpointId=s3["VpcEndpointId"], PolicyDocument=policy)
    assert (
        ec2.describe_vpc_endpoints(VpcEndpointIds=[s3["VpcEndpointId"]])["VpcEndpoints"][0]["PolicyDocument"]
        == policy
    )
    with pytest.raises(ClientError) as raised:
        ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.nothing")
    assert error_of(raised) == ("InvalidServiceName", 400)
    result = ec2.delete_vpc_endpoints(
        VpcEndpointIds=[s3["VpcEndpointId"], sqs["VpcEndpointId"], "vpce-0123456789abcdef0"]
    )
    assert [u["ResourceId"] for u in result["Unsuccessful"]] == ["vpce-0123456789abcdef0"]
    assert len(ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]) == 1
    services = ec2.describe_vpc_endpoint_services(ServiceNames=["com.amazonaws.us-east-1.s3"])
    assert services["ServiceNames"] == ["com.amazonaws.us-east-1.s3"]


def test_dhcp_options(ec2, vpc):
    options = ec2.create_dhcp_options(DhcpConfigurations=[{"Key": "domain-name", "Values": ["corp.example"]},
                                                          {"Key": "domain-name-servers", "Values": ["10.0.0.2"]}])  # fmt: skip
    options_id = options["DhcpOptions"]["DhcpOptionsId"]
    assert options["DhcpOptions"]["DhcpConfigurations"][0] == {
        "Key": "domain-name",
        "Values": [{"Value": "corp.example"}],
    }
    ec2.associate_dhcp_options(DhcpOptionsId=options_id, VpcId=vpc)
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["DhcpOptionsId"] == options_id
    with pytest.raises(ClientError) as raised:
        ec2.delete_dhcp_options(DhcpOptionsId=options_id)
    assert error_of(raised) == ("DependencyViolation", 400)
    assert message_of(raised) == f"The dhcpOptions '{options_id}' has dependencies and cannot be deleted."
    ec2.associate_dhcp_options(DhcpOptionsId="default", VpcId=vpc)
    ec2.delete_dhcp_options(DhcpOptionsId=options_id)
    found = ec2.describe_dhcp_options(Filters=[{"Name": "key", "Values": ["domain-name"]}])["DhcpOptions"]
    assert [c["Values"] for o in found for c in o["DhcpConfigurations"] if c["Key"] == "domain-name"] == [
        [{"Value": "ec2.internal"}]
    ]


def test_managed_prefix_lists(ec2, vpc):
    created = ec2.create_managed_prefix_list(PrefixListName="office", MaxEntries=3, AddressFamily="IPv4",
                                             Entries=[{"Cidr": "203.0.113.0/24", "Description": "hq"}])["PrefixList"]  # fmt: skip
    list_id = created["PrefixListId"]
    assert created["Version"] == 1 and created["OwnerId"] == "000000000000"
    modified = ec2.modify_managed_prefix_list(
        PrefixListId=list_id, CurrentVersion=1, AddEntries=[{"Cidr": "198.51.100.0/24"}]
    )
    assert modified["PrefixList"]["Version"] == 2
    entries = ec2.get_managed_prefix_list_entries(PrefixListId=list_id)["Entries"]
    assert [e["Cidr"] for e in entries] == ["203.0.113.0/24", "198.51.100.0/24"]
    assert ec2.get_managed_prefix_list_entries(PrefixListId=list_id, TargetVersion=1)["Entries"] == [
        {"Cidr": "203.0.113.0/24", "Description": "hq"}
    ]
    with pytest.raises(ClientError) as raised:
        ec2.modify_managed_prefix_list(
            PrefixListId=list_id, CurrentVersion=1, AddEntries=[{"Cidr": "192.0.2.0/24"}]
        )
    assert error_of(raised) == ("PrefixListVersionMismatch", 400)
    group = ec2.create_security_group(GroupName="office", Description="office", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "PrefixListIds": [{"PrefixListId": list_id}]}])  # fmt: skip
    owned = ec2.describe_managed_prefix_lists(Filters=[{"Name": "owner-id", "Values": ["000000000000"]}])[
        "PrefixLists"
    ]
    assert [p["PrefixListId"] for p in owned] == [list_id]
    assert ec2.delete_managed_prefix_list(PrefixListId=list_id)["PrefixList"]["State"] == "delete-in-progress"


def test_transit_gateway(overcast, ec2, vpc, subnet):
    tgw = ec2.create_transit_gateway(Description="hub")["TransitGateway"]
    assert tgw["State"] == "pending" and tgw["Options"]["AmazonSideAsn"] == 64512
    default_table = tgw["Options"]["AssociationDefaultRouteTableId"]
    attachment = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw["TransitGatewayId"], VpcId=vpc, SubnetIds=[subnet]
    )["TransitGatewayVpcAttachment"]
    overcast.advance_clock("5s")
    assert (
        ec2.describe_transit_gateways(TransitGatewayIds=[tgw["TransitGatewayId"]])["TransitGateways"][0][
            "State"
        ]
        == "available"
    )
    attachment_id = attachment["TransitGatewayAttachmentId"]
    generic = ec2.describe_transit_gateway_attachments(TransitGatewayAttachmentIds=[attachment_id])[
        "TransitGatewayAttachments"
    ][0]
    assert (
        generic["State"] == "available"
        and generic["Association"]["TransitGatewayRouteTableId"] == default_table
    )
    routes = ec2.search_transit_gateway_routes(TransitGatewayRouteTableId=default_table,
                                               Filters=[{"Name": "type", "Values": ["propagated"]}])["Routes"]  # fmt: skip
    assert [(r["DestinationCidrBlock"], r["Type"]) for r in routes] == [("10.0.0.0/16", "propagated")]
    ec2.create_transit_gateway_route(
        TransitGatewayRouteTableId=default_table, DestinationCidrBlock="0.0.0.0/0", Blackhole=True
    )
    routes = ec2.search_transit_gateway_routes(TransitGatewayRouteTableId=default_table,
                                               Filters=[{"Name": "state", "Values": ["blackhole"]}])["Routes"]  # fmt: skip
    assert [r["DestinationCidrBlock"] for r in routes] == ["0.0.0.0/0"]
    with pytest.raises(ClientError) as raised:
        ec2.delete_transit_gateway(TransitGatewayId=tgw["TransitGatewayId"])
    assert error_of(raised) == ("IncorrectState", 400)
    ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=attachment_id)
    ec2.delete_transit_gateway(TransitGatewayId=tgw["TransitGatewayId"])


def test_flow_logs(ec2, vpc):
    role = "arn:aws:iam::000000000000:role/flow-logs"
    created = ec2.create_flow_logs(ResourceIds=[vpc, "vpc-0123456789abcdef0"], ResourceType="VPC", TrafficType="REJECT",
                                   LogGroupName="vpc-flows", DeliverLogsPermissionArn=role)  # fmt: skip
    (flow_id,) = created["FlowLogIds"]
    assert created["Unsuccessful"][0]["Error"]["Code"] == "InvalidVpcID.NotFound"
    again = ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="REJECT", LogGroupName="vpc-flows",
                                 DeliverLogsPermissionArn=role)  # fmt: skip
    assert again["Unsuccessful"][0]["Error"]["Code"] == "FlowLogAlreadyExists"
    flow = ec2.describe_flow_logs(Filter=[{"Name": "resource-id", "Values": [vpc]}])["FlowLogs"][0]
    assert (flow["FlowLogId"], flow["TrafficType"], flow["LogGroupName"], flow["FlowLogStatus"]) == (
        flow_id,
        "REJECT",
        "vpc-flows",
        "ACTIVE",
    )
    assert flow["LogDestinationType"] == "cloud-watch-logs" and flow["LogFormat"].startswith(
        "${version} ${account-id}"
    )
    s3 = ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL", LogDestinationType="s3",
                              LogDestination="arn:aws:s3:::flow-bucket")  # fmt: skip
    assert len(s3["FlowLogIds"]) == 1
    assert ec2.delete_flow_logs(FlowLogIds=[flow_id])["Unsuccessful"] == []
    assert [f["LogDestinationType"] for f in ec2.describe_flow_logs()["FlowLogs"]] == ["s3"]


def test_site_to_site_vpn(overcast, ec2, vpc, subnet):
    vgw = ec2.create_vpn_gateway(Type="ipsec.1", AmazonSideAsn=64600)["VpnGateway"]
    assert (vgw["State"], vgw["Type"], vgw["AmazonSideAsn"], vgw["VpcAttachments"]) == (
        "available",
        "ipsec.1",
        64600,
        [],
    )
    vgw_id = vgw["VpnGatewayId"]
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0][
        "RouteTableId"
    ]
    with pytest.raises(ClientError) as raised:
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="192.168.0.0/16", GatewayId=vgw_id)
    assert (
        message_of(raised) == f"route table {table} and network gateway {vgw_id} belong to different networks"
    )
    assert ec2.attach_vpn_gateway(VpnGatewayId=vgw_id, VpcId=vpc)["VpcAttachment"] == {
        "State": "attaching",
        "VpcId": vpc,
    }
    attached = ec2.describe_vpn_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])[
        "VpnGateways"
    ]
    assert attached[0]["VpcAttachments"] == [{"State": "attached", "VpcId": vpc}]

    customer = ec2.create_customer_gateway(Type="ipsec.1", BgpAsn=65010, IpAddress="203.0.113.12")[
        "CustomerGateway"
    ]
    assert (customer["BgpAsn"], customer["IpAddress"], customer["State"]) == (
        "65010",
        "203.0.113.12",
        "available",
    )
    connection = ec2.create_vpn_connection(
        Type="ipsec.1", CustomerGatewayId=customer["CustomerGatewayId"], VpnGatewayId=vgw_id,
        Options={"StaticRoutesOnly": True},
    )["VpnConnection"]  # fmt: skip
    assert connection["State"] == "pending" and len(connection["VgwTelemetry"]) == 2
    assert connection["CustomerGatewayConfiguration"].startswith('<?xml version="1.0"')
    connection_id = connection["VpnConnectionId"]
    ec2.create_vpn_connection_route(VpnConnectionId=connection_id, DestinationCidrBlock="192.168.0.0/16")
    overcast.advance_clock("5s")
    described = ec2.describe_vpn_connections(VpnConnectionIds=[connection_id])["VpnConnections"][0]
    assert described["State"] == "available"
    assert described["Routes"] == [
        {"DestinationCidrBlock": "192.168.0.0/16", "Source": "Static", "State": "available"}
    ]

    # propagation puts the connection's routes in the table
    ec2.enable_vgw_route_propagation(RouteTableId=table, GatewayId=vgw_id)
    found = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]
    assert found["PropagatingVgws"] == [{"GatewayId": vgw_id}]
    assert found["Routes"][-1] == {
        "DestinationCidrBlock": "192.168.0.0/16", "GatewayId": vgw_id, "Origin": "EnableVgwRoutePropagation", "State": "active"
    }  # fmt: skip
    ec2.disable_vgw_route_propagation(RouteTableId=table, GatewayId=vgw_id)
    assert len(ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]) == 1

    with pytest.raises(ClientError) as raised:
        ec2.delete_vpn_gateway(VpnGatewayId=vgw_id)
    assert error_of(raised) == ("IncorrectState", 400)
    ec2.delete_vpn_connection(VpnConnectionId=connection_id)
    ec2.detach_vpn_gateway(VpnGatewayId=vgw_id, VpcId=vpc)
    ec2.delete_vpn_gateway(VpnGatewayId=vgw_id)
    ec2.delete_customer_gateway(CustomerGatewayId=customer["CustomerGatewayId"])
    with pytest.raises(ClientError) as raised:
        ec2.describe_vpn_gateways(VpnGatewayIds=[vgw_id])
    assert error_of(raised) == ("InvalidVpnGatewayID.NotFound", 400)


def test_transit_gateway_route_table_associations_and_propagations(overcast, ec2, vpc, subnet):
    tgw = ec2.create_transit_gateway(Description="hub")["TransitGateway"]
    tgw_id, default_table = tgw["TransitGatewayId"], tgw["Options"]["AssociationDefaultRouteTableId"]
    attachment_id = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw_id, VpcId=vpc, SubnetIds=[subnet])[
        "TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]  # fmt: skip
    overcast.advance_clock("5s")
    link = {"TransitGatewayAttachmentId": attachment_id, "ResourceId": vpc, "ResourceType": "vpc"}
    associations = ec2.get_transit_gateway_route_table_associations(TransitGatewayRouteTableId=default_table)
    assert associations["Associations"] == [{**link, "State": "associated"}]
    propagations = ec2.get_transit_gateway_route_table_propagations(TransitGatewayRouteTableId=default_table)
    assert propagations["TransitGatewayRouteTablePropagations"] == [{**link, "State": "enabled"}]
    assert ec2.get_transit_gateway_route_table_associations(
        TransitGatewayRouteTableId=default_table, Filters=[{"Name": "resource-id", "Values": ["vpc-other"]}]
    )["Associations"] == []  # fmt: skip

    # moved to another table: associated there, still propagating to the default one
    other = ec2.create_transit_gateway_route_table(TransitGatewayId=tgw_id)["TransitGatewayRouteTable"][
        "TransitGatewayRouteTableId"]  # fmt: skip
    ec2.disassociate_transit_gateway_route_table(TransitGatewayRouteTableId=default_table,
                                                 TransitGatewayAttachmentId=attachment_id)  # fmt: skip
    ec2.associate_transit_gateway_route_table(
        TransitGatewayRouteTableId=other, TransitGatewayAttachmentId=attachment_id
    )
    assert ec2.get_transit_gateway_route_table_associations(TransitGatewayRouteTableId=default_table)[
        "Associations"] == []  # fmt: skip
    assert ec2.get_transit_gateway_route_table_associations(TransitGatewayRouteTableId=other)["Associations"] == [
        {**link, "State": "associated"}]  # fmt: skip
    assert ec2.get_transit_gateway_route_table_propagations(TransitGatewayRouteTableId=other)[
        "TransitGatewayRouteTablePropagations"] == []  # fmt: skip
    with pytest.raises(ClientError) as raised:
        ec2.get_transit_gateway_route_table_propagations(
            TransitGatewayRouteTableId="tgw-rtb-0123456789abcdef0"
        )
    assert error_of(raised)[1] == 400
    with pytest.raises(ClientError) as raised:
        ec2.get_transit_gateway_route_table_associations(TransitGatewayRouteTableId=other,
                                                         Filters=[{"Name": "state", "Values": ["x"]}])  # fmt: skip
    assert error_of(raised) == ("InvalidParameterValue", 400)
