"""DynamoDB TagResource, UntagResource, ListTagsOfResource: table tags, kept in the kit's table of tags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.dynamodb.definitions import TAG_RULES
from overcast.services.kit.tags import tag_dict, tag_list

if TYPE_CHECKING:
    from overcast.services.dynamodb.provider import DynamoDBProvider


class TagOperations(Operations):
    service: DynamoDBProvider

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.service.table_by_arn(ctx, params["ResourceArn"])
        tags = tag_dict(params["Tags"])
        self.service.tags.add(table.arn, tags, TAG_RULES, account=table.account, region=table.region)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.service.table_by_arn(ctx, params["ResourceArn"])
        self.service.tags.remove(table.arn, params["TagKeys"])
        return {}

    def list_tags_of_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.service.table_by_arn(ctx, params["ResourceArn"])
        return {"Tags": tag_list(self.service.tags.get(table.arn))}
