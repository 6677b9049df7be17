"""KMS aliases: friendly names for keys (`alias/<name>`); `alias/aws/*` are AWS's own."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.kms.rules import MANAGED_SERVICES, invalid_marker, not_found, validation
from overcast.services.kms.store import Key

if TYPE_CHECKING:
    from overcast.services.kms.provider import KmsProvider

_ALIAS = re.compile(r"^alias/[a-zA-Z0-9/_-]+$")
MAX_ALIASES_PER_KEY = 50


def _check_name(name: str) -> None:
    if not name.startswith("alias/"):
        raise validation(
            'Alias must start with the prefix "alias/". Please see '
            "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
        )
    if name.startswith("alias/aws/"):
        raise ServiceError("InvalidAliasNameException", "Cannot create alias with prefix 'alias/aws/'")
    if not _ALIAS.match(name):
        raise validation(f"{name} contains invalid characters for an alias")


class AliasOperations(Operations):
    service: KmsProvider

    def _target(self, ctx: RequestContext, target: str) -> Key:
        if target.startswith("alias/") or ":alias/" in target:
            raise validation("Aliases must refer to keys. Not aliases")
        key = self.service.key_of(ctx, target)
        if key.manager == "AWS":
            raise ServiceError("NotAuthorizedException", "You cannot create an alias for an AWS managed key.")
        self.service.check_not_pending(key)
        return key

    def create_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["AliasName"]
        _check_name(name)
        key = self._target(ctx, params["TargetKeyId"])
        if self.service.store.alias(ctx.account_id, ctx.region, name) is not None:
            raise ServiceError(
                "AlreadyExistsException",
                f"An alias with the name arn:aws:kms:{ctx.region}:{ctx.account_id}:{name} already exists",
            )
        if self.service.store.alias_count(key.account, key.region, key.key_id) >= MAX_ALIASES_PER_KEY:
            raise ServiceError("LimitExceededException", f"{key.arn} has reached the limit of aliases.")
        self.service.store.put_alias(ctx.account_id, ctx.region, name, key.key_id, self.clock.now())
        return {}

    def update_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["AliasName"]
        if name.startswith("alias/aws/"):
            raise ServiceError("NotAuthorizedException", "You cannot update an AWS managed alias.")
        current = self.service.store.alias(ctx.account_id, ctx.region, name)
        if current is None:
            raise not_found(f"Alias arn:aws:kms:{ctx.region}:{ctx.account_id}:{name} is not found.")
        key = self._target(ctx, params["TargetKeyId"])
        old = self.service.store.key(ctx.account_id, ctx.region, current[0])
        if old is not None and (
            old.usage != key.usage or (old.spec == "SYMMETRIC_DEFAULT") != (key.spec == "SYMMETRIC_DEFAULT")
        ):
            raise validation(
                f"{key.arn} must be the same key type and have the same key usage as the current key of {name}."
            )
        self.service.store.put_alias(ctx.account_id, ctx.region, name, key.key_id, self.clock.now())
        return {}

    def delete_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["AliasName"]
        if not name.startswith("alias/"):
            raise validation(
                'Alias must start with the prefix "alias/". Please see '
                "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
            )
        if name.startswith("alias/aws/"):
            raise ServiceError("NotAuthorizedException", "You cannot delete an AWS managed alias.")
        if self.service.store.alias(ctx.account_id, ctx.region, name) is None:
            raise not_found(f"Alias arn:aws:kms:{ctx.region}:{ctx.account_id}:{name} is not found.")
        self.service.store.delete_alias(ctx.account_id, ctx.region, name)
        return {}

    def list_aliases(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Aliases by name; without KeyId also AWS's predefined `alias/aws/*` aliases whose keys do not exist
        yet (as AWS lists them: a name and ARN, no TargetKeyId)."""
        key_id = None
        if params.get("KeyId"):
            key_id = self.service.key_of(ctx, params["KeyId"]).key_id
        limit = params.get("Limit") or 100
        scope = f"aliases:{key_id or ''}"
        after = decode_token(params.get("Marker"), invalid_marker, scope) or ""
        rows = self.service.store.aliases_after(ctx.account_id, ctx.region, key_id, after, limit + 1)
        if key_id is None:
            present = {row[0] for row in rows}
            predefined = [
                (f"alias/aws/{service}", None, None, None)
                for service in sorted(MANAGED_SERVICES)
                if f"alias/aws/{service}" > after
                and f"alias/aws/{service}" not in present
                and self.service.store.alias(ctx.account_id, ctx.region, f"alias/aws/{service}") is None
            ]
            rows = sorted([*rows, *predefined], key=lambda row: row[0])[: limit + 1]
        page, marker = page_of(rows, limit, lambda row: row[0], scope)
        aliases = []
        for name, target, created, updated in page:
            entry: dict[str, Any] = {
                "AliasName": name,
                "AliasArn": f"arn:aws:kms:{ctx.region}:{ctx.account_id}:{name}",
            }
            if target is not None:
                entry.update({"TargetKeyId": target, "CreationDate": created, "LastUpdatedDate": updated})
            aliases.append(entry)
        result: dict[str, Any] = {"Aliases": aliases}
        if marker:
            result["NextMarker"] = marker
        result["Truncated"] = marker is not None
        return result
