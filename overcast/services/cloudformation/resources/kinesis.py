"""Kinesis resource types: AWS::Kinesis::Stream, AWS::Kinesis::StreamConsumer, AWS::KinesisFirehose::DeliveryStream."""

from __future__ import annotations

import asyncio
from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    HandlerError,
    ResourceContext,
    ResourceHandler,
    drop_none,
    integer,
    not_found,
    tag_list,
    tag_map,
)

ACTIVE_WAIT = 120


async def _wait(ctx: ResourceContext, name: str) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ACTIVE_WAIT
    while True:
        summary = (await ctx.call("kinesis", "DescribeStreamSummary", {"StreamName": name}))[
            "StreamDescriptionSummary"
        ]
        if summary["StreamStatus"] == "ACTIVE":
            return summary
        if loop.time() > deadline:
            raise HandlerError(f"Stream {name} did not become ACTIVE", "NotStabilized")
        await asyncio.sleep(0.05)


class Stream(ResourceHandler):
    type_name = "AWS::Kinesis::Stream"
    service = "kinesis"
    create_only = frozenset({"Name"})
    attributes = ("Arn",)
    primary_identifier = "Name"

    async def create(self, ctx, properties):
        name = properties.get("Name") or ctx.generated_name(128)
        mode = (properties.get("StreamModeDetails") or {}).get("StreamMode")
        params = drop_none(
            {
                "StreamName": name,
                "ShardCount": integer(properties.get("ShardCount")) if mode != "ON_DEMAND" else None,
                "StreamModeDetails": {"StreamMode": mode} if mode else None,
                "Tags": tag_map(properties.get("Tags")) or None,
            }
        )
        if mode != "ON_DEMAND" and "ShardCount" not in params:
            params["ShardCount"] = 1
        await ctx.call("kinesis", "CreateStream", params)
        summary = await _wait(ctx, name)
        await self._settings(ctx, name, properties, {})
        return Created(name, {"Arn": summary["StreamARN"]})

    async def _settings(
        self, ctx: ResourceContext, name: str, new: dict[str, Any], old: dict[str, Any]
    ) -> None:
        retention, before = (
            integer(new.get("RetentionPeriodHours")) or 24,
            integer(old.get("RetentionPeriodHours")) or 24,
        )
        if retention > before:
            await ctx.call(
                "kinesis",
                "IncreaseStreamRetentionPeriod",
                {"StreamName": name, "RetentionPeriodHours": retention},
            )
        elif retention < before:
            await ctx.call(
                "kinesis",
                "DecreaseStreamRetentionPeriod",
                {"StreamName": name, "RetentionPeriodHours": retention},
            )
        encryption, was = new.get("StreamEncryption"), old.get("StreamEncryption")
        if encryption != was:
            if encryption:
                await ctx.call(
                    "kinesis",
                    "StartStreamEncryption",
                    {
                        "StreamName": name,
                        "EncryptionType": encryption["EncryptionType"],
                        "KeyId": encryption["KeyId"],
                    },
                )
            elif was:
                await ctx.call(
                    "kinesis",
                    "StopStreamEncryption",
                    {"StreamName": name, "EncryptionType": was["EncryptionType"], "KeyId": was["KeyId"]},
                )
            await _wait(ctx, name)

    async def update(self, ctx, physical_id, properties, previous, attributes):
        shards, before = integer(properties.get("ShardCount")), integer(previous.get("ShardCount"))
        if shards and before and shards != before:
            await ctx.call(
                "kinesis",
                "UpdateShardCount",
                {"StreamName": physical_id, "TargetShardCount": shards, "ScalingType": "UNIFORM_SCALING"},
            )
            await _wait(ctx, physical_id)
        await self._settings(ctx, physical_id, properties, previous)
        old, new = tag_map(previous.get("Tags")), tag_map(properties.get("Tags"))
        gone = [key for key in old if key not in new]
        if gone:
            await ctx.call("kinesis", "RemoveTagsFromStream", {"StreamName": physical_id, "TagKeys": gone})
        if new and new != old:
            await ctx.call("kinesis", "AddTagsToStream", {"StreamName": physical_id, "Tags": new})
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call(
                "kinesis", "DeleteStream", {"StreamName": physical_id, "EnforceConsumerDeletion": True}
            )
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            summary = (await ctx.call("kinesis", "DescribeStreamSummary", {"StreamName": physical_id}))[
                "StreamDescriptionSummary"
            ]
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        result = dict(properties)
        result["Name"] = physical_id
        if "ShardCount" in properties:
            result["ShardCount"] = summary.get("OpenShardCount")
        if "RetentionPeriodHours" in properties:
            result["RetentionPeriodHours"] = summary.get("RetentionPeriodHours")
        return result

    async def list(self, ctx):
        return list((await ctx.call("kinesis", "ListStreams", {})).get("StreamNames", []))


class StreamConsumer(ResourceHandler):
    type_name = "AWS::Kinesis::StreamConsumer"
    service = "kinesis"
    required = ("ConsumerName", "StreamARN")
    create_only = frozenset({"ConsumerName", "StreamARN"})
    attributes = ("ConsumerARN", "ConsumerCreationTimestamp", "ConsumerName", "ConsumerStatus", "StreamARN")
    primary_identifier = "ConsumerARN"

    async def create(self, ctx, properties):
        consumer = (
            await ctx.call(
                "kinesis",
                "RegisterStreamConsumer",
                {"StreamARN": properties["StreamARN"], "ConsumerName": properties["ConsumerName"]},
            )
        )["Consumer"]
        return Created(
            consumer["ConsumerARN"],
            {
                "ConsumerARN": consumer["ConsumerARN"],
                "ConsumerName": consumer["ConsumerName"],
                "ConsumerStatus": consumer.get("ConsumerStatus", "ACTIVE"),
                "ConsumerCreationTimestamp": str(consumer.get("ConsumerCreationTimestamp", "")),
                "StreamARN": properties["StreamARN"],
            },
        )

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("kinesis", "DeregisterStreamConsumer", {"ConsumerARN": physical_id})
        except ServiceError as error:
            if not not_found(error):
                raise


_DESTINATIONS = (
    "S3DestinationConfiguration",
    "ExtendedS3DestinationConfiguration",
    "RedshiftDestinationConfiguration",
    "ElasticsearchDestinationConfiguration",
    "AmazonopensearchserviceDestinationConfiguration",
    "SplunkDestinationConfiguration",
    "HttpEndpointDestinationConfiguration",
)
_NUMBERS = {"IntervalInSeconds", "SizeInMBs", "DurationInSeconds", "RetryDurationInSeconds"}


def _numbers(value: Any) -> Any:
    """A destination configuration with the integers the API takes (templates often carry strings)."""
    if isinstance(value, dict):
        return {key: integer(item) if key in _NUMBERS else _numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers(item) for item in value]
    return value


class DeliveryStream(ResourceHandler):
    type_name = "AWS::KinesisFirehose::DeliveryStream"
    service = "firehose"
    create_only = frozenset(
        {
            "DeliveryStreamName",
            "DeliveryStreamType",
            "KinesisStreamSourceConfiguration",
            "MSKSourceConfiguration",
        }
    )
    attributes = ("Arn",)
    primary_identifier = "DeliveryStreamName"

    async def create(self, ctx, properties):
        name = properties.get("DeliveryStreamName") or ctx.generated_name(64)
        params: dict[str, Any] = {"DeliveryStreamName": name}
        if properties.get("DeliveryStreamType"):
            params["DeliveryStreamType"] = properties["DeliveryStreamType"]
        if properties.get("KinesisStreamSourceConfiguration"):
            params["KinesisStreamSourceConfiguration"] = properties["KinesisStreamSourceConfiguration"]
        for key in _DESTINATIONS:
            if properties.get(key):
                params[key] = _numbers(properties[key])
        if properties.get("DeliveryStreamEncryptionConfigurationInput"):
            params["DeliveryStreamEncryptionConfigurationInput"] = properties[
                "DeliveryStreamEncryptionConfigurationInput"
            ]
        tags = tag_list(properties.get("Tags"))
        if tags:
            params["Tags"] = tags
        arn = (await ctx.call("firehose", "CreateDeliveryStream", params))["DeliveryStreamARN"]
        return Created(name, {"Arn": arn})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        described = (
            await ctx.call("firehose", "DescribeDeliveryStream", {"DeliveryStreamName": physical_id})
        )["DeliveryStreamDescription"]
        destination = described["Destinations"][0]["DestinationId"]
        change: dict[str, Any] = {}
        for key in _DESTINATIONS:
            if properties.get(key) != previous.get(key) and properties.get(key):
                update_key = key.replace("DestinationConfiguration", "DestinationUpdate")
                change[update_key] = _numbers(properties[key])
        if change:
            await ctx.call(
                "firehose",
                "UpdateDestination",
                {
                    "DeliveryStreamName": physical_id,
                    "CurrentDeliveryStreamVersionId": described["VersionId"],
                    "DestinationId": destination,
                    **change,
                },
            )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call(
                "firehose",
                "DeleteDeliveryStream",
                {"DeliveryStreamName": physical_id, "AllowForceDelete": True},
            )
        except ServiceError as error:
            if not not_found(error):
                raise


HANDLERS = (Stream, StreamConsumer, DeliveryStream)
