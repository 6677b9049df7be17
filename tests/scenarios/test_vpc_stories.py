"""VPC stories from the notes (reference/seeds-000-001.md §2.3), end to end with boto3 and the Reachability
Analyzer: the Animals4Life address plan with its NAT gateways, the NACL and security-group lab, and peering that
is not transitive."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.waiting import wait_for

AZS = ("us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d")
TIERS = ("reserved", "db", "app", "web")


@pytest.fixture
def ec2(overcast):
    return overcast.client("ec2")


def analyze(overcast, ec2, source, destination, port, protocol="tcp", **extra):
    """Run a Reachability Analyzer analysis and wait for it to succeed; the analysis."""
    if destination is not None:
        extra["Destination"] = destination
    path = ec2.create_network_insights_path(Source=source, Protocol=protocol, DestinationPort=port, **extra)[
        "NetworkInsightsPath"
    ]
    started = ec2.start_network_insights_analysis(NetworkInsightsPathId=path["NetworkInsightsPathId"])
    analysis_id = started["NetworkInsightsAnalysis"]["NetworkInsightsAnalysisId"]
    assert started["NetworkInsightsAnalysis"]["Status"] == "running"
    overcast.advance_clock("5s")

    def done():
        found = ec2.describe_network_insights_analyses(NetworkInsightsAnalysisIds=[analysis_id])
        analysis = found["NetworkInsightsAnalyses"][0]
        return analysis if analysis["Status"] == "succeeded" else None

    return wait_for(done)


def codes(analysis):
    return [e["ExplanationCode"] for e in analysis.get("Explanations", [])]


def component_ids(analysis, key="ForwardPathComponents"):
    return [c["Component"]["Id"] for c in analysis[key]]


def interface(ec2, subnet, groups, name=None):
    eni = ec2.create_network_interface(SubnetId=subnet, Groups=groups)["NetworkInterface"]
    return eni["NetworkInterfaceId"]


def group(ec2, vpc, name, *ingress):
    group_id = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
    if ingress:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=list(ingress))
    return group_id


def tcp(port, cidr=None, group_id=None):
    permission = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if cidr:
        permission["IpRanges"] = [{"CidrIp": cidr}]
    if group_id:
        permission["UserIdGroupPairs"] = [{"GroupId": group_id}]
    return permission


def test_animals4life_plan_with_nat_gateways(overcast, ec2):
    vpc = ec2.create_vpc(CidrBlock="10.16.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = {}
    for a, zone in enumerate(AZS):
        for t, tier in enumerate(TIERS):
            cidr = f"10.16.{64 * a + 16 * t}.0/20"
            created = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]
            assert created["AvailableIpAddressCount"] == 4091
            subnets[(tier, zone[-1])] = created["SubnetId"]
    # the VPC is full: a 17th /20 anywhere conflicts
    with pytest.raises(ClientError) as raised:
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.16.48.0/20", AvailabilityZone="us-east-1a")
    assert error_of(raised) == ("InvalidSubnet.Conflict", 400)
    assert message_of(raised) == "The CIDR '10.16.48.0/20' conflicts with another subnet"

    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rt_web = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt_web, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    nats, private_tables = {}, {}
    for zone in "abc":
        web = subnets[("web", zone)]
        ec2.associate_route_table(RouteTableId=rt_web, SubnetId=web)
        ec2.modify_subnet_attribute(SubnetId=web, MapPublicIpOnLaunch={"Value": True})
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=web, AllocationId=allocation)["NatGateway"]
        assert nat["State"] == "pending"
        nats[zone] = nat["NatGatewayId"]
    overcast.advance_clock("10s")
    states = ec2.describe_nat_gateways(NatGatewayIds=list(nats.values()))["NatGateways"]
    assert {n["State"] for n in states} == {"available"}
    for zone in "abc":
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nats[zone])
        for tier in ("db", "app"):
            ec2.associate_route_table(RouteTableId=table, SubnetId=subnets[(tier, zone)])
        private_tables[zone] = table

    # each NAT gateway took one address of its web subnet
    web_a = ec2.describe_subnets(SubnetIds=[subnets[("web", "a")]])["Subnets"][0]
    assert web_a["AvailableIpAddressCount"] == 4090
    assert web_a["MapPublicIpOnLaunch"] is True

    web_sg = group(ec2, vpc, "web", tcp(80, cidr="0.0.0.0/0"))
    db_sg = group(ec2, vpc, "db", tcp(3306, group_id=web_sg))
    web_eni = interface(ec2, subnets[("web", "a")], [web_sg])
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=eip, NetworkInterfaceId=web_eni)
    db_a = interface(ec2, subnets[("db", "a")], [db_sg])
    db_b = interface(ec2, subnets[("db", "b")], [db_sg])

    # the internet reaches web on 80, not db
    to_web = analyze(overcast, ec2, igw, web_eni, 80)
    assert to_web["NetworkPathFound"] is True
    assert component_ids(to_web)[0] == igw and component_ids(to_web)[-1] == web_eni
    assert web_sg in component_ids(to_web)
    to_db = analyze(overcast, ec2, igw, db_a, 3306)
    assert to_db["NetworkPathFound"] is False
    assert codes(to_db) == ["IGW_PRIVATE_IP_ASSOCIATION_FOR_INGRESS"]

    # web reaches db on 3306 through the group reference; db reaches the internet on 443 through nat-a
    assert analyze(overcast, ec2, web_eni, db_a, 3306)["NetworkPathFound"] is True
    out = analyze(overcast, ec2, db_a, igw, 443)
    assert out["NetworkPathFound"] is True
    assert nats["a"] in component_ids(out) and component_ids(out)[-1] == igw

    # deleting nat-a blackholes AZ-A's default route only
    ec2.delete_nat_gateway(NatGatewayId=nats["a"])
    tables = {
        t["RouteTableId"]: t
        for t in ec2.describe_route_tables(RouteTableIds=list(private_tables.values()))["RouteTables"]
    }
    default = {zone: next(r for r in tables[private_tables[zone]]["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0")
               for zone in "abc"}  # fmt: skip
    assert default["a"]["State"] == "blackhole" and default["a"]["NatGatewayId"] == nats["a"]
    assert default["b"]["State"] == "active" and default["c"]["State"] == "active"
    broken = analyze(overcast, ec2, db_a, igw, 443)
    assert broken["NetworkPathFound"] is False
    assert codes(broken) == ["BAD_STATE_ROUTE"]
    assert broken["Explanations"][0]["RouteTable"]["Id"] == private_tables["a"]
    assert analyze(overcast, ec2, db_b, igw, 443)["NetworkPathFound"] is True
    overcast.advance_clock("10s")
    assert ec2.describe_nat_gateways(NatGatewayIds=[nats["a"]])["NatGateways"][0]["State"] == "deleted"


def test_nacl_and_security_group_lab(overcast, ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet_a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"][
        "SubnetId"
    ]
    subnet_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1a")["Subnet"][
        "SubnetId"
    ]
    ssh = group(ec2, vpc, "ssh", tcp(22, cidr="10.0.0.0/16"))
    a1, a2 = interface(ec2, subnet_a, [ssh]), interface(ec2, subnet_a, [ssh])
    b1 = interface(ec2, subnet_b, [ssh])
    assert analyze(overcast, ec2, a1, b1, 22)["NetworkPathFound"] is True  # the default NACL allows all

    # a custom NACL starts with only the * deny rules: B is cut off
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]
    assert [(e["RuleNumber"], e["RuleAction"]) for e in acl["Entries"]] == [(32767, "deny"), (32767, "deny")]
    assert acl["Associations"] == []
    acl_id = acl["NetworkAclId"]
    association = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet_b]}])
    association_id = next(a["NetworkAclAssociationId"] for a in association["NetworkAcls"][0]["Associations"]
                          if a["SubnetId"] == subnet_b)  # fmt: skip
    ec2.replace_network_acl_association(AssociationId=association_id, NetworkAclId=acl_id)
    blocked = analyze(overcast, ec2, a1, b1, 22)
    assert codes(blocked) == ["SUBNET_ACL_RESTRICTION"]
    assert blocked["Explanations"][0]["Direction"] == "ingress"
    assert blocked["Explanations"][0]["AclRule"]["RuleNumber"] == 32767

    # stateless: letting SSH in is not enough, the replies need their own outbound rule
    entry = {"NetworkAclId": acl_id, "Protocol": "6", "RuleAction": "allow", "CidrBlock": "10.0.0.0/16"}
    ec2.create_network_acl_entry(**entry, RuleNumber=100, Egress=False, PortRange={"From": 22, "To": 22})
    replies = analyze(overcast, ec2, a1, b1, 22)
    assert codes(replies) == ["SUBNET_ACL_RESTRICTION"]
    assert replies["Explanations"][0]["Direction"] == "egress"
    ec2.create_network_acl_entry(**entry, RuleNumber=100, Egress=True, PortRange={"From": 1024, "To": 65535})
    assert analyze(overcast, ec2, a1, b1, 22)["NetworkPathFound"] is True

    # first match wins: a lower-numbered deny beats the allow
    ec2.create_network_acl_entry(
        NetworkAclId=acl_id, RuleNumber=50, Protocol="6", RuleAction="deny", Egress=False,
        CidrBlock="10.0.1.0/24", PortRange={"From": 22, "To": 22},
    )  # fmt: skip
    denied = analyze(overcast, ec2, a1, b1, 22)
    assert codes(denied) == ["SUBNET_ACL_RESTRICTION"]
    assert denied["Explanations"][0]["AclRule"]["RuleNumber"] == 50

    # NACLs do not filter traffic inside a subnet: put A behind the deny-all ACL too, a1 still reaches a2
    deny_all = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    association = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet_a]}])
    association_id = next(a["NetworkAclAssociationId"] for a in association["NetworkAcls"][0]["Associations"]
                          if a["SubnetId"] == subnet_a)  # fmt: skip
    ec2.replace_network_acl_association(AssociationId=association_id, NetworkAclId=deny_all)
    inside = analyze(overcast, ec2, a1, a2, 22)
    assert inside["NetworkPathFound"] is True
    assert not any(c["Component"]["Id"].startswith("acl-") for c in inside["ForwardPathComponents"])

    # security groups are stateful: a2 without any outbound rule still answers a1 ...
    ec2.revoke_security_group_egress(
        GroupId=ssh, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    only_in = group(ec2, vpc, "ssh-in-only", tcp(22, cidr="10.0.0.0/16"))
    ec2.revoke_security_group_egress(
        GroupId=only_in, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    ec2.modify_network_interface_attribute(NetworkInterfaceId=a2, Groups=[only_in])
    ec2.authorize_security_group_egress(GroupId=ssh, IpPermissions=[tcp(22, cidr="10.0.0.0/16")])
    assert analyze(overcast, ec2, a1, a2, 22)["NetworkPathFound"] is True
    # ... but its inbound rule opens nothing outbound: a2 cannot start a connection to a1
    reverse = analyze(overcast, ec2, a2, a1, 22)
    assert codes(reverse) == ["ENI_SG_RULES_MISMATCH"]
    assert reverse["Explanations"][0]["Direction"] == "egress"

    # the * rule cannot be deleted
    with pytest.raises(ClientError) as raised:
        ec2.delete_network_acl_entry(NetworkAclId=acl_id, RuleNumber=32767, Egress=False)
    assert error_of(raised) == ("InvalidParameterValue", 400)
    assert (
        message_of(raised)
        == "Value (32767) for parameter ruleNumber is invalid. Rulenumber must be in range 1..32766"
    )


def test_peering_is_not_transitive(overcast, ec2):
    ends = {}
    for name, second in (("a", 0), ("b", 1), ("c", 2)):
        vpc = ec2.create_vpc(CidrBlock=f"10.{second}.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{second}.1.0/24")["Subnet"]["SubnetId"]
        sg = group(ec2, vpc, f"ssh-{name}", tcp(22, cidr="10.0.0.0/8"))
        table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]
        ends[name] = {"vpc": vpc, "eni": interface(ec2, subnet, [sg]), "rtb": table["RouteTableId"]}

    def peer(one, other):
        pcx = ec2.create_vpc_peering_connection(VpcId=ends[one]["vpc"], PeerVpcId=ends[other]["vpc"])
        pcx_id = pcx["VpcPeeringConnection"]["VpcPeeringConnectionId"]
        assert pcx["VpcPeeringConnection"]["Status"]["Code"] == "initiating-request"
        ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_id)
        return pcx_id

    ab, bc = peer("a", "b"), peer("b", "c")
    found = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[ab, bc])["VpcPeeringConnections"]
    assert {p["Status"]["Code"] for p in found} == {"active"}
    routes = {
        "a": [("10.1.0.0/16", ab), ("10.2.0.0/16", ab)],  # A tries to reach C through B
        "b": [("10.0.0.0/16", ab), ("10.2.0.0/16", bc)],
        "c": [("10.1.0.0/16", bc), ("10.0.0.0/16", bc)],
    }
    for name, table_routes in routes.items():
        for cidr, pcx in table_routes:
            ec2.create_route(
                RouteTableId=ends[name]["rtb"], DestinationCidrBlock=cidr, VpcPeeringConnectionId=pcx
            )

    assert analyze(overcast, ec2, ends["a"]["eni"], ends["b"]["eni"], 22)["NetworkPathFound"] is True
    assert analyze(overcast, ec2, ends["b"]["eni"], ends["c"]["eni"], 22)["NetworkPathFound"] is True
    a_to_c = analyze(overcast, ec2, ends["a"]["eni"], ends["c"]["eni"], 22)
    assert a_to_c["NetworkPathFound"] is False
    assert codes(a_to_c) == ["PCX_REQUIRES_ADDRESS_IN_VPC_CIDR"]
    assert a_to_c["Explanations"][0]["VpcPeeringConnection"]["Id"] == ab

    # deleting A↔B turns A's routes through it into blackholes
    ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=ab)
    table = ec2.describe_route_tables(RouteTableIds=[ends["a"]["rtb"]])["RouteTables"][0]
    assert {r["State"] for r in table["Routes"] if r.get("VpcPeeringConnectionId") == ab} == {"blackhole"}


@pytest.mark.slow
def test_console_walkthrough_with_the_cli(overcast):
    """The notes' "MyVPC" walkthrough with the AWS CLI: describe-route-tables after each step shows the main
    table's and the explicit associations as the console does."""
    from tests.helpers import AWS_V2, aws

    def cli(*args):
        return aws(overcast, "ec2", *args, cli=AWS_V2)

    vpc = cli("create-vpc", "--cidr-block", "10.0.0.0/16")["Vpc"]["VpcId"]
    cli("modify-vpc-attribute", "--vpc-id", vpc, "--enable-dns-hostnames", '{"Value": true}')
    assert cli("describe-vpc-attribute", "--vpc-id", vpc, "--attribute", "enableDnsHostnames")[
        "EnableDnsHostnames"
    ] == {"Value": True}
    subnets = {}
    for name, cidr, zone in (
        ("Public-1A", "10.0.1.0/24", "us-east-1a"),
        ("Public-1B", "10.0.2.0/24", "us-east-1b"),
        ("Private-1A", "10.0.3.0/24", "us-east-1a"),
        ("Private-1B", "10.0.4.0/24", "us-east-1b"),
    ):
        subnet = cli("create-subnet", "--vpc-id", vpc, "--cidr-block", cidr, "--availability-zone", zone,
                     "--tag-specifications", f"ResourceType=subnet,Tags=[{{Key=Name,Value={name}}}]")["Subnet"]  # fmt: skip
        assert subnet["Tags"] == [{"Key": "Name", "Value": name}]
        subnets[name] = subnet["SubnetId"]

    def tables():
        found = cli("describe-route-tables", "--filters", f"Name=vpc-id,Values={vpc}")["RouteTables"]
        return {
            ("main" if any(a["Main"] for a in t["Associations"]) else t["RouteTableId"]): t for t in found
        }

    # step 1: the main route table exists with the local route, and no explicit associations
    step1 = tables()
    assert list(step1) == ["main"]
    main = step1["main"]
    assert main["Routes"] == [
        {
            "DestinationCidrBlock": "10.0.0.0/16",
            "GatewayId": "local",
            "Origin": "CreateRouteTable",
            "State": "active",
        }
    ]
    assert [a["Main"] for a in main["Associations"]] == [True] and "SubnetId" not in main["Associations"][0]

    # step 3: Private-RT has only the local route and no associations; all subnets are implicitly on main
    private_rt = cli("create-route-table", "--vpc-id", vpc)["RouteTable"]
    assert private_rt["Associations"] == [] and len(private_rt["Routes"]) == 1
    private_rt = private_rt["RouteTableId"]
    for subnet in subnets.values():
        found = cli("describe-route-tables", "--filters", f"Name=association.subnet-id,Values={subnet}")
        assert found["RouteTables"] == []

    # step 4: Private-1A and -1B explicitly associated with Private-RT
    for name in ("Private-1A", "Private-1B"):
        cli("associate-route-table", "--route-table-id", private_rt, "--subnet-id", subnets[name])
    step4 = tables()
    explicit = sorted(a["SubnetId"] for a in step4[private_rt]["Associations"])
    assert explicit == sorted([subnets["Private-1A"], subnets["Private-1B"]])
    assert all(a["Main"] is False for a in step4[private_rt]["Associations"])
    assert [a["Main"] for a in step4["main"]["Associations"]] == [True]

    # steps 5-6: an internet gateway, attached, and 0.0.0.0/0 to it in the main table (public subnets)
    igw = cli("create-internet-gateway")["InternetGateway"]["InternetGatewayId"]
    cli("attach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc)
    cli("create-route", "--route-table-id", main["RouteTableId"], "--destination-cidr-block", "0.0.0.0/0",
        "--gateway-id", igw)  # fmt: skip
    assert tables()["main"]["Routes"][1] == {
        "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw, "Origin": "CreateRoute", "State": "active"
    }  # fmt: skip

    # steps 7-8: a NAT gateway in Public-1A, the private table's default route to it
    allocation = cli("allocate-address", "--domain", "vpc")["AllocationId"]
    nat = cli("create-nat-gateway", "--subnet-id", subnets["Public-1A"], "--allocation-id", allocation)
    nat_id = nat["NatGateway"]["NatGatewayId"]
    overcast.advance_clock("5s")
    cli("wait", "nat-gateway-available", "--nat-gateway-ids", nat_id)
    cli("create-route", "--route-table-id", private_rt, "--destination-cidr-block", "0.0.0.0/0",
        "--nat-gateway-id", nat_id)  # fmt: skip
    step8 = tables()
    assert step8[private_rt]["Routes"][1] == {
        "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": nat_id, "Origin": "CreateRoute", "State": "active"
    }  # fmt: skip
    assert len(step8) == 2
