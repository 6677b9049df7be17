"""CloudWatch's hot paths, in the query protocol every peer speaks (the AWS CLI v2's): PutMetricData (one datum
with a dimension) and GetMetricData (one metric's average per minute over three hours, from ten datapoints)."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

_FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
_NOW = datetime.now(UTC).replace(second=0, microsecond=0)
_DATUM = {
    "MetricData.member.1.MetricName": "Latency",
    "MetricData.member.1.Unit": "Milliseconds",
    "MetricData.member.1.Dimensions.member.1.Name": "Service",
    "MetricData.member.1.Dimensions.member.1.Value": "checkout",
}


def _put(namespace: str, value: str) -> str:
    form = {"Action": "PutMetricData", "Version": "2010-08-01", "Namespace": namespace, **_DATUM}
    return urlencode(form) + f"&MetricData.member.1.Value={value}"  # "${i}" kept as is for repeated setups


_GET = urlencode(
    {
        "Action": "GetMetricData",
        "Version": "2010-08-01",
        "StartTime": (_NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "EndTime": (_NOW + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "MetricDataQueries.member.1.Id": "m1",
        "MetricDataQueries.member.1.MetricStat.Metric.Namespace": "BenchGet",
        "MetricDataQueries.member.1.MetricStat.Metric.MetricName": "Latency",
        "MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name": "Service",
        "MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value": "checkout",
        "MetricDataQueries.member.1.MetricStat.Period": "60",
        "MetricDataQueries.member.1.MetricStat.Stat": "Average",
    }
)

OPERATIONS = [
    {
        "name": "cloudwatch-put-metric-data",
        "service": "monitoring",
        "protocol": "query",
        "method": "POST",
        "path": "/",
        "headers": _FORM,
        "body": _put("BenchPut", "12.5"),
        "default": True,
        "target": 2.0,
    },
    {
        "name": "cloudwatch-get-metric-data",
        "service": "monitoring",
        "protocol": "query",
        "method": "POST",
        "path": "/",
        "headers": _FORM,
        "body": _GET,
        "setup": [
            {
                "service": "monitoring",
                "method": "POST",
                "path": "/",
                "headers": _FORM,
                "body": _put("BenchGet", "${i}"),
                "repeat": 10,
            }
        ],
        "expect": "<Values>\\s*<member>",
        "default": True,
        "target": 2.0,
    },
]
