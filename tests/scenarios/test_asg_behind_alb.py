"""An Auto Scaling group of two behind an ALB: its instances (whose user data serves a page naming the instance)
are registered with the target group as they come in service, curl through the ALB alternates between them; the
web server of one is killed, its target fails the health checks and the group (HealthCheckType ELB) replaces it
after the grace period: the new instance is registered, the old one deregistered, and curl alternates again; an
instance whose security groups stop letting the ALB in is replaced the same way."""

from __future__ import annotations

import base64
import subprocess

import pytest

from overcast.services.ec2.sandbox import namespaces_available
from tests.helpers import need
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not namespaces_available(), reason="Linux namespaces are not available here"),
]

# The page is the instance's id (from IMDS); GET /die answers, then ends the web server.
USER_DATA = """#!/bin/bash
TOKEN=$(curl -s -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
ID=$(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id)
cat > /tmp/app.py <<'PY'
import http.server, os, sys, threading
class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = sys.argv[1].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.path == "/die":
            threading.Timer(0.2, lambda: os._exit(0)).start()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("", 80), Page).serve_forever()
PY
nohup python3 /tmp/app.py "$ID" >/dev/null 2>&1 &
"""


def curl(port: int, path: str = "/") -> str:
    answer = subprocess.run([need("curl"), "-s", "-m", "20", f"http://127.0.0.1:{port}{path}"],
                            capture_output=True, text=True, timeout=30)  # fmt: skip
    return answer.stdout.strip()


def test_group_behind_an_alb_replaces_the_instance_its_target_group_finds_unhealthy(overcast):
    ec2, elb, autoscaling = overcast.client("ec2"), overcast.client("elbv2"), overcast.client("autoscaling")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{index}.0/24", AvailabilityZone=f"us-east-1{zone}")[
        "Subnet"]["SubnetId"] for index, zone in enumerate("ab", 1)]  # fmt: skip
    alb_group = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=alb_group, IpProtocol="tcp", FromPort=80, ToPort=80,
                                         CidrIp="0.0.0.0/0")  # fmt: skip
    web_group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=web_group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": alb_group}]}])  # fmt: skip
    ami = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-*-x86_64"]}])[
        "Images"][0]["ImageId"]  # fmt: skip
    ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={
        "ImageId": ami, "InstanceType": "t3.micro", "SecurityGroupIds": [web_group],
        "UserData": base64.b64encode(USER_DATA.encode()).decode()})  # fmt: skip

    lb = elb.create_load_balancer(Name="asg-lab", Subnets=subnets, SecurityGroups=[alb_group])[
        "LoadBalancers"
    ][0]
    tg_arn = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance",
                                     HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                                     HealthyThresholdCount=2, UnhealthyThresholdCount=2)["TargetGroups"][0][
        "TargetGroupArn"]  # fmt: skip
    elb.modify_target_group_attributes(TargetGroupArn=tg_arn, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "0"}])  # fmt: skip
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}])  # fmt: skip
    port = int(lb["DNSName"].rsplit(":", 1)[1])

    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web", MinSize=2, MaxSize=2, VPCZoneIdentifier=",".join(subnets),
        LaunchTemplate={"LaunchTemplateName": "web"}, TargetGroupARNs=[tg_arn], HealthCheckType="ELB",
        HealthCheckGracePeriod=30)  # fmt: skip

    # attached by CreateAutoScalingGroup: InService at once (as AWS documents), before any instance is registered
    assert autoscaling.describe_load_balancer_target_groups(AutoScalingGroupName="web")[
        "LoadBalancerTargetGroups"] == [{"LoadBalancerTargetGroupARN": tg_arn, "State": "InService"}]  # fmt: skip

    def members() -> set[str]:
        group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][
            0
        ]
        return {i["InstanceId"] for i in group["Instances"] if i["LifecycleState"] == "InService"}

    def health() -> dict[str, str]:
        described = elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
        return {item["Target"]["Id"]: item["TargetHealth"]["State"] for item in described}

    def all_healthy() -> set[str] | None:
        overcast.advance_clock(5)
        ids = members()
        return ids if len(ids) == 2 and health() == dict.fromkeys(ids, "healthy") else None

    first = wait_for(all_healthy, timeout=120)
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
    assert group["TargetGroupARNs"] == [tg_arn]
    assert group["TrafficSources"] == [{"Identifier": tg_arn, "Type": "elbv2"}]
    assert autoscaling.describe_load_balancer_target_groups(AutoScalingGroupName="web")[
        "LoadBalancerTargetGroups"] == [{"LoadBalancerTargetGroupARN": tg_arn, "State": "InService"}]  # fmt: skip
    assert autoscaling.describe_traffic_sources(AutoScalingGroupName="web")["TrafficSources"] == [
        {"TrafficSource": tg_arn, "State": "InService", "Identifier": tg_arn, "Type": "elbv2"}]  # fmt: skip

    pages = [curl(port) for _ in range(4)]
    assert set(pages) == first and pages[0] != pages[1] and pages[1] != pages[2]  # round robin alternates

    victim = curl(port, "/die")  # the instance that answered ends its web server
    assert victim in first

    def replaced() -> set[str] | None:
        ids = all_healthy()
        return ids if ids and victim not in ids else None

    second = wait_for(replaced, timeout=180)
    assert len(second & first) == 1  # the survivor stays; the newcomer is registered, the victim is not
    assert victim not in health()
    activities = autoscaling.describe_scaling_activities(AutoScalingGroupName="web")["Activities"]
    ended = next(a for a in activities if a["Description"] == f"Terminating EC2 instance: {victim}")
    assert ended["Cause"].endswith("an instance was taken out of service in response to an ELB system health "
                                   "check failure.")  # fmt: skip
    state = ec2.describe_instances(InstanceIds=[victim])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state in ("shutting-down", "terminated")
    pages = [curl(port) for _ in range(4)]
    assert set(pages) == second and pages[0] != pages[1]

    # another instance's security groups no longer let the ALB in: its checks time out, it is replaced too
    closed = ec2.create_security_group(GroupName="closed", Description="closed", VpcId=vpc)["GroupId"]
    shut = sorted(second)[0]
    eni = ec2.describe_instances(InstanceIds=[shut])["Reservations"][0]["Instances"][0]["NetworkInterfaces"][
        0
    ]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni["NetworkInterfaceId"], Groups=[closed])

    def replaced_again() -> set[str] | None:
        ids = all_healthy()
        return ids if ids and shut not in ids else None

    third = wait_for(replaced_again, timeout=180)
    assert third & second == second - {shut}
    assert set(curl(port) for _ in range(4)) == third

    # detached, the group's instances leave the target group (and the ALB has no target: 503)
    autoscaling.detach_traffic_sources(AutoScalingGroupName="web", TrafficSources=[{"Identifier": tg_arn}])

    def deregistered() -> bool:
        overcast.advance_clock(1)
        return health() == {}

    wait_for(deregistered, timeout=60)
    assert autoscaling.describe_traffic_sources(AutoScalingGroupName="web")["TrafficSources"] == []
    assert subprocess.run([need("curl"), "-s", "-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}/"],
                          capture_output=True, text=True, timeout=30).stdout == "503"  # fmt: skip
