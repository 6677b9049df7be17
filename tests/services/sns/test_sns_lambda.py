"""SNS to Lambda: the function receives the SNS event (it forwards it to a queue so the test can see it)."""

import io
import json
import zipfile

import pytest

from tests.services.sns.signatures import validate

FORWARDER = """
import json, os
import boto3

def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps(event))
"""


def package(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


@pytest.mark.slow
def test_lambda_subscription_receives_the_sns_event(overcast, sns, sqs):
    url = sqs.create_queue(QueueName="seen-by-lambda")["QueueUrl"]
    function = overcast.client("lambda").create_function(
        FunctionName="sns-listener",
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/r",
        Handler="app.handler",
        Code={"ZipFile": package(FORWARDER)},
        Environment={"Variables": {"QUEUE_URL": url}},
    )
    topic = sns.create_topic(Name="to-lambda", Attributes={"SignatureVersion": "2"})["TopicArn"]
    subscription = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function["FunctionArn"])[
        "SubscriptionArn"
    ]
    published = sns.publish(
        TopicArn=topic,
        Message="hello lambda",
        Subject="s",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)["Messages"]
    record = json.loads(messages[0]["Body"])["Records"][0]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == subscription
    assert record["Sns"]["MessageId"] == published["MessageId"]
    assert record["Sns"]["Message"] == "hello lambda"
    assert record["Sns"]["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    assert "SigningCertUrl" in record["Sns"] and "UnsubscribeUrl" in record["Sns"]
    assert record["Sns"]["SignatureVersion"] == "2"
    validate(record["Sns"])  # SHA256withRSA, with the certificate at SigningCertUrl
