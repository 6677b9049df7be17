"""Metrics Overcast's services publish themselves (AWS/SQS), and the issue's alarm on a queue's depth."""

import datetime
import json

from tests.services.cloudwatch.test_cloudwatch_alarms import align, notifications
from tests.waiting import wait_for


def test_an_alarm_on_a_queue_depth_fires_when_messages_pile_up_and_clears_when_they_drain(
    overcast, cloudwatch, sqs, topic_queue
):
    topic, notified = topic_queue
    orders = sqs.create_queue(QueueName="orders")["QueueUrl"]
    align(overcast)
    cloudwatch.put_metric_alarm(
        AlarmName="orders-backlog",
        Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible",
        Dimensions=[{"Name": "QueueName", "Value": "orders"}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=2,
        Threshold=5,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[topic],
        OKActions=[topic],
    )
    for index in range(8):
        sqs.send_message(QueueUrl=orders, MessageBody=f"order {index}")
    overcast.advance_clock(60)  # one minute over the threshold: not yet the two periods asked
    state = cloudwatch.describe_alarms(AlarmNames=["orders-backlog"])["MetricAlarms"][0]["StateValue"]
    assert state != "ALARM"
    overcast.advance_clock(60)
    wait_for(
        lambda: (
            cloudwatch.describe_alarms(AlarmNames=["orders-backlog"])["MetricAlarms"][0]["StateValue"]
            == "ALARM"
        )
    )
    alarmed = json.loads(wait_for(lambda: notifications(sqs, notified, "ALARM"))[0]["Message"])
    assert alarmed["AlarmName"] == "orders-backlog"
    assert alarmed["Trigger"]["Namespace"] == "AWS/SQS"

    for _ in range(8):  # a consumer drains the queue
        for message in sqs.receive_message(QueueUrl=orders, MaxNumberOfMessages=10).get("Messages", []):
            sqs.delete_message(QueueUrl=orders, ReceiptHandle=message["ReceiptHandle"])
    overcast.advance_clock(60)
    wait_for(
        lambda: (
            cloudwatch.describe_alarms(AlarmNames=["orders-backlog"])["MetricAlarms"][0]["StateValue"] == "OK"
        )
    )
    assert (
        json.loads(wait_for(lambda: notifications(sqs, notified, "OK"))[0]["Message"])["OldStateValue"]
        == "ALARM"
    )

    # The counters of the same minutes, as GetMetricStatistics reads them.
    now = datetime.datetime.fromisoformat(
        cloudwatch.describe_alarms(AlarmNames=["orders-backlog"])["MetricAlarms"][0][
            "StateUpdatedTimestamp"
        ].isoformat()
    )
    window = {
        "StartTime": now - datetime.timedelta(minutes=10),
        "EndTime": now + datetime.timedelta(minutes=1),
    }

    def total(name: str) -> float:
        found = cloudwatch.get_metric_statistics(
            Namespace="AWS/SQS",
            MetricName=name,
            Dimensions=[{"Name": "QueueName", "Value": "orders"}],
            Period=60,
            Statistics=["Sum"],
            **window,
        )
        return sum(point["Sum"] for point in found["Datapoints"])

    assert total("NumberOfMessagesSent") == 8
    assert total("NumberOfMessagesReceived") == 8
    assert total("NumberOfMessagesDeleted") == 8
    listed = cloudwatch.list_metrics(
        Namespace="AWS/SQS", Dimensions=[{"Name": "QueueName", "Value": "orders"}]
    )
    assert {m["MetricName"] for m in listed["Metrics"]} >= {
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateAgeOfOldestMessage",
        "NumberOfEmptyReceives",
    }
