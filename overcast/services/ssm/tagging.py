"""Tags on parameters and documents (AddTagsToResource, RemoveTagsFromResource, ListTagsForResource with
ResourceType Parameter or Document), kept in the kit's tag table. Other SSM resource types do not exist yet."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.tags import TagRules, tag_dict, tag_list
from overcast.services.ssm.names import parameter_arn

if TYPE_CHECKING:
    from overcast.services.ssm.provider import SsmProvider

TAG_RULES = TagRules(
    max_tags=50,
    max_key=128,
    max_value=256,
    too_many=lambda limit: ServiceError("TooManyTagsError", "The Targets parameter includes too many tags."),
    invalid=lambda key: ServiceError("ValidationException", f"Tag key or value is invalid: {key}"),
)


class TagOperations(Operations):
    service: SsmProvider

    def _arn(self, ctx: RequestContext, params: dict[str, Any]) -> str:
        kind, name = params["ResourceType"], params["ResourceId"]
        if kind == "Parameter" and self.service.store.exists(ctx.account_id, ctx.region, name):
            return parameter_arn(ctx.region, ctx.account_id, name)
        if kind == "Document" and self.service.store.document(ctx.account_id, ctx.region, name) is not None:
            return f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:document/{name}"
        raise ServiceError("InvalidResourceId", "")

    def add_tags_to_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._arn(ctx, params)
        self.service.tags.add(
            arn, tag_dict(params["Tags"]), TAG_RULES, account=ctx.account_id, region=ctx.region
        )
        return {}

    def remove_tags_from_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.tags.remove(self._arn(ctx, params), params["TagKeys"])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"TagList": tag_list(self.service.tags.get(self._arn(ctx, params)))}
