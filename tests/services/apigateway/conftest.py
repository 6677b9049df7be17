"""Helpers for API Gateway tests: Lambda functions from inline source, REST APIs wired to them, and real HTTP
requests to invoke URLs (by Host header, sent to 127.0.0.1, or by the path form)."""

from __future__ import annotations

import http.client
import io
import json
import zipfile
from dataclasses import dataclass

import pytest

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
ACCOUNT = "000000000000"


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def call(
    server,
    api_id: str,
    stage: str,
    path: str = "/",
    method: str = "GET",
    body=None,
    headers=None,
    host_form: bool = True,
) -> Answer:
    """A real HTTP request to a stage's invoke URL."""
    connection = http.client.HTTPConnection("127.0.0.1", server.config.port, timeout=60)
    sent = dict(headers or {})
    if host_form:
        sent["Host"] = f"{api_id}.execute-api.localhost:{server.config.port}"
        target = f"/{stage}{path}"
    else:
        target = f"/_overcast/execute-api/{api_id}/{stage}{path}"
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    connection.request(method, target, body=body, headers=sent)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)


@pytest.fixture
def apigw(overcast):
    return overcast.client("apigateway")


@pytest.fixture
def lam(overcast):
    return overcast.client("lambda")


@pytest.fixture
def make_function(lam):
    def make(name: str, source: str, **kwargs) -> str:
        created = lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": zip_of({"app.py": source})},
            **kwargs,
        )
        return created["FunctionArn"]

    return make


def lambda_uri(function_arn: str, region: str = "us-east-1") -> str:
    return f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def allow_invoke(lam, name: str, api_id: str, statement: str = "apigw") -> None:
    """The permission SAM and the console add: API Gateway may invoke the function for this API."""
    lam.add_permission(
        FunctionName=name,
        StatementId=statement,
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*",
    )


def resource_at(apigw, api_id: str, path: str) -> str:
    """The id of the resource at `path`, creating the missing parts."""
    resources = {r["path"]: r["id"] for r in apigw.get_resources(restApiId=api_id, limit=500)["items"]}
    current = "/"
    for part in [p for p in path.split("/") if p]:
        parent = resources[current]
        current = (current.rstrip("/") + "/" + part) if current != "/" else "/" + part
        if current not in resources:
            resources[current] = apigw.create_resource(restApiId=api_id, parentId=parent, pathPart=part)["id"]
    return resources[current]


def proxy_method(apigw, api_id: str, path: str, verb: str, function_arn: str, **method) -> str:
    resource = resource_at(apigw, api_id, path)
    apigw.put_method(
        restApiId=api_id,
        resourceId=resource,
        httpMethod=verb,
        authorizationType=method.pop("authorizationType", "NONE"),
        **method,
    )
    apigw.put_integration(
        restApiId=api_id,
        resourceId=resource,
        httpMethod=verb,
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=lambda_uri(function_arn),
    )
    return resource
