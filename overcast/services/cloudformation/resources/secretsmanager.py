"""Secrets Manager resource types: AWS::SecretsManager::Secret (with GenerateSecretString), its resource policy
and its rotation schedule."""

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
    integer,
    not_found,
    tag_list,
)


async def _secret_string(ctx: ResourceContext, properties: dict[str, Any]) -> str | None:
    """SecretString, or one generated as GenerateSecretString says (a password, alone or under a key of a
    JSON template)."""
    if properties.get("SecretString") is not None:
        return str(properties["SecretString"])
    spec = properties.get("GenerateSecretString")
    if spec is None:
        return None
    params = drop_none(
        {
            "PasswordLength": integer(spec.get("PasswordLength")),
            "ExcludeCharacters": spec.get("ExcludeCharacters"),
            "ExcludeNumbers": boolean(spec.get("ExcludeNumbers")),
            "ExcludePunctuation": boolean(spec.get("ExcludePunctuation")),
            "ExcludeUppercase": boolean(spec.get("ExcludeUppercase")),
            "ExcludeLowercase": boolean(spec.get("ExcludeLowercase")),
            "IncludeSpace": boolean(spec.get("IncludeSpace")),
            "RequireEachIncludedType": boolean(spec.get("RequireEachIncludedType")),
        }
    )
    password = (await ctx.call("secretsmanager", "GetRandomPassword", params))["RandomPassword"]
    template, key = spec.get("SecretStringTemplate"), spec.get("GenerateStringKey")
    if template and key:
        value = json.loads(template)
        value[key] = password
        return json.dumps(value)
    return password


class Secret(ResourceHandler):
    type_name = "AWS::SecretsManager::Secret"
    service = "secretsmanager"
    create_only = frozenset({"Name"})
    attributes = ("Id",)
    primary_identifier = "Id"

    async def create(self, ctx, properties):
        name = properties.get("Name") or ctx.generated_name(256)
        params = drop_none(
            {
                "Name": name,
                "Description": properties.get("Description"),
                "KmsKeyId": properties.get("KmsKeyId"),
                "SecretString": await _secret_string(ctx, properties),
                "Tags": tag_list(properties.get("Tags")) or None,
                "AddReplicaRegions": [
                    drop_none({"Region": r["Region"], "KmsKeyId": r.get("KmsKeyId")})
                    for r in properties.get("ReplicaRegions") or []
                ]
                or None,
            }
        )
        arn = (await ctx.call("secretsmanager", "CreateSecret", params))["ARN"]
        return Created(arn, {"Id": arn})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        change: dict[str, Any] = {}
        if properties.get("Description") != previous.get("Description"):
            change["Description"] = properties.get("Description") or ""
        if properties.get("KmsKeyId") != previous.get("KmsKeyId") and properties.get("KmsKeyId"):
            change["KmsKeyId"] = properties["KmsKeyId"]
        if properties.get("SecretString") != previous.get("SecretString") or properties.get(
            "GenerateSecretString"
        ) != previous.get("GenerateSecretString"):
            value = await _secret_string(ctx, properties)
            if value is not None:
                change["SecretString"] = value
        if change:
            await ctx.call("secretsmanager", "UpdateSecret", {"SecretId": physical_id, **change})
        old, new = tag_list(previous.get("Tags")), tag_list(properties.get("Tags"))
        gone = [t["Key"] for t in old if t["Key"] not in {n["Key"] for n in new}]
        if gone:
            await ctx.call("secretsmanager", "UntagResource", {"SecretId": physical_id, "TagKeys": gone})
        if new and new != old:
            await ctx.call("secretsmanager", "TagResource", {"SecretId": physical_id, "Tags": new})
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call(
                "secretsmanager",
                "DeleteSecret",
                {"SecretId": physical_id, "ForceDeleteWithoutRecovery": True},
            )
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            found = await ctx.call("secretsmanager", "DescribeSecret", {"SecretId": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        if found.get("DeletedDate"):
            return None
        result = dict(properties)
        result["Name"] = found["Name"]
        if "Description" in properties or found.get("Description"):
            result["Description"] = found.get("Description", "")
        return result


class ResourcePolicy(ResourceHandler):
    type_name = "AWS::SecretsManager::ResourcePolicy"
    service = "secretsmanager"
    required = ("SecretId", "ResourcePolicy")
    create_only = frozenset({"SecretId"})
    attributes = ("Id",)

    async def create(self, ctx, properties):
        await self._put(ctx, properties)
        return Created(properties["SecretId"], {"Id": properties["SecretId"]})

    async def _put(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        await ctx.call(
            "secretsmanager",
            "PutResourcePolicy",
            drop_none(
                {
                    "SecretId": properties["SecretId"],
                    "ResourcePolicy": document(properties["ResourcePolicy"]),
                    "BlockPublicPolicy": boolean(properties.get("BlockPublicPolicy")),
                }
            ),
        )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await self._put(ctx, properties)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("secretsmanager", "DeleteResourcePolicy", {"SecretId": properties["SecretId"]})
        except ServiceError as error:
            if not not_found(error):
                raise


class RotationSchedule(ResourceHandler):
    """Rotation by a Lambda function of the template's (HostedRotationLambda, which makes AWS deploy a
    rotation function from its serverless repository, is refused). Its Ref is the secret's ARN."""

    type_name = "AWS::SecretsManager::RotationSchedule"
    service = "secretsmanager"
    required = ("SecretId",)
    create_only = frozenset({"SecretId"})

    async def create(self, ctx, properties):
        found = await self._rotate(ctx, properties)
        return Created(found["ARN"])

    @staticmethod
    async def _rotate(ctx, properties: dict[str, Any]) -> dict[str, Any]:
        if properties.get("HostedRotationLambda"):
            raise HandlerError("HostedRotationLambda is not supported by Overcast", "InvalidRequest")
        rules = properties.get("RotationRules") or {}
        immediately = boolean(properties.get("RotateImmediatelyOnUpdate"))
        return await ctx.call(
            "secretsmanager",
            "RotateSecret",
            drop_none(
                {
                    "SecretId": properties["SecretId"],
                    "RotationLambdaARN": properties.get("RotationLambdaARN"),
                    "RotationRules": drop_none(
                        {
                            "AutomaticallyAfterDays": integer(rules.get("AutomaticallyAfterDays")),
                            "Duration": rules.get("Duration"),
                            "ScheduleExpression": rules.get("ScheduleExpression"),
                        }
                    )
                    or None,
                    "RotateImmediately": True if immediately is None else immediately,
                }
            ),
        )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await self._rotate(ctx, properties)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("secretsmanager", "CancelRotateSecret", {"SecretId": physical_id})
        except ServiceError as error:
            if not (not_found(error) or error.code == "InvalidRequestException"):
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            found = await ctx.call("secretsmanager", "DescribeSecret", {"SecretId": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return dict(properties) if found.get("RotationEnabled") else None


HANDLERS = (Secret, ResourcePolicy, RotationSchedule)
