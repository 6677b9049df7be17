"""SQS messages through boto3: send/receive/delete, visibility, batches, MD5s, attributes, long polling."""

import hashlib
import signal
import threading
import time

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of
from tests.server_process import ServerProcess


@pytest.fixture
def sqs(overcast):
    return overcast.client("sqs")


@pytest.fixture
def queue(sqs):
    return sqs.create_queue(QueueName="work")["QueueUrl"]


def test_send_receive_delete(sqs, queue):
    sent = sqs.send_message(QueueUrl=queue, MessageBody="hello")
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"hello").hexdigest()
    received = sqs.receive_message(QueueUrl=queue)["Messages"]
    assert [m["Body"] for m in received] == ["hello"]
    assert received[0]["MessageId"] == sent["MessageId"]
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=received[0]["ReceiptHandle"])
    assert (
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"][
            "ApproximateNumberOfMessagesNotVisible"
        ]
        == "0"
    )


def test_message_attributes_round_trip_with_md5_the_sdk_verifies(sqs, queue):
    attributes = {
        "text": {"DataType": "String", "StringValue": "héllo"},
        "count": {"DataType": "Number", "StringValue": "42"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
        "custom": {"DataType": "String.json", "StringValue": "{}"},
    }
    sent = sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes=attributes)
    # boto3 recomputes MD5OfMessageAttributes on send and receive and raises if it differs.
    message = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"][0]
    assert message["MessageAttributes"] == attributes
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]


def test_only_requested_message_attributes_are_returned(sqs, queue):
    sqs.send_message(
        QueueUrl=queue,
        MessageBody="x",
        MessageAttributes={
            "app.a": {"DataType": "String", "StringValue": "1"},
            "app.b": {"DataType": "String", "StringValue": "2"},
            "other": {"DataType": "String", "StringValue": "3"},
        },
    )
    message = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["app.*"])["Messages"][0]
    assert set(message["MessageAttributes"]) == {"app.a", "app.b"}
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    message = sqs.receive_message(QueueUrl=queue)["Messages"][0]
    assert "MessageAttributes" not in message


def test_system_attributes_and_receive_count(sqs, queue, overcast):
    sqs.send_message(
        QueueUrl=queue,
        MessageBody="x",
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}},
    )
    first = sqs.receive_message(QueueUrl=queue, MessageSystemAttributeNames=["All"], VisibilityTimeout=1)
    attributes = first["Messages"][0]["Attributes"]
    assert attributes["ApproximateReceiveCount"] == "1"
    assert attributes["AWSTraceHeader"] == "Root=1-abc"
    assert attributes["SenderId"] == "000000000000"
    assert int(attributes["SentTimestamp"]) <= int(attributes["ApproximateFirstReceiveTimestamp"])
    overcast.advance_clock("2s")
    second = sqs.receive_message(QueueUrl=queue, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert second["Attributes"] == {"ApproximateReceiveCount": "2"}
    assert second["ReceiptHandle"] != first["Messages"][0]["ReceiptHandle"]


def test_invalid_message_attributes(sqs, queue):
    cases = [
        {"AWS.reserved": {"DataType": "String", "StringValue": "x"}},
        {"n": {"DataType": "Number", "StringValue": "not-a-number"}},
        {"e": {"DataType": "String", "StringValue": ""}},
        {"t": {"DataType": "Float", "StringValue": "1"}},
        {f"a{i}": {"DataType": "String", "StringValue": "x"} for i in range(11)},
    ]
    for attributes in cases:
        with pytest.raises(ClientError) as raised:
            sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes=attributes)
        assert code_of(raised) == "InvalidParameterValue"


def test_invalid_body_characters(sqs, queue):
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=queue, MessageBody="bad \x01 char")
    assert code_of(raised) == "InvalidMessageContents"


def test_message_size_limit_follows_the_queue(sqs):
    url = sqs.create_queue(QueueName="small", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x" * 1024)
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1025)
    assert code_of(raised) == "InvalidParameterValue"
    assert "1024" in raised.value.response["Error"]["Message"]


def test_changed_attributes_apply_to_the_next_request(sqs, overcast):
    # every request reads the queue's attributes (the server keeps its latest read): a change is seen at once
    url = sqs.create_queue(QueueName="changing")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x" * 2048)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "1024", "DelaySeconds": "30"})
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1025)
    assert "1024" in raised.value.response["Error"]["Message"]
    sqs.send_message(QueueUrl=url, MessageBody="delayed")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]] == [
        "x" * 2048
    ]
    overcast.advance_clock("31s")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["delayed"]


def test_a_queue_recreated_under_its_name_is_the_new_queue(sqs, overcast):
    url = sqs.create_queue(QueueName="reborn")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="old")
    sqs.delete_queue(QueueUrl=url)
    overcast.advance_clock("61s")
    url = sqs.create_queue(QueueName="reborn", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="new")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]] == [
        "new"
    ]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "5"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"
    overcast.advance_clock("6s")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["new"]


def test_reset_forgets_every_queue(sqs, overcast):
    url = sqs.create_queue(QueueName="before-reset")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    overcast.reset()
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="x")
    assert code_of(raised) == "AWS.SimpleQueueService.NonExistentQueue"


def test_one_mebibyte_message(sqs, queue):
    body = "y" * 1_048_576
    sqs.send_message(QueueUrl=queue, MessageBody=body)
    assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == body
    with pytest.raises(ClientError):
        sqs.send_message(QueueUrl=queue, MessageBody=body + "y")


def test_visibility_timeout_hides_then_returns_the_message(sqs, queue, overcast):
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    assert sqs.receive_message(QueueUrl=queue)["Messages"]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)
    overcast.advance_clock("31s")
    assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "x"


def test_change_message_visibility(sqs, queue, overcast):
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    handle = sqs.receive_message(QueueUrl=queue)["Messages"][0]["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=600)
    overcast.advance_clock("5m")
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=0)
    assert sqs.receive_message(QueueUrl=queue)["Messages"]
    with pytest.raises(ClientError) as raised:
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=43201)
    assert code_of(raised) == "InvalidParameterValue"


def test_change_visibility_of_a_message_no_longer_in_flight_hides_it_again(sqs, queue, overcast):
    """AWS answers 200 once the timeout has run out, and the message is hidden for the new timeout."""
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    handle = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=5)["Messages"][0]["ReceiptHandle"]
    overcast.advance_clock("6s")
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=10)
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)
    overcast.advance_clock("11s")
    assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "x"


TWELVE_HOURS_REASON = "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]"


def test_visibility_cannot_be_extended_past_twelve_hours_after_the_receive(sqs, queue, overcast):
    sqs.send_message(QueueUrl=queue, MessageBody="long job")
    handle = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=7200)["Messages"][0]["ReceiptHandle"]

    # 43200 s from now would end after the 12 hours that started at the receive.
    with pytest.raises(ClientError) as raised:
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=43200)
    error = raised.value.response
    assert error["Error"]["Code"] == "InvalidParameterValue"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Message"] == (
        f"Value 43200 for parameter VisibilityTimeout is invalid. Reason: {TWELVE_HOURS_REASON}."
    )

    # A worker's heartbeat: extensions are fine while they end within the 12 hours, and they do not restart them.
    overcast.advance_clock("1h")
    sqs.change_message_visibility(
        QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=36000
    )  # ends at 11 h
    overcast.advance_clock("9h")
    sqs.change_message_visibility(
        QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=7100
    )  # 11 h 58 m 20 s
    with pytest.raises(ClientError) as raised:
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=7300)
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert TWELVE_HOURS_REASON in raised.value.response["Error"]["Message"]
    # The refused change left the last accepted one in place: hidden until then, visible after.
    overcast.advance_clock("1h58m")
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)
    overcast.advance_clock("1m")

    # The next receive starts a new 12 hours.
    handle = sqs.receive_message(QueueUrl=queue)["Messages"][0]["ReceiptHandle"]
    overcast.advance_clock("10s")
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=43000)


def test_change_visibility_batch_reports_the_twelve_hour_limit_per_entry(sqs, queue, overcast):
    sqs.send_message_batch(
        QueueUrl=queue, Entries=[{"Id": "a", "MessageBody": "a"}, {"Id": "b", "MessageBody": "b"}]
    )
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=600)["Messages"]
    handles = {m["Body"]: m["ReceiptHandle"] for m in received}
    overcast.advance_clock("5m")
    changed = sqs.change_message_visibility_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "short", "ReceiptHandle": handles["a"], "VisibilityTimeout": 3600},
            {"Id": "too-long", "ReceiptHandle": handles["b"], "VisibilityTimeout": 43200},
        ],
    )
    assert [e["Id"] for e in changed["Successful"]] == ["short"]
    (failed,) = changed["Failed"]
    assert failed["Id"] == "too-long"
    assert failed["Code"] == "InvalidParameterValue" and failed["SenderFault"] is True
    assert TWELVE_HOURS_REASON in failed["Message"]


def test_fifo_queue_refuses_to_delete_with_an_expired_receipt_handle(sqs, overcast):
    url = sqs.create_queue(
        QueueName="jobs.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    handle = sqs.receive_message(QueueUrl=url, VisibilityTimeout=5)["Messages"][0]["ReceiptHandle"]
    overcast.advance_clock("6s")
    with pytest.raises(ClientError) as raised:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
    assert code_of(raised) == "InvalidParameterValue"
    assert raised.value.response["Error"]["Message"].endswith("Reason: The receipt handle has expired.")
    # the message was not deleted; its current handle deletes it
    message = sqs.receive_message(QueueUrl=url)["Messages"][0]
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "old", "ReceiptHandle": handle},
            {"Id": "new", "ReceiptHandle": message["ReceiptHandle"]},
        ],
    )
    assert [e["Id"] for e in deleted["Successful"]] == ["new"]
    assert [(e["Id"], e["Code"]) for e in deleted["Failed"]] == [("old", "InvalidParameterValue")]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])  # already deleted: fine


def test_invalid_receipt_handle(sqs, queue):
    with pytest.raises(ClientError) as raised:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle="garbage!")
    assert code_of(raised) == "ReceiptHandleIsInvalid"


def test_stale_receipt_handle_does_not_delete_the_redelivered_message(sqs, queue, overcast):
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    old = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=1)["Messages"][0]["ReceiptHandle"]
    overcast.advance_clock("2s")
    new = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=1)["Messages"][0]["ReceiptHandle"]
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=old)
    overcast.advance_clock("2s")
    assert sqs.receive_message(QueueUrl=queue)["Messages"]
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=new)  # a handle of a deleted message: still fine


def test_delay_seconds_per_message_and_per_queue(sqs, overcast):
    url = sqs.create_queue(QueueName="delayed", Attributes={"DelaySeconds": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="queue-delay")
    sqs.send_message(QueueUrl=url, MessageBody="now", DelaySeconds=0)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"
    assert attributes["ApproximateNumberOfMessages"] == "1"
    assert [
        m["Body"]
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)["Messages"]
    ] == ["now"]
    overcast.advance_clock("61s")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["queue-delay"]
    with pytest.raises(ClientError):
        sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901)


def test_receive_parameter_ranges(sqs, queue):
    for kwargs in ({"MaxNumberOfMessages": 11}, {"MaxNumberOfMessages": 0}, {"WaitTimeSeconds": 21}):
        with pytest.raises(ClientError) as raised:
            sqs.receive_message(QueueUrl=queue, **kwargs)
        assert code_of(raised) == "InvalidParameterValue"


def test_retention_period_drops_old_messages(sqs, overcast):
    url = sqs.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="old")
    overcast.advance_clock("61s")
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert (
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "0"
    )


def test_retention_applies_to_messages_sent_after_a_receive(sqs, overcast):
    # the first receives find nothing to expire (and remember how old the oldest message is); later sends
    # must still expire on time
    url = sqs.create_queue(QueueName="short-later", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    sqs.send_message(QueueUrl=url, MessageBody="first")
    overcast.advance_clock("30s")
    sqs.send_message(QueueUrl=url, MessageBody="second")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    assert sorted(m["Body"] for m in received) == ["first", "second"]
    overcast.advance_clock("31s")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    assert [m["Body"] for m in received] == ["second"]
    overcast.advance_clock("30s")
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_counts(sqs, queue):
    for i in range(5):
        sqs.send_message(QueueUrl=queue, MessageBody=str(i))
    sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=2)
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "3"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "2"


# -- batches -------------------------------------------------------------------------------------


def test_send_batch_with_per_entry_failures(sqs, queue):
    result = sqs.send_message_batch(
        QueueUrl=queue,
        Entries=[
            {
                "Id": "ok",
                "MessageBody": "a",
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            },
            {"Id": "bad", "MessageBody": "b", "DelaySeconds": 901},
            {"Id": "bad-char", "MessageBody": "\x00"},
        ],
    )
    assert [e["Id"] for e in result["Successful"]] == ["ok"]
    assert result["Successful"][0]["MD5OfMessageBody"] == hashlib.md5(b"a").hexdigest()
    assert {e["Id"]: e["Code"] for e in result["Failed"]} == {
        "bad": "InvalidParameterValue",
        "bad-char": "InvalidMessageContents",
    }
    assert all(e["SenderFault"] for e in result["Failed"])


@pytest.mark.parametrize(
    "entries, expected",
    [
        ([], "EmptyBatchRequest"),
        ([{"Id": str(i), "MessageBody": "x"} for i in range(11)], "TooManyEntriesInBatchRequest"),
        (
            [{"Id": "same", "MessageBody": "x"}, {"Id": "same", "MessageBody": "y"}],
            "BatchEntryIdsNotDistinct",
        ),
        ([{"Id": "no spaces", "MessageBody": "x"}], "InvalidBatchEntryId"),
        ([{"Id": str(i), "MessageBody": "x" * 200_000} for i in range(6)], "BatchRequestTooLong"),
    ],
)
def test_batch_request_errors(sqs, queue, entries, expected):
    with pytest.raises(ClientError) as raised:
        sqs.send_message_batch(QueueUrl=queue, Entries=entries)
    assert expected in code_of(raised)


@pytest.mark.parametrize(
    "operation, entry, shape",
    [
        ("send_message_batch", {"MessageBody": "x"}, "SendMessageBatchRequestEntry"),
        ("delete_message_batch", {"ReceiptHandle": "h"}, "DeleteMessageBatchRequestEntry"),
        (
            "change_message_visibility_batch",
            {"ReceiptHandle": "h", "VisibilityTimeout": 0},
            "ChangeMessageVisibilityBatchRequestEntry",
        ),
    ],
)
def test_every_batch_operation_checks_its_entries(sqs, queue, operation, entry, shape):
    call = getattr(sqs, operation)
    cases = [
        (
            [],
            "AWS.SimpleQueueService.EmptyBatchRequest",
            f"There should be at least one {shape} in the request.",
        ),
        (
            [{"Id": str(i), **entry} for i in range(11)],
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            "Maximum number of entries per request are 10. You have sent 11.",
        ),
        (
            [{"Id": "same", **entry}, {"Id": "same", **entry}],
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            None,
        ),
        ([{"Id": "x" * 81, **entry}], "AWS.SimpleQueueService.InvalidBatchEntryId", None),
    ]
    for entries, expected, message in cases:
        with pytest.raises(ClientError) as raised:
            call(QueueUrl=queue, Entries=entries)
        assert code_of(raised) == expected
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        if message:
            assert raised.value.response["Error"]["Message"] == message


def test_delete_and_change_visibility_batches(sqs, queue):
    sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(4)])
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 4
    changed = sqs.change_message_visibility_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "a", "ReceiptHandle": messages[0]["ReceiptHandle"], "VisibilityTimeout": 0},
            {"Id": "b", "ReceiptHandle": "not-a-handle", "VisibilityTimeout": 0},
        ],
    )
    assert [e["Id"] for e in changed["Successful"]] == ["a"]
    assert changed["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    deleted = sqs.delete_message_batch(
        QueueUrl=queue,
        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages[1:])],
    )
    assert len(deleted["Successful"]) == 3
    assert (
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
        == "1"
    )


# -- long polling --------------------------------------------------------------------------------


def test_long_poll_returns_promptly_after_a_send(sqs, queue, overcast):
    sender = overcast.client("sqs")

    def send_later():
        time.sleep(0.3)
        sender.send_message(QueueUrl=queue, MessageBody="late")

    started = time.monotonic()  # before the thread starts: the send is at least 0.3 s after this
    threading.Thread(target=send_later).start()
    messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=20)["Messages"]
    elapsed = time.monotonic() - started
    assert messages[0]["Body"] == "late"
    # The poll waited for the send, and returned with it rather than at the end of its 20 s wait (the upper
    # bound is generous: a loaded machine may take seconds to send, never 10).
    assert 0.25 < elapsed < 10


def test_long_poll_times_out_empty(sqs, queue):
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)
    assert 0.9 < time.monotonic() - started < 10  # it waited its second; the bound only catches a hang


def test_queue_wait_time_attribute_is_the_default_wait(sqs):
    url = sqs.create_queue(QueueName="polling", Attributes={"ReceiveMessageWaitTimeSeconds": "1"})["QueueUrl"]
    started = time.monotonic()
    sqs.receive_message(QueueUrl=url)
    assert time.monotonic() - started > 0.9


def test_long_poll_wakes_when_a_delay_ends(sqs, queue, overcast):
    sqs.send_message(QueueUrl=queue, MessageBody="delayed", DelaySeconds=600)

    def advance_later():
        time.sleep(0.3)
        overcast.advance_clock("601s")

    started = time.monotonic()
    threading.Thread(target=advance_later).start()
    messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=20)["Messages"]
    assert messages[0]["Body"] == "delayed"
    # woken by the clock, not at the end of its 20 s wait (generous for a loaded machine)
    assert time.monotonic() - started < 10


def test_xray_trace_header_becomes_the_aws_trace_header(sqs, queue):
    def add_header(request, **kwargs):
        request.headers["X-Amzn-Trace-Id"] = "Root=1-5759e988-bd862e3fe1be46a994272793"

    sqs.meta.events.register("before-sign.sqs.SendMessage", add_header)
    sqs.send_message(QueueUrl=queue, MessageBody="traced")
    message = sqs.receive_message(QueueUrl=queue, MessageSystemAttributeNames=["AWSTraceHeader"])["Messages"][
        0
    ]
    assert message["Attributes"]["AWSTraceHeader"] == "Root=1-5759e988-bd862e3fe1be46a994272793"


@pytest.mark.slow
def test_counts_after_a_kill_9_are_those_of_the_stored_messages(tmp_path):
    # the server keeps each queue's count in memory: after a restart it is counted again from what is stored
    server = ServerProcess(tmp_path)
    try:
        sqs = server.client("sqs")
        url = sqs.create_queue(QueueName="counted")["QueueUrl"]
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(5)]
        )
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=600)["Messages"]
        sqs.delete_message(QueueUrl=url, ReceiptHandle=received[0]["ReceiptHandle"])
        before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert (before["ApproximateNumberOfMessages"], before["ApproximateNumberOfMessagesNotVisible"]) == (
            "3",
            "1",
        )
    finally:
        server.stop(signal.SIGKILL)
    restarted = ServerProcess(tmp_path)
    try:
        sqs = restarted.client("sqs")
        after = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert (after["ApproximateNumberOfMessages"], after["ApproximateNumberOfMessagesNotVisible"]) == (
            "3",
            "1",
        )
        sqs.send_message(QueueUrl=url, MessageBody="one more")
        after = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        assert after["Attributes"]["ApproximateNumberOfMessages"] == "4"
    finally:
        restarted.stop(signal.SIGKILL)
