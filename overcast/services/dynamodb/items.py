"""DynamoDB single-item operations: PutItem, GetItem, DeleteItem, UpdateItem (expressions and their legacy
forms, conditions, ReturnValues, consumed capacity, item collection metrics)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.dynamodb import legacy
from overcast.services.dynamodb.capacity import Meter, read_units
from overcast.services.dynamodb.expressions import evaluate, parse_update, paths_in_update, project
from overcast.services.dynamodb.parameters import (
    check_return_values,
    condition,
    conditional_failed,
    placeholders,
    projection,
    update_return,
)
from overcast.services.dynamodb.store import check_index_keys, key_from_item, key_from_key
from overcast.services.dynamodb.updates import apply_update
from overcast.services.dynamodb.values import canonical_item, check_item_size, invalid_parameter

if TYPE_CHECKING:
    from overcast.services.dynamodb.provider import DynamoDBProvider


class ItemOperations(Operations):
    service: DynamoDBProvider

    def put_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        table = service.table(ctx, params["TableName"])
        check_return_values(params, ("NONE", "ALL_OLD"))
        names = placeholders(params)
        check = condition(params, names, legacy_name="Expected")
        names.check_all_used()
        item = canonical_item(params["Item"])
        key = key_from_item(table.key, item)
        check_index_keys(table, item)
        size = check_item_size(item)
        found = service.store.get(table, key)
        old, old_size = found if found else (None, 0)
        if check is not None and not evaluate(old or {}, check):
            raise conditional_failed(old, params)
        service.write(table, key, old, item, size, old_size=old_size)
        meter = Meter(params.get("ReturnConsumedCapacity"))
        service.write_meter(meter, table, old, item, sizes=(old_size, size))
        result: dict[str, Any] = {}
        if params.get("ReturnValues") == "ALL_OLD" and old is not None:
            result["Attributes"] = old
        result.update(service.collection_metrics(params, table, key, item))
        return meter.into(result)

    def get_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        table = service.table(ctx, params["TableName"])
        names = placeholders(params)
        projected = projection(params, names)
        names.check_all_used()
        found = service.store.get(table, key_from_key(table.key, params["Key"]))
        meter = Meter(params.get("ReturnConsumedCapacity"))
        meter.add(table, read_units(found[1] if found else 0, bool(params.get("ConsistentRead"))))
        result: dict[str, Any] = {}
        if found is not None:
            result["Item"] = project(found[0], projected) if projected else found[0]
        return meter.into(result)

    def delete_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        table = service.table(ctx, params["TableName"])
        check_return_values(params, ("NONE", "ALL_OLD"))
        names = placeholders(params)
        check = condition(params, names, legacy_name="Expected")
        names.check_all_used()
        key = key_from_key(table.key, params["Key"])
        found = service.store.get(table, key)
        old = found[0] if found else None
        if check is not None and not evaluate(old or {}, check):
            raise conditional_failed(old, params)
        if old is not None:
            service.write(table, key, old, None)
        meter = Meter(params.get("ReturnConsumedCapacity"))
        service.write_meter(meter, table, old, None)
        result: dict[str, Any] = {}
        if params.get("ReturnValues") == "ALL_OLD" and old is not None:
            result["Attributes"] = old
        result.update(service.collection_metrics(params, table, key, canonical_item(params["Key"])))
        return meter.into(result)

    def update_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        table = service.table(ctx, params["TableName"])
        check_return_values(params, ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"))
        names = placeholders(params)
        legacy.refuse_mixing(
            params, ("AttributeUpdates", "Expected"), ("UpdateExpression", "ConditionExpression")
        )
        if params.get("UpdateExpression") is not None:
            sections = parse_update(params["UpdateExpression"], names)
        else:
            sections = legacy.attribute_updates(params.get("AttributeUpdates") or {})
        check = condition(params, names, legacy_name="Expected")
        names.check_all_used()
        key_item = canonical_item(params["Key"])
        key = key_from_key(table.key, key_item)
        updated_paths = paths_in_update(sections)
        for path in updated_paths:
            if path[0] in table.key.names:
                raise invalid_parameter(
                    f"Cannot update attribute {path[0]}. This attribute is part of the key"
                )
        found = service.store.get(table, key)
        old = found[0] if found else None
        if check is not None and not evaluate(old or {}, check):
            raise conditional_failed(old, params)
        new = (
            apply_update(old if old is not None else key_item, sections)
            if sections
            else dict(old or key_item)
        )
        check_index_keys(table, new)
        size = check_item_size(new)
        old_size = found[1] if found else 0
        service.write(table, key, old, new, size, old_size=old_size)
        meter = Meter(params.get("ReturnConsumedCapacity"))
        service.write_meter(meter, table, old, new, sizes=(old_size, size))
        result = update_return(params.get("ReturnValues"), old, new, updated_paths)
        result.update(service.collection_metrics(params, table, key, new))
        return meter.into(result)
