"""ConsumedCapacity as DynamoDB computes it: 4 KB read units (half for eventually consistent reads),
1 KB write units, twice for transactions, plus one write per secondary index an item write touches."""

from __future__ import annotations

import math
from typing import Any

from overcast.services.dynamodb.store import Table, index_key
from overcast.services.dynamodb.values import Item, item_size


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


def write_units(size: int) -> float:
    return float(max(1, math.ceil(size / 1024)))


def projected(table: Table, index_name: str, item: Item) -> Item:
    index = table.indexes[index_name]
    names = index.projected_names(table.key)
    return item if names is None else {k: v for k, v in item.items() if k in names}


def index_write_units(table: Table, old: Item | None, new: Item | None) -> dict[str, float]:
    """Write units each secondary index consumes for the change old -> new (none when untouched)."""
    units: dict[str, float] = {}
    for name, index in table.indexes.items():
        old_entry = index_key(index, old) if old is not None else None
        new_entry = index_key(index, new) if new is not None else None
        if old_entry is None and new_entry is None:
            continue
        old_image = projected(table, name, old) if old_entry else None
        new_image = projected(table, name, new) if new_entry else None
        if old_entry == new_entry:
            if old_image == new_image:
                continue
            units[name] = write_units(item_size(new_image))  # type: ignore[arg-type]
            continue
        total = 0.0
        if old_image is not None:
            total += write_units(item_size(old_image))
        if new_image is not None:
            total += write_units(item_size(new_image))
        units[name] = total
    return units


class Meter:
    """Capacity consumed by one request, per table and index; rendered as ConsumedCapacity."""

    def __init__(self, mode: str | None) -> None:
        self.mode = mode if mode in ("TOTAL", "INDEXES") else None
        self.tables: dict[str, dict[str, Any]] = {}

    def add(
        self,
        table: Table,
        units: float,
        index_units: dict[str, float] | None = None,
        on_index: str | None = None,
    ) -> None:
        if self.mode is None:
            return
        entry = self.tables.setdefault(table.name, {"table": 0.0, "gsi": {}, "lsi": {}})
        if on_index is None:
            entry["table"] += units
        else:
            kind = "lsi" if table.indexes[on_index].local else "gsi"
            entry[kind][on_index] = entry[kind].get(on_index, 0.0) + units
        for name, extra in (index_units or {}).items():
            kind = "lsi" if table.indexes[name].local else "gsi"
            entry[kind][name] = entry[kind].get(name, 0.0) + extra

    def render(self) -> list[dict[str, Any]]:
        rendered = []
        for name, entry in self.tables.items():
            total = entry["table"] + sum(entry["gsi"].values()) + sum(entry["lsi"].values())
            consumed: dict[str, Any] = {"TableName": name, "CapacityUnits": total}
            if self.mode == "INDEXES":
                consumed["Table"] = {"CapacityUnits": entry["table"]}
                if entry["gsi"]:
                    consumed["GlobalSecondaryIndexes"] = {
                        k: {"CapacityUnits": v} for k, v in entry["gsi"].items()
                    }
                if entry["lsi"]:
                    consumed["LocalSecondaryIndexes"] = {
                        k: {"CapacityUnits": v} for k, v in entry["lsi"].items()
                    }
            rendered.append(consumed)
        return rendered

    def into(self, result: dict[str, Any], single: bool = True) -> dict[str, Any]:
        if self.mode is not None:
            rendered = self.render()
            if single:
                if rendered:
                    result["ConsumedCapacity"] = rendered[0]
            else:
                result["ConsumedCapacity"] = rendered
        return result
