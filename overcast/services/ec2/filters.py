"""EC2's `Filters`, one engine for every Describe call.

A filter names a field of the described resource (`vpc-id`, `cidr-block-association.cidr-block`,
`tag:Name`, `tag-key`) and lists values: a resource matches a filter when one of the field's values matches
one of the filter's values (wildcards `*` and `?`, `\\*` for a literal star), and matches the request when it
matches every filter. A family declares what each filter name reads as a `FilterSpec`: a path into the
description (`"CidrBlockAssociationSet.CidrBlock"`: lists along the way are flattened) or a function of the
description returning its values. An unknown name is AWS's `InvalidParameterValue`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from overcast.services.ec2.errors import bad_filter

Reader = str | Callable[[dict[str, Any]], Iterable[Any]]
FilterSpec = Mapping[str, Reader]
MAX_VALUES = 200  # values in one filter (AWS: FilterLimitExceeded beyond it)


def read_path(description: Any, path: str) -> list[Any]:
    """Every value at a dotted path, flattening lists on the way."""
    values = [description]
    for key in path.split("."):
        found: list[Any] = []
        for value in values:
            if isinstance(value, list):
                found.extend(item.get(key) for item in value if isinstance(item, dict))
            elif isinstance(value, dict):
                found.append(value.get(key))
        values = [v for v in found if v is not None]
    flat: list[Any] = []
    for value in values:
        flat.extend(value) if isinstance(value, list) else flat.append(value)
    return flat


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@lru_cache(maxsize=1024)
def _pattern(value: str) -> re.Pattern[str]:
    out, escaped = [], False
    for char in value:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.S)


def value_matches(wanted: str, actual: str) -> bool:
    if "*" not in wanted and "?" not in wanted and "\\" not in wanted:
        return wanted == actual
    return _pattern(wanted).fullmatch(actual) is not None


def _tags(description: dict[str, Any]) -> list[dict[str, Any]]:
    return description.get("Tags") or description.get("TagSet") or []


def field_values(description: dict[str, Any], name: str, spec: FilterSpec) -> list[str]:
    if name.startswith("tag:"):
        key = name[4:]
        return [as_text(t.get("Value", "")) for t in _tags(description) if t.get("Key") == key]
    if name == "tag-key":
        return [as_text(t.get("Key")) for t in _tags(description)]
    if name == "tag-value":
        return [as_text(t.get("Value", "")) for t in _tags(description)]
    reader = spec[name]
    values = read_path(description, reader) if isinstance(reader, str) else list(reader(description))
    return [as_text(v) for v in values if v is not None]


def check(filters: list[dict[str, Any]] | None, spec: FilterSpec) -> None:
    """AWS's error for a filter name the resource does not have."""
    for item in filters or ():
        name = item.get("Name") or ""
        if name.startswith("tag:") or name in ("tag-key", "tag-value") or name in spec:
            continue
        raise bad_filter(name)


def matches(description: dict[str, Any], filters: list[dict[str, Any]] | None, spec: FilterSpec) -> bool:
    for item in filters or ():
        wanted = item.get("Values") or []
        actual = field_values(description, item["Name"], spec)
        if not any(value_matches(w, a) for w in wanted for a in actual):
            return False
    return True


def tag_specifications(params: Mapping[str, Any], resource_type: str) -> dict[str, str]:
    """The tags a create request asks for on `resource_type` (TagSpecifications)."""
    tags: dict[str, str] = {}
    for spec in params.get("TagSpecifications") or ():
        if spec.get("ResourceType") in (resource_type, None):
            tags.update({t["Key"]: t.get("Value", "") for t in spec.get("Tags") or ()})
    return tags
