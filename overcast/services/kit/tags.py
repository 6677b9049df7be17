"""Resource tags for every service, in one table (kit/store.py), with each service's limits and wording.

A service validates and stores tags with `self.tags` (its provider's `ResourceTags`):

    self.tags.add(arn, {"env": "prod"}, RULES, account=ctx.account_id, region=ctx.region)
    self.tags.get(arn)              # {"env": "prod"}
    self.tags.remove(arn, ["env"])
    self.tags.forget(arn)           # when the resource is deleted

so the Resource Groups Tagging API (GetResources, TagResources, ...) sees every service's tags at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from overcast.errors import ServiceError
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.store import TagStore


def _too_many(limit: int) -> ServiceError:
    return ServiceError("ValidationException", f"The number of tags exceeds the limit of {limit}.", 400)


def _invalid(key: str) -> ServiceError:
    return ServiceError("ValidationException", f"Tag key or value is invalid: {key}", 400)


@dataclass(frozen=True)
class TagRules:
    """A service's tag limits (AWS's common ones by default) and the errors it words a breach with."""

    max_tags: int = 50
    max_key: int = 128
    max_value: int = 256
    reserved_prefix: str | None = "aws:"  # keys AWS keeps for itself (case-insensitive); None: allowed
    too_many: Callable[[int], ServiceError] = field(default=_too_many)  # (limit) -> error
    invalid: Callable[[str], ServiceError] = field(default=_invalid)  # (key) -> error
    reserved: Callable[[str], ServiceError] | None = None  # (key) -> error; `invalid` when None

    def check(self, tags: Mapping[str, str]) -> None:
        """Raise the service's error for the first rule `tags` (the resource's whole set) breaks."""
        if len(tags) > self.max_tags:
            raise self.too_many(self.max_tags)
        for key, value in tags.items():
            if not 1 <= len(key) <= self.max_key or len(value or "") > self.max_value:
                raise self.invalid(key)
            if self.reserved_prefix and key.lower().startswith(self.reserved_prefix):
                raise (self.reserved or self.invalid)(key)


DEFAULT_RULES = TagRules()


class ResourceTags:
    """Tags of resources by ARN, kept by the kit for every service (one provider's view of the table)."""

    def __init__(self, store: TagStore) -> None:
        self.store = store

    def get(self, arn: str) -> dict[str, str]:
        return self.store.tags(arn)

    def lazy(self, arn: str) -> Mapping[str, str]:
        """The tags of `arn`, read on first use: for the policy engine's ResourcePolicy, which needs them only
        when a policy is evaluated (most authorized requests never read them)."""
        return LazyTags(self.store, arn)

    def get_many(self, arns: list[str]) -> dict[str, dict[str, str]]:
        """{arn: tags} of many resources at once (for listings); untagged ones are absent."""
        return self.store.tags_of(arns)

    def add(
        self,
        arn: str,
        tags: Mapping[str, str],
        rules: TagRules = DEFAULT_RULES,
        *,
        account: str,
        region: str,
    ) -> dict[str, str]:
        """Add or overwrite `tags` on `arn` after checking the resulting set against `rules`; the new set."""
        merged = {**self.store.tags(arn), **tags}
        rules.check(merged)
        self._put(arn, dict(tags), account, region)
        return merged

    def replace(
        self,
        arn: str,
        tags: Mapping[str, str],
        rules: TagRules = DEFAULT_RULES,
        *,
        account: str,
        region: str,
    ) -> None:
        """Make `tags` the whole set of `arn` (S3's PutBucketTagging, a CloudFormation update)."""
        rules.check(tags)
        self.store.forget(arn)
        self._put(arn, dict(tags), account, region)

    def remove(self, arn: str, keys: Iterable[str]) -> None:
        self.store.remove(arn, list(keys))

    def forget(self, arn: str) -> None:
        """Drop every tag of `arn` (its resource was deleted)."""
        self.store.forget(arn)

    def _put(self, arn: str, tags: dict[str, str], account: str, region: str) -> None:
        if not tags:
            return
        parsed = parse_arn(arn)
        service = parsed.service if parsed else ""
        resource_type = parsed.resource_type if parsed else ""
        self.store.put(
            arn, tags, account=account, region=region, service=service, resource_type=resource_type
        )


class LazyTags(Mapping[str, str]):
    """A resource's tags, read from the store the first time they are looked at."""

    def __init__(self, store: TagStore, arn: str) -> None:
        self._store, self._arn = store, arn
        self._tags: dict[str, str] | None = None

    def _loaded(self) -> dict[str, str]:
        if self._tags is None:
            self._tags = self._store.tags(self._arn)
        return self._tags

    def __getitem__(self, key: str) -> str:
        return self._loaded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


def tag_list(tags: Mapping[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    """{"k": "v"} as AWS's list shape [{"Key": "k", "Value": "v"}] (or the service's own member names)."""
    return [{key: k, value: v} for k, v in tags.items()]


def tag_dict(
    tags: Iterable[Mapping[str, Any]] | None, key: str = "Key", value: str = "Value"
) -> dict[str, str]:
    """AWS's list shape [{"Key": "k", "Value": "v"}] as {"k": "v"} (a missing value is "")."""
    return {str(tag[key]): str(tag.get(value) or "") for tag in tags or ()}


class ArnTagOperations:
    """TagResource / UntagResource / ListTagsForResource as most AWS APIs spell them, for a service family to
    reuse (mix into its `Operations` family): tags by the resource's ARN in the kit's table.

    A service sets the member names its model uses and implements `tagged_arn(ctx, arn) -> str` (the ARN if it
    names one of its resources that exists, else the service's own error)."""

    arn_member = "ResourceARN"
    tags_member = "Tags"
    keys_member = "TagKeys"
    tag_key, tag_value = "Key", "Value"  # the list shape's members; None: the tags are a {key: value} map
    rules: TagRules = DEFAULT_RULES
    service: Any

    def tagged_arn(self, ctx: Any, arn: str) -> str:
        raise NotImplementedError

    def tag_resource(self, ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        arn = self.tagged_arn(ctx, params[self.arn_member])
        given = params[self.tags_member]
        tags = dict(given) if self.tag_key is None else tag_dict(given, self.tag_key, self.tag_value)
        self.service.tags.add(arn, tags, self.rules, account=ctx.account_id, region=ctx.region)
        return {}

    def untag_resource(self, ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        self.service.tags.remove(self.tagged_arn(ctx, params[self.arn_member]), params[self.keys_member])
        return {}

    def list_tags_for_resource(self, ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        tags = self.service.tags.get(self.tagged_arn(ctx, params[self.arn_member]))
        listed = tags if self.tag_key is None else tag_list(tags, self.tag_key, self.tag_value)
        return {self.tags_member: listed}
