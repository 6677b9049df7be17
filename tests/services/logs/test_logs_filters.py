"""Filter-pattern syntax (through TestMetricFilter), metric filters and subscription filters."""

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of

LINES = [
    "[ERROR] 2026-01-01 disk full on /dev/sda1",
    "[WARN] retrying request to upstream",
    "[INFO] request served in 12 ms",
    "ERROR: Exiting with code 3",
]
JSON_LINES = [
    json.dumps(
        {
            "eventType": "UpdateTrail",
            "latency": 120,
            "user": {"id": 7, "name": "ana"},
            "ok": True,
            "tags": ["a", "b"],
        }
    ),
    json.dumps({"eventType": "CreateTrail", "latency": 20, "user": {"id": 8, "name": None}, "ok": False}),
    json.dumps({"eventType": "DeleteTrail", "latency": 300.5, "error": "AccessDenied"}),
    "not json at all",
]
ACCESS_LOG = [
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
    '127.0.0.2 - bob [10/Oct/2000:13:35:22 -0700] "GET /index.html HTTP/1.0" 404 2326',
    '127.0.0.3 - jane [10/Oct/2000:13:50:35 -0700] "POST /login HTTP/1.0" 503 12',
]


def matched(logs, pattern, lines):
    result = logs.test_metric_filter(filterPattern=pattern, logEventMessages=lines)["matches"]
    return [m["eventNumber"] for m in result]


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ("", [1, 2, 3, 4]),
        ("ERROR", [1, 4]),
        ("ERROR disk", [1]),
        ('"disk full"', [1]),
        ('"full disk"', []),
        ("?WARN ?INFO", [2, 3]),
        ("ERROR -Exiting", [1]),
        ("request", [2, 3]),
        ("error", []),  # case-sensitive
        ("%ERR(OR)?:%", [4]),
        ("%^\\[(WARN|INFO)\\]%", [2, 3]),
    ],
)
def test_term_patterns(logs, pattern, expected):
    assert matched(logs, pattern, LINES) == expected


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ('{ $.eventType = "UpdateTrail" }', [1]),
        ("{ $.eventType = UpdateTrail }", [1]),
        ('{ $.eventType = "*Trail" }', [1, 2, 3]),
        ('{ $.eventType != "UpdateTrail" }', [2, 3]),
        ("{ $.latency > 100 }", [1, 3]),
        ("{ $.latency >= 300.5 }", [3]),
        ("{ $.latency < 100 && $.eventType = CreateTrail }", [2]),
        ("{ ($.latency > 200 || $.user.id = 7) && $.eventType = *Trail }", [1, 3]),
        ("{ $.user.id = 8 }", [2]),
        ("{ $.user.name IS NULL }", [2]),
        ("{ $.error NOT EXISTS }", [1, 2]),
        ("{ $.ok IS TRUE }", [1]),
        ("{ $.ok IS FALSE }", [2]),
        ('{ $.tags[1] = "b" }', [1]),
        ("{ $.error = %Access% }", [3]),
    ],
)
def test_json_patterns(logs, pattern, expected):
    assert matched(logs, pattern, JSON_LINES) == expected


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ("[ip, identity, user, timestamp, request, status_code, bytes]", [1, 2, 3]),
        ("[ip, identity, user, timestamp, request, status_code = 404, bytes]", [2]),
        ("[..., status_code = 5*, bytes]", [3]),
        ("[..., status_code = 4* || status_code = 5*, bytes]", [2, 3]),
        ("[ip, ..., bytes > 2000]", [2]),
        ("[ip = 127.0.0.1, ...]", [1]),
        ("[ip, identity, user = bob || user = jane, ...]", [2, 3]),
        ("[ip, identity, user != frank, ...]", [2, 3]),
        ("[ip, identity, user]", []),
    ],
)
def test_space_delimited_patterns(logs, pattern, expected):
    assert matched(logs, pattern, ACCESS_LOG) == expected


def test_space_delimited_extracted_values(logs):
    result = logs.test_metric_filter(
        filterPattern="[ip, identity, user, timestamp, request, status_code, bytes]",
        logEventMessages=ACCESS_LOG[:1],
    )["matches"][0]
    assert result["extractedValues"]["$user"] == "frank"
    assert result["extractedValues"]["$timestamp"] == "10/Oct/2000:13:25:15 -0700"
    assert result["extractedValues"]["$request"] == "GET /apache_pb.gif HTTP/1.0"
    assert result["extractedValues"]["$bytes"] == "1534"


@pytest.mark.parametrize("pattern", ["{ $.a = ", "{ a = 1 }", "[a, b", "{ $.a > x }", '"unclosed'])
def test_invalid_patterns(logs, pattern):
    with pytest.raises(ClientError) as excinfo:
        logs.test_metric_filter(filterPattern=pattern, logEventMessages=["x"])
    assert code_of(excinfo) == "InvalidParameterException"


def transformation(name="Errors", namespace="App"):
    return [{"metricName": name, "metricNamespace": namespace, "metricValue": "1", "defaultValue": 0.0}]


def test_metric_filters_crud(logs):
    logs.create_log_group(logGroupName="g")
    logs.put_metric_filter(
        logGroupName="g", filterName="errors", filterPattern="ERROR", metricTransformations=transformation()
    )
    logs.put_metric_filter(
        logGroupName="g",
        filterName="slow",
        filterPattern="{ $.latency > 100 }",
        metricTransformations=transformation("Slow"),
    )
    described = logs.describe_metric_filters(logGroupName="g")["metricFilters"]
    assert [f["filterName"] for f in described] == ["errors", "slow"]
    assert described[0]["filterPattern"] == "ERROR" and described[0]["logGroupName"] == "g"
    assert described[0]["metricTransformations"][0]["metricName"] == "Errors"
    assert logs.describe_log_groups()["logGroups"][0]["metricFilterCount"] == 2
    assert [
        f["filterName"]
        for f in logs.describe_metric_filters(metricName="Slow", metricNamespace="App")["metricFilters"]
    ] == ["slow"]
    assert [
        f["filterName"]
        for f in logs.describe_metric_filters(logGroupName="g", filterNamePrefix="er")["metricFilters"]
    ] == ["errors"]
    page = logs.describe_metric_filters(limit=1)
    assert len(page["metricFilters"]) == 1
    assert (
        logs.describe_metric_filters(limit=1, nextToken=page["nextToken"])["metricFilters"][0]["filterName"]
        == "slow"
    )
    # a put with an existing name replaces the filter
    logs.put_metric_filter(
        logGroupName="g", filterName="errors", filterPattern="FATAL", metricTransformations=transformation()
    )
    assert logs.describe_metric_filters(logGroupName="g")["metricFilters"][0]["filterPattern"] == "FATAL"
    logs.delete_metric_filter(logGroupName="g", filterName="errors")
    with pytest.raises(ClientError) as excinfo:
        logs.delete_metric_filter(logGroupName="g", filterName="errors")
    assert code_of(excinfo) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        logs.put_metric_filter(
            logGroupName="g",
            filterName="bad",
            filterPattern="{ $.x = ",
            metricTransformations=transformation(),
        )
    assert code_of(excinfo) == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        logs.describe_metric_filters(metricName="Slow")
    assert code_of(excinfo) == "InvalidParameterException"


def test_subscription_filters_limit_of_two(logs):
    logs.create_log_group(logGroupName="g")
    arn = "arn:aws:lambda:us-east-1:000000000000:function:consumer"
    logs.put_subscription_filter(logGroupName="g", filterName="a", filterPattern="", destinationArn=arn)
    logs.put_subscription_filter(
        logGroupName="g", filterName="b", filterPattern="ERROR", destinationArn=arn, distribution="Random"
    )
    with pytest.raises(ClientError) as excinfo:
        logs.put_subscription_filter(logGroupName="g", filterName="c", filterPattern="", destinationArn=arn)
    assert code_of(excinfo) == "LimitExceededException"
    logs.put_subscription_filter(logGroupName="g", filterName="b", filterPattern="WARN", destinationArn=arn)
    described = logs.describe_subscription_filters(logGroupName="g")["subscriptionFilters"]
    assert [(f["filterName"], f["filterPattern"], f["distribution"]) for f in described] == [
        ("a", "", "ByLogStream"),
        ("b", "WARN", "ByLogStream"),
    ]
    assert described[0]["destinationArn"] == arn and described[0]["logGroupName"] == "g"
    logs.delete_subscription_filter(logGroupName="g", filterName="a")
    assert [
        f["filterName"] for f in logs.describe_subscription_filters(logGroupName="g")["subscriptionFilters"]
    ] == ["b"]
    with pytest.raises(ClientError) as excinfo:
        logs.delete_subscription_filter(logGroupName="g", filterName="a")
    assert code_of(excinfo) == "ResourceNotFoundException"


def test_regex_patterns_cannot_backtrack_exponentially(logs):
    """Issue 13, finding 5: `%(a+)+$%` doubled Python's work with every character (11 s at 27); RE2 matches in
    linear time, so a long event answers at once and the server stays responsive for everyone else."""
    evil = "a" * 5000 + "!"
    assert matched(logs, "%(a+)+$%", [evil, "aaaa"]) == [2]
    logs.create_log_group(logGroupName="/evil")
    logs.create_log_stream(logGroupName="/evil", logStreamName="s")
    now = int(time.time() * 1000)  # the server's clock is not advanced in this test
    logs.put_log_events(
        logGroupName="/evil", logStreamName="s", logEvents=[{"timestamp": now, "message": evil}]
    )
    found = logs.filter_log_events(logGroupName="/evil", filterPattern="%(a+)+b%", startTime=0)
    assert found["events"] == []
    with pytest.raises(ClientError) as excinfo:  # backreferences need backtracking: refused
        logs.test_metric_filter(filterPattern="%(a)\\1%", logEventMessages=["aa"])
    assert code_of(excinfo) == "InvalidParameterException"
