"""Imports from S3: a new table filled from DynamoDB JSON (as exports write it) or CSV objects."""

import gzip
import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of
from tests.waiting import wait_for

KEYS = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "n", "AttributeType": "N"},
    ],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def _finished(ddb, arn):
    def status():
        found = ddb.describe_import(ImportArn=arn)["ImportTableDescription"]
        return found if found["ImportStatus"] != "IN_PROGRESS" else None

    return wait_for(status, timeout=20)


@pytest.fixture
def s3(overcast):
    client = overcast.client("s3")
    client.create_bucket(Bucket="seed")
    return client


def test_dynamodb_json_gzip_import(ddb, s3):
    lines = [
        {"Item": {"pk": {"S": "a"}, "n": {"N": "1"}, "blob": {"B": "AAE="}, "tags": {"SS": ["x"]}}},
        {"Item": {"pk": {"S": "a"}, "n": {"N": "2"}}},
        {"Item": {"n": {"N": "3"}}},  # no partition key: an error, not an item
    ]
    body = gzip.compress("".join(json.dumps(line) + "\n" for line in lines).encode() + b"not json\n")
    s3.put_object(Bucket="seed", Key="data/part-1.json.gz", Body=body)
    started = ddb.import_table(
        S3BucketSource={"S3Bucket": "seed", "S3KeyPrefix": "data/"},
        InputFormat="DYNAMODB_JSON",
        InputCompressionType="GZIP",
        TableCreationParameters={"TableName": "Seeded", **KEYS},
    )["ImportTableDescription"]
    table = ddb.describe_table(TableName="Seeded")["Table"]  # the table exists at once
    assert started["TableArn"] == table["TableArn"] and started["ImportArn"].startswith(
        f"{table['TableArn']}/import/"
    )
    done = _finished(ddb, started["ImportArn"])
    assert done["ImportStatus"] == "COMPLETED" and done["EndTime"]
    assert (done["ProcessedItemCount"], done["ImportedItemCount"], done["ErrorCount"]) == (4, 2, 2)
    item = ddb.get_item(TableName="Seeded", Key={"pk": {"S": "a"}, "n": {"N": "1"}})["Item"]
    assert item["blob"] == {"B": b"\x00\x01"} and item["tags"] == {"SS": ["x"]}
    assert ddb.describe_table(TableName="Seeded")["Table"]["ItemCount"] == 2
    listed = ddb.list_imports(TableArn=table["TableArn"])["ImportSummaryList"]
    assert [(s["ImportArn"], s["ImportStatus"]) for s in listed] == [(started["ImportArn"], "COMPLETED")]


def test_csv_import_types_the_keys(ddb, s3):
    s3.put_object(Bucket="seed", Key="people.csv", Body=b"pk;n;name\nann;7;Ann\nbob;8;\n")
    started = ddb.import_table(
        S3BucketSource={"S3Bucket": "seed", "S3KeyPrefix": "people"},
        InputFormat="CSV",
        InputFormatOptions={"Csv": {"Delimiter": ";"}},
        TableCreationParameters={"TableName": "People", **KEYS},
    )["ImportTableDescription"]
    assert _finished(ddb, started["ImportArn"])["ImportedItemCount"] == 2
    assert ddb.get_item(TableName="People", Key={"pk": {"S": "ann"}, "n": {"N": "7"}})["Item"] == {
        "pk": {"S": "ann"},
        "n": {"N": "7"},
        "name": {"S": "Ann"},
    }
    assert "name" not in ddb.get_item(TableName="People", Key={"pk": {"S": "bob"}, "n": {"N": "8"}})["Item"]


def test_import_failures(ddb):
    started = ddb.import_table(
        S3BucketSource={"S3Bucket": "no-such-bucket"},
        InputFormat="DYNAMODB_JSON",
        TableCreationParameters={"TableName": "Nowhere", **KEYS},
    )["ImportTableDescription"]
    failed = _finished(ddb, started["ImportArn"])
    assert failed["ImportStatus"] == "FAILED" and failed["FailureCode"] == "NoSuchBucket"
    with pytest.raises(ClientError) as raised:  # the table name is taken now
        ddb.import_table(
            S3BucketSource={"S3Bucket": "no-such-bucket"},
            InputFormat="DYNAMODB_JSON",
            TableCreationParameters={"TableName": "Nowhere", **KEYS},
        )
    assert code_of(raised) == "ResourceInUseException"
