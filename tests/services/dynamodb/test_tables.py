"""Table lifecycle, validation, indexes, tags, TTL settings, limits."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of, message_of

KEY = [{"AttributeName": "pk", "KeyType": "HASH"}]
DEFS = [{"AttributeName": "pk", "AttributeType": "S"}]


def test_create_describe_list_delete(ddb):
    created = ddb.create_table(
        TableName="Orders",
        KeySchema=KEY,
        AttributeDefinitions=DEFS,
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 3},
    )
    assert created["TableDescription"]["TableStatus"] == "CREATING"
    ddb.get_waiter("table_exists").wait(TableName="Orders", WaiterConfig={"Delay": 1})
    table = ddb.describe_table(TableName="Orders")["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["TableArn"] == "arn:aws:dynamodb:us-east-1:000000000000:table/Orders"
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert table["ItemCount"] == 0
    ddb.put_item(TableName="Orders", Item={"pk": {"S": "a"}})
    assert ddb.describe_table(TableName="Orders")["Table"]["ItemCount"] == 1
    assert ddb.list_tables()["TableNames"] == ["Orders"]
    with pytest.raises(ClientError) as raised:
        ddb.create_table(
            TableName="Orders", KeySchema=KEY, AttributeDefinitions=DEFS, BillingMode="PAY_PER_REQUEST"
        )
    assert code_of(raised) == "ResourceInUseException"
    assert ddb.delete_table(TableName="Orders")["TableDescription"]["TableStatus"] == "DELETING"
    with pytest.raises(ClientError) as raised:
        ddb.describe_table(TableName="Orders")
    assert code_of(raised) == "ResourceNotFoundException"
    assert message_of(raised) == "Requested resource not found: Table: Orders not found"


def test_list_tables_paginates(ddb):
    for n in range(5):
        ddb.create_table(
            TableName=f"tab{n}", KeySchema=KEY, AttributeDefinitions=DEFS, BillingMode="PAY_PER_REQUEST"
        )
    first = ddb.list_tables(Limit=2)
    assert first["TableNames"] == ["tab0", "tab1"] and first["LastEvaluatedTableName"] == "tab1"
    names = [
        n
        for page in ddb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 2})
        for n in page["TableNames"]
    ]
    assert names == [f"tab{n}" for n in range(5)]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {
                "AttributeDefinitions": DEFS + [{"AttributeName": "x", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
            "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ),
        (
            {
                "AttributeDefinitions": [{"AttributeName": "x", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
            "Some index key attributes are not defined in AttributeDefinitions",
        ),
        (
            {"AttributeDefinitions": DEFS},
            "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        ),
        (
            {
                "AttributeDefinitions": DEFS,
                "KeySchema": [{"AttributeName": "pk", "KeyType": "RANGE"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ),
    ],
)
def test_create_table_validation(ddb, kwargs, message):
    kwargs.setdefault("KeySchema", KEY)
    with pytest.raises(ClientError) as raised:
        ddb.create_table(TableName="Bad", **kwargs)
    assert code_of(raised) == "ValidationException"
    assert message in message_of(raised)


def lsi(name, attribute="other"):
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": attribute, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }


def test_at_most_five_local_indexes(ddb):
    defs = DEFS + [
        {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": "other", "AttributeType": "N"},
    ]
    schema = KEY + [{"AttributeName": "sk", "KeyType": "RANGE"}]
    with pytest.raises(ClientError) as raised:
        ddb.create_table(
            TableName="Many",
            KeySchema=schema,
            AttributeDefinitions=defs,
            BillingMode="PAY_PER_REQUEST",
            LocalSecondaryIndexes=[lsi(f"lsi{n}") for n in range(6)],
        )
    assert "Number of LocalSecondaryIndexes exceeds per-table limit of 5" in message_of(raised)
    ddb.create_table(
        TableName="Five",
        KeySchema=schema,
        AttributeDefinitions=defs,
        BillingMode="PAY_PER_REQUEST",
        LocalSecondaryIndexes=[lsi(f"lsi{n}") for n in range(5)],
    )
    assert len(ddb.describe_table(TableName="Five")["Table"]["LocalSecondaryIndexes"]) == 5


def test_gsi_added_later_is_backfilled_and_queryable(ddb, make_table):
    make_table("Games", ("pk", "S"))
    for n in range(4):
        ddb.put_item(
            TableName="Games",
            Item={
                "pk": {"S": f"p{n}"},
                "game": {"S": "chess" if n % 2 else "go"},
                "score": {"N": str(n * 10)},
            },
        )
    ddb.update_table(
        TableName="Games",
        AttributeDefinitions=[
            {"AttributeName": "game", "AttributeType": "S"},
            {"AttributeName": "score", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by_game",
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                    "KeySchema": [
                        {"AttributeName": "game", "KeyType": "HASH"},
                        {"AttributeName": "score", "KeyType": "RANGE"},
                    ],
                }
            }
        ],
    )
    ddb.put_item(TableName="Games", Item={"pk": {"S": "late"}, "game": {"S": "chess"}, "score": {"N": "5"}})
    result = ddb.query(
        TableName="Games",
        IndexName="by_game",
        KeyConditionExpression="game = :g",
        ExpressionAttributeValues={":g": {"S": "chess"}},
        ScanIndexForward=False,
    )
    assert [i["pk"]["S"] for i in result["Items"]] == ["p3", "p1", "late"]
    assert set(result["Items"][0]) == {"pk", "game", "score"}  # KEYS_ONLY: table and index keys
    index = ddb.describe_table(TableName="Games")["Table"]["GlobalSecondaryIndexes"][0]
    assert index["IndexStatus"] == "ACTIVE" and index["ItemCount"] == 5
    with pytest.raises(ClientError) as raised:
        ddb.query(
            TableName="Games",
            IndexName="by_game",
            KeyConditionExpression="game = :g",
            ExpressionAttributeValues={":g": {"S": "chess"}},
            ConsistentRead=True,
        )
    assert message_of(raised) == "Consistent reads are not supported on global secondary indexes"
    ddb.update_table(TableName="Games", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_game"}}])
    assert "GlobalSecondaryIndexes" not in ddb.describe_table(TableName="Games")["Table"]


def test_deletion_protection(ddb):
    ddb.create_table(
        TableName="Kept",
        KeySchema=KEY,
        AttributeDefinitions=DEFS,
        BillingMode="PAY_PER_REQUEST",
        DeletionProtectionEnabled=True,
    )
    with pytest.raises(ClientError) as raised:
        ddb.delete_table(TableName="Kept")
    assert code_of(raised) == "ValidationException"
    ddb.update_table(TableName="Kept", DeletionProtectionEnabled=False)
    ddb.delete_table(TableName="Kept")


def test_billing_mode_switch(ddb, make_table):
    make_table("Bill")
    table = ddb.update_table(
        TableName="Bill",
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 2},
    )["TableDescription"]
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 2 and "BillingModeSummary" not in table


def test_tags(ddb, make_table):
    make_table("Tagged")
    arn = ddb.describe_table(TableName="Tagged")["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    ddb.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ClientError) as raised:
        ddb.list_tags_of_resource(ResourceArn=arn + "x")
    assert code_of(raised) == "ResourceNotFoundException"


def test_tag_limit_and_tags_go_with_the_table(ddb, make_table):
    make_table("Crowded", Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(49)])
    arn = ddb.describe_table(TableName="Crowded")["Table"]["TableArn"]
    assert [t["Key"] for t in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]] == [
        f"k{i}" for i in range(49)
    ]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k0", "Value": "again"}, {"Key": "last", "Value": "v"}])
    with pytest.raises(ClientError) as raised:
        ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "one-more", "Value": "v"}])
    assert code_of(raised) == "ValidationException"
    assert message_of(raised) == (
        "One or more parameter values were invalid: The number of tags exceeds the limit of 50"
    )
    ddb.delete_table(TableName="Crowded")
    make_table("Crowded")
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == []  # the deleted table's tags went with it


def test_time_to_live_settings(ddb, make_table):
    make_table("Ttl")
    assert ddb.describe_time_to_live(TableName="Ttl")["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"
    }
    ddb.update_time_to_live(
        TableName="Ttl", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    assert ddb.describe_time_to_live(TableName="Ttl")["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "exp",
    }
    with pytest.raises(ClientError) as raised:
        ddb.update_time_to_live(
            TableName="Ttl", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
        )
    assert message_of(raised) == "TimeToLive is already enabled"


def test_limits_and_endpoints(ddb):
    assert ddb.describe_limits()["TableMaxReadCapacityUnits"] == 40000
    assert ddb.describe_endpoints()["Endpoints"][0]["CachePeriodInMinutes"] == 1440


def test_local_index_query_orders_by_its_sort_key(ddb):
    defs = DEFS + [
        {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": "other", "AttributeType": "N"},
    ]
    ddb.create_table(
        TableName="Local",
        KeySchema=KEY + [{"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=defs,
        BillingMode="PAY_PER_REQUEST",
        LocalSecondaryIndexes=[lsi("by_other")],
    )
    for sk, other in (("a", 3), ("b", 1), ("c", 2)):
        ddb.put_item(
            TableName="Local",
            Item={"pk": {"S": "p"}, "sk": {"S": sk}, "other": {"N": str(other)}, "extra": {"S": "x"}},
        )
    ddb.put_item(
        TableName="Local", Item={"pk": {"S": "p"}, "sk": {"S": "sparse"}}
    )  # no index key: not indexed
    query = {
        "TableName": "Local",
        "IndexName": "by_other",
        "KeyConditionExpression": "pk = :p AND #o >= :o",
        "ExpressionAttributeNames": {"#o": "other"},
        "ExpressionAttributeValues": {":p": {"S": "p"}, ":o": {"N": "2"}},
    }
    projected = ddb.query(**query)["Items"]
    assert [i["sk"]["S"] for i in projected] == ["c", "a"]
    assert all("extra" not in i for i in projected)
    full = ddb.query(**query, Select="ALL_ATTRIBUTES", ConsistentRead=True)["Items"]
    assert all(i["extra"] == {"S": "x"} for i in full)
    with pytest.raises(ClientError) as raised:
        ddb.update_table(
            TableName="Local",
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": "by_other",
                        "KeySchema": [{"AttributeName": "other", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                }
            ],
        )
    assert code_of(raised) == "ValidationException"
