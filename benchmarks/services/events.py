"""EventBridge's hot path: PutEvents with 1 and 10 entries on the default bus (which has a rule the events do
not match, so the patterns are evaluated and nothing is delivered)."""

import json

_HEADERS = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSEvents.PutEvents"}
_ENTRY = {
    "Source": "bench.app",
    "DetailType": "Order Placed",
    "Detail": json.dumps({"order": 42, "total": 9.5}),
}
_RULE = {
    "service": "events",
    "method": "POST",
    "path": "/",
    "headers": {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSEvents.PutRule"},
    "body": json.dumps({"Name": "bench-other", "EventPattern": json.dumps({"source": ["bench.other"]})}),
}


def _put_events(name: str, count: int) -> dict:
    return {
        "name": name,
        "service": "events",
        "protocol": "json",
        "method": "POST",
        "path": "/",
        "headers": _HEADERS,
        "body": json.dumps({"Entries": [_ENTRY] * count}),
        "setup": [_RULE],
        "expect": '"FailedEntryCount":\\s*0',
        "default": True,
        "target": 2.0,
    }


OPERATIONS = [_put_events("events-put-events-1", 1), _put_events("events-put-events-10", 10)]
