"""Kinesis streams polled by Lambda: records in order per shard, across a reshard, a failing batch bisected to
its poison record which goes to an SQS on-failure destination (the notes' story), filters, checkpoints."""

import json

from tests.waiting import wait_for

RECORDER = """
import base64, json, os
def handler(event, context):
    with open(os.environ["OUT"], "a") as out:
        for record in event["Records"]:
            data = base64.b64decode(record["kinesis"]["data"]).decode()
            out.write(json.dumps({"data": data, "key": record["kinesis"]["partitionKey"],
                                  "source": record["eventSource"], "id": record["eventID"]}) + "\\n")
            if data == "poison":
                raise RuntimeError("cannot process " + data)
"""


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def stream(overcast, name: str, shards: int = 1) -> str:
    kinesis = overcast.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def test_records_reach_the_function_in_order_across_a_split(overcast, lam, make_function, tmp_path):
    out = tmp_path / "out.jsonl"
    make_function("kin-reader", RECORDER, Environment={"Variables": {"OUT": str(out)}})
    arn = stream(overcast, "kin-ordered")
    kinesis = overcast.client("kinesis")
    mapping = lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="kin-reader", StartingPosition="TRIM_HORIZON", BatchSize=10
    )
    assert mapping["StartingPosition"] == "TRIM_HORIZON" and mapping["BatchSize"] == 10
    for i in range(5):
        kinesis.put_record(StreamName="kin-ordered", Data=f"before-{i}".encode(), PartitionKey="k")
    shard = kinesis.list_shards(StreamName="kin-ordered")["Shards"][0]
    middle = str((int(shard["HashKeyRange"]["EndingHashKey"]) + 1) // 2)
    kinesis.split_shard(StreamName="kin-ordered", ShardToSplit=shard["ShardId"], NewStartingHashKey=middle)
    for i in range(5):
        kinesis.put_record(StreamName="kin-ordered", Data=f"after-{i}".encode(), PartitionKey="k")
    wait_for(lambda: len(lines(out)) >= 10)
    seen = [entry["data"] for entry in lines(out)]
    assert seen == [f"before-{i}" for i in range(5)] + [f"after-{i}" for i in range(5)]  # one key: in order
    first = lines(out)[0]
    assert first["source"] == "aws:kinesis" and first["id"].startswith(shard["ShardId"] + ":")


def test_a_poison_record_is_bisected_out_to_the_on_failure_queue(overcast, lam, make_function, tmp_path):
    out = tmp_path / "out.jsonl"
    make_function("kin-poisoned", RECORDER, Environment={"Variables": {"OUT": str(out)}})
    sqs = overcast.client("sqs")
    dlq = sqs.create_queue(QueueName="kin-failures")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    arn = stream(overcast, "kin-poison")
    kinesis = overcast.client("kinesis")
    for data in ("a", "b", "poison", "c"):
        kinesis.put_record(StreamName="kin-poison", Data=data.encode(), PartitionKey="p")
    lam.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName="kin-poisoned",
        StartingPosition="TRIM_HORIZON",
        BatchSize=4,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": dlq_arn}},
    )
    failures = []

    def failure_arrived():
        failures.extend(sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages", []))
        return failures

    wait_for(failure_arrived)
    record = json.loads(failures[0]["Body"])
    info = record["KinesisBatchInfo"]
    assert info["batchSize"] == 1 and info["streamArn"] == arn
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    poisoned = kinesis.get_records(
        ShardIterator=kinesis.get_shard_iterator(
            StreamName="kin-poison",
            ShardId=info["shardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=info["startSequenceNumber"],
        )["ShardIterator"],
        Limit=1,
    )["Records"][0]
    assert poisoned["Data"] == b"poison"
    wait_for(lambda: {"a", "b", "c"} <= {entry["data"] for entry in lines(out)})


def test_latest_starts_after_what_exists_and_filters_apply(overcast, lam, make_function, tmp_path):
    out = tmp_path / "out.jsonl"
    make_function("kin-latest", RECORDER, Environment={"Variables": {"OUT": str(out)}})
    arn = stream(overcast, "kin-latest", shards=2)
    kinesis = overcast.client("kinesis")
    kinesis.put_record(StreamName="kin-latest", Data=b'{"kind": "old"}', PartitionKey="x")
    lam.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName="kin-latest",
        StartingPosition="LATEST",
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"kind": ["wanted"]}})}]},
    )
    for kind in ("skipped", "wanted", "skipped", "wanted"):
        kinesis.put_record(
            StreamName="kin-latest", Data=json.dumps({"kind": kind}).encode(), PartitionKey=kind
        )
    wait_for(lambda: len(lines(out)) >= 2)
    assert {json.loads(entry["data"])["kind"] for entry in lines(out)} == {"wanted"}
