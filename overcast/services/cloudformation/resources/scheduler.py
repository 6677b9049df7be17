"""EventBridge Scheduler resource types: AWS::Scheduler::Schedule, AWS::Scheduler::ScheduleGroup."""

from __future__ import annotations

from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    ResourceHandler,
    drop_none,
    ignore_missing,
    not_found,
    shaped,
    tag_list,
)

_SCHEDULE_SETTINGS = (
    "Description",
    "EndDate",
    "FlexibleTimeWindow",
    "KmsKeyArn",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "StartDate",
    "State",
    "Target",
)


class Schedule(ResourceHandler):
    type_name = "AWS::Scheduler::Schedule"
    service = "scheduler"
    required = ("FlexibleTimeWindow", "ScheduleExpression", "Target")
    create_only = frozenset({"Name"})
    attributes = ("Arn",)
    primary_identifier = "Name"

    @staticmethod
    def _params(operation: str, name: str, properties: dict[str, Any]) -> dict[str, Any]:
        params = drop_none(
            {
                "Name": name,
                "GroupName": properties.get("GroupName"),
                **{key: properties.get(key) for key in _SCHEDULE_SETTINGS},
            }
        )
        return shaped("scheduler", operation, params)

    async def create(self, ctx, properties):
        name = properties.get("Name") or ctx.generated_name(64)
        found = await ctx.call(
            "scheduler", "CreateSchedule", self._params("CreateSchedule", name, properties)
        )
        return Created(name, {"Arn": found["ScheduleArn"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        """UpdateSchedule replaces the whole configuration; a changed group moves the schedule, as the group
        is part of the name AWS's handler keeps (it deletes the old one)."""
        if (properties.get("GroupName") or "default") != (previous.get("GroupName") or "default"):
            await self.delete(ctx, physical_id, previous)
            return (await self.create(ctx, {**properties, "Name": physical_id})).attributes
        found = await ctx.call(
            "scheduler", "UpdateSchedule", self._params("UpdateSchedule", physical_id, properties)
        )
        return {"Arn": found["ScheduleArn"]}

    async def delete(self, ctx, physical_id, properties):
        params = drop_none({"Name": physical_id, "GroupName": properties.get("GroupName")})
        await ignore_missing(ctx.call("scheduler", "DeleteSchedule", params))

    async def read(self, ctx, physical_id, properties):
        try:
            await ctx.call(
                "scheduler",
                "GetSchedule",
                drop_none({"Name": physical_id, "GroupName": properties.get("GroupName")}),
            )
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return dict(properties)


class ScheduleGroup(ResourceHandler):
    type_name = "AWS::Scheduler::ScheduleGroup"
    service = "scheduler"
    create_only = frozenset({"Name"})
    attributes = ("Arn", "CreationDate", "LastModificationDate", "State")
    primary_identifier = "Name"

    async def create(self, ctx, properties):
        name = properties.get("Name") or ctx.generated_name(64)
        await ctx.call(
            "scheduler",
            "CreateScheduleGroup",
            drop_none({"Name": name, "Tags": tag_list(properties.get("Tags")) or None}),
        )
        return Created(name, await self._attributes(ctx, name))

    @staticmethod
    async def _attributes(ctx, name: str) -> dict[str, Any]:
        group = await ctx.call("scheduler", "GetScheduleGroup", {"Name": name})
        return {
            "Arn": group["Arn"],
            "CreationDate": str(group.get("CreationDate", "")),
            "LastModificationDate": str(group.get("LastModificationDate", "")),
            "State": group.get("State", "ACTIVE"),
        }

    async def update(self, ctx, physical_id, properties, previous, attributes):
        before, after = tag_list(previous.get("Tags")), tag_list(properties.get("Tags"))
        gone = [tag["Key"] for tag in before if tag["Key"] not in {t["Key"] for t in after}]
        if gone:
            await ctx.call("scheduler", "UntagResource", {"ResourceArn": attributes["Arn"], "TagKeys": gone})
        if after and after != before:
            await ctx.call("scheduler", "TagResource", {"ResourceArn": attributes["Arn"], "Tags": after})
        return await self._attributes(ctx, physical_id)

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("scheduler", "DeleteScheduleGroup", {"Name": physical_id}))

        async def gone() -> bool | None:
            try:
                await ctx.call("scheduler", "GetScheduleGroup", {"Name": physical_id})
            except ServiceError as error:
                if not_found(error):
                    return True
                raise
            return None

        await ctx.settle(gone, every=0.5, limit=600)

    async def read(self, ctx, physical_id, properties):
        try:
            await ctx.call("scheduler", "GetScheduleGroup", {"Name": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return dict(properties)


HANDLERS = (Schedule, ScheduleGroup)
