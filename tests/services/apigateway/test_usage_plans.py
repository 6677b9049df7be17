"""API keys and usage plans: a key required by a method, a quota of 10 requests a day (the 11th answers 429
and the next day, on the virtual clock, the count starts again), throttles, and GetUsage."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of
from tests.services.apigateway.conftest import call, resource_at


def mock_api(apigw, name: str = "metered", api_key_required: bool = True) -> str:
    api = apigw.create_rest_api(name=name)
    resource = resource_at(apigw, api["id"], "/data")
    apigw.put_method(
        restApiId=api["id"],
        resourceId=resource,
        httpMethod="GET",
        authorizationType="NONE",
        apiKeyRequired=api_key_required,
    )
    apigw.put_integration(
        restApiId=api["id"],
        resourceId=resource,
        httpMethod="GET",
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )
    apigw.put_method_response(restApiId=api["id"], resourceId=resource, httpMethod="GET", statusCode="200")
    apigw.put_integration_response(
        restApiId=api["id"],
        resourceId=resource,
        httpMethod="GET",
        statusCode="200",
        responseTemplates={"application/json": '{"key": "$context.identity.apiKeyId"}'},
    )
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    return api["id"]


@pytest.fixture
def plan(apigw):
    api_id = mock_api(apigw)
    key = apigw.create_api_key(name="customer", enabled=True)
    plan = apigw.create_usage_plan(
        name="basic",
        apiStages=[{"apiId": api_id, "stage": "prod"}],
        quota={"limit": 10, "period": "DAY"},
        throttle={"rateLimit": 100.0, "burstLimit": 50},
    )
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    return api_id, key, plan


def test_a_quota_of_ten_a_day(overcast, apigw, plan):
    api_id, key, usage_plan = plan
    overcast.set_clock("2030-01-01T10:00:00Z")  # far from midnight: the ten calls fall on one day
    headers = {"x-api-key": key["value"]}
    for _ in range(10):
        answer = call(overcast, api_id, "prod", "/data", headers=headers)
        assert answer.status == 200
        assert answer.json() == {"key": key["id"]}
    eleventh = call(overcast, api_id, "prod", "/data", headers=headers)
    assert eleventh.status == 429
    assert eleventh.json() == {"message": "Limit Exceeded"}
    today = datetime.fromisoformat(overcast.advance_clock(0)["now"]).astimezone(UTC).date().isoformat()
    usage = apigw.get_usage(usagePlanId=usage_plan["id"], startDate=today, endDate=today)
    assert usage["items"] == {key["id"]: [[10, 0]]}
    overcast.advance_clock("1d")
    assert call(overcast, api_id, "prod", "/data", headers=headers).status == 200


def test_keys_missing_unknown_disabled_or_outside_the_plan_are_forbidden(overcast, apigw, plan):
    api_id, key, _ = plan
    assert call(overcast, api_id, "prod", "/data").json() == {"message": "Forbidden"}
    assert call(overcast, api_id, "prod", "/data").status == 403
    assert call(overcast, api_id, "prod", "/data", headers={"x-api-key": "x" * 30}).status == 403
    loose = apigw.create_api_key(name="loose", enabled=True)
    assert call(overcast, api_id, "prod", "/data", headers={"x-api-key": loose["value"]}).status == 403
    apigw.update_api_key(
        apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
    )
    assert call(overcast, api_id, "prod", "/data", headers={"x-api-key": key["value"]}).status == 403


def test_a_throttle_answers_too_many_requests(overcast, apigw):
    api_id = mock_api(apigw)
    key = apigw.create_api_key(name="k", enabled=True)
    plan = apigw.create_usage_plan(
        name="slow",
        apiStages=[{"apiId": api_id, "stage": "prod"}],
        throttle={"rateLimit": 0.001, "burstLimit": 2},
    )
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    statuses = [
        call(overcast, api_id, "prod", "/data", headers={"x-api-key": key["value"]}).status for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    answer = call(overcast, api_id, "prod", "/data", headers={"x-api-key": key["value"]})
    assert answer.json() == {"message": "Too Many Requests"}


def test_stage_method_throttling(overcast, apigw):
    api_id = mock_api(apigw, api_key_required=False)
    apigw.update_stage(
        restApiId=api_id,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "0.001"},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "1"},
        ],
    )
    stage = apigw.get_stage(restApiId=api_id, stageName="prod")
    assert stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == 1
    assert [call(overcast, api_id, "prod", "/data").status for _ in range(2)] == [200, 429]


def test_api_keys_api(apigw):
    key = apigw.create_api_key(name="mine", value="a" * 25, customerId="c1")
    assert key["enabled"] is False and key["value"] == "a" * 25
    assert "value" not in apigw.get_api_key(apiKey=key["id"])
    assert apigw.get_api_key(apiKey=key["id"], includeValue=True)["value"] == "a" * 25
    assert [k["id"] for k in apigw.get_api_keys(nameQuery="mi")["items"]] == [key["id"]]
    with pytest.raises(ClientError) as raised:
        apigw.create_api_key(name="dup", value="a" * 25)
    assert error_of(raised) == ("ConflictException", 409)
    with pytest.raises(ClientError) as raised:
        apigw.get_api_key(apiKey="missing")
    assert error_of(raised) == ("NotFoundException", 404)
    apigw.delete_api_key(apiKey=key["id"])
    assert apigw.get_api_keys()["items"] == []


def test_usage_plans_api(apigw, plan):
    api_id, key, usage_plan = plan
    found = apigw.get_usage_plan(usagePlanId=usage_plan["id"])
    assert found["quota"] == {"limit": 10, "offset": 0, "period": "DAY"}
    assert found["apiStages"] == [{"apiId": api_id, "stage": "prod"}]
    keys = apigw.get_usage_plan_keys(usagePlanId=usage_plan["id"])["items"]
    assert keys == [{"id": key["id"], "type": "API_KEY", "value": key["value"], "name": "customer"}]
    updated = apigw.update_usage_plan(
        usagePlanId=usage_plan["id"],
        patchOperations=[{"op": "replace", "path": "/quota/limit", "value": "20"}],
    )
    assert updated["quota"]["limit"] == 20
    with pytest.raises(ClientError) as raised:
        apigw.create_usage_plan(name="x", apiStages=[{"apiId": api_id, "stage": "nope"}])
    assert error_of(raised)[1] == 404
    assert [p["id"] for p in apigw.get_usage_plans(keyId=key["id"])["items"]] == [usage_plan["id"]]


def test_custom_domain_names_serve_by_base_path_mapping(overcast, apigw):
    import http.client

    api_id = mock_api(apigw, name="mapped", api_key_required=False)
    apigw.create_domain_name(
        domainName="api.example.com",
        endpointConfiguration={"types": ["REGIONAL"]},
        regionalCertificateArn="arn:aws:acm:us-east-1:000000000000:certificate/x",
    )
    apigw.create_base_path_mapping(
        domainName="api.example.com", restApiId=api_id, basePath="shop", stage="prod"
    )
    apigw.create_base_path_mapping(
        domainName="api.example.com", restApiId=api_id
    )  # (none): the stage in the path

    def get(path: str):
        connection = http.client.HTTPConnection("127.0.0.1", overcast.config.port, timeout=30)
        connection.request("GET", path, headers={"Host": f"api.example.com:{overcast.config.port}"})
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, data

    assert get("/shop/data") == (200, b'{"key": ""}')
    assert get("/prod/data") == (200, b'{"key": ""}')
    assert get("/shop/nothing")[0] == 403
    apigw.delete_domain_name(domainName="api.example.com")
    assert get("/shop/data")[0] != 200
