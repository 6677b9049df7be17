"""Invoking functions for real: Python under awslambdaric, results, errors, logs, timeouts."""

import base64
import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of, message_of


def test_python_function_runs_and_returns_its_result(lam, make_function, invoke_json):
    make_function("echo")
    response, body = invoke_json("echo", {"key1": "value1"})
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert body["event"] == {"key1": "value1"}
    assert body["request_id"] == response["ResponseMetadata"]["RequestId"]


def test_log_tail_has_start_end_report_and_output(lam, make_function, invoke_json):
    make_function("tail")
    response, _ = invoke_json("tail", {"a": 1}, LogType="Tail")
    log = base64.b64decode(response["LogResult"]).decode()
    request_id = response["ResponseMetadata"]["RequestId"]
    assert f"START RequestId: {request_id} Version: $LATEST" in log
    assert "got {'a': 1}" in log
    assert f"END RequestId: {request_id}" in log
    assert f"REPORT RequestId: {request_id}\tDuration: " in log
    assert "Memory Size: 128 MB" in log
    assert "Init Duration: " in log  # the first invocation is a cold start
    again, _ = invoke_json("tail", {}, LogType="Tail")
    assert "Init Duration" not in base64.b64decode(again["LogResult"]).decode()  # warm


def test_unhandled_exception_is_reported_as_function_error(lam, make_function, invoke_json):
    make_function("boom", "def handler(event, context):\n    raise ValueError('Something went wrong')\n")
    response, body = invoke_json("boom")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "Something went wrong"
    assert isinstance(body["stackTrace"], list) and body["stackTrace"]


def test_missing_module_is_runtime_import_module_error(lam, make_function, invoke_json):
    make_function("nomodule", handler="missing.handler")
    response, body = invoke_json("nomodule")
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Unable to import module 'missing': No module named 'missing'"


def test_missing_handler_is_runtime_handler_not_found(lam, make_function, invoke_json):
    make_function("nohandler", handler="app.nothing")
    response, body = invoke_json("nohandler")
    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "Handler 'nothing' missing on module 'app'"


def test_timeout_kills_the_worker(lam, make_function, invoke_json):
    source = "import time, os\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n    return os.getpid()\n"
    make_function("sleepy", source, Timeout=1)
    _, pid = invoke_json("sleepy", {"sleep": 0})
    response, body = invoke_json("sleepy", {"sleep": 3}, LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in body["errorMessage"]
    assert "Task timed out after 1.00 seconds" in base64.b64decode(response["LogResult"]).decode()
    _, new_pid = invoke_json("sleepy", {"sleep": 0})
    assert new_pid != pid  # the timed-out worker was killed; a fresh one answered


def test_environment_seen_by_the_function(lam, make_function, overcast, invoke_json):
    source = "import os\ndef handler(event, context):\n    return {k: os.environ.get(k) for k in event}\n"
    make_function("env", source, Environment={"Variables": {"GREETING": "hello"}}, MemorySize=256)
    keys = [
        "GREETING",
        "AWS_REGION",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "_HANDLER",
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
    ]
    _, env = invoke_json("env", keys)
    assert env["GREETING"] == "hello"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "env"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/env"
    assert env["_HANDLER"] == "app.handler"
    assert env["AWS_ENDPOINT_URL"] == overcast.endpoint
    assert env["AWS_ACCESS_KEY_ID"]


def test_function_calls_overcast_with_boto3(lam, make_function, invoke_json):
    source = "import boto3\ndef handler(event, context):\n    return boto3.client('sts').get_caller_identity()['Account']\n"
    make_function("caller", source, Timeout=30)
    response, account = invoke_json("caller")
    assert "FunctionError" not in response, account
    assert account == "000000000000"


def test_dry_run_checks_without_running(lam, make_function):
    make_function("dry")
    response = lam.invoke(FunctionName="dry", InvocationType="DryRun")
    assert response["StatusCode"] == 204


def test_invalid_json_payload_is_rejected(lam, make_function):
    make_function("badjson")
    with pytest.raises(ClientError) as raised:
        lam.invoke(FunctionName="badjson", Payload=b"{not json")
    assert code_of(raised) == "InvalidRequestContentException"


def test_payload_too_large(lam, make_function):
    make_function("big")
    with pytest.raises(ClientError) as raised:
        lam.invoke(FunctionName="big", InvocationType="Event", Payload=json.dumps({"x": "a" * 300_000}))
    assert code_of(raised) == "RequestEntityTooLargeException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert message_of(raised).endswith(
        "byte payload is too large for the Event invocation type (limit 262144 bytes)"
    )


def test_memory_limit_is_enforced(lam, make_function, invoke_json):
    source = "def handler(event, context):\n    block = bytearray(event['mb'] << 20)\n    return len(block) >> 20\n"
    make_function("hungry", source, MemorySize=128)
    assert invoke_json("hungry", {"mb": 32})[1] == 32
    response, body = invoke_json("hungry", {"mb": 1024})
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "MemoryError"


def test_invoke_with_response_stream(lam, make_function):
    make_function("streamer", "def handler(event, context):\n    return 'x' * event['n']\n")
    response = lam.invoke_with_response_stream(
        FunctionName="streamer", Payload=b'{"n": 100000}', LogType="Tail"
    )
    assert response["StatusCode"] == 200 and response["ExecutedVersion"] == "$LATEST"
    events = list(response["EventStream"])
    chunks = [e["PayloadChunk"]["Payload"] for e in events if "PayloadChunk" in e]
    assert len(chunks) > 1 and b"".join(chunks) == b'"' + b"x" * 100000 + b'"'
    complete = events[-1]["InvokeComplete"]
    assert (
        "ErrorCode" not in complete and "REPORT RequestId" in base64.b64decode(complete["LogResult"]).decode()
    )

    make_function("streamfail", "def handler(event, context):\n    raise KeyError('missing')\n")
    events = list(lam.invoke_with_response_stream(FunctionName="streamfail")["EventStream"])
    complete = events[-1]["InvokeComplete"]
    assert complete["ErrorCode"] == "KeyError" and "missing" in complete["ErrorDetails"]
    with pytest.raises(ClientError) as raised:
        lam.invoke_with_response_stream(FunctionName="nobody")
    assert code_of(raised) == "ResourceNotFoundException"
