"""The AWS SDK for JavaScript v3 against a real server: a Kinesis stream written with partition keys and
read back through GetShardIterator/GetRecords, PutRecords' per-record answers, typed errors.

The SDK's Kinesis client talks HTTP/2 by default (for SubscribeToShard), which Overcast's server does not
speak yet: the program gives it the SDK's own HTTP/1.1 handler, the one change it needs."""

import pytest

from tests.js import run_node

pytestmark = pytest.mark.slow

PROGRAM = r"""
import { KinesisClient, CreateStreamCommand, PutRecordCommand, PutRecordsCommand, ListShardsCommand,
  GetShardIteratorCommand, GetRecordsCommand, DescribeStreamSummaryCommand, ResourceNotFoundException,
  waitUntilStreamExists } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";

const kinesis = new KinesisClient({
  endpoint: process.env.OVERCAST_ENDPOINT, region: "us-east-1", requestHandler: new NodeHttpHandler(),
});
const out = {};
await kinesis.send(new CreateStreamCommand({ StreamName: "js-stream", ShardCount: 2 }));
await waitUntilStreamExists({ client: kinesis, maxWaitTime: 20 }, { StreamName: "js-stream" });
const encoder = new TextEncoder();
const put = await kinesis.send(new PutRecordCommand({
  StreamName: "js-stream", PartitionKey: "user_123", Data: encoder.encode("user signed up"),
}));
out.putShard = put.ShardId;
out.sequenceLength = put.SequenceNumber.length;
const batch = await kinesis.send(new PutRecordsCommand({
  StreamName: "js-stream",
  Records: [1, 2, 3].map((i) => ({ PartitionKey: "user_123", Data: encoder.encode(`event ${i}`) })),
}));
out.failed = batch.FailedRecordCount;
const iterator = (await kinesis.send(new GetShardIteratorCommand({
  StreamName: "js-stream", ShardId: put.ShardId, ShardIteratorType: "TRIM_HORIZON",
}))).ShardIterator;
const read = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
const decoder = new TextDecoder();
out.data = read.Records.map((r) => decoder.decode(r.Data));
out.firstSequence = read.Records[0].SequenceNumber === put.SequenceNumber;
out.arrival = read.Records[0].ApproximateArrivalTimestamp instanceof Date;
out.behind = read.MillisBehindLatest;
out.shards = (await kinesis.send(new ListShardsCommand({ StreamName: "js-stream" }))).Shards.length;
out.open = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: "js-stream" })))
  .StreamDescriptionSummary.OpenShardCount;
try {
  await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: "missing" }));
} catch (error) {
  out.missing = [error instanceof ResourceNotFoundException, error.message];
}
console.log(JSON.stringify(out));
"""


def test_kinesis_with_the_js_sdk(overcast):
    out = run_node(overcast.endpoint, PROGRAM)
    assert out["sequenceLength"] == 56
    assert out["failed"] == 0
    assert out["data"] == ["user signed up", "event 1", "event 2", "event 3"]
    assert out["firstSequence"] is True and out["arrival"] is True and out["behind"] == 0
    assert out["shards"] == 2 and out["open"] == 2
    assert out["missing"] == [True, "Stream missing under account 000000000000 not found."]
