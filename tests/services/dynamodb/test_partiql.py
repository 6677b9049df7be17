"""PartiQL: ExecuteStatement, BatchExecuteStatement, ExecuteTransaction."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of


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
    with pytest.raises(ClientError) as raised:
        ddb.execute_statement(Statement='SELECT * FROM "demo_indexes"', Limit=2, NextToken="not-a-token")
    assert error_of(raised) == ("ValidationException", 400)
    assert message_of(raised) == "Invalid NextToken"


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


def _key(user, ts):
    return {"user_id": {"S": user}, "game_ts": {"S": ts}}


def test_update_with_list_append_set_add_set_delete_and_returning(ddb, games):
    where = "WHERE user_id = '123' AND game_ts = '2021-01-01'"
    ddb.execute_statement(Statement=f'UPDATE "demo_indexes" SET history = [1] {where}')
    returned = ddb.execute_statement(
        Statement='UPDATE "demo_indexes" SET history = list_append(history, [2, 3]) '
        f"SET tags = set_add(tags, <<'c'>>) {where} RETURNING MODIFIED NEW *"
    )["Items"]
    assert len(returned) == 1 and set(returned[0]) == {"history", "tags"}
    assert returned[0]["history"] == {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}]}
    assert sorted(returned[0]["tags"]["SS"]) == ["a", "b", "c"]
    old = ddb.execute_statement(
        Statement=f'UPDATE "demo_indexes" SET tags = set_delete(tags, ?) {where} RETURNING ALL OLD *',
        Parameters=[{"SS": ["a", "b", "c"]}],
    )["Items"][0]
    assert old["game_id"] == {"S": "g1"} and sorted(old["tags"]["SS"]) == ["a", "b", "c"]
    item = ddb.get_item(TableName="demo_indexes", Key=_key("123", "2021-01-01"))["Item"]
    assert "tags" not in item  # deleting every member removes the set, as DELETE does
    new = ddb.execute_statement(
        Statement=f'UPDATE "demo_indexes" SET score = score + 1 {where} RETURNING ALL NEW *'
    )["Items"]
    assert new == [item | {"score": {"N": "11"}}]
    modified_old = ddb.execute_statement(
        Statement=f'UPDATE "demo_indexes" SET score = 0 {where} RETURNING MODIFIED OLD *'
    )["Items"]
    assert modified_old == [{"score": {"N": "11"}}]
    with pytest.raises(ClientError) as raised:
        ddb.execute_statement(Statement=f'UPDATE "demo_indexes" SET score = list_append(score, [1]) {where}')
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as raised:
        ddb.execute_statement(
            Statement=f"UPDATE \"demo_indexes\" SET history = set_add(other, <<'x'>>) {where}"
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as raised:
        ddb.execute_statement(Statement=f'DELETE FROM "demo_indexes" {where} RETURNING ALL NEW *')
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_delete_returning_and_deleting_a_missing_item(ddb, games):
    gone = ddb.execute_statement(
        Statement="DELETE FROM \"demo_indexes\" WHERE user_id = '456' AND game_ts = '2021-01-05' "
        "RETURNING ALL OLD *"
    )["Items"]
    assert [i["game_id"] for i in gone] == [{"S": "g1"}]
    # No item with that key: success, nothing deleted (AWS answers SUCCESS with 0 items deleted).
    again = ddb.execute_statement(
        Statement="DELETE FROM \"demo_indexes\" WHERE user_id = '456' AND game_ts = '2021-01-05' AND score > 1"
    )
    assert again["Items"] == []
    # UPDATE of a missing item is a failed condition.
    with pytest.raises(ClientError) as raised:
        ddb.execute_statement(
            Statement="UPDATE \"demo_indexes\" SET score = 1 WHERE user_id = '456' AND game_ts = '2021-01-05'"
        )
    assert raised.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_select_order_by_sort_key(ddb, games):
    ddb.execute_statement(
        Statement="INSERT INTO \"demo_indexes\" VALUE {'user_id': '123', 'game_ts': '2021-03-01', 'game_id': 'g3'}"
    )
    statement = "SELECT game_ts FROM \"demo_indexes\" WHERE user_id = '123' ORDER BY game_ts DESC"
    descending = ddb.execute_statement(Statement=statement)["Items"]
    assert [i["game_ts"]["S"] for i in descending] == ["2021-03-01", "2021-02-01", "2021-01-01"]
    first = ddb.execute_statement(Statement=statement, Limit=2)
    rest = ddb.execute_statement(Statement=statement, Limit=2, NextToken=first["NextToken"])
    assert [i["game_ts"]["S"] for i in first["Items"] + rest["Items"]] == [
        "2021-03-01",
        "2021-02-01",
        "2021-01-01",
    ]
    ascending = ddb.execute_statement(
        Statement="SELECT game_ts FROM \"demo_indexes\" WHERE user_id = '123' ORDER BY game_ts ASC"
    )["Items"]
    assert [i["game_ts"]["S"] for i in ascending] == ["2021-01-01", "2021-02-01", "2021-03-01"]
    for bad in (
        'SELECT * FROM "demo_indexes" ORDER BY game_ts',  # no partition key condition
        "SELECT * FROM \"demo_indexes\" WHERE user_id = '123' ORDER BY score",  # not the sort key
    ):
        with pytest.raises(ClientError) as raised:
            ddb.execute_statement(Statement=bad)
        assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_exists_is_a_condition_check_in_transactions(ddb, games):
    exists = "EXISTS(SELECT * FROM \"demo_indexes\" WHERE user_id = '456' AND game_ts = '2021-01-05' AND score = ?)"
    insert = "INSERT INTO \"demo_indexes\" VALUE {'user_id': 'tx', 'game_ts': 't'}"
    with pytest.raises(ClientError) as raised:
        ddb.execute_transaction(
            TransactStatements=[{"Statement": insert}, {"Statement": exists, "Parameters": [{"N": "99"}]}]
        )
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in raised.value.response["CancellationReasons"]] == [
        "None",
        "ConditionalCheckFailed",
    ]
    assert "Item" not in ddb.get_item(TableName="demo_indexes", Key=_key("tx", "t"))
    ddb.execute_transaction(
        TransactStatements=[{"Statement": insert}, {"Statement": exists, "Parameters": [{"N": "10"}]}]
    )
    assert "Item" in ddb.get_item(TableName="demo_indexes", Key=_key("tx", "t"))
    with pytest.raises(ClientError) as raised:
        ddb.execute_statement(Statement=exists, Parameters=[{"N": "10"}])
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_execute_transaction_refuses_two_statements_on_one_item(ddb, games):
    with pytest.raises(ClientError) as raised:
        ddb.execute_transaction(
            TransactStatements=[
                {
                    "Statement": "UPDATE \"demo_indexes\" SET a = 1 WHERE user_id = '123' AND game_ts = '2021-01-01'"
                },
                {
                    "Statement": "DELETE FROM \"demo_indexes\" WHERE user_id = '123' AND game_ts = '2021-01-01'"
                },
            ]
        )
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == "Transaction request cannot include multiple operations on one item"
    item = ddb.get_item(TableName="demo_indexes", Key=_key("123", "2021-01-01"))["Item"]
    assert "a" not in item
