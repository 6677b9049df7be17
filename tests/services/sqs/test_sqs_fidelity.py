"""SQS as AWS answers it (issue 14): attribute rules and texts, the JSON protocol's error types, receipt
handles, move task handles, FIFO details, permissions, dead-letter receive counts, queue URLs."""

import base64
import http.client
import json
import threading
import time
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of


@pytest.fixture
def sqs(overcast):
    return overcast.client("sqs")


def signed(server, method: str, body: bytes, headers: dict, host: str | None = None):
    """A request signed as a client of `host` would sign it, sent to the server (answer: status, headers,
    body)."""
    port = urlsplit(server.endpoint).port
    host = host or f"127.0.0.1:{port}"
    request = AWSRequest(method=method, url=f"http://{host}/", data=body, headers={**headers, "Host": host})
    SigV4Auth(Credentials("test", "test"), "sqs", "us-east-1").add_auth(request)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, "/", body=body, headers=dict(request.headers.items()))
    response = connection.getresponse()
    answer = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    connection.close()
    return answer


def json_call(server, operation: str, params: dict, host: str | None = None):
    headers = {"X-Amz-Target": f"AmazonSQS.{operation}", "Content-Type": "application/x-amz-json-1.0"}
    status, headers, body = signed(server, "POST", json.dumps(params).encode(), headers, host)
    return status, headers, json.loads(body)


def test_attribute_rules_and_texts(sqs):
    url = sqs.create_queue(
        QueueName="a.fifo", Attributes={"FifoQueue": "True", "ContentBasedDeduplication": "TRUE"}
    )
    attributes = sqs.get_queue_attributes(QueueUrl=url["QueueUrl"], AttributeNames=["All"])["Attributes"]
    assert attributes["ContentBasedDeduplication"] == "true"
    for name, value in (
        ("FifoQueue", "false"),
        ("ContentBasedDeduplication", "true"),
        ("DeduplicationScope", "queue"),
    ):
        with pytest.raises(ClientError) as raised:
            sqs.create_queue(QueueName="standard", Attributes={name: value})
        assert (error_of(raised), message_of(raised)) == (
            ("InvalidAttributeName", 400),
            f"Unknown Attribute {name}.",
        )
    with pytest.raises(ClientError) as raised:
        sqs.set_queue_attributes(QueueUrl=url["QueueUrl"], Attributes={"FifoQueue": "false"})
    assert error_of(raised)[0] == "InvalidAttributeValue"
    assert message_of(raised).endswith("Reason: Modifying queue type is not supported.")
    with pytest.raises(ClientError) as raised:
        sqs.create_queue(QueueName="no-suffix", Attributes={"FifoQueue": "true"})
    assert error_of(raised)[0] == "InvalidParameterValue"
    assert message_of(raised).startswith("The name of a FIFO queue can only include alphanumeric characters")


def test_json_errors_the_model_does_not_define(overcast, sqs):
    url = sqs.create_queue(QueueName="plain")["QueueUrl"]
    status, headers, body = json_call(overcast, "SendMessage", {"QueueUrl": url})
    assert status == 400 and body["__type"] == "MissingRequiredParameterException"
    assert body["message"] == "The request must contain the parameter MessageBody."
    assert headers["x-amzn-query-error"] == "MissingParameter;Sender"
    status, headers, body = json_call(overcast, "ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 21})
    assert status == 400 and body["__type"] == "InvalidParameterValueException"
    assert headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"
    assert body["message"] == (
        "Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."
    )
    status, _, body = json_call(
        overcast, "SendMessageBatch", {"QueueUrl": url, "Entries": [{"Id": "1", "MessageBody": "a"}]}
    )
    assert status == 200 and "Failed" not in body and len(body["Successful"]) == 1


def test_fifo_batch_without_group_fails_whole_and_fifo_delay_and_purge(sqs, overcast):
    url = sqs.create_queue(QueueName="f.fifo", Attributes={"FifoQueue": "true", "DelaySeconds": "5"})[
        "QueueUrl"
    ]
    entries = [
        {"Id": "1", "MessageBody": "a", "MessageGroupId": "g", "MessageDeduplicationId": "1"},
        {"Id": "2", "MessageBody": "b", "MessageDeduplicationId": "2"},
    ]
    with pytest.raises(ClientError) as raised:
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert (error_of(raised), message_of(raised)) == (
        ("MissingParameter", 400),
        "The request must contain the parameter MessageGroupId.",
    )
    sent = sqs.send_message(
        QueueUrl=url, MessageBody="late", MessageGroupId="g", MessageDeduplicationId="d", DelaySeconds=0
    )
    number = sent["SequenceNumber"]
    assert len(number) == 20 and not number.startswith("1000000000")
    assert "Messages" not in sqs.receive_message(QueueUrl=url)  # the queue's five seconds still apply
    overcast.advance_clock("6s")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "late"
    sqs.purge_queue(QueueUrl=url)
    again = sqs.send_message(QueueUrl=url, MessageBody="late", MessageGroupId="g", MessageDeduplicationId="d")
    assert again["MessageId"] != sent["MessageId"]  # the purge forgot the deduplication id


def test_receipt_handles_stay_valid(sqs, overcast):
    url = sqs.create_queue(QueueName="work")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    old = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"][0]["ReceiptHandle"]
    overcast.advance_clock("2s")
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=old, VisibilityTimeout=0)  # expired: 200
    new = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"][0]["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=old, VisibilityTimeout=60)  # older: 200
    sqs.delete_message(QueueUrl=url, ReceiptHandle=new)
    assert (
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "0"
    )


def test_move_task_handles(sqs):
    dlq = sqs.create_queue(QueueName="dead")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 1})
    sqs.create_queue(QueueName="main", Attributes={"RedrivePolicy": policy})
    handle = sqs.start_message_move_task(SourceArn=arn)["TaskHandle"]
    decoded = json.loads(base64.b64decode(handle))
    assert set(decoded) == {"taskId", "sourceArn"} and decoded["sourceArn"] == arn
    with pytest.raises(ClientError) as raised:
        sqs.cancel_message_move_task(TaskHandle="garbage")
    assert (error_of(raised), message_of(raised)) == (
        ("InvalidParameterValue", 400),
        "Value for parameter TaskHandle is invalid.",
    )
    other = base64.b64encode(json.dumps({"taskId": "t", "sourceArn": arn + "-gone"}).encode()).decode()
    with pytest.raises(ClientError) as raised:
        sqs.cancel_message_move_task(TaskHandle=other)
    assert error_of(raised) == ("ResourceNotFoundException", 404)


def test_message_attribute_names_kms_and_permissions(sqs):
    url = sqs.create_queue(QueueName="attrs")["QueueUrl"]
    sqs.send_message(
        QueueUrl=url,
        MessageBody="x",
        MessageAttributes={
            "Hello": {"DataType": "String", "StringValue": "1"},
            "Other": {"DataType": "String", "StringValue": "2"},
            "héllo": {"DataType": "String", "StringValue": "3"},
        },
    )
    message = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["Hel.*"], VisibilityTimeout=0)
    assert set(message["Messages"][0]["MessageAttributes"]) == {"Hello"}
    message = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["*"])
    assert set(message["Messages"][0]["MessageAttributes"]) == {"Hello", "Other", "héllo"}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "alias/aws/sqs"})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": ""})
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert "KmsMasterKeyId" not in attributes and "KmsDataKeyReusePeriodSeconds" not in attributes
    sqs.add_permission(QueueUrl=url, Label="send", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    arn = "arn:aws:sqs:us-east-1:000000000000:attrs"
    assert policy["Version"] == "2008-10-17" and policy["Id"] == f"{arn}/SQSDefaultPolicy"
    with pytest.raises(ClientError) as raised:
        sqs.remove_permission(QueueUrl=url, Label="nothing")
    assert message_of(raised) == "Value nothing for parameter Label is invalid. Reason: can't find label."


def test_dead_letter_queue_keeps_the_receive_count(sqs, overcast):
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source = sqs.create_queue(
        QueueName="src",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 2})},
    )["QueueUrl"]
    sqs.send_message(QueueUrl=source, MessageBody="poison")
    for _ in range(2):
        assert sqs.receive_message(QueueUrl=source, VisibilityTimeout=1)["Messages"]
        overcast.advance_clock("2s")
    assert "Messages" not in sqs.receive_message(QueueUrl=source)  # moved on this receive
    moved = sqs.receive_message(QueueUrl=dlq, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert moved["Attributes"]["ApproximateReceiveCount"] == "3"


def test_deleting_frees_a_fifo_group_for_a_waiting_long_poll(sqs):
    url = sqs.create_queue(
        QueueName="g.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )
    url = url["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="first", MessageGroupId="g")
    sqs.send_message(QueueUrl=url, MessageBody="second", MessageGroupId="g")
    first = sqs.receive_message(QueueUrl=url)["Messages"][0]
    got: dict = {}

    def poll() -> None:
        started = time.monotonic()
        got["answer"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
        got["waited"] = time.monotonic() - started

    waiter = threading.Thread(target=poll)
    waiter.start()
    time.sleep(0.5)  # the poll is waiting on the blocked group
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    waiter.join(timeout=30)
    assert got["answer"]["Messages"][0]["Body"] == "second"
    assert got["waited"] < 15  # woken by the delete, not by the end of the 20-second wait


def test_queue_urls_carry_their_region_on_a_resolvable_host(overcast):
    port = urlsplit(overcast.endpoint).port
    host = f"localhost.localstack.cloud:{port}"
    _, _, body = json_call(overcast, "CreateQueue", {"QueueName": "regional"}, host=host)
    assert body["QueueUrl"] == f"http://sqs.us-east-1.localhost.localstack.cloud:{port}/000000000000/regional"


def query(server, path: str, body: bytes, url_query: str = ""):
    """A legacy query request (signed) to `path`."""
    port = urlsplit(server.endpoint).port
    host = f"127.0.0.1:{port}"
    target = path + (f"?{url_query}" if url_query else "")
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Host": host}
    request = AWSRequest(method="POST", url=f"http://{host}{target}", data=body, headers=headers)
    SigV4Auth(Credentials("test", "test"), "sqs", "us-east-1").add_auth(request)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", target, body=body, headers=dict(request.headers.items()))
    response = connection.getresponse()
    answer = response.status, response.read().decode()
    connection.close()
    return answer


def test_query_protocol_on_a_queue_url(overcast, sqs):
    sqs.create_queue(QueueName="legacy")
    path = "/000000000000/legacy"
    status, body = query(overcast, path, b"Action=CreateQueue&QueueName=other")
    assert status == 400 and "<Code>InvalidAction</Code>" in body
    assert "<Message>The action CreateQueue is not valid for this endpoint.</Message>" in body
    status, body = query(overcast, path, b"Action=SendMessage")
    assert status == 400 and "<Code>MissingParameter</Code>" in body
    assert "The request must contain the parameter MessageBody." in body
    status, body = query(overcast, path, b"Action=ReceiveMessage")
    assert status == 200 and "<ReceiveMessageResult/>" in body
    status, body = query(overcast, "/000000000000/absent", b"Action=GetQueueAttributes")
    assert "The specified queue does not exist for this wsdl version." in body
    status, body = query(overcast, path, b"", url_query="Action=SendMessage&MessageBody=from-the-url")
    assert status == 200 and "<MessageId>" in body
    assert (
        sqs.receive_message(QueueUrl=sqs.get_queue_url(QueueName="legacy")["QueueUrl"])["Messages"][0]["Body"]
        == "from-the-url"
    )
