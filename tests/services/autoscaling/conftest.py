"""Auto Scaling tests' clients, a VPC with two subnets and a launch template."""

import pytest


@pytest.fixture
def ec2(overcast):
    return overcast.client("ec2")


@pytest.fixture
def autoscaling(overcast):
    return overcast.client("autoscaling")


@pytest.fixture
def subnets(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    return [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for i, zone in enumerate(["us-east-1a", "us-east-1b"], start=1)
    ]


@pytest.fixture
def template(ec2):
    ami = ec2.describe_images(
        Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-*-x86_64"]}]
    )["Images"][0]["ImageId"]
    return ec2.create_launch_template(
        LaunchTemplateName="asg-web", LaunchTemplateData={"ImageId": ami, "InstanceType": "t3.micro"}
    )["LaunchTemplate"]["LaunchTemplateId"]
