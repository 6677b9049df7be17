"""DynamoDB: tables, items with expressions, Query/Scan, batches, transactions, TTL, streams' write side."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import ServiceProvider
from overcast.services.dynamodb import legacy, tables
from overcast.services.dynamodb.backups import BackupOperations
from overcast.services.dynamodb.capacity import Meter, index_write_units, read_units, write_units
from overcast.services.dynamodb.expressions import (
    Placeholders,
    evaluate,
    parse_condition,
    parse_projection,
    parse_update,
    paths_in_update,
    project,
)
from overcast.services.dynamodb.query import run_query, run_scan
from overcast.services.dynamodb.statements import PartiqlOperations
from overcast.services.dynamodb.store import (
    Store,
    Table,
    check_index_keys,
    key_attributes,
    key_from_item,
    key_from_key,
)
from overcast.services.dynamodb.throttling import READS, WRITES, Throttle, table_names
from overcast.services.dynamodb.updates import apply_update
from overcast.services.dynamodb.values import (
    Item,
    canonical_item,
    check_item_size,
    dump_item,
    invalid_parameter,
    item_size,
    validation,
)

log = logging.getLogger("overcast.dynamodb")

MAX_BATCH_GET = 100
MAX_BATCH_WRITE = 25
BATCH_GET_BYTES = 16 * 1024 * 1024
TOKEN_SECONDS = 600
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
STREAM_RETENTION = 24 * 3600
GB = 1024**3
TTL_SERVICE_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}


def conditional_failed(old: Item | None, params: dict[str, Any]) -> ServiceError:
    fields = {}
    if old is not None and params.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
        fields["Item"] = old
    return ServiceError("ConditionalCheckFailedException", "The conditional request failed", **fields)


class DynamoDBProvider(PartiqlOperations, BackupOperations, ServiceProvider):
    service_name = "dynamodb"

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The resource a request acts on, for authorization."""
        name = params.get("TableName") or params.get("ResourceArn") or params.get("StreamArn")
        if not name:
            return None
        return name if name.startswith("arn:") else ctx.arn("dynamodb", f"table/{name}")

    def __init__(self, platform: Any) -> None:
        super().__init__(platform)
        self.store = Store(self.db)
        # Seconds after an item's expiry before the TTL sweeper may delete it (AWS: up to a few days).
        self.ttl_delay = float(os.environ.get("OVERCAST_DYNAMODB_TTL_DELAY", "0"))
        throttling = os.environ.get("OVERCAST_DYNAMODB_THROTTLING", "").lower() in ("1", "true", "yes", "on")
        self.throttle = Throttle(throttling)
        # Bytes an item collection (items sharing a partition key) may hold on a table with LSIs (AWS: 10 GB).
        self.collection_limit = int(os.environ.get("OVERCAST_DYNAMODB_ITEM_COLLECTION_LIMIT", str(10 * GB)))

    def reset(self) -> None:
        self.store.forget()
        self.throttle.forget()

    def handler(self, operation: str):
        found = super().handler(operation)
        if found is None or not self.throttle.enabled or operation not in READS | WRITES:
            return found
        method = found[0]
        return (lambda ctx, params: self._throttled(operation, method, ctx, params)), False

    def _throttled(self, operation: str, method: Any, ctx: RequestContext, params: dict[str, Any]) -> Any:
        """Run a read or write under the provisioned-throughput buckets (see throttling.py)."""
        kind = "read" if operation in READS else "write"
        involved: dict[str, Table] = {}
        for name in table_names(operation, params):
            table = self.store.table(ctx.account_id, ctx.region, _table_name(name))
            if table is not None:
                involved[table.name] = table
        now = self.clock.now()
        index = {_table_name(params["TableName"]): params.get("IndexName")} if params.get("TableName") else {}
        self.throttle.check(list(involved.values()), kind, index, now)
        asked = params.get("ReturnConsumedCapacity")
        result = method(ctx, {**params, "ReturnConsumedCapacity": "INDEXES"})
        consumed = result.get("ConsumedCapacity")
        entries = [consumed] if isinstance(consumed, dict) else list(consumed or [])
        self.throttle.charge_consumed(involved, kind, entries, now)
        if asked not in ("TOTAL", "INDEXES"):
            result.pop("ConsumedCapacity", None)
        elif asked == "TOTAL":
            for entry in entries:
                for detail in ("Table", "GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
                    entry.pop(detail, None)
        return result

    async def internal_endpoint(self, request: Any, path: str) -> Any:
        """/_overcast/dynamodb/throttling: GET tells, POST {"enabled": bool} turns throttling on or off."""
        from overcast.http import json_response

        if path != "/_overcast/dynamodb/throttling":
            return json_response({"error": f"no internal endpoint {request.method} {path}"}, 404)
        if request.method == "POST":
            try:
                body = json.loads(request.body or b"{}")
                enabled = body["enabled"]
                if not isinstance(enabled, bool):
                    raise TypeError(enabled)
            except (ValueError, KeyError, TypeError):
                return json_response({"error": 'expected {"enabled": true|false}'}, 400)
            self.throttle.enabled = enabled
            self.throttle.forget()
            self._handlers.clear()
        elif request.method != "GET":
            return json_response({"error": f"no internal endpoint {request.method} {path}"}, 404)
        return json_response({"enabled": self.throttle.enabled})

    async def start(self) -> None:
        self.platform.spawn(self._ttl_worker())

    # -- helpers -----------------------------------------------------------------------------------

    def _table(self, ctx: RequestContext, name: str) -> Table:
        table = self.store.table(ctx.account_id, ctx.region, _table_name(name))
        if table is None:
            raise tables.not_found()
        return table

    def _write(
        self,
        ctx: RequestContext,
        table: Table,
        key: tuple,
        old: Item | None,
        new: Item | None,
        size: int = 0,
        service: bool = False,
        old_size: int | None = None,
    ) -> None:
        """Store the change old -> new of one item with its index entries and stream record.
        `old_size`: item_size(old), when the caller has it (the size stored with the item)."""
        if old_size is None:
            old_size = item_size(old) if old is not None else 0
        if new is not None and not service and any(index.local for index in table.indexes.values()):
            if (
                size > old_size
                and self.store.collection_size(table, key) - old_size + size > self.collection_limit
            ):
                raise ServiceError("ItemCollectionSizeLimitExceededException", "Collection size exceeded.")
        if new is not None:
            self.store.put(table, key, new, size, exists=old is not None)
        else:
            self.store.delete(table, key)
        self.store.count_change(table, (new is not None) - (old is not None), size - old_size)
        if table.indexes:
            self.store.write_index_entries(table, key, old, new)
        if table.stream_id is not None and old != new:
            self._stream_record(table, old, new, service)
        if "_pitr" in table.meta:
            self.store.record_history(table, key, new, self.clock.now())

    def _stream_record(self, table: Table, old: Item | None, new: Item | None, service: bool) -> None:
        event = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        image = new if new is not None else old
        record: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "event": event,
            "keys": key_attributes(table.key, image),
        }  # type: ignore[arg-type]
        view = table.stream_view
        if view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") and new is not None:
            record["new"] = new
        if view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") and old is not None:
            record["old"] = old
        record["size"] = (
            item_size(record["keys"]) + item_size(record.get("new", {})) + item_size(record.get("old", {}))
        )
        if service:
            record["service"] = True
        self.store.append_stream_record(table.stream_id, self.clock.now(), record)  # type: ignore[arg-type]

    def _write_meter(
        self, meter: Meter, table: Table, old: Item | None, new: Item | None, factor: float = 1
    ) -> None:
        if meter.mode is None:
            return
        size = max(item_size(old) if old else 0, item_size(new) if new else 0)
        indexes = {k: v * factor for k, v in index_write_units(table, old, new).items()}
        meter.add(table, write_units(size) * factor, indexes)

    # -- tables ------------------------------------------------------------------------------------

    def create_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["TableName"]
        tables.check_table_name(name)
        tables.check_key_schema(params["KeySchema"])
        tables.check_definitions(params)
        mode = tables.check_billing(params)
        tables.check_indexes(params, mode)
        if self.store.table(ctx.account_id, ctx.region, name) is not None:
            raise ServiceError("ResourceInUseException", f"Table already exists: {name}")
        now = self.clock.now()
        meta = tables.new_table_meta(ctx, params, mode, now)
        spec = params.get("StreamSpecification")
        if spec and spec.get("StreamEnabled"):
            self._enable_stream(ctx, meta, name, spec, now)
        table = self.store.create_table(ctx.account_id, ctx.region, name, meta)
        description = tables.describe(self.store, table, "CREATING")
        for index in description.get("GlobalSecondaryIndexes", ()):
            index["IndexStatus"] = "CREATING"
        return {"TableDescription": description}

    def _enable_stream(
        self, ctx: RequestContext, meta: dict[str, Any], name: str, spec: dict[str, Any], now: float
    ) -> None:
        view = spec.get("StreamViewType")
        if not view:
            raise validation(
                "One or more parameter values were invalid: StreamViewType must be specified when StreamEnabled is true"
            )
        label = tables.stream_label(now)
        arn = ctx.arn("dynamodb", f"table/{name}/stream/{label}")
        stream_id = self.db.execute(
            "INSERT INTO ddb_streams (account, region, table_name, arn, label, view_type, key_schema, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (ctx.account_id, ctx.region, name, arn, label, view, json.dumps(meta["KeySchema"]), now),
        ).lastrowid
        meta["_stream"] = {"id": stream_id, "view": view}
        meta["_latest_stream"] = {"label": label, "arn": arn}

    def _disable_stream(self, meta: dict[str, Any], now: float) -> None:
        stream = meta.pop("_stream", None)
        if stream:
            self.db.execute("UPDATE ddb_streams SET disabled = ? WHERE id = ?", (now, stream["id"]))

    def describe_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.store.table(ctx.account_id, ctx.region, _table_name(params["TableName"]))
        if table is None:
            raise tables.not_found(f": Table: {params['TableName']} not found")
        return {"Table": tables.describe(self.store, table)}

    def list_tables(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("Limit", 100)
        names = self.store.tables(
            ctx.account_id, ctx.region, params.get("ExclusiveStartTableName"), limit + 1
        )
        result: dict[str, Any] = {"TableNames": names[:limit]}
        if len(names) > limit:
            result["LastEvaluatedTableName"] = names[limit - 1]
        return result

    def delete_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.store.table(ctx.account_id, ctx.region, _table_name(params["TableName"]))
        if table is None:
            raise tables.not_found(f": Table: {params['TableName']} not found")
        if table.meta.get("DeletionProtectionEnabled"):
            raise validation(
                "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first."
            )
        description = tables.describe(self.store, table, "DELETING")
        self._disable_stream(dict(table.meta), self.clock.now())
        self.store.delete_table(table)
        return {"TableDescription": description}

    def update_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(ctx, params["TableName"])
        meta = json.loads(json.dumps(table.meta))
        now = self.clock.now()
        changes = [k for k in params if k != "TableName"]
        if not changes:
            raise validation(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates "
                "or SSESpecification or ReplicaUpdates is required"
            )
        self._update_billing(meta, params, now)
        for definition in params.get("AttributeDefinitions") or ():
            known = {d["AttributeName"]: d for d in meta["AttributeDefinitions"]}
            if definition["AttributeName"] not in known:
                meta["AttributeDefinitions"].append(definition)
            elif known[definition["AttributeName"]]["AttributeType"] != definition["AttributeType"]:
                raise invalid_parameter(f"Cannot change the type of attribute {definition['AttributeName']}")
        if "DeletionProtectionEnabled" in params:
            meta["DeletionProtectionEnabled"] = params["DeletionProtectionEnabled"]
        if params.get("TableClass"):
            meta["TableClass"] = params["TableClass"]
        new_indexes = self._update_indexes(table, meta, params.get("GlobalSecondaryIndexUpdates") or [])
        spec = params.get("StreamSpecification")
        if spec is not None:
            self._update_stream(ctx, table, meta, spec, now)
        self.store.save_meta(ctx.account_id, ctx.region, table.name, table.id, meta)
        updated = self.store.table(ctx.account_id, ctx.region, table.name)
        for name in new_indexes:
            self.store.backfill_index(updated, updated.indexes[name])  # type: ignore[union-attr]
        description = tables.describe(self.store, updated, "UPDATING")  # type: ignore[arg-type]
        for index in description.get("GlobalSecondaryIndexes", ()):
            if index["IndexName"] in new_indexes:
                index["IndexStatus"] = "CREATING"
        return {"TableDescription": description}

    def _update_billing(self, meta: dict[str, Any], params: dict[str, Any], now: float) -> None:
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

    def _update_indexes(self, table: Table, meta: dict[str, Any], updates: list[dict[str, Any]]) -> list[str]:
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
                if len(gsis) >= tables.MAX_GSIS:
                    raise validation(
                        f"One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of {tables.MAX_GSIS}"
                    )
                tables.check_key_schema(index["KeySchema"])
                tables.check_projection(index)
                tables.check_gsi_throughput(index, meta["BillingMode"])
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
                entry["_id"] = self.store.new_index_id(table.id, name)
                gsis.append(entry)
                created.append(name)
            elif "Update" in update:
                found = next((g for g in gsis if g["IndexName"] == update["Update"]["IndexName"]), None)
                if found is None:
                    raise tables.not_found(
                        f": Table: {table.name} index: {update['Update']['IndexName']} not found"
                    )
                found["ProvisionedThroughput"] = update["Update"]["ProvisionedThroughput"]
            elif "Delete" in update:
                name = update["Delete"]["IndexName"]
                found = next((g for g in gsis if g["IndexName"] == name), None)
                if found is None:
                    raise tables.not_found(f": Table: {table.name} index: {name} not found")
                gsis.remove(found)
                self.store.drop_index_entries(found["_id"])
        if not gsis:
            meta.pop("GlobalSecondaryIndexes")
        return created

    def _update_stream(
        self, ctx: RequestContext, table: Table, meta: dict[str, Any], spec: dict[str, Any], now: float
    ) -> None:
        if spec.get("StreamEnabled"):
            if meta.get("_stream"):
                raise validation(f"Table already has an enabled stream: TableName: {table.name}")
            self._enable_stream(ctx, meta, table.name, spec, now)
        else:
            if not meta.get("_stream"):
                raise validation("Table already has no stream enabled")  # nothing to disable
            self._disable_stream(meta, now)

    # tags

    def _table_by_arn(self, ctx: RequestContext, arn: str) -> Table:
        prefix = ctx.arn("dynamodb", "table/")
        name = arn[len(prefix) :] if arn.startswith(prefix) else ""
        table = self.store.table(ctx.account_id, ctx.region, name) if "/" not in name else None
        if table is None:
            raise ServiceError(
                "ResourceNotFoundException", f"Requested resource not found: ResourcArn: {arn} not found"
            )
        return table

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table_by_arn(ctx, params["ResourceArn"])
        meta = dict(table.meta)
        tags = {t["Key"]: t["Value"] for t in meta.get("Tags", [])}
        tags.update({t["Key"]: t["Value"] for t in params["Tags"]})
        if len(tags) > 50:
            raise validation(
                "One or more parameter values were invalid: The number of tags exceeds the limit of 50"
            )
        meta["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        self.store.save_meta(ctx.account_id, ctx.region, table.name, table.id, meta)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table_by_arn(ctx, params["ResourceArn"])
        meta = dict(table.meta)
        meta["Tags"] = [t for t in meta.get("Tags", []) if t["Key"] not in set(params["TagKeys"])]
        self.store.save_meta(ctx.account_id, ctx.region, table.name, table.id, meta)
        return {}

    def list_tags_of_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table_by_arn(ctx, params["ResourceArn"])
        return {"Tags": table.meta.get("Tags", [])}

    # resource-based policies (evaluated by the policy engine through authorization_resource)

    def put_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table_by_arn(ctx, params["ResourceArn"])
        try:
            document = json.loads(params["Policy"])
            if not isinstance(document, dict) or "Statement" not in document:
                raise ValueError(document)
        except ValueError:
            raise validation("Invalid policy document") from None
        if len(params["Policy"].encode()) > 20 * 1024:
            raise ServiceError(
                "LimitExceededException", "Policy size exceeds the maximum allowed size of 20 KB"
            )
        meta = dict(table.meta)
        self._check_policy_revision(meta, params, required=False)
        revision = str(int(self.clock.now() * 1000))
        meta["_policy"] = {"Policy": params["Policy"], "RevisionId": revision}
        self.store.save_meta(ctx.account_id, ctx.region, table.name, table.id, meta)
        return {"RevisionId": revision}

    def get_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table_by_arn(ctx, params["ResourceArn"])
        policy = table.meta.get("_policy")
        if policy is None:
            raise _policy_not_found(params["ResourceArn"])
        return dict(policy)

    def delete_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table_by_arn(ctx, params["ResourceArn"])
        meta = dict(table.meta)
        self._check_policy_revision(meta, params, required=True)
        meta.pop("_policy")
        self.store.save_meta(ctx.account_id, ctx.region, table.name, table.id, meta)
        return {"RevisionId": str(int(self.clock.now() * 1000))}

    @staticmethod
    def _check_policy_revision(meta: dict[str, Any], params: dict[str, Any], required: bool) -> None:
        current = meta.get("_policy")
        if current is None and (required or params.get("ExpectedRevisionId")):
            raise _policy_not_found(params["ResourceArn"])
        expected = params.get("ExpectedRevisionId")
        if expected is not None and current is not None and expected != current["RevisionId"]:
            raise ServiceError(
                "PolicyNotFoundException",
                "Resource-based policy not found for the provided ResourceArn: the revision id provided in the "
                "request doesn't match the current revision",
            )

    def authorization_resource(self, ctx: RequestContext, arn: str) -> Any:
        """The policy engine's view of a table (or its index or stream): owner, resource policy, tags."""
        from overcast.policy.enforcement import ResourcePolicy

        parts = arn.split(":", 5)
        if len(parts) < 6 or parts[2] != "dynamodb" or not parts[5].startswith("table/"):
            return None
        region, account, name = parts[3], parts[4], parts[5].split("/")[1]
        table = self.store.table(account, region, name)
        if table is None:
            return None
        policy = table.meta.get("_policy")
        tags = {t["Key"]: t["Value"] for t in table.meta.get("Tags", [])}
        return ResourcePolicy(account, policy["Policy"] if policy else None, tags)

    # TTL settings

    def update_time_to_live(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(ctx, params["TableName"])
        spec = params["TimeToLiveSpecification"]
        current = table.ttl_attribute
        if spec["Enabled"]:
            if current is not None:
                raise validation("TimeToLive is already enabled")
            self.store.set_ttl_attribute(table, spec["AttributeName"], self.clock.now())
        else:
            if current is None:
                raise validation("TimeToLive is already disabled")
            if current != spec["AttributeName"]:
                raise validation(
                    "TimeToLive is active on a different AttributeName: current AttributeName is " + current
                )
            self.store.set_ttl_attribute(table, None, self.clock.now())
        return {
            "TimeToLiveSpecification": {"Enabled": spec["Enabled"], "AttributeName": spec["AttributeName"]}
        }

    def describe_time_to_live(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(ctx, params["TableName"])
        if table.ttl_attribute is None:
            return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
        return {
            "TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": table.ttl_attribute}
        }

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

    # -- single items ------------------------------------------------------------------------------

    def put_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(ctx, params["TableName"])
        _check_return_values(params, ("NONE", "ALL_OLD"))
        placeholders = _placeholders(params)
        condition = _condition(params, placeholders, legacy_name="Expected")
        placeholders.check_all_used()
        item = canonical_item(params["Item"])
        key = key_from_item(table.key, item)
        check_index_keys(table, item)
        size = check_item_size(item)
        found = self.store.get(table, key)
        old = found[0] if found else None
        if condition is not None and not evaluate(old or {}, condition):
            raise conditional_failed(old, params)
        self._write(ctx, table, key, old, item, size, old_size=found[1] if found else 0)
        meter = Meter(params.get("ReturnConsumedCapacity"))
        self._write_meter(meter, table, old, item)
        result: dict[str, Any] = {}
        if params.get("ReturnValues") == "ALL_OLD" and old is not None:
            result["Attributes"] = old
        result.update(self._collection_metrics(params, table, key, item))
        return meter.into(result)

    def get_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(ctx, params["TableName"])
        placeholders = _placeholders(params)
        projection = _projection(params, placeholders)
        placeholders.check_all_used()
        found = self.store.get(table, key_from_key(table.key, params["Key"]))
        meter = Meter(params.get("ReturnConsumedCapacity"))
        meter.add(table, read_units(found[1] if found else 0, bool(params.get("ConsistentRead"))))
        result: dict[str, Any] = {}
        if found is not None:
            result["Item"] = project(found[0], projection) if projection else found[0]
        return meter.into(result)

    def delete_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(ctx, params["TableName"])
        _check_return_values(params, ("NONE", "ALL_OLD"))
        placeholders = _placeholders(params)
        condition = _condition(params, placeholders, legacy_name="Expected")
        placeholders.check_all_used()
        key = key_from_key(table.key, params["Key"])
        found = self.store.get(table, key)
        old = found[0] if found else None
        if condition is not None and not evaluate(old or {}, condition):
            raise conditional_failed(old, params)
        if old is not None:
            self._write(ctx, table, key, old, None)
        meter = Meter(params.get("ReturnConsumedCapacity"))
        self._write_meter(meter, table, old, None)
        result: dict[str, Any] = {}
        if params.get("ReturnValues") == "ALL_OLD" and old is not None:
            result["Attributes"] = old
        result.update(self._collection_metrics(params, table, key, canonical_item(params["Key"])))
        return meter.into(result)

    def update_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(ctx, params["TableName"])
        _check_return_values(params, ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"))
        placeholders = _placeholders(params)
        legacy.refuse_mixing(
            params, ("AttributeUpdates", "Expected"), ("UpdateExpression", "ConditionExpression")
        )
        if params.get("UpdateExpression") is not None:
            sections = parse_update(params["UpdateExpression"], placeholders)
        else:
            sections = legacy.attribute_updates(params.get("AttributeUpdates") or {})
        condition = _condition(params, placeholders, legacy_name="Expected")
        placeholders.check_all_used()
        key_item = canonical_item(params["Key"])
        key = key_from_key(table.key, key_item)
        updated_paths = paths_in_update(sections)
        for path in updated_paths:
            if path[0] in table.key.names:
                raise invalid_parameter(
                    f"Cannot update attribute {path[0]}. This attribute is part of the key"
                )
        found = self.store.get(table, key)
        old = found[0] if found else None
        if condition is not None and not evaluate(old or {}, condition):
            raise conditional_failed(old, params)
        new = (
            apply_update(old if old is not None else key_item, sections)
            if sections
            else dict(old or key_item)
        )
        check_index_keys(table, new)
        size = check_item_size(new)
        self._write(ctx, table, key, old, new, size)
        meter = Meter(params.get("ReturnConsumedCapacity"))
        self._write_meter(meter, table, old, new)
        result = _update_return(params.get("ReturnValues"), old, new, updated_paths)
        result.update(self._collection_metrics(params, table, key, new))
        return meter.into(result)

    # -- many items --------------------------------------------------------------------------------

    def query(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(ctx, params["TableName"])
        return run_query(table, self.store, params)

    def scan(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._table(ctx, params["TableName"])
        return run_scan(table, self.store, params)

    def batch_get_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        requests = params["RequestItems"]
        if sum(len(r["Keys"]) for r in requests.values()) > MAX_BATCH_GET:
            raise validation("Too many items requested for the BatchGetItem call")
        meter = Meter(params.get("ReturnConsumedCapacity"))
        plans = []
        for name, request in requests.items():
            table = self._table(ctx, name)
            placeholders = _placeholders(request)
            projection = _projection(request, placeholders)
            placeholders.check_all_used()
            keys = [key_from_key(table.key, k) for k in request["Keys"]]
            if len(set(keys)) != len(keys):
                raise validation("Provided list of item keys contains duplicates")
            plans.append((name, table, request, projection, keys))
        responses: dict[str, list] = {}
        unprocessed: dict[str, dict] = {}
        total = 0
        for name, table, request, projection, keys in plans:
            found_items = responses.setdefault(name, [])
            for position, key in enumerate(keys):
                if total >= BATCH_GET_BYTES:
                    rest = dict(request, Keys=request["Keys"][position:])
                    unprocessed[name] = rest
                    break
                found = self.store.get(table, key)
                meter.add(table, read_units(found[1] if found else 0, bool(request.get("ConsistentRead"))))
                if found is not None:
                    total += found[1]
                    found_items.append(project(found[0], projection) if projection else found[0])
        return meter.into({"Responses": responses, "UnprocessedKeys": unprocessed}, single=False)

    def batch_write_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        requests = params["RequestItems"]
        if sum(len(r) for r in requests.values()) > MAX_BATCH_WRITE:
            raise validation(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must "
                "satisfy constraint: [Member must have length less than or equal to 25, Member must have length "
                "greater than or equal to 1]"
            )
        writes = []
        for name, entries in requests.items():
            table = self._table(ctx, name)
            seen = set()
            for entry in entries:
                writes.append(self._batch_write_plan(table, entry))
                if writes[-1][1] in seen:
                    raise validation("Provided list of item keys contains duplicates")
                seen.add(writes[-1][1])
        meter = Meter(params.get("ReturnConsumedCapacity"))
        metrics: dict[str, list] = {}
        for table, key, item, size in writes:
            found = self.store.get(table, key)
            old = found[0] if found else None
            if item is not None or old is not None:
                self._write(ctx, table, key, old, item, size)
            self._write_meter(meter, table, old, item)
            entry = self._collection_metrics(params, table, key, item or old)
            if entry:
                metrics.setdefault(table.name, []).append(entry["ItemCollectionMetrics"])
        result: dict[str, Any] = {"UnprocessedItems": {}}
        if metrics:
            result["ItemCollectionMetrics"] = metrics
        return meter.into(result, single=False)

    def _collection_metrics(
        self, params: dict[str, Any], table: Table, key: tuple, item: Item | None
    ) -> dict[str, Any]:
        """{"ItemCollectionMetrics": ...} when asked for (SIZE) on a table with local secondary indexes."""
        if params.get("ReturnItemCollectionMetrics") != "SIZE" or item is None:
            return {}
        if not any(index.local for index in table.indexes.values()):
            return {}
        gigabytes = self.store.collection_size(table, key) / GB
        return {
            "ItemCollectionMetrics": {
                "ItemCollectionKey": {table.key.hash_name: item[table.key.hash_name]},
                "SizeEstimateRangeGB": [float(int(gigabytes)), float(int(gigabytes) + 1)],
            }
        }

    def _batch_write_plan(self, table: Table, entry: dict[str, Any]) -> tuple:
        if ("PutRequest" in entry) == ("DeleteRequest" in entry):
            raise validation(
                "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
            )
        if "PutRequest" in entry:
            item = canonical_item(entry["PutRequest"]["Item"])
            key = key_from_item(table.key, item)
            check_index_keys(table, item)
            return table, key, item, check_item_size(item)
        return table, key_from_key(table.key, entry["DeleteRequest"]["Key"]), None, 0

    # -- transactions ------------------------------------------------------------------------------

    def transact_get_items(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        meter = Meter(params.get("ReturnConsumedCapacity"))
        plans = []
        for entry in params["TransactItems"]:
            get = entry["Get"]
            table = self._table(ctx, get["TableName"])
            placeholders = _placeholders(get)
            projection = _projection(get, placeholders)
            placeholders.check_all_used()
            plans.append((table, key_from_key(table.key, get["Key"]), projection))
        if len({(t.id, k) for t, k, _ in plans}) != len(plans):
            raise validation("Transaction request cannot include multiple operations on one item")
        responses = []
        for table, key, projection in plans:
            found = self.store.get(table, key)
            meter.add(table, read_units(found[1] if found else 0, True) * 2)
            responses.append(
                {"Item": project(found[0], projection) if projection else found[0]} if found else {}
            )
        return meter.into({"Responses": responses}, single=False)

    def transact_write_items(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        token = params.get("ClientRequestToken")
        digest = _digest(params["TransactItems"]) if token else ""
        if token:
            previous = self._previous_transaction(ctx, token, digest)
            if previous is not None:
                return previous
        plans = [self._transaction_plan(ctx, entry) for entry in params["TransactItems"]]
        if len({(p["table"].id, p["key"]) for p in plans}) != len(plans):
            raise validation("Transaction request cannot include multiple operations on one item")
        if sum(p.get("size", 0) for p in plans) > MAX_TRANSACTION_BYTES:
            raise validation("Transaction request cannot be larger than 4 MB")
        reasons, failed = [], False
        for plan in plans:
            found = self.store.get(plan["table"], plan["key"])
            plan["old"] = found[0] if found else None
            if plan["condition"] is not None and not evaluate(plan["old"] or {}, plan["condition"]):
                failed = True
                reason: dict[str, Any] = {
                    "Code": "ConditionalCheckFailed",
                    "Message": "The conditional request failed",
                }
                if (
                    plan["old"] is not None
                    and plan["spec"].get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
                ):
                    reason["Item"] = plan["old"]
                reasons.append(reason)
            else:
                reasons.append({"Code": "None"})
        if failed:
            codes = ", ".join(r["Code"] for r in reasons)
            raise ServiceError(
                "TransactionCanceledException",
                f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
                CancellationReasons=reasons,
            )
        meter = Meter(params.get("ReturnConsumedCapacity"))
        for plan in plans:
            self._apply_transaction_write(ctx, plan, meter)
        result = meter.into({}, single=False)
        if token:
            self.db.execute(
                "INSERT OR REPLACE INTO ddb_tx_tokens (account, region, token, digest, created, response) VALUES (?, ?, ?, ?, ?, ?)",
                (ctx.account_id, ctx.region, token, digest, self.clock.now(), json.dumps(result)),
            )
        return result

    def _previous_transaction(self, ctx: RequestContext, token: str, digest: str) -> dict[str, Any] | None:
        row = self.db.one(
            "SELECT digest, response FROM ddb_tx_tokens WHERE account = ? AND region = ? AND token = ? AND created > ?",
            (ctx.account_id, ctx.region, token, self.clock.now() - TOKEN_SECONDS),
        )
        if row is None:
            return None
        if row[0] != digest:
            raise ServiceError(
                "IdempotentParameterMismatchException",
                "The request uses the same client token as a previous, but non-identical request.",
            )
        return json.loads(row[1])

    def _transaction_plan(self, ctx: RequestContext, entry: dict[str, Any]) -> dict[str, Any]:
        if len(entry) != 1:
            raise validation("TransactItems can only contain one of Check, Put, Update or Delete")
        ((kind, spec),) = entry.items()
        table = self._table(ctx, spec["TableName"])
        placeholders = _placeholders(spec)
        condition = (
            parse_condition(spec["ConditionExpression"], "ConditionExpression", placeholders)
            if spec.get("ConditionExpression")
            else None
        )
        plan: dict[str, Any] = {"kind": kind, "spec": spec, "table": table, "condition": condition}
        if kind == "Put":
            item = canonical_item(spec["Item"])
            plan["key"], plan["item"] = key_from_item(table.key, item), item
            check_index_keys(table, item)
            plan["size"] = check_item_size(item)
        else:
            key_item = canonical_item(spec["Key"])
            plan["key"], plan["key_item"] = key_from_key(table.key, key_item), key_item
        if kind == "Update":
            plan["sections"] = parse_update(spec["UpdateExpression"], placeholders)
            for path in paths_in_update(plan["sections"]):
                if path[0] in table.key.names:
                    raise invalid_parameter(
                        f"Cannot update attribute {path[0]}. This attribute is part of the key"
                    )
        if kind == "ConditionCheck" and condition is None:
            raise validation(
                "The ConditionExpression must be specified for ConditionCheck"
            )  # model requires it
        placeholders.check_all_used()
        return plan

    def _apply_transaction_write(self, ctx: RequestContext, plan: dict[str, Any], meter: Meter) -> None:
        table, key, old, kind = plan["table"], plan["key"], plan["old"], plan["kind"]
        if kind == "ConditionCheck":  # billed as a transactional write of the checked item
            meter.add(table, write_units(item_size(old) if old else 0) * 2)
            return
        if kind == "Put":
            new, size = plan["item"], plan["size"]
        elif kind == "Delete":
            new, size = None, 0
        else:
            new = apply_update(old if old is not None else plan["key_item"], plan["sections"])
            check_index_keys(table, new)
            size = check_item_size(new)
        if new is not None or old is not None:
            self._write(ctx, table, key, old, new, size)
        self._write_meter(meter, table, old, new, factor=2)

    # -- TTL worker --------------------------------------------------------------------------------

    async def _ttl_worker(self) -> None:
        while True:
            try:
                self.sweep_expired()
            except Exception:  # a sweep that fails must not stop later ones
                log.exception("TTL sweep failed")
            await self.clock.wait_for_change(1.0)

    def sweep_expired(self) -> int:
        """Delete items whose TTL passed (plus the configured delay), as the service: stream REMOVE records."""
        now = self.clock.now()
        deleted = 0
        for account, region, name in self.store.ttl_tables():
            with self.db.transaction():
                table = self.store.table(account, region, name)
                if table is None:
                    continue
                # AWS ignores expiry times more than five years in the past.
                for key in self.store.expired(table, now - self.ttl_delay, now - 5 * 365 * 86400, 1000):
                    found = self.store.get(table, tuple(key))
                    if found is not None:
                        self._write(None, table, tuple(key), found[0], None, service=True)  # type: ignore[arg-type]
                        deleted += 1
        return deleted


# -- request helpers -----------------------------------------------------------------------------------


def _policy_not_found(arn: str) -> ServiceError:
    return ServiceError(
        "PolicyNotFoundException", f"Resource-based policy not found for the provided ResourceArn: {arn}"
    )


def _table_name(name: str) -> str:
    """TableName may also be a table ARN."""
    if name.startswith("arn:"):
        return name.rsplit("table/", 1)[-1]
    return name


def _placeholders(params: dict[str, Any]) -> Placeholders:
    names, values = params.get("ExpressionAttributeNames"), params.get("ExpressionAttributeValues")
    if values is not None and not values:
        raise validation("ExpressionAttributeValues must not be empty")
    if names is not None and not names:
        raise validation("ExpressionAttributeNames must not be empty")
    expressions = (
        "ConditionExpression",
        "UpdateExpression",
        "ProjectionExpression",
        "FilterExpression",
        "KeyConditionExpression",
    )
    if not any(params.get(e) is not None for e in expressions):
        if names is not None:
            raise validation("ExpressionAttributeNames can only be specified when using expressions")
        if values is not None:
            raise validation("ExpressionAttributeValues can only be specified when using expressions")
    return Placeholders(names, values)


def _condition(params: dict[str, Any], placeholders: Placeholders, legacy_name: str) -> tuple | None:
    legacy.refuse_mixing(params, (legacy_name,), ("ConditionExpression",))
    if params.get("ConditionExpression") is not None:
        return parse_condition(params["ConditionExpression"], "ConditionExpression", placeholders)
    if params.get(legacy_name):
        return legacy.conditions(params[legacy_name], params.get("ConditionalOperator"))
    return None


def _projection(params: dict[str, Any], placeholders: Placeholders) -> list | None:
    legacy.refuse_mixing(params, ("AttributesToGet",), ("ProjectionExpression",))
    if params.get("ProjectionExpression") is not None:
        return parse_projection(params["ProjectionExpression"], placeholders)
    if params.get("AttributesToGet"):
        return legacy.attributes_to_get(params["AttributesToGet"])
    return None


def _check_return_values(params: dict[str, Any], allowed: tuple[str, ...]) -> None:
    value = params.get("ReturnValues")
    if value is not None and value not in allowed:
        raise validation("Return values set to invalid value")


def _update_return(mode: str | None, old: Item | None, new: Item, paths: list) -> dict[str, Any]:
    if mode == "ALL_OLD" and old:
        return {"Attributes": old}
    if mode == "ALL_NEW":
        return {"Attributes": new}
    if mode == "UPDATED_OLD" and old:
        attributes = project(old, paths)
        return {"Attributes": attributes} if attributes else {}
    if mode == "UPDATED_NEW":
        attributes = project(new, paths)
        return {"Attributes": attributes} if attributes else {}
    return {}


def _digest(value: Any) -> str:
    return hashlib.sha256(dump_item({"v": value}).encode()).hexdigest()
