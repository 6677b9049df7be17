"""The part of jq that dynamic partitioning's MetadataExtraction queries use (jq itself is not at hand).

A query is an object of paths, `{customer: .customer_id, year: .event.date.year, first: .items[0].id}`, or one
path (`.customer_id`, giving the key `.customer_id` in Firehose's terms it has no name: refused). Paths are
`.name`, `."quoted name"`, `["name"]` and `[index]` steps. Pipes, functions and arithmetic are refused with a
clear error when the delivery stream is created.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_STEP = re.compile(
    r'\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\.\s*"((?:[^"\\]|\\.)*)"|\[\s*"((?:[^"\\]|\\.)*)"\s*\]|\[\s*(-?\d+)\s*\]|\.)'
)
_NAME = re.compile(r'\s*(?:([A-Za-z_][A-Za-z0-9_]*)|"((?:[^"\\]|\\.)*)")\s*:')

Query = Callable[[Any], dict[str, str]]


class QueryError(ValueError):
    pass


class MissingKey(LookupError):
    pass


def _path(text: str, at: int) -> tuple[list[str | int], int]:
    steps: list[str | int] = []
    if not text[at:].lstrip().startswith((".", "[")):
        raise QueryError(f"Unsupported jq expression at: {text[at:]!r}")
    while at < len(text):
        found = _STEP.match(text, at)
        if not found or found.end() == at:
            break
        name, quoted, bracketed, index = found.groups()
        if name is not None or quoted is not None or bracketed is not None:
            steps.append(name if name is not None else (quoted if quoted is not None else bracketed))
        elif index is not None:
            steps.append(int(index))
        at = found.end()
    return steps, at


def compile_query(text: str) -> Query:
    """A function from a parsed JSON record to its partition keys; QueryError for what is not supported."""
    body = text.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise QueryError(
            "The MetadataExtractionQuery must be a jq object construction such as {key: .field}."
        )
    fields: list[tuple[str, list[str | int]]] = []
    at, end = 1, len(body) - 1
    while at < end:
        named = _NAME.match(body, at)
        if not named:
            raise QueryError(f"Unsupported jq expression at: {body[at:end]!r}")
        key = named.group(1) or named.group(2)
        steps, at = _path(body, named.end())
        fields.append((key, steps))
        rest = body[at:end].lstrip()
        if rest.startswith(","):
            at = end - len(rest) + 1
        elif rest:
            raise QueryError(f"Unsupported jq expression at: {rest!r}")
        else:
            at = end

    def run(record: Any) -> dict[str, str]:
        return {key: _text(_walk(record, steps)) for key, steps in fields}

    return run


def _walk(value: Any, steps: list[str | int]) -> Any:
    for step in steps:
        if isinstance(step, int) and isinstance(value, list) and -len(value) <= step < len(value):
            value = value[step]
        elif isinstance(step, str) and isinstance(value, dict) and step in value:
            value = value[step]
        else:
            raise MissingKey(step)
    if value is None:
        raise MissingKey("null")
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, separators=(",", ":"))
    return str(value)
