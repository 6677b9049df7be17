"""Retention on the virtual clock: expired events are hidden at once and deleted by the background worker."""

from tests.waiting import wait_for


def stored_bytes(logs, group):
    return logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["storedBytes"]


def test_retention_expires_events_on_the_clock(overcast, logs, stream, now_ms):
    group, name = stream
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=name,
        logEvents=[
            {"timestamp": now_ms - 3_600_000, "message": "older"},
            {"timestamp": now_ms, "message": "newer"},
        ],
    )
    assert stored_bytes(logs, group) == 10
    overcast.advance_clock("23h30m")
    got = logs.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True)
    assert [e["message"] for e in got["events"]] == ["newer"]  # hidden at once, whatever the worker does
    assert [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]] == ["newer"]
    wait_for(lambda: stored_bytes(logs, group) == 5)  # and deleted by the worker
    overcast.advance_clock("1h")
    assert logs.get_log_events(logGroupName=group, logStreamName=name)["events"] == []
    wait_for(lambda: stored_bytes(logs, group) == 0)


def test_group_without_retention_keeps_events(overcast, logs, stream, now_ms):
    group, name = stream
    logs.put_log_events(
        logGroupName=group, logStreamName=name, logEvents=[{"timestamp": now_ms, "message": "kept"}]
    )
    overcast.advance_clock("400d")
    assert [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName=name)["events"]] == [
        "kept"
    ]


def test_new_policy_applies_to_stored_events(overcast, logs, stream, now_ms):
    group, name = stream
    logs.put_log_events(
        logGroupName=group, logStreamName=name, logEvents=[{"timestamp": now_ms, "message": "x"}]
    )
    overcast.advance_clock("2d")
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    assert logs.filter_log_events(logGroupName=group)["events"] == []
    wait_for(lambda: stored_bytes(logs, group) == 0)


def test_put_uses_the_virtual_clock(overcast, logs, stream, now_ms):
    """After advancing 20 days, an event stamped with the real 'now' is 20 days old: too old."""
    group, name = stream
    overcast.advance_clock("20d")
    response = logs.put_log_events(
        logGroupName=group, logStreamName=name, logEvents=[{"timestamp": now_ms, "message": "x"}]
    )
    assert response["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 0}
