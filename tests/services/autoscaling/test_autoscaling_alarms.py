"""Auto Scaling groups that scale out and in on CloudWatch alarms: target tracking policies make their own
alarms, step policies run from a user's alarm, on the virtual clock."""

import re
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from tests.services.autoscaling.test_autoscaling_groups import members
from tests.waiting import wait_for

DIMENSIONS = [{"Name": "AutoScalingGroupName", "Value": "web"}]


@pytest.fixture
def cloudwatch(overcast):
    return overcast.client("cloudwatch")


def desired(autoscaling):
    return autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0][
        "DesiredCapacity"
    ]


def feed(overcast, cloudwatch, metric, values):
    """Publish `values` one a minute from the current minute on, then move the clock just past the end of the
    last minute: the alarms evaluate each minute in turn, the last evaluation seeing every value."""
    now = overcast.advance_clock("0s")["epoch"]
    start = now - now % 60
    cloudwatch.put_metric_data(Namespace="App", MetricData=[{
        "MetricName": metric, "Dimensions": DIMENSIONS, "Value": value,
        "Timestamp": datetime.fromtimestamp(start + 60 * k, UTC)} for k, value in enumerate(values)])  # fmt: skip
    overcast.set_clock(start + 60 * len(values) + 1)


def make_group(autoscaling, template, subnets, desired=1):
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=1, MaxSize=4, DesiredCapacity=desired,
                                          LaunchTemplate={"LaunchTemplateId": template},
                                          VPCZoneIdentifier=",".join(subnets))  # fmt: skip
    wait_for(lambda: len(members(autoscaling)) == desired)


def test_target_tracking_makes_its_alarms_and_scales_out_and_in(overcast, autoscaling, cloudwatch, subnets,
                                                                template):  # fmt: skip
    make_group(autoscaling, template, subnets)
    made = autoscaling.put_scaling_policy(
        AutoScalingGroupName="web", PolicyName="load-50", PolicyType="TargetTrackingScaling",
        TargetTrackingConfiguration={"TargetValue": 50.0, "CustomizedMetricSpecification": {
            "MetricName": "Load", "Namespace": "App", "Dimensions": DIMENSIONS, "Statistic": "Average"}},
    )  # fmt: skip
    names = sorted(a["AlarmName"] for a in made["Alarms"])
    uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    assert re.fullmatch(f"TargetTracking-web-AlarmHigh-{uuid}", names[0])
    assert re.fullmatch(f"TargetTracking-web-AlarmLow-{uuid}", names[1])
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]}
    high, low = alarms[names[0]], alarms[names[1]]
    assert (high["Threshold"], high["EvaluationPeriods"], high["ComparisonOperator"]) == (
        50.0, 3, "GreaterThanThreshold")  # fmt: skip
    assert (low["Threshold"], low["EvaluationPeriods"], low["ComparisonOperator"]) == (
        45.0,
        15,
        "LessThanThreshold",
    )
    assert high["AlarmActions"] == [made["PolicyARN"]] and high["MetricName"] == "Load"
    assert (
        high["AlarmDescription"]
        == f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {made['PolicyARN']}."
    )
    policy = autoscaling.describe_policies(AutoScalingGroupName="web")["ScalingPolicies"][0]
    assert sorted(a["AlarmName"] for a in policy["Alarms"]) == names

    feed(overcast, cloudwatch, "Load", [100.0] * 3)  # three minutes at twice the target: twice the instances
    wait_for(lambda: desired(autoscaling) == 2)
    wait_for(lambda: len(members(autoscaling)) == 2)
    causes = [
        a["Cause"] for a in autoscaling.describe_scaling_activities(AutoScalingGroupName="web")["Activities"]
    ]
    assert f"a monitor alarm {names[0]} in state ALARM triggered policy load-50 changing the desired capacity from " \
           "1 to 2." in causes[0]  # fmt: skip
    history = cloudwatch.describe_alarm_history(AlarmName=names[0], HistoryItemType="Action")[
        "AlarmHistoryItems"
    ]
    assert history[0]["HistorySummary"] == f"Successfully executed action {made['PolicyARN']}"

    feed(overcast, cloudwatch, "Load", [100.0] * 2)  # still in ALARM: the policy runs again each minute
    wait_for(lambda: desired(autoscaling) == 4)  # 2 x 100/50, then MaxSize
    feed(overcast, cloudwatch, "Load", [10.0] * 15)  # under 45 for 15 minutes: 4 x 10/50, rounded up
    wait_for(lambda: desired(autoscaling) == 1)
    wait_for(lambda: len(members(autoscaling)) == 1)

    again = autoscaling.put_scaling_policy(  # put again without scale-in: the high alarm is updated, the low one goes
        AutoScalingGroupName="web", PolicyName="load-50", PolicyType="TargetTrackingScaling",
        TargetTrackingConfiguration={"TargetValue": 60.0, "DisableScaleIn": True, "CustomizedMetricSpecification": {
            "MetricName": "Load", "Namespace": "App", "Dimensions": DIMENSIONS, "Statistic": "Average"}},
    )  # fmt: skip
    assert [a["AlarmName"] for a in again["Alarms"]] == [names[0]]
    left = cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]
    assert [(a["AlarmName"], a["Threshold"]) for a in left] == [(names[0], 60.0)]
    autoscaling.delete_policy(AutoScalingGroupName="web", PolicyName="load-50")
    assert cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"] == []
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)


def test_a_step_policy_runs_from_a_users_alarm(overcast, autoscaling, cloudwatch, subnets, template):
    make_group(autoscaling, template, subnets)
    arn = autoscaling.put_scaling_policy(
        AutoScalingGroupName="web", PolicyName="steps", PolicyType="StepScaling", AdjustmentType="ChangeInCapacity",
        StepAdjustments=[{"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 20, "ScalingAdjustment": 1},
                         {"MetricIntervalLowerBound": 20, "ScalingAdjustment": 2}],
    )["PolicyARN"]  # fmt: skip
    cloudwatch.put_metric_alarm(AlarmName="deep-queue", Namespace="App", MetricName="Depth", Dimensions=DIMENSIONS,
                                Statistic="Maximum", Period=60, EvaluationPeriods=1, Threshold=50,
                                ComparisonOperator="GreaterThanThreshold", AlarmActions=[arn])  # fmt: skip
    policy = autoscaling.describe_policies(AutoScalingGroupName="web")["ScalingPolicies"][0]
    assert policy["Alarms"] == [{"AlarmName": "deep-queue",
                                 "AlarmARN": "arn:aws:cloudwatch:us-east-1:000000000000:alarm:deep-queue"}]  # fmt: skip
    feed(overcast, cloudwatch, "Depth", [80.0])  # a breach of 30: the +2 step
    wait_for(lambda: desired(autoscaling) == 3)
    wait_for(lambda: len(members(autoscaling)) == 3)

    autoscaling.delete_policy(AutoScalingGroupName="web", PolicyName="steps")  # the alarm now fails to run it
    cloudwatch.set_alarm_state(AlarmName="deep-queue", StateValue="OK", StateReason="test")
    cloudwatch.set_alarm_state(AlarmName="deep-queue", StateValue="ALARM", StateReason="test")
    history = wait_for(lambda: [h for h in cloudwatch.describe_alarm_history(
        AlarmName="deep-queue", HistoryItemType="Action")["AlarmHistoryItems"] if "Failed" in h["HistorySummary"]])  # fmt: skip
    assert history[0]["HistorySummary"].startswith(f"Failed to execute action {arn}.")
    assert desired(autoscaling) == 3
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)
    with pytest.raises(ClientError):
        autoscaling.execute_policy(AutoScalingGroupName="web", PolicyName="steps")


def test_group_metrics_and_the_members_ec2_metrics(overcast, autoscaling, cloudwatch, subnets, template):
    make_group(autoscaling, template, subnets, desired=2)
    types = autoscaling.describe_metric_collection_types()
    assert {"Metric": "GroupInServiceInstances"} in types["Metrics"]
    assert types["Granularities"] == [{"Granularity": "1Minute"}]
    autoscaling.enable_metrics_collection(AutoScalingGroupName="web", Granularity="1Minute",
                                          Metrics=["GroupDesiredCapacity", "GroupInServiceInstances"])  # fmt: skip
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
    assert group["EnabledMetrics"] == [{"Metric": "GroupDesiredCapacity", "Granularity": "1Minute"},
                                       {"Metric": "GroupInServiceInstances", "Granularity": "1Minute"}]  # fmt: skip
    overcast.advance_clock("30s")  # the members are running
    ec2 = overcast.client("ec2")
    ids = [m["InstanceId"] for m in members(autoscaling)]
    wait_for(lambda: {i["State"]["Name"] for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]
                      for i in r["Instances"]} == {"running"})  # fmt: skip
    now = overcast.advance_clock("120s")["epoch"]

    def latest(namespace, metric, statistic="Maximum"):
        found = cloudwatch.get_metric_statistics(
            Namespace=namespace, MetricName=metric, Dimensions=DIMENSIONS, Period=60, Statistics=[statistic],
            StartTime=datetime.fromtimestamp(now - 600, UTC), EndTime=datetime.fromtimestamp(now, UTC),
        )["Datapoints"]  # fmt: skip
        return max(found, key=lambda d: d["Timestamp"])[statistic] if found else None

    assert latest("AWS/AutoScaling", "GroupInServiceInstances") == 2.0
    assert latest("AWS/AutoScaling", "GroupDesiredCapacity") == 2.0
    assert latest("AWS/AutoScaling", "GroupTotalInstances") is None  # not enabled
    assert latest("AWS/EC2", "CPUUtilization", "SampleCount") == 2.0  # both members, aggregated by group
    assert latest("AWS/EC2", "StatusCheckFailed") == 0.0
    autoscaling.disable_metrics_collection(AutoScalingGroupName="web")
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
    assert group["EnabledMetrics"] == []
    with pytest.raises(ClientError) as raised:
        autoscaling.enable_metrics_collection(AutoScalingGroupName="web", Granularity="5Minute")
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)


def test_a_simple_policy_waits_out_its_cooldown_while_the_alarm_stays(overcast, autoscaling, cloudwatch, subnets,
                                                                      template):  # fmt: skip
    make_group(autoscaling, template, subnets)
    arn = autoscaling.put_scaling_policy(AutoScalingGroupName="web", PolicyName="add-one",
                                         AdjustmentType="ChangeInCapacity", ScalingAdjustment=1,
                                         Cooldown=300)["PolicyARN"]  # fmt: skip
    cloudwatch.put_metric_alarm(AlarmName="hot", Namespace="App", MetricName="Heat", Dimensions=DIMENSIONS,
                                Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=80,
                                ComparisonOperator="GreaterThanThreshold", AlarmActions=[arn])  # fmt: skip
    feed(overcast, cloudwatch, "Heat", [90.0] * 3)  # in ALARM for three minutes: once, then the cooldown
    wait_for(lambda: desired(autoscaling) == 2)
    history = wait_for(lambda: len(h := cloudwatch.describe_alarm_history(
        AlarmName="hot", HistoryItemType="Action")["AlarmHistoryItems"]) == 3 and h)  # fmt: skip
    assert {h["HistorySummary"] for h in history} == {f"Successfully executed action {arn}"}
    assert desired(autoscaling) == 2
    feed(overcast, cloudwatch, "Heat", [90.0] * 6)  # the cooldown is over: once more
    wait_for(lambda: desired(autoscaling) == 3)
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="web", ForceDelete=True)
