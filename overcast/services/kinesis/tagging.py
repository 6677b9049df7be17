"""Tags of streams and consumers (kept by the kit) and resource-based policies of streams and consumers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kinesis import errors
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.tags import TagRules, tag_list

if TYPE_CHECKING:
    from overcast.services.kinesis.provider import KinesisProvider

MAX_TAGS = 50


def _too_many(limit: int) -> ServiceError:
    return errors.invalid(f"A resource cannot have more than {limit} tags associated with it.")


def _bad_tag(key: str) -> ServiceError:
    return errors.invalid(
        "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, "
        "_ . / = + - % @ :."
    )


RULES = TagRules(max_tags=MAX_TAGS, too_many=_too_many, invalid=_bad_tag)


class TagOperations(Operations):
    service: KinesisProvider

    def add_tags_to_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.active_stream(ctx, params)
        merged = {**self.service.tags.get(stream.arn), **params["Tags"]}
        if len(merged) > MAX_TAGS:
            raise errors.invalid(
                f"Failed to add tags to stream {stream.name} under account {stream.account} because a given "
                f"stream cannot have more than {MAX_TAGS} tags associated with it."
            )
        self.service.tags.add(stream.arn, params["Tags"], RULES, account=stream.account, region=stream.region)
        return {}

    def remove_tags_from_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.active_stream(ctx, params)
        self.service.tags.remove(stream.arn, params["TagKeys"])
        return {}

    def list_tags_for_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stream = self.service.stream_for(ctx, params)
        tags = sorted(self.service.tags.get(stream.arn).items())
        start = params.get("ExclusiveStartTagKey")
        if start:
            tags = [(k, v) for k, v in tags if k > start]
        limit = params.get("Limit") or 50
        return {"Tags": tag_list(dict(tags[:limit])), "HasMoreTags": len(tags) > limit}

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn, account, region = self._resource(ctx, params["ResourceARN"])
        self.service.tags.add(arn, params["Tags"], RULES, account=account, region=region)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn, _, _ = self._resource(ctx, params["ResourceARN"])
        self.service.tags.remove(arn, params["TagKeys"])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn, _, _ = self._resource(ctx, params["ResourceARN"])
        return {"Tags": tag_list(self.service.tags.get(arn))}

    def _resource(self, ctx: RequestContext, arn: str) -> tuple[str, str, str]:
        """(ARN, account, region) of an existing stream or consumer."""
        resource_owner(self.service, arn)
        parsed = parse_arn(arn)
        assert parsed is not None
        return arn, parsed.account, parsed.region


class PolicyOperations(Operations):
    service: KinesisProvider

    def put_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        text = params["Policy"]
        try:
            document = json.loads(text)
            if not isinstance(document, dict) or "Statement" not in document:
                raise ValueError(text)
        except ValueError:
            raise errors.invalid(
                "Invalid policy document: it must be a JSON object with a Statement."
            ) from None
        self._set(params["ResourceARN"], text)
        return {}

    def get_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        owner = resource_owner(self.service, params["ResourceARN"])
        return {"Policy": owner.policy or "{}"}

    def delete_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        owner = resource_owner(self.service, params["ResourceARN"])
        if not owner.policy:
            raise ServiceError(
                "ResourceNotFoundException", f"No resource policy found for resource {params['ResourceARN']}."
            )
        self._set(params["ResourceARN"], None)
        return {}

    def _set(self, arn: str, policy: str | None) -> None:
        owner = resource_owner(self.service, arn)
        if "/consumer/" in arn:
            self.service.store.set_consumer_policy(owner.id, policy)
        else:
            self.service.store.update_stream(owner.id, policy=policy)


def resource_owner(service: KinesisProvider, arn: str) -> Any:
    """The stream or consumer an ARN names; ResourceNotFoundException when there is none."""
    parsed = parse_arn(arn)
    if parsed is None or parsed.service != "kinesis" or not parsed.resource.startswith("stream/"):
        raise errors.invalid(f"Invalid ARN {arn}.")
    if "/consumer/" in parsed.resource:
        consumer = service.store.consumer_by_arn(arn)
        if consumer is None:
            raise errors.consumer_not_found(arn)
        return consumer
    stream = service.store.stream(parsed.account, parsed.region, parsed.resource_id)
    if stream is None or stream.status == "DELETING":
        raise errors.stream_not_found(parsed.resource_id, parsed.account)
    return stream
