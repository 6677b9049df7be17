"""PutLogEvents batch rules, GetLogEvents tokens, FilterLogEvents across streams."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of, message_of

DAY = 86_400_000
HOUR = 3_600_000


def put(logs, stream, events, **kw):
    group, name = stream
    return logs.put_log_events(logGroupName=group, logStreamName=name, logEvents=events, **kw)


def messages(response):
    return [e["message"] for e in response["events"]]


def test_put_log_events_ignores_sequence_token(logs, stream, now_ms):
    first = put(logs, stream, [{"timestamp": now_ms, "message": "one"}], sequenceToken="whatever")
    assert "nextSequenceToken" in first and "rejectedLogEventsInfo" not in first
    put(logs, stream, [{"timestamp": now_ms, "message": "two"}], sequenceToken="stale")
    assert messages(logs.get_log_events(logGroupName=stream[0], logStreamName=stream[1])) == ["one", "two"]


def test_put_to_missing_group_or_stream(logs, stream, now_ms):
    with pytest.raises(ClientError) as excinfo:
        logs.put_log_events(
            logGroupName="missing", logStreamName="main", logEvents=[{"timestamp": now_ms, "message": "x"}]
        )
    assert code_of(excinfo) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        put(logs, (stream[0], "missing"), [{"timestamp": now_ms, "message": "x"}])
    assert code_of(excinfo) == "ResourceNotFoundException"
    assert "log stream" in message_of(excinfo)


def test_events_must_be_chronological(logs, stream, now_ms):
    with pytest.raises(ClientError) as excinfo:
        put(logs, stream, [{"timestamp": now_ms, "message": "b"}, {"timestamp": now_ms - 1, "message": "a"}])
    assert code_of(excinfo) == "InvalidParameterException"
    assert "chronological" in message_of(excinfo)


def test_batch_cannot_span_more_than_24_hours(logs, stream, now_ms):
    with pytest.raises(ClientError) as excinfo:
        put(
            logs,
            stream,
            [{"timestamp": now_ms - DAY - 1000, "message": "a"}, {"timestamp": now_ms, "message": "b"}],
        )
    assert code_of(excinfo) == "InvalidParameterException"
    put(
        logs,
        stream,
        [{"timestamp": now_ms - DAY + 1000, "message": "a"}, {"timestamp": now_ms, "message": "b"}],
    )


def test_batch_size_limit_counts_26_bytes_per_event(logs, stream, now_ms):
    exact = [{"timestamp": now_ms, "message": "x" * (1_048_576 // 2 - 26)}] * 2
    put(logs, stream, exact)
    over = [{"timestamp": now_ms, "message": "x" * (1_048_576 // 2 - 25)}] * 2
    with pytest.raises(ClientError) as excinfo:
        put(logs, stream, over)
    assert code_of(excinfo) == "InvalidParameterException"


def test_batch_count_limit(logs, stream, now_ms):
    put(logs, stream, [{"timestamp": now_ms, "message": "m"}] * 10_000)
    with pytest.raises(ClientError) as excinfo:
        put(logs, stream, [{"timestamp": now_ms, "message": "m"}] * 10_001)
    assert code_of(excinfo) == "InvalidParameterException"


def test_too_old_and_too_new_events_are_rejected_the_rest_kept(logs, stream, now_ms):
    events = [
        {"timestamp": now_ms - 15 * DAY, "message": "too old"},
        {"timestamp": now_ms - 14 * DAY - 1000, "message": "too old too"},
        {"timestamp": now_ms - 14 * DAY + 10 * HOUR, "message": "kept 1"},
        {"timestamp": now_ms - 13 * DAY, "message": "kept 2"},
    ]
    response = put(logs, stream, events)
    assert response["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1}
    future = [
        {"timestamp": now_ms, "message": "kept 3"},
        {"timestamp": now_ms + 3 * HOUR, "message": "too new"},
    ]
    assert put(logs, stream, future)["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    got = logs.get_log_events(logGroupName=stream[0], logStreamName=stream[1], startFromHead=True)
    assert messages(got) == ["kept 1", "kept 2", "kept 3"]


def test_events_before_retention_are_expired(logs, stream, now_ms):
    logs.put_retention_policy(logGroupName=stream[0], retentionInDays=1)
    response = put(
        logs,
        stream,
        [
            {"timestamp": now_ms - 2 * DAY, "message": "old"},
            {"timestamp": now_ms - 2 * HOUR, "message": "new"},
        ],
    )
    assert response["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 0}


def test_get_log_events_head_tail_and_tokens(logs, stream, now_ms):
    put(logs, stream, [{"timestamp": now_ms - 100 + i, "message": f"m{i}"} for i in range(10)])
    group, name = stream
    tail = logs.get_log_events(logGroupName=group, logStreamName=name, limit=3)
    assert messages(tail) == ["m7", "m8", "m9"]
    head = logs.get_log_events(logGroupName=group, logStreamName=name, limit=3, startFromHead=True)
    assert messages(head) == ["m0", "m1", "m2"]
    assert head["nextForwardToken"].startswith("f/") and head["nextBackwardToken"].startswith("b/")
    following = logs.get_log_events(
        logGroupName=group, logStreamName=name, limit=3, nextToken=head["nextForwardToken"]
    )
    assert messages(following) == ["m3", "m4", "m5"]
    back = logs.get_log_events(
        logGroupName=group, logStreamName=name, limit=2, nextToken=tail["nextBackwardToken"]
    )
    assert messages(back) == ["m5", "m6"]
    # at the end, the same forward token comes back, and new events appear through it later
    end = logs.get_log_events(logGroupName=group, logStreamName=name, nextToken=tail["nextForwardToken"])
    assert end["events"] == [] and end["nextForwardToken"] == tail["nextForwardToken"]
    put(logs, stream, [{"timestamp": now_ms, "message": "later"}])
    more = logs.get_log_events(logGroupName=group, logStreamName=name, nextToken=end["nextForwardToken"])
    assert messages(more) == ["later"]
    start = logs.get_log_events(logGroupName=group, logStreamName=name, nextToken=head["nextBackwardToken"])
    assert start["events"] == [] and start["nextBackwardToken"] == head["nextBackwardToken"]


def test_get_log_events_time_range(logs, stream, now_ms):
    put(logs, stream, [{"timestamp": now_ms - 30 + i * 10, "message": f"m{i}"} for i in range(3)])
    got = logs.get_log_events(
        logGroupName=stream[0], logStreamName=stream[1], startTime=now_ms - 20, endTime=now_ms - 10
    )
    assert messages(got) == ["m1"]  # endTime is exclusive


def test_get_log_events_bad_token(logs, stream):
    with pytest.raises(ClientError) as excinfo:
        logs.get_log_events(logGroupName=stream[0], logStreamName=stream[1], nextToken="garbage")
    assert code_of(excinfo) == "InvalidParameterException"


def test_get_log_events_empty_stream(logs, stream):
    got = logs.get_log_events(logGroupName=stream[0], logStreamName=stream[1])
    assert got["events"] == [] and got["nextForwardToken"].startswith("f/")


@pytest.fixture
def two_streams(logs, now_ms):
    logs.create_log_group(logGroupName="g")
    for name in ["web-1", "web-2", "worker"]:
        logs.create_log_stream(logGroupName="g", logStreamName=name)
    logs.put_log_events(
        logGroupName="g",
        logStreamName="web-1",
        logEvents=[
            {"timestamp": now_ms - 50, "message": "GET /a 200"},
            {"timestamp": now_ms - 30, "message": "GET /b 500"},
        ],
    )
    logs.put_log_events(
        logGroupName="g",
        logStreamName="web-2",
        logEvents=[
            {"timestamp": now_ms - 40, "message": "POST /c 201"},
            {"timestamp": now_ms - 20, "message": "GET /d 404"},
        ],
    )
    logs.put_log_events(
        logGroupName="g",
        logStreamName="worker",
        logEvents=[{"timestamp": now_ms - 10, "message": "ERROR job failed"}],
    )
    return now_ms


def test_filter_log_events_interleaves_streams(logs, two_streams):
    got = logs.filter_log_events(logGroupName="g")
    assert messages(got) == ["GET /a 200", "POST /c 201", "GET /b 500", "GET /d 404", "ERROR job failed"]
    assert [e["logStreamName"] for e in got["events"]][:2] == ["web-1", "web-2"]
    assert all(len(e["eventId"]) > 0 and e["ingestionTime"] for e in got["events"])
    assert "nextToken" not in got


def test_filter_log_events_stream_selection_and_time(logs, two_streams):
    now_ms = two_streams
    assert messages(logs.filter_log_events(logGroupName="g", logStreamNamePrefix="web-")) == [
        "GET /a 200",
        "POST /c 201",
        "GET /b 500",
        "GET /d 404",
    ]
    assert messages(logs.filter_log_events(logGroupName="g", logStreamNames=["worker", "web-2"])) == [
        "POST /c 201",
        "GET /d 404",
        "ERROR job failed",
    ]
    assert messages(logs.filter_log_events(logGroupName="g", startTime=now_ms - 30, endTime=now_ms - 10)) == [
        "GET /b 500",
        "GET /d 404",
    ]
    with pytest.raises(ClientError) as excinfo:
        logs.filter_log_events(logGroupName="g", logStreamNames=["web-1"], logStreamNamePrefix="web")
    assert code_of(excinfo) == "InvalidParameterException"


def test_filter_log_events_patterns(logs, two_streams):
    assert messages(logs.filter_log_events(logGroupName="g", filterPattern="GET")) == [
        "GET /a 200",
        "GET /b 500",
        "GET /d 404",
    ]
    assert messages(logs.filter_log_events(logGroupName="g", filterPattern="?ERROR ?500")) == [
        "GET /b 500",
        "ERROR job failed",
    ]
    assert messages(
        logs.filter_log_events(logGroupName="g", filterPattern="[method, path, status=4* || status=5*]")
    ) == ["GET /b 500", "GET /d 404"]
    with pytest.raises(ClientError) as excinfo:
        logs.filter_log_events(logGroupName="g", filterPattern="{ $.a = }")
    assert code_of(excinfo) == "InvalidParameterException"


def test_filter_log_events_pages(logs, two_streams):
    first = logs.filter_log_events(logGroupName="g", limit=2)
    assert messages(first) == ["GET /a 200", "POST /c 201"] and first["nextToken"]
    second = logs.filter_log_events(logGroupName="g", limit=2, nextToken=first["nextToken"])
    assert messages(second) == ["GET /b 500", "GET /d 404"]
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName="g", PaginationConfig={"PageSize": 2}
    )
    assert sum(len(page["events"]) for page in pages) == 5


def test_filter_log_events_by_group_arn(logs, two_streams):
    # logGroupIdentifier takes the ARN without the trailing :* (AWS: "Don't include an * at the end")
    arn = "arn:aws:logs:us-east-1:000000000000:log-group:g"
    assert len(logs.filter_log_events(logGroupIdentifier=arn, filterPattern="worker")["events"]) == 0
    assert len(logs.filter_log_events(logGroupIdentifier=arn, filterPattern="job")["events"]) == 1
