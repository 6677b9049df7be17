"""API Gateway's hot paths: a REST API method answered by a MOCK integration, one answered by a Lambda proxy
integration (a trivial Python function), and, to show what API Gateway adds, the same function invoked
directly through Lambda's Invoke.

Each server serves invoke URLs its own way, so the measured request's path is given per server (`paths`):
Overcast at `/_overcast/execute-api/<api>/<stage>/<path>`, MiniStack at `/_aws/execute-api/<api>/<stage>/
<path>` (LocalStack's form, which Overcast also takes), moto at `/restapis/<api>/<stage>/_user_request_/
<path>` (LocalStack's legacy form: moto's server does not serve invocations, so it answers an error there).
The API id, its root resource id and the function's ARN are captured from the setup's answers.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile

STAGE = "bench"
HANDLER = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n"


def _zip() -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    return base64.b64encode(buffer.getvalue()).decode()


def _json(method: str, path: str, body: dict | None = None, service: str = "apigateway", **extra) -> dict:
    return {
        "service": service,
        "method": method,
        "path": path,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body) if body is not None else "",
        **extra,
    }


def _rest_api(name: str, integration: dict) -> list[dict]:
    """Create a REST API whose root answers GET through `integration`, deployed to the stage."""
    method = "/restapis/${api}/resources/${root}/methods/GET"
    steps = [
        _json("POST", "/restapis", {"name": name}, capture={"api": "id", "root": "rootResourceId"}),
        _json("PUT", method, {"authorizationType": "NONE"}),
        _json("PUT", method + "/integration", integration),
        _json("PUT", method + "/responses/200", {}),
    ]
    if integration["type"] == "MOCK":
        steps.append(
            _json(
                "PUT",
                method + "/integration/responses/200",
                {"responseTemplates": {"application/json": '{"ok": true}'}},
            )
        )
    steps.append(_json("POST", "/restapis/${api}/deployments", {"stageName": STAGE}))
    return steps


FUNCTION = _json(
    "POST",
    "/2015-03-31/functions",
    {
        "FunctionName": "bench-apigw",
        "Runtime": "python3.11",
        "Role": "arn:aws:iam::000000000000:role/bench",
        "Handler": "app.handler",
        "Code": {"ZipFile": _zip()},
    },
    service="lambda",
    capture={"fn": "FunctionArn"},
)
ACTIVE = _json("GET", "/2015-03-31/functions/bench-apigw", service="lambda", until='"State":\\s*"Active"')
PERMISSION = _json(
    "POST",
    "/2015-03-31/functions/bench-apigw/policy",
    {
        "StatementId": "apigw",
        "Action": "lambda:InvokeFunction",
        "Principal": "apigateway.amazonaws.com",
    },
    service="lambda",
)


def _invoke_paths(path: str = "/") -> dict[str, str]:
    return {
        "overcast": f"/_overcast/execute-api/${{api}}/{STAGE}{path}",
        "ministack": f"/_aws/execute-api/${{api}}/{STAGE}{path}",
        "moto": f"/restapis/${{api}}/{STAGE}/_user_request_{path}",
    }


OPERATIONS = [
    {
        "name": "apigateway-rest-mock",
        "service": "execute-api",
        "protocol": "http",
        "method": "GET",
        "path": f"/_overcast/execute-api/${{api}}/{STAGE}/",
        "paths": _invoke_paths(),
        "headers": {},
        "body": "",
        "setup": _rest_api(
            "bench-mock", {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}}
        ),
        "expect": '"ok"',
        "default": True,
        "target": 2.0,
    },
    {
        "name": "apigateway-rest-lambda-proxy",
        "service": "execute-api",
        "protocol": "http",
        "method": "GET",
        "path": f"/_overcast/execute-api/${{api}}/{STAGE}/",
        "paths": _invoke_paths(),
        "headers": {},
        "body": "",
        "setup": [
            FUNCTION,
            ACTIVE,
            PERMISSION,
            *_rest_api(
                "bench-proxy",
                {
                    "type": "AWS_PROXY",
                    "httpMethod": "POST",
                    "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${fn}/invocations",
                },
            ),
        ],
        "expect": "^ok$",
        "default": True,
        "target": 2.0,
    },
    {
        # the same function through Lambda's own Invoke: API Gateway's added latency is the difference
        "name": "apigateway-lambda-direct",
        "service": "lambda",
        "protocol": "rest-json",
        "method": "POST",
        "path": "/2015-03-31/functions/bench-apigw/invocations",
        "headers": {},
        "body": "{}",
        "setup": [FUNCTION, ACTIVE],
        "expect": "ok",
        "default": True,
    },
]
