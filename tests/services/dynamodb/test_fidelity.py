"""DynamoDB as AWS answers it (issues 13 and 14): nesting and expression limits with AWS's texts, bodies AWS
cannot decode, CreateTable's required members, DescribeTable's WarmThroughput and TableClassSummary,
transactions, BatchWriteItem's key text, stream iterators and Contributor Insights."""

import json
import urllib.error
import urllib.request

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of

NESTING = (
    "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported "
    "limit"
)


def raw(server, target: str, body: str) -> tuple[int, dict]:
    """A signed DynamoDB request with a body written by hand (what the SDKs would refuse to send)."""
    data = body.encode()
    headers = {"X-Amz-Target": f"DynamoDB_20120810.{target}", "Content-Type": "application/x-amz-json-1.0"}
    signed = AWSRequest(method="POST", url=f"{server.endpoint}/", data=data, headers=headers)
    SigV4Auth(Credentials("test", "test"), "dynamodb", "us-east-1").add_auth(signed)
    request = urllib.request.Request(f"{server.endpoint}/", data=data, headers=dict(signed.headers.items()))
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def nested(levels: int) -> dict:
    value: dict = {"S": "leaf"}
    for _ in range(levels):
        value = {"M": {"a": value}}
    return value


def test_maps_nested_past_32_levels_are_refused(ddb, make_table):
    make_table()
    ddb.put_item(TableName="Items", Item={"pk": {"S": "ok"}, "doc": nested(31)})
    assert ddb.get_item(TableName="Items", Key={"pk": {"S": "ok"}})["Item"]["doc"] == nested(31)
    for levels in (32, 40):
        with pytest.raises(ClientError) as raised:
            ddb.put_item(TableName="Items", Item={"pk": {"S": "deep"}, "doc": nested(levels)})
        assert (error_of(raised), message_of(raised)) == (("ValidationException", 400), NESTING)


def test_deeply_parenthesized_expression_is_refused_with_aws_text(ddb, make_table):
    make_table()
    expression = "(" * 244 + "attribute_not_exists(pk)" + ")" * 244
    with pytest.raises(ClientError) as raised:
        ddb.put_item(TableName="Items", Item={"pk": {"S": "p"}}, ConditionExpression=expression)
    assert error_of(raised) == ("ValidationException", 400)
    assert message_of(raised) == "Invalid ConditionExpression: The expression has redundant parentheses;"
    ddb.put_item(  # one pair around the whole condition is fine
        TableName="Items", Item={"pk": {"S": "p"}}, ConditionExpression="(attribute_not_exists(pk))"
    )


def test_lone_surrogate_is_a_400_not_a_500(overcast, make_table):
    make_table()
    status, body = raw(overcast, "PutItem", '{"TableName":"Items","Item":{"pk":{"S":"\\ud800"}}}')
    assert (status, body["__type"]) == (400, "SerializationException")


def test_create_table_without_key_schema(overcast):
    body = json.dumps(
        {
            "TableName": "NoKeys",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }
    )
    status, answer = raw(overcast, "CreateTable", body)
    assert (status, answer["__type"]) == (400, "ValidationException")
    assert answer["message"] == (
        "1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_describe_table_warm_throughput_and_table_class(ddb, make_table):
    make_table("OnDemand")
    table = ddb.describe_table(TableName="OnDemand")["Table"]
    assert table["WarmThroughput"] == {
        "ReadUnitsPerSecond": 12000,
        "WriteUnitsPerSecond": 4000,
        "Status": "ACTIVE",
    }
    assert "TableClassSummary" not in table
    make_table(
        "Provisioned",
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 3},
        TableClass="STANDARD_INFREQUENT_ACCESS",
    )
    table = ddb.describe_table(TableName="Provisioned")["Table"]
    assert table["WarmThroughput"] == {"ReadUnitsPerSecond": 7, "WriteUnitsPerSecond": 3, "Status": "ACTIVE"}
    assert table["TableClassSummary"] == {"TableClass": "STANDARD_INFREQUENT_ACCESS"}
    insights = ddb.describe_contributor_insights(TableName="OnDemand")
    assert insights["ContributorInsightsStatus"] == "DISABLED" and insights["TableName"] == "OnDemand"
    with pytest.raises(ClientError) as raised:
        ddb.describe_contributor_insights(TableName="Missing")
    assert error_of(raised) == ("ResourceNotFoundException", 400)


def test_transactions_and_batch_key_text(ddb, make_table):
    make_table()
    written = ddb.execute_transaction(
        TransactStatements=[{"Statement": "INSERT INTO Items VALUE {'pk': 'a', 'n': 1}"}]
    )
    assert written["Responses"] == []
    items = [{"Put": {"TableName": "Items", "Item": {"pk": {"S": "t"}, "x": {"S": "1"}, "y": {"S": "2"}}}}]
    ddb.transact_write_items(TransactItems=items, ClientRequestToken="same")
    reordered = [
        {"Put": {"TableName": "Items", "Item": {"y": {"S": "2"}, "x": {"S": "1"}, "pk": {"S": "t"}}}}
    ]
    ddb.transact_write_items(TransactItems=reordered, ClientRequestToken="same")  # the same request
    with pytest.raises(ClientError) as raised:
        ddb.batch_write_item(RequestItems={"Items": [{"PutRequest": {"Item": {"other": {"S": "1"}}}}]})
    assert message_of(raised) == "The provided key element does not match the schema"


def test_stream_shard_iterators_look_like_aws(ddb, make_table, overcast):
    make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    arn = ddb.describe_table(TableName="Items")["Table"]["LatestStreamArn"]
    streams = overcast.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    assert iterator["ShardIterator"].startswith(f"{arn}|1|")
    assert streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"] == []
