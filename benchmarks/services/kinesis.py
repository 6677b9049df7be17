"""Kinesis Data Streams' hot paths: PutRecord, GetRecords of 100 records, PutRecords of 500.

The same request is sent over and over, far above a shard's limits (1,000 records/s, 5 reads/s), which
Overcast enforces and the peers do not: each setup switches Overcast's throttling off first
(`POST /_overcast/kinesis/throttling`; the peers answer it with an error, which the runner only reports), so
every server is measured doing the work itself.
"""

from __future__ import annotations

import base64
import json

_TARGET = "Kinesis_20131202"


def _headers(action: str) -> dict[str, str]:
    return {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"{_TARGET}.{action}"}


def _call(action: str, body: dict, **extra) -> dict:
    return {
        "service": "kinesis",
        "method": "POST",
        "path": "/",
        "headers": _headers(action),
        "body": json.dumps(body),
        **extra,
    }


def _stream(name: str, shards: int = 1) -> list[dict]:
    """Throttling off (Overcast), the stream, and DescribeStreamSummary until it is ACTIVE."""
    return [
        {
            "service": "kinesis",
            "method": "POST",
            "path": "/_overcast/kinesis/throttling",
            "headers": {"Content-Type": "application/json"},
            "body": '{"enabled": false}',
        },
        _call("CreateStream", {"StreamName": name, "ShardCount": shards}),
        _call("DescribeStreamSummary", {"StreamName": name}, until='"StreamStatus": ?"ACTIVE"'),
    ]


_DATA = base64.b64encode(b'{"event": "click", "user": "user-42", "page": "/pricing"}').decode()
_RECORDS_500 = [{"Data": _DATA, "PartitionKey": f"user-{i}"} for i in range(500)]
_RECORDS_100 = [{"Data": _DATA, "PartitionKey": f"user-{i}"} for i in range(100)]

OPERATIONS: list[dict] = [
    {
        "name": "kinesis-put-record",
        "service": "kinesis",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": _headers("PutRecord"),
        "body": json.dumps({"StreamName": "overcast-bench-put", "Data": _DATA, "PartitionKey": "user-42"}),
        "setup": _stream("overcast-bench-put"),
        "expect": '"SequenceNumber"',
        "default": True,
        "target": 2.0,
    },
    {
        # The same iterator reads the same 100 records every time.
        "name": "kinesis-get-records-100",
        "service": "kinesis",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": _headers("GetRecords"),
        "body": '{"ShardIterator": "${iterator}", "Limit": 100}',
        "setup": [
            *_stream("overcast-bench-get"),
            _call("PutRecords", {"StreamName": "overcast-bench-get", "Records": _RECORDS_100}),
            _call(
                "GetShardIterator",
                {
                    "StreamName": "overcast-bench-get",
                    "ShardId": "shardId-000000000000",
                    "ShardIteratorType": "TRIM_HORIZON",
                },
                capture={"iterator": "ShardIterator"},
            ),
        ],
        "expect": '"PartitionKey": ?"user-99"',
        "default": True,
        "target": 2.0,
    },
    {
        "name": "kinesis-put-records-500",
        "service": "kinesis",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": _headers("PutRecords"),
        "body": json.dumps({"StreamName": "overcast-bench-batch", "Records": _RECORDS_500}),
        "setup": _stream("overcast-bench-batch", shards=4),
        "expect": '"FailedRecordCount": ?0',
        "default": True,
        "target": 2.0,
    },
]
