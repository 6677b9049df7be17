"""Tags of log groups, by ARN (TagResource...) or by name (the older TagLogGroup...), kept in the kit's table
(services/kit/tags.py) under the group's ARN without its ":*"."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.logs.common import MAX_TAGS, TAG_RULES
from overcast.services.logs.store import LogGroup

if TYPE_CHECKING:
    from overcast.services.logs.provider import LogsProvider


class TagOperations(Operations):
    service: LogsProvider

    def _add(self, ctx: RequestContext, group: LogGroup, tags: dict[str, str], rules=TAG_RULES) -> None:
        self.service.tags.add(group.arn, tags, rules, account=ctx.account_id, region=ctx.region)

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["resourceArn"]
        group = self.service.group_by_arn(ctx, arn)
        self._add(ctx, group, params["tags"], replace(TAG_RULES, too_many=lambda _: _too_many_tags(arn)))
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.service.group_by_arn(ctx, params["resourceArn"])
        self.service.tags.remove(group.arn, params["tagKeys"])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"tags": self.service.tags.get(self.service.group_by_arn(ctx, params["resourceArn"]).arn)}

    def tag_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._add(ctx, self.service.group(ctx, params), params["tags"])
        return {}

    def untag_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.tags.remove(self.service.group(ctx, params).arn, params["tags"])
        return {}

    def list_tags_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"tags": self.service.tags.get(self.service.group(ctx, params).arn)}


def _too_many_tags(arn: str) -> ServiceError:
    """The newer API words the limit its own way."""
    return ServiceError(
        "TooManyTagsException", f"A resource can have no more than {MAX_TAGS} tags.", resourceName=arn
    )
