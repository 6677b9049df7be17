"""The ELBv2 API: AWS's validation, error codes and messages, defaults, idempotent creates, attributes, tags."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of, shared_network


def test_an_application_load_balancer_needs_two_availability_zones(elb):
    with pytest.raises(ClientError) as raised:
        elb.create_load_balancer(Name="one-az", Subnets=shared_network(elb)[1][:1])
    assert error_of(raised) == ("ValidationError", 400)
    assert message_of(raised) == "At least two subnets in two different Availability Zones must be specified"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a" * 33, "The load balancer name '" + "a" * 33 + "' cannot be longer than '32' characters"),
        (
            "bad_name",
            "The load balancer name 'bad_name' can only contain characters that are alphanumeric characters and hyphens(-)",
        ),
        ("-edge", "The load balancer name '-edge' cannot begin or end with '-' character"),
        ("internal-x", "The load balancer name 'internal-x' cannot begin with 'internal-'"),
    ],
)
def test_load_balancer_names_follow_aws_rules(elb, name, message):
    with pytest.raises(ClientError) as raised:
        elb.create_load_balancer(Name=name, Subnets=shared_network(elb)[1])
    assert error_of(raised) == ("ValidationError", 400)
    assert message_of(raised) == message


def test_create_is_idempotent_and_a_different_one_is_a_duplicate(elb):
    first = elb.create_load_balancer(Name="same", Subnets=shared_network(elb)[1])["LoadBalancers"][0]
    again = elb.create_load_balancer(Name="same", Subnets=shared_network(elb)[1])["LoadBalancers"][0]
    assert again["LoadBalancerArn"] == first["LoadBalancerArn"]
    with pytest.raises(ClientError) as raised:
        elb.create_load_balancer(Name="same", Subnets=shared_network(elb)[1], Scheme="internal")
    assert error_of(raised) == ("DuplicateLoadBalancerName", 400)


def test_describe_shows_aws_fields_and_defaults(elb):
    lb = elb.create_load_balancer(Name="shape", Subnets=shared_network(elb)[1], Scheme="internal")[
        "LoadBalancers"
    ][0]
    assert lb["LoadBalancerArn"].startswith(
        "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/shape/"
    )
    assert lb["DNSName"].startswith("internal-shape-")
    assert lb["CanonicalHostedZoneId"] == "Z35SXDOTRQ7X7K"
    assert lb["Scheme"] == "internal" and lb["Type"] == "application" and lb["IpAddressType"] == "ipv4"
    assert [zone["ZoneName"] for zone in lb["AvailabilityZones"]] == ["us-east-1a", "us-east-1b"]
    assert lb["VpcId"].startswith("vpc-") and lb["SecurityGroups"]
    assert lb["State"]["Code"] in ("provisioning", "active")
    by_name = elb.describe_load_balancers(Names=["shape"])["LoadBalancers"][0]
    assert by_name["LoadBalancerArn"] == lb["LoadBalancerArn"]
    with pytest.raises(ClientError) as raised:
        elb.describe_load_balancers(Names=["missing"])
    assert error_of(raised) == ("LoadBalancerNotFound", 400)
    assert message_of(raised) == "One or more load balancers not found"


def test_an_application_load_balancer_keeps_a_security_group(overcast, elb):
    lb = elb.create_load_balancer(Name="sg", Subnets=shared_network(elb)[1])["LoadBalancers"][0]
    with pytest.raises(ClientError) as raised:
        elb.set_security_groups(LoadBalancerArn=lb["LoadBalancerArn"], SecurityGroups=[])  # an ALB keeps one
    assert error_of(raised) == ("ValidationError", 400)
    with pytest.raises(ClientError) as raised:
        elb.set_security_groups(LoadBalancerArn=lb["LoadBalancerArn"], SecurityGroups=["sg-1"])
    assert error_of(raised) == ("InvalidSecurityGroup", 400)
    assert message_of(raised) == "The security group 'sg-1' does not exist"
    ec2 = overcast.client("ec2")
    group = ec2.create_security_group(GroupName="alb-sg", Description="alb", VpcId=lb["VpcId"])["GroupId"]
    assert elb.set_security_groups(LoadBalancerArn=lb["LoadBalancerArn"], SecurityGroups=[group])[
        "SecurityGroupIds"
    ] == [group]
    # the load balancer's interfaces (one per subnet, requester-managed) carry its groups
    interfaces = ec2.describe_network_interfaces(
        Filters=[{"Name": "description", "Values": [f"ELB app/sg/{lb['LoadBalancerArn'].rsplit('/', 1)[1]}"]}]
    )["NetworkInterfaces"]
    assert len(interfaces) == 2
    assert all(
        eni["RequesterManaged"] and [g["GroupId"] for g in eni["Groups"]] == [group] for eni in interfaces
    )
    elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
    assert not ec2.describe_network_interfaces(Filters=[{"Name": "network-interface-id",
        "Values": [eni["NetworkInterfaceId"] for eni in interfaces]}])["NetworkInterfaces"]  # fmt: skip


def test_a_load_balancer_with_an_unknown_security_group_is_refused_and_leaves_no_interface(overcast, elb):
    ec2 = overcast.client("ec2")
    subnets = shared_network(elb)[1]

    def free() -> list[int]:
        described = ec2.describe_subnets(SubnetIds=subnets)["Subnets"]
        return [s["AvailableIpAddressCount"] for s in sorted(described, key=lambda s: s["AvailabilityZone"])]

    before = free()
    with pytest.raises(ClientError) as raised:
        elb.create_load_balancer(Name="bad-sg", Subnets=subnets, SecurityGroups=["sg-0123456789abcdef0"])
    assert error_of(raised) == ("InvalidSecurityGroup", 400)
    assert message_of(raised) == "The security group 'sg-0123456789abcdef0' does not exist"
    assert free() == before
    lb = elb.create_load_balancer(Name="good-sg", Subnets=subnets)["LoadBalancers"][0]
    default = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [lb["VpcId"]]},
                                                    {"Name": "group-name", "Values": ["default"]}])  # fmt: skip
    assert lb["SecurityGroups"] == [default["SecurityGroups"][0]["GroupId"]]  # the VPC's default group
    assert free() == [count - 1 for count in before]  # one interface per subnet
    elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
    assert free() == before


def test_attributes_defaults_validation_and_deletion_protection(elb):
    lb = elb.create_load_balancer(Name="attrs", Subnets=shared_network(elb)[1])["LoadBalancers"][0]
    arn = lb["LoadBalancerArn"]
    attributes = {
        a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    }
    assert attributes["idle_timeout.timeout_seconds"] == "60"
    assert attributes["deletion_protection.enabled"] == "false"
    assert attributes["load_balancing.cross_zone.enabled"] == "true"
    assert attributes["routing.http2.enabled"] == "true"
    with pytest.raises(ClientError) as raised:
        elb.modify_load_balancer_attributes(
            LoadBalancerArn=arn, Attributes=[{"Key": "no.such", "Value": "1"}]
        )
    assert error_of(raised) == ("ValidationError", 400)
    with pytest.raises(ClientError) as raised:
        elb.modify_load_balancer_attributes(
            LoadBalancerArn=arn, Attributes=[{"Key": "access_logs.s3.enabled", "Value": "true"}]
        )
    assert error_of(raised) == ("ValidationError", 400)
    elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"},
                                                                         {"Key": "idle_timeout.timeout_seconds", "Value": "120"}])  # fmt: skip
    with pytest.raises(ClientError) as raised:
        elb.delete_load_balancer(LoadBalancerArn=arn)
    assert error_of(raised) == ("OperationNotPermitted", 400)
    elb.modify_load_balancer_attributes(
        LoadBalancerArn=arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}]
    )
    elb.delete_load_balancer(LoadBalancerArn=arn)
    elb.delete_load_balancer(LoadBalancerArn=arn)  # deleting what is gone succeeds, as in AWS
    assert elb.describe_load_balancers()["LoadBalancers"] == []


def test_network_load_balancer_attributes(elb):
    lb = elb.create_load_balancer(Name="net", Type="network", Subnets=shared_network(elb)[1][:1])[
        "LoadBalancers"
    ][0]
    assert lb["CanonicalHostedZoneId"] == "Z26RNL4JYFTOTI"
    attributes = {
        a["Key"]: a["Value"]
        for a in elb.describe_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"])["Attributes"]
    }
    assert attributes["load_balancing.cross_zone.enabled"] == "false"
    assert "idle_timeout.timeout_seconds" not in attributes


def test_target_group_defaults_and_validation(elb):
    tg = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=shared_network(elb)[0])[
        "TargetGroups"
    ][0]
    assert (
        tg["TargetType"] == "instance"
        and tg["HealthCheckProtocol"] == "HTTP"
        and tg["HealthCheckPort"] == "traffic-port"
    )
    assert (
        tg["HealthCheckIntervalSeconds"],
        tg["HealthCheckTimeoutSeconds"],
        tg["HealthyThresholdCount"],
        tg["UnhealthyThresholdCount"],
    ) == (30, 5, 5, 2)
    assert (
        tg["HealthCheckPath"] == "/"
        and tg["Matcher"] == {"HttpCode": "200"}
        and tg["ProtocolVersion"] == "HTTP1"
    )
    assert tg["LoadBalancerArns"] == []
    lam = elb.create_target_group(Name="fn", TargetType="lambda")["TargetGroups"][0]
    assert lam["HealthCheckEnabled"] is False and "Protocol" not in lam and "VpcId" not in lam
    tcp = elb.create_target_group(Name="tcp", Protocol="TCP", Port=22, VpcId=shared_network(elb)[0])[
        "TargetGroups"
    ][0]
    assert (
        tcp["HealthCheckProtocol"] == "TCP"
        and "HealthCheckPath" not in tcp
        and tcp["HealthCheckTimeoutSeconds"] == 10
    )
    with pytest.raises(ClientError) as raised:
        elb.create_target_group(
            Name="bad", Protocol="HTTP", Port=80, VpcId=shared_network(elb)[0], HealthCheckIntervalSeconds=5
        )
    assert error_of(raised) == ("ValidationError", 400)
    assert message_of(raised) == "Health check timeout '5' must be smaller than the interval '5'"
    with pytest.raises(ClientError) as raised:
        elb.create_target_group(Name="web", Protocol="HTTP", Port=8080, VpcId=shared_network(elb)[0])
    assert error_of(raised) == ("DuplicateTargetGroupName", 400)
    with pytest.raises(ClientError) as raised:
        elb.create_target_group(Name="novpc", Protocol="HTTP", Port=80)
    assert error_of(raised) == ("ValidationError", 400)
    attributes = {
        a["Key"]: a["Value"]
        for a in elb.describe_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"])["Attributes"]
    }
    assert attributes["deregistration_delay.timeout_seconds"] == "300"
    assert (
        attributes["stickiness.type"] == "lb_cookie"
        and attributes["load_balancing.algorithm.type"] == "round_robin"
    )
    with pytest.raises(ClientError) as raised:
        elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[
            {"Key": "stickiness.app_cookie.cookie_name", "Value": "AWSALBAPP"}])  # fmt: skip
    assert error_of(raised) == ("ValidationError", 400)


def test_listener_validation(elb):
    lb = elb.create_load_balancer(Name="lst", Subnets=shared_network(elb)[1])["LoadBalancers"][0]
    tg = elb.create_target_group(Name="t", Protocol="HTTP", Port=80, VpcId=lb["VpcId"], TargetType="ip")[
        "TargetGroups"
    ][0]
    forward = [{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}]
    with pytest.raises(ClientError) as raised:
        elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="TCP", Port=80, DefaultActions=forward
        )
    assert error_of(raised) == ("UnsupportedProtocol", 400)
    with pytest.raises(ClientError) as raised:
        elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443, DefaultActions=forward
        )
    assert error_of(raised)[0] == "CertificateNotFound"
    with pytest.raises(ClientError) as raised:
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443, DefaultActions=forward,
                            Certificates=[{"CertificateArn": "arn:aws:acm:us-east-1:000000000000:certificate/nope"}])  # fmt: skip
    assert error_of(raised) == ("CertificateNotFound", 400)
    listener = elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=forward
    )["Listeners"][0]
    again = elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=forward
    )["Listeners"][0]
    assert again["ListenerArn"] == listener["ListenerArn"]
    with pytest.raises(ClientError) as raised:
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[
            {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}])  # fmt: skip
    assert error_of(raised) == ("DuplicateListener", 400)
    with pytest.raises(ClientError) as raised:
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=81, DefaultActions=[
            {"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"].replace("/t/", "/gone/")}])  # fmt: skip
    assert error_of(raised) == ("TargetGroupNotFound", 400)
    described = elb.describe_target_groups(TargetGroupArns=[tg["TargetGroupArn"]])["TargetGroups"][0]
    assert described["LoadBalancerArns"] == [lb["LoadBalancerArn"]]
    with pytest.raises(ClientError) as raised:
        elb.delete_target_group(TargetGroupArn=tg["TargetGroupArn"])
    assert error_of(raised) == ("ResourceInUse", 400)
    with pytest.raises(ClientError) as raised:
        elb.describe_listeners()
    assert error_of(raised) == ("ValidationError", 400)


def test_rules_priorities_and_default_rule(elb):
    lb = elb.create_load_balancer(Name="rules", Subnets=shared_network(elb)[1])["LoadBalancers"][0]
    fixed = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200", "MessageBody": "x"}}]
    listener = elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=fixed
    )["Listeners"][0]
    arn = listener["ListenerArn"]
    one = elb.create_rule(
        ListenerArn=arn, Priority=5, Conditions=[{"Field": "path-pattern", "Values": ["/a"]}], Actions=fixed
    )["Rules"][0]
    assert one["Priority"] == "5" and one["IsDefault"] is False
    assert one["Conditions"] == [
        {"Field": "path-pattern", "Values": ["/a"], "PathPatternConfig": {"Values": ["/a"]}}
    ]
    with pytest.raises(ClientError) as raised:
        elb.create_rule(
            ListenerArn=arn,
            Priority=5,
            Conditions=[{"Field": "path-pattern", "Values": ["/b"]}],
            Actions=fixed,
        )
    assert error_of(raised) == ("PriorityInUse", 400)
    assert message_of(raised) == "Priority '5' is currently in use"
    with pytest.raises(ClientError) as raised:
        elb.create_rule(
            ListenerArn=arn, Priority=6, Conditions=[{"Field": "cookie", "Values": ["x"]}], Actions=fixed
        )
    assert error_of(raised) == ("ValidationError", 400)
    with pytest.raises(ClientError) as raised:
        elb.create_rule(ListenerArn=arn, Priority=6, Actions=fixed, Conditions=[
            {"Field": "path-pattern", "Values": ["/1", "/2", "/3"]}, {"Field": "host-header", "Values": ["a", "b", "c"]}])  # fmt: skip
    assert error_of(raised) == ("ValidationError", 400)
    two = elb.create_rule(
        ListenerArn=arn,
        Priority=9,
        Conditions=[{"Field": "host-header", "Values": ["x.example.com"]}],
        Actions=fixed,
    )["Rules"][0]
    rules = elb.describe_rules(ListenerArn=arn)["Rules"]
    assert [rule["Priority"] for rule in rules] == ["5", "9", "default"]
    assert rules[-1]["IsDefault"] is True and rules[-1]["Conditions"] == []
    elb.set_rule_priorities(
        RulePriorities=[
            {"RuleArn": one["RuleArn"], "Priority": 20},
            {"RuleArn": two["RuleArn"], "Priority": 1},
        ]
    )
    assert [rule["Priority"] for rule in elb.describe_rules(ListenerArn=arn)["Rules"]] == [
        "1",
        "20",
        "default",
    ]
    with pytest.raises(ClientError) as raised:
        elb.delete_rule(RuleArn=rules[-1]["RuleArn"])
    assert error_of(raised) == ("OperationNotPermitted", 400)
    elb.delete_rule(RuleArn=one["RuleArn"])
    with pytest.raises(ClientError) as raised:
        elb.describe_rules(RuleArns=[one["RuleArn"]])
    assert error_of(raised) == ("RuleNotFound", 400)


def test_register_deregister_and_draining_on_the_clock(overcast, elb):
    lb = elb.create_load_balancer(Name="drain", Subnets=shared_network(elb)[1])["LoadBalancers"][0]
    tg = elb.create_target_group(Name="d", Protocol="HTTP", Port=80, VpcId=lb["VpcId"], TargetType="ip")[
        "TargetGroups"
    ][0]
    arn = tg["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "10.0.0.5"}])
    health = elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"][0]
    assert health["Target"] == {"Id": "10.0.0.5", "Port": 80}
    assert health["TargetHealth"] == {"State": "unused", "Reason": "Target.NotInUse",
                                      "Description": "Target group is not configured to receive traffic from the load balancer"}  # fmt: skip
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])  # fmt: skip
    described = elb.describe_target_health(TargetGroupArn=arn, Include=["All"])["TargetHealthDescriptions"][0]
    assert described["TargetHealth"]["State"] == "initial"
    assert described["AdministrativeOverride"] == {"State": "no_override", "Reason": "AdministrativeOverride.NoOverride",
                                                   "Description": "No override is currently active on target"}  # fmt: skip
    assert described["AnomalyDetection"] == {"Result": "normal", "MitigationInEffect": "no"}
    assert (
        "AnomalyDetection"
        not in elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"][0]
    )
    elb.modify_target_group_attributes(
        TargetGroupArn=arn, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}]
    )
    elb.deregister_targets(TargetGroupArn=arn, Targets=[{"Id": "10.0.0.5"}])
    health = elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"][0]["TargetHealth"]
    assert health == {
        "State": "draining",
        "Reason": "Target.DeregistrationInProgress",
        "Description": "Target deregistration is in progress",
    }
    overcast.advance_clock(31)
    from tests.waiting import wait_for

    wait_for(lambda: elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"] == [])
    unregistered = elb.describe_target_health(TargetGroupArn=arn, Targets=[{"Id": "10.0.0.5", "Port": 80}])
    assert unregistered["TargetHealthDescriptions"][0]["TargetHealth"]["Reason"] == "Target.NotRegistered"
    with pytest.raises(ClientError) as raised:
        elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "not-an-ip"}])
    assert error_of(raised) == ("InvalidTarget", 400)


def test_tags_through_elbv2_and_the_tagging_api(overcast, elb):
    lb = elb.create_load_balancer(
        Name="tagged", Subnets=shared_network(elb)[1], Tags=[{"Key": "env", "Value": "dev"}]
    )["LoadBalancers"][0]
    arn = lb["LoadBalancerArn"]
    elb.add_tags(ResourceArns=[arn], Tags=[{"Key": "team", "Value": "web"}])
    assert elb.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"] == [
        {"Key": "env", "Value": "dev"},
        {"Key": "team", "Value": "web"},
    ]
    tagging = overcast.client("resourcegroupstaggingapi")
    found = tagging.get_resources(TagFilters=[{"Key": "team"}])["ResourceTagMappingList"]
    assert [item["ResourceARN"] for item in found] == [arn]
    tagging.untag_resources(ResourceARNList=[arn], TagKeys=["env"])
    assert elb.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"] == [
        {"Key": "team", "Value": "web"}
    ]
    with pytest.raises(ClientError) as raised:
        elb.add_tags(ResourceArns=[arn.replace("tagged", "gone")], Tags=[{"Key": "a", "Value": "b"}])
    assert error_of(raised) == ("LoadBalancerNotFound", 400)


def test_ssl_policies_and_limits(elb):
    policies = elb.describe_ssl_policies(Names=["ELBSecurityPolicy-TLS13-1-2-2021-06"])["SslPolicies"]
    assert policies[0]["SslProtocols"] == ["TLSv1.2", "TLSv1.3"]
    with pytest.raises(ClientError) as raised:
        elb.describe_ssl_policies(Names=["nope"])
    assert error_of(raised) == ("SSLPolicyNotFound", 400)
    limits = {item["Name"]: item["Max"] for item in elb.describe_account_limits()["Limits"]}
    assert limits["application-load-balancers"] == "50"


def test_capacity_reservations_as_terraform_reads_and_sets_them(elb):
    """Terraform's aws_lb reads DescribeCapacityReservation on every refresh of an ALB or NLB."""
    lb = elb.create_load_balancer(Name="reserved", Subnets=shared_network(elb)[1])["LoadBalancers"][0]
    arn = lb["LoadBalancerArn"]
    fresh = elb.describe_capacity_reservation(LoadBalancerArn=arn)
    assert "MinimumLoadBalancerCapacity" not in fresh and fresh["DecreaseRequestsRemaining"] == 4
    assert [s["State"]["Code"] for s in fresh["CapacityReservationState"]] == ["provisioned", "provisioned"]
    assert {s["AvailabilityZone"] for s in fresh["CapacityReservationState"]} == {"us-east-1a", "us-east-1b"}

    reserved = elb.modify_capacity_reservation(
        LoadBalancerArn=arn, MinimumLoadBalancerCapacity={"CapacityUnits": 200}
    )
    assert (
        reserved["MinimumLoadBalancerCapacity"] == {"CapacityUnits": 200} and "LastModifiedTime" in reserved
    )
    assert [s["EffectiveCapacityUnits"] for s in reserved["CapacityReservationState"]] == [100.0, 100.0]
    assert elb.describe_capacity_reservation(LoadBalancerArn=arn)["MinimumLoadBalancerCapacity"] == {
        "CapacityUnits": 200
    }

    for units in (150, 120, 110):  # decreases count against the day's allowance
        elb.modify_capacity_reservation(
            LoadBalancerArn=arn, MinimumLoadBalancerCapacity={"CapacityUnits": units}
        )
    reset = elb.modify_capacity_reservation(LoadBalancerArn=arn, ResetCapacityReservation=True)
    assert "MinimumLoadBalancerCapacity" not in reset and reset["DecreaseRequestsRemaining"] == 0
    elb.modify_capacity_reservation(LoadBalancerArn=arn, MinimumLoadBalancerCapacity={"CapacityUnits": 300})
    with pytest.raises(ClientError) as raised:
        elb.modify_capacity_reservation(
            LoadBalancerArn=arn, MinimumLoadBalancerCapacity={"CapacityUnits": 100}
        )
    assert error_of(raised) == ("CapacityDecreaseRequestLimitExceeded", 400)
    with pytest.raises(ClientError) as raised:
        elb.modify_capacity_reservation(LoadBalancerArn=arn)
    assert error_of(raised) == ("ValidationError", 400)
    with pytest.raises(ClientError) as raised:
        elb.describe_capacity_reservation(LoadBalancerArn=arn.replace("reserved", "missing"))
    assert error_of(raised) == ("LoadBalancerNotFound", 400)


def test_ipam_pools_are_kept_and_described(elb):
    lb = elb.create_load_balancer(Name="ipam", Subnets=shared_network(elb)[1],
                                  IpamPools={"Ipv4IpamPoolId": "ipam-pool-0123456789abcdef0"})["LoadBalancers"][0]  # fmt: skip
    assert lb["IpamPools"] == {"Ipv4IpamPoolId": "ipam-pool-0123456789abcdef0"}
    changed = elb.modify_ip_pools(
        LoadBalancerArn=lb["LoadBalancerArn"], IpamPools={"Ipv4IpamPoolId": "ipam-pool-0fedcba9876543210"}
    )
    assert changed["IpamPools"] == {"Ipv4IpamPoolId": "ipam-pool-0fedcba9876543210"}
    elb.modify_ip_pools(LoadBalancerArn=lb["LoadBalancerArn"], RemoveIpamPools=["ipv4"])
    assert (
        "IpamPools"
        not in elb.describe_load_balancers(LoadBalancerArns=[lb["LoadBalancerArn"]])["LoadBalancers"][0]
    )
    nlb = elb.create_load_balancer(Name="ipam-nlb", Type="network", Subnets=shared_network(elb)[1][:1])[
        "LoadBalancers"
    ][0]
    with pytest.raises(ClientError) as raised:
        elb.modify_ip_pools(
            LoadBalancerArn=nlb["LoadBalancerArn"],
            IpamPools={"Ipv4IpamPoolId": "ipam-pool-0123456789abcdef0"},
        )
    assert error_of(raised) == ("InvalidConfigurationRequest", 400)
