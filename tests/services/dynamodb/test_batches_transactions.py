"""BatchGetItem, BatchWriteItem, TransactWriteItems, TransactGetItems."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of, message_of


def key(n):
    return {"pk": {"S": f"k{n}"}}


def test_batch_write_then_batch_get(ddb, make_table):
    make_table("Aaa")
    make_table("Bbb")
    ddb.batch_write_item(
        RequestItems={
            "Aaa": [{"PutRequest": {"Item": {**key(n), "v": {"N": str(n)}}}} for n in range(10)],
            "Bbb": [{"PutRequest": {"Item": key(1)}}],
        }
    )
    ddb.batch_write_item(RequestItems={"Aaa": [{"DeleteRequest": {"Key": key(0)}}]})
    result = ddb.batch_get_item(
        RequestItems={
            "Aaa": {"Keys": [key(n) for n in range(3)], "ProjectionExpression": "v"},
            "Bbb": {"Keys": [key(1)], "ConsistentRead": True},
        },
        ReturnConsumedCapacity="TOTAL",
    )
    assert sorted(i["v"]["N"] for i in result["Responses"]["Aaa"]) == ["1", "2"]
    assert result["Responses"]["Bbb"] == [key(1)]
    assert result["UnprocessedKeys"] == {}
    consumed = {c["TableName"]: c["CapacityUnits"] for c in result["ConsumedCapacity"]}
    assert consumed == {"Aaa": 1.5, "Bbb": 1.0}


def test_batch_limits(ddb, make_table):
    make_table("Aaa")
    with pytest.raises(ClientError) as raised:
        ddb.batch_write_item(RequestItems={"Aaa": [{"PutRequest": {"Item": key(n)}} for n in range(26)]})
    assert code_of(raised) == "ValidationException"
    with pytest.raises(ClientError) as raised:
        ddb.batch_get_item(RequestItems={"Aaa": {"Keys": [key(n) for n in range(101)]}})
    assert code_of(raised) == "ValidationException"
    with pytest.raises(ClientError) as raised:
        ddb.batch_write_item(
            RequestItems={"Aaa": [{"PutRequest": {"Item": key(1)}}, {"DeleteRequest": {"Key": key(1)}}]}
        )
    assert message_of(raised) == "Provided list of item keys contains duplicates"


def test_batch_get_over_sixteen_megabytes_returns_unprocessed_keys(ddb, make_table):
    make_table("Big")
    blob = "x" * 399_000
    for start in range(0, 50, 25):
        ddb.batch_write_item(
            RequestItems={
                "Big": [
                    {"PutRequest": {"Item": {**key(n), "d": {"S": blob}}}} for n in range(start, start + 25)
                ]
            }
        )
    result = ddb.batch_get_item(RequestItems={"Big": {"Keys": [key(n) for n in range(50)]}})
    got = len(result["Responses"]["Big"])
    assert 40 <= got < 50
    assert len(result["UnprocessedKeys"]["Big"]["Keys"]) == 50 - got


def bank(ddb, make_table):
    make_table("Accounts")
    make_table("History")
    ddb.put_item(TableName="Accounts", Item={"pk": {"S": "alice"}, "balance": {"N": "100"}})


def transfer(ddb, amount, token=None):
    kwargs = {"ClientRequestToken": token} if token else {}
    return ddb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": "Accounts",
                    "Key": {"pk": {"S": "alice"}},
                    "UpdateExpression": "SET balance = balance - :amt",
                    "ConditionExpression": "balance >= :amt",
                    "ExpressionAttributeValues": {":amt": {"N": str(amount)}},
                }
            },
            {
                "Put": {
                    "TableName": "History",
                    "Item": {"pk": {"S": f"tx-{amount}"}, "amount": {"N": str(amount)}},
                }
            },
        ],
        ReturnConsumedCapacity="TOTAL",
        **kwargs,
    )


def balance(ddb):
    return ddb.get_item(TableName="Accounts", Key={"pk": {"S": "alice"}})["Item"]["balance"]["N"]


def test_transaction_all_or_nothing(ddb, make_table):
    bank(ddb, make_table)
    done = transfer(ddb, 30)
    assert {c["TableName"]: c["CapacityUnits"] for c in done["ConsumedCapacity"]} == {
        "Accounts": 2.0,
        "History": 2.0,
    }
    assert balance(ddb) == "70"
    with pytest.raises(ClientError) as raised:
        transfer(ddb, 500)
    assert code_of(raised) == "TransactionCanceledException"
    reasons = raised.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["ConditionalCheckFailed", "None"]
    assert "[ConditionalCheckFailed, None]" in message_of(raised)
    assert balance(ddb) == "70"
    assert "Item" not in ddb.get_item(TableName="History", Key={"pk": {"S": "tx-500"}})


def test_transaction_client_token_is_idempotent_for_ten_minutes(overcast, ddb, make_table):
    bank(ddb, make_table)
    transfer(ddb, 10, token="same")
    transfer(ddb, 10, token="same")
    assert balance(ddb) == "90"
    with pytest.raises(ClientError) as raised:
        transfer(ddb, 20, token="same")
    assert code_of(raised) == "IdempotentParameterMismatchException"
    overcast.advance_clock("11m")
    transfer(ddb, 10, token="same")
    assert balance(ddb) == "80"


def test_transaction_refuses_two_operations_on_one_item(ddb, make_table):
    bank(ddb, make_table)
    with pytest.raises(ClientError) as raised:
        ddb.transact_write_items(
            TransactItems=[
                {"Delete": {"TableName": "Accounts", "Key": {"pk": {"S": "alice"}}}},
                {
                    "ConditionCheck": {
                        "TableName": "Accounts",
                        "Key": {"pk": {"S": "alice"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    assert message_of(raised) == "Transaction request cannot include multiple operations on one item"


def test_transact_get_items(ddb, make_table):
    bank(ddb, make_table)
    result = ddb.transact_get_items(
        TransactItems=[
            {
                "Get": {
                    "TableName": "Accounts",
                    "Key": {"pk": {"S": "alice"}},
                    "ProjectionExpression": "balance",
                }
            },
            {"Get": {"TableName": "Accounts", "Key": {"pk": {"S": "nobody"}}}},
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert result["Responses"] == [{"Item": {"balance": {"N": "100"}}}, {}]
    assert result["ConsumedCapacity"] == [{"TableName": "Accounts", "CapacityUnits": 4.0}]


def test_transaction_of_more_than_four_megabytes_is_refused(ddb, make_table):
    make_table("Large")
    blob = "x" * 390_000
    with pytest.raises(ClientError) as raised:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "Large", "Item": {**key(n), "d": {"S": blob}}}} for n in range(11)
            ]
        )
    assert code_of(raised) == "ValidationException"
    assert ddb.scan(TableName="Large")["Count"] == 0
