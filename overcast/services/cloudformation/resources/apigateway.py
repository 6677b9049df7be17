"""API Gateway (REST) resource types: APIs (from a Body or BodyS3Location OpenAPI document, or built from
resources and methods), resources, methods with their integrations, deployments, stages, authorizers, API
keys, usage plans, models, request validators, gateway responses, custom domain names and their base path
mappings, VPC links, client certificates, documentation parts."""

from __future__ import annotations

import json
from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    HandlerError,
    ResourceContext,
    ResourceHandler,
    boolean,
    document,
    drop_none,
    ignore_missing,
    integer,
    not_found,
    tag_map,
    text,
)


async def _s3_body(ctx: ResourceContext, location: dict[str, Any]) -> bytes:
    params = {"Bucket": location["Bucket"], "Key": location["Key"]}
    if location.get("Version"):
        params["VersionId"] = location["Version"]
    found = await ctx.call("s3", "GetObject", params)
    body = found.get("Body", b"")
    if not isinstance(body, bytes | bytearray):
        body = b"".join([chunk async for chunk in body])
    return bytes(body)


def _patch(path: str, value: Any) -> dict[str, Any]:
    return {"op": "replace", "path": path, "value": text(value) if not isinstance(value, str) else value}


class RestApi(ResourceHandler):
    type_name = "AWS::ApiGateway::RestApi"
    service = "apigateway"
    attributes = ("RestApiId", "RootResourceId")
    primary_identifier = "RestApiId"

    async def _definition(self, ctx: ResourceContext, properties: dict[str, Any]) -> bytes | None:
        if properties.get("Body") is not None:
            body = properties["Body"]
            return (body if isinstance(body, str) else json.dumps(body)).encode()
        if properties.get("BodyS3Location"):
            return await _s3_body(ctx, properties["BodyS3Location"])
        return None

    async def create(self, ctx, properties):
        definition = await self._definition(ctx, properties)
        if definition is not None:
            params: dict[str, Any] = {
                "body": definition,
                "failOnWarnings": bool(boolean(properties.get("FailOnWarnings"))),
            }
            if properties.get("Parameters"):
                params["parameters"] = {k: str(v) for k, v in properties["Parameters"].items()}
            api = await ctx.call("apigateway", "ImportRestApi", params)
            await self._settings(ctx, api["id"], properties, imported=True)
        else:
            params = drop_none(
                {
                    "name": properties.get("Name") or ctx.generated_name(128),
                    "description": properties.get("Description"),
                    "binaryMediaTypes": properties.get("BinaryMediaTypes"),
                    "minimumCompressionSize": integer(properties.get("MinimumCompressionSize")),
                    "apiKeySource": properties.get("ApiKeySourceType"),
                    "endpointConfiguration": _endpoint(properties.get("EndpointConfiguration")),
                    "policy": json.dumps(properties["Policy"])
                    if isinstance(properties.get("Policy"), dict)
                    else properties.get("Policy"),
                    "disableExecuteApiEndpoint": boolean(properties.get("DisableExecuteApiEndpoint")),
                    "tags": tag_map(properties.get("Tags")) or None,
                }
            )
            api = await ctx.call("apigateway", "CreateRestApi", params)
        return Created(
            api["id"],
            {
                "RestApiId": api["id"],
                "RootResourceId": api.get("rootResourceId") or await self._root(ctx, api["id"]),
            },
        )

    async def _root(self, ctx: ResourceContext, api_id: str) -> str:
        resources = await ctx.call("apigateway", "GetResources", {"restApiId": api_id, "limit": 500})
        return next((item["id"] for item in resources.get("items", []) if item.get("path") == "/"), "")

    async def _settings(
        self, ctx: ResourceContext, api_id: str, properties: dict[str, Any], imported: bool
    ) -> None:
        """What the template says besides the definition (a Name given with a Body overrides its title)."""
        operations = []
        if properties.get("Name") and imported:
            operations.append(_patch("/name", properties["Name"]))
        if properties.get("Description") is not None and imported:
            operations.append(_patch("/description", properties["Description"]))
        if operations:
            await ctx.call(
                "apigateway", "UpdateRestApi", {"restApiId": api_id, "patchOperations": operations}
            )
        tags = tag_map(properties.get("Tags"))
        if tags and imported:
            await ctx.call(
                "apigateway",
                "TagResource",
                {"resourceArn": f"arn:aws:apigateway:{ctx.region}::/restapis/{api_id}", "tags": tags},
            )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        definition = await self._definition(ctx, properties)
        if definition is not None:
            params: dict[str, Any] = {
                "restApiId": physical_id,
                "body": definition,
                "mode": properties.get("Mode") or "overwrite",
            }
            await ctx.call("apigateway", "PutRestApi", params)
            await self._settings(ctx, physical_id, properties, imported=True)
        else:
            operations = []
            for key, path in (
                ("Name", "/name"),
                ("Description", "/description"),
                ("ApiKeySourceType", "/apiKeySource"),
            ):
                if properties.get(key) != previous.get(key) and properties.get(key) is not None:
                    operations.append(_patch(path, properties[key]))
            if operations:
                await ctx.call(
                    "apigateway", "UpdateRestApi", {"restApiId": physical_id, "patchOperations": operations}
                )
        return {**attributes, "RootResourceId": await self._root(ctx, physical_id)}

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("apigateway", "DeleteRestApi", {"restApiId": physical_id}))

    async def read(self, ctx, physical_id, properties):
        try:
            api = await ctx.call("apigateway", "GetRestApi", {"restApiId": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        result = dict(properties)
        if "Name" in properties or "Body" not in properties:
            result["Name"] = api.get("name")
        return result

    async def list(self, ctx):
        return [
            item["id"]
            for item in (await ctx.call("apigateway", "GetRestApis", {"limit": 500})).get("items", [])
        ]


def _endpoint(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if not value:
        return None
    return drop_none({"types": value.get("Types"), "vpcEndpointIds": value.get("VpcEndpointIds")})


class Resource(ResourceHandler):
    type_name = "AWS::ApiGateway::Resource"
    service = "apigateway"
    required = ("ParentId", "PathPart", "RestApiId")
    create_only = frozenset({"ParentId", "PathPart", "RestApiId"})
    attributes = ("ResourceId",)
    primary_identifier = "ResourceId"

    async def create(self, ctx, properties):
        found = await ctx.call(
            "apigateway",
            "CreateResource",
            {
                "restApiId": properties["RestApiId"],
                "parentId": properties["ParentId"],
                "pathPart": properties["PathPart"],
            },
        )
        return Created(found["id"], {"ResourceId": found["id"]})

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "apigateway",
                "DeleteResource",
                {"restApiId": properties["RestApiId"], "resourceId": physical_id},
            )
        )


def _integration(api: str, resource: str, method: str, value: dict[str, Any]) -> dict[str, Any]:
    return drop_none(
        {
            "restApiId": api,
            "resourceId": resource,
            "httpMethod": method,
            "type": value["Type"],
            "integrationHttpMethod": value.get("IntegrationHttpMethod"),
            "uri": value.get("Uri"),
            "credentials": value.get("Credentials"),
            "requestParameters": value.get("RequestParameters"),
            "requestTemplates": value.get("RequestTemplates"),
            "passthroughBehavior": value.get("PassthroughBehavior"),
            "cacheNamespace": value.get("CacheNamespace"),
            "cacheKeyParameters": value.get("CacheKeyParameters"),
            "contentHandling": value.get("ContentHandling"),
            "timeoutInMillis": integer(value.get("TimeoutInMillis")),
            "connectionType": value.get("ConnectionType"),
            "connectionId": value.get("ConnectionId"),
        }
    )


class Method(ResourceHandler):
    type_name = "AWS::ApiGateway::Method"
    service = "apigateway"
    required = ("HttpMethod", "ResourceId", "RestApiId")
    create_only = frozenset({"HttpMethod", "ResourceId", "RestApiId"})
    primary_identifier = "HttpMethod"

    async def create(self, ctx, properties):
        await self._put(ctx, properties)
        return Created(f"{properties['RestApiId']}|{properties['ResourceId']}|{properties['HttpMethod']}")

    async def _put(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        api, resource, method = properties["RestApiId"], properties["ResourceId"], properties["HttpMethod"]
        await ctx.call(
            "apigateway",
            "PutMethod",
            drop_none(
                {
                    "restApiId": api,
                    "resourceId": resource,
                    "httpMethod": method,
                    "authorizationType": properties.get("AuthorizationType") or "NONE",
                    "authorizerId": properties.get("AuthorizerId"),
                    "apiKeyRequired": boolean(properties.get("ApiKeyRequired")),
                    "operationName": properties.get("OperationName"),
                    "requestParameters": {
                        k: bool(boolean(v)) for k, v in (properties.get("RequestParameters") or {}).items()
                    }
                    or None,
                    "requestModels": properties.get("RequestModels"),
                    "requestValidatorId": properties.get("RequestValidatorId"),
                    "authorizationScopes": properties.get("AuthorizationScopes"),
                }
            ),
        )
        for response in properties.get("MethodResponses") or []:
            await ctx.call(
                "apigateway",
                "PutMethodResponse",
                drop_none(
                    {
                        "restApiId": api,
                        "resourceId": resource,
                        "httpMethod": method,
                        "statusCode": str(response["StatusCode"]),
                        "responseParameters": {
                            k: bool(boolean(v)) for k, v in (response.get("ResponseParameters") or {}).items()
                        }
                        or None,
                        "responseModels": response.get("ResponseModels"),
                    }
                ),
            )
        integration = properties.get("Integration")
        if integration:
            await ctx.call("apigateway", "PutIntegration", _integration(api, resource, method, integration))
            for response in integration.get("IntegrationResponses") or []:
                await ctx.call(
                    "apigateway",
                    "PutIntegrationResponse",
                    drop_none(
                        {
                            "restApiId": api,
                            "resourceId": resource,
                            "httpMethod": method,
                            "statusCode": str(response["StatusCode"]),
                            "selectionPattern": response.get("SelectionPattern"),
                            "responseParameters": response.get("ResponseParameters"),
                            "responseTemplates": response.get("ResponseTemplates"),
                            "contentHandling": response.get("ContentHandling"),
                        }
                    ),
                )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ignore_missing(
            ctx.call(
                "apigateway",
                "DeleteMethod",
                {
                    "restApiId": properties["RestApiId"],
                    "resourceId": properties["ResourceId"],
                    "httpMethod": properties["HttpMethod"],
                },
            )
        )
        await self._put(ctx, properties)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "apigateway",
                "DeleteMethod",
                {
                    "restApiId": properties["RestApiId"],
                    "resourceId": properties["ResourceId"],
                    "httpMethod": properties["HttpMethod"],
                },
            )
        )


def _method_settings(settings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A stage's MethodSettings as patch operations."""
    names = {
        "MetricsEnabled": "metrics/enabled",
        "LoggingLevel": "logging/loglevel",
        "DataTraceEnabled": "logging/dataTrace",
        "ThrottlingBurstLimit": "throttling/burstLimit",
        "ThrottlingRateLimit": "throttling/rateLimit",
        "CachingEnabled": "caching/enabled",
        "CacheTtlInSeconds": "caching/ttlInSeconds",
    }
    operations = []
    for setting in settings:
        prefix = f"/{setting.get('ResourcePath', '/*').replace('/', '~1') if setting.get('ResourcePath', '/*') != '/*' else '*'}/{setting.get('HttpMethod', '*')}"
        for key, path in names.items():
            if key in setting:
                operations.append(_patch(f"{prefix}/{path}", setting[key]))
    return operations


class Deployment(ResourceHandler):
    type_name = "AWS::ApiGateway::Deployment"
    service = "apigateway"
    required = ("RestApiId",)
    create_only = frozenset({"RestApiId", "DeploymentCanarySettings"})
    attributes = ("DeploymentId",)
    primary_identifier = "DeploymentId"

    async def create(self, ctx, properties):
        stage = properties.get("StageDescription") or {}
        params = drop_none(
            {
                "restApiId": properties["RestApiId"],
                "stageName": properties.get("StageName"),
                "description": properties.get("Description"),
                "stageDescription": stage.get("Description"),
                "variables": stage.get("Variables"),
                "tracingEnabled": boolean(stage.get("TracingEnabled")),
            }
        )
        deployment = await ctx.call("apigateway", "CreateDeployment", params)
        return Created(deployment["id"], {"DeploymentId": deployment["id"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        if properties.get("Description") != previous.get("Description"):
            await ctx.call(
                "apigateway",
                "UpdateDeployment",
                {
                    "restApiId": properties["RestApiId"],
                    "deploymentId": physical_id,
                    "patchOperations": [_patch("/description", properties.get("Description") or "")],
                },
            )
        if properties.get("StageName") and properties.get("StageName") != previous.get("StageName"):
            raise HandlerError("Changing a deployment's StageName is not supported", "NotUpdatable")
        return attributes

    async def delete(self, ctx, physical_id, properties):
        api = properties["RestApiId"]
        if properties.get("StageName"):
            await ignore_missing(
                ctx.call(
                    "apigateway", "DeleteStage", {"restApiId": api, "stageName": properties["StageName"]}
                )
            )
        await ignore_missing(
            ctx.call("apigateway", "DeleteDeployment", {"restApiId": api, "deploymentId": physical_id})
        )


class Stage(ResourceHandler):
    type_name = "AWS::ApiGateway::Stage"
    service = "apigateway"
    required = ("RestApiId",)
    create_only = frozenset({"RestApiId", "StageName"})
    primary_identifier = "StageName"

    async def create(self, ctx, properties):
        name = properties.get("StageName") or ctx.generated_name(128)
        params = drop_none(
            {
                "restApiId": properties["RestApiId"],
                "stageName": name,
                "deploymentId": properties.get("DeploymentId"),
                "description": properties.get("Description"),
                "variables": properties.get("Variables"),
                "tracingEnabled": boolean(properties.get("TracingEnabled")),
                "cacheClusterEnabled": boolean(properties.get("CacheClusterEnabled")),
                "tags": tag_map(properties.get("Tags")) or None,
            }
        )
        await ctx.call("apigateway", "CreateStage", params)
        operations = _method_settings(properties.get("MethodSettings") or [])
        if properties.get("AccessLogSetting"):
            setting = properties["AccessLogSetting"]
            operations += [
                _patch("/accessLogSettings/destinationArn", setting.get("DestinationArn")),
                _patch("/accessLogSettings/format", setting.get("Format", "")),
            ]
        if operations:
            await ctx.call(
                "apigateway",
                "UpdateStage",
                {"restApiId": properties["RestApiId"], "stageName": name, "patchOperations": operations},
            )
        return Created(name)

    async def update(self, ctx, physical_id, properties, previous, attributes):
        operations = []
        if properties.get("DeploymentId") != previous.get("DeploymentId") and properties.get("DeploymentId"):
            operations.append(_patch("/deploymentId", properties["DeploymentId"]))
        if properties.get("Description") != previous.get("Description"):
            operations.append(_patch("/description", properties.get("Description") or ""))
        for key, value in (properties.get("Variables") or {}).items():
            if (previous.get("Variables") or {}).get(key) != value:
                operations.append(_patch(f"/variables/{key}", value))
        for key in previous.get("Variables") or {}:
            if key not in (properties.get("Variables") or {}):
                operations.append({"op": "remove", "path": f"/variables/{key}"})
        if properties.get("MethodSettings") != previous.get("MethodSettings"):
            operations += _method_settings(properties.get("MethodSettings") or [])
        if operations:
            await ctx.call(
                "apigateway",
                "UpdateStage",
                {
                    "restApiId": properties["RestApiId"],
                    "stageName": physical_id,
                    "patchOperations": operations,
                },
            )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "apigateway", "DeleteStage", {"restApiId": properties["RestApiId"], "stageName": physical_id}
            )
        )


class Authorizer(ResourceHandler):
    type_name = "AWS::ApiGateway::Authorizer"
    service = "apigateway"
    required = ("Name", "RestApiId", "Type")
    create_only = frozenset({"RestApiId"})
    attributes = ("AuthorizerId",)
    primary_identifier = "AuthorizerId"

    def _params(self, properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "restApiId": properties["RestApiId"],
                "name": properties["Name"],
                "type": properties["Type"],
                "providerARNs": properties.get("ProviderARNs"),
                "authType": properties.get("AuthType"),
                "authorizerUri": properties.get("AuthorizerUri"),
                "authorizerCredentials": properties.get("AuthorizerCredentials"),
                "identitySource": properties.get("IdentitySource"),
                "identityValidationExpression": properties.get("IdentityValidationExpression"),
                "authorizerResultTtlInSeconds": integer(properties.get("AuthorizerResultTtlInSeconds")),
            }
        )

    async def create(self, ctx, properties):
        found = await ctx.call("apigateway", "CreateAuthorizer", self._params(properties))
        return Created(found["id"], {"AuthorizerId": found["id"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        names = {
            "Name": "/name",
            "AuthorizerUri": "/authorizerUri",
            "IdentitySource": "/identitySource",
            "AuthorizerResultTtlInSeconds": "/authorizerResultTtlInSeconds",
            "AuthorizerCredentials": "/authorizerCredentials",
        }
        operations = [
            _patch(path, properties[key])
            for key, path in names.items()
            if key in properties and properties[key] != previous.get(key)
        ]
        if operations:
            await ctx.call(
                "apigateway",
                "UpdateAuthorizer",
                {
                    "restApiId": properties["RestApiId"],
                    "authorizerId": physical_id,
                    "patchOperations": operations,
                },
            )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "apigateway",
                "DeleteAuthorizer",
                {"restApiId": properties["RestApiId"], "authorizerId": physical_id},
            )
        )


class ApiKey(ResourceHandler):
    type_name = "AWS::ApiGateway::ApiKey"
    service = "apigateway"
    create_only = frozenset({"Name", "Value", "GenerateDistinctId"})
    attributes = ("APIKeyId",)
    primary_identifier = "APIKeyId"

    async def create(self, ctx, properties):
        params = drop_none(
            {
                "name": properties.get("Name") or ctx.generated_name(128),
                "description": properties.get("Description"),
                "enabled": bool(boolean(properties.get("Enabled"))) if "Enabled" in properties else False,
                "value": properties.get("Value"),
                "customerId": properties.get("CustomerId"),
                "stageKeys": [
                    {"restApiId": k.get("RestApiId"), "stageName": k.get("StageName")}
                    for k in properties.get("StageKeys") or []
                ]
                or None,
                "tags": tag_map(properties.get("Tags")) or None,
            }
        )
        key = await ctx.call("apigateway", "CreateApiKey", params)
        return Created(key["id"], {"APIKeyId": key["id"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        operations = []
        if properties.get("Description") != previous.get("Description"):
            operations.append(_patch("/description", properties.get("Description") or ""))
        if properties.get("Enabled") != previous.get("Enabled"):
            operations.append(_patch("/enabled", "true" if boolean(properties.get("Enabled")) else "false"))
        if operations:
            await ctx.call(
                "apigateway", "UpdateApiKey", {"apiKey": physical_id, "patchOperations": operations}
            )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("apigateway", "DeleteApiKey", {"apiKey": physical_id}))


class UsagePlan(ResourceHandler):
    type_name = "AWS::ApiGateway::UsagePlan"
    service = "apigateway"
    attributes = ("Id",)

    async def create(self, ctx, properties):
        throttle = properties.get("Throttle")
        quota = properties.get("Quota")
        params = drop_none(
            {
                "name": properties.get("UsagePlanName") or ctx.generated_name(128),
                "description": properties.get("Description"),
                "apiStages": [
                    drop_none(
                        {
                            "apiId": stage.get("ApiId"),
                            "stage": stage.get("Stage"),
                            "throttle": stage.get("Throttle"),
                        }
                    )
                    for stage in properties.get("ApiStages") or []
                ]
                or None,
                "throttle": drop_none(
                    {
                        "burstLimit": integer(throttle.get("BurstLimit")),
                        "rateLimit": float(throttle["RateLimit"])
                        if throttle.get("RateLimit") is not None
                        else None,
                    }
                )
                if throttle
                else None,
                "quota": drop_none(
                    {
                        "limit": integer(quota.get("Limit")),
                        "offset": integer(quota.get("Offset")),
                        "period": quota.get("Period"),
                    }
                )
                if quota
                else None,
                "tags": tag_map(properties.get("Tags")) or None,
            }
        )
        plan = await ctx.call("apigateway", "CreateUsagePlan", params)
        return Created(plan["id"], {"Id": plan["id"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        operations = []
        if properties.get("Description") != previous.get("Description"):
            operations.append(_patch("/description", properties.get("Description") or ""))
        if properties.get("UsagePlanName") != previous.get("UsagePlanName") and properties.get(
            "UsagePlanName"
        ):
            operations.append(_patch("/name", properties["UsagePlanName"]))
        if operations:
            await ctx.call(
                "apigateway", "UpdateUsagePlan", {"usagePlanId": physical_id, "patchOperations": operations}
            )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("apigateway", "DeleteUsagePlan", {"usagePlanId": physical_id}))


class UsagePlanKey(ResourceHandler):
    type_name = "AWS::ApiGateway::UsagePlanKey"
    service = "apigateway"
    required = ("KeyId", "KeyType", "UsagePlanId")
    create_only = frozenset({"KeyId", "KeyType", "UsagePlanId"})

    async def create(self, ctx, properties):
        await ctx.call(
            "apigateway",
            "CreateUsagePlanKey",
            {
                "usagePlanId": properties["UsagePlanId"],
                "keyId": properties["KeyId"],
                "keyType": properties["KeyType"],
            },
        )
        return Created(f"{properties['UsagePlanId']}:{properties['KeyId']}")

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "apigateway",
                "DeleteUsagePlanKey",
                {"usagePlanId": properties["UsagePlanId"], "keyId": properties["KeyId"]},
            )
        )


class Model(ResourceHandler):
    type_name = "AWS::ApiGateway::Model"
    service = "apigateway"
    required = ("RestApiId",)
    create_only = frozenset({"ContentType", "Name", "RestApiId"})

    async def create(self, ctx, properties):
        name = properties.get("Name") or ctx.generated_name(64).replace("-", "")
        schema = properties.get("Schema")
        await ctx.call(
            "apigateway",
            "CreateModel",
            drop_none(
                {
                    "restApiId": properties["RestApiId"],
                    "name": name,
                    "contentType": properties.get("ContentType") or "application/json",
                    "description": properties.get("Description"),
                    "schema": json.dumps(schema) if isinstance(schema, dict) else schema,
                }
            ),
        )
        return Created(name)

    async def update(self, ctx, physical_id, properties, previous, attributes):
        schema = properties.get("Schema")
        operations = [_patch("/schema", json.dumps(schema) if isinstance(schema, dict) else schema or "")]
        await ctx.call(
            "apigateway",
            "UpdateModel",
            {"restApiId": properties["RestApiId"], "modelName": physical_id, "patchOperations": operations},
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "apigateway", "DeleteModel", {"restApiId": properties["RestApiId"], "modelName": physical_id}
            )
        )


class RequestValidator(ResourceHandler):
    type_name = "AWS::ApiGateway::RequestValidator"
    service = "apigateway"
    required = ("RestApiId",)
    create_only = frozenset({"Name", "RestApiId"})
    attributes = ("RequestValidatorId",)

    async def create(self, ctx, properties):
        found = await ctx.call(
            "apigateway",
            "CreateRequestValidator",
            drop_none(
                {
                    "restApiId": properties["RestApiId"],
                    "name": properties.get("Name") or ctx.generated_name(128),
                    "validateRequestBody": boolean(properties.get("ValidateRequestBody")),
                    "validateRequestParameters": boolean(properties.get("ValidateRequestParameters")),
                }
            ),
        )
        return Created(found["id"], {"RequestValidatorId": found["id"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        operations = [
            _patch(
                "/validateRequestBody", "true" if boolean(properties.get("ValidateRequestBody")) else "false"
            ),
            _patch(
                "/validateRequestParameters",
                "true" if boolean(properties.get("ValidateRequestParameters")) else "false",
            ),
        ]
        await ctx.call(
            "apigateway",
            "UpdateRequestValidator",
            {
                "restApiId": properties["RestApiId"],
                "requestValidatorId": physical_id,
                "patchOperations": operations,
            },
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "apigateway",
                "DeleteRequestValidator",
                {"restApiId": properties["RestApiId"], "requestValidatorId": physical_id},
            )
        )


class Account(ResourceHandler):
    """The account's CloudWatch role for API Gateway logging (one per account and region)."""

    type_name = "AWS::ApiGateway::Account"
    service = "apigateway"

    async def create(self, ctx, properties):
        if properties.get("CloudWatchRoleArn"):
            await ctx.call(
                "apigateway",
                "UpdateAccount",
                {"patchOperations": [_patch("/cloudwatchRoleArn", properties["CloudWatchRoleArn"])]},
            )
        return Created(ctx.generated_name(64))

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await self.create(ctx, properties)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        return None


class DomainName(ResourceHandler):
    type_name = "AWS::ApiGateway::DomainName"
    service = "apigateway"
    create_only = frozenset({"DomainName"})
    attributes = (
        "DistributionDomainName",
        "DistributionHostedZoneId",
        "DomainNameArn",
        "RegionalDomainName",
        "RegionalHostedZoneId",
    )
    primary_identifier = "DomainName"

    async def create(self, ctx, properties):
        name = properties.get("DomainName") or ctx.generated_name(253, lowercase=True)
        endpoint = properties.get("EndpointConfiguration")
        found = await ctx.call(
            "apigateway",
            "CreateDomainName",
            drop_none(
                {
                    "domainName": name,
                    "certificateArn": properties.get("CertificateArn"),
                    "regionalCertificateArn": properties.get("RegionalCertificateArn"),
                    "endpointConfiguration": {"types": endpoint.get("Types") or ["EDGE"]}
                    if endpoint
                    else None,
                    "securityPolicy": properties.get("SecurityPolicy"),
                    "mutualTlsAuthentication": {
                        "truststoreUri": properties["MutualTlsAuthentication"].get("TruststoreUri"),
                        "truststoreVersion": properties["MutualTlsAuthentication"].get("TruststoreVersion"),
                    }
                    if properties.get("MutualTlsAuthentication")
                    else None,
                    "ownershipVerificationCertificateArn": properties.get(
                        "OwnershipVerificationCertificateArn"
                    ),
                    "routingMode": properties.get("RoutingMode"),
                    "tags": tag_map(properties.get("Tags")) or None,
                }
            ),
        )
        return Created(name, self._attributes(ctx, found))

    @staticmethod
    def _attributes(ctx, domain: dict[str, Any]) -> dict[str, Any]:
        return {
            "DistributionDomainName": domain.get("distributionDomainName", ""),
            "DistributionHostedZoneId": domain.get("distributionHostedZoneId", ""),
            "DomainNameArn": domain.get("domainNameArn")
            or f"arn:{ctx.partition}:apigateway:{ctx.region}::/domainnames/{domain['domainName']}",
            "RegionalDomainName": domain.get("regionalDomainName", ""),
            "RegionalHostedZoneId": domain.get("regionalHostedZoneId", ""),
        }

    async def update(self, ctx, physical_id, properties, previous, attributes):
        operations = [
            _patch(path, properties.get(key))
            for key, path in (
                ("CertificateArn", "/certificateArn"),
                ("RegionalCertificateArn", "/regionalCertificateArn"),
                ("SecurityPolicy", "/securityPolicy"),
            )
            if properties.get(key) != previous.get(key) and properties.get(key) is not None
        ]
        if not operations:
            return attributes
        found = await ctx.call(
            "apigateway", "UpdateDomainName", {"domainName": physical_id, "patchOperations": operations}
        )
        return self._attributes(ctx, found)

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("apigateway", "DeleteDomainName", {"domainName": physical_id}))

    async def read(self, ctx, physical_id, properties):
        try:
            await ctx.call("apigateway", "GetDomainName", {"domainName": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return dict(properties)


class BasePathMapping(ResourceHandler):
    """Its physical id is `<domain name>|<base path>` (the base path `(none)` when the mapping has none, as
    API Gateway names it)."""

    type_name = "AWS::ApiGateway::BasePathMapping"
    service = "apigateway"
    required = ("DomainName",)
    create_only = frozenset({"BasePath", "DomainName"})

    async def create(self, ctx, properties):
        found = await ctx.call(
            "apigateway",
            "CreateBasePathMapping",
            drop_none(
                {
                    "domainName": properties["DomainName"],
                    "basePath": properties.get("BasePath"),
                    "restApiId": properties.get("RestApiId"),
                    "stage": properties.get("Stage"),
                }
            ),
        )
        return Created(f"{properties['DomainName']}|{found.get('basePath') or '(none)'}")

    async def update(self, ctx, physical_id, properties, previous, attributes):
        domain, base = physical_id.rsplit("|", 1)
        operations = [
            _patch(path, properties.get(key) or "")
            for key, path in (("RestApiId", "/restapiId"), ("Stage", "/stage"))
            if properties.get(key) != previous.get(key)
        ]
        if operations:
            await ctx.call(
                "apigateway",
                "UpdateBasePathMapping",
                {"domainName": domain, "basePath": base, "patchOperations": operations},
            )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        domain, base = physical_id.rsplit("|", 1)
        await ignore_missing(
            ctx.call("apigateway", "DeleteBasePathMapping", {"domainName": domain, "basePath": base})
        )


class GatewayResponse(ResourceHandler):
    type_name = "AWS::ApiGateway::GatewayResponse"
    service = "apigateway"
    required = ("ResponseType", "RestApiId")
    create_only = frozenset({"ResponseType", "RestApiId"})

    async def create(self, ctx, properties):
        await self._put(ctx, properties)
        return Created(f"{properties['RestApiId']}|{properties['ResponseType']}")

    @staticmethod
    async def _put(ctx, properties: dict[str, Any]) -> None:
        await ctx.call(
            "apigateway",
            "PutGatewayResponse",
            drop_none(
                {
                    "restApiId": properties["RestApiId"],
                    "responseType": properties["ResponseType"],
                    "statusCode": text(properties.get("StatusCode")),
                    "responseParameters": properties.get("ResponseParameters"),
                    "responseTemplates": properties.get("ResponseTemplates"),
                }
            ),
        )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await self._put(ctx, properties)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "apigateway",
                "DeleteGatewayResponse",
                {"restApiId": properties["RestApiId"], "responseType": properties["ResponseType"]},
            )
        )


class VpcLink(ResourceHandler):
    type_name = "AWS::ApiGateway::VpcLink"
    service = "apigateway"
    required = ("Name", "TargetArns")
    create_only = frozenset({"TargetArns"})
    attributes = ("VpcLinkId",)
    primary_identifier = "VpcLinkId"

    async def create(self, ctx, properties):
        found = await ctx.call(
            "apigateway",
            "CreateVpcLink",
            drop_none(
                {
                    "name": properties["Name"],
                    "description": properties.get("Description"),
                    "targetArns": properties["TargetArns"],
                    "tags": tag_map(properties.get("Tags")) or None,
                }
            ),
        )
        return Created(found["id"], {"VpcLinkId": found["id"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        operations = [
            _patch(path, properties.get(key) or "")
            for key, path in (("Name", "/name"), ("Description", "/description"))
            if properties.get(key) != previous.get(key)
        ]
        if operations:
            await ctx.call(
                "apigateway", "UpdateVpcLink", {"vpcLinkId": physical_id, "patchOperations": operations}
            )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("apigateway", "DeleteVpcLink", {"vpcLinkId": physical_id}))


class ClientCertificate(ResourceHandler):
    type_name = "AWS::ApiGateway::ClientCertificate"
    service = "apigateway"
    attributes = ("ClientCertificateId",)
    primary_identifier = "ClientCertificateId"

    async def create(self, ctx, properties):
        found = await ctx.call(
            "apigateway",
            "GenerateClientCertificate",
            drop_none(
                {
                    "description": properties.get("Description"),
                    "tags": tag_map(properties.get("Tags")) or None,
                }
            ),
        )
        certificate_id = found["clientCertificateId"]
        return Created(certificate_id, {"ClientCertificateId": certificate_id})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        if properties.get("Description") != previous.get("Description"):
            await ctx.call(
                "apigateway",
                "UpdateClientCertificate",
                {
                    "clientCertificateId": physical_id,
                    "patchOperations": [_patch("/description", properties.get("Description") or "")],
                },
            )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call("apigateway", "DeleteClientCertificate", {"clientCertificateId": physical_id})
        )


class DocumentationPart(ResourceHandler):
    type_name = "AWS::ApiGateway::DocumentationPart"
    service = "apigateway"
    required = ("Location", "Properties", "RestApiId")
    create_only = frozenset({"Location", "RestApiId"})
    attributes = ("DocumentationPartId",)
    primary_identifier = "DocumentationPartId"

    async def create(self, ctx, properties):
        location = {key[0].lower() + key[1:]: value for key, value in properties["Location"].items()}
        found = await ctx.call(
            "apigateway",
            "CreateDocumentationPart",
            {
                "restApiId": properties["RestApiId"],
                "location": location,
                "properties": document(properties["Properties"]),
            },
        )
        return Created(found["id"], {"DocumentationPartId": found["id"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call(
            "apigateway",
            "UpdateDocumentationPart",
            {
                "restApiId": properties["RestApiId"],
                "documentationPartId": physical_id,
                "patchOperations": [_patch("/properties", document(properties["Properties"]))],
            },
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "apigateway",
                "DeleteDocumentationPart",
                {"restApiId": properties["RestApiId"], "documentationPartId": physical_id},
            )
        )


HANDLERS = (
    RestApi,
    Resource,
    Method,
    Deployment,
    Stage,
    Authorizer,
    ApiKey,
    UsagePlan,
    UsagePlanKey,
    Model,
    RequestValidator,
    Account,
    DomainName,
    BasePathMapping,
    GatewayResponse,
    VpcLink,
    ClientCertificate,
    DocumentationPart,
)
