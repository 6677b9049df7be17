"""Kinesis Data Streams for DynamoDB: the destination's lifecycle as AWS reports it, and each item change
arriving in the Kinesis stream as AWS's JSON record."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of, message_of
from tests.waiting import wait_for

STATE = "Table is not in a valid state to enable Kinesis Streaming Destination: "


@pytest.fixture
def kinesis(overcast):
    client = overcast.client("kinesis")
    client.create_stream(StreamName="changes", ShardCount=1)
    return client


@pytest.fixture
def stream_arn(kinesis):
    return kinesis.describe_stream_summary(StreamName="changes")["StreamDescriptionSummary"]["StreamARN"]


def _records(kinesis, count):
    """The first `count` records of the stream's only shard (waiting for them to arrive)."""
    shard = kinesis.list_shards(StreamName="changes")["Shards"][0]["ShardId"]

    def read():
        iterator = kinesis.get_shard_iterator(
            StreamName="changes", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        found = kinesis.get_records(ShardIterator=iterator, Limit=100)["Records"]
        return found if len(found) >= count else None

    return wait_for(read, timeout=20)


def _refused(call, **params):
    with pytest.raises(ClientError) as raised:
        call(**params)
    return code_of(raised), message_of(raised)


def test_item_changes_arrive_in_the_stream(ddb, make_table, kinesis, stream_arn):
    make_table("Users")
    assert (
        ddb.describe_kinesis_streaming_destination(TableName="Users")["KinesisDataStreamDestinations"] == []
    )
    answer = ddb.enable_kinesis_streaming_destination(TableName="Users", StreamArn=stream_arn)
    assert answer["DestinationStatus"] == "ENABLING" and answer["EnableKinesisStreamingConfiguration"] == {}
    destinations = ddb.describe_kinesis_streaming_destination(TableName="Users")[
        "KinesisDataStreamDestinations"
    ]
    assert destinations == [{"StreamArn": stream_arn, "DestinationStatus": "ACTIVE"}]

    ddb.put_item(TableName="Users", Item={"pk": {"S": "u1"}, "name": {"S": "Ada"}})
    ddb.update_item(
        TableName="Users",
        Key={"pk": {"S": "u1"}},
        UpdateExpression="SET age = :a",
        ExpressionAttributeValues={":a": {"N": "36"}},
    )
    ddb.delete_item(TableName="Users", Key={"pk": {"S": "u1"}})
    records = _records(kinesis, 3)
    bodies = [json.loads(r["Data"]) for r in records]
    assert [b["eventName"] for b in bodies] == ["INSERT", "MODIFY", "REMOVE"]
    first = bodies[0]
    assert (first["tableName"], first["awsRegion"], first["eventSource"], first["recordFormat"]) == (
        "Users",
        "us-east-1",
        "aws:dynamodb",
        "application/json",
    )
    assert first["userIdentity"] is None
    assert first["dynamodb"]["Keys"] == {"pk": {"S": "u1"}}
    assert first["dynamodb"]["NewImage"] == {"pk": {"S": "u1"}, "name": {"S": "Ada"}}
    assert "OldImage" not in first["dynamodb"] and first["dynamodb"]["SizeBytes"] > 0
    assert first["dynamodb"]["ApproximateCreationDateTimePrecision"] == "MILLISECOND"
    assert first["dynamodb"]["ApproximateCreationDateTime"] > 1_600_000_000_000  # epoch milliseconds
    assert bodies[1]["dynamodb"]["OldImage"] == first["dynamodb"]["NewImage"]  # both images, always
    assert bodies[2]["dynamodb"]["OldImage"]["age"] == {"N": "36"} and "NewImage" not in bodies[2]["dynamodb"]
    assert (
        len({r["PartitionKey"] for r in records}) == 1
    )  # one item, one partition key: its changes stay in order


def test_the_destination_lifecycle_and_aws_texts(ddb, make_table, kinesis, stream_arn):
    make_table("Orders")
    ddb.enable_kinesis_streaming_destination(TableName="Orders", StreamArn=stream_arn)
    enabled_again = _refused(
        ddb.enable_kinesis_streaming_destination, TableName="Orders", StreamArn=stream_arn
    )
    assert enabled_again == (
        "ValidationException",
        STATE
        + "EnableKinesisStreamingDestination must be DISABLED or ENABLE_FAILED to perform ENABLE operation.",
    )
    update = ddb.update_kinesis_streaming_destination(
        TableName="Orders",
        StreamArn=stream_arn,
        UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MICROSECOND"},
    )
    assert update["DestinationStatus"] == "UPDATING"
    same = _refused(
        ddb.update_kinesis_streaming_destination,
        TableName="Orders",
        StreamArn=stream_arn,
        UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MICROSECOND"},
    )
    table_id = ddb.describe_table(TableName="Orders")["Table"]["TableId"]
    assert same == (
        "ValidationException",
        f"Invalid Request: Precision is already set to the desired value of MICROSECOND for tableId: {table_id}, "
        f"kdsArn: {stream_arn}",
    )
    ddb.put_item(TableName="Orders", Item={"pk": {"S": "o1"}})
    body = json.loads(_records(kinesis, 1)[0]["Data"])
    assert body["dynamodb"]["ApproximateCreationDateTimePrecision"] == "MICROSECOND"
    assert body["dynamodb"]["ApproximateCreationDateTime"] > 1_600_000_000_000_000  # epoch microseconds

    assert (
        ddb.disable_kinesis_streaming_destination(TableName="Orders", StreamArn=stream_arn)[
            "DestinationStatus"
        ]
        == "DISABLING"
    )
    listed = ddb.describe_kinesis_streaming_destination(TableName="Orders")["KinesisDataStreamDestinations"]
    assert [(d["StreamArn"], d["DestinationStatus"]) for d in listed] == [(stream_arn, "DISABLED")]
    assert _refused(ddb.disable_kinesis_streaming_destination, TableName="Orders", StreamArn=stream_arn) == (
        "ValidationException",
        STATE + "KinesisStreamingDestination must be ACTIVE to perform DISABLE operation.",
    )
    ddb.put_item(TableName="Orders", Item={"pk": {"S": "o2"}})  # not sent: the destination is disabled

    missing = stream_arn.replace("changes", "missing")
    ddb.enable_kinesis_streaming_destination(TableName="Orders", StreamArn=missing)
    listed = ddb.describe_kinesis_streaming_destination(TableName="Orders")["KinesisDataStreamDestinations"]
    assert listed[0] == {
        "StreamArn": missing,
        "DestinationStatus": "ENABLE_FAILED",
        "DestinationStatusDescription": "User does not have a permission to use kinesis stream",
    }
    assert _refused(
        ddb.update_kinesis_streaming_destination,
        TableName="Orders",
        StreamArn=missing,
        UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MILLISECOND"},
    ) == (
        "ValidationException",
        STATE
        + "Kinesis streaming is not in ACTIVE state. Updates are only allowed in ACTIVE state. TableName: Orders",
    )
    ddb.enable_kinesis_streaming_destination(
        TableName="Orders", StreamArn=stream_arn
    )  # a disabled one comes back
    ddb.put_item(TableName="Orders", Item={"pk": {"S": "o3"}})
    keys = [json.loads(r["Data"])["dynamodb"]["Keys"]["pk"]["S"] for r in _records(kinesis, 2)]
    assert keys == ["o1", "o3"]
