"""Cognito user pool resource types: pools, clients, domains, groups, resource servers, identity providers,
users and their group memberships."""

from __future__ import annotations

import uuid
from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    ResourceHandler,
    boolean,
    drop_none,
    ignore_missing,
    integer,
    not_found,
    tag_map,
)

_POOL_KEYS = (
    "Policies",
    "LambdaConfig",
    "AutoVerifiedAttributes",
    "AliasAttributes",
    "UsernameAttributes",
    "SmsVerificationMessage",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "VerificationMessageTemplate",
    "SmsAuthenticationMessage",
    "MfaConfiguration",
    "UserAttributeUpdateSettings",
    "DeviceConfiguration",
    "EmailConfiguration",
    "SmsConfiguration",
    "AdminCreateUserConfig",
    "Schema",
    "UserPoolAddOns",
    "UsernameConfiguration",
    "AccountRecoverySetting",
    "DeletionProtection",
    "UserPoolTier",
)
_NUMBERS = {
    "MinimumLength",
    "TemporaryPasswordValidityDays",
    "UnusedAccountValidityDays",
    "Priority",
    "PasswordHistorySize",
}
_BOOLEANS = {
    "RequireLowercase",
    "RequireNumbers",
    "RequireSymbols",
    "RequireUppercase",
    "AllowAdminCreateUserOnly",
    "Mutable",
    "Required",
    "DeveloperOnlyAttribute",
    "CaseSensitive",
    "ChallengeRequiredOnNewDevice",
    "DeviceOnlyRememberedOnUserPrompt",
}


def _typed(value: Any) -> Any:
    """Template values (often strings) as the API's numbers and booleans."""
    if isinstance(value, dict):
        converted = {}
        for key, item in value.items():
            if key in _NUMBERS:
                converted[key] = integer(item)
            elif key in _BOOLEANS:
                converted[key] = bool(boolean(item))
            elif key in ("MinLength", "MaxLength", "MinValue", "MaxValue"):
                converted[key] = str(item)
            else:
                converted[key] = _typed(item)
        return converted
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return value


class UserPool(ResourceHandler):
    type_name = "AWS::Cognito::UserPool"
    service = "cognito-idp"
    create_only = frozenset({"AliasAttributes", "UsernameAttributes", "Schema", "UsernameConfiguration"})
    attributes = ("Arn", "ProviderName", "ProviderURL", "UserPoolId")
    primary_identifier = "UserPoolId"

    async def create(self, ctx, properties):
        params: dict[str, Any] = {"PoolName": properties.get("UserPoolName") or ctx.generated_name(128)}
        for key in _POOL_KEYS:
            if key in properties:
                params[key] = _typed(properties[key])
        if properties.get("UserPoolTags"):
            params["UserPoolTags"] = tag_map(properties["UserPoolTags"])
        pool = (await ctx.call("cognito-idp", "CreateUserPool", params))["UserPool"]
        return Created(pool["Id"], self.known_attributes(ctx, pool["Id"]) | {"Arn": pool["Arn"]})

    def known_attributes(self, ctx, physical_id):
        return {
            "UserPoolId": physical_id,
            "Arn": ctx.arn("cognito-idp", f"userpool/{physical_id}"),
            "ProviderName": f"cognito-idp.{ctx.region}.amazonaws.com/{physical_id}",
            "ProviderURL": f"https://cognito-idp.{ctx.region}.amazonaws.com/{physical_id}",
        }

    async def update(self, ctx, physical_id, properties, previous, attributes):
        params: dict[str, Any] = {"UserPoolId": physical_id}
        for key in _POOL_KEYS:
            if key in properties and key not in self.create_only:
                params[key] = _typed(properties[key])
        if properties.get("UserPoolTags"):
            params["UserPoolTags"] = tag_map(properties["UserPoolTags"])
        params.pop("UserPoolTier", None)
        await ctx.call("cognito-idp", "UpdateUserPool", params)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("cognito-idp", "DeleteUserPool", {"UserPoolId": physical_id})
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            pool = (await ctx.call("cognito-idp", "DescribeUserPool", {"UserPoolId": physical_id}))[
                "UserPool"
            ]
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        result = dict(properties)
        if "UserPoolName" in properties:
            result["UserPoolName"] = pool.get("Name")
        return result


_CLIENT_KEYS = (
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
)


def _client(properties: dict[str, Any]) -> dict[str, Any]:
    params = {}
    for key in _CLIENT_KEYS:
        if key not in properties:
            continue
        value = properties[key]
        if key.endswith("Validity"):
            value = integer(value)
        elif key in (
            "AllowedOAuthFlowsUserPoolClient",
            "EnableTokenRevocation",
            "EnablePropagateAdditionalUserContextData",
        ):
            value = bool(boolean(value))
        params[key] = value
    return params


class UserPoolClient(ResourceHandler):
    type_name = "AWS::Cognito::UserPoolClient"
    service = "cognito-idp"
    required = ("UserPoolId",)
    create_only = frozenset({"UserPoolId", "GenerateSecret"})
    attributes = ("ClientId", "ClientSecret", "Name")
    primary_identifier = "ClientId"

    async def create(self, ctx, properties):
        name = properties.get("ClientName") or ctx.generated_name(128)
        params = {"UserPoolId": properties["UserPoolId"], "ClientName": name, **_client(properties)}
        if boolean(properties.get("GenerateSecret")):
            params["GenerateSecret"] = True
        client = (await ctx.call("cognito-idp", "CreateUserPoolClient", params))["UserPoolClient"]
        return Created(
            client["ClientId"],
            {"ClientId": client["ClientId"], "ClientSecret": client.get("ClientSecret", ""), "Name": name},
        )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        params = {"UserPoolId": properties["UserPoolId"], "ClientId": physical_id, **_client(properties)}
        if properties.get("ClientName"):
            params["ClientName"] = properties["ClientName"]
        await ctx.call("cognito-idp", "UpdateUserPoolClient", params)
        return {**attributes, "Name": properties.get("ClientName") or attributes.get("Name", "")}

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call(
                "cognito-idp",
                "DeleteUserPoolClient",
                {"UserPoolId": properties["UserPoolId"], "ClientId": physical_id},
            )
        except ServiceError as error:
            if not not_found(error):
                raise


class UserPoolDomain(ResourceHandler):
    type_name = "AWS::Cognito::UserPoolDomain"
    service = "cognito-idp"
    required = ("Domain", "UserPoolId")
    create_only = frozenset({"Domain", "UserPoolId"})
    attributes = ("CloudFrontDistribution",)

    async def create(self, ctx, properties):
        params = drop_none(
            {
                "Domain": properties["Domain"],
                "UserPoolId": properties["UserPoolId"],
                "CustomDomainConfig": properties.get("CustomDomainConfig"),
                "ManagedLoginVersion": integer(properties.get("ManagedLoginVersion")),
            }
        )
        found = await ctx.call("cognito-idp", "CreateUserPoolDomain", params)
        return Created(properties["Domain"], {"CloudFrontDistribution": found.get("CloudFrontDomain", "")})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call(
                "cognito-idp",
                "DeleteUserPoolDomain",
                {"Domain": physical_id, "UserPoolId": properties["UserPoolId"]},
            )
        except ServiceError as error:
            if not not_found(error):
                raise


class UserPoolGroup(ResourceHandler):
    type_name = "AWS::Cognito::UserPoolGroup"
    service = "cognito-idp"
    required = ("UserPoolId",)
    create_only = frozenset({"GroupName", "UserPoolId"})
    primary_identifier = "GroupName"

    def _params(self, name: str, properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "GroupName": name,
                "UserPoolId": properties["UserPoolId"],
                "Description": properties.get("Description"),
                "RoleArn": properties.get("RoleArn"),
                "Precedence": integer(properties.get("Precedence")),
            }
        )

    async def create(self, ctx, properties):
        name = properties.get("GroupName") or ctx.generated_name(128)
        await ctx.call("cognito-idp", "CreateGroup", self._params(name, properties))
        return Created(name)

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call("cognito-idp", "UpdateGroup", self._params(physical_id, properties))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call(
                "cognito-idp",
                "DeleteGroup",
                {"GroupName": physical_id, "UserPoolId": properties["UserPoolId"]},
            )
        except ServiceError as error:
            if not not_found(error):
                raise


class UserPoolResourceServer(ResourceHandler):
    type_name = "AWS::Cognito::UserPoolResourceServer"
    service = "cognito-idp"
    required = ("Identifier", "Name", "UserPoolId")
    create_only = frozenset({"Identifier", "UserPoolId"})
    primary_identifier = "Identifier"

    @staticmethod
    def _params(properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "UserPoolId": properties["UserPoolId"],
                "Identifier": properties["Identifier"],
                "Name": properties["Name"],
                "Scopes": properties.get("Scopes"),
            }
        )

    async def create(self, ctx, properties):
        await ctx.call("cognito-idp", "CreateResourceServer", self._params(properties))
        return Created(properties["Identifier"])

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call("cognito-idp", "UpdateResourceServer", self._params(properties))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "cognito-idp",
                "DeleteResourceServer",
                {"UserPoolId": properties["UserPoolId"], "Identifier": physical_id},
            )
        )


class UserPoolIdentityProvider(ResourceHandler):
    type_name = "AWS::Cognito::UserPoolIdentityProvider"
    service = "cognito-idp"
    required = ("ProviderDetails", "ProviderName", "ProviderType", "UserPoolId")
    create_only = frozenset({"ProviderName", "ProviderType", "UserPoolId"})
    primary_identifier = "ProviderName"

    @staticmethod
    def _settings(properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "ProviderDetails": {k: str(v) for k, v in (properties.get("ProviderDetails") or {}).items()},
                "AttributeMapping": properties.get("AttributeMapping"),
                "IdpIdentifiers": properties.get("IdpIdentifiers"),
            }
        )

    async def create(self, ctx, properties):
        await ctx.call(
            "cognito-idp",
            "CreateIdentityProvider",
            {
                "UserPoolId": properties["UserPoolId"],
                "ProviderName": properties["ProviderName"],
                "ProviderType": properties["ProviderType"],
                **self._settings(properties),
            },
        )
        return Created(properties["ProviderName"])

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call(
            "cognito-idp",
            "UpdateIdentityProvider",
            {
                "UserPoolId": properties["UserPoolId"],
                "ProviderName": physical_id,
                **self._settings(properties),
            },
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "cognito-idp",
                "DeleteIdentityProvider",
                {"UserPoolId": properties["UserPoolId"], "ProviderName": physical_id},
            )
        )


class UserPoolUser(ResourceHandler):
    type_name = "AWS::Cognito::UserPoolUser"
    service = "cognito-idp"
    required = ("UserPoolId",)
    create_only = frozenset(
        {
            "ClientMetadata",
            "DesiredDeliveryMediums",
            "ForceAliasCreation",
            "MessageAction",
            "UserAttributes",
            "UserPoolId",
            "Username",
            "ValidationData",
        }  # fmt: skip
    )
    primary_identifier = "Username"

    async def create(self, ctx, properties):
        found = await ctx.call(
            "cognito-idp",
            "AdminCreateUser",
            drop_none(
                {
                    "UserPoolId": properties["UserPoolId"],
                    "Username": properties.get("Username") or str(uuid.uuid4()),
                    "UserAttributes": properties.get("UserAttributes"),
                    "ValidationData": properties.get("ValidationData"),
                    "ClientMetadata": properties.get("ClientMetadata"),
                    "DesiredDeliveryMediums": properties.get("DesiredDeliveryMediums"),
                    "ForceAliasCreation": boolean(properties.get("ForceAliasCreation")),
                    "MessageAction": properties.get("MessageAction"),
                }
            ),
        )
        return Created(found["User"]["Username"])

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "cognito-idp",
                "AdminDeleteUser",
                {"UserPoolId": properties["UserPoolId"], "Username": physical_id},
            )
        )

    async def read(self, ctx, physical_id, properties):
        try:
            await ctx.call(
                "cognito-idp",
                "AdminGetUser",
                {"UserPoolId": properties["UserPoolId"], "Username": physical_id},
            )
        except ServiceError as error:
            if not_found(error) or error.code == "UserNotFoundException":
                return None
            raise
        return dict(properties)


class UserPoolUserToGroupAttachment(ResourceHandler):
    type_name = "AWS::Cognito::UserPoolUserToGroupAttachment"
    service = "cognito-idp"
    required = ("GroupName", "UserPoolId", "Username")
    create_only = frozenset({"GroupName", "UserPoolId", "Username"})

    @staticmethod
    def _params(properties: dict[str, Any]) -> dict[str, Any]:
        return {
            "UserPoolId": properties["UserPoolId"],
            "Username": properties["Username"],
            "GroupName": properties["GroupName"],
        }

    async def create(self, ctx, properties):
        await ctx.call("cognito-idp", "AdminAddUserToGroup", self._params(properties))
        return Created(f"{properties['UserPoolId']}|{properties['GroupName']}|{properties['Username']}")

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("cognito-idp", "AdminRemoveUserFromGroup", self._params(properties))
        except ServiceError as error:
            if not (not_found(error) or error.code == "UserNotFoundException"):
                raise


HANDLERS = (
    UserPool,
    UserPoolClient,
    UserPoolDomain,
    UserPoolGroup,
    UserPoolResourceServer,
    UserPoolIdentityProvider,
    UserPoolUser,
    UserPoolUserToGroupAttachment,
)
