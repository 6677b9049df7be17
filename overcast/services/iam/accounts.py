"""Account-wide IAM settings: the password policy and the account alias (unique across accounts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider


class AccountOperations(Operations):
    service: IamProvider

    def set_security_token_service_preferences(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        """v1Token (valid in the Regions enabled by default) or v2Token (in every Region): GetAccountSummary's
        GlobalEndpointTokenVersion. Overcast's tokens work in every region either way."""
        version = 2 if params["GlobalEndpointTokenVersion"] == "v2Token" else 1
        self.service.store.set_token_version(ctx.account_id, version)
        return {}

    def update_account_password_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policy = {
            "MinimumPasswordLength": params.get("MinimumPasswordLength") or 6,
            "RequireSymbols": bool(params.get("RequireSymbols")),
            "RequireNumbers": bool(params.get("RequireNumbers")),
            "RequireUppercaseCharacters": bool(params.get("RequireUppercaseCharacters")),
            "RequireLowercaseCharacters": bool(params.get("RequireLowercaseCharacters")),
            "AllowUsersToChangePassword": bool(params.get("AllowUsersToChangePassword")),
            "ExpirePasswords": bool(params.get("MaxPasswordAge")),
            "HardExpiry": bool(params.get("HardExpiry")),
        }
        for optional in ("MaxPasswordAge", "PasswordReusePrevention"):
            if params.get(optional):
                policy[optional] = params[optional]
        self.service.store.set_password_policy(ctx.account_id, policy)
        return {}

    def get_account_password_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _, policy = self.service.store.account_settings(ctx.account_id)
        if policy is None:
            raise ServiceError(
                "NoSuchEntity", f"The Password Policy with domain name {ctx.account_id} cannot be found.", 404
            )
        return {"PasswordPolicy": policy}

    def delete_account_password_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.get_account_password_policy(ctx, params)
        self.service.store.set_password_policy(ctx.account_id, None)
        return {}

    def create_account_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        alias = params["AccountAlias"]
        owner = self.service.store.alias_owner(alias)
        if owner is not None and owner != ctx.account_id:
            raise ServiceError("EntityAlreadyExists", f"The account alias {alias} already exists.", 409)
        self.service.store.set_alias(ctx.account_id, alias)
        return {}

    def list_account_aliases(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        alias, _ = self.service.store.account_settings(ctx.account_id)
        return {"AccountAliases": [alias] if alias else [], "IsTruncated": False}

    def delete_account_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        alias, _ = self.service.store.account_settings(ctx.account_id)
        if alias != params["AccountAlias"]:
            raise ServiceError(
                "NoSuchEntity", f"The account alias {params['AccountAlias']} cannot be found.", 404
            )
        self.service.store.set_alias(ctx.account_id, None)
        return {}
