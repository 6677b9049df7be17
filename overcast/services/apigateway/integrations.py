"""A REST API method's integration: MOCK, AWS_PROXY (the Lambda proxy contract), AWS (a Lambda function
with mapping templates, or any AWS action through the service's own wire protocol), HTTP and HTTP_PROXY
(a real call to the backend).

AWS actions are sent as API Gateway sends them: the mapped request (template body, mapped headers and
query) is the service's wire request, routed and parsed by Overcast's protocol layer like a client's, and
called through `Platform.call` as the integration's role; the service's wire response is what the
integration responses map.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import re
import ssl
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

import overcast.services.sts.api as sts
from overcast.errors import ServiceError
from overcast.http import Headers, HttpRequest, HttpResponse
from overcast.identity import Principal, service_principal
from overcast.services.apigateway import proxy, vtl
from overcast.services.apigateway.cloudwatch import java_map

if TYPE_CHECKING:
    from overcast.platform import Platform
    from overcast.services.apigateway.gateway import Call, Gateway

_HOP_BY_HOP = {
    "host",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "proxy-connection",
    "te",
    "trailer",
    "content-length",
    "expect",
}
_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")
_ROLE_EPOCH = 3000  # virtual seconds a role session is reused for


class Failure(Exception):
    """The integration failed the way AWS reports as a gateway response (kind, message)."""

    def __init__(self, kind: str, message: str | None, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status


def internal_error() -> Failure:
    return Failure("API_CONFIGURATION_ERROR", "Internal server error", 500)


def with_stage_variables(text: str, variables: dict[str, str]) -> str:
    return _STAGE_VARIABLE.sub(lambda m: variables.get(m.group(1), ""), text)


def lambda_arn(uri: str) -> str | None:
    """The function ARN of a Lambda integration URI (`...:lambda:path/2015-03-31/functions/<arn>/invocations`)."""
    marker = "/functions/"
    if ":lambda:path/" not in uri or marker not in uri:
        return None
    return uri.split(marker, 1)[1].removesuffix("/invocations")


class Integrations:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.platform = gateway.platform
        self.clock = gateway.clock
        self._roles: dict[tuple, Principal] = {}

    def forget(self) -> None:
        self._roles.clear()

    async def run(self, call: Call) -> HttpResponse:
        integration = call.method.get("methodIntegration") or {}
        kind = integration.get("type")
        try:
            if kind == "MOCK":
                return self._mock(call, integration)
            if kind == "AWS_PROXY":
                return await self._lambda_proxy(call, integration)
            if kind == "AWS":
                return await self._aws(call, integration)
            if kind in ("HTTP", "HTTP_PROXY"):
                return await self._http(call, integration, proxy_mode=kind == "HTTP_PROXY")
        except Failure as failure:
            return self.gateway.error(call, failure.kind, failure.message, failure.status)
        return self.gateway.error(call, "API_CONFIGURATION_ERROR", "Internal server error", 500)

    # -- request side ---------------------------------------------------------------------------------

    def source_value(self, call: Call, expression: str) -> str | None:
        """The value of a mapping source: `'literal'`, `method.request.<where>.<name>`, `method.request.body`
        (with an optional JSONPath), `stageVariables.<name>` or `context.<path>`."""
        if expression.startswith("'") and expression.endswith("'") and len(expression) >= 2:
            return expression[1:-1]
        if expression.startswith("method.request.body"):
            text = call.body.decode("utf-8", "replace")
            rest = expression[len("method.request.body") :]
            if not rest:
                return text
            try:
                found = vtl.json_path(json.loads(text or "null"), "$" + rest)
            except ValueError:
                return None
            return found if isinstance(found, str) or found is None else json.dumps(found)
        if expression.startswith("method.request."):
            where, _, name = expression[len("method.request.") :].partition(".")
            params = call.method_params()
            if where == "header":
                return call.header(name)
            if where == "multivalueheader":
                values = call.headers_named(name)
                return ",".join(values) if values else None
            if where == "multivaluequerystring":
                values = call.multi_query.get(name)
                return ",".join(values) if values else None
            return params.get(where, {}).get(name)
        if expression.startswith("stageVariables."):
            return call.stage_variables.get(expression[len("stageVariables.") :])
        if expression.startswith("context."):
            value: Any = call.context
            for part in expression[len("context.") :].split("."):
                value = value.get(part) if isinstance(value, dict) else None
            return None if value is None else str(value)
        return None

    def mapped_request(self, call: Call, integration: dict[str, Any]) -> dict[str, dict[str, str]]:
        """integration.request.{header,querystring,path}.<name> from the method request's values, then what
        the request template set in `$context.requestOverride` (it wins)."""
        mapped: dict[str, dict[str, str]] = {"header": {}, "querystring": {}, "path": {}}
        for target, source in (integration.get("requestParameters") or {}).items():
            where, _, name = target.removeprefix("integration.request.").partition(".")
            value = self.source_value(call, source)
            if where in mapped and value is not None:
                mapped[where][name] = value
        for where, values in (call.context.get("requestOverride") or {}).items():
            if where in mapped and isinstance(values, dict):
                mapped[where].update({str(k): str(v) for k, v in values.items() if v is not None})
        return mapped

    def request_body(self, call: Call, integration: dict[str, Any]) -> bytes:
        """The integration request's body: the mapping template for the request's content type, or the
        method request's body passed through, as the passthrough behavior allows."""
        templates = integration.get("requestTemplates") or {}
        content_type = (call.header("content-type") or "application/json").split(";")[0].strip().lower()
        template = next((t for ct, t in templates.items() if ct.lower() == content_type), None)
        binary = proxy.is_binary(content_type, call.deployed.binary_media_types)
        body = convert(call.body, integration.get("contentHandling"), binary=binary)
        if template is None:
            behavior = integration.get("passthroughBehavior", "WHEN_NO_MATCH")
            if behavior == "NEVER" or (behavior == "WHEN_NO_TEMPLATES" and templates):
                raise Failure("UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type", 415)
            return body
        if not template:
            return body
        call.context["requestOverride"] = {"header": {}, "querystring": {}, "path": {}}
        try:
            return self._render(call, template, body.decode("utf-8", "replace")).encode()
        except vtl.TemplateFailure:
            raise internal_error() from None

    def _render(self, call: Call, template: str, body: str) -> str:
        if "$" not in template and "#" not in template:
            return template  # constant: no need to gather what a template could read
        return vtl.render(
            template,
            body=body,
            params=call.method_params(),
            context=call.context,
            stage_variables=call.stage_variables,
        )

    # -- MOCK -----------------------------------------------------------------------------------------

    def _mock(self, call: Call, integration: dict[str, Any]) -> HttpResponse:
        rendered = self.request_body(call, integration).decode("utf-8", "replace").strip()
        status = 200
        if rendered:
            try:
                document = json.loads(rendered)
                status = int(document.get("statusCode", 200)) if isinstance(document, dict) else 200
            except (ValueError, TypeError):
                raise internal_error() from None
        return self.map_response(call, integration, str(status), b"", {}, selector=str(status))

    # -- Lambda ---------------------------------------------------------------------------------------

    async def invoke_function(
        self,
        call: Call,
        function_arn: str,
        payload: bytes,
        role: str | None = None,
        invocation_type: str = "RequestResponse",
    ) -> tuple[bytes, str | None]:
        """(payload, function error) of an invocation as API Gateway makes it: synchronous, or `Event` (queued,
        nothing to answer) when the integration maps the `X-Amz-Invocation-Type` header so."""
        from overcast.services.kit.arns import parse_arn

        arn = parse_arn(function_arn)
        if arn is None:
            raise internal_error()
        principal = (
            await self.principal_for(call, role)
            if role
            else service_principal("apigateway.amazonaws.com", call.account)
        )
        region = arn.region or call.region
        sent = note_request(
            call,
            f"https://lambda.{region}.amazonaws.com/2015-03-31/functions/{function_arn}/invocations",
            {"X-Amz-Invocation-Type": invocation_type},
            payload,
        )
        try:
            result = await asyncio.wait_for(
                self.platform.call(
                    "lambda",
                    "Invoke",
                    {
                        "FunctionName": function_arn,
                        "Payload": payload or b"{}",
                        "InvocationType": invocation_type,
                    },
                    principal=principal,
                    account_id=arn.account or call.account,
                    region=region,
                    condition_keys={"aws:SourceArn": call.source_arn(), "aws:SourceAccount": call.account},
                ),
                timeout=call.timeout,
            )
        except TimeoutError:
            raise Failure("INTEGRATION_TIMEOUT", "Endpoint request timed out", 504) from None
        except ServiceError:  # no permission, no function, throttled: AWS answers 500
            raise internal_error() from None
        data = result.get("Payload") or b""
        if hasattr(data, "read"):
            data = await data.read()
        note_response(
            call, result.get("StatusCode") or 200, {"Content-Type": "application/json"}, bytes(data), sent
        )
        return bytes(data), result.get("FunctionError")

    async def _lambda_proxy(self, call: Call, integration: dict[str, Any]) -> HttpResponse:
        function_arn = lambda_arn(with_stage_variables(integration.get("uri", ""), call.stage_variables))
        if function_arn is None:
            raise internal_error()
        event = call.proxy_event()
        payload, error = await self.invoke_function(
            call, function_arn, json.dumps(event).encode(), integration.get("credentials")
        )
        if error:
            raise Failure("DEFAULT_5XX", "Internal server error", 502)
        accept = call.header("accept")
        try:
            answer = proxy.response_v1(payload, decode_base64=True)
        except proxy.MalformedResponse:
            raise Failure("DEFAULT_5XX", "Internal server error", 502) from None
        binary_types = call.deployed.binary_media_types
        content_type = next((v for k, v in answer.headers if k.lower() == "content-type"), None)
        encoded = _is_base64_answer(payload)
        if encoded and not (
            proxy.is_binary(accept, binary_types) or proxy.is_binary(content_type, binary_types)
        ):
            answer.body = _base64_text(payload)  # AWS hands the base64 text on unless the type is binary
        headers = answer.headers
        if content_type is None:
            headers.append(("content-type", "application/json"))
        return HttpResponse(answer.status, headers, answer.body)

    async def _aws(self, call: Call, integration: dict[str, Any]) -> HttpResponse:
        uri = with_stage_variables(integration.get("uri", ""), call.stage_variables)
        function_arn = lambda_arn(uri)
        body = self.request_body(call, integration)
        if function_arn is not None:
            mapped = self.mapped_request(call, integration)["header"]
            kind = next((v for k, v in mapped.items() if k.lower() == "x-amz-invocation-type"), None)
            payload, error = await self.invoke_function(
                call,
                function_arn,
                body,
                integration.get("credentials"),
                "Event" if kind == "Event" else "RequestResponse",
            )
            selector = ""
            if error:
                try:
                    selector = str(json.loads(payload).get("errorMessage", ""))
                except (ValueError, AttributeError):
                    selector = payload.decode("utf-8", "replace")
            return self.map_response(call, integration, "200", payload, {}, selector=selector)
        status, headers, data = await self._aws_action(call, integration, uri, body)
        return self.map_response(call, integration, str(status), data, headers, selector=str(status))

    # -- AWS actions -------------------------------------------------------------------------------------

    async def principal_for(self, call: Call, role: str) -> Principal:
        """Who the integration acts as: a session of its role, issued by STS for apigateway.amazonaws.com
        (the role's trust policy must allow it); the caller itself for `arn:aws:iam::*:user/*`."""
        if role == "arn:aws:iam::*:user/*" and call.caller is not None:
            return call.caller
        key = (call.account, role, int(self.clock.now() // _ROLE_EPOCH))
        found = self._roles.get(key)
        if found is not None:
            return found
        try:
            with self.platform.db.transaction():
                credentials = sts.credentials_for_role(
                    self.platform,
                    role,
                    "apigateway.amazonaws.com",
                    "BackplaneAssumeRoleSession",
                    source_arn=call.source_arn(),
                    source_account=call.account,
                )
            credential = self.platform.credentials.lookup(credentials["AccessKeyId"])
            found = credential.principal if credential else None
        except ServiceError:
            found = None
        if found is None:
            if self.platform.config.iam == "enforce":
                raise internal_error()
            found = service_principal("apigateway.amazonaws.com", call.account)
        if len(self._roles) > 1000:
            self._roles.clear()
        self._roles[key] = found
        return found

    async def _aws_action(
        self, call: Call, integration: dict[str, Any], uri: str, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Call the AWS action an integration names; (status, headers, body) of the service's answer."""
        if not integration.get("credentials"):
            raise internal_error()  # AWS: an AWS integration needs a role to act as
        mapped = self.mapped_request(call, integration)
        principal = await self.principal_for(call, integration["credentials"])
        sent = note_request(call, _endpoint_of(uri, call.region), mapped["header"], body)
        try:
            status, headers, data = await aws_action(
                self.platform,
                uri,
                integration.get("httpMethod", "POST"),
                body,
                headers=mapped["header"],
                query=mapped["querystring"],
                path_values=mapped["path"],
                principal=principal,
                account=call.account,
                region=call.region,
                request_id=call.context["requestId"],
                timeout=call.timeout,
            )
        except TimeoutError:
            raise Failure("INTEGRATION_TIMEOUT", "Endpoint request timed out", 504) from None
        except ValueError:
            raise internal_error() from None
        note_response(call, status, headers, data, sent)
        return status, headers, data

    # -- HTTP -----------------------------------------------------------------------------------------

    async def _http(self, call: Call, integration: dict[str, Any], proxy_mode: bool) -> HttpResponse:
        body = call.body if proxy_mode else self.request_body(call, integration)  # its template may override
        mapped = self.mapped_request(call, integration)
        uri = with_stage_variables(integration.get("uri", ""), call.stage_variables)
        for name, value in mapped["path"].items():
            uri = uri.replace("{" + name + "}", quote(value, safe="/" if name == "proxy" else ""))
        for name, value in call.path_parameters.items():  # HTTP_PROXY: {proxy} and variables pass through
            if proxy_mode:
                uri = uri.replace("{" + name + "}", quote(value, safe="/"))
        method = integration.get("httpMethod", "GET")
        if method == "ANY":
            method = call.verb
        if proxy_mode:
            headers = [(k, v) for k, v in call.headers if k.lower() not in _HOP_BY_HOP]
            query = call.query
        else:
            headers = []
            query = ""
            content_type = call.header("content-type") or "application/json"
            headers.append(("Content-Type", content_type))
            headers.append(("Accept", "application/json"))
        for name, value in mapped["header"].items():
            headers = [(k, v) for k, v in headers if k.lower() != name.lower()] + [(name, value)]
        extra = urlencode(mapped["querystring"])
        query = "&".join(q for q in (query, extra) if q)
        sent = note_request(call, uri + (f"?{query}" if query else ""), dict(headers), body)
        try:
            status, response_headers, data = await asyncio.wait_for(
                asyncio.to_thread(_http_call, method, uri, query, headers, body, call.timeout),
                timeout=call.timeout + 1,
            )
        except TimeoutError:
            raise Failure("INTEGRATION_TIMEOUT", "Endpoint request timed out", 504) from None
        except (OSError, http.client.HTTPException, ValueError):
            raise Failure("INTEGRATION_FAILURE", "Internal server error", 500) from None
        note_response(call, status, dict(response_headers), data, sent)
        if proxy_mode:
            kept = [
                (k, v) for k, v in response_headers if k.lower() not in _HOP_BY_HOP and k.lower() != "date"
            ]
            return HttpResponse(status, kept, data)
        header_map = {k.lower(): v for k, v in response_headers}
        return self.map_response(call, integration, str(status), data, header_map, selector=str(status))

    # -- response side ----------------------------------------------------------------------------------

    def map_response(
        self,
        call: Call,
        integration: dict[str, Any],
        status: str,
        data: bytes,
        backend_headers: dict[str, str],
        *,
        selector: str,
    ) -> HttpResponse:
        """The method response an integration response makes of the backend's answer: the response whose
        selectionPattern matches `selector` (the status code, or a Lambda error's message), else the
        default one; its template renders the body, its parameters the headers."""
        responses = list((integration.get("integrationResponses") or {}).values())
        chosen = None
        if selector:
            for response in responses:
                pattern = response.get("selectionPattern")
                if pattern and re.fullmatch(pattern, selector, re.DOTALL):
                    chosen = response
                    break
        if chosen is None:
            chosen = next((r for r in responses if not r.get("selectionPattern")), None)
        if chosen is None:
            if integration.get("type") == "HTTP" and not responses:
                return HttpResponse(int(status), [("content-type", "application/json")], data)
            raise internal_error()
        call.context["responseOverride"] = {"status": None, "header": {}}
        binary_types = call.deployed.binary_media_types
        data = convert(
            data,
            chosen.get("contentHandling"),
            binary=proxy.is_binary(backend_headers.get("content-type"), binary_types),
            wanted_binary=proxy.is_binary(call.header("accept"), binary_types) if binary_types else None,
        )
        body = data.decode("utf-8", "replace")
        templates = chosen.get("responseTemplates") or {}
        content_type, template = _pick_template(templates, call.header("accept"))
        if template:
            try:
                payload = self._render(call, template, body).encode()
            except vtl.TemplateFailure:
                raise internal_error() from None
        else:
            payload = data  # passed through as it came (binary too)
            content_type = content_type or backend_headers.get("content-type") or "application/json"
        headers: list[tuple[str, str]] = [("content-type", content_type or "application/json")]
        for target, source in (chosen.get("responseParameters") or {}).items():
            name = target.removeprefix("method.response.header.")
            value = self._response_source(call, source, body, backend_headers)
            if value is not None:
                headers = [(k, v) for k, v in headers if k.lower() != name.lower()] + [(name, value)]
        override = call.context.get("responseOverride") or {}
        for name, value in (override.get("header") or {}).items():
            headers = [(k, v) for k, v in headers if k.lower() != name.lower()] + [(name, str(value))]
        final = int(override.get("status") or chosen["statusCode"])
        return HttpResponse(final, headers, payload)

    def _response_source(self, call: Call, source: str, body: str, backend: dict[str, str]) -> str | None:
        if source.startswith("integration.response.header."):
            return backend.get(source[len("integration.response.header.") :].lower())
        if source.startswith("integration.response.multivalueheader."):
            return backend.get(source[len("integration.response.multivalueheader.") :].lower())
        if source.startswith("integration.response.body"):
            rest = source[len("integration.response.body") :]
            if not rest:
                return body
            try:
                found = vtl.json_path(json.loads(body or "null"), "$" + rest)
            except ValueError:
                return None
            return found if isinstance(found, str) or found is None else json.dumps(found)
        return self.source_value(call, source)


def _endpoint_of(uri: str, region: str) -> str:
    """The service endpoint an AWS integration URI names, as execution logs print it."""
    own_region, _, rest = uri.removeprefix("arn:aws:apigateway:").partition(":")
    service, _, target = rest.partition(":")
    style, _, what = target.partition("/")
    base = f"https://{service}.{own_region or region}.amazonaws.com"
    return f"{base}/{what}" if style == "path" else f"{base}/?Action={what}"


def note_request(call: Call, uri: str, headers: dict[str, str], body: bytes) -> float:
    """The endpoint request in the call's trace (execution logs, TestInvokeMethod); when it was sent."""
    if call.tracing:
        call.trace += [
            (f"Endpoint request URI: {uri}", False),
            (f"Endpoint request headers: {java_map(headers)}", True),
            (f"Endpoint request body after transformations: {body.decode('utf-8', 'replace')}", True),
            (f"Sending request to {uri}", False),
        ]
    return time.perf_counter()


def note_response(call: Call, status: int, headers: dict[str, str], data: bytes, sent: float) -> None:
    if call.tracing:
        latency = int((time.perf_counter() - sent) * 1000)
        call.trace += [
            (f"Received response. Status: {status}, Integration latency: {latency} ms", False),
            (f"Endpoint response headers: {java_map(headers)}", True),
            (f"Endpoint response body before transformations: {data.decode('utf-8', 'replace')}", True),
        ]


async def aws_action(
    platform: Platform,
    uri: str,
    method: str,
    body: bytes,
    *,
    headers: dict[str, str],
    query: dict[str, str],
    path_values: dict[str, str],
    principal: Principal,
    account: str,
    region: str,
    request_id: str,
    timeout: float,
) -> tuple[int, dict[str, str], bytes]:
    """Call the AWS action an integration URI names (`arn:aws:apigateway:<region>:<service>:action/<Action>`
    or `:path/<path>`) as the service's own wire request, routed and parsed by Overcast's protocol layer;
    (status, lower-case headers, body) of the service's wire answer. ValueError: not an action URI;
    TimeoutError: the service took longer than `timeout`."""
    from overcast.protocol import parse_request, serialize_error, serialize_response
    from overcast.protocol.models import get_service_model
    from overcast.routing.index import service_index
    from overcast.routing.router import resolve

    try:
        uri_region, service_part, target = uri.removeprefix("arn:aws:apigateway:").split(":", 2)
    except ValueError:
        raise ValueError(f"not an AWS integration URI: {uri}") from None
    style, _, rest = target.partition("/")
    prefix = service_part.split(".")[-1]
    infos = service_index().by_endpoint_prefix.get(prefix)
    if not infos or style not in ("action", "path"):
        raise ValueError(f"not an AWS integration URI: {uri}")
    info = infos[0]
    headers = Headers(headers)
    query = dict(query)
    path = "/"
    if style == "action":
        if info.target_prefix and "json" in info.protocols:
            headers["x-amz-target"] = f"{info.target_prefix}.{rest}"
            if "content-type" not in headers:
                headers["content-type"] = "application/x-amz-json-1.0"
        else:
            # the action and the parameters mapped into the query string join the body's form (a query
            # service reads them from either; Overcast's router from the form)
            form = urlencode({"Action": rest, **query}).encode()
            body, query = (form + b"&" + body if body else form), {}
            if "content-type" not in headers:
                headers["content-type"] = "application/x-www-form-urlencoded"
    else:
        path = "/" + "/".join(quote(part, safe="") for part in rest.split("/"))
        for name, value in path_values.items():
            path = path.replace("%7B" + name + "%7D", quote(value, safe=""))
    region = uri_region or region
    request = HttpRequest(
        method=method,
        path=path,
        query=urlencode(query),
        headers=headers,
        body=body,
        host=f"{prefix}.{region}.amazonaws.com",
        scheme="https",
    )
    route = None
    try:
        route = resolve(request, info.signing_name)
        if _streams_input(route.operation_model):
            request.stream = _Bytes(body)
        params = parse_request(route.protocol, route.operation_model, request)
        result = await asyncio.wait_for(
            platform.call(
                route.service,
                route.operation,
                params,
                principal=principal,
                account_id=account,
                region=region,
            ),
            timeout=timeout,
        )
        if route.protocol == "query" and "xml" not in (headers.get("accept") or ""):
            return (
                200,
                {"content-type": "application/json"},
                _query_json(route.operation, route.operation_model, result, request_id),
            )
        answer = serialize_response(route.protocol, route.operation_model, result, request_id)
    except ServiceError as error:
        if route is None:
            return error.status, {}, json.dumps({"message": error.message}).encode()
        if route.protocol == "query" and "xml" not in (headers.get("accept") or ""):
            status, data = _query_json_error(get_service_model(route.service), error, request_id)
            return status, {"content-type": "application/json"}, data
        answer = serialize_error(
            route.protocol, get_service_model(route.service), route.operation_model, error, request_id
        )
    if isinstance(answer.body, (bytes, bytearray)):
        data = bytes(answer.body)
    else:  # a streamed payload (an S3 object)
        data = b"".join([chunk async for chunk in answer.body])
    return answer.status, {k.lower(): v for k, v in answer.headers}, data


def _query_json(operation: str, model: Any, result: dict[str, Any] | None, request_id: str) -> bytes:
    """A query-protocol service's answer (SQS, SNS, STS...) in the JSON form those services give a caller
    that accepts JSON, as API Gateway asks for it: `{"<Op>Response": {"<Op>Result": {...every output member,
    null when absent}, "ResponseMetadata": {"RequestId": ...}}}`."""
    shape = model.output_shape
    members = _json_value(shape, result or {}) if shape is not None else None
    answer = {f"{operation}Result": members, "ResponseMetadata": {"RequestId": request_id}}
    return json.dumps({f"{operation}Response": answer}).encode()


def _query_json_error(service: Any, error: ServiceError, request_id: str) -> tuple[int, bytes]:
    """(status, body) of a query-protocol service's error in its JSON form, with the code, status and
    fault its XML form would carry (`AWS.SimpleQueueService.NonExistentQueue`, 400, Sender)."""
    from overcast.protocol.common import error_status
    from overcast.protocol.query import dialect_of, sender_fault, wire_error_code

    status = error_status(service, error)
    error_fields = {
        "Code": wire_error_code(service, error, dialect_of(service)),
        "Message": error.message,
        "Type": "Sender" if sender_fault(service, error, status) else "Receiver",
    }
    return status, json.dumps({"Error": error_fields, "RequestId": request_id}).encode()


def _json_value(shape: Any, value: Any) -> Any:
    """`value` (as a service returns it) as JSON: every member of a structure, binary in base64, time in
    epoch seconds."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        return {name: _json_value(member, value.get(name)) for name, member in shape.members.items()}
    if kind == "list":
        return [_json_value(shape.member, item) for item in value]
    if kind == "map":
        return {str(k): _json_value(shape.value, v) for k, v in value.items()}
    if kind == "blob":
        return base64.b64encode(value if isinstance(value, bytes) else str(value).encode()).decode()
    if kind == "timestamp":
        return value.timestamp() if hasattr(value, "timestamp") else value
    return value


def _streams_input(operation: Any) -> bool:
    payload = operation.get_streaming_input()
    return payload is not None and bool(payload.serialization.get("streaming"))


class _Bytes:
    """A request body as the stream a streaming operation (S3 PutObject) reads its payload from."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.content_length = len(data)

    async def read(self, size: int = -1) -> bytes:
        if size < 0 or size >= len(self._data):
            data, self._data = self._data, b""
        else:
            data, self._data = self._data[:size], self._data[size:]
        return data

    async def __aiter__(self):
        data = await self.read()
        if data:
            yield data


def convert(data: bytes, handling: str | None, *, binary: bool, wanted_binary: bool | None = None) -> bytes:
    """A payload under `contentHandling`, as API Gateway's conversion tables say: CONVERT_TO_TEXT
    base64-encodes a binary payload, CONVERT_TO_BINARY decodes a text one, and either leaves a payload
    already of its kind alone. Unset, a response follows the Accept header when the API has binary media
    types (`wanted_binary`): text to a binary type is decoded, binary to a text type encoded."""
    if handling is None and wanted_binary is not None and wanted_binary != binary:
        handling = "CONVERT_TO_BINARY" if wanted_binary else "CONVERT_TO_TEXT"
    if handling == "CONVERT_TO_TEXT" and binary:
        return base64.b64encode(data)
    if handling == "CONVERT_TO_BINARY" and not binary:
        try:
            return base64.b64decode(data, validate=False)
        except ValueError:
            raise internal_error() from None
    return data


def _pick_template(templates: dict[str, str], accept: str | None) -> tuple[str | None, str | None]:
    if not templates:
        return None, None
    for wanted in [a.split(";")[0].strip().lower() for a in (accept or "").split(",") if a.strip()]:
        for content_type, template in templates.items():
            if content_type.lower() == wanted:
                return content_type, template
    if "application/json" in templates:
        return "application/json", templates["application/json"]
    content_type = next(iter(templates))
    return content_type, templates[content_type]


def _is_base64_answer(payload: bytes) -> bool:
    try:
        answer = json.loads(payload)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("isBase64Encoded") is True


def _base64_text(payload: bytes) -> bytes:
    return str(json.loads(payload).get("body") or "").encode()


def _http_call(
    method: str, uri: str, query: str, headers: list[tuple[str, str]], body: bytes, timeout: float
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One real HTTP request to an integration's backend (run in a thread)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an HTTP endpoint: {uri}")
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    target = parts.path or "/"
    full_query = "&".join(q for q in (parts.query, query) if q)
    if full_query:
        target += "?" + full_query
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
