"""Subnets (ranges, conflicts, zones, reserved addresses) and route tables (main, local, associations, routes)."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of


@pytest.mark.parametrize("cidr", ["10.1.0.0/24", "10.0.0.0/29", "10.0.0.0/15"])
def test_subnet_outside_the_vpc_or_badly_sized(ec2, vpc, cidr):
    with pytest.raises(ClientError) as raised:
        ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)
    assert error_of(raised) == ("InvalidSubnet.Range", 400)
    assert message_of(raised) == f"The CIDR '{cidr}' is invalid."


def test_overlapping_subnets_conflict(ec2, vpc, subnet):
    with pytest.raises(ClientError) as raised:
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/23")
    assert error_of(raised) == ("InvalidSubnet.Conflict", 400)
    assert message_of(raised) == "The CIDR '10.0.0.0/23' conflicts with another subnet"


def test_subnet_in_an_unknown_zone(ec2, vpc):
    with pytest.raises(ClientError) as raised:
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.9.0/24", AvailabilityZone="us-east-1z")
    assert error_of(raised) == ("InvalidParameterValue", 400)
    assert message_of(raised).startswith(
        "Value (us-east-1z) for parameter availabilityZone is invalid. Subnets can currently only be created in "
        "the following availability zones: us-east-1a, us-east-1b"
    )
    by_id = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.9.0/24", AvailabilityZoneId="use1-az3")["Subnet"]
    assert by_id["AvailabilityZone"] == "us-east-1c"


def test_subnet_in_a_missing_vpc(ec2):
    with pytest.raises(ClientError) as raised:
        ec2.create_subnet(VpcId="vpc-0000000000000000a", CidrBlock="10.0.0.0/24")
    assert error_of(raised) == ("InvalidVpcID.NotFound", 400)


@pytest.mark.parametrize(("prefix", "usable"), [(16, 65531), (20, 4091), (24, 251), (28, 11)])
def test_five_addresses_reserved(ec2, vpc, prefix, usable):
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.0.0/{prefix}")["Subnet"]
    assert subnet["AvailableIpAddressCount"] == usable


def test_addresses_taken_by_interfaces(ec2, vpc):
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/28")["Subnet"]["SubnetId"]
    enis = [ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"] for _ in range(3)]
    assert [e["PrivateIpAddress"] for e in enis] == ["10.0.0.4", "10.0.0.5", "10.0.0.6"]  # never .0-.3
    assert ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["AvailableIpAddressCount"] == 8
    ec2.delete_network_interface(NetworkInterfaceId=enis[1]["NetworkInterfaceId"])
    assert ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["AvailableIpAddressCount"] == 9
    for address, fragment in (
        ("10.0.0.15", "reserved"),
        ("10.0.0.3", "reserved"),
        ("10.0.1.4", "does not fall"),
    ):
        with pytest.raises(ClientError) as raised:
            ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress=address)
        assert error_of(raised) == ("InvalidParameterValue", 400) and fragment in message_of(raised)
    with pytest.raises(ClientError) as raised:
        ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress="10.0.0.4")
    assert error_of(raised) == ("InvalidIPAddress.InUse", 400)
    for _ in range(9):
        ec2.create_network_interface(SubnetId=subnet)
    with pytest.raises(ClientError) as raised:
        ec2.create_network_interface(SubnetId=subnet)
    assert error_of(raised) == ("InsufficientFreeAddressesInSubnet", 400)


def test_subnet_attributes_and_filters(ec2, vpc, subnet):
    ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    described = ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]
    assert described["MapPublicIpOnLaunch"] is True and described["DefaultForAz"] is False
    assert described["SubnetArn"] == f"arn:aws:ec2:us-east-1:000000000000:subnet/{subnet}"
    public = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                           {"Name": "map-public-ip-on-launch", "Values": ["true"]}])  # fmt: skip
    assert [s["SubnetId"] for s in public["Subnets"]] == [subnet]
    assert (
        ec2.describe_subnets(Filters=[{"Name": "cidr-block", "Values": ["10.0.1.*"]}])["Subnets"][0][
            "SubnetId"
        ]
        == subnet
    )
    with pytest.raises(ClientError) as raised:
        ec2.describe_subnets(Filters=[{"Name": "no-such-filter", "Values": ["x"]}])
    assert error_of(raised) == ("InvalidParameterValue", 400)
    assert message_of(raised) == "The filter 'no-such-filter' is invalid"


def test_subnet_with_an_interface_cannot_be_deleted(ec2, subnet):
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    with pytest.raises(ClientError) as raised:
        ec2.delete_subnet(SubnetId=subnet)
    assert error_of(raised) == ("DependencyViolation", 400)
    assert message_of(raised) == f"The subnet '{subnet}' has dependencies and cannot be deleted."
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    ec2.delete_subnet(SubnetId=subnet)


# -- route tables ----------------------------------------------------------------------------------------


def main_table(ec2, vpc):
    filters = [{"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}]
    return ec2.describe_route_tables(Filters=filters)["RouteTables"][0]


def test_local_route_cannot_be_removed(ec2, vpc):
    table = main_table(ec2, vpc)["RouteTableId"]
    with pytest.raises(ClientError) as raised:
        ec2.delete_route(RouteTableId=table, DestinationCidrBlock="10.0.0.0/16")
    assert error_of(raised) == ("InvalidParameterValue", 400)
    assert message_of(raised) == f"cannot remove local route 10.0.0.0/16 in route table {table}"
    with pytest.raises(ClientError) as raised:
        ec2.delete_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0")
    assert error_of(raised) == ("InvalidRoute.NotFound", 400)
    assert message_of(raised) == f"no route with destination-cidr-block 0.0.0.0/0 in route table {table}"


def test_routes_to_gateways(ec2, vpc):
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    with pytest.raises(ClientError) as raised:
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    assert error_of(raised) == ("InvalidParameterValue", 400)
    assert message_of(raised) == f"route table {table} and network gateway {igw} belong to different networks"
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    assert (
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)["Return"]
        is True
    )
    with pytest.raises(ClientError) as raised:
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    assert error_of(raised) == ("RouteAlreadyExists", 400)
    assert message_of(raised) == "The route identified by 0.0.0.0/0 already exists."
    with pytest.raises(ClientError) as raised:
        ec2.replace_route(RouteTableId=table, DestinationCidrBlock="192.168.0.0/16", GatewayId=igw)
    assert (
        message_of(raised)
        == "There is no route defined for '192.168.0.0/16' in the route table. Use CreateRoute instead."
    )
    # detaching the gateway makes its routes blackholes; reattaching revives them
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    routes = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
    assert routes[1] == {
        "DestinationCidrBlock": "0.0.0.0/0",
        "GatewayId": igw,
        "Origin": "CreateRoute",
        "State": "blackhole",
    }
    by_state = ec2.describe_route_tables(Filters=[{"Name": "route.state", "Values": ["blackhole"]}])[
        "RouteTables"
    ]
    assert [t["RouteTableId"] for t in by_state] == [table]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    assert (
        ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"][1]["State"] == "active"
    )


def test_route_to_an_interface_and_longest_prefix(ec2, vpc, subnet):
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="192.168.0.0/16", NetworkInterfaceId=eni)
    route = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"][1]
    assert route == {
        "DestinationCidrBlock": "192.168.0.0/16",
        "NetworkInterfaceId": eni,
        "Origin": "CreateRoute",
        "State": "active",
    }
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    route = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"][1]
    assert route["State"] == "blackhole"


def test_associations_as_describe_route_tables_shows_them(ec2, vpc, subnet):
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]
    assert table["Associations"] == [] and [r["GatewayId"] for r in table["Routes"]] == ["local"]
    table_id = table["RouteTableId"]
    association = ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet)
    assert association["AssociationState"] == {"State": "associated"}
    described = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
    assert described["Associations"] == [{
        "Main": False, "RouteTableAssociationId": association["AssociationId"], "RouteTableId": table_id,
        "SubnetId": subnet, "AssociationState": {"State": "associated"},
    }]  # fmt: skip
    with pytest.raises(ClientError) as raised:
        ec2.associate_route_table(RouteTableId=main_table(ec2, vpc)["RouteTableId"], SubnetId=subnet)
    assert error_of(raised) == ("Resource.AlreadyAssociated", 400)
    with pytest.raises(ClientError) as raised:
        ec2.delete_route_table(RouteTableId=table_id)
    assert error_of(raised) == ("DependencyViolation", 400)
    assert message_of(raised) == f"The routeTable '{table_id}' has dependencies and cannot be deleted."
    ec2.disassociate_route_table(AssociationId=association["AssociationId"])
    ec2.delete_route_table(RouteTableId=table_id)


def test_replace_the_main_route_table(ec2, vpc):
    old = main_table(ec2, vpc)
    main_association = old["Associations"][0]["RouteTableAssociationId"]
    with pytest.raises(ClientError) as raised:
        ec2.disassociate_route_table(AssociationId=main_association)
    assert message_of(raised) == f"cannot disassociate the main route table association {main_association}"
    new = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    replaced = ec2.replace_route_table_association(AssociationId=main_association, RouteTableId=new)
    assert replaced["NewAssociationId"].startswith("rtbassoc-")
    assert main_table(ec2, vpc)["RouteTableId"] == new
    assert (
        ec2.describe_route_tables(RouteTableIds=[old["RouteTableId"]])["RouteTables"][0]["Associations"] == []
    )
    ec2.delete_route_table(RouteTableId=old["RouteTableId"])


def test_gateway_route_table_edge_association(ec2, vpc):
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, GatewayId=igw)
    edge = ec2.describe_route_tables(Filters=[{"Name": "association.gateway-id", "Values": [igw]}])[
        "RouteTables"
    ]
    assert edge[0]["RouteTableId"] == table and edge[0]["Associations"][0]["GatewayId"] == igw


def test_route_tables_page(ec2, vpc):
    for _ in range(8):
        ec2.create_route_table(VpcId=vpc)
    filters = [{"Name": "vpc-id", "Values": [vpc]}]
    everything = [t["RouteTableId"] for t in ec2.describe_route_tables(Filters=filters)["RouteTables"]]
    assert len(everything) == 9
    first = ec2.describe_route_tables(Filters=filters, MaxResults=5)
    assert len(first["RouteTables"]) == 5 and first["NextToken"]
    second = ec2.describe_route_tables(Filters=filters, MaxResults=5, NextToken=first["NextToken"])
    assert "NextToken" not in second
    assert [t["RouteTableId"] for t in first["RouteTables"] + second["RouteTables"]] == everything
    with pytest.raises(ClientError) as raised:
        ec2.describe_route_tables(NextToken="garbage", MaxResults=5)
    assert error_of(raised) == ("InvalidParameterValue", 400)
