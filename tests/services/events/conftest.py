import json

import pytest

from tests.waiting import wait_for


@pytest.fixture
def events(overcast):
    return overcast.client("events")


@pytest.fixture
def sqs(overcast):
    return overcast.client("sqs")


@pytest.fixture
def make_queue(sqs):
    """Create a queue; returns (url, arn)."""

    def make(name: str, **attributes: str) -> tuple[str, str]:
        if name.endswith(".fifo"):
            attributes.setdefault("FifoQueue", "true")
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    return make


@pytest.fixture
def receive(sqs):
    """Wait for `count` messages on a queue (each received once) and return them."""

    def wait(url: str, count: int = 1, timeout: float = 30) -> list[dict]:
        got: list[dict] = []

        def more():
            got.extend(
                sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=10,
                    VisibilityTimeout=43200,  # the clock moves in these tests: received stays received
                    MessageAttributeNames=["All"],
                    AttributeNames=["All"],
                ).get("Messages", [])
            )
            return len(got) >= count

        wait_for(more, timeout=timeout)
        return got

    return wait


def s3_event(key: str = "uploads/cat.png", size: int = 2048, bucket: str = "photos") -> dict:
    """The detail of an S3 'Object Created' event, as S3 sends it to EventBridge."""
    return {
        "version": "0",
        "bucket": {"name": bucket},
        "object": {
            "key": key,
            "size": size,
            "etag": "d41d8cd98f00b204e9800998ecf8427e",
            "sequencer": "0062E99A88DC407460",
        },
        "request-id": "N4N7GDK58NMKJ12R",
        "requester": "123456789012",
        "source-ip-address": "1.2.3.4",
        "reason": "PutObject",
    }


def put(events, detail: dict, source: str = "demo.app", detail_type: str = "Object Created", **entry) -> str:
    answer = events.put_events(
        Entries=[{"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail), **entry}]
    )
    assert answer["FailedEntryCount"] == 0, answer
    return answer["Entries"][0]["EventId"]
