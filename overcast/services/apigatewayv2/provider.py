"""The API Gateway V2 provider (HTTP and WebSocket APIs): its families, its invoke URLs (HTTP requests and
WebSocket upgrades), the connection timeouts worker, and what the families share."""

from __future__ import annotations

from typing import Any

import overcast.services.apigateway.api as rest
import overcast.services.apigatewaymanagementapi.api as management
import overcast.services.sts.api as sts
from overcast.context import RequestContext
from overcast.http import HttpRequest, HttpResponse, WebSocket
from overcast.services.apigatewayv2 import http_gateway
from overcast.services.apigatewayv2.apis import ApiOperations
from overcast.services.apigatewayv2.authorizers import AuthorizerOperations
from overcast.services.apigatewayv2.common import bad_request, not_found
from overcast.services.apigatewayv2.http_gateway import HttpGateway
from overcast.services.apigatewayv2.integrations import IntegrationOperations
from overcast.services.apigatewayv2.routes import RouteOperations
from overcast.services.apigatewayv2.stages import DomainNameOperations, StageOperations, VpcLinkOperations
from overcast.services.apigatewayv2.store import ApiGatewayV2Store
from overcast.services.apigatewayv2.websockets import WebSockets
from overcast.services.apigatewayv2.workers import ConnectionReaper
from overcast.services.base import HttpRoute, ServiceProvider
from overcast.services.kit.metrics import MetricCounters, MetricPoint
from overcast.services.kit.paging import decode_token, page_of

INVOKE_PATH = "/_overcast/execute-api/"
COMPAT_PREFIX = "/_aws/execute-api/"


def _not_connections(request: HttpRequest) -> bool:
    return "/@connections" not in request.path


class ApiGatewayV2Provider(ServiceProvider):
    service_name = "apigatewayv2"
    families = (
        ApiOperations,
        RouteOperations,
        IntegrationOperations,
        AuthorizerOperations,
        StageOperations,
        DomainNameOperations,
        VpcLinkOperations,
    )
    routes = (
        HttpRoute("serve_http", "Invoke", host=".execute-api.", path=INVOKE_PATH, when=_not_connections),
        HttpRoute("serve_http", "Invoke", path=COMPAT_PREFIX, when=_not_connections),
        HttpRoute("serve_websocket", "Connect", host=".execute-api.", path=INVOKE_PATH, websocket=True),
        HttpRoute("serve_websocket", "Connect", path=COMPAT_PREFIX, websocket=True),
        HttpRoute("serve_domain", "Invoke", path="/", when=http_gateway.is_custom_domain),
    )

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = ApiGatewayV2Store(self.db)
        self.http = HttpGateway(self)
        self.websockets = WebSockets(self)
        self.reaper = ConnectionReaper(self)
        self.metrics = MetricCounters()  # AWS/ApiGateway per HTTP API and stage, collected by CloudWatch
        sts.prepare(platform)

    @property
    def authorizer_cache(self):
        return self.http.authorizer_cache

    async def start(self) -> None:
        with self.db.transaction():
            self.store.drop_connections()  # sockets do not survive a restart
            http_gateway.DOMAINS.update(self.store.ids("domain"))
        management.prepare(self.platform)  # serves @connections on the same invoke URLs
        self.platform.spawn(self.reaper.run())

    async def stop(self) -> None:
        await self.websockets.close_all()

    def reset(self) -> None:
        self.http.forget()
        self.websockets.forget()
        self.metrics = MetricCounters()

    def published_metrics(self, minutes: list[float]) -> list[MetricPoint]:
        """AWS/ApiGateway of HTTP APIs by ApiId, and ApiId and Stage, for the minute that ended last."""
        return rest.metrics.published(self.metrics, self.clock.now(), minutes, "ApiId")

    async def serve_http(self, request: HttpRequest) -> HttpResponse | None:
        return await self.http.serve(request)

    async def serve_domain(self, request: HttpRequest) -> HttpResponse | None:
        return await self.http.serve_domain(request)

    async def serve_websocket(self, request: HttpRequest, socket: WebSocket) -> None:
        await self.websockets.serve(request, socket)

    # -- what the families share ---------------------------------------------------------------------

    def api(self, ctx: RequestContext, api_id: str) -> dict[str, Any]:
        found = self.store.get(ctx.account_id, ctx.region, "api", "", api_id)
        if found is None:
            raise not_found(f"Invalid API identifier specified {ctx.account_id}:{api_id}")
        return found

    def doc(self, ctx: RequestContext, kind: str, parent: str, id: str, message: str) -> dict[str, Any]:
        found = self.store.get(ctx.account_id, ctx.region, kind, parent, id)
        if found is None:
            raise not_found(message)
        return found

    def save(self, ctx: RequestContext, kind: str, parent: str, id: str, doc: dict[str, Any]) -> None:
        self.store.put(ctx.account_id, ctx.region, kind, parent, id, doc, self.clock.now())

    def changed(self, ctx: RequestContext, api_id: str) -> None:
        """The API's configuration changed: its auto-deploy stages get a new deployment."""
        self.family(StageOperations).redeploy_auto_stages(ctx, api_id)

    def family_named(self, name: str) -> Any:
        return next(owner for owner in self.operations if type(owner).__name__ == name)

    def page(
        self, items: list[dict[str, Any]], params: dict[str, Any], key: str, scope: str
    ) -> dict[str, Any]:
        given = params.get("MaxResults") or "100"  # a string in the v2 API
        if not str(given).lstrip("-").isdigit():
            raise bad_request(f"Invalid MaxResults: {given}")
        limit = int(given)
        if limit < 1:
            raise bad_request("MaxResults must be at least 1")
        after = decode_token(params.get("NextToken"), lambda: bad_request("Invalid NextToken"), scope)
        if after is not None:
            ids = [item[key] for item in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        page, token = page_of(items, limit, lambda item: item[key], scope)
        result: dict[str, Any] = {"Items": page}
        if token:
            result["NextToken"] = token
        return result

    def arn(self, ctx: RequestContext, path: str) -> str:
        return f"arn:aws:apigateway:{ctx.region}::{path}"
