"""The kit's delivery to Kinesis and Firehose targets (what SNS, Logs, EventBridge and Pipes use) builds
requests these services accept, and the records arrive."""

import asyncio
import json

from overcast.services.kit.delivery import Sender, deliver
from tests.services.kinesis.conftest import read_shard, stream_arn


def run(overcast, coroutine):
    return asyncio.run_coroutine_threadsafe(coroutine, overcast._server.loop).result(timeout=30)


def test_delivery_to_a_kinesis_stream(overcast, kinesis, stream):
    sender = Sender(
        "logs.amazonaws.com", "000000000000", source_arn="arn:aws:logs:us-east-1:000000000000:log-group:g"
    )
    answer = run(
        overcast, deliver(overcast.platform, stream_arn(stream), b'{"event": 1}', sender, partition_key="g")
    )
    records, _ = read_shard(kinesis, stream, answer["ShardId"])
    assert [(r["Data"], r["PartitionKey"]) for r in records] == [(b'{"event": 1}', "g")]


def test_delivery_to_a_firehose_delivery_stream(overcast):
    s3, firehose = overcast.client("s3"), overcast.client("firehose")
    s3.create_bucket(Bucket="kit-target")
    arn = firehose.create_delivery_stream(
        DeliveryStreamName="kit",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::000000000000:role/firehose",
            "BucketARN": "arn:aws:s3:::kit-target",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60},
        },
    )["DeliveryStreamARN"]
    sender = Sender("sns.amazonaws.com", "000000000000", source_arn="arn:aws:sns:us-east-1:000000000000:t")
    answer = run(overcast, deliver(overcast.platform, arn, json.dumps({"Message": "hi"}), sender))
    assert answer["RecordId"]
    overcast.advance_clock(61)
    from tests.waiting import wait_for

    keys = wait_for(lambda: [o["Key"] for o in s3.list_objects_v2(Bucket="kit-target").get("Contents", [])])
    assert s3.get_object(Bucket="kit-target", Key=keys[0])["Body"].read() == b'{"Message": "hi"}'
