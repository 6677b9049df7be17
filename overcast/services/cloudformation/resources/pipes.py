"""EventBridge Pipes resource type: AWS::Pipes::Pipe."""

from __future__ import annotations

from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    HandlerError,
    ResourceContext,
    ResourceHandler,
    drop_none,
    not_found,
    shaped,
    tag_map,
)

SETTLE_SECONDS = 600
_SETTINGS = (
    "Description",
    "DesiredState",
    "Enrichment",
    "EnrichmentParameters",
    "KmsKeyIdentifier",
    "LogConfiguration",
    "RoleArn",
    "SourceParameters",
    "Target",
    "TargetParameters",
)
_MOVING = ("CREATING", "UPDATING", "STARTING", "STOPPING", "DELETING")


class Pipe(ResourceHandler):
    type_name = "AWS::Pipes::Pipe"
    service = "pipes"
    required = ("RoleArn", "Source", "Target")
    create_only = frozenset({"Name", "Source", "KmsKeyIdentifier"})
    attributes = ("Arn", "CreationTime", "CurrentState", "LastModifiedTime", "StateReason")
    primary_identifier = "Name"

    async def create(self, ctx, properties):
        name = properties.get("Name") or ctx.generated_name(64)
        params = drop_none(
            {
                "Name": name,
                "Source": properties["Source"],
                "Tags": tag_map(properties.get("Tags")) or None,
                **{key: properties.get(key) for key in _SETTINGS},
            }
        )
        await ctx.call("pipes", "CreatePipe", shaped("pipes", "CreatePipe", params))
        return Created(name, await self._settled(ctx, name))

    async def _settled(self, ctx: ResourceContext, name: str) -> dict[str, Any]:
        """Waits, as AWS's handler does, until the pipe has reached its desired state."""

        async def probe() -> dict[str, Any] | None:
            pipe = await ctx.call("pipes", "DescribePipe", {"Name": name})
            state = pipe.get("CurrentState")
            if state in ("CREATE_FAILED", "UPDATE_FAILED", "START_FAILED", "STOP_FAILED"):
                raise HandlerError(pipe.get("StateReason") or f"Pipe {name} is {state}", "NotStabilized")
            return None if state in _MOVING else pipe

        pipe = await ctx.settle(probe, every=0.2, limit=SETTLE_SECONDS)
        return {
            "Arn": pipe["Arn"],
            "CreationTime": str(pipe.get("CreationTime", "")),
            "LastModifiedTime": str(pipe.get("LastModifiedTime", "")),
            "CurrentState": pipe.get("CurrentState", ""),
            "StateReason": pipe.get("StateReason", ""),
        }

    async def update(self, ctx, physical_id, properties, previous, attributes):
        params = drop_none({"Name": physical_id, **{key: properties.get(key) for key in _SETTINGS}})
        await ctx.call("pipes", "UpdatePipe", shaped("pipes", "UpdatePipe", params, prune=True))
        before, after = tag_map(previous.get("Tags")), tag_map(properties.get("Tags"))
        if before != after:
            gone = [key for key in before if key not in after]
            if gone:
                await ctx.call("pipes", "UntagResource", {"resourceArn": attributes["Arn"], "tagKeys": gone})
            if after:
                await ctx.call("pipes", "TagResource", {"resourceArn": attributes["Arn"], "tags": after})
        return await self._settled(ctx, physical_id)

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("pipes", "DeletePipe", {"Name": physical_id})
        except ServiceError as error:
            if not_found(error):
                return
            raise

        async def gone() -> bool | None:
            try:
                await ctx.call("pipes", "DescribePipe", {"Name": physical_id})
            except ServiceError as error:
                if not_found(error):
                    return True
                raise
            return None

        await ctx.settle(gone, every=0.2, limit=SETTLE_SECONDS)

    async def read(self, ctx, physical_id, properties):
        try:
            pipe = await ctx.call("pipes", "DescribePipe", {"Name": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        result = dict(properties)
        if "DesiredState" in properties:
            result["DesiredState"] = pipe.get("DesiredState")
        return result


HANDLERS = (Pipe,)
