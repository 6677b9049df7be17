"""VPCs: the default VPC, CIDR ranges, secondary blocks, IPv6, DNS attributes, deleting only empty VPCs."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of


def test_a_fresh_region_has_its_default_vpc(ec2):
    vpcs = ec2.describe_vpcs()["Vpcs"]
    assert len(vpcs) == 1
    vpc = vpcs[0]
    assert vpc["CidrBlock"] == "172.31.0.0/16" and vpc["IsDefault"] is True and vpc["State"] == "available"
    assert vpc["VpcId"].startswith("vpc-") and len(vpc["VpcId"]) == 21
    vpc_id = vpc["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    assert sorted(s["AvailabilityZone"] for s in subnets) == zones
    assert {s["CidrBlock"] for s in subnets} == {f"172.31.{16 * i}.0/20" for i in range(len(zones))}
    assert all(
        s["DefaultForAz"] and s["MapPublicIpOnLaunch"] and s["AvailableIpAddressCount"] == 4091
        for s in subnets
    )
    igws = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])[
        "InternetGateways"
    ]
    assert igws[0]["Attachments"] == [{"State": "available", "VpcId": vpc_id}]
    main = ec2.describe_route_tables(Filters=[{"Name": "association.main", "Values": ["true"]},
                                              {"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]  # fmt: skip
    assert [r.get("GatewayId") for r in main[0]["Routes"]] == ["local", igws[0]["InternetGatewayId"]]
    acls = ec2.describe_network_acls(Filters=[{"Name": "default", "Values": ["true"]}])["NetworkAcls"]
    assert len(acls[0]["Associations"]) == len(zones)
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])[
        "SecurityGroups"
    ]
    assert groups[0]["VpcId"] == vpc_id and groups[0]["Description"] == "default VPC security group"
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"] == {
        "Value": True
    }
    attributes = ec2.describe_account_attributes(AttributeNames=["default-vpc"])["AccountAttributes"]
    assert attributes[0]["AttributeValues"] == [{"AttributeValue": vpc_id}]


def test_default_vpc_deleted_and_recreated(ec2):
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    with pytest.raises(ClientError) as raised:
        ec2.delete_vpc(VpcId=vpc_id)
    assert error_of(raised) == ("DependencyViolation", 400)
    assert message_of(raised) == f"The vpc '{vpc_id}' has dependencies and cannot be deleted."
    for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]:
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    igw = ec2.describe_internet_gateways()["InternetGateways"][0]["InternetGatewayId"]
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    ec2.delete_internet_gateway(InternetGatewayId=igw)
    ec2.delete_vpc(VpcId=vpc_id)
    assert ec2.describe_vpcs()["Vpcs"] == []  # not recreated behind the user's back
    created = ec2.create_default_vpc()["Vpc"]
    assert created["IsDefault"] is True and created["CidrBlock"] == "172.31.0.0/16"
    with pytest.raises(ClientError) as raised:
        ec2.create_default_vpc()
    assert error_of(raised) == ("DefaultVpcAlreadyExists", 400)
    assert message_of(raised) == "A Default VPC already exists for this account in this region."


@pytest.mark.parametrize("cidr", ["10.0.0.0/15", "10.0.0.0/29", "10.0.0.0/8"])
def test_vpc_size_is_16_to_28(ec2, cidr):
    with pytest.raises(ClientError) as raised:
        ec2.create_vpc(CidrBlock=cidr)
    assert error_of(raised) == ("InvalidVpc.Range", 400)
    assert message_of(raised) == f"The CIDR '{cidr}' is invalid."


@pytest.mark.parametrize("cidr", ["10.0.0.0/33", "nonsense", "10.0.0.1/16"])
def test_malformed_cidr(ec2, cidr):
    with pytest.raises(ClientError) as raised:
        ec2.create_vpc(CidrBlock=cidr)
    assert error_of(raised) == ("InvalidParameterValue", 400)
    assert (
        message_of(raised)
        == f"Value ({cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block."
    )


def test_smallest_and_largest_vpcs(ec2):
    small = ec2.create_vpc(CidrBlock="192.168.0.0/28")["Vpc"]
    large = ec2.create_vpc(CidrBlock="10.0.0.0/16", InstanceTenancy="dedicated")["Vpc"]
    assert small["State"] == "pending" and large["InstanceTenancy"] == "dedicated"
    found = ec2.describe_vpcs(VpcIds=[small["VpcId"], large["VpcId"]])["Vpcs"]
    assert {v["State"] for v in found} == {"available"}


def test_vpc_limit_per_region(ec2):
    for i in range(4):  # the default VPC is the fifth
        ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")
    with pytest.raises(ClientError) as raised:
        ec2.create_vpc(CidrBlock="10.9.0.0/16")
    assert error_of(raised) == ("VpcLimitExceeded", 400)
    assert message_of(raised) == "The maximum number of VPCs has been reached."


def test_describe_missing_vpcs(ec2, vpc):
    with pytest.raises(ClientError) as raised:
        ec2.describe_vpcs(VpcIds=["vpc-0123456789abcdef0"])
    assert error_of(raised) == ("InvalidVpcID.NotFound", 400)
    assert message_of(raised) == "The vpc ID 'vpc-0123456789abcdef0' does not exist"
    with pytest.raises(ClientError) as raised:
        ec2.describe_vpcs(VpcIds=[vpc, "vpc-1", "vpc-2"])
    assert message_of(raised) == "The vpc IDs 'vpc-1, vpc-2' do not exist"


def test_dns_attributes(ec2, vpc):
    assert ec2.describe_vpc_attribute(VpcId=vpc, Attribute="enableDnsSupport")["EnableDnsSupport"] == {
        "Value": True
    }
    assert ec2.describe_vpc_attribute(VpcId=vpc, Attribute="enableDnsHostnames")["EnableDnsHostnames"] == {
        "Value": False
    }
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    assert ec2.describe_vpc_attribute(VpcId=vpc, Attribute="enableDnsHostnames")["EnableDnsHostnames"] == {
        "Value": True
    }
    with pytest.raises(ClientError) as raised:
        ec2.modify_vpc_attribute(
            VpcId=vpc, EnableDnsHostnames={"Value": True}, EnableDnsSupport={"Value": True}
        )
    assert error_of(raised) == ("InvalidParameterCombination", 400)


def test_secondary_cidr_blocks(ec2, vpc):
    added = ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock="10.1.0.0/16")
    assert added["CidrBlockAssociation"]["CidrBlockState"] == {"State": "associating"}
    described = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]
    assert [a["CidrBlock"] for a in described["CidrBlockAssociationSet"]] == ["10.0.0.0/16", "10.1.0.0/16"]
    by_block = ec2.describe_vpcs(
        Filters=[{"Name": "cidr-block-association.cidr-block", "Values": ["10.1.0.0/16"]}]
    )
    assert [v["VpcId"] for v in by_block["Vpcs"]] == [vpc]
    # subnets may use the new block, and every route table has its local route
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.5.0/24")
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]
    assert {r["DestinationCidrBlock"] for r in table["Routes"] if r["GatewayId"] == "local"} == {
        "10.0.0.0/16",
        "10.1.0.0/16",
    }
    with pytest.raises(ClientError) as raised:
        ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock="172.16.0.0/16")
    assert error_of(raised) == ("InvalidVpc.Range", 400)
    assert "restricted" in message_of(raised)
    primary = described["CidrBlockAssociationSet"][0]["AssociationId"]
    with pytest.raises(ClientError) as raised:
        ec2.disassociate_vpc_cidr_block(AssociationId=primary)
    assert error_of(raised) == ("OperationNotPermitted", 400)


def test_amazon_provided_ipv6(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    block = ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]["Ipv6CidrBlockAssociationSet"][0]
    assert block["Ipv6CidrBlock"].endswith("::/56") and block["Ipv6CidrBlockState"] == {"State": "associated"}
    prefix = block["Ipv6CidrBlock"].split("::")[0]
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.0.0/24", Ipv6CidrBlock=f"{prefix}::/64")[
        "Subnet"
    ]
    assert subnet["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"] == f"{prefix}::/64"
    acl = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["NetworkAcls"][0]
    assert {e["RuleNumber"] for e in acl["Entries"] if "Ipv6CidrBlock" in e} == {101, 32768}


def test_delete_vpc_with_a_security_group_is_refused(ec2, vpc):
    group = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    with pytest.raises(ClientError) as raised:
        ec2.delete_vpc(VpcId=vpc)
    assert error_of(raised) == ("DependencyViolation", 400)
    ec2.delete_security_group(GroupId=group)
    ec2.delete_vpc(VpcId=vpc)
    with pytest.raises(ClientError) as raised:
        ec2.describe_vpcs(VpcIds=[vpc])
    assert error_of(raised) == ("InvalidVpcID.NotFound", 400)
    # what came with it went with it
    assert ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"] == []
    assert ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"] == []


def test_regions_and_zones(ec2, overcast):
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    assert [(z["ZoneName"], z["ZoneId"]) for z in zones[:2]] == [
        ("us-east-1a", "use1-az1"),
        ("us-east-1b", "use1-az2"),
    ]
    assert zones[0]["State"] == "available" and zones[0]["RegionName"] == "us-east-1"
    assert zones[0]["ZoneType"] == "availability-zone" and zones[0]["OptInStatus"] == "opt-in-not-required"
    west = overcast.client("ec2", region="us-west-2").describe_availability_zones(ZoneIds=["usw2-az2"])
    assert [z["ZoneName"] for z in west["AvailabilityZones"]] == ["us-west-2b"]
    regions = ec2.describe_regions(RegionNames=["eu-west-1"])["Regions"]
    assert regions == [
        {
            "Endpoint": "ec2.eu-west-1.amazonaws.com",
            "RegionName": "eu-west-1",
            "OptInStatus": "opt-in-not-required",
        }
    ]
    with pytest.raises(ClientError) as raised:
        ec2.describe_availability_zones(ZoneNames=["us-east-1z"])
    assert error_of(raised) == ("InvalidParameterValue", 400)


def test_regions_and_accounts_are_separate(overcast, ec2, vpc):
    west = overcast.client("ec2", region="eu-west-1")
    assert [v["IsDefault"] for v in west.describe_vpcs()["Vpcs"]] == [True]
    with pytest.raises(ClientError) as raised:
        west.describe_vpcs(VpcIds=[vpc])
    assert error_of(raised) == ("InvalidVpcID.NotFound", 400)
