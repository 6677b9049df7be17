"""Authorizers of a REST API: a Lambda TOKEN authorizer allowing one token and denying another (401 and 403
as AWS answers), its context reaching the integration, its cached result; REQUEST authorizers; Cognito
user pool authorizers verifying JWTs against the issuer's JWKS; AWS_IAM."""

from __future__ import annotations

import json
import time

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.services.apigateway.conftest import allow_invoke, call, lambda_uri, proxy_method, resource_at
from tests.services.apigateway.jwt_issuer import Issuer

AUTHORIZER = """
import json
CALLS = []
def handler(event, context):
    token = event.get("authorizationToken") or event.get("headers", {}).get("x-token")
    CALLS.append(token)
    if token == "bad-format":
        raise Exception("Unauthorized")
    effect = "Allow" if token in ("allow-me", "Bearer allow-me") else "Deny"
    return {
        "principalId": "user-7",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}],
        },
        "context": {"tier": "gold", "calls": len(CALLS), "admin": False, "run": context.aws_request_id},
    }
"""

ECHO = """
import json
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event["requestContext"].get("authorizer"))}
"""


@pytest.fixture
def token_api(apigw, lam, make_function):
    authorizer_arn = make_function("authorizer", AUTHORIZER)
    echo_arn = make_function("echo", ECHO)
    api = apigw.create_rest_api(name="guarded")
    authorizer = apigw.create_authorizer(
        restApiId=api["id"],
        name="tokens",
        type="TOKEN",
        authorizerUri=lambda_uri(authorizer_arn),
        identitySource="method.request.header.Authorization",
        authorizerResultTtlInSeconds=300,
    )
    proxy_method(
        apigw,
        api["id"],
        "/secret",
        "GET",
        echo_arn,
        authorizationType="CUSTOM",
        authorizerId=authorizer["id"],
    )
    allow_invoke(lam, "authorizer", api["id"], "a")
    allow_invoke(lam, "echo", api["id"], "e")
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    return api["id"], authorizer["id"]


def test_token_authorizer_allows_denies_and_passes_its_context(overcast, token_api):
    api_id, _ = token_api
    missing = call(overcast, api_id, "prod", "/secret")
    assert missing.status == 401 and missing.json() == {"message": "Unauthorized"}
    assert missing.headers["x-amzn-errortype"] == "UnauthorizedException"
    denied = call(overcast, api_id, "prod", "/secret", headers={"Authorization": "deny-me"})
    assert denied.status == 403
    assert denied.json() == {
        "Message": "User is not authorized to access this resource with an explicit deny"
    }
    allowed = call(overcast, api_id, "prod", "/secret", headers={"Authorization": "allow-me"})
    assert allowed.status == 200
    context = allowed.json()
    assert context["principalId"] == "user-7"
    assert context["tier"] == "gold"
    assert context["admin"] is False
    raised = call(overcast, api_id, "prod", "/secret", headers={"Authorization": "bad-format"})
    assert raised.status == 401 and raised.json() == {"message": "Unauthorized"}


def test_token_authorizer_results_are_cached_for_their_ttl(overcast, token_api):
    api_id, _ = token_api
    first = call(overcast, api_id, "prod", "/secret", headers={"Authorization": "allow-me"}).json()
    second = call(overcast, api_id, "prod", "/secret", headers={"Authorization": "allow-me"}).json()
    assert first["run"] == second["run"]  # the authorizer ran once
    overcast.advance_clock("301s")
    third = call(overcast, api_id, "prod", "/secret", headers={"Authorization": "allow-me"}).json()
    assert third["run"] != first["run"]  # and again once its result expired


def test_identity_validation_expression_refuses_without_calling(overcast, apigw, token_api):
    api_id, authorizer_id = token_api
    apigw.update_authorizer(
        restApiId=api_id,
        authorizerId=authorizer_id,
        patchOperations=[{"op": "replace", "path": "/identityValidationExpression", "value": "^Bearer .+$"}],
    )
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    assert call(overcast, api_id, "prod", "/secret", headers={"Authorization": "allow-me"}).status == 401
    assert (
        call(overcast, api_id, "prod", "/secret", headers={"Authorization": "Bearer allow-me"}).status == 200
    )


REQUEST_AUTHORIZER = """
def handler(event, context):
    ok = event["queryStringParameters"].get("key") == "open" and event["headers"].get("x-token") == "t"
    return {
        "principalId": "req",
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow" if ok else "Deny", "Resource": "*"}]},
        "context": {"path": event["path"], "type": event["type"]},
    }
"""


def test_request_authorizer_sees_the_request(overcast, apigw, lam, make_function):
    authorizer_arn = make_function("req-authorizer", REQUEST_AUTHORIZER)
    echo_arn = make_function("echo", ECHO)
    api = apigw.create_rest_api(name="request-auth")
    authorizer = apigw.create_authorizer(
        restApiId=api["id"],
        name="req",
        type="REQUEST",
        authorizerUri=lambda_uri(authorizer_arn),
        identitySource="method.request.header.x-token,method.request.querystring.key",
    )
    proxy_method(
        apigw, api["id"], "/r", "GET", echo_arn, authorizationType="CUSTOM", authorizerId=authorizer["id"]
    )
    allow_invoke(lam, "req-authorizer", api["id"], "a")
    allow_invoke(lam, "echo", api["id"], "e")
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    assert call(overcast, api["id"], "prod", "/r?key=open").status == 401  # an identity source is missing
    assert call(overcast, api["id"], "prod", "/r?key=shut", headers={"x-token": "t"}).status == 403
    answer = call(overcast, api["id"], "prod", "/r?key=open", headers={"x-token": "t"})
    assert answer.status == 200
    assert answer.json()["path"] == "/r" and answer.json()["type"] == "REQUEST"


def test_cognito_authorizer_verifies_tokens_against_the_issuers_keys(overcast, apigw, lam, make_function):
    with Issuer(path="/us-east-1_TestPool") as issuer:
        echo_arn = make_function("echo", ECHO)
        api = apigw.create_rest_api(name="cognito")
        authorizer = apigw.create_authorizer(
            restApiId=api["id"],
            name="pool",
            type="COGNITO_USER_POOLS",
            providerARNs=["arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_TestPool"],
            identitySource="method.request.header.Authorization",
        )
        proxy_method(
            apigw,
            api["id"],
            "/me",
            "GET",
            echo_arn,
            authorizationType="COGNITO_USER_POOLS",
            authorizerId=authorizer["id"],
        )
        allow_invoke(lam, "echo", api["id"])
        apigw.create_deployment(restApiId=api["id"], stageName="prod")
        now = time.time()
        good = issuer.token({"sub": "abc", "token_use": "id", "email": "a@example.com", "exp": now + 600})
        answer = call(overcast, api["id"], "prod", "/me", headers={"Authorization": good})
        assert answer.status == 200
        assert answer.json()["claims"]["email"] == "a@example.com"
        expired = issuer.token({"sub": "abc", "token_use": "id", "exp": now - 60})
        assert call(overcast, api["id"], "prod", "/me", headers={"Authorization": expired}).status == 401
        forged = issuer.token({"sub": "abc", "token_use": "id", "exp": now + 600}, key=Issuer.other_key())
        assert call(overcast, api["id"], "prod", "/me", headers={"Authorization": forged}).status == 401
        assert call(overcast, api["id"], "prod", "/me").status == 401


def _signed(server, api_id: str, path: str, credentials: Credentials) -> dict:
    url = f"http://127.0.0.1:{server.config.port}/_overcast/execute-api/{api_id}/prod{path}"
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(credentials, "execute-api", "us-east-1").add_auth(request)
    return dict(request.headers)


def test_aws_iam_authorization_under_enforce(enforced):
    iam = enforced.client("iam")
    apigw = enforced.client("apigateway")
    api = apigw.create_rest_api(name="iam")
    resource = resource_at(apigw, api["id"], "/private")
    apigw.put_method(restApiId=api["id"], resourceId=resource, httpMethod="GET", authorizationType="AWS_IAM")
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
        responseTemplates={"application/json": '{"caller": "$context.identity.userArn"}'},
    )
    apigw.create_deployment(restApiId=api["id"], stageName="prod")
    unsigned = call(enforced, api["id"], "prod", "/private", host_form=False)
    assert unsigned.status == 403 and unsigned.json() == {"message": "Missing Authentication Token"}
    for name, allowed in (("reader", True), ("stranger", False)):
        iam.create_user(UserName=name)
        if allowed:
            iam.put_user_policy(
                UserName=name,
                PolicyName="invoke",
                PolicyDocument=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "execute-api:Invoke",
                                "Resource": f"arn:aws:execute-api:us-east-1:000000000000:{api['id']}/prod/GET/*",
                            }
                        ],
                    }
                ),
            )
        key = iam.create_access_key(UserName=name)["AccessKey"]
        headers = _signed(
            enforced, api["id"], "/private", Credentials(key["AccessKeyId"], key["SecretAccessKey"])
        )
        answer = call(enforced, api["id"], "prod", "/private", headers=headers, host_form=False)
        if allowed:
            assert answer.status == 200
            assert answer.json() == {"caller": f"arn:aws:iam::000000000000:user/{name}"}
        else:
            assert answer.status == 403
            assert answer.json()["message"].startswith(
                f"User: arn:aws:iam::000000000000:user/{name} is not authorized to perform: execute-api:Invoke"
            )
    bad = _signed(enforced, api["id"], "/private", Credentials(key["AccessKeyId"], "wrong-secret"))
    assert call(enforced, api["id"], "prod", "/private", headers=bad, host_form=False).status == 403


def test_execution_logs_tell_the_authorizer_steps(overcast, apigw, token_api):
    from tests.waiting import wait_for

    api_id, authorizer_id = token_api
    apigw.update_account(
        patchOperations=[
            {
                "op": "replace",
                "path": "/cloudwatchRoleArn",
                "value": "arn:aws:iam::000000000000:role/apigw-logs",
            }
        ]
    )
    apigw.update_stage(
        restApiId=api_id,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"},
            {"op": "replace", "path": "/*/*/logging/dataTrace", "value": "true"},
        ],
    )
    answer = call(overcast, api_id, "prod", "/secret", headers={"Authorization": "allow-me"})
    assert answer.status == 200
    rid = answer.headers["x-amzn-requestid"]
    logs = overcast.client("logs")
    group = f"API-Gateway-Execution-Logs_{api_id}/prod"

    def lines():
        if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
            return None
        found = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
        return found if any("Method completed" in line for line in found) else None

    found = [line.removeprefix(f"({rid}) ") for line in wait_for(lines, timeout=30)]
    steps = [
        f"Starting authorizer: {authorizer_id} for request: {rid}",
        "Successfully completed authorizer execution",
        f"Starting execution for request: {rid}",
        "Method completed with status: 200",
    ]
    positions = [found.index(step) for step in steps]
    assert positions == sorted(positions)
    between = found[positions[0] : positions[1]]
    assert any(
        line.startswith("Endpoint request URI: https://lambda.us-east-1.amazonaws.com/") for line in between
    )
    result = next(line for line in between if line.startswith("Authorizer result body before parsing: "))
    assert json.loads(result.split(": ", 1)[1])["principalId"] == "user-7"
