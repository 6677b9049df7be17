"""DynamoDB Streams records for every view type, iterators, retention; TTL deletion on the virtual clock."""

import time

import pytest
from botocore.exceptions import ClientError

from tests.waiting import wait_for


@pytest.fixture
def streams(overcast):
    return overcast.client("dynamodbstreams")


def stream_table(ddb, make_table, view="NEW_AND_OLD_IMAGES", name="Watched"):
    make_table(name, StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
    return ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]


def read_all(streams, arn, kind="TRIM_HORIZON", **kwargs):
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **kwargs)[
        "ShardIterator"
    ]
    return streams.get_records(ShardIterator=iterator)


def test_insert_modify_remove_in_order(ddb, streams, make_table):
    make_table("Before")
    ddb.put_item(TableName="Before", Item={"pk": {"S": "old"}})
    arn = stream_table(ddb, make_table)
    ddb.put_item(TableName="Watched", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.put_item(TableName="Watched", Item={"pk": {"S": "a"}, "v": {"N": "1"}})  # no change: no record
    ddb.update_item(
        TableName="Watched",
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    ddb.delete_item(TableName="Watched", Key={"pk": {"S": "a"}})
    records = read_all(streams, arn)["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    modify = records[1]["dynamodb"]
    assert modify["Keys"] == {"pk": {"S": "a"}}
    assert modify["OldImage"]["v"] == {"N": "1"} and modify["NewImage"]["v"] == {"N": "2"}
    assert modify["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequence == sorted(sequence)
    assert records[0]["eventSource"] == "aws:dynamodb" and "userIdentity" not in records[2]


@pytest.mark.parametrize(
    "view, present",
    [
        ("KEYS_ONLY", set()),
        ("NEW_IMAGE", {"NewImage"}),
        ("OLD_IMAGE", {"OldImage"}),
        ("NEW_AND_OLD_IMAGES", {"NewImage", "OldImage"}),
    ],
)
def test_view_types(ddb, streams, make_table, view, present):
    arn = stream_table(ddb, make_table, view)
    ddb.put_item(TableName="Watched", Item={"pk": {"S": "a"}, "b": {"B": b"\x01"}})
    ddb.put_item(TableName="Watched", Item={"pk": {"S": "a"}, "b": {"B": b"\x02"}})
    modify = read_all(streams, arn)["Records"][1]["dynamodb"]
    assert {"NewImage", "OldImage"} & set(modify) == present
    if "NewImage" in present:
        assert modify["NewImage"]["b"] == {"B": b"\x02"}


def test_iterator_types_and_list_streams(ddb, streams, make_table):
    arn = stream_table(ddb, make_table)
    for n in range(3):
        ddb.put_item(TableName="Watched", Item={"pk": {"S": str(n)}})
    records = read_all(streams, arn)["Records"]
    second = records[1]["dynamodb"]["SequenceNumber"]
    at = read_all(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=second)["Records"]
    after = read_all(streams, arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=second)["Records"]
    latest = read_all(streams, arn, "LATEST")
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in at] == ["1", "2"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in after] == ["2"]
    assert latest["Records"] == []
    ddb.put_item(TableName="Watched", Item={"pk": {"S": "new"}})
    assert len(streams.get_records(ShardIterator=latest["NextShardIterator"])["Records"]) == 1
    listed = streams.list_streams(TableName="Watched")["Streams"]
    assert listed == [{"StreamArn": arn, "TableName": "Watched", "StreamLabel": arn.rsplit("/", 1)[1]}]


def test_records_expire_after_24_hours(overcast, ddb, streams, make_table):
    arn = stream_table(ddb, make_table)
    ddb.put_item(TableName="Watched", Item={"pk": {"S": "a"}})
    overcast.advance_clock("25h")
    assert read_all(streams, arn)["Records"] == []


def test_iterator_expires_after_15_minutes(overcast, ddb, streams, make_table):
    arn = stream_table(ddb, make_table)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    overcast.advance_clock("16m")
    with pytest.raises(ClientError) as raised:
        streams.get_records(ShardIterator=iterator)
    assert raised.value.response["Error"]["Code"] == "ExpiredIteratorException"


def test_disabling_the_stream_closes_the_shard(ddb, streams, make_table):
    arn = stream_table(ddb, make_table)
    ddb.put_item(TableName="Watched", Item={"pk": {"S": "a"}})
    ddb.update_table(TableName="Watched", StreamSpecification={"StreamEnabled": False})
    description = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert description["StreamStatus"] == "DISABLED"
    assert "EndingSequenceNumber" in description["Shards"][0]["SequenceNumberRange"]
    result = read_all(streams, arn)
    assert len(result["Records"]) == 1
    assert "NextShardIterator" not in streams.get_records(ShardIterator=result["NextShardIterator"])


def test_ttl_deletes_expired_items_as_the_service(overcast, ddb, streams, make_table):
    arn = stream_table(ddb, make_table)
    ddb.update_time_to_live(
        TableName="Watched", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expire_on"}
    )
    now = int(time.time())
    ddb.put_item(TableName="Watched", Item={"pk": {"S": "soon"}, "expire_on": {"N": str(now + 3600)}})
    ddb.put_item(TableName="Watched", Item={"pk": {"S": "never"}, "expire_on": {"S": "not a number"}})
    # A canary that has already expired: a sweep deletes it, and that same sweep (one pass over the table)
    # saw the other two items, of which nothing has expired yet.
    ddb.put_item(TableName="Watched", Item={"pk": {"S": "canary"}, "expire_on": {"N": str(now - 60)}})
    wait_for(lambda: "Item" not in ddb.get_item(TableName="Watched", Key={"pk": {"S": "canary"}}))
    assert "Item" in ddb.get_item(TableName="Watched", Key={"pk": {"S": "soon"}})
    assert "Item" in ddb.get_item(TableName="Watched", Key={"pk": {"S": "never"}})
    overcast.advance_clock("2h")
    wait_for(lambda: "Item" not in ddb.get_item(TableName="Watched", Key={"pk": {"S": "soon"}}))
    assert "Item" in ddb.get_item(TableName="Watched", Key={"pk": {"S": "never"}})
    remove = read_all(streams, arn)["Records"][-1]
    assert remove["eventName"] == "REMOVE"
    assert remove["dynamodb"]["Keys"] == {"pk": {"S": "soon"}}
    assert remove["userIdentity"] == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
