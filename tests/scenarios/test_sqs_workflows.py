"""SQS stories end to end: a poison message through its dead-letter queue and back, a delay queue, a worker
whose visibility timeout runs out, a worker whose heartbeats reach the 12-hour ceiling."""

import json
import time

from botocore.exceptions import ClientError


def test_poison_message_lands_in_the_dlq_after_three_receives_and_is_redriven_back(overcast):
    sqs = overcast.client("sqs")
    dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    orders = sqs.create_queue(
        QueueName="orders",
        Attributes={
            "VisibilityTimeout": "10",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}),
        },
    )["QueueUrl"]
    sqs.send_message(QueueUrl=orders, MessageBody='{"order": "broken"}')
    sqs.send_message(QueueUrl=orders, MessageBody='{"order": 1}')

    # A consumer that fails on the broken order: it never deletes it, so it comes back until the DLQ takes it.
    for _ in range(4):
        for message in sqs.receive_message(QueueUrl=orders, MaxNumberOfMessages=10).get("Messages", []):
            if "broken" not in message["Body"]:
                sqs.delete_message(QueueUrl=orders, ReceiptHandle=message["ReceiptHandle"])
        overcast.advance_clock("11s")
    assert "Messages" not in sqs.receive_message(QueueUrl=orders)
    dead = sqs.receive_message(QueueUrl=dlq, VisibilityTimeout=0, MessageSystemAttributeNames=["All"])[
        "Messages"
    ]
    assert dead[0]["Body"] == '{"order": "broken"}'
    assert dead[0]["Attributes"]["DeadLetterQueueSourceArn"].endswith(":orders")

    # The fix is deployed: redrive the DLQ back to the source queue.
    sqs.start_message_move_task(SourceArn=dlq_arn)
    deadline = time.monotonic() + 30  # the move runs in the background: generous for a busy machine
    while (task := sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0])["Status"] == "RUNNING":
        assert time.monotonic() < deadline, "the move task did not finish"
        time.sleep(0.05)
    assert task["Status"] == "COMPLETED"
    assert task["ApproximateNumberOfMessagesMoved"] == 1
    back = sqs.receive_message(QueueUrl=orders)["Messages"]
    assert back[0]["Body"] == '{"order": "broken"}'
    sqs.delete_message(QueueUrl=orders, ReceiptHandle=back[0]["ReceiptHandle"])
    attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"


def test_delay_queue_holds_messages_until_the_delay_passes(overcast):
    sqs = overcast.client("sqs")
    url = sqs.create_queue(QueueName="reminders", Attributes={"DelaySeconds": "900"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="in 15 minutes")
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert (
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])[
            "Attributes"
        ]["ApproximateNumberOfMessagesDelayed"]
        == "1"
    )
    overcast.advance_clock("14m")
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    overcast.advance_clock("61s")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "in 15 minutes"


def test_visibility_timeout_expires_and_another_worker_gets_the_message(overcast):
    sqs = overcast.client("sqs")
    url = sqs.create_queue(QueueName="jobs", Attributes={"VisibilityTimeout": "120"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="resize image 7")
    crashed_worker = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])[
        "Messages"
    ][0]
    overcast.advance_clock("119s")
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    overcast.advance_clock("2s")
    second_worker = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"][
        0
    ]
    assert second_worker["MessageId"] == crashed_worker["MessageId"]
    assert second_worker["Attributes"]["ApproximateReceiveCount"] == "2"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=second_worker["ReceiptHandle"])
    overcast.advance_clock("10m")
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_a_heartbeating_worker_cannot_hold_a_message_past_twelve_hours(overcast):
    """A worker extends its message's visibility every 50 minutes while it transcodes a long video. SQS lets it
    go on until the 12 hours since its receive would be passed: that heartbeat is refused, the worker gives up,
    and the message returns to the queue for another worker, who gets 12 new hours."""
    sqs = overcast.client("sqs")
    url = sqs.create_queue(QueueName="transcode", Attributes={"VisibilityTimeout": "3600"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="video 42")
    first = sqs.receive_message(QueueUrl=url)["Messages"][0]

    heartbeats, refused = 0, None
    for _ in range(20):  # 16 hours of work, at most
        overcast.advance_clock("50m")
        try:
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=3600
            )
            heartbeats += 1
        except ClientError as error:
            refused = error.response["Error"]
            break
    # every 50 minutes for one more hour: the 13th (at 10 h 50 min) ends at 11 h 50 min; the 14th, at 11 h 40 min,
    # would end at 12 h 40 min
    assert heartbeats == 13
    assert refused["Code"] == "InvalidParameterValue"
    assert "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]" in refused["Message"]

    # The refused heartbeat changed nothing: the message stays hidden until 11 h 50 min, then comes back.
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    overcast.advance_clock("11m")
    second = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["ApproximateReceiveCount"])[
        "Messages"
    ][0]
    assert second["MessageId"] == first["MessageId"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    overcast.advance_clock("50m")
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=3600)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"])
