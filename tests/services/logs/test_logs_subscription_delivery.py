"""Subscription filters deliver matching events to a Lambda function as the gzip+base64 awslogs payload."""

import io
import json
import time
import zipfile

import pytest

from overcast.services import is_available

pytestmark = pytest.mark.skipif(not is_available("lambda"), reason="no Lambda service in this Overcast")

CONSUMER = """
import base64, gzip, json
def handler(event, context):
    data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    print("DELIVERED " + json.dumps(data))
"""


def zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def delivered(logs, timeout=30.0):
    """The payloads the consumer printed, read back from its own log group."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            events = logs.filter_log_events(logGroupName="/aws/lambda/consumer", filterPattern="DELIVERED")[
                "events"
            ]
        except logs.exceptions.ResourceNotFoundException:
            events = []
        if events:
            return [json.loads(e["message"].split("DELIVERED ", 1)[1]) for e in events]
        time.sleep(0.1)
    return []


def test_matching_events_reach_the_function(overcast, logs, stream, now_ms):
    function = overcast.client("lambda").create_function(
        FunctionName="consumer",
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/r",
        Handler="app.handler",
        Code={"ZipFile": zipped(CONSUMER)},
    )
    group, name = stream
    logs.put_subscription_filter(
        logGroupName=group, filterName="errors", filterPattern="ERROR", destinationArn=function["FunctionArn"]
    )
    logs.put_log_events(
        logGroupName=group,
        logStreamName=name,
        logEvents=[
            {"timestamp": now_ms, "message": "INFO fine"},
            {"timestamp": now_ms + 1, "message": "ERROR boom"},
        ],
    )
    payloads = delivered(logs)
    assert len(payloads) == 1
    payload = payloads[0]
    assert payload["messageType"] == "DATA_MESSAGE"
    assert payload["owner"] == "000000000000"
    assert payload["logGroup"] == group and payload["logStream"] == name
    assert payload["subscriptionFilters"] == ["errors"]
    assert [(e["timestamp"], e["message"]) for e in payload["logEvents"]] == [(now_ms + 1, "ERROR boom")]
    assert payload["logEvents"][0]["id"]
