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


def feed(overcast, cloudwatch, metric, value, until, minutes=25):
    """Publish `value` once a minute of virtual time until `until()` holds (at most `minutes` minutes)."""
    for _ in range(minutes):
        now = overcast.advance_clock("0s")["epoch"]
        cloudwatch.put_metric_data(Namespace="App", MetricData=[{
            "MetricName": metric, "Dimensions": DIMENSIONS, "Value": value,
            "Timestamp": datetime.fromtimestamp(now, UTC)}])  # fmt: skip
        overcast.advance_clock("60s")
        try:
            return wait_for(until, timeout=1.5)
        except AssertionError:
            continue
    raise AssertionError(f"{metric}={value}: not reached within {minutes} minutes")


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

    feed(
        overcast, cloudwatch, "Load", 100.0, lambda: desired(autoscaling) == 2
    )  # twice the target: twice the
    wait_for(lambda: len(members(autoscaling)) == 2)  # instances
    causes = [
        a["Cause"] for a in autoscaling.describe_scaling_activities(AutoScalingGroupName="web")["Activities"]
    ]
    assert f"a monitor alarm {names[0]} in state ALARM triggered policy load-50 changing the desired capacity from " \
           "1 to 2." in causes[0]  # fmt: skip
    history = cloudwatch.describe_alarm_history(AlarmName=names[0], HistoryItemType="Action")[
        "AlarmHistoryItems"
    ]
    assert history[0]["HistorySummary"] == f"Successfully executed action {made['PolicyARN']}"

    feed(overcast, cloudwatch, "Load", 10.0, lambda: desired(autoscaling) == 1)  # under 45 for 15 minutes
    wait_for(lambda: len(members(autoscaling)) == 1)

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
    feed(overcast, cloudwatch, "Depth", 80.0, lambda: desired(autoscaling) == 3)  # breach of 30: the +2 step
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
