"""DNS names as Route 53 keeps and shows them (pure).

Names are kept in lower case, fully qualified (a final dot), with a wildcard label as `*`; the API shows the
wildcard as `\\052`, as Route 53 does. Record sets and zones are listed by name with the labels reversed
(`com.example.www`), as ListResourceRecordSets and ListHostedZonesByName order them.
"""

from __future__ import annotations

import re

_OCTAL = re.compile(r"\\(\d{3})")


def normalize(name: str) -> str:
    """The name as kept: octal escapes decoded, lower case, a final dot."""
    text = _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), name.strip()).lower()
    return text if text.endswith(".") else text + "."


def shown(name: str) -> str:
    """The name as the API shows it (`*` as `\\052`)."""
    return name.replace("*", "\\052")


def sort_key(name: str) -> str:
    labels = name.rstrip(".").split(".")
    return ".".join(reversed(labels))


def within(name: str, zone: str) -> bool:
    """Whether `name` is the zone's apex or below it."""
    return name == zone or name.endswith("." + zone)


def valid(name: str) -> bool:
    if name == ".":
        return True
    labels = name.rstrip(".").split(".")
    if len(name) > 255 or any(not label or len(label) > 63 for label in labels):
        return False
    return True


def parents(name: str) -> list[str]:
    """`name` and each name above it: a.b.c. -> [a.b.c., b.c., c.]"""
    labels = name.rstrip(".").split(".")
    return [".".join(labels[i:]) + "." for i in range(len(labels))]
