"""Filter policies end to end: publish with attributes (or a JSON body) and see which queue gets it."""

import json

import pytest


def attributes(**values):
    rendered = {}
    for name, value in values.items():
        if isinstance(value, list):
            rendered[name] = {"DataType": "String.Array", "StringValue": json.dumps(value)}
        elif isinstance(value, int | float):
            rendered[name] = {"DataType": "Number", "StringValue": str(value)}
        else:
            rendered[name] = {"DataType": "String", "StringValue": value}
    return rendered


@pytest.fixture
def delivered(sns, sqs, make_queue, drain):
    """Whether a message passes a filter policy, observed as whether the subscribed queue receives it."""
    counter = iter(range(1000))

    def check(policy: dict, message: str = "m", scope: str = "MessageAttributes", **values) -> bool:
        n = next(counter)
        topic = sns.create_topic(Name=f"filtered{n}")["TopicArn"]
        url, arn = make_queue(f"filtered{n}")
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={
                "FilterPolicy": json.dumps(policy),
                "FilterPolicyScope": scope,
                "RawMessageDelivery": "true",
            },
        )
        sns.publish(TopicArn=topic, Message=message, MessageAttributes=attributes(**values))
        return len(drain(url)) == 1

    return check


@pytest.mark.parametrize(
    "policy, values, expected",
    [
        ({"color": ["red"]}, {"color": "red"}, True),
        ({"color": ["red"]}, {"color": "blue"}, False),
        ({"color": ["red"]}, {}, False),
        ({"color": ["red", "blue"]}, {"color": "blue"}, True),
        ({"color": [{"prefix": "re"}]}, {"color": "red"}, True),
        ({"color": [{"suffix": "ue"}]}, {"color": "blue"}, True),
        ({"color": [{"equals-ignore-case": "RED"}]}, {"color": "red"}, True),
        ({"color": [{"wildcard": "r*d"}]}, {"color": "reed"}, True),
        ({"color": [{"anything-but": ["red", "blue"]}]}, {"color": "green"}, True),
        ({"color": [{"anything-but": ["red", "blue"]}]}, {"color": "red"}, False),
        ({"color": [{"anything-but": {"prefix": "r"}}]}, {"color": "red"}, False),
        ({"color": [{"anything-but": "red"}]}, {}, False),
        ({"price": [{"numeric": [">", 10, "<=", 20]}]}, {"price": 15}, True),
        ({"price": [{"numeric": [">", 10, "<=", 20]}]}, {"price": 25}, False),
        ({"price": [{"numeric": ["=", 5]}]}, {"price": 5.0}, True),
        ({"price": [5]}, {"price": 5}, True),
        ({"price": [5]}, {"price": "5"}, False),
        ({"color": [{"exists": True}]}, {"color": "any"}, True),
        ({"color": [{"exists": False}]}, {"color": "any"}, False),
        ({"color": [{"exists": False}]}, {}, True),
        ({"source": [{"cidr": "10.0.0.0/24"}]}, {"source": "10.0.0.7"}, True),
        ({"source": [{"cidr": "10.0.0.0/24"}]}, {"source": "10.0.1.7"}, False),
        ({"tags": ["b"]}, {"tags": ["a", "b"]}, True),
        ({"tags": ["c"]}, {"tags": ["a", "b"]}, False),
        ({"color": ["red"], "size": ["L"]}, {"color": "red", "size": "M"}, False),
        ({"color": ["red"], "size": ["L"]}, {"color": "red", "size": "L"}, True),
        ({"$or": [{"color": ["red"]}, {"size": ["L"]}]}, {"size": "L"}, True),
        ({"$or": [{"color": ["red"]}, {"size": ["L"]}]}, {"size": "S"}, False),
    ],
)
def test_attribute_policies(delivered, policy, values, expected):
    assert delivered(policy, **values) is expected


@pytest.mark.parametrize(
    "policy, body, expected",
    [
        ({"order": {"status": ["paid"]}}, {"order": {"status": "paid"}}, True),
        ({"order": {"status": ["paid"]}}, {"order": {"status": "open"}}, False),
        ({"order": {"total": [{"numeric": [">=", 100]}]}}, {"order": {"total": 150}}, True),
        ({"items": {"sku": [{"prefix": "A-"}]}}, {"items": [{"sku": "B-1"}, {"sku": "A-2"}]}, True),
        ({"flag": [True]}, {"flag": True}, True),
        ({"missing": [None]}, {"missing": None}, True),
        ({"a": ["x"]}, "not json at all", False),
    ],
)
def test_body_policies(delivered, policy, body, expected):
    message = body if isinstance(body, str) else json.dumps(body)
    assert delivered(policy, message=message, scope="MessageBody") is expected


def test_binary_attributes_take_no_part_in_filtering(sns, make_queue, drain):
    topic = sns.create_topic(Name="binary")["TopicArn"]
    url, arn = make_queue("binary")
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"FilterPolicy": json.dumps({"blob": [{"exists": True}]})},
    )
    sns.publish(
        TopicArn=topic, Message="m", MessageAttributes={"blob": {"DataType": "Binary", "BinaryValue": b"1"}}
    )
    assert drain(url) == []
