import pytest


@pytest.fixture
def sns(overcast):
    return overcast.client("sns")


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
def drain(sqs):
    """Every message body now in a queue (received with a long visibility timeout, so each once)."""

    def receive(url: str) -> list[dict]:
        messages = []
        while True:
            got = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not got:
                return messages
            messages.extend(got)

    return receive
