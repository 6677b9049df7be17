"""API Gateway v2 (HTTP and WebSocket APIs) resource types: APIs, stages, integrations, routes, deployments,
authorizers, models, route and integration responses, custom domain names and their API mappings, VPC links."""

from __future__ import annotations

import json
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
        await ignore_missing(ctx.call("apigatewayv2", "DeleteApi", {"ApiId": physical_id}))

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
        await ignore_missing(
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
        await ignore_missing(
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
        await ignore_missing(
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
        await ignore_missing(
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
        await ignore_missing(
            ctx.call(
                "apigatewayv2",
                "DeleteAuthorizer",
                {"ApiId": properties["ApiId"], "AuthorizerId": physical_id},
            )
        )


def _json(value: Any) -> str | None:
    return json.dumps(value) if isinstance(value, (dict, list)) else value


class Model(ResourceHandler):
    type_name = "AWS::ApiGatewayV2::Model"
    service = "apigatewayv2"
    required = ("ApiId", "Name", "Schema")
    create_only = frozenset({"ApiId"})
    attributes = ("ModelId",)
    primary_identifier = "ModelId"

    @staticmethod
    def _params(properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "Name": properties["Name"],
                "Schema": _json(properties["Schema"]),
                "ContentType": properties.get("ContentType"),
                "Description": properties.get("Description"),
            }
        )

    async def create(self, ctx, properties):
        found = await ctx.call(
            "apigatewayv2", "CreateModel", {"ApiId": properties["ApiId"], **self._params(properties)}
        )
        return Created(found["ModelId"], {"ModelId": found["ModelId"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call(
            "apigatewayv2",
            "UpdateModel",
            {"ApiId": properties["ApiId"], "ModelId": physical_id, **self._params(properties)},
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call("apigatewayv2", "DeleteModel", {"ApiId": properties["ApiId"], "ModelId": physical_id})
        )


class RouteResponse(ResourceHandler):
    type_name = "AWS::ApiGatewayV2::RouteResponse"
    service = "apigatewayv2"
    required = ("ApiId", "RouteId", "RouteResponseKey")
    create_only = frozenset({"ApiId", "RouteId"})
    attributes = ("RouteResponseId",)
    primary_identifier = "RouteResponseId"

    @staticmethod
    def _params(properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "ApiId": properties["ApiId"],
                "RouteId": properties["RouteId"],
                "RouteResponseKey": properties["RouteResponseKey"],
                "ModelSelectionExpression": properties.get("ModelSelectionExpression"),
                "ResponseModels": properties.get("ResponseModels"),
                "ResponseParameters": properties.get("ResponseParameters"),
            }
        )

    async def create(self, ctx, properties):
        found = await ctx.call("apigatewayv2", "CreateRouteResponse", self._params(properties))
        return Created(found["RouteResponseId"], {"RouteResponseId": found["RouteResponseId"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call(
            "apigatewayv2",
            "UpdateRouteResponse",
            {**self._params(properties), "RouteResponseId": physical_id},
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "apigatewayv2",
                "DeleteRouteResponse",
                {
                    "ApiId": properties["ApiId"],
                    "RouteId": properties["RouteId"],
                    "RouteResponseId": physical_id,
                },
            )
        )


class IntegrationResponse(ResourceHandler):
    type_name = "AWS::ApiGatewayV2::IntegrationResponse"
    service = "apigatewayv2"
    required = ("ApiId", "IntegrationId", "IntegrationResponseKey")
    create_only = frozenset({"ApiId", "IntegrationId"})
    attributes = ("IntegrationResponseId",)
    primary_identifier = "IntegrationResponseId"

    @staticmethod
    def _params(properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "ApiId": properties["ApiId"],
                "IntegrationId": properties["IntegrationId"],
                "IntegrationResponseKey": properties["IntegrationResponseKey"],
                "ContentHandlingStrategy": properties.get("ContentHandlingStrategy"),
                "ResponseParameters": properties.get("ResponseParameters"),
                "ResponseTemplates": properties.get("ResponseTemplates"),
                "TemplateSelectionExpression": properties.get("TemplateSelectionExpression"),
            }
        )

    async def create(self, ctx, properties):
        found = await ctx.call("apigatewayv2", "CreateIntegrationResponse", self._params(properties))
        return Created(
            found["IntegrationResponseId"], {"IntegrationResponseId": found["IntegrationResponseId"]}
        )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call(
            "apigatewayv2",
            "UpdateIntegrationResponse",
            {**self._params(properties), "IntegrationResponseId": physical_id},
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "apigatewayv2",
                "DeleteIntegrationResponse",
                {
                    "ApiId": properties["ApiId"],
                    "IntegrationId": properties["IntegrationId"],
                    "IntegrationResponseId": physical_id,
                },
            )
        )


class DomainName(ResourceHandler):
    type_name = "AWS::ApiGatewayV2::DomainName"
    service = "apigatewayv2"
    required = ("DomainName",)
    create_only = frozenset({"DomainName"})
    attributes = ("DomainNameArn", "RegionalDomainName", "RegionalHostedZoneId")
    primary_identifier = "DomainName"

    @staticmethod
    def _settings(properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "DomainNameConfigurations": properties.get("DomainNameConfigurations"),
                "MutualTlsAuthentication": properties.get("MutualTlsAuthentication"),
            }
        )

    async def create(self, ctx, properties):
        name = properties["DomainName"]
        params = {"DomainName": name, **self._settings(properties)}
        tags = tag_map(properties.get("Tags"))
        if tags:
            params["Tags"] = tags
        found = await ctx.call("apigatewayv2", "CreateDomainName", params)
        return Created(name, self._attributes(ctx, found))

    @staticmethod
    def _attributes(ctx, domain: dict[str, Any]) -> dict[str, Any]:
        configuration = (domain.get("DomainNameConfigurations") or [{}])[0]
        return {
            "DomainNameArn": domain.get("DomainNameArn")
            or f"arn:{ctx.partition}:apigateway:{ctx.region}::/domainnames/{domain['DomainName']}",
            "RegionalDomainName": configuration.get("ApiGatewayDomainName", ""),
            "RegionalHostedZoneId": configuration.get("HostedZoneId", ""),
        }

    async def update(self, ctx, physical_id, properties, previous, attributes):
        found = await ctx.call(
            "apigatewayv2", "UpdateDomainName", {"DomainName": physical_id, **self._settings(properties)}
        )
        return self._attributes(ctx, found)

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("apigatewayv2", "DeleteDomainName", {"DomainName": physical_id}))

    async def read(self, ctx, physical_id, properties):
        try:
            await ctx.call("apigatewayv2", "GetDomainName", {"DomainName": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return dict(properties)


class ApiMapping(ResourceHandler):
    type_name = "AWS::ApiGatewayV2::ApiMapping"
    service = "apigatewayv2"
    required = ("ApiId", "DomainName", "Stage")
    create_only = frozenset({"DomainName"})
    attributes = ("ApiMappingId",)
    primary_identifier = "ApiMappingId"

    @staticmethod
    def _params(properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "DomainName": properties["DomainName"],
                "ApiId": properties["ApiId"],
                "Stage": properties["Stage"],
                "ApiMappingKey": properties.get("ApiMappingKey"),
            }
        )

    async def create(self, ctx, properties):
        found = await ctx.call("apigatewayv2", "CreateApiMapping", self._params(properties))
        return Created(found["ApiMappingId"], {"ApiMappingId": found["ApiMappingId"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        params = {**self._params(properties), "ApiMappingId": physical_id}
        params.setdefault("ApiMappingKey", "")
        await ctx.call("apigatewayv2", "UpdateApiMapping", params)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "apigatewayv2",
                "DeleteApiMapping",
                {"DomainName": properties["DomainName"], "ApiMappingId": physical_id},
            )
        )


class VpcLink(ResourceHandler):
    type_name = "AWS::ApiGatewayV2::VpcLink"
    service = "apigatewayv2"
    required = ("Name", "SubnetIds")
    create_only = frozenset({"SecurityGroupIds", "SubnetIds"})
    attributes = ("VpcLinkId",)
    primary_identifier = "VpcLinkId"

    async def create(self, ctx, properties):
        params = drop_none(
            {
                "Name": properties["Name"],
                "SubnetIds": properties["SubnetIds"],
                "SecurityGroupIds": properties.get("SecurityGroupIds"),
                "Tags": tag_map(properties.get("Tags")) or None,
            }
        )
        found = await ctx.call("apigatewayv2", "CreateVpcLink", params)
        return Created(found["VpcLinkId"], {"VpcLinkId": found["VpcLinkId"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call(
            "apigatewayv2", "UpdateVpcLink", {"VpcLinkId": physical_id, "Name": properties["Name"]}
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("apigatewayv2", "DeleteVpcLink", {"VpcLinkId": physical_id}))

    async def read(self, ctx, physical_id, properties):
        try:
            link = await ctx.call("apigatewayv2", "GetVpcLink", {"VpcLinkId": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return {**properties, "Name": link["Name"]}


HANDLERS = (
    Api,
    Stage,
    Integration,
    Route,
    Deployment,
    Authorizer,
    Model,
    RouteResponse,
    IntegrationResponse,
    DomainName,
    ApiMapping,
    VpcLink,
)
