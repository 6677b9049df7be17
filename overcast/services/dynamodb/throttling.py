"""Optional throttling of PROVISIONED tables (`OVERCAST_DYNAMODB_THROTTLING=1`, or at run time through
`POST /_overcast/dynamodb/throttling {"enabled": true}`).

Each table and each global secondary index has a read and a write bucket on the virtual clock: it refills at
the provisioned units per second and holds at most 300 seconds of them (AWS's burst capacity). A request is
refused with ProvisionedThroughputExceededException when a bucket it needs holds less than the least a request
can cost (1 write unit, half a read unit); otherwise it runs and
what it consumed (the same ConsumedCapacity the client may ask for) is taken from the buckets, which may go
into debt, as a large item does in DynamoDB. On-demand tables are never throttled. Local secondary indexes
share their table's throughput.
"""

from __future__ import annotations

from typing import Any

from overcast.errors import ServiceError
from overcast.services.dynamodb.store import Table

BURST_SECONDS = 300.0
READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}

TABLE_EXCEEDED = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)
INDEX_EXCEEDED = (
    "The level of configured provisioned throughput for one or more global secondary indexes of the table was "
    "exceeded. Consider increasing your provisioning level for the under-provisioned global secondary indexes "
    "with the UpdateTable API"
)


def table_names(operation: str, params: dict[str, Any]) -> list[str]:
    """The tables a request reads or writes."""
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return list(params.get("RequestItems") or {})
    if operation in ("TransactGetItems", "TransactWriteItems"):
        names = []
        for entry in params.get("TransactItems") or []:
            for action in entry.values():
                if isinstance(action, dict) and action.get("TableName"):
                    names.append(action["TableName"])
        return names
    return [params["TableName"]] if params.get("TableName") else []


class Throttle:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.buckets: dict[tuple, tuple[float, float]] = {}  # key -> (tokens, as of)

    def forget(self) -> None:
        self.buckets.clear()

    @staticmethod
    def _rates(table: Table, index: str | None) -> dict[str, float] | None:
        """Provisioned units per second of the table or one of its GSIs; None when not throttled."""
        if table.meta.get("BillingMode") != "PROVISIONED":
            return None
        if index is None:
            throughput = table.meta.get("ProvisionedThroughput") or {}
        else:
            found = next(
                (g for g in table.meta.get("GlobalSecondaryIndexes") or [] if g["IndexName"] == index), None
            )
            if found is None:
                return None  # an LSI: the table's throughput
            throughput = found.get("ProvisionedThroughput") or {}
        return {
            "read": float(throughput.get("ReadCapacityUnits", 0)),
            "write": float(throughput.get("WriteCapacityUnits", 0)),
        }

    def _key(self, table: Table, index: str | None, kind: str) -> tuple:
        # The table id changes when a table is deleted and created again: a new table starts full.
        return (table.id, index, kind)

    def level(self, table: Table, index: str | None, kind: str, now: float) -> float | None:
        rates = self._rates(table, index)
        if rates is None:
            return None
        rate = rates[kind]
        ceiling = rate * BURST_SECONDS
        tokens, at = self.buckets.get(self._key(table, index, kind), (ceiling, now))
        return min(ceiling, tokens + max(0.0, now - at) * rate)

    def check(
        self, tables: list[Table], kind: str, index_by_table: dict[str, str | None], now: float
    ) -> None:
        least = 1.0 if kind == "write" else 0.5
        for table in tables:
            read_index = index_by_table.get(table.name) if kind == "read" else None
            on_gsi = read_index in table.indexes and not table.indexes[read_index].local
            if not on_gsi:  # a read of a GSI uses the index's throughput only
                level = self.level(table, None, kind, now)
                if level is not None and level < least:
                    raise ServiceError("ProvisionedThroughputExceededException", TABLE_EXCEEDED)
            indexes = [read_index] if on_gsi else list(table.indexes) if kind == "write" else []
            for index in indexes:
                if index is None or table.indexes[index].local:
                    continue
                level = self.level(table, index, kind, now)
                if level is not None and level < least:
                    raise ServiceError("ProvisionedThroughputExceededException", INDEX_EXCEEDED)

    def charge(self, table: Table, index: str | None, kind: str, units: float, now: float) -> None:
        level = self.level(table, index, kind, now)
        if level is not None:
            self.buckets[self._key(table, index, kind)] = (level - units, now)

    def charge_consumed(self, tables: dict[str, Table], kind: str, consumed: list[dict], now: float) -> None:
        """Take a response's ConsumedCapacity (INDEXES mode) from the buckets."""
        for entry in consumed:
            table = tables.get(entry.get("TableName", ""))
            if table is None:
                continue
            table_units = entry.get("Table", {}).get("CapacityUnits", 0.0)
            table_units += sum(
                v["CapacityUnits"] for v in (entry.get("LocalSecondaryIndexes") or {}).values()
            )
            self.charge(table, None, kind, table_units, now)
            for index, value in (entry.get("GlobalSecondaryIndexes") or {}).items():
                self.charge(table, index, kind, value["CapacityUnits"], now)
