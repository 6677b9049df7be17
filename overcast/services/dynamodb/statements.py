"""PartiQL operations (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction) over the provider's item
machinery: the same storage, conditions, index maintenance and stream records as the item operations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.dynamodb.capacity import Meter, read_units
from overcast.services.dynamodb.expressions import evaluate, paths_in_update, project
from overcast.services.dynamodb.parameters import digest
from overcast.services.dynamodb.partiql import Statement, key_equalities, parse
from overcast.services.dynamodb.query import PAGE_BYTES
from overcast.services.dynamodb.store import (
    Table,
    check_index_keys,
    key_from_item,
    key_from_key,
    partition_hash,
)
from overcast.services.dynamodb.updates import apply_update
from overcast.services.dynamodb.values import (
    canonical_item,
    check_item_size,
    encode_key_value,
    invalid_parameter,
    validation,
)
from overcast.services.kit.paging import decode_token, encode_token

if TYPE_CHECKING:
    from overcast.services.dynamodb.provider import DynamoDBProvider

_BATCH_ERROR_CODES = {
    "ConditionalCheckFailedException": "ConditionalCheckFailed",
    "DuplicateItemException": "DuplicateItem",
    "ValidationException": "ValidationError",
    "ResourceNotFoundException": "ResourceNotFound",
}


class PartiqlOperations(Operations):
    """ExecuteStatement, BatchExecuteStatement, ExecuteTransaction."""

    service: DynamoDBProvider

    def execute_statement(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        statement = parse(params["Statement"], params.get("Parameters"))
        meter = Meter(params.get("ReturnConsumedCapacity"))
        if statement.kind == "SELECT":
            return meter.into(self._select(ctx, statement, params, meter))
        if statement.kind == "EXISTS":
            raise validation(_EXISTS_ONLY_IN_TRANSACTIONS)
        returned = self._run_write(ctx, statement, meter, params)
        return meter.into({"Items": [returned] if returned is not None else []})

    def batch_execute_statement(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        meter = Meter(params.get("ReturnConsumedCapacity"))
        responses = []
        for entry in params["Statements"]:
            try:
                with self.db.transaction():  # a savepoint: a failed statement leaves no trace
                    responses.append(self._batch_entry(ctx, entry, meter))
            except ServiceError as error:
                code = _BATCH_ERROR_CODES.get(error.code, "ValidationError")
                failure: dict[str, Any] = {"Error": {"Code": code, "Message": error.message}}
                if "Item" in error.fields:
                    failure["Error"]["Item"] = error.fields["Item"]
                responses.append(failure)
        return meter.into({"Responses": responses}, single=False)

    def _batch_entry(self, ctx: RequestContext, entry: dict[str, Any], meter: Meter) -> dict[str, Any]:
        statement = parse(entry["Statement"], entry.get("Parameters"))
        if statement.kind == "EXISTS":
            raise validation(_EXISTS_ONLY_IN_TRANSACTIONS)
        if statement.kind != "SELECT":
            self._run_write(ctx, statement, meter, entry)
            return {"TableName": statement.table}
        table = self.service.table(ctx, statement.table)
        found = self._single_item(table, statement)
        meter.add(table, read_units(found[1] if found else 0, bool(entry.get("ConsistentRead"))))
        response: dict[str, Any] = {"TableName": statement.table}
        if found:
            response["Item"] = project(found[0], statement.projection) if statement.projection else found[0]
        return response

    def execute_transaction(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        token = params.get("ClientRequestToken")
        request_digest = digest(params["TransactStatements"]) if token else ""
        if token:
            previous = service.previous_transaction(ctx, token, request_digest)
            if previous is not None:
                return previous
        statements = [parse(s["Statement"], s.get("Parameters")) for s in params["TransactStatements"]]
        reads = [s.kind == "SELECT" for s in statements]
        if any(reads) and not all(reads):
            raise validation("Transaction must contain either all read or all write statements")
        targets = set()
        for statement in statements:
            table = self.service.table(ctx, statement.table)
            if statement.kind == "INSERT":
                key = key_from_item(table.key, canonical_item(statement.item or {}))
            else:
                key = key_from_key(table.key, _full_key(table, statement))
            targets.add((table.id, key))
        if len(targets) != len(statements):
            raise validation("Transaction request cannot include multiple operations on one item")
        meter = Meter(params.get("ReturnConsumedCapacity"))
        result = (
            self._transaction_reads(ctx, statements, meter)
            if all(reads)
            else self._transaction_writes(ctx, statements, meter)
        )
        result = meter.into(result, single=False)
        if token:
            service.remember_transaction(ctx, token, request_digest, result)
        return result

    def _transaction_reads(
        self, ctx: RequestContext, statements: list[Statement], meter: Meter
    ) -> dict[str, Any]:
        responses = []
        for statement in statements:
            table = self.service.table(ctx, statement.table)
            found = self._single_item(table, statement)
            meter.add(table, read_units(found[1] if found else 0, True) * 2)
            item = (
                (project(found[0], statement.projection) if statement.projection else found[0])
                if found
                else None
            )
            responses.append({"Item": item} if item is not None else {})
        return {"Responses": responses}

    def _transaction_writes(
        self, ctx: RequestContext, statements: list[Statement], meter: Meter
    ) -> dict[str, Any]:
        reasons, failed = [], False
        for statement in statements:
            try:
                with self.db.transaction():
                    self._run_write(ctx, statement, meter, {}, factor=2)
                reasons.append({"Code": "None"})
            except ServiceError as error:
                if error.code not in ("ConditionalCheckFailedException", "DuplicateItemException"):
                    raise
                failed = True
                reasons.append({"Code": _BATCH_ERROR_CODES[error.code], "Message": error.message})
        if failed:
            codes = ", ".join(r["Code"] for r in reasons)
            raise ServiceError(
                "TransactionCanceledException",
                f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
                CancellationReasons=reasons,
            )
        return {"Responses": []}  # AWS answers a write transaction with an empty list

    # -- statements --------------------------------------------------------------------------------

    def _select(
        self, ctx: RequestContext, statement: Statement, params: dict[str, Any], meter: Meter
    ) -> dict[str, Any]:
        table = self.service.table(ctx, statement.table)
        index = None
        if statement.index is not None:
            index = table.indexes.get(statement.index)
            if index is None:
                raise validation(f"The table does not have the specified index: {statement.index}")
        shape = index.key if index is not None else table.key
        if statement.order_by is not None:
            _check_order_by(statement, shape)
        columns = ("h", "pk", "sk") if index is None else ("x.h", "x.ipk", "x.isk", "x.tpk", "x.tsk")
        where, args = [], []
        partition = key_equalities(statement.where).get(shape.hash_name)
        if partition is not None and shape.hash_type in partition:
            encoded = encode_key_value(partition)
            where += [f"{columns[0]} = ?", f"{columns[1]} = ?"]
            args += [partition_hash(encoded), encoded]
        if params.get("NextToken"):
            position = _read_token(params["NextToken"], len(columns))
            beyond = "<" if statement.descending else ">"
            where.append(f"({', '.join(columns)}) {beyond} ({', '.join('?' * len(columns))})")
            args += position
        names = index.projected_names(table.key) if index is not None else None
        limit = params.get("Limit")
        items, read_bytes, evaluated, position = [], 0, 0, None
        for item, size, row_position in self.service.store.range(
            table, index, " AND ".join(where) or "1", tuple(args), statement.descending
        ):
            if names is not None:
                item = {k: v for k, v in item.items() if k in names}
            evaluated += 1
            read_bytes += size
            if statement.where is None or evaluate(item, statement.where):
                items.append(project(item, statement.projection) if statement.projection else item)
            if (limit is not None and evaluated >= limit) or read_bytes >= PAGE_BYTES:
                position = row_position
                break
        units = read_units(read_bytes, bool(params.get("ConsistentRead")))
        meter.add(table, units, on_index=index.name if index else None)
        result: dict[str, Any] = {"Items": items}
        if position is not None:
            result["NextToken"] = _write_token(position)
        return result

    def _single_item(self, table: Table, statement: Statement) -> tuple | None:
        key = _full_key(table, statement)
        return self.service.store.get(table, key_from_key(table.key, key))

    def _run_write(
        self,
        ctx: RequestContext,
        statement: Statement,
        meter: Meter,
        params: dict[str, Any],
        factor: float = 1,
    ) -> dict[str, Any] | None:
        """Run a write statement; answers the item RETURNING asks for (None without RETURNING)."""
        table = self.service.table(ctx, statement.table)
        if statement.kind == "EXISTS":  # a transaction's condition check
            found = self._single_item(table, statement)
            meter.add(table, read_units(found[1] if found else 0, True) * factor)
            if found is None or not evaluate(found[0], statement.where):  # type: ignore[arg-type]
                raise ServiceError("ConditionalCheckFailedException", "The conditional request failed")
            return None
        if statement.kind == "INSERT":
            item = canonical_item(statement.item or {})
            key = key_from_item(table.key, item)
            check_index_keys(table, item)
            size = check_item_size(item)
            if self.service.store.get(table, key) is not None:
                raise ServiceError("DuplicateItemException", "Duplicate primary key exists in table")
            self.service.write(table, key, None, item, size)
            self.service.write_meter(meter, table, None, item, factor)
            return None
        key_item = _full_key(table, statement)
        key = key_from_key(table.key, key_item)
        found = self.service.store.get(table, key)
        old = found[0] if found else None
        if old is None and statement.kind == "DELETE":
            # No item with that key: success with nothing deleted (only an existing item's failed condition
            # is a ConditionalCheckFailedException).
            self.service.write_meter(meter, table, None, None, factor)
            return None
        if old is None or not evaluate(old, statement.where):  # type: ignore[arg-type]
            fields = (
                {"Item": old}
                if old and params.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
                else {}
            )
            raise ServiceError("ConditionalCheckFailedException", "The conditional request failed", **fields)
        if statement.kind == "DELETE":
            self.service.write(table, key, old, None)
            self.service.write_meter(meter, table, old, None, factor)
            return old if statement.returning == "ALL OLD" else None
        paths = paths_in_update(statement.updates)
        for path in paths:
            if path[0] in table.key.names:
                raise invalid_parameter(
                    f"Cannot update attribute {path[0]}. This attribute is part of the key"
                )
        new = apply_update(old, statement.updates)
        check_index_keys(table, new)
        size = check_item_size(new)
        self.service.write(table, key, old, new, size)
        self.service.write_meter(meter, table, old, new, factor)
        return {
            None: None,
            "ALL OLD": old,
            "ALL NEW": new,
            "MODIFIED OLD": project(old, paths),  # type: ignore[arg-type]
            "MODIFIED NEW": project(new, paths),
        }[statement.returning]


_EXISTS_ONLY_IN_TRANSACTIONS = "EXISTS can only be used in a transaction (ExecuteTransaction)"


def _check_order_by(statement: Statement, shape: Any) -> None:
    if statement.order_by != ("path", (shape.range_name,)):
        raise validation("ORDER BY is only supported on the sort key of the table or index being queried")
    if shape.hash_name not in key_equalities(statement.where):
        raise validation(
            "Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause."
        )


def _full_key(table: Table, statement: Statement) -> dict[str, Any]:
    equalities = key_equalities(statement.where)
    missing = [name for name in table.key.names if name not in equalities]
    if missing:
        raise validation("Where clause does not contain a mandatory equality on all key attributes")
    return {name: equalities[name] for name in table.key.names}


_TOKEN_SCOPE = "ExecuteStatement"


def _invalid_token() -> ServiceError:
    return validation("Invalid NextToken")


def _write_token(position: tuple) -> str:
    return encode_token(
        [value.hex() if isinstance(value, bytes) else value for value in position], _TOKEN_SCOPE
    )


def _read_token(token: str, length: int) -> list[Any]:
    """The row position a NextToken names: the partition hash, then the key columns' bytes."""
    parts = decode_token(token, _invalid_token, _TOKEN_SCOPE)
    try:
        if not isinstance(parts, list) or len(parts) != length or not isinstance(parts[0], int):
            raise ValueError(token)
        return [parts[0], *(bytes.fromhex(p) for p in parts[1:])]
    except (ValueError, TypeError):
        raise _invalid_token() from None
