"""Condition operators and their rules for missing keys, IfExists, negation and set qualifiers
(IAM User Guide: condition operators, multivalued context keys)."""

import pytest

from overcast.policy.conditions import condition_holds

CASES = [
    ("StringEquals", ["a"], ("a",), True),
    ("StringEquals", ["a"], ("b", "a"), True),
    ("StringEquals", ["A"], ("a",), False),
    ("StringEquals", None, ("a",), False),
    ("StringNotEquals", ["a"], ("b",), True),
    ("StringNotEquals", ["a"], ("a",), False),
    ("StringNotEquals", None, ("a",), True),
    ("StringEqualsIgnoreCase", ["ABC"], ("abc",), True),
    ("StringNotEqualsIgnoreCase", ["ABC"], ("abc",), False),
    ("StringLike", ["home/alice/x"], ("home/*/x",), True),
    ("StringLike", ["abc"], ("a?c",), True),
    ("StringNotLike", ["abc"], ("x*",), True),
    ("StringEqualsIfExists", None, ("a",), True),
    ("StringEqualsIfExists", ["b"], ("a",), False),
    ("NumericLessThan", ["5"], ("10",), True),
    ("NumericLessThan", ["10"], ("10",), False),
    ("NumericLessThanEquals", ["10"], ("10",), True),
    ("NumericGreaterThan", ["3601"], ("3600",), True),
    ("NumericGreaterThanEquals", ["3600"], ("3600",), True),
    ("NumericEquals", ["x"], ("1",), False),
    ("NumericNotEquals", ["2"], ("1",), True),
    ("DateLessThan", ["2020-01-01T00:00:00Z"], ("2021-01-01T00:00:00Z",), True),
    ("DateGreaterThan", ["2020-01-01T00:00:00Z"], ("2021-01-01T00:00:00Z",), False),
    ("DateGreaterThanEquals", ["1609459200"], ("2021-01-01T00:00:00Z",), True),
    ("DateEquals", ["2021-01-01T00:00:00Z"], ("2021-01-01",), True),
    ("Bool", ["true"], ("true",), True),
    ("Bool", ["false"], ("true",), False),
    ("Bool", None, ("false",), False),
    ("BoolIfExists", None, ("false",), True),
    ("BinaryEquals", ["QmluYXJ5"], ("QmluYXJ5",), True),
    ("IpAddress", ["203.0.113.5"], ("203.0.113.0/24",), True),
    ("IpAddress", ["198.51.100.1"], ("203.0.113.0/24",), False),
    ("NotIpAddress", ["198.51.100.1"], ("203.0.113.0/24",), True),
    ("IpAddress", ["2001:db8::1"], ("2001:db8::/32",), True),
    ("ArnLike", ["arn:aws:sns:us-east-1:123456789012:topic"], ("arn:aws:sns:*:123456789012:*",), True),
    (
        "ArnEquals",
        ["arn:aws:sns:us-east-1:123456789012:topic"],
        ("arn:aws:sns:us-east-1:123456789012:topic",),
        True,
    ),
    ("ArnNotLike", ["arn:aws:sns:us-east-1:123456789012:topic"], ("arn:aws:sqs:*",), True),
    ("Null", None, ("true",), True),
    ("Null", ["x"], ("true",), False),
    ("Null", ["x"], ("false",), True),
    ("ForAllValues:StringEquals", ["a", "b"], ("a", "b", "c"), True),
    ("ForAllValues:StringEquals", ["a", "d"], ("a", "b", "c"), False),
    ("ForAllValues:StringEquals", None, ("a",), True),  # vacuously true: the documented pitfall
    ("ForAnyValue:StringEquals", ["x", "b"], ("a", "b"), True),
    ("ForAnyValue:StringEquals", None, ("a",), False),
    ("ForAnyValue:StringLike", ["env", "team"], ("te*",), True),
]


@pytest.mark.parametrize("operator, actual, expected, holds", CASES)
def test_condition(operator, actual, expected, holds):
    assert condition_holds(operator, actual, expected) is holds
