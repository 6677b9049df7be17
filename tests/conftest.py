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

    from tests.helpers import shared_network

    vpc, subnets = shared_network(overcast.client("ec2"))
    return SimpleNamespace(vpc=vpc, subnets=subnets)
