"""WebSocket APIs with non-proxy integrations, through a real client library (websocket-client): MOCK
two-way routes rendered by integration response templates, the classic connection table kept by a
DynamoDB `AWS` integration on $connect, messages sent to SQS, HTTP backends with template selection and
integration responses chosen by status code, and a Lambda custom integration whose errors select."""

from __future__ import annotations

import json

import pytest

from tests.services.apigateway.conftest import allow_invoke, lambda_uri
from tests.services.apigateway.test_integrations import TRUST, backend  # noqa: F401 (fixture)
from tests.services.apigatewayv2.test_websockets import connect
from tests.waiting import wait_for


def websocket_api(v2, name: str = "ws"):
    return v2.create_api(Name=name, ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")


def two_way_route(v2, api_id: str, key: str, integration_id: str) -> None:
    route = v2.create_route(
        ApiId=api_id,
        RouteKey=key,
        Target=f"integrations/{integration_id}",
        RouteResponseSelectionExpression="$default",
    )
    v2.create_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default")


def test_mock_routes_answer_through_their_integration_response_templates(overcast, v2):
    api = websocket_api(v2)
    api_id = api["ApiId"]
    mock = v2.create_integration(
        ApiId=api_id,
        IntegrationType="MOCK",
        TemplateSelectionExpression="\\$default",
        RequestTemplates={"$default": '{"statusCode": 200}'},
    )
    assert mock["IntegrationResponseSelectionExpression"] == "${integration.response.statuscode}"
    v2.create_integration_response(
        ApiId=api_id,
        IntegrationId=mock["IntegrationId"],
        IntegrationResponseKey="$default",
        TemplateSelectionExpression="\\$default",
        ResponseTemplates={
            "$default": '{"connection": "$context.connectionId", "route": "$context.routeKey", '
            '"stage": "$stageVariables.color"}'
        },
    )
    v2.create_route(ApiId=api_id, RouteKey="$connect", Target=f"integrations/{mock['IntegrationId']}")
    two_way_route(v2, api_id, "ping", mock["IntegrationId"])
    one_way = v2.create_route(ApiId=api_id, RouteKey="quiet", Target=f"integrations/{mock['IntegrationId']}")
    v2.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True, StageVariables={"color": "blue"})
    client = connect(overcast, api_id)
    try:
        client.send(json.dumps({"action": "quiet"}))  # one-way: nothing comes back
        client.send(json.dumps({"action": "ping"}))
        answer = json.loads(client.recv())
        assert answer["route"] == "ping"
        assert answer["stage"] == "blue"
        assert answer["connection"].endswith("=") and len(answer["connection"]) == 16
    finally:
        client.close()
    assert one_way["RouteKey"] == "quiet"


def test_a_connection_table_in_dynamodb_and_messages_into_sqs(overcast, v2):
    role = overcast.client("iam").create_role(RoleName="ws-aws", AssumeRolePolicyDocument=TRUST)["Role"][
        "Arn"
    ]
    dynamodb = overcast.client("dynamodb")
    dynamodb.create_table(
        TableName="conns",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    sqs = overcast.client("sqs")
    queue = sqs.create_queue(QueueName="ws-inbox")["QueueUrl"]
    api_id = websocket_api(v2, "aws")["ApiId"]
    put = v2.create_integration(
        ApiId=api_id,
        IntegrationType="AWS",
        IntegrationMethod="POST",
        IntegrationUri="arn:aws:apigateway:us-east-1:dynamodb:action/PutItem",
        CredentialsArn=role,
        TemplateSelectionExpression="\\$default",
        RequestTemplates={
            "$default": '{"TableName": "conns", "Item": {"id": {"S": "$context.connectionId"}, '
            '"name": {"S": "$input.params(\'name\')"}}}'
        },
    )
    v2.create_route(ApiId=api_id, RouteKey="$connect", Target=f"integrations/{put['IntegrationId']}")
    send = v2.create_integration(
        ApiId=api_id,
        IntegrationType="AWS",
        IntegrationMethod="POST",
        IntegrationUri="arn:aws:apigateway:us-east-1:sqs:path/000000000000/ws-inbox",
        CredentialsArn=role,
        RequestParameters={"integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"},
        TemplateSelectionExpression="\\$default",
        RequestTemplates={
            "$default": "Action=SendMessage&MessageBody=$util.urlEncode($input.json('$.order'))"
            "&MessageAttribute.1.Name=connection&MessageAttribute.1.Value.DataType=String"
            "&MessageAttribute.1.Value.StringValue=$util.urlEncode($context.connectionId)"
        },
    )
    v2.create_integration_response(
        ApiId=api_id,
        IntegrationId=send["IntegrationId"],
        IntegrationResponseKey="/2\\d\\d/",
        ResponseTemplates={
            "$default": '{"queued": "$input.path(\'$.SendMessageResponse.SendMessageResult.MessageId\')"}'
        },
    )
    two_way_route(v2, api_id, "order", send["IntegrationId"])
    v2.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
    client = connect(overcast, api_id, "?name=ada")
    try:
        items = dynamodb.scan(TableName="conns")["Items"]
        assert len(items) == 1
        connection = items[0]["id"]["S"]
        assert items[0]["name"]["S"] == "ada"  # the $connect request's query string
        client.send(json.dumps({"action": "order", "order": {"sku": "A-1", "count": 2}}))
        answer = json.loads(client.recv())
        messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1, MessageAttributeNames=["All"])[
            "Messages"
        ]
        assert answer == {"queued": messages[0]["MessageId"]}
        assert json.loads(messages[0]["Body"]) == {"sku": "A-1", "count": 2}
        assert messages[0]["MessageAttributes"]["connection"]["StringValue"] == connection
    finally:
        client.close()


def test_http_backends_with_template_and_response_selection(overcast, v2, backend):  # noqa: F811
    api_id = websocket_api(v2, "http")["ApiId"]
    http = v2.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP",
        IntegrationMethod="POST",
        IntegrationUri=backend.url + "/{where}",
        TemplateSelectionExpression="${request.body.kind}",
        RequestParameters={
            "integration.request.path.where": "route.request.body.where",
            "integration.request.header.x-connection": "context.connectionId",
        },
        RequestTemplates={
            "greeting": "{\"hello\": $input.json('$.name')}",
            "$default": '{"other": true}',
        },
    )
    v2.create_integration_response(
        ApiId=api_id,
        IntegrationId=http["IntegrationId"],
        IntegrationResponseKey="/4\\d\\d/",
        TemplateSelectionExpression="${integration.response.statuscode}",
        ResponseTemplates={"404": '{"missing": "$input.path(\'$.path\')"}'},
    )
    v2.create_integration_response(
        ApiId=api_id,
        IntegrationId=http["IntegrationId"],
        IntegrationResponseKey="$default",
        ResponseTemplates={
            "$default": '{"ok": $input.json(\'$.method\'), "backend": "$input.path(\'$.path\')"}'
        },
    )
    two_way_route(v2, api_id, "$default", http["IntegrationId"])
    v2.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
    client = connect(overcast, api_id)
    try:
        client.send(json.dumps({"kind": "greeting", "name": "ada", "where": "greet"}))
        assert json.loads(client.recv()) == {"ok": "POST", "backend": "/greet"}
        sent = backend.seen[-1]
        assert json.loads(sent["body"]) == {"hello": "ada"}
        assert sent["headers"]["x-connection"].endswith("=")
        client.send(json.dumps({"kind": "other", "where": "missing"}))
        assert json.loads(client.recv()) == {"missing": "/missing"}
        assert json.loads(backend.seen[-1]["body"]) == {"other": True}
    finally:
        client.close()


CUSTOM = """
def handler(event, context):
    if event.get("id") is None:
        raise Exception("NotFound: nothing asked")
    return {"id": event["id"], "twice": event["id"] * 2}
"""


@pytest.mark.slow
def test_lambda_custom_integration_selects_by_error_message(overcast, v2, lam, make_function):
    api_id = websocket_api(v2, "custom")["ApiId"]
    arn = make_function("ws-custom", CUSTOM)
    allow_invoke(lam, "ws-custom", api_id)
    custom = v2.create_integration(
        ApiId=api_id,
        IntegrationType="AWS",
        IntegrationMethod="POST",
        IntegrationUri=lambda_uri(arn),
        TemplateSelectionExpression="\\$default",
        RequestTemplates={"$default": "{\"id\": $input.json('$.id')}"},
    )
    v2.create_integration_response(
        ApiId=api_id,
        IntegrationId=custom["IntegrationId"],
        IntegrationResponseKey="/NotFound.*/",
        ResponseTemplates={"$default": '{"error": "$input.path(\'$.errorMessage\')"}'},
    )
    v2.create_integration_response(
        ApiId=api_id, IntegrationId=custom["IntegrationId"], IntegrationResponseKey="$default"
    )
    two_way_route(v2, api_id, "double", custom["IntegrationId"])
    v2.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
    client = connect(overcast, api_id)
    try:
        client.send(json.dumps({"action": "double", "id": 21}))
        assert json.loads(client.recv()) == {"id": 21, "twice": 42}
        client.send(json.dumps({"action": "double"}))
        assert json.loads(client.recv()) == {"error": "NotFound: nothing asked"}
    finally:
        client.close()


def test_stage_access_logs_have_a_line_per_event(overcast, v2):
    logs = overcast.client("logs")
    logs.create_log_group(logGroupName="ws-access")
    api_id = websocket_api(v2, "logged")["ApiId"]
    mock = v2.create_integration(
        ApiId=api_id, IntegrationType="MOCK", RequestTemplates={"$default": '{"statusCode": 200}'}
    )
    for key in ("$connect", "$disconnect", "hello"):
        v2.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{mock['IntegrationId']}")
    v2.create_stage(
        ApiId=api_id,
        StageName="prod",
        AutoDeploy=True,
        AccessLogSettings={
            "DestinationArn": "arn:aws:logs:us-east-1:000000000000:log-group:ws-access",
            "Format": "$context.connectionId $context.eventType $context.routeKey $context.status",
        },
    )
    client = connect(overcast, api_id)
    client.send(json.dumps({"action": "hello"}))
    client.send(json.dumps({"action": "nobody"}))
    assert json.loads(client.recv())["message"] == "Forbidden"
    client.close()

    def lines():
        events = logs.filter_log_events(logGroupName="ws-access")["events"]
        return events if len(events) >= 4 else None

    found = [event["message"].split(" ") for event in wait_for(lines, timeout=30)]
    assert len({connection for connection, *_ in found}) == 1
    assert sorted(rest for _, *rest in found) == sorted(
        [
            ["CONNECT", "$connect", "200"],
            ["MESSAGE", "hello", "200"],
            ["MESSAGE", "nobody", "403"],
            ["DISCONNECT", "$disconnect", "200"],
        ]
    )


def test_route_throttling_on_the_clock(overcast, v2):
    api_id = websocket_api(v2, "throttled")["ApiId"]
    mock = v2.create_integration(
        ApiId=api_id, IntegrationType="MOCK", RequestTemplates={"$default": '{"statusCode": 200}'}
    )
    v2.create_integration_response(
        ApiId=api_id,
        IntegrationId=mock["IntegrationId"],
        IntegrationResponseKey="$default",
        ResponseTemplates={"$default": '{"pong": "$context.routeKey"}'},
    )
    two_way_route(v2, api_id, "ping", mock["IntegrationId"])
    v2.create_stage(
        ApiId=api_id,
        StageName="prod",
        AutoDeploy=True,
        RouteSettings={"ping": {"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 0.01}},  # 1 per 100 s
    )
    client = connect(overcast, api_id)
    try:
        client.send(json.dumps({"action": "ping"}))
        assert json.loads(client.recv()) == {"pong": "ping"}
        client.send(json.dumps({"action": "ping"}))  # the bucket is empty for 100 s
        refused = json.loads(client.recv())
        assert refused["message"] == "Too Many Requests"
        assert refused["connectionId"].endswith("=")
        overcast.advance_clock("120s")
        client.send(json.dumps({"action": "ping"}))
        assert json.loads(client.recv()) == {"pong": "ping"}
    finally:
        client.close()


def test_api_keys_and_usage_plans_guard_routes(overcast, v2):
    import websocket

    apigw = overcast.client("apigateway")
    api_id = websocket_api(v2, "keyed")["ApiId"]
    mock = v2.create_integration(
        ApiId=api_id, IntegrationType="MOCK", RequestTemplates={"$default": '{"statusCode": 200}'}
    )
    v2.create_integration_response(
        ApiId=api_id,
        IntegrationId=mock["IntegrationId"],
        IntegrationResponseKey="$default",
        ResponseTemplates={"$default": '{"ok": true}'},
    )
    target = f"integrations/{mock['IntegrationId']}"
    v2.create_route(ApiId=api_id, RouteKey="$connect", Target=target, ApiKeyRequired=True)
    paid = v2.create_route(
        ApiId=api_id,
        RouteKey="paid",
        Target=target,
        ApiKeyRequired=True,
        RouteResponseSelectionExpression="$default",
    )
    v2.create_route_response(ApiId=api_id, RouteId=paid["RouteId"], RouteResponseKey="$default")
    v2.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
    key = apigw.create_api_key(name="ws-key", enabled=True)
    plan = apigw.create_usage_plan(
        name="ws-plan", apiStages=[{"apiId": api_id, "stage": "prod"}], quota={"limit": 2, "period": "DAY"}
    )
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    port = overcast.config.port
    url = f"ws://127.0.0.1:{port}/_overcast/execute-api/{api_id}/prod"
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, timeout=30)  # no key
    assert refused.value.status_code == 403
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, header={"x-api-key": "not-a-key"}, timeout=30)
    assert refused.value.status_code == 403
    client = websocket.create_connection(url, header={"x-api-key": key["value"]}, timeout=30)  # use 1 of 2
    try:
        client.send(json.dumps({"action": "paid"}))  # use 2 of 2
        assert json.loads(client.recv()) == {"ok": True}
        client.send(json.dumps({"action": "paid"}))
        assert json.loads(client.recv())["message"] == "Limit Exceeded"
    finally:
        client.close()
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, header={"x-api-key": key["value"]}, timeout=30)
    assert refused.value.status_code == 429
    overcast.advance_clock("1d")  # a new day, a new quota
    client = websocket.create_connection(url, header={"x-api-key": key["value"]}, timeout=30)
    client.close()


def test_request_validation_by_model_selection(overcast, v2):
    api_id = websocket_api(v2, "validated")["ApiId"]
    schema = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "required": ["action", "text"],
        "properties": {"text": {"type": "string", "maxLength": 10}},
    }
    v2.create_model(ApiId=api_id, Name="Chat", ContentType="application/json", Schema=json.dumps(schema))
    mock = v2.create_integration(
        ApiId=api_id, IntegrationType="MOCK", RequestTemplates={"$default": '{"statusCode": 200}'}
    )
    v2.create_integration_response(
        ApiId=api_id,
        IntegrationId=mock["IntegrationId"],
        IntegrationResponseKey="$default",
        ResponseTemplates={"$default": '{"accepted": true}'},
    )
    route = v2.create_route(
        ApiId=api_id,
        RouteKey="say",
        Target=f"integrations/{mock['IntegrationId']}",
        RouteResponseSelectionExpression="$default",
        ModelSelectionExpression="${request.body.kind}",
        RequestModels={"chat": "Chat"},
    )
    v2.create_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default")
    v2.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
    client = connect(overcast, api_id)
    try:
        client.send(json.dumps({"action": "say", "kind": "chat", "text": "hi"}))
        assert json.loads(client.recv()) == {"accepted": True}
        client.send(json.dumps({"action": "say", "kind": "chat", "text": "far too long a text"}))
        refused = json.loads(client.recv())
        assert refused["message"] == "Invalid request body" and refused["connectionId"].endswith("=")
        client.send(json.dumps({"action": "say", "kind": "poem", "text": "hi"}))  # no model, no $default
        assert json.loads(client.recv())["message"] == "Invalid request body"
    finally:
        client.close()
