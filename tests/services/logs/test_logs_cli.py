"""CloudWatch Logs through the AWS CLI (v1 from the virtualenv; v2 at /usr/bin/aws for `aws logs tail`)."""

import json
import time

import pytest

from tests.helpers import AWS_V2, aws, need


@pytest.mark.slow
def test_cli_put_and_filter_log_events(overcast):
    now = int(time.time() * 1000)
    aws(overcast, "logs", "create-log-group", "--log-group-name", "/cli/app")
    aws(overcast, "logs", "create-log-stream", "--log-group-name", "/cli/app", "--log-stream-name", "s1")
    events = json.dumps(
        [{"timestamp": now - 2, "message": "ERROR first"}, {"timestamp": now - 1, "message": "ok"}]
    )
    put = aws(
        overcast,
        "logs",
        "put-log-events",
        "--log-group-name",
        "/cli/app",
        "--log-stream-name",
        "s1",
        "--log-events",
        events,
    )
    assert "rejectedLogEventsInfo" not in put
    found = aws(
        overcast, "logs", "filter-log-events", "--log-group-name", "/cli/app", "--filter-pattern", "ERROR"
    )
    assert [e["message"] for e in found["events"]] == ["ERROR first"]
    got = aws(
        overcast,
        "logs",
        "get-log-events",
        "--log-group-name",
        "/cli/app",
        "--log-stream-name",
        "s1",
        "--start-from-head",
    )
    assert [e["message"] for e in got["events"]] == ["ERROR first", "ok"]
    groups = aws(overcast, "logs", "describe-log-groups", "--log-group-name-prefix", "/cli")
    assert groups["logGroups"][0]["logGroupName"] == "/cli/app"


@pytest.mark.slow
def test_cli_v2_logs_tail(overcast):
    need(AWS_V2)
    now = int(time.time() * 1000)
    logs = overcast.client("logs")
    logs.create_log_group(logGroupName="/cli/tail")
    logs.create_log_stream(logGroupName="/cli/tail", logStreamName="web")
    logs.put_log_events(
        logGroupName="/cli/tail",
        logStreamName="web",
        logEvents=[
            {"timestamp": now - 1000, "message": "hello from tail"},
            {"timestamp": now, "message": "second line"},
        ],
    )
    text = aws(
        overcast, "logs", "tail", "/cli/tail", "--since", "1h", "--format", "short", cli=AWS_V2, output="text"
    )
    lines = text.strip().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["hello from tail", "second line"]
