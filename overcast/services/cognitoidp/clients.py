"""App clients (with and without secrets, auth flows, token validity, attribute permissions, OAuth settings),
domains, resource servers with their custom scopes, and identity providers (kept as records)."""

from __future__ import annotations

import secrets
import string
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, page_of

if TYPE_CHECKING:
    from overcast.services.cognitoidp.provider import CognitoIdpProvider

CLIENT_SETTINGS = (
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "ExplicitAuthFlows",
    "SupportedIdentityProviders",
    "CallbackURLs",
    "LogoutURLs",
    "DefaultRedirectURI",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient",
    "AnalyticsConfiguration",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "EnablePropagateAdditionalUserContextData",
    "AuthSessionValidity",
    "RefreshTokenRotation",
)
CLIENT_DEFAULTS = {
    "RefreshTokenValidity": 30,
    "TokenValidityUnits": {},
    "AllowedOAuthFlowsUserPoolClient": False,
    "EnableTokenRevocation": True,
    "EnablePropagateAdditionalUserContextData": False,
    "AuthSessionValidity": 3,
}
# Without ExplicitAuthFlows a client allows these (AWS's documented default).
DEFAULT_FLOWS = ("ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH")


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message, 400)


def _random(length: int, alphabet: str) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def allows(client: dict[str, Any], flow: str) -> bool:
    """Whether the client allows an auth flow (ALLOW_<flow>, or the legacy names)."""
    flows = client.get("ExplicitAuthFlows")
    if flows is None:
        flows = DEFAULT_FLOWS
    legacy = {"ADMIN_USER_PASSWORD_AUTH": "ADMIN_NO_SRP_AUTH", "USER_PASSWORD_AUTH": "USER_PASSWORD_AUTH"}
    if flow == "USER_SRP_AUTH" and not any(f.startswith("ALLOW_") for f in flows):
        return True  # legacy clients always allowed SRP
    return (
        f"ALLOW_{flow}" in flows
        or legacy.get(flow) in flows
        or (flow == "CUSTOM_AUTH" and "CUSTOM_AUTH_FLOW_ONLY" in flows)
    )


class ClientOperations(Operations):
    service: CognitoIdpProvider

    # -- app clients -------------------------------------------------------------------------------------

    def _settings(self, ctx: RequestContext, pool, params: dict[str, Any]) -> dict[str, Any]:
        settings = dict(CLIENT_DEFAULTS)
        settings.update({name: params[name] for name in CLIENT_SETTINGS if params.get(name) is not None})
        names = {entry["Name"] for entry in pool.config["SchemaAttributes"]}
        for kind in ("Read", "Write"):
            for name in params.get(f"{kind}Attributes") or ():
                if name not in names and f"dev:{name}" not in names:
                    raise invalid(f"Invalid {kind.lower()} attributes specified while creating a client")
        flows = params.get("AllowedOAuthFlows") or []
        if "client_credentials" in flows and not (params.get("GenerateSecret") or params.get("_has_secret")):
            raise invalid(
                "client_credentials flow can not be selected if client does not have a client secret."
            )
        if "client_credentials" in flows and len(flows) > 1:
            raise invalid(
                "client_credentials flow can not be selected along with code flow or implicit flow."
            )
        for scope in params.get("AllowedOAuthScopes") or ():
            if "/" in scope and not self._scope_exists(pool.id, scope):
                raise ServiceError("ScopeDoesNotExistException", f"Invalid scope requested: {scope}", 400)
        if params.get("DefaultRedirectURI") and params["DefaultRedirectURI"] not in (
            params.get("CallbackURLs") or ()
        ):
            raise invalid("DefaultRedirectURI must be one of the CallbackURLs.")
        return settings

    def _scope_exists(self, pool_id: str, scope: str) -> bool:
        identifier, _, name = scope.rpartition("/")
        server = self.service.store.child(pool_id, "resource-server", identifier)
        return server is not None and any(entry["ScopeName"] == name for entry in server.get("Scopes") or ())

    def create_user_pool_client(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        settings = self._settings(ctx, pool, params)
        now = self.clock.now()
        client: dict[str, Any] = {
            "UserPoolId": pool.id,
            "ClientName": params["ClientName"],
            "ClientId": _random(26, string.ascii_lowercase + string.digits),
        }
        if params.get("GenerateSecret"):
            client["ClientSecret"] = _random(51, string.ascii_lowercase + string.digits)
        client.update({"LastModifiedDate": now, "CreationDate": now, **settings})
        self.service.store.put_client(client["ClientId"], pool.id, client)
        return {"UserPoolClient": client}

    def describe_user_pool_client(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        return {"UserPoolClient": self.service.client_for(params["ClientId"], pool)[1]}

    def update_user_pool_client(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        _, client = self.service.client_for(params["ClientId"], pool)
        settings = self._settings(ctx, pool, {**params, "_has_secret": "ClientSecret" in client})
        updated = {
            key: client[key]
            for key in ("UserPoolId", "ClientName", "ClientId", "ClientSecret")
            if key in client
        }
        if params.get("ClientName"):
            updated["ClientName"] = params["ClientName"]
        updated.update(
            {"LastModifiedDate": self.clock.now(), "CreationDate": client["CreationDate"], **settings}
        )
        self.service.store.put_client(client["ClientId"], pool.id, updated)
        return {"UserPoolClient": updated}

    def delete_user_pool_client(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        self.service.client_for(params["ClientId"], pool)
        self.service.store.delete_client(params["ClientId"])
        return {}

    def list_user_pool_clients(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        limit = params.get("MaxResults") or 60
        after = decode_token(params.get("NextToken"), lambda: invalid("Invalid pagination token"), "clients")
        rows = self.service.store.clients(pool.id, after, limit + 1)
        page, token = page_of(rows, limit, lambda client: client["ClientId"], "clients")
        result: dict[str, Any] = {
            "UserPoolClients": [
                {"ClientId": c["ClientId"], "UserPoolId": c["UserPoolId"], "ClientName": c["ClientName"]}
                for c in page
            ]
        }
        if token:
            result["NextToken"] = token
        return result

    # -- domains -----------------------------------------------------------------------------------------

    def create_user_pool_domain(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        domain = params["Domain"]
        if self.service.store.domain(domain) is not None:
            raise invalid("Domain already associated with another user pool.")
        custom = params.get("CustomDomainConfig")
        for _, details in self.service.store.pool_domains(pool.id):
            if bool(details.get("CustomDomainConfig")) == bool(custom):
                raise invalid("User pool already has a domain configured.")
        version = params.get("ManagedLoginVersion") or 1
        description: dict[str, Any] = {
            "UserPoolId": pool.id,
            "AWSAccountId": pool.account,
            "Domain": domain,
            "S3Bucket": "aws-cognito-prod-pdx-assets",
            "CloudFrontDistribution": f"{_random(14, string.ascii_lowercase + string.digits)}.cloudfront.net",
            "Version": "20130630",
            "Status": "ACTIVE",
            "ManagedLoginVersion": version,
        }
        description["CustomDomainConfig"] = custom or {}
        self.service.store.put_domain(domain, pool.id, description)
        result: dict[str, Any] = {"ManagedLoginVersion": version}
        if custom:
            result["CloudFrontDomain"] = description["CloudFrontDistribution"]
        return result

    def describe_user_pool_domain(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = self.service.store.domain(params["Domain"])
        if found is None or found[1].get("AWSAccountId") != ctx.account_id:
            return {"DomainDescription": {}}
        return {"DomainDescription": found[1]}

    def update_user_pool_domain(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        found = self.service.store.domain(params["Domain"])
        if found is None or found[0] != pool.id:
            raise ServiceError("ResourceNotFoundException", f"Domain {params['Domain']} does not exist.", 400)
        description = found[1]
        if params.get("CustomDomainConfig"):
            description["CustomDomainConfig"] = params["CustomDomainConfig"]
        if params.get("ManagedLoginVersion"):
            description["ManagedLoginVersion"] = params["ManagedLoginVersion"]
        self.service.store.put_domain(params["Domain"], pool.id, description)
        result: dict[str, Any] = {"ManagedLoginVersion": description["ManagedLoginVersion"]}
        if description.get("CustomDomainConfig"):
            result["CloudFrontDomain"] = description["CloudFrontDistribution"]
        return result

    def delete_user_pool_domain(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        found = self.service.store.domain(params["Domain"])
        if found is None or found[0] != pool.id:
            raise invalid("No such domain or user pool exists.")
        self.service.store.delete_domain(params["Domain"])
        return {}

    # -- resource servers --------------------------------------------------------------------------------

    def create_resource_server(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        identifier = params["Identifier"]
        if self.service.store.child(pool.id, "resource-server", identifier) is not None:
            raise invalid(f"{identifier} already exists in user pool {pool.id}.")
        server = {
            "UserPoolId": pool.id,
            "Identifier": identifier,
            "Name": params["Name"],
            "Scopes": params.get("Scopes") or [],
        }
        self.service.store.put_child(pool.id, "resource-server", identifier, server)
        return {"ResourceServer": server}

    def _resource_server(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        server = self.service.store.child(pool.id, "resource-server", params["Identifier"])
        if server is None:
            raise ServiceError(
                "ResourceNotFoundException", f"Resource server {params['Identifier']} does not exist.", 400
            )
        return pool, server

    def describe_resource_server(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"ResourceServer": self._resource_server(ctx, params)[1]}

    def update_resource_server(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool, server = self._resource_server(ctx, params)
        server.update({"Name": params["Name"], "Scopes": params.get("Scopes") or []})
        self.service.store.put_child(pool.id, "resource-server", server["Identifier"], server)
        return {"ResourceServer": server}

    def delete_resource_server(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool, server = self._resource_server(ctx, params)
        self.service.store.delete_child(pool.id, "resource-server", server["Identifier"])
        return {}

    def list_resource_servers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        return self._page(pool.id, "resource-server", params, "ResourceServers", lambda s: s)

    def _page(self, pool_id: str, kind: str, params: dict[str, Any], key: str, shape) -> dict[str, Any]:
        limit = params.get("MaxResults") or 60
        after = decode_token(params.get("NextToken"), lambda: invalid("Invalid pagination token"), kind)
        rows = self.service.store.children(pool_id, kind, after, limit + 1)
        name_of = {
            "resource-server": "Identifier",
            "identity-provider": "ProviderName",
            "group": "GroupName",
        }[kind]
        page, token = page_of(rows, limit, lambda row: row[name_of], kind)
        result: dict[str, Any] = {key: [shape(row) for row in page]}
        if token:
            result["NextToken"] = token
        return result

    # -- identity providers (records) ----------------------------------------------------------------------

    def create_identity_provider(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        name = params["ProviderName"]
        if self.service.store.child(pool.id, "identity-provider", name) is not None:
            raise ServiceError(
                "DuplicateProviderException",
                f"A provider with the name {name} already exists in this user pool.",
                400,
            )
        now = self.clock.now()
        provider = {
            "UserPoolId": pool.id,
            "ProviderName": name,
            "ProviderType": params["ProviderType"],
            "ProviderDetails": params["ProviderDetails"],
            "AttributeMapping": params.get("AttributeMapping") or {},
            "IdpIdentifiers": params.get("IdpIdentifiers") or [],
            "LastModifiedDate": now,
            "CreationDate": now,
        }
        if params["ProviderType"] == "OIDC":
            details = provider["ProviderDetails"]
            issuer = details.get("oidc_issuer", "").rstrip("/")
            details.setdefault("authorize_url", f"{issuer}/oauth2/authorize")
            details.setdefault("token_url", f"{issuer}/oauth2/token")
            details.setdefault("attributes_url", f"{issuer}/oauth2/userInfo")
            details.setdefault("jwks_uri", f"{issuer}/.well-known/jwks.json")
        self.service.store.put_child(pool.id, "identity-provider", name, provider)
        return {"IdentityProvider": provider}

    def _identity_provider(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        found = self.service.store.child(pool.id, "identity-provider", params["ProviderName"])
        if found is None:
            raise ServiceError(
                "ResourceNotFoundException",
                f"Identity provider {params['ProviderName']} does not exist.",
                400,
            )
        return pool, found

    def describe_identity_provider(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"IdentityProvider": self._identity_provider(ctx, params)[1]}

    def update_identity_provider(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool, found = self._identity_provider(ctx, params)
        for name in ("ProviderDetails", "AttributeMapping", "IdpIdentifiers"):
            if params.get(name) is not None:
                found[name] = params[name]
        found["LastModifiedDate"] = self.clock.now()
        self.service.store.put_child(pool.id, "identity-provider", found["ProviderName"], found)
        return {"IdentityProvider": found}

    def delete_identity_provider(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool, found = self._identity_provider(ctx, params)
        self.service.store.delete_child(pool.id, "identity-provider", found["ProviderName"])
        return {}

    def list_identity_providers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        keys = ("ProviderName", "ProviderType", "LastModifiedDate", "CreationDate")
        return self._page(
            pool.id, "identity-provider", params, "Providers", lambda p: {k: p[k] for k in keys}
        )

    def get_identity_provider_by_identifier(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        after = None
        while True:  # bounded by the pool's providers (at most 300 in AWS)
            rows = self.service.store.children(pool.id, "identity-provider", after, 100)
            for row in rows:
                if params["IdpIdentifier"] in (row.get("IdpIdentifiers") or ()):
                    return {"IdentityProvider": row}
            if len(rows) < 100:
                break
            after = rows[-1]["ProviderName"]
        raise ServiceError("ResourceNotFoundException", "Identity provider does not exist.", 400)
