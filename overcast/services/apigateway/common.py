"""What the REST API families share: ids, AWS's errors and their wording, and patch operations.

Update operations take `patchOperations` (RFC 6902 as API Gateway reads it: `op`, `path` with `~1` for `/`,
`value` always a string). Each family says which paths it accepts and how a value is typed; `apply_patch`
does the rest.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from typing import Any

from overcast.errors import ServiceError

_ID_ALPHABET = string.ascii_lowercase + string.digits
_ids = random.Random()


def new_id(length: int = 10) -> str:
    """An API Gateway identifier: lower-case letters and digits (`a1b2c3d4e5`)."""
    return "".join(_ids.choice(_ID_ALPHABET) for _ in range(length))


def not_found(message: str) -> ServiceError:
    return ServiceError("NotFoundException", message, 404)


def bad_request(message: str) -> ServiceError:
    return ServiceError("BadRequestException", message, 400)


def conflict(message: str) -> ServiceError:
    return ServiceError("ConflictException", message, 409)


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceededException", message, 429)


def unescape(segment: str) -> str:
    """A JSON Pointer segment (`application~1json` is `application/json`)."""
    return segment.replace("~1", "/").replace("~0", "~")


def split_path(path: str) -> list[str]:
    return [unescape(part) for part in path.strip("/").split("/")] if path.strip("/") else []


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise bad_request(f"Invalid boolean value: {value}")


def as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"Invalid integer value: {value}") from None


def as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise bad_request(f"Invalid number value: {value}") from None


# A patch path's handling: (the path pattern's segments with "*" for any one segment, how to apply it).
PatchRule = tuple[str, Callable[[dict[str, Any], str, list[str], Any], None]]


def set_field(converter: Callable[[Any], Any] = str, key: str | None = None):
    """A rule that sets (replace/add) or clears (remove) one top-level field."""

    def apply(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
        name = key or parts[0]
        if op == "remove":
            doc.pop(name, None)
        else:
            doc[name] = converter(value) if value is not None else None

    return apply


def map_entry(converter: Callable[[Any], Any] = str, key: str | None = None):
    """A rule for `/<map>/<key>`: add/replace sets the entry, remove deletes it (maps of string values:
    stage variables, request parameters, request templates)."""

    def apply(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
        name = key or parts[0]
        entries = doc.setdefault(name, {})
        if op == "remove":
            entries.pop(parts[-1], None)
        else:
            entries[parts[-1]] = converter(value) if value is not None else None
        if not entries:
            doc.pop(name, None)

    return apply


def list_member(key: str | None = None):
    """A rule for `/<list>/<value>` (binaryMediaTypes): add appends the value the path names, remove drops it."""

    def apply(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
        name = key or parts[0]
        members = doc.setdefault(name, [])
        member = parts[-1] if len(parts) > 1 else value
        if op == "remove":
            if member in members:
                members.remove(member)
        elif op in ("add", "replace") and member not in members:
            if op == "replace" and len(parts) > 1 and value is not None:  # rename one member
                members[members.index(member) if member in members else len(members) :] = [value]
            else:
                members.append(member)
        if not members:
            doc.pop(name, None)

    return apply


def apply_patch(doc: dict[str, Any], operations: list[dict[str, Any]] | None, rules: list[PatchRule]) -> None:
    """Apply `patchOperations` to `doc` in order; a path no rule accepts is AWS's BadRequestException."""
    for operation in operations or []:
        op = operation.get("op") or "replace"
        path = operation.get("path") or ""
        parts = split_path(path)
        if op in ("move", "copy", "test"):
            raise bad_request("Invalid patch operation specified. Must be 'add'|'remove'|'replace'")
        rule = _rule_for(parts, rules)
        if rule is None:
            raise bad_request(f"Invalid patch path {path}")
        rule(doc, op, parts, operation.get("value"))


def _rule_for(parts: list[str], rules: list[PatchRule]):
    for pattern, rule in rules:
        expected = pattern.strip("/").split("/")
        if len(expected) == len(parts) or (expected[-1] == "**" and len(parts) >= len(expected) - 1):
            if all(e in ("*", "**") or e == p for e, p in zip(expected, parts, strict=False)):
                return rule
    return None


def strip_none(doc: dict[str, Any]) -> dict[str, Any]:
    """The document without its empty members (AWS omits unset fields)."""
    return {k: v for k, v in doc.items() if v is not None}
