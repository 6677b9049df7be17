"""Tags of delivery streams (kept by the kit)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.tags import TagRules, tag_dict, tag_list

if TYPE_CHECKING:
    from overcast.services.firehose.provider import FirehoseProvider


def _too_many(limit: int) -> ServiceError:
    return ServiceError("LimitExceededException", f"A delivery stream cannot have more than {limit} tags.")


def _invalid(key: str) -> ServiceError:
    return ServiceError("InvalidArgumentException", f"The tag {key} is invalid.")


RULES = TagRules(max_tags=50, too_many=_too_many, invalid=_invalid)


class TagOperations(Operations):
    service: FirehoseProvider

    def tag_delivery_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.stream_for(ctx, params["DeliveryStreamName"])
        self.service.tags.add(
            stream.arn, tag_dict(params["Tags"]), RULES, account=stream.account, region=stream.region
        )
        return {}

    def untag_delivery_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.stream_for(ctx, params["DeliveryStreamName"])
        self.service.tags.remove(stream.arn, params["TagKeys"])
        return {}

    def list_tags_for_delivery_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.stream_for(ctx, params["DeliveryStreamName"])
        tags = sorted(self.service.tags.get(stream.arn).items())
        start = params.get("ExclusiveStartTagKey")
        if start:
            tags = [(k, v) for k, v in tags if k > start]
        limit = params.get("Limit") or 50
        return {"Tags": tag_list(dict(tags[:limit])), "HasMoreTags": len(tags) > limit}
