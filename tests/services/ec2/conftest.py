import pytest


@pytest.fixture
def ec2(overcast):
    return overcast.client("ec2")


@pytest.fixture
def vpc(ec2):
    """A fresh 10.0.0.0/16 VPC (its id)."""
    return ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


@pytest.fixture
def subnet(ec2, vpc):
    """10.0.1.0/24 in us-east-1a of `vpc` (its id)."""
    return ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"][
        "SubnetId"
    ]
