"""Alarms evaluated on the virtual clock: states, reasons, history, SNS notifications, EventBridge events,
composite alarms."""

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.waiting import wait_for


def align(overcast) -> None:
    """Move the clock to one second past a minute, so the datapoints put next fall in that minute."""
    with urllib.request.urlopen(overcast.endpoint + "/_overcast/clock", timeout=30) as response:
        now = json.loads(response.read())["epoch"]
    overcast.advance_clock(60 - now % 60 + 1)


def notifications(sqs, url: str, state: str) -> list[dict]:
    """The SNS notifications in the queue so far whose alarm went to `state` (each read once)."""
    found = []
    for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=43200).get(
        "Messages", []
    ):
        envelope = json.loads(message["Body"])
        if json.loads(envelope["Message"])["NewStateValue"] == state:
            found.append(envelope)
    return found


def alarm(cloudwatch, name: str = "queue-depth") -> dict:
    return cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]


def put(cloudwatch, value: float) -> None:
    cloudwatch.put_metric_data(
        Namespace="Shop",
        MetricData=[
            {"MetricName": "Backlog", "Dimensions": [{"Name": "Queue", "Value": "orders"}], "Value": value}
        ],
    )


def test_an_alarm_goes_to_alarm_notifies_sns_and_returns_to_ok(overcast, cloudwatch, sqs, topic_queue):
    topic, url = topic_queue
    cloudwatch.put_metric_alarm(
        AlarmName="queue-depth",
        AlarmDescription="too many orders waiting",
        Namespace="Shop",
        MetricName="Backlog",
        Dimensions=[{"Name": "Queue", "Value": "orders"}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=2,
        DatapointsToAlarm=2,
        Threshold=5.0,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[topic],
        OKActions=[topic],
    )
    created = alarm(cloudwatch)
    assert created["StateValue"] == "INSUFFICIENT_DATA"
    assert created["StateReason"] == "Unchecked: Initial alarm creation"
    align(overcast)
    put(cloudwatch, 10)
    overcast.advance_clock(60)  # one breaching minute of the two needed
    wait_for(lambda: alarm(cloudwatch)["StateValue"] == "OK")
    put(cloudwatch, 12)
    overcast.advance_clock(60)
    wait_for(lambda: alarm(cloudwatch)["StateValue"] == "ALARM")
    reason = alarm(cloudwatch)["StateReason"]
    assert reason.startswith("Threshold Crossed: 2 out of the last 2 datapoints [12.0 (")
    assert reason.endswith(
        "were greater than the threshold (5.0) (minimum 2 datapoints for OK -> ALARM transition)."
    )
    data = json.loads(alarm(cloudwatch)["StateReasonData"])
    assert (
        data["recentDatapoints"] == [10.0, 12.0]
        and data["threshold"] == 5.0
        and data["statistic"] == "Maximum"
    )
    envelope = wait_for(lambda: notifications(sqs, url, "ALARM"))[0]
    assert envelope["Subject"] == 'ALARM: "queue-depth" in US East (N. Virginia)'
    message = json.loads(envelope["Message"])
    assert message["AlarmName"] == "queue-depth" and message["OldStateValue"] == "OK"
    assert message["AlarmDescription"] == "too many orders waiting"
    assert message["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:000000000000:alarm:queue-depth"
    assert message["Trigger"] == {
        "MetricName": "Backlog",
        "Namespace": "Shop",
        "StatisticType": "Statistic",
        "Statistic": "MAXIMUM",
        "Unit": None,
        "Dimensions": [{"value": "orders", "name": "Queue"}],
        "Period": 60,
        "EvaluationPeriods": 2,
        "DatapointsToAlarm": 2,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 5.0,
        "TreatMissingData": "missing",
        "EvaluateLowSampleCountPercentile": "",
    }
    put(cloudwatch, 0)  # drained
    overcast.advance_clock(60)
    wait_for(lambda: alarm(cloudwatch)["StateValue"] == "OK")
    back = wait_for(lambda: notifications(sqs, url, "OK"))[0]
    assert json.loads(back["Message"])["OldStateValue"] == "ALARM"
    history = cloudwatch.describe_alarm_history(AlarmName="queue-depth", HistoryItemType="StateUpdate")
    summaries = [item["HistorySummary"] for item in history["AlarmHistoryItems"]]
    assert summaries == [
        "Alarm updated from ALARM to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from INSUFFICIENT_DATA to OK",
    ]
    actions = cloudwatch.describe_alarm_history(AlarmName="queue-depth", HistoryItemType="Action")[
        "AlarmHistoryItems"
    ]
    assert all(item["HistorySummary"] == f"Successfully executed action {topic}" for item in actions)


def test_missing_data_treatment(overcast, cloudwatch):
    common = {
        "Namespace": "Shop",
        "MetricName": "Silent",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    }
    for treatment in ("missing", "breaching", "notBreaching", "ignore"):
        cloudwatch.put_metric_alarm(AlarmName=treatment, TreatMissingData=treatment, **common)
    overcast.advance_clock(120)
    wait_for(lambda: alarm(cloudwatch, "breaching")["StateValue"] == "ALARM")
    wait_for(lambda: alarm(cloudwatch, "notBreaching")["StateValue"] == "OK")
    assert alarm(cloudwatch, "missing")["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm(cloudwatch, "ignore")["StateValue"] == "INSUFFICIENT_DATA"  # kept: nothing to judge by


def test_set_alarm_state_runs_the_actions_unless_disabled(cloudwatch, sqs, topic_queue):
    topic, url = topic_queue
    cloudwatch.put_metric_alarm(
        AlarmName="manual",
        Namespace="Shop",
        MetricName="Any",
        Statistic="Average",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="LessThanThreshold",
        AlarmActions=[topic],
    )
    cloudwatch.disable_alarm_actions(AlarmNames=["manual"])
    assert alarm(cloudwatch, "manual")["ActionsEnabled"] is False
    cloudwatch.set_alarm_state(AlarmName="manual", StateValue="ALARM", StateReason="testing, quietly")
    cloudwatch.set_alarm_state(AlarmName="manual", StateValue="OK", StateReason="back")
    cloudwatch.enable_alarm_actions(AlarmNames=["manual"])
    cloudwatch.set_alarm_state(AlarmName="manual", StateValue="ALARM", StateReason="testing")
    envelope = wait_for(lambda: notifications(sqs, url, "ALARM"))[0]
    assert json.loads(envelope["Message"])["NewStateReason"] == "testing"  # the quiet one sent nothing
    assert alarm(cloudwatch, "manual")["StateReason"] == "testing"
    with pytest.raises(ClientError) as raised:
        cloudwatch.set_alarm_state(AlarmName="nope", StateValue="OK", StateReason="x")
    assert error_of(raised) == ("ResourceNotFound", 404)


def test_alarm_state_changes_reach_eventbridge(overcast, cloudwatch, sqs):
    events = overcast.client("events")
    url = sqs.create_queue(QueueName="alarm-events")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="alarms",
        EventPattern=json.dumps(
            {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]}
        ),
    )
    events.put_targets(Rule="alarms", Targets=[{"Id": "q", "Arn": queue}])
    cloudwatch.put_metric_alarm(
        AlarmName="evented",
        Namespace="Shop",
        MetricName="Any",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName="evented", StateValue="ALARM", StateReason="by hand")
    message = wait_for(lambda: sqs.receive_message(QueueUrl=url).get("Messages"))[0]
    event = json.loads(message["Body"])
    assert event["resources"] == ["arn:aws:cloudwatch:us-east-1:000000000000:alarm:evented"]
    assert event["detail"]["alarmName"] == "evented"
    assert (
        event["detail"]["state"]["value"] == "ALARM"
        and event["detail"]["previousState"]["value"] == "INSUFFICIENT_DATA"
    )
    assert event["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["name"] == "Any"


def test_a_metric_math_alarm(overcast, cloudwatch):
    def stat(query_id: str, name: str) -> dict:
        return {
            "Id": query_id,
            "MetricStat": {"Metric": {"Namespace": "Shop", "MetricName": name}, "Period": 60, "Stat": "Sum"},
            "ReturnData": False,
        }

    cloudwatch.put_metric_alarm(
        AlarmName="error-rate",
        Metrics=[
            stat("errors", "Errors"),
            stat("requests", "Requests"),
            {"Id": "rate", "Expression": "100 * errors / requests"},
        ],
        EvaluationPeriods=1,
        Threshold=10.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    align(overcast)
    cloudwatch.put_metric_data(
        Namespace="Shop",
        MetricData=[{"MetricName": "Errors", "Value": 3.0}, {"MetricName": "Requests", "Value": 10.0}],
    )
    overcast.advance_clock(60)
    wait_for(lambda: alarm(cloudwatch, "error-rate")["StateValue"] == "ALARM")
    assert "[30.0 (" in alarm(cloudwatch, "error-rate")["StateReason"]


def test_composite_alarms(cloudwatch):
    for name in ("cpu", "memory"):
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace="Shop",
            MetricName=name,
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=90.0,
            ComparisonOperator="GreaterThanThreshold",
        )
    cloudwatch.put_composite_alarm(AlarmName="overloaded", AlarmRule='ALARM("cpu") AND ALARM(memory)')
    composite = lambda: cloudwatch.describe_alarms(AlarmTypes=["CompositeAlarm"])["CompositeAlarms"][0]  # noqa: E731
    assert composite()["StateValue"] == "OK" and composite()["AlarmRule"] == 'ALARM("cpu") AND ALARM(memory)'
    cloudwatch.set_alarm_state(AlarmName="cpu", StateValue="ALARM", StateReason="hot")
    assert composite()["StateValue"] == "OK"
    cloudwatch.set_alarm_state(AlarmName="memory", StateValue="ALARM", StateReason="full")
    assert composite()["StateValue"] == "ALARM"
    children = cloudwatch.describe_alarms(ChildrenOfAlarmName="overloaded")["MetricAlarms"]
    assert sorted(a["AlarmName"] for a in children) == ["cpu", "memory"]
    with pytest.raises(ClientError) as raised:
        cloudwatch.delete_alarms(AlarmNames=["cpu"])
    assert error_of(raised) == ("ResourceConflict", 409)
    with pytest.raises(ClientError) as raised:
        cloudwatch.put_composite_alarm(AlarmName="bad", AlarmRule="ALARM(cpu) AND")
    assert error_of(raised) == ("ValidationError", 400)
    cloudwatch.delete_alarms(AlarmNames=["overloaded", "cpu", "memory"])
    assert cloudwatch.describe_alarms(AlarmTypes=["MetricAlarm", "CompositeAlarm"])["MetricAlarms"] == []


def test_describe_alarms_filters_and_alarms_for_a_metric(cloudwatch):
    for name, state in (("a-1", "OK"), ("a-2", "ALARM"), ("b-1", "OK")):
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace="Shop",
            MetricName="Orders" if name != "b-1" else "Other",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
        )
        cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="set")
    assert [a["AlarmName"] for a in cloudwatch.describe_alarms(AlarmNamePrefix="a-")["MetricAlarms"]] == [
        "a-1",
        "a-2",
    ]
    assert [a["AlarmName"] for a in cloudwatch.describe_alarms(StateValue="ALARM")["MetricAlarms"]] == ["a-2"]
    page = cloudwatch.describe_alarms(MaxRecords=2)
    assert len(page["MetricAlarms"]) == 2 and page["NextToken"]
    assert [
        a["AlarmName"] for a in cloudwatch.describe_alarms(NextToken=page["NextToken"])["MetricAlarms"]
    ] == ["b-1"]
    for_metric = cloudwatch.describe_alarms_for_metric(Namespace="Shop", MetricName="Orders")["MetricAlarms"]
    assert [a["AlarmName"] for a in for_metric] == ["a-1", "a-2"]
    with pytest.raises(ClientError) as raised:
        cloudwatch.delete_alarms(AlarmNames=["a-1", "missing"])
    assert error_of(raised) == ("ResourceNotFound", 404)


def test_put_metric_alarm_validation(cloudwatch):
    base = {"AlarmName": "x", "Namespace": "Shop", "MetricName": "m", "Period": 60, "Threshold": 1.0}
    base["ComparisonOperator"] = "GreaterThanThreshold"
    with pytest.raises(ClientError) as raised:
        cloudwatch.put_metric_alarm(EvaluationPeriods=1, **base)
    assert error_of(raised) == ("InvalidParameterCombination", 400)  # neither Statistic nor ExtendedStatistic
    with pytest.raises(ClientError) as raised:
        cloudwatch.put_metric_alarm(EvaluationPeriods=1, DatapointsToAlarm=2, Statistic="Sum", **base)
    assert error_of(raised) == ("ValidationError", 400)
    with pytest.raises(ClientError) as raised:
        cloudwatch.put_metric_alarm(EvaluationPeriods=2000, Statistic="Sum", **base)
    assert (
        message_of(raised)
        == "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400)."
    )


def test_alarm_tags(cloudwatch):
    cloudwatch.put_metric_alarm(
        AlarmName="tagged",
        Namespace="Shop",
        MetricName="m",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        Tags=[{"Key": "team", "Value": "shop"}],
    )
    arn = alarm(cloudwatch, "tagged")["AlarmArn"]
    cloudwatch.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "dev"}])
    assert cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "team", "Value": "shop"},
        {"Key": "env", "Value": "dev"},
    ]
    cloudwatch.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]


FORWARDER = """
import json, os
import boto3

def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps(event))
"""


@pytest.mark.slow
def test_a_lambda_alarm_action_receives_the_alarm_event(overcast, cloudwatch, sqs):
    import io
    import zipfile

    url = sqs.create_queue(QueueName="alarm-lambda")["QueueUrl"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", FORWARDER)
    function = overcast.client("lambda").create_function(
        FunctionName="on-alarm",
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/r",
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
        Environment={"Variables": {"QUEUE_URL": url}},
    )["FunctionArn"]
    cloudwatch.put_metric_alarm(
        AlarmName="to-lambda",
        Namespace="Shop",
        MetricName="Any",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[function],
    )
    cloudwatch.set_alarm_state(AlarmName="to-lambda", StateValue="ALARM", StateReason="by hand")
    message = wait_for(
        lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5).get("Messages"), timeout=60
    )[0]
    event = json.loads(message["Body"])
    assert event["source"] == "aws.cloudwatch"
    assert event["alarmArn"] == "arn:aws:cloudwatch:us-east-1:000000000000:alarm:to-lambda"
    assert (
        event["alarmData"]["state"]["value"] == "ALARM" and event["alarmData"]["state"]["reason"] == "by hand"
    )
    assert event["alarmData"]["previousState"]["value"] == "INSUFFICIENT_DATA"
