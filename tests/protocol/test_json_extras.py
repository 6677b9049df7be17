"""Event streams, validation messages, malformed input, streaming bodies and modeled error fields for the
json family (json, rest-json, rpc-v2-cbor), checked against botocore's own client code."""

from __future__ import annotations

import datetime as dt
import json

import cbor2
import pytest
from botocore.eventstream import EventStreamBuffer, EventStreamError

from overcast.errors import ServiceError
from overcast.http import Headers, HttpRequest
from overcast.protocol import parse_request, serialize_error, serialize_response
from overcast.protocol.eventstream import HeaderValue, encode_message
from overcast.protocol.models import get_service_model
from overcast.protocol.validate import PROTOCOL_CODES, SERVICE_CODES, validate
from tests.protocol.examples import normalise
from tests.protocol.harness import client_parse, client_request

UTC = dt.UTC


def op(service, name):
    return get_service_model(service).operation_model(name)


def json_request(service, name, body, version="1.0"):
    prefix = get_service_model(service).metadata["targetPrefix"]
    headers = Headers(
        {"X-Amz-Target": f"{prefix}.{name}", "Content-Type": f"application/x-amz-json-{version}"}
    )
    return HttpRequest(
        "POST", "/", "", headers, body if isinstance(body, bytes) else json.dumps(body).encode()
    )


# ------------------------------------------------------------------------------------------ event streams


def test_event_message_framing_decodes_with_botocore():
    data = encode_message(
        {
            ":message-type": "event",
            "t": True,
            "f": False,
            "b": HeaderValue(2, -5),
            "s": HeaderValue(3, 300),
            "i": 70000,
            "l": 2**40,
            "bytes": b"\x00\x01",
            "str": "héllo",
            "ts": dt.datetime(2021, 1, 1, tzinfo=UTC),
        },
        b"payload",
    )
    buf = EventStreamBuffer()
    buf.add_data(data + data)
    messages = list(buf)
    assert len(messages) == 2
    h = messages[0].headers
    assert h["t"] is True and h["f"] is False and h["b"] == -5 and h["s"] == 300
    assert h["i"] == 70000 and h["l"] == 2**40 and h["bytes"] == b"\x00\x01" and h["str"] == "héllo"
    assert h["ts"] == 1609459200000
    assert messages[0].payload == b"payload"


def _lambda_stream_result(events):
    return {
        "StatusCode": 200,
        "ExecutedVersion": "$LATEST",
        "ResponseStreamContentType": "text/plain",
        "EventStream": events,
    }


def test_rest_json_event_stream_lambda_invoke_with_response_stream():
    operation = op("lambda", "InvokeWithResponseStream")
    events = [
        {"PayloadChunk": {"Payload": b"hello "}},
        {"PayloadChunk": {"Payload": b"world"}},
        {"InvokeComplete": {"ErrorCode": "E", "ErrorDetails": "D", "LogResult": "L"}},
    ]
    response = serialize_response("rest-json", operation, _lambda_stream_result(events), "rid")
    # the model binds Content-Type to ResponseStreamContentType, so the member's value is sent
    assert ("Content-Type", "text/plain") in response.headers
    assert not isinstance(response.body, bytes)  # streamed, not buffered
    parsed = client_parse("rest-json", operation, response)
    assert parsed["StatusCode"] == 200 and parsed["ExecutedVersion"] == "$LATEST"
    assert list(parsed["EventStream"]) == events


def test_event_stream_from_async_iterator():
    operation = op("lambda", "InvokeWithResponseStream")

    async def source():
        for i in range(3):
            yield {"PayloadChunk": {"Payload": str(i).encode()}}

    response = serialize_response("rest-json", operation, _lambda_stream_result(source()), "rid")
    parsed = client_parse("rest-json", operation, response)
    assert [e["PayloadChunk"]["Payload"] for e in parsed["EventStream"]] == [b"0", b"1", b"2"]


def test_json_event_stream_kinesis_subscribe_to_shard_has_initial_response():
    operation = op("kinesis", "SubscribeToShard")
    when = dt.datetime(2022, 5, 6, 7, 8, 9, tzinfo=UTC)
    event = {
        "SubscribeToShardEvent": {
            "Records": [
                {
                    "SequenceNumber": "1",
                    "ApproximateArrivalTimestamp": when,
                    "Data": b"\x00data",
                    "PartitionKey": "pk",
                }
            ],
            "ContinuationSequenceNumber": "1",
            "MillisBehindLatest": 0,
        }
    }
    response = serialize_response("json", operation, {"EventStream": [event]}, "rid")
    parsed = client_parse("json", operation, response)
    got = list(parsed["EventStream"])
    assert normalise(got) == normalise([event])


def test_event_stream_modeled_and_unmodeled_errors():
    operation = op("kinesis", "SubscribeToShard")

    def failing(code):
        yield {
            "SubscribeToShardEvent": {
                "Records": [],
                "ContinuationSequenceNumber": "1",
                "MillisBehindLatest": 0,
            }
        }
        raise ServiceError(code, "gone away")

    for code in ("ResourceNotFoundException", "SomethingUnmodeled"):
        response = serialize_response("json", operation, {"EventStream": failing(code)}, "rid")
        parsed = client_parse("json", operation, response)
        stream = iter(parsed["EventStream"])
        assert "SubscribeToShardEvent" in next(stream)
        with pytest.raises(EventStreamError) as info:
            next(stream)
        assert info.value.response["Error"]["Code"] == code
        assert info.value.response["Error"]["Message"] == "gone away"


# ------------------------------------------------------------------------------------------- validation


def _error(fn, *args):
    with pytest.raises(ServiceError) as info:
        fn(*args)
    return info.value


def test_validation_missing_required_member():
    e = _error(
        parse_request, "json", op("dynamodb", "DescribeTable"), json_request("dynamodb", "DescribeTable", {})
    )
    assert e.code == "ValidationException"
    assert e.message == (
        "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
        "Member must not be null"
    )
    assert e.status is None  # 400 from the protocol


def test_validation_several_errors_enum_nested_path():
    params = {"KeySchema": [{"AttributeName": "id", "KeyType": "SIDEWAYS"}], "AttributeDefinitions": []}
    e = _error(validate, op("dynamodb", "CreateTable"), params)
    assert e.message.startswith("2 validation errors detected: ")
    assert "Value null at 'tableName' failed to satisfy constraint: Member must not be null" in e.message
    assert (
        "Value 'SIDEWAYS' at 'keySchema.1.member.keyType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [HASH, RANGE]" in e.message
    )
    assert "; " in e.message


def test_validation_length_and_range():
    e = _error(validate, op("kinesis", "DescribeStream"), {"StreamName": "x" * 200})
    assert e.message == (
        f"1 validation error detected: Value '{'x' * 200}' at 'streamName' failed to satisfy constraint: "
        "Member must have length less than or equal to 128"
    )
    e = _error(validate, op("kinesis", "DescribeStream"), {"StreamName": "s", "Limit": 0})
    assert e.message == (
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )
    e = _error(validate, op("dynamodb", "DescribeStream" if False else "ListTables"), {"Limit": 500})
    assert "Member must have value less than or equal to 100" in e.message
    e = _error(validate, op("kinesis", "DescribeStream"), {"StreamName": ""})
    assert "Member must have length greater than or equal to 1" in e.message


def test_validation_wrong_type_is_a_serialization_error():
    e = _error(
        parse_request,
        "json",
        op("dynamodb", "DescribeTable"),
        json_request("dynamodb", "DescribeTable", {"TableName": 5}),
    )
    assert e.code == "SerializationException"


def test_validation_codes_per_protocol_and_service():
    operation = op("dynamodb", "DescribeTable")
    assert _error(validate, operation, {}, "query").code == "ValidationError"
    assert _error(validate, operation, {}, "smithy-rpc-v2-cbor").code == "ValidationException"
    assert (
        PROTOCOL_CODES["ec2"] == "InvalidParameterValue"
        and SERVICE_CODES["ec2"]["missing"] == "MissingParameter"
    )
    SERVICE_CODES["dynamodb"] = "CustomValidation"
    try:
        assert _error(validate, operation, {}).code == "CustomValidation"
    finally:
        del SERVICE_CODES["dynamodb"]


def test_valid_params_pass():
    validate(op("dynamodb", "DescribeTable"), {"TableName": "users"})
    validate(op("sqs", "SendMessage"), {"QueueUrl": "http://q", "MessageBody": "hi", "DelaySeconds": 0})


# ---------------------------------------------------------------------------------------- malformed input


def test_malformed_json_body():
    e = _error(
        parse_request, "json", op("sqs", "ListQueues"), json_request("sqs", "ListQueues", b"{not json")
    )
    assert e.code == "SerializationException"
    e = _error(parse_request, "json", op("sqs", "ListQueues"), json_request("sqs", "ListQueues", b"[1, 2]"))
    assert e.code == "SerializationException"


def test_malformed_base64_blob():
    body = {"StreamName": "s", "Data": "!!!not base64***", "PartitionKey": "p"}
    e = _error(
        parse_request, "json", op("kinesis", "PutRecord"), json_request("kinesis", "PutRecord", body, "1.1")
    )
    assert e.code == "SerializationException"


def test_malformed_rest_json_header():
    operation = op("lambda", "ListFunctions")
    request = client_request("rest-json", operation, {"MaxItems": 5})
    request.query = "MaxItems=abc"
    assert _error(parse_request, "rest-json", operation, request).code == "SerializationException"


def test_malformed_cbor():
    operation = op("cloudwatch", "ListDashboards")
    request = client_request("smithy-rpc-v2-cbor", operation, {})
    request.body = b"\xff\xff\x00"
    assert _error(parse_request, "smithy-rpc-v2-cbor", operation, request).code == "SerializationException"


def test_json_null_members_are_dropped():
    parsed = parse_request(
        "json", op("sqs", "ListQueues"), json_request("sqs", "ListQueues", {"QueueNamePrefix": None})
    )
    assert parsed.get("QueueNamePrefix") is None


# ---------------------------------------------------------------------------------------- streaming bodies


class FakeStream:
    content_length = 3

    async def read(self, size=-1):
        return b"abc"

    def __aiter__(self):
        async def gen():
            yield b"abc"

        return gen()


def test_streaming_input_payload_is_the_request_stream():
    operation = op("lambda", "Invoke")
    request = client_request("rest-json", operation, {"FunctionName": "f", "Payload": b"{}"})
    request.body = b""
    request.stream = FakeStream()
    parsed = parse_request("rest-json", operation, request)
    assert parsed["Payload"] is request.stream and parsed["FunctionName"] == "f"


def test_streaming_output_passes_async_iterator_through():
    operation = op("lambda", "Invoke")

    async def chunks():
        yield b'{"a":'
        yield b"1}"

    source = chunks()
    response = serialize_response("rest-json", operation, {"StatusCode": 200, "Payload": source}, "rid")
    assert response.body is source
    parsed = client_parse("rest-json", operation, response)
    assert parsed["Payload"].read() == b'{"a":1}'
    assert parsed["StatusCode"] == 200


def test_status_code_member_and_response_code():
    operation = op("lambda", "Invoke")
    response = serialize_response("rest-json", operation, {"StatusCode": 202}, "rid")
    assert response.status == 202
    response = serialize_response("rest-json", op("lambda", "CreateFunction"), {"FunctionName": "f"}, "rid")
    assert response.status == 201
    response = serialize_response("rest-json", op("lambda", "DeleteFunctionConcurrency"), {}, "rid")
    assert response.status == 204 and response.body == b""


def test_cbor_response_uses_tag_1_timestamps_and_headers():
    operation = op("cloudwatch", "DescribeAlarmHistory")
    when = dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    result = {"AlarmHistoryItems": [{"AlarmName": "a", "Timestamp": when}]}
    response = serialize_response("smithy-rpc-v2-cbor", operation, result, "rid")
    headers = dict(response.headers)
    assert headers["smithy-protocol"] == "rpc-v2-cbor" and headers["Content-Type"] == "application/cbor"
    # tag 1 (0xc1) + uint32 (0x1a) epoch seconds
    assert b"\xc1\x1a" + (1577934245).to_bytes(4, "big") in response.body
    assert cbor2.loads(response.body)["AlarmHistoryItems"][0]["Timestamp"] == when


# ------------------------------------------------------------------------------------------------ errors


def test_error_fields_are_modeled_members():
    service = get_service_model("dynamodb")
    operation = service.operation_model("TransactWriteItems")
    reasons = [{"Code": "ConditionalCheckFailed", "Message": "nope"}]
    error = ServiceError("TransactionCanceledException", "cancelled", CancellationReasons=reasons)
    response = serialize_error("json", service, operation, error, "rid")
    body = json.loads(response.body)
    assert body["__type"] == "TransactionCanceledException" and body["CancellationReasons"] == reasons
    parsed = client_parse("json", operation, response, service.shape_for("TransactionCanceledException"))
    assert parsed["CancellationReasons"] == reasons


def test_rest_json_error_header_member_and_type_header():
    service = get_service_model("lambda")
    operation = service.operation_model("Invoke")
    error = ServiceError(
        "TooManyRequestsException",
        "slow down",
        retryAfterSeconds="3",
        Reason="ConcurrentInvocationLimitExceeded",
    )
    response = serialize_error("rest-json", service, operation, error, "rid")
    headers = dict(response.headers)
    assert response.status == 429
    assert headers["x-amzn-ErrorType"] == "TooManyRequestsException" and headers["Retry-After"] == "3"
    parsed = client_parse("rest-json", operation, response)
    assert parsed["Error"]["Code"] == "TooManyRequestsException"
    assert json.loads(response.body)["Type"] == "User"
    modeled = client_parse("rest-json", operation, response, service.shape_for("TooManyRequestsException"))
    assert modeled["retryAfterSeconds"] == "3" and modeled["Reason"] == "ConcurrentInvocationLimitExceeded"


def test_query_compatible_error_header_and_status():
    service = get_service_model("sqs")
    operation = service.operation_model("GetQueueUrl")
    for code in ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"):
        response = serialize_error("json", service, operation, ServiceError(code, "no queue"), "rid")
        headers = dict(response.headers)
        assert headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
        parsed = client_parse("json", operation, response)
        assert parsed["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
        assert parsed["Error"]["QueryErrorCode"] == "QueueDoesNotExist"
        assert response.status == 400


def test_unmodeled_error_status_defaults():
    service = get_service_model("dynamodb")
    r = serialize_error("json", service, None, ServiceError("Weird", "x"), "rid")
    assert r.status == 400
    r = serialize_error(
        "json", service, None, ServiceError("InternalFailure", "x", sender_fault=False), "rid"
    )
    assert r.status == 500
    r = serialize_error("rest-json", get_service_model("lambda"), None, ServiceError("X", "y", 418), "rid")
    assert r.status == 418
    parsed = client_parse("rest-json", op("lambda", "ListFunctions"), r)
    assert parsed["Error"]["Code"] == "X"


def test_every_response_carries_a_request_id():
    for protocol, service, name in (
        ("json", "sqs", "ListQueues"),
        ("rest-json", "lambda", "ListFunctions"),
        ("smithy-rpc-v2-cbor", "cloudwatch", "ListDashboards"),
    ):
        response = serialize_response(protocol, op(service, name), {}, "the-id")
        assert ("x-amzn-RequestId", "the-id") in response.headers
        assert (
            client_parse(protocol, op(service, name), response)["ResponseMetadata"]["RequestId"] == "the-id"
        )


# ------------------------------------------------------------------------------------------ performance


# ------------------------------------------------------------------------------------------ tricky values


def _round_trip_request(protocol, operation, params):
    parsed = parse_request(protocol, operation, client_request(protocol, operation, params))
    assert normalise(parsed) == normalise(params)
    return parsed


def test_rest_json_labels_and_query_with_special_characters():
    _round_trip_request(  # labels of a service whose model sets no pattern on them
        "rest-json", op("apigateway", "GetStage"), {"restApiId": "a b&c=d+é/ü", "stageName": "s/1%"}
    )
    _round_trip_request(
        "rest-json", op("lambda", "ListFunctions"), {"Marker": "a&b=c d+e%f/é", "MaxItems": 3}
    )
    _round_trip_request(
        "rest-json",
        op("apigateway", "GetResource"),
        {"restApiId": "api 1", "resourceId": "r/1%", "embed": ["a,b", "c d"]},
    )


def test_rest_json_query_map_and_list():
    operation = op("apigateway", "ImportRestApi")
    params = {
        "body": b"{}",
        "parameters": {"ignore": "documentation", "endpointConfigurationTypes": "REGIONAL"},
    }
    _round_trip_request("rest-json", operation, params)


def test_header_list_quoting():
    from overcast.protocol.common import split_header_list

    assert split_header_list('a, "b,c", "d\\"e", f') == ["a", "b,c", 'd"e', "f"]


def test_json_timestamps_with_microseconds_and_special_floats():
    when = dt.datetime(2023, 4, 5, 6, 7, 8, 123456, tzinfo=UTC)
    parsed = _round_trip_request(
        "json",
        op("events", "PutEvents"),
        {"Entries": [{"Time": when, "Source": "s", "DetailType": "d", "Detail": "{}"}]},
    )
    assert parsed["Entries"][0]["Time"] == when
    import math

    operation = op("cloudwatch", "PutMetricData")
    for protocol in ("json", "smithy-rpc-v2-cbor"):
        params = {
            "Namespace": "n",
            "MetricData": [{"MetricName": "m", "Value": float("nan"), "Values": [float("inf"), 1.5]}],
        }
        parsed = parse_request(protocol, operation, client_request(protocol, operation, params))
        datum = parsed["MetricData"][0]
        assert math.isnan(datum["Value"]) and datum["Values"] == [float("inf"), 1.5]


def test_json_response_special_floats_and_microsecond_timestamps():
    operation = op("cloudwatch", "GetMetricData")
    when = dt.datetime(2023, 4, 5, 6, 7, 8, 123000, tzinfo=UTC)
    result = {"MetricDataResults": [{"Id": "q", "Timestamps": [when], "Values": [float("-inf"), 2.5]}]}
    for protocol in ("json", "smithy-rpc-v2-cbor"):
        parsed = client_parse(protocol, operation, serialize_response(protocol, operation, result, "rid"))
        item = parsed["MetricDataResults"][0]
        # Non-finite doubles travel as the strings smithy specifies ("NaN", "Infinity", "-Infinity");
        # botocore's json-protocol parser (unlike rest-json's) hands such strings back unconverted, exactly
        # as it does against real AWS. CBOR carries them natively.
        expected_inf = "-Infinity" if protocol == "json" else float("-inf")
        assert item["Values"] == [expected_inf, 2.5]
        assert item["Timestamps"][0] == when


def test_unicode_bodies():
    operation = op("sqs", "SendMessage")
    _round_trip_request(
        "json", operation, {"QueueUrl": "http://q", "MessageBody": 'héllo 🌍 \u2028 "quoted"'}
    )
    out = op("sqs", "ReceiveMessage")
    result = {"Messages": [{"Body": "héllo 🌍", "MessageId": "1"}]}
    parsed = client_parse("json", out, serialize_response("json", out, result, "rid"))
    assert parsed["Messages"][0]["Body"] == "héllo 🌍"


def test_handler_extras_do_not_break_serialization():
    # unmodeled keys, naive datetimes, and bytes outside modeled blobs are tolerated
    operation = op("dynamodb", "DescribeTable")
    naive = dt.datetime(2020, 1, 1, 0, 0, 0)
    result = {"Table": {"TableName": "t", "CreationDateTime": naive, "Extra": b"x"}, "Unmodeled": 1}
    parsed = client_parse("json", operation, serialize_response("json", operation, result, "rid"))
    assert parsed["Table"]["CreationDateTime"] == naive.replace(tzinfo=UTC)
    assert "Unmodeled" not in parsed
