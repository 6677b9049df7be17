"""The Reachability Analyzer beyond the notes' stories: gateways, appliances, endpoints, transit gateways, the
paths' and analyses' own API."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of
from tests.scenarios.test_vpc_stories import analyze, codes, component_ids, group, tcp


@pytest.fixture
def public_vpc(ec2, vpc, subnet):
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0][
        "RouteTableId"
    ]
    ec2.create_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    return {"vpc": vpc, "subnet": subnet, "igw": igw, "rtb": main}


def eni(ec2, subnet, *groups):
    return ec2.create_network_interface(SubnetId=subnet, Groups=list(groups))["NetworkInterface"][
        "NetworkInterfaceId"
    ]


def test_going_out_needs_a_public_address(overcast, ec2, public_vpc):
    source = eni(ec2, public_vpc["subnet"], group(ec2, public_vpc["vpc"], "out"))
    blocked = analyze(overcast, ec2, source, public_vpc["igw"], 443)
    assert codes(blocked) == ["IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=allocation, NetworkInterfaceId=source)
    found = analyze(overcast, ec2, source, public_vpc["igw"], 443)
    assert found["NetworkPathFound"] is True
    assert component_ids(found) == [source, found["ForwardPathComponents"][1]["Component"]["Id"],
                                    *component_ids(found)[2:]]  # fmt: skip
    kinds = [c.split("-")[0] for c in component_ids(found)]
    assert kinds == ["eni", "sg", "acl", "rtb", "igw"]
    route = found["ForwardPathComponents"][3]["RouteTableRoute"]
    assert route["DestinationCidr"] == "0.0.0.0/0" and route["GatewayId"] == public_vpc["igw"]
    assert [c.split("-")[0] for c in component_ids(found, "ReturnPathComponents")] == ["acl"]


def test_security_group_blocks_inbound_from_the_internet(overcast, ec2, public_vpc):
    closed = group(ec2, public_vpc["vpc"], "closed")
    target = eni(ec2, public_vpc["subnet"], closed)
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=allocation, NetworkInterfaceId=target)
    blocked = analyze(overcast, ec2, public_vpc["igw"], target, 22)
    assert codes(blocked) == ["ENI_SG_RULES_MISMATCH"]
    explanation = blocked["Explanations"][0]
    assert explanation["Direction"] == "ingress" and explanation["SecurityGroups"][0]["Id"] == closed
    assert explanation["NetworkInterface"]["Id"] == target
    ec2.authorize_security_group_ingress(GroupId=closed, IpPermissions=[tcp(22, cidr="0.0.0.0/0")])
    assert analyze(overcast, ec2, public_vpc["igw"], target, 22)["NetworkPathFound"] is True
    # a subnet whose route table has no way back to the internet gateway does not answer
    private = ec2.create_route_table(VpcId=public_vpc["vpc"])["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=private, SubnetId=public_vpc["subnet"])
    assert codes(analyze(overcast, ec2, public_vpc["igw"], target, 22)) == ["NO_ROUTE_TO_DESTINATION"]


def test_no_route_and_same_subnet(overcast, ec2, vpc, subnet):
    allow = group(ec2, vpc, "allow", tcp(80, cidr="10.0.0.0/8"))
    one, two = eni(ec2, subnet, allow), eni(ec2, subnet, allow)
    assert analyze(overcast, ec2, one, two, 80)["NetworkPathFound"] is True
    assert analyze(overcast, ec2, one, two, 81)["NetworkPathFound"] is False
    nowhere = analyze(overcast, ec2, one, None, 80, DestinationIp="192.168.7.7")
    assert codes(nowhere) == ["NO_ROUTE_TO_DESTINATION"]


def test_group_references(overcast, ec2, vpc, subnet):
    other = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    web = group(ec2, vpc, "web")
    db = group(ec2, vpc, "db", tcp(5432, group_id=web))
    web_eni, stranger, db_eni = (
        eni(ec2, subnet, web),
        eni(ec2, subnet, group(ec2, vpc, "x")),
        eni(ec2, other, db),
    )
    assert analyze(overcast, ec2, web_eni, db_eni, 5432)["NetworkPathFound"] is True
    assert codes(analyze(overcast, ec2, stranger, db_eni, 5432)) == ["ENI_SG_RULES_MISMATCH"]
    # an egress rule naming the destination's group
    ec2.revoke_security_group_egress(
        GroupId=web, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    assert codes(analyze(overcast, ec2, web_eni, db_eni, 5432)) == ["ENI_SG_RULES_MISMATCH"]
    ec2.authorize_security_group_egress(GroupId=web, IpPermissions=[tcp(5432, group_id=db)])
    assert analyze(overcast, ec2, web_eni, db_eni, 5432)["NetworkPathFound"] is True


def test_appliance_with_source_destination_check(overcast, ec2, vpc, subnet):
    other = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    open_all = group(ec2, vpc, "open", {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
    source, appliance = eni(ec2, subnet, open_all), eni(ec2, other, open_all)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="192.168.0.0/16", NetworkInterfaceId=appliance)
    through = analyze(overcast, ec2, source, None, 443, DestinationIp="192.168.1.1")
    assert codes(through) == ["ENI_SOURCE_DEST_CHECK_RESTRICTION"]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=appliance, SourceDestCheck={"Value": False})
    still = analyze(overcast, ec2, source, None, 443, DestinationIp="192.168.1.1")
    assert codes(still) == ["NO_ROUTE_TO_DESTINATION"]  # forwarded by the appliance, then nowhere to go
    assert still["Explanations"][0]["Subnet"]["Id"] == other


def test_gateway_endpoint_reaches_its_service(overcast, ec2, vpc, subnet):
    source = eni(ec2, subnet, group(ec2, vpc, "s3-client"))
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0][
        "RouteTableId"
    ]
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", RouteTableIds=[main]
    )
    endpoint_id = endpoint["VpcEndpoint"]["VpcEndpointId"]
    found = analyze(overcast, ec2, source, endpoint_id, 443)
    assert found["NetworkPathFound"] is True and component_ids(found)[-1] == endpoint_id


def test_transit_gateway_between_vpcs(overcast, ec2):
    ends = {}
    for n in (0, 1):
        vpc = ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{n}.1.0/24")["Subnet"]["SubnetId"]
        table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0][
            "RouteTableId"
        ]
        ends[n] = (vpc, subnet, table, eni(ec2, subnet, group(ec2, vpc, f"g{n}", tcp(22, cidr="10.0.0.0/8"))))
    tgw = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    for vpc, subnet, _, _ in ends.values():
        ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subnet])
    overcast.advance_clock("5s")
    ec2.create_route(RouteTableId=ends[0][2], DestinationCidrBlock="10.1.0.0/16", TransitGatewayId=tgw)
    one_way = analyze(overcast, ec2, ends[0][3], ends[1][3], 22)
    assert codes(one_way) == ["NO_ROUTE_TO_DESTINATION"]  # no route back
    assert one_way["Explanations"][0]["RouteTable"]["Id"] == ends[1][2]
    ec2.create_route(RouteTableId=ends[1][2], DestinationCidrBlock="10.0.0.0/16", TransitGatewayId=tgw)
    found = analyze(overcast, ec2, ends[0][3], ends[1][3], 22)
    assert found["NetworkPathFound"] is True
    assert any(c.startswith("tgw-rtb-") for c in component_ids(found))


def test_paths_and_analyses_api(overcast, ec2, vpc, subnet):
    source = eni(ec2, subnet)
    with pytest.raises(ClientError) as raised:
        ec2.create_network_insights_path(Source="eni-0123456789abcdef0", Destination=source, Protocol="tcp")
    assert error_of(raised) == ("InvalidNetworkInterfaceID.NotFound", 400)
    path = ec2.create_network_insights_path(Source=source, DestinationIp="10.0.1.200", Protocol="udp", DestinationPort=53,
                                            TagSpecifications=[{"ResourceType": "network-insights-path",
                                                                "Tags": [{"Key": "Name", "Value": "dns"}]}])  # fmt: skip
    described = path["NetworkInsightsPath"]
    assert described["SourceArn"] == f"arn:aws:ec2:us-east-1:000000000000:network-interface/{source}"
    assert described["Protocol"] == "udp" and described["DestinationPort"] == 53
    path_id = described["NetworkInsightsPathId"]
    assert (
        ec2.describe_network_insights_paths(Filters=[{"Name": "protocol", "Values": ["udp"]}])[
            "NetworkInsightsPaths"
        ][0]["NetworkInsightsPathId"]
        == path_id
    )
    analysis = ec2.start_network_insights_analysis(NetworkInsightsPathId=path_id)["NetworkInsightsAnalysis"]
    assert "NetworkPathFound" not in analysis
    overcast.advance_clock("5s")
    done = ec2.describe_network_insights_analyses(NetworkInsightsPathId=path_id)["NetworkInsightsAnalyses"]
    assert [a["Status"] for a in done] == ["succeeded"] and done[0]["NetworkPathFound"] is False
    assert ec2.describe_network_insights_analyses(Filters=[{"Name": "path-found", "Values": ["false"]}])[
        "NetworkInsightsAnalyses"
    ]
    with pytest.raises(ClientError) as raised:
        ec2.delete_network_insights_path(NetworkInsightsPathId=path_id)
    assert error_of(raised) == ("DependencyViolation", 400)
    ec2.delete_network_insights_analysis(NetworkInsightsAnalysisId=analysis["NetworkInsightsAnalysisId"])
    assert ec2.delete_network_insights_path(NetworkInsightsPathId=path_id)["NetworkInsightsPathId"] == path_id


def test_ingress_routing_through_a_middlebox(overcast, ec2, public_vpc):
    vpc, igw = public_vpc["vpc"], public_vpc["igw"]
    inspection = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.9.0/24")["Subnet"]["SubnetId"]
    open_all = group(ec2, vpc, "open", {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
    appliance = eni(ec2, inspection, open_all)
    web = eni(ec2, public_vpc["subnet"], group(ec2, vpc, "web", tcp(80, cidr="0.0.0.0/0")))
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=allocation, NetworkInterfaceId=web)
    edge = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=edge, GatewayId=igw)
    ec2.create_route(RouteTableId=edge, DestinationCidrBlock="10.0.1.0/24", NetworkInterfaceId=appliance)
    assert codes(analyze(overcast, ec2, igw, web, 80)) == ["ENI_SOURCE_DEST_CHECK_RESTRICTION"]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=appliance, SourceDestCheck={"Value": False})
    found = analyze(overcast, ec2, igw, web, 80)
    assert found["NetworkPathFound"] is True
    ids = component_ids(found)
    assert ids.index(edge) < ids.index(appliance) < ids.index(web)


def test_to_the_vpn_through_propagated_routes(overcast, ec2, vpc, subnet):
    source = eni(ec2, subnet, group(ec2, vpc, "to-office"))
    vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    ec2.attach_vpn_gateway(VpnGatewayId=vgw, VpcId=vpc)
    customer = ec2.create_customer_gateway(Type="ipsec.1", BgpAsn=65000, IpAddress="198.51.100.7")[
        "CustomerGateway"
    ]
    connection = ec2.create_vpn_connection(
        Type="ipsec.1", CustomerGatewayId=customer["CustomerGatewayId"], VpnGatewayId=vgw
    )
    ec2.create_vpn_connection_route(
        VpnConnectionId=connection["VpnConnection"]["VpnConnectionId"], DestinationCidrBlock="192.168.0.0/16"
    )
    overcast.advance_clock("5s")
    assert codes(analyze(overcast, ec2, source, None, 22, DestinationIp="192.168.1.10")) == [
        "NO_ROUTE_TO_DESTINATION"
    ]
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0][
        "RouteTableId"
    ]
    ec2.enable_vgw_route_propagation(RouteTableId=table, GatewayId=vgw)
    found = analyze(overcast, ec2, source, None, 22, DestinationIp="192.168.1.10")
    assert found["NetworkPathFound"] is True, found.get("Explanations")
    assert component_ids(found)[-1] == vgw


def test_network_access_analyzer_finds_what_the_internet_reaches(overcast, ec2, public_vpc):
    vpc, igw = public_vpc["vpc"], public_vpc["igw"]
    web = eni(ec2, public_vpc["subnet"], group(ec2, vpc, "web", tcp(443, cidr="0.0.0.0/0")))
    hidden = eni(ec2, public_vpc["subnet"], group(ec2, vpc, "hidden", tcp(443, cidr="0.0.0.0/0")))
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=allocation, NetworkInterfaceId=web)
    scope = ec2.create_network_insights_access_scope(
        MatchPaths=[{
            "Source": {"ResourceStatement": {"ResourceTypes": ["AWS::EC2::InternetGateway"]}},
            "Destination": {"ResourceStatement": {"ResourceTypes": ["AWS::EC2::NetworkInterface"]},
                            "PacketHeaderStatement": {"Protocols": ["tcp"], "DestinationPorts": ["443"]}},
        }],
        ClientToken="scope-1",
    )  # fmt: skip
    scope_id = scope["NetworkInsightsAccessScope"]["NetworkInsightsAccessScopeId"]
    content = ec2.get_network_insights_access_scope_content(NetworkInsightsAccessScopeId=scope_id)
    assert content["NetworkInsightsAccessScopeContent"]["MatchPaths"][0]["Source"]["ResourceStatement"] == {
        "ResourceTypes": ["AWS::EC2::InternetGateway"]
    }
    started = ec2.start_network_insights_access_scope_analysis(
        NetworkInsightsAccessScopeId=scope_id, ClientToken="a-1"
    )
    analysis_id = started["NetworkInsightsAccessScopeAnalysis"]["NetworkInsightsAccessScopeAnalysisId"]
    assert started["NetworkInsightsAccessScopeAnalysis"]["Status"] == "running"
    assert (
        ec2.get_network_insights_access_scope_analysis_findings(
            NetworkInsightsAccessScopeAnalysisId=analysis_id
        )["AnalysisStatus"]
        == "running"
    )
    overcast.advance_clock("5s")
    analysis = ec2.describe_network_insights_access_scope_analyses(NetworkInsightsAccessScopeId=scope_id)[
        "NetworkInsightsAccessScopeAnalyses"
    ][0]
    assert (analysis["Status"], analysis["FindingsFound"], analysis["AnalyzedEniCount"]) == (
        "succeeded",
        "true",
        2,
    )
    findings = ec2.get_network_insights_access_scope_analysis_findings(
        NetworkInsightsAccessScopeAnalysisId=analysis_id
    )
    (finding,) = findings["AnalysisFindings"]
    ids = [c["Component"]["Id"] for c in finding["FindingComponents"]]
    assert ids[0] == igw and ids[-1] == web and hidden not in ids
