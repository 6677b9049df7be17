"""Resharding and the notes' consumer stories: producers with partition keys and two consumers reading every
shard in order; a shard split while producing, consumers reading the parent to its end and then the children;
a KCL-style consumer with its checkpoints in DynamoDB going on across a reshard and a restart."""

import threading
import time

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.services.kinesis.conftest import ACCOUNT, read_shard, shard_ids


def ranges(kinesis, name, **filters):
    return {
        s["ShardId"]: (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
        for s in kinesis.list_shards(StreamName=name, **filters)["Shards"]
    }


def test_split_closes_the_parent_and_opens_two_children(kinesis, stream):
    middle = 2**126
    kinesis.split_shard(
        StreamName=stream, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(middle)
    )
    shards = {
        s["ShardId"]: s for s in kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"]
    }
    parent = shards["shardId-000000000000"]
    assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    left, right = shards["shardId-000000000002"], shards["shardId-000000000003"]
    assert left["ParentShardId"] == right["ParentShardId"] == "shardId-000000000000"
    assert (left["HashKeyRange"]["StartingHashKey"], left["HashKeyRange"]["EndingHashKey"]) == (
        "0",
        str(middle - 1),
    )
    assert right["HashKeyRange"]["StartingHashKey"] == str(middle)
    assert right["HashKeyRange"]["EndingHashKey"] == parent["HashKeyRange"]["EndingHashKey"]
    assert int(left["SequenceNumberRange"]["StartingSequenceNumber"]) > int(
        parent["SequenceNumberRange"]["StartingSequenceNumber"]
    )
    assert (
        kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["OpenShardCount"] == 3
    )
    with pytest.raises(ClientError) as raised:
        kinesis.split_shard(StreamName=stream, ShardToSplit="shardId-000000000000", NewStartingHashKey="5")
    assert error_of(raised) == ("InvalidArgumentException", 400)
    assert message_of(raised) == (
        f"Shard shardId-000000000000 in stream {stream} under account {ACCOUNT} has already been merged or split, "
        "and thus is not eligible for merging or splitting."
    )


def test_split_refuses_a_key_outside_the_shard(kinesis, stream):
    with pytest.raises(ClientError) as raised:
        kinesis.split_shard(StreamName=stream, ShardToSplit="shardId-000000000001", NewStartingHashKey="1")
    assert error_of(raised) == ("InvalidArgumentException", 400)
    assert "is not both greater than one plus the shard's StartingHashKey" in message_of(raised)
    with pytest.raises(ClientError) as raised:
        kinesis.split_shard(StreamName=stream, ShardToSplit="shardId-000000000007", NewStartingHashKey="1")
    assert error_of(raised) == ("ResourceNotFoundException", 400)
    assert (
        message_of(raised)
        == f"Could not find shard shardId-000000000007 in stream {stream} under account {ACCOUNT}."
    )


def test_merge_needs_adjacent_shards(kinesis):
    kinesis.create_stream(StreamName="three", ShardCount=3)
    with pytest.raises(ClientError) as raised:
        kinesis.merge_shards(
            StreamName="three",
            ShardToMerge="shardId-000000000000",
            AdjacentShardToMerge="shardId-000000000002",
        )
    assert message_of(raised) == (
        f"Shards shardId-000000000000 and shardId-000000000002 in stream three under account {ACCOUNT} are not an "
        "adjacent pair of shards eligible for merging"
    )
    kinesis.merge_shards(
        StreamName="three", ShardToMerge="shardId-000000000001", AdjacentShardToMerge="shardId-000000000002"
    )
    merged = kinesis.list_shards(StreamName="three", ShardFilter={"Type": "AT_LATEST"})["Shards"][-1]
    assert merged["ShardId"] == "shardId-000000000003"
    assert (merged["ParentShardId"], merged["AdjacentParentShardId"]) == (
        "shardId-000000000001",
        "shardId-000000000002",
    )
    assert merged["HashKeyRange"]["EndingHashKey"] == str(2**128 - 1)


@pytest.mark.parametrize("start,target", [(2, 4), (4, 2), (3, 5), (5, 3), (4, 7)])
def test_uniform_scaling_covers_the_key_space_and_keeps_lineage(kinesis, start, target):
    kinesis.create_stream(StreamName="scaled", ShardCount=start)
    answer = kinesis.update_shard_count(
        StreamName="scaled", TargetShardCount=target, ScalingType="UNIFORM_SCALING"
    )
    assert (answer["CurrentShardCount"], answer["TargetShardCount"]) == (start, target)
    open_ranges = sorted(ranges(kinesis, "scaled", ShardFilter={"Type": "AT_LATEST"}).values())
    step = 2**128 // target
    expected = [(i * step, (i + 1) * step - 1) for i in range(target)]
    expected[-1] = (expected[-1][0], 2**128 - 1)
    assert open_ranges == expected
    every = {s["ShardId"]: s for s in kinesis.list_shards(StreamName="scaled")["Shards"]}
    for shard in every.values():  # every new shard descends from the old ones through named parents
        for parent in (shard.get("ParentShardId"), shard.get("AdjacentParentShardId")):
            if parent:
                assert "EndingSequenceNumber" in every[parent]["SequenceNumberRange"]


def test_update_shard_count_limits(kinesis, stream):
    with pytest.raises(ClientError) as raised:
        kinesis.update_shard_count(StreamName=stream, TargetShardCount=5, ScalingType="UNIFORM_SCALING")
    assert error_of(raised) == ("LimitExceededException", 400)
    assert message_of(raised) == (
        "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 2, "
        "Target shard count: 5"
    )


def produce(kinesis, name, keys, count, start=0):
    """Puts `count` records round-robin over `keys`; {key: [values in put order]}."""
    sent: dict[str, list[str]] = {key: [] for key in keys}
    for i in range(start, start + count):
        key = keys[i % len(keys)]
        value = f"{key}#{i}"
        kinesis.put_record(StreamName=name, Data=value.encode(), PartitionKey=key)
        sent[key].append(value)
    return sent


def consume_in_lineage_order(kinesis, name):
    """A consumer that reads each shard to its end, parents before children; {key: [values]} and the shard
    order it read."""
    seen: dict[str, list[str]] = {}
    shards = {s["ShardId"]: s for s in kinesis.list_shards(StreamName=name)["Shards"]}
    done: list[str] = []
    while len(done) < len(shards):
        ready = [
            sid
            for sid, shard in shards.items()
            if sid not in done
            and all(
                p in done or p not in shards
                for p in (shard.get("ParentShardId"), shard.get("AdjacentParentShardId"))
                if p
            )
        ]
        for sid in ready:
            records, last = read_shard(kinesis, name, sid)
            if "EndingSequenceNumber" in shards[sid]["SequenceNumberRange"]:
                assert "NextShardIterator" not in last  # a closed shard read to its end
                assert {c["ShardId"] for c in last["ChildShards"]} == {
                    s
                    for s, sh in shards.items()
                    if sid in (sh.get("ParentShardId"), sh.get("AdjacentParentShardId"))
                }
            for record in records:
                seen.setdefault(record["PartitionKey"], []).append(record["Data"].decode())
            done.append(sid)
    return seen, done


def test_two_consumers_read_every_shard_in_order(kinesis):
    kinesis.create_stream(StreamName="clicks", ShardCount=3)
    keys = [f"user-{i}" for i in range(12)]
    sent = produce(kinesis, "clicks", keys, 120)
    results = []

    def consumer():
        results.append(consume_in_lineage_order(kinesis, "clicks")[0])

    threads = [threading.Thread(target=consumer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 2
    assert results[0] == sent and results[1] == sent  # each consumer gets every record, per key in order


def test_a_split_while_producing_keeps_every_key_in_order(kinesis):
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    keys = [f"order-{i}" for i in range(6)]
    sent: dict[str, list[str]] = {key: [] for key in keys}
    stop = threading.Event()

    def producer():
        i = 0
        while not stop.is_set() and i < 400:
            key = keys[i % len(keys)]
            kinesis.put_record(StreamName="orders", Data=f"{key}#{i}".encode(), PartitionKey=key)
            sent[key].append(f"{key}#{i}")
            i += 1

    thread = threading.Thread(target=producer)
    thread.start()
    deadline = time.monotonic() + 30
    while sum(len(v) for v in sent.values()) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    kinesis.split_shard(
        StreamName="orders", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127)
    )
    while sum(len(v) for v in sent.values()) < 120 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join(timeout=60)
    seen, order = consume_in_lineage_order(kinesis, "orders")
    assert order[0] == "shardId-000000000000"
    assert set(order[1:]) == {"shardId-000000000001", "shardId-000000000002"}
    assert seen == sent
    parent_records, _ = read_shard(kinesis, "orders", "shardId-000000000000")
    children = sum(len(read_shard(kinesis, "orders", s)[0]) for s in order[1:])
    assert parent_records and children  # records before the split stayed in the parent, later ones went on


# -- a KCL-style consumer: leases and checkpoints in DynamoDB ------------------------------------------------


class CheckpointingConsumer:
    """What the KCL does, written with boto3: a DynamoDB lease table holds each shard's checkpoint (the last
    sequence number processed, or SHARD_END); shards are processed after their parents reach SHARD_END."""

    def __init__(self, kinesis, dynamodb, stream, table, processed, batch=7):
        self.kinesis, self.dynamodb, self.stream, self.table = kinesis, dynamodb, stream, table
        self.processed, self.batch = processed, batch

    def checkpoint(self, shard_id):
        item = self.dynamodb.get_item(
            TableName=self.table, Key={"leaseKey": {"S": shard_id}}, ConsistentRead=True
        )
        return item.get("Item", {}).get("checkpoint", {}).get("S")

    def save(self, shard_id, checkpoint):
        self.dynamodb.put_item(
            TableName=self.table, Item={"leaseKey": {"S": shard_id}, "checkpoint": {"S": checkpoint}}
        )

    def run_once(self, max_batches=None):
        """One pass over the shards that are ready; processes at most `max_batches` batches (a crash after)."""
        batches = 0
        shards = self.kinesis.list_shards(StreamName=self.stream)["Shards"]
        for shard in shards:
            sid = shard["ShardId"]
            if self.checkpoint(sid) == "SHARD_END":
                continue
            parents = [p for p in (shard.get("ParentShardId"), shard.get("AdjacentParentShardId")) if p]
            if any(self.checkpoint(p) != "SHARD_END" for p in parents):
                continue
            mark = self.checkpoint(sid)
            start = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": mark}
                if mark
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = self.kinesis.get_shard_iterator(StreamName=self.stream, ShardId=sid, **start)[
                "ShardIterator"
            ]
            for _ in range(100):
                answer = self.kinesis.get_records(ShardIterator=iterator, Limit=self.batch)
                for record in answer["Records"]:
                    self.processed.append((record["PartitionKey"], record["Data"].decode()))
                if answer["Records"]:
                    self.save(sid, answer["Records"][-1]["SequenceNumber"])
                batches += 1
                if max_batches is not None and batches >= max_batches:
                    return False
                iterator = answer.get("NextShardIterator")
                if iterator is None:
                    self.save(sid, "SHARD_END")
                    break
                if not answer["Records"]:
                    break
                time.sleep(0.2)
        return True


def test_a_kcl_style_consumer_with_dynamodb_checkpoints_goes_on_across_a_reshard(overcast, kinesis):
    dynamodb = overcast.client("dynamodb")
    dynamodb.create_table(
        TableName="app-leases",
        KeySchema=[{"AttributeName": "leaseKey", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "leaseKey", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    kinesis.create_stream(StreamName="payments", ShardCount=2)
    keys = [f"account-{i}" for i in range(5)]
    sent = produce(kinesis, "payments", keys, 60)
    processed: list[tuple[str, str]] = []

    first = CheckpointingConsumer(kinesis, dynamodb, "payments", "app-leases", processed)
    first.run_once(max_batches=3)  # the worker dies after three batches
    assert 0 < len(processed) < 60

    kinesis.update_shard_count(StreamName="payments", TargetShardCount=3, ScalingType="UNIFORM_SCALING")
    more = produce(kinesis, "payments", keys, 45, start=60)

    restarted = CheckpointingConsumer(kinesis, dynamodb, "payments", "app-leases", processed)
    for _ in range(20):  # each pass can only start children whose parents have ended
        restarted.run_once()
        if len(processed) >= 105:
            break
    per_key: dict[str, list[str]] = {}
    for key, value in processed:
        per_key.setdefault(key, []).append(value)
    assert per_key == {key: sent[key] + more[key] for key in keys}  # exactly once, each key in order
    leases = dynamodb.scan(TableName="app-leases")["Items"]
    ended = {item["leaseKey"]["S"] for item in leases if item["checkpoint"]["S"] == "SHARD_END"}
    assert {"shardId-000000000000", "shardId-000000000001"} <= ended
    assert set(shard_ids(kinesis, "payments", ShardFilter={"Type": "AT_LATEST"})).isdisjoint(ended)
