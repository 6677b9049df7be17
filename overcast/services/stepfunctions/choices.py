"""Choice rules of JSONPath states: comparison operators (with their `...Path` forms), type tests and
And/Or/Not. A JSONata Choice rule is one `Condition` expression (evaluated by jsonata_bridge)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from overcast.services.stepfunctions import jsonpath
from overcast.services.stepfunctions.failures import StatesError, dumps

_KINDS = ("String", "Numeric", "Boolean", "Timestamp")
_RELATIONS = ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
COMPARISONS = tuple(f"{k}{r}" for k in _KINDS for r in _RELATIONS if not (k == "Boolean" and r != "Equals"))
COMPARISON_OPERATORS = frozenset((*COMPARISONS, *(f"{c}Path" for c in COMPARISONS), "StringMatches"))
TYPE_TESTS = frozenset({"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"})

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def parse_timestamp(text: Any) -> datetime | None:
    """An RFC 3339 timestamp as ASL accepts it (`2016-03-14T01:59:00Z`, an uppercase T, an offset or Z)."""
    if not isinstance(text, str) or not _TIMESTAMP.match(text):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def matches(rule: dict[str, Any], data: Any, context: Any) -> bool:
    """Whether a Choice rule (a top-level choice or a nested one of And/Or/Not) holds for `data`."""
    if "And" in rule:
        return all(matches(r, data, context) for r in rule["And"])
    if "Or" in rule:
        return any(matches(r, data, context) for r in rule["Or"])
    if "Not" in rule:
        return not matches(rule["Not"], data, context)
    variable = rule["Variable"]
    try:
        value = jsonpath.query(variable, data, context)
        present = True
    except jsonpath.NotFound:
        value, present = None, False
    for test in TYPE_TESTS:
        if test in rule:
            return _type_test(test, present, value) == rule[test]
    if not present:
        raise StatesError(
            "States.Runtime",
            f"Invalid path '{variable}': The choice state's condition path references an invalid value.",
        )
    for operator in COMPARISON_OPERATORS:
        if operator in rule:
            expected = rule[operator]
            if operator.endswith("Path"):
                try:
                    expected = jsonpath.query(expected, data, context)
                except jsonpath.NotFound:
                    raise StatesError(
                        "States.Runtime",
                        f"Invalid path '{rule[operator]}': The choice state's condition path references an "
                        "invalid value.",
                    ) from None
                operator = operator[: -len("Path")]
            return compare(operator, value, expected)
    raise StatesError("States.Runtime", f"Unsupported choice rule: {dumps(rule)}")


def _type_test(test: str, present: bool, value: Any) -> bool:
    if test == "IsPresent":
        return present
    if not present:
        return False
    if test == "IsNull":
        return value is None
    if test == "IsNumeric":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if test == "IsString":
        return isinstance(value, str)
    if test == "IsBoolean":
        return isinstance(value, bool)
    return parse_timestamp(value) is not None  # IsTimestamp


def compare(operator: str, value: Any, expected: Any) -> bool:
    """`value <operator> expected`; a value of the wrong type for the operator does not match."""
    if operator == "StringMatches":
        return isinstance(value, str) and isinstance(expected, str) and string_matches(value, expected)
    kind = next(k for k in _KINDS if operator.startswith(k))
    relation = operator[len(kind) :]
    if kind == "String":
        if not (isinstance(value, str) and isinstance(expected, str)):
            return False
        left, right = value, expected
    elif kind == "Numeric":
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (value, expected)):
            return False
        left, right = value, expected
    elif kind == "Boolean":
        return isinstance(value, bool) and isinstance(expected, bool) and value is expected
    else:
        left, right = parse_timestamp(value), parse_timestamp(expected)
        if left is None or right is None:
            return False
    return {
        "Equals": left == right,
        "LessThan": left < right,
        "GreaterThan": left > right,
        "LessThanEquals": left <= right,
        "GreaterThanEquals": left >= right,
    }[relation]


def string_matches(value: str, pattern: str) -> bool:
    """StringMatches: `*` matches any run of characters; `\\*` and `\\\\` are a literal star and backslash."""
    regex, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            regex.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        regex.append(".*" if ch == "*" else re.escape(ch))
        i += 1
    return re.fullmatch("".join(regex), value, re.S) is not None
