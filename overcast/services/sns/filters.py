"""SNS subscription filter policies: validation and matching, on message attributes or on the JSON body.

A policy is an object whose keys must all match (AND); each key holds a list of conditions of which one must
match (OR), or, when filtering the body, a nested object. `$or` holds a list of alternative sub-policies.
Conditions: exact strings, numbers, booleans and null; prefix, suffix, equals-ignore-case, wildcard,
anything-but (a value, a list, a prefix or a suffix), numeric ranges, exists, and cidr (IP addresses).
"""

from __future__ import annotations

import ipaddress
import json
import operator
import re
from typing import Any

from overcast.errors import ServiceError

_NUMERIC_OPERATORS = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_OPERATORS = (
    "prefix",
    "suffix",
    "equals-ignore-case",
    "wildcard",
    "anything-but",
    "numeric",
    "exists",
    "cidr",
)
MAX_KEYS = 5
MAX_COMBINATIONS = 150  # AWS's limit on the combinations of values a policy can match
MAX_NUMERIC_ELEMENTS = 4  # a lower and an upper bound: two operator/value pairs
_ANYTHING_BUT_OPERATORS = ("prefix", "suffix", "equals-ignore-case", "wildcard")
_ABSENT = object()


def invalid_policy(reason: str) -> ServiceError:
    return ServiceError("InvalidParameter", f"Invalid parameter: FilterPolicy: {reason}")


def parse_policy(text: str, scope: str) -> dict[str, Any]:
    """The policy object of `text`, validated for `scope` ('MessageAttributes' or 'MessageBody')."""
    try:
        policy = json.loads(text)
    except ValueError:
        raise invalid_policy("failed to parse JSON.") from None
    if not isinstance(policy, dict):
        raise invalid_policy("Filter policy must be a JSON object.")
    keys = _check_object(policy, nested=scope == "MessageBody")
    if keys > MAX_KEYS:
        raise invalid_policy(f"Filter policy can not have more than {MAX_KEYS} keys")
    if _combinations(policy) > MAX_COMBINATIONS:
        raise invalid_policy("Filter policy is too complex")
    return policy


def _combinations(policy: dict[str, Any]) -> int:
    """How many value combinations a policy matches: the product of its keys' value counts, the sum over the
    alternatives of `$or` (the figure AWS bounds at 150)."""
    total = 1
    for key, rule in policy.items():
        if key == "$or":
            total *= sum(_combinations(alternative) for alternative in rule)
        elif isinstance(rule, dict):
            total *= _combinations(rule)
        else:
            total *= len(rule)
    return total


def _check_object(policy: dict[str, Any], nested: bool) -> int:
    """Validate an object level; returns the number of leaf keys (the figure AWS limits)."""
    keys = 0
    for key, rule in policy.items():
        if key == "$or":
            if not isinstance(rule, list) or len(rule) < 2 or not all(isinstance(r, dict) for r in rule):
                raise invalid_policy("$or must be an array of at least two objects.")
            keys = max(keys, max(_check_object(r, nested) for r in rule))
        elif isinstance(rule, dict):
            if not nested:
                raise invalid_policy(f'"{key}" must be an object or an array')
            keys += _check_object(rule, nested)
        elif isinstance(rule, list):
            if not rule:
                raise invalid_policy("Empty arrays are not allowed")
            for condition in rule:
                _check_condition(condition)
            keys += 1
        else:
            raise invalid_policy(f'"{key}" must be an object or an array')
    return keys


def _check_condition(condition: Any) -> None:
    if condition is None or isinstance(condition, str | int | float | bool):
        return
    if not isinstance(condition, dict):
        raise invalid_policy("Match value must be String, number, true, false, or null")
    if len(condition) != 1:
        raise invalid_policy("Only one key allowed in match expression")
    ((name, value),) = condition.items()
    if name not in _OPERATORS:
        raise invalid_policy(f"Unrecognized match type {name}")
    if name == "numeric":
        _check_numeric(value)
    elif name == "exists" and not isinstance(value, bool):
        raise invalid_policy("exists match pattern must be either true or false.")
    elif name == "cidr":
        _check_cidr(value)
    elif name == "anything-but" and isinstance(value, dict):
        if len(value) != 1:
            raise invalid_policy("Only one key allowed in match expression")
        ((inner, _),) = value.items()
        if inner not in _ANYTHING_BUT_OPERATORS:
            raise invalid_policy(f"Unsupported anything-but pattern: {inner}")
    elif name in ("prefix", "suffix", "equals-ignore-case", "wildcard") and not isinstance(value, str):
        raise invalid_policy(f"{name} match pattern must be a string")


def _check_cidr(value: Any) -> None:
    if not isinstance(value, str) or "/" not in value:
        raise invalid_policy("Malformed CIDR, one '/' required")
    address, _, bits = value.partition("/")
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise invalid_policy(f"Nonstandard IP address: {address}") from None
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise invalid_policy(f"Malformed CIDR, mask bits must be an integer: {bits}") from None


def _check_numeric(value: Any) -> None:
    if isinstance(value, list) and len(value) > MAX_NUMERIC_ELEMENTS:
        raise invalid_policy("Too many elements in numeric expression")
    if not isinstance(value, list) or not value or len(value) % 2:
        raise invalid_policy("Value of numeric must be an array of operator and value pairs.")
    for op, number in zip(value[::2], value[1::2], strict=True):
        if op not in _NUMERIC_OPERATORS or isinstance(number, bool) or not isinstance(number, int | float):
            raise invalid_policy(f"Unrecognized numeric range operator: {op}")


# -- matching ---------------------------------------------------------------------------------------


def attribute_values(attributes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """SNS message attributes as the values a policy sees (binary attributes take no part in filtering)."""
    values: dict[str, Any] = {}
    for name, attribute in attributes.items():
        data_type = attribute.get("DataType", "")
        text = attribute.get("StringValue")
        if data_type.startswith("Number"):
            values[name] = _number(text)
        elif data_type == "String.Array":
            try:
                values[name] = json.loads(text)
            except (TypeError, ValueError):
                continue
        elif data_type.startswith("String"):
            values[name] = text
    return values


def _number(text: str | None) -> float | str | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return text


def matches(policy: dict[str, Any], data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    for key, rule in policy.items():
        if key == "$or":
            if not any(matches(alternative, data) for alternative in rule):
                return False
            continue
        value = _lookup(data, key)
        if isinstance(rule, dict):
            children = value if isinstance(value, list) else [value]
            if not any(matches(rule, child) for child in children):
                return False
        elif not any(_condition(condition, value) for condition in rule):
            return False
    return True


def _lookup(data: dict[str, Any], key: str) -> Any:
    """The value a policy key names: a literal key, or (`a.b`) a path into nested objects."""
    value = data.get(key, _ABSENT)
    if value is not _ABSENT or "." not in key:
        return value
    head, _, rest = key.partition(".")
    inner = data.get(head, _ABSENT)
    if isinstance(inner, dict):
        return _lookup(inner, rest)
    if isinstance(inner, list):  # arrays of objects are searched
        found = [v for item in inner if isinstance(item, dict) for v in _flat(_lookup(item, rest))]
        return found if found else _ABSENT
    return _ABSENT


def _flat(value: Any) -> list[Any]:
    if value is _ABSENT:
        return []
    return value if isinstance(value, list) else [value]


def _condition(condition: Any, value: Any) -> bool:
    if isinstance(condition, dict):
        ((name, argument),) = condition.items()
        if name == "exists":
            return (value is not _ABSENT) == argument
        if value is _ABSENT:
            return False
        values = value if isinstance(value, list) else [value]
        if name == "anything-but":
            return any(not _anything_but_excludes(argument, v) for v in values)
        return any(_operator(name, argument, v) for v in values)
    if value is _ABSENT:
        return False
    values = value if isinstance(value, list) else [value]
    return any(_equal(condition, v) for v in values)


def _equal(expected: Any, actual: Any) -> bool:
    if expected is None or isinstance(expected, bool):
        return actual is expected
    if isinstance(expected, int | float):
        return isinstance(actual, int | float) and not isinstance(actual, bool) and float(actual) == expected
    return isinstance(actual, str) and actual == expected


def _operator(name: str, argument: Any, value: Any) -> bool:
    if name == "numeric":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        pairs = zip(argument[::2], argument[1::2], strict=True)
        return all(_NUMERIC_OPERATORS[op](value, number) for op, number in pairs)
    if not isinstance(value, str):
        return False
    if name == "prefix":
        return value.startswith(argument)
    if name == "suffix":
        return value.endswith(argument)
    if name == "equals-ignore-case":
        return value.lower() == argument.lower()
    if name == "wildcard":
        return re.fullmatch(".*".join(map(re.escape, argument.split("*"))), value, re.DOTALL) is not None
    if name == "cidr":
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(argument, strict=False)
        except ValueError:
            return False
    return False


def _anything_but_excludes(argument: Any, value: Any) -> bool:
    """Whether `value` is one of the things an anything-but condition excludes."""
    if isinstance(argument, dict):
        ((name, inner),) = argument.items()
        return _operator(name, inner, value)
    excluded = argument if isinstance(argument, list) else [argument]
    return any(_equal(item, value) for item in excluded)
