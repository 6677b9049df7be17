"""Group tags (CreateOrUpdateTags, DeleteTags, DescribeTags, PropagateAtLaunch), the launch template as
DescribeAutoScalingGroups/DescribeAutoScalingInstances report it, and attaching target groups."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.waiting import wait_for


def group_of(autoscaling, name="web"):
    return autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]


def tag(key, value, propagate=False, group="web"):
    return {"ResourceId": group, "ResourceType": "auto-scaling-group", "Key": key, "Value": value,
            "PropagateAtLaunch": propagate}  # fmt: skip


def test_tags_are_kept_described_and_propagated_to_new_instances(ec2, autoscaling, subnets, template):
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=0, MaxSize=2, DesiredCapacity=0,
                                          LaunchTemplate={"LaunchTemplateId": template},
                                          VPCZoneIdentifier=",".join(subnets))  # fmt: skip
    autoscaling.create_or_update_tags(Tags=[tag("team", "web", True), tag("cost", "42")])
    autoscaling.create_or_update_tags(Tags=[tag("team", "platform", True)])  # updated in place
    assert autoscaling.describe_tags()["Tags"] == [tag("cost", "42"), tag("team", "platform", True)]
    assert group_of(autoscaling)["Tags"] == [tag("cost", "42"), tag("team", "platform", True)]
    assert autoscaling.describe_tags(Filters=[{"Name": "propagate-at-launch", "Values": ["true"]}])["Tags"] == [
        tag("team", "platform", True)]  # fmt: skip
    assert (
        autoscaling.describe_tags(Filters=[{"Name": "auto-scaling-group", "Values": ["other"]}])["Tags"] == []
    )
    assert autoscaling.describe_tags(Filters=[{"Name": "key", "Values": ["cost"]}])["Tags"] == [
        tag("cost", "42")
    ]

    def filtered(*filters):
        found = autoscaling.describe_auto_scaling_groups(Filters=list(filters))["AutoScalingGroups"]
        return [g["AutoScalingGroupName"] for g in found]

    assert filtered({"Name": "tag:team", "Values": ["platform", "other"]}) == ["web"]
    assert filtered({"Name": "tag:team", "Values": ["web"]}) == []
    assert filtered({"Name": "tag-key", "Values": ["cost"]}, {"Name": "tag-value", "Values": ["42"]}) == [
        "web"
    ]
    assert filtered({"Name": "tag-key", "Values": ["nothing"]}) == []

    autoscaling.set_desired_capacity(AutoScalingGroupName="web", DesiredCapacity=1)
    member = wait_for(lambda: group_of(autoscaling)["Instances"])[0]
    launched = ec2.describe_instances(InstanceIds=[member["InstanceId"]])["Reservations"][0]["Instances"][0]
    assert {"Key": "team", "Value": "platform"} in launched["Tags"]
    assert all(t["Key"] != "cost" for t in launched["Tags"])  # not propagated

    autoscaling.delete_tags(Tags=[{"ResourceId": "web", "ResourceType": "auto-scaling-group", "Key": "cost"}])
    assert autoscaling.describe_tags()["Tags"] == [tag("team", "platform", True)]

    with pytest.raises(ClientError) as raised:
        autoscaling.create_or_update_tags(Tags=[tag("a", "b", group="nope")])
    assert error_of(raised) == ("ValidationError", 400)
    assert message_of(raised) == "AutoScalingGroup not found - AutoScaling Group nope not found"
    with pytest.raises(ClientError) as raised:
        autoscaling.create_or_update_tags(
            Tags=[{"ResourceId": "web", "Key": "Lab", "PropagateAtLaunch": True}]
        )
    assert message_of(raised) == ("Incomplete tags information for these tags. Tag - 'Key:Lab,PropagateAtLaunch:"
                                  "true,ResourceId:web,ResourceType:null' , ")  # fmt: skip
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)


def test_launch_template_name_and_resolved_version(ec2, autoscaling, subnets, template):
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=1, MaxSize=1,
                                          LaunchTemplate={"LaunchTemplateId": template},
                                          VPCZoneIdentifier=",".join(subnets))  # fmt: skip
    assert group_of(autoscaling)["LaunchTemplate"] == {
        "LaunchTemplateId": template, "LaunchTemplateName": "asg-web", "Version": "$Default"}  # fmt: skip
    member = wait_for(lambda: group_of(autoscaling)["Instances"])[0]
    resolved = {"LaunchTemplateId": template, "LaunchTemplateName": "asg-web", "Version": "1"}
    assert member["LaunchTemplate"] == resolved
    described = autoscaling.describe_auto_scaling_instances(InstanceIds=[member["InstanceId"]])
    assert described["AutoScalingInstances"][0]["LaunchTemplate"] == resolved

    ec2.create_launch_template_version(LaunchTemplateId=template, SourceVersion="1",
                                       LaunchTemplateData={"InstanceType": "t3.small"})  # fmt: skip
    autoscaling.update_auto_scaling_group(AutoScalingGroupName="web",
                                          LaunchTemplate={"LaunchTemplateName": "asg-web", "Version": "$Latest"})  # fmt: skip
    assert group_of(autoscaling)["LaunchTemplate"] == {
        "LaunchTemplateId": template, "LaunchTemplateName": "asg-web", "Version": "$Latest"}  # fmt: skip
    autoscaling.terminate_instance_in_auto_scaling_group(InstanceId=member["InstanceId"],
                                                         ShouldDecrementDesiredCapacity=False)  # fmt: skip
    newer = wait_for(
        lambda: [m for m in group_of(autoscaling)["Instances"] if m["InstanceId"] != member["InstanceId"]]
    )
    assert newer[0]["LaunchTemplate"]["Version"] == "2" and newer[0]["InstanceType"] == "t3.small"

    with pytest.raises(ClientError) as raised:
        autoscaling.create_auto_scaling_group(AutoScalingGroupName="bad", MinSize=0, MaxSize=1,
                                              LaunchTemplate={"LaunchTemplateName": "missing"},
                                              VPCZoneIdentifier=subnets[0])  # fmt: skip
    assert error_of(raised) == ("ValidationError", 400)
    assert message_of(raised).startswith("You must use a valid fully-formed launch template.")
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)


def test_attaching_target_groups(overcast, ec2, autoscaling, subnets, template):
    elb = overcast.client("elbv2")
    vpc = ec2.describe_subnets(SubnetIds=subnets[:1])["Subnets"][0]["VpcId"]
    tg = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0][
        "TargetGroupArn"
    ]
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=1, MaxSize=1,
                                          LaunchTemplate={"LaunchTemplateId": template},
                                          VPCZoneIdentifier=",".join(subnets))  # fmt: skip
    assert autoscaling.describe_load_balancer_target_groups(AutoScalingGroupName="web")[
        "LoadBalancerTargetGroups"] == []  # fmt: skip
    autoscaling.attach_load_balancer_target_groups(AutoScalingGroupName="web", TargetGroupARNs=[tg])
    assert group_of(autoscaling)["TargetGroupARNs"] == [tg]

    def registered() -> list[str]:
        overcast.advance_clock(1)
        return [
            t["Target"]["Id"]
            for t in elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        ]

    ids = wait_for(registered, timeout=60)
    assert ids == [m["InstanceId"] for m in group_of(autoscaling)["Instances"]]
    assert autoscaling.describe_load_balancer_target_groups(AutoScalingGroupName="web")[
        "LoadBalancerTargetGroups"] == [{"LoadBalancerTargetGroupARN": tg, "State": "Added"}]  # fmt: skip

    # launched while AddToLoadBalancer is suspended: never added, even once resumed (the old one leaves)
    autoscaling.suspend_processes(AutoScalingGroupName="web", ScalingProcesses=["AddToLoadBalancer"])
    autoscaling.terminate_instance_in_auto_scaling_group(
        InstanceId=ids[0], ShouldDecrementDesiredCapacity=False
    )
    wait_for(lambda: (m := group_of(autoscaling)["Instances"]) and m[0]["InstanceId"] != ids[0])
    wait_for(lambda: not registered(), timeout=60)
    autoscaling.resume_processes(AutoScalingGroupName="web", ScalingProcesses=["AddToLoadBalancer"])
    overcast.advance_clock(20)
    assert registered() == []
    autoscaling.detach_load_balancer_target_groups(AutoScalingGroupName="web", TargetGroupARNs=[tg])
    assert group_of(autoscaling)["TargetGroupARNs"] == []
    assert autoscaling.describe_traffic_sources(AutoScalingGroupName="web")["TrafficSources"] == []

    missing = tg.replace("/web/", "/gone/")
    for attach in (
        lambda: autoscaling.attach_load_balancer_target_groups(AutoScalingGroupName="web", TargetGroupARNs=[missing]),
        lambda: autoscaling.attach_traffic_sources(AutoScalingGroupName="web", TrafficSources=[{"Identifier": missing}]),
    ):  # fmt: skip
        with pytest.raises(ClientError) as raised:
            attach()
        assert error_of(raised) == ("ValidationError", 400)
        assert (
            message_of(raised)
            == "Provided Target Groups may not be valid. Please ensure they exist and try again."
        )
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)
