"""SNS topics and subscriptions through boto3: attributes, listing, tags, permissions, errors."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of, error_of, message_of


def test_create_topic_is_idempotent_and_has_default_attributes(sns):
    arn = sns.create_topic(Name="news")["TopicArn"]
    assert arn == "arn:aws:sns:us-east-1:000000000000:news"
    assert sns.create_topic(Name="news")["TopicArn"] == arn
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["Owner"] == "000000000000"
    assert attributes["SubscriptionsConfirmed"] == "0"
    assert json.loads(attributes["Policy"])["Statement"][0]["Resource"] == arn
    assert (
        json.loads(attributes["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]["numRetries"]
        == 3
    )


def test_topic_names(sns):
    for name in ("bad name", "x" * 257, "not-fifo.fifo"):
        with pytest.raises(ClientError) as raised:
            sns.create_topic(Name=name)
        assert code_of(raised) == "InvalidParameter"
    with pytest.raises(ClientError):
        sns.create_topic(Name="missing-suffix", Attributes={"FifoTopic": "true"})
    arn = sns.create_topic(Name="ok.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["FifoTopic"] == "true" and attributes["ContentBasedDeduplication"] == "false"


def test_set_topic_attributes(sns):
    arn = sns.create_topic(Name="tuned")["TopicArn"]
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Tuned")
    sns.set_topic_attributes(TopicArn=arn, AttributeName="TracingConfig", AttributeValue="Active")
    sns.set_topic_attributes(TopicArn=arn, AttributeName="SQSSuccessFeedbackSampleRate", AttributeValue="50")
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["DisplayName"] == "Tuned" and attributes["TracingConfig"] == "Active"
    for name, value in (
        ("NoSuch", "x"),
        ("SignatureVersion", "3"),
        ("ContentBasedDeduplication", "true"),
        ("Policy", "{not json"),
    ):
        with pytest.raises(ClientError) as raised:
            sns.set_topic_attributes(TopicArn=arn, AttributeName=name, AttributeValue=value)
        assert code_of(raised) == "InvalidParameter"


def test_missing_topic_is_not_found(sns):
    missing = "arn:aws:sns:us-east-1:000000000000:missing"
    for call in (
        lambda: sns.get_topic_attributes(TopicArn=missing),
        lambda: sns.publish(TopicArn=missing, Message="x"),
        lambda: sns.subscribe(TopicArn=missing, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:0:q"),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        assert code_of(raised) == "NotFound"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_list_topics_pages_by_100(sns):
    for i in range(105):
        sns.create_topic(Name=f"t{i:03d}")
    first = sns.list_topics()
    assert len(first["Topics"]) == 100 and first["NextToken"]
    second = sns.list_topics(NextToken=first["NextToken"])
    assert len(second["Topics"]) == 5 and "NextToken" not in second
    with pytest.raises(ClientError) as raised:
        sns.list_topics(NextToken="not-a-token")
    assert error_of(raised) == ("InvalidParameter", 400)
    assert message_of(raised) == "Invalid parameter: NextToken"
    with pytest.raises(ClientError) as raised:  # a token of one listing is no token of another
        sns.list_subscriptions_by_topic(TopicArn=first["Topics"][0]["TopicArn"], NextToken=first["NextToken"])
    assert message_of(raised) == "Invalid parameter: NextToken"


def test_delete_topic_removes_its_subscriptions(sns, make_queue):
    arn = sns.create_topic(Name="short-lived")["TopicArn"]
    _, queue_arn = make_queue("listener")
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    sns.delete_topic(TopicArn=arn)
    assert sns.list_subscriptions()["Subscriptions"] == []
    assert sns.list_topics()["Topics"] == []


def test_tags(sns):
    arn = sns.create_topic(Name="tagged", Tags=[{"Key": "team", "Value": "a"}])["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}])
    assert {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]} == {
        "team": "a",
        "env": "dev",
    }
    sns.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    with pytest.raises(ClientError) as raised:
        sns.list_tags_for_resource(ResourceArn=arn + "-nope")
    assert code_of(raised) == "ResourceNotFound"


def test_tag_limits_and_tags_go_with_the_topic(sns):
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    with pytest.raises(ClientError) as raised:
        sns.create_topic(Name="crowded", Tags=many)
    assert error_of(raised) == ("TagLimitExceeded", 400)
    assert message_of(raised) == "Could not complete request: tag quota of per resource exceeded"
    arn = sns.create_topic(Name="crowded", Tags=many[:50])["TopicArn"]
    with pytest.raises(ClientError) as raised:
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "one-more", "Value": "v"}])
    assert code_of(raised) == "TagLimitExceeded"
    with pytest.raises(ClientError) as raised:  # the same name with other tags is another topic
        sns.create_topic(Name="crowded", Tags=[{"Key": "k0", "Value": "other"}])
    assert message_of(raised) == "Invalid parameter: Tags Reason: Topic already exists with different tags"
    assert sns.create_topic(Name="crowded", Tags=many[:1])["TopicArn"] == arn
    sns.delete_topic(TopicArn=arn)
    sns.create_topic(Name="crowded")
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == []  # the deleted topic's tags went with it


def test_permissions_edit_the_topic_policy(sns):
    arn = sns.create_topic(Name="shared")["TopicArn"]
    sns.add_permission(TopicArn=arn, Label="pub", AWSAccountId=["111122223333"], ActionName=["Publish"])
    statements = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])["Statement"]
    assert statements[-1]["Sid"] == "pub" and statements[-1]["Action"] == "SNS:Publish"
    sns.remove_permission(TopicArn=arn, Label="pub")
    statements = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])["Statement"]
    assert all(s["Sid"] != "pub" for s in statements)


def test_data_protection_policy_is_stored(sns):
    arn = sns.create_topic(Name="protected")["TopicArn"]
    policy = json.dumps({"Name": "p", "Version": "2021-06-01", "Statement": []})
    sns.put_data_protection_policy(ResourceArn=arn, DataProtectionPolicy=policy)
    assert sns.get_data_protection_policy(ResourceArn=arn)["DataProtectionPolicy"] == policy


def test_subscription_lifecycle(sns, make_queue):
    topic = sns.create_topic(Name="subs")["TopicArn"]
    _, queue_arn = make_queue("subscriber")
    arn = sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )["SubscriptionArn"]
    assert (
        sns.subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
        )["SubscriptionArn"]
        == arn
    )
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["RawMessageDelivery"] == "true"
    assert attributes["PendingConfirmation"] == "false"
    assert attributes["Endpoint"] == queue_arn
    sns.set_subscription_attributes(
        SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue=json.dumps({"k": ["v"]})
    )
    assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["FilterPolicyScope"] == (
        "MessageAttributes"
    )
    assert [
        s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    ] == [arn]
    sns.unsubscribe(SubscriptionArn=arn)
    assert sns.list_subscriptions()["Subscriptions"] == []
    with pytest.raises(ClientError) as raised:
        sns.get_subscription_attributes(SubscriptionArn=arn)
    assert code_of(raised) == "NotFound"


def test_subscription_validation(sns, make_queue):
    topic = sns.create_topic(Name="strict")["TopicArn"]
    fifo_topic = sns.create_topic(Name="strict.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    _, queue_arn = make_queue("plain")
    _, fifo_arn = make_queue("ordered.fifo")
    cases = [
        dict(TopicArn=topic, Protocol="carrier-pigeon", Endpoint="x"),
        dict(TopicArn=topic, Protocol="sqs", Endpoint="not-an-arn"),
        dict(TopicArn=topic, Protocol="http", Endpoint="ftp://x"),
        dict(TopicArn=topic, Protocol="sqs", Endpoint=fifo_arn),
        dict(TopicArn=fifo_topic, Protocol="email", Endpoint="a@example.com"),
        dict(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"FilterPolicy": "{bad"}),
        dict(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"FilterPolicy": json.dumps({"k": [{"nonsense": 1}]})},
        ),
        dict(
            TopicArn=topic,
            Protocol="email",
            Endpoint="a@example.com",
            Attributes={"RawMessageDelivery": "true"},
        ),
    ]
    for kwargs in cases:
        with pytest.raises(ClientError) as raised:
            sns.subscribe(**kwargs)
        assert code_of(raised) == "InvalidParameter", kwargs


def test_email_subscription_is_pending_until_confirmed(sns, overcast):
    topic = sns.create_topic(Name="mail")["TopicArn"]
    assert sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")["SubscriptionArn"] == (
        "pending confirmation"
    )
    assert sns.list_subscriptions()["Subscriptions"][0]["SubscriptionArn"] == "PendingConfirmation"
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsPending"] == "1"
    outbox = overcast.platform.provider("sns").outbox()
    confirmation = json.loads(outbox[-1]["payload"])
    assert confirmation["Type"] == "SubscriptionConfirmation"
    arn = sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"]
    assert (
        sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["PendingConfirmation"] == "false"
    )
    with pytest.raises(ClientError) as raised:
        sns.confirm_subscription(TopicArn=topic, Token="wrong")
    assert code_of(raised) == "InvalidParameter"


def test_visiting_the_subscribe_and_unsubscribe_urls(sns, overcast, make_queue, drain):
    import urllib.request

    topic = sns.create_topic(Name="visited")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    confirmation = json.loads(overcast.platform.provider("sns").outbox()[-1]["payload"])
    with urllib.request.urlopen(confirmation["SubscribeURL"], timeout=5) as response:
        assert response.status == 200
    assert sns.list_subscriptions()["Subscriptions"][0]["SubscriptionArn"] != "PendingConfirmation"

    url, arn = make_queue("leaving")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="bye")
    envelope = json.loads(drain(url)[0]["Body"])
    with urllib.request.urlopen(envelope["UnsubscribeURL"], timeout=5) as response:
        assert response.status == 200
    assert [s["Protocol"] for s in sns.list_subscriptions()["Subscriptions"]] == ["email"]
