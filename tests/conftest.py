"""The project's own tests use the same `overcast` fixture users get from the pytest plugin."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["tests.policy.servers"]  # the enforce-mode server fixtures

REPO = Path(__file__).resolve().parent.parent
OVERCAST_BIN = Path(sys.executable).with_name("overcast")


@pytest.fixture
def run_cli():
    """Run the installed `overcast` command; returns the CompletedProcess."""

    def run(*args: str, env: dict | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(OVERCAST_BIN), *args], capture_output=True, text=True, env=env, timeout=timeout
        )

    return run


@pytest.fixture
def network(overcast):
    """A VPC with a subnet in each of two Availability Zones (us-east-1a and us-east-1b): what an
    application load balancer needs, and a VPC for private hosted zones. `.vpc`, `.subnets`."""
    from types import SimpleNamespace

    ec2 = overcast.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.99.{index}.0/24", AvailabilityZone=f"us-east-1{zone}")[
            "Subnet"
        ]["SubnetId"]
        for index, zone in enumerate("ab", 1)
    ]
    return SimpleNamespace(vpc=vpc, subnets=subnets)
