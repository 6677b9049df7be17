"""Matching in the policy language: `*`/`?` wildcards, ARNs segment by segment, and policy variables."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@lru_cache(maxsize=8192)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    if pattern == "*":
        return True
    if "*" not in pattern and "?" not in pattern:
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return _pattern(pattern, ignore_case).fullmatch(value) is not None


def action_matches(pattern: str, action: str) -> bool:
    """Actions compare case-insensitively: `s3:getobject` matches `s3:GetObject`."""
    return wildcard_matches(pattern, action, ignore_case=True)


def arn_matches(pattern: str, arn: str) -> bool:
    """ARNs match segment by segment (partition, service, region, account); the resource part may span colons."""
    if pattern == "*":
        return True
    expected = pattern.split(":", 5)
    actual = arn.split(":", 5)
    if len(expected) != 6 or len(actual) != 6:
        return wildcard_matches(pattern, arn)
    return all(wildcard_matches(e, a) for e, a in zip(expected, actual, strict=True))


def substitute(text: str, context: Mapping[str, list[str]]) -> str | None:
    """Replace `${key}` policy variables from the request context; None when one has no value and no default.

    `${*}`, `${?}` and `${$}` stand for the literal characters; `${aws:username, 'guest'}` has a default.
    """
    if "${" not in text:
        return text
    missing = False

    def replace(match: re.Match[str]) -> str:
        nonlocal missing
        body = match.group(1)
        if body in ("*", "?", "$"):
            return body
        key, _, default = body.partition(",")
        values = context.get(key.strip().lower())
        if values and len(values) == 1:
            return values[0]
        default = default.strip()
        if len(default) >= 2 and default[0] == default[-1] == "'":
            return default[1:-1]
        missing = True
        return ""

    result = _VARIABLE.sub(replace, text)
    return None if missing else result
