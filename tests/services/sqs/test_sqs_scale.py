"""Depth does not slow a queue down: send and receive at 100,000 queued messages do the same work as on an empty
queue. The work is counted, not timed (a busy machine makes timings lie): SQLite's virtual-machine steps for the
requests, through its progress handler, which are the same on every run."""

import pytest


class StepCounter:
    """Counts the SQLite VM instructions the server runs while it is installed on the server's connection."""

    def __init__(self, overcast) -> None:
        self.connection = overcast.platform.db.conn
        self.steps = 0

    def _tick(self) -> int:
        self.steps += 1
        return 0  # 0: go on

    def __enter__(self) -> "StepCounter":
        self.connection.set_progress_handler(self._tick, 1)
        return self

    def __exit__(self, *exc) -> None:
        self.connection.set_progress_handler(None, 1)


@pytest.mark.slow
def test_send_and_receive_do_the_same_work_at_100k_messages(overcast):
    sqs = overcast.client("sqs")
    empty = sqs.create_queue(QueueName="empty")["QueueUrl"]
    deep = sqs.create_queue(QueueName="deep")["QueueUrl"]
    entries = [{"Id": str(i), "MessageBody": "x" * 100} for i in range(10)]
    for _ in range(10_000):
        sqs.send_message_batch(QueueUrl=deep, Entries=entries)
    attributes = sqs.get_queue_attributes(QueueUrl=deep, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "100000"

    def work(url: str) -> tuple[int, int]:
        with StepCounter(overcast) as sent:
            for _ in range(20):
                sqs.send_message(QueueUrl=url, MessageBody="hello")
        with StepCounter(overcast) as received:
            for _ in range(20):
                assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
        return sent.steps, received.steps

    work(empty)  # the first calls prepare statements
    empty_send, empty_receive = work(empty)
    deep_send, deep_receive = work(deep)
    assert deep_send <= empty_send * 1.1 + 200, (deep_send, empty_send)
    assert deep_receive <= empty_receive * 1.1 + 200, (deep_receive, empty_receive)
