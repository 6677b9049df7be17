"""Applying a parsed update expression (SET, REMOVE, ADD, DELETE) to an item, as DynamoDB does."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from overcast.services.dynamodb.expressions import Path, hashable, operand_type, operand_value, resolve
from overcast.services.dynamodb.values import add_numbers, number_text, subtract_numbers, validation


def apply_update(item: dict[str, Any], sections: dict[str, list]) -> dict[str, Any]:
    """A new item with the update applied (`item` is left untouched; operands read the old item)."""
    new = copy.deepcopy(item)
    for target, source in sections.get("SET", ()):
        _assign(new, target[1], _set_value(item, source))
    removals = sorted((a[0][1] for a in sections.get("REMOVE", ())), key=_removal_order, reverse=True)
    for path in removals:
        _remove(new, path)
    for target, value in sections.get("ADD", ()):
        _add(new, target[1], value[1])
    for target, value in sections.get("DELETE", ()):
        _delete(new, target[1], value[1])
    return new


def _removal_order(path: Path) -> tuple:
    # Remove higher list indexes first so lower ones still point at the intended elements.
    return tuple((1, p) if isinstance(p, int) else (0, 0) for p in path)


def _set_value(item: dict[str, Any], source: tuple) -> dict[str, Any]:
    kind = source[0]
    if kind in ("value", "path"):
        value = operand_value(item, source)
        if value is None:
            raise validation("The provided expression refers to an attribute that does not exist in the item")
        return value
    if kind == "if_not_exists":
        existing = resolve(item, source[1][1])
        return existing if existing is not None else _set_value(item, source[2])
    if kind == "list_append":
        first, second = _set_value(item, source[1]), _set_value(item, source[2])
        if "L" not in first or "L" not in second:
            raise validation(
                "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: "
                f"list_append, operand type: {_type_word(first if 'L' not in first else second)}"
            )
        return {"L": first["L"] + second["L"]}
    left, right = _set_value(item, source[1]), _set_value(item, source[2])
    if "N" not in left or "N" not in right:
        bad = left if "N" not in left else right
        raise validation(
            f"Invalid UpdateExpression: Incorrect operand type for operator or function; operator: {kind}, "
            f"operand type: {_type_word(bad)}"
        )
    combine = add_numbers if kind == "+" else subtract_numbers
    return {"N": number_text(combine(Decimal(left["N"]), Decimal(right["N"])))}


def _type_word(value: dict[str, Any]) -> str:
    return operand_type(("value", value))


def _parent(item: dict[str, Any], path: Path) -> Any:
    """The container holding the last step of `path` (a dict of attributes or a list), or None."""
    if len(path) == 1:
        return item
    parent = resolve(item, path[:-1])
    if parent is None:
        return None
    return parent.get("L") if isinstance(path[-1], int) else parent.get("M")


def _assign(item: dict[str, Any], path: Path, value: dict[str, Any]) -> None:
    parent = _parent(item, path)
    if parent is None:
        raise validation("The document path provided in the update expression is invalid for update")
    step = path[-1]
    if isinstance(step, int):
        if step < len(parent):
            parent[step] = value
        else:
            parent.append(value)
    else:
        parent[step] = value


def _remove(item: dict[str, Any], path: Path) -> None:
    parent = _parent(item, path)
    if parent is None:
        return
    step = path[-1]
    if isinstance(step, int):
        if step < len(parent):
            del parent[step]
    else:
        parent.pop(step, None)


def _add(item: dict[str, Any], path: Path, value: dict[str, Any]) -> None:
    existing = resolve(item, path)
    kind = next(iter(value))
    if kind not in ("N", "SS", "NS", "BS"):
        raise validation(
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, "
            f"operand type: {_type_word(value)}"
        )
    if existing is None:
        _assign(item, path, value)
        return
    if next(iter(existing)) != kind:
        raise validation("An operand in the update expression has an incorrect data type")
    if kind == "N":
        _assign(item, path, {"N": number_text(add_numbers(Decimal(existing["N"]), Decimal(value["N"])))})
    else:
        _assign(item, path, {kind: _set_union(kind, existing[kind], value[kind])})


def _delete(item: dict[str, Any], path: Path, value: dict[str, Any]) -> None:
    kind = next(iter(value))
    if kind not in ("SS", "NS", "BS"):
        raise validation(
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, "
            f"operand type: {_type_word(value)}"
        )
    existing = resolve(item, path)
    if existing is None:
        return
    if next(iter(existing)) != kind:
        raise validation("An operand in the update expression has an incorrect data type")
    remaining = _set_difference(kind, existing[kind], value[kind])
    if remaining:
        _assign(item, path, {kind: remaining})
    else:
        _remove(item, path)


def _set_union(kind: str, existing: list, extra: list) -> list:
    if kind == "NS":
        seen = {Decimal(n) for n in existing}
        return existing + [n for n in extra if Decimal(n) not in seen]
    seen_values = set(map(hashable, existing))
    return existing + [v for v in extra if hashable(v) not in seen_values]


def _set_difference(kind: str, existing: list, removed: list) -> list:
    if kind == "NS":
        gone = {Decimal(n) for n in removed}
        return [n for n in existing if Decimal(n) not in gone]
    gone_values = set(map(hashable, removed))
    return [v for v in existing if hashable(v) not in gone_values]
