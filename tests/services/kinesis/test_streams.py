"""Streams: creation in both capacity modes, description, listing with tokens, shards and their filters,
retention, modes, encryption and monitoring settings, tags, resource policies, StreamARN parameters."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.services.kinesis.conftest import ACCOUNT, shard_ids, stream_arn

HASH_SPACE = 2**128


def test_create_describe_and_shards_split_the_hash_key_space_evenly(kinesis):
    kinesis.create_stream(StreamName="three", ShardCount=3)
    description = kinesis.describe_stream(StreamName="three")["StreamDescription"]
    assert description["StreamName"] == "three"
    assert description["StreamARN"] == stream_arn("three")
    assert description["StreamStatus"] == "ACTIVE"
    assert description["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert description["RetentionPeriodHours"] == 24
    assert description["EncryptionType"] == "NONE"
    assert description["EnhancedMonitoring"] == [{"ShardLevelMetrics": []}]
    assert description["HasMoreShards"] is False
    shards = description["Shards"]
    assert [s["ShardId"] for s in shards] == [f"shardId-00000000000{i}" for i in range(3)]
    ranges = [
        (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])) for s in shards
    ]
    step = HASH_SPACE // 3
    assert ranges == [(0, step - 1), (step, 2 * step - 1), (2 * step, HASH_SPACE - 1)]
    for shard in shards:
        starting = shard["SequenceNumberRange"]["StartingSequenceNumber"]
        assert starting.isdigit() and len(starting) == 56
        assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]
        assert "ParentShardId" not in shard


def test_summary_counts_open_shards_and_consumers(kinesis, stream):
    kinesis.register_stream_consumer(StreamARN=stream_arn(stream), ConsumerName="fan")
    summary = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 2
    assert summary["ConsumerCount"] == 1
    assert summary["StreamARN"] == stream_arn(stream)
    assert summary["RetentionPeriodHours"] == 24
    assert summary["MaxRecordSizeInKiB"] == 1024
    assert isinstance(summary["StreamCreationTimestamp"], datetime)


def test_on_demand_streams_start_with_four_shards_and_refuse_a_shard_count(kinesis):
    kinesis.create_stream(StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    summary = kinesis.describe_stream_summary(StreamName="od")["StreamDescriptionSummary"]
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert summary["OpenShardCount"] == 4
    with pytest.raises(ClientError) as raised:
        kinesis.create_stream(StreamName="od2", ShardCount=2, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    assert error_of(raised) == ("InvalidArgumentException", 400)
    with pytest.raises(ClientError) as raised:
        kinesis.update_shard_count(StreamName="od", TargetShardCount=8, ScalingType="UNIFORM_SCALING")
    assert error_of(raised) == ("ValidationException", 400)
    limits = kinesis.describe_limits()
    assert limits["OnDemandStreamCount"] == 1 and limits["OpenShardCount"] == 4
    assert limits["ShardLimit"] == 500 and limits["OnDemandStreamCountLimit"] == 50


def test_switching_capacity_modes(kinesis, stream):
    kinesis.update_stream_mode(StreamARN=stream_arn(stream), StreamModeDetails={"StreamMode": "ON_DEMAND"})
    assert kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
        "StreamModeDetails"
    ] == {"StreamMode": "ON_DEMAND"}
    kinesis.update_stream_mode(StreamARN=stream_arn(stream), StreamModeDetails={"StreamMode": "PROVISIONED"})
    assert kinesis.describe_stream(StreamName=stream)["StreamDescription"]["StreamModeDetails"] == {
        "StreamMode": "PROVISIONED"
    }


def test_names_are_unique_per_account_and_region(kinesis, overcast, stream):
    with pytest.raises(ClientError) as raised:
        kinesis.create_stream(StreamName=stream, ShardCount=1)
    assert error_of(raised) == ("ResourceInUseException", 400)
    assert message_of(raised) == f"Stream {stream} under account {ACCOUNT} already exists."
    west = overcast.client("kinesis", region="us-west-2")
    assert west.list_streams()["StreamNames"] == []
    west.create_stream(StreamName=stream, ShardCount=1)


def test_a_missing_stream_is_not_found_with_aws_wording(kinesis):
    with pytest.raises(ClientError) as raised:
        kinesis.describe_stream(StreamName="nope")
    assert error_of(raised) == ("ResourceNotFoundException", 400)
    assert message_of(raised) == f"Stream nope under account {ACCOUNT} not found."
    with pytest.raises(ClientError) as raised:
        kinesis.put_record(StreamARN=stream_arn("nope"), Data=b"x", PartitionKey="k")
    assert error_of(raised) == ("ResourceNotFoundException", 400)


def test_stream_arn_and_name_address_the_same_stream(kinesis, stream):
    by_arn = kinesis.describe_stream_summary(StreamARN=stream_arn(stream))["StreamDescriptionSummary"]
    assert by_arn["StreamName"] == stream
    with pytest.raises(ClientError) as raised:
        kinesis.describe_stream_summary(StreamName="other", StreamARN=stream_arn(stream))
    assert error_of(raised) == ("InvalidArgumentException", 400)
    with pytest.raises(ClientError) as raised:
        kinesis.describe_stream_summary()
    assert error_of(raised) == ("InvalidArgumentException", 400)


def test_the_shard_quota_is_enforced(kinesis):
    kinesis.create_stream(StreamName="big", ShardCount=400)
    with pytest.raises(ClientError) as raised:
        kinesis.create_stream(StreamName="bigger", ShardCount=101)
    assert error_of(raised) == ("LimitExceededException", 400)
    assert "Current shard count for the account: 400. Limit: 500." in message_of(raised)


def test_list_streams_pages_with_tokens(kinesis):
    for name in ("a1", "b2", "c3"):
        kinesis.create_stream(StreamName=name, ShardCount=1)
    first = kinesis.list_streams(Limit=2)
    assert first["StreamNames"] == ["a1", "b2"] and first["HasMoreStreams"] is True
    assert [s["StreamName"] for s in first["StreamSummaries"]] == ["a1", "b2"]
    assert first["StreamSummaries"][0]["StreamARN"] == stream_arn("a1")
    second = kinesis.list_streams(NextToken=first["NextToken"])
    assert second["StreamNames"] == ["c3"] and second["HasMoreStreams"] is False and "NextToken" not in second
    assert kinesis.list_streams(ExclusiveStartStreamName="a1")["StreamNames"] == ["b2", "c3"]
    paginated = [
        n for page in kinesis.get_paginator("list_streams").paginate(Limit=1) for n in page["StreamNames"]
    ]
    assert paginated == ["a1", "b2", "c3"]


def test_list_shards_pages_and_refuses_a_token_with_a_name(kinesis):
    kinesis.create_stream(StreamName="wide", ShardCount=5)
    first = kinesis.list_shards(StreamName="wide", MaxResults=2)
    assert [s["ShardId"] for s in first["Shards"]] == ["shardId-000000000000", "shardId-000000000001"]
    rest = kinesis.list_shards(NextToken=first["NextToken"], MaxResults=10)
    assert [s["ShardId"][-1] for s in rest["Shards"]] == ["2", "3", "4"] and "NextToken" not in rest
    with pytest.raises(ClientError) as raised:
        kinesis.list_shards(StreamName="wide", NextToken=first["NextToken"])
    assert message_of(raised) == "NextToken and StreamName cannot be provided together."
    with pytest.raises(ClientError) as raised:
        kinesis.list_shards()
    assert message_of(raised) == "Either NextToken or StreamName should be provided."
    after = kinesis.list_shards(StreamName="wide", ExclusiveStartShardId="shardId-000000000003")
    assert [s["ShardId"] for s in after["Shards"]] == ["shardId-000000000004"]


def test_shard_filters_follow_the_shard_lineage(kinesis, overcast):
    kinesis.create_stream(StreamName="lineage", ShardCount=1)
    before_split = datetime.now(UTC)
    overcast.advance_clock(10)
    kinesis.split_shard(
        StreamName="lineage", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127)
    )
    everything = ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]
    assert shard_ids(kinesis, "lineage") == everything
    assert shard_ids(kinesis, "lineage", ShardFilter={"Type": "FROM_TRIM_HORIZON"}) == everything
    assert shard_ids(kinesis, "lineage", ShardFilter={"Type": "AT_TRIM_HORIZON"}) == ["shardId-000000000000"]
    assert shard_ids(kinesis, "lineage", ShardFilter={"Type": "AT_LATEST"}) == everything[1:]
    at = {"Type": "AT_TIMESTAMP", "Timestamp": before_split}
    assert shard_ids(kinesis, "lineage", ShardFilter=at) == ["shardId-000000000000"]
    since = {"Type": "FROM_TIMESTAMP", "Timestamp": before_split}
    assert shard_ids(kinesis, "lineage", ShardFilter=since) == everything
    after = {"Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000000"}
    assert shard_ids(kinesis, "lineage", ShardFilter=after) == everything[1:]


def test_retention_increases_and_decreases_within_aws_bounds(kinesis, stream):
    kinesis.increase_stream_retention_period(StreamName=stream, RetentionPeriodHours=168)
    assert (
        kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["RetentionPeriodHours"]
        == 168
    )
    with pytest.raises(ClientError) as raised:
        kinesis.increase_stream_retention_period(StreamName=stream, RetentionPeriodHours=48)
    assert message_of(raised) == (
        f"Requested retention period (48 hours) for stream {stream} can not be shorter than existing retention "
        "period (168 hours). Use DecreaseRetentionPeriod API."
    )
    with pytest.raises(ClientError) as raised:
        kinesis.increase_stream_retention_period(StreamName=stream, RetentionPeriodHours=8761)
    assert error_of(raised) == ("InvalidArgumentException", 400)
    assert message_of(raised) == (
        "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long."
    )
    with pytest.raises(ClientError) as raised:
        kinesis.decrease_stream_retention_period(StreamName=stream, RetentionPeriodHours=200)
    assert "can not be longer than existing retention period (168 hours)" in message_of(raised)
    kinesis.decrease_stream_retention_period(StreamName=stream, RetentionPeriodHours=24)
    with pytest.raises(ClientError) as raised:
        kinesis.decrease_stream_retention_period(StreamName=stream, RetentionPeriodHours=12)
    assert message_of(raised) == (
        "Minimum allowed retention period is 24 hours. Requested retention period (12 hours) is too short."
    )


def test_encryption_and_enhanced_monitoring_settings_are_recorded(kinesis, stream):
    kinesis.start_stream_encryption(StreamName=stream, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    described = kinesis.describe_stream(StreamName=stream)["StreamDescription"]
    assert described["EncryptionType"] == "KMS" and described["KeyId"] == "alias/aws/kinesis"
    put = kinesis.put_record(StreamName=stream, Data=b"secret", PartitionKey="k")
    assert put["EncryptionType"] == "KMS"
    kinesis.stop_stream_encryption(StreamName=stream, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    assert "KeyId" not in kinesis.describe_stream(StreamName=stream)["StreamDescription"]

    enabled = kinesis.enable_enhanced_monitoring(StreamName=stream, ShardLevelMetrics=["IncomingBytes"])
    assert (
        enabled["DesiredShardLevelMetrics"] == ["IncomingBytes"] and "CurrentShardLevelMetrics" not in enabled
    )
    everything = kinesis.enable_enhanced_monitoring(StreamName=stream, ShardLevelMetrics=["ALL"])
    assert len(everything["DesiredShardLevelMetrics"]) == 7
    disabled = kinesis.disable_enhanced_monitoring(StreamName=stream, ShardLevelMetrics=["IncomingBytes"])
    assert "IncomingBytes" not in disabled["DesiredShardLevelMetrics"]
    described = kinesis.describe_stream(StreamName=stream)["StreamDescription"]
    assert described["EnhancedMonitoring"] == [{"ShardLevelMetrics": disabled["DesiredShardLevelMetrics"]}]


def test_tags_on_streams_and_by_arn(kinesis):
    kinesis.create_stream(StreamName="tagged", ShardCount=1, Tags={"team": "data"})
    kinesis.add_tags_to_stream(StreamName="tagged", Tags={"env": "prod", "cost": "7"})
    listed = kinesis.list_tags_for_stream(StreamName="tagged")
    assert listed["Tags"] == [
        {"Key": "cost", "Value": "7"},
        {"Key": "env", "Value": "prod"},
        {"Key": "team", "Value": "data"},
    ]
    assert listed["HasMoreTags"] is False
    page = kinesis.list_tags_for_stream(StreamName="tagged", Limit=1, ExclusiveStartTagKey="cost")
    assert page["Tags"] == [{"Key": "env", "Value": "prod"}] and page["HasMoreTags"] is True
    kinesis.remove_tags_from_stream(StreamName="tagged", TagKeys=["cost"])
    kinesis.tag_resource(ResourceARN=stream_arn("tagged"), Tags={"owner": "me"})
    kinesis.untag_resource(ResourceARN=stream_arn("tagged"), TagKeys=["team"])
    by_arn = kinesis.list_tags_for_resource(ResourceARN=stream_arn("tagged"))["Tags"]
    assert {t["Key"]: t["Value"] for t in by_arn} == {"env": "prod", "owner": "me"}
    with pytest.raises(ClientError) as raised:
        kinesis.add_tags_to_stream(StreamName="tagged", Tags={f"k{i}": "v" for i in range(49)})
    assert error_of(raised) == ("InvalidArgumentException", 400)
    assert "cannot have more than 50 tags" in message_of(raised)


def test_resource_policies_on_streams(kinesis, stream):
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStreamSummary"],
                "Resource": stream_arn(stream),
            }
        ],
    }
    kinesis.put_resource_policy(ResourceARN=stream_arn(stream), Policy=json.dumps(policy))
    assert json.loads(kinesis.get_resource_policy(ResourceARN=stream_arn(stream))["Policy"]) == policy
    kinesis.delete_resource_policy(ResourceARN=stream_arn(stream))
    assert kinesis.get_resource_policy(ResourceARN=stream_arn(stream))["Policy"] == "{}"
    with pytest.raises(ClientError) as raised:
        kinesis.put_resource_policy(ResourceARN=stream_arn("ghost"), Policy=json.dumps(policy))
    assert error_of(raised) == ("ResourceNotFoundException", 400)


def test_deleting_a_stream_with_consumers_needs_enforcement(kinesis, stream):
    kinesis.register_stream_consumer(StreamARN=stream_arn(stream), ConsumerName="fan")
    with pytest.raises(ClientError) as raised:
        kinesis.delete_stream(StreamName=stream)
    assert error_of(raised) == ("ResourceInUseException", 400)
    kinesis.delete_stream(StreamName=stream, EnforceConsumerDeletion=True)
    status = None
    for _ in range(100):
        try:
            status = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"][
                "StreamStatus"
            ]
        except ClientError as error:
            status = error.response["Error"]["Code"]
            break
        assert status == "DELETING"
    assert status == "ResourceNotFoundException"
    assert kinesis.list_streams()["StreamNames"] == []
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    assert kinesis.list_stream_consumers(StreamARN=stream_arn(stream))["Consumers"] == []


def test_waiters_see_the_stream_exist_and_go(kinesis):
    kinesis.create_stream(StreamName="waited", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName="waited", WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    kinesis.delete_stream(StreamName="waited")
    kinesis.get_waiter("stream_not_exists").wait(
        StreamName="waited", WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )


def test_stream_creation_timestamp_is_the_virtual_clock(kinesis, overcast):
    overcast.advance_clock("2d")
    kinesis.create_stream(StreamName="later", ShardCount=1)
    created = kinesis.describe_stream_summary(StreamName="later")["StreamDescriptionSummary"][
        "StreamCreationTimestamp"
    ]
    assert created - datetime.now(UTC) > timedelta(days=1, hours=23)
