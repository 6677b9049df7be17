"""kill -9 of a real server in the middle of a burst of S3, SQS and DynamoDB writes from several clients.

After a restart on the same data directory every acknowledged write is there, and whatever is visible is
whole: each listed object has the exact body written under its key, each item all its attributes.
"""

import signal
import threading
import time

import boto3
import pytest
from botocore.config import Config

from tests.server_process import ServerProcess

pytestmark = pytest.mark.slow

BUCKET = "crash-bucket"
TABLE = "crash-table"
CLIENT_CONFIG = Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10)


def client(server: ServerProcess, service: str):
    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=CLIENT_CONFIG,
    )


def body_for(key: str) -> bytes:
    """Small bodies live in the object's row, large ones in a blob file: the burst writes both."""
    size = 300_000 if int(key.rsplit("-", 1)[1]) % 3 == 0 else 200
    return (key.encode() * (size // len(key) + 1))[:size]


def write_objects(server, writer: int, acked: list, stop: threading.Event) -> None:
    s3 = client(server, "s3")
    n = 0
    while not stop.is_set():
        key = f"w{writer}-{n}"
        try:
            s3.put_object(Bucket=BUCKET, Key=key, Body=body_for(key))
        except Exception:
            return
        acked.append(key)
        n += 1


def send_messages(server, writer: int, acked: list, stop: threading.Event, queue_url: str) -> None:
    sqs = client(server, "sqs")
    n = 0
    while not stop.is_set():
        try:
            sqs.send_message(QueueUrl=queue_url, MessageBody=f"m{writer}-{n}")
        except Exception:
            return
        acked.append(f"m{writer}-{n}")
        n += 1


def put_items(server, writer: int, acked: list, stop: threading.Event) -> None:
    ddb = client(server, "dynamodb")
    n = 0
    while not stop.is_set():
        key = f"i{writer}-{n}"
        try:
            ddb.put_item(
                TableName=TABLE, Item={"pk": {"S": key}, "n": {"N": str(n)}, "payload": {"S": key * 20}}
            )
        except Exception:
            return
        acked.append(key)
        n += 1


def test_acknowledged_writes_survive_kill_9(tmp_path):
    data_dir = tmp_path / "data"
    server = ServerProcess(data_dir)
    try:
        client(server, "s3").create_bucket(Bucket=BUCKET)
        queue_url = client(server, "sqs").create_queue(QueueName="crash-queue")["QueueUrl"]
        client(server, "dynamodb").create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        stop = threading.Event()
        objects, messages, items = [], [], []
        writers = [threading.Thread(target=write_objects, args=(server, w, objects, stop)) for w in range(2)]
        writers += [
            threading.Thread(target=send_messages, args=(server, w, messages, stop, queue_url))
            for w in range(2)
        ]
        writers += [threading.Thread(target=put_items, args=(server, w, items, stop)) for w in range(2)]
        for thread in writers:
            thread.start()
        deadline = time.monotonic() + 30
        while min(len(objects), len(messages), len(items)) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.process.send_signal(signal.SIGKILL)  # mid-burst: the writers are still sending
        server.process.wait(timeout=10)
        stop.set()
        for thread in writers:
            thread.join(timeout=20)
    finally:
        if server.process.poll() is None:
            server.stop(signal.SIGKILL)
    assert min(len(objects), len(messages), len(items)) >= 30

    restarted = ServerProcess(data_dir)
    try:
        s3, sqs, ddb = client(restarted, "s3"), client(restarted, "sqs"), client(restarted, "dynamodb")
        listed = [
            o["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
            for o in page.get("Contents", [])
        ]
        assert set(objects) <= set(listed)
        for key in listed:  # nothing half-written is visible, acknowledged or not
            assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body_for(key)

        received = set()
        while True:
            batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300)
            if not batch.get("Messages"):
                break
            received.update(m["Body"] for m in batch["Messages"])
        assert set(messages) <= received

        scanned = [
            item for page in ddb.get_paginator("scan").paginate(TableName=TABLE) for item in page["Items"]
        ]
        assert set(items) <= {item["pk"]["S"] for item in scanned}
        for item in scanned:
            key = item["pk"]["S"]
            assert item == {"pk": {"S": key}, "n": {"N": key.rsplit("-", 1)[1]}, "payload": {"S": key * 20}}
    finally:
        restarted.stop(signal.SIGKILL)
