"""A WebSocket route's non-proxy integrations (`MOCK`, `AWS`, `HTTP`) and `HTTP_PROXY`, as AWS runs them.

The request side: the integration's `TemplateSelectionExpression` (`${request.body.action}`, `\\$default`,
a static value) picks one of its `RequestTemplates` (else the `$default` one), rendered with `$input`
(the message), `$context` (the connection's requestContext: `connectionId`, `routeKey`, `eventType`...) and
`$stageVariables`; without one, `PassthroughBehavior` decides (the message passes, or is refused).
`RequestParameters` (`integration.request.header|querystring|path.<name>`) take `'literals'`,
`route.request.header|querystring.<name>` (of the $connect request), `route.request.body.<JSONPath>`,
`context.<name>` and `stageVariables.<name>`.

The response side: the integration response whose key (`/regex/`) matches the Lambda error message
(`AWS` Lambda integrations) or the status code (`HTTP`, `MOCK`, AWS actions), else `$default`; its
`ContentHandlingStrategy` converts, and its `TemplateSelectionExpression` (`${integration.response.statuscode}`,
`${integration.response.header.x}`, `${request.body.x}`, static) picks the template that renders the answer.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import overcast.services.apigateway.api as rest
from overcast.services.apigatewayv2.http_integrations import Refusal, http_call

if TYPE_CHECKING:
    from overcast.http import HttpRequest
    from overcast.services.apigatewayv2.http_gateway import Call, HttpGateway

_VARIABLE = re.compile(r"\\\$|\$\{([^}]*)\}|\$([A-Za-z][\w.\-]*)")


def evaluate(expression: str, resolve: Callable[[str], str | None]) -> str:
    """A WebSocket selection expression's value: `${a.b}` and `$a.b` variables resolved, `\\$` a dollar,
    `$default` the reserved key, anything else literal."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "\\$":
            return "$"
        name = match.group(1) or match.group(2) or ""
        if name == "default":
            return "$default"
        value = resolve(name)
        return "" if value is None else value

    return _VARIABLE.sub(one, expression)


@dataclass
class Message:
    """What a route's integration is given: the message (None for $connect/$disconnect), the upgrade
    request, the event's requestContext."""

    data: bytes | None
    request: HttpRequest
    context: dict[str, Any]
    event_type: str

    def text(self) -> str:
        return (self.data or b"").decode("utf-8", "replace")

    def body_value(self, path: str) -> str | None:
        try:
            document = json.loads(self.data or b"")
        except ValueError:
            return None
        found = rest.vtl.json_path(document, "$" + path)
        if found is None:
            return None
        return found if isinstance(found, str) else json.dumps(found)

    def request_value(self, name: str) -> str | None:
        """A selection expression's `request.body.<path>` variable; None for any other."""
        return self.body_value(name[len("request.body") :]) if name.startswith("request.body") else None

    def params(self) -> dict[str, dict[str, str]]:
        """`$input.params()`: the $connect request's headers and query strings (none on later messages)."""
        if self.event_type != "CONNECT":
            return {"path": {}, "querystring": {}, "header": {}}
        headers, _ = rest.proxy.split_headers(self.request.header_pairs())
        query, _ = rest.proxy.split_query(self.request.query)
        return {"path": {}, "querystring": query, "header": headers}


class WebSocketIntegrations:
    def __init__(self, gateway: HttpGateway) -> None:
        self.gateway = gateway
        self.platform = gateway.platform

    async def run(
        self, call: Call, integration: dict[str, Any], responses: list[dict[str, Any]], message: Message
    ) -> tuple[int, bytes]:
        """(status, body) of a route's MOCK, AWS, HTTP or HTTP_PROXY integration."""
        kind = integration["IntegrationType"]
        if kind == "HTTP_PROXY":
            status, _, data = await self._http(call, integration, message.data or b"", {})
            return status, data
        body = self._request_body(call, integration, message)
        mapped = self._mapped(call, integration, message)
        selector: str
        headers: dict[str, str] = {}
        if kind == "MOCK":
            status = _mock_status(body)
            data, selector = b"", str(status)
        elif kind == "HTTP":
            status, headers, data = await self._http(call, integration, body, mapped)
            selector = str(status)
        else:
            status, headers, data, selector = await self._aws(call, integration, body, mapped)
        return status, self._response(call, responses, message, status, headers, data, selector)

    # -- request side ----------------------------------------------------------------------------------

    def _request_body(self, call: Call, integration: dict[str, Any], message: Message) -> bytes:
        templates = integration.get("RequestTemplates") or {}
        key = evaluate(integration.get("TemplateSelectionExpression") or "$default", message.request_value)
        template = templates.get(key)
        if template is None:
            template = templates.get("$default")
        body = message.data or b""
        if integration.get("ContentHandlingStrategy") == "CONVERT_TO_TEXT" and not _is_text(body):
            body = base64.b64encode(body)
        elif integration.get("ContentHandlingStrategy") == "CONVERT_TO_BINARY" and _is_text(body):
            body = _decoded(body)
        if template is None:
            behavior = integration.get("PassthroughBehavior", "WHEN_NO_MATCH")
            if behavior == "NEVER" or (behavior == "WHEN_NO_TEMPLATES" and templates):
                raise Refusal(415, "Unsupported Media Type")
            return body
        try:
            return rest.vtl.render(
                template,
                body=body.decode("utf-8", "replace"),
                params=message.params(),
                context=message.context,
                stage_variables=call.variables,
            ).encode()
        except rest.vtl.TemplateFailure:
            raise Refusal(500, "Internal server error") from None

    def _mapped(self, call: Call, integration: dict[str, Any], message: Message) -> dict[str, dict[str, str]]:
        """integration.request.{header,querystring,path}.<name> from their sources."""
        mapped: dict[str, dict[str, str]] = {"header": {}, "querystring": {}, "path": {}}
        for target, source in (integration.get("RequestParameters") or {}).items():
            where, _, name = target.removeprefix("integration.request.").partition(".")
            value = self._source(call, message, source)
            if where in mapped and value is not None:
                mapped[where][name] = value
        return mapped

    def _source(self, call: Call, message: Message, source: str) -> str | None:
        if len(source) >= 2 and source.startswith("'") and source.endswith("'"):
            return source[1:-1]
        params = message.params()
        if source.startswith("route.request.header."):
            wanted = source[len("route.request.header.") :].lower()
            return next((v for k, v in params["header"].items() if k.lower() == wanted), None)
        if source.startswith("route.request.querystring."):
            return params["querystring"].get(source[len("route.request.querystring.") :])
        if source.startswith("route.request.body"):
            return message.body_value(source[len("route.request.body") :])
        if source.startswith("stageVariables."):
            return call.variables.get(source[len("stageVariables.") :])
        if source.startswith("context."):
            value: Any = message.context
            for part in source[len("context.") :].split("."):
                value = value.get(part) if isinstance(value, dict) else None
            return None if value is None else str(value)
        return None

    # -- the backends ---------------------------------------------------------------------------------

    async def _aws(
        self, call: Call, integration: dict[str, Any], body: bytes, mapped: dict[str, dict[str, str]]
    ) -> tuple[int, dict[str, str], bytes, str]:
        """A Lambda function with the rendered payload (its error message selects), or an AWS action as the
        integration's role (its status code selects)."""
        uri = rest.with_stage_variables(integration.get("IntegrationUri", ""), call.variables)
        timeout = (integration.get("TimeoutInMillis") or 29000) / 1000
        function_arn = rest.lambda_arn(uri)
        if function_arn is not None:
            payload, failed = await self.gateway.integrations.invoke(
                call, function_arn, body or b"{}", integration.get("CredentialsArn")
            )
            if not failed:
                return 200, {}, payload, ""
            try:
                selector = str(json.loads(payload).get("errorMessage", ""))
            except (ValueError, AttributeError):
                selector = payload.decode("utf-8", "replace")
            return 200, {}, payload, selector
        if not integration.get("CredentialsArn"):
            raise Refusal(500, "Internal server error")
        principal = await self.gateway.integrations.principal_for(call, integration["CredentialsArn"])
        try:
            status, headers, data = await rest.aws_action(
                self.platform,
                uri,
                integration.get("IntegrationMethod") or "POST",
                body,
                headers=mapped["header"],
                query=mapped["querystring"],
                path_values=mapped["path"],
                principal=principal,
                account=call.account,
                region=call.region,
                request_id=call.request_id,
                timeout=timeout,
            )
        except (TimeoutError, ValueError):
            raise Refusal(500, "Internal server error") from None
        return status, headers, data, str(status)

    async def _http(
        self,
        call: Call,
        integration: dict[str, Any],
        body: bytes,
        mapped: dict[str, dict[str, str]],
    ) -> tuple[int, dict[str, str], bytes]:
        uri = rest.with_stage_variables(integration.get("IntegrationUri", ""), call.variables)
        for name, value in mapped.get("path", {}).items():
            uri = uri.replace("{" + name + "}", quote(value, safe=""))
        method = integration.get("IntegrationMethod") or "POST"
        if method == "ANY":
            method = "POST"
        headers = [("Content-Type", "application/json")]
        for name, value in mapped.get("header", {}).items():
            headers = [(k, v) for k, v in headers if k.lower() != name.lower()] + [(name, value)]
        query = "&".join(
            f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in mapped.get("querystring", {}).items()
        )
        timeout = (integration.get("TimeoutInMillis") or 29000) / 1000
        try:
            status, response_headers, data = await asyncio.wait_for(
                asyncio.to_thread(http_call, method, uri, query, headers, body, timeout),
                timeout=timeout + 1,
            )
        except (TimeoutError, OSError, http.client.HTTPException, ValueError):
            raise Refusal(500, "Internal server error") from None
        return status, {k.lower(): v for k, v in response_headers}, data

    # -- response side --------------------------------------------------------------------------------

    def _response(
        self,
        call: Call,
        responses: list[dict[str, Any]],
        message: Message,
        status: int,
        headers: dict[str, str],
        data: bytes,
        selector: str,
    ) -> bytes:
        chosen = None
        for response in responses:
            key = response.get("IntegrationResponseKey", "")
            if len(key) > 2 and key.startswith("/") and key.endswith("/") and selector:
                try:
                    if re.fullmatch(key[1:-1], selector, re.DOTALL):
                        chosen = response
                        break
                except re.error:
                    continue
        if chosen is None:
            chosen = next((r for r in responses if r.get("IntegrationResponseKey") == "$default"), None)
        if chosen is None:
            return data  # nothing models the answer: it passes as it came
        handling = chosen.get("ContentHandlingStrategy")
        if handling == "CONVERT_TO_TEXT" and not _is_text(data):
            data = base64.b64encode(data)
        elif handling == "CONVERT_TO_BINARY" and _is_text(data):
            data = _decoded(data)

        def resolve(name: str) -> str | None:
            if name == "integration.response.statuscode":
                return str(status)
            for prefix in ("integration.response.header.", "integration.response.multivalueheader."):
                if name.startswith(prefix):
                    return headers.get(name[len(prefix) :].lower())
            return message.request_value(name)

        templates = chosen.get("ResponseTemplates") or {}
        key = evaluate(chosen.get("TemplateSelectionExpression") or "$default", resolve)
        template = templates.get(key)
        if template is None:
            template = templates.get("$default")
        if template is None:
            return data
        try:
            return rest.vtl.render(
                template,
                body=data.decode("utf-8", "replace"),
                context=message.context,
                stage_variables=call.variables,
            ).encode()
        except rest.vtl.TemplateFailure:
            raise Refusal(500, "Internal server error") from None


def _mock_status(body: bytes) -> int:
    """The status a MOCK integration's rendered request names (`{"statusCode": 200}`); 200 without one."""
    try:
        document = json.loads(body) if body.strip() else {}
        return int(document.get("statusCode", 200)) if isinstance(document, dict) else 200
    except (ValueError, TypeError):
        raise Refusal(500, "Internal server error") from None


def _is_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decoded(data: bytes) -> bytes:
    try:
        return base64.b64decode(data, validate=False)
    except ValueError:
        raise Refusal(500, "Internal server error") from None
