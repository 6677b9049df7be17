"""AWS/Kinesis stream-level metrics that puts and reads publish to CloudWatch, read back as users read them."""

import datetime
import json
import urllib.request


def _clock(overcast) -> float:
    with urllib.request.urlopen(overcast.endpoint + "/_overcast/clock", timeout=30) as response:
        return json.loads(response.read())["epoch"]


def test_incoming_and_outgoing_records_by_stream(overcast, kinesis):
    kinesis.create_stream(StreamName="metered", ShardCount=1)
    kinesis.put_record(StreamName="metered", Data=b"12345", PartitionKey="k")  # 6 bytes with its key
    kinesis.put_records(
        StreamName="metered",
        Records=[{"Data": b"abc", "PartitionKey": "k"}, {"Data": b"", "PartitionKey": "kk"}],
    )
    overcast.advance_clock(5)
    shard = kinesis.list_shards(StreamName="metered")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName="metered", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )
    assert len(kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=2)["Records"]) == 2
    started = _clock(overcast)
    overcast.advance_clock(61)

    cloudwatch = overcast.client("cloudwatch")

    def stat(name: str, kind: str) -> float:
        found = cloudwatch.get_metric_statistics(
            Namespace="AWS/Kinesis",
            MetricName=name,
            Dimensions=[{"Name": "StreamName", "Value": "metered"}],
            StartTime=datetime.datetime.fromtimestamp(started - 120, datetime.UTC),
            EndTime=datetime.datetime.fromtimestamp(started + 120, datetime.UTC),
            Period=300,
            Statistics=[kind],
        )["Datapoints"]
        assert len(found) == 1, (name, found)
        return found[0][kind]

    assert stat("IncomingRecords", "Sum") == 3
    assert stat("IncomingRecords", "SampleCount") == 2  # one sample per put request
    assert stat("IncomingBytes", "Sum") == 6 + 4 + 2
    assert stat("PutRecord.Success", "Sum") == 1
    assert stat("PutRecord.Bytes", "Sum") == 6
    assert stat("PutRecords.TotalRecords", "Sum") == 2
    assert stat("PutRecords.SuccessfulRecords", "Sum") == 2
    assert stat("PutRecords.FailedRecords", "Sum") == 0
    assert stat("GetRecords.Records", "Sum") == 2
    assert stat("GetRecords.Bytes", "Sum") == 6 + 4
    assert stat("GetRecords.Success", "SampleCount") == 1
    assert stat("GetRecords.IteratorAgeMilliseconds", "Maximum") >= 5000  # the records read were 5 s old
    assert 0 < stat("PutRecord.Latency", "Maximum") < 30_000
    listed = cloudwatch.list_metrics(Namespace="AWS/Kinesis", MetricName="IncomingBytes")["Metrics"]
    assert listed == [
        {
            "Namespace": "AWS/Kinesis",
            "MetricName": "IncomingBytes",
            "Dimensions": [{"Name": "StreamName", "Value": "metered"}],
        }
    ]
