"""Authorizers of a REST API: Lambda TOKEN and REQUEST authorizers and Cognito user pool authorizers (the
gateway runs them: gateway.py and authorization.py)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.apigateway.common import apply_patch, as_int, bad_request, new_id, set_field
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.apigateway.provider import ApiGatewayProvider

AUTHORIZER_TYPES = ("TOKEN", "REQUEST", "COGNITO_USER_POOLS")
_IDENTITY_SOURCE = re.compile(
    r"^(method\.request\.(header|querystring|multivaluequerystring|multivalueheader|path)\.[^\s,]+|"
    r"stageVariables\.[A-Za-z0-9_]+|context\.[A-Za-z0-9_.]+)$"
)


def _ttl(value: Any) -> int:
    ttl = as_int(value)
    if not 0 <= ttl <= 3600:
        raise bad_request("Authorizer result TTL must be between 0 and 3600 seconds")
    return ttl


def check(authorizer: dict[str, Any]) -> None:
    """AWS's rules for an authorizer's configuration."""
    kind = authorizer["type"]
    if kind not in AUTHORIZER_TYPES:
        raise bad_request(f"Invalid authorizer type specified: {kind}")
    if kind == "COGNITO_USER_POOLS":
        if not authorizer.get("providerARNs"):
            raise bad_request("ProviderARNs need to be specified for COGNITO_USER_POOLS authorizer type")
    elif not authorizer.get("authorizerUri"):
        raise bad_request(f"Authorizer URI is required for {kind} authorizer type")
    source = authorizer.get("identitySource")
    if kind in ("TOKEN", "COGNITO_USER_POOLS"):
        if not source or not source.startswith("method.request.header."):
            raise bad_request(
                "Identity source for TOKEN and COGNITO_USER_POOLS authorizers must be a header: "
                "method.request.header.<name>"
            )
    for part in (source or "").split(","):
        if part.strip() and not _IDENTITY_SOURCE.match(part.strip()):
            raise bad_request(f"Invalid identity source specified: {part.strip()}")
    if authorizer.get("identityValidationExpression"):
        try:
            re.compile(authorizer["identityValidationExpression"])
        except re.error:
            raise bad_request("Invalid identity validation expression specified") from None


class AuthorizerOperations(Operations):
    service: ApiGatewayProvider

    def create_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        authorizer: dict[str, Any] = {"id": new_id(6), "name": params["name"], "type": params["type"]}
        for key in (
            "providerARNs",
            "authType",
            "authorizerUri",
            "authorizerCredentials",
            "identitySource",
            "identityValidationExpression",
        ):
            if params.get(key):
                authorizer[key] = params[key]
        if params["type"] == "REQUEST" and not authorizer.get("identitySource"):
            authorizer.pop("identitySource", None)
        authorizer["authorizerResultTtlInSeconds"] = _ttl(params.get("authorizerResultTtlInSeconds", 300))
        check(authorizer)
        self.service.save(ctx, "authorizer", api["id"], authorizer["id"], authorizer)
        return authorizer

    def _authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.rest_api(ctx, params["restApiId"])
        return self.service.doc(
            ctx,
            "authorizer",
            params["restApiId"],
            params["authorizerId"],
            "Invalid Authorizer identifier specified",
        )

    def get_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._authorizer(ctx, params)

    def get_authorizers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        items = self.service.store.list(ctx.account_id, ctx.region, "authorizer", api["id"])
        return self.service.page(items, params, "id", f"authorizers:{api['id']}")

    def update_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        authorizer = self._authorizer(ctx, params)
        apply_patch(
            authorizer,
            params.get("patchOperations"),
            [
                ("/name", set_field()),
                ("/type", set_field()),
                ("/authType", set_field()),
                ("/authorizerUri", set_field()),
                ("/authorizerCredentials", set_field(lambda v: v or None)),
                ("/identitySource", set_field()),
                ("/identityValidationExpression", set_field(lambda v: v or None)),
                ("/authorizerResultTtlInSeconds", set_field(_ttl)),
                ("/providerARNs", _provider_arns),
                ("/providerARNs/*", _provider_arns),
            ],
        )
        authorizer = {k: v for k, v in authorizer.items() if v is not None}
        check(authorizer)
        self.service.save(ctx, "authorizer", params["restApiId"], authorizer["id"], authorizer)
        return authorizer

    def delete_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        authorizer = self._authorizer(ctx, params)
        for resource in self.service.store.list(ctx.account_id, ctx.region, "resource", params["restApiId"]):
            for method in (resource.get("resourceMethods") or {}).values():
                if method.get("authorizerId") == authorizer["id"]:
                    raise bad_request(
                        "Cannot delete authorizer, is referenced in method: "
                        f"{method['httpMethod']} {resource['path']}"
                    )
        self.service.store.delete(
            ctx.account_id, ctx.region, "authorizer", params["restApiId"], authorizer["id"]
        )
        return {}

    async def test_invoke_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction():
            authorizer = self._authorizer(ctx, params)
        return await self.service.gateway.test_authorizer(ctx, authorizer, params)


def _provider_arns(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
    arns = doc.setdefault("providerARNs", [])
    member = parts[-1] if len(parts) > 1 else value
    if op == "remove":
        doc["providerARNs"] = [a for a in arns if a != member]
    elif member not in arns:
        arns.append(member)
