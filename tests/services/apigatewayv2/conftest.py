"""HTTP and WebSocket API tests reuse the REST API tests' helpers (functions, real HTTP calls)."""

from __future__ import annotations

import pytest

from tests.services.apigateway.conftest import apigw, lam, make_function  # noqa: F401 (fixtures)


@pytest.fixture
def v2(overcast):
    return overcast.client("apigatewayv2")


def invoke(
    server, api_id: str, path: str = "/", method: str = "GET", body=None, headers=None, host_form=True
):
    """A real HTTP request to an HTTP API (`path` includes the stage unless it is `$default`)."""
    import http.client
    import json

    from tests.services.apigateway.conftest import Answer

    connection = http.client.HTTPConnection("127.0.0.1", server.config.port, timeout=60)
    sent = dict(headers or {})
    if host_form:
        sent["Host"] = f"{api_id}.execute-api.localhost:{server.config.port}"
        target = path
    else:
        target = f"/_overcast/execute-api/{api_id}{path}"
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    connection.request(method, target, body=body, headers=sent)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
