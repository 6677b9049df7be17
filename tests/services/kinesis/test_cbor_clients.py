"""Kinesis as the Java SDKs and the KCL speak it: awsJson with CBOR bodies (application/x-amz-cbor-1.1)."""

import urllib.error
import urllib.request

import cbor2

from tests.helpers import signed_headers

CBOR = "application/x-amz-cbor-1.1"


def call(overcast, operation: str, params: dict) -> tuple[int, dict, str]:
    body = cbor2.dumps(params)
    url = overcast.endpoint + "/"
    headers = {"Content-Type": CBOR, "X-Amz-Target": f"Kinesis_20131202.{operation}"}
    request = urllib.request.Request(
        url, data=body, method="POST", headers=signed_headers("POST", url, body, "kinesis", headers)
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, cbor2.loads(response.read()), response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        return error.code, cbor2.loads(error.read()), error.headers["Content-Type"]


def test_put_and_get_records_in_cbor(overcast):
    overcast.client("kinesis").create_stream(StreamName="cbor-stream", ShardCount=1)
    status, put, content_type = call(
        overcast, "PutRecord", {"StreamName": "cbor-stream", "Data": b"\x00\xffbinary", "PartitionKey": "k"}
    )
    assert status == 200 and content_type == CBOR and put["ShardId"] == "shardId-000000000000"
    _, iterator, _ = call(
        overcast,
        "GetShardIterator",
        {"StreamName": "cbor-stream", "ShardId": put["ShardId"], "ShardIteratorType": "TRIM_HORIZON"},
    )
    _, records, _ = call(overcast, "GetRecords", {"ShardIterator": iterator["ShardIterator"]})
    record = records["Records"][0]
    assert record["Data"] == b"\x00\xffbinary"  # raw bytes in CBOR, not base64
    assert record["SequenceNumber"] == put["SequenceNumber"]
    assert record["ApproximateArrivalTimestamp"].year >= 2020  # a CBOR epoch time


def test_errors_in_cbor(overcast):
    status, error, content_type = call(overcast, "DescribeStream", {"StreamName": "no-such-stream"})
    assert status == 400 and content_type == CBOR
    assert error["__type"] == "ResourceNotFoundException" and "no-such-stream" in error["message"]
