"""Function URLs: the configuration API and the HTTP endpoint that turns a request into an invocation.

A URL is served by the Overcast server itself, in two forms:

- by host name, as AWS does: `http://<url-id>.lambda-url.<region>.localhost:4566/<path>` (names under
  `.localhost` resolve to 127.0.0.1 on most systems; any Host containing `.lambda-url.` is accepted);
- by path, for clients that cannot resolve such names: `http://localhost:4566/_overcast/lambda-url/<url-id>/<path>`.

The request becomes the payload format version 2.0 event, and the function's answer is read as AWS does:
an object with `statusCode` is a full HTTP response (`headers`, `cookies`, `body`, `isBase64Encoded`); any
other JSON value is a 200 `application/json` body.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.http import HttpRequest, HttpResponse
from overcast.services.base import Operations
from overcast.services.lambda_.common import Scope, function_arn, page

if TYPE_CHECKING:
    from overcast.services.lambda_.provider import LambdaProvider

PATH_PREFIX = "/_overcast/lambda-url/"
_TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml", "+json", "+xml")
_ID_ALPHABET = string.ascii_lowercase + string.digits


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _json_response(status: int, document: dict[str, Any]) -> HttpResponse:
    return HttpResponse(
        status,
        [("content-type", "application/json"), ("x-amzn-requestid", secrets.token_hex(16))],
        json.dumps(document).encode(),
    )


class FunctionUrlOperations(Operations):
    """The FunctionUrlConfig operations (the HTTP side is `serve`, below)."""

    service: LambdaProvider

    def _url_qualifier(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[str, str]:
        name, qualifier = self.service.parse_ref(ctx, params)
        self.service.latest(ctx, name)
        if qualifier and qualifier != "$LATEST":
            if qualifier.isdigit():
                raise ServiceError(
                    "InvalidParameterValueException",
                    "The qualifier of a function URL must be an alias name or $LATEST, not a version",
                )
            if self.service.store.alias(ctx.account_id, ctx.region, name, qualifier) is None:
                raise ServiceError(
                    "ResourceNotFoundException",
                    f"Function not found: {function_arn(ctx, name, qualifier)}",
                    404,
                )
        return name, qualifier or ""

    def _url_config(self, ctx: RequestContext, name: str, qualifier: str) -> dict[str, Any]:
        config = self.service.store.function_url(ctx.account_id, ctx.region, name, qualifier)
        if config is None:
            raise ServiceError("ResourceNotFoundException", "The resource you requested does not exist.", 404)
        return config

    def create_function_url_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self._url_qualifier(ctx, params)
        arn = function_arn(ctx, name, qualifier or None)
        if self.service.store.function_url(ctx.account_id, ctx.region, name, qualifier) is not None:
            raise ServiceError(
                "ResourceConflictException",
                f"Failed to create function url config for [functionArn = {arn}]. Error message:  "
                "FunctionUrlConfig exists for this Lambda function",
            )
        url_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(32))
        now = _iso(self.clock.now())
        config = {
            "FunctionUrl": self._url_of(url_id, ctx.region),
            "FunctionArn": arn,
            "AuthType": params["AuthType"],
            "CreationTime": now,
            "LastModifiedTime": now,
            "InvokeMode": params.get("InvokeMode") or "BUFFERED",
        }
        if params.get("Cors"):
            config["Cors"] = params["Cors"]
        self.service.store.add_function_url(url_id, ctx.account_id, ctx.region, name, qualifier, config)
        return {k: v for k, v in config.items() if k != "LastModifiedTime"}

    def get_function_url_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self._url_qualifier(ctx, params)
        return self._url_config(ctx, name, qualifier)

    def update_function_url_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self._url_qualifier(ctx, params)
        config = self._url_config(ctx, name, qualifier)
        for key in ("AuthType", "Cors", "InvokeMode"):
            if key in params:
                config[key] = params[key]
        config["LastModifiedTime"] = _iso(self.clock.now())
        self.service.store.put_function_url(ctx.account_id, ctx.region, name, qualifier, config)
        return config

    def delete_function_url_config(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self._url_qualifier(ctx, params)
        self._url_config(ctx, name, qualifier)
        self.service.store.delete_function_url(ctx.account_id, ctx.region, name, qualifier)
        return {}

    def list_function_url_configs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.service.parse_ref(ctx, params)
        self.service.latest(ctx, name)
        configs = self.service.store.function_urls(ctx.account_id, ctx.region, name)
        return page(configs, params, "FunctionUrlConfigs")

    def _url_of(self, url_id: str, region: str) -> str:
        return f"http://{url_id}.lambda-url.{region}.localhost:{self.platform.config.port}/"


# -- serving ---------------------------------------------------------------------------------------


async def serve(service: LambdaProvider, request: HttpRequest) -> HttpResponse:
    """Answer an HTTP request addressed to a function URL (host or path form)."""
    if request.path.startswith(PATH_PREFIX):
        url_id, _, rest = request.path[len(PATH_PREFIX) :].partition("/")
        path = "/" + rest
    else:
        url_id, path = request.host.split(".", 1)[0].lower(), request.path or "/"
    target = service.store.url_target(url_id)
    if target is None:
        return _json_response(404, {"Message": None})
    account, region, name, qualifier, config = target
    cors = _cors_headers(config.get("Cors"), request)
    if request.method == "OPTIONS" and "origin" in request.headers and config.get("Cors"):
        return HttpResponse(200, cors, b"")
    denied, caller = _url_denied(service, request, account, region, name, qualifier, config)
    if denied is not None:
        denied.headers.extend(cors)
        return denied
    event = _event(request, path, url_id, caller.account_id if caller else "anonymous")
    if caller is not None:
        event["requestContext"]["authorizer"] = {
            "iam": {
                "accessKey": caller_key(request),
                "accountId": caller.account_id,
                "callerId": caller.user_id,
                "principalOrgId": None,
                "userArn": caller.arn,
                "userId": caller.user_id,
            }
        }
    request_id = event["requestContext"]["requestId"]
    try:
        reserved = service.throttle_or_acquire(account, region, name)
    except ServiceError:
        return _json_response(429, {"Message": "Rate Exceeded."})
    try:
        version_config, _ = service.version_for_invoke(Scope(account, region), name, qualifier or None)
        result = await service.execute(
            account, region, version_config, qualifier or None, json.dumps(event).encode(), request_id
        )
    except ServiceError as error:
        return _json_response(error.status if error.status >= 500 else 502, {"Message": error.message})
    finally:
        service.executor.release(account, region, name, reserved)
    if result.function_error:
        response = HttpResponse(
            502, [("content-type", "text/plain; charset=utf-8")], b"Internal Server Error"
        )
    else:
        response = _http_response(result.payload)
    response.headers.append(("x-amzn-requestid", request_id))
    response.headers.extend(cors)
    return response


def _url_denied(
    service: LambdaProvider,
    request: HttpRequest,
    account: str,
    region: str,
    name: str,
    qualifier: str,
    config: dict[str, Any],
) -> tuple[HttpResponse | None, Any]:
    """(403, None) unless the request may invoke. AWS_IAM: a valid signature, and lambda:InvokeFunctionUrl
    allowed by the caller's policies or the function's resource policy (the policy engine decides, with
    lambda:FunctionUrlAuthType in the request context); NONE: the function's resource policy must allow
    lambda:InvokeFunctionUrl to everyone, as AWS requires."""
    forbidden = _json_response(403, {"Message": "Forbidden"})
    if config["AuthType"] == "AWS_IAM":
        try:
            principal = service.platform.authenticate(request)
        except ServiceError:
            return forbidden, None
        if principal is None or not _iam_allows(
            service, request, principal, account, region, name, qualifier
        ):
            return forbidden, None
        return None, principal
    policy = service.resource_policy(account, region, name, qualifier or None)
    for statement in (policy or {}).get("Statement", []):
        actions = statement.get("Action")
        actions = [actions] if isinstance(actions, str) else actions or []
        if statement.get("Principal") == "*" and any(
            a in ("lambda:InvokeFunctionUrl", "lambda:*", "*") for a in actions
        ):
            return None, None
    return forbidden, None


def _iam_allows(
    service: LambdaProvider,
    request: HttpRequest,
    principal: Any,
    account: str,
    region: str,
    name: str,
    qualifier: str,
) -> bool:
    """Whether the policy engine allows `principal` lambda:InvokeFunctionUrl on the function (or alias)."""
    authorize = service.platform.authorizer
    if authorize is None:
        return True
    where = Scope(account, region)
    ctx = RequestContext(
        "lambda", "InvokeFunctionUrl", principal.account_id, region, principal, secrets.token_hex(16), request
    )
    ctx.extra["condition_keys"] = {"lambda:FunctionUrlAuthType": "AWS_IAM"}
    try:
        authorize(ctx, {"FunctionName": function_arn(where, name, qualifier or None)})
    except ServiceError:
        return False
    return True


def caller_key(request: HttpRequest) -> str:
    from overcast.auth.sigv4 import parse_sigv4

    sig = parse_sigv4(request)
    return sig.access_key_id if sig else ""


def _event(request: HttpRequest, path: str, url_id: str, account: str) -> dict[str, Any]:
    headers = {name: value for name, value in request.headers.items()}
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": unquote(path),
        "rawQueryString": request.query,
        "headers": headers,
        "requestContext": {
            "accountId": account,
            "apiId": url_id,
            "domainName": request.host.split(":")[0],
            "domainPrefix": url_id,
            "http": {
                "method": request.method,
                "path": unquote(path),
                "protocol": "HTTP/1.1",
                "sourceIp": request.client_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": secrets.token_hex(16),
            "routeKey": "$default",
            "stage": "$default",
            "time": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    body = request.body or b""
    if body:
        content_type = headers.get("content-type", "")
        if any(marker in content_type for marker in _TEXT_TYPES):
            try:
                event["body"] = body.decode()
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        else:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


def _http_response(payload: bytes) -> HttpResponse:
    try:
        answer = json.loads(payload) if payload.strip() else None
    except ValueError:
        return HttpResponse(502, [("content-type", "application/json")], b'{"Message":null}')
    if isinstance(answer, dict) and "statusCode" in answer:
        headers = [(str(k), str(v)) for k, v in (answer.get("headers") or {}).items()]
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("content-type", "application/json"))
        headers += [("set-cookie", str(c)) for c in answer.get("cookies") or []]
        body = answer.get("body")
        if body is None:
            data = b""
        elif answer.get("isBase64Encoded"):
            data = base64.b64decode(body)
        else:
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
        return HttpResponse(int(answer["statusCode"]), headers, data)
    data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
    return HttpResponse(200, [("content-type", "application/json")], data)


def _cors_headers(cors: dict[str, Any] | None, request: HttpRequest) -> list[tuple[str, str]]:
    origin = request.headers.get("origin")
    if not cors or not origin:
        return []
    origins = cors.get("AllowOrigins") or []
    if "*" not in origins and origin not in origins:
        return []
    headers = [("access-control-allow-origin", "*" if "*" in origins else origin)]
    if cors.get("AllowMethods"):
        headers.append(("access-control-allow-methods", ",".join(cors["AllowMethods"])))
    if cors.get("AllowHeaders"):
        headers.append(("access-control-allow-headers", ",".join(cors["AllowHeaders"])))
    if cors.get("ExposeHeaders"):
        headers.append(("access-control-expose-headers", ",".join(cors["ExposeHeaders"])))
    if cors.get("MaxAge"):
        headers.append(("access-control-max-age", str(cors["MaxAge"])))
    if cors.get("AllowCredentials"):
        headers.append(("access-control-allow-credentials", "true"))
    return headers
