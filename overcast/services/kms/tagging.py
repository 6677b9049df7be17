"""Tags on KMS keys (kept by the kit's tag table, with KMS's limits and TagException texts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.kit.tags import tag_dict, tag_list
from overcast.services.kms.rules import TAG_RULES, invalid_marker

if TYPE_CHECKING:
    from overcast.services.kms.provider import KmsProvider


class TagOperations(Operations):
    service: KmsProvider

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        self.service.check_customer_managed(key, "TagResource")
        self.service.check_not_pending(key)
        tags = tag_dict(params["Tags"], "TagKey", "TagValue")
        self.service.tags.add(key.arn, tags, TAG_RULES, account=key.account, region=key.region)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        self.service.check_customer_managed(key, "UntagResource")
        self.service.check_not_pending(key)
        self.service.tags.remove(key.arn, params["TagKeys"])
        return {}

    def list_resource_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.key_of(ctx, params["KeyId"])
        tags = sorted(self.service.tags.get(key.arn).items())
        limit = params.get("Limit") or 50
        scope = f"tags:{key.key_id}"
        after = decode_token(params.get("Marker"), invalid_marker, scope) or ""
        rows = [item for item in tags if item[0] > after]
        page, marker = page_of(rows, limit, lambda item: item[0], scope)
        result: dict[str, Any] = {"Tags": tag_list(dict(page), "TagKey", "TagValue")}
        if marker:
            result["NextMarker"] = marker
        result["Truncated"] = marker is not None
        return result
