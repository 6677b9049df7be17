"""Auto Scaling's launch and terminate events and EC2's state-change notifications on EventBridge's default
bus, as a rule delivers them to a queue."""

import json

from tests.services.autoscaling.test_autoscaling_groups import members
from tests.waiting import wait_for


def test_launches_terminations_and_state_changes_reach_a_rule(overcast, autoscaling, subnets, template):
    sqs, events = overcast.client("sqs"), overcast.client("events")
    url = sqs.create_queue(QueueName="fleet-events")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="fleet", EventPattern=json.dumps({"source": ["aws.ec2", "aws.autoscaling"]}))
    events.put_targets(Rule="fleet", Targets=[{"Id": "q", "Arn": queue}])
    received: list[dict] = []

    def seen(detail_type, **detail):
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return next((e for e in received if e["detail-type"] == detail_type
                     and all(e["detail"].get(k) == v for k, v in detail.items())), None)  # fmt: skip

    autoscaling.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=0, MaxSize=2, DesiredCapacity=1,
                                          LaunchTemplate={"LaunchTemplateId": template},
                                          VPCZoneIdentifier=",".join(subnets))  # fmt: skip
    instance = wait_for(lambda: members(autoscaling) and members(autoscaling)[0])
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
    launched = wait_for(lambda: seen("EC2 Instance Launch Successful"))
    assert launched["source"] == "aws.autoscaling"
    assert launched["resources"] == [group["AutoScalingGroupARN"],
                                     f"arn:aws:ec2:us-east-1:000000000000:instance/{instance['InstanceId']}"]  # fmt: skip
    detail = launched["detail"]
    assert (detail["StatusCode"], detail["AutoScalingGroupName"], detail["EC2InstanceId"]) == (
        "InProgress", "web", instance["InstanceId"])  # fmt: skip
    assert (detail["Origin"], detail["Destination"]) == ("EC2", "AutoScalingGroup")
    assert detail["Details"]["Availability Zone"] == instance["AvailabilityZone"]
    assert detail["Details"]["Subnet ID"] in subnets
    assert detail["Description"] == f"Launching a new EC2 instance: {instance['InstanceId']}"
    pending = wait_for(lambda: seen("EC2 Instance State-change Notification", state="pending"))
    assert pending["source"] == "aws.ec2"
    assert pending["detail"] == {"instance-id": instance["InstanceId"], "state": "pending"}
    assert pending["resources"] == [f"arn:aws:ec2:us-east-1:000000000000:instance/{instance['InstanceId']}"]
    overcast.advance_clock("30s")
    wait_for(lambda: seen("EC2 Instance State-change Notification", state="running"))

    autoscaling.set_desired_capacity(AutoScalingGroupName="web", DesiredCapacity=0)
    terminated = wait_for(lambda: seen("EC2 Instance Terminate Successful"))
    assert terminated["detail"]["EC2InstanceId"] == instance["InstanceId"]
    assert (terminated["detail"]["Origin"], terminated["detail"]["Destination"]) == (
        "AutoScalingGroup",
        "EC2",
    )
    wait_for(lambda: seen("EC2 Instance State-change Notification", state="shutting-down"))
    overcast.advance_clock("30s")
    wait_for(lambda: seen("EC2 Instance State-change Notification", state="terminated"))
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)


def test_a_lifecycle_action_is_an_event(overcast, autoscaling, subnets, template):
    sqs, events = overcast.client("sqs"), overcast.client("events")
    url = sqs.create_queue(QueueName="hook-events")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="hooks", EventPattern=json.dumps({
        "source": ["aws.autoscaling"], "detail-type": ["EC2 Instance-launch Lifecycle Action"]}))  # fmt: skip
    events.put_targets(Rule="hooks", Targets=[{"Id": "q", "Arn": queue}])
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=0, MaxSize=1, DesiredCapacity=0,
                                          LaunchTemplate={"LaunchTemplateId": template},
                                          VPCZoneIdentifier=",".join(subnets))  # fmt: skip
    autoscaling.put_lifecycle_hook(AutoScalingGroupName="web", LifecycleHookName="warm-up",
                                   LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING",
                                   NotificationMetadata="bake the cache")  # fmt: skip
    autoscaling.set_desired_capacity(AutoScalingGroupName="web", DesiredCapacity=1)
    message = wait_for(lambda: sqs.receive_message(QueueUrl=url).get("Messages"))[0]
    event = json.loads(message["Body"])
    member = members(autoscaling)[0]
    assert member["LifecycleState"] == "Pending:Wait"
    group_arn = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][
        0
    ]["AutoScalingGroupARN"]
    assert event["resources"] == [group_arn]
    detail = event["detail"]
    assert {k: v for k, v in detail.items() if k != "LifecycleActionToken"} == {
        "AutoScalingGroupName": "web", "LifecycleHookName": "warm-up", "EC2InstanceId": member["InstanceId"],
        "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING", "NotificationMetadata": "bake the cache",
        "Origin": "EC2", "Destination": "AutoScalingGroup"}  # fmt: skip
    autoscaling.complete_lifecycle_action(AutoScalingGroupName="web", LifecycleHookName="warm-up",
                                          LifecycleActionToken=detail["LifecycleActionToken"],
                                          LifecycleActionResult="CONTINUE")  # fmt: skip
    overcast.advance_clock("10s")
    wait_for(lambda: members(autoscaling)[0]["LifecycleState"] == "InService")
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)
