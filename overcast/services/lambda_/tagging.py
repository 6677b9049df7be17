"""Tags of functions (under the function's unqualified ARN) and of event source mappings, kept in the kit's
table (services/kit/tags.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn
from overcast.services.lambda_.common import FUNCTION_REF, TAG_RULES, function_arn, not_found

if TYPE_CHECKING:
    from overcast.services.lambda_.provider import LambdaProvider


class TagOperations(Operations):
    service: LambdaProvider

    def _tagged(self, ctx: RequestContext, resource: str) -> str:
        """The ARN a function's (or event source mapping's) tags are kept under; AWS's error when `resource`
        names neither."""
        parsed = parse_arn(resource)
        if parsed is not None and parsed.resource_type == "event-source-mapping":
            if self.service.store.mapping(ctx.account_id, ctx.region, parsed.resource_id) is None:
                raise not_found(f"Event source mapping not found: {resource}")
            return resource
        match = FUNCTION_REF.match(resource)
        if (
            match is None
            or self.service.store.function_row(ctx.account_id, ctx.region, match["name"]) is None
        ):
            raise not_found(f"Function not found: {resource}")
        return function_arn(ctx, match["name"])

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._tagged(ctx, params["Resource"])
        self.service.tags.add(arn, params["Tags"], TAG_RULES, account=ctx.account_id, region=ctx.region)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.tags.remove(self._tagged(ctx, params["Resource"]), params["TagKeys"])
        return {}

    def list_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": self.service.tags.get(self._tagged(ctx, params["Resource"]))}
