"""A web tier that follows its CPU: instances whose user data burns CPU for a while, a group behind a target
tracking policy on ASGAverageCPUUtilization. The group scales out while they are busy and back in once they
are idle, on the virtual clock (the CPU is real: measured from the sandboxes' processes)."""

import base64
import time

import pytest

from tests.waiting import wait_for

pytestmark = pytest.mark.slow
BURN = "#!/bin/sh\n(timeout 15 sh -c 'while :; do :; done') >/dev/null 2>&1 &\necho burning\n"


def test_a_group_scales_out_on_cpu_and_back_in(overcast):
    ec2, autoscaling = overcast.client("ec2"), overcast.client("autoscaling")
    ami = ec2.describe_images(
        Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-*-x86_64"]}]
    )["Images"][0]["ImageId"]
    template = ec2.create_launch_template(LaunchTemplateName="burner", LaunchTemplateData={
        "ImageId": ami, "InstanceType": "t2.micro", "UserData": base64.b64encode(BURN.encode()).decode()})[
        "LaunchTemplate"]["LaunchTemplateId"]  # fmt: skip
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="cpu", MinSize=1, MaxSize=3,
                                          LaunchTemplate={"LaunchTemplateId": template},
                                          AvailabilityZones=["us-east-1a"])  # fmt: skip
    autoscaling.put_scaling_policy(
        AutoScalingGroupName="cpu", PolicyName="cpu-10", PolicyType="TargetTrackingScaling",
        TargetTrackingConfiguration={"TargetValue": 10.0, "PredefinedMetricSpecification": {
            "PredefinedMetricType": "ASGAverageCPUUtilization"}},
    )  # fmt: skip

    def group():
        return autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["cpu"])["AutoScalingGroups"][0]

    first = wait_for(lambda: group()["Instances"] and group()["Instances"][0]["InstanceId"])
    overcast.advance_clock("30s")
    wait_for(lambda: "burning" in (ec2.get_console_output(InstanceId=first).get("Output") or ""))

    def advance_until(predicate, step, rounds):
        for _ in range(rounds):  # each round: real time for the CPU to be measured, then virtual minutes
            time.sleep(0.5)
            overcast.advance_clock(step)
            try:
                return wait_for(predicate, timeout=2)
            except AssertionError:
                continue
        raise AssertionError("not reached")

    advance_until(lambda: group()["DesiredCapacity"] > 1, "60s", 20)  # a busy instance: above 10%
    activities = autoscaling.describe_scaling_activities(AutoScalingGroupName="cpu")["Activities"]
    assert any("a monitor alarm TargetTracking-cpu-AlarmHigh-" in a["Cause"] for a in activities)
    time.sleep(15)  # the burns end (each lasts 15 real seconds)
    advance_until(lambda: group()["DesiredCapacity"] == 1, "5m", 20)  # idle for 15 minutes: back to one
    wait_for(lambda: len(group()["Instances"]) == 1)
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="cpu", ForceDelete=True)
