"""What a target receives: the event, a constant `Input`, the part of the event an `InputPath` selects, or an
`InputTransformer`'s template filled with values the event's paths select.

JSON paths are the subset EventBridge evaluates: `$`, dot notation with names of letters, digits, `-`, `_`
(and `/`), array indices `[n]` and wildcards `*` / `[*]` (which collect a list).

Template filling follows AWS's quoting rules: inside a JSON string (`"...<name>..."`) a value is inserted as
text (a string without its quotes, escaped for the string it lands in; anything else as its JSON); outside a
string it is inserted as JSON (a string with quotes). A path that selects nothing gives `null` outside a string
and nothing inside one. A template that is not a JSON object is text: values go in as text, unquoted.
`aws.events.event` and `aws.events.event.json` are inserted as raw JSON wherever they stand.
"""

from __future__ import annotations

import json
import re
from typing import Any

PATH = re.compile(r"^\$(?:\.(?:[A-Za-z0-9_\-/]+|\*)|\[(?:\d+|\*)\])*$")
_STEP = re.compile(r"\.([A-Za-z0-9_\-/]+|\*)|\[(\d+|\*)\]")
PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
RESERVED = ("aws.events.rule-arn", "aws.events.rule-name", "aws.events.event.ingestion-time")
RAW = ("aws.events.event", "aws.events.event.json")
_NOTHING = object()


def valid_path(path: str) -> bool:
    return bool(PATH.match(path))


def select(document: Any, path: str) -> Any:
    """The value `path` selects in `document`, or None when it selects nothing."""
    found = _select(document, path)
    return None if found is _NOTHING else found


def _select(document: Any, path: str) -> Any:
    values, collecting = [document], False
    for name, index in _STEP.findall(path[1:]):
        step = name or index
        following: list[Any] = []
        for value in values:
            if step == "*":
                collecting = True
                if isinstance(value, dict):
                    following.extend(value.values())
                elif isinstance(value, list):
                    following.extend(value)
            elif index:
                if isinstance(value, list) and int(index) < len(value):
                    following.append(value[int(index)])
            elif isinstance(value, dict) and name in value:
                following.append(value[name])
        values = following
    if collecting:
        return values
    return values[0] if values else _NOTHING


def fill(template: str, paths: dict[str, str], event: dict[str, Any], variables: dict[str, str]) -> str:
    """The InputTransformer's output for `event`; `variables` holds the predefined aws.events.* values."""
    values: dict[str, Any] = {}
    for name, path in paths.items():
        values[name] = _select(event, path)
    for name, value in variables.items():
        values[name] = value
    if template.lstrip().startswith("{"):
        return _fill_json(template, values)
    return PLACEHOLDER.sub(
        lambda m: _as_text(values.get(m.group(1), _NOTHING), m.group(0), m.group(1)), template
    )


def _as_text(value: Any, original: str, name: str) -> str:
    if name in RAW:
        return value
    if value is _NOTHING:
        return original if name not in RESERVED else ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _fill_json(template: str, values: dict[str, Any]) -> str:
    """Walk the template once, knowing at each placeholder whether it stands inside a JSON string."""
    out: list[str] = []
    in_string, escaped, i = False, False, 0
    while i < len(template):
        char = template[i]
        if char == "<":
            found = PLACEHOLDER.match(template, i)
            if found and found.group(1) in values:
                out.append(_insert(values[found.group(1)], found.group(1), in_string))
                i = found.end()
                continue
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        out.append(char)
        i += 1
    return "".join(out)


def _insert(value: Any, name: str, in_string: bool) -> str:
    if name in RAW:
        return value
    if value is _NOTHING:
        return "" if in_string else "null"
    if in_string:
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        return json.dumps(text)[1:-1]
    return json.dumps(value, separators=(",", ":"))
