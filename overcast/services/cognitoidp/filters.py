"""ListUsers' filter: `<attribute> = "<value>"` (exact) or `<attribute> ^= "<value>"` (starts with), one
attribute, quotes inside the value escaped with a backslash; an empty filter lists everyone."""

from __future__ import annotations

import re
from dataclasses import dataclass

from overcast.errors import ServiceError

SEARCHABLE = frozenset(
    {
        "username",
        "email",
        "phone_number",
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "cognito:user_status",
        "status",
        "sub",
    }
)
_FILTER = re.compile(r'^\s*([\w:]+)\s*(\^?=)\s*"((?:[^"\\]|\\.)*)"\s*$')


@dataclass(frozen=True)
class UserFilter:
    attribute: str  # a searchable name as above
    prefix: bool  # ^= rather than =
    value: str

    def matches(self, actual: str | None) -> bool:
        if actual is None:
            return False
        if self.attribute == "cognito:user_status":  # the one case-insensitive comparison
            actual, expected = actual.lower(), self.value.lower()
        else:
            expected = self.value
        return actual.startswith(expected) if self.prefix else actual == expected


def parse(text: str | None) -> UserFilter | None:
    if text is None or not text.strip():
        return None
    found = _FILTER.match(text)
    if not found:
        raise ServiceError("InvalidParameterException", "Error while parsing filter.", 400)
    name, operator, raw = found.groups()
    if name not in SEARCHABLE:
        raise ServiceError("InvalidParameterException", f"Invalid search attribute: {name}", 400)
    value = re.sub(r"\\(.)", r"\1", raw)
    return UserFilter(name, operator == "^=", value)
