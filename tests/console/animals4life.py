"""The notes' Animals4Life VPC (seeds-000-001 §2.3 A/B, scenario 1): 10.16.0.0/16 in us-east-1, three AZs ×
four tiers of /20 subnets (reserved, db, app, web), an internet gateway for the web tier, a NAT gateway per
AZ for the db and app tiers, a web instance and a db instance in AZ A.

`describe()` gives it as EC2's Describe* operations answer (the console's drawing and its own rough
reachability check are tested on it as if EC2 were not served); `build(server)` makes it through EC2 itself,
with network interfaces standing for the instances while EC2 has no RunInstances.
"""

from __future__ import annotations

ZONES = ("a", "b", "c")
TIERS = ("reserved", "db", "app", "web")


def cidr(zone: int, tier: int) -> str:
    return f"10.16.{(zone * 4 + tier) * 16}.0/20"


def _tags(name: str) -> list[dict]:
    return [{"Key": "Name", "Value": name}]


def describe() -> dict:
    vpc = "vpc-0a4l0000000000001"
    subnets = [
        {
            "SubnetId": f"subnet-{tier}-{zone}",
            "VpcId": vpc,
            "CidrBlock": cidr(z, t),
            "AvailabilityZone": f"us-east-1{zone}",
            "AvailableIpAddressCount": 4091,
            "Tags": _tags(f"sn-{tier}-{zone.upper()}"),
        }
        for z, zone in enumerate(ZONES)
        for t, tier in enumerate(TIERS)
    ]
    local = {"DestinationCidrBlock": "10.16.0.0/16", "GatewayId": "local", "State": "active"}
    route_tables = [
        {
            "RouteTableId": "rtb-main0000000000",
            "VpcId": vpc,
            "Routes": [local],
            "Associations": [{"Main": True, "RouteTableId": "rtb-main0000000000"}],
            "Tags": _tags("a4l-vpc1-rt-main"),
        },
        {
            "RouteTableId": "rtb-web00000000000",
            "VpcId": vpc,
            "Routes": [
                local,
                {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-a4l0000000001", "State": "active"},
            ],
            "Associations": [{"Main": False, "SubnetId": f"subnet-web-{zone}"} for zone in ZONES],
            "Tags": _tags("a4l-vpc1-rt-web"),
        },
    ] + [
        {
            "RouteTableId": f"rtb-private{zone}000000",
            "VpcId": vpc,
            "Routes": [
                local,
                {
                    "DestinationCidrBlock": "0.0.0.0/0",
                    "NatGatewayId": f"nat-{zone}0000000001",
                    "State": "active",
                },
            ],
            "Associations": [{"Main": False, "SubnetId": f"subnet-{tier}-{zone}"} for tier in ("db", "app")],
            "Tags": _tags(f"a4l-vpc1-rt-private{zone.upper()}"),
        }
        for zone in ZONES
    ]
    web_sg = {
        "GroupId": "sg-web000000000001",
        "VpcId": vpc,
        "IpPermissions": [
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
        "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    }
    db_sg = {
        "GroupId": "sg-db0000000000001",
        "VpcId": vpc,
        "IpPermissions": [
            {
                "IpProtocol": "tcp",
                "FromPort": 3306,
                "ToPort": 3306,
                "UserIdGroupPairs": [{"GroupId": "sg-web000000000001"}],
            }
        ],
        "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    }
    instances = [
        {
            "InstanceId": "i-web0000000000001",
            "InstanceType": "t3.micro",
            "SubnetId": "subnet-web-a",
            "VpcId": vpc,
            "PrivateIpAddress": "10.16.48.10",
            "PublicIpAddress": "3.80.1.10",
            "State": {"Name": "running"},
            "SecurityGroups": [{"GroupId": "sg-web000000000001"}],
            "Tags": _tags("a4l-web"),
        },
        {
            "InstanceId": "i-db00000000000001",
            "InstanceType": "t3.micro",
            "SubnetId": "subnet-db-a",
            "VpcId": vpc,
            "PrivateIpAddress": "10.16.16.20",
            "State": {"Name": "running"},
            "SecurityGroups": [{"GroupId": "sg-db0000000000001"}],
            "Tags": _tags("a4l-db"),
        },
    ]
    return {
        "vpcs": [
            {"VpcId": vpc, "CidrBlock": "10.16.0.0/16", "State": "available", "Tags": _tags("a4l-vpc1")}
        ],
        "subnets": subnets,
        "routeTables": route_tables,
        "igws": [
            {"InternetGatewayId": "igw-a4l0000000001", "Attachments": [{"VpcId": vpc, "State": "available"}]}
        ],
        "nats": [
            {
                "NatGatewayId": f"nat-{zone}0000000001",
                "SubnetId": f"subnet-web-{zone}",
                "VpcId": vpc,
                "State": "available",
                "NatGatewayAddresses": [{"PublicIp": f"3.80.2.{index}"}],
            }
            for index, zone in enumerate(ZONES)
        ],
        "instances": instances,
        "groups": [web_sg, db_sg],
    }


def build(server) -> dict[str, str]:
    """The same VPC made through EC2's API: the ids of the VPC, its internet gateway and the web and db
    interfaces (the web one with an Elastic IP)."""
    ec2 = server.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.16.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc], Tags=_tags("a4l-vpc1"))
    subnet = {}
    for z, zone in enumerate(ZONES):
        for t, tier in enumerate(TIERS):
            made = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr(z, t), AvailabilityZone=f"us-east-1{zone}")
            subnet[(tier, zone)] = made["Subnet"]["SubnetId"]
            ec2.create_tags(Resources=[subnet[(tier, zone)]], Tags=_tags(f"sn-{tier}-{zone.upper()}"))
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    web = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=web, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    nats = {}
    for zone in ZONES:
        ec2.associate_route_table(RouteTableId=web, SubnetId=subnet[("web", zone)])
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        made = ec2.create_nat_gateway(SubnetId=subnet[("web", zone)], AllocationId=allocation)["NatGateway"]
        nats[zone] = made["NatGatewayId"]
    for zone in ZONES:
        private = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=private, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nats[zone])
        for tier in ("db", "app"):
            ec2.associate_route_table(RouteTableId=private, SubnetId=subnet[(tier, zone)])
    web_sg = ec2.create_security_group(GroupName="a4l-web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=web_sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    db_sg = ec2.create_security_group(GroupName="a4l-db", Description="db", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=db_sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "UserIdGroupPairs": [{"GroupId": web_sg}]}
        ],
    )
    interfaces = {}
    for tier, group in (("web", web_sg), ("db", db_sg)):
        eni = ec2.create_network_interface(
            SubnetId=subnet[(tier, "a")], Groups=[group], Description=f"a4l-{tier}"
        )
        interfaces[tier] = eni["NetworkInterface"]["NetworkInterfaceId"]
    address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=address, NetworkInterfaceId=interfaces["web"])
    return {"vpc": vpc, "igw": igw, "web": interfaces["web"], "db": interfaces["db"], "nat-a": nats["a"]}
