"""S3 Control: the account-level S3 settings. So far Block Public Access (Put/Get/DeletePublicAccessBlock),
kept in S3's account settings, which every bucket check combines with the bucket's own settings."""

from __future__ import annotations

from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import ServiceProvider

_SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


class S3ControlProvider(ServiceProvider):
    service_name = "s3control"

    def __init__(self, platform: Any) -> None:
        super().__init__(platform)
        # S3 is loaded here, outside any request's transaction, so that its tables are created for good
        self._s3 = platform.provider("s3")

    def _store(self) -> Any:
        return self._s3.store

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
        self._store().put_account_setting(account, "public_access_block", settings)
        return {}

    def get_public_access_block(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        account = self._account(ctx, params)
        settings = self._store().account_setting(account, "public_access_block")
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
        self._store().delete_account_setting(account, "public_access_block")
        return {}
