"""DynamoDB BatchGetItem and BatchWriteItem."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.dynamodb.capacity import Meter, read_units
from overcast.services.dynamodb.expressions import project
from overcast.services.dynamodb.parameters import placeholders, projection
from overcast.services.dynamodb.store import Table, check_index_keys, key_from_item, key_from_key
from overcast.services.dynamodb.values import canonical_item, check_item_size, validation

if TYPE_CHECKING:
    from overcast.services.dynamodb.provider import DynamoDBProvider

MAX_BATCH_GET = 100
MAX_BATCH_WRITE = 25
BATCH_GET_BYTES = 16 * 1024 * 1024


class BatchOperations(Operations):
    service: DynamoDBProvider

    def batch_get_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        requests = params["RequestItems"]
        if sum(len(r["Keys"]) for r in requests.values()) > MAX_BATCH_GET:
            raise validation("Too many items requested for the BatchGetItem call")
        meter = Meter(params.get("ReturnConsumedCapacity"))
        plans = []
        for name, request in requests.items():
            table = service.table(ctx, name)
            names = placeholders(request)
            projected = projection(request, names)
            names.check_all_used()
            keys = [key_from_key(table.key, k) for k in request["Keys"]]
            if len(set(keys)) != len(keys):
                raise validation("Provided list of item keys contains duplicates")
            plans.append((name, table, request, projected, keys))
        responses: dict[str, list] = {}
        unprocessed: dict[str, dict] = {}
        total = 0
        for name, table, request, projected, keys in plans:
            found_items = responses.setdefault(name, [])
            for position, key in enumerate(keys):
                if total >= BATCH_GET_BYTES:
                    unprocessed[name] = dict(request, Keys=request["Keys"][position:])
                    break
                found = service.store.get(table, key)
                meter.add(table, read_units(found[1] if found else 0, bool(request.get("ConsistentRead"))))
                if found is not None:
                    total += found[1]
                    found_items.append(project(found[0], projected) if projected else found[0])
        return meter.into({"Responses": responses, "UnprocessedKeys": unprocessed}, single=False)

    def batch_write_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        requests = params["RequestItems"]
        if sum(len(r) for r in requests.values()) > MAX_BATCH_WRITE:
            raise validation(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must "
                "satisfy constraint: [Member must have length less than or equal to 25, Member must have length "
                "greater than or equal to 1]"
            )
        writes = []
        for name, entries in requests.items():
            table = service.table(ctx, name)
            seen = set()
            for entry in entries:
                writes.append(_write_plan(table, entry))
                if writes[-1][1] in seen:
                    raise validation("Provided list of item keys contains duplicates")
                seen.add(writes[-1][1])
        meter = Meter(params.get("ReturnConsumedCapacity"))
        metrics: dict[str, list] = {}
        for table, key, item, size in writes:
            found = service.store.get(table, key)
            old, old_size = found if found else (None, 0)
            if item is not None or old is not None:
                service.write(table, key, old, item, size, old_size=old_size)
            service.write_meter(meter, table, old, item, sizes=(old_size, size if item is not None else 0))
            entry = service.collection_metrics(params, table, key, item or old)
            if entry:
                metrics.setdefault(table.name, []).append(entry["ItemCollectionMetrics"])
        result: dict[str, Any] = {"UnprocessedItems": {}}
        if metrics:
            result["ItemCollectionMetrics"] = metrics
        return meter.into(result, single=False)


def _write_plan(table: Table, entry: dict[str, Any]) -> tuple:
    if ("PutRequest" in entry) == ("DeleteRequest" in entry):
        raise validation(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
        )
    if "PutRequest" in entry:
        item = canonical_item(entry["PutRequest"]["Item"])
        if any(name not in item for name in table.key.names):  # BatchWriteItem words it as GetItem does
            raise validation("The provided key element does not match the schema")
        key = key_from_item(table.key, item)
        check_index_keys(table, item)
        return table, key, item, check_item_size(item)
    return table, key_from_key(table.key, entry["DeleteRequest"]["Key"]), None, 0
