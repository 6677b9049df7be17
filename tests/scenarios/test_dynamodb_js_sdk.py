"""The AWS SDK for JavaScript v3 against a real server: the `@aws-sdk/lib-dynamodb` document client (native
JavaScript values marshalled to attribute values and back), its errors, paginators, PartiQL and the streams
client."""

import pytest

from tests.js import run_node

pytestmark = pytest.mark.slow

PROGRAM = r"""
import { DynamoDBClient, CreateTableCommand, DescribeTableCommand, ConditionalCheckFailedException }
  from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand, GetCommand, UpdateCommand, QueryCommand, DeleteCommand,
  BatchWriteCommand, BatchGetCommand, TransactWriteCommand, ExecuteStatementCommand, paginateScan }
  from "@aws-sdk/lib-dynamodb";
import { DynamoDBStreamsClient, DescribeStreamCommand, GetShardIteratorCommand, GetRecordsCommand }
  from "@aws-sdk/client-dynamodb-streams";

const config = { endpoint: process.env.OVERCAST_ENDPOINT, region: "us-east-1" };
const client = new DynamoDBClient(config);
const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
const out = {};

const created = await client.send(new CreateTableCommand({
  TableName: "Posts",
  BillingMode: "PAY_PER_REQUEST",
  AttributeDefinitions: [
    { AttributeName: "user", AttributeType: "S" },
    { AttributeName: "at", AttributeType: "N" },
    { AttributeName: "topic", AttributeType: "S" },
  ],
  KeySchema: [{ AttributeName: "user", KeyType: "HASH" }, { AttributeName: "at", KeyType: "RANGE" }],
  GlobalSecondaryIndexes: [{
    IndexName: "byTopic",
    KeySchema: [{ AttributeName: "topic", KeyType: "HASH" }, { AttributeName: "at", KeyType: "RANGE" }],
    Projection: { ProjectionType: "ALL" },
  }],
  StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
}));
out.streamArn = created.TableDescription.LatestStreamArn;

await doc.send(new PutCommand({
  TableName: "Posts",
  Item: { user: "ann", at: 1, topic: "aws", text: "hello", tags: new Set(["a", "b"]),
          meta: { likes: 0, seen: [true, null, 2.5] }, version: 1, gone: undefined },
}));
out.got = (await doc.send(new GetCommand({ TableName: "Posts", Key: { user: "ann", at: 1 } }))).Item;
out.got.tags = [...out.got.tags].sort();

// optimistic locking: the second writer with the stale version fails with the SDK's modelled exception
const bump = (expected) => doc.send(new UpdateCommand({
  TableName: "Posts", Key: { user: "ann", at: 1 },
  UpdateExpression: "SET #v = :next, meta.likes = meta.likes + :one",
  ConditionExpression: "#v = :expected",
  ExpressionAttributeNames: { "#v": "version" },
  ExpressionAttributeValues: { ":next": expected + 1, ":expected": expected, ":one": 1 },
  ReturnValues: "ALL_NEW",
}));
out.updated = (await bump(1)).Attributes;
out.updated.tags = [...out.updated.tags].sort();
try {
  await bump(1);
  out.stale = "no error";
} catch (error) {
  out.stale = { name: error.name, isModelled: error instanceof ConditionalCheckFailedException,
                status: error.$metadata.httpStatusCode };
}

await doc.send(new BatchWriteCommand({ RequestItems: { Posts: [
  { PutRequest: { Item: { user: "ann", at: 2, topic: "aws", text: "second" } } },
  { PutRequest: { Item: { user: "ann", at: 3, topic: "cooking", text: "third" } } },
  { PutRequest: { Item: { user: "bob", at: 1, topic: "aws", text: "bob's" } } },
] } }));
out.query = (await doc.send(new QueryCommand({
  TableName: "Posts", KeyConditionExpression: "#u = :u AND #at BETWEEN :lo AND :hi",
  ExpressionAttributeNames: { "#u": "user", "#at": "at" },
  ExpressionAttributeValues: { ":u": "ann", ":lo": 2, ":hi": 3 }, ScanIndexForward: false,
}))).Items.map((item) => item.at);
out.byTopic = (await doc.send(new QueryCommand({
  TableName: "Posts", IndexName: "byTopic", KeyConditionExpression: "topic = :t",
  ExpressionAttributeValues: { ":t": "aws" },
}))).Items.map((item) => `${item.user}/${item.at}`).sort();
out.batchGet = (await doc.send(new BatchGetCommand({ RequestItems: { Posts: {
  Keys: [{ user: "ann", at: 2 }, { user: "bob", at: 1 }, { user: "nobody", at: 9 }],
} } }))).Responses.Posts.map((item) => item.text).sort();

const pages = [];
for await (const page of paginateScan({ client: doc, pageSize: 2 }, { TableName: "Posts", Limit: 2 })) {
  pages.push(page.Items.length);
}
out.scanPages = pages;

try {
  await doc.send(new TransactWriteCommand({ TransactItems: [
    { Put: { TableName: "Posts", Item: { user: "cat", at: 1, topic: "aws" } } },
    { ConditionCheck: { TableName: "Posts", Key: { user: "bob", at: 1 },
                        ConditionExpression: "attribute_not_exists(#u)",
                        ExpressionAttributeNames: { "#u": "user" } } },
  ] }));
  out.cancelled = "no error";
} catch (error) {
  out.cancelled = { name: error.name, reasons: error.CancellationReasons.map((r) => r.Code) };
}
out.catAfterCancel = (await doc.send(new GetCommand({ TableName: "Posts", Key: { user: "cat", at: 1 } }))).Item ?? null;

out.partiql = (await doc.send(new ExecuteStatementCommand({
  Statement: 'SELECT text FROM "Posts" WHERE "user" = ? AND "at" >= ?', Parameters: ["ann", 2],
}))).Items;

await doc.send(new DeleteCommand({ TableName: "Posts", Key: { user: "bob", at: 1 } }));

try {
  await doc.send(new GetCommand({ TableName: "Missing", Key: { user: "x", at: 1 } }));
} catch (error) {
  out.missingTable = { name: error.name, status: error.$metadata.httpStatusCode };
}

const streams = new DynamoDBStreamsClient(config);
const stream = await streams.send(new DescribeStreamCommand({ StreamArn: out.streamArn }));
const shard = stream.StreamDescription.Shards[0].ShardId;
const { ShardIterator } = await streams.send(new GetShardIteratorCommand({
  StreamArn: out.streamArn, ShardId: shard, ShardIteratorType: "TRIM_HORIZON",
}));
const records = await streams.send(new GetRecordsCommand({ ShardIterator }));
out.events = records.Records.map((r) => `${r.eventName}:${r.dynamodb.Keys.user.S}/${r.dynamodb.Keys.at.N}`);
out.firstImageText = records.Records[0].dynamodb.NewImage.text.S;
out.count = (await client.send(new DescribeTableCommand({ TableName: "Posts" }))).Table.ItemCount;
console.log(JSON.stringify(out));
"""


def test_document_client_end_to_end(overcast):
    out = run_node(overcast.endpoint, PROGRAM)
    assert out["got"] == {
        "user": "ann",
        "at": 1,
        "topic": "aws",
        "text": "hello",
        "tags": ["a", "b"],
        "meta": {"likes": 0, "seen": [True, None, 2.5]},
        "version": 1,
    }
    assert out["updated"]["version"] == 2 and out["updated"]["meta"]["likes"] == 1
    assert out["stale"] == {"name": "ConditionalCheckFailedException", "isModelled": True, "status": 400}
    assert out["query"] == [3, 2]
    assert out["byTopic"] == ["ann/1", "ann/2", "bob/1"]
    assert out["batchGet"] == ["bob's", "second"]
    assert sum(out["scanPages"]) == 4 and max(out["scanPages"]) <= 2
    assert out["cancelled"] == {
        "name": "TransactionCanceledException",
        "reasons": ["None", "ConditionalCheckFailed"],
    }
    assert out["catAfterCancel"] is None
    assert out["partiql"] == [{"text": "second"}, {"text": "third"}]
    assert out["missingTable"] == {"name": "ResourceNotFoundException", "status": 400}
    assert out["events"] == [
        "INSERT:ann/1",
        "MODIFY:ann/1",
        "INSERT:ann/2",
        "INSERT:ann/3",
        "INSERT:bob/1",
        "REMOVE:bob/1",
    ]
    assert out["firstImageText"] == "hello"
    assert out["count"] == 3
