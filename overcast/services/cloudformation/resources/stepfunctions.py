"""Step Functions resource types: AWS::StepFunctions::StateMachine, StateMachineVersion, StateMachineAlias,
Activity."""

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
    ignore_missing,
    not_found,
    tag_list,
)


async def _definition(ctx: ResourceContext, properties: dict[str, Any]) -> str:
    """The definition as text: Definition (an object), DefinitionString or DefinitionS3Location, with each
    ${name} of DefinitionSubstitutions replaced."""
    if properties.get("Definition") is not None:
        text = json.dumps(properties["Definition"])
    elif properties.get("DefinitionString") is not None:
        text = properties["DefinitionString"]
    elif properties.get("DefinitionS3Location"):
        location = properties["DefinitionS3Location"]
        params = {"Bucket": location["Bucket"], "Key": location["Key"]}
        if location.get("Version"):
            params["VersionId"] = location["Version"]
        body = (await ctx.call("s3", "GetObject", params)).get("Body", b"")
        if not isinstance(body, bytes | bytearray):
            body = b"".join([chunk async for chunk in body])
        text = bytes(body).decode()
    else:
        raise HandlerError(
            "Properties validation failed: one of Definition, DefinitionString or DefinitionS3Location is required"
        )
    for key, value in (properties.get("DefinitionSubstitutions") or {}).items():
        text = text.replace("${" + key + "}", value if isinstance(value, str) else json.dumps(value))
    return text


def _logging(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if not value:
        return None
    converted: dict[str, Any] = {}
    if "Level" in value:
        converted["level"] = value["Level"]
    if "IncludeExecutionData" in value:
        converted["includeExecutionData"] = bool(boolean(value["IncludeExecutionData"]))
    if value.get("Destinations"):
        converted["destinations"] = [
            {"cloudWatchLogsLogGroup": {"logGroupArn": d["CloudWatchLogsLogGroup"]["LogGroupArn"]}}
            for d in value["Destinations"]
        ]
    return converted


async def _revision(ctx: ResourceContext, arn: str) -> str:
    """The machine's current revision id (what a StateMachineVersion publishes)."""
    found = await ctx.call("stepfunctions", "DescribeStateMachine", {"stateMachineArn": arn})
    return found.get("revisionId") or ""


class StateMachine(ResourceHandler):
    type_name = "AWS::StepFunctions::StateMachine"
    service = "stepfunctions"
    required = ("RoleArn",)
    create_only = frozenset({"StateMachineName", "StateMachineType"})
    attributes = ("Arn", "Name", "StateMachineRevisionId")
    primary_identifier = "Arn"

    async def create(self, ctx, properties):
        name = properties.get("StateMachineName") or ctx.generated_name(80)
        params: dict[str, Any] = {
            "name": name,
            "definition": await _definition(ctx, properties),
            "roleArn": properties["RoleArn"],
            "type": properties.get("StateMachineType") or "STANDARD",
        }
        if properties.get("LoggingConfiguration"):
            params["loggingConfiguration"] = _logging(properties["LoggingConfiguration"])
        if properties.get("TracingConfiguration"):
            params["tracingConfiguration"] = {
                "enabled": bool(boolean(properties["TracingConfiguration"].get("Enabled")))
            }
        tags = tag_list(properties.get("Tags"))
        if tags:
            params["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in tags]
        created = await ctx.call("stepfunctions", "CreateStateMachine", params)
        arn = created["stateMachineArn"]
        return Created(arn, {"Arn": arn, "Name": name, "StateMachineRevisionId": await _revision(ctx, arn)})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        params: dict[str, Any] = {
            "stateMachineArn": physical_id,
            "definition": await _definition(ctx, properties),
            "roleArn": properties["RoleArn"],
        }
        if properties.get("LoggingConfiguration"):
            params["loggingConfiguration"] = _logging(properties["LoggingConfiguration"])
        if properties.get("TracingConfiguration"):
            params["tracingConfiguration"] = {
                "enabled": bool(boolean(properties["TracingConfiguration"].get("Enabled")))
            }
        await ctx.call("stepfunctions", "UpdateStateMachine", params)
        return {**attributes, "StateMachineRevisionId": await _revision(ctx, physical_id)}

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("stepfunctions", "DeleteStateMachine", {"stateMachineArn": physical_id})
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            found = await ctx.call("stepfunctions", "DescribeStateMachine", {"stateMachineArn": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        result = dict(properties)
        result["RoleArn"] = found.get("roleArn")
        if "DefinitionString" in properties:
            result["DefinitionString"] = found.get("definition")
        return result

    async def list(self, ctx):
        found = await ctx.call("stepfunctions", "ListStateMachines", {})
        return [machine["stateMachineArn"] for machine in found.get("stateMachines", [])]


class Activity(ResourceHandler):
    type_name = "AWS::StepFunctions::Activity"
    service = "stepfunctions"
    required = ("Name",)
    create_only = frozenset({"Name"})
    attributes = ("Arn", "Name")
    primary_identifier = "Arn"

    async def create(self, ctx, properties):
        params: dict[str, Any] = {"name": properties["Name"]}
        tags = tag_list(properties.get("Tags"))
        if tags:
            params["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in tags]
        arn = (await ctx.call("stepfunctions", "CreateActivity", params))["activityArn"]
        return Created(arn, {"Arn": arn, "Name": properties["Name"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("stepfunctions", "DeleteActivity", {"activityArn": physical_id})
        except ServiceError as error:
            if not not_found(error):
                raise


class StateMachineVersion(ResourceHandler):
    """Publishes the state machine's current revision; an update publishes a new version and CloudFormation
    deletes the old one (every property is create-only, as in AWS)."""

    type_name = "AWS::StepFunctions::StateMachineVersion"
    service = "stepfunctions"
    required = ("StateMachineArn",)
    create_only = frozenset({"StateMachineArn", "StateMachineRevisionId", "Description"})
    attributes = ("Arn",)
    primary_identifier = "Arn"

    async def create(self, ctx, properties):
        params = {"stateMachineArn": properties["StateMachineArn"]}
        for key, name in (("StateMachineRevisionId", "revisionId"), ("Description", "description")):
            if properties.get(key):
                params[name] = properties[key]
        found = await ctx.call("stepfunctions", "PublishStateMachineVersion", params)
        return Created(found["stateMachineVersionArn"], {"Arn": found["stateMachineVersionArn"]})

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call("stepfunctions", "DeleteStateMachineVersion", {"stateMachineVersionArn": physical_id})
        )

    def known_attributes(self, ctx, physical_id):
        return {"Arn": physical_id}


class StateMachineAlias(ResourceHandler):
    type_name = "AWS::StepFunctions::StateMachineAlias"
    service = "stepfunctions"
    create_only = frozenset({"Name"})
    attributes = ("Arn",)
    primary_identifier = "Arn"

    @staticmethod
    def _routing(properties: dict[str, Any]) -> list[dict[str, Any]]:
        routes = properties.get("RoutingConfiguration") or []
        if not routes and (properties.get("DeploymentPreference") or {}).get("StateMachineVersionArn"):
            routes = [{"StateMachineVersionArn": properties["DeploymentPreference"]["StateMachineVersionArn"],
                       "Weight": 100}]  # fmt: skip
        if not routes:
            raise HandlerError("RoutingConfiguration or DeploymentPreference is required", "InvalidRequest")
        return [
            {"stateMachineVersionArn": route["StateMachineVersionArn"], "weight": int(route["Weight"])}
            for route in routes
        ]

    async def create(self, ctx, properties):
        params = {
            "name": properties.get("Name") or ctx.generated_name(80),
            "routingConfiguration": self._routing(properties),
        }
        if properties.get("Description"):
            params["description"] = properties["Description"]
        found = await ctx.call("stepfunctions", "CreateStateMachineAlias", params)
        return Created(found["stateMachineAliasArn"], {"Arn": found["stateMachineAliasArn"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call(
            "stepfunctions",
            "UpdateStateMachineAlias",
            {
                "stateMachineAliasArn": physical_id,
                "routingConfiguration": self._routing(properties),
                "description": properties.get("Description") or "",
            },
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(
            ctx.call("stepfunctions", "DeleteStateMachineAlias", {"stateMachineAliasArn": physical_id})
        )

    async def read(self, ctx, physical_id, properties):
        try:
            await ctx.call(
                "stepfunctions", "DescribeStateMachineAlias", {"stateMachineAliasArn": physical_id}
            )
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return dict(properties)

    def known_attributes(self, ctx, physical_id):
        return {"Arn": physical_id}


HANDLERS = (StateMachine, StateMachineVersion, StateMachineAlias, Activity)
