"""CloudTrail resource type: AWS::CloudTrail::Trail."""

from __future__ import annotations

from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    ResourceContext,
    ResourceHandler,
    boolean,
    drop_none,
    not_found,
    shaped,
    tag_list,
)


def _settings(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    return drop_none(
        {
            "Name": name,
            "S3BucketName": properties.get("S3BucketName"),
            "S3KeyPrefix": properties.get("S3KeyPrefix"),
            "SnsTopicName": properties.get("SnsTopicName"),
            "IncludeGlobalServiceEvents": boolean(properties.get("IncludeGlobalServiceEvents")),
            "IsMultiRegionTrail": boolean(properties.get("IsMultiRegionTrail")),
            "EnableLogFileValidation": boolean(properties.get("EnableLogFileValidation")),
            "CloudWatchLogsLogGroupArn": properties.get("CloudWatchLogsLogGroupArn"),
            "CloudWatchLogsRoleArn": properties.get("CloudWatchLogsRoleArn"),
            "KmsKeyId": properties.get("KMSKeyId"),
            "IsOrganizationTrail": boolean(properties.get("IsOrganizationTrail")),
        }
    )


class Trail(ResourceHandler):
    type_name = "AWS::CloudTrail::Trail"
    service = "cloudtrail"
    required = ("IsLogging", "S3BucketName")
    create_only = frozenset({"TrailName"})
    attributes = ("Arn", "SnsTopicArn")
    primary_identifier = "TrailName"

    async def create(self, ctx, properties):
        name = properties.get("TrailName") or ctx.generated_name(128)
        params = _settings(name, properties)
        tags = tag_list(properties.get("Tags"))
        if tags:
            params["TagsList"] = tags
        found = await ctx.call("cloudtrail", "CreateTrail", params)
        await self._selectors(ctx, name, properties, {})
        await self._logging(ctx, name, properties)
        return Created(name, {"Arn": found["TrailARN"], "SnsTopicArn": found.get("SnsTopicARN", "")})

    @staticmethod
    async def _logging(ctx: ResourceContext, name: str, properties: dict[str, Any]) -> None:
        operation = "StartLogging" if boolean(properties["IsLogging"]) else "StopLogging"
        await ctx.call("cloudtrail", operation, {"Name": name})

    @staticmethod
    async def _selectors(ctx: ResourceContext, name: str, new: dict[str, Any], old: dict[str, Any]) -> None:
        for key in ("EventSelectors", "AdvancedEventSelectors"):
            if new.get(key) and new.get(key) != old.get(key):
                params = shaped("cloudtrail", "PutEventSelectors", {"TrailName": name, key: new[key]})
                await ctx.call("cloudtrail", "PutEventSelectors", params)
        if (
            new.get("InsightSelectors") != old.get("InsightSelectors")
            and new.get("InsightSelectors") is not None
        ):
            await ctx.call(
                "cloudtrail",
                "PutInsightSelectors",
                {"TrailName": name, "InsightSelectors": new["InsightSelectors"]},
            )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        found = await ctx.call("cloudtrail", "UpdateTrail", _settings(physical_id, properties))
        await self._selectors(ctx, physical_id, properties, previous)
        if boolean(properties["IsLogging"]) != boolean(previous.get("IsLogging")):
            await self._logging(ctx, physical_id, properties)
        before, after = tag_list(previous.get("Tags")), tag_list(properties.get("Tags"))
        gone = [{"Key": t["Key"]} for t in before if t["Key"] not in {n["Key"] for n in after}]
        if gone:
            await ctx.call("cloudtrail", "RemoveTags", {"ResourceId": found["TrailARN"], "TagsList": gone})
        if after and after != before:
            await ctx.call("cloudtrail", "AddTags", {"ResourceId": found["TrailARN"], "TagsList": after})
        return {"Arn": found["TrailARN"], "SnsTopicArn": found.get("SnsTopicARN", "")}

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("cloudtrail", "DeleteTrail", {"Name": physical_id})
        except ServiceError as error:
            if not (not_found(error) or error.code == "TrailNotFoundException"):
                raise

    async def read(self, ctx, physical_id, properties):
        found = await ctx.call("cloudtrail", "DescribeTrails", {"trailNameList": [physical_id]})
        if not found.get("trailList"):
            return None
        status = await ctx.call("cloudtrail", "GetTrailStatus", {"Name": physical_id})
        return {**properties, "IsLogging": status.get("IsLogging", False)}

    async def list(self, ctx):
        found = await ctx.call("cloudtrail", "ListTrails", {})
        return [trail["Name"] for trail in found.get("Trails", [])]


HANDLERS = (Trail,)
