"""Item collections on tables with local secondary indexes: ReturnItemCollectionMetrics and the size limit
(10 GB in AWS; lowered here through OVERCAST_DYNAMODB_ITEM_COLLECTION_LIMIT on a server of the test's own)."""

import pytest
from botocore.exceptions import ClientError

from overcast.testing import OvercastServer

LSI = [
    {
        "IndexName": "byScore",
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "score", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }
]


def create(client, name, lsi=True):
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "score", "AttributeType": "N"},
        ]
        if lsi
        else [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        **({"LocalSecondaryIndexes": LSI} if lsi else {}),
    )


def item(pk, sk, size=0):
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}, "score": {"N": "1"}, "d": {"S": "x" * max(size, 1)}}


def test_return_item_collection_metrics(ddb):
    create(ddb, "Collections")
    put = ddb.put_item(TableName="Collections", Item=item("a", 1), ReturnItemCollectionMetrics="SIZE")
    assert put["ItemCollectionMetrics"] == {
        "ItemCollectionKey": {"pk": {"S": "a"}},
        "SizeEstimateRangeGB": [0.0, 1.0],
    }
    assert "ItemCollectionMetrics" not in ddb.put_item(TableName="Collections", Item=item("a", 2))
    updated = ddb.update_item(
        TableName="Collections",
        Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "1"}},
        ReturnItemCollectionMetrics="SIZE",
    )
    assert updated["ItemCollectionMetrics"]["ItemCollectionKey"] == {"pk": {"S": "a"}}
    deleted = ddb.delete_item(
        TableName="Collections", Key={"pk": {"S": "a"}, "sk": {"N": "2"}}, ReturnItemCollectionMetrics="SIZE"
    )
    assert deleted["ItemCollectionMetrics"]["ItemCollectionKey"] == {"pk": {"S": "a"}}
    batch = ddb.batch_write_item(
        RequestItems={
            "Collections": [{"PutRequest": {"Item": item("b", 1)}}, {"PutRequest": {"Item": item("c", 1)}}]
        },
        ReturnItemCollectionMetrics="SIZE",
    )
    keys = [m["ItemCollectionKey"] for m in batch["ItemCollectionMetrics"]["Collections"]]
    assert keys == [{"pk": {"S": "b"}}, {"pk": {"S": "c"}}]
    # Tables without LSIs have no item collections to report.
    create(ddb, "Plain", lsi=False)
    plain = ddb.put_item(
        TableName="Plain", Item={"pk": {"S": "a"}, "sk": {"N": "1"}}, ReturnItemCollectionMetrics="SIZE"
    )
    assert "ItemCollectionMetrics" not in plain


@pytest.fixture
def small_collections(monkeypatch):
    monkeypatch.setenv("OVERCAST_DYNAMODB_ITEM_COLLECTION_LIMIT", str(100 * 1024))
    with OvercastServer() as server:
        yield server.client("dynamodb")


def test_item_collection_size_limit(small_collections):
    ddb = small_collections
    create(ddb, "Limited")
    create(ddb, "Unlimited", lsi=False)
    for sk in range(3):
        ddb.put_item(TableName="Limited", Item=item("a", sk, 30 * 1024))
        ddb.put_item(TableName="Unlimited", Item=item("a", sk, 30 * 1024))
    with pytest.raises(ClientError) as raised:
        ddb.put_item(TableName="Limited", Item=item("a", 3, 30 * 1024))
    assert raised.value.response["Error"]["Code"] == "ItemCollectionSizeLimitExceededException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "Item" not in ddb.get_item(TableName="Limited", Key={"pk": {"S": "a"}, "sk": {"N": "3"}})
    ddb.put_item(TableName="Limited", Item=item("b", 3, 30 * 1024))  # another collection
    ddb.put_item(TableName="Unlimited", Item=item("a", 3, 30 * 1024))  # no LSI, no limit
    # Shrinking an item in a full collection is allowed; growing it is not.
    ddb.put_item(TableName="Limited", Item=item("a", 0, 10))
    with pytest.raises(ClientError) as raised:
        ddb.update_item(
            TableName="Limited",
            Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
            UpdateExpression="SET d = :d",
            ExpressionAttributeValues={":d": {"S": "y" * 80 * 1024}},
        )
    assert raised.value.response["Error"]["Code"] == "ItemCollectionSizeLimitExceededException"
