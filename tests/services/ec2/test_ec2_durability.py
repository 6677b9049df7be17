"""VPC state survives kill -9 of a real server, and work on the clock resumes after the restart."""

import signal
from pathlib import Path

import pytest

from overcast.services.ec2.sandbox import namespaces_available
from tests.server_process import ServerProcess
from tests.waiting import wait_for


@pytest.mark.slow
def test_network_and_pending_peering_survive_a_crash(tmp_path):
    server = ServerProcess(tmp_path)
    try:
        ec2 = server.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        peer = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
        pcx = ec2.create_vpc_peering_connection(VpcId=vpc, PeerVpcId=peer)["VpcPeeringConnection"]
        pcx_id = pcx["VpcPeeringConnectionId"]
    finally:
        server.stop(signal.SIGKILL)
    server = ServerProcess(tmp_path, port=server.port)
    try:
        ec2 = server.client("ec2")
        assert ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["AvailableIpAddressCount"] == 250
        assert (
            ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0][
                "PrivateIpAddress"
            ]
            == "10.0.1.4"
        )
        assert len(ec2.describe_vpcs()["Vpcs"]) == 3  # the default VPC was not made again
        assert server.cli("clock", "advance", "8d").returncode == 0
        status = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx_id])[
            "VpcPeeringConnections"
        ][0]
        assert status["Status"]["Code"] == "expired"
    finally:
        server.stop()


def _processes_with(marker: bytes) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.mark.slow
@pytest.mark.skipif(not namespaces_available(), reason="Linux namespaces are not available here")
def test_a_crash_leaves_no_sandbox_and_running_instances_boot_again(tmp_path):
    server = ServerProcess(tmp_path)
    try:
        ec2 = server.client("ec2")
        ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        user_data = "#!/bin/sh\necho started once\nnohup sleep 4321 >/dev/null 2>&1 &\n"
        instance_id = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                                        UserData=user_data)["Instances"][0]["InstanceId"]  # fmt: skip
        assert server.cli("clock", "advance", "3s").returncode == 0
        wait_for(lambda: _processes_with(b"sleep\x004321"), timeout=30)
    finally:
        server.stop(signal.SIGKILL)
    # the sandbox's PID namespace died with the server
    wait_for(lambda: not _processes_with(b"sleep\x004321"), timeout=30)
    server = ServerProcess(tmp_path, port=server.port)
    try:
        ec2 = server.client("ec2")
        described = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
        assert described["State"]["Name"] == "running"
        output = wait_for(lambda: "not the first boot" in (o := ec2.get_console_output(
            InstanceId=instance_id).get("Output") or "") and o, timeout=30)  # fmt: skip
        assert output.count("started once") == 1
        assert not _processes_with(b"sleep\x004321")  # user data did not run again
        ec2.terminate_instances(InstanceIds=[instance_id])
    finally:
        server.stop()
