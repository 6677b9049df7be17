"""Records: routing by the MD5 of the partition key, sequence numbers, PutRecords' per-record results, size
limits, every iterator type, expiry on the virtual clock, retention, throughput limits, durability."""

import hashlib
import signal
import time
from datetime import UTC, datetime

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.server_process import ServerProcess
from tests.services.kinesis.conftest import ACCOUNT, read_shard, stream_arn

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def shard_for_key(kinesis, name: str, key: str) -> str:
    value = int.from_bytes(hashlib.md5(key.encode()).digest(), "big")
    for shard in kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"]:
        hashes = shard["HashKeyRange"]
        if int(hashes["StartingHashKey"]) <= value <= int(hashes["EndingHashKey"]):
            return shard["ShardId"]
    raise AssertionError("no shard holds the key")


def test_put_and_get_a_record(kinesis, stream):
    put = kinesis.put_record(StreamName=stream, Data=b"user signed up", PartitionKey="user_123")
    assert put["ShardId"] == shard_for_key(kinesis, stream, "user_123")
    assert put["SequenceNumber"].isdigit() and len(put["SequenceNumber"]) == 56
    assert "EncryptionType" not in put  # AWS names it only for KMS streams
    records, answer = read_shard(kinesis, stream, put["ShardId"])
    assert len(records) == 1
    record = records[0]
    assert record["SequenceNumber"] == put["SequenceNumber"]
    assert record["Data"] == b"user signed up" and record["PartitionKey"] == "user_123"
    assert abs((record["ApproximateArrivalTimestamp"] - datetime.now(UTC)).total_seconds()) < 60
    assert "EncryptionType" not in record
    assert answer["MillisBehindLatest"] == 0 and "NextShardIterator" in answer


def test_the_same_partition_key_always_lands_on_the_same_shard_in_order(kinesis):
    kinesis.create_stream(StreamName="routed", ShardCount=4)
    placed: dict[str, list[tuple[str, str]]] = {}
    for i in range(40):
        key = f"device-{i % 8}"
        put = kinesis.put_record(StreamName="routed", Data=f"{key}:{i}".encode(), PartitionKey=key)
        assert put["ShardId"] == shard_for_key(kinesis, "routed", key)
        placed.setdefault(put["ShardId"], []).append((put["SequenceNumber"], f"{key}:{i}"))
    assert len(placed) > 1
    for shard, puts in placed.items():
        numbers = [int(n) for n, _ in puts]
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
        records, _ = read_shard(kinesis, "routed", shard)
        assert [(r["SequenceNumber"], r["Data"].decode()) for r in records] == puts


def test_explicit_hash_keys_choose_the_shard(kinesis, stream):
    low = kinesis.put_record(StreamName=stream, Data=b"a", PartitionKey="k", ExplicitHashKey="0")
    high = kinesis.put_record(StreamName=stream, Data=b"b", PartitionKey="k", ExplicitHashKey=str(2**128 - 1))
    assert (low["ShardId"], high["ShardId"]) == ("shardId-000000000000", "shardId-000000000001")
    with pytest.raises(ClientError) as raised:
        kinesis.put_record(StreamName=stream, Data=b"c", PartitionKey="k", ExplicitHashKey=str(2**128))
    assert error_of(raised) == ("InvalidArgumentException", 400)
    assert message_of(raised) == (
        "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was "
        f"{2**128}"
    )


def test_sequence_number_for_ordering(kinesis, stream):
    first = kinesis.put_record(StreamName=stream, Data=b"1", PartitionKey="k")
    second = kinesis.put_record(
        StreamName=stream, Data=b"2", PartitionKey="k", SequenceNumberForOrdering=first["SequenceNumber"]
    )
    assert int(second["SequenceNumber"]) > int(first["SequenceNumber"])
    with pytest.raises(ClientError) as raised:
        kinesis.put_record(StreamName=stream, Data=b"3", PartitionKey="k", SequenceNumberForOrdering="12345")
    assert message_of(raised) == (
        f"ExclusiveMinimumSequenceNumber 12345 used in PutRecord on stream {stream} under account {ACCOUNT} is "
        "invalid."
    )


def test_put_records_answers_per_record_in_order(kinesis, stream):
    entries = [{"Data": f"r{i}".encode(), "PartitionKey": f"p{i}"} for i in range(20)]
    answer = kinesis.put_records(StreamARN=stream_arn(stream), Records=entries)
    assert answer["FailedRecordCount"] == 0 and "EncryptionType" not in answer
    assert len(answer["Records"]) == 20
    for i, result in enumerate(answer["Records"]):
        assert result["ShardId"] == shard_for_key(kinesis, stream, f"p{i}")
        assert set(result) == {"SequenceNumber", "ShardId"}
    stored = []
    for shard in ("shardId-000000000000", "shardId-000000000001"):
        stored += [r["Data"] for r in read_shard(kinesis, stream, shard)[0]]
    assert sorted(stored) == sorted(e["Data"] for e in entries)


def test_put_records_fails_only_the_records_past_a_shards_write_limit(overcast, kinesis):
    kinesis.create_stream(StreamName="narrow", ShardCount=1)
    big = b"x" * (600 * 1024)
    answer = kinesis.put_records(
        StreamName="narrow", Records=[{"Data": big, "PartitionKey": "a"}, {"Data": big, "PartitionKey": "b"}]
    )
    assert answer["FailedRecordCount"] == 1
    accepted, refused = answer["Records"]
    assert accepted["ShardId"] == "shardId-000000000000" and "SequenceNumber" in accepted
    assert refused == {
        "ErrorCode": "ProvisionedThroughputExceededException",
        "ErrorMessage": f"Rate exceeded for shard shardId-000000000000 in stream narrow under account {ACCOUNT}.",
    }
    strict = overcast.client("kinesis", config=NO_RETRIES)
    whole_mib = b"y" * (1024 * 1024 - 1)  # needs the shard's whole second: 600 KiB of it are spent
    with pytest.raises(ClientError) as raised:
        strict.put_record(StreamName="narrow", Data=whole_mib, PartitionKey="c")
    assert error_of(raised) == ("ProvisionedThroughputExceededException", 400)
    overcast.advance_clock(1)  # a second later (virtual) the shard takes another MiB
    assert "SequenceNumber" in strict.put_record(StreamName="narrow", Data=whole_mib, PartitionKey="c")


def test_a_thousand_records_a_second_per_shard(overcast):
    strict = overcast.client("kinesis", config=NO_RETRIES)
    strict.create_stream(StreamName="counted", ShardCount=1)
    batch = [{"Data": b"x", "PartitionKey": "k"} for _ in range(500)]
    assert strict.put_records(StreamName="counted", Records=batch)["FailedRecordCount"] == 0
    answers = []
    for _ in range(10):  # 1,000 records/s: batches of 500 sent back to back soon outrun the shard
        answers.append(strict.put_records(StreamName="counted", Records=batch))
        if answers[-1]["FailedRecordCount"]:
            break
    refused = [r for r in answers[-1]["Records"] if "ErrorCode" in r]
    assert len(refused) == answers[-1]["FailedRecordCount"] > 0
    assert {r["ErrorCode"] for r in refused} == {"ProvisionedThroughputExceededException"}


def test_record_and_request_size_limits(kinesis, stream):
    with pytest.raises(ClientError) as raised:
        kinesis.put_record(StreamName=stream, Data=b"x" * (1024 * 1024), PartitionKey="key")
    assert error_of(raised) == ("ValidationException", 400)
    assert "Member must have length less than or equal to 1048576" in message_of(raised)
    kinesis.put_record(StreamName=stream, Data=b"x" * (1024 * 1024 - 3), PartitionKey="key")
    too_much = [{"Data": b"y" * (1024 * 1024 - 10), "PartitionKey": str(i)} for i in range(11)]
    with pytest.raises(ClientError) as raised:
        kinesis.put_records(StreamName=stream, Records=too_much)
    assert error_of(raised) == ("InvalidArgumentException", 400)
    assert message_of(raised) == "Records size exceeds 10 MB limit"


def test_larger_records_after_update_max_record_size(kinesis, stream):
    kinesis.update_max_record_size(StreamARN=stream_arn(stream), MaxRecordSizeInKiB=2048)
    put = kinesis.put_record(StreamName=stream, Data=b"z" * (1536 * 1024), PartitionKey="big")
    records, _ = read_shard(kinesis, stream, put["ShardId"])
    assert len(records[0]["Data"]) == 1536 * 1024


def test_iterator_types(kinesis, stream):
    shard = "shardId-000000000000"
    puts = [
        kinesis.put_record(StreamName=stream, Data=f"{i}".encode(), PartitionKey="k", ExplicitHashKey="1")
        for i in range(5)
    ]
    numbers = [p["SequenceNumber"] for p in puts]

    def data(kind, **start):
        return [r["Data"] for r in read_shard(kinesis, stream, shard, kind, **start)[0]]

    assert data("TRIM_HORIZON") == [b"0", b"1", b"2", b"3", b"4"]
    assert data("AT_SEQUENCE_NUMBER", StartingSequenceNumber=numbers[2]) == [b"2", b"3", b"4"]
    assert data("AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=numbers[2]) == [b"3", b"4"]
    latest = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="LATEST")
    kinesis.put_record(StreamName=stream, Data=b"5", PartitionKey="k", ExplicitHashKey="1")
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=latest["ShardIterator"])["Records"]] == [
        b"5"
    ]
    starting = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"][0]
    first = starting["SequenceNumberRange"]["StartingSequenceNumber"]
    assert data("AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=first)[0] == b"0"
    assert data("AT_TIMESTAMP", Timestamp=datetime(2000, 1, 1, tzinfo=UTC))[0] == b"0"


def test_at_timestamp_starts_at_the_first_record_that_arrived_then(kinesis, overcast, stream):
    kinesis.put_record(StreamName=stream, Data=b"old", PartitionKey="k", ExplicitHashKey="1")
    overcast.advance_clock(60)
    kinesis.put_record(StreamName=stream, Data=b"new", PartitionKey="k", ExplicitHashKey="1")
    moment = datetime.fromtimestamp(time.time() + 30, UTC)  # between the two arrivals (virtual time)
    records, _ = read_shard(kinesis, stream, "shardId-000000000000", "AT_TIMESTAMP", Timestamp=moment)
    assert [r["Data"] for r in records] == [b"new"]
    with pytest.raises(ClientError) as raised:
        kinesis.get_shard_iterator(
            StreamName=stream,
            ShardId="shardId-000000000000",
            ShardIteratorType="AT_TIMESTAMP",
            Timestamp=datetime.fromtimestamp(time.time() + 3600, UTC),
        )
    assert error_of(raised) == ("InvalidArgumentException", 400)
    assert message_of(raised).startswith("The timestampInMillis parameter cannot be greater than the")


def test_iterator_arguments_are_checked_with_aws_wording(kinesis, stream):
    other = kinesis.put_record(
        StreamName=stream, Data=b"x", PartitionKey="k", ExplicitHashKey=str(2**127 + 1)
    )
    assert other["ShardId"] == "shardId-000000000001"
    with pytest.raises(ClientError) as raised:
        kinesis.get_shard_iterator(
            StreamName=stream,
            ShardId="shardId-000000000000",
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=other["SequenceNumber"],
        )
    assert message_of(raised) == (
        "Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in a call to a shard "
        "with shardId-000000000000"
    )
    with pytest.raises(ClientError) as raised:
        kinesis.get_shard_iterator(
            StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="AFTER_SEQUENCE_NUMBER"
        )
    assert message_of(raised).endswith(
        "Request specified AFTER_SEQUENCE_NUMBER and no StartingSequenceNumber."
    )
    with pytest.raises(ClientError) as raised:
        kinesis.get_shard_iterator(
            StreamName=stream,
            ShardId="shardId-000000000000",
            ShardIteratorType="TRIM_HORIZON",
            StartingSequenceNumber=other["SequenceNumber"],
        )
    assert message_of(raised).endswith("Request specified TRIM_HORIZON and also a StartingSequenceNumber.")
    with pytest.raises(ClientError) as raised:
        kinesis.get_shard_iterator(
            StreamName=stream,
            ShardId="shardId-000000000000",
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber="1234",
        )
    assert message_of(raised) == (
        f"StartingSequenceNumber 1234 used in GetShardIterator on shard shardId-000000000000 in stream {stream} "
        f"under account {ACCOUNT} is invalid."
    )
    with pytest.raises(ClientError) as raised:
        kinesis.get_shard_iterator(
            StreamName=stream, ShardId="shardId-000000000009", ShardIteratorType="LATEST"
        )
    assert error_of(raised) == ("ResourceNotFoundException", 400)
    assert message_of(raised) == (
        f"Shard shardId-000000000009 in stream {stream} under account {ACCOUNT} does not exist"
    )
    with pytest.raises(ClientError) as raised:
        kinesis.get_records(ShardIterator="bm90LWFuLWl0ZXJhdG9y")
    assert error_of(raised) == ("InvalidArgumentException", 400)
    assert message_of(raised) == "Invalid ShardIterator."


def test_iterators_expire_after_five_minutes_of_virtual_time(kinesis, overcast, stream):
    iterator = kinesis.get_shard_iterator(
        StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    overcast.advance_clock(290)
    following = kinesis.get_records(ShardIterator=iterator)["NextShardIterator"]
    overcast.advance_clock(11)
    with pytest.raises(ClientError) as raised:
        kinesis.get_records(ShardIterator=iterator)
    assert error_of(raised) == ("ExpiredIteratorException", 400)
    message = message_of(raised)
    assert message.startswith("Iterator expired. The iterator was created at time ")
    assert message.endswith("which is further in the future than the tolerated delay of 300000 milliseconds.")
    assert (
        kinesis.get_records(ShardIterator=following)["Records"] == []
    )  # a new iterator has its own 5 minutes


def test_limit_and_millis_behind_latest(kinesis, overcast, stream):
    for i in range(3):
        kinesis.put_record(StreamName=stream, Data=f"{i}".encode(), PartitionKey="k", ExplicitHashKey="1")
    overcast.advance_clock(10)
    iterator = kinesis.get_shard_iterator(
        StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    first = kinesis.get_records(ShardIterator=iterator, Limit=1)
    assert [r["Data"] for r in first["Records"]] == [b"0"]
    assert first["MillisBehindLatest"] >= 10_000
    rest = kinesis.get_records(ShardIterator=first["NextShardIterator"], Limit=10)
    assert [r["Data"] for r in rest["Records"]] == [b"1", b"2"]
    assert rest["MillisBehindLatest"] == 0


def test_records_expire_after_the_retention_period(kinesis, overcast, stream):
    kinesis.put_record(StreamName=stream, Data=b"day one", PartitionKey="k", ExplicitHashKey="1")
    overcast.advance_clock("23h")
    assert len(read_shard(kinesis, stream, "shardId-000000000000")[0]) == 1
    overcast.advance_clock("2h")
    assert read_shard(kinesis, stream, "shardId-000000000000")[0] == []

    kinesis.increase_stream_retention_period(StreamName=stream, RetentionPeriodHours=72)
    kinesis.put_record(StreamName=stream, Data=b"kept", PartitionKey="k", ExplicitHashKey="1")
    overcast.advance_clock("48h")
    assert [r["Data"] for r in read_shard(kinesis, stream, "shardId-000000000000")[0]] == [b"kept"]


def test_more_than_five_reads_a_second_on_a_shard_are_throttled(overcast, stream):
    strict = overcast.client("kinesis", config=NO_RETRIES)
    iterator = strict.get_shard_iterator(
        StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="LATEST"
    )["ShardIterator"]
    with pytest.raises(ClientError) as raised:
        for _ in range(30):  # 5 a second: back-to-back calls soon outrun the budget, however slow the machine
            iterator = strict.get_records(ShardIterator=iterator)["NextShardIterator"]
    assert error_of(raised) == ("ProvisionedThroughputExceededException", 400)
    overcast.advance_clock(1)
    assert strict.get_records(ShardIterator=iterator)["Records"] == []


def test_throttling_can_be_switched_off(overcast, stream):
    import json
    import urllib.request

    def switch(enabled: bool) -> dict:
        request = urllib.request.Request(
            overcast.endpoint + "/_overcast/kinesis/throttling",
            data=json.dumps({"enabled": enabled}).encode(),
            method="POST",
        )
        return json.loads(urllib.request.urlopen(request, timeout=10).read())

    strict = overcast.client("kinesis", config=NO_RETRIES)
    assert switch(False) == {"enabled": False}
    try:
        iterator = strict.get_shard_iterator(
            StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="LATEST"
        )["ShardIterator"]
        for _ in range(20):
            iterator = strict.get_records(ShardIterator=iterator)["NextShardIterator"]
    finally:
        assert switch(True) == {"enabled": True}


def test_dry_run_writes_nothing(kinesis, stream):
    with pytest.raises(ClientError) as raised:
        kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="k", DryRun=True)
    assert error_of(raised)[0] == "DryRunOperationException"
    assert read_shard(kinesis, stream, "shardId-000000000000")[0] == []
    assert read_shard(kinesis, stream, "shardId-000000000001")[0] == []


def test_acknowledged_records_survive_kill_9(tmp_path):
    server = ServerProcess(tmp_path / "data")
    try:
        kinesis = server.client("kinesis")
        kinesis.create_stream(StreamName="durable", ShardCount=1)
        puts = [
            kinesis.put_record(StreamName="durable", Data=f"{i}".encode(), PartitionKey="k")
            for i in range(10)
        ]
    finally:
        server.stop(signal.SIGKILL)
    server = ServerProcess(tmp_path / "data")
    try:
        kinesis = server.client("kinesis")
        records, _ = read_shard(kinesis, "durable", "shardId-000000000000")
        assert [r["SequenceNumber"] for r in records] == [p["SequenceNumber"] for p in puts]
        after = kinesis.put_record(StreamName="durable", Data=b"after", PartitionKey="k")
        assert int(after["SequenceNumber"]) > int(puts[-1]["SequenceNumber"])
    finally:
        server.stop()


def test_on_demand_streams_are_not_held_to_one_shards_limit(overcast):
    strict = overcast.client("kinesis", config=NO_RETRIES)
    strict.create_stream(StreamName="elastic", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    hot_key = [{"Data": b"x", "PartitionKey": "the-same-key"} for _ in range(500)]
    failed = [
        strict.put_records(StreamName="elastic", Records=hot_key)["FailedRecordCount"] for _ in range(3)
    ]
    assert failed == [0, 0, 0]  # 1,500 records to one shard at once: a provisioned shard takes 1,000


def test_more_than_five_shard_iterators_a_second_are_throttled(overcast, stream):
    strict = overcast.client("kinesis", config=NO_RETRIES)
    with pytest.raises(ClientError) as raised:
        for _ in range(30):
            strict.get_shard_iterator(
                StreamName=stream, ShardId="shardId-000000000001", ShardIteratorType="LATEST"
            )
    assert error_of(raised) == ("ProvisionedThroughputExceededException", 400)
    assert message_of(raised) == (
        f"Rate exceeded for shard shardId-000000000001 in stream {stream} under account {ACCOUNT}."
    )
