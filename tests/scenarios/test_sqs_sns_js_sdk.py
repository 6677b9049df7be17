"""The AWS SDK for JavaScript v3 against a real server: SQS (the JSON protocol, with the SDK's MD5 checks of
bodies and attributes on), a FIFO queue, batches and their per-entry failures, typed errors; SNS (query
protocol) fanning out to a queue with a filter policy."""

import pytest

from tests.js import run_node

pytestmark = pytest.mark.slow

PROGRAM = r"""
import { SQSClient, CreateQueueCommand, SendMessageCommand, ReceiveMessageCommand, DeleteMessageCommand,
  SendMessageBatchCommand, GetQueueAttributesCommand, GetQueueUrlCommand, QueueDoesNotExist }
  from "@aws-sdk/client-sqs";
import { SNSClient, CreateTopicCommand, SubscribeCommand, PublishCommand, NotFoundException }
  from "@aws-sdk/client-sns";

const config = { endpoint: process.env.OVERCAST_ENDPOINT, region: "us-east-1" };
const sqs = new SQSClient(config);  // md5 validation of responses is on by default
const sns = new SNSClient(config);
const out = {};

const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "js-queue" }));
await sqs.send(new SendMessageCommand({
  QueueUrl, MessageBody: "héllo from js",
  MessageAttributes: {
    kind: { DataType: "String", StringValue: "greeting" },
    blob: { DataType: "Binary", BinaryValue: new Uint8Array([1, 2, 3]) },
  },
}));
const received = await sqs.send(new ReceiveMessageCommand({
  QueueUrl, MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["ApproximateReceiveCount"],
  WaitTimeSeconds: 1,
}));
const message = received.Messages[0];
out.body = message.Body;
out.kind = message.MessageAttributes.kind.StringValue;
out.blob = [...message.MessageAttributes.blob.BinaryValue];
out.receiveCount = message.Attributes.ApproximateReceiveCount;
await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));

const batch = await sqs.send(new SendMessageBatchCommand({
  QueueUrl,
  Entries: [
    { Id: "ok", MessageBody: "fine" },
    { Id: "late", MessageBody: "too late", DelaySeconds: 901 },
  ],
}));
out.batchOk = batch.Successful.map((e) => e.Id);
out.batchFailed = batch.Failed.map((e) => [e.Id, e.Code, e.SenderFault]);

const fifo = (await sqs.send(new CreateQueueCommand({
  QueueName: "js-orders.fifo", Attributes: { FifoQueue: "true", ContentBasedDeduplication: "true" },
}))).QueueUrl;
for (const body of ["first", "second", "first"]) {
  await sqs.send(new SendMessageCommand({ QueueUrl: fifo, MessageBody: body, MessageGroupId: "g" }));
}
const ordered = await sqs.send(new ReceiveMessageCommand({ QueueUrl: fifo, MaxNumberOfMessages: 10 }));
out.fifo = ordered.Messages.map((m) => m.Body);

try {
  await sqs.send(new GetQueueUrlCommand({ QueueName: "missing" }));
} catch (error) {
  out.missingQueue = [error instanceof QueueDoesNotExist, error.name, error.$metadata.httpStatusCode];
}

const topic = (await sns.send(new CreateTopicCommand({ Name: "js-topic" }))).TopicArn;
const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
await sns.send(new SubscribeCommand({
  TopicArn: topic, Protocol: "sqs", Endpoint: Attributes.QueueArn,
  Attributes: { RawMessageDelivery: "true", FilterPolicy: JSON.stringify({ kind: ["order"] }) },
}));
await sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 0 }));  // drain "fine" below
for (const kind of ["order", "refund"]) {
  await sns.send(new PublishCommand({
    TopicArn: topic, Message: `a ${kind}`,
    MessageAttributes: { kind: { DataType: "String", StringValue: kind } },
  }));
}
const fanned = [];
for (let i = 0; i < 3; i++) {
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
  fanned.push(...(got.Messages || []).map((m) => m.Body));
}
out.fanned = fanned.sort();

try {
  await sns.send(new PublishCommand({ TopicArn: topic + "-missing", Message: "x" }));
} catch (error) {
  out.missingTopic = [error instanceof NotFoundException, error.name, error.$metadata.httpStatusCode];
}
console.log(JSON.stringify(out));
"""


def test_sqs_and_sns_through_the_javascript_sdk(overcast):
    out = run_node(overcast.endpoint, PROGRAM)
    assert out["body"] == "héllo from js"
    assert out["kind"] == "greeting" and out["blob"] == [1, 2, 3]
    assert out["receiveCount"] == "1"
    assert out["batchOk"] == ["ok"]
    assert out["batchFailed"] == [["late", "InvalidParameterValue", True]]
    assert out["fifo"] == ["first", "second"]
    assert out["missingQueue"] == [True, "QueueDoesNotExist", 400]
    assert out["fanned"] == ["a order", "fine"]
    assert out["missingTopic"] == [True, "NotFoundException", 404]
