"""Auto Scaling groups kept at their desired capacity on the virtual clock."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.waiting import wait_for


def members(autoscaling, name="web"):
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    return group["Instances"]


def test_a_group_of_two_replaces_an_instance_terminated_behind_its_back(overcast, ec2, autoscaling, subnets,
                                                                       template):  # fmt: skip
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web", MinSize=2, MaxSize=4, DesiredCapacity=2,
        LaunchTemplate={"LaunchTemplateId": template, "Version": "$Latest"},
        VPCZoneIdentifier=",".join(subnets),
        Tags=[{"Key": "team", "Value": "web", "PropagateAtLaunch": True}],
    )  # fmt: skip
    first = wait_for(lambda: len(members(autoscaling)) == 2 and members(autoscaling))
    assert {m["AvailabilityZone"] for m in first} == {"us-east-1a", "us-east-1b"}  # balanced across zones
    assert all(m["LifecycleState"] == "InService" and m["HealthStatus"] == "Healthy" for m in first)
    victim = first[0]["InstanceId"]
    launched = ec2.describe_instances(InstanceIds=[victim])["Reservations"][0]["Instances"][0]
    assert {"Key": "team", "Value": "web"} in launched["Tags"]
    assert {"Key": "aws:autoscaling:groupName", "Value": "web"} in launched["Tags"]

    ec2.terminate_instances(InstanceIds=[victim])  # behind the group's back
    overcast.advance_clock("15s")
    replaced = wait_for(lambda: (m := members(autoscaling)) and len(m) == 2 and victim not in
                        {i["InstanceId"] for i in m} and m)  # fmt: skip
    assert {m["AvailabilityZone"] for m in replaced} == {"us-east-1a", "us-east-1b"}
    causes = [
        a["Cause"] for a in autoscaling.describe_scaling_activities(AutoScalingGroupName="web")["Activities"]
    ]
    assert any("EC2 health check" in c for c in causes)

    autoscaling.set_desired_capacity(AutoScalingGroupName="web", DesiredCapacity=3)
    wait_for(lambda: len(members(autoscaling)) == 3)
    with pytest.raises(ClientError) as raised:
        autoscaling.set_desired_capacity(AutoScalingGroupName="web", DesiredCapacity=5)
    assert error_of(raised) == ("ValidationError", 400)
    autoscaling.update_auto_scaling_group(AutoScalingGroupName="web", MinSize=1, DesiredCapacity=1)
    wait_for(lambda: len(members(autoscaling)) == 1)
    with pytest.raises(ClientError) as raised:
        autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web")
    assert error_of(raised) == ("ResourceInUse", 400)
    remaining = members(autoscaling)[0]["InstanceId"]
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)
    overcast.advance_clock("3s")
    state = ec2.describe_instances(InstanceIds=[remaining])["Reservations"][0]["Instances"][0]["State"][
        "Name"
    ]
    assert state in ("shutting-down", "terminated")


def test_group_validation(autoscaling, subnets, template):
    with pytest.raises(ClientError) as raised:
        autoscaling.create_auto_scaling_group(AutoScalingGroupName="bad", MinSize=3, MaxSize=2,
                                              LaunchTemplate={"LaunchTemplateId": template},
                                              VPCZoneIdentifier=subnets[0])  # fmt: skip
    assert message_of(raised) == "Max bound, 2, must be greater than or equal to min bound, 3"
    with pytest.raises(ClientError) as raised:
        autoscaling.create_auto_scaling_group(AutoScalingGroupName="bad", MinSize=1, MaxSize=2,
                                              VPCZoneIdentifier=subnets[0])  # fmt: skip
    assert error_of(raised) == ("ValidationError", 400)
    with pytest.raises(ClientError) as raised:
        autoscaling.update_auto_scaling_group(AutoScalingGroupName="nope", MinSize=1)
    assert message_of(raised) == "AutoScalingGroup name not found - AutoScalingGroup 'nope' not found"


def test_scaling_policies_change_the_desired_capacity(autoscaling, subnets, template):
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=1, MaxSize=6, DesiredCapacity=2,
                                          LaunchTemplate={"LaunchTemplateId": template},
                                          VPCZoneIdentifier=",".join(subnets))  # fmt: skip

    def desired():
        return autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][
            0
        ]["DesiredCapacity"]

    arn = autoscaling.put_scaling_policy(AutoScalingGroupName="web", PolicyName="out",
                                         AdjustmentType="ChangeInCapacity", ScalingAdjustment=3)["PolicyARN"]  # fmt: skip
    assert arn.startswith("arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:")
    autoscaling.execute_policy(AutoScalingGroupName="web", PolicyName="out")
    assert desired() == 5
    autoscaling.execute_policy(AutoScalingGroupName="web", PolicyName="out")
    assert desired() == 6  # clamped to MaxSize
    autoscaling.put_scaling_policy(AutoScalingGroupName="web", PolicyName="half", AdjustmentType="PercentChangeInCapacity",
                                   ScalingAdjustment=-50)  # fmt: skip
    autoscaling.execute_policy(AutoScalingGroupName="web", PolicyName="half")
    assert desired() == 3
    autoscaling.put_scaling_policy(
        AutoScalingGroupName="web", PolicyName="steps", PolicyType="StepScaling", AdjustmentType="ExactCapacity",
        StepAdjustments=[{"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 10, "ScalingAdjustment": 2},
                         {"MetricIntervalLowerBound": 10, "ScalingAdjustment": 4}],
    )  # fmt: skip
    autoscaling.execute_policy(
        AutoScalingGroupName="web", PolicyName="steps", MetricValue=75, BreachThreshold=60
    )
    assert desired() == 4
    names = [
        p["PolicyName"] for p in autoscaling.describe_policies(AutoScalingGroupName="web")["ScalingPolicies"]
    ]
    assert sorted(names) == ["half", "out", "steps"]
    autoscaling.delete_policy(AutoScalingGroupName="web", PolicyName="half")
    with pytest.raises(ClientError) as raised:
        autoscaling.execute_policy(AutoScalingGroupName="web", PolicyName="half")
    assert error_of(raised) == ("ValidationError", 400)
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)


def test_lifecycle_hooks_hold_instances_until_completed(overcast, autoscaling, subnets, template):
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=0, MaxSize=3, DesiredCapacity=0,
                                          LaunchTemplate={"LaunchTemplateId": template},
                                          VPCZoneIdentifier=",".join(subnets))  # fmt: skip
    autoscaling.put_lifecycle_hook(LifecycleHookName="warm", AutoScalingGroupName="web",
                                   LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING", HeartbeatTimeout=60,
                                   DefaultResult="ABANDON")  # fmt: skip
    hooks = autoscaling.describe_lifecycle_hooks(AutoScalingGroupName="web")["LifecycleHooks"]
    assert [(h["LifecycleHookName"], h["HeartbeatTimeout"], h["DefaultResult"]) for h in hooks] == [
        ("warm", 60, "ABANDON")
    ]
    autoscaling.set_desired_capacity(AutoScalingGroupName="web", DesiredCapacity=2)
    waiting = wait_for(lambda: len(m := members(autoscaling)) == 2 and m)
    assert {m["LifecycleState"] for m in waiting} == {"Pending:Wait"}
    kept, dropped = waiting[0]["InstanceId"], waiting[1]["InstanceId"]
    autoscaling.complete_lifecycle_action(LifecycleHookName="warm", AutoScalingGroupName="web",
                                          InstanceId=kept, LifecycleActionResult="CONTINUE")  # fmt: skip
    wait_for(
        lambda: {m["InstanceId"]: m["LifecycleState"] for m in members(autoscaling)}.get(kept) == "InService"
    )
    autoscaling.record_lifecycle_action_heartbeat(LifecycleHookName="warm", AutoScalingGroupName="web",
                                                  InstanceId=dropped)  # fmt: skip
    overcast.advance_clock("61s")  # the heartbeat timeout: ABANDON, and a replacement is launched
    replaced = wait_for(lambda: (m := members(autoscaling)) and dropped not in {i["InstanceId"] for i in m}
                        and len(m) == 2 and m)  # fmt: skip
    assert {m["InstanceId"] for m in replaced} >= {kept}
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)


def test_lifecycle_notifications_go_to_a_queue(overcast, autoscaling, subnets, template):
    import json

    sqs = overcast.client("sqs")
    queue = sqs.create_queue(QueueName="lifecycle")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=0, MaxSize=2, DesiredCapacity=0,
                                          LaunchTemplate={"LaunchTemplateId": template},
                                          VPCZoneIdentifier=subnets[0])  # fmt: skip
    autoscaling.put_lifecycle_hook(LifecycleHookName="tell", AutoScalingGroupName="web",
                                   LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING",
                                   NotificationTargetARN=queue_arn, NotificationMetadata="hello",
                                   RoleARN="arn:aws:iam::000000000000:role/hooks")  # fmt: skip

    def next_message():
        messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages") or []
        for message in messages:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return json.loads(messages[0]["Body"]) if messages else None

    assert wait_for(next_message)["Event"] == "autoscaling:TEST_NOTIFICATION"
    autoscaling.set_desired_capacity(AutoScalingGroupName="web", DesiredCapacity=1)
    notice = wait_for(next_message)
    assert notice["LifecycleTransition"] == "autoscaling:EC2_INSTANCE_LAUNCHING"
    assert notice["NotificationMetadata"] == "hello" and notice["Origin"] == "EC2"
    autoscaling.complete_lifecycle_action(LifecycleHookName="tell", AutoScalingGroupName="web",
                                          LifecycleActionToken=notice["LifecycleActionToken"],
                                          LifecycleActionResult="CONTINUE")  # fmt: skip
    wait_for(lambda: [m["LifecycleState"] for m in members(autoscaling)] == ["InService"])
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)


def test_scheduled_actions_on_the_clock(overcast, autoscaling, subnets, template):
    from datetime import UTC, datetime

    autoscaling.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=0, MaxSize=4, DesiredCapacity=0,
                                          LaunchTemplate={"LaunchTemplateId": template},
                                          VPCZoneIdentifier=",".join(subnets))  # fmt: skip
    now = overcast.advance_clock("0s")["epoch"]
    with pytest.raises(ClientError) as raised:
        autoscaling.put_scheduled_update_group_action(AutoScalingGroupName="web", ScheduledActionName="past",
                                                      StartTime=datetime.fromtimestamp(now - 3600, UTC),
                                                      DesiredCapacity=1)  # fmt: skip
    assert message_of(raised) == "Given start time is in the past"
    autoscaling.put_scheduled_update_group_action(AutoScalingGroupName="web", ScheduledActionName="morning",
                                                  StartTime=datetime.fromtimestamp(now + 3600, UTC),
                                                  DesiredCapacity=2)  # fmt: skip
    autoscaling.put_scheduled_update_group_action(AutoScalingGroupName="web", ScheduledActionName="nightly",
                                                  Recurrence="30 2 * * *", MinSize=0, DesiredCapacity=1)  # fmt: skip
    listed = autoscaling.describe_scheduled_actions(AutoScalingGroupName="web")["ScheduledUpdateGroupActions"]
    assert sorted(a["ScheduledActionName"] for a in listed) == ["morning", "nightly"]

    def desired():
        return autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][
            0
        ]["DesiredCapacity"]

    overcast.advance_clock("61m")
    wait_for(lambda: desired() == 2 or (overcast.advance_clock("1s") and False))
    remaining = autoscaling.describe_scheduled_actions(AutoScalingGroupName="web")[
        "ScheduledUpdateGroupActions"
    ]
    assert [a["ScheduledActionName"] for a in remaining] == ["nightly"]  # a one-time action is done
    overcast.advance_clock("1d")
    wait_for(lambda: desired() == 1 or (overcast.advance_clock("1s") and False))
    autoscaling.delete_scheduled_action(AutoScalingGroupName="web", ScheduledActionName="nightly")
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)


def test_instance_refresh_replaces_every_instance(overcast, ec2, autoscaling, subnets, template):
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=2, MaxSize=3, DesiredCapacity=2,
                                          LaunchTemplate={"LaunchTemplateId": template, "Version": "$Latest"},
                                          VPCZoneIdentifier=",".join(subnets))  # fmt: skip
    first = wait_for(lambda: len(m := members(autoscaling)) == 2 and m)
    before = {m["InstanceId"] for m in first}
    ec2.create_launch_template_version(LaunchTemplateId=template, SourceVersion="1",
                                       LaunchTemplateData={"InstanceType": "t3.small"})  # fmt: skip
    refresh_id = autoscaling.start_instance_refresh(AutoScalingGroupName="web",
                                                    Preferences={"MinHealthyPercentage": 50})["InstanceRefreshId"]  # fmt: skip
    with pytest.raises(ClientError) as raised:
        autoscaling.start_instance_refresh(AutoScalingGroupName="web")
    assert error_of(raised) == ("InstanceRefreshInProgress", 400)

    def finished():
        overcast.advance_clock("10s")
        refresh = autoscaling.describe_instance_refreshes(AutoScalingGroupName="web")["InstanceRefreshes"][0]
        return refresh["Status"] == "Successful" and refresh

    refresh = wait_for(finished, timeout=60, interval=0.2)
    assert refresh["InstanceRefreshId"] == refresh_id and refresh["PercentageComplete"] == 100
    after = wait_for(lambda: len(m := members(autoscaling)) == 2 and m)
    assert not before & {m["InstanceId"] for m in after}
    assert {m["InstanceType"] for m in after} == {"t3.small"}
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)


def test_suspended_processes_attach_and_detach(overcast, ec2, autoscaling, subnets, template):
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=1, MaxSize=3, DesiredCapacity=1,
                                          LaunchTemplate={"LaunchTemplateId": template},
                                          VPCZoneIdentifier=",".join(subnets))  # fmt: skip
    first = wait_for(lambda: len(m := members(autoscaling)) == 1 and m)[0]["InstanceId"]
    autoscaling.suspend_processes(AutoScalingGroupName="web", ScalingProcesses=["Launch"])
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
    assert [p["ProcessName"] for p in group["SuspendedProcesses"]] == ["Launch"]
    ec2.terminate_instances(InstanceIds=[first])
    overcast.advance_clock("15s")
    wait_for(lambda: members(autoscaling) == [] or (overcast.advance_clock("5s") and False))
    overcast.advance_clock("15s")
    assert members(autoscaling) == []  # Launch is suspended: no replacement
    autoscaling.resume_processes(AutoScalingGroupName="web")
    replacement = wait_for(lambda: len(m := members(autoscaling)) == 1 and m)[0]["InstanceId"]
    assert replacement != first

    ami = ec2.describe_images(
        Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-*-x86_64"]}]
    )["Images"][0]["ImageId"]
    loose = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                              SubnetId=subnets[0])["Instances"][0]["InstanceId"]  # fmt: skip
    autoscaling.attach_instances(AutoScalingGroupName="web", InstanceIds=[loose])
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
    assert group["DesiredCapacity"] == 2 and loose in {m["InstanceId"] for m in group["Instances"]}
    detached = autoscaling.detach_instances(AutoScalingGroupName="web", InstanceIds=[loose],
                                            ShouldDecrementDesiredCapacity=True)["Activities"]  # fmt: skip
    assert detached[0]["Description"] == f"Detaching EC2 instance: {loose}"
    state = ec2.describe_instances(InstanceIds=[loose])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state in ("pending", "running")  # a detached instance keeps running
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)


def test_a_mixed_instances_policy_launches_from_its_template(autoscaling, subnets, template):
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="mixed", MinSize=1, MaxSize=1, VPCZoneIdentifier=subnets[0],
        MixedInstancesPolicy={"LaunchTemplate": {
            "LaunchTemplateSpecification": {"LaunchTemplateId": template},
            "Overrides": [{"InstanceType": "t3.small"}, {"InstanceType": "t3.medium"}],
        }},
    )  # fmt: skip
    launched = wait_for(lambda: len(m := members(autoscaling, "mixed")) == 1 and m)
    assert launched[0]["InstanceType"] == "t3.small"
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="mixed", ForceDelete=True)


def test_groups_launch_under_iam_enforcement(enforced):
    """Auto Scaling acts with its service-linked role, whatever the caller's own policies."""
    ec2, autoscaling = enforced.client("ec2"), enforced.client("autoscaling")
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    template = ec2.create_launch_template(LaunchTemplateName="enforced",
                                          LaunchTemplateData={"ImageId": ami, "InstanceType": "t3.micro"})[
        "LaunchTemplate"]["LaunchTemplateId"]  # fmt: skip
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=1, MaxSize=1,
                                          LaunchTemplate={"LaunchTemplateId": template},
                                          AvailabilityZones=["us-east-1a"])  # fmt: skip
    launched = wait_for(lambda: len(m := members(autoscaling)) == 1 and m)
    assert launched[0]["AvailabilityZone"] == "us-east-1a"
    made = autoscaling.put_scaling_policy(  # its alarms are made by Auto Scaling itself
        AutoScalingGroupName="web", PolicyName="cpu", PolicyType="TargetTrackingScaling",
        TargetTrackingConfiguration={"TargetValue": 40.0, "PredefinedMetricSpecification": {
            "PredefinedMetricType": "ASGAverageCPUUtilization"}},
    )  # fmt: skip
    alarms = enforced.client("cloudwatch").describe_alarms(
        AlarmNames=[a["AlarmName"] for a in made["Alarms"]]
    )
    assert {(a["Namespace"], a["MetricName"], a["Dimensions"][0]["Value"]) for a in alarms["MetricAlarms"]} == {
        ("AWS/EC2", "CPUUtilization", "web")}  # fmt: skip
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)
