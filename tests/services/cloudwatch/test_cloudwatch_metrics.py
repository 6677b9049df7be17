"""Metrics: PutMetricData, ListMetrics, GetMetricStatistics, GetMetricData with metric math, in every protocol
the SDKs speak (boto3's CBOR, the JSON protocol, the AWS CLI v2's query protocol)."""

import json
import urllib.request
from datetime import UTC, datetime, timedelta

import botocore.session
import pytest
from botocore import parsers, serialize
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.helpers import AWS_V2, aws, error_of, message_of

DIMS = [{"Name": "Service", "Value": "checkout"}]


def now() -> datetime:
    return datetime.now(UTC)


def stats(cw, name: str = "Latency", period: int = 60, **kwargs) -> list[dict]:
    answer = cw.get_metric_statistics(
        Namespace="Shop",
        MetricName=name,
        Dimensions=kwargs.pop("Dimensions", DIMS),
        StartTime=now() - timedelta(minutes=10),
        EndTime=now() + timedelta(minutes=10),
        Period=period,
        **kwargs,
    )
    return answer["Datapoints"]


def test_statistics_of_single_values_value_arrays_and_statistic_sets(cloudwatch):
    cloudwatch.put_metric_data(
        Namespace="Shop",
        MetricData=[
            {"MetricName": "Latency", "Dimensions": DIMS, "Value": 10.0, "Unit": "Milliseconds"},
            {
                "MetricName": "Latency",
                "Dimensions": DIMS,
                "Values": [20.0, 30.0],
                "Counts": [2.0, 1.0],
                "Unit": "Milliseconds",
            },
            {
                "MetricName": "Latency",
                "Dimensions": DIMS,
                "StatisticValues": {"SampleCount": 2, "Sum": 100.0, "Minimum": 40.0, "Maximum": 60.0},
                "Unit": "Milliseconds",
            },
        ],
    )
    points = stats(
        cloudwatch, period=3600, Statistics=["SampleCount", "Sum", "Average", "Minimum", "Maximum"]
    )
    assert len(points) == 1
    point = points[0]
    assert point["SampleCount"] == 6.0 and point["Sum"] == 180.0 and point["Average"] == 30.0
    assert point["Minimum"] == 10.0 and point["Maximum"] == 60.0 and point["Unit"] == "Milliseconds"


def test_percentiles(cloudwatch):
    values = [float(v) for v in range(1, 101)]
    cloudwatch.put_metric_data(
        Namespace="Shop", MetricData=[{"MetricName": "Latency", "Dimensions": DIMS, "Values": values}]
    )
    point = stats(cloudwatch, period=3600, ExtendedStatistics=["p50", "p90", "p99", "p100"])[0]
    assert point["ExtendedStatistics"] == {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p100": 100.0}


def test_periods_split_the_datapoints(cloudwatch):
    base = now().replace(second=0, microsecond=0) - timedelta(minutes=5)
    cloudwatch.put_metric_data(
        Namespace="Shop",
        MetricData=[
            {
                "MetricName": "Orders",
                "Dimensions": DIMS,
                "Timestamp": base + timedelta(minutes=i),
                "Value": float(i),
            }
            for i in range(3)
        ],
    )
    points = sorted(stats(cloudwatch, "Orders", Statistics=["Sum"]), key=lambda p: p["Timestamp"])
    assert [p["Sum"] for p in points] == [0.0, 1.0, 2.0]
    assert [p["Timestamp"] for p in points] == [base + timedelta(minutes=i) for i in range(3)]


def test_dimensions_name_distinct_metrics(cloudwatch):
    cloudwatch.put_metric_data(
        Namespace="Shop",
        MetricData=[
            {"MetricName": "Orders", "Dimensions": DIMS, "Value": 1.0},
            {"MetricName": "Orders", "Dimensions": [{"Name": "Service", "Value": "search"}], "Value": 5.0},
            {"MetricName": "Orders", "Value": 7.0},
        ],
    )
    assert stats(cloudwatch, "Orders", Statistics=["Sum"])[0]["Sum"] == 1.0
    assert stats(cloudwatch, "Orders", Statistics=["Sum"], Dimensions=[])[0]["Sum"] == 7.0


def test_unit_filter(cloudwatch):
    cloudwatch.put_metric_data(
        Namespace="Shop",
        MetricData=[
            {"MetricName": "Size", "Dimensions": DIMS, "Value": 1.0, "Unit": "Bytes"},
            {"MetricName": "Size", "Dimensions": DIMS, "Value": 1.0, "Unit": "Kilobytes"},
        ],
    )
    assert stats(cloudwatch, "Size", Statistics=["SampleCount"], Unit="Bytes")[0]["SampleCount"] == 1.0
    assert stats(cloudwatch, "Size", Statistics=["SampleCount"], Unit="Megabytes") == []


def test_list_metrics_with_filters(cloudwatch):
    cloudwatch.put_metric_data(
        Namespace="Shop",
        MetricData=[
            {"MetricName": "Orders", "Dimensions": DIMS, "Value": 1.0},
            {"MetricName": "Orders", "Dimensions": [{"Name": "Service", "Value": "search"}], "Value": 1.0},
            {"MetricName": "Errors", "Dimensions": DIMS + [{"Name": "Code", "Value": "500"}], "Value": 1.0},
        ],
    )
    cloudwatch.put_metric_data(Namespace="Other", MetricData=[{"MetricName": "Orders", "Value": 1.0}])
    everything = cloudwatch.list_metrics()["Metrics"]
    assert len(everything) == 4
    shop = cloudwatch.list_metrics(Namespace="Shop", MetricName="Orders")["Metrics"]
    assert sorted(m["Dimensions"][0]["Value"] for m in shop) == ["checkout", "search"]
    checkout = cloudwatch.list_metrics(Dimensions=[{"Name": "Service", "Value": "checkout"}])["Metrics"]
    assert sorted(m["MetricName"] for m in checkout) == ["Errors", "Orders"]
    coded = cloudwatch.list_metrics(Dimensions=[{"Name": "Code"}])["Metrics"]
    assert coded == [
        {
            "Namespace": "Shop",
            "MetricName": "Errors",
            "Dimensions": [{"Name": "Code", "Value": "500"}, DIMS[0]],
        }
    ]
    assert (
        cloudwatch.list_metrics(RecentlyActive="PT3H", Namespace="Other")["Metrics"][0]["MetricName"]
        == "Orders"
    )


@pytest.mark.parametrize(
    "datum, code, message",
    [
        (
            {"MetricName": "m", "Value": 1.0, "Values": [1.0]},
            "InvalidParameterCombination",
            "The parameters MetricData.member.1.Value and MetricData.member.1.Values are mutually exclusive and you have specified both.",
        ),
        (
            {"MetricName": "m", "Values": [1.0, 2.0], "Counts": [1.0]},
            "InvalidParameterValue",
            "The parameters MetricData.member.1.Values and MetricData.member.1.Counts must be of the same size.",
        ),
        (
            {"MetricName": "m", "Value": 1.0, "StorageResolution": 5},
            "InvalidParameterValue",
            "The value 5 for parameter MetricData.member.1.StorageResolution is invalid.",
        ),
        (
            {
                "MetricName": "m",
                "StatisticValues": {"SampleCount": 1, "Sum": 1.0, "Minimum": 5.0, "Maximum": 1.0},
            },
            "InvalidParameterValue",
            "The parameter MetricData.member.1.StatisticValues.Maximum must be greater than MetricData.member.1.StatisticValues.Minimum.",
        ),
    ],
)
def test_put_metric_data_refuses_what_aws_refuses(cloudwatch, datum, code, message):
    with pytest.raises(ClientError) as raised:
        cloudwatch.put_metric_data(Namespace="Shop", MetricData=[datum])
    assert error_of(raised) == (code, 400)
    assert message_of(raised) == message


def test_aws_namespaces_are_reserved(cloudwatch):
    with pytest.raises(ClientError) as raised:
        cloudwatch.put_metric_data(Namespace="AWS/EC2", MetricData=[{"MetricName": "m", "Value": 1.0}])
    assert error_of(raised) == ("InvalidParameterValue", 400)


def test_get_metric_statistics_errors(cloudwatch):
    end = now().replace(microsecond=0)
    with pytest.raises(ClientError) as raised:
        cloudwatch.get_metric_statistics(
            Namespace="Shop",
            MetricName="Latency",
            StartTime=end - timedelta(minutes=30),
            EndTime=end,
            Period=1,
            Statistics=["Sum"],
        )
    assert error_of(raised) == ("InvalidParameterCombination", 400)
    assert message_of(raised) == (
        "You have requested up to 1,800 datapoints, which exceeds the limit of 1,440. You may reduce the "
        "datapoints requested by increasing Period, or decreasing the time range."
    )
    with pytest.raises(ClientError) as raised:
        stats(cloudwatch, Statistics=["Sum"], period=90)
    assert error_of(raised) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as raised:
        stats(cloudwatch)
    assert error_of(raised) == ("MissingParameter", 400)


def queries(*extra: dict) -> list[dict]:
    def stat(query_id: str, service: str) -> dict:
        metric = {
            "Namespace": "Shop",
            "MetricName": "Orders",
            "Dimensions": [{"Name": "Service", "Value": service}],
        }
        return {
            "Id": query_id,
            "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"},
            "ReturnData": False,
        }

    return [stat("a", "checkout"), stat("b", "search"), *extra]


def metric_data(cw, query_list: list[dict], **kwargs) -> dict[str, dict]:
    answer = cw.get_metric_data(
        MetricDataQueries=query_list,
        StartTime=now() - timedelta(minutes=10),
        EndTime=now() + timedelta(minutes=1),
        **kwargs,
    )
    assert answer["Messages"] == []
    return {r["Label"]: r for r in answer["MetricDataResults"]}


@pytest.fixture
def orders(cloudwatch):
    """Orders per minute for two services over the last 3 minutes: checkout 1, 2, 3; search 10, -, 30."""
    base = now().replace(second=0, microsecond=0) - timedelta(minutes=3)
    data = []
    for minute, (checkout, search) in enumerate([(1.0, 10.0), (2.0, None), (3.0, 30.0)]):
        stamp = base + timedelta(minutes=minute)
        data.append({"MetricName": "Orders", "Dimensions": DIMS, "Timestamp": stamp, "Value": checkout})
        if search is not None:
            data.append(
                {
                    "MetricName": "Orders",
                    "Dimensions": [{"Name": "Service", "Value": "search"}],
                    "Timestamp": stamp,
                    "Value": search,
                }
            )
    cloudwatch.put_metric_data(Namespace="Shop", MetricData=data)
    return [base + timedelta(minutes=i) for i in range(3)]


def test_metric_math(cloudwatch, orders):
    results = metric_data(
        cloudwatch,
        queries(
            {"Id": "total", "Expression": "a + b", "Label": "total"},
            {"Id": "all", "Expression": "SUM(METRICS())", "Label": "all"},
            {"Id": "filled", "Expression": "FILL(b, 0)", "Label": "filled"},
            {"Id": "doubled", "Expression": "a * 2 - AVG(a)", "Label": "doubled"},
            {"Id": "big", "Expression": "IF(a > 1, a, 0)", "Label": "big"},
            {"Id": "rate", "Expression": "RATE(a)", "Label": "rate"},
            {"Id": "scalar", "Expression": "MAX(a)", "Label": "scalar"},
        ),
        ScanBy="TimestampAscending",
    )
    assert results["total"]["Timestamps"] == [orders[0], orders[2]]  # a point missing on one side is missing
    assert results["total"]["Values"] == [11.0, 33.0]
    assert results["all"]["Values"] == [11.0, 2.0, 33.0]
    filled = dict(zip(results["filled"]["Timestamps"], results["filled"]["Values"], strict=True))
    assert [filled[t] for t in orders] == [10.0, 0.0, 30.0]
    assert len(filled) >= 10 and set(filled.values()) == {0.0, 10.0, 30.0}  # every minute of the range
    assert results["doubled"]["Values"] == [0.0, 2.0, 4.0]
    assert results["big"]["Values"] == [0.0, 2.0, 3.0]
    assert results["rate"]["Values"] == [1 / 60, 1 / 60]
    assert set(results["scalar"]["Values"]) == {3.0}
    assert all(r["StatusCode"] == "Complete" for r in results.values())


def test_metric_data_is_newest_first_by_default_and_labels_default_to_the_metric(cloudwatch, orders):
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {"Namespace": "Shop", "MetricName": "Orders", "Dimensions": DIMS},
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=now() - timedelta(minutes=10),
        EndTime=now() + timedelta(minutes=1),
    )
    result = answer["MetricDataResults"][0]
    assert result["Label"] == "Orders" and result["Values"] == [3.0, 2.0, 1.0]
    assert result["Timestamps"] == list(reversed(orders))


def test_metric_math_arrays_give_one_result_per_series(cloudwatch, orders):
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[*queries()[:2], {"Id": "each", "Expression": "METRICS() * 10"}],
        StartTime=now() - timedelta(minutes=10),
        EndTime=now() + timedelta(minutes=1),
    )
    assert sorted(r["Label"] for r in answer["MetricDataResults"]) == ["Orders", "Orders"]
    assert {r["Id"] for r in answer["MetricDataResults"]} == {"each"}


@pytest.mark.parametrize(
    "bad, message",
    [
        (
            {"Id": "Upper", "Expression": "a"},
            "The value Upper for parameter MetricDataQueries.member.3.Id is invalid.",
        ),
        ({"Id": "a", "Expression": "b"}, "The values for parameter id in MetricDataQueries are not unique."),
        ({"Id": "e", "Expression": "a +"}, "Error in expression e: Unexpected end of expression"),
        ({"Id": "e", "Expression": "nope * 2"}, 'Error in expression e: Unrecognized identifier "nope"'),
    ],
)
def test_get_metric_data_errors(cloudwatch, bad, message):
    with pytest.raises(ClientError) as raised:
        metric_data(cloudwatch, queries(bad))
    assert error_of(raised) == ("ValidationError", 400)
    assert message_of(raised).startswith(message)


def _json_protocol_call(overcast, operation: str, params: dict) -> dict:
    """A call in CloudWatch's JSON protocol (X-Amz-Target GraniteServiceVersion20100801.<op>), as newer SDKs
    for other languages send it, signed like any AWS request."""
    model = botocore.session.get_session().get_service_model("cloudwatch")
    operation_model = model.operation_model(operation)
    request = serialize.create_serializer("json").serialize_to_request(params, operation_model)
    aws_request = AWSRequest(
        method="POST", url=overcast.endpoint + "/", data=request["body"], headers=dict(request["headers"])
    )
    SigV4Auth(Credentials("test", "test"), "monitoring", "us-east-1").add_auth(aws_request)
    prepared = aws_request.prepare()
    http = urllib.request.Request(
        prepared.url, data=prepared.body, headers=dict(prepared.headers), method="POST"
    )
    with urllib.request.urlopen(http, timeout=30) as response:
        body, status = response.read(), response.status
        headers = {k.lower(): v for k, v in response.headers.items()}
    parsed = parsers.create_parser("json").parse(
        {"body": body, "status_code": status, "headers": headers}, operation_model.output_shape
    )
    assert status == 200 and headers["content-type"].startswith("application/x-amz-json-1.0")
    return parsed


def test_the_json_protocol(overcast, cloudwatch):
    _json_protocol_call(
        overcast, "PutMetricData", {"Namespace": "Shop", "MetricData": [{"MetricName": "Json", "Value": 4.0}]}
    )
    listed = _json_protocol_call(overcast, "ListMetrics", {"Namespace": "Shop"})
    assert listed["Metrics"] == [{"Namespace": "Shop", "MetricName": "Json", "Dimensions": []}]
    assert stats(cloudwatch, "Json", Statistics=["Sum"], Dimensions=[])[0]["Sum"] == 4.0


@pytest.mark.slow
def test_the_query_protocol_of_the_aws_cli_v2(overcast, cloudwatch):
    aws(
        overcast,
        "cloudwatch",
        "put-metric-data",
        "--namespace",
        "Shop",
        "--metric-name",
        "Cli",
        "--value",
        "9",
        cli=AWS_V2,
    )
    listed = aws(overcast, "cloudwatch", "list-metrics", "--namespace", "Shop", cli=AWS_V2)
    assert listed["Metrics"] == [{"Namespace": "Shop", "MetricName": "Cli", "Dimensions": []}]
    assert stats(cloudwatch, "Cli", Statistics=["Sum"], Dimensions=[])[0]["Sum"] == 9.0
    done = aws(overcast, "cloudwatch", "describe-alarms", "--alarm-names", "nope", cli=AWS_V2)
    assert done["MetricAlarms"] == []


def test_datapoints_are_kept_in_sqlite(overcast, cloudwatch):
    cloudwatch.put_metric_data(Namespace="Shop", MetricData=[{"MetricName": "Durable", "Value": 1.0}])
    rows = overcast.platform.db.one(
        "SELECT COUNT(*) FROM cw_datapoints JOIN cw_metrics ON cw_metrics.id = cw_datapoints.metric "
        "WHERE namespace = 'Shop' AND name = 'Durable'"
    )[0]
    assert rows == 1  # (services publish their own AWS/* metrics into the same table meanwhile)
    assert json.loads(
        json.dumps(stats(cloudwatch, "Durable", Statistics=["Sum"], Dimensions=[]), default=str)
    )


def test_other_services_publish_metrics_through_the_api(overcast, cloudwatch):
    """What SQS, Lambda and DynamoDB will call to publish their AWS/... metrics (run on the server's loop,
    where services run)."""
    import asyncio

    from overcast.services.cloudwatch.api import put_metric

    async def publish():
        put_metric(
            overcast.platform,
            "000000000000",
            "us-east-1",
            "AWS/SQS",
            "NumberOfMessagesSent",
            {"QueueName": "orders"},
            3.0,
            "Count",
        )

    asyncio.run_coroutine_threadsafe(publish(), overcast._server.loop).result(timeout=30)
    listed = cloudwatch.list_metrics(Namespace="AWS/SQS")["Metrics"]
    assert listed == [
        {
            "Namespace": "AWS/SQS",
            "MetricName": "NumberOfMessagesSent",
            "Dimensions": [{"Name": "QueueName", "Value": "orders"}],
        }
    ]
    points = stats(
        cloudwatch,
        "NumberOfMessagesSent",
        Statistics=["Sum"],
        Dimensions=[{"Name": "QueueName", "Value": "orders"}],
    )
    assert points == []  # another namespace: stats() asks for Shop
    answer = cloudwatch.get_metric_statistics(
        Namespace="AWS/SQS",
        MetricName="NumberOfMessagesSent",
        Dimensions=[{"Name": "QueueName", "Value": "orders"}],
        StartTime=now() - timedelta(minutes=5),
        EndTime=now() + timedelta(minutes=5),
        Period=600,
        Statistics=["Sum"],
    )
    assert answer["Datapoints"][0]["Sum"] == 3.0 and answer["Datapoints"][0]["Unit"] == "Count"
