"""HTTP APIs serving requests: stage, CORS preflight, route, authorizer (JWT, Lambda, IAM), throttling,
integration (Lambda proxy payload 1.0/2.0, HTTP proxy, AWS service actions by subtype), parameter mapping.

The invoke URL is `http://<api-id>.execute-api.localhost:<port>/<path>` for the `$default` stage and
`.../<stage>/<path>` for a named one (or `/_overcast/execute-api/<api-id>/...`). Failures answer as HTTP APIs
do: `{"message":"Not Found"}`, `{"message":"Unauthorized"}`, `{"message":"Forbidden"}`,
`{"message":"Internal Server Error"}`; every response carries `apigw-requestid`.
"""

from __future__ import annotations

import json
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import overcast.services.apigateway.api as rest
from overcast.errors import ServiceError
from overcast.http import HttpRequest, HttpResponse
from overcast.identity import Principal
from overcast.platform import new_request_id
from overcast.services.apigatewayv2.http_integrations import HttpIntegrations, Refusal

if TYPE_CHECKING:
    from overcast.services.apigatewayv2.provider import ApiGatewayV2Provider

PATH_PREFIX = "/_overcast/execute-api/"
_COGNITO_ISSUER = re.compile(r"https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com/([\w-]+_[0-9A-Za-z]+)/?")
COMPAT_PREFIX = "/_aws/execute-api/"  # the form LocalStack users know
_HOP_BY_HOP = {
    "host",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "te",
    "trailer",
    "content-length",
    "expect",
}
_SELECTION = re.compile(
    r"\$\{?(request\.(?:header|querystring|path|body)(?:\.[^\s}$]+)?|context\.[A-Za-z0-9_.]+|stageVariables\.[A-Za-z0-9_]+)\}?"
)


# The custom domain names of HTTP APIs (lower case), for the route that serves them: kept by the provider.
# Shared by the platforms of one process; each serves only the names its own store has.
DOMAINS: set[str] = set()


def is_custom_domain(request: HttpRequest) -> bool:
    return bool(DOMAINS) and request.host.rsplit(":", 1)[0].lower() in DOMAINS


def parse_target(request: HttpRequest) -> tuple[str, str] | None:
    """(api id, the path after it) of an invoke URL, or None."""
    for prefix in (PATH_PREFIX, COMPAT_PREFIX):
        if request.path.startswith(prefix):
            api_id, _, rest_path = request.path[len(prefix) :].partition("/")
            return api_id, "/" + rest_path
    if ".execute-api." in request.host:
        return request.host.split(".", 1)[0].lower(), request.path or "/"
    return None


@dataclass
class Route:
    route: dict[str, Any]
    method: str
    parts: list[str]  # the path template's segments

    def match(self, verb: str, segments: list[str]) -> dict[str, str] | None:
        if self.method not in ("ANY", verb):
            return None
        parameters: dict[str, str] = {}
        for index, part in enumerate(self.parts):
            if part.startswith("{") and part.endswith("+}"):
                if index >= len(segments):
                    return None
                parameters[part[1:-2]] = unquote("/".join(segments[index:]))
                return parameters
            if index >= len(segments):
                return None
            if part.startswith("{") and part.endswith("}"):
                parameters[part[1:-1]] = unquote(segments[index])
            elif unquote(segments[index]) != part:
                return None
        return parameters if len(segments) == len(self.parts) else None

    @property
    def rank(self) -> tuple:
        """More specific first: no greedy variable, more literal segments, more segments, an exact method."""
        greedy = any(p.endswith("+}") for p in self.parts)
        literals = sum(1 for p in self.parts if not p.startswith("{"))
        return (not greedy, literals, len(self.parts), self.method != "ANY")


@dataclass
class Deployed:
    deployment_id: str
    snapshot: dict[str, Any]
    routes: list[Route]
    default: dict[str, Any] | None

    def find(self, verb: str, path: str) -> tuple[dict[str, Any], dict[str, str]] | None:
        segments = [s for s in path.split("/") if s]
        best = None
        for route in self.routes:
            parameters = route.match(verb, segments)
            if parameters is not None and (best is None or route.rank > best[0].rank):
                best = (route, parameters)
        if best is not None:
            return best[0].route, best[1]
        return (self.default, {}) if self.default is not None else None


def compile_routes(deployment_id: str, snapshot: dict[str, Any]) -> Deployed:
    routes, default = [], None
    for route in snapshot["routes"]:
        if route["RouteKey"] == "$default":
            default = route
            continue
        method, _, path = route["RouteKey"].partition(" ")
        routes.append(Route(route, method, [p for p in path.split("/") if p]))
    return Deployed(deployment_id, snapshot, routes, default)


@dataclass
class Call:
    request: HttpRequest
    account: str
    region: str
    api: dict[str, Any]
    stage: dict[str, Any]
    deployed: Deployed
    path: str
    route: dict[str, Any] = field(default_factory=dict)
    path_parameters: dict[str, str] = field(default_factory=dict)
    authorizer: dict[str, Any] | None = None
    request_id: str = ""
    now: float = 0.0
    caller: Principal | None = None
    integration_ms: float | None = None  # how long the integration took (IntegrationLatency), once it ran

    @property
    def stage_name(self) -> str:
        return self.stage["StageName"]

    @property
    def variables(self) -> dict[str, str]:
        return self.stage.get("StageVariables") or {}

    def header_pairs(self) -> list[tuple[str, str]]:
        """The client's headers and those API Gateway adds on the way to the integration."""
        sent = self.request.headers
        host = sent.get("host") or ""
        port = host.rsplit(":", 1)[1] if ":" in host and not host.endswith("]") else "80"
        added = [
            ("x-amzn-trace-id", f"Root=1-{int(self.now):08x}-{self.request_id.replace('-', '')[:24]}"),
            ("x-forwarded-for", self.request.client_ip),
            ("x-forwarded-port", port),
            ("x-forwarded-proto", self.request.scheme),
        ]
        return self.request.header_pairs() + [(n, v) for n, v in added if n not in sent]

    def route_arn(self) -> str:
        if self.api.get("ProtocolType") == "WEBSOCKET":
            return (
                f"arn:aws:execute-api:{self.region}:{self.account}:{self.api['ApiId']}/{self.stage_name}/"
                f"{self.route.get('RouteKey', '$connect')}"
            )
        return (
            f"arn:aws:execute-api:{self.region}:{self.account}:{self.api['ApiId']}/{self.stage_name}/"
            f"{self.request.method}{self.path}"
        )

    def context(self) -> dict[str, Any]:
        """The payload format 2.0 requestContext."""
        headers = self.request.headers
        context: dict[str, Any] = {
            "accountId": self.account,
            "apiId": self.api["ApiId"],
            "domainName": self.request.host.rsplit(":", 1)[0],
            "domainPrefix": self.api["ApiId"],
            "http": {
                "method": self.request.method,
                "path": self.path,
                "protocol": "HTTP/1.1",
                "sourceIp": self.request.client_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": self.request_id,
            "routeKey": self.route.get("RouteKey", "$default"),
            "stage": self.stage_name,
            "time": datetime.fromtimestamp(self.now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(self.now * 1000),
        }
        if self.authorizer is not None:
            context["authorizer"] = self.authorizer
        return context

    def select(self, expression: str) -> str | None:
        """A selection expression's value (`$request.header.x`, `$request.body.a.b`, `$context.x`, ...)."""
        match = _SELECTION.fullmatch(expression.strip())
        if match is None:
            return expression  # a literal
        key = match.group(1)
        if key.startswith("request.header."):
            return self.request.headers.get(key[len("request.header.") :])
        if key.startswith("request.querystring."):
            return rest.proxy.split_query(self.request.query)[0].get(key[len("request.querystring.") :])
        if key.startswith("request.path."):
            return self.path_parameters.get(key[len("request.path.") :])
        if key == "request.path":
            return self.path
        if key.startswith("request.body"):
            try:
                document = json.loads(self.request.body or b"null")
            except ValueError:
                return None
            found = rest.vtl.json_path(document, "$" + key[len("request.body") :])
            return found if isinstance(found, str) or found is None else json.dumps(found)
        if key.startswith("stageVariables."):
            return self.variables.get(key[len("stageVariables.") :])
        value: Any = self.context()
        for part in key[len("context.") :].split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return None if value is None else str(value)

    def interpolate(self, text: str) -> str:
        """A mapping value mixing literals and selection expressions (`Bearer ${request.header.token}`)."""
        if _SELECTION.fullmatch(text.strip()):
            return self.select(text) or ""
        return _SELECTION.sub(lambda m: self.select("$" + m.group(1)) or "", text)


class HttpGateway:
    def __init__(self, service: ApiGatewayV2Provider) -> None:
        self.service = service
        self.platform = service.platform
        self.clock = service.clock
        self.deployments: OrderedDict[tuple, Deployed] = OrderedDict()
        self.targets: dict[
            tuple, tuple
        ] = {}  # (api id, first path segment) -> (generation, _target's answer)
        self.authorizer_cache = rest.TtlCache(4096)
        self.jwks = rest.TtlCache(64)
        self.buckets: dict[tuple, list[float]] = {}
        self.integrations = HttpIntegrations(self)

    def forget(self) -> None:
        self.deployments.clear()
        self.targets.clear()
        self.authorizer_cache.clear()
        self.jwks.clear()
        self.buckets.clear()
        self.integrations.forget()

    def deployed(self, account: str, region: str, api_id: str, deployment_id: str) -> Deployed | None:
        key = (account, region, api_id, deployment_id)
        found = self.deployments.get(key)
        if found is None:
            record = self.service.store.get(account, region, "deployment", api_id, deployment_id)
            if record is None:
                return None
            found = compile_routes(deployment_id, record["snapshot"])
            self.deployments[key] = found
            if len(self.deployments) > 128:
                self.deployments.popitem(last=False)
        return found

    def resolve_stage(
        self, account: str, region: str, api_id: str, path: str
    ) -> tuple[dict[str, Any], str] | None:
        """The stage a path names (its first segment) or `$default`, and the path within it."""
        store = self.service.store
        first, _, remainder = path.lstrip("/").partition("/")
        if first and first != "$default":
            stage = store.get(account, region, "stage", api_id, unquote(first))
            if stage is not None:
                return stage, "/" + remainder
        stage = store.get(account, region, "stage", api_id, "$default")
        return (stage, path) if stage is not None else None

    # -- serving ---------------------------------------------------------------------------------------

    def _target(self, api_id: str, path: str) -> tuple | None:
        """(account, region, API, (stage, path within it) or None, deployment or None), None when no API has
        this id; read from the store once per change of its documents."""
        store = self.service.store
        first = path.lstrip("/").partition("/")[0]
        key = (api_id, first)
        cached = self.targets.get(key)
        if cached is not None and cached[0] == store.generation:
            found = cached[1]
            if found is None or found[3] is None:
                return found
            stage, _ = found[3]
            inner = path if stage["StageName"] == "$default" else "/" + path.lstrip("/").partition("/")[2]
            return (*found[:3], (stage, inner), found[4])
        generation = store.generation
        with self.service.db.transaction():
            owner = store.owner("api", api_id)
            if owner is None:
                found = None
            else:
                account, region = owner
                api = store.get(account, region, "api", "", api_id)
                resolved = (
                    self.resolve_stage(account, region, api_id, path)
                    if api["ProtocolType"] == "HTTP"
                    else None
                )
                deployed = None
                if resolved is not None and resolved[0].get("DeploymentId"):
                    deployed = self.deployed(account, region, api_id, resolved[0]["DeploymentId"])
                found = (account, region, api, resolved, deployed)
        if len(self.targets) > 1024:
            self.targets.clear()
        self.targets[key] = (generation, found)
        return found

    async def serve(self, request: HttpRequest) -> HttpResponse | None:
        target = parse_target(request)
        if target is None:
            return None
        api_id, path = target
        found = self._target(api_id, path)
        if found is None:
            return None
        return await self._serve_found(request, *found)

    async def serve_domain(self, request: HttpRequest) -> HttpResponse | None:
        """A request to a custom domain name: its API mapping (the longest key that starts the path, else the
        empty key) names the API and stage."""
        domain = request.host.rsplit(":", 1)[0].lower()
        store = self.service.store
        with self.service.db.transaction():
            owner = store.owner("domain", domain)
            if owner is None:
                return None
            segments = [s for s in request.path.split("/") if s]
            best = None
            for mapping in store.list(*owner, "apimapping", domain):
                key = [k for k in (mapping.get("ApiMappingKey") or "").split("/") if k]
                if segments[: len(key)] == key and (best is None or len(key) > len(best[1])):
                    best = (mapping, key)
            if best is None:
                return None
            mapping, key = best
            account, region = owner
            api = store.get(account, region, "api", "", mapping["ApiId"])
            stage = store.get(account, region, "stage", mapping["ApiId"], mapping["Stage"])
            if api is None or stage is None:
                return None
            deployed = (
                self.deployed(account, region, api["ApiId"], stage["DeploymentId"])
                if stage.get("DeploymentId")
                else None
            )
        inner = "/" + "/".join(segments[len(key) :])
        return await self._serve_found(request, account, region, api, (stage, inner), deployed)

    async def _serve_found(self, request, account, region, api, resolved, deployed) -> HttpResponse:
        started = time.perf_counter()
        request_id = new_request_id()
        headers = [("apigw-requestid", rest.extended_id())]
        if api["ProtocolType"] != "HTTP":
            return _message(426 if request.method == "GET" else 403, "Forbidden", headers)
        if resolved is None or deployed is None or api.get("DisableExecuteApiEndpoint"):
            return _message(404, "Not Found", headers)
        if len(request.body or b"") > 10 * 1024 * 1024:  # API Gateway's payload limit
            return _message(413, "Request Entity Too Large", headers)
        stage, inner = resolved
        call = Call(
            request,
            account,
            region,
            deployed.snapshot["api"],
            stage,
            deployed,
            inner,
            request_id=request_id,
            now=self.clock.now(),
        )
        cors = deployed.snapshot["api"].get("CorsConfiguration")
        if cors and request.method == "OPTIONS" and "access-control-request-method" in request.headers:
            response = HttpResponse(204, _cors_headers(cors, request, preflight=True))
        else:
            try:
                response = await self._run(call)
            except Refusal as refusal:
                response = _message(refusal.status, refusal.message, refusal.headers)
            if cors:
                response.headers.extend(_cors_headers(cors, request, preflight=False))
        response.headers.extend(headers)
        self._access_log(call, response, headers[0][1])
        body = response.body if isinstance(response.body, (bytes, bytearray)) else b""
        rest.metrics.count_request(
            self.service.metrics,
            account,
            region,
            call.api["ApiId"],
            call.stage_name,
            call.now,
            response.status,
            (time.perf_counter() - started) * 1000,
            call.integration_ms,
            rest.metrics.HTTP_ERRORS,
            processed=len(request.body or b"") + len(body),
        )
        return response

    def _access_log(self, call: Call, response: HttpResponse, extended_id: str) -> None:
        """A stage's access log line (`AccessLogSettings`: a log group ARN and a `$context` format)."""
        settings = call.stage.get("AccessLogSettings") or {}
        if not settings.get("DestinationArn") or not settings.get("Format"):
            return
        context = call.context()
        body = response.body if isinstance(response.body, (bytes, bytearray)) else b""
        context.update(
            extendedRequestId=extended_id,
            httpMethod=call.request.method,
            path=call.request.path,
            protocol="HTTP/1.1",
            status=response.status,
            responseLength=len(body),
            requestTime=context["time"],
            requestTimeEpoch=context["timeEpoch"],
            identity={
                "sourceIp": call.request.client_ip,
                "userAgent": call.request.headers.get("user-agent", ""),
            },
        )
        try:
            line = rest.vtl.render(
                settings["Format"], body="", context=context, stage_variables=call.variables
            )
        except rest.vtl.TemplateFailure:
            return
        stream = f"{call.api['ApiId']}-{call.stage_name}".replace("$", "")
        self.platform.spawn(
            rest.write_log(
                self.platform,
                settings["DestinationArn"],
                stream,
                [line],
                account=call.account,
                region=call.region,
            )
        )

    async def _run(self, call: Call) -> HttpResponse:
        found = call.deployed.find(call.request.method, call.path)
        if found is None:
            raise Refusal(404, "Not Found")
        call.route, call.path_parameters = found
        await self.authorize(call)
        self.throttle(call)
        integration = call.deployed.snapshot["integrations"].get(
            (call.route.get("Target") or "").removeprefix("integrations/")
        )
        if integration is None:
            raise Refusal(500, "Internal Server Error")
        kind = integration["IntegrationType"]
        started = time.perf_counter()
        try:
            if kind == "AWS_PROXY" and integration.get("IntegrationSubtype"):
                response = await self.integrations.aws_action(call, integration)
            elif kind == "AWS_PROXY":
                response = await self.integrations.lambda_proxy(call, integration)
            else:
                response = await self.integrations.http_proxy(call, integration)
        finally:  # a failed integration took its time too
            call.integration_ms = (time.perf_counter() - started) * 1000
        return self.integrations.map_response(call, integration, response)

    # -- authorization ---------------------------------------------------------------------------------

    async def authorize(self, call: Call) -> None:
        kind = call.route.get("AuthorizationType", "NONE")
        if kind == "NONE":
            return
        if kind == "AWS_IAM":
            self._iam(call)
            return
        authorizer = call.deployed.snapshot["authorizers"].get(call.route.get("AuthorizerId") or "")
        if authorizer is None:
            raise Refusal(500, "Internal Server Error")
        if authorizer["AuthorizerType"] == "JWT":
            await self._jwt(call, authorizer)
        else:
            await self._lambda_authorizer(call, authorizer)

    def _iam(self, call: Call) -> None:
        try:
            principal = self.platform.authenticate(call.request)
        except ServiceError:
            raise Refusal(403, "Forbidden") from None
        if principal is None:
            raise Refusal(403, "Forbidden")
        decided = self.platform.authorizer.decide_action(  # type: ignore[union-attr]
            principal,
            "execute-api:Invoke",
            call.route_arn(),
            region=call.region,
            source_ip=call.request.client_ip,
        )
        if decided is not None and not decided[1].allowed:
            raise Refusal(403, "Forbidden")
        call.caller = principal
        call.authorizer = {
            "iam": {
                "accessKey": None,
                "accountId": principal.account_id,
                "callerId": principal.user_id,
                "principalOrgId": None,
                "userArn": principal.arn,
                "userId": principal.user_id,
            }
        }

    async def _jwt(self, call: Call, authorizer: dict[str, Any]) -> None:
        config = authorizer.get("JwtConfiguration") or {}
        sources = [call.select(s) for s in authorizer.get("IdentitySource") or []]
        if not sources or not sources[0]:
            raise Refusal(401, "Unauthorized")
        try:
            token = rest.jwt.parse(sources[0])
            issuer = _pool_issuer(config.get("Issuer", ""), token.claims.get("iss"))
            rest.jwt.verify_signature(token, await self._jwks(issuer))
            rest.jwt.check_claims(
                token, self.clock.now(), issuer=issuer, audiences=config.get("Audience") or None
            )
        except rest.jwt.InvalidToken as error:
            headers = [
                ("www-authenticate", f'Bearer scope="" error="invalid_token" error_description="{error}"')
            ]
            raise Refusal(401, "Unauthorized", headers) from None
        required = call.route.get("AuthorizationScopes") or []
        scope = token.claims.get("scope", token.claims.get("scp", ""))
        granted = scope.split() if isinstance(scope, str) else list(scope or [])
        if required and not set(required) & set(granted):
            headers = [
                ("www-authenticate", 'Bearer scope="' + " ".join(required) + '" error="insufficient_scope"')
            ]
            raise Refusal(403, "Forbidden", headers)
        claims = {
            k: v if isinstance(v, str) else json.dumps(v) if isinstance(v, (list, dict)) else str(v)
            for k, v in token.claims.items()
        }
        call.authorizer = {"jwt": {"claims": claims, "scopes": granted or None}}

    async def _jwks(self, issuer: str) -> dict[str, Any]:
        """The issuer's keys, by OpenID discovery (`jwks_uri`), else `<issuer>/.well-known/jwks.json`."""
        base = issuer.rstrip("/")
        now = self.clock.now()
        try:
            discovery = await rest.fetch_jwks(self.jwks, base + "/.well-known/openid-configuration", now)
            url = discovery.get("jwks_uri")
        except rest.jwt.InvalidToken:
            url = None
        return await rest.fetch_jwks(self.jwks, url or base + "/.well-known/jwks.json", now)

    async def _lambda_authorizer(self, call: Call, authorizer: dict[str, Any]) -> None:
        sources = authorizer.get("IdentitySource") or []
        # WebSocket APIs name sources `route.request.header.x`; HTTP APIs `$request.header.x`
        values = [
            call.select("$" + s[len("route.") :] if s.startswith("route.request.") else s) for s in sources
        ]
        if any(not v for v in values):
            raise Refusal(401, "Unauthorized")
        ttl = authorizer.get("AuthorizerResultTtlInSeconds", 0) if values else 0
        key = (call.api["ApiId"], call.stage_name, authorizer["AuthorizerId"], *values)
        cached = self.authorizer_cache.get(key, self.clock.now()) if ttl else None
        if cached is None:
            event = self._authorizer_event(call, authorizer, values)
            function_arn = rest.lambda_arn(
                rest.with_stage_variables(authorizer.get("AuthorizerUri", ""), call.variables)
            )
            if function_arn is None:
                raise Refusal(500, "Internal Server Error")
            payload, failed = await self.integrations.invoke(
                call, function_arn, json.dumps(event).encode(), authorizer.get("AuthorizerCredentialsArn")
            )
            if failed:
                raise Refusal(500, "Internal Server Error")
            cached = self._verdict(authorizer, payload, call.route_arn())
            if ttl:
                self.authorizer_cache.put(key, cached, self.clock.now() + ttl)
        allowed, context, usage_key = cached
        if not allowed:
            raise Refusal(403, "Forbidden")
        call.authorizer = {"lambda": context}
        if usage_key is not None and call.api.get("ProtocolType") == "WEBSOCKET":  # for its API keys
            call.authorizer["usageIdentifierKey"] = usage_key

    def _verdict(
        self, authorizer: dict[str, Any], payload: bytes, route_arn: str
    ) -> tuple[bool, dict[str, Any], str | None]:
        """(allowed, context, usageIdentifierKey) of a Lambda authorizer's answer."""
        if authorizer.get("EnableSimpleResponses"):
            try:
                answer = json.loads(payload)
            except ValueError:
                raise Refusal(500, "Internal Server Error") from None
            if not isinstance(answer, dict) or not isinstance(answer.get("isAuthorized"), bool):
                raise Refusal(500, "Internal Server Error")
            return answer["isAuthorized"], answer.get("context") or {}, None
        try:
            verdict = rest.read_verdict(payload)
        except rest.AuthorizerError:
            raise Refusal(500, "Internal Server Error") from None
        allowed, _ = rest.allows(verdict.policy, route_arn)
        return allowed, {"principalId": verdict.principal_id, **verdict.context}, verdict.usage_key

    def _authorizer_event(self, call: Call, authorizer: dict[str, Any], values: list[str]) -> dict[str, Any]:
        if (
            authorizer.get("AuthorizerPayloadFormatVersion") == "1.0"
            or call.api.get("ProtocolType") == "WEBSOCKET"
        ):
            event = self.integrations.event_v1(call)
            return {
                "version": "1.0",
                "type": "REQUEST",
                "methodArn": call.route_arn(),
                "identitySource": ",".join(values),
                **{k: v for k, v in event.items() if k != "body"},
            }
        event = self.integrations.event_v2(call)
        return {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": call.route_arn(),
            "identitySource": values,
            **{k: v for k, v in event.items() if k not in ("version", "body", "isBase64Encoded")},
        }

    def throttle(self, call: Call) -> None:
        """429 past the stage's route throttle (`DefaultRouteSettings`, `RouteSettings` by route key): a token
        bucket on the virtual clock."""
        settings = dict(call.stage.get("DefaultRouteSettings") or {})
        settings.update((call.stage.get("RouteSettings") or {}).get(call.route.get("RouteKey", ""), {}))
        rate, burst = settings.get("ThrottlingRateLimit"), settings.get("ThrottlingBurstLimit")
        if rate is None and burst is None:
            return
        key = (call.api["ApiId"], call.stage_name, call.route.get("RouteKey"))
        now = self.clock.now()
        capacity = float(burst if burst is not None else 5000)
        bucket = self.buckets.setdefault(key, [capacity, now])
        tokens = min(capacity, bucket[0] + (now - bucket[1]) * float(rate if rate is not None else 10000))
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            raise Refusal(429, "Too Many Requests")
        bucket[0] = tokens - 1.0


def _pool_issuer(configured: str, claimed: Any) -> str:
    """The issuer a JWT authorizer checks: the configured one, except that a Cognito user pool's AWS issuer
    (`https://cognito-idp.<region>.amazonaws.com/<pool id>`, as CDK's HttpUserPoolAuthorizer sets it)
    stands for that pool wherever it is served, so a token of the pool issued by Overcast
    (`http://localhost:4566/<pool id>`) is checked against, and keyed by, the issuer it names."""
    found = _COGNITO_ISSUER.fullmatch(configured.strip())
    if found and isinstance(claimed, str) and claimed.rstrip("/").endswith("/" + found.group(1)):
        return claimed.rstrip("/")
    return configured


def _message(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    return HttpResponse(
        status,
        [("content-type", "application/json"), *(headers or [])],
        json.dumps({"message": message}).encode(),
    )


def _cors_headers(cors: dict[str, Any], request: HttpRequest, preflight: bool) -> list[tuple[str, str]]:
    origin = request.headers.get("origin")
    origins = cors.get("AllowOrigins") or []
    if not origin or ("*" not in origins and origin not in origins):
        return []
    headers = [
        (
            "access-control-allow-origin",
            "*" if "*" in origins and not cors.get("AllowCredentials") else origin,
        )
    ]
    if cors.get("AllowCredentials"):
        headers.append(("access-control-allow-credentials", "true"))
    if preflight:
        if cors.get("AllowMethods"):
            headers.append(("access-control-allow-methods", ",".join(cors["AllowMethods"])))
        if cors.get("AllowHeaders"):
            headers.append(("access-control-allow-headers", ",".join(cors["AllowHeaders"])))
        if cors.get("MaxAge") is not None:
            headers.append(("access-control-max-age", str(cors["MaxAge"])))
    elif cors.get("ExposeHeaders"):
        headers.append(("access-control-expose-headers", ",".join(cors["ExposeHeaders"])))
    return headers


__all__ = ["HttpGateway", "parse_target"]
