"""PartiQL: ExecuteStatement, BatchExecuteStatement, ExecuteTransaction."""

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def games(ddb, make_table):
    make_table(
        "demo_indexes",
        ("user_id", "S"),
        ("game_ts", "S"),
        extra_definitions=[{"AttributeName": "game_id", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_game",
                "KeySchema": [{"AttributeName": "game_id", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    for user, ts, game in [
        ("123", "2021-01-01", "g1"),
        ("123", "2021-02-01", "g2"),
        ("456", "2021-01-05", "g1"),
    ]:
        ddb.execute_statement(
            Statement=f"INSERT INTO \"demo_indexes\" VALUE {{'user_id': '{user}', 'game_ts': '{ts}', "
            f"'game_id': '{game}', 'score': 10, 'tags': <<'a', 'b'>>}}"
        )
    return "demo_indexes"


def test_select_scan_and_key_lookup(ddb, games):
    everything = ddb.execute_statement(Statement='SELECT * FROM "demo_indexes"')["Items"]
    assert len(everything) == 3
    one = ddb.execute_statement(
        Statement='SELECT * FROM "demo_indexes" WHERE "user_id" = \'123\' AND "game_ts" = \'2021-02-01\''
    )["Items"]
    assert [i["game_id"]["S"] for i in one] == ["g2"]
    assert one[0]["score"] == {"N": "10"} and sorted(one[0]["tags"]["SS"]) == ["a", "b"]
    projected = ddb.execute_statement(
        Statement='SELECT game_ts FROM "demo_indexes" WHERE user_id = ?', Parameters=[{"S": "123"}]
    )["Items"]
    assert projected == [{"game_ts": {"S": "2021-01-01"}}, {"game_ts": {"S": "2021-02-01"}}]


def test_select_on_an_index_with_filters(ddb, games):
    found = ddb.execute_statement(
        Statement="SELECT user_id FROM \"demo_indexes\".\"by_game\" WHERE game_id = 'g1' AND begins_with(game_ts, '2021-01')"
    )
    assert sorted(i["user_id"]["S"] for i in found["Items"]) == ["123", "456"]


def test_select_pages_with_limit(ddb, games):
    first = ddb.execute_statement(Statement='SELECT * FROM "demo_indexes"', Limit=2)
    assert len(first["Items"]) == 2 and first["NextToken"]
    rest = ddb.execute_statement(
        Statement='SELECT * FROM "demo_indexes"', Limit=2, NextToken=first["NextToken"]
    )
    assert len(rest["Items"]) == 1 and "NextToken" not in rest


def test_update_and_delete(ddb, games):
    ddb.execute_statement(
        Statement="UPDATE \"demo_indexes\" SET score = score + 5 SET note = 'x' REMOVE tags "
        "WHERE user_id = '123' AND game_ts = '2021-01-01'"
    )
    item = ddb.get_item(
        TableName="demo_indexes", Key={"user_id": {"S": "123"}, "game_ts": {"S": "2021-01-01"}}
    )["Item"]
    assert item["score"] == {"N": "15"} and item["note"] == {"S": "x"} and "tags" not in item
    with pytest.raises(ClientError) as raised:
        ddb.execute_statement(
            Statement="DELETE FROM \"demo_indexes\" WHERE user_id = '123' AND game_ts = '2021-01-01' "
            "AND score > 100"
        )
    assert raised.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    ddb.execute_statement(
        Statement="DELETE FROM \"demo_indexes\" WHERE user_id = '123' AND game_ts = '2021-01-01'"
    )
    assert len(ddb.execute_statement(Statement='SELECT * FROM "demo_indexes"')["Items"]) == 2


def test_insert_duplicate_and_malformed(ddb, games):
    with pytest.raises(ClientError) as raised:
        ddb.execute_statement(
            Statement="INSERT INTO \"demo_indexes\" VALUE {'user_id': '123', 'game_ts': '2021-01-01'}"
        )
    assert raised.value.response["Error"]["Code"] == "DuplicateItemException"
    with pytest.raises(ClientError) as raised:
        ddb.execute_statement(Statement="SELEKT * FROM x")
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_batch_execute_statement_reports_each_outcome(ddb, games):
    result = ddb.batch_execute_statement(
        Statements=[
            {
                "Statement": 'SELECT * FROM "demo_indexes" WHERE user_id = ? AND game_ts = ?',
                "Parameters": [{"S": "456"}, {"S": "2021-01-05"}],
            },
            {"Statement": "INSERT INTO \"demo_indexes\" VALUE {'user_id': '123', 'game_ts': '2021-01-01'}"},
            {"Statement": "INSERT INTO \"demo_indexes\" VALUE {'user_id': '789', 'game_ts': '2021-03-01'}"},
        ]
    )["Responses"]
    assert result[0]["Item"]["game_id"] == {"S": "g1"}
    assert result[1]["Error"]["Code"] == "DuplicateItem"
    assert result[2] == {"TableName": "demo_indexes"}


def test_execute_transaction_is_all_or_nothing(ddb, games):
    with pytest.raises(ClientError) as raised:
        ddb.execute_transaction(
            TransactStatements=[
                {"Statement": "INSERT INTO \"demo_indexes\" VALUE {'user_id': 'new', 'game_ts': 't'}"},
                {
                    "Statement": "UPDATE \"demo_indexes\" SET score = 0 WHERE user_id = '123' AND game_ts = '2021-01-01' AND score = 99"
                },
            ]
        )
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in raised.value.response["CancellationReasons"]] == [
        "None",
        "ConditionalCheckFailed",
    ]
    assert "Item" not in ddb.get_item(
        TableName="demo_indexes", Key={"user_id": {"S": "new"}, "game_ts": {"S": "t"}}
    )
    ddb.execute_transaction(
        TransactStatements=[
            {"Statement": "INSERT INTO \"demo_indexes\" VALUE {'user_id': 'new', 'game_ts': 't'}"},
            {
                "Statement": "UPDATE \"demo_indexes\" SET score = 0 WHERE user_id = '123' AND game_ts = '2021-01-01'"
            },
        ]
    )
    reads = ddb.execute_transaction(
        TransactStatements=[
            {
                "Statement": "SELECT score FROM \"demo_indexes\" WHERE user_id = '123' AND game_ts = '2021-01-01'"
            }
        ]
    )
    assert reads["Responses"] == [{"Item": {"score": {"N": "0"}}}]
