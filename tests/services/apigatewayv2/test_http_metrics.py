"""AWS/ApiGateway metrics that requests to an HTTP API's stage publish to CloudWatch (by ApiId, and ApiId
and Stage), read back as users read them."""

from __future__ import annotations

import datetime
import json
import urllib.request

from tests.services.apigatewayv2.conftest import invoke
from tests.services.apigatewayv2.test_http_apis import backend  # noqa: F401 (fixture)


def _clock(overcast) -> float:
    with urllib.request.urlopen(overcast.endpoint + "/_overcast/clock", timeout=30) as response:
        return json.loads(response.read())["epoch"]


def test_count_4xx_5xx_latency_and_data_by_api_id_and_stage(overcast, v2, backend):  # noqa: F811
    api = v2.create_api(Name="metered", ProtocolType="HTTP")["ApiId"]
    for route, uri in (("GET /ok", backend.url + "/ok"), ("GET /broken", "http://127.0.0.1:9/")):
        integration = v2.create_integration(
            ApiId=api,
            IntegrationType="HTTP_PROXY",
            IntegrationMethod="GET",
            IntegrationUri=uri,
            PayloadFormatVersion="1.0",
        )
        v2.create_route(ApiId=api, RouteKey=route, Target=f"integrations/{integration['IntegrationId']}")
    v2.create_stage(ApiId=api, StageName="$default", AutoDeploy=True)
    answers = [invoke(overcast, api, "/ok") for _ in range(2)]
    assert [answer.status for answer in answers] == [200, 200]
    assert invoke(overcast, api, "/missing").status == 404
    assert invoke(overcast, api, "/broken").status >= 500
    started = _clock(overcast)
    overcast.advance_clock(61)

    cloudwatch = overcast.client("cloudwatch")

    def stat(name: str, kind: str, **dimensions: str) -> float:
        found = cloudwatch.get_metric_statistics(
            Namespace="AWS/ApiGateway",
            MetricName=name,
            Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
            StartTime=datetime.datetime.fromtimestamp(started - 120, datetime.UTC),
            EndTime=datetime.datetime.fromtimestamp(started + 120, datetime.UTC),
            Period=300,
            Statistics=[kind],
        )["Datapoints"]
        assert len(found) == 1, (name, dimensions, found)
        return found[0][kind]

    for dimensions in ({"ApiId": api}, {"ApiId": api, "Stage": "$default"}):
        assert stat("Count", "Sum", **dimensions) == 4
        assert stat("4xx", "Sum", **dimensions) == 1
        assert stat("5xx", "Sum", **dimensions) == 1
        assert stat("Latency", "SampleCount", **dimensions) == 4
    assert stat("IntegrationLatency", "SampleCount", ApiId=api) == 3  # the missing route reached none
    assert stat("DataProcessed", "Sum", ApiId=api) >= sum(len(answer.body) for answer in answers)
    listed = cloudwatch.list_metrics(Namespace="AWS/ApiGateway", Dimensions=[{"Name": "ApiId", "Value": api}])
    names = {metric["MetricName"] for metric in listed["Metrics"]}
    assert names == {"Count", "4xx", "5xx", "Latency", "IntegrationLatency", "DataProcessed"}  # not 4XXError
