"""Identity pools: create, describe, update, delete, list; their roles and role mappings; tags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.kit.tags import TagRules

if TYPE_CHECKING:
    from overcast.services.cognitoidentity.provider import CognitoIdentityProvider

TAG_RULES = TagRules(reserved_prefix=None)
SETTINGS = (
    "AllowClassicFlow",
    "SupportedLoginProviders",
    "DeveloperProviderName",
    "OpenIdConnectProviderARNs",
    "CognitoIdentityProviders",
    "SamlProviderARNs",
)


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message, 400)


def _arn(region: str, account: str, pool_id: str) -> str:
    return f"arn:aws:cognito-identity:{region}:{account}:identitypool/{pool_id}"


class IdentityPoolOperations(Operations):
    service: CognitoIdentityProvider

    def _description(self, pool_id: str, params: dict[str, Any]) -> dict[str, Any]:
        description: dict[str, Any] = {
            "IdentityPoolId": pool_id,
            "IdentityPoolName": params["IdentityPoolName"],
            "AllowUnauthenticatedIdentities": params["AllowUnauthenticatedIdentities"],
            "AllowClassicFlow": bool(params.get("AllowClassicFlow", False)),
        }
        for name in SETTINGS[1:]:
            if params.get(name) is not None:
                description[name] = params[name]
        for entry in description.get("CognitoIdentityProviders") or ():
            entry.setdefault("ServerSideTokenCheck", False)
        return description

    def create_identity_pool(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool_id = self.service.new_id(ctx.region)
        description = self._description(pool_id, params)
        self.service.store.put_pool(pool_id, ctx.account_id, ctx.region, description, {})
        arn = _arn(ctx.region, ctx.account_id, pool_id)
        if params.get("IdentityPoolTags"):
            self.service.tags.add(
                arn, params["IdentityPoolTags"], TAG_RULES, account=ctx.account_id, region=ctx.region
            )
        return {**description, "IdentityPoolTags": self.service.tags.get(arn)}

    def describe_identity_pool(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        account, region, description, _ = self.service.pool_for(ctx, params["IdentityPoolId"])
        return {
            **description,
            "IdentityPoolTags": self.service.tags.get(_arn(region, account, params["IdentityPoolId"])),
        }

    def update_identity_pool(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        account, region, _, roles = self.service.pool_for(ctx, params["IdentityPoolId"])
        description = self._description(params["IdentityPoolId"], params)
        self.service.store.put_pool(params["IdentityPoolId"], account, region, description, roles)
        arn = _arn(region, account, params["IdentityPoolId"])
        if params.get("IdentityPoolTags") is not None:
            self.service.tags.replace(
                arn, params["IdentityPoolTags"], TAG_RULES, account=account, region=region
            )
        return {**description, "IdentityPoolTags": self.service.tags.get(arn)}

    def delete_identity_pool(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        account, region, _, _ = self.service.pool_for(ctx, params["IdentityPoolId"])
        self.service.store.delete_pool(params["IdentityPoolId"])
        self.service.tags.forget(_arn(region, account, params["IdentityPoolId"]))
        return {}

    def list_identity_pools(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params["MaxResults"]
        after = decode_token(params.get("NextToken"), lambda: invalid("Invalid pagination token"), "pools")
        rows = self.service.store.pools(ctx.account_id, ctx.region, after, limit + 1)
        page, token = page_of(rows, limit, lambda pool: pool["IdentityPoolId"], "pools")
        result: dict[str, Any] = {
            "IdentityPools": [
                {"IdentityPoolId": p["IdentityPoolId"], "IdentityPoolName": p["IdentityPoolName"]}
                for p in page
            ]
        }
        if token:
            result["NextToken"] = token
        return result

    # -- roles -----------------------------------------------------------------------------------------

    def set_identity_pool_roles(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        account, region, description, _ = self.service.pool_for(ctx, params["IdentityPoolId"])
        for role in (params.get("Roles") or {}).values():
            parsed = parse_arn(role)
            if parsed is None or parsed.service != "iam":
                raise invalid(f"Invalid role ARN: {role}")
        for key, mapping in (params.get("RoleMappings") or {}).items():
            if mapping.get("Type") == "Rules" and not (mapping.get("RulesConfiguration") or {}).get("Rules"):
                raise invalid(f"RulesConfiguration is required for role mapping {key} of type Rules.")
            if mapping.get("Type") == "Rules" or mapping.get("Type") == "Token":
                if not mapping.get("AmbiguousRoleResolution"):
                    raise invalid(
                        "AmbiguousRoleResolution must be specified for role mappings of type Token or Rules."
                    )
        roles = {"Roles": params.get("Roles") or {}}
        if params.get("RoleMappings"):
            roles["RoleMappings"] = params["RoleMappings"]
        self.service.store.put_pool(params["IdentityPoolId"], account, region, description, roles)
        return {}

    def get_identity_pool_roles(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _, _, _, roles = self.service.pool_for(ctx, params["IdentityPoolId"])
        return {"IdentityPoolId": params["IdentityPoolId"], **roles}

    # -- tags ------------------------------------------------------------------------------------------

    def _tagged(self, ctx: RequestContext, arn: str) -> str:
        parsed = parse_arn(arn)
        found = (
            self.service.store.pool(parsed.resource_id)
            if parsed and parsed.resource_type == "identitypool"
            else None
        )
        if found is None or found[0] != ctx.account_id:
            raise ServiceError("ResourceNotFoundException", f"IdentityPool '{arn}' not found.", 400)
        return _arn(found[1], found[0], parsed.resource_id)  # type: ignore[union-attr]

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._tagged(ctx, params["ResourceArn"])
        self.service.tags.add(arn, params["Tags"], TAG_RULES, account=ctx.account_id, region=ctx.region)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.tags.remove(self._tagged(ctx, params["ResourceArn"]), params["TagKeys"])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": self.service.tags.get(self._tagged(ctx, params["ResourceArn"]))}
