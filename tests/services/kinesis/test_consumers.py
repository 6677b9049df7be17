"""Enhanced fan-out: registered consumers and SubscribeToShard pushing records over the event stream."""

import threading
import time

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of
from tests.services.kinesis.conftest import stream_arn


def test_register_describe_list_deregister(kinesis, stream):
    registered = kinesis.register_stream_consumer(StreamARN=stream_arn(stream), ConsumerName="fan-out")[
        "Consumer"
    ]
    arn = registered["ConsumerARN"]
    assert arn.startswith(stream_arn(stream) + "/consumer/fan-out:")
    assert registered["ConsumerStatus"] == "CREATING"
    described = kinesis.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"]
    assert described["ConsumerStatus"] == "ACTIVE" and described["StreamARN"] == stream_arn(stream)
    by_name = kinesis.describe_stream_consumer(StreamARN=stream_arn(stream), ConsumerName="fan-out")
    assert by_name["ConsumerDescription"]["ConsumerARN"] == arn
    kinesis.register_stream_consumer(StreamARN=stream_arn(stream), ConsumerName="second")
    first = kinesis.list_stream_consumers(StreamARN=stream_arn(stream), MaxResults=1)
    assert [c["ConsumerName"] for c in first["Consumers"]] == ["fan-out"]
    rest = kinesis.list_stream_consumers(StreamARN=stream_arn(stream), NextToken=first["NextToken"])
    assert [c["ConsumerName"] for c in rest["Consumers"]] == ["second"]
    with pytest.raises(ClientError) as raised:
        kinesis.register_stream_consumer(StreamARN=stream_arn(stream), ConsumerName="fan-out")
    assert error_of(raised) == ("ResourceInUseException", 400)
    kinesis.deregister_stream_consumer(ConsumerARN=arn)
    with pytest.raises(ClientError) as raised:
        kinesis.describe_stream_consumer(ConsumerARN=arn)
    assert error_of(raised) == ("ResourceNotFoundException", 400)


def test_twenty_consumers_at_most(kinesis, stream):
    for i in range(20):
        kinesis.register_stream_consumer(StreamARN=stream_arn(stream), ConsumerName=f"c{i}")
    with pytest.raises(ClientError) as raised:
        kinesis.register_stream_consumer(StreamARN=stream_arn(stream), ConsumerName="one-too-many")
    assert error_of(raised) == ("LimitExceededException", 400)


def test_consumer_tags(kinesis, stream):
    arn = kinesis.register_stream_consumer(
        StreamARN=stream_arn(stream), ConsumerName="tagged", Tags={"a": "1"}
    )["Consumer"]["ConsumerARN"]
    kinesis.tag_resource(ResourceARN=arn, Tags={"b": "2"})
    assert {t["Key"] for t in kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"]} == {"a", "b"}


def test_subscribe_to_shard_pushes_stored_and_new_records(kinesis, stream):
    arn = kinesis.register_stream_consumer(StreamARN=stream_arn(stream), ConsumerName="efo")["Consumer"][
        "ConsumerARN"
    ]
    put = kinesis.put_record(StreamName=stream, Data=b"before", PartitionKey="k", ExplicitHashKey="1")
    answer = kinesis.subscribe_to_shard(
        ConsumerARN=arn, ShardId="shardId-000000000000", StartingPosition={"Type": "TRIM_HORIZON"}
    )
    events = iter(answer["EventStream"])
    first = next(events)["SubscribeToShardEvent"]
    assert [r["Data"] for r in first["Records"]] == [b"before"]
    assert first["ContinuationSequenceNumber"] == put["SequenceNumber"]
    assert first["MillisBehindLatest"] == 0

    def later():
        time.sleep(0.3)
        kinesis.put_record(StreamName=stream, Data=b"after", PartitionKey="k", ExplicitHashKey="2")

    writer = threading.Thread(target=later)
    writer.start()
    received = []
    for event in events:  # empty heartbeats may come first; bounded by the subscription's 5 minutes
        received += event["SubscribeToShardEvent"]["Records"]
        if received:
            break
    writer.join()
    assert [r["Data"] for r in received] == [b"after"]
    answer["EventStream"].close()


def test_a_second_subscription_within_five_seconds_is_refused(kinesis, stream):
    arn = kinesis.register_stream_consumer(StreamARN=stream_arn(stream), ConsumerName="busy")["Consumer"][
        "ConsumerARN"
    ]
    kinesis.subscribe_to_shard(
        ConsumerARN=arn, ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"}
    )
    with pytest.raises(ClientError) as raised:
        kinesis.subscribe_to_shard(
            ConsumerARN=arn, ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"}
        )
    assert error_of(raised) == ("ResourceInUseException", 400)


def test_a_subscription_to_a_closed_shard_ends_with_its_children(kinesis, stream):
    arn = kinesis.register_stream_consumer(StreamARN=stream_arn(stream), ConsumerName="lineage")["Consumer"][
        "ConsumerARN"
    ]
    kinesis.put_record(StreamName=stream, Data=b"last words", PartitionKey="k", ExplicitHashKey="5")
    kinesis.split_shard(
        StreamName=stream, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**126)
    )
    answer = kinesis.subscribe_to_shard(
        ConsumerARN=arn, ShardId="shardId-000000000000", StartingPosition={"Type": "TRIM_HORIZON"}
    )
    events = [e["SubscribeToShardEvent"] for e in answer["EventStream"]]  # the stream ends by itself
    assert [r["Data"] for e in events for r in e["Records"]] == [b"last words"]
    assert {c["ShardId"] for c in events[-1]["ChildShards"]} == {
        "shardId-000000000002",
        "shardId-000000000003",
    }
    assert all(c["ParentShards"] == ["shardId-000000000000"] for c in events[-1]["ChildShards"])
