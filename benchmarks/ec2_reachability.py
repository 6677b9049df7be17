"""How long a Reachability Analyzer verdict takes over a big VPC: 100 subnets, 1,000 security-group rules,
full network ACLs, routes to a NAT gateway and an internet gateway (the issue's target: under 50 ms).

    .venv/bin/python benchmarks/ec2_reachability.py [--runs 50]

It builds the VPC through boto3 against an in-process Overcast, then times `ec2.api.reachable` (the snapshot
of the VPC read from SQLite, and the walk) for a path that crosses subnets and is allowed by the last rule of
each group, and reports the median and the slowest of the runs. The machine is shared: no figure here is a
test assertion.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import overcast.services.ec2.api as ec2_api  # noqa: E402
from overcast.testing import OvercastServer  # noqa: E402

GROUPS, RULES_PER_GROUP, SUBNETS = 20, 50, 100


def build(ec2) -> tuple[str, str, str]:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"] for i in range(SUBNETS)
    ]
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    for egress in (False, True):
        for number in range(1, 20):  # 19 denies that do not match, then the allow
            ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=number, Protocol="6", RuleAction="deny",
                                         Egress=egress, CidrBlock=f"192.168.{number}.0/24",
                                         PortRange={"From": 1, "To": 65535})  # fmt: skip
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="-1", RuleAction="allow",
                                     Egress=egress, CidrBlock="0.0.0.0/0")  # fmt: skip
    for acl_set in ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkAcls"]:
        for association in acl_set["Associations"]:
            ec2.replace_network_acl_association(
                AssociationId=association["NetworkAclAssociationId"], NetworkAclId=acl
            )
    groups = []
    for g in range(GROUPS):
        group = ec2.create_security_group(GroupName=f"g{g}", Description="bench", VpcId=vpc)["GroupId"]
        ranges = [{"CidrIp": f"172.16.{r}.0/24"} for r in range(RULES_PER_GROUP - 1)] + [
            {"CidrIp": "10.0.0.0/16"}
        ]
        ec2.authorize_security_group_ingress(
            GroupId=group,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": ranges}],
        )
        groups.append(group)
    tables = []
    for _ in range(10):
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        for r in range(20):
            ec2.create_route(RouteTableId=table, DestinationCidrBlock=f"192.168.{r}.0/24", GatewayId=igw)
        tables.append(table)
    for i, subnet in enumerate(subnets):
        ec2.associate_route_table(RouteTableId=tables[i % 10], SubnetId=subnet)
    source = ec2.create_network_interface(SubnetId=subnets[0], Groups=groups[:5])["NetworkInterface"]
    target = ec2.create_network_interface(SubnetId=subnets[-1], Groups=groups[-5:])["NetworkInterface"]
    return vpc, source["NetworkInterfaceId"], target["NetworkInterfaceId"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with OvercastServer() as server:
        ec2 = server.client("ec2")
        _, source, target = build(ec2)
        rules = sum(
            len(p["IpRanges"])
            for g in ec2.describe_security_groups()["SecurityGroups"]
            for p in g["IpPermissions"]
        )
        verdict = ec2_api.reachable(server.platform, source, target, "tcp", 443)
        assert verdict.reachable, verdict.explanations
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            ec2_api.reachable(server.platform, source, target, "tcp", 443)
            times.append((time.perf_counter() - start) * 1000)
        print(
            f"VPC of {SUBNETS} subnets, {rules} security-group rules (+ 2 x 20 ACL entries, 10 x 21 routes)"
        )
        print(f"reachable={verdict.reachable}; {args.runs} runs: median {statistics.median(times):.1f} ms, "
              f"min {min(times):.1f} ms, max {max(times):.1f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
