"""The API Gateway (REST APIs, botocore "apigateway") provider: its families, its invoke URLs, and what the
families share (documents by kind, the REST API a request names, paging, tags)."""

from __future__ import annotations

from typing import Any

import overcast.services.sts.api as sts
from overcast.context import RequestContext
from overcast.http import HttpRequest, HttpResponse
from overcast.services.apigateway import gateway, metrics
from overcast.services.apigateway.authorizers import AuthorizerOperations
from overcast.services.apigateway.common import not_found
from overcast.services.apigateway.deployments import DeploymentOperations, StageOperations
from overcast.services.apigateway.documentation import DocumentationOperations, VpcLinkOperations
from overcast.services.apigateway.domains import AccountOperations, DomainNameOperations
from overcast.services.apigateway.models import (
    GatewayResponseOperations,
    ModelOperations,
    RequestValidatorOperations,
)
from overcast.services.apigateway.resources import MethodOperations, ResourceOperations
from overcast.services.apigateway.restapis import RestApiOperations
from overcast.services.apigateway.store import ApiGatewayStore
from overcast.services.apigateway.tagging import TagOperations
from overcast.services.apigateway.usage import ApiKeyOperations, UsagePlanOperations
from overcast.services.base import HttpRoute, ServiceProvider
from overcast.services.kit.metrics import MetricCounters, MetricPoint
from overcast.services.kit.paging import decode_token, page_of

# The invoke URL forms (AWS's host form and Overcast's path form; gateway.py parses both).
INVOKE_PATH = "/_overcast/execute-api/"


class ApiGatewayProvider(ServiceProvider):
    service_name = "apigateway"
    families = (
        RestApiOperations,
        ResourceOperations,
        MethodOperations,
        DeploymentOperations,
        StageOperations,
        AuthorizerOperations,
        ModelOperations,
        RequestValidatorOperations,
        GatewayResponseOperations,
        ApiKeyOperations,
        UsagePlanOperations,
        DomainNameOperations,
        AccountOperations,
        TagOperations,
        DocumentationOperations,
        VpcLinkOperations,
    )
    routes = (
        HttpRoute("serve_invoke", "Invoke", host=".execute-api.", path=INVOKE_PATH),
        HttpRoute("serve_invoke", "Invoke", path=gateway.COMPAT_PREFIX),
        HttpRoute("serve_invoke", "Invoke", path="/restapis/", when=gateway.is_user_request),
        HttpRoute("serve_domain", "Invoke", path="/", when=gateway.is_custom_domain),
    )

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = ApiGatewayStore(self.db)
        self.gateway = gateway.Gateway(self)
        self.metrics = MetricCounters()  # AWS/ApiGateway per API and stage, collected by CloudWatch
        sts.prepare(platform)  # integrations assume their roles inside requests: STS is built outside one

    async def start(self) -> None:
        with self.db.transaction():
            gateway.DOMAINS.update(self.store.ids("domain"))

    def reset(self) -> None:
        self.gateway.forget()
        self.metrics = MetricCounters()

    def published_metrics(self, minutes: list[float]) -> list[MetricPoint]:
        """AWS/ApiGateway by ApiName, and ApiName and Stage, for the minute that ended last (metrics.py)."""
        return metrics.published(self.metrics, self.clock.now(), minutes, "ApiName")

    async def serve_invoke(self, request: HttpRequest) -> HttpResponse | None:
        """A request to a REST API's invoke URL (None: the API id is not a REST API's)."""
        return await self.gateway.serve(request)

    async def serve_domain(self, request: HttpRequest) -> HttpResponse | None:
        """A request to a custom domain name of a REST API (by its Host header)."""
        return await self.gateway.serve_domain(request)

    # -- what the families share ---------------------------------------------------------------------

    def rest_api(self, ctx: RequestContext, api_id: str) -> dict[str, Any]:
        found = self.store.get(ctx.account_id, ctx.region, "restapi", "", api_id)
        if found is None:
            raise not_found(f"Invalid API identifier specified {ctx.account_id}:{api_id}")
        return found

    def doc(self, ctx: RequestContext, kind: str, parent: str, id: str, message: str) -> dict[str, Any]:
        found = self.store.get(ctx.account_id, ctx.region, kind, parent, id)
        if found is None:
            raise not_found(message)
        return found

    def save(self, ctx: RequestContext, kind: str, parent: str, id: str, doc: dict[str, Any], **kw) -> None:
        self.store.put(ctx.account_id, ctx.region, kind, parent, id, doc, self.clock.now(), **kw)

    def page(
        self, items: list[dict[str, Any]], params: dict[str, Any], key: str, scope: str
    ) -> dict[str, Any]:
        """One page of `items` ({"items": [...], "position": token}); `key` names an item's id."""
        from overcast.services.apigateway.common import bad_request

        limit = params.get("limit") or 25
        if not 1 <= limit <= 500:
            raise bad_request("Limit must be between 1 and 500")
        after = decode_token(params.get("position"), lambda: bad_request("Invalid position parameter"), scope)
        if after is not None:
            ids = [item[key] for item in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        page, token = page_of(items, limit, lambda item: item[key], scope)
        result: dict[str, Any] = {"items": page}
        if token:
            result["position"] = token
        return result

    def arn(self, ctx: RequestContext, path: str) -> str:
        """The ARN of a resource at `path` (`/restapis/a1b2c3`), as tags and IAM name it."""
        return f"arn:aws:apigateway:{ctx.region}::{path}"

    def with_tags(self, ctx: RequestContext, path: str, doc: dict[str, Any]) -> dict[str, Any]:
        tags = self.tags.get(self.arn(ctx, path))
        return {**doc, "tags": tags} if tags else doc

    def invoke_url(self, api_id: str, stage: str) -> str:
        """Where a stage is served (AWS reports https://<id>.execute-api.<region>.amazonaws.com/<stage>)."""
        return f"http://{api_id}.execute-api.localhost:{self.platform.config.port}/{stage}"
