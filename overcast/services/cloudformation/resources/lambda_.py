"""Lambda resource types: functions, versions, aliases, permissions, event source mappings, layers, URLs."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation import cfnresponse
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

_CONFIGURATION = (
    "Role",
    "Handler",
    "Description",
    "Timeout",
    "MemorySize",
    "Environment",
    "Runtime",
    "DeadLetterConfig",
    "KMSKeyArn",
    "TracingConfig",
    "Layers",
    "EphemeralStorage",
    "VpcConfig",
    "ImageConfig",
    "LoggingConfig",
    "FileSystemConfigs",
    "SnapStart",
)


def inline_zip(source: str, runtime: str) -> bytes:
    """`Code.ZipFile` packaged as CloudFormation packages it: index.py / index.js, with cfnresponse."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if runtime.startswith("nodejs"):
            archive.writestr(zipfile.ZipInfo("index.js", (2020, 1, 1, 0, 0, 0)), source)
            archive.writestr(
                zipfile.ZipInfo("node_modules/cfn-response/index.js", (2020, 1, 1, 0, 0, 0)), cfnresponse.NODE
            )
        else:
            archive.writestr(zipfile.ZipInfo("index.py", (2020, 1, 1, 0, 0, 0)), source)
            if runtime.startswith("python"):
                archive.writestr(zipfile.ZipInfo("cfnresponse.py", (2020, 1, 1, 0, 0, 0)), cfnresponse.PYTHON)
    return buffer.getvalue()


def code_of(properties: dict[str, Any]) -> dict[str, Any]:
    code = properties.get("Code") or {}
    if code.get("ZipFile") is not None:
        return {"ZipFile": inline_zip(code["ZipFile"], properties.get("Runtime") or "")}
    return drop_none(
        {
            "S3Bucket": code.get("S3Bucket"),
            "S3Key": code.get("S3Key"),
            "S3ObjectVersion": code.get("S3ObjectVersion"),
            "ImageUri": code.get("ImageUri"),
        }
    )


def configuration(properties: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in _CONFIGURATION:
        if key not in properties:
            continue
        value = properties[key]
        if key in ("Timeout", "MemorySize"):
            value = integer(value)
        elif key == "EphemeralStorage":
            value = {"Size": integer(value["Size"])}
        elif key == "Environment":
            value = {"Variables": {k: str(v) for k, v in (value.get("Variables") or {}).items()}}
        values[key] = value
    return values


class Function(ResourceHandler):
    type_name = "AWS::Lambda::Function"
    service = "lambda"
    required = ("Code",)
    create_only = frozenset({"FunctionName", "PackageType"})
    attributes = (
        "Arn",
        "SnapStartResponse",
        "SnapStartResponse.ApplyOn",
        "SnapStartResponse.OptimizationStatus",
    )
    primary_identifier = "FunctionName"

    async def create(self, ctx, properties):
        name = properties.get("FunctionName") or ctx.generated_name(64)
        params: dict[str, Any] = {
            "FunctionName": name,
            "Code": code_of(properties),
            **configuration(properties),
        }
        for key in ("PackageType", "Architectures", "RuntimeManagementConfig", "CodeSigningConfigArn"):
            if key in properties and key != "RuntimeManagementConfig":
                params[key] = properties[key]
        tags = tag_map(properties.get("Tags"))
        if tags:
            params["Tags"] = tags
        function = await ctx.call("lambda", "CreateFunction", params)
        if properties.get("ReservedConcurrentExecutions") is not None:
            await ctx.call(
                "lambda",
                "PutFunctionConcurrency",
                {
                    "FunctionName": name,
                    "ReservedConcurrentExecutions": integer(properties["ReservedConcurrentExecutions"]),
                },
            )
        return Created(name, {"Arn": function["FunctionArn"]})

    def known_attributes(self, ctx, physical_id):
        return {"Arn": ctx.arn("lambda", f"function:{physical_id}")}

    async def update(self, ctx, physical_id, properties, previous, attributes):
        if (
            properties.get("Code") != previous.get("Code")
            or properties.get("Runtime") != previous.get("Runtime")
            and "ZipFile" in (properties.get("Code") or {})
        ):
            params = {"FunctionName": physical_id, **code_of(properties)}
            if properties.get("Architectures"):
                params["Architectures"] = properties["Architectures"]
            await ctx.call("lambda", "UpdateFunctionCode", params)
        new, old = configuration(properties), configuration(previous)
        if new != old:
            change = {key: value for key, value in new.items() if old.get(key) != value}
            for key in old:
                if key not in new:
                    change[key] = {"Environment": {"Variables": {}}, "Layers": [], "Description": ""}.get(key)
            change = drop_none(change)
            if change:
                await ctx.call(
                    "lambda", "UpdateFunctionConfiguration", {"FunctionName": physical_id, **change}
                )
        if properties.get("ReservedConcurrentExecutions") != previous.get("ReservedConcurrentExecutions"):
            if properties.get("ReservedConcurrentExecutions") is None:
                await ctx.call("lambda", "DeleteFunctionConcurrency", {"FunctionName": physical_id})
            else:
                await ctx.call(
                    "lambda",
                    "PutFunctionConcurrency",
                    {
                        "FunctionName": physical_id,
                        "ReservedConcurrentExecutions": integer(properties["ReservedConcurrentExecutions"]),
                    },
                )
        old_tags, new_tags = tag_map(previous.get("Tags")), tag_map(properties.get("Tags"))
        gone = [key for key in old_tags if key not in new_tags]
        if gone:
            await ctx.call("lambda", "UntagResource", {"Resource": attributes["Arn"], "TagKeys": gone})
        if new_tags and new_tags != old_tags:
            await ctx.call("lambda", "TagResource", {"Resource": attributes["Arn"], "Tags": new_tags})
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("lambda", "DeleteFunction", {"FunctionName": physical_id}))

    async def read(self, ctx, physical_id, properties):
        try:
            found = await ctx.call("lambda", "GetFunctionConfiguration", {"FunctionName": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        result: dict[str, Any] = {"FunctionName": found["FunctionName"], "Code": properties.get("Code")}
        for key in ("Role", "Handler", "Runtime", "Timeout", "MemorySize", "Description"):
            if key in found and (found[key] or key in properties):
                result[key] = found[key]
        if found.get("Environment", {}).get("Variables") or "Environment" in properties:
            result["Environment"] = {"Variables": found.get("Environment", {}).get("Variables", {})}
        for key in properties:
            result.setdefault(key, properties[key])
        return result

    async def list(self, ctx):
        return [
            f["FunctionName"] for f in (await ctx.call("lambda", "ListFunctions", {})).get("Functions", [])
        ]


class Version(ResourceHandler):
    type_name = "AWS::Lambda::Version"
    service = "lambda"
    required = ("FunctionName",)
    create_only = frozenset({"FunctionName", "Description", "CodeSha256", "RuntimePolicy"})
    attributes = ("Version", "FunctionArn")
    primary_identifier = "FunctionArn"

    async def create(self, ctx, properties):
        params = drop_none(
            {
                "FunctionName": properties["FunctionName"],
                "Description": properties.get("Description"),
                "CodeSha256": properties.get("CodeSha256"),
            }
        )
        version = await ctx.call("lambda", "PublishVersion", params)
        provisioned = properties.get("ProvisionedConcurrencyConfig")
        if provisioned:
            await ctx.call(
                "lambda",
                "PutProvisionedConcurrencyConfig",
                {
                    "FunctionName": properties["FunctionName"],
                    "Qualifier": version["Version"],
                    "ProvisionedConcurrentExecutions": integer(
                        provisioned["ProvisionedConcurrentExecutions"]
                    ),
                },
            )
        return Created(
            version["FunctionArn"], {"Version": version["Version"], "FunctionArn": version["FunctionArn"]}
        )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        return attributes  # ProvisionedConcurrencyConfig only; a version is otherwise immutable

    async def delete(self, ctx, physical_id, properties):
        name, _, version = physical_id.rpartition(":")
        await ignore_missing(
            ctx.call("lambda", "DeleteFunction", {"FunctionName": name, "Qualifier": version})
        )


class Alias(ResourceHandler):
    type_name = "AWS::Lambda::Alias"
    service = "lambda"
    required = ("FunctionName", "FunctionVersion", "Name")
    create_only = frozenset({"FunctionName", "Name"})
    attributes = ("AliasArn",)
    primary_identifier = "AliasArn"

    def _params(self, properties: dict[str, Any]) -> dict[str, Any]:
        params = drop_none(
            {
                "FunctionName": properties["FunctionName"],
                "Name": properties["Name"],
                "FunctionVersion": properties["FunctionVersion"],
                "Description": properties.get("Description"),
            }
        )
        weights = (properties.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
        if weights:
            params["RoutingConfig"] = {
                "AdditionalVersionWeights": {
                    w["FunctionVersion"]: float(w["FunctionWeight"]) for w in weights
                }
            }
        return params

    async def create(self, ctx, properties):
        alias = await ctx.call("lambda", "CreateAlias", self._params(properties))
        return Created(alias["AliasArn"], {"AliasArn": alias["AliasArn"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        params = self._params(properties)
        if "RoutingConfig" not in params and previous.get("RoutingConfig"):
            params["RoutingConfig"] = {"AdditionalVersionWeights": {}}
        await ctx.call("lambda", "UpdateAlias", params)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "lambda",
                "DeleteAlias",
                {"FunctionName": properties["FunctionName"], "Name": properties["Name"]},
            )
        )


class Permission(ResourceHandler):
    type_name = "AWS::Lambda::Permission"
    service = "lambda"
    required = ("Action", "FunctionName", "Principal")
    create_only = frozenset(
        {
            "Action",
            "FunctionName",
            "Principal",
            "SourceArn",
            "SourceAccount",
            "EventSourceToken",
            "FunctionUrlAuthType",
            "PrincipalOrgID",
        }
    )
    attributes = ("Id",)

    async def create(self, ctx, properties):
        statement = ctx.generated_name(100)
        params = drop_none(
            {
                "FunctionName": properties["FunctionName"],
                "StatementId": statement,
                "Action": properties["Action"],
                "Principal": properties["Principal"],
                "SourceArn": properties.get("SourceArn"),
                "SourceAccount": properties.get("SourceAccount"),
                "EventSourceToken": properties.get("EventSourceToken"),
                "FunctionUrlAuthType": properties.get("FunctionUrlAuthType"),
                "PrincipalOrgID": properties.get("PrincipalOrgID"),
            }
        )
        await ctx.call("lambda", "AddPermission", params)
        return Created(statement, {"Id": statement})

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "lambda",
                "RemovePermission",
                {"FunctionName": properties["FunctionName"], "StatementId": physical_id},
            )
        )


_MAPPING_UPDATABLE = (
    "FunctionName",
    "Enabled",
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "DestinationConfig",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "ParallelizationFactor",
    "TumblingWindowInSeconds",
    "FunctionResponseTypes",
    "ScalingConfig",
    "FilterCriteria",
    "MetricsConfig",
)
_MAPPING_NUMBERS = {
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "MaximumRecordAgeInSeconds",
    "MaximumRetryAttempts",
    "ParallelizationFactor",
    "TumblingWindowInSeconds",
}


def _mapping_value(key: str, value: Any) -> Any:
    if key in _MAPPING_NUMBERS:
        return integer(value)
    if key in ("Enabled", "BisectBatchOnFunctionError"):
        return boolean(value)
    if key == "ScalingConfig":
        return {k: integer(v) for k, v in value.items()}
    return value


class EventSourceMapping(ResourceHandler):
    type_name = "AWS::Lambda::EventSourceMapping"
    service = "lambda"
    required = ("FunctionName",)
    create_only = frozenset(
        {
            "EventSourceArn",
            "StartingPosition",
            "StartingPositionTimestamp",
            "SelfManagedEventSource",
            "Queues",
            "Topics",
        }
    )
    attributes = ("Id", "EventSourceMappingArn")
    primary_identifier = "Id"

    async def create(self, ctx, properties):
        params: dict[str, Any] = {
            key: _mapping_value(key, properties[key]) for key in _MAPPING_UPDATABLE if key in properties
        }
        for key in ("EventSourceArn", "StartingPosition", "Queues", "Topics", "SelfManagedEventSource"):
            if key in properties:
                params[key] = properties[key]
        if "StartingPositionTimestamp" in properties:
            from datetime import UTC, datetime

            params["StartingPositionTimestamp"] = datetime.fromtimestamp(
                float(properties["StartingPositionTimestamp"]), UTC
            )
        tags = tag_map(properties.get("Tags"))
        if tags:
            params["Tags"] = tags
        mapping = await ctx.call("lambda", "CreateEventSourceMapping", params)
        attributes = {"Id": mapping["UUID"]}
        if mapping.get("EventSourceMappingArn"):
            attributes["EventSourceMappingArn"] = mapping["EventSourceMappingArn"]
        return Created(mapping["UUID"], attributes)

    async def update(self, ctx, physical_id, properties, previous, attributes):
        change = {
            key: _mapping_value(key, properties[key])
            for key in _MAPPING_UPDATABLE
            if key in properties and properties[key] != previous.get(key)
        }
        if "Enabled" in previous and "Enabled" not in properties:
            change["Enabled"] = True
        if change:
            await ctx.call("lambda", "UpdateEventSourceMapping", {"UUID": physical_id, **change})
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("lambda", "DeleteEventSourceMapping", {"UUID": physical_id}))

    async def read(self, ctx, physical_id, properties):
        try:
            found = await ctx.call("lambda", "GetEventSourceMapping", {"UUID": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        result = dict(properties)
        if "BatchSize" in found:
            result["BatchSize"] = found["BatchSize"]
        if found.get("State") in ("Disabled", "Disabling"):
            result["Enabled"] = False
        return result


class LayerVersion(ResourceHandler):
    type_name = "AWS::Lambda::LayerVersion"
    service = "lambda"
    required = ("Content",)
    create_only = frozenset(
        {
            "Content",
            "LayerName",
            "Description",
            "CompatibleRuntimes",
            "CompatibleArchitectures",
            "LicenseInfo",
        }
    )
    attributes = ("LayerVersionArn",)
    primary_identifier = "LayerVersionArn"

    async def create(self, ctx, properties):
        name = properties.get("LayerName") or ctx.generated_name(140)
        content = properties["Content"]
        params = drop_none(
            {
                "LayerName": name,
                "Description": properties.get("Description"),
                "Content": drop_none(
                    {
                        "S3Bucket": content.get("S3Bucket"),
                        "S3Key": content.get("S3Key"),
                        "S3ObjectVersion": content.get("S3ObjectVersion"),
                    }
                ),
                "CompatibleRuntimes": properties.get("CompatibleRuntimes"),
                "CompatibleArchitectures": properties.get("CompatibleArchitectures"),
                "LicenseInfo": properties.get("LicenseInfo"),
            }
        )
        layer = await ctx.call("lambda", "PublishLayerVersion", params)
        return Created(layer["LayerVersionArn"], {"LayerVersionArn": layer["LayerVersionArn"]})

    async def delete(self, ctx, physical_id, properties):
        arn, _, number = physical_id.rpartition(":")
        name = arn.rsplit(":", 1)[-1]
        await ignore_missing(
            ctx.call("lambda", "DeleteLayerVersion", {"LayerName": name, "VersionNumber": int(number)})
        )


class LayerVersionPermission(ResourceHandler):
    type_name = "AWS::Lambda::LayerVersionPermission"
    service = "lambda"
    required = ("Action", "LayerVersionArn", "Principal")
    create_only = frozenset({"Action", "LayerVersionArn", "Principal", "OrganizationId"})

    async def create(self, ctx, properties):
        arn, _, number = properties["LayerVersionArn"].rpartition(":")
        statement = ctx.generated_name(100)
        await ctx.call(
            "lambda",
            "AddLayerVersionPermission",
            drop_none(
                {
                    "LayerName": arn,
                    "VersionNumber": int(number),
                    "StatementId": statement,
                    "Action": properties["Action"],
                    "Principal": properties["Principal"],
                    "OrganizationId": properties.get("OrganizationId"),
                }
            ),
        )
        return Created(statement)

    async def delete(self, ctx, physical_id, properties):
        arn, _, number = properties["LayerVersionArn"].rpartition(":")
        await ignore_missing(
            ctx.call(
                "lambda",
                "RemoveLayerVersionPermission",
                {"LayerName": arn, "VersionNumber": int(number), "StatementId": physical_id},
            )
        )


class Url(ResourceHandler):
    type_name = "AWS::Lambda::Url"
    service = "lambda"
    required = ("TargetFunctionArn", "AuthType")
    create_only = frozenset({"TargetFunctionArn", "Qualifier"})
    attributes = ("FunctionArn", "FunctionUrl")
    primary_identifier = "FunctionArn"

    def _params(self, properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "FunctionName": properties["TargetFunctionArn"],
                "Qualifier": properties.get("Qualifier"),
                "AuthType": properties["AuthType"],
                "Cors": properties.get("Cors"),
                "InvokeMode": properties.get("InvokeMode"),
            }
        )

    async def create(self, ctx, properties):
        url = await ctx.call("lambda", "CreateFunctionUrlConfig", self._params(properties))
        return Created(
            url["FunctionArn"], {"FunctionArn": url["FunctionArn"], "FunctionUrl": url["FunctionUrl"]}
        )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call("lambda", "UpdateFunctionUrlConfig", self._params(properties))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "lambda",
                "DeleteFunctionUrlConfig",
                drop_none(
                    {
                        "FunctionName": properties["TargetFunctionArn"],
                        "Qualifier": properties.get("Qualifier"),
                    }
                ),
            )
        )


class EventInvokeConfig(ResourceHandler):
    type_name = "AWS::Lambda::EventInvokeConfig"
    service = "lambda"
    required = ("FunctionName", "Qualifier")
    create_only = frozenset({"FunctionName", "Qualifier"})

    def _params(self, properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "FunctionName": properties["FunctionName"],
                "Qualifier": properties["Qualifier"],
                "MaximumRetryAttempts": integer(properties.get("MaximumRetryAttempts")),
                "MaximumEventAgeInSeconds": integer(properties.get("MaximumEventAgeInSeconds")),
                "DestinationConfig": properties.get("DestinationConfig"),
            }
        )

    async def create(self, ctx, properties):
        await ctx.call("lambda", "PutFunctionEventInvokeConfig", self._params(properties))
        return Created(ctx.generated_name(255))

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call("lambda", "PutFunctionEventInvokeConfig", self._params(properties))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call(
                "lambda",
                "DeleteFunctionEventInvokeConfig",
                {"FunctionName": properties["FunctionName"], "Qualifier": properties["Qualifier"]},
            )
        )


HANDLERS = (
    Function,
    Version,
    Alias,
    Permission,
    EventSourceMapping,
    LayerVersion,
    LayerVersionPermission,
    Url,
    EventInvokeConfig,
)
