"""Internet gateways, egress-only gateways, NAT gateways on the clock, Elastic IPs, network interfaces."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of


@pytest.fixture
def igw(ec2, vpc):
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    return gateway


def test_one_internet_gateway_per_vpc(ec2, vpc, igw):
    other = ec2.create_internet_gateway()["InternetGateway"]
    assert other["Attachments"] == []
    with pytest.raises(ClientError) as raised:
        ec2.attach_internet_gateway(InternetGatewayId=other["InternetGatewayId"], VpcId=vpc)
    assert error_of(raised) == ("Resource.AlreadyAssociated", 400)
    second = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    with pytest.raises(ClientError) as raised:
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=second)
    assert message_of(raised) == f"resource {igw} is already attached to network {vpc}"
    with pytest.raises(ClientError) as raised:
        ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=second)
    assert error_of(raised) == ("Gateway.NotAttached", 400)
    assert message_of(raised) == f"resource {igw} is not attached to network {second}"
    with pytest.raises(ClientError) as raised:
        ec2.delete_internet_gateway(InternetGatewayId=igw)
    assert error_of(raised) == ("DependencyViolation", 400)
    assert message_of(raised) == f"The internetGateway '{igw}' has dependencies and cannot be deleted."


def test_elastic_ip_lifecycle_and_limit(ec2, vpc, subnet, igw):
    first = ec2.allocate_address(Domain="vpc")
    assert first["AllocationId"].startswith("eipalloc-") and first["Domain"] == "vpc"
    assert first["PublicIpv4Pool"] == "amazon" and first["NetworkBorderGroup"] == "us-east-1"
    for _ in range(4):
        ec2.allocate_address(Domain="vpc")
    with pytest.raises(ClientError) as raised:
        ec2.allocate_address(Domain="vpc")
    assert error_of(raised) == ("AddressLimitExceeded", 400)
    assert message_of(raised) == "The maximum number of addresses has been reached."

    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    association = ec2.associate_address(AllocationId=first["AllocationId"], NetworkInterfaceId=eni)[
        "AssociationId"
    ]
    described = ec2.describe_addresses(AllocationIds=[first["AllocationId"]])["Addresses"][0]
    assert described["AssociationId"] == association and described["NetworkInterfaceId"] == eni
    assert described["PrivateIpAddress"] == "10.0.1.4"
    interface = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]
    assert interface["Association"]["PublicIp"] == first["PublicIp"]
    assert (
        interface["Association"]["PublicDnsName"]
        == f"ec2-{first['PublicIp'].replace('.', '-')}.compute-1.amazonaws.com"
    )
    # a gateway with mapped public addresses cannot be detached
    with pytest.raises(ClientError) as raised:
        ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    assert message_of(raised) == (
        f"Network {vpc} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway."
    )
    with pytest.raises(ClientError) as raised:
        ec2.release_address(AllocationId=first["AllocationId"])
    assert error_of(raised) == ("InvalidIPAddress.InUse", 400)
    ec2.disassociate_address(AssociationId=association)
    assert (
        "Association"
        not in ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]
    )
    ec2.release_address(AllocationId=first["AllocationId"])
    assert len(ec2.describe_addresses()["Addresses"]) == 4
    by_ip = ec2.describe_addresses(Filters=[{"Name": "public-ip", "Values": [first["PublicIp"]]}])[
        "Addresses"
    ]
    assert by_ip == []


def test_elastic_ip_needs_an_internet_gateway(ec2, subnet, vpc):
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    with pytest.raises(ClientError) as raised:
        ec2.associate_address(AllocationId=allocation, NetworkInterfaceId=eni)
    assert error_of(raised) == ("Gateway.NotAttached", 400)
    assert message_of(raised) == f"Network {vpc} is not attached to any internet gateway"
    with pytest.raises(ClientError) as raised:
        ec2.associate_address(AllocationId=allocation, InstanceId="i-0123456789abcdef0")
    assert error_of(raised) == ("InvalidInstanceID.NotFound", 400)


def test_nat_gateway_states_on_the_clock(overcast, ec2, subnet, igw):
    allocation = ec2.allocate_address(Domain="vpc")
    created = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation["AllocationId"])["NatGateway"]
    assert created["State"] == "pending" and created["ConnectivityType"] == "public"
    address = created["NatGatewayAddresses"][0]
    assert address["PublicIp"] == allocation["PublicIp"] and address["PrivateIp"] == "10.0.1.4"
    nat = created["NatGatewayId"]
    overcast.advance_clock("5s")
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"] == "available"
    eni = ec2.describe_network_interfaces(NetworkInterfaceIds=[address["NetworkInterfaceId"]])[
        "NetworkInterfaces"
    ][0]
    assert eni["InterfaceType"] == "nat_gateway" and eni["RequesterManaged"] is True
    assert eni["Description"] == f"Interface for NAT Gateway {nat}"
    with pytest.raises(ClientError) as raised:
        ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    assert error_of(raised) == ("InvalidNetworkInterface.InUse", 400)
    with pytest.raises(ClientError) as raised:
        ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation["AllocationId"])
    assert error_of(raised) == ("Resource.AlreadyAssociated", 400)
    assert ec2.delete_nat_gateway(NatGatewayId=nat)["NatGatewayId"] == nat
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"] == "deleting"
    overcast.advance_clock("5s")
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"] == "deleted"
    # its address is free again, its interface gone
    assert (
        "AssociationId"
        not in ec2.describe_addresses(AllocationIds=[allocation["AllocationId"]])["Addresses"][0]
    )
    overcast.advance_clock("2h")
    with pytest.raises(ClientError) as raised:
        ec2.describe_nat_gateways(NatGatewayIds=[nat])
    assert error_of(raised) == ("NatGatewayNotFound", 400)
    assert message_of(raised) == f"NAT gateway {nat} was not found"


def test_nat_gateway_fails_without_an_internet_gateway(overcast, ec2, subnet, vpc):
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    overcast.advance_clock("5s")
    failed = ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]
    assert failed["State"] == "failed" and failed["FailureCode"] == "Gateway.NotAttached"
    assert failed["FailureMessage"] == f"Network {vpc} has no Internet gateway attached"


def test_private_nat_gateway(overcast, ec2, subnet):
    nat = ec2.create_nat_gateway(SubnetId=subnet, ConnectivityType="private")["NatGateway"]
    assert nat["ConnectivityType"] == "private" and "PublicIp" not in nat["NatGatewayAddresses"][0]
    overcast.advance_clock("5s")
    assert (
        ec2.describe_nat_gateways(Filters=[{"Name": "state", "Values": ["available"]}])["NatGateways"][0][
            "NatGatewayId"
        ]
        == nat["NatGatewayId"]
    )


def test_egress_only_internet_gateway(ec2, vpc):
    gateway = ec2.create_egress_only_internet_gateway(VpcId=vpc)["EgressOnlyInternetGateway"]
    assert gateway["Attachments"] == [{"State": "attached", "VpcId": vpc}]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    gateway_id = gateway["EgressOnlyInternetGatewayId"]
    ec2.create_route(
        RouteTableId=table, DestinationIpv6CidrBlock="::/0", EgressOnlyInternetGatewayId=gateway_id
    )
    with pytest.raises(ClientError):
        ec2.create_route(
            RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", EgressOnlyInternetGatewayId=gateway_id
        )
    assert (
        ec2.delete_egress_only_internet_gateway(EgressOnlyInternetGatewayId=gateway_id)["ReturnCode"] is True
    )


def test_interfaces(ec2, vpc, subnet):
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    eni = ec2.create_network_interface(
        SubnetId=subnet, Groups=[group], Description="mine", SecondaryPrivateIpAddressCount=2,
        TagSpecifications=[{"ResourceType": "network-interface", "Tags": [{"Key": "Name", "Value": "web"}]}],
    )["NetworkInterface"]  # fmt: skip
    assert (
        eni["Status"] == "available"
        and eni["SourceDestCheck"] is True
        and eni["InterfaceType"] == "interface"
    )
    assert eni["Groups"] == [{"GroupId": group, "GroupName": "web"}]
    assert eni["PrivateDnsName"] == "ip-10-0-1-4.ec2.internal"
    assert [p["Primary"] for p in eni["PrivateIpAddresses"]] == [True, False, False]
    assert eni["TagSet"] == [{"Key": "Name", "Value": "web"}]
    assert eni["MacAddress"].count(":") == 5
    eni_id = eni["NetworkInterfaceId"]
    assigned = ec2.assign_private_ip_addresses(NetworkInterfaceId=eni_id, PrivateIpAddresses=["10.0.1.50"])
    assert assigned["AssignedPrivateIpAddresses"] == [{"PrivateIpAddress": "10.0.1.50"}]
    ec2.unassign_private_ip_addresses(NetworkInterfaceId=eni_id, PrivateIpAddresses=["10.0.1.5"])
    with pytest.raises(ClientError) as raised:
        ec2.unassign_private_ip_addresses(NetworkInterfaceId=eni_id, PrivateIpAddresses=["10.0.1.4"])
    assert error_of(raised) == ("InvalidParameterValue", 400)
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, SourceDestCheck={"Value": False})
    attribute = ec2.describe_network_interface_attribute(
        NetworkInterfaceId=eni_id, Attribute="sourceDestCheck"
    )
    assert attribute["SourceDestCheck"] == {"Value": False}
    found = ec2.describe_network_interfaces(
        Filters=[{"Name": "addresses.private-ip-address", "Values": ["10.0.1.50"]}]
    )
    assert [e["NetworkInterfaceId"] for e in found["NetworkInterfaces"]] == [eni_id]
    with pytest.raises(ClientError) as raised:
        ec2.attach_network_interface(
            NetworkInterfaceId=eni_id, InstanceId="i-0123456789abcdef0", DeviceIndex=1
        )
    assert error_of(raised) == ("InvalidInstanceID.NotFound", 400)
    other_vpc = ec2.create_vpc(CidrBlock="10.5.0.0/16")["Vpc"]["VpcId"]
    foreign = ec2.create_security_group(GroupName="x", Description="x", VpcId=other_vpc)["GroupId"]
    with pytest.raises(ClientError) as raised:
        ec2.create_network_interface(SubnetId=subnet, Groups=[foreign])
    assert error_of(raised) == ("InvalidParameterValue", 400)
