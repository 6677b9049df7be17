"""WebSocket APIs with a real client library (websocket-client): a chat where one client sends and the
function posts to the other through @connections; $connect refusing; route selection; two-way routes;
GetConnection and DeleteConnection; idle connections closed on the virtual clock."""

from __future__ import annotations

import json
import time

import pytest
import websocket
from botocore.exceptions import ClientError

from tests.helpers import error_of
from tests.services.apigateway.conftest import allow_invoke, lambda_uri
from tests.waiting import wait_for

CHAT = """
import json, os
import boto3

def handler(event, context):
    ctx = event["requestContext"]
    route, me = ctx["routeKey"], ctx["connectionId"]
    table = boto3.client("dynamodb")
    if route == "$connect":
        if (event.get("queryStringParameters") or {}).get("name") == "mallory":
            return {"statusCode": 403}
        table.put_item(TableName="connections", Item={"id": {"S": me}})
        return {"statusCode": 200}
    if route == "$disconnect":
        table.delete_item(TableName="connections", Key={"id": {"S": me}})
        return {"statusCode": 200}
    body = json.loads(event["body"])
    if route == "whoami":
        return {"statusCode": 200, "body": json.dumps({"you": me, "stage": ctx["stage"]})}
    api = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CALLBACK_URL"])
    for item in table.scan(TableName="connections")["Items"]:
        if item["id"]["S"] != me:
            api.post_to_connection(ConnectionId=item["id"]["S"], Data=json.dumps({"from": me, "text": body["text"]}).encode())
    return {"statusCode": 200}
"""


@pytest.fixture
def chat(overcast, v2, lam, make_function):
    overcast.client("dynamodb").create_table(
        TableName="connections",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    api = v2.create_api(
        Name="chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    api_id = api["ApiId"]
    callback = f"{overcast.endpoint}/_overcast/execute-api/{api_id}/prod"
    arn = make_function("chat", CHAT, Environment={"Variables": {"CALLBACK_URL": callback}})
    allow_invoke(lam, "chat", api_id)
    integration = v2.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=lambda_uri(arn)
    )
    target = f"integrations/{integration['IntegrationId']}"
    for key in ("$connect", "$disconnect", "sendmessage"):
        v2.create_route(ApiId=api_id, RouteKey=key, Target=target)
    whoami = v2.create_route(
        ApiId=api_id, RouteKey="whoami", Target=target, RouteResponseSelectionExpression="$default"
    )
    v2.create_route_response(ApiId=api_id, RouteId=whoami["RouteId"], RouteResponseKey="$default")
    v2.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
    return api


def connect(overcast, api_id: str, query: str = "", host_form: bool = True) -> websocket.WebSocket:
    port = overcast.config.port
    if host_form:
        return websocket.create_connection(
            f"ws://127.0.0.1:{port}/prod{query}", host=f"{api_id}.execute-api.localhost:{port}", timeout=30
        )
    return websocket.create_connection(
        f"ws://127.0.0.1:{port}/_overcast/execute-api/{api_id}/prod{query}", timeout=30
    )


def test_a_chat_between_two_clients(overcast, chat):
    assert chat["ApiEndpoint"] == f"ws://{chat['ApiId']}.execute-api.localhost:{overcast.config.port}"
    alice = connect(overcast, chat["ApiId"], "?name=alice")
    bob = connect(overcast, chat["ApiId"], "?name=bob", host_form=False)
    try:
        alice.send(json.dumps({"action": "whoami"}))
        alice_id = json.loads(alice.recv())["you"]
        alice.send(json.dumps({"action": "sendmessage", "text": "hello bob"}))
        message = json.loads(bob.recv())
        assert message == {"from": alice_id, "text": "hello bob"}
        management = overcast.client(
            "apigatewaymanagementapi",
            endpoint_url=f"{overcast.endpoint}/_overcast/execute-api/{chat['ApiId']}/prod",
        )
        info = management.get_connection(ConnectionId=alice_id)
        assert info["Identity"]["SourceIp"] == "127.0.0.1"
        assert info["ConnectedAt"] <= info["LastActiveAt"]
        management.post_to_connection(ConnectionId=alice_id, Data=b"direct")
        assert alice.recv() == "direct"
        # the host form of the @connections endpoint, as boto3 is given it from the event's domain
        by_host = overcast.client(
            "apigatewaymanagementapi",
            endpoint_url=f"http://{chat['ApiId']}.execute-api.localhost:{overcast.config.port}/prod",
        )
        by_host.meta.events.register(
            "before-send",
            lambda request, **_: (
                setattr(
                    request, "url", request.url.replace(f"{chat['ApiId']}.execute-api.localhost", "127.0.0.1")
                )
                or None
            ),
        )
        by_host.post_to_connection(ConnectionId=alice_id, Data=b"by host")
        assert alice.recv() == "by host"
        management.delete_connection(ConnectionId=alice_id)
        with pytest.raises(websocket.WebSocketConnectionClosedException):
            for _ in range(3):
                alice.recv()
        with pytest.raises(ClientError) as raised:
            management.post_to_connection(ConnectionId=alice_id, Data=b"late")
        assert error_of(raised) == ("GoneException", 410)
    finally:
        alice.close()
        bob.close()
    table = overcast.client("dynamodb")
    wait_for(lambda: table.scan(TableName="connections")["Count"] == 0, timeout=30)


def test_connect_route_can_refuse(overcast, chat):
    with pytest.raises(websocket.WebSocketBadStatusException) as raised:
        connect(overcast, chat["ApiId"], "?name=mallory")
    assert raised.value.status_code == 403


def test_unknown_stage_or_api_is_refused(overcast, chat):
    port = overcast.config.port
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(
            f"ws://127.0.0.1:{port}/nostage", host=f"{chat['ApiId']}.execute-api.localhost:{port}"
        )


def test_a_message_no_route_takes(overcast, v2, chat):
    socket = connect(overcast, chat["ApiId"])
    try:
        socket.send(json.dumps({"action": "dance"}))
        answer = json.loads(socket.recv())
        assert answer["message"] == "Forbidden"
        assert "connectionId" in answer and "requestId" in answer
    finally:
        socket.close()


def test_idle_connections_are_closed_after_ten_minutes(overcast, chat):
    socket = connect(overcast, chat["ApiId"])
    socket.send(json.dumps({"action": "whoami"}))
    socket.recv()
    overcast.advance_clock("11m")
    deadline = time.monotonic() + 20
    closed = False
    while time.monotonic() < deadline and not closed:
        try:
            socket.settimeout(deadline - time.monotonic())
            opcode, data = socket.recv_data(control_frame=True)
            closed = opcode == websocket.ABNF.OPCODE_CLOSE
        except websocket.WebSocketConnectionClosedException:
            closed = True
    assert closed
    socket.close()


WHOAMI = """
def handler(event, context):
    return {"statusCode": 200, "body": event["requestContext"]["connectionId"]}
"""


def test_connections_api_is_authorized_under_enforce(enforced):
    from tests.policy.servers import document, user_with_key
    from tests.services.apigateway.conftest import ROLE, zip_of

    iam = enforced.client("iam")
    iam.create_role(
        RoleName="lambda-role",
        AssumeRolePolicyDocument=document(
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ),
    )
    lam = enforced.client("lambda")
    arn = lam.create_function(
        FunctionName="whoami",
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": WHOAMI})},
    )["FunctionArn"]
    v2 = enforced.client("apigatewayv2")
    api = v2.create_api(Name="ids", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    allow_invoke(lam, "whoami", api["ApiId"])
    integration = v2.create_integration(
        ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=lambda_uri(arn)
    )
    route = v2.create_route(
        ApiId=api["ApiId"],
        RouteKey="$default",
        RouteResponseSelectionExpression="$default",
        Target=f"integrations/{integration['IntegrationId']}",
    )
    v2.create_route_response(ApiId=api["ApiId"], RouteId=route["RouteId"], RouteResponseKey="$default")
    v2.create_stage(ApiId=api["ApiId"], StageName="prod", AutoDeploy=True)
    port = enforced.config.port
    socket = websocket.create_connection(
        f"ws://127.0.0.1:{port}/_overcast/execute-api/{api['ApiId']}/prod", timeout=30
    )
    try:
        socket.send("who am i")
        connection_id = socket.recv()
        outsider = user_with_key(enforced, "outsider")
        insider = user_with_key(enforced, "insider")
        iam.put_user_policy(
            UserName="insider",
            PolicyName="manage",
            PolicyDocument=document(
                {
                    "Effect": "Allow",
                    "Action": "execute-api:ManageConnections",
                    "Resource": f"arn:aws:execute-api:us-east-1:000000000000:{api['ApiId']}/prod/*",
                }
            ),
        )
        endpoint = f"{enforced.endpoint}/_overcast/execute-api/{api['ApiId']}/prod"

        def management(key):
            return enforced.client(
                "apigatewaymanagementapi",
                endpoint_url=endpoint,
                aws_access_key_id=key["AccessKeyId"],
                aws_secret_access_key=key["SecretAccessKey"],
            )

        with pytest.raises(ClientError) as raised:
            management(outsider).post_to_connection(ConnectionId=connection_id, Data=b"no")
        assert error_of(raised)[1] == 403
        management(insider).post_to_connection(ConnectionId=connection_id, Data=b"yes")
        assert socket.recv() == "yes"
    finally:
        socket.close()


CONNECT_AUTHORIZER = """
def handler(event, context):
    token = (event.get("queryStringParameters") or {}).get("token")
    effect = "Allow" if token == "good" else "Deny"
    return {
        "principalId": "ws-user",
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}]},
        "context": {"plan": "pro"},
    }
"""

CONNECT_ECHO = """
import json
def handler(event, context):
    if event["requestContext"]["eventType"] == "CONNECT":
        return {"statusCode": 200}
    return {"statusCode": 200, "body": json.dumps(event["requestContext"].get("authorizer"))}
"""


def test_connect_authorizer_admits_and_refuses(overcast, v2, lam, make_function):
    authorizer_arn = make_function("ws-auth", CONNECT_AUTHORIZER)
    echo_arn = make_function("ws-echo", CONNECT_ECHO)
    api = v2.create_api(
        Name="guarded", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    api_id = api["ApiId"]
    allow_invoke(lam, "ws-auth", api_id, "a")
    allow_invoke(lam, "ws-echo", api_id, "e")
    authorizer = v2.create_authorizer(
        ApiId=api_id,
        Name="token",
        AuthorizerType="REQUEST",
        AuthorizerUri=lambda_uri(authorizer_arn),
        IdentitySource=["route.request.querystring.token"],
    )
    integration = v2.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=lambda_uri(echo_arn)
    )
    target = f"integrations/{integration['IntegrationId']}"
    v2.create_route(
        ApiId=api_id,
        RouteKey="$connect",
        Target=target,
        AuthorizationType="CUSTOM",
        AuthorizerId=authorizer["AuthorizerId"],
    )
    route = v2.create_route(
        ApiId=api_id, RouteKey="$default", Target=target, RouteResponseSelectionExpression="$default"
    )
    v2.create_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default")
    v2.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
    with pytest.raises(websocket.WebSocketBadStatusException) as raised:
        connect(overcast, api_id, "?token=bad")
    assert raised.value.status_code == 403
    with pytest.raises(websocket.WebSocketBadStatusException) as raised:
        connect(overcast, api_id)
    assert raised.value.status_code == 401
    socket = connect(overcast, api_id, "?token=good")
    try:
        socket.send("hi")
        assert json.loads(socket.recv()) == {"principalId": "ws-user", "plan": "pro"}
    finally:
        socket.close()
