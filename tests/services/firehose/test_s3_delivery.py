"""Delivery to S3: buffering by size and interval on the virtual clock, key layout and prefixes, compression,
Lambda transformation, dynamic partitioning, error output, retries, a Kinesis stream as source, durability."""

import base64
import gzip
import io
import json
import re
import signal
import struct
import time
import urllib.request
import zipfile
from datetime import UTC, datetime

import pytest
from awscrt import checksums

from overcast.services import is_available
from tests.server_process import ServerProcess
from tests.services.firehose.conftest import BUCKET, ROLE, delivered, objects, s3_destination, zipped
from tests.waiting import wait_for

KEY_LAYOUT = re.compile(
    r"^(\d{4})/(\d{2})/(\d{2})/(\d{2})/(.+)-1-(\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})-[0-9a-f-]{36}$"
)

TRANSFORM = """
import base64, json
def handler(event, context):
    out = []
    for record in event["records"]:
        body = json.loads(base64.b64decode(record["data"]))
        if body.get("drop"):
            out.append({"recordId": record["recordId"], "result": "Dropped", "data": record["data"]})
        elif body.get("bad"):
            out.append({"recordId": record["recordId"], "result": "ProcessingFailed", "data": record["data"]})
        else:
            body["seen_by"] = event["deliveryStreamArn"].rsplit("/", 1)[1]
            data = base64.b64encode((json.dumps(body) + "\\n").encode()).decode()
            out.append({"recordId": record["recordId"], "result": "Ok", "data": data})
    return {"records": out}
"""


def test_buffering_by_interval_into_the_default_key_layout(overcast, firehose, s3):
    firehose.create_delivery_stream(
        DeliveryStreamName="logs",
        ExtendedS3DestinationConfiguration=s3_destination(
            BufferingHints={"SizeInMBs": 5, "IntervalInSeconds": 60}
        ),
    )
    for i in range(3):
        firehose.put_record(DeliveryStreamName="logs", Record={"Data": f"line {i}\n".encode()})
    firehose.put_record_batch(
        DeliveryStreamName="logs", Records=[{"Data": b"line 3\n"}, {"Data": b"line 4\n"}]
    )
    time.sleep(0.3)
    assert objects(s3) == {}  # nothing before the buffering interval has passed
    overcast.advance_clock(61)
    ((key, body),) = delivered(s3).items()
    assert body == b"".join(f"line {i}\n".encode() for i in range(5))
    match = KEY_LAYOUT.match(key)
    assert match and match.group(5) == "logs"
    now = datetime.now(UTC)
    assert match.group(1) == f"{now.year:04d}"


def test_buffering_by_size_delivers_without_waiting(firehose, s3):
    firehose.create_delivery_stream(
        DeliveryStreamName="bulk",
        ExtendedS3DestinationConfiguration=s3_destination(
            BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 900}
        ),
    )
    chunk = b"x" * (300 * 1024)
    firehose.put_record_batch(DeliveryStreamName="bulk", Records=[{"Data": chunk} for _ in range(4)])
    found = delivered(s3)
    assert sum(len(body) for body in found.values()) >= 1024 * 1024


def test_the_notes_story_transformation_drops_records_under_a_timestamp_prefix(overcast, firehose, s3):
    if not is_available("lambda"):
        pytest.skip("no Lambda service in this Overcast")
    function = overcast.client("lambda").create_function(
        FunctionName="cleanup",
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/lambda-role",
        Handler="app.handler",
        Code={"ZipFile": zipped(TRANSFORM)},
        Timeout=30,
    )["FunctionArn"]
    firehose.create_delivery_stream(
        DeliveryStreamName="events",
        ExtendedS3DestinationConfiguration=s3_destination(
            Prefix="events/!{timestamp:yyyy/MM/dd}/",
            ErrorOutputPrefix="errors/!{firehose:error-output-type}/",
            BufferingHints={"SizeInMBs": 5, "IntervalInSeconds": 60},
            ProcessingConfiguration={
                "Enabled": True,
                "Processors": [
                    {
                        "Type": "Lambda",
                        "Parameters": [{"ParameterName": "LambdaArn", "ParameterValue": function}],
                    }
                ],
            },
        ),
    )
    records = [{"id": i, "drop": i % 3 == 0, "bad": i == 4} for i in range(9)]
    firehose.put_record_batch(
        DeliveryStreamName="events", Records=[{"Data": json.dumps(r).encode()} for r in records]
    )
    overcast.advance_clock(61)
    found = delivered(s3, count=2, timeout=60)
    today = datetime.now(UTC).strftime("%Y/%m/%d")
    data_keys = [k for k in found if k.startswith(f"events/{today}/events-1-")]
    error_keys = [k for k in found if k.startswith("errors/processing-failed/events-1-")]
    assert len(data_keys) == 1 and len(error_keys) == 1, sorted(found)
    kept = [json.loads(line) for line in found[data_keys[0]].decode().splitlines()]
    assert [r["id"] for r in kept] == [1, 2, 5, 7, 8]
    assert all(r["seen_by"] == "events" for r in kept)
    (failure,) = [json.loads(line) for line in found[error_keys[0]].decode().splitlines()]
    assert failure["errorCode"] == "Lambda.ProcessingFailed"
    assert json.loads(base64.b64decode(failure["rawData"]))["id"] == 4
    assert failure["lambdaArn"] == function


def read_framed_snappy(body: bytes) -> bytes:
    """The Snappy framing format's reader (uncompressed chunks), checking every chunk's masked CRC32C."""
    assert body[:10] == b"\xff\x06\x00\x00sNaPpY"
    out, at = b"", 10
    while at < len(body):
        kind, length = body[at], int.from_bytes(body[at + 1 : at + 4], "little")
        crc, data = struct.unpack("<I", body[at + 4 : at + 8])[0], body[at + 8 : at + 4 + length]
        assert kind == 0x01
        raw = checksums.crc32c(data)
        assert crc == (((raw >> 15) | (raw << 17)) + 0xA282EAD8) & 0xFFFFFFFF
        out += data
        at += 4 + length
    return out


@pytest.mark.parametrize("fmt", ["GZIP", "ZIP", "Snappy"])
def test_compression(overcast, firehose, s3, fmt):
    firehose.create_delivery_stream(
        DeliveryStreamName=f"packed-{fmt.lower()}",
        ExtendedS3DestinationConfiguration=s3_destination(
            CompressionFormat=fmt, BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 60}
        ),
    )
    payload = b"".join(f"row {i}\n".encode() for i in range(1000))
    firehose.put_record(DeliveryStreamName=f"packed-{fmt.lower()}", Record={"Data": payload})
    overcast.advance_clock(61)
    ((key, body),) = delivered(s3).items()
    if fmt == "GZIP":
        assert key.endswith(".gz") and gzip.decompress(body) == payload
    elif fmt == "ZIP":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            assert key.endswith(".zip") and archive.read(archive.namelist()[0]) == payload
    else:
        assert key.endswith(".snappy") and read_framed_snappy(body) == payload


def test_dynamic_partitioning_with_a_jq_query(overcast, firehose, s3):
    firehose.create_delivery_stream(
        DeliveryStreamName="tenants",
        ExtendedS3DestinationConfiguration=s3_destination(
            Prefix="customer=!{partitionKeyFromQuery:customer}/year=!{partitionKeyFromQuery:year}/",
            ErrorOutputPrefix="failed/!{firehose:error-output-type}/",
            BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 60},
            DynamicPartitioningConfiguration={"Enabled": True},
            ProcessingConfiguration={
                "Enabled": True,
                "Processors": [
                    {
                        "Type": "MetadataExtraction",
                        "Parameters": [
                            {
                                "ParameterName": "MetadataExtractionQuery",
                                "ParameterValue": "{customer: .customer.id, year: .date.year}",
                            },
                            {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"},
                        ],
                    },
                    {
                        "Type": "AppendDelimiterToRecord",
                        "Parameters": [{"ParameterName": "Delimiter", "ParameterValue": "\\n"}],
                    },
                ],
            },
        ),
    )
    rows = [
        {"customer": {"id": "acme"}, "date": {"year": 2024}, "n": 1},
        {"customer": {"id": "globex"}, "date": {"year": 2024}, "n": 2},
        {"customer": {"id": "acme"}, "date": {"year": 2025}, "n": 3},
        {"customer": {"id": "acme"}, "date": {"year": 2024}, "n": 4},
        {"no": "customer"},
    ]
    firehose.put_record_batch(
        DeliveryStreamName="tenants", Records=[{"Data": json.dumps(r).encode()} for r in rows]
    )
    overcast.advance_clock(61)
    found = delivered(s3, count=4)
    by_prefix = {key.rsplit("/", 1)[0]: body for key, body in found.items()}
    assert set(by_prefix) == {
        "customer=acme/year=2024",
        "customer=globex/year=2024",
        "customer=acme/year=2025",
        "failed/partitioning-failed",
    }
    assert [json.loads(line)["n"] for line in by_prefix["customer=acme/year=2024"].splitlines()] == [1, 4]
    (failure,) = by_prefix["failed/partitioning-failed"].splitlines()
    assert json.loads(base64.b64decode(json.loads(failure)["rawData"])) == {"no": "customer"}


def test_a_delivery_that_fails_is_retried_until_the_bucket_takes_it(overcast, firehose):
    s3 = overcast.client("s3")
    firehose.create_delivery_stream(
        DeliveryStreamName="patient",
        ExtendedS3DestinationConfiguration=s3_destination(
            BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 60}
        ),
    )
    firehose.put_record(DeliveryStreamName="patient", Record={"Data": b"kept until delivered"})
    overcast.advance_clock(61)
    time.sleep(0.5)  # the first attempt meets no bucket
    s3.create_bucket(Bucket=BUCKET)
    found = {}
    for _ in range(20):  # each advance lets a retry come due
        overcast.advance_clock(120)
        found = objects(s3)
        if found:
            break
        time.sleep(0.2)
    assert list(found.values()) == [b"kept until delivered"]


def test_a_kinesis_stream_as_source(overcast, firehose, s3):
    kinesis = overcast.client("kinesis")
    kinesis.create_stream(StreamName="source", ShardCount=2)
    kinesis.put_record(StreamName="source", Data=b"before the delivery stream\n", PartitionKey="k")
    firehose.create_delivery_stream(
        DeliveryStreamName="from-kinesis",
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={
            "KinesisStreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/source",
            "RoleARN": ROLE,
        },
        ExtendedS3DestinationConfiguration=s3_destination(
            BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 60}
        ),
    )
    time.sleep(0.05)
    sent = [f"event {i}\n".encode() for i in range(10)]
    for data in sent:
        kinesis.put_record(StreamName="source", Data=data, PartitionKey="same-key")
    expected = b"".join(sent)

    def all_delivered():  # each advance makes the buffer due; the reader may take a few polls
        overcast.advance_clock(61)
        found = objects(s3)
        body = b"".join(found.values())  # each flush at a later (virtual) time
        return body if len(body) >= len(expected) else None

    body = wait_for(all_delivered, timeout=30, interval=0.5)
    assert body == expected  # one key: one shard, in order; nothing from before the delivery stream


def test_buffered_records_survive_kill_9(tmp_path):
    server = ServerProcess(tmp_path / "data")
    try:
        server.client("s3").create_bucket(Bucket=BUCKET)
        firehose = server.client("firehose")
        firehose.create_delivery_stream(
            DeliveryStreamName="durable",
            ExtendedS3DestinationConfiguration=s3_destination(
                BufferingHints={"SizeInMBs": 5, "IntervalInSeconds": 300}
            ),
        )
        firehose.put_record_batch(DeliveryStreamName="durable", Records=[{"Data": b"a"}, {"Data": b"b"}])
    finally:
        server.stop(signal.SIGKILL)
    server = ServerProcess(tmp_path / "data")
    try:
        request = urllib.request.Request(
            server.endpoint + "/_overcast/clock", data=json.dumps({"advance": "301"}).encode(), method="POST"
        )
        urllib.request.urlopen(request, timeout=10).read()
        s3 = server.client("s3")
        assert list(delivered(s3).values()) == [b"ab"]
    finally:
        server.stop()


def test_backup_keeps_the_source_records_beside_the_transformed_ones(overcast, firehose, s3):
    if not is_available("lambda"):
        pytest.skip("no Lambda service in this Overcast")
    s3.create_bucket(Bucket="backup-bucket")
    function = overcast.client("lambda").create_function(
        FunctionName="cleanup",
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/lambda-role",
        Handler="app.handler",
        Code={"ZipFile": zipped(TRANSFORM)},
        Timeout=30,
    )["FunctionArn"]
    firehose.create_delivery_stream(
        DeliveryStreamName="kept",
        ExtendedS3DestinationConfiguration=s3_destination(
            BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 60},
            ProcessingConfiguration={
                "Enabled": True,
                "Processors": [
                    {
                        "Type": "Lambda",
                        "Parameters": [{"ParameterName": "LambdaArn", "ParameterValue": function}],
                    }
                ],
            },
            S3BackupMode="Enabled",
            S3BackupConfiguration={
                "RoleARN": ROLE,
                "BucketARN": "arn:aws:s3:::backup-bucket",
                "Prefix": "source/",
            },
        ),
    )
    described = firehose.describe_delivery_stream(DeliveryStreamName="kept")["DeliveryStreamDescription"]
    backup = described["Destinations"][0]["ExtendedS3DestinationDescription"]["S3BackupDescription"]
    assert backup["BucketARN"] == "arn:aws:s3:::backup-bucket" and backup["Prefix"] == "source/"
    sent = [json.dumps({"id": i, "drop": i == 1}).encode() for i in range(3)]
    firehose.put_record_batch(DeliveryStreamName="kept", Records=[{"Data": d} for d in sent])
    overcast.advance_clock(61)
    (transformed,) = delivered(s3, timeout=60).values()
    assert [json.loads(line)["id"] for line in transformed.splitlines()] == [0, 2]
    ((key, original),) = delivered(s3, bucket="backup-bucket").items()
    assert key.startswith("source/") and original == b"".join(sent)
