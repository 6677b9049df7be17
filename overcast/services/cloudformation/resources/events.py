"""EventBridge resource types: AWS::Events::EventBus, AWS::Events::Rule (with its targets)."""

from __future__ import annotations

import json
from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    ResourceContext,
    ResourceHandler,
    document,
    drop_none,
    integer,
    not_found,
    tag_list,
)


class EventBus(ResourceHandler):
    type_name = "AWS::Events::EventBus"
    service = "events"
    required = ("Name",)
    create_only = frozenset({"Name", "EventSourceName"})
    attributes = ("Arn", "Name", "Policy")
    primary_identifier = "Name"

    async def create(self, ctx, properties):
        params = drop_none(
            {
                "Name": properties["Name"],
                "EventSourceName": properties.get("EventSourceName"),
                "Description": properties.get("Description"),
                "KmsKeyIdentifier": properties.get("KmsKeyIdentifier"),
                "DeadLetterConfig": properties.get("DeadLetterConfig"),
                "Tags": tag_list(properties.get("Tags")) or None,
            }
        )
        arn = (await ctx.call("events", "CreateEventBus", params))["EventBusArn"]
        if properties.get("Policy"):
            await ctx.call(
                "events",
                "PutPermission",
                {"EventBusName": properties["Name"], "Policy": document(properties["Policy"])},
            )
        return Created(
            properties["Name"],
            {"Arn": arn, "Name": properties["Name"], "Policy": document(properties.get("Policy")) or ""},
        )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        if properties.get("Policy") != previous.get("Policy") and properties.get("Policy"):
            await ctx.call(
                "events",
                "PutPermission",
                {"EventBusName": physical_id, "Policy": document(properties["Policy"])},
            )
        if properties.get("Description") != previous.get("Description"):
            await ctx.call(
                "events",
                "UpdateEventBus",
                {"Name": physical_id, "Description": properties.get("Description") or ""},
            )
        return {**attributes, "Policy": document(properties.get("Policy")) or ""}

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("events", "DeleteEventBus", {"Name": physical_id})
        except ServiceError as error:
            if not not_found(error):
                raise

    async def list(self, ctx):
        return [bus["Name"] for bus in (await ctx.call("events", "ListEventBuses", {})).get("EventBuses", [])]


def _target(target: dict[str, Any]) -> dict[str, Any]:
    """A rule target as PutTargets takes it (integers where the template may carry strings)."""
    converted = dict(target)
    retry = converted.get("RetryPolicy")
    if retry:
        converted["RetryPolicy"] = drop_none(
            {
                "MaximumRetryAttempts": integer(retry.get("MaximumRetryAttempts")),
                "MaximumEventAgeInSeconds": integer(retry.get("MaximumEventAgeInSeconds")),
            }
        )
    return converted


class Rule(ResourceHandler):
    type_name = "AWS::Events::Rule"
    service = "events"
    create_only = frozenset({"Name", "EventBusName"})
    attributes = ("Arn",)
    primary_identifier = "Arn"

    def _rule(self, name: str, properties: dict[str, Any]) -> dict[str, Any]:
        pattern = properties.get("EventPattern")
        return drop_none(
            {
                "Name": name,
                "EventBusName": properties.get("EventBusName"),
                "EventPattern": json.dumps(pattern) if isinstance(pattern, dict) else pattern,
                "ScheduleExpression": properties.get("ScheduleExpression"),
                "State": properties.get("State") or "ENABLED",
                "Description": properties.get("Description"),
                "RoleArn": properties.get("RoleArn"),
            }
        )

    async def create(self, ctx, properties):
        name = properties.get("Name") or ctx.generated_name(64)
        arn = (await ctx.call("events", "PutRule", self._rule(name, properties)))["RuleArn"]
        await self._targets(ctx, name, properties, {})
        bus = properties.get("EventBusName")
        # Ref: the rule's name, with its bus (bus|name) when the bus is not the default one
        physical_id = (
            f"{bus.rsplit('/', 1)[-1]}|{name}" if bus and bus.rsplit("/", 1)[-1] != "default" else name
        )
        return Created(physical_id, {"Arn": arn})

    async def _targets(
        self, ctx: ResourceContext, name: str, new: dict[str, Any], old: dict[str, Any]
    ) -> None:
        bus = {"EventBusName": new["EventBusName"]} if new.get("EventBusName") else {}
        targets = [_target(t) for t in new.get("Targets") or []]
        gone = [t["Id"] for t in old.get("Targets") or [] if t["Id"] not in {n["Id"] for n in targets}]
        if gone:
            await ctx.call("events", "RemoveTargets", {"Rule": name, "Ids": gone, **bus})
        if targets and targets != [_target(t) for t in old.get("Targets") or []]:
            await ctx.call("events", "PutTargets", {"Rule": name, "Targets": targets, **bus})

    @staticmethod
    def _name(physical_id: str) -> str:
        return physical_id.rsplit("|", 1)[-1]

    async def update(self, ctx, physical_id, properties, previous, attributes):
        name = self._name(physical_id)
        await ctx.call("events", "PutRule", self._rule(name, properties))
        await self._targets(ctx, name, properties, previous)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        name = self._name(physical_id)
        bus = {"EventBusName": properties["EventBusName"]} if properties.get("EventBusName") else {}
        try:
            targets = (await ctx.call("events", "ListTargetsByRule", {"Rule": name, **bus})).get(
                "Targets", []
            )
            if targets:
                await ctx.call(
                    "events", "RemoveTargets", {"Rule": name, "Ids": [t["Id"] for t in targets], **bus}
                )
            await ctx.call("events", "DeleteRule", {"Name": name, **bus})
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        bus = {"EventBusName": properties["EventBusName"]} if properties.get("EventBusName") else {}
        try:
            rule = await ctx.call("events", "DescribeRule", {"Name": self._name(physical_id), **bus})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        result = dict(properties)
        if "State" in properties or rule.get("State") != "ENABLED":
            result["State"] = rule.get("State")
        if "ScheduleExpression" in properties:
            result["ScheduleExpression"] = rule.get("ScheduleExpression")
        return result


HANDLERS = (EventBus, Rule)
