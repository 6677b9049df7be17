"""EventBridge resource types: AWS::Events::EventBus, EventBusPolicy, Rule (with its targets), Archive,
Connection, ApiDestination."""

from __future__ import annotations

import json
from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    HandlerError,
    ResourceContext,
    ResourceHandler,
    document,
    drop_none,
    ignore_missing,
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


def _pattern(value: Any) -> str | None:
    return json.dumps(value) if isinstance(value, dict) else value


class EventBusPolicy(ResourceHandler):
    """One statement of a bus's resource policy: given as Action/Principal/Condition (PutPermission's
    statement form) or as a whole Statement, which the handler writes into the bus's policy under its Sid."""

    type_name = "AWS::Events::EventBusPolicy"
    service = "events"
    required = ("StatementId",)
    create_only = frozenset({"EventBusName", "StatementId"})
    primary_identifier = "StatementId"

    async def create(self, ctx, properties):
        await self._put(ctx, properties)
        return Created(properties["StatementId"])

    async def _put(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        bus = {"EventBusName": properties["EventBusName"]} if properties.get("EventBusName") else {}
        sid = properties["StatementId"]
        statement = properties.get("Statement")
        if statement is None:
            condition = properties.get("Condition")
            await ctx.call(
                "events",
                "PutPermission",
                drop_none(
                    {
                        **bus,
                        "Action": properties.get("Action"),
                        "Principal": properties.get("Principal"),
                        "StatementId": sid,
                        "Condition": condition,
                    }
                ),
            )
            return
        if isinstance(statement, str):
            statement = json.loads(statement)
        described = await ctx.call("events", "DescribeEventBus", {"Name": bus.get("EventBusName", "default")})
        policy = json.loads(described.get("Policy") or '{"Version": "2012-10-17", "Statement": []}')
        kept = [item for item in policy.get("Statement", []) if item.get("Sid") != sid]
        policy["Statement"] = [*kept, {**statement, "Sid": sid}]
        await ctx.call("events", "PutPermission", {**bus, "Policy": json.dumps(policy)})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await self.delete(ctx, physical_id, previous)
        await self._put(ctx, properties)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        bus = {"EventBusName": properties["EventBusName"]} if properties.get("EventBusName") else {}
        await ignore_missing(ctx.call("events", "RemovePermission", {**bus, "StatementId": physical_id}))

    async def read(self, ctx, physical_id, properties):
        try:
            described = await ctx.call(
                "events", "DescribeEventBus", {"Name": properties.get("EventBusName") or "default"}
            )
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        policy = json.loads(described.get("Policy") or "{}")
        sids = {item.get("Sid") for item in policy.get("Statement", [])}
        return dict(properties) if physical_id in sids else None


class Archive(ResourceHandler):
    type_name = "AWS::Events::Archive"
    service = "events"
    required = ("SourceArn",)
    create_only = frozenset({"ArchiveName", "SourceArn"})
    attributes = ("Arn",)
    primary_identifier = "ArchiveName"

    async def create(self, ctx, properties):
        name = properties.get("ArchiveName") or ctx.generated_name(48)
        found = await ctx.call(
            "events",
            "CreateArchive",
            drop_none(
                {
                    "ArchiveName": name,
                    "EventSourceArn": properties["SourceArn"],
                    "Description": properties.get("Description"),
                    "EventPattern": _pattern(properties.get("EventPattern")),
                    "RetentionDays": integer(properties.get("RetentionDays")),
                    "KmsKeyIdentifier": properties.get("KmsKeyIdentifier"),
                }
            ),
        )
        return Created(name, {"Arn": found["ArchiveArn"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call(
            "events",
            "UpdateArchive",
            drop_none(
                {
                    "ArchiveName": physical_id,
                    "Description": properties.get("Description") or "",
                    "EventPattern": _pattern(properties.get("EventPattern")),
                    "RetentionDays": integer(properties.get("RetentionDays")) or 0,
                    "KmsKeyIdentifier": properties.get("KmsKeyIdentifier"),
                }
            ),
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("events", "DeleteArchive", {"ArchiveName": physical_id}))

    async def read(self, ctx, physical_id, properties):
        try:
            await ctx.call("events", "DescribeArchive", {"ArchiveName": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return dict(properties)

    def known_attributes(self, ctx, physical_id):
        return {"Arn": ctx.arn("events", f"archive/{physical_id}")}


def _for_policy(arn: str) -> str:
    """The ARN without its trailing UUID, which IAM policies name (ArnForPolicy)."""
    return arn.rsplit("/", 1)[0]


def _connection(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    return drop_none(
        {
            "Name": name,
            "Description": properties.get("Description"),
            "AuthorizationType": properties.get("AuthorizationType"),
            "AuthParameters": properties.get("AuthParameters"),
            "InvocationConnectivityParameters": properties.get("InvocationConnectivityParameters"),
            "KmsKeyIdentifier": properties.get("KmsKeyIdentifier"),
        }
    )


class Connection(ResourceHandler):
    type_name = "AWS::Events::Connection"
    service = "events"
    create_only = frozenset({"Name"})
    attributes = ("Arn", "ArnForPolicy", "SecretArn")
    primary_identifier = "Name"

    async def create(self, ctx, properties):
        if not properties.get("AuthorizationType") or not properties.get("AuthParameters"):
            raise HandlerError("AuthorizationType and AuthParameters are required", "InvalidRequest")
        name = properties.get("Name") or ctx.generated_name(64)
        await ctx.call("events", "CreateConnection", _connection(name, properties))
        return Created(name, await self._attributes(ctx, name))

    @staticmethod
    async def _attributes(ctx: ResourceContext, name: str) -> dict[str, Any]:
        found = await ctx.call("events", "DescribeConnection", {"Name": name})
        return {
            "Arn": found["ConnectionArn"],
            "ArnForPolicy": _for_policy(found["ConnectionArn"]),
            "SecretArn": found.get("SecretArn", ""),
        }

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call("events", "UpdateConnection", _connection(physical_id, properties))
        return await self._attributes(ctx, physical_id)

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("events", "DeleteConnection", {"Name": physical_id}))

    async def read(self, ctx, physical_id, properties):
        try:
            await ctx.call("events", "DescribeConnection", {"Name": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return dict(properties)


def _destination(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    return drop_none(
        {
            "Name": name,
            "Description": properties.get("Description"),
            "ConnectionArn": properties.get("ConnectionArn"),
            "InvocationEndpoint": properties.get("InvocationEndpoint"),
            "HttpMethod": properties.get("HttpMethod"),
            "InvocationRateLimitPerSecond": integer(properties.get("InvocationRateLimitPerSecond")),
        }
    )


class ApiDestination(ResourceHandler):
    type_name = "AWS::Events::ApiDestination"
    service = "events"
    required = ("ConnectionArn", "HttpMethod", "InvocationEndpoint")
    create_only = frozenset({"Name"})
    attributes = ("Arn", "ArnForPolicy")
    primary_identifier = "Name"

    async def create(self, ctx, properties):
        name = properties.get("Name") or ctx.generated_name(64)
        found = await ctx.call("events", "CreateApiDestination", _destination(name, properties))
        arn = found["ApiDestinationArn"]
        return Created(name, {"Arn": arn, "ArnForPolicy": _for_policy(arn)})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call("events", "UpdateApiDestination", _destination(physical_id, properties))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("events", "DeleteApiDestination", {"Name": physical_id}))

    async def read(self, ctx, physical_id, properties):
        try:
            await ctx.call("events", "DescribeApiDestination", {"Name": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return dict(properties)


HANDLERS = (EventBus, EventBusPolicy, Rule, Archive, Connection, ApiDestination)
