"""HTTP APIs: routes with ANY and $default, the Lambda proxy payload formats 2.0 and 1.0, HTTP proxy, JWT
authorizers (a token of the configured issuer accepted, an expired one refused), Lambda authorizers with
simple responses, CORS, parameter mapping, AWS service integrations, auto-deploy and named stages."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of
from tests.services.apigateway.conftest import allow_invoke, lambda_uri
from tests.services.apigateway.jwt_issuer import Issuer
from tests.services.apigatewayv2.conftest import invoke

ECHO = """
import json
def handler(event, context):
    return {"statusCode": 200, "headers": {"x-fn": "echo"}, "cookies": ["c=1"], "body": json.dumps(event)}
"""

PLAIN = """
def handler(event, context):
    return {"hello": event.get("rawPath") or event.get("path")}
"""


def http_api(
    v2, function_arn: str, route_keys=("ANY /items/{id}", "GET /items", "$default"), version="2.0", **api
):
    created = v2.create_api(Name="shop", ProtocolType="HTTP", **api)
    integration = v2.create_integration(
        ApiId=created["ApiId"],
        IntegrationType="AWS_PROXY",
        IntegrationUri=function_arn,
        PayloadFormatVersion=version,
    )
    for key in route_keys:
        v2.create_route(
            ApiId=created["ApiId"], RouteKey=key, Target=f"integrations/{integration['IntegrationId']}"
        )
    v2.create_stage(ApiId=created["ApiId"], StageName="$default", AutoDeploy=True)
    return created["ApiId"]


def test_quick_create_and_the_payload_format_2_0(overcast, v2, lam, make_function):
    arn = make_function("echo", ECHO)
    api = v2.create_api(Name="quick", ProtocolType="HTTP", Target=arn)
    allow_invoke(lam, "echo", api["ApiId"])
    assert api["ApiEndpoint"] == f"http://{api['ApiId']}.execute-api.localhost:{overcast.config.port}"
    answer = invoke(
        overcast,
        api["ApiId"],
        "/a/b?x=1&x=2&y=3",
        method="POST",
        body={"k": "v"},
        headers={"Content-Type": "application/json", "Cookie": "s=1; t=2", "X-Two": "a"},
    )
    assert answer.status == 200
    assert answer.headers["x-fn"] == "echo"
    assert answer.headers["set-cookie"] == "c=1"
    assert answer.headers["apigw-requestid"]
    event = answer.json()
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/a/b"
    assert event["rawQueryString"] == "x=1&x=2&y=3"
    assert event["queryStringParameters"] == {"x": "1,2", "y": "3"}
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["headers"]["x-two"] == "a"
    assert json.loads(event["body"]) == {"k": "v"}
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"] == {
        "method": "POST",
        "path": "/a/b",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "",
    }
    assert context["stage"] == "$default" and context["apiId"] == api["ApiId"]


def test_routes_pick_the_most_specific(overcast, v2, lam, make_function):
    arn = make_function("echo", ECHO)
    api_id = http_api(v2, arn)
    allow_invoke(lam, "echo", api_id)
    assert invoke(overcast, api_id, "/items/7", method="DELETE").json()["routeKey"] == "ANY /items/{id}"
    assert invoke(overcast, api_id, "/items/7").json()["pathParameters"] == {"id": "7"}
    assert invoke(overcast, api_id, "/items").json()["routeKey"] == "GET /items"
    assert invoke(overcast, api_id, "/items", method="POST").json()["routeKey"] == "$default"
    v2.delete_route(
        ApiId=api_id,
        RouteId=next(
            r["RouteId"] for r in v2.get_routes(ApiId=api_id)["Items"] if r["RouteKey"] == "$default"
        ),
    )
    missing = invoke(overcast, api_id, "/elsewhere")
    assert missing.status == 404 and missing.json() == {"message": "Not Found"}


def test_payload_format_1_0_and_plain_answers(overcast, v2, lam, make_function):
    echo = make_function("echo", ECHO.replace('"cookies": ["c=1"], ', ""))
    api_id = http_api(v2, echo, route_keys=("GET /v1/{name}",), version="1.0")
    allow_invoke(lam, "echo", api_id)
    event = invoke(overcast, api_id, "/v1/ada?q=1").json()
    assert event["version"] == "1.0"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"name": "ada"}
    assert event["queryStringParameters"] == {"q": "1"}
    plain = make_function("plain", PLAIN)
    api_id = http_api(v2, plain, route_keys=("$default",))
    allow_invoke(lam, "plain", api_id)
    answer = invoke(overcast, api_id, "/x")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"hello": "/x"}


def test_named_stages_serve_their_own_deployment(overcast, v2, lam, make_function):
    arn = make_function("plain", PLAIN)
    api = v2.create_api(Name="staged", ProtocolType="HTTP")
    integration = v2.create_integration(
        ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=arn, PayloadFormatVersion="2.0"
    )
    v2.create_route(
        ApiId=api["ApiId"], RouteKey="GET /hello", Target=f"integrations/{integration['IntegrationId']}"
    )
    v2.create_stage(ApiId=api["ApiId"], StageName="prod")
    allow_invoke(lam, "plain", api["ApiId"])
    assert invoke(overcast, api["ApiId"], "/prod/hello").status == 404  # not deployed yet
    deployment = v2.create_deployment(ApiId=api["ApiId"], StageName="prod")
    assert deployment["DeploymentStatus"] == "DEPLOYED"
    assert invoke(overcast, api["ApiId"], "/prod/hello").json() == {"hello": "/hello"}
    assert invoke(overcast, api["ApiId"], "/prod/hello", host_form=False).json() == {"hello": "/hello"}


def test_jwt_authorizer_accepts_the_issuers_token_and_refuses_an_expired_one(
    overcast, v2, lam, make_function
):
    with Issuer() as issuer:
        arn = make_function("echo", ECHO)
        api = v2.create_api(Name="jwt", ProtocolType="HTTP")
        authorizer = v2.create_authorizer(
            ApiId=api["ApiId"],
            Name="jwt",
            AuthorizerType="JWT",
            IdentitySource=["$request.header.Authorization"],
            JwtConfiguration={"Issuer": issuer.url, "Audience": ["my-app"]},
        )
        integration = v2.create_integration(
            ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=arn, PayloadFormatVersion="2.0"
        )
        v2.create_route(
            ApiId=api["ApiId"],
            RouteKey="GET /me",
            AuthorizationType="JWT",
            AuthorizerId=authorizer["AuthorizerId"],
            Target=f"integrations/{integration['IntegrationId']}",
        )
        v2.create_route(
            ApiId=api["ApiId"],
            RouteKey="GET /admin",
            AuthorizationType="JWT",
            AuthorizerId=authorizer["AuthorizerId"],
            AuthorizationScopes=["admin"],
            Target=f"integrations/{integration['IntegrationId']}",
        )
        v2.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
        allow_invoke(lam, "echo", api["ApiId"])
        now = time.time()
        good = issuer.token({"sub": "u1", "aud": "my-app", "exp": now + 600, "scope": "read"})
        answer = invoke(overcast, api["ApiId"], "/me", headers={"Authorization": f"Bearer {good}"})
        assert answer.status == 200
        jwt_context = answer.json()["requestContext"]["authorizer"]["jwt"]
        assert jwt_context["claims"]["sub"] == "u1" and jwt_context["scopes"] == ["read"]
        expired = issuer.token({"sub": "u1", "aud": "my-app", "exp": now - 10})
        refused = invoke(overcast, api["ApiId"], "/me", headers={"Authorization": f"Bearer {expired}"})
        assert refused.status == 401 and refused.json() == {"message": "Unauthorized"}
        assert "invalid_token" in refused.headers["www-authenticate"]
        other_audience = issuer.token({"sub": "u1", "aud": "someone-else", "exp": now + 600})
        assert invoke(overcast, api["ApiId"], "/me", headers={"Authorization": other_audience}).status == 401
        assert invoke(overcast, api["ApiId"], "/me").status == 401
        scoped = invoke(overcast, api["ApiId"], "/admin", headers={"Authorization": good})
        assert scoped.status == 403 and scoped.json() == {"message": "Forbidden"}


def test_a_user_pool_issuer_stands_for_the_pool_wherever_it_is_served(overcast, v2, lam, make_function):
    """CDK's HttpUserPoolAuthorizer names `https://cognito-idp.<region>.amazonaws.com/<pool>`; a token of that
    pool issued elsewhere (Overcast's Cognito: `http://localhost:4566/<pool>`) passes, another pool's not."""
    with Issuer("/us-east-1_AbCdEf123") as pool, Issuer("/us-east-1_Other4567") as other:
        arn = make_function("echo", ECHO)
        api = v2.create_api(Name="pool-jwt", ProtocolType="HTTP")
        authorizer = v2.create_authorizer(
            ApiId=api["ApiId"],
            Name="pool",
            AuthorizerType="JWT",
            IdentitySource=["$request.header.Authorization"],
            JwtConfiguration={
                "Issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123",
                "Audience": ["client-1"],
            },
        )
        integration = v2.create_integration(
            ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=arn, PayloadFormatVersion="2.0"
        )
        v2.create_route(
            ApiId=api["ApiId"],
            RouteKey="GET /me",
            AuthorizationType="JWT",
            AuthorizerId=authorizer["AuthorizerId"],
            Target=f"integrations/{integration['IntegrationId']}",
        )
        v2.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
        allow_invoke(lam, "echo", api["ApiId"])
        now = time.time()
        access = pool.token({"sub": "u1", "client_id": "client-1", "token_use": "access", "exp": now + 600})
        answer = invoke(overcast, api["ApiId"], "/me", headers={"Authorization": access})
        assert answer.status == 200
        claims = answer.json()["requestContext"]["authorizer"]["jwt"]["claims"]
        assert claims["iss"] == pool.url
        stranger = other.token({"sub": "u2", "client_id": "client-1", "exp": now + 600})
        assert invoke(overcast, api["ApiId"], "/me", headers={"Authorization": stranger}).status == 401
        forged = pool.token({"sub": "u3", "client_id": "client-1", "exp": now + 600}, key=Issuer.other_key())
        assert invoke(overcast, api["ApiId"], "/me", headers={"Authorization": forged}).status == 401


SIMPLE_AUTHORIZER = """
def handler(event, context):
    token = event["headers"].get("authorization")
    return {"isAuthorized": token == "open-sesame", "context": {"user": "ali", "routeArn": event["routeArn"]}}
"""


def test_lambda_authorizer_with_simple_responses(overcast, v2, lam, make_function):
    authorizer_arn = make_function("simple-auth", SIMPLE_AUTHORIZER)
    arn = make_function("echo", ECHO)
    api = v2.create_api(Name="simple", ProtocolType="HTTP")
    authorizer = v2.create_authorizer(
        ApiId=api["ApiId"],
        Name="simple",
        AuthorizerType="REQUEST",
        AuthorizerUri=lambda_uri(authorizer_arn),
        AuthorizerPayloadFormatVersion="2.0",
        EnableSimpleResponses=True,
        IdentitySource=["$request.header.Authorization"],
    )
    integration = v2.create_integration(
        ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=arn, PayloadFormatVersion="2.0"
    )
    v2.create_route(
        ApiId=api["ApiId"],
        RouteKey="GET /cave",
        AuthorizationType="CUSTOM",
        AuthorizerId=authorizer["AuthorizerId"],
        Target=f"integrations/{integration['IntegrationId']}",
    )
    v2.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
    allow_invoke(lam, "echo", api["ApiId"], "e")
    allow_invoke(lam, "simple-auth", api["ApiId"], "a")
    assert invoke(overcast, api["ApiId"], "/cave").status == 401
    denied = invoke(overcast, api["ApiId"], "/cave", headers={"Authorization": "wrong"})
    assert denied.status == 403 and denied.json() == {"message": "Forbidden"}
    answer = invoke(overcast, api["ApiId"], "/cave", headers={"Authorization": "open-sesame"})
    assert answer.status == 200
    context = answer.json()["requestContext"]["authorizer"]["lambda"]
    assert context["user"] == "ali"
    assert context["routeArn"].endswith(f"{api['ApiId']}/$default/GET/cave")


def test_cors_configuration_answers_preflights_and_decorates_responses(overcast, v2, lam, make_function):
    arn = make_function("plain", PLAIN)
    api_id = http_api(
        v2,
        arn,
        route_keys=("GET /data",),
        CorsConfiguration={
            "AllowOrigins": ["https://site.example"],
            "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["content-type"],
            "MaxAge": 300,
            "ExposeHeaders": ["x-total"],
        },
    )
    allow_invoke(lam, "plain", api_id)
    preflight = invoke(
        overcast,
        api_id,
        "/data",
        method="OPTIONS",
        headers={"Origin": "https://site.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status == 204
    assert preflight.headers["access-control-allow-origin"] == "https://site.example"
    assert preflight.headers["access-control-allow-methods"] == "GET,POST"
    assert preflight.headers["access-control-max-age"] == "300"
    answer = invoke(overcast, api_id, "/data", headers={"Origin": "https://site.example"})
    assert answer.headers["access-control-allow-origin"] == "https://site.example"
    assert answer.headers["access-control-expose-headers"] == "x-total"
    stranger = invoke(overcast, api_id, "/data", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in stranger.headers


@pytest.fixture
def backend():
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("content-length") or 0)
            seen.append({"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)})
            body = json.dumps({"path": self.path}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("x-secret", "hide-me")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.seen = seen
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def test_http_proxy_with_parameter_mapping(overcast, v2, backend):
    api = v2.create_api(Name="proxy", ProtocolType="HTTP")
    integration = v2.create_integration(
        ApiId=api["ApiId"],
        IntegrationType="HTTP_PROXY",
        IntegrationMethod="ANY",
        IntegrationUri=backend.url + "/{proxy}",
        PayloadFormatVersion="1.0",
        RequestParameters={
            "append:header.x-user": "$request.querystring.user",
            "remove:querystring.user": "''",
        },
        ResponseParameters={"200": {"remove:header.x-secret": "''", "overwrite:statuscode": "202"}},
    )
    v2.create_route(
        ApiId=api["ApiId"],
        RouteKey="ANY /api/{proxy+}",
        Target=f"integrations/{integration['IntegrationId']}",
    )
    v2.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
    answer = invoke(overcast, api["ApiId"], "/api/orders/9?user=ada&keep=1", method="POST", body="x")
    assert answer.status == 202
    assert "x-secret" not in answer.headers
    assert answer.json() == {"path": "/orders/9?keep=1"}
    assert backend.seen[-1]["headers"]["x-user"] == "ada"
    assert backend.seen[-1]["body"] == b"x"


def test_sqs_send_message_integration(overcast, v2):
    iam = overcast.client("iam")
    role = iam.create_role(
        RoleName="http-sqs",
        AssumeRolePolicyDocument=json.dumps(
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
        ),
    )["Role"]["Arn"]
    sqs = overcast.client("sqs")
    queue = sqs.create_queue(QueueName="orders")["QueueUrl"]
    api = v2.create_api(Name="to-sqs", ProtocolType="HTTP")
    integration = v2.create_integration(
        ApiId=api["ApiId"],
        IntegrationType="AWS_PROXY",
        IntegrationSubtype="SQS-SendMessage",
        CredentialsArn=role,
        PayloadFormatVersion="1.0",
        RequestParameters={"QueueUrl": queue, "MessageBody": "$request.body.order"},
    )
    v2.create_route(
        ApiId=api["ApiId"], RouteKey="POST /orders", Target=f"integrations/{integration['IntegrationId']}"
    )
    v2.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
    answer = invoke(
        overcast,
        api["ApiId"],
        "/orders",
        method="POST",
        body={"order": "book"},
        headers={"Content-Type": "application/json"},
    )
    assert answer.status == 200
    assert "MessageId" in answer.json()
    assert sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"][0]["Body"] == "book"


def test_control_plane_errors_and_round_trips(v2):
    with pytest.raises(ClientError) as raised:
        v2.get_api(ApiId="missing")
    assert error_of(raised) == ("NotFoundException", 404)
    api = v2.create_api(Name="x", ProtocolType="HTTP")
    with pytest.raises(ClientError) as raised:
        v2.create_route(ApiId=api["ApiId"], RouteKey="FETCH /x")
    assert error_of(raised) == ("BadRequestException", 400)
    v2.create_route(ApiId=api["ApiId"], RouteKey="GET /x")
    with pytest.raises(ClientError) as raised:
        v2.create_route(ApiId=api["ApiId"], RouteKey="GET /x")
    assert error_of(raised) == ("ConflictException", 409)
    updated = v2.update_api(ApiId=api["ApiId"], Name="y", CorsConfiguration={"AllowOrigins": ["*"]})
    assert updated["Name"] == "y" and updated["CorsConfiguration"] == {"AllowOrigins": ["*"]}
    v2.delete_cors_configuration(ApiId=api["ApiId"])
    assert "CorsConfiguration" not in v2.get_api(ApiId=api["ApiId"])
    arn = f"arn:aws:apigateway:us-east-1::/apis/{api['ApiId']}"
    v2.tag_resource(ResourceArn=arn, Tags={"a": "1"})
    assert v2.get_tags(ResourceArn=arn)["Tags"] == {"a": "1"}
    assert [a["ApiId"] for a in v2.get_apis()["Items"]] == [api["ApiId"]]
    exported = json.loads(
        v2.export_api(ApiId=api["ApiId"], Specification="OAS30", OutputType="JSON")["body"].read()
    )
    assert "/x" in exported["paths"]
    v2.delete_api(ApiId=api["ApiId"])
    assert v2.get_apis()["Items"] == []


def test_domain_names_mappings_and_vpc_links(v2):
    api = v2.create_api(Name="mapped", ProtocolType="HTTP")
    v2.create_stage(ApiId=api["ApiId"], StageName="prod")
    domain = v2.create_domain_name(
        DomainName="api.example.com",
        DomainNameConfigurations=[{"CertificateArn": "arn:aws:acm:us-east-1:000000000000:certificate/x"}],
    )
    assert domain["DomainNameConfigurations"][0]["DomainNameStatus"] == "AVAILABLE"
    mapping = v2.create_api_mapping(
        DomainName="api.example.com", ApiId=api["ApiId"], Stage="prod", ApiMappingKey="v1"
    )
    updated = v2.update_api_mapping(
        DomainName="api.example.com",
        ApiMappingId=mapping["ApiMappingId"],
        ApiId=api["ApiId"],
        ApiMappingKey="v2",
    )
    assert updated["ApiMappingKey"] == "v2"
    assert [m["ApiMappingKey"] for m in v2.get_api_mappings(DomainName="api.example.com")["Items"]] == ["v2"]
    link = v2.create_vpc_link(Name="l", SubnetIds=["subnet-1"])
    assert link["VpcLinkStatus"] == "AVAILABLE" and link["VpcLinkVersion"] == "V2"
    assert v2.update_vpc_link(VpcLinkId=link["VpcLinkId"], Name="m")["Name"] == "m"
    v2.delete_vpc_link(VpcLinkId=link["VpcLinkId"])
    assert v2.get_vpc_links()["Items"] == []
    with pytest.raises(ClientError) as raised:
        v2.get_vpc_link(VpcLinkId=link["VpcLinkId"])
    assert error_of(raised) == ("NotFoundException", 404)


def test_stage_access_logs(overcast, v2, lam, make_function):
    from tests.waiting import wait_for

    logs = overcast.client("logs")
    logs.create_log_group(logGroupName="http-access")
    arn = make_function("plain", PLAIN)
    api = v2.create_api(Name="logged", ProtocolType="HTTP", Target=arn)
    allow_invoke(lam, "plain", api["ApiId"])
    v2.update_stage(
        ApiId=api["ApiId"],
        StageName="$default",
        AccessLogSettings={
            "DestinationArn": "arn:aws:logs:us-east-1:000000000000:log-group:http-access",
            "Format": "$context.requestId $context.httpMethod $context.routeKey $context.status",
        },
    )
    invoke(overcast, api["ApiId"], "/x")
    events = wait_for(lambda: logs.filter_log_events(logGroupName="http-access")["events"], timeout=30)
    request_id, method, route, status = events[0]["message"].split(" ")
    assert (method, route, status) == ("GET", "$default", "200")


def test_custom_domain_names_serve_by_api_mapping(overcast, v2, lam, make_function):
    import http.client

    arn = make_function("plain", PLAIN)
    api = v2.create_api(Name="mapped", ProtocolType="HTTP", Target=arn)
    allow_invoke(lam, "plain", api["ApiId"])
    v2.create_domain_name(DomainName="http.example.com")
    v2.create_api_mapping(
        DomainName="http.example.com", ApiId=api["ApiId"], Stage="$default", ApiMappingKey="orders"
    )
    connection = http.client.HTTPConnection("127.0.0.1", overcast.config.port, timeout=30)
    connection.request("GET", "/orders/7", headers={"Host": "http.example.com"})
    response = connection.getresponse()
    assert response.status == 200 and json.loads(response.read()) == {"hello": "/7"}
    connection.close()
