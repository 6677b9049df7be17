"""The SAM hello-world path: a REST API with a Lambda proxy integration, called over real HTTP.

The function sees the request exactly as AWS's payload format 1.0 hands it over (query strings, path
parameters, headers with their multi-value forms, a JSON body, the request context), and its answer becomes
the HTTP response (status, headers, multi-value headers, base64 bodies for binary media types)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess

import pytest

from tests.services.apigateway.conftest import allow_invoke, call, proxy_method

ECHO = """
import json
def handler(event, context):
    return {
        "statusCode": 201,
        "headers": {"content-type": "application/json", "x-from": "lambda"},
        "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]},
        "body": json.dumps(event),
    }
"""

HELLO = """
import json
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"message": "hello world"})}
"""


@pytest.fixture
def echo_api(apigw, lam, make_function):
    arn = make_function("echo", ECHO)
    api = apigw.create_rest_api(name="echo-api")
    proxy_method(apigw, api["id"], "/items/{id}", "POST", arn)
    proxy_method(apigw, api["id"], "/{proxy+}", "ANY", arn)
    allow_invoke(lam, "echo", api["id"])
    apigw.create_deployment(restApiId=api["id"], stageName="Prod", variables={"env": "prod"})
    return api["id"]


def test_hello_world_with_curl(overcast, apigw, lam, make_function):
    arn = make_function("hello", HELLO)
    api = apigw.create_rest_api(name="sam-app")
    proxy_method(apigw, api["id"], "/hello", "GET", arn)
    allow_invoke(lam, "hello", api["id"])
    apigw.create_deployment(restApiId=api["id"], stageName="Prod")
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    url = f"http://127.0.0.1:{overcast.config.port}/Prod/hello"
    host = f"Host: {api['id']}.execute-api.localhost:{overcast.config.port}"
    done = subprocess.run([curl, "-s", "-i", "-H", host, url], capture_output=True, text=True, timeout=60)
    head, _, body = done.stdout.replace("\r\n", "\n").partition("\n\n")
    assert head.startswith("HTTP/1.1 200")
    assert json.loads(body) == {"message": "hello world"}
    assert "x-amzn-requestid:" in head.lower() and "x-amz-apigw-id:" in head.lower()
    # the path form of the invoke URL serves the same stage
    answer = call(overcast, api["id"], "Prod", "/hello", host_form=False)
    assert answer.status == 200 and answer.json() == {"message": "hello world"}
    assert answer.headers["content-type"] == "application/json"


def test_the_event_is_payload_format_1_0(overcast, echo_api):
    answer = call(
        overcast,
        echo_api,
        "Prod",
        "/items/42?color=red&size=s&size=m",
        method="POST",
        body={"name": "widget"},
        headers={"Content-Type": "application/json", "X-Custom": "a", "User-Agent": "tests"},
    )
    assert answer.status == 201
    assert answer.headers["x-from"] == "lambda"
    event = answer.json()
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/42"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"color": "red", "size": "m"}
    assert event["multiValueQueryStringParameters"] == {"color": ["red"], "size": ["s", "m"]}
    assert event["headers"]["X-Custom"] == "a"
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert event["headers"]["X-Amzn-Trace-Id"] == answer.headers["x-amzn-trace-id"]
    assert event["multiValueHeaders"]["X-Custom"] == ["a"]
    assert json.loads(event["body"]) == {"name": "widget"}
    assert event["isBase64Encoded"] is False
    assert event["stageVariables"] == {"env": "prod"}
    context = event["requestContext"]
    assert context["resourcePath"] == "/items/{id}"
    assert context["httpMethod"] == "POST"
    assert context["stage"] == "Prod"
    assert context["path"] == "/Prod/items/42"
    assert context["apiId"] == echo_api
    assert context["accountId"] == "000000000000"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "tests"
    assert context["requestId"] == answer.headers["x-amzn-requestid"]
    assert context["extendedRequestId"] == answer.headers["x-amz-apigw-id"]
    assert context["protocol"] == "HTTP/1.1"
    assert isinstance(context["requestTimeEpoch"], int)


def test_greedy_proxy_and_absent_collections_are_null(overcast, echo_api):
    answer = call(overcast, echo_api, "Prod", "/a/b%20c/d", method="DELETE")
    event = answer.json()
    assert event["resource"] == "/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b c/d"}
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["body"] is None


def test_multi_value_response_headers_reach_the_client(overcast, echo_api):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", overcast.config.port, timeout=60)
    connection.request("GET", f"/_overcast/execute-api/{echo_api}/Prod/x")
    response = connection.getresponse()
    response.read()
    cookies = [v for k, v in response.getheaders() if k.lower() == "set-cookie"]
    connection.close()
    assert cookies == ["a=1", "b=2"]


BINARY = """
import base64
def handler(event, context):
    if event.get("isBase64Encoded"):
        data = base64.b64decode(event["body"])
    else:
        data = (event.get("body") or "").encode()
    return {
        "statusCode": 200,
        "headers": {"content-type": "image/png"},
        "body": base64.b64encode(data[::-1]).decode(),
        "isBase64Encoded": True,
    }
"""


def test_binary_media_types_carry_bytes_both_ways(overcast, apigw, lam, make_function):
    arn = make_function("binary", BINARY)
    api = apigw.create_rest_api(name="images", binaryMediaTypes=["image/png"])
    proxy_method(apigw, api["id"], "/flip", "POST", arn)
    allow_invoke(lam, "binary", api["id"])
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    data = bytes(range(256))
    answer = call(
        overcast,
        api["id"],
        "v1",
        "/flip",
        method="POST",
        body=data,
        headers={"Content-Type": "image/png", "Accept": "image/png"},
    )
    assert answer.status == 200
    assert answer.body == data[::-1]
    # an API without the binary media type hands the base64 text on, in both directions
    plain = apigw.create_rest_api(name="text-only")
    proxy_method(apigw, plain["id"], "/flip", "POST", arn)
    allow_invoke(lam, "binary", plain["id"], statement="plain")
    apigw.create_deployment(restApiId=plain["id"], stageName="v1")
    answer = call(
        overcast,
        plain["id"],
        "v1",
        "/flip",
        method="POST",
        body=b"abc",
        headers={"Content-Type": "text/plain"},
    )
    assert answer.body == base64.b64encode(b"cba")


MALFORMED = """
def handler(event, context):
    return {"statusCode": 200, "body": {"not": "a string"}}
"""

FAILING = """
def handler(event, context):
    raise ValueError("boom")
"""


def test_a_malformed_answer_or_a_failing_function_is_502(overcast, apigw, lam, make_function):
    api = apigw.create_rest_api(name="bad")
    for name, source in (("malformed", MALFORMED), ("failing", FAILING)):
        arn = make_function(name, source)
        proxy_method(apigw, api["id"], f"/{name}", "GET", arn)
        allow_invoke(lam, name, api["id"])
    apigw.create_deployment(restApiId=api["id"], stageName="dev")
    for name in ("malformed", "failing"):
        answer = call(overcast, api["id"], "dev", f"/{name}")
        assert answer.status == 502
        assert answer.json() == {"message": "Internal server error"}


def test_unknown_paths_stages_and_apis(overcast, echo_api, apigw):
    answer = call(overcast, echo_api, "Prod", "/items/42")  # GET has no method there
    assert answer.status == 403
    assert answer.json() == {"message": "Missing Authentication Token"}
    assert answer.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    answer = call(overcast, echo_api, "Nope", "/a")
    assert answer.status == 403 and answer.json() == {"message": "Forbidden"}


def test_changes_take_effect_only_when_deployed(overcast, apigw, lam, make_function, echo_api):
    arn = make_function("hello", HELLO)
    proxy_method(apigw, echo_api, "/hello", "GET", arn)
    allow_invoke(lam, "hello", echo_api)
    assert call(overcast, echo_api, "Prod", "/hello").json()["resource"] == "/{proxy+}"  # still the old tree
    apigw.create_deployment(restApiId=echo_api, stageName="Prod")
    assert call(overcast, echo_api, "Prod", "/hello").json() == {"message": "hello world"}


def test_without_permission_under_enforce_the_function_is_not_invoked(enforced):
    from tests.services.apigateway.conftest import ROLE, lambda_uri, zip_of

    iam = enforced.client("iam")
    iam.create_role(
        RoleName="lambda-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    lam = enforced.client("lambda")
    apigw = enforced.client("apigateway")
    arn = lam.create_function(
        FunctionName="hello",
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": HELLO})},
    )["FunctionArn"]
    api = apigw.create_rest_api(name="locked")
    root = api["rootResourceId"]
    apigw.put_method(restApiId=api["id"], resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(
        restApiId=api["id"],
        resourceId=root,
        httpMethod="GET",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=lambda_uri(arn),
    )
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    answer = call(enforced, api["id"], "prod", "/")
    assert answer.status == 500 and answer.json() == {"message": "Internal server error"}
    allow_invoke(lam, "hello", api["id"])
    answer = call(enforced, api["id"], "prod", "/")
    assert answer.status == 200 and answer.json() == {"message": "hello world"}


def test_the_invoke_url_forms_localstack_users_know(overcast, echo_api):
    import http.client

    for target in (f"/_aws/execute-api/{echo_api}/Prod/x/y", f"/restapis/{echo_api}/Prod/_user_request_/x/y"):
        connection = http.client.HTTPConnection("127.0.0.1", overcast.config.port, timeout=60)
        connection.request("GET", target)
        response = connection.getresponse()
        event = json.loads(response.read())
        connection.close()
        assert response.status == 201
        assert event["path"] == "/x/y" and event["pathParameters"] == {"proxy": "x/y"}
