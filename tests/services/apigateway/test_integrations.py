"""Integrations other than the Lambda proxy: AWS service actions with mapping templates (a form becoming a
DynamoDB PutItem, a body becoming an SQS message), a Lambda custom integration with error regexes, MOCK
with CORS as the console configures it, HTTP and HTTP_PROXY against a real loopback backend, request
validation, and gateway responses."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.services.apigateway.conftest import allow_invoke, call, lambda_uri, resource_at

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "apigateway.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
FORM_TO_PUT_ITEM = """#set($form = {})
#foreach($pair in $input.body.split("&"))
#set($kv = $pair.split("="))
#set($ignored = $form.put($util.urlDecode($kv[0]), $util.urlDecode($kv[1])))
#end
{
  "TableName": "$stageVariables.table",
  "Item": {
    "id": {"S": "$context.requestId"},
    "name": {"S": "$util.escapeJavaScript($form.name)"},
    "email": {"S": "$util.escapeJavaScript($form.email)"},
    "source": {"S": "$context.identity.sourceIp"}
  }
}"""


def method(apigw, api_id, path, verb, integration: dict, responses: dict | None = None, **kwargs) -> str:
    resource = resource_at(apigw, api_id, path)
    apigw.put_method(
        restApiId=api_id,
        resourceId=resource,
        httpMethod=verb,
        authorizationType=kwargs.pop("authorizationType", "NONE"),
        **kwargs,
    )
    apigw.put_integration(restApiId=api_id, resourceId=resource, httpMethod=verb, **integration)
    for status, response in (responses or {}).items():
        apigw.put_method_response(
            restApiId=api_id,
            resourceId=resource,
            httpMethod=verb,
            statusCode=status,
            responseParameters={k: False for k in (response.get("responseParameters") or {})},
        )
        apigw.put_integration_response(
            restApiId=api_id, resourceId=resource, httpMethod=verb, statusCode=status, **response
        )
    return resource


def test_a_form_becomes_a_dynamodb_put_item(overcast, apigw):
    iam = overcast.client("iam")
    role = iam.create_role(RoleName="apigw-dynamodb", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    dynamodb = overcast.client("dynamodb")
    dynamodb.create_table(
        TableName="signups",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    api = apigw.create_rest_api(name="signup")
    method(
        apigw,
        api["id"],
        "/signup",
        "POST",
        {
            "type": "AWS",
            "integrationHttpMethod": "POST",
            "uri": "arn:aws:apigateway:us-east-1:dynamodb:action/PutItem",
            "credentials": role,
            "requestTemplates": {"application/x-www-form-urlencoded": FORM_TO_PUT_ITEM},
            "passthroughBehavior": "NEVER",
        },
        {
            "200": {"responseTemplates": {"application/json": '{"saved": "$context.requestId"}'}},
            "400": {
                "selectionPattern": "4\\d\\d",
                "responseTemplates": {"application/json": "{\"error\": $input.json('$.message')}"},
            },
        },
    )
    apigw.create_deployment(restApiId=api["id"], stageName="prod", variables={"table": "signups"})
    answer = call(
        overcast,
        api["id"],
        "prod",
        "/signup",
        method="POST",
        body="name=Ada+Lovelace&email=ada%40example.com",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 200, answer.body
    request_id = answer.json()["saved"]
    assert request_id == answer.headers["x-amzn-requestid"]
    item = dynamodb.get_item(TableName="signups", Key={"id": {"S": request_id}})["Item"]
    assert item["name"] == {"S": "Ada Lovelace"}
    assert item["email"] == {"S": "ada@example.com"}
    assert item["source"] == {"S": "127.0.0.1"}
    # a JSON body has no template and passthrough is NEVER: 415
    refused = call(
        overcast,
        api["id"],
        "prod",
        "/signup",
        method="POST",
        body={"a": 1},
        headers={"Content-Type": "application/json"},
    )
    assert refused.status == 415 and refused.json() == {"message": "Unsupported Media Type"}
    # DynamoDB's own error reaches the 4xx integration response
    apigw.update_stage(
        restApiId=api["id"],
        stageName="prod",
        patchOperations=[{"op": "replace", "path": "/variables/table", "value": "missing"}],
    )
    failed = call(
        overcast,
        api["id"],
        "prod",
        "/signup",
        method="POST",
        body="name=a&email=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert failed.status == 400
    assert "not found" in failed.json()["error"].lower()


def test_a_body_becomes_an_sqs_message(overcast, apigw):
    iam = overcast.client("iam")
    role = iam.create_role(RoleName="apigw-sqs", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    sqs = overcast.client("sqs")
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    api = apigw.create_rest_api(name="to-sqs")
    method(
        apigw,
        api["id"],
        "/messages",
        "POST",
        {
            "type": "AWS",
            "integrationHttpMethod": "POST",
            "uri": "arn:aws:apigateway:us-east-1:sqs:path/000000000000/inbox",
            "credentials": role,
            "requestParameters": {
                "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"
            },
            "requestTemplates": {
                "application/json": "Action=SendMessage&MessageBody=$util.urlEncode($input.body)"
            },
        },
        {
            "200": {
                "responseTemplates": {
                    "application/json": '{"id": "$input.path(\'$.SendMessageResponse.SendMessageResult.MessageId\')"}'
                }
            }
        },
    )
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    answer = call(
        overcast,
        api["id"],
        "prod",
        "/messages",
        method="POST",
        body={"order": 7},
        headers={"Content-Type": "application/json"},
    )
    assert answer.status == 200, answer.body
    messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
    assert json.loads(messages[0]["Body"]) == {"order": 7}
    # SQS answers API Gateway in the JSON form of its query protocol, which the template reads
    assert answer.json() == {"id": messages[0]["MessageId"]}
    # and its errors too: a queue that is gone
    resource = resource_at(apigw, api["id"], "/messages")
    apigw.put_method_response(restApiId=api["id"], resourceId=resource, httpMethod="POST", statusCode="400")
    apigw.put_integration_response(
        restApiId=api["id"],
        resourceId=resource,
        httpMethod="POST",
        statusCode="400",
        selectionPattern="4\\d{2}",
        responseTemplates={
            "application/json": '{"code": "$input.path(\'$.Error.Code\')", "type": "$input.path(\'$.Error.Type\')"}'
        },
    )
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    sqs.delete_queue(QueueUrl=queue)
    failed = call(
        overcast,
        api["id"],
        "prod",
        "/messages",
        method="POST",
        body={"order": 8},
        headers={"Content-Type": "application/json"},
    )
    assert (failed.status, failed.json()) == (
        400,
        {"code": "AWS.SimpleQueueService.NonExistentQueue", "type": "Sender"},
    )


def test_query_parameters_become_an_sns_publish(overcast, apigw):
    """The classic REST → SNS integration: the action's parameters mapped into the query string."""
    from tests.waiting import wait_for

    iam = overcast.client("iam")
    role = iam.create_role(RoleName="apigw-sns", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    sns, sqs = overcast.client("sns"), overcast.client("sqs")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="alerts-copy")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    api = apigw.create_rest_api(name="to-sns")
    method(
        apigw,
        api["id"],
        "/alerts",
        "POST",
        {
            "type": "AWS",
            "integrationHttpMethod": "POST",
            "uri": "arn:aws:apigateway:us-east-1:sns:action/Publish",
            "credentials": role,
            "requestParameters": {
                "integration.request.querystring.TopicArn": f"'{topic}'",
                "integration.request.querystring.Message": "method.request.querystring.text",
            },
        },
        {
            "200": {
                "responseTemplates": {
                    "application/json": '{"id": "$input.path(\'$.PublishResponse.PublishResult.MessageId\')"}'
                }
            }
        },
        requestParameters={"method.request.querystring.text": True},
    )
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    answer = call(overcast, api["id"], "prod", "/alerts?text=disk%20full", method="POST")
    assert answer.status == 200, answer.body
    messages = wait_for(
        lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages"), timeout=30
    )
    assert messages[0]["Body"] == "disk full"
    assert answer.json()["id"]


CUSTOM = """
def handler(event, context):
    if event.get("fail"):
        raise Exception("NotFound: no item " + str(event["id"]))
    return {"id": event["id"], "twice": event["id"] * 2}
"""


def test_lambda_custom_integration_maps_errors_by_regex(overcast, apigw, lam, make_function):
    arn = make_function("custom", CUSTOM)
    api = apigw.create_rest_api(name="custom")
    method(
        apigw,
        api["id"],
        "/items/{id}",
        "GET",
        {
            "type": "AWS",
            "integrationHttpMethod": "POST",
            "uri": lambda_uri(arn),
            "requestTemplates": {
                "application/json": '{"id": $input.params("id"), "fail": $input.params().querystring.containsKey("fail")}'
            },
        },
        {
            "200": {
                "responseTemplates": {"application/json": '{"value": $input.path("$.twice")}'},
                "responseParameters": {"method.response.header.X-Id": "integration.response.body.id"},
            },
            "404": {
                "selectionPattern": "NotFound:.*",
                "responseTemplates": {"application/json": '{"error": "$input.path(\'$.errorMessage\')"}'},
            },
        },
    )
    allow_invoke(lam, "custom", api["id"])
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    ok = call(overcast, api["id"], "prod", "/items/21")
    assert ok.status == 200 and ok.json() == {"value": 42}
    assert ok.headers["x-id"] == "21"
    missing = call(overcast, api["id"], "prod", "/items/5?fail=1")
    assert missing.status == 404 and missing.json() == {"error": "NotFound: no item 5"}


QUEUER = """
import json
import boto3

def handler(event, context):
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="async-jobs")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))
    return {"never": "seen"}
"""


def test_lambda_custom_integration_invoked_asynchronously(overcast, apigw, lam, make_function):
    from tests.waiting import wait_for

    sqs = overcast.client("sqs")
    queue = sqs.create_queue(QueueName="async-jobs")["QueueUrl"]
    arn = make_function("queuer", QUEUER)
    api = apigw.create_rest_api(name="async")
    method(
        apigw,
        api["id"],
        "/jobs",
        "POST",
        {
            "type": "AWS",
            "integrationHttpMethod": "POST",
            "uri": lambda_uri(arn),
            "requestParameters": {"integration.request.header.X-Amz-Invocation-Type": "'Event'"},
            "requestTemplates": {"application/json": "{\"job\": $input.json('$.job')}"},
        },
        {
            "202": {
                "responseTemplates": {"application/json": '{"answer": "$util.escapeJavaScript($input.body)"}'}
            }
        },
    )
    allow_invoke(lam, "queuer", api["id"])
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    answer = call(
        overcast,
        api["id"],
        "prod",
        "/jobs",
        method="POST",
        body={"job": 7},
        headers={"Content-Type": "application/json"},
    )
    assert (answer.status, answer.json()) == (202, {"answer": ""})  # the function's answer is not awaited
    messages = wait_for(
        lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages"), timeout=60
    )
    assert json.loads(messages[0]["Body"]) == {"job": 7}


def test_cors_preflight_as_the_console_configures_it(overcast, apigw):
    api = apigw.create_rest_api(name="cors")
    method(
        apigw,
        api["id"],
        "/things",
        "OPTIONS",
        {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}},
        {
            "200": {
                "responseParameters": {
                    "method.response.header.Access-Control-Allow-Headers": "'Content-Type,X-Amz-Date,Authorization,X-Api-Key'",
                    "method.response.header.Access-Control-Allow-Methods": "'GET,OPTIONS'",
                    "method.response.header.Access-Control-Allow-Origin": "'*'",
                },
                "responseTemplates": {"application/json": ""},
            }
        },
    )
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    answer = call(
        overcast,
        api["id"],
        "prod",
        "/things",
        method="OPTIONS",
        headers={"Origin": "http://site.example", "Access-Control-Request-Method": "GET"},
    )
    assert answer.status == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["access-control-allow-methods"] == "GET,OPTIONS"
    assert "X-Api-Key" in answer.headers["access-control-allow-headers"]


@pytest.fixture
def backend():
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("content-length") or 0)
            seen.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": self.rfile.read(length).decode(),
                }
            )
            status = 404 if "missing" in self.path else 200
            body = json.dumps({"path": self.path, "method": self.command}).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("x-backend", "yes")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.seen = seen
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def test_http_proxy_calls_the_backend(overcast, apigw, backend):
    api = apigw.create_rest_api(name="proxy")
    resource = resource_at(apigw, api["id"], "/{proxy+}")
    apigw.put_method(
        restApiId=api["id"],
        resourceId=resource,
        httpMethod="ANY",
        authorizationType="NONE",
        requestParameters={"method.request.path.proxy": True},
    )
    apigw.put_integration(
        restApiId=api["id"],
        resourceId=resource,
        httpMethod="ANY",
        type="HTTP_PROXY",
        integrationHttpMethod="ANY",
        uri=backend.url + "/{proxy}",
        requestParameters={
            "integration.request.path.proxy": "method.request.path.proxy",
            "integration.request.header.X-Stage": "stageVariables.name",
        },
    )
    apigw.create_deployment(restApiId=api["id"], stageName="prod", variables={"name": "prod"})
    answer = call(
        overcast,
        api["id"],
        "prod",
        "/a/b?x=1",
        method="PUT",
        body="hi",
        headers={"X-Client": "c", "Content-Type": "text/plain"},
    )
    assert answer.status == 200
    assert answer.json() == {"path": "/a/b?x=1", "method": "PUT"}
    assert answer.headers["x-backend"] == "yes"
    sent = backend.seen[-1]
    assert sent["body"] == "hi"
    assert sent["headers"]["X-Client"] == "c"
    assert sent["headers"]["X-Stage"] == "prod"
    assert call(overcast, api["id"], "prod", "/missing").status == 404


def test_http_integration_maps_status_codes(overcast, apigw, backend):
    api = apigw.create_rest_api(name="http")
    method(
        apigw,
        api["id"],
        "/lookup/{name}",
        "GET",
        {
            "type": "HTTP",
            "integrationHttpMethod": "GET",
            "uri": backend.url + "/users/{name}",
            "requestParameters": {"integration.request.path.name": "method.request.path.name"},
        },
        {
            "200": {"responseTemplates": {"application/json": '{"seen": $input.json("$.path")}'}},
            "404": {"selectionPattern": "404", "responseTemplates": {"application/json": '{"found": false}'}},
        },
    )
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    assert call(overcast, api["id"], "prod", "/lookup/ada").json() == {"seen": "/users/ada"}
    gone = call(overcast, api["id"], "prod", "/lookup/missing")
    assert gone.status == 404 and gone.json() == {"found": False}


def test_request_validation_with_models(overcast, apigw):
    api = apigw.create_rest_api(name="validated")
    apigw.create_model(
        restApiId=api["id"],
        name="Pet",
        contentType="application/json",
        schema=json.dumps(
            {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
        ),
    )
    validator = apigw.create_request_validator(
        restApiId=api["id"], name="all", validateRequestBody=True, validateRequestParameters=True
    )
    method(
        apigw,
        api["id"],
        "/pets",
        "POST",
        {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}},
        {"200": {"responseTemplates": {"application/json": '{"ok": true}'}}},
        requestValidatorId=validator["id"],
        requestModels={"application/json": "Pet"},
        requestParameters={"method.request.querystring.owner": True, "method.request.header.x-trace": False},
    )
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    missing = call(
        overcast,
        api["id"],
        "prod",
        "/pets",
        method="POST",
        body={"name": "rex"},
        headers={"Content-Type": "application/json"},
    )
    assert missing.status == 400
    assert missing.json() == {"message": "Missing required request parameters: [owner]"}
    invalid = call(
        overcast,
        api["id"],
        "prod",
        "/pets?owner=me",
        method="POST",
        body={"age": 3},
        headers={"Content-Type": "application/json"},
    )
    assert invalid.status == 400 and invalid.json() == {"message": "Invalid request body"}
    good = call(
        overcast,
        api["id"],
        "prod",
        "/pets?owner=me",
        method="POST",
        body={"name": "rex"},
        headers={"Content-Type": "application/json"},
    )
    assert good.status == 200 and good.json() == {"ok": True}


def test_gateway_responses_can_be_customized(overcast, apigw):
    api = apigw.create_rest_api(name="custom-errors")
    method(
        apigw,
        api["id"],
        "/x",
        "GET",
        {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}},
        {"200": {}},
    )
    apigw.put_gateway_response(
        restApiId=api["id"],
        responseType="MISSING_AUTHENTICATION_TOKEN",
        statusCode="404",
        responseParameters={"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
        responseTemplates={
            "application/json": '{"error": "no route", "type": "$context.error.responseType"}'
        },
    )
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    answer = call(overcast, api["id"], "prod", "/nothing-here")
    assert answer.status == 404
    assert answer.json() == {"error": "no route", "type": "MISSING_AUTHENTICATION_TOKEN"}
    assert answer.headers["access-control-allow-origin"] == "*"
    defaults = {g["responseType"]: g for g in apigw.get_gateway_responses(restApiId=api["id"])["items"]}
    assert defaults["THROTTLED"]["statusCode"] == "429" and defaults["THROTTLED"]["defaultResponse"] is True
    assert defaults["MISSING_AUTHENTICATION_TOKEN"]["defaultResponse"] is False


def test_stage_variables_choose_the_function_and_canary_splits_traffic(overcast, apigw, lam, make_function):
    for name in ("blue", "green"):
        make_function(name, f"def handler(e, c):\n    return {{'statusCode': 200, 'body': '{name}'}}\n")
        allow_invoke(lam, name, "*")
    api = apigw.create_rest_api(name="colors")
    resource = resource_at(apigw, api["id"], "/color")
    apigw.put_method(restApiId=api["id"], resourceId=resource, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(
        restApiId=api["id"],
        resourceId=resource,
        httpMethod="GET",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:us-east-1:000000000000:function:${stageVariables.fn}/invocations",
    )
    apigw.create_deployment(restApiId=api["id"], stageName="prod", variables={"fn": "blue"})
    assert call(overcast, api["id"], "prod", "/color").body == b"blue"
    apigw.create_deployment(
        restApiId=api["id"],
        stageName="prod",
        canarySettings={"percentTraffic": 100.0, "stageVariableOverrides": {"fn": "green"}},
    )
    assert call(overcast, api["id"], "prod", "/color").body == b"green"
    stage = apigw.get_stage(restApiId=api["id"], stageName="prod")
    assert stage["canarySettings"]["percentTraffic"] == 100.0
    apigw.update_stage(
        restApiId=api["id"],
        stageName="prod",
        patchOperations=[{"op": "replace", "path": "/canarySettings/percentTraffic", "value": "0"}],
    )
    assert call(overcast, api["id"], "prod", "/color").body == b"blue"


def test_an_s3_proxy_carries_binary_objects_both_ways(overcast, apigw):
    iam = overcast.client("iam")
    role = iam.create_role(RoleName="apigw-s3", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    s3 = overcast.client("s3")
    s3.create_bucket(Bucket="photos")
    api = apigw.create_rest_api(name="s3-proxy", binaryMediaTypes=["image/png"])
    resource = resource_at(apigw, api["id"], "/{folder}/{item}")
    for verb in ("GET", "PUT"):
        apigw.put_method(
            restApiId=api["id"],
            resourceId=resource,
            httpMethod=verb,
            authorizationType="NONE",
            requestParameters={"method.request.path.folder": True, "method.request.path.item": True},
        )
        apigw.put_integration(
            restApiId=api["id"],
            resourceId=resource,
            httpMethod=verb,
            type="AWS",
            integrationHttpMethod=verb,
            uri="arn:aws:apigateway:us-east-1:s3:path/{bucket}/{object}",
            credentials=role,
            requestParameters={
                "integration.request.path.bucket": "method.request.path.folder",
                "integration.request.path.object": "method.request.path.item",
                "integration.request.header.Content-Type": "method.request.header.Content-Type",
            },
        )
        apigw.put_method_response(
            restApiId=api["id"],
            resourceId=resource,
            httpMethod=verb,
            statusCode="200",
            responseParameters={"method.response.header.Content-Type": False},
        )
        apigw.put_integration_response(
            restApiId=api["id"],
            resourceId=resource,
            httpMethod=verb,
            statusCode="200",
            responseParameters={
                "method.response.header.Content-Type": "integration.response.header.Content-Type"
            },
        )
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    image = bytes(range(256)) * 4
    put = call(
        overcast,
        api["id"],
        "prod",
        "/photos/cat.png",
        method="PUT",
        body=image,
        headers={"Content-Type": "image/png"},
    )
    assert put.status == 200
    assert s3.get_object(Bucket="photos", Key="cat.png")["Body"].read() == image
    got = call(overcast, api["id"], "prod", "/photos/cat.png", headers={"Accept": "image/png"})
    assert got.status == 200
    assert got.body == image
    assert got.headers["content-type"] == "image/png"
    # a binary answer to a client that accepts text comes back base64-encoded
    as_json = call(overcast, api["id"], "prod", "/photos/cat.png", headers={"Accept": "application/json"})
    assert as_json.body == base64.b64encode(image)
    # CONVERT_TO_BINARY: a base64 text body reaches S3 as the bytes it encodes
    apigw.update_integration(
        restApiId=api["id"],
        resourceId=resource,
        httpMethod="PUT",
        patchOperations=[{"op": "replace", "path": "/contentHandling", "value": "CONVERT_TO_BINARY"}],
    )
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    put = call(
        overcast,
        api["id"],
        "prod",
        "/photos/dog.png",
        method="PUT",
        body=base64.b64encode(image[:100]),
        headers={"Content-Type": "text/plain"},
    )
    assert put.status == 200
    assert s3.get_object(Bucket="photos", Key="dog.png")["Body"].read() == image[:100]
    # CONVERT_TO_TEXT: the object reaches the template as base64 text
    apigw.update_integration_response(
        restApiId=api["id"],
        resourceId=resource,
        httpMethod="GET",
        statusCode="200",
        patchOperations=[
            {"op": "replace", "path": "/contentHandling", "value": "CONVERT_TO_TEXT"},
            {"op": "add", "path": "/responseTemplates/application~1json", "value": '{"b64": "$input.body"}'},
        ],
    )
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    as_text = call(overcast, api["id"], "prod", "/photos/cat.png", headers={"Accept": "application/json"})
    assert as_text.json() == {"b64": base64.b64encode(image).decode()}


def test_payload_compression_both_ways(overcast, apigw, backend):
    import gzip
    import zlib

    api = apigw.create_rest_api(name="compressed", minimumCompressionSize=100)
    method(
        apigw,
        api["id"],
        "/big",
        "GET",
        {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}},
        {"200": {"responseTemplates": {"application/json": '{"items": "' + "x" * 300 + '"}'}}},
    )
    method(
        apigw,
        api["id"],
        "/small",
        "GET",
        {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}},
        {"200": {"responseTemplates": {"application/json": '{"ok": true}'}}},
    )
    method(
        apigw,
        api["id"],
        "/echo",
        "POST",
        {"type": "HTTP", "integrationHttpMethod": "POST", "uri": backend.url + "/echo"},
        {"200": {}},
    )
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    big = call(overcast, api["id"], "prod", "/big", headers={"Accept-Encoding": "br;q=0, gzip, deflate"})
    assert big.headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(big.body)) == {"items": "x" * 300}
    deflated = call(overcast, api["id"], "prod", "/big", headers={"Accept-Encoding": "deflate"})
    assert json.loads(zlib.decompress(deflated.body)) == {"items": "x" * 300}
    plain = call(overcast, api["id"], "prod", "/big")  # no coding asked for: never compressed
    assert "content-encoding" not in plain.headers and plain.json() == {"items": "x" * 300}
    small = call(overcast, api["id"], "prod", "/small", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers and small.json() == {"ok": True}
    # a compressed request body reaches a non-proxy integration decompressed
    sent = call(
        overcast,
        api["id"],
        "prod",
        "/echo",
        method="POST",
        body=gzip.compress(b'{"order": 7}'),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert sent.status == 200
    assert json.loads(backend.seen[-1]["body"]) == {"order": 7}
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    sent = call(
        overcast,
        api["id"],
        "prod",
        "/echo",
        method="POST",
        body=raw.compress(b'{"order": 9}') + raw.flush(),  # raw deflate, as some clients send it
        headers={"Content-Type": "application/json", "Content-Encoding": "deflate"},
    )
    assert sent.status == 200
    assert json.loads(backend.seen[-1]["body"]) == {"order": 9}
    for coding, payload in (("br", b"anything"), ("gzip", b"not gzip at all")):
        refused = call(
            overcast,
            api["id"],
            "prod",
            "/echo",
            method="POST",
            body=payload,
            headers={"Content-Type": "application/json", "Content-Encoding": coding},
        )
        assert (refused.status, refused.json()) == (415, {"message": "Unsupported Media Type"})


def test_test_invoke_method_logs_the_endpoint_request_and_response(overcast, apigw, backend):
    api = apigw.create_rest_api(name="traced")
    resource = method(
        apigw,
        api["id"],
        "/orders",
        "POST",
        {
            "type": "HTTP",
            "integrationHttpMethod": "POST",
            "uri": backend.url + "/orders",
            "requestTemplates": {"application/json": "{\"wrapped\": $input.json('$')}"},
        },
        {"200": {"responseTemplates": {"application/json": '{"seen": "$input.path(\'$.path\')"}'}}},
    )
    result = apigw.test_invoke_method(
        restApiId=api["id"],
        resourceId=resource,
        httpMethod="POST",
        body='{"n": 1}',
        headers={"Content-Type": "application/json"},
    )
    assert json.loads(result["body"]) == {"seen": "/orders"}
    lines = [line.split(" : ", 1)[1] for line in result["log"].splitlines()[1:]]
    assert lines[0].startswith("Starting execution for request: ")
    assert f"Endpoint request URI: {backend.url}/orders" in lines
    sent = next(line for line in lines if line.startswith("Endpoint request body after transformations: "))
    assert json.loads(sent.split(": ", 1)[1]) == {"wrapped": {"n": 1}}
    assert f"Sending request to {backend.url}/orders" in lines
    received = next(line for line in lines if line.startswith("Received response."))
    assert received.startswith("Received response. Status: 200, Integration latency: ")
    assert 'Endpoint response body before transformations: {"path": "/orders", "method": "POST"}' in lines
    assert 'Method response body after transformations: {"seen": "/orders"}' in lines
    assert lines[-2:] == ["Successfully completed execution", "Method completed with status: 200"]
    order = [
        next(i for i, line in enumerate(lines) if line.startswith(prefix))
        for prefix in (
            "Method request body",
            "Endpoint request URI",
            "Received response",
            "Method response body",
        )
    ]
    assert order == sorted(order)


def test_templates_override_the_request_and_the_response(overcast, apigw, backend):
    api = apigw.create_rest_api(name="overrides")
    method(
        apigw,
        api["id"],
        "/tea",
        "POST",
        {
            "type": "HTTP",
            "integrationHttpMethod": "POST",
            "uri": backend.url + "/{where}",
            "requestParameters": {"integration.request.path.where": "'default-place'"},
            "requestTemplates": {
                "application/json": "#set($context.requestOverride.header.Who = $input.path('$.who'))"
                '#set($context.requestOverride.querystring.cups = "2")'
                '#set($context.requestOverride.path.where = "kitchen")'
                '{"kind": "green"}'
            },
        },
        {
            "200": {
                "responseTemplates": {
                    "application/json": "#set($context.responseOverride.status = 418)"
                    '#set($context.responseOverride.header.Teapot = "yes")'
                    '{"short": "and stout"}'
                }
            }
        },
    )
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    answer = call(
        overcast,
        api["id"],
        "prod",
        "/tea",
        method="POST",
        body={"who": "ada"},
        headers={"Content-Type": "application/json"},
    )
    assert (answer.status, answer.json()) == (418, {"short": "and stout"})
    assert answer.headers["teapot"] == "yes"
    sent = backend.seen[-1]
    assert sent["path"] == "/kitchen?cups=2"
    assert sent["headers"]["Who"] == "ada"
    assert json.loads(sent["body"]) == {"kind": "green"}
