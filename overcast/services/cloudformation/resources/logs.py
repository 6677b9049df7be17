"""CloudWatch Logs resource types: log groups and streams, subscription filters, metric filters, the
account's resource policies (what lets EventBridge, Route 53 and others write to log groups), destinations
(cross-account subscriptions), saved Logs Insights queries."""

from __future__ import annotations

from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    ResourceHandler,
    document,
    drop_none,
    ignore_missing,
    integer,
    not_found,
    tag_map,
)


class LogGroup(ResourceHandler):
    type_name = "AWS::Logs::LogGroup"
    service = "logs"
    create_only = frozenset({"LogGroupName", "LogGroupClass"})
    attributes = ("Arn",)
    primary_identifier = "LogGroupName"

    async def create(self, ctx, properties):
        name = properties.get("LogGroupName") or ctx.generated_name(512)
        params = drop_none(
            {
                "logGroupName": name,
                "kmsKeyId": properties.get("KmsKeyId"),
                "logGroupClass": properties.get("LogGroupClass"),
                "tags": tag_map(properties.get("Tags")) or None,
            }
        )
        await ctx.call("logs", "CreateLogGroup", params)
        if properties.get("RetentionInDays") is not None:
            await ctx.call(
                "logs",
                "PutRetentionPolicy",
                {"logGroupName": name, "retentionInDays": integer(properties["RetentionInDays"])},
            )
        if properties.get("DataProtectionPolicy"):
            await ctx.call(
                "logs",
                "PutDataProtectionPolicy",
                {"logGroupIdentifier": name, "policyDocument": document(properties["DataProtectionPolicy"])},
            )
        return Created(name, self.known_attributes(ctx, name))

    def known_attributes(self, ctx, physical_id):
        return {"Arn": ctx.arn("logs", f"log-group:{physical_id}:*")}

    async def update(self, ctx, physical_id, properties, previous, attributes):
        if properties.get("RetentionInDays") != previous.get("RetentionInDays"):
            if properties.get("RetentionInDays") is None:
                await ctx.call("logs", "DeleteRetentionPolicy", {"logGroupName": physical_id})
            else:
                await ctx.call(
                    "logs",
                    "PutRetentionPolicy",
                    {"logGroupName": physical_id, "retentionInDays": integer(properties["RetentionInDays"])},
                )
        if properties.get("KmsKeyId") != previous.get("KmsKeyId"):
            if properties.get("KmsKeyId"):
                await ctx.call(
                    "logs",
                    "AssociateKmsKey",
                    {"logGroupName": physical_id, "kmsKeyId": properties["KmsKeyId"]},
                )
            else:
                await ctx.call("logs", "DisassociateKmsKey", {"logGroupName": physical_id})
        old, new = tag_map(previous.get("Tags")), tag_map(properties.get("Tags"))
        arn = attributes.get("Arn", "").removesuffix(":*")
        gone = [key for key in old if key not in new]
        if gone:
            await ctx.call("logs", "UntagResource", {"resourceArn": arn, "tagKeys": gone})
        if new and new != old:
            await ctx.call("logs", "TagResource", {"resourceArn": arn, "tags": new})
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("logs", "DeleteLogGroup", {"logGroupName": physical_id})
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        found = await ctx.call("logs", "DescribeLogGroups", {"logGroupNamePrefix": physical_id})
        for group in found.get("logGroups", []):
            if group["logGroupName"] == physical_id:
                result: dict[str, Any] = {"LogGroupName": physical_id}
                if group.get("retentionInDays") is not None:
                    result["RetentionInDays"] = group["retentionInDays"]
                if group.get("kmsKeyId"):
                    result["KmsKeyId"] = group["kmsKeyId"]
                if "Tags" in properties:
                    result["Tags"] = properties["Tags"]
                return result
        return None

    async def list(self, ctx):
        found = await ctx.call("logs", "DescribeLogGroups", {})
        return [group["logGroupName"] for group in found.get("logGroups", [])]


class LogStream(ResourceHandler):
    type_name = "AWS::Logs::LogStream"
    service = "logs"
    required = ("LogGroupName",)
    create_only = frozenset({"LogGroupName", "LogStreamName"})
    primary_identifier = "LogStreamName"

    async def create(self, ctx, properties):
        name = properties.get("LogStreamName") or ctx.generated_name(512)
        await ctx.call(
            "logs", "CreateLogStream", {"logGroupName": properties["LogGroupName"], "logStreamName": name}
        )
        return Created(name)

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call(
                "logs",
                "DeleteLogStream",
                {"logGroupName": properties["LogGroupName"], "logStreamName": physical_id},
            )
        except ServiceError as error:
            if not not_found(error):
                raise


class SubscriptionFilter(ResourceHandler):
    type_name = "AWS::Logs::SubscriptionFilter"
    service = "logs"
    required = ("LogGroupName", "FilterPattern", "DestinationArn")
    create_only = frozenset({"LogGroupName", "FilterName"})
    primary_identifier = "FilterName"

    def _params(self, name: str, properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "logGroupName": properties["LogGroupName"],
                "filterName": name,
                "filterPattern": properties["FilterPattern"],
                "destinationArn": properties["DestinationArn"],
                "roleArn": properties.get("RoleArn"),
                "distribution": properties.get("Distribution"),
            }
        )

    async def create(self, ctx, properties):
        name = properties.get("FilterName") or ctx.generated_name(512)
        await ctx.call("logs", "PutSubscriptionFilter", self._params(name, properties))
        return Created(name)

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call("logs", "PutSubscriptionFilter", self._params(physical_id, properties))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call(
                "logs",
                "DeleteSubscriptionFilter",
                {"logGroupName": properties["LogGroupName"], "filterName": physical_id},
            )
        except ServiceError as error:
            if not not_found(error):
                raise


class MetricFilter(ResourceHandler):
    type_name = "AWS::Logs::MetricFilter"
    service = "logs"
    required = ("LogGroupName", "FilterPattern", "MetricTransformations")
    create_only = frozenset({"LogGroupName", "FilterName"})
    primary_identifier = "FilterName"

    def _params(self, name: str, properties: dict[str, Any]) -> dict[str, Any]:
        transformations = []
        for item in properties["MetricTransformations"]:
            transformations.append(
                drop_none(
                    {
                        "metricName": item["MetricName"],
                        "metricNamespace": item["MetricNamespace"],
                        "metricValue": item["MetricValue"],
                        "defaultValue": float(item["DefaultValue"])
                        if item.get("DefaultValue") is not None
                        else None,
                        "dimensions": {d["Key"]: d["Value"] for d in item.get("Dimensions") or []} or None,
                        "unit": item.get("Unit"),
                    }
                )
            )
        return {
            "logGroupName": properties["LogGroupName"],
            "filterName": name,
            "filterPattern": properties["FilterPattern"],
            "metricTransformations": transformations,
        }

    async def create(self, ctx, properties):
        name = properties.get("FilterName") or ctx.generated_name(512)
        await ctx.call("logs", "PutMetricFilter", self._params(name, properties))
        return Created(name)

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call("logs", "PutMetricFilter", self._params(physical_id, properties))
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call(
                "logs",
                "DeleteMetricFilter",
                {"logGroupName": properties["LogGroupName"], "filterName": physical_id},
            )
        except ServiceError as error:
            if not not_found(error):
                raise


class ResourcePolicy(ResourceHandler):
    type_name = "AWS::Logs::ResourcePolicy"
    service = "logs"
    required = ("PolicyName", "PolicyDocument")
    create_only = frozenset({"PolicyName"})
    primary_identifier = "PolicyName"

    async def create(self, ctx, properties):
        await self._put(ctx, properties)
        return Created(properties["PolicyName"])

    async def _put(self, ctx, properties: dict[str, Any]) -> None:
        await ctx.call(
            "logs",
            "PutResourcePolicy",
            {
                "policyName": properties["PolicyName"],
                "policyDocument": document(properties["PolicyDocument"]),
            },
        )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await self._put(ctx, properties)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("logs", "DeleteResourcePolicy", {"policyName": physical_id})
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        policies = (await ctx.call("logs", "DescribeResourcePolicies", {})).get("resourcePolicies", [])
        for policy in policies:
            if policy.get("policyName") == physical_id:
                return {**properties, "PolicyDocument": policy["policyDocument"]}
        return None

    async def list(self, ctx):
        policies = (await ctx.call("logs", "DescribeResourcePolicies", {})).get("resourcePolicies", [])
        return [policy["policyName"] for policy in policies]


class Destination(ResourceHandler):
    type_name = "AWS::Logs::Destination"
    service = "logs"
    required = ("DestinationName", "RoleArn", "TargetArn")
    create_only = frozenset({"DestinationName"})
    attributes = ("Arn",)
    primary_identifier = "DestinationName"

    async def create(self, ctx, properties):
        found = await self._put(ctx, properties)
        return Created(properties["DestinationName"], {"Arn": found["destination"]["arn"]})

    @staticmethod
    async def _put(ctx, properties: dict[str, Any]) -> dict[str, Any]:
        name = properties["DestinationName"]
        found = await ctx.call(
            "logs",
            "PutDestination",
            {"destinationName": name, "targetArn": properties["TargetArn"], "roleArn": properties["RoleArn"]},
        )
        if properties.get("DestinationPolicy"):
            await ctx.call(
                "logs",
                "PutDestinationPolicy",
                {"destinationName": name, "accessPolicy": document(properties["DestinationPolicy"])},
            )
        return found

    async def update(self, ctx, physical_id, properties, previous, attributes):
        found = await self._put(ctx, properties)
        return {"Arn": found["destination"]["arn"]}

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("logs", "DeleteDestination", {"destinationName": physical_id}))

    async def read(self, ctx, physical_id, properties):
        found = await ctx.call("logs", "DescribeDestinations", {"DestinationNamePrefix": physical_id})
        names = [d["destinationName"] for d in found.get("destinations", [])]
        return dict(properties) if physical_id in names else None


class QueryDefinition(ResourceHandler):
    type_name = "AWS::Logs::QueryDefinition"
    service = "logs"
    required = ("Name", "QueryString")
    attributes = ("QueryDefinitionId",)
    primary_identifier = "QueryDefinitionId"

    @staticmethod
    def _params(properties: dict[str, Any]) -> dict[str, Any]:
        return drop_none(
            {
                "name": properties["Name"],
                "queryString": properties["QueryString"],
                "logGroupNames": properties.get("LogGroupNames"),
                "queryLanguage": properties.get("QueryLanguage"),
            }
        )

    async def create(self, ctx, properties):
        found = await ctx.call("logs", "PutQueryDefinition", self._params(properties))
        return Created(found["queryDefinitionId"], {"QueryDefinitionId": found["queryDefinitionId"]})

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call(
            "logs", "PutQueryDefinition", {"queryDefinitionId": physical_id, **self._params(properties)}
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        await ignore_missing(ctx.call("logs", "DeleteQueryDefinition", {"queryDefinitionId": physical_id}))


HANDLERS = (
    LogGroup,
    LogStream,
    SubscriptionFilter,
    MetricFilter,
    ResourcePolicy,
    Destination,
    QueryDefinition,
)
