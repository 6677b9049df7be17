"""EC2's tags: CreateTags, DeleteTags and DescribeTags on any EC2 resource, kept in the kit's tag table under
the resource's ARN, so the Resource Groups Tagging API sees them too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ec2 import kinds
from overcast.services.ec2.errors import bad_token
from overcast.services.ec2.filters import check, matches
from overcast.services.ec2.network import TAG_RULES
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.paging import decode_token, encode_token

if TYPE_CHECKING:
    from overcast.services.ec2.provider import Ec2Provider

FILTERS = {"key": "Key", "resource-id": "ResourceId", "resource-type": "ResourceType", "value": "Value"}
BATCH = 500


class TagOperations(Operations):
    service: Ec2Provider

    def _arn(self, ctx: RequestContext, resource_id: str) -> str:
        kind = kinds.kind_of(resource_id)
        if kind is None:
            raise ServiceError("InvalidID", f"The ID '{resource_id}' is not valid")
        resource = self.service.net.find(ctx, kind, resource_id)
        if resource is None:
            raise kind.not_found([resource_id])
        return self.service.net.arn(resource)

    def create_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tags = {t["Key"]: t.get("Value", "") for t in params["Tags"]}
        arns = [self._arn(ctx, resource_id) for resource_id in params["Resources"]]
        for arn in arns:
            self.service.tags.add(arn, tags, TAG_RULES, account=ctx.account_id, region=ctx.region)
        return {}

    def delete_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        for resource_id in params["Resources"]:
            arn = self._arn(ctx, resource_id)
            given = params.get("Tags")
            if given is None:  # no Tags: delete them all
                self.service.tags.forget(arn)
                continue
            current = self.service.tags.get(arn)
            doomed = [
                t["Key"]
                for t in given
                if t["Key"] in current and ("Value" not in t or current[t["Key"]] == t["Value"])
            ]
            self.service.tags.remove(arn, doomed)
        return {}

    def describe_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        filters = params.get("Filters") or []
        check(filters, FILTERS)
        limit = params.get("MaxResults")
        position = decode_token(params.get("NextToken") or None, bad_token, "DescribeTags") or ["", ""]
        if not (isinstance(position, list) and len(position) == 2):
            raise bad_token()
        store = self.service.tags.store
        after_arn = position[0][:-1] if position[0] else ""  # re-read the last resource: keys may remain
        page: list[dict[str, Any]] = []
        last = position
        while True:
            batch = store.tagged(ctx.account_id, ctx.region, [("ec2", None)], after_arn, BATCH)
            for arn, tags in batch:
                for key, value in tags.items():
                    if [arn, key] <= position:
                        continue
                    entry = _entry(arn, key, value)
                    if entry is None or not matches(entry, filters, FILTERS):
                        continue
                    if limit is not None and len(page) == limit:
                        return {"Tags": page, "NextToken": encode_token(last, "DescribeTags")}
                    page.append(entry)
                    last = [arn, key]
            if len(batch) < BATCH:
                return {"Tags": page}
            after_arn = batch[-1][0]


def _entry(arn: str, key: str, value: str) -> dict[str, Any] | None:
    parsed = parse_arn(arn)
    if parsed is None:
        return None
    return {
        "Key": key,
        "ResourceId": parsed.resource_id,
        "ResourceType": parsed.resource_type,
        "Value": value,
    }
