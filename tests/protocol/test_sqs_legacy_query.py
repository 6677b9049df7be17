"""SQS's legacy query protocol: old SDKs send `Action=SendMessage&...` form requests against what is now a
json-only model, and expect the 2012-11-05 XML responses. Requests are built by hand as those SDKs built
them; responses are checked element by element."""

from __future__ import annotations

import base64
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest

from overcast.errors import ServiceError
from overcast.http import Headers, HttpRequest
from overcast.protocol import parse_request, serialize_error, serialize_response
from overcast.protocol.models import get_service_model
from tests.protocol.examples import example_output

NS = "{http://queue.amazonaws.com/doc/2012-11-05/}"
SQS = get_service_model("sqs")


def _request(pairs: list[tuple[str, str]], method: str = "POST") -> HttpRequest:
    form = urlencode(pairs)
    if method == "GET":
        return HttpRequest("GET", "/", form, Headers())
    headers = Headers({"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    return HttpRequest("POST", "/", "", headers, form.encode())


def _parse(action: str, pairs: list[tuple[str, str]], method: str = "POST") -> dict:
    operation = SQS.operation_model(action)
    pairs = [("Action", action), ("Version", "2012-11-05"), *pairs]
    return parse_request("query", operation, _request(pairs, method))


def _respond(action: str, result: dict) -> ElementTree.Element:
    response = serialize_response("query", SQS.operation_model(action), result, "rid-1")
    assert response.status == 200
    root = ElementTree.fromstring(response.body)
    assert root.tag == f"{NS}{action}Response"
    assert root.find(f"{NS}ResponseMetadata/{NS}RequestId").text == "rid-1"
    return root


def _result(root, action):
    node = root.find(f"{NS}{action}Result")
    assert node is not None
    return node


def _text(node, path):
    found = node.find("/".join(NS + p for p in path.split("/")))
    assert found is not None, path
    return found.text or ""


QUEUE = "http://localhost:4566/000000000000/q1"

# ---------------------------------------------------------------------------------------------- requests


def test_create_queue_attributes_and_tags():
    params = _parse(
        "CreateQueue",
        [
            ("QueueName", "q1"),
            ("Attribute.1.Name", "VisibilityTimeout"),
            ("Attribute.1.Value", "40"),
            ("Attribute.2.Name", "FifoQueue"),
            ("Attribute.2.Value", "true"),
            ("Tag.1.Key", "team"),
            ("Tag.1.Value", "a&b c"),
        ],
    )
    assert params == {
        "QueueName": "q1",
        "Attributes": {"VisibilityTimeout": "40", "FifoQueue": "true"},
        "tags": {"team": "a&b c"},
    }


def test_send_message_with_message_attributes():
    params = _parse(
        "SendMessage",
        [
            ("QueueUrl", QUEUE),
            ("MessageBody", "hello <world> & \u00e9"),
            ("DelaySeconds", "5"),
            ("MessageAttribute.1.Name", "colour"),
            ("MessageAttribute.1.Value.DataType", "String"),
            ("MessageAttribute.1.Value.StringValue", "blue"),
            ("MessageAttribute.2.Name", "raw"),
            ("MessageAttribute.2.Value.DataType", "Binary"),
            ("MessageAttribute.2.Value.BinaryValue", base64.b64encode(b"\x00\x01\xff").decode()),
            ("MessageSystemAttribute.1.Name", "AWSTraceHeader"),
            ("MessageSystemAttribute.1.Value.DataType", "String"),
            ("MessageSystemAttribute.1.Value.StringValue", "Root=1-abc"),
            ("MessageGroupId", "g"),
        ],
    )
    assert params == {
        "QueueUrl": QUEUE,
        "MessageBody": "hello <world> & \u00e9",
        "DelaySeconds": 5,
        "MessageAttributes": {
            "colour": {"DataType": "String", "StringValue": "blue"},
            "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
        },
        "MessageSystemAttributes": {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}},
        "MessageGroupId": "g",
    }


def test_receive_message_names_and_get_style_request():
    pairs = [
        ("QueueUrl", QUEUE),
        ("AttributeName.1", "All"),
        ("AttributeName.2", "QueueArn"),
        ("MessageAttributeName.1", "colour"),
        ("MaxNumberOfMessages", "10"),
        ("WaitTimeSeconds", "0"),
        ("VisibilityTimeout", "30"),
    ]
    expected = {
        "QueueUrl": QUEUE,
        "AttributeNames": ["All", "QueueArn"],
        "MessageAttributeNames": ["colour"],
        "MaxNumberOfMessages": 10,
        "WaitTimeSeconds": 0,
        "VisibilityTimeout": 30,
    }
    assert _parse("ReceiveMessage", pairs) == expected
    assert _parse("ReceiveMessage", pairs, method="GET") == expected


def test_list_items_come_back_in_index_order():
    params = _parse(
        "GetQueueAttributes",
        [("QueueUrl", QUEUE)]
        + [(f"AttributeName.{i}", name) for i, name in ((10, "QueueArn"), (2, "Policy"), (1, "All"))],
    )
    assert params["AttributeNames"] == ["All", "Policy", "QueueArn"]


def test_batch_entries():
    params = _parse(
        "SendMessageBatch",
        [
            ("QueueUrl", QUEUE),
            ("SendMessageBatchRequestEntry.1.Id", "m1"),
            ("SendMessageBatchRequestEntry.1.MessageBody", "one"),
            ("SendMessageBatchRequestEntry.1.DelaySeconds", "3"),
            ("SendMessageBatchRequestEntry.1.MessageAttribute.1.Name", "k"),
            ("SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType", "Number"),
            ("SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue", "7"),
            ("SendMessageBatchRequestEntry.2.Id", "m2"),
            ("SendMessageBatchRequestEntry.2.MessageBody", "two"),
        ],
    )
    assert params == {
        "QueueUrl": QUEUE,
        "Entries": [
            {
                "Id": "m1",
                "MessageBody": "one",
                "DelaySeconds": 3,
                "MessageAttributes": {"k": {"DataType": "Number", "StringValue": "7"}},
            },
            {"Id": "m2", "MessageBody": "two"},
        ],
    }
    params = _parse(
        "DeleteMessageBatch",
        [
            ("QueueUrl", QUEUE),
            ("DeleteMessageBatchRequestEntry.1.Id", "a"),
            ("DeleteMessageBatchRequestEntry.1.ReceiptHandle", "rh1"),
        ],
    )
    assert params["Entries"] == [{"Id": "a", "ReceiptHandle": "rh1"}]
    params = _parse(
        "ChangeMessageVisibilityBatch",
        [
            ("QueueUrl", QUEUE),
            ("ChangeMessageVisibilityBatchRequestEntry.1.Id", "a"),
            ("ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle", "rh1"),
            ("ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout", "60"),
        ],
    )
    assert params["Entries"] == [{"Id": "a", "ReceiptHandle": "rh1", "VisibilityTimeout": 60}]


def test_set_attributes_tags_permissions():
    assert _parse(
        "SetQueueAttributes",
        [("QueueUrl", QUEUE), ("Attribute.1.Name", "DelaySeconds"), ("Attribute.1.Value", "9")],
    ) == {"QueueUrl": QUEUE, "Attributes": {"DelaySeconds": "9"}}
    assert _parse("TagQueue", [("QueueUrl", QUEUE), ("Tag.1.Key", "a"), ("Tag.1.Value", "1")]) == {
        "QueueUrl": QUEUE,
        "Tags": {"a": "1"},
    }
    assert _parse("UntagQueue", [("QueueUrl", QUEUE), ("TagKey.1", "a"), ("TagKey.2", "b")]) == {
        "QueueUrl": QUEUE,
        "TagKeys": ["a", "b"],
    }
    assert _parse(
        "AddPermission",
        [
            ("QueueUrl", QUEUE),
            ("Label", "l"),
            ("AWSAccountId.1", "111122223333"),
            ("ActionName.1", "SendMessage"),
            ("ActionName.2", "ReceiveMessage"),
        ],
    ) == {
        "QueueUrl": QUEUE,
        "Label": "l",
        "AWSAccountIds": ["111122223333"],
        "Actions": ["SendMessage", "ReceiveMessage"],
    }


def test_malformed_number_is_a_service_error():
    with pytest.raises(ServiceError):
        _parse("ReceiveMessage", [("QueueUrl", QUEUE), ("MaxNumberOfMessages", "ten")])


# --------------------------------------------------------------------------------------------- responses


def test_send_message_response():
    root = _respond("SendMessage", {"MessageId": "m-1", "MD5OfMessageBody": "abc", "SequenceNumber": "1"})
    result = _result(root, "SendMessage")
    assert _text(result, "MessageId") == "m-1"
    assert _text(result, "MD5OfMessageBody") == "abc"
    assert _text(result, "SequenceNumber") == "1"


def test_create_queue_and_list_queues_responses():
    root = _respond("CreateQueue", {"QueueUrl": QUEUE})
    assert _text(_result(root, "CreateQueue"), "QueueUrl") == QUEUE
    root = _respond("ListQueues", {"QueueUrls": [QUEUE, QUEUE + "b"], "NextToken": "n"})
    result = _result(root, "ListQueues")
    assert [e.text for e in result.findall(f"{NS}QueueUrl")] == [QUEUE, QUEUE + "b"]
    assert _text(result, "NextToken") == "n"
    root = _respond("ListDeadLetterSourceQueues", {"queueUrls": [QUEUE]})
    assert [e.text for e in _result(root, "ListDeadLetterSourceQueues").findall(f"{NS}QueueUrl")] == [QUEUE]


def test_get_queue_attributes_response_is_flattened_name_value():
    root = _respond(
        "GetQueueAttributes", {"Attributes": {"VisibilityTimeout": "30", "QueueArn": "arn:aws:sqs:x"}}
    )
    attrs = _result(root, "GetQueueAttributes").findall(f"{NS}Attribute")
    assert {_text(a, "Name"): _text(a, "Value") for a in attrs} == {
        "VisibilityTimeout": "30",
        "QueueArn": "arn:aws:sqs:x",
    }


def test_receive_message_response():
    root = _respond(
        "ReceiveMessage",
        {
            "Messages": [
                {
                    "MessageId": "m1",
                    "ReceiptHandle": "rh",
                    "MD5OfBody": "md5",
                    "Body": "<b>&",
                    "Attributes": {"SentTimestamp": "123", "ApproximateReceiveCount": "1"},
                    "MD5OfMessageAttributes": "md5a",
                    "MessageAttributes": {
                        "colour": {"DataType": "String", "StringValue": "blue"},
                        "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
                    },
                },
                {"MessageId": "m2", "Body": "two"},
            ]
        },
    )
    messages = _result(root, "ReceiveMessage").findall(f"{NS}Message")
    assert len(messages) == 2
    first = messages[0]
    assert _text(first, "Body") == "<b>&"
    assert _text(first, "ReceiptHandle") == "rh"
    attrs = {_text(a, "Name"): _text(a, "Value") for a in first.findall(f"{NS}Attribute")}
    assert attrs == {"SentTimestamp": "123", "ApproximateReceiveCount": "1"}
    mattrs = {_text(a, "Name"): a.find(f"{NS}Value") for a in first.findall(f"{NS}MessageAttribute")}
    assert _text(mattrs["colour"], "DataType") == "String"
    assert _text(mattrs["colour"], "StringValue") == "blue"
    assert base64.b64decode(_text(mattrs["raw"], "BinaryValue")) == b"\x00\x01"
    assert _text(messages[1], "MessageId") == "m2"


def test_batch_responses():
    root = _respond(
        "SendMessageBatch",
        {
            "Successful": [{"Id": "a", "MessageId": "m", "MD5OfMessageBody": "x"}],
            "Failed": [{"Id": "b", "SenderFault": True, "Code": "InvalidParameterValue", "Message": "no"}],
        },
    )
    result = _result(root, "SendMessageBatch")
    ok = result.findall(f"{NS}SendMessageBatchResultEntry")
    assert [_text(e, "Id") for e in ok] == ["a"]
    failed = result.findall(f"{NS}BatchResultErrorEntry")
    assert _text(failed[0], "SenderFault") == "true"
    assert _text(failed[0], "Code") == "InvalidParameterValue"
    root = _respond("DeleteMessageBatch", {"Successful": [{"Id": "a"}], "Failed": []})
    assert len(_result(root, "DeleteMessageBatch").findall(f"{NS}DeleteMessageBatchResultEntry")) == 1
    root = _respond("ChangeMessageVisibilityBatch", {"Successful": [{"Id": "a"}, {"Id": "b"}], "Failed": []})
    entries = _result(root, "ChangeMessageVisibilityBatch").findall(
        f"{NS}ChangeMessageVisibilityBatchResultEntry"
    )
    assert len(entries) == 2


def test_list_queue_tags_response():
    root = _respond("ListQueueTags", {"Tags": {"a": "1", "b": "2"}})
    tags = _result(root, "ListQueueTags").findall(f"{NS}Tag")
    assert {_text(t, "Key"): _text(t, "Value") for t in tags} == {"a": "1", "b": "2"}


def test_empty_result_still_has_the_wrapper():
    root = _respond("DeleteQueue", {})
    assert root.find(f"{NS}ResponseMetadata") is not None
    root = _respond("PurgeQueue", {})
    assert root.find(f"{NS}ResponseMetadata") is not None


@pytest.mark.parametrize("op_name", SQS.operation_names)
def test_every_operation_serializes_to_wellformed_xml(op_name):
    operation = SQS.operation_model(op_name)
    root = _respond(op_name, example_output(operation))
    if operation.output_shape is not None:
        _result(root, op_name)


# ------------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "code,wire",
    [
        ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"),
        ("QueueNameExists", "QueueAlreadyExists"),
        ("PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress"),
        ("TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"),
        ("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid"),
        ("InvalidParameterValue", "InvalidParameterValue"),
    ],
)
def test_errors_use_the_legacy_codes(code, wire):
    response = serialize_error(
        "query", SQS, SQS.operation_model("SendMessage"), ServiceError(code, "nope"), "rid-2"
    )
    assert response.status == 400
    root = ElementTree.fromstring(response.body)
    assert root.tag == f"{NS}ErrorResponse"
    assert _text(root, "Error/Type") == "Sender"
    assert _text(root, "Error/Code") == wire
    # the query protocol words a missing queue its own way
    expected = (
        "The specified queue does not exist for this wsdl version." if code == "QueueDoesNotExist" else "nope"
    )
    assert _text(root, "Error/Message") == expected
    assert _text(root, "RequestId") == "rid-2"


def test_queue_url_from_the_request_path():
    """Old SDKs send queue actions to the queue URL itself, without a QueueUrl parameter."""
    operation = SQS.operation_model("SendMessage")
    pairs = [("Action", "SendMessage"), ("Version", "2012-11-05"), ("MessageBody", "hi")]
    request = _request(pairs)
    request.path = "/000000000000/q1"
    request.host = "localhost:4566"
    params = parse_request("query", operation, request)
    assert params == {"QueueUrl": "http://localhost:4566/000000000000/q1", "MessageBody": "hi"}
    # an explicit QueueUrl wins
    request = _request([*pairs, ("QueueUrl", QUEUE)])
    request.path = "/000000000000/other"
    assert parse_request("query", operation, request)["QueueUrl"] == QUEUE
