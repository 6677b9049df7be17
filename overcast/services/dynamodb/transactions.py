"""DynamoDB TransactGetItems and TransactWriteItems: all-or-nothing, with cancellation reasons and client
tokens that make a repeat idempotent for ten minutes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.dynamodb.capacity import Meter, read_units, write_units
from overcast.services.dynamodb.expressions import (
    evaluate,
    parse_condition,
    parse_update,
    paths_in_update,
    project,
)
from overcast.services.dynamodb.parameters import digest, placeholders, projection
from overcast.services.dynamodb.store import check_index_keys, key_from_item, key_from_key
from overcast.services.dynamodb.updates import apply_update
from overcast.services.dynamodb.values import (
    canonical_item,
    check_item_size,
    invalid_parameter,
    item_size,
    validation,
)

if TYPE_CHECKING:
    from overcast.services.dynamodb.provider import DynamoDBProvider

MAX_TRANSACTION_BYTES = 4 * 1024 * 1024


class TransactionOperations(Operations):
    service: DynamoDBProvider

    def transact_get_items(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        meter = Meter(params.get("ReturnConsumedCapacity"))
        plans = []
        for entry in params["TransactItems"]:
            get = entry["Get"]
            table = service.table(ctx, get["TableName"])
            names = placeholders(get)
            projected = projection(get, names)
            names.check_all_used()
            plans.append((table, key_from_key(table.key, get["Key"]), projected))
        if len({(t.id, k) for t, k, _ in plans}) != len(plans):
            raise validation("Transaction request cannot include multiple operations on one item")
        responses = []
        for table, key, projected in plans:
            found = service.store.get(table, key)
            meter.add(table, read_units(found[1] if found else 0, True) * 2)
            responses.append(
                {"Item": project(found[0], projected) if projected else found[0]} if found else {}
            )
        return meter.into({"Responses": responses}, single=False)

    def transact_write_items(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        token = params.get("ClientRequestToken")
        request_digest = digest(params["TransactItems"]) if token else ""
        if token:
            previous = service.previous_transaction(ctx, token, request_digest)
            if previous is not None:
                return previous
        plans = [self._plan(ctx, entry) for entry in params["TransactItems"]]
        if len({(p["table"].id, p["key"]) for p in plans}) != len(plans):
            raise validation("Transaction request cannot include multiple operations on one item")
        if sum(p.get("size", 0) for p in plans) > MAX_TRANSACTION_BYTES:
            raise validation("Transaction request cannot be larger than 4 MB")
        reasons, failed = [], False
        for plan in plans:
            found = service.store.get(plan["table"], plan["key"])
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
            self._apply(plan, meter)
        result = meter.into({}, single=False)
        if token:
            service.remember_transaction(ctx, token, request_digest, result)
        return result

    def _plan(self, ctx: RequestContext, entry: dict[str, Any]) -> dict[str, Any]:
        if len(entry) != 1:
            raise validation("TransactItems can only contain one of Check, Put, Update or Delete")
        ((kind, spec),) = entry.items()
        table = self.service.table(ctx, spec["TableName"])
        names = placeholders(spec)
        condition = (
            parse_condition(spec["ConditionExpression"], "ConditionExpression", names)
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
            plan["sections"] = parse_update(spec["UpdateExpression"], names)
            for path in paths_in_update(plan["sections"]):
                if path[0] in table.key.names:
                    raise invalid_parameter(
                        f"Cannot update attribute {path[0]}. This attribute is part of the key"
                    )
        if kind == "ConditionCheck" and condition is None:
            raise validation(
                "The ConditionExpression must be specified for ConditionCheck"
            )  # model requires it
        names.check_all_used()
        return plan

    def _apply(self, plan: dict[str, Any], meter: Meter) -> None:
        service = self.service
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
            service.write(table, key, old, new, size)
        service.write_meter(meter, table, old, new, factor=2)
