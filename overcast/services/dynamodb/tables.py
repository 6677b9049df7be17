"""DynamoDB table operations: create, describe, list, update (billing, indexes, streams), delete, limits and
endpoints."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.dynamodb import definitions, replicas
from overcast.services.dynamodb.parameters import table_name
from overcast.services.dynamodb.store import Table
from overcast.services.dynamodb.values import invalid_parameter, validation
from overcast.services.kit.tags import tag_dict

if TYPE_CHECKING:
    from overcast.services.dynamodb.provider import DynamoDBProvider


# What UpdateTable changes in every replica of a global table (AWS: also SSE; tags, PITR, the resource policy and
# deletion protection stay regional).
_GROUP_SETTINGS = (
    "AttributeDefinitions",
    "BillingMode",
    "ProvisionedThroughput",
    "TableClass",
    "GlobalSecondaryIndexUpdates",
)


class TableOperations(Operations):
    service: DynamoDBProvider

    def create_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service, store = self.service, self.service.store
        name = params["TableName"]
        definitions.check_table_name(name)
        definitions.check_present(params, ("AttributeDefinitions", "KeySchema"))
        definitions.check_key_schema(params["KeySchema"])
        definitions.check_definitions(params)
        mode = definitions.check_billing(params)
        definitions.check_indexes(params, mode)
        if store.table(ctx.account_id, ctx.region, name) is not None:
            raise ServiceError("ResourceInUseException", f"Table already exists: {name}")
        now = self.clock.now()
        meta = definitions.new_table_meta(ctx, params, mode, now)
        spec = params.get("StreamSpecification")
        if spec and spec.get("StreamEnabled"):
            self.enable_stream(ctx, meta, name, spec, now)
        tags = tag_dict(params.get("Tags"))
        definitions.TAG_RULES.check(tags)
        table = store.create_table(ctx.account_id, ctx.region, name, meta)
        service.tags.add(table.arn, tags, definitions.TAG_RULES, account=ctx.account_id, region=ctx.region)
        description = definitions.describe(store, table, "CREATING")
        for index in description.get("GlobalSecondaryIndexes", ()):
            index["IndexStatus"] = "CREATING"
        return {"TableDescription": description}

    def describe_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        table = store.table(ctx.account_id, ctx.region, table_name(params["TableName"]))
        if table is None:
            raise definitions.not_found(f": Table: {params['TableName']} not found")
        return {"Table": definitions.describe(store, table)}

    def describe_table_replica_auto_scaling(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        """The auto scaling of each replica of a global table (home included, by Region): Overcast has no
        Application Auto Scaling, so every dimension reads as AWS reads one never configured."""
        name = table_name(params["TableName"])
        table = self.service.store.table(ctx.account_id, ctx.region, name)
        if table is None or not replicas.members(table):
            raise ServiceError(
                "ResourceNotFoundException", f"Global table with name: '{name}' does not exist."
            )
        off = {"AutoScalingDisabled": True, "ScalingPolicies": []}
        described = []
        for region in sorted([ctx.region, *replicas.members(table)]):
            member = self.service.store.table(ctx.account_id, region, name)
            indexes = [
                {
                    "IndexName": index.name,
                    "IndexStatus": "ACTIVE",
                    "ProvisionedReadCapacityAutoScalingSettings": off,
                    "ProvisionedWriteCapacityAutoScalingSettings": off,
                }
                for index in (member.indexes.values() if member else ())
                if not index.local
            ]
            described.append(
                {
                    "RegionName": region,
                    "GlobalSecondaryIndexes": indexes,
                    "ReplicaProvisionedReadCapacityAutoScalingSettings": off,
                    "ReplicaProvisionedWriteCapacityAutoScalingSettings": off,
                    "ReplicaStatus": "ACTIVE",
                }
            )
        return {
            "TableAutoScalingDescription": {"TableName": name, "TableStatus": "ACTIVE", "Replicas": described}
        }

    def list_tables(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("Limit", 100)
        names = self.service.store.tables(
            ctx.account_id, ctx.region, params.get("ExclusiveStartTableName"), limit + 1
        )
        result: dict[str, Any] = {"TableNames": names[:limit]}
        if len(names) > limit:
            result["LastEvaluatedTableName"] = names[limit - 1]
        return result

    def delete_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        table = store.table(ctx.account_id, ctx.region, table_name(params["TableName"]))
        if table is None:
            raise definitions.not_found(f": Table: {params['TableName']} not found")
        if table.meta.get("DeletionProtectionEnabled"):
            raise validation(
                "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first."
            )
        description = definitions.describe(store, table, "DELETING")
        self.drop_table(table)
        replicas.leave(self.service, table.account, table.region, table.name, replicas.members(table))
        return {"TableDescription": description}

    def drop_table(self, table: Table) -> None:
        """Delete a table with its items, indexes, stream and tags."""
        self._disable_stream(dict(table.meta), self.clock.now())
        self.service.store.delete_table(table)
        self.service.tags.forget(table.arn)

    def update_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        table = self.service.table(ctx, params["TableName"])
        meta = json.loads(json.dumps(table.meta))
        now = self.clock.now()
        changes = [k for k in params if k != "TableName"]
        if not changes:
            raise validation(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates "
                "or SSESpecification or ReplicaUpdates is required"
            )
        if params.get("ReplicaUpdates"):
            added = replicas.update_replicas(self, ctx, table, params)
            updated = self.service.table(ctx, table.name)
            description = definitions.describe(store, updated, "UPDATING")
            description.setdefault("GlobalTableVersion", replicas.VERSION)
            description["Replicas"] = [r for r in description.get("Replicas", ()) if r["RegionName"] != added]
            return {"TableDescription": description}
        if "DeletionProtectionEnabled" in params:  # regional, like tags, PITR and the stream
            meta["DeletionProtectionEnabled"] = params["DeletionProtectionEnabled"]
        spec = params.get("StreamSpecification")
        if spec is not None:
            replicas.check_stream_change(table, spec)
            self._update_stream(ctx, table, meta, spec, now)
        updated, new_indexes = self._save_definition(table, meta, params, now)
        shared = {k: v for k, v in params.items() if k in _GROUP_SETTINGS}
        for peer in (
            replicas.peers(store, table) if shared else ()
        ):  # a global table's settings hold group-wide
            self._save_definition(peer, json.loads(json.dumps(peer.meta)), shared, now)
        description = definitions.describe(store, updated, "UPDATING")
        for index in description.get("GlobalSecondaryIndexes", ()):
            if index["IndexName"] in new_indexes:
                index["IndexStatus"] = "CREATING"
        return {"TableDescription": description}

    def _save_definition(
        self, table: Table, meta: dict[str, Any], params: dict[str, Any], now: float
    ) -> tuple[Table, list[str]]:
        """Apply billing, attribute definition, class and index changes to `meta` and store it as `table`'s;
        the table as now stored and the indexes created (back-filled from its items)."""
        store = self.service.store
        _update_billing(meta, params, now)
        for definition in params.get("AttributeDefinitions") or ():
            known = {d["AttributeName"]: d for d in meta["AttributeDefinitions"]}
            if definition["AttributeName"] not in known:
                meta["AttributeDefinitions"].append(definition)
            elif known[definition["AttributeName"]]["AttributeType"] != definition["AttributeType"]:
                raise invalid_parameter(f"Cannot change the type of attribute {definition['AttributeName']}")
        if params.get("TableClass"):
            meta["TableClass"] = params["TableClass"]
        new_indexes = self._update_indexes(table, meta, params.get("GlobalSecondaryIndexUpdates") or [])
        store.save_meta(table.account, table.region, table.name, table.id, meta)
        updated = store.table(table.account, table.region, table.name)
        assert updated is not None
        for name in new_indexes:
            store.backfill_index(updated, updated.indexes[name])
        return updated, new_indexes

    def _update_indexes(self, table: Table, meta: dict[str, Any], updates: list[dict[str, Any]]) -> list[str]:
        store = self.service.store
        created = []
        gsis = meta.setdefault("GlobalSecondaryIndexes", [])
        for update in updates:
            if "Create" in update:
                index = dict(update["Create"])
                name = index["IndexName"]
                if name in table.indexes:
                    raise invalid_parameter(
                        f"Index with name {name} already exists"
                    )  # AWS: ValidationException
                if len(gsis) >= definitions.MAX_GSIS:
                    raise validation(
                        "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the "
                        f"per-table limit of {definitions.MAX_GSIS}"
                    )
                definitions.check_key_schema(index["KeySchema"])
                definitions.check_projection(index)
                definitions.check_gsi_throughput(index, meta["BillingMode"])
                defined = {d["AttributeName"] for d in meta["AttributeDefinitions"]}
                missing = [
                    k["AttributeName"] for k in index["KeySchema"] if k["AttributeName"] not in defined
                ]
                if missing:
                    raise invalid_parameter(
                        "Some index key attributes are not defined in AttributeDefinitions. "
                        f"Keys: [{', '.join(missing)}], AttributeDefinitions: [{', '.join(sorted(defined))}]"
                    )
                entry = {
                    k: v
                    for k, v in index.items()
                    if k in ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
                }
                entry["_id"] = store.new_index_id(table.id, name)
                gsis.append(entry)
                created.append(name)
            elif "Update" in update:
                found = next((g for g in gsis if g["IndexName"] == update["Update"]["IndexName"]), None)
                if found is None:
                    raise definitions.not_found(
                        f": Table: {table.name} index: {update['Update']['IndexName']} not found"
                    )
                found["ProvisionedThroughput"] = update["Update"]["ProvisionedThroughput"]
            elif "Delete" in update:
                name = update["Delete"]["IndexName"]
                found = next((g for g in gsis if g["IndexName"] == name), None)
                if found is None:
                    raise definitions.not_found(f": Table: {table.name} index: {name} not found")
                gsis.remove(found)
                store.drop_index_entries(found["_id"])
                meta.get("_insights", {}).pop(name, None)
        if not gsis:
            meta.pop("GlobalSecondaryIndexes")
        return created

    # -- streams -----------------------------------------------------------------------------------

    def _update_stream(
        self, ctx: RequestContext, table: Table, meta: dict[str, Any], spec: dict[str, Any], now: float
    ) -> None:
        if spec.get("StreamEnabled"):
            if meta.get("_stream"):
                raise validation(f"Table already has an enabled stream: TableName: {table.name}")
            self.enable_stream(ctx, meta, table.name, spec, now)
        else:
            if not meta.get("_stream"):
                raise validation("Table already has no stream enabled")  # nothing to disable
            self._disable_stream(meta, now)

    def enable_stream(
        self,
        ctx: RequestContext,
        meta: dict[str, Any],
        name: str,
        spec: dict[str, Any],
        now: float,
        region: str | None = None,
    ) -> None:
        """Turn on a stream for the table `name` of `meta` (in `region`, by default the caller's)."""
        region = region or ctx.region
        view = spec.get("StreamViewType")
        if not view:
            raise validation(
                "One or more parameter values were invalid: StreamViewType must be specified when StreamEnabled is true"
            )
        label = definitions.stream_label(now)
        arn = ctx.arn("dynamodb", f"table/{name}/stream/{label}", region=region)
        streams = self.service.store.streams
        stream_id = streams.create(ctx.account_id, region, name, arn, label, view, meta["KeySchema"], now)
        meta["_stream"] = {"id": stream_id, "view": view}
        meta["_latest_stream"] = {"label": label, "arn": arn}

    def _disable_stream(self, meta: dict[str, Any], now: float) -> None:
        stream = meta.pop("_stream", None)
        if stream:
            self.service.store.streams.disable(stream["id"], now)

    # -- the account -------------------------------------------------------------------------------

    def describe_limits(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "AccountMaxReadCapacityUnits": 80000,
            "AccountMaxWriteCapacityUnits": 80000,
            "TableMaxReadCapacityUnits": 40000,
            "TableMaxWriteCapacityUnits": 40000,
        }

    def describe_endpoints(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        host = ctx.request.headers.get("host") if ctx.request is not None else None
        return {
            "Endpoints": [
                {"Address": host or f"dynamodb.{ctx.region}.amazonaws.com", "CachePeriodInMinutes": 1440}
            ]
        }


def _update_billing(meta: dict[str, Any], params: dict[str, Any], now: float) -> None:
    mode = params.get("BillingMode") or meta["BillingMode"]
    throughput = params.get("ProvisionedThroughput")
    if mode == "PAY_PER_REQUEST" and throughput:
        raise invalid_parameter(
            "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
        )
    if mode == "PROVISIONED" and meta["BillingMode"] != "PROVISIONED" and not throughput:
        raise invalid_parameter(
            "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"
        )
    if mode != meta["BillingMode"]:
        meta["BillingMode"] = mode
        if mode == "PAY_PER_REQUEST":
            meta.pop("ProvisionedThroughput", None)
            meta["_billing_changed"] = now
            for index in meta.get("GlobalSecondaryIndexes", ()):
                index.pop("ProvisionedThroughput", None)
    if throughput:
        meta["ProvisionedThroughput"] = throughput
