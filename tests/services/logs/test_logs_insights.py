"""Logs Insights queries over stored events: StartQuery, GetQueryResults, DescribeQueries, StopQuery."""

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of


@pytest.fixture
def requests(logs):
    """Two streams of JSON request logs and a plain-text stream, one group, all within the last minute."""
    now = int(time.time() * 1000) - 60_000
    logs.create_log_group(logGroupName="/svc/api")
    for name in ["a", "b", "text"]:
        logs.create_log_stream(logGroupName="/svc/api", logStreamName=name)
    rows = [
        ("a", 0, "GET", 200, 12),
        ("a", 1000, "GET", 500, 300),
        ("b", 2000, "POST", 201, 45),
        ("b", 3000, "GET", 404, 8),
        ("a", 61_000, "POST", 500, 1000),
    ]
    for stream, offset, method, status, ms in rows:
        logs.put_log_events(
            logGroupName="/svc/api",
            logStreamName=stream,
            logEvents=[
                {
                    "timestamp": now + offset,
                    "message": json.dumps(
                        {
                            "method": method,
                            "status": status,
                            "ms": ms,
                            "client": {"ip": f"10.0.0.{status % 7}"},
                        }
                    ),
                }
            ],
        )
    logs.put_log_events(
        logGroupName="/svc/api",
        logStreamName="text",
        logEvents=[
            {"timestamp": now + 500, "message": "user=alice action=login took 31ms"},
            {"timestamp": now + 1500, "message": "user=bob action=logout took 7ms"},
        ],
    )
    return now


def run(logs, query, start, group="/svc/api", **kw):
    query_id = logs.start_query(
        logGroupName=group, startTime=start // 1000 - 5, endTime=start // 1000 + 120, queryString=query, **kw
    )["queryId"]
    result = logs.get_query_results(queryId=query_id)
    assert result["status"] == "Complete"
    return [{f["field"]: f["value"] for f in row} for row in result["results"]], result


def test_fields_filter_sort_limit(logs, requests):
    rows, result = run(
        logs, "fields @timestamp, status, ms | filter status >= 400 | sort ms desc | limit 2", requests
    )
    assert [(r["status"], r["ms"]) for r in rows] == [("500", "1000"), ("500", "300")]
    assert all("@ptr" in r and r["@timestamp"].count(":") == 2 for r in rows)
    assert result["statistics"]["recordsScanned"] == 7


def test_filter_operators(logs, requests):
    def query(q):
        return [
            r.get("method", r.get("@message")) for r in run(logs, q + " | sort @timestamp asc", requests)[0]
        ]

    assert query('fields method | filter method = "POST" and status = 201') == ["POST"]
    assert query("fields method | filter method != 'GET'") == ["POST", "POST"]
    assert query("fields method | filter status in [404, 201]") == ["POST", "GET"]
    assert query("fields @message | filter @message like /logout/") == ["user=bob action=logout took 7ms"]
    assert query('fields @message | filter @message like "alice"') == ["user=alice action=login took 31ms"]
    assert query("fields method | filter ms < 10 or (status = 500 and ms > 500)") == ["GET", "POST"]
    assert query("fields method | filter not (method = 'GET') and ispresent(status)") == ["POST", "POST"]
    assert query("fields method, client.ip | filter client.ip = '10.0.0.3'") == ["GET", "POST"]


def test_stats_by_field_and_bin(logs, requests):
    rows, _ = run(
        logs,
        "filter ispresent(method) | stats count(*) as n, avg(ms), max(ms), min(ms), sum(ms) by method "
        "| sort n desc",
        requests,
    )
    assert rows[0] == {
        "method": "GET",
        "n": "3",
        "avg(ms)": str(sum([12, 300, 8]) / 3),
        "max(ms)": "300",
        "min(ms)": "8",
        "sum(ms)": "320",
    }
    assert rows[1]["method"] == "POST" and rows[1]["n"] == "2"
    rows, _ = run(logs, "filter ispresent(status) | stats count(*) by bin(1m)", requests)
    assert sorted(int(r["count(*)"]) for r in rows) in ([1, 4], [2, 3], [5])  # depends on minute boundaries
    assert all(r["bin(1m)"].endswith(":00.000") for r in rows)


def test_parse_glob_and_regex(logs, requests):
    rows, _ = run(
        logs,
        "parse @message 'user=* action=* took *ms' as user, action, took | filter ispresent(user) "
        "| display user, action, took | sort user asc",
        requests,
    )
    assert [(r["user"], r["action"], r["took"]) for r in rows] == [
        ("alice", "login", "31"),
        ("bob", "logout", "7"),
    ]
    rows, _ = run(
        logs,
        "parse @message /user=(?<who>\\w+)/ | filter ispresent(who) | stats count(*) by who | sort who",
        requests,
    )
    assert [r["who"] for r in rows] == ["bob", "alice"]


def test_default_fields_and_order(logs, requests):
    rows, _ = run(logs, "filter method = 'POST'", requests)
    assert set(rows[0]) >= {"@timestamp", "@message", "@logStream", "@log", "@ptr"}
    assert [json.loads(r["@message"])["ms"] for r in rows] == [1000, 45]  # newest first
    assert rows[0]["@log"] == "000000000000:/svc/api" and rows[0]["@logStream"] == "a"


def test_query_time_range_and_limit_parameter(logs, requests):
    query_id = logs.start_query(
        logGroupName="/svc/api",
        startTime=requests // 1000 - 5,
        endTime=(requests + 2500) // 1000,
        queryString="fields @message",
        limit=1,
    )["queryId"]
    result = logs.get_query_results(queryId=query_id)
    assert len(result["results"]) == 1 and result["statistics"]["recordsMatched"] >= 3


def test_malformed_query_and_missing_group(logs, requests):
    with pytest.raises(ClientError) as excinfo:
        logs.start_query(logGroupName="/svc/api", startTime=0, endTime=10, queryString="frobnicate @message")
    assert code_of(excinfo) == "MalformedQueryException"
    with pytest.raises(ClientError) as excinfo:
        logs.start_query(logGroupName="/missing", startTime=0, endTime=10, queryString="fields @message")
    assert code_of(excinfo) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        logs.get_query_results(queryId="00000000-0000-0000-0000-000000000000")
    assert code_of(excinfo) == "ResourceNotFoundException"


def test_describe_and_stop_queries(logs, requests):
    first = logs.start_query(
        logGroupNames=["/svc/api"], startTime=0, endTime=10, queryString="fields @message"
    )
    second = logs.start_query(
        logGroupIdentifiers=["arn:aws:logs:us-east-1:000000000000:log-group:/svc/api"],
        startTime=0,
        endTime=10,
        queryString="stats count(*)",
    )
    queries = logs.describe_queries(logGroupName="/svc/api")["queries"]
    assert {q["queryId"] for q in queries} == {first["queryId"], second["queryId"]}
    assert all(q["status"] == "Complete" and q["logGroupName"] == "/svc/api" for q in queries)
    assert logs.describe_queries(status="Running")["queries"] == []
    assert logs.stop_query(queryId=first["queryId"])["success"] is False


def test_log_record_from_a_result_pointer(logs, requests):
    rows, _ = run(logs, "fields @message | filter status = 404", requests)
    record = logs.get_log_record(logRecordPointer=rows[0]["@ptr"])["logRecord"]
    assert record["@logStream"] == "b" and record["status"] == "404" and record["client.ip"] == "10.0.0.5"
    assert record["@log"] == "000000000000:/svc/api"
    with pytest.raises(ClientError) as excinfo:
        logs.get_log_record(logRecordPointer="not-a-pointer")
    assert code_of(excinfo) == "InvalidParameterException"


def test_log_group_fields(logs, requests):
    fields = {
        f["name"]: f["percent"]
        for f in logs.get_log_group_fields(logGroupName="/svc/api", time=requests // 1000 + 120)[
            "logGroupFields"
        ]
    }
    assert fields["@message"] == 100 and fields["@timestamp"] == 100
    assert fields["method"] == 71  # 5 of the 7 events are JSON
    assert fields["client.ip"] == 71
