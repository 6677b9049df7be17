"""SNS through the AWS CLI (query protocol)."""

import pytest

from tests.helpers import aws


@pytest.mark.slow
def test_aws_cli_topic_to_queue(overcast):
    topic = aws(overcast, "sns", "create-topic", "--name", "cli-topic")["TopicArn"]
    url = aws(overcast, "sqs", "create-queue", "--queue-name", "cli-sub")["QueueUrl"]
    queue_arn = aws(
        overcast, "sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "QueueArn"
    )["Attributes"]["QueueArn"]
    aws(
        overcast,
        "sns",
        "subscribe",
        "--topic-arn",
        topic,
        "--protocol",
        "sqs",
        "--notification-endpoint",
        queue_arn,
        "--attributes",
        "RawMessageDelivery=true",
    )
    published = aws(overcast, "sns", "publish", "--topic-arn", topic, "--message", "via cli")
    assert published["MessageId"]
    received = aws(overcast, "sqs", "receive-message", "--queue-url", url)
    assert received["Messages"][0]["Body"] == "via cli"
    topics = aws(overcast, "sns", "list-topics")["Topics"]
    assert topics == [{"TopicArn": topic}]
