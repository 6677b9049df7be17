"""Condition operators of the IAM policy language.

A request context maps lower-cased condition keys to a list of string values (single-valued keys hold one).
`condition_holds` applies one (operator, key, values) block entry with IAM's rules for missing keys,
`...IfExists`, the negated operators, and the `ForAllValues:` / `ForAnyValue:` set qualifiers.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache

from overcast.policy.matching import arn_matches, wildcard_matches

Compare = Callable[[str, str], bool]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _numeric(test: Callable[[float, float], bool]) -> Compare:
    def compare(actual: str, expected: str) -> bool:
        a, b = _number(actual), _number(expected)
        return a is not None and b is not None and test(a, b)

    return compare


@lru_cache(maxsize=1024)
def _date(text: str) -> float | None:
    try:
        return float(text)  # epoch seconds are accepted too
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _dated(test: Callable[[float, float], bool]) -> Compare:
    def compare(actual: str, expected: str) -> bool:
        a, b = _date(actual), _date(expected)
        return a is not None and b is not None and test(a, b)

    return compare


@lru_cache(maxsize=1024)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _ip_in(actual: str, expected: str) -> bool:
    network = _network(expected)
    try:
        address = ipaddress.ip_address(actual.strip())
    except ValueError:
        return False
    return network is not None and address.version == network.version and address in network


def _binary_equals(actual: str, expected: str) -> bool:
    try:
        return base64.b64decode(actual) == base64.b64decode(expected)
    except ValueError:
        return False


# operator -> (comparison, negated). Negated operators hold when no expected value matches.
_OPERATORS: dict[str, tuple[Compare, bool]] = {
    "StringEquals": (lambda a, e: a == e, False),
    "StringNotEquals": (lambda a, e: a == e, True),
    "StringEqualsIgnoreCase": (lambda a, e: a.lower() == e.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda a, e: a.lower() == e.lower(), True),
    "StringLike": (lambda a, e: wildcard_matches(e, a), False),
    "StringNotLike": (lambda a, e: wildcard_matches(e, a), True),
    "NumericEquals": (_numeric(lambda a, b: a == b), False),
    "NumericNotEquals": (_numeric(lambda a, b: a == b), True),
    "NumericLessThan": (_numeric(lambda a, b: a < b), False),
    "NumericLessThanEquals": (_numeric(lambda a, b: a <= b), False),
    "NumericGreaterThan": (_numeric(lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, b: a >= b), False),
    "DateEquals": (_dated(lambda a, b: a == b), False),
    "DateNotEquals": (_dated(lambda a, b: a == b), True),
    "DateLessThan": (_dated(lambda a, b: a < b), False),
    "DateLessThanEquals": (_dated(lambda a, b: a <= b), False),
    "DateGreaterThan": (_dated(lambda a, b: a > b), False),
    "DateGreaterThanEquals": (_dated(lambda a, b: a >= b), False),
    "Bool": (lambda a, e: a.lower() == e.lower(), False),
    "BinaryEquals": (_binary_equals, False),
    "IpAddress": (_ip_in, False),
    "NotIpAddress": (_ip_in, True),
    "ArnEquals": (lambda a, e: arn_matches(e, a), False),
    "ArnLike": (lambda a, e: arn_matches(e, a), False),
    "ArnNotEquals": (lambda a, e: arn_matches(e, a), True),
    "ArnNotLike": (lambda a, e: arn_matches(e, a), True),
}


@lru_cache(maxsize=512)
def _split(operator: str) -> tuple[str | None, str, bool]:
    """'ForAnyValue:StringLikeIfExists' -> ('ForAnyValue', 'StringLike', True)."""
    qualifier = None
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists") and operator != "IfExists"
    if if_exists:
        operator = operator[: -len("IfExists")]
    return qualifier, operator, if_exists


def is_known_operator(operator: str) -> bool:
    qualifier, name, if_exists = _split(operator)
    if qualifier not in (None, "ForAllValues", "ForAnyValue"):
        return False
    if name == "Null":
        return not if_exists and qualifier is None
    return name in _OPERATORS


def condition_holds(operator: str, actual: list[str] | None, expected: tuple[str, ...]) -> bool:
    """Whether one condition entry holds for the request's values of its key (None: key absent)."""
    qualifier, name, if_exists = _split(operator)
    if name == "Null":
        wants_absent = expected[0].lower() == "true" if expected else True
        return (not actual) == wants_absent
    compare, negated = _OPERATORS[name]

    def matches(value: str) -> bool:
        found = any(compare(value, e) for e in expected)
        return not found if negated else found

    if qualifier == "ForAllValues":
        return all(matches(v) for v in actual or ())
    if qualifier == "ForAnyValue":
        return any(matches(v) for v in actual or ())
    if not actual:
        return if_exists or negated
    if negated:
        return all(matches(v) for v in actual)
    return any(matches(v) for v in actual)
