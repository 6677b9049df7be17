"""Execution history to CloudWatch Logs at the machine's logging level, as Step Functions writes it."""

import json

from tests.services.stepfunctions.conftest import run
from tests.waiting import wait_for


def logged(logs, group: str, count: int) -> list[dict]:
    def events():
        found = logs.filter_log_events(logGroupName=group).get("events", [])
        return found if len(found) >= count else None

    return [json.loads(e["message"]) for e in wait_for(events)]


def test_express_history_goes_to_the_log_group(overcast, sfn_sync, machine):
    logs = overcast.client("logs")
    logs.create_log_group(logGroupName="/aws/vendedlogs/states/quick")
    group_arn = "arn:aws:logs:us-east-1:000000000000:log-group:/aws/vendedlogs/states/quick:*"
    arn = machine(
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"ok": True}, "End": True}}},
        name="quick",
        type="EXPRESS",
        loggingConfiguration={
            "level": "ALL",
            "includeExecutionData": True,
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": group_arn}}],
        },
    )
    done = sfn_sync.start_sync_execution(stateMachineArn=arn, input='{"n": 1}', name="first")
    records = logged(logs, "/aws/vendedlogs/states/quick", 4)
    assert [r["type"] for r in records] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert [r["id"] for r in records] == ["1", "2", "3", "4"]
    assert records[1]["previous_event_id"] == "1" and records[0]["execution_arn"] == done["executionArn"]
    assert json.loads(records[0]["details"]["input"]) == {"n": 1}
    assert json.loads(records[3]["details"]["output"]) == {"ok": True}
    streams = logs.describe_log_streams(logGroupName="/aws/vendedlogs/states/quick")["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["states/quick/first"]


def test_error_level_without_execution_data(overcast, sfn, machine):
    logs = overcast.client("logs")
    logs.create_log_group(logGroupName="errors")
    group_arn = "arn:aws:logs:us-east-1:000000000000:log-group:errors:*"
    arn = machine(
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Next": "B"},
                "B": {"Type": "Fail", "Error": "Bad", "Cause": "because"},
            },
        },
        name="failing",
        loggingConfiguration={
            "level": "ERROR",
            "includeExecutionData": False,
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": group_arn}}],
        },
    )
    run(sfn, arn, {"secret": 1})
    records = logged(logs, "errors", 1)
    assert [r["type"] for r in records] == ["ExecutionFailed"]
    assert records[0]["details"] == {"error": "Bad", "cause": "because"}
