"""Identities: GetId (guest or by login), OpenID tokens (GetOpenIdToken, and for developer-authenticated
identities GetOpenIdTokenForDeveloperIdentity), GetCredentialsForIdentity's real STS credentials for the
mapped role (the enhanced flow), and the identities' records."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import overcast.services.sts.api as sts
from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.cognitoidentity.mapping import AMBIGUOUS, mapped_role
from overcast.services.kit.paging import decode_token, page_of

if TYPE_CHECKING:
    from overcast.services.cognitoidentity.provider import CognitoIdentityProvider

PROVIDER = "cognito-identity.amazonaws.com"
OPEN_ID_TOKEN_SECONDS = 600
SESSION_NAME = "CognitoIdentityCredentials"


def not_authorized(message: str) -> ServiceError:
    return ServiceError("NotAuthorizedException", message, 400)


def bad_configuration() -> ServiceError:
    return ServiceError(
        "InvalidIdentityPoolConfigurationException",
        "Invalid identity pool configuration. Check assigned IAM roles for this pool.",
        400,
    )


def amr_of(logins: list[tuple[str, str, dict[str, Any]]], pool_id: str) -> list[str]:
    if not logins:
        return ["unauthenticated"]
    amr = ["authenticated"]
    for provider, subject, _ in logins:
        suffix = f"CognitoSignIn:{subject}" if provider.startswith("cognito-idp.") else f"{pool_id}:{subject}"
        amr += [provider, f"{provider}:{suffix}"]
    return amr


class IdentityOperations(Operations):
    service: CognitoIdentityProvider

    def _identity_for_logins(self, pool_id: str, region: str, logins, identity_id: str | None = None) -> str:
        """The identity these logins belong to (made, and the logins linked to it, when new)."""
        store = self.service.store
        for provider, subject, _ in logins:
            found = store.identity_for_login(pool_id, provider, subject)
            if found is not None:
                if identity_id and found != identity_id:
                    raise ServiceError(
                        "ResourceConflictException",
                        "The provided login is already linked to another identity.",
                        400,
                    )
                identity_id = found
                break
        now = self.clock.now()
        if identity_id is None:
            identity_id = self.service.new_id(region)
            store.add_identity(identity_id, pool_id, now)
        elif store.identity(identity_id) is None:
            raise ServiceError("ResourceNotFoundException", f"Identity '{identity_id}' not found.", 400)
        for provider, subject, _ in logins:
            store.link(identity_id, pool_id, provider, subject, now)
        return identity_id

    def get_id(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool_id = params["IdentityPoolId"]
        account, region, config, _ = self.service.pool_for(ctx, pool_id)
        if params.get("AccountId") and params["AccountId"] != account:
            raise not_authorized("Invalid AccountId or IdentityPoolId")
        logins = self.service.login_subjects(config, params.get("Logins") or {})
        if not logins and not config.get("AllowUnauthenticatedIdentities"):
            raise not_authorized("Unauthenticated access is not supported for this identity pool.")
        return {"IdentityId": self._identity_for_logins(pool_id, region, logins)}

    def _checked(self, identity_id: str, logins_given: dict[str, str] | None):
        """(identity, pool (account, region, config, roles), checked logins) for a request naming an identity."""
        identity = self.service.identity_for(identity_id)
        found = self.service.store.pool(identity["pool_id"])
        if found is None:
            raise ServiceError("ResourceNotFoundException", f"Identity '{identity_id}' not found.", 400)
        logins = self.service.login_subjects(found[2], logins_given or {})
        linked = identity["logins"]
        if logins:
            if any(
                linked.get(provider) != subject for provider, subject, _ in logins if provider in linked
            ) or not any(provider in linked for provider, _, _ in logins):
                raise not_authorized(
                    "Logins don't match. Please include at least one valid login for this identity or identity pool."
                )
        elif linked:
            raise not_authorized(f"Access to Identity '{identity_id}' is forbidden.")
        elif not found[2].get("AllowUnauthenticatedIdentities"):
            raise not_authorized("Unauthenticated access is not supported for this identity pool.")
        return identity, found, logins

    def get_open_id_token(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        identity, (_, region, _, _), logins = self._checked(params["IdentityId"], params.get("Logins"))
        token = self.service.open_id_token(
            region,
            identity["pool_id"],
            identity["IdentityId"],
            amr_of(logins, identity["pool_id"]),
            OPEN_ID_TOKEN_SECONDS,
        )
        return {"IdentityId": identity["IdentityId"], "Token": token}

    def get_open_id_token_for_developer_identity(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        pool_id = params["IdentityPoolId"]
        _, region, config, _ = self.service.pool_for(ctx, pool_id)
        developer = config.get("DeveloperProviderName")
        logins = params["Logins"]
        if not developer or developer not in logins:
            raise not_authorized(
                "Login provider doesn't match the developer provider name for this identity pool."
            )
        checked = [(developer, logins[developer], {})]
        others = {k: v for k, v in logins.items() if k != developer}
        checked += self.service.login_subjects(config, others)
        identity_id = self._identity_for_logins(pool_id, region, checked, params.get("IdentityId"))
        duration = params.get("TokenDuration") or 900
        token = self.service.open_id_token(region, pool_id, identity_id, amr_of(checked, pool_id), duration)
        return {"IdentityId": identity_id, "Token": token}

    def lookup_developer_identity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool_id = params["IdentityPoolId"]
        _, _, config, _ = self.service.pool_for(ctx, pool_id)
        developer = config.get("DeveloperProviderName")
        identity_id = params.get("IdentityId")
        user = params.get("DeveloperUserIdentifier")
        if user and developer:
            identity_id = self.service.store.identity_for_login(pool_id, developer, user) or identity_id
        if not identity_id or self.service.store.identity(identity_id) is None:
            raise ServiceError("ResourceNotFoundException", "Identity not found.", 400)
        linked = self.service.store.identity(identity_id)["logins"]  # type: ignore[index]
        users = [linked[developer]] if developer in linked else []
        return {"IdentityId": identity_id, "DeveloperUserIdentifierList": users}

    def unlink_developer_identity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.pool_for(ctx, params["IdentityPoolId"])
        self.service.store.unlink(params["IdentityId"], params["DeveloperProviderName"])
        return {}

    def unlink_identity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        identity, _, _ = self._checked(params["IdentityId"], params.get("Logins"))
        for provider in params.get("LoginsToRemove") or ():
            self.service.store.unlink(identity["IdentityId"], provider)
        return {}

    # -- credentials -------------------------------------------------------------------------------------

    def get_credentials_for_identity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        identity, (account, region, config, roles), logins = self._checked(
            params["IdentityId"], params.get("Logins")
        )
        pool_id = identity["pool_id"]
        default_roles = roles.get("Roles") or {}
        if not logins:
            role = default_roles.get("unauthenticated")
        else:
            provider, _, claims = logins[0]
            mappings = roles.get("RoleMappings") or {}
            mapping = mappings.get(provider) or mappings.get(f"{provider}:{claims.get('aud', '')}")
            role = mapped_role(
                mapping, claims, params.get("CustomRoleArn"), default_roles.get("authenticated")
            )
            if role is AMBIGUOUS:
                raise not_authorized(
                    "Ambiguous role mappings for the identity, and the pool denies ambiguous roles."
                )
        if not isinstance(role, str):
            raise bad_configuration()
        keys = {
            f"{PROVIDER}:aud": [pool_id],
            f"{PROVIDER}:sub": identity["IdentityId"],
            f"{PROVIDER}:amr": amr_of(logins, pool_id),
        }
        try:
            issued = sts.credentials_for_web_identity(
                self.platform,
                role,
                PROVIDER,
                identity["IdentityId"],
                SESSION_NAME,
                context_keys=keys,
                region=region,
            )
        except ServiceError as error:
            if error.code == "AccessDenied":
                raise bad_configuration() from None
            raise
        credentials = issued["Credentials"]
        return {
            "IdentityId": identity["IdentityId"],
            "Credentials": {
                "AccessKeyId": credentials["AccessKeyId"],
                "SecretKey": credentials["SecretAccessKey"],
                "SessionToken": credentials["SessionToken"],
                "Expiration": credentials["Expiration"],
            },
        }

    # -- records -----------------------------------------------------------------------------------------

    @staticmethod
    def _description(identity: dict[str, Any]) -> dict[str, Any]:
        return {
            "IdentityId": identity["IdentityId"],
            "Logins": sorted(identity["logins"]),
            "CreationDate": identity["created"],
            "LastModifiedDate": identity["modified"],
        }

    def describe_identity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        identity = self.service.identity_for(params["IdentityId"])
        self.service.pool_for(ctx, identity["pool_id"])
        return self._description(identity)

    def list_identities(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool_id = params["IdentityPoolId"]
        self.service.pool_for(ctx, pool_id)
        limit = params["MaxResults"]
        after = decode_token(
            params.get("NextToken"),
            lambda: ServiceError("InvalidParameterException", "Invalid pagination token", 400),
            "identities",
        )
        rows = self.service.store.identities(pool_id, after, limit + 1)
        page, token = page_of(rows, limit, lambda identity: identity["IdentityId"], "identities")
        result: dict[str, Any] = {
            "IdentityPoolId": pool_id,
            "Identities": [self._description(i) for i in page],
        }
        if token:
            result["NextToken"] = token
        return result

    def delete_identities(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        unprocessed = []
        for identity_id in params["IdentityIdsToDelete"]:
            found = self.service.store.identity(identity_id)
            owner = self.service.store.pool(found["pool_id"]) if found else None
            if found is None or owner is None or owner[0] != ctx.account_id:
                unprocessed.append({"IdentityId": identity_id, "ErrorCode": "InternalServerError"})
                continue
            self.service.store.delete_identity(identity_id)
        return {"UnprocessedIdentityIds": unprocessed}
