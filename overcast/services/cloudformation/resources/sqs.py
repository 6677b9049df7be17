"""SQS resource types: AWS::SQS::Queue, AWS::SQS::QueuePolicy, AWS::SQS::QueueInlinePolicy."""

from __future__ import annotations

import json
from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    ResourceContext,
    ResourceHandler,
    document,
    not_found,
    tag_map,
    text,
)

_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "RedrivePolicy",
    "RedriveAllowPolicy",
)
_DEFAULTS = {
    "DelaySeconds": "0",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
}


def _attributes(properties: dict[str, Any]) -> dict[str, str]:
    values = {}
    for name in _ATTRIBUTES:
        value = properties.get(name)
        if value is None:
            continue
        values[name] = json.dumps(value) if isinstance(value, dict) else text(value)
    return values


def queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


class Queue(ResourceHandler):
    type_name = "AWS::SQS::Queue"
    service = "sqs"
    create_only = frozenset({"QueueName", "FifoQueue"})
    attributes = ("Arn", "QueueName", "QueueUrl")
    primary_identifier = "QueueUrl"

    async def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> Created:
        fifo = str(properties.get("FifoQueue", "false")).lower() == "true"
        name = properties.get("QueueName") or ctx.generated_name(80, suffix=".fifo" if fifo else "")
        params: dict[str, Any] = {"QueueName": name, "Attributes": _attributes(properties)}
        tags = tag_map(properties.get("Tags"))
        if tags:
            params["tags"] = tags
        url = (await ctx.call("sqs", "CreateQueue", params))["QueueUrl"]
        return Created(url, self._attributes(ctx, url))

    def known_attributes(self, ctx: ResourceContext, physical_id: str) -> dict[str, Any]:
        return self._attributes(ctx, physical_id)

    def _attributes(self, ctx: ResourceContext, url: str) -> dict[str, Any]:
        name = queue_name(url)
        return {"Arn": ctx.arn("sqs", name), "QueueName": name, "QueueUrl": url}

    async def update(self, ctx, physical_id, properties, previous, attributes):
        values = _attributes(properties)
        for name in _attributes(previous):
            if name not in values and name not in ("FifoQueue",):
                values[name] = _DEFAULTS.get(name, "")
        values.pop("FifoQueue", None)
        if values:
            await ctx.call("sqs", "SetQueueAttributes", {"QueueUrl": physical_id, "Attributes": values})
        old, new = tag_map(previous.get("Tags")), tag_map(properties.get("Tags"))
        removed = [key for key in old if key not in new]
        if removed:
            await ctx.call("sqs", "UntagQueue", {"QueueUrl": physical_id, "TagKeys": removed})
        if new and new != old:
            await ctx.call("sqs", "TagQueue", {"QueueUrl": physical_id, "Tags": new})
        return self._attributes(ctx, physical_id)

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("sqs", "DeleteQueue", {"QueueUrl": physical_id})
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            found = await ctx.call(
                "sqs", "GetQueueAttributes", {"QueueUrl": physical_id, "AttributeNames": ["All"]}
            )
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        live = found.get("Attributes", {})
        result: dict[str, Any] = {"QueueName": queue_name(physical_id)}
        for name in _ATTRIBUTES:
            if name in live:
                value = live[name]
                result[name] = json.loads(value) if name.startswith("Redrive") else value
        tags = (await ctx.call("sqs", "ListQueueTags", {"QueueUrl": physical_id})).get("Tags") or {}
        if tags:
            result["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        return result

    async def list(self, ctx):
        found = await ctx.call("sqs", "ListQueues", {})
        return list(found.get("QueueUrls", []))


class QueuePolicy(ResourceHandler):
    type_name = "AWS::SQS::QueuePolicy"
    service = "sqs"
    required = ("PolicyDocument", "Queues")
    attributes = ("Id",)

    async def create(self, ctx, properties):
        await self._apply(ctx, properties["Queues"], document(properties["PolicyDocument"]) or "")
        physical_id = ctx.generated_name(255)
        return Created(physical_id, {"Id": physical_id})

    async def _apply(self, ctx: ResourceContext, queues: list[str], policy: str) -> None:
        for url in queues:
            await ctx.call("sqs", "SetQueueAttributes", {"QueueUrl": url, "Attributes": {"Policy": policy}})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        gone = [url for url in previous.get("Queues", []) if url not in properties["Queues"]]
        await self._clear(ctx, gone)
        await self._apply(ctx, properties["Queues"], document(properties["PolicyDocument"]) or "")
        return attributes

    async def _clear(self, ctx: ResourceContext, queues: list[str]) -> None:
        for url in queues:
            try:
                await ctx.call("sqs", "SetQueueAttributes", {"QueueUrl": url, "Attributes": {"Policy": ""}})
            except ServiceError as error:
                if not not_found(error):
                    raise

    async def delete(self, ctx, physical_id, properties):
        await self._clear(ctx, properties.get("Queues", []))


class QueueInlinePolicy(QueuePolicy):
    """The one policy of one queue (AWS::SQS::QueueInlinePolicy); its identifier is the queue's URL."""

    type_name = "AWS::SQS::QueueInlinePolicy"
    required = ("PolicyDocument", "Queue")
    create_only = frozenset({"Queue"})
    attributes = ()
    primary_identifier = "Queue"

    async def create(self, ctx, properties):
        await self._apply(ctx, [properties["Queue"]], document(properties["PolicyDocument"]) or "")
        return Created(properties["Queue"])

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await self._apply(ctx, [properties["Queue"]], document(properties["PolicyDocument"]) or "")
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await self._clear(ctx, [properties.get("Queue", physical_id)])

    async def read(self, ctx, physical_id, properties):
        try:
            found = await ctx.call(
                "sqs", "GetQueueAttributes", {"QueueUrl": physical_id, "AttributeNames": ["Policy"]}
            )
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        policy = (found.get("Attributes") or {}).get("Policy")
        if not policy:
            return None
        return {**properties, "PolicyDocument": json.loads(policy)}


HANDLERS = (Queue, QueuePolicy, QueueInlinePolicy)
