"""FIFO queues (order, groups, deduplication, receive attempts) and dead-letter queues with redrive."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.waiting import wait_for


@pytest.fixture
def sqs(overcast):
    return overcast.client("sqs")


def fifo_queue(sqs, name="jobs.fifo", **attributes):
    return sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true", **attributes})["QueueUrl"]


def bodies(response) -> list[str]:
    return [m["Body"] for m in response.get("Messages", [])]


def test_fifo_keeps_order_within_a_group(sqs):
    url = fifo_queue(sqs)
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g", MessageDeduplicationId=str(i))
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3)) == ["m0", "m1", "m2"]


def test_a_group_is_blocked_while_a_message_is_in_flight(sqs, overcast):
    url = fifo_queue(sqs, ContentBasedDeduplication="true")
    sqs.send_message(QueueUrl=url, MessageBody="a1", MessageGroupId="a")
    sqs.send_message(QueueUrl=url, MessageBody="a2", MessageGroupId="a")
    sqs.send_message(QueueUrl=url, MessageBody="b1", MessageGroupId="b")
    first = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert first["Body"] == "a1"
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == ["b1"]
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == []
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == ["a2"]


def test_a_group_unblocks_when_visibility_expires(sqs, overcast):
    url = fifo_queue(sqs, ContentBasedDeduplication="true")
    for body in ("x1", "x2"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="x")
    assert bodies(sqs.receive_message(QueueUrl=url)) == ["x1"]
    overcast.advance_clock("31s")
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == ["x1", "x2"]


def test_deduplication_by_id_and_by_content_within_five_minutes(sqs, overcast):
    url = fifo_queue(sqs, ContentBasedDeduplication="true")
    first = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    again = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    assert again["MessageId"] == first["MessageId"]
    assert again["SequenceNumber"] == first["SequenceNumber"]
    explicit = sqs.send_message(
        QueueUrl=url, MessageBody="other", MessageGroupId="g", MessageDeduplicationId="d"
    )
    assert (
        sqs.send_message(QueueUrl=url, MessageBody="changed", MessageGroupId="g", MessageDeduplicationId="d")[
            "MessageId"
        ]
        == explicit["MessageId"]
    )
    overcast.advance_clock("301s")
    sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    assert (
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "3"
    )


def test_deduplication_scope_message_group(sqs):
    url = fifo_queue(sqs, DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="a", MessageDeduplicationId="d")
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="b", MessageDeduplicationId="d")
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="b", MessageDeduplicationId="d")
    assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]) == 2


def test_fifo_send_rules(sqs):
    url = fifo_queue(sqs)
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert raised.value.response["Error"]["Code"] == "MissingParameter"
    with pytest.raises(ClientError) as raised:
        sqs.send_message(
            QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d", DelaySeconds=5
        )
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    standard = sqs.create_queue(QueueName="standard")["QueueUrl"]
    with pytest.raises(ClientError):
        sqs.send_message(QueueUrl=standard, MessageBody="x", MessageDeduplicationId="d")


def test_sequence_numbers_increase_and_system_attributes(sqs):
    url = fifo_queue(sqs, ContentBasedDeduplication="true")
    numbers = [
        int(sqs.send_message(QueueUrl=url, MessageBody=str(i), MessageGroupId="g")["SequenceNumber"])
        for i in range(3)
    ]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    message = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["All"])["Messages"][0]
    assert message["Attributes"]["MessageGroupId"] == "g"
    assert message["Attributes"]["SequenceNumber"] == str(numbers[0])
    assert message["Attributes"]["MessageDeduplicationId"]


def test_receive_request_attempt_id_returns_the_same_messages(sqs):
    url = fifo_queue(sqs, ContentBasedDeduplication="true")
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(i), MessageGroupId=f"g{i}")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1")[
        "Messages"
    ]
    retry = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1")[
        "Messages"
    ]
    assert [m["ReceiptHandle"] for m in retry] == [m["ReceiptHandle"] for m in first]
    other = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-2")[
        "Messages"
    ]
    assert [m["Body"] for m in other] == ["2"]


def test_receive_request_attempt_id_must_be_1_to_128_printable_characters(sqs):
    url = fifo_queue(sqs, ContentBasedDeduplication="true")
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    for bad in ("has space", "x" * 129, "é"):
        with pytest.raises(ClientError) as raised:
            sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId=bad)
        assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
        assert "ReceiveRequestAttemptId" in raised.value.response["Error"]["Message"]
    assert bodies(sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="a" * 128)) == ["x"]


def test_fifo_batch_send_keeps_order(sqs):
    url = fifo_queue(sqs, ContentBasedDeduplication="true")
    result = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": str(i), "MessageBody": f"b{i}", "MessageGroupId": "g"} for i in range(10)],
    )
    assert len(result["Successful"]) == 10 and all("SequenceNumber" in e for e in result["Successful"])
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == [f"b{i}" for i in range(10)]


# -- dead-letter queues --------------------------------------------------------------------------


def with_dlq(sqs, max_receives=2, fifo=False):
    suffix = ".fifo" if fifo else ""
    extra = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    dlq = sqs.create_queue(QueueName=f"dead{suffix}", Attributes=extra)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source = sqs.create_queue(
        QueueName=f"source{suffix}",
        Attributes={
            **extra,
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)}
            ),
        },
    )["QueueUrl"]
    return source, dlq, dlq_arn


def test_message_moves_to_the_dlq_after_max_receives(sqs, overcast):
    source, dlq, _ = with_dlq(sqs, max_receives=2)
    sqs.send_message(
        QueueUrl=source,
        MessageBody="poison",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    for _ in range(2):
        assert bodies(sqs.receive_message(QueueUrl=source)) == ["poison"]
        overcast.advance_clock("2s")
    assert bodies(sqs.receive_message(QueueUrl=source)) == []
    dead = sqs.receive_message(
        QueueUrl=dlq, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
    )
    message = dead["Messages"][0]
    assert message["Body"] == "poison"
    assert message["MessageAttributes"]["k"]["StringValue"] == "v"
    assert message["Attributes"]["DeadLetterQueueSourceArn"].endswith(":source")


def test_fifo_dead_letter_queue(sqs, overcast):
    source, dlq, _ = with_dlq(sqs, max_receives=1, fifo=True)
    sqs.send_message(QueueUrl=source, MessageBody="p", MessageGroupId="g")
    sqs.send_message(QueueUrl=source, MessageBody="q", MessageGroupId="g")
    assert bodies(sqs.receive_message(QueueUrl=source)) == ["p"]
    overcast.advance_clock("2s")
    assert bodies(sqs.receive_message(QueueUrl=source)) == ["q"]
    assert bodies(sqs.receive_message(QueueUrl=dlq)) == ["p"]


def test_redrive_allow_policy_deny_all_keeps_messages(sqs, overcast):
    source, dlq, _ = with_dlq(sqs, max_receives=1)
    sqs.set_queue_attributes(
        QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})}
    )
    sqs.send_message(QueueUrl=source, MessageBody="stays")
    sqs.receive_message(QueueUrl=source)
    overcast.advance_clock("2s")
    assert bodies(sqs.receive_message(QueueUrl=source)) == ["stays"]


def wait_for_task(sqs, dlq_arn):
    """The most recent move task from `dlq_arn`, once it is no longer running."""

    def finished():
        task = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
        return task if task["Status"] != "RUNNING" else None

    return wait_for(finished)


def test_message_move_task_redrives_back_to_the_source(sqs, overcast):
    source, dlq, dlq_arn = with_dlq(sqs, max_receives=1)
    for i in range(3):
        sqs.send_message(QueueUrl=source, MessageBody=f"p{i}")
    sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10)
    overcast.advance_clock("2s")
    assert bodies(sqs.receive_message(QueueUrl=source)) == []
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    assert handle
    task = wait_for_task(sqs, dlq_arn)
    assert task["Status"] == "COMPLETED"
    assert task["ApproximateNumberOfMessagesMoved"] == 3
    assert sorted(bodies(sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10))) == ["p0", "p1", "p2"]
    assert bodies(sqs.receive_message(QueueUrl=dlq)) == []


def test_move_task_to_an_explicit_destination_and_errors(sqs, overcast):
    source, dlq, dlq_arn = with_dlq(sqs, max_receives=1)
    elsewhere = sqs.create_queue(QueueName="elsewhere")["QueueUrl"]
    sqs.send_message(QueueUrl=dlq, MessageBody="direct")
    sqs.start_message_move_task(
        SourceArn=dlq_arn, DestinationArn="arn:aws:sqs:us-east-1:000000000000:elsewhere"
    )
    wait_for_task(sqs, dlq_arn)
    assert bodies(sqs.receive_message(QueueUrl=elsewhere)) == ["direct"]
    with pytest.raises(ClientError):
        sqs.start_message_move_task(SourceArn="arn:aws:sqs:us-east-1:000000000000:elsewhere")
    with pytest.raises(ClientError) as raised:
        sqs.cancel_message_move_task(TaskHandle="nope")
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"  # not a handle at all


def test_cancel_a_running_move_task(sqs):
    _, dlq, dlq_arn = with_dlq(sqs, max_receives=1)
    sqs.send_message_batch(QueueUrl=dlq, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(3)])
    handle = sqs.start_message_move_task(
        SourceArn=dlq_arn,
        DestinationArn="arn:aws:sqs:us-east-1:000000000000:source",
        MaxNumberOfMessagesPerSecond=1,
    )["TaskHandle"]
    with pytest.raises(ClientError):
        sqs.start_message_move_task(SourceArn=dlq_arn)
    moved = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    assert moved <= 1
    assert sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["Status"] == "CANCELLED"


def dead_letter(sqs, overcast, source, count):
    """Send `count` messages to `source` (maxReceiveCount 1) and receive each once, so the next receive moves
    them all to the dead-letter queue; returns their original message ids."""
    ids = [sqs.send_message(QueueUrl=source, MessageBody=f"m{i}")["MessageId"] for i in range(count)]
    sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10)
    overcast.advance_clock("2s")
    assert bodies(sqs.receive_message(QueueUrl=source)) == []
    return ids


def queue_counts(sqs, url) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_a_move_task_moves_available_messages_and_leaves_in_flight_ones(sqs, overcast):
    source, dlq, dlq_arn = with_dlq(sqs, max_receives=1)
    original_ids = dead_letter(sqs, overcast, source, 3)
    assert queue_counts(sqs, dlq) == (3, 0)
    # someone is looking at one dead letter when the redrive starts
    inspected = sqs.receive_message(QueueUrl=dlq, VisibilityTimeout=600)["Messages"][0]
    assert queue_counts(sqs, dlq) == (2, 1)

    sqs.start_message_move_task(SourceArn=dlq_arn)
    task = wait_for_task(sqs, dlq_arn)
    assert task["Status"] == "COMPLETED"
    assert task["ApproximateNumberOfMessagesToMove"] == 2
    assert task["ApproximateNumberOfMessagesMoved"] == 2
    assert queue_counts(sqs, dlq) == (0, 1)

    redriven = sqs.receive_message(
        QueueUrl=source, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    )["Messages"]
    assert sorted(m["Body"] for m in redriven) == sorted({"m0", "m1", "m2"} - {inspected["Body"]})
    # redriven messages are new messages: new ids, never received before, no dead-letter source
    assert not {m["MessageId"] for m in redriven} & set(original_ids)
    assert all(m["Attributes"]["ApproximateReceiveCount"] == "1" for m in redriven)
    assert all("DeadLetterQueueSourceArn" not in m["Attributes"] for m in redriven)
    # the message in flight stayed in the dead-letter queue, and its receipt handle still works
    sqs.delete_message(QueueUrl=dlq, ReceiptHandle=inspected["ReceiptHandle"])
    assert queue_counts(sqs, dlq) == (0, 0)


def test_a_move_task_with_every_message_in_flight_completes_without_moving_any(sqs, overcast):
    source, dlq, dlq_arn = with_dlq(sqs, max_receives=1)
    dead_letter(sqs, overcast, source, 2)
    sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=600)
    sqs.start_message_move_task(SourceArn=dlq_arn)
    task = wait_for_task(sqs, dlq_arn)
    assert (
        task["Status"],
        task["ApproximateNumberOfMessagesToMove"],
        task["ApproximateNumberOfMessagesMoved"],
    ) == (
        "COMPLETED",
        0,
        0,
    )
    assert queue_counts(sqs, dlq) == (0, 2)
    assert queue_counts(sqs, source) == (0, 0)


def test_redriven_messages_restart_their_retention_period(sqs, overcast):
    dlq = sqs.create_queue(QueueName="dead", Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source = sqs.create_queue(
        QueueName="source",
        Attributes={
            "VisibilityTimeout": "1",
            "MessageRetentionPeriod": "3600",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"}),
        },
    )["QueueUrl"]
    dead_letter(sqs, overcast, source, 1)
    overcast.advance_clock("50m")  # in the dead-letter queue, 50 minutes after it was first sent
    sqs.start_message_move_task(SourceArn=dlq_arn)
    assert wait_for_task(sqs, dlq_arn)["ApproximateNumberOfMessagesMoved"] == 1
    overcast.advance_clock("30m")  # 80 minutes after the original send, 30 after the redrive: still there
    assert bodies(sqs.receive_message(QueueUrl=source)) == ["m0"]


def test_fifo_dead_letter_queue_replaces_the_deduplication_id_and_redrives_in_order(sqs, overcast):
    source, dlq, dlq_arn = with_dlq(sqs, max_receives=1, fifo=True)
    sent = [
        sqs.send_message(
            QueueUrl=source, MessageBody=f"m{i}", MessageGroupId="g", MessageDeduplicationId="same-id"
        )
        if i == 0
        else sqs.send_message(QueueUrl=source, MessageBody=f"m{i}", MessageGroupId="g")
        for i in range(3)
    ]
    for _ in range(3):  # each message in turn: received once, then moved by the next receive
        sqs.receive_message(QueueUrl=source)
        overcast.advance_clock("2s")
    sqs.receive_message(QueueUrl=source)
    dead = sqs.receive_message(QueueUrl=dlq, MessageSystemAttributeNames=["All"], VisibilityTimeout=0)[
        "Messages"
    ]
    assert dead[0]["Body"] == "m0"
    assert dead[0]["MessageId"] == sent[0]["MessageId"]
    assert dead[0]["Attributes"]["MessageDeduplicationId"] == sent[0]["MessageId"]  # no longer "same-id"

    sqs.start_message_move_task(SourceArn=dlq_arn)
    assert wait_for_task(sqs, dlq_arn)["ApproximateNumberOfMessagesMoved"] == 3
    assert bodies(sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10)) == ["m0", "m1", "m2"]


def test_move_task_errors_and_their_http_statuses(sqs):
    _, _, dlq_arn = with_dlq(sqs, max_receives=1)
    fifo_queue(sqs, "other.fifo")
    with pytest.raises(ClientError) as raised:
        sqs.start_message_move_task(
            SourceArn=dlq_arn, DestinationArn="arn:aws:sqs:us-east-1:000000000000:other.fifo"
        )
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    for call in (
        lambda: sqs.start_message_move_task(SourceArn="arn:aws:sqs:us-east-1:000000000000:missing"),
        lambda: sqs.start_message_move_task(
            SourceArn=dlq_arn, DestinationArn="arn:aws:sqs:us-east-1:000000000000:missing"
        ),
        lambda: sqs.list_message_move_tasks(SourceArn="arn:aws:sqs:us-east-1:000000000000:missing"),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
