"""API Gateway's state survives kill -9: a deployed REST API keeps serving after a restart, and a usage
plan's quota keeps its count (both live in SQLite)."""

from __future__ import annotations

import http.client
import json
import signal

import pytest

from tests.server_process import ServerProcess
from tests.services.apigateway.test_usage_plans import mock_api


def get(server: ServerProcess, api_id: str, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", f"/_overcast/execute-api/{api_id}/prod{path}", headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


@pytest.mark.slow
def test_apis_and_quotas_survive_kill_9(tmp_path):
    server = ServerProcess(tmp_path)
    try:
        apigw = server.client("apigateway")
        api_id = mock_api(apigw)
        key = apigw.create_api_key(name="k", enabled=True)
        plan = apigw.create_usage_plan(
            name="p", apiStages=[{"apiId": api_id, "stage": "prod"}], quota={"limit": 3, "period": "MONTH"}
        )
        apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
        headers = {"x-api-key": key["value"]}
        assert [get(server, api_id, "/data", headers)[0] for _ in range(2)] == [200, 200]
    finally:
        server.stop(signal.SIGKILL)
    server = ServerProcess(tmp_path, port=server.port)
    try:
        status, body = get(server, api_id, "/data", headers)
        assert status == 200 and json.loads(body) == {"key": key["id"]}
        status, body = get(server, api_id, "/data", headers)
        assert status == 429 and json.loads(body) == {"message": "Limit Exceeded"}
    finally:
        server.stop()
