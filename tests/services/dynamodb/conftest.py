"""Shared helpers: a DynamoDB client and small table factories."""

import pytest


@pytest.fixture
def ddb(overcast):
    return overcast.client("dynamodb")


@pytest.fixture
def make_table(ddb):
    def make(name="Items", hash_key=("pk", "S"), range_key=None, **kwargs):
        definitions = [{"AttributeName": hash_key[0], "AttributeType": hash_key[1]}]
        schema = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
        if range_key:
            definitions.append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
            schema.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
        definitions += kwargs.pop("extra_definitions", [])
        kwargs.setdefault("BillingMode", "PAY_PER_REQUEST")
        ddb.create_table(TableName=name, KeySchema=schema, AttributeDefinitions=definitions, **kwargs)
        return name

    return make
