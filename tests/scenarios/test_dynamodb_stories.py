"""DynamoDB acceptance stories from the reference notes: capacity arithmetic, the UserPosts scan, optimistic
locking, atomic counters, a GSI query, TTL seen on the stream, and the AWS CLI."""

import time

import pytest
from botocore.exceptions import ClientError

from tests.helpers import AWS_V1, AWS_V2, aws


def dynamodb_cli(overcast, *args: str, binary: str = AWS_V1) -> dict:
    """`aws dynamodb <args>` against the server, its JSON output."""
    return aws(overcast, "dynamodb", *args, cli=binary)


KB = 1024


def sized_item(key: str, size: int) -> dict:
    """An item of exactly `size` bytes: names "pk" and "d" (3 bytes) plus the key value plus the padding."""
    return {"pk": {"S": key}, "d": {"S": "x" * (size - 3 - len(key))}}


@pytest.fixture
def ddb(overcast):
    client = overcast.client("dynamodb")
    client.create_table(
        TableName="Capacity",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 10},
    )
    return client


@pytest.mark.parametrize("size, units", [(1100, 2.0), (2 * KB, 2.0), (4 * KB + KB // 2, 5.0), (5 * KB, 5.0)])
def test_write_capacity_per_item_size(ddb, size, units):
    consumed = ddb.put_item(TableName="Capacity", Item=sized_item("a", size), ReturnConsumedCapacity="TOTAL")
    assert consumed["ConsumedCapacity"]["CapacityUnits"] == units


@pytest.mark.parametrize(
    "size, consistent, units",
    [
        (4 * KB, True, 1.0),
        (4 * KB, False, 0.5),
        (6 * KB, True, 2.0),
        (6 * KB, False, 1.0),
        (12 * KB, False, 1.5),
    ],
)
def test_read_capacity_per_item_size(ddb, size, consistent, units):
    ddb.put_item(TableName="Capacity", Item=sized_item("a", size))
    got = ddb.get_item(
        TableName="Capacity",
        Key={"pk": {"S": "a"}},
        ConsistentRead=consistent,
        ReturnConsumedCapacity="TOTAL",
    )
    assert got["ConsumedCapacity"]["CapacityUnits"] == units


def test_transactions_cost_twice(ddb):
    # 3 transactional writes/s of 5 KB = 30 WCU; 5 transactional reads/s of 5 KB = 20 RCU (notes 003c).
    writes = ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "Capacity", "Item": sized_item(f"t{n}", 5 * KB)}} for n in range(3)
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert writes["ConsumedCapacity"][0]["CapacityUnits"] == 30.0
    reads = ddb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": "Capacity", "Key": {"pk": {"S": f"t{n % 3}"}}}} for n in range(3)
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert reads["ConsumedCapacity"][0]["CapacityUnits"] == 12.0  # 4 RCU each
    ddb.put_item(TableName="Capacity", Item=sized_item("six", 6 * KB))
    one = ddb.transact_get_items(
        TransactItems=[{"Get": {"TableName": "Capacity", "Key": {"pk": {"S": "six"}}}}],
        ReturnConsumedCapacity="TOTAL",
    )
    assert one["ConsumedCapacity"][0]["CapacityUnits"] == 4.0


def test_index_writes_are_charged_per_index(overcast):
    ddb = overcast.client("dynamodb")
    ddb.create_table(
        TableName="Indexed",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    first = ddb.put_item(
        TableName="Indexed", Item={"pk": {"S": "a"}, "g": {"S": "x"}}, ReturnConsumedCapacity="INDEXES"
    )
    assert first["ConsumedCapacity"] == {
        "TableName": "Indexed",
        "CapacityUnits": 2.0,
        "Table": {"CapacityUnits": 1.0},
        "GlobalSecondaryIndexes": {"by_g": {"CapacityUnits": 1.0}},
    }
    moved = ddb.put_item(
        TableName="Indexed", Item={"pk": {"S": "a"}, "g": {"S": "y"}}, ReturnConsumedCapacity="INDEXES"
    )
    assert moved["ConsumedCapacity"]["GlobalSecondaryIndexes"]["by_g"]["CapacityUnits"] == 2.0  # delete + put


def user_posts(ddb):
    ddb.create_table(
        TableName="UserPosts",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "user_id", "KeyType": "HASH"},
            {"AttributeName": "post_ts", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "user_id", "AttributeType": "S"},
            {"AttributeName": "post_ts", "AttributeType": "S"},
        ],
    )
    for user, ts, content in [
        ("u123456", "2018-09-02T12:34:00Z", "Hello"),
        ("u123456", "2018-04-02T12:34:00Z", "Hello Again"),
        ("u999", "2018-05-05T10:00:00Z", "Other"),
    ]:
        ddb.put_item(
            TableName="UserPosts",
            Item={
                "user_id": {"S": user},
                "post_ts": {"S": ts},
                "content": {"S": content},
                "likes": {"N": "3"},
            },
        )


def test_user_posts_scan_story(overcast):
    ddb = overcast.client("dynamodb")
    user_posts(ddb)
    projected = ddb.scan(TableName="UserPosts", ProjectionExpression="user_id, content")
    assert len(projected["Items"]) == 3 and all(set(i) == {"user_id", "content"} for i in projected["Items"])
    filtered = ddb.scan(
        TableName="UserPosts",
        FilterExpression="user_id = :u",
        ExpressionAttributeValues={":u": {"S": "u123456"}},
    )
    assert filtered["Count"] == 2 and filtered["ScannedCount"] == 3
    newest = ddb.query(
        TableName="UserPosts",
        KeyConditionExpression="user_id = :u",
        ExpressionAttributeValues={":u": {"S": "u123456"}},
        ScanIndexForward=False,
    )
    assert [i["content"]["S"] for i in newest["Items"]] == ["Hello", "Hello Again"]


def test_optimistic_locking_with_a_version_attribute(overcast):
    ddb = overcast.client("dynamodb")
    user_posts(ddb)
    key = {"user_id": {"S": "u123456"}, "post_ts": {"S": "2018-09-02T12:34:00Z"}}
    ddb.update_item(
        TableName="UserPosts",
        Key=key,
        UpdateExpression="SET version = :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    seen = [
        ddb.get_item(TableName="UserPosts", Key=key, ConsistentRead=True)["Item"]["version"]["N"]
        for _ in range(2)
    ]
    outcomes = []
    for client_number, version in enumerate(seen):
        try:
            ddb.update_item(
                TableName="UserPosts",
                Key=key,
                UpdateExpression="SET content = :c, version = :next",
                ConditionExpression="version = :seen",
                ExpressionAttributeValues={
                    ":c": {"S": f"edit {client_number}"},
                    ":seen": {"N": version},
                    ":next": {"N": str(int(version) + 1)},
                },
            )
            outcomes.append("ok")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])
    assert outcomes == ["ok", "ConditionalCheckFailedException"]
    item = ddb.get_item(TableName="UserPosts", Key=key)["Item"]
    assert item["content"] == {"S": "edit 0"} and item["version"] == {"N": "2"}


def test_atomic_counter_with_concurrent_clients(overcast):
    from concurrent.futures import ThreadPoolExecutor

    ddb = overcast.client("dynamodb")
    user_posts(ddb)
    key = {"user_id": {"S": "u999"}, "post_ts": {"S": "2018-05-05T10:00:00Z"}}

    def like(_):
        overcast.client("dynamodb").update_item(
            TableName="UserPosts",
            Key=key,
            UpdateExpression="ADD #views :one",
            ExpressionAttributeNames={"#views": "views"},  # a reserved word
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(like, range(40)))
    assert ddb.get_item(TableName="UserPosts", Key=key)["Item"]["views"] == {"N": "40"}


def test_query_by_a_non_key_attribute_through_a_gsi(overcast):
    ddb = overcast.client("dynamodb")
    ddb.create_table(
        TableName="demo_indexes",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "user_id", "KeyType": "HASH"},
            {"AttributeName": "game_ts", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "user_id", "AttributeType": "S"},
            {"AttributeName": "game_ts", "AttributeType": "S"},
            {"AttributeName": "game_id", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "game_id_index",
                "KeySchema": [{"AttributeName": "game_id", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["result"]},
            }
        ],
    )
    for user, ts, game, result in [
        ("1", "2021-01-01", "g1", "win"),
        ("2", "2021-01-02", "g1", "loss"),
        ("3", "2021-01-03", "g2", "win"),
    ]:
        ddb.put_item(
            TableName="demo_indexes",
            Item={
                "user_id": {"S": user},
                "game_ts": {"S": ts},
                "game_id": {"S": game},
                "result": {"S": result},
                "secret": {"S": "x"},
            },
        )
    found = ddb.query(
        TableName="demo_indexes",
        IndexName="game_id_index",
        KeyConditionExpression="game_id = :g",
        ExpressionAttributeValues={":g": {"S": "g1"}},
    )
    assert sorted(i["user_id"]["S"] for i in found["Items"]) == ["1", "2"]
    assert all("secret" not in i and "result" in i for i in found["Items"])


def test_ttl_expiry_reaches_the_stream_after_advancing_the_clock(overcast):
    ddb = overcast.client("dynamodb")
    streams = overcast.client("dynamodbstreams")
    ddb.create_table(
        TableName="Sessions",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "OLD_IMAGE"},
    )
    ddb.update_time_to_live(
        TableName="Sessions", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expire_on"}
    )
    ddb.put_item(
        TableName="Sessions", Item={"id": {"S": "s1"}, "expire_on": {"N": str(int(time.time()) + 600)}}
    )
    arn = ddb.describe_table(TableName="Sessions")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    overcast.advance_clock("11m")  # past the expiry, within the iterator's 15 minutes
    records = []
    deadline = time.monotonic() + 30  # the TTL sweep runs in the background: generous for a busy machine
    while not records and time.monotonic() < deadline:
        page = streams.get_records(ShardIterator=iterator)
        records, iterator = page["Records"], page["NextShardIterator"]
        time.sleep(0.05)
    assert [r["eventName"] for r in records] == ["REMOVE"]
    assert records[0]["userIdentity"] == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    assert records[0]["dynamodb"]["OldImage"]["id"] == {"S": "s1"}


@pytest.mark.slow
@pytest.mark.parametrize("binary", [AWS_V1, AWS_V2], ids=["cli-v1", "cli-v2"])
def test_aws_cli_user_posts(overcast, binary):
    user_posts(overcast.client("dynamodb"))
    projected = dynamodb_cli(
        overcast,
        "scan",
        "--table-name",
        "UserPosts",
        "--projection-expression",
        "user_id, content",
        binary=binary,
    )
    assert projected["Count"] == 3
    filtered = dynamodb_cli(
        overcast,
        "scan",
        "--table-name",
        "UserPosts",
        "--filter-expression",
        "user_id = :u",
        "--expression-attribute-values",
        '{":u":{"S":"u123456"}}',
        binary=binary,
    )
    assert filtered["Count"] == 2 and filtered["ScannedCount"] == 3
    paged = dynamodb_cli(overcast, "scan", "--table-name", "UserPosts", "--page-size", "1", binary=binary)
    assert paged["Count"] == 3
    first = dynamodb_cli(overcast, "scan", "--table-name", "UserPosts", "--max-items", "1", binary=binary)
    assert len(first["Items"]) == 1 and first["NextToken"]
    rest = dynamodb_cli(
        overcast, "scan", "--table-name", "UserPosts", "--starting-token", first["NextToken"], binary=binary
    )
    assert len(rest["Items"]) == 2


@pytest.mark.slow
def test_aws_cli_item_commands(overcast):
    dynamodb_cli(
        overcast,
        "create-table",
        "--table-name",
        "Cli",
        "--billing-mode",
        "PAY_PER_REQUEST",
        "--attribute-definitions",
        "AttributeName=Id,AttributeType=N",
        "--key-schema",
        "AttributeName=Id,KeyType=HASH",
    )
    dynamodb_cli(
        overcast, "put-item", "--table-name", "Cli", "--item", '{"Id":{"N":"456"},"Price":{"N":"650"}}'
    )
    dynamodb_cli(
        overcast,
        "update-item",
        "--table-name",
        "Cli",
        "--key",
        '{"Id":{"N":"456"}}',
        "--update-expression",
        "SET Price = Price - :discount",
        "--condition-expression",
        "Price > :limit",
        "--expression-attribute-values",
        '{":discount":{"N":"150"},":limit":{"N":"500"}}',
    )
    item = dynamodb_cli(overcast, "get-item", "--table-name", "Cli", "--key", '{"Id":{"N":"456"}}')["Item"]
    assert item["Price"] == {"N": "500"}
    done = aws(
        overcast,
        "dynamodb",
        "update-item",
        "--table-name",
        "Cli",
        "--key",
        '{"Id":{"N":"456"}}',
        "--update-expression",
        "SET Price = Price - :discount",
        "--condition-expression",
        "Price > :limit",
        "--expression-attribute-values",
        '{":discount":{"N":"150"},":limit":{"N":"500"}}',
        check=False,
    )
    assert done.returncode != 0 and "ConditionalCheckFailedException" in done.stderr
