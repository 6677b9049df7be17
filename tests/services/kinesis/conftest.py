import time

import pytest

ACCOUNT = "000000000000"


@pytest.fixture
def kinesis(overcast):
    return overcast.client("kinesis")


def stream_arn(name: str, region: str = "us-east-1", account: str = ACCOUNT) -> str:
    return f"arn:aws:kinesis:{region}:{account}:stream/{name}"


@pytest.fixture
def stream(kinesis):
    """A provisioned stream 'events' with 2 shards."""
    kinesis.create_stream(StreamName="events", ShardCount=2)
    return "events"


def shard_ids(kinesis, name: str, **filters) -> list[str]:
    return [s["ShardId"] for s in kinesis.list_shards(StreamName=name, **filters)["Shards"]]


def read_shard(kinesis, name: str, shard_id: str, kind: str = "TRIM_HORIZON", max_calls: int = 50, **start):
    """Every record of a shard from `kind`, reading until the shard ends (closed) or GetRecords comes back empty
    with nothing behind; (records, the last GetRecords answer). Paced like a real consumer (5 reads/s)."""
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id, ShardIteratorType=kind, **start)[
        "ShardIterator"
    ]
    records, answer = [], {}
    for _ in range(max_calls):
        answer = kinesis.get_records(ShardIterator=iterator)
        records += answer["Records"]
        iterator = answer.get("NextShardIterator")
        if iterator is None or (not answer["Records"] and answer["MillisBehindLatest"] == 0):
            return records, answer
        time.sleep(0.21)
    raise AssertionError(f"{shard_id} did not end within {max_calls} reads")
