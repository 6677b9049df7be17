"""VPC state survives kill -9 of a real server, and work on the clock resumes after the restart."""

import signal

import pytest

from tests.server_process import ServerProcess


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
