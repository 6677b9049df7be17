"""AWS/ApiGateway metrics that requests to a REST API's stage publish to CloudWatch, read back as users read
them."""

import datetime
import json
import urllib.request

from tests.services.apigateway.conftest import call
from tests.services.apigateway.test_integrations import method

MOCK_OK = {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}}


def _clock(overcast) -> float:
    with urllib.request.urlopen(overcast.endpoint + "/_overcast/clock", timeout=30) as response:
        return json.loads(response.read())["epoch"]


def test_count_errors_and_latency_by_api_name_and_stage(overcast, apigw):
    api = apigw.create_rest_api(name="metered-api")["id"]
    method(apigw, api, "/ok", "GET", MOCK_OK, {"200": {"responseTemplates": {"application/json": "{}"}}})
    refused = {"type": "HTTP_PROXY", "integrationHttpMethod": "GET", "uri": "http://127.0.0.1:9/"}
    method(apigw, api, "/broken", "GET", refused)
    apigw.create_deployment(restApiId=api, stageName="prod")
    assert [call(overcast, api, "prod", "/ok").status for _ in range(3)] == [200, 200, 200]
    assert call(overcast, api, "prod", "/missing").status == 403
    assert call(overcast, api, "prod", "/broken").status >= 500
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

    for dimensions in ({"ApiName": "metered-api"}, {"ApiName": "metered-api", "Stage": "prod"}):
        assert stat("Count", "Sum", **dimensions) == 5
        assert stat("4XXError", "Sum", **dimensions) == 1
        assert stat("4XXError", "Average", **dimensions) == 1 / 5  # the error rate
        assert stat("5XXError", "Sum", **dimensions) == 1
        assert stat("Latency", "SampleCount", **dimensions) == 5
    assert stat("IntegrationLatency", "SampleCount", ApiName="metered-api") == 4  # the missing route ran none
    assert 0 < stat("Latency", "Maximum", ApiName="metered-api") < 60_000
