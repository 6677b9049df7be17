"""Tags of API Gateway resources by ARN (`arn:aws:apigateway:<region>::/restapis/<id>`), kept in the kit's
table so the Resource Groups Tagging API sees them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.apigateway.common import bad_request, not_found
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.tags import TagRules

if TYPE_CHECKING:
    from overcast.services.apigateway.provider import ApiGatewayProvider


def _too_many(limit: int) -> ServiceError:
    return bad_request(f"Tags cannot exceed {limit}")


RULES = TagRules(too_many=_too_many, invalid=lambda key: bad_request(f"Invalid tag key: {key}"))
# ARN resource paths -> (kind, how the parent and id are found in the path's segments)
_KINDS = {
    ("restapis",): "restapi",
    ("restapis", "stages"): "stage",
    ("apikeys",): "apikey",
    ("usageplans",): "usageplan",
    ("domainnames",): "domain",
    ("clientcertificates",): "clientcert",
    ("vpclinks",): "vpclink",
}


class TagOperations(Operations):
    service: ApiGatewayProvider

    def _resource(self, ctx: RequestContext, arn: str) -> str:
        parsed = parse_arn(arn)
        if parsed is None or parsed.service != "apigateway" or not parsed.resource.startswith("/"):
            raise bad_request(f"Invalid ARN specified in the request: {arn}")
        parts = parsed.resource.strip("/").split("/")
        kind = _KINDS.get(tuple(parts[0::2]))
        if kind is None or len(parts) % 2:
            raise bad_request(f"Invalid ARN specified in the request: {arn}")
        parent, resource_id = (parts[1], parts[3]) if kind == "stage" else ("", parts[1])
        region = parsed.region or ctx.region
        if self.service.store.get(ctx.account_id, region, kind, parent, resource_id) is None:
            raise not_found(f"Invalid resource specified in the request: {arn}")
        return arn

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._resource(ctx, params["resourceArn"])
        self.service.tags.add(arn, params["tags"], RULES, account=ctx.account_id, region=ctx.region)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._resource(ctx, params["resourceArn"])
        self.service.tags.remove(arn, params["tagKeys"])
        return {}

    def get_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._resource(ctx, params["resourceArn"])
        return {"tags": self.service.tags.get(arn)}
