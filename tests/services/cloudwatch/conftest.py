import pytest


@pytest.fixture
def cloudwatch(overcast):
    return overcast.client("cloudwatch")


@pytest.fixture
def sqs(overcast):
    return overcast.client("sqs")


@pytest.fixture
def sns(overcast):
    return overcast.client("sns")


@pytest.fixture
def topic_queue(sns, sqs):
    """An SNS topic with an SQS queue subscribed: (topic ARN, queue URL)."""
    url = sqs.create_queue(QueueName="alarm-notifications")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name="alarms")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)
    return topic, url
