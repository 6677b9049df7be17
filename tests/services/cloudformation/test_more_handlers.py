"""A stack per service group of the resource types added for the services main grew (Auto Scaling, EC2's
launch templates and networking, EventBridge's archives, connections, API destinations, Scheduler, Pipes,
CloudTrail, Cognito identity pools, SSM documents, CloudWatch composite alarms): created, read back through
the service with boto3, updated, deleted."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of
from tests.services.cloudformation.helpers import outputs
from tests.services.cloudformation.test_service_handlers import deploy, destroy, needs, update


def _image(overcast) -> str:
    images = overcast.client("ec2").describe_images(
        Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-*-x86_64"]}]
    )["Images"]
    return images[0]["ImageId"]


def autoscaling_template(image: str, max_size: int, version_note: str) -> dict:
    return {
        "Resources": {
            "Template": {
                "Type": "AWS::EC2::LaunchTemplate",
                "Properties": {
                    "LaunchTemplateData": {
                        "ImageId": image,
                        "InstanceType": "t3.micro",
                        "Monitoring": {"Enabled": "true"},
                        "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": "2"},
                        "TagSpecifications": [
                            {"ResourceType": "instance", "Tags": [{"Key": "patched", "Value": "true"}]}
                        ],
                    },
                    "VersionDescription": version_note,
                },
            },
            "Config": {
                "Type": "AWS::AutoScaling::LaunchConfiguration",
                "Properties": {"ImageId": image, "InstanceType": "t3.micro"},
            },
            "Group": {
                "Type": "AWS::AutoScaling::AutoScalingGroup",
                "Properties": {
                    "MinSize": "0",
                    "MaxSize": str(max_size),
                    "DesiredCapacity": "0",
                    "AvailabilityZones": {"Fn::GetAZs": ""},
                    "LaunchTemplate": {
                        "LaunchTemplateId": {"Ref": "Template"},
                        "Version": {"Fn::GetAtt": ["Template", "LatestVersionNumber"]},
                    },
                    "Tags": [{"Key": "team", "Value": "web", "PropagateAtLaunch": True}],
                },
            },
            "Other": {
                "Type": "AWS::AutoScaling::AutoScalingGroup",
                "Properties": {
                    "MinSize": "0",
                    "MaxSize": "1",
                    "AvailabilityZones": {"Fn::GetAZs": ""},
                    "LaunchConfigurationName": {"Ref": "Config"},
                },
            },
            "Policy": {
                "Type": "AWS::AutoScaling::ScalingPolicy",
                "Properties": {
                    "AutoScalingGroupName": {"Ref": "Group"},
                    "PolicyType": "TargetTrackingScaling",
                    "TargetTrackingConfiguration": {
                        "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
                        "TargetValue": 50,
                    },
                },
            },
            "Hook": {
                "Type": "AWS::AutoScaling::LifecycleHook",
                "Properties": {
                    "AutoScalingGroupName": {"Ref": "Group"},
                    "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
                    "HeartbeatTimeout": str(max_size * 100),
                    "DefaultResult": "CONTINUE",
                },
            },
            "Nightly": {
                "Type": "AWS::AutoScaling::ScheduledAction",
                "Properties": {
                    "AutoScalingGroupName": {"Ref": "Group"},
                    "Recurrence": "0 22 * * *",
                    "MinSize": "0",
                    "MaxSize": str(max_size),
                    "DesiredCapacity": "0",
                },
            },
        },
        "Outputs": {
            "Hook": {"Value": {"Ref": "Hook"}},
            "Nightly": {"Value": {"Ref": "Nightly"}},
            "Group": {"Value": {"Ref": "Group"}},
            "Other": {"Value": {"Ref": "Other"}},
            "Config": {"Value": {"Ref": "Config"}},
            "Template": {"Value": {"Ref": "Template"}},
            "Latest": {"Value": {"Fn::GetAtt": ["Template", "LatestVersionNumber"]}},
            "Policy": {"Value": {"Ref": "Policy"}},
            "PolicyName": {"Value": {"Fn::GetAtt": ["Policy", "PolicyName"]}},
        },
    }


def test_auto_scaling_groups_launch_templates_and_policies(overcast):
    needs(overcast, "autoscaling", "describe_auto_scaling_groups")
    cfn, autoscaling, ec2 = (overcast.client(name) for name in ("cloudformation", "autoscaling", "ec2"))
    image = _image(overcast)
    stack = deploy(cfn, "scaling", autoscaling_template(image, 2, "first"))
    values = outputs(stack)
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[values["Group"]])[
        "AutoScalingGroups"
    ][0]
    assert (group["MinSize"], group["MaxSize"], group["DesiredCapacity"]) == (0, 2, 0)
    assert group["LaunchTemplate"]["LaunchTemplateId"] == values["Template"]
    assert [(t["Key"], t["Value"], t["PropagateAtLaunch"]) for t in group["Tags"]] == [("team", "web", True)]
    other = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[values["Other"]])[
        "AutoScalingGroups"
    ]
    assert other[0]["LaunchConfigurationName"] == values["Config"]
    config = autoscaling.describe_launch_configurations(LaunchConfigurationNames=[values["Config"]])
    assert config["LaunchConfigurations"][0]["ImageId"] == image
    policy = autoscaling.describe_policies(AutoScalingGroupName=values["Group"])["ScalingPolicies"][0]
    assert (policy["PolicyARN"], policy["PolicyName"]) == (values["Policy"], values["PolicyName"])
    assert policy["TargetTrackingConfiguration"]["TargetValue"] == 50.0
    assert values["Latest"] == "1"
    # Template text becomes the API's types: "true" a boolean where the shape says so, a tag value stays text.
    data = ec2.describe_launch_template_versions(LaunchTemplateId=values["Template"])[
        "LaunchTemplateVersions"
    ][0]["LaunchTemplateData"]
    assert (data["Monitoring"], data["MetadataOptions"]["HttpPutResponseHopLimit"]) == ({"Enabled": True}, 2)
    assert data["TagSpecifications"][0]["Tags"] == [{"Key": "patched", "Value": "true"}]
    hook = autoscaling.describe_lifecycle_hooks(AutoScalingGroupName=values["Group"])["LifecycleHooks"][0]
    assert (hook["LifecycleHookName"], hook["HeartbeatTimeout"]) == (values["Hook"], 200)
    action = autoscaling.describe_scheduled_actions(AutoScalingGroupName=values["Group"])[
        "ScheduledUpdateGroupActions"
    ]
    assert [(a["ScheduledActionName"], a["Recurrence"], a["MaxSize"]) for a in action] == [
        (values["Nightly"], "0 22 * * *", 2)
    ]

    # A new launch template version becomes the default; the group follows it and grows its maximum.
    values = outputs(update(cfn, "scaling", autoscaling_template(image, 4, "second")))
    assert values["Latest"] == "2"
    template = ec2.describe_launch_templates(LaunchTemplateIds=[values["Template"]])["LaunchTemplates"][0]
    assert (template["DefaultVersionNumber"], template["LatestVersionNumber"]) == (2, 2)
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[values["Group"]])[
        "AutoScalingGroups"
    ][0]
    assert (group["MaxSize"], group["LaunchTemplate"]["Version"]) == (4, "2")
    hook = autoscaling.describe_lifecycle_hooks(AutoScalingGroupName=values["Group"])["LifecycleHooks"][0]
    assert hook["HeartbeatTimeout"] == 400
    action = autoscaling.describe_scheduled_actions(AutoScalingGroupName=values["Group"])[
        "ScheduledUpdateGroupActions"
    ]
    assert action[0]["MaxSize"] == 4

    destroy(cfn, stack)
    assert (
        autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[values["Group"]])["AutoScalingGroups"]
        == []
    )
    assert (
        autoscaling.describe_launch_configurations(LaunchConfigurationNames=[values["Config"]])[
            "LaunchConfigurations"
        ]
        == []
    )
    with pytest.raises(ClientError) as gone:
        ec2.describe_launch_templates(LaunchTemplateIds=[values["Template"]])
    assert code_of(gone) == "InvalidLaunchTemplateId.NotFound"


def network_template(port: int, tag: str) -> dict:
    return {
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.40.0.0/16"}},
            "Peer": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.41.0.0/16"}},
            "Subnet": {
                "Type": "AWS::EC2::Subnet",
                "Properties": {
                    "VpcId": {"Ref": "Vpc"},
                    "CidrBlock": "10.40.0.0/24",
                    "AvailabilityZone": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
                },
            },
            "Acl": {
                "Type": "AWS::EC2::NetworkAcl",
                "Properties": {"VpcId": {"Ref": "Vpc"}, "Tags": [{"Key": "tier", "Value": tag}]},
            },
            "Https": {
                "Type": "AWS::EC2::NetworkAclEntry",
                "Properties": {
                    "NetworkAclId": {"Ref": "Acl"},
                    "RuleNumber": 100,
                    "Protocol": 6,
                    "RuleAction": "allow",
                    "CidrBlock": "0.0.0.0/0",
                    "PortRange": {"From": port, "To": port},
                },
            },
            "AclAssociation": {
                "Type": "AWS::EC2::SubnetNetworkAclAssociation",
                "Properties": {"SubnetId": {"Ref": "Subnet"}, "NetworkAclId": {"Ref": "Acl"}},
            },
            "EgressOnly": {
                "Type": "AWS::EC2::EgressOnlyInternetGateway",
                "Properties": {"VpcId": {"Ref": "Vpc"}},
            },
            "Dhcp": {
                "Type": "AWS::EC2::DHCPOptions",
                "Properties": {"DomainName": "corp.example", "DomainNameServers": ["AmazonProvidedDNS"]},
            },
            "DhcpAssociation": {
                "Type": "AWS::EC2::VPCDHCPOptionsAssociation",
                "Properties": {"VpcId": {"Ref": "Vpc"}, "DhcpOptionsId": {"Ref": "Dhcp"}},
            },
            "Peering": {
                "Type": "AWS::EC2::VPCPeeringConnection",
                "Properties": {"VpcId": {"Ref": "Vpc"}, "PeerVpcId": {"Ref": "Peer"}},
            },
            "FlowGroup": {"Type": "AWS::Logs::LogGroup"},
            "FlowRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                },
            },
            "Flow": {
                "Type": "AWS::EC2::FlowLog",
                "Properties": {
                    "ResourceId": {"Ref": "Vpc"},
                    "ResourceType": "VPC",
                    "TrafficType": "ALL",
                    "LogGroupName": {"Ref": "FlowGroup"},
                    "DeliverLogsPermissionArn": {"Fn::GetAtt": ["FlowRole", "Arn"]},
                },
            },
            "Interface": {
                "Type": "AWS::EC2::NetworkInterface",
                "Properties": {
                    "SubnetId": {"Ref": "Subnet"},
                    "Description": f"{tag} interface",
                    "SecondaryPrivateIpAddressCount": 1,
                    "SourceDestCheck": False,
                },
            },
            "Offices": {
                "Type": "AWS::EC2::PrefixList",
                "Properties": {
                    "PrefixListName": "offices",
                    "AddressFamily": "IPv4",
                    "MaxEntries": 5,
                    "Entries": [{"Cidr": "198.51.100.0/24", "Description": "paris"}]
                    + ([{"Cidr": "203.0.113.0/24", "Description": "lyon"}] if port != 443 else []),
                },
            },
            "ExtraCidr": {
                "Type": "AWS::EC2::VPCCidrBlock",
                "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.42.0.0/16"},
            },
            "Spread": {"Type": "AWS::EC2::PlacementGroup", "Properties": {"Strategy": "spread"}},
            "Hub": {
                "Type": "AWS::EC2::TransitGateway",
                "Properties": {
                    "Description": "hub",
                    "DefaultRouteTableAssociation": "disable",
                    "DefaultRouteTablePropagation": "disable",
                },
            },
            "HubTable": {
                "Type": "AWS::EC2::TransitGatewayRouteTable",
                "Properties": {"TransitGatewayId": {"Ref": "Hub"}},
            },
            "HubAssociation": {
                "Type": "AWS::EC2::TransitGatewayRouteTableAssociation",
                "Properties": {
                    "TransitGatewayRouteTableId": {"Ref": "HubTable"},
                    "TransitGatewayAttachmentId": {"Ref": "HubAttachment"},
                },
            },
            "HubPropagation": {
                "Type": "AWS::EC2::TransitGatewayRouteTablePropagation",
                "Properties": {
                    "TransitGatewayRouteTableId": {"Ref": "HubTable"},
                    "TransitGatewayAttachmentId": {"Ref": "HubAttachment"},
                },
            },
            "Blackhole": {
                "Type": "AWS::EC2::TransitGatewayRoute",
                "Properties": {
                    "TransitGatewayRouteTableId": {"Ref": "HubTable"},
                    "DestinationCidrBlock": "192.0.2.0/24",
                    "Blackhole": True,
                },
            },
            "HubAttachment": {
                "Type": "AWS::EC2::TransitGatewayVpcAttachment",
                "Properties": {
                    "TransitGatewayId": {"Ref": "Hub"},
                    "VpcId": {"Ref": "Vpc"},
                    "SubnetIds": [{"Ref": "Subnet"}],
                },
            },
        },
        "Outputs": {
            name: {"Value": {"Ref": name}}
            for name in (
                "Vpc",
                "Subnet",
                "Acl",
                "AclAssociation",
                "EgressOnly",
                "Dhcp",
                "Peering",
                "Flow",
                "Hub",
                "HubAttachment",
                "Interface",
                "Offices",
                "ExtraCidr",
                "Spread",
                "HubTable",
            )
        }
        | {
            "HubArn": {"Value": {"Fn::GetAtt": ["Hub", "TransitGatewayArn"]}},
            "Secondary": {
                "Value": {"Fn::Select": [0, {"Fn::GetAtt": ["Interface", "SecondaryPrivateIpAddresses"]}]}
            },
            "OfficesVersion": {"Value": {"Fn::GetAtt": ["Offices", "Version"]}},
        },
    }


def test_network_acls_peering_flow_logs_and_transit_gateways(overcast):
    needs(overcast, "ec2", "describe_vpcs")
    cfn, ec2 = overcast.client("cloudformation"), overcast.client("ec2")
    stack = deploy(cfn, "network-more", network_template(443, "web"))
    values = outputs(stack)
    acl = ec2.describe_network_acls(NetworkAclIds=[values["Acl"]])["NetworkAcls"][0]
    assert [a["SubnetId"] for a in acl["Associations"]] == [values["Subnet"]]
    assert acl["Associations"][0]["NetworkAclAssociationId"] == values["AclAssociation"]
    rules = [(e["RuleNumber"], e.get("PortRange")) for e in acl["Entries"] if not e["Egress"]]
    assert (100, {"From": 443, "To": 443}) in rules
    gateway = ec2.describe_egress_only_internet_gateways(EgressOnlyInternetGatewayIds=[values["EgressOnly"]])
    assert gateway["EgressOnlyInternetGateways"][0]["Attachments"][0]["VpcId"] == values["Vpc"]
    assert ec2.describe_vpcs(VpcIds=[values["Vpc"]])["Vpcs"][0]["DhcpOptionsId"] == values["Dhcp"]
    peering = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[values["Peering"]])
    assert peering["VpcPeeringConnections"][0]["Status"]["Code"] == "active"
    assert ec2.describe_flow_logs(FlowLogIds=[values["Flow"]])["FlowLogs"][0]["ResourceId"] == values["Vpc"]
    hub = ec2.describe_transit_gateways(TransitGatewayIds=[values["Hub"]])["TransitGateways"][0]
    assert (hub["State"], hub["TransitGatewayArn"]) == ("available", values["HubArn"])
    attachment = ec2.describe_transit_gateway_vpc_attachments(
        TransitGatewayAttachmentIds=[values["HubAttachment"]]
    )
    assert attachment["TransitGatewayVpcAttachments"][0]["State"] == "available"

    interface = ec2.describe_network_interfaces(NetworkInterfaceIds=[values["Interface"]])[
        "NetworkInterfaces"
    ][0]
    assert (interface["Description"], interface["SourceDestCheck"]) == ("web interface", False)
    assert [a["PrivateIpAddress"] for a in interface["PrivateIpAddresses"] if not a["Primary"]] == [
        values["Secondary"]
    ]
    entries = ec2.get_managed_prefix_list_entries(PrefixListId=values["Offices"])["Entries"]
    assert [e["Cidr"] for e in entries] == ["198.51.100.0/24"] and values["OfficesVersion"] == "1"
    cidrs = ec2.describe_vpcs(VpcIds=[values["Vpc"]])["Vpcs"][0]["CidrBlockAssociationSet"]
    assert [(c["AssociationId"], c["CidrBlock"]) for c in cidrs if c["CidrBlock"] == "10.42.0.0/16"] == [
        (values["ExtraCidr"], "10.42.0.0/16")
    ]
    assert (
        ec2.describe_placement_groups(GroupNames=[values["Spread"]])["PlacementGroups"][0]["Strategy"]
        == "spread"
    )
    table = values["HubTable"]
    attachment = ec2.describe_transit_gateway_attachments(
        TransitGatewayAttachmentIds=[values["HubAttachment"]]
    )
    assert attachment["TransitGatewayAttachments"][0]["Association"]["TransitGatewayRouteTableId"] == table
    # The propagation puts the VPC's CIDRs (its second one too) in the table; the blackhole route is static.
    routes = ec2.search_transit_gateway_routes(
        TransitGatewayRouteTableId=table, Filters=[{"Name": "state", "Values": ["active", "blackhole"]}]
    )["Routes"]
    assert sorted((r["DestinationCidrBlock"], r["Type"], r["State"]) for r in routes) == [
        ("10.40.0.0/16", "propagated", "active"),
        ("10.42.0.0/16", "propagated", "active"),
        ("192.0.2.0/24", "static", "blackhole"),
    ]

    # The entry's port changes in place; the ACL is retagged; the interface is described anew; the prefix list
    # gets a second entry (its version 2).
    update(cfn, "network-more", network_template(8443, "api"))
    acl = ec2.describe_network_acls(NetworkAclIds=[values["Acl"]])["NetworkAcls"][0]
    rules = [(e["RuleNumber"], e.get("PortRange")) for e in acl["Entries"] if not e["Egress"]]
    assert (100, {"From": 8443, "To": 8443}) in rules
    assert acl["Tags"] == [{"Key": "tier", "Value": "api"}]
    interface = ec2.describe_network_interfaces(NetworkInterfaceIds=[values["Interface"]])[
        "NetworkInterfaces"
    ][0]
    assert interface["Description"] == "api interface"
    entries = ec2.get_managed_prefix_list_entries(PrefixListId=values["Offices"])["Entries"]
    assert sorted(e["Cidr"] for e in entries) == ["198.51.100.0/24", "203.0.113.0/24"]
    assert outputs(cfn.describe_stacks(StackName="network-more")["Stacks"][0])["OfficesVersion"] == "2"

    destroy(cfn, stack)
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [values["Vpc"]]}])["Vpcs"] == []
    hub = ec2.describe_transit_gateways(TransitGatewayIds=[values["Hub"]])["TransitGateways"]
    assert [h["State"] for h in hub] in ([], ["deleting"], ["deleted"])


QUEUE_ROLE = {
    "Type": "AWS::IAM::Role",
    "Properties": {
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["scheduler.amazonaws.com", "pipes.amazonaws.com"]},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        "Policies": [
            {
                "PolicyName": "queues",
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}],
                },
            }
        ],
    },
}


def eventbridge_template(retention: int, rate: str, batch: int, endpoint: str) -> dict:
    return {
        "Resources": {
            "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "orders-bus"}},
            "BusPolicy": {
                "Type": "AWS::Events::EventBusPolicy",
                "Properties": {
                    "EventBusName": {"Ref": "Bus"},
                    "StatementId": "partner",
                    "Action": "events:PutEvents",
                    "Principal": "111122223333",
                },
            },
            "Archive": {
                "Type": "AWS::Events::Archive",
                "Properties": {
                    "SourceArn": {"Fn::GetAtt": ["Bus", "Arn"]},
                    "EventPattern": {"source": ["shop"]},
                    "RetentionDays": retention,
                },
            },
            "Connection": {
                "Type": "AWS::Events::Connection",
                "Properties": {
                    "AuthorizationType": "API_KEY",
                    "AuthParameters": {
                        "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "s3cret"}
                    },
                },
            },
            "Destination": {
                "Type": "AWS::Events::ApiDestination",
                "Properties": {
                    "ConnectionArn": {"Fn::GetAtt": ["Connection", "Arn"]},
                    "InvocationEndpoint": endpoint,
                    "HttpMethod": "POST",
                    "InvocationRateLimitPerSecond": "10",
                },
            },
            "Source": {"Type": "AWS::SQS::Queue"},
            "Sink": {"Type": "AWS::SQS::Queue"},
            "Role": QUEUE_ROLE,
            "Group": {"Type": "AWS::Scheduler::ScheduleGroup", "Properties": {"Name": "nightly"}},
            "Schedule": {
                "Type": "AWS::Scheduler::Schedule",
                "Properties": {
                    "GroupName": {"Ref": "Group"},
                    "ScheduleExpression": rate,
                    "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": "5"},
                    "Target": {
                        "Arn": {"Fn::GetAtt": ["Sink", "Arn"]},
                        "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                        "Input": '{"from": "schedule"}',
                        "RetryPolicy": {"MaximumRetryAttempts": "3"},
                    },
                },
            },
            "Pipe": {
                "Type": "AWS::Pipes::Pipe",
                "Properties": {
                    "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Source": {"Fn::GetAtt": ["Source", "Arn"]},
                    "SourceParameters": {"SqsQueueParameters": {"BatchSize": str(batch)}},
                    "Target": {"Fn::GetAtt": ["Sink", "Arn"]},
                },
            },
        },
        "Outputs": {
            **{
                name: {"Value": {"Ref": name}}
                for name in (
                    "Bus",
                    "BusPolicy",
                    "Archive",
                    "Connection",
                    "Destination",
                    "Group",
                    "Schedule",
                    "Pipe",
                )
            },  # fmt: skip
            "ArchiveArn": {"Value": {"Fn::GetAtt": ["Archive", "Arn"]}},
            "ConnectionArn": {"Value": {"Fn::GetAtt": ["Connection", "Arn"]}},
            "SecretArn": {"Value": {"Fn::GetAtt": ["Connection", "SecretArn"]}},
            "DestinationArn": {"Value": {"Fn::GetAtt": ["Destination", "Arn"]}},
            "ScheduleArn": {"Value": {"Fn::GetAtt": ["Schedule", "Arn"]}},
            "GroupArn": {"Value": {"Fn::GetAtt": ["Group", "Arn"]}},
            "PipeArn": {"Value": {"Fn::GetAtt": ["Pipe", "Arn"]}},
            "PipeState": {"Value": {"Fn::GetAtt": ["Pipe", "CurrentState"]}},
        },
    }


def test_eventbridge_archives_connections_destinations_schedules_and_pipes(overcast):
    needs(overcast, "scheduler", "list_schedule_groups")
    needs(overcast, "pipes", "list_pipes")
    cfn, events = overcast.client("cloudformation"), overcast.client("events")
    scheduler, pipes = overcast.client("scheduler"), overcast.client("pipes")
    template = eventbridge_template(7, "rate(1 hour)", 5, "https://api.example.com/orders")
    stack = deploy(cfn, "eventbridge", template)
    values = outputs(stack)
    assert values["BusPolicy"] == "partner"
    policy = json.loads(events.describe_event_bus(Name="orders-bus")["Policy"])
    assert [s["Principal"] for s in policy["Statement"] if s["Sid"] == "partner"] == [
        {"AWS": "arn:aws:iam::111122223333:root"}
    ]
    archive = events.describe_archive(ArchiveName=values["Archive"])
    assert (archive["ArchiveArn"], archive["RetentionDays"]) == (values["ArchiveArn"], 7)
    assert json.loads(archive["EventPattern"]) == {"source": ["shop"]}
    connection = events.describe_connection(Name=values["Connection"])
    assert (connection["ConnectionArn"], connection["SecretArn"]) == (
        values["ConnectionArn"],
        values["SecretArn"],
    )
    destination = events.describe_api_destination(Name=values["Destination"])
    assert (destination["ApiDestinationArn"], destination["InvocationRateLimitPerSecond"]) == (
        values["DestinationArn"],
        10,
    )
    assert scheduler.get_schedule_group(Name="nightly")["Arn"] == values["GroupArn"]
    schedule = scheduler.get_schedule(Name=values["Schedule"], GroupName="nightly")
    assert (schedule["Arn"], schedule["ScheduleExpression"]) == (values["ScheduleArn"], "rate(1 hour)")
    assert schedule["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5}
    assert schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 3
    pipe = pipes.describe_pipe(Name=values["Pipe"])
    assert (pipe["Arn"], pipe["CurrentState"], values["PipeState"]) == (
        values["PipeArn"],
        "RUNNING",
        "RUNNING",
    )
    assert pipe["SourceParameters"]["SqsQueueParameters"]["BatchSize"] == 5

    update(cfn, "eventbridge", eventbridge_template(30, "rate(2 hours)", 8, "https://api.example.com/v2"))
    assert events.describe_archive(ArchiveName=values["Archive"])["RetentionDays"] == 30
    destination = events.describe_api_destination(Name=values["Destination"])
    assert destination["InvocationEndpoint"] == "https://api.example.com/v2"
    schedule = scheduler.get_schedule(Name=values["Schedule"], GroupName="nightly")
    assert schedule["ScheduleExpression"] == "rate(2 hours)"
    pipe = pipes.describe_pipe(Name=values["Pipe"])
    assert pipe["SourceParameters"]["SqsQueueParameters"]["BatchSize"] == 8

    destroy(cfn, stack)
    assert [b["Name"] for b in events.list_event_buses()["EventBuses"]] == ["default"]
    assert events.list_archives()["Archives"] == []
    assert events.list_connections()["Connections"] == []
    assert events.list_api_destinations()["ApiDestinations"] == []
    assert [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]] == ["default"]
    assert pipes.list_pipes()["Pipes"] == []


def audit_template(logging: bool, rule: str, document_step: str, unauthenticated: bool) -> dict:
    return {
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "BucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "Bucket"},
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                                "Action": "s3:GetBucketAcl",
                                "Resource": {"Fn::GetAtt": ["Bucket", "Arn"]},
                            },
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                                "Action": "s3:PutObject",
                                "Resource": {"Fn::Sub": "${Bucket.Arn}/AWSLogs/${AWS::AccountId}/*"},
                                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
                            },
                        ],
                    },
                },
            },
            "Trail": {
                "Type": "AWS::CloudTrail::Trail",
                "DependsOn": "BucketPolicy",
                "Properties": {
                    "S3BucketName": {"Ref": "Bucket"},
                    "IsLogging": logging,
                    "IsMultiRegionTrail": True,
                    "EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
                },
            },
            "Pool": {
                "Type": "AWS::Cognito::IdentityPool",
                "Properties": {"AllowUnauthenticatedIdentities": unauthenticated},
            },
            "GuestRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                                "Action": "sts:AssumeRoleWithWebIdentity",
                            }
                        ],
                    }
                },
            },
            "Roles": {
                "Type": "AWS::Cognito::IdentityPoolRoleAttachment",
                "Properties": {
                    "IdentityPoolId": {"Ref": "Pool"},
                    "Roles": {"unauthenticated": {"Fn::GetAtt": ["GuestRole", "Arn"]}},
                },
            },
            "Runbook": {
                "Type": "AWS::SSM::Document",
                "Properties": {
                    "DocumentType": "Command",
                    "UpdateMethod": "NewVersion",
                    "Content": {
                        "schemaVersion": "2.2",
                        "description": "say hello",
                        "mainSteps": [
                            {
                                "action": "aws:runShellScript",
                                "name": document_step,
                                "inputs": {"runCommand": ["echo hello"]},
                            }
                        ],
                    },
                },
            },
            "Cpu": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "MetricName": "CPUUtilization",
                    "Namespace": "AWS/EC2",
                    "Statistic": "Average",
                    "Period": 60,
                    "EvaluationPeriods": 1,
                    "Threshold": 80,
                    "ComparisonOperator": "GreaterThanThreshold",
                },
            },
            "Memory": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "MetricName": "MemoryUtilization",
                    "Namespace": "CWAgent",
                    "Statistic": "Average",
                    "Period": 60,
                    "EvaluationPeriods": 1,
                    "Threshold": 90,
                    "ComparisonOperator": "GreaterThanThreshold",
                },
            },
            "Both": {
                "Type": "AWS::CloudWatch::CompositeAlarm",
                "Properties": {
                    "AlarmRule": {"Fn::Sub": rule},
                    "AlarmDescription": "cpu and memory",
                },
            },
        },
        "Outputs": {
            **{name: {"Value": {"Ref": name}} for name in ("Trail", "Pool", "Runbook", "Both", "Bucket")},
            "TrailArn": {"Value": {"Fn::GetAtt": ["Trail", "Arn"]}},
            "PoolName": {"Value": {"Fn::GetAtt": ["Pool", "Name"]}},
            "GuestRole": {"Value": {"Fn::GetAtt": ["GuestRole", "Arn"]}},
            "BothArn": {"Value": {"Fn::GetAtt": ["Both", "Arn"]}},
        },
    }


def test_trail_identity_pool_document_and_composite_alarm(overcast):
    needs(overcast, "cloudtrail", "describe_trails")
    needs(overcast, "cognito-identity", "list_identity_pools", MaxResults=1)
    cfn = overcast.client("cloudformation")
    trails, identity = overcast.client("cloudtrail"), overcast.client("cognito-identity")
    ssm, cloudwatch = overcast.client("ssm"), overcast.client("cloudwatch")
    and_rule = "ALARM(${Cpu}) AND ALARM(${Memory})"
    stack = deploy(cfn, "audit", audit_template(True, and_rule, "hello", False))
    values = outputs(stack)
    trail = trails.describe_trails(trailNameList=[values["Trail"]])["trailList"][0]
    assert (trail["TrailARN"], trail["S3BucketName"], trail["IsMultiRegionTrail"]) == (
        values["TrailArn"],
        values["Bucket"],
        True,
    )
    assert trails.get_trail_status(Name=values["Trail"])["IsLogging"] is True
    selectors = trails.get_event_selectors(TrailName=values["Trail"])["EventSelectors"]
    assert selectors[0]["ReadWriteType"] == "WriteOnly"
    pool = identity.describe_identity_pool(IdentityPoolId=values["Pool"])
    assert (pool["IdentityPoolName"], pool["AllowUnauthenticatedIdentities"]) == (values["PoolName"], False)
    roles = identity.get_identity_pool_roles(IdentityPoolId=values["Pool"])["Roles"]
    assert roles == {"unauthenticated": values["GuestRole"]}
    document = ssm.describe_document(Name=values["Runbook"])["Document"]
    assert (document["DocumentType"], document["DefaultVersion"]) == ("Command", "1")
    composite = cloudwatch.describe_alarms(AlarmNames=[values["Both"]], AlarmTypes=["CompositeAlarm"])[
        "CompositeAlarms"
    ][0]
    assert composite["AlarmArn"] == values["BothArn"]
    assert composite["AlarmRule"].startswith("ALARM(") and " AND " in composite["AlarmRule"]

    # Logging stops; the rule, the pool's guest access and the document's step change in place.
    update(cfn, "audit", audit_template(False, "ALARM(${Cpu}) OR ALARM(${Memory})", "greet", True))
    assert trails.get_trail_status(Name=values["Trail"])["IsLogging"] is False
    assert (
        identity.describe_identity_pool(IdentityPoolId=values["Pool"])["AllowUnauthenticatedIdentities"]
        is True
    )
    document = ssm.describe_document(Name=values["Runbook"])["Document"]
    assert (document["DefaultVersion"], document["LatestVersion"]) == ("2", "2")
    content = json.loads(ssm.get_document(Name=values["Runbook"])["Content"])
    assert content["mainSteps"][0]["name"] == "greet"
    composite = cloudwatch.describe_alarms(AlarmNames=[values["Both"]], AlarmTypes=["CompositeAlarm"])[
        "CompositeAlarms"
    ][0]
    assert " OR " in composite["AlarmRule"]

    # The trail's logs stay in its bucket, which the stack keeps (a bucket with objects cannot be deleted).
    update(cfn, "audit", {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"}}})
    destroy(cfn, stack)
    assert trails.describe_trails(trailNameList=[values["Trail"]])["trailList"] == []
    with pytest.raises(ClientError) as gone:
        identity.describe_identity_pool(IdentityPoolId=values["Pool"])
    assert code_of(gone) == "ResourceNotFoundException"
    assert ssm.list_documents(Filters=[{"Key": "Owner", "Values": ["Self"]}])["DocumentIdentifiers"] == []
    assert cloudwatch.describe_alarms(AlarmTypes=["CompositeAlarm", "MetricAlarm"])["CompositeAlarms"] == []


def test_kms_replica_key(overcast):
    kms_west = overcast.client("kms", region="us-west-2")
    primary = kms_west.create_key(MultiRegion=True, Description="primary")["KeyMetadata"]
    cfn, kms = overcast.client("cloudformation"), overcast.client("kms")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }

    def template(description: str) -> dict:
        return {
            "Resources": {
                "Replica": {
                    "Type": "AWS::KMS::ReplicaKey",
                    "Properties": {
                        "PrimaryKeyArn": primary["Arn"],
                        "KeyPolicy": policy,
                        "Description": description,
                        "PendingWindowInDays": 7,
                    },
                }
            },
            "Outputs": {
                "Replica": {"Value": {"Ref": "Replica"}},
                "Arn": {"Value": {"Fn::GetAtt": ["Replica", "Arn"]}},
            },
        }

    stack = deploy(cfn, "replica", template("replica"))
    values = outputs(stack)
    key = kms.describe_key(KeyId=values["Replica"])["KeyMetadata"]
    assert values["Replica"] == primary["KeyId"]
    assert (key["Arn"], key["MultiRegionConfiguration"]["MultiRegionKeyType"]) == (values["Arn"], "REPLICA")
    assert ":us-east-1:" in values["Arn"]
    update(cfn, "replica", template("replica, described"))
    assert kms.describe_key(KeyId=values["Replica"])["KeyMetadata"]["Description"] == "replica, described"
    destroy(cfn, stack)
    assert kms.describe_key(KeyId=values["Replica"])["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert kms_west.describe_key(KeyId=primary["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"


def apis_template(mapping_key: str, model_description: str, link_name: str) -> dict:
    return {
        "Resources": {
            "Socket": {
                "Type": "AWS::ApiGatewayV2::Api",
                "Properties": {
                    "Name": "chat",
                    "ProtocolType": "WEBSOCKET",
                    "RouteSelectionExpression": "$request.body.action",
                },
            },
            "Message": {
                "Type": "AWS::ApiGatewayV2::Model",
                "Properties": {
                    "ApiId": {"Ref": "Socket"},
                    "Name": "Message",
                    "ContentType": "application/json",
                    "Description": model_description,
                    "Schema": {"type": "object", "properties": {"text": {"type": "string"}}},
                },
            },
            "Echo": {
                "Type": "AWS::ApiGatewayV2::Integration",
                "Properties": {
                    "ApiId": {"Ref": "Socket"},
                    "IntegrationType": "MOCK",
                    "RequestTemplates": {"$default": '{"statusCode": 200}'},
                    "TemplateSelectionExpression": "$default",
                },
            },
            "EchoResponse": {
                "Type": "AWS::ApiGatewayV2::IntegrationResponse",
                "Properties": {
                    "ApiId": {"Ref": "Socket"},
                    "IntegrationId": {"Ref": "Echo"},
                    "IntegrationResponseKey": "$default",
                },
            },
            "Send": {
                "Type": "AWS::ApiGatewayV2::Route",
                "Properties": {
                    "ApiId": {"Ref": "Socket"},
                    "RouteKey": "send",
                    "Target": {"Fn::Sub": "integrations/${Echo}"},
                    "RouteResponseSelectionExpression": "$default",
                },
            },
            "SendResponse": {
                "Type": "AWS::ApiGatewayV2::RouteResponse",
                "Properties": {
                    "ApiId": {"Ref": "Socket"},
                    "RouteId": {"Ref": "Send"},
                    "RouteResponseKey": "$default",
                },
            },
            "Http": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "web", "ProtocolType": "HTTP"}},
            "Stage": {
                "Type": "AWS::ApiGatewayV2::Stage",
                "Properties": {"ApiId": {"Ref": "Http"}, "StageName": "prod"},
            },
            "Domain": {
                "Type": "AWS::ApiGatewayV2::DomainName",
                "Properties": {
                    "DomainName": "api.shop.example",
                    "DomainNameConfigurations": [
                        {
                            "CertificateArn": {
                                "Fn::Sub": "arn:aws:acm:${AWS::Region}:${AWS::AccountId}:certificate/x"
                            },
                            "EndpointType": "REGIONAL",
                        }
                    ],
                },
            },
            "Mapping": {
                "Type": "AWS::ApiGatewayV2::ApiMapping",
                "DependsOn": "Stage",
                "Properties": {
                    "DomainName": {"Ref": "Domain"},
                    "ApiId": {"Ref": "Http"},
                    "Stage": "prod",
                    "ApiMappingKey": mapping_key,
                },
            },
            "Link": {
                "Type": "AWS::ApiGatewayV2::VpcLink",
                "Properties": {"Name": link_name, "SubnetIds": ["subnet-0123456789abcdef0"]},
            },
        },
        "Outputs": {
            **{
                name: {"Value": {"Ref": name}}
                for name in (
                    "Socket",
                    "Message",
                    "Echo",
                    "EchoResponse",
                    "Send",
                    "SendResponse",
                    "Http",
                    "Domain",
                    "Mapping",
                    "Link",
                )
            },  # fmt: skip
            "Regional": {"Value": {"Fn::GetAtt": ["Domain", "RegionalDomainName"]}},
        },
    }


def test_api_gateway_v2_models_responses_domains_and_vpc_links(overcast):
    needs(overcast, "apigatewayv2", "get_apis")
    cfn, v2 = overcast.client("cloudformation"), overcast.client("apigatewayv2")
    stack = deploy(cfn, "apis-v2", apis_template("v1", "a chat message", "private"))
    values = outputs(stack)
    socket = values["Socket"]
    model = v2.get_model(ApiId=socket, ModelId=values["Message"])
    assert (model["Name"], json.loads(model["Schema"])["type"]) == ("Message", "object")
    response = v2.get_integration_response(
        ApiId=socket, IntegrationId=values["Echo"], IntegrationResponseId=values["EchoResponse"]
    )
    assert response["IntegrationResponseKey"] == "$default"
    route_response = v2.get_route_response(
        ApiId=socket, RouteId=values["Send"], RouteResponseId=values["SendResponse"]
    )
    assert route_response["RouteResponseKey"] == "$default"
    domain = v2.get_domain_name(DomainName="api.shop.example")
    assert domain["DomainNameConfigurations"][0]["ApiGatewayDomainName"] == values["Regional"]
    mappings = v2.get_api_mappings(DomainName="api.shop.example")["Items"]
    assert [(m["ApiMappingId"], m["ApiId"], m["ApiMappingKey"]) for m in mappings] == [
        (values["Mapping"], values["Http"], "v1")
    ]
    assert v2.get_vpc_link(VpcLinkId=values["Link"])["Name"] == "private"

    update(cfn, "apis-v2", apis_template("v2", "a message", "private-2"))
    assert v2.get_model(ApiId=socket, ModelId=values["Message"])["Description"] == "a message"
    mappings = v2.get_api_mappings(DomainName="api.shop.example")["Items"]
    assert [m["ApiMappingKey"] for m in mappings] == ["v2"]
    assert v2.get_vpc_link(VpcLinkId=values["Link"])["Name"] == "private-2"

    destroy(cfn, stack)
    assert v2.get_apis()["Items"] == []
    assert v2.get_domain_names()["Items"] == []
    assert v2.get_vpc_links()["Items"] == []


def vpn_template(office: str, propagate: bool) -> dict:
    return {
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.50.0.0/16"}},
            "Table": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
            "Other": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
            "Gateway": {
                "Type": "AWS::EC2::VPNGateway",
                "Properties": {"Type": "ipsec.1", "AmazonSideAsn": 64600},
            },
            "Attachment": {
                "Type": "AWS::EC2::VPCGatewayAttachment",
                "Properties": {"VpcId": {"Ref": "Vpc"}, "VpnGatewayId": {"Ref": "Gateway"}},
            },
            "Office": {
                "Type": "AWS::EC2::CustomerGateway",
                "Properties": {"Type": "ipsec.1", "IpAddress": "198.51.100.7", "BgpAsn": 65000},
            },
            "Tunnel": {
                "Type": "AWS::EC2::VPNConnection",
                "Properties": {
                    "Type": "ipsec.1",
                    "CustomerGatewayId": {"Ref": "Office"},
                    "VpnGatewayId": {"Ref": "Gateway"},
                    "StaticRoutesOnly": True,
                    "Tags": [{"Key": "site", "Value": office}],
                },
            },
            "OfficeRoute": {
                "Type": "AWS::EC2::VPNConnectionRoute",
                "Properties": {
                    "VpnConnectionId": {"Ref": "Tunnel"},
                    "DestinationCidrBlock": "192.168.10.0/24",
                },
            },
            "Propagation": {
                "Type": "AWS::EC2::VPNGatewayRoutePropagation",
                "DependsOn": "Attachment",
                "Properties": {
                    "VpnGatewayId": {"Ref": "Gateway"},
                    "RouteTableIds": [{"Ref": "Table"}] + ([{"Ref": "Other"}] if propagate else []),
                },
            },
        },
        "Outputs": {
            name: {"Value": {"Ref": name}}
            for name in ("Vpc", "Table", "Other", "Gateway", "Office", "Tunnel")
        },
    }


def test_site_to_site_vpn(overcast):
    needs(overcast, "ec2", "describe_vpcs")
    cfn, ec2 = overcast.client("cloudformation"), overcast.client("ec2")
    stack = deploy(cfn, "vpn", vpn_template("paris", False))
    values = outputs(stack)
    gateway = ec2.describe_vpn_gateways(VpnGatewayIds=[values["Gateway"]])["VpnGateways"][0]
    assert (gateway["AmazonSideAsn"], gateway["VpcAttachments"]) == (
        64600,
        [{"State": "attached", "VpcId": values["Vpc"]}],
    )
    customer = ec2.describe_customer_gateways(CustomerGatewayIds=[values["Office"]])["CustomerGateways"][0]
    assert (customer["IpAddress"], customer["BgpAsn"]) == ("198.51.100.7", "65000")
    tunnel = ec2.describe_vpn_connections(VpnConnectionIds=[values["Tunnel"]])["VpnConnections"][0]
    assert (tunnel["State"], tunnel["Options"]["StaticRoutesOnly"]) == ("available", True)
    assert [r["DestinationCidrBlock"] for r in tunnel["Routes"]] == ["192.168.10.0/24"]

    def propagating() -> list[str]:
        tables = ec2.describe_route_tables(RouteTableIds=[values["Table"], values["Other"]])["RouteTables"]
        return sorted(t["RouteTableId"] for t in tables if t.get("PropagatingVgws"))

    assert propagating() == [values["Table"]]

    update(cfn, "vpn", vpn_template("lyon", True))
    assert propagating() == sorted([values["Table"], values["Other"]])
    tunnel = ec2.describe_vpn_connections(VpnConnectionIds=[values["Tunnel"]])["VpnConnections"][0]
    assert tunnel["Tags"] == [{"Key": "site", "Value": "lyon"}]

    destroy(cfn, stack)
    tunnel = ec2.describe_vpn_connections(VpnConnectionIds=[values["Tunnel"]])["VpnConnections"]
    assert [t["State"] for t in tunnel] in ([], ["deleted"])
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [values["Vpc"]]}])["Vpcs"] == []


def user_pool_template(scope_note: str, scopes: str) -> dict:
    return {
        "Resources": {
            "Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {"UserPoolName": "shoppers"}},
            "Admins": {
                "Type": "AWS::Cognito::UserPoolGroup",
                "Properties": {"UserPoolId": {"Ref": "Pool"}, "GroupName": "admins"},
            },
            "Orders": {
                "Type": "AWS::Cognito::UserPoolResourceServer",
                "Properties": {
                    "UserPoolId": {"Ref": "Pool"},
                    "Identifier": "https://orders.example.com",
                    "Name": "orders",
                    "Scopes": [{"ScopeName": "read", "ScopeDescription": scope_note}],
                },
            },
            "Google": {
                "Type": "AWS::Cognito::UserPoolIdentityProvider",
                "Properties": {
                    "UserPoolId": {"Ref": "Pool"},
                    "ProviderName": "Google",
                    "ProviderType": "Google",
                    "ProviderDetails": {
                        "client_id": "id",
                        "client_secret": "secret",
                        "authorize_scopes": scopes,
                    },
                    "AttributeMapping": {"email": "email"},
                },
            },
            "Alice": {
                "Type": "AWS::Cognito::UserPoolUser",
                "Properties": {
                    "UserPoolId": {"Ref": "Pool"},
                    "Username": "alice",
                    "MessageAction": "SUPPRESS",
                    "UserAttributes": [{"Name": "email", "Value": "alice@example.com"}],
                },
            },
            "AliceIsAdmin": {
                "Type": "AWS::Cognito::UserPoolUserToGroupAttachment",
                "Properties": {
                    "UserPoolId": {"Ref": "Pool"},
                    "GroupName": {"Ref": "Admins"},
                    "Username": {"Ref": "Alice"},
                },
            },
        },
        "Outputs": {name: {"Value": {"Ref": name}} for name in ("Pool", "Orders", "Google", "Alice")},
    }


def test_user_pool_resource_servers_identity_providers_and_users(overcast):
    needs(overcast, "cognito-idp", "list_user_pools", MaxResults=1)
    cfn, idp = overcast.client("cloudformation"), overcast.client("cognito-idp")
    stack = deploy(cfn, "shoppers", user_pool_template("read orders", "openid email"))
    values = outputs(stack)
    pool = values["Pool"]
    assert (values["Orders"], values["Google"], values["Alice"]) == (
        "https://orders.example.com",
        "Google",
        "alice",
    )
    server = idp.describe_resource_server(UserPoolId=pool, Identifier=values["Orders"])["ResourceServer"]
    assert server["Scopes"] == [{"ScopeName": "read", "ScopeDescription": "read orders"}]
    provider = idp.describe_identity_provider(UserPoolId=pool, ProviderName="Google")["IdentityProvider"]
    assert (provider["ProviderType"], provider["ProviderDetails"]["authorize_scopes"]) == (
        "Google",
        "openid email",
    )
    user = idp.admin_get_user(UserPoolId=pool, Username="alice")
    assert {"Name": "email", "Value": "alice@example.com"} in user["UserAttributes"]
    assert [
        g["GroupName"] for g in idp.admin_list_groups_for_user(UserPoolId=pool, Username="alice")["Groups"]
    ] == ["admins"]

    update(cfn, "shoppers", user_pool_template("read every order", "openid"))
    server = idp.describe_resource_server(UserPoolId=pool, Identifier=values["Orders"])["ResourceServer"]
    assert server["Scopes"][0]["ScopeDescription"] == "read every order"
    provider = idp.describe_identity_provider(UserPoolId=pool, ProviderName="Google")["IdentityProvider"]
    assert provider["ProviderDetails"]["authorize_scopes"] == "openid"

    destroy(cfn, stack)
    with pytest.raises(ClientError) as gone:
        idp.describe_user_pool(UserPoolId=pool)
    assert code_of(gone) == "ResourceNotFoundException"


def rest_domain_template(stage: str, status: str) -> dict:
    return {
        "Resources": {
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "shop"}},
            "Ping": {
                "Type": "AWS::ApiGateway::Method",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "ResourceId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                    "HttpMethod": "GET",
                    "AuthorizationType": "NONE",
                    "Integration": {
                        "Type": "MOCK",
                        "RequestTemplates": {"application/json": '{"statusCode": 200}'},
                    },
                },
            },
            "Deployment": {
                "Type": "AWS::ApiGateway::Deployment",
                "DependsOn": "Ping",
                "Properties": {"RestApiId": {"Ref": "Api"}},
            },
            "Prod": {
                "Type": "AWS::ApiGateway::Stage",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "DeploymentId": {"Ref": "Deployment"},
                    "StageName": "prod",
                },
            },
            "Beta": {
                "Type": "AWS::ApiGateway::Stage",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "DeploymentId": {"Ref": "Deployment"},
                    "StageName": "beta",
                },
            },
            "Missing": {
                "Type": "AWS::ApiGateway::GatewayResponse",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "ResponseType": "MISSING_AUTHENTICATION_TOKEN",
                    "StatusCode": status,
                    "ResponseTemplates": {"application/json": '{"message": "no such route"}'},
                },
            },
            "Link": {
                "Type": "AWS::ApiGateway::VpcLink",
                "Properties": {
                    "Name": f"link-{stage}",
                    "TargetArns": [
                        {
                            "Fn::Sub": "arn:aws:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:loadbalancer/net/n/1"
                        }
                    ],
                },
            },
            "Certificate": {
                "Type": "AWS::ApiGateway::ClientCertificate",
                "Properties": {"Description": stage},
            },
            "Docs": {
                "Type": "AWS::ApiGateway::DocumentationPart",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "Location": {"Type": "API"},
                    "Properties": json.dumps({"description": f"the shop ({stage})"}),
                },
            },
            "Domain": {
                "Type": "AWS::ApiGateway::DomainName",
                "Properties": {
                    "DomainName": "rest.shop.example",
                    "RegionalCertificateArn": {
                        "Fn::Sub": "arn:aws:acm:${AWS::Region}:${AWS::AccountId}:certificate/y"
                    },
                    "EndpointConfiguration": {"Types": ["REGIONAL"]},
                },
            },
            "Mapping": {
                "Type": "AWS::ApiGateway::BasePathMapping",
                "DependsOn": ["Prod", "Beta"],
                "Properties": {
                    "DomainName": {"Ref": "Domain"},
                    "BasePath": "shop",
                    "RestApiId": {"Ref": "Api"},
                    "Stage": stage,
                },
            },
        },
        "Outputs": {
            "Api": {"Value": {"Ref": "Api"}},
            "Domain": {"Value": {"Ref": "Domain"}},
            "Regional": {"Value": {"Fn::GetAtt": ["Domain", "RegionalDomainName"]}},
            "Link": {"Value": {"Ref": "Link"}},
            "Certificate": {"Value": {"Ref": "Certificate"}},
            "Docs": {"Value": {"Ref": "Docs"}},
        },
    }


def test_rest_api_domain_names_base_path_mappings_and_gateway_responses(overcast):
    needs(overcast, "apigateway", "get_rest_apis")
    cfn, apigateway = overcast.client("cloudformation"), overcast.client("apigateway")
    stack = deploy(cfn, "rest-domain", rest_domain_template("prod", "404"))
    values = outputs(stack)
    domain = apigateway.get_domain_name(domainName="rest.shop.example")
    assert (domain["regionalDomainName"], domain["endpointConfiguration"]["types"]) == (
        values["Regional"],
        ["REGIONAL"],
    )
    mapping = apigateway.get_base_path_mapping(domainName="rest.shop.example", basePath="shop")
    assert (mapping["restApiId"], mapping["stage"]) == (values["Api"], "prod")
    response = apigateway.get_gateway_response(
        restApiId=values["Api"], responseType="MISSING_AUTHENTICATION_TOKEN"
    )
    assert (response["statusCode"], response["defaultResponse"]) == ("404", False)
    assert apigateway.get_vpc_link(vpcLinkId=values["Link"])["name"] == "link-prod"
    assert (
        apigateway.get_client_certificate(clientCertificateId=values["Certificate"])["description"] == "prod"
    )
    part = apigateway.get_documentation_part(restApiId=values["Api"], documentationPartId=values["Docs"])
    assert (part["location"]["type"], json.loads(part["properties"])) == (
        "API",
        {"description": "the shop (prod)"},
    )

    update(cfn, "rest-domain", rest_domain_template("beta", "403"))
    assert (
        apigateway.get_base_path_mapping(domainName="rest.shop.example", basePath="shop")["stage"] == "beta"
    )
    response = apigateway.get_gateway_response(
        restApiId=values["Api"], responseType="MISSING_AUTHENTICATION_TOKEN"
    )
    assert response["statusCode"] == "403"
    assert apigateway.get_vpc_link(vpcLinkId=values["Link"])["name"] == "link-beta"
    assert (
        apigateway.get_client_certificate(clientCertificateId=values["Certificate"])["description"] == "beta"
    )
    part = apigateway.get_documentation_part(restApiId=values["Api"], documentationPartId=values["Docs"])
    assert json.loads(part["properties"]) == {"description": "the shop (beta)"}

    destroy(cfn, stack)
    assert apigateway.get_domain_names()["items"] == []
    assert apigateway.get_rest_apis()["items"] == []
    assert apigateway.get_vpc_links()["items"] == []
    assert apigateway.get_client_certificates()["items"] == []


def versions_template(greeting: str, query: str) -> dict:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["states.amazonaws.com", "logs.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    return {
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust}},
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Definition": {
                        "StartAt": "Hello",
                        "States": {"Hello": {"Type": "Pass", "Result": greeting, "End": True}},
                    },
                },
            },
            "Version": {
                "Type": "AWS::StepFunctions::StateMachineVersion",
                "Properties": {
                    "StateMachineArn": {"Ref": "Machine"},
                    "StateMachineRevisionId": {"Fn::GetAtt": ["Machine", "StateMachineRevisionId"]},
                },
            },
            "Live": {
                "Type": "AWS::StepFunctions::StateMachineAlias",
                "Properties": {
                    "Name": "live",
                    "RoutingConfiguration": [{"StateMachineVersionArn": {"Ref": "Version"}, "Weight": 100}],
                },
            },
            "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}},
            "Destination": {
                "Type": "AWS::Logs::Destination",
                "Properties": {
                    "DestinationName": "central",
                    "TargetArn": {"Fn::GetAtt": ["Stream", "Arn"]},
                    "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                    "DestinationPolicy": json.dumps(
                        {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Principal": {"AWS": "111122223333"},
                                    "Action": "logs:PutSubscriptionFilter",
                                    "Resource": "*",
                                }
                            ],
                        }
                    ),
                },
            },
            "Errors": {
                "Type": "AWS::Logs::QueryDefinition",
                "Properties": {"Name": "errors", "QueryString": query, "LogGroupNames": ["/app/web"]},
            },
        },
        "Outputs": {
            **{name: {"Value": {"Ref": name}} for name in ("Machine", "Version", "Live", "Errors")},
            "DestinationArn": {"Value": {"Fn::GetAtt": ["Destination", "Arn"]}},
        },
    }


def test_state_machine_versions_aliases_log_destinations_and_queries(overcast):
    needs(overcast, "stepfunctions", "list_state_machines")
    cfn, sfn, logs = (overcast.client(name) for name in ("cloudformation", "stepfunctions", "logs"))
    stack = deploy(cfn, "versions", versions_template("hi", "fields @message | filter @message like /ERROR/"))
    values = outputs(stack)
    alias = sfn.describe_state_machine_alias(stateMachineAliasArn=values["Live"])
    assert alias["routingConfiguration"] == [{"stateMachineVersionArn": values["Version"], "weight": 100}]
    assert values["Version"].endswith(":1")
    destination = logs.describe_destinations(DestinationNamePrefix="central")["destinations"][0]
    assert destination["arn"] == values["DestinationArn"]
    assert json.loads(destination["accessPolicy"])["Statement"][0]["Action"] == "logs:PutSubscriptionFilter"
    query = logs.describe_query_definitions(queryDefinitionNamePrefix="errors")["queryDefinitions"][0]
    assert (query["queryDefinitionId"], query["logGroupNames"]) == (values["Errors"], ["/app/web"])

    # A new definition is a new revision: a second version, the alias moved to it, the first one deleted.
    values = outputs(update(cfn, "versions", versions_template("hello", "fields @message | limit 5")))
    assert values["Version"].endswith(":2")
    alias = sfn.describe_state_machine_alias(stateMachineAliasArn=values["Live"])
    assert alias["routingConfiguration"][0]["stateMachineVersionArn"] == values["Version"]
    versions = sfn.list_state_machine_versions(stateMachineArn=values["Machine"])["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in versions] == [values["Version"]]
    query = logs.describe_query_definitions(queryDefinitionNamePrefix="errors")["queryDefinitions"][0]
    assert query["queryString"] == "fields @message | limit 5"

    destroy(cfn, stack)
    assert logs.describe_destinations()["destinations"] == []
    assert logs.describe_query_definitions()["queryDefinitions"] == []
    assert sfn.list_state_machines()["stateMachines"] == []


def rotation_template(days: int) -> dict:
    return {
        "Resources": {
            "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"GenerateSecretString": {}}},
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                },
            },
            "Rotator": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.11",
                    "Handler": "index.handler",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Code": {"ZipFile": "def handler(event, context):\n    return None\n"},
                },
            },
            "MayRotate": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "FunctionName": {"Ref": "Rotator"},
                    "Action": "lambda:InvokeFunction",
                    "Principal": "secretsmanager.amazonaws.com",
                },
            },
            "Schedule": {
                "Type": "AWS::SecretsManager::RotationSchedule",
                "DependsOn": "MayRotate",
                "Properties": {
                    "SecretId": {"Ref": "Secret"},
                    "RotationLambdaARN": {"Fn::GetAtt": ["Rotator", "Arn"]},
                    "RotationRules": {"AutomaticallyAfterDays": days},
                    "RotateImmediatelyOnUpdate": False,
                },
            },
        },
        "Outputs": {"Secret": {"Value": {"Ref": "Secret"}}, "Schedule": {"Value": {"Ref": "Schedule"}}},
    }


def test_secret_rotation_schedule(overcast):
    needs(overcast, "secretsmanager", "list_secrets")
    cfn, secrets = overcast.client("cloudformation"), overcast.client("secretsmanager")
    stack = deploy(cfn, "rotation", rotation_template(30))
    values = outputs(stack)
    assert values["Schedule"] == values["Secret"]
    secret = secrets.describe_secret(SecretId=values["Secret"])
    assert (secret["RotationEnabled"], secret["RotationRules"]["AutomaticallyAfterDays"]) == (True, 30)
    update(cfn, "rotation", rotation_template(7))
    assert secrets.describe_secret(SecretId=values["Secret"])["RotationRules"]["AutomaticallyAfterDays"] == 7
    # Without the schedule the secret no longer rotates.
    template = rotation_template(7)
    del template["Resources"]["Schedule"], template["Outputs"]["Schedule"]
    update(cfn, "rotation", template)
    assert secrets.describe_secret(SecretId=values["Secret"])["RotationEnabled"] is False
    destroy(cfn, stack)


def test_ipv6_cidr_blocks_of_a_vpc_and_its_subnet(overcast):
    needs(overcast, "ec2", "describe_vpcs")
    cfn, ec2 = overcast.client("cloudformation"), overcast.client("ec2")
    template = {
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.60.0.0/16"}},
            "Ipv6": {
                "Type": "AWS::EC2::VPCCidrBlock",
                "Properties": {"VpcId": {"Ref": "Vpc"}, "AmazonProvidedIpv6CidrBlock": True},
            },
            "Subnet": {
                "Type": "AWS::EC2::Subnet",
                "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.60.0.0/24"},
            },
            "SubnetIpv6": {
                "Type": "AWS::EC2::SubnetCidrBlock",
                "Properties": {
                    "SubnetId": {"Ref": "Subnet"},
                    "Ipv6CidrBlock": {
                        "Fn::Select": [0, {"Fn::Cidr": [{"Fn::GetAtt": ["Ipv6", "Ipv6CidrBlock"]}, 4, 64]}]
                    },
                },
            },
        },
        "Outputs": {
            "Vpc": {"Value": {"Ref": "Vpc"}},
            "Subnet": {"Value": {"Ref": "Subnet"}},
            "VpcBlock": {"Value": {"Fn::GetAtt": ["Ipv6", "Ipv6CidrBlock"]}},
            "Association": {"Value": {"Ref": "SubnetIpv6"}},
        },
    }
    stack = deploy(cfn, "ipv6", template)
    values = outputs(stack)
    vpc = ec2.describe_vpcs(VpcIds=[values["Vpc"]])["Vpcs"][0]
    assert [a["Ipv6CidrBlock"] for a in vpc["Ipv6CidrBlockAssociationSet"]] == [values["VpcBlock"]]
    subnet = ec2.describe_subnets(SubnetIds=[values["Subnet"]])["Subnets"][0]
    association = subnet["Ipv6CidrBlockAssociationSet"][0]
    assert association["AssociationId"] == values["Association"]
    assert association["Ipv6CidrBlock"].endswith("/64")
    assert association["Ipv6CidrBlock"].split("::")[0] == values["VpcBlock"].split("::")[0]
    destroy(cfn, stack)
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [values["Vpc"]]}])["Vpcs"] == []
