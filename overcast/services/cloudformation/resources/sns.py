"""SNS resource types: AWS::SNS::Topic, AWS::SNS::Subscription, AWS::SNS::TopicPolicy, AWS::SNS::TopicInlinePolicy."""

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
    tag_list,
    text,
)

_TOPIC_ATTRIBUTES = (
    "DisplayName",
    "KmsMasterKeyId",
    "ContentBasedDeduplication",
    "SignatureVersion",
    "TracingConfig",
    "FifoThroughputScope",
)
_SUBSCRIPTION_ATTRIBUTES = (
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "DeliveryPolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
)


def _value(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (dict, list)) else text(value) or ""


def default_policy(topic_arn: str, account: str) -> str:
    """The access policy SNS gives a new topic (what a deleted TopicPolicy puts back)."""
    return json.dumps(
        {
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [
                {
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": [
                        "SNS:GetTopicAttributes",
                        "SNS:SetTopicAttributes",
                        "SNS:AddPermission",
                        "SNS:RemovePermission",
                        "SNS:DeleteTopic",
                        "SNS:Subscribe",
                        "SNS:ListSubscriptionsByTopic",
                        "SNS:Publish",
                    ],
                    "Resource": topic_arn,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
                }
            ],
        }
    )


class Topic(ResourceHandler):
    type_name = "AWS::SNS::Topic"
    service = "sns"
    create_only = frozenset({"TopicName", "FifoTopic"})
    attributes = ("TopicArn", "TopicName")
    primary_identifier = "TopicArn"

    async def create(self, ctx, properties):
        fifo = str(properties.get("FifoTopic", "false")).lower() == "true"
        name = properties.get("TopicName") or ctx.generated_name(256, suffix=".fifo" if fifo else "")
        attributes = {key: _value(properties[key]) for key in _TOPIC_ATTRIBUTES if key in properties}
        if fifo:
            attributes["FifoTopic"] = "true"
        if properties.get("ArchivePolicy"):
            attributes["ArchivePolicy"] = _value(properties["ArchivePolicy"])
        if properties.get("DataProtectionPolicy"):
            attributes["DataProtectionPolicy"] = _value(properties["DataProtectionPolicy"])
        params: dict[str, Any] = {"Name": name, "Attributes": attributes}
        tags = tag_list(properties.get("Tags"))
        if tags:
            params["Tags"] = tags
        arn = (await ctx.call("sns", "CreateTopic", params))["TopicArn"]
        for subscription in properties.get("Subscription") or []:
            await ctx.call(
                "sns",
                "Subscribe",
                {"TopicArn": arn, "Protocol": subscription["Protocol"], "Endpoint": subscription["Endpoint"]},
            )
        return Created(arn, {"TopicArn": arn, "TopicName": name})

    def known_attributes(self, ctx, physical_id):
        return {"TopicArn": physical_id, "TopicName": physical_id.rsplit(":", 1)[-1]}

    async def update(self, ctx, physical_id, properties, previous, attributes):
        for key in _TOPIC_ATTRIBUTES:
            if properties.get(key) != previous.get(key):
                await ctx.call(
                    "sns",
                    "SetTopicAttributes",
                    {
                        "TopicArn": physical_id,
                        "AttributeName": key,
                        "AttributeValue": _value(properties.get(key, "")),
                    },
                )
        old_subs = {(s["Protocol"], s["Endpoint"]) for s in previous.get("Subscription") or []}
        new_subs = {(s["Protocol"], s["Endpoint"]) for s in properties.get("Subscription") or []}
        for protocol, endpoint in new_subs - old_subs:
            await ctx.call(
                "sns", "Subscribe", {"TopicArn": physical_id, "Protocol": protocol, "Endpoint": endpoint}
            )
        if old_subs - new_subs:
            listed = await ctx.call("sns", "ListSubscriptionsByTopic", {"TopicArn": physical_id})
            for subscription in listed.get("Subscriptions", []):
                if (
                    subscription["Protocol"],
                    subscription["Endpoint"],
                ) in old_subs - new_subs and subscription["SubscriptionArn"].startswith("arn:"):
                    await ctx.call("sns", "Unsubscribe", {"SubscriptionArn": subscription["SubscriptionArn"]})
        old_tags, new_tags = tag_list(previous.get("Tags")), tag_list(properties.get("Tags"))
        gone = [t["Key"] for t in old_tags if t["Key"] not in {n["Key"] for n in new_tags}]
        if gone:
            await ctx.call("sns", "UntagResource", {"ResourceArn": physical_id, "TagKeys": gone})
        if new_tags and new_tags != old_tags:
            await ctx.call("sns", "TagResource", {"ResourceArn": physical_id, "Tags": new_tags})
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("sns", "DeleteTopic", {"TopicArn": physical_id})
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            found = (await ctx.call("sns", "GetTopicAttributes", {"TopicArn": physical_id}))["Attributes"]
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        result: dict[str, Any] = {"TopicName": physical_id.rsplit(":", 1)[-1]}
        for key in _TOPIC_ATTRIBUTES:
            if found.get(key):
                result[key] = found[key]
        if "Subscription" in properties:
            listed = await ctx.call("sns", "ListSubscriptionsByTopic", {"TopicArn": physical_id})
            result["Subscription"] = [
                {"Endpoint": s["Endpoint"], "Protocol": s["Protocol"]}
                for s in listed.get("Subscriptions", [])
            ]
        return result

    async def list(self, ctx):
        return [topic["TopicArn"] for topic in (await ctx.call("sns", "ListTopics", {})).get("Topics", [])]


class Subscription(ResourceHandler):
    type_name = "AWS::SNS::Subscription"
    service = "sns"
    required = ("TopicArn", "Protocol")
    create_only = frozenset({"TopicArn", "Protocol", "Endpoint", "Region"})
    attributes = ("Arn",)
    primary_identifier = "Arn"

    async def create(self, ctx, properties):
        attributes = {key: _value(properties[key]) for key in _SUBSCRIPTION_ATTRIBUTES if key in properties}
        params: dict[str, Any] = {
            "TopicArn": properties["TopicArn"],
            "Protocol": properties["Protocol"],
            "ReturnSubscriptionArn": True,
        }
        if properties.get("Endpoint") is not None:
            params["Endpoint"] = properties["Endpoint"]
        if attributes:
            params["Attributes"] = attributes
        arn = (await ctx.call("sns", "Subscribe", params, region=properties.get("Region")))["SubscriptionArn"]
        return Created(arn, {"Arn": arn})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        for key in _SUBSCRIPTION_ATTRIBUTES:
            if properties.get(key) != previous.get(key):
                await ctx.call(
                    "sns",
                    "SetSubscriptionAttributes",
                    {
                        "SubscriptionArn": physical_id,
                        "AttributeName": key,
                        "AttributeValue": _value(properties.get(key, "")),
                    },
                    region=properties.get("Region"),
                )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call(
                "sns", "Unsubscribe", {"SubscriptionArn": physical_id}, region=properties.get("Region")
            )
        except ServiceError as error:
            if not not_found(error):
                raise


class TopicPolicy(ResourceHandler):
    type_name = "AWS::SNS::TopicPolicy"
    service = "sns"
    required = ("PolicyDocument", "Topics")
    attributes = ("Id",)

    async def create(self, ctx, properties):
        await self._apply(ctx, properties["Topics"], document(properties["PolicyDocument"]) or "")
        physical_id = ctx.generated_name(255)
        return Created(physical_id, {"Id": physical_id})

    async def _apply(self, ctx: ResourceContext, topics: list[str], policy: str) -> None:
        for topic in topics:
            await ctx.call(
                "sns",
                "SetTopicAttributes",
                {"TopicArn": topic, "AttributeName": "Policy", "AttributeValue": policy},
            )

    async def _reset(self, ctx: ResourceContext, topics: list[str]) -> None:
        for topic in topics:
            try:
                await self._apply(ctx, [topic], default_policy(topic, ctx.account))
            except ServiceError as error:
                if not not_found(error):
                    raise

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await self._reset(ctx, [t for t in previous.get("Topics") or [] if t not in properties["Topics"]])
        await self._apply(ctx, properties["Topics"], document(properties["PolicyDocument"]) or "")
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await self._reset(ctx, properties.get("Topics") or [])


class TopicInlinePolicy(TopicPolicy):
    type_name = "AWS::SNS::TopicInlinePolicy"
    required = ("PolicyDocument", "TopicArn")
    create_only = frozenset({"TopicArn"})
    attributes = ()

    async def create(self, ctx, properties):
        await self._apply(ctx, [properties["TopicArn"]], document(properties["PolicyDocument"]) or "")
        return Created(properties["TopicArn"])

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await self._apply(ctx, [properties["TopicArn"]], document(properties["PolicyDocument"]) or "")
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await self._reset(ctx, [properties.get("TopicArn", physical_id)])


HANDLERS = (Topic, Subscription, TopicPolicy, TopicInlinePolicy)
