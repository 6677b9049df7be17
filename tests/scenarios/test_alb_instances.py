"""The notes' classic ALB lab on real instances: two instances in two AZs whose user data serves different pages,
behind an ALB whose security group the instances' group must allow (until then the health checks time out);
curl through the ALB alternates between them; a stopped instance's target leaves the rotation (Target.InvalidState)
and all traffic goes to the other; a path rule sends /api/* to a Lambda function; an ip target that is an instance's
address is that instance (504 once its group drops the ALB's connections); an NLB pipes TCP to an instance."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile

import pytest

from overcast.services.ec2.sandbox import namespaces_available
from tests.helpers import need
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not namespaces_available(), reason="Linux namespaces are not available here"),
]

PAGE = """#!/bin/bash
mkdir -p /srv/www && echo "{name}" > /srv/www/index.html
cd /srv/www && nohup python3 -m http.server 80 >/dev/null 2>&1 &
"""
API = """
import json
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"from": "lambda", "path": event["path"]})}
"""


def curl(port: int, path: str = "/", write_out: str = "") -> str:
    answer = subprocess.run([need("curl"), "-s", "-m", "20", "-w", write_out, f"http://127.0.0.1:{port}{path}"],
                            capture_output=True, text=True, timeout=30)  # fmt: skip
    return answer.stdout.strip()


def test_two_instances_behind_an_alb_then_one_stopped_and_an_api_rule(overcast):
    ec2, elb, lam = overcast.client("ec2"), overcast.client("elbv2"), overcast.client("lambda")
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.30.{index}.0/24", AvailabilityZone=f"us-east-1{zone}")[
        "Subnet"]["SubnetId"] for index, zone in enumerate("ab", 1)]  # fmt: skip
    alb_group = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=alb_group, IpProtocol="tcp", FromPort=80, ToPort=80,
                                         CidrIp="0.0.0.0/0")  # fmt: skip
    web_group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ami = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-*-x86_64"]}])[
        "Images"][0]["ImageId"]  # fmt: skip
    one, two = (
        ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=subnet,
                          SecurityGroupIds=[web_group], UserData=PAGE.format(name=name))["Instances"][0]["InstanceId"]
        for subnet, name in zip(subnets, ("server-one", "server-two"), strict=True)
    )  # fmt: skip
    overcast.advance_clock("3s")  # pending -> running

    lb = elb.create_load_balancer(Name="lab", Subnets=subnets, SecurityGroups=[alb_group])["LoadBalancers"][0]
    assert lb["SecurityGroups"] == [alb_group]
    assert sorted(z["ZoneName"] for z in lb["AvailabilityZones"]) == ["us-east-1a", "us-east-1b"]
    interfaces = ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                          {"Name": "requester-id", "Values": ["amazon-elb"]}])  # fmt: skip
    assert len(interfaces["NetworkInterfaces"]) == 2  # one per subnet, with the ALB's group
    assert all(eni["Groups"][0]["GroupId"] == alb_group for eni in interfaces["NetworkInterfaces"])
    tg = elb.create_target_group(Name="pages", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance",
                                 HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                                 HealthyThresholdCount=2, UnhealthyThresholdCount=2)["TargetGroups"][0]  # fmt: skip
    tg_arn = tg["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tg_arn, Targets=[{"Id": one}, {"Id": two}])
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}])["Listeners"][0]  # fmt: skip
    port = int(lb["DNSName"].rsplit(":", 1)[1])

    def health() -> dict[str, dict]:
        described = elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
        return {item["Target"]["Id"]: item["TargetHealth"] for item in described}

    def after_a_check(wanted) -> dict[str, dict] | None:
        overcast.advance_clock(5)
        seen = health()
        return seen if wanted(seen) else None

    # the instances' group does not let the ALB's group in: the health checks time out
    timed_out = {"State": "unhealthy", "Reason": "Target.Timeout", "Description": "Request timed out"}
    wait_for(lambda: after_a_check(lambda seen: seen == {one: timed_out, two: timed_out}), timeout=60)
    ec2.authorize_security_group_ingress(GroupId=web_group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": alb_group}]}])  # fmt: skip
    healthy = {"State": "healthy"}
    wait_for(lambda: after_a_check(lambda seen: seen == {one: healthy, two: healthy}), timeout=60)

    pages = [curl(port) for _ in range(4)]
    assert sorted(pages) == ["server-one", "server-one", "server-two", "server-two"]
    assert pages[0] != pages[1] and pages[1] != pages[2]  # round robin alternates

    # a stopped instance's target leaves the rotation: all traffic goes to the other
    ec2.stop_instances(InstanceIds=[one])
    stopped = {
        "State": "unused",
        "Reason": "Target.InvalidState",
        "Description": "Target is in the stopped state",
    }
    wait_for(lambda: after_a_check(lambda seen: seen == {one: stopped, two: healthy}), timeout=60)
    assert [curl(port) for _ in range(4)] == ["server-two"] * 4

    # a path rule sends /api/* to a Lambda function
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", API)
    function = lam.create_function(FunctionName="api", Runtime="python3.11", Role="arn:aws:iam::000000000000:role/r",
                                   Handler="app.handler", Code={"ZipFile": package.getvalue()})  # fmt: skip
    api_tg = elb.create_target_group(Name="api", TargetType="lambda")["TargetGroups"][0]["TargetGroupArn"]
    lam.add_permission(FunctionName="api", StatementId="elb", Action="lambda:InvokeFunction",
                       Principal="elasticloadbalancing.amazonaws.com", SourceArn=api_tg)  # fmt: skip
    elb.register_targets(TargetGroupArn=api_tg, Targets=[{"Id": function["FunctionArn"]}])
    elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=10,
                    Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
                    Actions=[{"Type": "forward", "TargetGroupArn": api_tg}])  # fmt: skip
    assert json.loads(curl(port, "/api/orders")) == {"from": "lambda", "path": "/api/orders"}
    assert curl(port, "/") == "server-two"

    # an ip target that is an instance's private IP is that instance, behind the same security groups
    address = ec2.describe_instances(InstanceIds=[two])["Reservations"][0]["Instances"][0]["PrivateIpAddress"]
    ip_tg = elb.create_target_group(Name="by-ip", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip",
                                    HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                                    HealthyThresholdCount=2, UnhealthyThresholdCount=2)["TargetGroups"][0]  # fmt: skip
    elb.register_targets(TargetGroupArn=ip_tg["TargetGroupArn"], Targets=[{"Id": address}])
    elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=20,
                    Conditions=[{"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "via", "Value": "ip"}]}}],
                    Actions=[{"Type": "forward", "TargetGroupArn": ip_tg["TargetGroupArn"]}])  # fmt: skip

    def ip_state() -> str:
        overcast.advance_clock(5)
        described = elb.describe_target_health(TargetGroupArn=ip_tg["TargetGroupArn"])[
            "TargetHealthDescriptions"
        ]
        return described[0]["TargetHealth"]["State"]

    wait_for(lambda: ip_state() == "healthy", timeout=60)
    assert curl(port, "/?via=ip") == "server-two"
    ec2.revoke_security_group_ingress(GroupId=web_group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": alb_group}]}])  # fmt: skip
    # the instance's group drops the ALB's new connections: they time out
    assert curl(port, "/?via=ip", "%{http_code}").endswith("504")
    wait_for(lambda: ip_state() == "unhealthy", timeout=60)
    ec2.authorize_security_group_ingress(GroupId=web_group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": alb_group}]}])  # fmt: skip

    # started again, the instance comes back once its checks pass (its user data does not run again: no page)
    ec2.start_instances(InstanceIds=[one])
    overcast.advance_clock("3s")
    wait_for(lambda: after_a_check(lambda seen: seen[one]["State"] == "unhealthy"), timeout=60)
    assert health()[one]["Reason"] == "Target.FailedHealthChecks"

    # a Network Load Balancer pipes TCP to the instance from its own interfaces (the VPC's default group, as
    # it has none): the instance's group lets the VPC's addresses in
    ec2.authorize_security_group_ingress(GroupId=web_group, IpProtocol="tcp", FromPort=80, ToPort=80,
                                         CidrIp="10.30.0.0/16")  # fmt: skip
    nlb = elb.create_load_balancer(Name="lab-nlb", Type="network", Subnets=subnets)["LoadBalancers"][0]
    tcp_tg = elb.create_target_group(Name="tcp-pages", Protocol="TCP", Port=80, VpcId=vpc,
                                     TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    elb.register_targets(TargetGroupArn=tcp_tg, Targets=[{"Id": two}])
    elb.create_listener(LoadBalancerArn=nlb["LoadBalancerArn"], Protocol="TCP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tcp_tg}])  # fmt: skip
    assert curl(int(nlb["DNSName"].rsplit(":", 1)[1])) == "server-two"
