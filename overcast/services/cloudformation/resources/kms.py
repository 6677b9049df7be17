"""KMS resource types: AWS::KMS::Key, ReplicaKey, Alias."""

from __future__ import annotations

from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    HandlerError,
    ResourceHandler,
    boolean,
    document,
    drop_none,
    integer,
    not_found,
    tag_list,
)


def _tags(value: Any) -> list[dict[str, str]] | None:
    tags = tag_list(value)
    return [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags] or None


class Key(ResourceHandler):
    type_name = "AWS::KMS::Key"
    service = "kms"
    create_only = frozenset({"KeySpec", "KeyUsage", "MultiRegion", "Origin"})
    attributes = ("Arn", "KeyId")
    primary_identifier = "KeyId"

    async def create(self, ctx, properties):
        params = drop_none(
            {
                "Description": properties.get("Description"),
                "Policy": document(properties.get("KeyPolicy")),
                "KeySpec": properties.get("KeySpec"),
                "KeyUsage": properties.get("KeyUsage"),
                "MultiRegion": boolean(properties.get("MultiRegion")),
                "Origin": properties.get("Origin"),
                "Tags": _tags(properties.get("Tags")),
                "BypassPolicyLockoutSafetyCheck": boolean(properties.get("BypassPolicyLockoutSafetyCheck")),
            }
        )
        key = (await ctx.call("kms", "CreateKey", params))["KeyMetadata"]
        key_id = key["KeyId"]
        if boolean(properties.get("EnableKeyRotation")):
            await ctx.call(
                "kms",
                "EnableKeyRotation",
                drop_none(
                    {"KeyId": key_id, "RotationPeriodInDays": integer(properties.get("RotationPeriodInDays"))}
                ),
            )
        if boolean(properties.get("Enabled")) is False:
            await ctx.call("kms", "DisableKey", {"KeyId": key_id})
        return Created(key_id, {"Arn": key["Arn"], "KeyId": key_id})

    def known_attributes(self, ctx, physical_id):
        return {"Arn": ctx.arn("kms", f"key/{physical_id}"), "KeyId": physical_id}

    async def update(self, ctx, physical_id, properties, previous, attributes):
        if properties.get("Description") != previous.get("Description"):
            await ctx.call(
                "kms",
                "UpdateKeyDescription",
                {"KeyId": physical_id, "Description": properties.get("Description", "")},
            )
        if properties.get("KeyPolicy") != previous.get("KeyPolicy") and properties.get("KeyPolicy"):
            await ctx.call(
                "kms",
                "PutKeyPolicy",
                {"KeyId": physical_id, "PolicyName": "default", "Policy": document(properties["KeyPolicy"])},
            )
        if boolean(properties.get("EnableKeyRotation")) != boolean(previous.get("EnableKeyRotation")):
            operation = (
                "EnableKeyRotation" if boolean(properties.get("EnableKeyRotation")) else "DisableKeyRotation"
            )
            await ctx.call("kms", operation, {"KeyId": physical_id})
        enabled, was = (
            boolean(properties.get("Enabled")) is not False,
            boolean(previous.get("Enabled")) is not False,
        )
        if enabled != was:
            await ctx.call("kms", "EnableKey" if enabled else "DisableKey", {"KeyId": physical_id})
        old, new = tag_list(previous.get("Tags")), tag_list(properties.get("Tags"))
        gone = [t["Key"] for t in old if t["Key"] not in {n["Key"] for n in new}]
        if gone:
            await ctx.call("kms", "UntagResource", {"KeyId": physical_id, "TagKeys": gone})
        if new and new != old:
            await ctx.call("kms", "TagResource", {"KeyId": physical_id, "Tags": _tags(new)})
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call(
                "kms",
                "ScheduleKeyDeletion",
                {
                    "KeyId": physical_id,
                    "PendingWindowInDays": integer(properties.get("PendingWindowInDays")) or 30,
                },
            )
        except ServiceError as error:
            if not not_found(error) and error.code != "KMSInvalidStateException":
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            key = (await ctx.call("kms", "DescribeKey", {"KeyId": physical_id}))["KeyMetadata"]
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        if key.get("KeyState") == "PendingDeletion":
            return None
        result: dict[str, Any] = dict(properties)
        if "Description" in properties or key.get("Description"):
            result["Description"] = key.get("Description", "")
        if "Enabled" in properties:
            result["Enabled"] = key.get("Enabled")
        return result


class Alias(ResourceHandler):
    type_name = "AWS::KMS::Alias"
    service = "kms"
    required = ("AliasName", "TargetKeyId")
    create_only = frozenset({"AliasName"})
    primary_identifier = "AliasName"

    async def create(self, ctx, properties):
        await ctx.call(
            "kms",
            "CreateAlias",
            {"AliasName": properties["AliasName"], "TargetKeyId": properties["TargetKeyId"]},
        )
        return Created(properties["AliasName"])

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call(
            "kms", "UpdateAlias", {"AliasName": physical_id, "TargetKeyId": properties["TargetKeyId"]}
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("kms", "DeleteAlias", {"AliasName": physical_id})
        except ServiceError as error:
            if not not_found(error):
                raise


class ReplicaKey(Key):
    """A replica, in the stack's region, of a multi-Region primary key named by ARN: ReplicateKey is asked
    of the primary's region; afterwards the replica is managed like a key of its own (description, policy,
    enabled, tags, deletion)."""

    type_name = "AWS::KMS::ReplicaKey"
    required = ("KeyPolicy", "PrimaryKeyArn")
    create_only = frozenset({"PrimaryKeyArn"})

    async def create(self, ctx, properties):
        primary = properties["PrimaryKeyArn"]
        parts = primary.split(":")
        if len(parts) < 6 or parts[2] != "kms":
            raise HandlerError(f"PrimaryKeyArn {primary} is not a KMS key ARN", "InvalidRequest")
        found = await ctx.call(
            "kms",
            "ReplicateKey",
            drop_none(
                {
                    "KeyId": primary,
                    "ReplicaRegion": ctx.region,
                    "Policy": document(properties.get("KeyPolicy")),
                    "Description": properties.get("Description"),
                    "Tags": _tags(properties.get("Tags")),
                }
            ),
            region=parts[3],
        )
        key = found["ReplicaKeyMetadata"]
        if boolean(properties.get("Enabled")) is False:
            await ctx.call("kms", "DisableKey", {"KeyId": key["KeyId"]})
        return Created(key["KeyId"], {"Arn": key["Arn"], "KeyId": key["KeyId"]})


HANDLERS = (Key, ReplicaKey, Alias)
