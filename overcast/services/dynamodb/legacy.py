"""The pre-expression parameters (Expected, AttributeUpdates, AttributesToGet, KeyConditions, QueryFilter,
ScanFilter) turned into the same trees the expression parser builds, so one evaluator serves both."""

from __future__ import annotations

from typing import Any

from overcast.services.dynamodb.values import canonical_value, validation

_COMPARISONS = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
_ARGUMENT_COUNTS = {"NULL": 0, "NOT_NULL": 0, "BETWEEN": 2, "IN": None}


def refuse_mixing(params: dict[str, Any], legacy: tuple[str, ...], modern: tuple[str, ...]) -> None:
    old = [name for name in legacy if params.get(name) is not None]
    new = [name for name in modern if params.get(name) is not None]
    if old and new:
        raise validation(
            "Can not use both expression and non-expression parameters in the same request: "
            f"Non-expression parameters: {{{', '.join(old)}}} Expression parameters: {{{', '.join(new)}}}"
        )


def conditions(spec: dict[str, dict[str, Any]], operator: str | None) -> tuple | None:
    """Expected / QueryFilter / ScanFilter / KeyConditions → a condition tree (None when empty)."""
    trees = [_one(name, entry) for name, entry in spec.items()]
    if not trees:
        return None
    joiner = "or" if (operator or "AND") == "OR" else "and"
    tree = trees[0]
    for other in trees[1:]:
        tree = (joiner, tree, other)
    return tree


def _one(name: str, entry: dict[str, Any]) -> tuple:
    path = ("path", (name,))
    operator = entry.get("ComparisonOperator")
    if operator is None:  # Expected's short form: Value and/or Exists
        exists = entry.get("Exists", True)
        if "Value" in entry:
            if not exists:
                raise validation(
                    "One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: "
                    + name
                )
            return ("cmp", "=", path, ("value", canonical_value(entry["Value"])))
        if exists:
            raise validation(
                "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: "
                + name
            )
        return ("func", "attribute_not_exists", [path])
    values = [("value", canonical_value(v)) for v in entry.get("AttributeValueList", [])]
    expected = _ARGUMENT_COUNTS.get(operator, 1)
    if expected is not None and len(values) != expected or (operator == "IN" and not values):
        raise validation(
            f"One or more parameter values were invalid: Invalid number of argument(s) for the {operator} ComparisonOperator"
        )
    if operator in _COMPARISONS:
        return ("cmp", _COMPARISONS[operator], path, values[0])
    if operator == "NULL":
        return ("func", "attribute_not_exists", [path])
    if operator == "NOT_NULL":
        return ("func", "attribute_exists", [path])
    if operator == "BEGINS_WITH":
        return ("func", "begins_with", [path, values[0]])
    if operator == "CONTAINS":
        return ("func", "contains", [path, values[0]])
    if operator == "NOT_CONTAINS":
        return ("and", ("func", "attribute_exists", [path]), ("not", ("func", "contains", [path, values[0]])))
    if operator == "BETWEEN":
        return ("between", path, values[0], values[1])
    return ("in", path, values)  # IN


def attribute_updates(spec: dict[str, dict[str, Any]]) -> dict[str, list]:
    """AttributeUpdates → update sections like parse_update's."""
    sections: dict[str, list] = {}
    for name, update in spec.items():
        path = ("path", (name,))
        action = update.get("Action", "PUT")
        value = update.get("Value")
        if action == "PUT":
            if value is None:
                raise validation(
                    "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified"
                )
            sections.setdefault("SET", []).append((path, ("value", canonical_value(value))))
        elif action == "DELETE":
            if value is None:
                sections.setdefault("REMOVE", []).append((path,))
            else:
                sections.setdefault("DELETE", []).append((path, ("value", canonical_value(value))))
        else:
            if value is None:
                raise validation(
                    "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified"
                )
            sections.setdefault("ADD", []).append((path, ("value", canonical_value(value))))
    return sections


def attributes_to_get(names: list[str]) -> list[tuple[str, ...]]:
    if len(set(names)) != len(names):
        raise validation(
            "One or more parameter values were invalid: Duplicate value in attribute name: " + names[0]
        )
    return [(name,) for name in names]
