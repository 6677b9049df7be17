"""SQS through other clients: the AWS CLI (json protocol) and the legacy query protocol by hand."""

import json
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

AWS = str(Path(sys.executable).with_name("aws"))


def aws(overcast, *args: str) -> dict:
    done = subprocess.run(
        [AWS, "--endpoint-url", overcast.endpoint, "--region", "us-east-1", "--output", "json", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else {}


@pytest.mark.slow
def test_aws_cli_queue_round_trip(overcast):
    url = aws(overcast, "sqs", "create-queue", "--queue-name", "cli-queue")["QueueUrl"]
    aws(
        overcast,
        "sqs",
        "send-message",
        "--queue-url",
        url,
        "--message-body",
        "from the cli",
        "--message-attributes",
        '{"k": {"DataType": "String", "StringValue": "v"}}',
    )
    received = aws(overcast, "sqs", "receive-message", "--queue-url", url, "--message-attribute-names", "All")
    message = received["Messages"][0]
    assert message["Body"] == "from the cli"
    aws(overcast, "sqs", "delete-message", "--queue-url", url, "--receipt-handle", message["ReceiptHandle"])
    assert aws(overcast, "sqs", "list-queues")["QueueUrls"] == [url]
    attributes = aws(overcast, "sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "All")
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "0"


def query(overcast, path: str, **form: str) -> tuple[int, str]:
    """A legacy query-protocol request as old SDKs send it (unsigned: the default account)."""
    data = urllib.parse.urlencode({"Version": "2012-11-05", **form}).encode()
    request = urllib.request.Request(
        overcast.endpoint + path,
        data=data,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_legacy_query_protocol(overcast):
    status, body = query(overcast, "/", Action="CreateQueue", QueueName="legacy")
    assert status == 200 and "<QueueUrl>" in body
    status, body = query(
        overcast,
        "/000000000000/legacy",
        Action="SendMessage",
        MessageBody="old sdk",
        **{
            "MessageAttribute.1.Name": "k",
            "MessageAttribute.1.Value.DataType": "String",
            "MessageAttribute.1.Value.StringValue": "v",
        },
    )
    assert status == 200 and "<MD5OfMessageBody>" in body
    status, body = query(
        overcast, "/000000000000/legacy", Action="ReceiveMessage", MessageAttributeName="All"
    )
    assert status == 200 and "<Body>old sdk</Body>" in body
    status, body = query(overcast, "/", Action="GetQueueUrl", QueueName="missing")
    assert status == 400 and "AWS.SimpleQueueService.NonExistentQueue" in body
