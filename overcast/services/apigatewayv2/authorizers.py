"""Authorizers of HTTP APIs (JWT, Lambda REQUEST with simple or IAM responses) and WebSocket APIs (Lambda
REQUEST on $connect)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.apigatewayv2.common import bad_request, new_id
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.apigatewayv2.provider import ApiGatewayV2Provider

FIELDS = (
    "AuthorizerCredentialsArn",
    "AuthorizerPayloadFormatVersion",
    "AuthorizerResultTtlInSeconds",
    "AuthorizerType",
    "AuthorizerUri",
    "EnableSimpleResponses",
    "IdentitySource",
    "IdentityValidationExpression",
    "JwtConfiguration",
    "Name",
)


def check(api: dict[str, Any], authorizer: dict[str, Any]) -> None:
    kind = authorizer["AuthorizerType"]
    if kind == "JWT":
        if api["ProtocolType"] != "HTTP":
            raise bad_request("JWT authorizers are only supported for HTTP APIs")
        if not (authorizer.get("JwtConfiguration") or {}).get("Issuer"):
            raise bad_request("JwtConfiguration.Issuer is required for JWT authorizers")
        if not authorizer.get("IdentitySource"):
            raise bad_request("IdentitySource is required for JWT authorizers")
    elif kind == "REQUEST":
        if not authorizer.get("AuthorizerUri"):
            raise bad_request("AuthorizerUri is required for REQUEST authorizers")
        if api["ProtocolType"] == "HTTP" and authorizer.get("AuthorizerPayloadFormatVersion") not in (
            "1.0",
            "2.0",
        ):
            raise bad_request(
                "AuthorizerPayloadFormatVersion is required for REQUEST authorizers of HTTP APIs"
            )
        if (
            authorizer.get("EnableSimpleResponses")
            and authorizer.get("AuthorizerPayloadFormatVersion") != "2.0"
        ):
            raise bad_request("Simple responses are only supported with payload format version 2.0")
    else:
        raise bad_request(f"Invalid authorizer type: {kind}")
    ttl = authorizer.get("AuthorizerResultTtlInSeconds", 0)
    if not 0 <= ttl <= 3600:
        raise bad_request("AuthorizerResultTtlInSeconds must be between 0 and 3600")


class AuthorizerOperations(Operations):
    service: ApiGatewayV2Provider

    def create_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        authorizer: dict[str, Any] = {"AuthorizerId": new_id(6)}
        for key in FIELDS:
            if params.get(key) is not None:
                authorizer[key] = params[key]
        if authorizer["AuthorizerType"] == "REQUEST":
            authorizer.setdefault(
                "AuthorizerResultTtlInSeconds", 300 if authorizer.get("IdentitySource") else 0
            )
        check(api, authorizer)
        self.service.save(ctx, "authorizer", api["ApiId"], authorizer["AuthorizerId"], authorizer)
        self.service.changed(ctx, api["ApiId"])
        return authorizer

    def _authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.api(ctx, params["ApiId"])
        return self.service.doc(
            ctx,
            "authorizer",
            params["ApiId"],
            params["AuthorizerId"],
            "Invalid Authorizer identifier specified",
        )

    def get_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._authorizer(ctx, params)

    def get_authorizers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        items = self.service.store.list(ctx.account_id, ctx.region, "authorizer", api["ApiId"])
        return self.service.page(items, params, "AuthorizerId", f"authorizers:{api['ApiId']}")

    def update_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        authorizer = self._authorizer(ctx, params)
        for key in FIELDS:
            if key in params:
                authorizer[key] = params[key]
        check(api, authorizer)
        self.service.save(ctx, "authorizer", api["ApiId"], authorizer["AuthorizerId"], authorizer)
        self.service.changed(ctx, api["ApiId"])
        return authorizer

    def delete_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        authorizer = self._authorizer(ctx, params)
        for route in self.service.store.list(ctx.account_id, ctx.region, "route", params["ApiId"]):
            if route.get("AuthorizerId") == authorizer["AuthorizerId"]:
                raise bad_request(f"Cannot delete authorizer: it is used by route {route['RouteKey']}")
        self.service.store.delete(
            ctx.account_id, ctx.region, "authorizer", params["ApiId"], authorizer["AuthorizerId"]
        )
        return {}

    def reset_authorizers_cache(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.api(ctx, params["ApiId"])
        self.service.doc(
            ctx, "stage", params["ApiId"], params["StageName"], "Invalid Stage identifier specified"
        )
        self.service.authorizer_cache.flush(params["ApiId"], params["StageName"])
        return {}
