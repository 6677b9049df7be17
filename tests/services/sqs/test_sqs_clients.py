"""SQS through other clients: the AWS CLI (json protocol) and the legacy query protocol by hand."""

import re
import urllib.parse
import urllib.request

import pytest

from tests.helpers import aws, signed_headers


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
    """A legacy query-protocol request as old SDKs send it (signed, as they sign it)."""
    data = urllib.parse.urlencode({"Version": "2012-11-05", **form}).encode()
    url = overcast.endpoint + path
    content_type = {"Content-Type": "application/x-www-form-urlencoded"}
    request = urllib.request.Request(
        url, data=data, method="POST", headers=signed_headers("POST", url, data, "sqs", content_type)
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


def test_legacy_query_protocol_limits_and_error_statuses(overcast):
    query(overcast, "/", Action="CreateQueue", QueueName="limits")
    queue = "/000000000000/limits"
    query(overcast, queue, Action="SendMessage", MessageBody="x")
    status, body = query(overcast, queue, Action="ReceiveMessage", VisibilityTimeout="60")
    handle = re.search(r"<ReceiptHandle>([^<]+)</ReceiptHandle>", body).group(1)

    # past the 12 hours that started at the receive
    status, body = query(
        overcast, queue, Action="ChangeMessageVisibility", ReceiptHandle=handle, VisibilityTimeout="43200"
    )
    assert status == 400
    assert "<Code>InvalidParameterValue</Code>" in body and "<Type>Sender</Type>" in body
    assert "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]" in body
    status, body = query(
        overcast,
        queue,
        Action="ChangeMessageVisibilityBatch",
        **{
            "ChangeMessageVisibilityBatchRequestEntry.1.Id": "a",
            "ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle": handle,
            "ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout": "43200",
        },
    )
    assert (
        status == 200
        and "<Code>InvalidParameterValue</Code>" in body
        and "<SenderFault>true</SenderFault>" in body
    )

    status, body = query(
        overcast,
        queue,
        Action="SendMessageBatch",
        **{f"SendMessageBatchRequestEntry.{i}.Id": str(i) for i in range(1, 12)},
        **{f"SendMessageBatchRequestEntry.{i}.MessageBody": "x" for i in range(1, 12)},
    )
    assert status == 400 and "<Code>AWS.SimpleQueueService.TooManyEntriesInBatchRequest</Code>" in body

    assert query(overcast, queue, Action="PurgeQueue")[0] == 200
    status, body = query(overcast, queue, Action="PurgeQueue")
    assert status == 403 and "<Code>AWS.SimpleQueueService.PurgeQueueInProgress</Code>" in body

    status, body = query(
        overcast, "/", Action="ListMessageMoveTasks", SourceArn="arn:aws:sqs:us-east-1:000000000000:missing"
    )
    assert status == 404 and "<Code>ResourceNotFoundException</Code>" in body
