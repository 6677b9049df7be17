"""Global tables (version 2019.11.21) through UpdateTable's ReplicaUpdates: the replica is a table in the other
region with the source's items, writes in any member reach the others, and the errors are AWS's texts."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of, message_of

KEYS = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "colour", "AttributeType": "S"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "by-colour",
            "KeySchema": [{"AttributeName": "colour", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


@pytest.fixture
def regions(overcast):
    return {
        name: overcast.client("dynamodb", region=name) for name in ("us-east-1", "eu-west-1", "ap-south-1")
    }


def _add_replica(client, table, region):
    return client.update_table(TableName=table, ReplicaUpdates=[{"Create": {"RegionName": region}}])


def _refused(call, **params):
    with pytest.raises(ClientError) as raised:
        call(**params)
    return code_of(raised), message_of(raised)


def test_a_replica_holds_the_items_and_writes_flow_both_ways(regions):
    home, away = regions["us-east-1"], regions["eu-west-1"]
    home.create_table(TableName="Music", **KEYS)
    home.put_item(TableName="Music", Item={"pk": {"S": "a"}, "colour": {"S": "red"}})

    answer = _add_replica(home, "Music", "eu-west-1")["TableDescription"]
    assert answer["TableStatus"] == "UPDATING"
    assert answer["GlobalTableVersion"] == "2019.11.21" and answer["Replicas"] == []

    source = home.describe_table(TableName="Music")["Table"]
    assert source["Replicas"] == [{"RegionName": "eu-west-1", "ReplicaStatus": "ACTIVE"}]
    assert source["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    replica = away.describe_table(TableName="Music")["Table"]
    assert replica["TableArn"].startswith("arn:aws:dynamodb:eu-west-1:")
    assert replica["TableId"] != source["TableId"] and replica["ItemCount"] == 1
    assert replica["GlobalTableVersion"] == "2019.11.21"
    assert replica["Replicas"] == [{"RegionName": "us-east-1", "ReplicaStatus": "ACTIVE"}]
    assert replica["LatestStreamArn"].startswith("arn:aws:dynamodb:eu-west-1:")
    assert [i["IndexName"] for i in replica["GlobalSecondaryIndexes"]] == ["by-colour"]

    assert away.get_item(TableName="Music", Key={"pk": {"S": "a"}})["Item"]["colour"] == {"S": "red"}
    found = away.query(
        TableName="Music",
        IndexName="by-colour",
        KeyConditionExpression="colour = :c",
        ExpressionAttributeValues={":c": {"S": "red"}},
    )
    assert [item["pk"]["S"] for item in found["Items"]] == ["a"]

    away.put_item(TableName="Music", Item={"pk": {"S": "b"}, "colour": {"S": "blue"}})
    assert home.get_item(TableName="Music", Key={"pk": {"S": "b"}})["Item"]["colour"] == {"S": "blue"}
    home.update_item(
        TableName="Music",
        Key={"pk": {"S": "b"}},
        UpdateExpression="SET plays = :n",
        ExpressionAttributeValues={":n": {"N": "3"}},
    )
    assert away.get_item(TableName="Music", Key={"pk": {"S": "b"}})["Item"]["plays"] == {"N": "3"}
    home.delete_item(TableName="Music", Key={"pk": {"S": "a"}})
    assert "Item" not in away.get_item(TableName="Music", Key={"pk": {"S": "a"}})
    assert away.describe_table(TableName="Music")["Table"]["ItemCount"] == 1


def test_replicated_writes_appear_in_the_replicas_stream(regions, overcast):
    home, away = regions["us-east-1"], regions["eu-west-1"]
    home.create_table(TableName="Events", **KEYS)
    _add_replica(home, "Events", "eu-west-1")
    home.put_item(TableName="Events", Item={"pk": {"S": "e1"}, "colour": {"S": "green"}})
    streams = overcast.client("dynamodbstreams", region="eu-west-1")
    arn = away.describe_table(TableName="Events")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [(r["eventName"], r["dynamodb"]["NewImage"]["pk"]["S"]) for r in records] == [("INSERT", "e1")]


def test_replica_updates_are_refused_with_aws_texts(regions):
    home = regions["us-east-1"]
    home.create_table(TableName="Songs", **KEYS)
    refused = lambda *updates, **extra: _refused(  # noqa: E731
        home.update_table, TableName="Songs", ReplicaUpdates=list(updates), **extra
    )
    assert refused({"Create": {"RegionName": "us-east-1"}}) == (
        "ValidationException",
        "Cannot add or delete the local region through ReplicaUpdates. Use CreateTable, DeleteTable, or "
        "UpdateTable as required.",
    )
    code, message = refused({"Create": {"RegionName": "us-fake-1"}})
    assert code == "ValidationException"
    assert message.startswith(
        "Region us-fake-1 is not supported. The latest version of global tables are only supported in the "
        "following regions: ["
    )
    assert refused({"Create": {"RegionName": "eu-west-1"}}, DeletionProtectionEnabled=True) == (
        "ValidationException",
        "One or more parameter values were invalid: Replica modification must be the only operation in the request",
    )
    assert refused({"Create": {"RegionName": "eu-west-1"}}, {"Create": {"RegionName": "ap-south-1"}}) == (
        "ValidationException",
        "Update table operation with more than one create or delete replica actions not allowed",
    )
    assert refused({"Create": {"RegionName": "eu-west-1"}, "Delete": {"RegionName": "eu-west-1"}}) == (
        "ValidationException",
        "Update table operation with more than one type of replica actions not allowed",
    )
    assert refused({"Update": {"RegionName": "eu-west-1"}}) == (
        "ValidationException",
        "There are no actions specified in the Replica Update Action of the request.",
    )
    assert refused({"Delete": {"RegionName": "ca-central-1"}}) == (
        "ValidationException",
        "Update global table operation failed because one or more replicas were not part of the global table. "
        "Please retry the request without these replicas: [ca-central-1].",
    )
    regions["eu-west-1"].create_table(TableName="Songs", **KEYS)  # a stranger of the same name
    assert refused({"Create": {"RegionName": "eu-west-1"}}) == (
        "ValidationException",
        "Failed to create a the new replica of table with name: \u2018Songs\u2019 because one or more replicas "
        "already existed as tables.",
    )
    assert "Replicas" not in home.describe_table(TableName="Songs")["Table"]

    home.create_table(
        TableName="Provisioned",
        KeySchema=KEYS["KeySchema"],
        AttributeDefinitions=KEYS["AttributeDefinitions"][:1],
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    )
    assert _refused(
        home.update_table, TableName="Provisioned", ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}]
    ) == ("ValidationException", "Table write capacity should either be Pay-Per-Request or AutoScaled.")


def test_replicas_leave_the_group_by_replica_update_or_delete_table(regions):
    home, away, third = regions["us-east-1"], regions["eu-west-1"], regions["ap-south-1"]
    home.create_table(TableName="Albums", **KEYS)
    _add_replica(home, "Albums", "eu-west-1")
    _add_replica(away, "Albums", "ap-south-1")  # any member may add one
    assert [r["RegionName"] for r in home.describe_table(TableName="Albums")["Table"]["Replicas"]] == [
        "eu-west-1",
        "ap-south-1",
    ]
    assert [r["RegionName"] for r in third.describe_table(TableName="Albums")["Table"]["Replicas"]] == [
        "us-east-1",
        "eu-west-1",
    ]
    third.put_item(TableName="Albums", Item={"pk": {"S": "x"}, "colour": {"S": "grey"}})
    assert "Item" in home.get_item(TableName="Albums", Key={"pk": {"S": "x"}})
    assert "Item" in away.get_item(TableName="Albums", Key={"pk": {"S": "x"}})

    assert _refused(home.update_table, TableName="Albums", StreamSpecification={"StreamEnabled": False}) == (
        "ValidationException",
        "Disabling Stream is not allowed for a Global Table replica.",
    )

    home.update_table(TableName="Albums", ReplicaUpdates=[{"Delete": {"RegionName": "eu-west-1"}}])
    assert code_of_describe(away, "Albums") == "ResourceNotFoundException"
    assert [r["RegionName"] for r in third.describe_table(TableName="Albums")["Table"]["Replicas"]] == [
        "us-east-1"
    ]

    third.delete_table(TableName="Albums")
    table = home.describe_table(TableName="Albums")["Table"]
    assert "Replicas" not in table and "GlobalTableVersion" not in table
    assert table["StreamSpecification"]["StreamEnabled"] is True  # AWS leaves the stream on
    home.put_item(TableName="Albums", Item={"pk": {"S": "y"}, "colour": {"S": "grey"}})


def test_time_to_live_is_set_for_the_whole_group(regions):
    home, away = regions["us-east-1"], regions["eu-west-1"]
    home.create_table(TableName="Sessions", **KEYS)
    _add_replica(home, "Sessions", "eu-west-1")
    away.update_time_to_live(
        TableName="Sessions", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    described = home.describe_time_to_live(TableName="Sessions")["TimeToLiveDescription"]
    assert described == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}


def code_of_describe(client, table):
    with pytest.raises(ClientError) as raised:
        client.describe_table(TableName=table)
    return code_of(raised)


def test_index_and_capacity_changes_reach_every_replica_deletion_protection_does_not(regions):
    home, away = regions["us-east-1"], regions["eu-west-1"]
    home.create_table(TableName="Tracks", **KEYS)
    _add_replica(home, "Tracks", "eu-west-1")
    home.put_item(TableName="Tracks", Item={"pk": {"S": "t1"}, "artist": {"S": "Nina"}})
    away.update_table(  # from the replica's side: AWS applies it to the whole group
        TableName="Tracks",
        AttributeDefinitions=[{"AttributeName": "artist", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by-artist",
                    "KeySchema": [{"AttributeName": "artist", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )
    found = home.query(
        TableName="Tracks",
        IndexName="by-artist",
        KeyConditionExpression="artist = :a",
        ExpressionAttributeValues={":a": {"S": "Nina"}},
    )
    assert [item["pk"]["S"] for item in found["Items"]] == ["t1"]
    home.update_table(
        TableName="Tracks", TableClass="STANDARD_INFREQUENT_ACCESS", DeletionProtectionEnabled=True
    )
    replica = away.describe_table(TableName="Tracks")["Table"]
    assert replica["TableClassSummary"]["TableClass"] == "STANDARD_INFREQUENT_ACCESS"
    assert replica["DeletionProtectionEnabled"] is False
    assert home.describe_table(TableName="Tracks")["Table"]["Replicas"] == [
        {
            "RegionName": "eu-west-1",
            "ReplicaStatus": "ACTIVE",
            "ReplicaTableClassSummary": {"TableClass": "STANDARD_INFREQUENT_ACCESS"},
        }
    ]


def test_replica_auto_scaling_is_described_for_global_tables_only(regions):
    home = regions["us-east-1"]
    home.create_table(TableName="Scaled", **KEYS)
    with pytest.raises(ClientError) as raised:
        home.describe_table_replica_auto_scaling(TableName="Scaled")
    assert (code_of(raised), message_of(raised)) == (
        "ResourceNotFoundException",
        "Global table with name: 'Scaled' does not exist.",
    )
    _add_replica(home, "Scaled", "eu-west-1")
    described = home.describe_table_replica_auto_scaling(TableName="Scaled")["TableAutoScalingDescription"]
    assert described["TableName"] == "Scaled" and described["TableStatus"] == "ACTIVE"
    assert [r["RegionName"] for r in described["Replicas"]] == ["eu-west-1", "us-east-1"]
    replica = described["Replicas"][0]
    assert replica["ReplicaProvisionedWriteCapacityAutoScalingSettings"]["AutoScalingDisabled"] is True
    assert [i["IndexName"] for i in replica["GlobalSecondaryIndexes"]] == ["by-colour"]
