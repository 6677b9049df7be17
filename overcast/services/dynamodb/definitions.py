"""Table definitions: validating a CreateTable/UpdateTable request, the stored definition (meta) of a new
table, and the TableDescription AWS returns for one (its counts read through the store)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.dynamodb import replicas
from overcast.services.dynamodb.store import Store, Table
from overcast.services.dynamodb.values import invalid_parameter, validation
from overcast.services.kit.tags import TagRules

_TABLE_NAME = re.compile(r"^[a-zA-Z0-9_.-]+$")
MAX_GSIS = 20
MAX_LSIS = 5
# Table tags: AWS's limits, DynamoDB's wording (the model bounds key and value lengths before they get here).
TAG_RULES = TagRules(
    reserved_prefix=None,
    too_many=lambda limit: validation(
        f"One or more parameter values were invalid: The number of tags exceeds the limit of {limit}"
    ),
)


def not_found(what: str = "") -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Requested resource not found{what}")


def check_table_name(name: str) -> None:
    if not 3 <= len(name) <= 255:
        raise validation("TableName must be at least 3 characters long and at most 255 characters long")
    if not _TABLE_NAME.match(name):
        raise validation(
            "1 validation error detected: Value '" + name + "' at 'tableName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )


def _epoch(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


# -- validating a table definition -------------------------------------------------------------------


def check_present(params: dict[str, Any], members: tuple[str, ...]) -> None:
    """Members the model leaves optional but CreateTable needs: AWS's null-constraint errors, in model order."""
    missing = [m for m in members if params.get(m) is None]
    if missing:
        problems = "; ".join(
            f"Value null at '{m[0].lower() + m[1:]}' failed to satisfy constraint: Member must not be null"
            for m in missing
        )
        count = f"{len(missing)} validation error{'s' if len(missing) > 1 else ''}"
        raise validation(f"{count} detected: {problems}")


def check_key_schema(key_schema: list[dict[str, str]], where: str = "") -> None:
    if key_schema[0]["KeyType"] != "HASH":
        raise validation(f"Invalid KeySchema: The first KeySchemaElement is not a HASH key type{where}")
    if len(key_schema) == 2:
        if key_schema[1]["KeyType"] != "RANGE":
            raise validation(f"Invalid KeySchema: The second KeySchemaElement is not a RANGE key type{where}")
        if key_schema[0]["AttributeName"] == key_schema[1]["AttributeName"]:
            raise invalid_parameter(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name"
            )


def check_definitions(params: dict[str, Any]) -> dict[str, str]:
    definitions: dict[str, str] = {}
    for definition in params["AttributeDefinitions"]:
        name = definition["AttributeName"]
        if name in definitions:
            raise invalid_parameter("Cannot have two attributes with the same name")
        definitions[name] = definition["AttributeType"]
    key_names = [k["AttributeName"] for k in params["KeySchema"]]
    for index in params.get("GlobalSecondaryIndexes", []) + params.get("LocalSecondaryIndexes", []):
        key_names += [k["AttributeName"] for k in index["KeySchema"]]
    missing = [n for n in key_names if n not in definitions]
    if missing:
        raise invalid_parameter(
            "Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(missing)}], AttributeDefinitions: [{', '.join(definitions)}]"
        )
    if set(definitions) - set(key_names):
        raise invalid_parameter(
            "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"
        )
    return definitions


def check_billing(params: dict[str, Any]) -> str:
    mode = params.get("BillingMode") or "PROVISIONED"
    throughput = params.get("ProvisionedThroughput")
    if mode == "PROVISIONED" and not throughput:
        raise invalid_parameter(
            "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"
        )
    if mode == "PAY_PER_REQUEST" and throughput:
        raise invalid_parameter(
            "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
        )
    return mode


def check_projection(index: dict[str, Any]) -> None:
    projection = index.get("Projection") or {}
    kind = projection.get("ProjectionType", "ALL")
    if kind != "INCLUDE" and projection.get("NonKeyAttributes"):
        raise invalid_parameter(f"ProjectionType is {kind}, but NonKeyAttributes is specified")
    if kind == "INCLUDE" and not projection.get("NonKeyAttributes"):
        raise invalid_parameter(
            "NonKeyAttributes must not be empty"
        )  # AWS refuses INCLUDE without attributes
    index["Projection"] = {
        "ProjectionType": kind,
        **({"NonKeyAttributes": projection["NonKeyAttributes"]} if kind == "INCLUDE" else {}),
    }


def check_indexes(params: dict[str, Any], mode: str) -> None:
    gsis = params.get("GlobalSecondaryIndexes") or []
    lsis = params.get("LocalSecondaryIndexes") or []
    names: set[str] = set()
    for index in gsis + lsis:
        if index["IndexName"] in names:
            raise invalid_parameter(f"Duplicate index name: {index['IndexName']}")
        names.add(index["IndexName"])
        check_key_schema(index["KeySchema"])
        check_projection(index)
    if len(gsis) > MAX_GSIS:
        raise validation(
            f"One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSIS}"
        )
    for index in gsis:
        check_gsi_throughput(index, mode)
    if lsis:
        check_lsis(params["KeySchema"], lsis)


def check_gsi_throughput(index: dict[str, Any], mode: str) -> None:
    if mode == "PROVISIONED" and not index.get("ProvisionedThroughput"):
        raise invalid_parameter(f"ProvisionedThroughput must be specified for index: {index['IndexName']}")
    if mode == "PAY_PER_REQUEST" and index.get("ProvisionedThroughput"):
        raise invalid_parameter(
            "ProvisionedThroughput should not be specified for index: "
            f"{index['IndexName']} when BillingMode is PAY_PER_REQUEST"
        )


def check_lsis(key_schema: list[dict[str, str]], lsis: list[dict[str, Any]]) -> None:
    if len(lsis) > MAX_LSIS:
        raise invalid_parameter(f"Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LSIS}")
    if len(key_schema) < 2:
        raise invalid_parameter(
            "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"
        )
    table_hash = key_schema[0]["AttributeName"]
    for index in lsis:
        index_hash = index["KeySchema"][0]["AttributeName"]
        if index_hash != table_hash:
            raise invalid_parameter(
                "Index KeySchema does not have the same leading hash key as table KeySchema for index: "
                f"{index['IndexName']}. index hash key: {index_hash}, table hash key: {table_hash}"
            )
        if len(index["KeySchema"]) != 2:
            raise invalid_parameter(f"Index KeySchema must have a range key for index: {index['IndexName']}")


# -- descriptions ----------------------------------------------------------------------------------


def throughput_description(throughput: dict[str, Any] | None) -> dict[str, Any]:
    throughput = throughput or {}
    return {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": throughput.get("ReadCapacityUnits", 0),
        "WriteCapacityUnits": throughput.get("WriteCapacityUnits", 0),
    }


# The warm throughput AWS reports for on-demand tables and indexes (provisioned ones report their capacity)
ON_DEMAND_WARM_READS = 12000
ON_DEMAND_WARM_WRITES = 4000


def warm_throughput(definition: dict[str, Any], reads: str, writes: str) -> dict[str, Any]:
    throughput = definition.get("ProvisionedThroughput")
    if throughput:
        values = (throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"])
    else:
        values = (ON_DEMAND_WARM_READS, ON_DEMAND_WARM_WRITES)
    return {reads: values[0], writes: values[1], "Status": "ACTIVE"}


def describe(store: Store, table: Table, status: str | None = None) -> dict[str, Any]:
    meta = table.meta
    item_count, size = store.table_stats(table)
    description: dict[str, Any] = {
        "AttributeDefinitions": meta["AttributeDefinitions"],
        "TableName": table.name,
        "KeySchema": meta["KeySchema"],
        "TableStatus": status or "ACTIVE",
        "CreationDateTime": _epoch(meta["_created"]),
        "ProvisionedThroughput": throughput_description(meta.get("ProvisionedThroughput")),
        "TableSizeBytes": size,
        "ItemCount": item_count,
        "TableArn": table.arn,
        "TableId": meta["TableId"],
        "DeletionProtectionEnabled": meta.get("DeletionProtectionEnabled", False),
        "WarmThroughput": warm_throughput(meta, "ReadUnitsPerSecond", "WriteUnitsPerSecond"),
    }
    if meta.get("TableClass"):  # only once a class was chosen (CreateTable or UpdateTable)
        description["TableClassSummary"] = {"TableClass": meta["TableClass"]}
    if meta["BillingMode"] == "PAY_PER_REQUEST":
        description["BillingModeSummary"] = {
            "BillingMode": "PAY_PER_REQUEST",
            "LastUpdateToPayPerRequestDateTime": _epoch(meta.get("_billing_changed", meta["_created"])),
        }
    gsis = [_describe_index(store, table, i, local=False) for i in meta.get("GlobalSecondaryIndexes", ())]
    lsis = [_describe_index(store, table, i, local=True) for i in meta.get("LocalSecondaryIndexes", ())]
    if gsis:
        description["GlobalSecondaryIndexes"] = gsis
    if lsis:
        description["LocalSecondaryIndexes"] = lsis
    stream = meta.get("_stream")
    if stream:
        description["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["view"]}
    if meta.get("_latest_stream"):
        description["LatestStreamLabel"] = meta["_latest_stream"]["label"]
        description["LatestStreamArn"] = meta["_latest_stream"]["arn"]
    if meta.get("SSEDescription"):
        description["SSEDescription"] = meta["SSEDescription"]
    description.update(replicas.describe(store, table))
    return description


def _describe_index(store: Store, table: Table, index: dict[str, Any], local: bool) -> dict[str, Any]:
    described = {
        "IndexName": index["IndexName"],
        "KeySchema": index["KeySchema"],
        "Projection": index["Projection"],
        "IndexSizeBytes": 0,
        "ItemCount": store.index_stats(table.indexes[index["IndexName"]]),
        "IndexArn": f"{table.arn}/index/{index['IndexName']}",
    }
    if not local:
        described["IndexStatus"] = index.get("_status", "ACTIVE")
        described["ProvisionedThroughput"] = throughput_description(index.get("ProvisionedThroughput"))
        described["WarmThroughput"] = warm_throughput(index, "ReadUnitsPerSecond", "WriteUnitsPerSecond")
    return described


def new_table_meta(ctx: RequestContext, params: dict[str, Any], mode: str, now: float) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "AttributeDefinitions": params["AttributeDefinitions"],
        "KeySchema": params["KeySchema"],
        "BillingMode": mode,
        "TableArn": ctx.arn("dynamodb", f"table/{params['TableName']}"),
        "TableId": str(uuid.uuid4()),
        "DeletionProtectionEnabled": bool(params.get("DeletionProtectionEnabled", False)),
        "_created": now,
    }
    if params.get("TableClass"):
        meta["TableClass"] = params["TableClass"]
    if mode == "PROVISIONED":
        meta["ProvisionedThroughput"] = params["ProvisionedThroughput"]
    for listing in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if params.get(listing):
            meta[listing] = [
                {
                    k: v
                    for k, v in index.items()
                    if k in ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
                }
                for index in params[listing]
            ]
    sse = params.get("SSESpecification")
    if sse and sse.get("Enabled"):
        meta["SSEDescription"] = {
            "Status": "ENABLED",
            "SSEType": "KMS",
            "KMSMasterKeyArn": sse.get("KMSMasterKeyId") or ctx.arn("kms", "key/aws-dynamodb"),
        }
    return meta


def stream_label(now: float) -> str:
    return _epoch(now).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
