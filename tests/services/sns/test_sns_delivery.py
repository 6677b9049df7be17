"""Publishing and delivery: SQS (raw and enveloped), message structure, batches, FIFO, HTTP endpoints with the
confirmation handshake and retries, the outbox for email and SMS, subscription dead-letter queues."""

import base64
import hashlib
import http.server
import json
import threading

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of
from tests.waiting import wait_for


@pytest.fixture
def topic(sns):
    return sns.create_topic(Name="events")["TopicArn"]


def test_enveloped_delivery_to_sqs(sns, topic, make_queue, drain):
    url, arn = make_queue("enveloped")
    subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
    published = sns.publish(
        TopicArn=topic,
        Message="hello",
        Subject="greeting",
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "greeting"},
            "raw": {"DataType": "Binary", "BinaryValue": b"\x01\x02"},
        },
    )
    [message] = drain(url)
    envelope = json.loads(message["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == published["MessageId"]
    assert envelope["TopicArn"] == topic
    assert envelope["Subject"] == "greeting"
    assert envelope["Message"] == "hello"
    assert envelope["Timestamp"].endswith("Z")
    assert envelope["SignatureVersion"] == "1"
    assert base64.b64decode(envelope["Signature"])
    assert envelope["SigningCertURL"].endswith(".pem")
    assert subscription in envelope["UnsubscribeURL"].replace("%3A", ":")
    assert envelope["MessageAttributes"] == {
        "kind": {"Type": "String", "Value": "greeting"},
        "raw": {"Type": "Binary", "Value": base64.b64encode(b"\x01\x02").decode()},
    }
    assert "MessageAttributes" not in message


def test_raw_delivery_carries_attributes_as_sqs_attributes(sns, topic, make_queue, drain):
    url, arn = make_queue("raw")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    sns.publish(
        TopicArn=topic, Message="plain", MessageAttributes={"n": {"DataType": "Number", "StringValue": "3"}}
    )
    [message] = drain(url)
    assert message["Body"] == "plain"
    assert message["MessageAttributes"] == {"n": {"DataType": "Number", "StringValue": "3"}}


def test_message_structure_json_picks_the_protocol_message(sns, topic, make_queue, drain, overcast):
    url, arn = make_queue("structured")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="+15555550100")
    sns.publish(
        TopicArn=topic,
        MessageStructure="json",
        Message=json.dumps({"default": "fallback", "sqs": "for queues"}),
    )
    assert [m["Body"] for m in drain(url)] == ["for queues"]
    sms = [e for e in overcast.platform.provider("sns").outbox() if e["protocol"] == "sms"]
    assert sms[-1]["payload"] == "fallback"
    with pytest.raises(ClientError) as raised:
        sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps({"sqs": "no default"}))
    assert code_of(raised) == "InvalidParameter"


def test_publish_validation(sns, topic):
    cases = [
        dict(TopicArn=topic, Message=""),
        dict(TopicArn=topic, Message="x" * 262_145),
        dict(TopicArn=topic, Message="x", Subject="line\nbreak"),
        dict(TopicArn=topic, Message="x", MessageDeduplicationId="only-fifo"),
        dict(Message="x"),
    ]
    for kwargs in cases:
        with pytest.raises(ClientError) as raised:
            sns.publish(**kwargs)
        assert code_of(raised) == "InvalidParameter", kwargs
    with pytest.raises(ClientError) as raised:
        sns.publish(
            TopicArn=topic, Message="x", MessageAttributes={"n": {"DataType": "Number", "StringValue": "x"}}
        )
    assert code_of(raised) == "ParameterValueInvalid"


def test_publish_to_a_phone_number_is_captured(sns, overcast):
    message_id = sns.publish(PhoneNumber="+15555550123", Message="your code is 1234")["MessageId"]
    entry = overcast.platform.provider("sns").outbox()[-1]
    assert entry["endpoint"] == "+15555550123" and entry["payload"] == "your code is 1234"
    assert entry["message_id"] == message_id


def test_email_delivery_is_captured_once_confirmed(sns, topic, overcast):
    sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint="dev@example.com")
    provider = overcast.platform.provider("sns")
    token = json.loads(provider.outbox()[-1]["payload"])["Token"]
    sns.publish(TopicArn=topic, Message="before confirmation")
    assert len(provider.outbox()) == 1
    sns.confirm_subscription(TopicArn=topic, Token=token)
    sns.publish(TopicArn=topic, Message="after confirmation")
    entry = provider.outbox()[-1]
    assert entry["kind"] == "Notification" and json.loads(entry["payload"])["Message"] == "after confirmation"


def test_publish_batch(sns, topic, make_queue, drain):
    url, arn = make_queue("batched")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    result = sns.publish_batch(
        TopicArn=topic,
        PublishBatchRequestEntries=[
            {"Id": "a", "Message": "one"},
            {
                "Id": "b",
                "Message": "two",
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            },
            {"Id": "c", "Message": ""},
        ],
    )
    assert [e["Id"] for e in result["Successful"]] == ["a", "b"]
    assert result["Failed"][0]["Id"] == "c" and result["Failed"][0]["Code"] == "InvalidParameter"
    assert sorted(m["Body"] for m in drain(url)) == ["one", "two"]
    for entries, expected in (
        ([], "EmptyBatchRequest"),
        ([{"Id": str(i), "Message": "x"} for i in range(11)], "TooManyEntriesInBatchRequest"),
        ([{"Id": "x", "Message": "1"}, {"Id": "x", "Message": "2"}], "BatchEntryIdsNotDistinct"),
        ([{"Id": "bad id", "Message": "1"}], "InvalidBatchEntryId"),
    ):
        with pytest.raises(ClientError) as raised:
            sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
        assert code_of(raised) == expected


def test_fifo_topic_deduplicates_and_keeps_group_order(sns, make_queue, drain):
    topic = sns.create_topic(
        Name="orders.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    )["TopicArn"]
    url, arn = make_queue("orders.fifo")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    first = sns.publish(TopicArn=topic, Message="o1", MessageGroupId="customer-1")
    assert (
        sns.publish(TopicArn=topic, Message="o1", MessageGroupId="customer-1")["MessageId"]
        == first["MessageId"]
    )
    second = sns.publish(TopicArn=topic, Message="o2", MessageGroupId="customer-1")
    assert int(second["SequenceNumber"]) > int(first["SequenceNumber"])
    assert [m["Body"] for m in drain(url)] == ["o1", "o2"]
    with pytest.raises(ClientError):
        sns.publish(TopicArn=topic, Message="no group")


def test_subscription_dead_letter_queue_takes_undeliverable_messages(sns, sqs, topic, make_queue, drain):
    url, arn = make_queue("doomed")
    dlq_url, dlq_arn = make_queue("sub-dlq")
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})},
    )
    sqs.delete_queue(QueueUrl=url)
    sns.publish(TopicArn=topic, Message="nowhere to go")
    [message] = drain(dlq_url)
    assert json.loads(message["Body"])["Message"] == "nowhere to go"


class Recorder(http.server.BaseHTTPRequestHandler):
    """A subscriber endpoint: records every POST; answers 500 while `failures` remain."""

    received: list
    failures: list

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(
            (
                {k.lower(): v for k, v in self.headers.items()},
                json.loads(body) if body.startswith(b"{") else body.decode(),
            )
        )
        status = 500 if self.failures and self.failures.pop() else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def endpoint():
    handler = type("Handler", (Recorder,), {"received": [], "failures": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()


def moving_the_clock_until(overcast, step: str, condition):
    """Wait for `condition`, advancing the virtual clock by `step` at each check that does not meet it: a
    retry scheduled on the clock comes however long the attempt before it took to be made and answered."""

    def check():
        if condition():
            return True
        overcast.advance_clock(step)
        return False

    return wait_for(check)


def test_http_subscription_handshake_and_delivery(sns, topic, endpoint):
    url, handler = endpoint
    assert (
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)["SubscriptionArn"]
        == "pending confirmation"
    )
    wait_for(lambda: handler.received)
    headers, confirmation = handler.received[0]
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert "Action=ConfirmSubscription" in confirmation["SubscribeURL"]
    sns.publish(TopicArn=topic, Message="not yet")
    arn = sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"]
    sns.publish(TopicArn=topic, Message="now")
    wait_for(lambda: len(handler.received) == 2)
    headers, notification = handler.received[1]
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-subscription-arn"] == arn
    assert notification["Message"] == "now"


def test_http_delivery_retries_after_failures(sns, topic, endpoint, overcast):
    url, handler = endpoint
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)
    wait_for(lambda: handler.received)
    sns.confirm_subscription(TopicArn=topic, Token=handler.received[0][1]["Token"])
    sns.set_subscription_attributes(
        SubscriptionArn=sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0][
            "SubscriptionArn"
        ],
        AttributeName="RawMessageDelivery",
        AttributeValue="true",
    )
    handler.failures.extend([True, True])
    sns.publish(TopicArn=topic, Message="eventually")
    wait_for(lambda: len(handler.received) == 2)
    # each retry waits 20 virtual seconds: move the clock until the second retry (the fourth request) comes
    moving_the_clock_until(overcast, "21s", lambda: len(handler.received) >= 4)
    assert len(handler.received) == 4
    assert handler.received[-1][1] == "eventually"
    assert handler.received[-1][0]["x-amz-sns-rawdelivery"] == "true"


def test_content_based_dedup_id_reaches_the_fifo_queue(sns, sqs, make_queue):
    topic = sns.create_topic(
        Name="dedup.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    )["TopicArn"]
    url, arn = make_queue("dedup.fifo")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic, Message="body", MessageGroupId="g")
    message = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["All"])["Messages"][0]
    assert message["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(b"body").hexdigest()
    assert message["Attributes"]["MessageGroupId"] == "g"


def test_http_retries_follow_the_subscription_delivery_policy(
    sns, topic, endpoint, overcast, make_queue, drain
):
    url, handler = endpoint
    dlq_url, dlq_arn = make_queue("http-dlq")
    policy = {
        "healthyRetryPolicy": {
            "numRetries": 2,
            "numNoDelayRetries": 1,
            "minDelayTarget": 5,
            "maxDelayTarget": 5,
        },
        "requestPolicy": {"headerContentType": "application/json"},
    }
    sns.subscribe(
        TopicArn=topic,
        Protocol="http",
        Endpoint=url,
        Attributes={
            "DeliveryPolicy": json.dumps(policy),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn}),
        },
    )
    wait_for(lambda: handler.received)
    arn = sns.confirm_subscription(TopicArn=topic, Token=handler.received[0][1]["Token"])["SubscriptionArn"]
    effective = json.loads(
        sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["EffectiveDeliveryPolicy"]
    )
    assert effective["healthyRetryPolicy"]["numRetries"] == 2
    assert effective["healthyRetryPolicy"]["backoffFunction"] == "linear"
    assert effective["requestPolicy"] == {"headerContentType": "application/json"}

    handler.failures.extend([True, True, True])
    sns.publish(TopicArn=topic, Message="never taken")
    wait_for(lambda: len(handler.received) == 3)  # the first attempt and the immediate retry
    assert handler.received[1][0]["content-type"] == "application/json"
    # the 5-second retry, on the clock
    moving_the_clock_until(overcast, "6s", lambda: len(handler.received) >= 4)
    assert len(handler.received) == 4
    messages = []
    wait_for(lambda: messages.extend(drain(dlq_url)) or messages)
    assert json.loads(messages[0]["Body"])["Message"] == "never taken"
    # numRetries exhausted: no more attempts. Any further retry would be due within maxDelayTarget (5 s) on
    # the clock, so move it past that, then deliver a canary to the same endpoint (it answers 200 now): a
    # retry woken by the move was on its way before the canary was even published.
    overcast.advance_clock("10s")
    sns.publish(TopicArn=topic, Message="canary")
    wait_for(lambda: any(body["Message"] == "canary" for _, body in handler.received[1:]))
    assert [body["Message"] for _, body in handler.received[1:]] == ["never taken"] * 3 + ["canary"]


def test_topic_delivery_policy_applies_to_its_subscriptions(sns, topic, endpoint):
    url, handler = endpoint
    topic_policy = {
        "http": {
            "defaultHealthyRetryPolicy": {
                "numRetries": 5,
                "minDelayTarget": 1,
                "maxDelayTarget": 60,
                "backoffFunction": "exponential",
            },
            "disableSubscriptionOverrides": True,
        }
    }
    sns.set_topic_attributes(
        TopicArn=topic, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(topic_policy)
    )
    effective = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["EffectiveDeliveryPolicy"])
    assert effective["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 5
    assert effective["http"]["disableSubscriptionOverrides"] is True
    assert effective["http"]["defaultRequestPolicy"] == {"headerContentType": "text/plain; charset=UTF-8"}
    arn = sns.subscribe(
        TopicArn=topic,
        Protocol="http",
        Endpoint=url,
        Attributes={"DeliveryPolicy": json.dumps({"healthyRetryPolicy": {"numRetries": 1}})},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    effective = json.loads(
        sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["EffectiveDeliveryPolicy"]
    )
    assert effective["healthyRetryPolicy"]["numRetries"] == 5  # the topic disables subscription overrides


def test_invalid_delivery_policies_are_refused(sns, topic):
    bad = [
        {"http": {"defaultHealthyRetryPolicy": {"numRetries": 101}}},
        {"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 30, "maxDelayTarget": 10}}},
        {"http": {"defaultHealthyRetryPolicy": {"backoffFunction": "random"}}},
        {"http": {"defaultHealthyRetryPolicy": {"numRetries": 2, "numNoDelayRetries": 3}}},
        {
            "http": {
                "defaultHealthyRetryPolicy": {
                    "numRetries": 100,
                    "minDelayTarget": 3600,
                    "maxDelayTarget": 3600,
                }
            }
        },
        {"http": {"disableSubscriptionOverrides": "yes"}},
    ]
    for policy in bad:
        with pytest.raises(ClientError) as raised:
            sns.set_topic_attributes(
                TopicArn=topic, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(policy)
            )
        assert code_of(raised) == "InvalidParameter", policy
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as raised:
        sns.subscribe(
            TopicArn=topic,
            Protocol="https",
            Endpoint="https://example.com/hook",
            Attributes={"DeliveryPolicy": json.dumps({"healthyRetryPolicy": {"numRetries": -1}})},
        )
    assert code_of(raised) == "InvalidParameter"


def test_queue_policy_on_the_topic_as_source_arn_decides_delivery_under_enforce(enforced):
    """SNS delivers as sns.amazonaws.com with aws:SourceArn the topic (and aws:SourceAccount its owner), so
    the queue policy AWS's documentation recommends lets one topic in and keeps another out."""
    sns, sqs = enforced.client("sns"), enforced.client("sqs")
    allowed = sns.create_topic(Name="allowed")["TopicArn"]
    other = sns.create_topic(Name="other")["TopicArn"]
    url = sqs.create_queue(QueueName="guarded")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue,
                "Condition": {
                    "ArnEquals": {"aws:SourceArn": allowed},
                    "StringEquals": {"aws:SourceAccount": "000000000000"},
                },
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    for topic in (allowed, other):
        sns.subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=queue, Attributes={"RawMessageDelivery": "true"}
        )
    sns.publish(TopicArn=other, Message="from other")
    sns.publish(TopicArn=allowed, Message="from allowed")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages", []
    )
    assert [m["Body"] for m in received] == ["from allowed"]
