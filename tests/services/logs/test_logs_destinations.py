"""Destinations: another account's log groups subscribe to a Kinesis stream through a Logs destination, as
its access policy allows, and their events arrive in the owner's stream."""

import gzip
import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of, message_of
from tests.waiting import wait_for

OWNER, SENDER = "000000000000", "111111111111"


@pytest.fixture
def target(overcast):
    kinesis = overcast.client("kinesis")
    kinesis.create_stream(StreamName="central", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="central")["StreamDescriptionSummary"]["StreamARN"]
    return kinesis, arn


def test_destinations_are_put_described_and_deleted(logs, target):
    _, stream_arn = target
    role = f"arn:aws:iam::{OWNER}:role/CWLtoKinesis"
    made = logs.put_destination(destinationName="central", targetArn=stream_arn, roleArn=role)["destination"]
    assert made["arn"] == f"arn:aws:logs:us-east-1:{OWNER}:destination:central"
    assert (made["targetArn"], made["roleArn"]) == (stream_arn, role) and made["creationTime"] > 0
    assert "accessPolicy" not in made
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": SENDER},
                    "Action": "logs:PutSubscriptionFilter",
                    "Resource": made["arn"],
                }
            ],
        }
    )
    logs.put_destination_policy(destinationName="central", accessPolicy=policy)
    logs.put_destination(destinationName="other", targetArn=stream_arn, roleArn=role)
    listed = logs.describe_destinations(DestinationNamePrefix="cen")["destinations"]
    assert [d["destinationName"] for d in listed] == ["central"] and listed[0]["accessPolicy"] == policy
    first = logs.describe_destinations(limit=1)
    assert len(first["destinations"]) == 1 and "nextToken" in first
    logs.delete_destination(destinationName="other")
    for call, params in (
        (logs.delete_destination, {"destinationName": "other"}),
        (logs.put_destination_policy, {"destinationName": "other", "accessPolicy": policy}),
    ):
        with pytest.raises(ClientError) as raised:
            call(**params)
        assert (code_of(raised), message_of(raised)) == (
            "ResourceNotFoundException",
            "The specified destination does not exist.",
        )


def test_another_accounts_events_reach_the_destinations_stream(overcast, logs, target):
    kinesis, stream_arn = target
    destination = logs.put_destination(
        destinationName="central", targetArn=stream_arn, roleArn=f"arn:aws:iam::{OWNER}:role/CWLtoKinesis"
    )["destination"]["arn"]
    sender = overcast.client("logs", aws_access_key_id=SENDER, aws_secret_access_key="x")
    sender.create_log_group(logGroupName="/app/orders")
    sender.create_log_stream(logGroupName="/app/orders", logStreamName="web-1")
    subscribe = {
        "logGroupName": "/app/orders",
        "filterName": "to-central",
        "filterPattern": "ERROR",
        "destinationArn": destination,
    }
    with pytest.raises(ClientError) as raised:  # no access policy yet
        sender.put_subscription_filter(**subscribe)
    assert (code_of(raised), message_of(raised)) == (
        "AccessDeniedException",
        f"User with accountId: {SENDER} is not authorized to perform: logs:PutSubscriptionFilter on resource: "
        f"{destination}",
    )
    logs.put_destination_policy(
        destinationName="central",
        accessPolicy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": SENDER},
                        "Action": "logs:PutSubscriptionFilter",
                        "Resource": destination,
                    }
                ],
            }
        ),
    )
    sender.put_subscription_filter(**subscribe)
    now = int(time.time() * 1000)
    sender.put_log_events(
        logGroupName="/app/orders",
        logStreamName="web-1",
        logEvents=[{"timestamp": now, "message": "ERROR boom"}, {"timestamp": now + 1, "message": "fine"}],
    )
    shard = kinesis.list_shards(StreamName="central")["Shards"][0]["ShardId"]

    def arrived():
        iterator = kinesis.get_shard_iterator(
            StreamName="central", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )
        return kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]

    record = wait_for(arrived, timeout=20)[0]
    message = json.loads(gzip.decompress(record["Data"]))
    assert message["owner"] == SENDER and message["logGroup"] == "/app/orders"
    assert message["subscriptionFilters"] == ["to-central"]
    assert [e["message"] for e in message["logEvents"]] == ["ERROR boom"]
