"""DynamoDB resource types: AWS::DynamoDB::Table (and AWS::DynamoDB::GlobalTable in its one region)."""

from __future__ import annotations

import asyncio
from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    HandlerError,
    ResourceContext,
    ResourceHandler,
    boolean,
    document,
    drop_none,
    integer,
    not_found,
    tag_list,
)

ACTIVE_WAIT = 120  # seconds a table may take to become ACTIVE


def _throughput(value: dict[str, Any] | None) -> dict[str, int] | None:
    if not value:
        return None
    return {
        "ReadCapacityUnits": integer(value["ReadCapacityUnits"]),
        "WriteCapacityUnits": integer(value["WriteCapacityUnits"]),
    }


def _index(index: dict[str, Any], billing: str) -> dict[str, Any]:
    converted = {
        "IndexName": index["IndexName"],
        "KeySchema": index["KeySchema"],
        "Projection": index["Projection"],
    }
    if billing == "PROVISIONED" and index.get("ProvisionedThroughput"):
        converted["ProvisionedThroughput"] = _throughput(index["ProvisionedThroughput"])
    if index.get("OnDemandThroughput"):
        converted["OnDemandThroughput"] = {k: integer(v) for k, v in index["OnDemandThroughput"].items()}
    return converted


def _sse(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if not value:
        return None
    return drop_none(
        {
            "Enabled": boolean(value.get("SSEEnabled")),
            "SSEType": value.get("SSEType"),
            "KMSMasterKeyId": value.get("KMSMasterKeyId"),
        }
    )


async def wait_active(ctx: ResourceContext, name: str) -> dict[str, Any]:
    """The table once it (and its indexes) are ACTIVE."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ACTIVE_WAIT
    while True:
        table = (await ctx.call("dynamodb", "DescribeTable", {"TableName": name}))["Table"]
        busy = table["TableStatus"] != "ACTIVE" or any(
            index.get("IndexStatus") not in (None, "ACTIVE")
            for index in table.get("GlobalSecondaryIndexes", [])
        )
        if not busy:
            return table
        if loop.time() > deadline:
            raise HandlerError(f"Table {name} did not become ACTIVE", "NotStabilized")
        await asyncio.sleep(0.1)


class Table(ResourceHandler):
    type_name = "AWS::DynamoDB::Table"
    service = "dynamodb"
    required = ("KeySchema",)
    create_only = frozenset({"TableName", "KeySchema", "LocalSecondaryIndexes"})
    attributes = ("Arn", "StreamArn")
    primary_identifier = "TableName"

    async def create(self, ctx, properties):
        name = properties.get("TableName") or ctx.generated_name(255)
        billing = properties.get("BillingMode") or "PROVISIONED"
        params: dict[str, Any] = drop_none(
            {
                "TableName": name,
                "AttributeDefinitions": properties.get("AttributeDefinitions"),
                "KeySchema": properties["KeySchema"],
                "BillingMode": billing,
                "ProvisionedThroughput": _throughput(properties.get("ProvisionedThroughput"))
                if billing == "PROVISIONED"
                else None,
                "SSESpecification": _sse(properties.get("SSESpecification")),
                "TableClass": properties.get("TableClass"),
                "DeletionProtectionEnabled": boolean(properties.get("DeletionProtectionEnabled")),
                "Tags": tag_list(properties.get("Tags")) or None,
            }
        )
        if billing == "PROVISIONED" and "ProvisionedThroughput" not in params:
            raise HandlerError("No provisioned throughput specified for the table", "InvalidRequest")
        if properties.get("GlobalSecondaryIndexes"):
            params["GlobalSecondaryIndexes"] = [
                _index(i, billing) for i in properties["GlobalSecondaryIndexes"]
            ]
        if properties.get("LocalSecondaryIndexes"):
            params["LocalSecondaryIndexes"] = [
                {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
                for i in properties["LocalSecondaryIndexes"]
            ]
        stream = properties.get("StreamSpecification")
        if stream and stream.get("StreamViewType"):
            params["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        if properties.get("OnDemandThroughput"):
            params["OnDemandThroughput"] = {
                k: integer(v) for k, v in properties["OnDemandThroughput"].items()
            }
        if properties.get("ResourcePolicy"):
            params["ResourcePolicy"] = document(properties["ResourcePolicy"].get("PolicyDocument"))
        await ctx.call("dynamodb", "CreateTable", params)
        table = await wait_active(ctx, name)
        await self._after(ctx, name, properties, {})
        return Created(name, self._attributes(table))

    @staticmethod
    def _attributes(table: dict[str, Any]) -> dict[str, Any]:
        attributes = {"Arn": table["TableArn"]}
        if table.get("LatestStreamArn"):
            attributes["StreamArn"] = table["LatestStreamArn"]
        return attributes

    async def _after(self, ctx: ResourceContext, name: str, new: dict[str, Any], old: dict[str, Any]) -> None:
        """The settings CreateTable does not take: time to live and point-in-time recovery."""
        ttl, old_ttl = new.get("TimeToLiveSpecification"), old.get("TimeToLiveSpecification")
        if ttl != old_ttl and (ttl or old_ttl):
            spec = ttl or {**old_ttl, "Enabled": False}  # type: ignore[dict-item]
            enabled = boolean(spec.get("Enabled"))
            if enabled or old_ttl:
                await ctx.call(
                    "dynamodb",
                    "UpdateTimeToLive",
                    {
                        "TableName": name,
                        "TimeToLiveSpecification": {
                            "AttributeName": spec["AttributeName"],
                            "Enabled": bool(enabled),
                        },
                    },
                )
        pitr, old_pitr = (
            new.get("PointInTimeRecoverySpecification"),
            old.get("PointInTimeRecoverySpecification"),
        )
        if pitr != old_pitr:
            enabled = boolean((pitr or {}).get("PointInTimeRecoveryEnabled")) or False
            if enabled or old_pitr:
                await ctx.call(
                    "dynamodb",
                    "UpdateContinuousBackups",
                    {
                        "TableName": name,
                        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": enabled},
                    },
                )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        billing = properties.get("BillingMode") or "PROVISIONED"
        change: dict[str, Any] = {}
        if billing != (previous.get("BillingMode") or "PROVISIONED"):
            change["BillingMode"] = billing
        if billing == "PROVISIONED" and properties.get("ProvisionedThroughput") != previous.get(
            "ProvisionedThroughput"
        ):
            change["ProvisionedThroughput"] = _throughput(properties.get("ProvisionedThroughput"))
        if properties.get("StreamSpecification") != previous.get("StreamSpecification"):
            stream = properties.get("StreamSpecification")
            change["StreamSpecification"] = (
                {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
                if stream
                else {"StreamEnabled": False}
            )
        if properties.get("DeletionProtectionEnabled") != previous.get("DeletionProtectionEnabled"):
            change["DeletionProtectionEnabled"] = bool(boolean(properties.get("DeletionProtectionEnabled")))
        if properties.get("TableClass") != previous.get("TableClass") and properties.get("TableClass"):
            change["TableClass"] = properties["TableClass"]
        if properties.get("SSESpecification") != previous.get("SSESpecification"):
            change["SSESpecification"] = _sse(properties.get("SSESpecification")) or {"Enabled": False}
        if change:
            if properties.get("AttributeDefinitions"):
                change["AttributeDefinitions"] = properties["AttributeDefinitions"]
            await ctx.call("dynamodb", "UpdateTable", {"TableName": physical_id, **change})
            await wait_active(ctx, physical_id)
        await self._indexes(ctx, physical_id, properties, previous, billing)
        await self._after(ctx, physical_id, properties, previous)
        old, new = tag_list(previous.get("Tags")), tag_list(properties.get("Tags"))
        gone = [t["Key"] for t in old if t["Key"] not in {n["Key"] for n in new}]
        arn = attributes.get("Arn")
        if gone:
            await ctx.call("dynamodb", "UntagResource", {"ResourceArn": arn, "TagKeys": gone})
        if new and new != old:
            await ctx.call("dynamodb", "TagResource", {"ResourceArn": arn, "Tags": new})
        table = await wait_active(ctx, physical_id)
        return self._attributes(table)

    async def _indexes(
        self, ctx: ResourceContext, name: str, new: dict[str, Any], old: dict[str, Any], billing: str
    ) -> None:
        """Global secondary indexes added and removed one at a time, as DynamoDB takes them."""
        before = {i["IndexName"]: i for i in old.get("GlobalSecondaryIndexes") or []}
        after = {i["IndexName"]: i for i in new.get("GlobalSecondaryIndexes") or []}
        for index in before:
            if index not in after or after[index]["KeySchema"] != before[index]["KeySchema"]:
                await ctx.call(
                    "dynamodb",
                    "UpdateTable",
                    {"TableName": name, "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": index}}]},
                )
                await wait_active(ctx, name)
        for index, definition in after.items():
            if index not in before or definition["KeySchema"] != before[index]["KeySchema"]:
                await ctx.call(
                    "dynamodb",
                    "UpdateTable",
                    {
                        "TableName": name,
                        "AttributeDefinitions": new.get("AttributeDefinitions") or [],
                        "GlobalSecondaryIndexUpdates": [{"Create": _index(definition, billing)}],
                    },
                )
                await wait_active(ctx, name)

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("dynamodb", "DeleteTable", {"TableName": physical_id})
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            table = (await ctx.call("dynamodb", "DescribeTable", {"TableName": physical_id}))["Table"]
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        result: dict[str, Any] = {
            "TableName": table["TableName"],
            "KeySchema": table["KeySchema"],
            "AttributeDefinitions": table.get("AttributeDefinitions", []),
            "BillingMode": (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED"),
        }
        throughput = table.get("ProvisionedThroughput") or {}
        if result["BillingMode"] == "PROVISIONED":
            result["ProvisionedThroughput"] = {
                "ReadCapacityUnits": throughput.get("ReadCapacityUnits"),
                "WriteCapacityUnits": throughput.get("WriteCapacityUnits"),
            }
        for key in properties:
            result.setdefault(key, properties[key])
        return result

    async def list(self, ctx):
        return list((await ctx.call("dynamodb", "ListTables", {})).get("TableNames", []))


class GlobalTable(Table):
    """A global table with replicas in this region only (Overcast is one region at a time per request)."""

    type_name = "AWS::DynamoDB::GlobalTable"
    required = ("KeySchema", "AttributeDefinitions", "Replicas")
    attributes = ("Arn", "StreamArn", "TableId")

    async def create(self, ctx, properties):
        replicas = properties.get("Replicas") or []
        if any(replica.get("Region") != ctx.region for replica in replicas):
            raise HandlerError("Overcast supports global table replicas in the stack's own region only")
        local = {
            key: value
            for key, value in properties.items()
            if key not in ("Replicas", "WriteProvisionedThroughputSettings")
        }
        if properties.get("BillingMode") != "PROVISIONED":
            local["BillingMode"] = "PAY_PER_REQUEST"
        replica = replicas[0] if replicas else {}
        if replica.get("Tags"):
            local["Tags"] = replica["Tags"]
        created = await super().create(ctx, local)
        table = (await ctx.call("dynamodb", "DescribeTable", {"TableName": created.physical_id}))["Table"]
        created.attributes["TableId"] = table.get("TableId", "")
        return created


HANDLERS = (Table, GlobalTable)
