"""Cognito identity pool resource types: AWS::Cognito::IdentityPool, IdentityPoolRoleAttachment."""

from __future__ import annotations

import random
import string
from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    ResourceHandler,
    boolean,
    drop_none,
    not_found,
)


def _pool(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    providers = properties.get("CognitoIdentityProviders")
    return drop_none(
        {
            "IdentityPoolName": name,
            "AllowUnauthenticatedIdentities": bool(boolean(properties["AllowUnauthenticatedIdentities"])),
            "AllowClassicFlow": boolean(properties.get("AllowClassicFlow")),
            "SupportedLoginProviders": properties.get("SupportedLoginProviders"),
            "DeveloperProviderName": properties.get("DeveloperProviderName"),
            "OpenIdConnectProviderARNs": properties.get("OpenIdConnectProviderARNs"),
            "SamlProviderARNs": properties.get("SamlProviderARNs"),
            "CognitoIdentityProviders": [
                drop_none(
                    {
                        "ProviderName": provider.get("ProviderName"),
                        "ClientId": provider.get("ClientId"),
                        "ServerSideTokenCheck": boolean(provider.get("ServerSideTokenCheck")),
                    }
                )
                for provider in providers
            ]
            if providers
            else None,
            "IdentityPoolTags": {t["Key"]: t["Value"] for t in properties.get("IdentityPoolTags") or []}
            or None,
        }
    )


class IdentityPool(ResourceHandler):
    type_name = "AWS::Cognito::IdentityPool"
    service = "cognito-identity"
    required = ("AllowUnauthenticatedIdentities",)
    attributes = ("Id", "Name")

    async def create(self, ctx, properties):
        # A pool name allows word characters and spaces only: CloudFormation's generated one has no hyphens.
        name = (
            properties.get("IdentityPoolName")
            or (f"{ctx.logical_id}_{''.join(random.choices(string.ascii_letters, k=12))}"[:128])
        )
        pool = await ctx.call("cognito-identity", "CreateIdentityPool", _pool(name, properties))
        return Created(pool["IdentityPoolId"], {"Id": pool["IdentityPoolId"], "Name": name})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        name = properties.get("IdentityPoolName") or attributes["Name"]
        params = _pool(name, properties)
        params.pop("IdentityPoolTags", None)
        await ctx.call("cognito-identity", "UpdateIdentityPool", {"IdentityPoolId": physical_id, **params})
        return {"Id": physical_id, "Name": name}

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("cognito-identity", "DeleteIdentityPool", {"IdentityPoolId": physical_id})
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            pool = await ctx.call("cognito-identity", "DescribeIdentityPool", {"IdentityPoolId": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return {**properties, "AllowUnauthenticatedIdentities": pool["AllowUnauthenticatedIdentities"]}


def _role_mappings(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """The template's RoleMappings (any keys, each naming its IdentityProvider) as the service's map keyed
    by identity provider."""
    if not value:
        return None
    mappings = {}
    for key, mapping in value.items():
        provider = mapping.get("IdentityProvider") or key
        rules = (mapping.get("RulesConfiguration") or {}).get("Rules")
        mappings[provider] = drop_none(
            {
                "Type": mapping["Type"],
                "AmbiguousRoleResolution": mapping.get("AmbiguousRoleResolution"),
                "RulesConfiguration": {"Rules": rules} if rules else None,
            }
        )
    return mappings


class IdentityPoolRoleAttachment(ResourceHandler):
    type_name = "AWS::Cognito::IdentityPoolRoleAttachment"
    service = "cognito-identity"
    required = ("IdentityPoolId",)
    create_only = frozenset({"IdentityPoolId"})

    async def create(self, ctx, properties):
        await self._set(ctx, properties)
        return Created(properties["IdentityPoolId"])

    @staticmethod
    async def _set(ctx, properties: dict[str, Any]) -> None:
        await ctx.call(
            "cognito-identity",
            "SetIdentityPoolRoles",
            drop_none(
                {
                    "IdentityPoolId": properties["IdentityPoolId"],
                    "Roles": properties.get("Roles") or {},
                    "RoleMappings": _role_mappings(properties.get("RoleMappings")),
                }
            ),
        )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await self._set(ctx, properties)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call(
                "cognito-identity", "SetIdentityPoolRoles", {"IdentityPoolId": physical_id, "Roles": {}}
            )
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            found = await ctx.call(
                "cognito-identity", "GetIdentityPoolRoles", {"IdentityPoolId": physical_id}
            )
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return {**properties, "Roles": found.get("Roles", {})}


HANDLERS = (IdentityPool, IdentityPoolRoleAttachment)
