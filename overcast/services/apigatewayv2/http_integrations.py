"""An HTTP API route's integration: the Lambda proxy (payload formats 1.0 and 2.0), an AWS service action
(IntegrationSubtype), or a real HTTP call (HTTP_PROXY) with parameter mapping; then the response mapping."""

from __future__ import annotations

import asyncio
import http.client
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

import overcast.services.apigateway.api as rest
import overcast.services.sts.api as sts
from overcast.errors import ServiceError
from overcast.http import HttpResponse
from overcast.identity import Principal, service_principal
from overcast.services.apigatewayv2.integrations import SUBTYPES

if TYPE_CHECKING:
    from overcast.services.apigatewayv2.http_gateway import Call, HttpGateway

_HOP_BY_HOP = {
    "host", "connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer", "content-length", "expect",
}  # fmt: skip


class Refusal(Exception):
    """A request refused the way HTTP APIs answer: `{"message": ...}` with a status (and headers)."""

    def __init__(self, status: int, message: str, headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or []


class HttpIntegrations:
    def __init__(self, gateway: HttpGateway) -> None:
        self.gateway = gateway
        self.platform = gateway.platform
        self.clock = gateway.clock
        self._roles: dict[tuple, Principal] = {}

    def forget(self) -> None:
        self._roles.clear()

    def event_v2(self, call: Call) -> dict[str, Any]:
        return rest.proxy.event_v2(
            route_key=call.route.get("RouteKey", "$default"),
            raw_path=call.path,
            raw_query=call.request.query,
            headers=call.header_pairs(),
            path_parameters=call.path_parameters,
            stage_variables=call.variables,
            request_context=call.context(),
            body=call.request.body or b"",
        )

    def event_v1(self, call: Call) -> dict[str, Any]:
        context = call.context()
        legacy = {
            "accountId": call.account,
            "apiId": call.api["ApiId"],
            "domainName": context["domainName"],
            "domainPrefix": context["domainPrefix"],
            "extendedRequestId": call.request_id,
            "httpMethod": call.request.method,
            "identity": {
                "sourceIp": call.request.client_ip,
                "userAgent": context["http"]["userAgent"],
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "user": None,
                "userArn": None,
            },
            "path": call.request.path,
            "protocol": "HTTP/1.1",
            "requestId": call.request_id,
            "requestTime": context["time"],
            "requestTimeEpoch": context["timeEpoch"],
            "resourceId": call.route.get("RouteKey", "$default"),
            "resourcePath": call.route.get("RouteKey", "$default").partition(" ")[2] or "$default",
            "stage": call.stage_name,
        }
        if call.authorizer is not None:
            legacy["authorizer"] = call.authorizer
        event = rest.proxy.event_v1(
            resource=legacy["resourcePath"],
            path=call.path,
            method=call.request.method,
            headers=call.header_pairs(),
            query=call.request.query,
            path_parameters=call.path_parameters,
            stage_variables=call.variables,
            request_context=legacy,
            body=call.request.body or b"",
            binary=not rest.proxy.is_text(call.request.headers.get("content-type"))
            and bool(call.request.body),
        )
        return {"version": "1.0", **event}

    async def invoke(
        self, call: Call, function_arn: str, payload: bytes, role: str | None
    ) -> tuple[bytes, str | None]:
        from overcast.services.kit.arns import parse_arn

        arn = parse_arn(function_arn)
        if arn is None:
            raise Refusal(500, "Internal Server Error")
        principal = (
            await self.principal_for(call, role)
            if role
            else service_principal("apigateway.amazonaws.com", call.account)
        )
        source_arn = f"arn:aws:execute-api:{call.region}:{call.account}:{call.api['ApiId']}/{call.stage_name}/{call.route.get('RouteKey', '$default').replace(' ', '')}"
        try:
            result = await asyncio.wait_for(
                self.platform.call(
                    "lambda",
                    "Invoke",
                    {"FunctionName": function_arn, "Payload": payload},
                    principal=principal,
                    account_id=arn.account or call.account,
                    region=arn.region or call.region,
                    condition_keys={"aws:SourceArn": source_arn, "aws:SourceAccount": call.account},
                ),
                timeout=30,
            )
        except TimeoutError:
            raise Refusal(503, "Service Unavailable") from None
        except ServiceError:
            raise Refusal(500, "Internal Server Error") from None
        return bytes(result.get("Payload") or b""), result.get("FunctionError")

    async def principal_for(self, call: Call, role: str) -> Principal:
        key = (call.account, role, int(self.clock.now() // 3000))
        found = self._roles.get(key)
        if found is None:
            try:
                with self.platform.db.transaction():
                    credentials = sts.credentials_for_role(
                        self.platform,
                        role,
                        "apigateway.amazonaws.com",
                        "apigw-session",
                        source_account=call.account,
                    )
                credential = self.platform.credentials.lookup(credentials["AccessKeyId"])
                found = credential.principal if credential else None
            except ServiceError:
                found = None
            if found is None:
                if self.platform.config.iam == "enforce":
                    raise Refusal(500, "Internal Server Error")
                found = service_principal("apigateway.amazonaws.com", call.account)
            if len(self._roles) > 1000:
                self._roles.clear()
            self._roles[key] = found
        return found

    async def lambda_proxy(self, call: Call, integration: dict[str, Any]) -> HttpResponse:
        function_arn = rest.lambda_arn(
            rest.with_stage_variables(integration.get("IntegrationUri", ""), call.variables)
        )
        if function_arn is None and integration.get("IntegrationUri", "").startswith("arn:aws:lambda:"):
            function_arn = integration["IntegrationUri"]
        if function_arn is None:
            raise Refusal(500, "Internal Server Error")
        version = integration.get("PayloadFormatVersion", "2.0")
        event = self.event_v2(call) if version == "2.0" else self.event_v1(call)
        payload, failed = await self.invoke(
            call, function_arn, json.dumps(event).encode(), integration.get("CredentialsArn")
        )
        if failed:
            raise Refusal(500, "Internal Server Error")
        try:
            answer = (
                rest.proxy.response_v2(payload) if version == "2.0" else rest.proxy.response_v1(payload, True)
            )
        except rest.proxy.MalformedResponse:
            raise Refusal(500, "Internal Server Error") from None
        if version == "1.0" and not any(k.lower() == "content-type" for k, _ in answer.headers):
            answer.headers.append(("content-type", "application/json"))
        return HttpResponse(answer.status, answer.headers, answer.body)

    async def aws_action(self, call: Call, integration: dict[str, Any]) -> HttpResponse:
        """An AWS service integration (IntegrationSubtype): its RequestParameters name the action's input."""
        from overcast.protocol import serialize_error, serialize_response
        from overcast.protocol.models import get_operation_model, get_service_model

        service, operation = SUBTYPES[integration["IntegrationSubtype"]]
        params: dict[str, Any] = {}
        for name, expression in (integration.get("RequestParameters") or {}).items():
            value = call.interpolate(expression)
            if value is not None and name != "Region":
                params[name] = value
        params = _action_input(service, operation, params)
        region = (integration.get("RequestParameters") or {}).get("Region") or call.region
        principal = await self.principal_for(call, integration["CredentialsArn"])
        model = get_operation_model(service, operation)
        try:
            result = await self.platform.call(
                service, operation, params, principal=principal, account_id=call.account, region=region
            )
            protocol = (
                "json"
                if "json" in get_service_model(service).protocol
                else get_service_model(service).protocol
            )
            answer = serialize_response(
                protocol if protocol != "query" else "json", model, result, call.request_id
            )
        except ServiceError as error:
            if error.status >= 500 or error.code == "NotImplemented":
                raise Refusal(500, "Internal Server Error") from None
            answer = serialize_error("json", get_service_model(service), model, error, call.request_id)
        body = answer.body if isinstance(answer.body, (bytes, bytearray)) else b""
        return HttpResponse(answer.status, [("content-type", "application/json")], bytes(body))

    async def http_proxy(self, call: Call, integration: dict[str, Any]) -> HttpResponse:
        uri = rest.with_stage_variables(integration.get("IntegrationUri", ""), call.variables)
        for name, value in call.path_parameters.items():
            uri = uri.replace("{" + name + "}", quote(value, safe="/" if name == "proxy" else ""))
        method = integration.get("IntegrationMethod", "ANY")
        method = call.request.method if method == "ANY" else method
        headers = [(k, v) for k, v in call.header_pairs() if k.lower() not in _HOP_BY_HOP]
        query = call.request.query
        parts = urlsplit(uri)
        path = parts.path or "/"
        if not integration.get("RequestParameters") and uri.rstrip("/") == f"{parts.scheme}://{parts.netloc}":
            path = call.path  # a bare endpoint: the request's path passes through
        for target, expression in (integration.get("RequestParameters") or {}).items():
            action, _, where = target.partition(":")
            value = call.interpolate(expression)
            if where == "path":
                path = value or path
                continue
            kind, _, name = where.partition(".")
            if kind == "header":
                if action in ("overwrite", "remove"):
                    headers = [(k, v) for k, v in headers if k.lower() != name.lower()]
                if action in ("overwrite", "append") and value is not None:
                    headers.append((name, value))
            elif kind == "querystring":
                pairs = [p for p in query.split("&") if p]
                if action in ("overwrite", "remove"):
                    pairs = [p for p in pairs if p.partition("=")[0] != name]
                if action in ("overwrite", "append") and value is not None:
                    pairs.append(urlencode({name: value}))
                query = "&".join(pairs)
        target_uri = f"{parts.scheme}://{parts.netloc}{path}"
        if parts.query:
            query = "&".join(q for q in (parts.query, query) if q)
        timeout = (integration.get("TimeoutInMillis") or 30000) / 1000
        try:
            status, response_headers, data = await asyncio.wait_for(
                asyncio.to_thread(
                    http_call, method, target_uri, query, headers, call.request.body or b"", timeout
                ),
                timeout=timeout + 1,
            )
        except TimeoutError:
            raise Refusal(503, "Service Unavailable") from None
        except (OSError, http.client.HTTPException, ValueError):
            raise Refusal(500, "Internal Server Error") from None
        kept = [(k, v) for k, v in response_headers if k.lower() not in _HOP_BY_HOP and k.lower() != "date"]
        return HttpResponse(status, kept, data)

    def map_response(self, call: Call, integration: dict[str, Any], response: HttpResponse) -> HttpResponse:
        """ResponseParameters: per status code, overwrite the status, append/overwrite/remove headers."""
        mapping = (integration.get("ResponseParameters") or {}).get(str(response.status))
        if not mapping:
            return response
        backend = {k.lower(): v for k, v in response.headers}
        for target, expression in mapping.items():
            action, _, where = target.partition(":")
            if expression.startswith("$response.header."):
                value = backend.get(expression[len("$response.header.") :].lower())
            elif expression.startswith("$response.body"):
                try:
                    found = rest.vtl.json_path(
                        json.loads(response.body or b"null"), "$" + expression[len("$response.body") :]
                    )
                except ValueError:
                    found = None
                value = found if isinstance(found, str) or found is None else json.dumps(found)
            else:
                value = call.interpolate(expression)
            if where == "statuscode" and value and value.isdigit():
                response.status = int(value)
            elif where.startswith("header."):
                name = where[len("header.") :]
                if action in ("overwrite", "remove"):
                    response.headers = [(k, v) for k, v in response.headers if k.lower() != name.lower()]
                if action in ("overwrite", "append") and value is not None:
                    response.headers.append((name, value))
        return response


def _action_input(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The flat RequestParameters of an AWS service integration as the operation's input."""
    if (service, operation) == ("events", "PutEvents"):
        entry = {
            k: v
            for k, v in params.items()
            if k in ("Detail", "DetailType", "Source", "EventBusName", "TraceHeader")
        }
        if params.get("Resources"):
            entry["Resources"] = [r.strip() for r in str(params["Resources"]).split(",")]
        return {"Entries": [entry]}
    if service == "kinesis" and "Data" in params:
        params = {
            **params,
            "Data": params["Data"].encode() if isinstance(params["Data"], str) else params["Data"],
        }
    if service == "sqs" and "DelaySeconds" in params:
        params = {**params, "DelaySeconds": int(params["DelaySeconds"])}
    return params


def http_call(method: str, uri: str, query: str, headers: list[tuple[str, str]], body: bytes, timeout: float):
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an HTTP endpoint: {uri}")
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{query}" if query else "")
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        if body or method in ("POST", "PUT", "PATCH"):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()
