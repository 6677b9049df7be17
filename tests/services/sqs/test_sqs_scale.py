"""Depth does not slow a queue down: send and receive at 100,000 queued messages cost what they cost empty."""

import http.client
import json
import statistics
import time

import pytest

TARGET = "AmazonSQS.{}"


class RawSqs:
    """Bare JSON-protocol requests on one keep-alive connection, so the server's cost is what gets measured."""

    def __init__(self, overcast):
        self.connection = http.client.HTTPConnection("127.0.0.1", overcast.config.port, timeout=30)

    def call(self, operation: str, params: dict) -> dict:
        headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": TARGET.format(operation)}
        self.connection.request("POST", "/", json.dumps(params), headers)
        response = self.connection.getresponse()
        body = response.read()
        assert response.status == 200, body
        return json.loads(body)

    def median_seconds(self, operation: str, params: dict, repeat: int = 400) -> float:
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            self.call(operation, params)
            timings.append(time.perf_counter() - started)
        return statistics.median(timings)


@pytest.mark.slow
def test_send_and_receive_cost_the_same_at_100k_messages(overcast):
    sqs = overcast.client("sqs")
    empty = sqs.create_queue(QueueName="empty")["QueueUrl"]
    deep = sqs.create_queue(QueueName="deep")["QueueUrl"]
    raw = RawSqs(overcast)
    entries = [{"Id": str(i), "MessageBody": "x" * 100} for i in range(10)]
    for _ in range(10_000):
        raw.call("SendMessageBatch", {"QueueUrl": deep, "Entries": entries})
    assert (
        sqs.get_queue_attributes(QueueUrl=deep, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "100000"
    )

    def costs(url: str) -> tuple[float, float]:
        send = raw.median_seconds("SendMessage", {"QueueUrl": url, "MessageBody": "hello"})
        receive = raw.median_seconds("ReceiveMessage", {"QueueUrl": url, "VisibilityTimeout": 0})
        return send, receive

    costs(empty)  # warm up
    empty_send, empty_receive = costs(empty)
    deep_send, deep_receive = costs(deep)
    slack = 0.0002  # 0.2 ms of scheduling noise on a busy machine
    assert deep_send <= empty_send * 1.2 + slack, (deep_send, empty_send)
    assert deep_receive <= empty_receive * 1.2 + slack, (deep_receive, empty_receive)
