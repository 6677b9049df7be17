"""S3 Control: the account-level S3 settings. So far Block Public Access (Put/Get/DeletePublicAccessBlock),
kept by S3 (through its api.py), which every bucket check combines with the bucket's own settings."""

from __future__ import annotations

from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import ServiceProvider
from overcast.services.s3.api import (
    account_public_access_block,
    delete_account_public_access_block,
    load_s3,
    put_account_public_access_block,
)

_SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


class S3ControlProvider(ServiceProvider):
    service_name = "s3control"

    def __init__(self, platform: Any) -> None:
        super().__init__(platform)
        load_s3(platform)  # outside any request's transaction

    @staticmethod
    def _account(ctx: RequestContext, params: dict[str, Any]) -> str:
        """The account named by x-amz-account-id: only the caller's own account may be configured."""
        account = params.get("AccountId") or ""
        if account != ctx.account_id and ctx.principal.kind != "service":
            raise ServiceError("AccessDenied", "Access Denied", 403)
        return account

    def put_public_access_block(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        account = self._account(ctx, params)
        config = params.get("PublicAccessBlockConfiguration") or {}
        settings = {name: bool(config.get(name, False)) for name in _SETTINGS}
        put_account_public_access_block(self.platform, account, settings)
        return {}

    def get_public_access_block(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        account = self._account(ctx, params)
        settings = account_public_access_block(self.platform, account)
        if settings is None:
            raise ServiceError(
                "NoSuchPublicAccessBlockConfiguration",
                "The public access block configuration was not found",
                404,
                AccountId=account,
            )
        return {"PublicAccessBlockConfiguration": {name: bool(settings.get(name)) for name in _SETTINGS}}

    def delete_public_access_block(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        account = self._account(ctx, params)
        delete_account_public_access_block(self.platform, account)
        return {}
