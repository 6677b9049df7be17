"""What other code asks of EC2's networking (overcast/services/ec2/api.py), observed through boto3: the
interfaces and addresses the instances issue and load balancers will take, and the verdict on a flow."""

import pytest
from botocore.exceptions import ClientError

import overcast.services.ec2.api as ec2_api
from overcast.errors import ServiceError
from tests.helpers import error_of


def test_addresses_and_interfaces(overcast, ec2, vpc, subnet):
    platform = overcast.platform
    account, region = "000000000000", "us-east-1"
    address = ec2_api.allocate_private_ip(platform, account, region, subnet, "lb-1")
    assert address == "10.0.1.4"
    with pytest.raises(ServiceError) as raised:
        ec2_api.allocate_private_ip(platform, account, region, subnet, "lb-2", "10.0.1.4")
    assert raised.value.code == "InvalidIPAddress.InUse"
    assert ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["AvailableIpAddressCount"] == 250
    ec2_api.release_private_ip(platform, subnet, address)

    eni = ec2_api.create_interface(
        platform, account, region, subnet, description="ELB app/web", requester_id="amazon-elb"
    )
    eni_id = eni["NetworkInterfaceId"]
    seen = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
    assert seen["RequesterManaged"] is True and seen["Description"] == "ELB app/web"
    assert [g["GroupName"] for g in seen["Groups"]] == ["default"]
    assert [g["GroupName"] for g in ec2_api.security_groups_of(platform, eni_id)] == ["default"]

    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    public_ip = ec2_api.assign_public_ip(platform, eni_id)
    association = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0][
        "Association"
    ]
    assert association["PublicIp"] == public_ip and association["IpOwnerId"] == "amazon"
    ec2_api.release_public_ip(platform, eni_id)
    assert (
        "Association"
        not in ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
    )

    ec2_api.delete_interface(platform, eni_id)
    with pytest.raises(ClientError) as raised:
        ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])
    assert error_of(raised) == ("InvalidNetworkInterfaceID.NotFound", 400)
    assert ec2_api.subnet(platform, account, region, subnet)["AvailableIpAddressCount"] == 251
    assert ec2_api.subnet(platform, account, "eu-west-1", subnet) is None
    default = ec2_api.default_subnet(platform, account, region, "us-east-1b")
    assert ec2.describe_subnets(SubnetIds=[default])["Subnets"][0]["DefaultForAz"] is True


def test_reachable_between_interfaces(overcast, ec2, vpc, subnet):
    platform = overcast.platform
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}
        ],
    )
    client = ec2_api.create_interface(platform, "000000000000", "us-east-1", subnet, [group])[
        "NetworkInterfaceId"
    ]
    server = ec2_api.create_interface(platform, "000000000000", "us-east-1", subnet, [group])[
        "NetworkInterfaceId"
    ]
    assert ec2_api.reachable(platform, client, server, "tcp", 80).reachable is True
    refused = ec2_api.reachable(platform, client, server, "tcp", 22)
    assert (
        refused.reachable is False and refused.explanations[0]["ExplanationCode"] == "ENI_SG_RULES_MISMATCH"
    )
    by_address = ec2_api.reachable(platform, client, None, "tcp", 80, destination_ip="10.0.1.5")
    assert by_address.reachable is True


def test_endpoint_policy_of_calls_from_an_interface(overcast, ec2, vpc, subnet):
    platform = overcast.platform
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    assert ec2_api.endpoint_policy(platform, eni, "s3") is None
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0][
        "RouteTableId"
    ]
    policy = '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}'
    ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", RouteTableIds=[main], PolicyDocument=policy
    )
    assert ec2_api.endpoint_policy(platform, eni, "s3") == policy
    assert ec2_api.endpoint_policy(platform, eni, "dynamodb") is None
    # a subnet with its own route table, without the endpoint's route, goes to S3's public endpoint
    own = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=own, SubnetId=subnet)
    assert ec2_api.endpoint_policy(platform, eni, "s3") is None
