"""DynamoDB: tables, items with expressions, Query/Scan, batches, transactions, PartiQL, backups, TTL, global
tables, Kinesis destinations, exports and imports, and the write side of streams.

The operations live in families (tables.py, tags.py, policies.py, items.py, queries.py, batches.py,
transactions.py, statements.py, backups.py, ttl.py, insights.py, kinesis.py, exports.py, imports.py; replicas.py
serves UpdateTable's ReplicaUpdates); what they share is here: finding a table, writing an item with its index
entries, stream record, recovery history, Kinesis record and replicas' copies, metering, transaction tokens.
The TTL sweeper is workers.py's.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import ServiceProvider
from overcast.services.dynamodb import exports, imports, kinesis, metrics, replicas, workers
from overcast.services.dynamodb.backups import BackupOperations
from overcast.services.dynamodb.batches import BatchOperations
from overcast.services.dynamodb.capacity import Meter, index_write_units, write_units
from overcast.services.dynamodb.definitions import not_found
from overcast.services.dynamodb.insights import ContributorInsightsOperations
from overcast.services.dynamodb.items import ItemOperations
from overcast.services.dynamodb.parameters import table_name
from overcast.services.dynamodb.policies import PolicyOperations
from overcast.services.dynamodb.queries import QueryOperations
from overcast.services.dynamodb.statements import PartiqlOperations
from overcast.services.dynamodb.store import Store, Table, key_attributes
from overcast.services.dynamodb.tables import TableOperations
from overcast.services.dynamodb.tags import TagOperations
from overcast.services.dynamodb.throttling import READS, WRITES, Throttle, table_names
from overcast.services.dynamodb.transactions import TransactionOperations
from overcast.services.dynamodb.ttl import TtlOperations
from overcast.services.dynamodb.values import Item, item_size
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.metrics import MetricCounters, MetricPoint

GB = 1024**3
TOKEN_SECONDS = 600  # how long a transaction's ClientRequestToken makes a repeat idempotent


class DynamoDBProvider(ServiceProvider):
    service_name = "dynamodb"
    families = (
        TableOperations,
        TagOperations,
        PolicyOperations,
        ItemOperations,
        QueryOperations,
        BatchOperations,
        TransactionOperations,
        PartiqlOperations,
        BackupOperations,
        TtlOperations,
        ContributorInsightsOperations,
        kinesis.KinesisDestinationOperations,
        exports.ExportOperations,
        imports.ImportOperations,
    )

    def __init__(self, platform: Any) -> None:
        super().__init__(platform)
        self.store = Store(self.db)
        # Seconds after an item's expiry before the TTL sweeper may delete it (AWS: up to a few days).
        self.ttl_delay = float(os.environ.get("OVERCAST_DYNAMODB_TTL_DELAY", "0"))
        throttling = os.environ.get("OVERCAST_DYNAMODB_THROTTLING", "").lower() in ("1", "true", "yes", "on")
        self.throttle = Throttle(throttling)
        # Bytes an item collection (items sharing a partition key) may hold on a table with LSIs (AWS: 10 GB).
        self.collection_limit = int(os.environ.get("OVERCAST_DYNAMODB_ITEM_COLLECTION_LIMIT", str(10 * GB)))
        self.kinesis = kinesis.Forwarder(platform)
        self.metrics = MetricCounters()  # AWS/DynamoDB per table, collected by CloudWatch (metrics.py)

    async def start(self) -> None:
        self.platform.spawn(workers.ttl_worker(self))
        self.platform.spawn(self.kinesis.run())
        self.platform.spawn(exports.resume(self))
        self.platform.spawn(imports.resume(self))

    def reset(self) -> None:
        self.store.forget()
        self.throttle.forget()
        self.metrics = MetricCounters()

    # -- hooks -------------------------------------------------------------------------------------

    def published_metrics(self, minutes: list[float]) -> list[MetricPoint]:
        """AWS/DynamoDB per table for the minute that ended last (metrics.py)."""
        return metrics.published(self.metrics, self.clock.now(), minutes)

    def tagging_request(self, arn: str, add=None, remove=None) -> tuple[str, dict[str, Any]] | None:
        """TagResource / UntagResource of a table."""
        if add is not None:
            return "TagResource", {
                "ResourceArn": arn,
                "Tags": [{"Key": k, "Value": v} for k, v in add.items()],
            }
        return "UntagResource", {"ResourceArn": arn, "TagKeys": list(remove or ())}

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The resource a request acts on, for authorization."""
        name = params.get("TableName") or params.get("ResourceArn") or params.get("StreamArn")
        if not name:
            return None
        return name if name.startswith("arn:") else ctx.arn("dynamodb", f"table/{name}")

    def authorization_resource(self, ctx: RequestContext, arn: str) -> Any:
        """The policy engine's view of a table (or its index or stream): owner, resource policy, tags."""
        from overcast.policy.enforcement import ResourcePolicy

        parsed = parse_arn(arn)
        if parsed is None or parsed.service != "dynamodb" or parsed.resource_type != "table":
            return None
        table = self.store.table(parsed.account, parsed.region, parsed.resource_id.split("/")[0])
        if table is None:
            return None
        policy = table.meta.get("_policy")
        tags = self.tags.lazy(table.arn)
        return ResourcePolicy(parsed.account, policy["Policy"] if policy else None, tags)  # type: ignore[arg-type]

    def handler(self, operation: str):
        found = super().handler(operation)
        if found is None or operation not in READS | WRITES:
            return found
        method = found[0]
        if self.throttle.enabled:
            method = self._throttling(operation, method)
        now = self.clock.now
        return (lambda ctx, params: metrics.metered(self.metrics, now, operation, method, ctx, params)), False

    def _throttling(self, operation: str, method: Any) -> Any:
        return lambda ctx, params: self._throttled(operation, method, ctx, params)

    def _throttled(self, operation: str, method: Any, ctx: RequestContext, params: dict[str, Any]) -> Any:
        """Run a read or write under the provisioned-throughput buckets (see throttling.py)."""
        kind = "read" if operation in READS else "write"
        involved: dict[str, Table] = {}
        for name in table_names(operation, params):
            table = self.store.table(ctx.account_id, ctx.region, table_name(name))
            if table is not None:
                involved[table.name] = table
        now = self.clock.now()
        index = {table_name(params["TableName"]): params.get("IndexName")} if params.get("TableName") else {}
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

    # -- finding tables ----------------------------------------------------------------------------

    def table(self, ctx: RequestContext, name: str) -> Table:
        """The table a TableName (a name or a table ARN) names in the caller's account and region."""
        table = self.store.table(ctx.account_id, ctx.region, table_name(name))
        if table is None:
            raise not_found()
        return table

    def table_by_arn(self, ctx: RequestContext, arn: str) -> Table:
        """The table a ResourceArn names (tags, resource policies): a table's ARN in the caller's account."""
        prefix = ctx.arn("dynamodb", "table/")
        name = arn[len(prefix) :] if arn.startswith(prefix) else ""
        table = self.store.table(ctx.account_id, ctx.region, name) if "/" not in name else None
        if table is None:
            raise ServiceError(
                "ResourceNotFoundException", f"Requested resource not found: ResourcArn: {arn} not found"
            )
        return table

    # -- writing items -----------------------------------------------------------------------------

    def write(
        self,
        table: Table,
        key: tuple,
        old: Item | None,
        new: Item | None,
        size: int = 0,
        service: bool = False,
        old_size: int | None = None,
        replicated: bool = False,
    ) -> None:
        """Store the change old -> new of one item with its index entries, stream record and recovery history,
        and apply it to the table's replicas in other regions (global tables). `service`: made by DynamoDB
        itself (TTL). `old_size`: item_size(old), when the caller has it. `replicated`: a replica's copy."""
        store = self.store
        if old_size is None:
            old_size = item_size(old) if old is not None else 0
        if (
            new is not None
            and not (service or replicated)
            and any(index.local for index in table.indexes.values())
        ):
            if (
                size > old_size
                and store.collection_size(table, key) - old_size + size > self.collection_limit
            ):
                raise ServiceError("ItemCollectionSizeLimitExceededException", "Collection size exceeded.")
        if new is not None:
            store.put(table, key, new, size, exists=old is not None)
        else:
            store.delete(table, key)
        store.count_change(table, (new is not None) - (old is not None), size - old_size)
        if table.indexes:
            store.write_index_entries(table, key, old, new)
        if table.stream_id is not None and old != new:
            self._stream_record(table, old, new, service)
        destination = kinesis.active_destination(table) if "_kinesis" in table.meta else None
        if destination is not None and old != new:
            partition, data = kinesis.record(table, destination, old, new, self.clock.now(), service)
            self.kinesis.send_after_commit(table, destination["StreamArn"], partition, data)
        if "_pitr" in table.meta:
            store.record_history(table, key, new, self.clock.now())
        if "_replicas" in table.meta and not replicated:
            for peer in replicas.peers(store, table):
                found = store.get(peer, key)
                peer_old, peer_size = found if found is not None else (None, 0)
                self.write(peer, key, peer_old, new, size, service, peer_size, replicated=True)

    def _stream_record(self, table: Table, old: Item | None, new: Item | None, service: bool) -> None:
        event = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        image = new if new is not None else old
        record: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "event": event,
            "keys": key_attributes(table.key, image),  # type: ignore[arg-type]
        }
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
        self.store.streams.append(table.stream_id, self.clock.now(), record)  # type: ignore[arg-type]

    @staticmethod
    def write_meter(
        meter: Meter,
        table: Table,
        old: Item | None,
        new: Item | None,
        factor: float = 1,
        sizes: tuple[int, int] | None = None,
    ) -> None:
        """`sizes`: (item_size(old), item_size(new)) when the caller has them (0 for None)."""
        if meter.mode is None:
            return
        if sizes is None:
            sizes = (item_size(old) if old else 0, item_size(new) if new else 0)
        size = max(sizes)
        indexes = {k: v * factor for k, v in index_write_units(table, old, new).items()}
        meter.add(table, write_units(size) * factor, indexes)

    def collection_metrics(
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

    # -- transaction tokens (TransactWriteItems, ExecuteTransaction) ---------------------------------

    def previous_transaction(self, ctx: RequestContext, token: str, digest: str) -> dict[str, Any] | None:
        """The response of the transaction made with this client token in the last ten minutes, if any."""
        found = self.store.transaction(ctx.account_id, ctx.region, token, self.clock.now() - TOKEN_SECONDS)
        if found is None:
            return None
        if found[0] != digest:
            raise ServiceError(
                "IdempotentParameterMismatchException",
                "The request uses the same client token as a previous, but non-identical request.",
            )
        return json.loads(found[1])

    def remember_transaction(
        self, ctx: RequestContext, token: str, digest: str, result: dict[str, Any]
    ) -> None:
        self.store.remember_transaction(
            ctx.account_id, ctx.region, token, digest, self.clock.now(), json.dumps(result)
        )
