"""AWS/Lambda metrics a function's invocations publish to CloudWatch, read back as users read them."""

import datetime
import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

FAILS_ON_DEMAND = """
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return "ok"
"""


def _clock(overcast) -> float:
    with urllib.request.urlopen(overcast.endpoint + "/_overcast/clock", timeout=30) as response:
        return json.loads(response.read())["epoch"]


def test_invocations_errors_duration_and_throttles(overcast, lam, make_function, invoke_json):
    make_function("metered", FAILS_ON_DEMAND)
    lam.put_function_concurrency(FunctionName="metered", ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as raised:
        lam.invoke(FunctionName="metered", Payload=b"{}")
    assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
    attempts = raised.value.response["ResponseMetadata"]["RetryAttempts"] + 1  # the SDK retries throttling
    lam.delete_function_concurrency(FunctionName="metered")
    invoke_json("metered", {})
    invoke_json("metered", {})
    response, _ = invoke_json("metered", {"fail": True})
    assert response["FunctionError"] == "Unhandled"
    started = _clock(overcast)
    overcast.advance_clock(61)

    cloudwatch = overcast.client("cloudwatch")
    window = {
        "StartTime": datetime.datetime.fromtimestamp(started - 120, datetime.UTC),
        "EndTime": datetime.datetime.fromtimestamp(started + 120, datetime.UTC),
    }

    def statistic(name: str, kind: str) -> float:
        found = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName=name,
            Dimensions=[{"Name": "FunctionName", "Value": "metered"}],
            Period=300,
            Statistics=[kind],
            **window,
        )["Datapoints"]
        return sum(point[kind] for point in found)

    assert statistic("Invocations", "Sum") == 3
    assert statistic("Errors", "Sum") == 1
    assert statistic("Throttles", "Sum") == attempts
    assert statistic("Duration", "SampleCount") == 3
    assert 0 < statistic("Duration", "Maximum") < 30_000
    names = {
        metric["MetricName"]
        for metric in cloudwatch.list_metrics(Namespace="AWS/Lambda")["Metrics"]
        if metric["Dimensions"] == [{"Name": "FunctionName", "Value": "metered"}]
    }
    assert names == {"Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions"}
