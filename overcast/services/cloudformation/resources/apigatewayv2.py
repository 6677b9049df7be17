"""API Gateway v2 (HTTP and WebSocket APIs) resource types: APIs, stages, integrations, routes, deployments,
authorizers."""

from __future__ import annotations

from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    ResourceHandler,
    boolean,
    drop_none,
    integer,
    not_found,
    tag_map,
)


async def _ignore_missing(call) -> None:
    try:
        await call
    except ServiceError as error:
        if not not_found(error):
            raise


class Api(ResourceHandler):
    type_name = "AWS::ApiGatewayV2::Api"
    service = "apigatewayv2"
    create_only = frozenset({"ProtocolType"})
    attributes = ("ApiEndpoint", "ApiId")
    primary_identifier = "ApiId"

    def _params(self, properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "Description": properties.get("Description"),
                "CorsConfiguration": properties.get("CorsConfiguration"),
                "RouteSelectionExpression": properties.get("RouteSelectionExpression"),
                "ApiKeySelectionExpression": properties.get("ApiKeySelectionExpression"),
                "DisableExecuteApiEndpoint": boolean(properties.get("DisableExecuteApiEndpoint")),
                "DisableSchemaValidation": boolean(properties.get("DisableSchemaValidation")),
                "Version": properties.get("Version"),
            }
        )

    async def create(self, ctx, properties):
        params = {
            "Name": properties.get("Name") or ctx.generated_name(128),
            "ProtocolType": properties.get("ProtocolType") or "HTTP",
            **self._params(properties),
        }
        for key in ("Target", "RouteKey", "CredentialsArn"):
            if properties.get(key):
                params[key] = properties[key]
        tags = tag_map(properties.get("Tags"))
        if tags:
            params["Tags"] = tags
        api = await ctx.call("apigatewayv2", "CreateApi", params)
        return Created(api["ApiId"], {"ApiId": api["ApiId"], "ApiEndpoint": api.get("ApiEndpoint", "")})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        params = {"ApiId": physical_id, **self._params(properties)}
        if properties.get("Name"):
            params["Name"] = properties["Name"]
        await ctx.call("apigatewayv2", "UpdateApi", params)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await _ignore_missing(ctx.call("apigatewayv2", "DeleteApi", {"ApiId": physical_id}))

    async def list(self, ctx):
        return [api["ApiId"] for api in (await ctx.call("apigatewayv2", "GetApis", {})).get("Items", [])]


class Stage(ResourceHandler):
    type_name = "AWS::ApiGatewayV2::Stage"
    service = "apigatewayv2"
    required = ("ApiId", "StageName")
    create_only = frozenset({"ApiId", "StageName"})
    primary_identifier = "StageName"

    def _params(self, properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "ApiId": properties["ApiId"],
                "StageName": properties["StageName"],
                "AutoDeploy": boolean(properties.get("AutoDeploy")),
                "DeploymentId": properties.get("DeploymentId"),
                "Description": properties.get("Description"),
                "StageVariables": properties.get("StageVariables"),
                "AccessLogSettings": properties.get("AccessLogSettings"),
                "DefaultRouteSettings": properties.get("DefaultRouteSettings"),
                "RouteSettings": properties.get("RouteSettings"),
            }
        )

    async def create(self, ctx, properties):
        params = self._params(properties)
        tags = tag_map(properties.get("Tags"))
        if tags:
            params["Tags"] = tags
        await ctx.call("apigatewayv2", "CreateStage", params)
        return Created(properties["StageName"])

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call("apigatewayv2", "UpdateStage", self._params(properties))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await _ignore_missing(
            ctx.call("apigatewayv2", "DeleteStage", {"ApiId": properties["ApiId"], "StageName": physical_id})
        )


class Integration(ResourceHandler):
    type_name = "AWS::ApiGatewayV2::Integration"
    service = "apigatewayv2"
    required = ("ApiId", "IntegrationType")
    create_only = frozenset({"ApiId"})
    attributes = ("IntegrationId",)
    primary_identifier = "IntegrationId"

    def _params(self, properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "ApiId": properties["ApiId"],
                "IntegrationType": properties["IntegrationType"],
                "IntegrationUri": properties.get("IntegrationUri"),
                "IntegrationMethod": properties.get("IntegrationMethod"),
                "IntegrationSubtype": properties.get("IntegrationSubtype"),
                "PayloadFormatVersion": properties.get("PayloadFormatVersion"),
                "ConnectionType": properties.get("ConnectionType"),
                "ConnectionId": properties.get("ConnectionId"),
                "CredentialsArn": properties.get("CredentialsArn"),
                "Description": properties.get("Description"),
                "PassthroughBehavior": properties.get("PassthroughBehavior"),
                "RequestParameters": properties.get("RequestParameters"),
                "RequestTemplates": properties.get("RequestTemplates"),
                "ResponseParameters": properties.get("ResponseParameters"),
                "TemplateSelectionExpression": properties.get("TemplateSelectionExpression"),
                "TimeoutInMillis": integer(properties.get("TimeoutInMillis")),
                "ContentHandlingStrategy": properties.get("ContentHandlingStrategy"),
            }
        )

    async def create(self, ctx, properties):
        found = await ctx.call("apigatewayv2", "CreateIntegration", self._params(properties))
        return Created(found["IntegrationId"], {"IntegrationId": found["IntegrationId"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call(
            "apigatewayv2", "UpdateIntegration", {**self._params(properties), "IntegrationId": physical_id}
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await _ignore_missing(
            ctx.call(
                "apigatewayv2",
                "DeleteIntegration",
                {"ApiId": properties["ApiId"], "IntegrationId": physical_id},
            )
        )


class Route(ResourceHandler):
    type_name = "AWS::ApiGatewayV2::Route"
    service = "apigatewayv2"
    required = ("ApiId", "RouteKey")
    create_only = frozenset({"ApiId"})
    attributes = ("RouteId",)
    primary_identifier = "RouteId"

    def _params(self, properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "ApiId": properties["ApiId"],
                "RouteKey": properties["RouteKey"],
                "Target": properties.get("Target"),
                "AuthorizationType": properties.get("AuthorizationType"),
                "AuthorizerId": properties.get("AuthorizerId"),
                "AuthorizationScopes": properties.get("AuthorizationScopes"),
                "ApiKeyRequired": boolean(properties.get("ApiKeyRequired")),
                "OperationName": properties.get("OperationName"),
                "RouteResponseSelectionExpression": properties.get("RouteResponseSelectionExpression"),
                "ModelSelectionExpression": properties.get("ModelSelectionExpression"),
                "RequestModels": properties.get("RequestModels"),
            }
        )

    async def create(self, ctx, properties):
        found = await ctx.call("apigatewayv2", "CreateRoute", self._params(properties))
        return Created(found["RouteId"], {"RouteId": found["RouteId"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call("apigatewayv2", "UpdateRoute", {**self._params(properties), "RouteId": physical_id})
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await _ignore_missing(
            ctx.call("apigatewayv2", "DeleteRoute", {"ApiId": properties["ApiId"], "RouteId": physical_id})
        )


class Deployment(ResourceHandler):
    type_name = "AWS::ApiGatewayV2::Deployment"
    service = "apigatewayv2"
    required = ("ApiId",)
    create_only = frozenset({"ApiId"})
    attributes = ("DeploymentId",)
    primary_identifier = "DeploymentId"

    async def create(self, ctx, properties):
        found = await ctx.call(
            "apigatewayv2",
            "CreateDeployment",
            drop_none(
                {
                    "ApiId": properties["ApiId"],
                    "StageName": properties.get("StageName"),
                    "Description": properties.get("Description"),
                }
            ),
        )
        return Created(found["DeploymentId"], {"DeploymentId": found["DeploymentId"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await _ignore_missing(
            ctx.call(
                "apigatewayv2",
                "DeleteDeployment",
                {"ApiId": properties["ApiId"], "DeploymentId": physical_id},
            )
        )


class Authorizer(ResourceHandler):
    type_name = "AWS::ApiGatewayV2::Authorizer"
    service = "apigatewayv2"
    required = ("ApiId", "AuthorizerType", "Name")
    create_only = frozenset({"ApiId"})
    attributes = ("AuthorizerId",)
    primary_identifier = "AuthorizerId"

    def _params(self, properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "ApiId": properties["ApiId"],
                "AuthorizerType": properties["AuthorizerType"],
                "Name": properties["Name"],
                "AuthorizerUri": properties.get("AuthorizerUri"),
                "AuthorizerCredentialsArn": properties.get("AuthorizerCredentialsArn"),
                "AuthorizerPayloadFormatVersion": properties.get("AuthorizerPayloadFormatVersion"),
                "AuthorizerResultTtlInSeconds": integer(properties.get("AuthorizerResultTtlInSeconds")),
                "EnableSimpleResponses": boolean(properties.get("EnableSimpleResponses")),
                "IdentitySource": properties.get("IdentitySource"),
                "IdentityValidationExpression": properties.get("IdentityValidationExpression"),
                "JwtConfiguration": properties.get("JwtConfiguration"),
            }
        )

    async def create(self, ctx, properties):
        found = await ctx.call("apigatewayv2", "CreateAuthorizer", self._params(properties))
        return Created(found["AuthorizerId"], {"AuthorizerId": found["AuthorizerId"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call(
            "apigatewayv2", "UpdateAuthorizer", {**self._params(properties), "AuthorizerId": physical_id}
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await _ignore_missing(
            ctx.call(
                "apigatewayv2",
                "DeleteAuthorizer",
                {"ApiId": properties["ApiId"], "AuthorizerId": physical_id},
            )
        )


HANDLERS = (Api, Stage, Integration, Route, Deployment, Authorizer)
