"""SNS stories end to end: fan-out to several queues with a filter policy; a FIFO topic to FIFO queues."""

import json


def queue(sqs, name: str, **attributes: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def bodies(sqs, url: str) -> list[str]:
    found = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300).get(
        "Messages"
    ):
        found += [m["Body"] for m in messages]
    return found


def test_order_events_fan_out_to_queues_by_filter_policy(overcast):
    sns, sqs = overcast.client("sns"), overcast.client("sqs")
    topic = sns.create_topic(Name="order-events")["TopicArn"]
    audit_url, audit_arn = queue(sqs, "audit")
    shipping_url, shipping_arn = queue(sqs, "shipping")
    big_url, big_arn = queue(sqs, "big-orders")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=audit_arn)  # everything, enveloped
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=shipping_arn,
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"event": ["order_paid"]})},
    )
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=big_arn,
        Attributes={
            "RawMessageDelivery": "true",
            "FilterPolicyScope": "MessageBody",
            "FilterPolicy": json.dumps({"total": [{"numeric": [">=", 1000]}]}),
        },
    )

    events = [("order_placed", 50), ("order_paid", 50), ("order_paid", 5000)]
    for event, total in events:
        sns.publish(
            TopicArn=topic,
            Message=json.dumps({"event": event, "total": total}),
            MessageAttributes={"event": {"DataType": "String", "StringValue": event}},
        )

    audited = [json.loads(body) for body in bodies(sqs, audit_url)]
    assert [json.loads(envelope["Message"])["event"] for envelope in audited] == [e for e, _ in events]
    assert all(envelope["Type"] == "Notification" and envelope["TopicArn"] == topic for envelope in audited)
    assert [json.loads(b)["total"] for b in bodies(sqs, shipping_url)] == [50, 5000]
    assert [json.loads(b)["total"] for b in bodies(sqs, big_url)] == [5000]


def test_fifo_topic_to_fifo_queues_keeps_group_order_and_drops_duplicates(overcast):
    sns, sqs = overcast.client("sns"), overcast.client("sqs")
    topic = sns.create_topic(Name="ledger.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    queues = [queue(sqs, f"ledger-{n}.fifo", FifoQueue="true") for n in ("a", "b")]
    for _, arn in queues:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})

    entries = [
        ("acct-1", "deposit 10", "d1"),
        ("acct-2", "deposit 5", "d2"),
        ("acct-1", "withdraw 3", "d3"),
        ("acct-1", "deposit 10", "d1"),  # a retry of d1: dropped
        ("acct-2", "withdraw 1", "d4"),
        ("acct-1", "deposit 7", "d5"),
    ]
    for group, body, dedup in entries:
        sns.publish(TopicArn=topic, Message=body, MessageGroupId=group, MessageDeduplicationId=dedup)

    for url, _ in queues:
        by_group: dict[str, list[str]] = {}
        for _ in range(10):
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["MessageGroupId"]
            ).get("Messages", [])
            if not messages:
                break
            for message in messages:
                by_group.setdefault(message["Attributes"]["MessageGroupId"], []).append(message["Body"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        assert by_group == {
            "acct-1": ["deposit 10", "withdraw 3", "deposit 7"],
            "acct-2": ["deposit 5", "withdraw 1"],
        }
