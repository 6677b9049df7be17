"""The host reaches an instance at its private IP (issue 17's first acceptance item): `curl http://<private
ip>/` on this machine goes through a veth pair into the VPC's router namespace, where the reachability engine
decides as for a client outside the VPC; the host's link and route go at shutdown, and with a crash."""

import json
import logging
import random
import signal
import subprocess

import pytest

from overcast.services.ec2 import host_link
from overcast.services.ec2.sandbox import namespaces_available
from tests.helpers import need
from tests.server_process import ServerProcess
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not namespaces_available(), reason="Linux namespaces are not available here"),
    pytest.mark.skipif(not host_link.veth_available(), reason="veth pairs cannot be made here"),
]
PAGE = "#!/bin/sh\nmkdir -p /srv/www && echo \"hello from $(hostname)\" > /srv/www/index.html\n" \
       "cd /srv/www && nohup python3 -m http.server 80 >/dev/null 2>&1 &\n"  # fmt: skip


def free_block() -> str:
    """A /24 the host neither routes nor holds (tests on this machine may run side by side)."""
    for _ in range(50):
        block = f"10.{random.randint(100, 250)}.{random.randint(0, 255)}.0/24"
        if host_link.conflicts(block) is None:
            return block
    pytest.skip("no free 10.x.y.0/24 on this host")


def route_of(block: str) -> list[dict]:
    """The host's routes for exactly `block`."""
    done = subprocess.run(["ip", "-4", "-j", "route", "show", "exact", block], capture_output=True, text=True)
    return json.loads(done.stdout or "[]")


def link_exists(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", "dev", name], capture_output=True).returncode == 0


def curl(url: str, link: str, seconds: int = 5) -> subprocess.CompletedProcess:
    """curl bound to Overcast's host link (SO_BINDTODEVICE): nothing the test sends can leave the machine."""
    command = [need("curl"), "-s", "-m", str(seconds), "--interface", link, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=20)


def host_link_of(block: str) -> str:
    """The Overcast link the host routes `block` through (waiting for the VPC's router to make it)."""
    routes = wait_for(
        lambda: [r for r in route_of(block) if r["dev"].startswith(host_link.PREFIX)], timeout=60
    )
    assert len(routes) == 1 and routes == route_of(block)  # the only route the host has for it
    return routes[0]["dev"]


def public_subnet(ec2, block: str) -> tuple[str, str]:
    """A VPC of `block` with one public subnet (an internet gateway, a default route, public IPs on launch)."""
    vpc = ec2.create_vpc(CidrBlock=block)["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=block, AvailabilityZone="us-east-1a")["Subnet"][
        "SubnetId"
    ]
    ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]
    ec2.create_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    return vpc, subnet


def launch(ec2, subnet: str, groups: list[str], user_data: str) -> dict:
    ami = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-*-x86_64"]}])[
        "Images"][0]["ImageId"]  # fmt: skip
    return ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=subnet,
                             SecurityGroupIds=groups, UserData=user_data)["Instances"][0]  # fmt: skip


def test_the_host_curls_an_instance_at_its_private_ip(overcast):
    ec2 = overcast.client("ec2")
    block = free_block()
    vpc, subnet = public_subnet(ec2, block)
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=80, ToPort=80,
                                         CidrIp="0.0.0.0/0")  # fmt: skip
    instance = launch(ec2, subnet, [group], PAGE)
    address = instance["PrivateIpAddress"]
    overcast.advance_clock("3s")
    link = host_link_of(block)  # only then does the test send anything to the VPC's addresses
    page = wait_for(lambda: (done := curl(f"http://{address}/index.html", link)).returncode == 0 and done.stdout,
                    timeout=60)  # fmt: skip
    assert page == f"hello from ip-{address.replace('.', '-')}.ec2.internal\n"

    # its security group without port 80: the host is refused
    ec2.revoke_security_group_ingress(
        GroupId=group, IpProtocol="tcp", FromPort=80, ToPort=80, CidrIp="0.0.0.0/0"
    )
    refused = curl(f"http://{address}/index.html", link)
    # reset at once: curl says it could not connect (7) or that the connection was reset (56), as the reset
    # comes before or after it sees the connection made
    assert refused.returncode in (7, 56) and refused.stdout == ""
    assert (
        curl(f"http://{address}:8081/", link, seconds=2).returncode == 28
    )  # no rule opens 8081: it times out
    # and a group that opens it again lets it through
    ec2.authorize_security_group_ingress(GroupId=group, IpProtocol="tcp", FromPort=80, ToPort=80,
                                         CidrIp="0.0.0.0/0")  # fmt: skip
    assert curl(f"http://{address}/index.html", link).stdout == page
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    overcast.advance_clock("3s")


def test_a_block_the_host_already_routes_is_left_alone(overcast, caplog):
    """A VPC whose block is one of the host's networks gets no host route (the log says so): the host's own
    traffic is untouched, and the instance is reached at the internal endpoint only."""
    ec2 = overcast.client("ec2")
    taken = next((str(network) for network, device in host_link.host_networks() or []
                  if device and not device.startswith(host_link.PREFIX) and 16 <= network.prefixlen <= 28
                  and network.is_private and not network.is_loopback), None)  # fmt: skip
    if taken is None:
        pytest.skip("the host has no private network a VPC could have")
    before = route_of(taken)
    caplog.set_level(logging.WARNING, logger="overcast.ec2")
    _vpc, subnet = public_subnet(ec2, taken)
    launch(ec2, subnet, [], "#!/bin/sh\necho up\n")
    overcast.advance_clock("3s")
    wait_for(lambda: f"{taken} of vpc-" in caplog.text and "overlaps the host's" in caplog.text, timeout=60)
    assert route_of(taken) == before


def test_the_host_link_goes_at_shutdown_and_with_a_crash(tmp_path):
    server = ServerProcess(tmp_path)
    block = free_block()
    try:
        ec2 = server.client("ec2")
        _vpc, subnet = public_subnet(ec2, block)
        launch(ec2, subnet, [], "#!/bin/sh\necho up\n")
        assert server.cli("clock", "advance", "3s").returncode == 0
        first = host_link_of(block)
        assert link_exists(first)
    finally:
        server.stop(signal.SIGKILL)
    # the router's namespace dies with the server, and its link and route with it
    wait_for(lambda: not link_exists(first) and not route_of(block), timeout=30)

    # a link whose Overcast is gone (as a crash could leave one) is removed at the next start
    stale = f"{host_link.PREFIX}t{random.randint(1000, 9999)}"
    subprocess.run(["ip", "link", "add", stale, "type", "veth", "peer", "name", stale + "p"], check=True)
    try:
        subprocess.run(["ip", "link", "set", stale, "alias", f"{host_link.ALIAS} 999999999 1"], check=True)
        server = ServerProcess(tmp_path, port=server.port)
        try:
            server.client("ec2").describe_instances()  # EC2 starts with its first request
            wait_for(lambda: not link_exists(stale) and not link_exists(stale + "p"), timeout=30)
            second = host_link_of(block)  # the running instance booted again, its VPC's router with it
            assert second != first and link_exists(second)
        finally:
            server.stop()
        assert not link_exists(second) and not route_of(block)  # a clean shutdown removes them
    finally:
        subprocess.run(["ip", "link", "del", stale], capture_output=True)
