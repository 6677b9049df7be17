"""Query and Scan: key conditions, ordering, paging, filters, projections, indexes, parallel scan."""

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def posts(ddb, make_table):
    make_table("Posts", ("user", "S"), ("ts", "N"))
    with_items = ddb.batch_write_item(
        RequestItems={
            "Posts": [
                {
                    "PutRequest": {
                        "Item": {
                            "user": {"S": "u1"},
                            "ts": {"N": str(n)},
                            "body": {"S": f"post {n}"},
                            "even": {"BOOL": n % 2 == 0},
                        }
                    }
                }
                for n in range(-5, 15)
            ]
            + [{"PutRequest": {"Item": {"user": {"S": "u2"}, "ts": {"N": "1"}}}}]
        }
    )
    assert with_items["UnprocessedItems"] == {}
    return "Posts"


def timestamps(result):
    return [int(item["ts"]["N"]) for item in result["Items"]]


def test_query_orders_numbers_numerically(ddb, posts):
    result = query(ddb, "#u = :u", {":u": {"S": "u1"}}, ExpressionAttributeNames={"#u": "user"})
    assert timestamps(result) == list(range(-5, 15))
    assert result["Count"] == result["ScannedCount"] == 20
    backwards = query(
        ddb, "#u = :u", {":u": {"S": "u1"}}, ExpressionAttributeNames={"#u": "user"}, ScanIndexForward=False
    )
    assert timestamps(backwards) == list(range(14, -6, -1))


@pytest.mark.parametrize(
    "condition, values, expected",
    [
        ("ts = :a", {":a": {"N": "3"}}, [3]),
        ("ts < :a", {":a": {"N": "-3"}}, [-5, -4]),
        ("ts <= :a", {":a": {"N": "-3"}}, [-5, -4, -3]),
        ("ts > :a", {":a": {"N": "12"}}, [13, 14]),
        ("ts >= :a", {":a": {"N": "12.5"}}, [13, 14]),
        ("ts BETWEEN :a AND :b", {":a": {"N": "-1"}, ":b": {"N": "1"}}, [-1, 0, 1]),
    ],
)
def test_sort_key_operators(ddb, posts, condition, values, expected):
    result = query(
        ddb,
        f"#u = :u AND {condition}",
        {":u": {"S": "u1"}, **values},
        ExpressionAttributeNames={"#u": "user"},
    )
    assert timestamps(result) == expected


def test_begins_with_on_string_sort_key(ddb, make_table):
    make_table("UserPosts", ("user_id", "S"), ("post_ts", "S"))
    for ts in (
        "2018-09-02T12:34:00Z",
        "2018-04-02T12:34:00Z",
        "2018-09-30T00:00:00Z",
        "2019-09-01T00:00:00Z",
    ):
        ddb.put_item(TableName="UserPosts", Item={"user_id": {"S": "u123456"}, "post_ts": {"S": ts}})
    result = ddb.query(
        TableName="UserPosts",
        KeyConditionExpression="user_id = :u AND begins_with(post_ts, :p)",
        ExpressionAttributeValues={":u": {"S": "u123456"}, ":p": {"S": "2018-09"}},
    )
    assert [i["post_ts"]["S"] for i in result["Items"]] == ["2018-09-02T12:34:00Z", "2018-09-30T00:00:00Z"]


def test_query_pages_with_limit_and_exclusive_start_key(ddb, posts):
    seen, start, calls = [], None, 0
    while True:
        kwargs = {"ExclusiveStartKey": start} if start else {}
        page = query(
            ddb, "#u = :u", {":u": {"S": "u1"}}, ExpressionAttributeNames={"#u": "user"}, Limit=7, **kwargs
        )
        calls += 1
        seen += timestamps(page)
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert seen == list(range(-5, 15))
    assert calls == 3


def test_query_filter_counts_and_select_count(ddb, posts):
    result = query(
        ddb,
        "#u = :u",
        {":u": {"S": "u1"}, ":t": {"BOOL": True}},
        ExpressionAttributeNames={"#u": "user"},
        FilterExpression="even = :t",
        Limit=10,
    )
    assert result["ScannedCount"] == 10 and result["Count"] == 5
    count = query(
        ddb, "#u = :u", {":u": {"S": "u1"}}, ExpressionAttributeNames={"#u": "user"}, Select="COUNT"
    )
    assert count["Count"] == 20 and "Items" not in count


def test_key_condition_errors(ddb, posts):
    for condition, values, message in [
        ("ts = :a", {":a": {"N": "1"}}, "Query condition missed key schema element: user"),
        ("#u = :u AND body = :a", {":u": {"S": "u1"}, ":a": {"S": "x"}}, "Query key condition not supported"),
        ("#u = :u", {":u": {"N": "1"}}, "Condition parameter type does not match schema type"),
    ]:
        with pytest.raises(ClientError) as raised:
            query(
                ddb, condition, values, ExpressionAttributeNames={"#u": "user"} if "#u" in condition else None
            )
        assert raised.value.response["Error"]["Code"] == "ValidationException"
        assert message in raised.value.response["Error"]["Message"]


def query(ddb, condition, values, ExpressionAttributeNames=None, **kwargs):
    if ExpressionAttributeNames:
        kwargs["ExpressionAttributeNames"] = ExpressionAttributeNames
    return ddb.query(
        TableName="Posts", KeyConditionExpression=condition, ExpressionAttributeValues=values, **kwargs
    )


def test_legacy_key_conditions_and_query_filter(ddb, posts):
    result = ddb.query(
        TableName="Posts",
        KeyConditions={
            "user": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "u1"}]},
            "ts": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "0"}, {"N": "4"}]},
        },
        QueryFilter={"even": {"ComparisonOperator": "EQ", "AttributeValueList": [{"BOOL": True}]}},
    )
    assert timestamps(result) == [0, 2, 4]
    assert result["ScannedCount"] == 5


def test_one_megabyte_page_limit(ddb, make_table):
    make_table("Big", ("pk", "S"), ("sk", "N"))
    blob = "x" * 100_000
    for n in range(15):
        ddb.put_item(TableName="Big", Item={"pk": {"S": "p"}, "sk": {"N": str(n)}, "d": {"S": blob}})
    page = ddb.query(
        TableName="Big", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}}
    )
    assert page["Count"] == 11  # 11 items of ~100 KB pass 1 MB
    assert page["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "10"}}
    rest = ddb.query(
        TableName="Big",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        ExclusiveStartKey=page["LastEvaluatedKey"],
    )
    assert rest["Count"] == 4 and "LastEvaluatedKey" not in rest


def test_scan_filter_projection_and_parallel_segments(ddb, posts):
    scan = ddb.scan(
        TableName="Posts",
        FilterExpression="#u = :u",
        ExpressionAttributeNames={"#u": "user"},
        ExpressionAttributeValues={":u": {"S": "u2"}},
        ProjectionExpression="ts",
    )
    assert scan["Items"] == [{"ts": {"N": "1"}}]
    assert scan["ScannedCount"] == 21
    segments = [ddb.scan(TableName="Posts", Segment=s, TotalSegments=3)["Items"] for s in range(3)]
    keys = sorted((i["user"]["S"], int(i["ts"]["N"])) for items in segments for i in items)
    assert len(keys) == 21 and len(set(keys)) == 21
    with pytest.raises(ClientError) as raised:
        ddb.scan(TableName="Posts", Segment=3, TotalSegments=3)
    assert "Segment: 3 is not less than TotalSegments: 3" in raised.value.response["Error"]["Message"]


def test_scan_pages_with_limit(ddb, posts):
    items, start, calls = [], None, 0
    while True:
        page = ddb.scan(TableName="Posts", Limit=5, **({"ExclusiveStartKey": start} if start else {}))
        calls += 1
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert len(items) == 21
    assert calls == 5  # 5+5+5+5+1: the short last page carries no LastEvaluatedKey


def test_index_query_capacity_and_select_rules(ddb, make_table):
    make_table(
        "Scores",
        ("pk", "S"),
        extra_definitions=[{"AttributeName": "game", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_game",
                "KeySchema": [{"AttributeName": "game", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    for n in range(3):
        ddb.put_item(
            TableName="Scores", Item={"pk": {"S": f"p{n}"}, "game": {"S": "go"}, "big": {"S": "x" * 3000}}
        )
    result = ddb.query(
        TableName="Scores",
        IndexName="by_game",
        KeyConditionExpression="game = :g",
        ExpressionAttributeValues={":g": {"S": "go"}},
        ReturnConsumedCapacity="INDEXES",
    )
    assert result["Count"] == 3 and all(set(i) == {"pk", "game"} for i in result["Items"])
    assert result["ConsumedCapacity"]["GlobalSecondaryIndexes"] == {"by_game": {"CapacityUnits": 0.5}}
    assert result["ConsumedCapacity"]["Table"] == {"CapacityUnits": 0.0}
    with pytest.raises(ClientError) as raised:
        ddb.query(
            TableName="Scores",
            IndexName="by_game",
            KeyConditionExpression="game = :g",
            ExpressionAttributeValues={":g": {"S": "go"}},
            Select="ALL_ATTRIBUTES",
        )
    assert (
        "Select type ALL_ATTRIBUTES is not supported for global secondary index by_game"
        in (raised.value.response["Error"]["Message"])
    )
    scan = ddb.scan(TableName="Scores", ReturnConsumedCapacity="TOTAL")
    assert scan["ConsumedCapacity"]["CapacityUnits"] == 1.5  # ~9 KB read, eventually consistent


def test_backward_pages(ddb, posts):
    seen, start = [], None
    while True:
        page = query(
            ddb,
            "#u = :u",
            {":u": {"S": "u1"}},
            ExpressionAttributeNames={"#u": "user"},
            Limit=6,
            ScanIndexForward=False,
            **({"ExclusiveStartKey": start} if start else {}),
        )
        seen += timestamps(page)
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert seen == list(range(14, -6, -1))


def test_index_pages_over_equal_index_keys(ddb, make_table):
    make_table(
        "Teams",
        ("pk", "S"),
        extra_definitions=[
            {"AttributeName": "team", "AttributeType": "S"},
            {"AttributeName": "rank", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_team",
                "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [
                    {"AttributeName": "team", "KeyType": "HASH"},
                    {"AttributeName": "rank", "KeyType": "RANGE"},
                ],
            }
        ],
    )
    for n in range(9):  # ranks repeat: the table key breaks the ties
        ddb.put_item(
            TableName="Teams", Item={"pk": {"S": f"p{n}"}, "team": {"S": "red"}, "rank": {"N": str(n % 3)}}
        )
    request = {
        "TableName": "Teams",
        "IndexName": "by_team",
        "KeyConditionExpression": "team = :t",
        "ExpressionAttributeValues": {":t": {"S": "red"}},
    }
    everything = [i["pk"]["S"] for i in ddb.query(**request)["Items"]]
    paged, start = [], None
    while True:
        page = ddb.query(**request, Limit=2, **({"ExclusiveStartKey": start} if start else {}))
        paged += [i["pk"]["S"] for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
        assert set(start) == {"pk", "team", "rank"}
    assert paged == everything and len(everything) == 9
    assert [int(i["rank"]["N"]) for i in ddb.query(**request)["Items"]] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    scanned, start = [], None
    while True:
        page = ddb.scan(
            TableName="Teams", IndexName="by_team", Limit=4, **({"ExclusiveStartKey": start} if start else {})
        )
        scanned += [i["pk"]["S"] for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert sorted(scanned) == sorted(everything)
