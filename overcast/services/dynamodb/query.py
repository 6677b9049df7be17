"""Query and Scan: key conditions as B-tree ranges, pages cut at Limit or 1 MB, filters, projections."""

from __future__ import annotations

import math
from typing import Any

from overcast.services.dynamodb import legacy, parameters
from overcast.services.dynamodb.capacity import Meter
from overcast.services.dynamodb.expressions import Placeholders, evaluate, parse_condition, project
from overcast.services.dynamodb.store import (
    HASH_SPACE,
    Index,
    KeyShape,
    Store,
    Table,
    key_attributes,
    partition_hash,
)
from overcast.services.dynamodb.values import Item, canonical_value, encode_key_value, item_size, validation

PAGE_BYTES = 1024 * 1024
_SORT_OPERATORS = {"=", "<", "<=", ">", ">="}


class _Plan:
    """What Query and Scan share: the table or index read, the filter, the projection, the page."""

    def __init__(self, table: Table, params: dict[str, Any]) -> None:
        self.table = table
        self.params = params
        self.index = _index(table, params.get("IndexName"))
        if self.index is not None and not self.index.local and params.get("ConsistentRead"):
            raise validation("Consistent reads are not supported on global secondary indexes")
        self.placeholders: Placeholders = parameters.placeholders(params)
        self.projection = parameters.projection(params, self.placeholders)
        self.select = _select(params, self.projection, self.index, table)
        self.filter: tuple | None = None

    def read_filter(self, legacy_name: str) -> None:
        legacy.refuse_mixing(self.params, (legacy_name,), ("FilterExpression",))
        if self.params.get("FilterExpression") is not None:
            self.filter = parse_condition(
                self.params["FilterExpression"], "FilterExpression", self.placeholders
            )
        elif self.params.get(legacy_name):
            self.filter = legacy.conditions(self.params[legacy_name], self.params.get("ConditionalOperator"))

    @property
    def key(self) -> KeyShape:
        return self.index.key if self.index is not None else self.table.key

    def columns(self) -> tuple[str, str, str]:
        return ("h", "pk", "sk") if self.index is None else ("x.h", "x.ipk", "x.isk")

    def start_position(self) -> tuple | None:
        """The ExclusiveStartKey as the row position it names (index reads add the table key)."""
        start = self.params.get("ExclusiveStartKey")
        if not start:
            return None
        table_key = self.table.key
        try:
            position = _encode_position(self.key, start)
            if self.index is not None:
                position += _encode_position(table_key, start)[1:]
        except (KeyError, TypeError):
            raise validation(
                "The provided starting key is invalid: The provided key element does not match the schema"
            ) from None
        expected = set(table_key.names) | set(self.key.names)
        if set(start) != expected:
            raise validation(
                "The provided starting key is invalid: The provided key element does not match the schema"
            )
        return position

    def run(self, where: str, args: tuple, descending: bool) -> dict[str, Any]:
        limit = self.params.get("Limit")
        consistent = bool(self.params.get("ConsistentRead"))
        # A local index answers for attributes it lacks by reading the table (as AWS does, at a cost).
        fetches = self.index is not None and self.index.local and self.select != "ALL_PROJECTED_ATTRIBUTES"
        project_index = self.index is not None and self.index.projection != "ALL" and not fetches
        projected_names = self.index.projected_names(self.table.key) if project_index else None  # type: ignore[union-attr]
        items: list[Item] = []
        scanned = read_bytes = count = 0
        last: Item | None = None
        for item, size, _position in self.store.range(self.table, self.index, where, args, descending):
            if projected_names is not None:
                item = {k: v for k, v in item.items() if k in projected_names}
                size = item_size(item)
            scanned += 1
            read_bytes += size
            if self.filter is None or evaluate(item, self.filter):
                count += 1
                if self.select != "COUNT":
                    items.append(project(item, self.projection) if self.projection else item)
            if (limit is not None and scanned >= limit) or read_bytes >= PAGE_BYTES:
                last = item
                break
        result: dict[str, Any] = {"Count": count, "ScannedCount": scanned}
        if self.select != "COUNT":
            result["Items"] = items
        if last is not None:  # stopped early: AWS answers a LastEvaluatedKey even when nothing follows
            result["LastEvaluatedKey"] = self._last_key(last)
        meter = Meter(self.params.get("ReturnConsumedCapacity"))
        units = max(1, math.ceil(read_bytes / 4096))
        meter.add(
            self.table,
            float(units) if consistent else units / 2,
            on_index=self.index.name if self.index else None,
        )
        return meter.into(result)

    def _last_key(self, item: Item) -> Item:
        key = key_attributes(self.table.key, item)
        if self.index is not None:
            key.update(key_attributes(self.index.key, item))
        return key

    store: Store


def _encode_position(shape: KeyShape, key: Item) -> tuple:
    pk = encode_key_value(canonical_value(_typed(key[shape.hash_name], shape.hash_type)))
    sk = (
        encode_key_value(canonical_value(_typed(key[shape.range_name], shape.range_type)))
        if shape.range_name
        else b""
    )
    return (partition_hash(pk), pk, sk)


def _typed(value: dict[str, Any], expected: str | None) -> dict[str, Any]:
    if expected not in value:
        raise KeyError(expected)
    return value


def _index(table: Table, name: str | None) -> Index | None:
    if name is None:
        return None
    index = table.indexes.get(name)
    if index is None:
        raise validation(f"The table does not have the specified index: {name}")
    return index


def _select(params: dict[str, Any], projection: list | None, index: Index | None, table: Table) -> str:
    select = params.get("Select")
    if select is None:
        return (
            "SPECIFIC_ATTRIBUTES"
            if projection
            else ("ALL_PROJECTED_ATTRIBUTES" if index else "ALL_ATTRIBUTES")
        )
    if select == "SPECIFIC_ATTRIBUTES" and not projection:
        raise validation(
            "One or more parameter values were invalid: Select type SPECIFIC_ATTRIBUTES requires ProjectionExpression "
            "or AttributesToGet"
        )
    if select in ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "COUNT") and projection:
        raise validation(
            "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES"
            if select != "COUNT"
            else "Cannot specify the AttributesToGet when choosing to get only the Count"
        )
    if select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
        raise validation(
            "One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is not supported for "
            "table queries"
        )
    if select == "ALL_ATTRIBUTES" and index is not None and not index.local and index.projection != "ALL":
        raise validation(
            f"One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global "
            f"secondary index {index.name} because its projection type is not ALL"
        )
    return select


# -- Query -------------------------------------------------------------------------------------------


def run_query(table: Table, store: Store, params: dict[str, Any]) -> dict[str, Any]:
    plan = _Plan(table, params)
    plan.store = store
    legacy.refuse_mixing(params, ("KeyConditions",), ("KeyConditionExpression",))
    if params.get("KeyConditionExpression") is not None:
        tree = parse_condition(params["KeyConditionExpression"], "KeyConditionExpression", plan.placeholders)
    elif params.get("KeyConditions"):
        tree = legacy.conditions(params["KeyConditions"], "AND")
    else:
        raise validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
        )
    plan.read_filter("QueryFilter")
    plan.placeholders.check_all_used()
    pk, sort_bounds = _key_condition(tree, plan.key)
    h_col, pk_col, sk_col = plan.columns()
    where = [f"{h_col} = ?", f"{pk_col} = ?"]
    args: list[Any] = [partition_hash(pk), pk]
    for operator, value in sort_bounds:
        where.append(f"{sk_col} {operator} ?")
        args.append(value)
    descending = params.get("ScanIndexForward") is False
    start = plan.start_position()
    if start is not None:
        _after(where, args, plan, start, descending, with_partition=False)
    return plan.run(" AND ".join(where), tuple(args), descending)


def _after(
    where: list[str], args: list[Any], plan: _Plan, start: tuple, descending: bool, with_partition: bool
) -> None:
    """Rows strictly after the ExclusiveStartKey position in the read order."""
    comparison = "<" if descending else ">"
    if plan.index is None:
        columns, values = (("h", "pk", "sk"), start) if with_partition else (("sk",), start[2:])
    else:
        columns = (
            ("x.h", "x.ipk", "x.isk", "x.tpk", "x.tsk") if with_partition else ("x.isk", "x.tpk", "x.tsk")
        )
        values = start if with_partition else start[2:]
    where.append(f"({', '.join(columns)}) {comparison} ({', '.join('?' * len(columns))})")
    args.extend(values)


def _key_condition(tree: tuple | None, shape: KeyShape) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The partition key value and the sort-key bounds ((operator, encoded value), ...) of a key condition."""
    parts = _conjuncts(tree)
    by_name: dict[str, tuple] = {}
    for part in parts:
        name = _condition_attribute(part)
        if name is None or name not in shape.names:
            raise validation("Query key condition not supported")
        if name in by_name:
            raise validation("KeyConditionExpressions must only contain one condition per key")
        by_name[name] = part
    hash_part = by_name.get(shape.hash_name)
    if hash_part is None:
        raise validation(f"Query condition missed key schema element: {shape.hash_name}")
    if hash_part[0] != "cmp" or hash_part[1] != "=":
        raise validation("Query key condition not supported")
    pk = _key_operand(hash_part[3], shape.hash_type)
    sort_part = by_name.get(shape.range_name) if shape.range_name else None
    return pk, _sort_bounds(sort_part, shape.range_type) if sort_part else []


def _conjuncts(tree: tuple | None) -> list[tuple]:
    if tree is None:
        return []
    if tree[0] == "and":
        return _conjuncts(tree[1]) + _conjuncts(tree[2])
    if tree[0] in ("or", "not", "in"):
        raise validation(f"Invalid operator used in KeyConditionExpression: {tree[0].upper()}")
    return [tree]


def _condition_attribute(part: tuple) -> str | None:
    if part[0] == "func":
        if part[1] != "begins_with":
            raise validation(f"Invalid operator used in KeyConditionExpression: {part[1]}")
        operand = part[2][0]
    else:
        operand = part[2] if part[0] == "cmp" else part[1]
    if operand[0] != "path" or len(operand[1]) != 1:
        return None
    return operand[1][0]


def _key_operand(operand: tuple, expected: str | None) -> bytes:
    if operand[0] != "value":
        raise validation("Query key condition not supported")
    value = operand[1]
    if expected not in value:
        raise validation(
            "One or more parameter values were invalid: Condition parameter type does not match schema type"
        )
    return encode_key_value(value)


def _sort_bounds(part: tuple, expected: str | None) -> list[tuple[str, bytes]]:
    if part[0] == "cmp":
        if part[1] not in _SORT_OPERATORS:
            raise validation(
                "Unsupported operator in KeyConditionExpression: " + part[1]
            )  # <> cannot be a range
        return [(part[1], _key_operand(part[3], expected))]
    if part[0] == "between":
        low, high = _key_operand(part[2], expected), _key_operand(part[3], expected)
        if low > high:
            raise validation(
                "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or "
                "equal to lower bound"
            )
        return [(">=", low), ("<=", high)]
    # begins_with
    if expected not in ("S", "B"):
        raise validation(
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: "
            f"begins_with, operand type: {expected}"
        )
    prefix = _key_operand(part[2][1], expected)
    bounds = [(">=", prefix)]
    successor = _prefix_successor(prefix)
    if successor is not None:
        bounds.append(("<", successor))
    return bounds


def _prefix_successor(prefix: bytes) -> bytes | None:
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])


# -- Scan --------------------------------------------------------------------------------------------


def run_scan(table: Table, store: Store, params: dict[str, Any]) -> dict[str, Any]:
    plan = _Plan(table, params)
    plan.store = store
    plan.read_filter("ScanFilter")
    plan.placeholders.check_all_used()
    segment, total = params.get("Segment"), params.get("TotalSegments")
    if (segment is None) != (total is None):
        missing = "TotalSegments" if total is None else "Segment"
        present = "Segment" if total is None else "TotalSegments"
        raise validation(
            f"The {missing} parameter is required but was not present in the request when {present} parameter is present"
        )
    where: list[str] = []
    args: list[Any] = []
    h_col = plan.columns()[0]
    if total is not None:
        if segment >= total:
            raise validation(
                f"The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {segment} "
                f"is not less than TotalSegments: {total}"
            )
        where += [f"{h_col} >= ?", f"{h_col} < ?"]
        args += [segment * HASH_SPACE // total, (segment + 1) * HASH_SPACE // total]
    start = plan.start_position()
    if start is not None:
        _after(where, args, plan, start, descending=False, with_partition=True)
    return plan.run(" AND ".join(where) or "1", tuple(args), descending=False)
