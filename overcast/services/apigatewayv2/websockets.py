"""WebSocket APIs serving connections: `$connect` (with its authorizer) decides whether the upgrade is
accepted, each message goes to the route its route selection expression picks (else `$default`), and
`$disconnect` hears the end. Backends talk back through the @connections API (apigatewaymanagementapi),
which reaches the open sockets here through this package's api.py.

Invoke URL: `ws://<api-id>.execute-api.localhost:<port>/<stage>` (or `ws://localhost:<port>/_overcast/
execute-api/<api-id>/<stage>`). A route with a route response (`RouteResponseSelectionExpression`) sends
the integration's answer back to the client, as two-way routes do in AWS.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import overcast.services.apigateway.api as rest
from overcast.http import HttpRequest, HttpResponse, WebSocket
from overcast.platform import new_request_id
from overcast.services.apigatewayv2.http_gateway import Call, Refusal, parse_target
from overcast.services.apigatewayv2.ws_integrations import Message, WebSocketIntegrations, evaluate

if TYPE_CHECKING:
    from overcast.services.apigatewayv2.provider import ApiGatewayV2Provider

MAX_FRAME = 128 * 1024  # a message larger than this closes the connection (1009), as AWS's frame limit does
IDLE_SECONDS = 600.0  # AWS closes a connection idle for 10 minutes
MAXIMUM_SECONDS = 7200.0  # and any connection after 2 hours


def connection_id() -> str:
    """A connection id as AWS forms them (`L0SM9cOFvHcCIhw=`)."""
    return base64.b64encode(os.urandom(10)).decode()[:15] + "="


@dataclass
class Live:
    socket: WebSocket
    account: str
    region: str
    api_id: str
    stage: str


class WebSockets:
    def __init__(self, service: ApiGatewayV2Provider) -> None:
        self.service = service
        self.platform = service.platform
        self.clock = service.clock
        self.live: dict[str, Live] = {}
        self.integrations = WebSocketIntegrations(service.http)

    def forget(self) -> None:
        for live in list(self.live.values()):
            self.platform.spawn(live.socket.close(1001, "Going away"))
        self.live.clear()

    async def close_all(self) -> None:
        for live in list(self.live.values()):
            await live.socket.close(1001, "Going away")

    # -- a connection's life --------------------------------------------------------------------------

    async def serve(self, request: HttpRequest, socket: WebSocket) -> None:
        target = parse_target(request)
        if target is None:
            await socket.deny(_message(404, "Not Found"))
            return
        api_id, path = target
        gateway = self.service.http
        store = self.service.store
        with self.service.db.transaction():
            owner = store.owner("api", api_id)
            api = store.get(*owner, "api", "", api_id) if owner else None
            stage_name = unquote(path.lstrip("/").split("/", 1)[0])
            stage = store.get(*owner, "stage", api_id, stage_name) if owner and stage_name else None
            deployed = (
                gateway.deployed(owner[0], owner[1], api_id, stage["DeploymentId"])
                if stage and stage.get("DeploymentId")
                else None
            )
        if api is None or api["ProtocolType"] != "WEBSOCKET" or stage is None or deployed is None:
            await socket.deny(_message(403, "Forbidden"))
            return
        account, region = owner  # type: ignore[misc]
        connection = connection_id()
        connected_at = self.clock.now()
        base = Call(
            request, account, region, deployed.snapshot["api"], stage, deployed, path, now=connected_at
        )
        routes = {r["RouteKey"]: r for r in deployed.snapshot["routes"]}
        connect = routes.get("$connect")
        request_id = new_request_id()
        if connect is not None:
            try:
                answer = await self._route(
                    base, connect, connection, "CONNECT", None, connected_at, request_id=request_id
                )
            except Refusal as refusal:
                self._access_log(
                    base, "$connect", connection, "CONNECT", connected_at, request_id, refusal.status
                )
                await socket.deny(_message(refusal.status, refusal.message))
                return
            if answer is not None and not 200 <= answer[0] < 300:
                self._access_log(base, "$connect", connection, "CONNECT", connected_at, request_id, answer[0])
                await socket.deny(HttpResponse(answer[0], [("content-type", "application/json")], answer[1]))
                return
        self._access_log(base, "$connect", connection, "CONNECT", connected_at, request_id, 200)
        protocols = [
            p.strip() for p in (request.headers.get("sec-websocket-protocol") or "").split(",") if p.strip()
        ]
        await socket.accept(subprotocol=protocols[0] if protocols else None)
        with self.service.db.transaction():
            store.add_connection(
                connection,
                account,
                region,
                api_id,
                stage["StageName"],
                connected_at,
                request.client_ip,
                request.headers.get("user-agent"),
            )
        self.live[connection] = Live(socket, account, region, api_id, stage["StageName"])
        self.service.reaper.wake()
        try:
            while (message := await socket.receive()) is not None:
                with self.service.db.transaction():
                    store.touch_connection(connection, self.clock.now())
                await self._message(base, routes, connection, message, connected_at)
        finally:
            self.live.pop(connection, None)
            with self.service.db.transaction():
                store.remove_connection(connection)
            disconnect = routes.get("$disconnect")
            request_id = new_request_id()
            status = 200
            if disconnect is not None:
                try:
                    await self._route(
                        base,
                        disconnect,
                        connection,
                        "DISCONNECT",
                        None,
                        connected_at,
                        request_id=request_id,
                        close_code=socket.close_code,
                    )
                except Refusal as refusal:
                    status = refusal.status
            self._access_log(base, "$disconnect", connection, "DISCONNECT", connected_at, request_id, status)

    async def _message(
        self, base: Call, routes: dict[str, dict], connection: str, message: str | bytes, connected_at: float
    ) -> None:
        live = self.live.get(connection)
        if live is None:
            return
        data = message.encode() if isinstance(message, str) else message
        if len(data) > MAX_FRAME:
            await live.socket.close(1009, "Message too big")
            return
        key = self._select(base.api.get("RouteSelectionExpression", ""), data)
        route = routes.get(key or "") or routes.get("$default")
        request_id = new_request_id()
        if route is None:
            self._access_log(base, key or "$default", connection, "MESSAGE", connected_at, request_id, 403)
            await live.socket.send(
                json.dumps({"message": "Forbidden", "connectionId": connection, "requestId": request_id})
            )
            return
        try:
            answer = await self._route(
                base, route, connection, "MESSAGE", data, connected_at, request_id=request_id
            )
        except Refusal as refusal:
            status = refusal.status if refusal.status in (400, 403, 429) else 500
            self._access_log(base, route["RouteKey"], connection, "MESSAGE", connected_at, request_id, status)
            text = refusal.message if status != 500 else "Internal server error"
            await live.socket.send(
                json.dumps({"message": text, "connectionId": connection, "requestId": request_id})
            )
            return
        status = answer[0] if answer is not None else 200
        self._access_log(base, route["RouteKey"], connection, "MESSAGE", connected_at, request_id, status)
        two_way = route.get("RouteResponseSelectionExpression") and base.deployed.snapshot.get(
            "routeResponses", {}
        ).get(route["RouteId"])
        if answer is not None and two_way and answer[1]:
            try:
                await live.socket.send(answer[1].decode("utf-8"))
            except UnicodeDecodeError:  # a binary answer (CONVERT_TO_BINARY) goes as a binary frame
                await live.socket.send(answer[1])

    def _validate(self, call: Call, data: bytes) -> None:
        """A route's request validation: its `ModelSelectionExpression` picks one of its `RequestModels`
        (else `$default`), whose schema the message must satisfy; no model, or a message that does not
        conform: the client is told `Invalid request body` and the backend is not called."""
        message = Message(data, call.request, {}, "MESSAGE")
        key = evaluate(call.route["ModelSelectionExpression"], message.request_value)
        models = call.route.get("RequestModels") or {}
        name = models.get(key) or models.get("$default")
        model = (call.deployed.snapshot.get("models") or {}).get(name or "")
        if model is None or rest.body_problem(model.get("Schema") or "{}", data) is not None:
            raise Refusal(400, "Invalid request body")

    def _check_api_key(self, call: Call) -> None:
        """A route that needs an API key: the one the API's `ApiKeySelectionExpression` names (the $connect
        request's `x-api-key` header, or the authorizer's `usageIdentifierKey`) must be allowed by a usage
        plan covering the stage (403 Forbidden; 429 past the plan's throttle or quota)."""
        expression = call.api.get("ApiKeySelectionExpression") or "$request.header.x-api-key"
        if expression == "$context.authorizer.usageIdentifierKey":
            value = (call.authorizer or {}).get("usageIdentifierKey")
        else:
            value = call.request.headers.get("x-api-key")
        if not value:
            raise Refusal(403, "Forbidden")
        refused = rest.use_api_key(
            self.platform, call.account, call.region, call.api["ApiId"], call.stage_name, value
        )
        if refused is not None:
            raise Refusal(403 if refused == "Forbidden" else 429, refused)

    def _access_log(
        self,
        base: Call,
        route_key: str,
        connection: str,
        event_type: str,
        connected_at: float,
        request_id: str,
        status: int,
    ) -> None:
        """A stage's access log line for one event of a connection (`AccessLogSettings`: a log group ARN
        and a format of `$context` variables: `connectionId`, `eventType`, `routeKey`, `status`...)."""
        settings = base.stage.get("AccessLogSettings") or {}
        if not settings.get("DestinationArn") or not settings.get("Format"):
            return
        call = replace(base, route={"RouteKey": route_key}, request_id=request_id, now=self.clock.now())
        context = self._event(call, connection, event_type, None, connected_at, None)["requestContext"]
        context.update(status=status, requestId=request_id)
        try:
            line = rest.vtl.render(
                settings["Format"], body="", context=context, stage_variables=call.variables
            )
        except rest.vtl.TemplateFailure:
            return
        self.platform.spawn(
            rest.write_log(
                self.platform,
                settings["DestinationArn"],
                f"{call.api['ApiId']}-{call.stage_name}",
                [line],
                account=call.account,
                region=call.region,
            )
        )

    @staticmethod
    def _select(expression: str, data: bytes) -> str | None:
        """The route key a message selects (`$request.body.action`, `${request.body.type}`)."""
        text = expression.strip()
        if text.startswith("${") and text.endswith("}"):
            text = "$" + text[2:-1]
        if not text.startswith("$request.body"):
            return text or None
        try:
            document = json.loads(data)
        except ValueError:
            return None
        found = rest.vtl.json_path(document, "$" + text[len("$request.body") :])
        return None if found is None or isinstance(found, (dict, list)) else str(found)

    async def _route(
        self,
        base: Call,
        route: dict[str, Any],
        connection: str,
        event_type: str,
        data: bytes | None,
        connected_at: float,
        *,
        request_id: str | None = None,
        close_code: int | None = None,
    ) -> tuple[int, bytes] | None:
        """Run a route's integration; (status, body) of its answer, None when it has none."""
        call = Call(
            base.request,
            base.account,
            base.region,
            base.api,
            base.stage,
            base.deployed,
            base.path,
            route=route,
            request_id=request_id or new_request_id(),
            now=self.clock.now(),
            authorizer=base.authorizer,
        )
        if route.get("AuthorizationType") in ("CUSTOM", "AWS_IAM") and event_type == "CONNECT":
            await self.service.http.authorize(call)
            base.authorizer = call.authorizer  # every later event of the connection carries it
        if event_type != "DISCONNECT":
            if route.get("ApiKeyRequired"):
                self._check_api_key(call)
            self.service.http.throttle(call)
        if event_type == "MESSAGE" and route.get("ModelSelectionExpression"):
            self._validate(call, data or b"")
        integration = base.deployed.snapshot["integrations"].get(
            (route.get("Target") or "").removeprefix("integrations/")
        )
        if integration is None:
            return None
        event = self._event(call, connection, event_type, data, connected_at, close_code)
        if integration["IntegrationType"] != "AWS_PROXY":
            responses = base.deployed.snapshot.get("integrationResponses", {}).get(
                integration["IntegrationId"], []
            )
            message = Message(data, call.request, event["requestContext"], event_type)
            return await self.integrations.run(call, integration, responses, message)
        function_arn = rest.lambda_arn(
            rest.with_stage_variables(integration.get("IntegrationUri", ""), call.variables)
        )
        if function_arn is None:
            raise Refusal(500, "Internal server error")
        payload = json.dumps(event).encode()
        answer, failed = await self.service.http.integrations.invoke(
            call, function_arn, payload, integration.get("CredentialsArn")
        )
        if failed:
            raise Refusal(500, "Internal server error")
        try:
            parsed = json.loads(answer) if answer.strip() else None
        except ValueError:
            return 200, answer
        if isinstance(parsed, dict) and "statusCode" in parsed:
            body = parsed.get("body")
            status = int(parsed["statusCode"]) if str(parsed["statusCode"]).isdigit() else 500
            return status, (
                body if isinstance(body, str) else json.dumps(body) if body is not None else ""
            ).encode()
        return 200, answer

    def _event(
        self,
        call: Call,
        connection: str,
        event_type: str,
        data: bytes | None,
        connected_at: float,
        close_code: int | None,
    ) -> dict[str, Any]:
        now = self.clock.now()
        request = call.request
        context: dict[str, Any] = {
            "routeKey": call.route["RouteKey"],
            "eventType": event_type,
            "extendedRequestId": rest.extended_id(),
            "requestTime": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "messageDirection": "IN",
            "stage": call.stage_name,
            "connectedAt": int(connected_at * 1000),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": request.client_ip, "userAgent": request.headers.get("user-agent")},
            "requestId": call.request_id,
            "domainName": request.host.rsplit(":", 1)[0],
            "connectionId": connection,
            "apiId": call.api["ApiId"],
        }
        if event_type == "MESSAGE":
            context["messageId"] = connection_id()[:-1] + "A="
        if event_type == "DISCONNECT":
            context["disconnectStatusCode"] = close_code if close_code is not None else 1006
            context["disconnectReason"] = ""
        if call.authorizer is not None:
            context["authorizer"] = call.authorizer.get("lambda", call.authorizer)
        event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
        if event_type == "CONNECT":
            single, multi = rest.proxy.split_headers(request.header_pairs())
            query, multi_query = rest.proxy.split_query(request.query)
            event.update(headers=single, multiValueHeaders=multi)
            if query:
                event.update(queryStringParameters=query, multiValueQueryStringParameters=multi_query)
        if data is not None:
            try:
                event["body"] = data.decode("utf-8")
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(data).decode(), True
        return event

    # -- the @connections API's side -------------------------------------------------------------------

    async def post(self, connection: str, data: bytes) -> bool:
        live = self.live.get(connection)
        if live is None or live.socket.closed:
            return False
        try:
            await live.socket.send(data.decode("utf-8"))
        except UnicodeDecodeError:
            await live.socket.send(data)
        return True

    async def disconnect(self, connection: str, code: int = 1000, reason: str = "") -> bool:
        live = self.live.get(connection)
        if live is None:
            return False
        await live.socket.close(code, reason)
        return True


def _message(status: int, message: str) -> HttpResponse:
    return HttpResponse(
        status, [("content-type", "application/json")], json.dumps({"message": message}).encode()
    )


__all__ = ["WebSockets", "IDLE_SECONDS", "MAXIMUM_SECONDS"]
