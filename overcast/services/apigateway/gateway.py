"""A REST API serving requests: the invoke URL, then what API Gateway does in order.

    resource and method (403 Missing Authentication Token) → resource policy → authorizer (AWS_IAM, Lambda
    TOKEN/REQUEST, Cognito user pools) → API key, usage plan throttle and quota, stage throttle → request
    validation (parameters, body against its model) → stage cache → integration → method response

Invoke URLs: `http://<api-id>.execute-api.localhost:<port>/<stage>/<path>` (the Host header decides; any
host containing `.execute-api.` works) and `http://localhost:<port>/_overcast/execute-api/<api-id>/<stage>/
<path>`. A request that names no REST API returns None so the server tries the next route (HTTP and
WebSocket APIs share the host form).

Every failure is a gateway response (the API's own, else AWS's default `{"message": ...}`) with AWS's
status and `x-amzn-ErrorType`; responses carry `x-amzn-RequestId` and `x-amz-apigw-id`.
"""

from __future__ import annotations

import base64
import functools
import json
import random
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from overcast.http import HttpRequest, HttpResponse
from overcast.identity import Principal
from overcast.platform import new_request_id
from overcast.services.apigateway import cloudwatch, encoding, metrics, proxy, vtl
from overcast.services.apigateway import jwt as jwts
from overcast.services.apigateway.authorization import TtlCache
from overcast.services.apigateway.deployments import DeploymentOperations, method_setting
from overcast.services.apigateway.guards import Guards
from overcast.services.apigateway.integrations import Integrations
from overcast.services.apigateway.models import DEFAULT_TEMPLATE, GATEWAY_RESPONSES, body_problem
from overcast.services.apigateway.resource_tree import Match, ResourceTree
from overcast.services.apigateway.usage import period_of

if TYPE_CHECKING:
    from overcast.services.apigateway.provider import ApiGatewayProvider

PATH_PREFIX = "/_overcast/execute-api/"
COMPAT_PREFIX = "/_aws/execute-api/"
MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's payload limit


# The custom domain names of REST APIs (lower case), for the route that serves them: kept by the provider
# (loaded at start, updated as names are created and deleted). Shared by the platforms of one process; each
# serves only the names its own store has.
DOMAINS: set[str] = set()


def is_custom_domain(request: HttpRequest) -> bool:
    return bool(DOMAINS) and request.host.rsplit(":", 1)[0].lower() in DOMAINS


def is_user_request(request: HttpRequest) -> bool:
    """`/restapis/<id>/<stage>/_user_request_/<path>` (LocalStack's legacy invoke form)."""
    parts = request.path.split("/", 5)
    return len(parts) >= 5 and parts[1] == "restapis" and parts[4] == "_user_request_"


# x-amzn-ErrorType of each gateway response kind, as AWS names them
ERROR_TYPES = {
    "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
    "UNAUTHORIZED": "UnauthorizedException",
    "ACCESS_DENIED": "AccessDeniedException",
    "INVALID_API_KEY": "ForbiddenException",
    "INVALID_SIGNATURE": "InvalidSignatureException",
    "EXPIRED_TOKEN": "ExpiredTokenException",
    "THROTTLED": "TooManyRequestsException",
    "QUOTA_EXCEEDED": "LimitExceededException",
    "BAD_REQUEST_BODY": "BadRequestException",
    "BAD_REQUEST_PARAMETERS": "BadRequestException",
    "UNSUPPORTED_MEDIA_TYPE": "UnsupportedMediaTypeException",
    "AUTHORIZER_FAILURE": "AuthorizerConfigurationException",
    "AUTHORIZER_CONFIGURATION_ERROR": "AuthorizerConfigurationException",
    "API_CONFIGURATION_ERROR": "InternalServerErrorException",
    "INTEGRATION_FAILURE": "InternalServerErrorException",
    "INTEGRATION_TIMEOUT": "InternalServerErrorException",
    "DEFAULT_5XX": "InternalServerErrorException",
    "REQUEST_TOO_LARGE": "RequestTooLargeException",
    "RESOURCE_NOT_FOUND": "NotFoundException",
}


def parse_target(request: HttpRequest) -> tuple[str, str, str] | None:
    """(api id, stage, path after the stage) of an invoke URL, or None. Besides the two forms above, the
    forms LocalStack users know are taken: `/_aws/execute-api/<id>/<stage>/<path>` and
    `/restapis/<id>/<stage>/_user_request_/<path>`."""
    if request.path.startswith(PATH_PREFIX):
        api_id, _, rest = request.path[len(PATH_PREFIX) :].partition("/")
    elif request.path.startswith(COMPAT_PREFIX):
        api_id, _, rest = request.path[len(COMPAT_PREFIX) :].partition("/")
    elif is_user_request(request):
        parts = request.path.split("/", 5)  # "", "restapis", id, stage, "_user_request_", path
        return parts[2], parts[3], "/" + (parts[5] if len(parts) > 5 else "")
    elif ".execute-api." in request.host:
        api_id, rest = request.host.split(".", 1)[0].lower(), request.path.lstrip("/")
    else:
        return None
    stage, _, path = rest.partition("/")
    return api_id, stage, "/" + path


def extended_id() -> str:
    """An x-amz-apigw-id (`ABCdeFGhoAMFZ0w=`): 11 random bytes in base64."""
    return base64.b64encode(_random_bits(88).to_bytes(11, "big")).decode()


_random_bits = random.Random().getrandbits


@functools.lru_cache(maxsize=4)
def request_time(second: int) -> str:
    """$context.requestTime (`07/Dec/2026:08:04:16 +0000`), formatted once a second."""
    return datetime.fromtimestamp(second, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


@dataclass
class Deployed:
    """A deployment ready to serve: its snapshot and the resource tree built from it (kept in memory)."""

    deployment_id: str
    snapshot: dict[str, Any]
    tree: ResourceTree

    @property
    def binary_media_types(self) -> list[str]:
        return self.snapshot.get("binaryMediaTypes") or []


@dataclass
class Call:
    """One request to a REST API as the gateway works on it."""

    request: HttpRequest
    account: str
    region: str
    api_id: str
    stage: dict[str, Any]
    deployed: Deployed
    path: str
    verb: str
    query: str
    body: bytes
    stage_variables: dict[str, str]
    context: dict[str, Any]
    started: float
    resource: dict[str, Any] = field(default_factory=dict)
    method: dict[str, Any] = field(default_factory=dict)
    path_parameters: dict[str, str] = field(default_factory=dict)
    caller: Principal | None = None
    authorizer: dict[str, Any] | None = None
    usage_key: str | None = None
    timeout: float = 29.0
    tracing: bool = False  # whether the integration notes its steps (execution logs, TestInvokeMethod)
    # execution log lines (text, whether it is request or response data), and where the method's own start
    trace: list[tuple[str, bool]] = field(default_factory=list)
    executing: int = 0
    api_name: str = ""  # the AWS/ApiGateway metrics' ApiName
    integration_ms: float | None = None  # how long the integration took (IntegrationLatency), once it ran
    _params: dict[str, dict[str, str]] | None = None
    _headers: list[tuple[str, str]] | None = None

    @property
    def headers(self) -> list[tuple[str, str]]:
        """Every header as the client sent it (names in its spelling, repeats kept), decoded when needed."""
        if self._headers is None:
            self._headers = self.request.header_pairs() + self._forwarding()
        return self._headers

    def _forwarding(self) -> list[tuple[str, str]]:
        """The headers API Gateway adds on its way to the integration (unless the client sent them)."""
        sent = self.request.headers
        host = sent.get("host") or ""
        port = host.rsplit(":", 1)[1] if ":" in host and not host.endswith("]") else "80"
        added = [
            ("X-Amzn-Trace-Id", self.trace_id),
            ("X-Forwarded-For", self.request.client_ip),
            ("X-Forwarded-Port", port),
            ("X-Forwarded-Proto", self.request.scheme),
        ]
        return [(name, value) for name, value in added if name.lower() not in sent]

    @property
    def trace_id(self) -> str:
        """The X-Ray trace id of the request (`Root=1-<epoch hex>-<24 hex>`), as the response carries it."""
        epoch = int(self.context["requestTimeEpoch"] // 1000)
        return f"Root=1-{epoch:08x}-{self.context['requestId'].replace('-', '')[:24]}"

    @property
    def stage_name(self) -> str:
        return self.stage["stageName"]

    def note(self, text: str, data: bool = False) -> None:
        """A line of the execution log (kept only when something will print it)."""
        if self.tracing:
            self.trace.append((text, data))

    def header(self, name: str) -> str | None:
        return self.request.headers.get(name)

    def headers_named(self, name: str) -> list[str]:
        lowered = name.lower()
        return [v for k, v in self.headers if k.lower() == lowered]

    @property
    def multi_query(self) -> dict[str, list[str]]:
        return proxy.split_query(self.query)[1]

    def method_params(self) -> dict[str, dict[str, str]]:
        """`$input.params()`: the path, query string and header values (the last of repeated ones)."""
        if self._params is None:
            self._params = {
                "path": dict(self.path_parameters),
                "querystring": proxy.split_query(self.query)[0],
                "header": proxy.split_headers(self.headers)[0],
            }
        return self._params

    def bind(self, match: Match) -> None:
        self.resource = match.resource
        self.method = match.method or {}
        self.path_parameters = match.path_parameters
        integration = self.method.get("methodIntegration") or {}
        self.timeout = (integration.get("timeoutInMillis") or 29000) / 1000
        self.context["resourceId"] = self.resource["id"]
        self.context["resourcePath"] = self.resource["path"]

    def method_arn(self) -> str:
        return (
            f"arn:aws:execute-api:{self.region}:{self.account}:{self.api_id}/{self.stage_name}/{self.verb}/"
            f"{self.path.lstrip('/')}"
        )

    def source_arn(self) -> str:
        """The ARN API Gateway invokes a function as (aws:SourceArn): the method's resource path."""
        verb = self.method.get("httpMethod", self.verb)
        return (
            f"arn:aws:execute-api:{self.region}:{self.account}:{self.api_id}/{self.stage_name}/"
            f"{'*' if verb == 'ANY' else verb}/{self.resource.get('path', '/').lstrip('/')}"
        )

    def request_context(self) -> dict[str, Any]:
        """The Lambda proxy event's requestContext."""
        context = self.context
        keys = (
            "resourceId",
            "resourcePath",
            "httpMethod",
            "extendedRequestId",
            "requestTime",
            "path",
            "accountId",
            "protocol",
            "stage",
            "domainPrefix",
            "requestTimeEpoch",
            "requestId",
            "identity",
            "domainName",
            "deploymentId",
            "apiId",
        )
        found = {key: context[key] for key in keys if key in context}
        if self.authorizer is not None:
            found["authorizer"] = self.authorizer
        return found

    def proxy_event(self) -> dict[str, Any]:
        content_type = self.header("content-type")
        return proxy.event_v1(
            resource=self.resource["path"],
            path=self.path,
            method=self.verb,
            headers=self.headers,
            query=self.query,
            path_parameters=self.path_parameters,
            stage_variables=self.stage_variables,
            request_context=self.request_context(),
            body=self.body,
            binary=proxy.is_binary(content_type, self.deployed.binary_media_types),
        )


class Gateway:
    def __init__(self, service: ApiGatewayProvider) -> None:
        self.service = service
        self.platform = service.platform
        self.clock = service.clock
        self.deployments: OrderedDict[tuple, Deployed] = OrderedDict()
        self.targets: dict[tuple, tuple] = {}  # (api id, stage) -> (store generation, _target's answer)
        self.cache = TtlCache(1024)  # stage caches: (api, stage, key...) -> response
        self.authorizer_cache = TtlCache(4096)  # (api, stage, authorizer, identity...) -> Verdict
        self.jwks = TtlCache(64)  # (url,) -> JWKS document
        self.buckets: OrderedDict[tuple, list[float]] = OrderedDict()  # token buckets: [tokens, at]
        self.integrations = Integrations(self)
        self.guards = Guards(self)

    def forget(self) -> None:
        self.deployments.clear()
        self.targets.clear()
        self.cache.clear()
        self.authorizer_cache.clear()
        self.jwks.clear()
        self.buckets.clear()
        self.integrations.forget()

    # -- serving ---------------------------------------------------------------------------------------

    async def serve(self, request: HttpRequest) -> HttpResponse | None:
        target = parse_target(request)
        if target is None:
            return None
        return await self.serve_target(request, *target)

    async def serve_domain(self, request: HttpRequest) -> HttpResponse | None:
        """A request to a custom domain name: its base path mapping names the API and stage."""
        target = self._mapped(request.host.rsplit(":", 1)[0].lower(), request.path)
        if target is None:
            return None
        return await self.serve_target(request, *target)

    def _mapped(self, domain: str, path: str) -> tuple[str, str, str] | None:
        """(api id, stage, path within the stage) by the domain's base path mappings (the longest base path
        that starts the request's path, else `(none)`)."""
        store = self.service.store
        with self.service.db.transaction():
            owner = store.owner("domain", domain)
            mappings = store.list(*owner, "basepath", domain) if owner else []
        segments = [s for s in path.split("/") if s]
        best = None
        for mapping in mappings:
            base = [] if mapping["basePath"] == "(none)" else mapping["basePath"].split("/")
            if segments[: len(base)] == base and (best is None or len(base) > len(best[1])):
                best = (mapping, base)
        if best is None:
            return None
        mapping, base = best
        rest = segments[len(base) :]
        if mapping.get("stage"):
            return mapping["restApiId"], mapping["stage"], "/" + "/".join(rest)
        if not rest:
            return None
        return mapping["restApiId"], rest[0], "/" + "/".join(rest[1:])

    async def serve_target(
        self, request: HttpRequest, api_id: str, stage_name: str, path: str
    ) -> HttpResponse | None:
        found = self._target(api_id, stage_name)
        if found is None:
            return None  # not a REST API: an HTTP or WebSocket API's, perhaps
        account, region, api, stage = found
        request_id = new_request_id()
        deployed = None
        if stage is not None:
            deployment_id, variables = self._deployment_for(stage)
            deployed = self.deployments.get((account, region, api_id, deployment_id))
            if deployed is None:
                with self.service.db.transaction():
                    deployed = self._deployed(account, region, api_id, deployment_id)
        if stage is None or deployed is None or api.get("disableExecuteApiEndpoint"):
            return _plain_error(403, "Forbidden", "ForbiddenException", request_id)
        if len(request.body or b"") > MAX_PAYLOAD:
            return _plain_error(413, "Request Too Long", "RequestTooLargeException", request_id)
        call = self._call(request, account, region, api_id, stage, deployed, path, variables, request_id)
        call.api_name = api.get("name", "")
        response = await self.run(call)
        return self._finish(call, response)

    def _target(self, api_id: str, stage_name: str) -> tuple[str, str, dict, dict | None] | None:
        """(account, region, API, stage or None) of an invoke URL, None when no REST API has this id; read
        from the store once per change of its documents."""
        store = self.service.store
        key = (api_id, stage_name)
        cached = self.targets.get(key)
        if cached is not None and cached[0] == store.generation:
            return cached[1]
        generation = store.generation
        with self.service.db.transaction():
            owner = store.owner("restapi", api_id)
            found = None
            if owner is not None:
                account, region = owner
                api = store.get(account, region, "restapi", "", api_id) or {}
                stage = store.get(account, region, "stage", api_id, stage_name) if stage_name else None
                found = (account, region, api, stage)
        if len(self.targets) > 1024:
            self.targets.clear()
        self.targets[key] = (generation, found)
        return found

    def _deployment_for(self, stage: dict[str, Any]) -> tuple[str, dict[str, str]]:
        """The deployment serving this request (the canary's for its share of traffic) and its variables."""
        variables = dict(stage.get("variables") or {})
        canary = stage.get("canarySettings") or {}
        if canary.get("deploymentId") and random.random() * 100 < canary.get("percentTraffic", 0.0):
            variables.update(canary.get("stageVariableOverrides") or {})
            return canary["deploymentId"], variables
        return stage["deploymentId"], variables

    def _deployed(self, account: str, region: str, api_id: str, deployment_id: str) -> Deployed | None:
        key = (account, region, api_id, deployment_id)
        found = self.deployments.get(key)
        if found is None:
            document = self.service.store.get(account, region, "deployment", api_id, deployment_id)
            if document is None:
                return None
            snapshot = document["snapshot"]
            found = Deployed(deployment_id, snapshot, ResourceTree(snapshot["resources"]))
            self.deployments[key] = found
            if len(self.deployments) > 128:
                self.deployments.popitem(last=False)
        return found

    def _call(
        self,
        request: HttpRequest,
        account: str,
        region: str,
        api_id: str,
        stage: dict[str, Any],
        deployed: Deployed,
        path: str,
        variables: dict[str, str],
        request_id: str,
    ) -> Call:
        now = self.clock.now()
        user_agent = request.headers.get("user-agent")
        context: dict[str, Any] = {
            "accountId": account,
            "apiId": api_id,
            "deploymentId": deployed.deployment_id,
            "domainName": request.host.rsplit(":", 1)[0]
            if not request.path.startswith(PATH_PREFIX)
            else request.host,
            "domainPrefix": api_id,
            "extendedRequestId": extended_id(),
            "httpMethod": request.method,
            "path": f"/{stage['stageName']}{path if path != '/' else '/'}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": request_time(int(now)),
            "requestTimeEpoch": int(now * 1000),
            "stage": stage["stageName"],
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": request.client_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent,
                "user": None,
            },
            "responseOverride": {"status": None, "header": {}},
        }
        return Call(
            request=request,
            account=account,
            region=region,
            api_id=api_id,
            stage=stage,
            deployed=deployed,
            path=path,
            verb=request.method,
            query=request.query,
            body=request.body or b"",
            stage_variables=variables,
            context=context,
            started=time.perf_counter(),
        )

    async def run(self, call: Call) -> HttpResponse:
        match = call.deployed.tree.match(call.path, call.verb)
        if match is None or match.method is None:
            return self.error(call, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
        call.bind(match)
        call.tracing = (
            method_setting(call.stage, call.resource["path"], call.method["httpMethod"]).get(
                "loggingLevel", "OFF"
            )
            != "OFF"
        )
        integration_type = (call.method.get("methodIntegration") or {}).get("type")
        if integration_type not in ("AWS_PROXY", "HTTP_PROXY") and call.body:
            try:  # mapping templates and validation read the payload decompressed
                call.body = encoding.decompress(call.body, call.header("content-encoding"))
            except encoding.UnsupportedEncoding:
                return self.error(call, "UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type", 415)
        refused = await self.guards.authorize(call)
        if refused is not None:
            return refused
        refused = self._meter(call)
        if refused is not None:
            return refused
        refused = self._validate(call)
        if refused is not None:
            return refused
        cache_key = self._cache_key(call)
        if cache_key is not None:
            cached = self.cache.get(cache_key, self.clock.now())
            if cached is not None and (call.header("cache-control") or "").replace(" ", "") != "max-age=0":
                return HttpResponse(cached.status, list(cached.headers), cached.body)
        call.executing = len(call.trace)
        started = time.perf_counter()
        response = await self.integrations.run(call)
        call.integration_ms = (time.perf_counter() - started) * 1000
        if cache_key is not None and response.status < 400:
            setting = method_setting(call.stage, call.resource["path"], call.method["httpMethod"])
            kept = HttpResponse(
                response.status, list(response.headers), response.body
            )  # before _finish adds ids
            self.cache.put(cache_key, kept, self.clock.now() + setting.get("cacheTtlInSeconds", 300))
        return response

    def _finish(self, call: Call, response: HttpResponse) -> HttpResponse:
        minimum = call.deployed.snapshot.get("minimumCompressionSize")
        if minimum is not None:
            response = encoding.compress(response, call.header("accept-encoding"), minimum)
        response.headers.append(("x-amzn-RequestId", call.context["requestId"]))
        response.headers.append(("x-amz-apigw-id", call.context["extendedRequestId"]))
        response.headers.append(("X-Amzn-Trace-Id", call.trace_id))
        self._access_log(call, response)
        self._execution_log(call, response)
        metrics.count_request(
            self.service.metrics,
            call.account,
            call.region,
            call.api_name,
            call.stage_name,
            self.clock.now(),
            response.status,
            (time.perf_counter() - call.started) * 1000,
            call.integration_ms,
        )
        return response

    # -- gateway responses ------------------------------------------------------------------------------

    def error(
        self, call: Call, kind: str, message: str | None, status: int | None = None, field: str = "message"
    ) -> HttpResponse:
        """A gateway response: the API's own for `kind` (or its DEFAULT_4XX/5XX), else AWS's default."""
        responses = call.deployed.snapshot.get("gatewayResponses") or {}
        code = status or int(GATEWAY_RESPONSES.get(kind) or 500)
        own = responses.get(kind) or responses.get("DEFAULT_5XX" if code >= 500 else "DEFAULT_4XX") or {}
        if own.get("statusCode") and responses.get(kind):
            code = int(own["statusCode"])
        templates = own.get("responseTemplates") or (
            DEFAULT_TEMPLATE
            if field == "message"
            else {"application/json": '{"Message":$context.error.messageString}'}
        )
        content_type, template = next(iter(templates.items()))
        call.context["error"] = {
            "message": message,
            "messageString": json.dumps(message),
            "responseType": kind,
            "validationErrorString": call.context.get("error", {}).get("validationErrorString", ""),
        }
        try:
            body = vtl.render(
                template,
                body="",
                params=call.method_params(),
                context=call.context,
                stage_variables=call.stage_variables,
            )
        except vtl.TemplateFailure:
            body = json.dumps({"message": message})
        headers = [("content-type", content_type)]
        if kind in ERROR_TYPES:
            headers.append(("x-amzn-ErrorType", ERROR_TYPES[kind]))
        for target, source in (own.get("responseParameters") or {}).items():
            name = target.removeprefix("gatewayresponse.header.")
            value = self.integrations.source_value(call, source)
            if value is not None:
                headers.append((name, value))
        return HttpResponse(code, headers, body.encode())

    # -- API keys, usage plans, throttles -------------------------------------------------------------------

    def _meter(self, call: Call) -> HttpResponse | None:
        now = self.clock.now()
        value = None
        if call.tracing or call.method.get("apiKeyRequired"):
            source = call.deployed.snapshot.get("apiKeySource", "HEADER")
            value = call.usage_key if source == "AUTHORIZER" else call.header("x-api-key")
        if call.tracing:
            call.note(cloudwatch.usage_plan_check(call, value))
        if call.method.get("apiKeyRequired"):
            if not value:
                return self.error(call, "INVALID_API_KEY", "Forbidden")
            with self.service.db.transaction():
                refused = self._use_key(call, value, now)
            if refused is not None:
                return refused
        if call.tracing:
            shown = cloudwatch.masked(value or "")
            if not call.method.get("apiKeyRequired"):
                call.note(
                    f"API Key {shown} authorized because method '{call.verb} {call.resource['path']}' does not "
                    "require API Key. Request will not contribute to throttle or quota limits"
                )
            call.note(
                f"Usage Plan check succeeded for API Key {shown} and API Stage {call.api_id}/{call.stage_name}"
            )
        setting = method_setting(call.stage, call.resource["path"], call.method["httpMethod"])
        rate, burst = setting.get("throttlingRateLimit", 10000.0), setting.get("throttlingBurstLimit", 5000)
        if (rate, burst) != (10000.0, 5000) and not self._take(
            (call.api_id, call.stage_name, call.resource["path"], call.verb), rate, burst, now
        ):
            return self.error(call, "THROTTLED", "Too Many Requests")
        return None

    def _use_key(self, call: Call, value: str, now: float) -> HttpResponse | None:
        method_key = f"{call.resource['path']}/{call.method['httpMethod']}"
        refusal = self.use_key(
            call.account, call.region, call.api_id, call.stage_name, value, now, method_key
        )
        if isinstance(refusal, tuple):
            return self.error(call, *refusal)
        call.context["identity"].update(apiKey=value, apiKeyId=refusal["id"])
        return None

    def use_key(
        self,
        account: str,
        region: str,
        api_id: str,
        stage_name: str,
        value: str,
        now: float,
        method_key: str | None = None,
    ) -> tuple[str, str] | dict[str, Any]:
        """An API key's use of an API stage (REST, or WebSocket through apigateway/api.py): the key when an
        enabled key of a usage plan covering the stage is within the plan's throttle and quota, else the
        gateway response (kind, message) that refuses it. Call it inside a transaction."""
        store = self.service.store
        found = store.by_lookup("apikey", value)
        if found is None or found[:2] != (account, region) or not found[2].get("enabled"):
            return "INVALID_API_KEY", "Forbidden"
        key = found[2]
        plan = None
        for candidate in store.list(account, region, "usageplan"):
            stages = candidate.get("apiStages") or []
            if any(s["apiId"] == api_id and s["stage"] == stage_name for s in stages) and store.get(
                account, region, "usageplankey", candidate["id"], key["id"]
            ):
                plan = candidate
                break
        if plan is None:
            return "INVALID_API_KEY", "Forbidden"
        throttle = plan.get("throttle") or {}
        for stage in plan.get("apiStages") or []:
            if (
                stage["apiId"] == api_id
                and stage["stage"] == stage_name
                and stage.get("throttle")
                and method_key
            ):
                throttle = stage["throttle"].get(method_key) or throttle
        if throttle and not self._take(
            ("plan", plan["id"], key["id"]),
            throttle.get("rateLimit", 0.0),
            throttle.get("burstLimit", 0),
            now,
        ):
            return "THROTTLED", "Too Many Requests"
        quota = plan.get("quota")
        if quota:
            period, _ = period_of(now, quota["period"], quota.get("offset", 0))
            if store.use(account, region, plan["id"], key["id"], period, quota["limit"]) is None:
                return "QUOTA_EXCEEDED", "Limit Exceeded"
        return key

    def _take(self, key: tuple, rate: float, burst: int, now: float) -> bool:
        """A token bucket (burst tokens, refilled at `rate` per second of the clock): whether one is free."""
        bucket = self.buckets.get(key)
        capacity = max(float(burst), 1.0 if rate > 0 else 0.0)
        if bucket is None:
            bucket = self.buckets[key] = [capacity, now]
            if len(self.buckets) > 4096:
                self.buckets.popitem(last=False)
        tokens = min(capacity, bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            return False
        bucket[0] = tokens - 1.0
        return True

    # -- request validation ---------------------------------------------------------------------------------

    def _validate(self, call: Call) -> HttpResponse | None:
        validator_id = call.method.get("requestValidatorId")
        validator = (call.deployed.snapshot.get("validators") or {}).get(validator_id or "")
        if validator is None:
            return None
        if validator.get("validateRequestParameters"):
            missing = []
            params = call.method_params()
            for name, required in (call.method.get("requestParameters") or {}).items():
                if not required:
                    continue
                where, _, param = name.removeprefix("method.request.").partition(".")
                if where == "header":
                    present = call.header(param) is not None
                elif where in ("querystring", "multivaluequerystring"):
                    present = param in params["querystring"]
                elif where == "path":
                    present = param in params["path"]
                else:
                    present = True
                if not present:
                    missing.append(param)
            if missing:
                return self.error(
                    call,
                    "BAD_REQUEST_PARAMETERS",
                    f"Missing required request parameters: [{', '.join(missing)}]",
                )
        if validator.get("validateRequestBody"):
            problem = self._body_problem(call)
            if problem is not None:
                call.context["error"] = {"validationErrorString": problem}
                return self.error(call, "BAD_REQUEST_BODY", "Invalid request body")
        return None

    def _body_problem(self, call: Call) -> str | None:
        models = call.method.get("requestModels") or {}
        content_type = (call.header("content-type") or "application/json").split(";")[0].strip().lower()
        name = models.get(content_type) or models.get("$default")
        model = (call.deployed.snapshot.get("models") or {}).get(name or "")
        if model is None or not model.get("schema"):
            return None
        return body_problem(model["schema"], call.body)

    # -- caching -------------------------------------------------------------------------------------------

    def _cache_key(self, call: Call) -> tuple | None:
        if not call.stage.get("cacheClusterEnabled"):
            return None
        canary = call.stage.get("canarySettings") or {}
        if call.deployed.deployment_id != call.stage.get("deploymentId") and not canary.get("useStageCache"):
            return None  # the canary's requests use the stage cache only when told to
        verb = call.method["httpMethod"]
        settings = call.stage.get("methodSettings") or {}
        own = settings.get(f"{call.resource['path'].lstrip('/')}/{verb}")
        enabled = (
            own.get("cachingEnabled")
            if own
            else (verb == "GET" and (settings.get("*/*") or {}).get("cachingEnabled"))
        )
        if not enabled:
            return None
        integration = call.method.get("methodIntegration") or {}
        keys = tuple(
            self.integrations.source_value(call, name) for name in integration.get("cacheKeyParameters") or []
        )
        return (
            call.api_id,
            call.stage_name,
            verb,
            call.resource["path"],
            tuple(sorted(call.path_parameters.items())),
            keys,
        )

    # -- access logs ------------------------------------------------------------------------------------------

    def _access_log(self, call: Call, response: HttpResponse) -> None:
        settings = call.stage.get("accessLogSettings") or {}
        if not settings.get("destinationArn") or not settings.get("format"):
            return
        body = response.body if isinstance(response.body, (bytes, bytearray)) else b""
        call.context.update(
            status=response.status,
            responseLength=len(body),
            responseLatency=int((time.perf_counter() - call.started) * 1000),
        )
        try:
            line = vtl.render(
                settings["format"], body="", context=call.context, stage_variables=call.stage_variables
            )
        except vtl.TemplateFailure:
            return
        self.platform.spawn(
            cloudwatch.write_log(
                self.platform,
                settings["destinationArn"],
                f"{call.api_id}-{call.stage_name}",
                [line],
                account=call.account,
                region=call.region,
            )
        )

    def _execution_log(self, call: Call, response: HttpResponse) -> None:
        """A stage's execution log (method setting `loggingLevel` INFO, or ERROR for failed requests; request
        and response data with `dataTraceEnabled`), in AWS's log group for it."""
        if not call.method or not call.tracing:
            return
        setting = method_setting(call.stage, call.resource["path"], call.method["httpMethod"])
        level = setting.get("loggingLevel", "OFF")
        if level == "OFF" or (level == "ERROR" and response.status < 400):
            return
        rid = call.context["requestId"]
        lines = [
            f"Extended Request Id: {call.context['extendedRequestId']}",
            *cloudwatch.execution_lines(call, response, bool(setting.get("dataTraceEnabled"))),
        ]
        lines = [cloudwatch.truncated(f"({rid}) {line}") for line in lines]
        self.platform.spawn(
            cloudwatch.write_log(
                self.platform,
                cloudwatch.execution_group(call.api_id, call.stage_name),
                call.context["deploymentId"],
                lines,
                account=call.account,
                region=call.region,
                create_group=True,
            )
        )

    # -- TestInvokeMethod / TestInvokeAuthorizer -----------------------------------------------------------

    async def test_invoke(
        self, ctx, params: dict[str, Any], resource: dict[str, Any], method: dict[str, Any]
    ) -> dict[str, Any]:
        """Run one method of the API as it is now, without authorization or API keys, as the console does."""
        from overcast.http import Headers

        with self.service.db.transaction():
            api = self.service.rest_api(ctx, params["restApiId"])
            snapshot = self.service.family(DeploymentOperations).snapshot(ctx, api, strict=False)
        deployed = Deployed("test-invoke-deployment-id", snapshot, ResourceTree(snapshot["resources"]))
        path_query = params.get("pathWithQueryString") or resource["path"]
        path, _, query = path_query.partition("?")
        headers = Headers(params.get("headers") or {})
        for name, values in (params.get("multiValueHeaders") or {}).items():
            for value in values:
                headers.add(name, value)
        body = (params.get("body") or "").encode()
        request = HttpRequest(params["httpMethod"], path, query, headers, body, host="testinvoke.execute-api")
        stage = {"stageName": "test-invoke-stage", "deploymentId": deployed.deployment_id}
        call = self._call(
            request,
            ctx.account_id,
            ctx.region,
            api["id"],
            stage,
            deployed,
            path,
            params.get("stageVariables") or {},
            new_request_id(),
        )
        call.context["stage"] = "test-invoke-stage"
        call.tracing = True
        started = time.perf_counter()
        match = deployed.tree.match(path, params["httpMethod"])
        if match is None or match.method is None:
            response = self.error(call, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
        else:
            call.bind(match)
            response = self._validate(call) or await self.integrations.run(call)
        body_bytes = response.body if isinstance(response.body, (bytes, bytearray)) else b""
        single: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        for name, value in response.headers:
            single[name] = value
            multi.setdefault(name, []).append(value)
        latency = int((time.perf_counter() - started) * 1000)
        stamp = f"{datetime.fromtimestamp(self.clock.now(), UTC):%a %b %d %H:%M:%S UTC %Y} : "
        lines = cloudwatch.execution_lines(call, response, data_trace=True)
        log = f"Execution log for request {call.context['requestId']}\n" + "".join(
            f"{stamp}{line}\n" for line in lines
        )
        return {
            "status": response.status,
            "body": body_bytes.decode("utf-8", "replace"),
            "headers": single,
            "multiValueHeaders": multi,
            "log": log,
            "latency": latency,
        }

    async def test_authorizer(
        self, ctx, authorizer: dict[str, Any], params: dict[str, Any]
    ) -> dict[str, Any]:
        """Invoke a Lambda authorizer with the given headers and report what it decided."""
        from overcast.http import Headers

        headers = Headers(params.get("headers") or {})
        path, _, query = (params.get("pathWithQueryString") or "/").partition("?")
        request = HttpRequest("GET", path, query, headers, (params.get("body") or "").encode(), host="test")
        deployed = Deployed(
            "test", {"resources": [], "authorizers": {authorizer["id"]: authorizer}}, ResourceTree([])
        )
        stage = {"stageName": "test-invoke-stage", "deploymentId": "test"}
        call = self._call(
            request,
            ctx.account_id,
            ctx.region,
            params["restApiId"],
            stage,
            deployed,
            path,
            params.get("stageVariables") or {},
            new_request_id(),
        )
        call.resource = {"id": "test", "path": path}
        call.method = {"authorizerId": authorizer["id"], "httpMethod": "GET", "authorizationType": "CUSTOM"}
        started = time.perf_counter()
        if authorizer["type"] == "COGNITO_USER_POOLS":
            refused = await self.guards.cognito(call)
        else:
            refused = await self.guards.lambda_authorizer(call)
        latency = int((time.perf_counter() - started) * 1000)
        if refused is not None:
            return {"clientStatus": refused.status, "log": "", "latency": latency}
        result: dict[str, Any] = {"clientStatus": 200, "log": "", "latency": latency}
        if call.authorizer and "principalId" in call.authorizer:
            result["principalId"] = call.authorizer["principalId"]
            key = (params["restApiId"], "test-invoke-stage", authorizer["id"])
            for cached_key, (_, verdict) in self.authorizer_cache.entries.items():
                if cached_key[:3] == key:
                    result["policy"] = json.dumps({"Version": verdict.policy.version})
            result["authorization"] = {}
        if call.authorizer and "claims" in call.authorizer:
            result["claims"] = call.authorizer["claims"]
        return result


def _plain_error(status: int, message: str, error_type: str, request_id: str) -> HttpResponse:
    return HttpResponse(
        status,
        [
            ("content-type", "application/json"),
            ("x-amzn-RequestId", request_id),
            ("x-amzn-ErrorType", error_type),
            ("x-amz-apigw-id", extended_id()),
        ],
        json.dumps({"message": message}).encode(),
    )


async def fetch_jwks(cache: TtlCache, url: str, now: float) -> dict[str, Any]:
    """A JWKS document by URL (a real HTTP GET, cached for an hour of the clock)."""
    import asyncio
    import urllib.request

    found = cache.get((url,), now)
    if found is not None:
        return found

    def get() -> dict[str, Any]:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (the issuer's own URL)
            return json.loads(response.read())

    try:
        document = await asyncio.to_thread(get)
    except (OSError, ValueError) as error:
        raise jwts.InvalidToken(f"the issuer's keys could not be fetched: {error}") from None
    if not isinstance(document, dict):
        raise jwts.InvalidToken("the issuer's JWKS is not a JSON object")
    cache.put((url,), document, now + 3600)
    return document


__all__ = ["Gateway", "Call", "Deployed", "parse_target", "fetch_jwks"]
