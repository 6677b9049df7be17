"""Optional throttling of provisioned tables: buckets of provisioned units per second with 300 seconds of
burst, on the virtual clock; on-demand tables are never throttled."""

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.helpers import code_of, error_of, message_of

KB = 1024
BIG = 349 * KB + 1000  # 350 write units, 88 read units consistent, 44 eventually consistent
# The clock runs on in real time between requests (refilling a unit per second at 1 unit/s), so each refusal
# below comes after a bucket went into debt by many seconds' worth, never at its edge.


@pytest.fixture
def throttled(overcast):
    assert overcast._internal("POST", "/_overcast/dynamodb/throttling", {"enabled": True}) == {
        "enabled": True
    }
    try:
        # No SDK retries: a throttled request is seen at once, not retried with real sleeps.
        yield overcast.client("dynamodb", config=Config(retries={"total_max_attempts": 1}))
    finally:
        overcast._internal("POST", "/_overcast/dynamodb/throttling", {"enabled": False})


def create(client, name, read=1, write=1, **kwargs):
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}]
        + kwargs.pop("extra_definitions", []),
        **(
            {"BillingMode": "PAY_PER_REQUEST"}
            if read is None
            else {"ProvisionedThroughput": {"ReadCapacityUnits": read, "WriteCapacityUnits": write}}
        ),
        **kwargs,
    )


def big_item(key):
    return {"pk": {"S": key}, "d": {"S": "x" * (BIG - 3 - len(key))}}


def refused(call, *args, **kwargs) -> ClientError:
    """The error a call that must fail raised."""
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    return raised.value


def test_writes_beyond_burst_capacity_are_throttled_until_the_clock_refills(overcast, throttled):
    create(throttled, "Slow", read=1, write=1)
    # 1 WCU holds 300 units of burst: a 350-unit write leaves the bucket 50 in debt, the next one is refused.
    consumed = throttled.put_item(TableName="Slow", Item=big_item("a"), ReturnConsumedCapacity="TOTAL")
    assert consumed["ConsumedCapacity"] == {"TableName": "Slow", "CapacityUnits": 350.0}
    error = refused(throttled.put_item, TableName="Slow", Item={"pk": {"S": "small"}})
    assert error_of(error) == ("ProvisionedThroughputExceededException", 400)
    assert "provisioned throughput for the table was exceeded" in message_of(error)
    assert "Item" not in throttled.get_item(TableName="Slow", Key={"pk": {"S": "small"}})  # reads still fine
    overcast.advance_clock("53s")  # out of debt, a few units to spend
    throttled.put_item(TableName="Slow", Item={"pk": {"S": "small"}})
    assert "ConsumedCapacity" not in throttled.put_item(TableName="Slow", Item=big_item("b"))
    refused(throttled.put_item, TableName="Slow", Item={"pk": {"S": "third"}})


def test_reads_are_throttled_per_table_and_updating_throughput_helps(overcast, throttled):
    create(throttled, "Reads", read=1, write=400)
    throttled.put_item(TableName="Reads", Item=big_item("a"))
    for _ in range(4):  # 88 units each, 300 of burst
        throttled.get_item(TableName="Reads", Key={"pk": {"S": "a"}}, ConsistentRead=True)
    error = refused(throttled.get_item, TableName="Reads", Key={"pk": {"S": "a"}})
    assert code_of(error) == "ProvisionedThroughputExceededException"
    refused(throttled.scan, TableName="Reads")
    throttled.update_table(
        TableName="Reads", ProvisionedThroughput={"ReadCapacityUnits": 100, "WriteCapacityUnits": 400}
    )
    overcast.advance_clock("1s")
    assert throttled.get_item(TableName="Reads", Key={"pk": {"S": "a"}})["Item"]["pk"] == {"S": "a"}


def test_gsi_throughput_is_its_own(overcast, throttled):
    create(
        throttled,
        "Indexed",
        read=1000,
        write=1000,
        extra_definitions=[{"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            }
        ],
    )
    throttled.put_item(TableName="Indexed", Item={**big_item("a"), "g": {"S": "x"}})
    error = refused(throttled.put_item, TableName="Indexed", Item={"pk": {"S": "b"}})
    assert code_of(error) == "ProvisionedThroughputExceededException"
    assert "global secondary indexes" in message_of(error)
    # The table's own reads are unaffected; queries on the index spend the index's read units.
    throttled.get_item(TableName="Indexed", Key={"pk": {"S": "a"}})
    for _ in range(7):  # eventually consistent: 44 units each, 300 of burst
        throttled.query(
            TableName="Indexed",
            IndexName="byG",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "x"}},
        )
    error = refused(
        throttled.query,
        TableName="Indexed",
        IndexName="byG",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "x"}},
    )
    assert "global secondary indexes" in message_of(error)


def test_on_demand_tables_batches_and_transactions(overcast, throttled):
    create(throttled, "OnDemand", read=None)
    for n in range(3):
        throttled.put_item(TableName="OnDemand", Item=big_item(f"i{n}"))
    create(throttled, "Tiny", read=1, write=1)
    throttled.batch_write_item(RequestItems={"Tiny": [{"PutRequest": {"Item": big_item("a")}}]})
    error = refused(
        throttled.batch_write_item, RequestItems={"Tiny": [{"PutRequest": {"Item": {"pk": {"S": "b"}}}}]}
    )
    assert code_of(error) == "ProvisionedThroughputExceededException"
    error = refused(
        throttled.transact_write_items,
        TransactItems=[
            {"Put": {"TableName": "OnDemand", "Item": {"pk": {"S": "ok"}}}},
            {"Put": {"TableName": "Tiny", "Item": {"pk": {"S": "b"}}}},
        ],
    )
    assert code_of(error) == "ProvisionedThroughputExceededException"
    assert "Item" not in throttled.get_item(TableName="OnDemand", Key={"pk": {"S": "ok"}})


def test_throttling_is_off_by_default(overcast):
    client = overcast.client("dynamodb")
    create(client, "Free", read=1, write=1)
    for n in range(3):
        client.put_item(TableName="Free", Item=big_item(f"i{n}"))
    assert overcast._internal("GET", "/_overcast/dynamodb/throttling") == {"enabled": False}
