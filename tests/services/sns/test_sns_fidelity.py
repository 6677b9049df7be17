"""SNS as AWS answers it (issue 14): ARNs checked first, AWS's texts, the envelope's links and FIFO
notifications, filter policy validation and matching, subscription attributes, Lambda records."""

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of

from .test_sns_lambda import FORWARDER, package


def fail(call) -> tuple[tuple[str, int], str]:
    with pytest.raises(ClientError) as raised:
        call()
    return error_of(raised), message_of(raised)


def test_arns_are_checked_before_lookups(sns):
    for arn, count in (("", 1), ("nope", 1), ("arn:aws:sns:us-east-1:000000000000", 5)):
        assert fail(lambda arn=arn: sns.get_topic_attributes(TopicArn=arn)) == (
            ("InvalidParameter", 400),
            f"Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not {count}",
        )
    assert fail(lambda: sns.get_topic_attributes(TopicArn="arn:aws:sns:eu-west-1:000000000000:t")) == (
        ("InvalidParameter", 400),
        "Invalid parameter: TopicArn",
    )
    assert fail(lambda: sns.get_subscription_attributes(SubscriptionArn="x"))[1] == (
        "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1"
    )
    assert fail(lambda: sns.get_topic_attributes(TopicArn="arn:aws:sns:us-east-1:000000000000:gone"))[0] == (
        "NotFound",
        404,
    )
    sns.delete_topic(TopicArn="arn:aws:sns:us-east-1:000000000000:gone")  # 200, as AWS
    sns.unsubscribe(
        SubscriptionArn="arn:aws:sns:us-east-1:000000000000:gone:0f6e4a2e-64a1-4c53-9e1b-1d2b3c4d5e6f"
    )


def test_texts(sns, make_queue):
    topic = sns.create_topic(Name="texts")["TopicArn"]
    _, queue_arn = make_queue("plain")
    assert fail(lambda: sns.create_topic(Name="bad name"))[1] == "Invalid parameter: Topic Name"
    assert fail(lambda: sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint="queue"))[1] == (
        "Invalid parameter: SQS endpoint ARN"
    )
    assert (
        fail(lambda: sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="abc"))[1]
        == "Invalid SMS endpoint: abc"
    )
    assert (
        fail(lambda: sns.confirm_subscription(TopicArn=topic, Token="bad"))[1] == "Invalid parameter: Token"
    )
    long_id = "x" * 81
    batch = [{"Id": long_id, "Message": "m"}]
    assert fail(lambda: sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=batch)) == (
        ("InvalidBatchEntryId", 400),
        f"The Id of a batch entry in a batch request is too long: {long_id}",
    )
    endpoint = "arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/0f6e4a2e-64a1-4c53-9e1b-1d2b3c4d5e6f"
    assert fail(lambda: sns.publish(TargetArn=endpoint, Message="x"))[1] == (
        "Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified"
    )
    first = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    again = sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "false"}
    )
    assert again["SubscriptionArn"] == first
    sns.set_subscription_attributes(
        SubscriptionArn=first, AttributeName="FilterPolicyScope", AttributeValue="MessageBody"
    )
    attributes = sns.get_subscription_attributes(SubscriptionArn=first)["Attributes"]
    assert "FilterPolicyScope" not in attributes  # no policy, no scope
    assert attributes["SubscriptionPrincipal"] == "arn:aws:iam::000000000000:root"
    assert (
        fail(
            lambda: sns.set_subscription_attributes(
                SubscriptionArn=first, AttributeName="RawMessageDelivery", AttributeValue="x"
            )
        )[1]
        == "Invalid parameter: RawMessageDelivery: Invalid value [x]. Must be true or false."
    )
    bad = {"a": {"DataType": "Bogus", "StringValue": "v"}}
    entries = [{"Id": "1", "Message": "ok"}, {"Id": "2", "Message": "m", "MessageAttributes": bad}]
    assert fail(lambda: sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries))[0] == (
        "ParameterValueInvalid",
        400,
    )


@pytest.mark.parametrize(
    "policy, reason",
    [
        ({"a": [{"prefix": "x", "suffix": "y"}]}, "Only one key allowed in match expression"),
        ({"a": "x"}, '"a" must be an object or an array'),
        ({"a": [{"cidr": "1.2.3.999/24"}]}, "Nonstandard IP address: 1.2.3.999"),
        ({"a": [{"numeric": [">", 1, "<", 5, "=", 3]}]}, "Too many elements in numeric expression"),
        ({"a": [{"anything-but": {"numeric": [">", 1]}}]}, "Unsupported anything-but pattern: numeric"),
        ({k: list(range(6)) for k in "abc"}, "Filter policy is too complex"),
        ({"a": {"b": ["x"]}}, '"a" must be an object or an array'),  # nested: MessageBody scope only
    ],
)
def test_filter_policy_validation_texts(sns, make_queue, policy, reason):
    topic = sns.create_topic(Name="filtered")["TopicArn"]
    _, queue_arn = make_queue("filtered")
    attributes = {"FilterPolicy": json.dumps(policy)}
    assert fail(
        lambda: sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes)
    ) == (
        ("InvalidParameter", 400),
        f"Invalid parameter: Attributes Reason: FilterPolicy: {reason}",
    )


def test_filter_matching_as_aws(sns, make_queue, drain):
    topic = sns.create_topic(Name="bodies")["TopicArn"]
    url, arn = make_queue("bodies")
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={
            "FilterPolicyScope": "MessageBody",
            "FilterPolicy": json.dumps({"order.kind": ["book"], "items": {"sku": ["b-1"]}}),
            "RawMessageDelivery": "true",
        },
    )
    nested = {"order": {"kind": "book"}, "items": [{"sku": "a-9"}, {"sku": "b-1"}]}
    literal = {"order.kind": "book", "items": [{"sku": "b-1"}]}
    wrong = {"order": {"kind": "pen"}, "items": [{"sku": "b-1"}]}
    for body in (nested, literal, wrong):
        sns.publish(TopicArn=topic, Message=json.dumps(body))
    assert [json.loads(m["Body"]) for m in drain(url)] == [nested, literal]

    other = sns.create_topic(Name="attributes")["TopicArn"]
    url, arn = make_queue("attributes")
    policy = {"color": [None, {"anything-but": "red"}]}
    sns.subscribe(
        TopicArn=other, Protocol="sqs", Endpoint=arn, Attributes={"FilterPolicy": json.dumps(policy)}
    )
    sns.publish(TopicArn=other, Message="no color")
    sns.publish(
        TopicArn=other,
        Message="blue",
        MessageAttributes={"color": {"DataType": "String", "StringValue": "blue"}},
    )
    assert [json.loads(m["Body"])["Message"] for m in drain(url)] == ["blue"]


def test_envelope_links_and_fifo_notifications(sns, sqs, make_queue, drain):
    topic = sns.create_topic(Name="links")["TopicArn"]
    url, arn = make_queue("links")
    subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
    sns.publish(TopicArn=topic, Message="hi")
    envelope = json.loads(drain(url)[0]["Body"])
    assert envelope["UnsubscribeURL"].endswith(f"/?Action=Unsubscribe&SubscriptionArn={subscription}")
    assert envelope["Signature"] and envelope["SigningCertURL"]
    with urllib.request.urlopen(envelope["UnsubscribeURL"], timeout=10) as response:
        assert response.status == 200
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []

    fifo = sns.create_topic(
        Name="ordered.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    )
    standard_url, standard_arn = make_queue("after-fifo")
    sns.subscribe(TopicArn=fifo["TopicArn"], Protocol="sqs", Endpoint=standard_arn)
    published = sns.publish(TopicArn=fifo["TopicArn"], Message="in order", MessageGroupId="g1")
    received = sqs.receive_message(QueueUrl=standard_url, MessageSystemAttributeNames=["MessageGroupId"])
    message = received["Messages"][0]
    assert message["Attributes"]["MessageGroupId"] == "g1"
    notification = json.loads(message["Body"])
    assert notification["SequenceNumber"] == published["SequenceNumber"]
    assert not {"Signature", "SignatureVersion", "SigningCertURL"} & set(notification)


def test_trace_header_becomes_aws_trace_header(overcast, sns, sqs, make_queue):
    topic = sns.create_topic(Name="traced")["TopicArn"]
    url, arn = make_queue("traced")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

    def add_header(request, **_):
        request.headers["X-Amzn-Trace-Id"] = trace

    sns.meta.events.register("before-send.sns.Publish", add_header)
    sns.publish(TopicArn=topic, Message="traced")
    message = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["AWSTraceHeader"])["Messages"][0]
    assert message["Attributes"]["AWSTraceHeader"] == trace


@pytest.mark.slow
def test_lambda_record_fields(overcast, sns, sqs):
    url = sqs.create_queue(QueueName="records")["QueueUrl"]
    function = overcast.client("lambda").create_function(
        FunctionName="records",
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/r",
        Handler="app.handler",
        Code={"ZipFile": package(FORWARDER)},
        Environment={"Variables": {"QUEUE_URL": url}},
    )
    topic = sns.create_topic(Name="plain-records")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function["FunctionArn"])
    sns.publish(TopicArn=topic, Message="bare")
    body = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)["Messages"][0]["Body"]
    record = json.loads(body)["Records"][0]["Sns"]
    assert record["SignatureVersion"] == "1"
    assert record["MessageAttributes"] == {} and record["Subject"] is None
