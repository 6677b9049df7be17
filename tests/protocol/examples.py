"""Deterministic example values for botocore shapes, and a normaliser to compare values after a round trip.

    example_input(operation)   -> params dict a boto3 caller could pass (every member populated)
    example_output(operation)  -> a result dict a handler could return
    normalise(value)           -> comparable form (timestamps as UTC epoch floats, bytes, no None/metadata)

Values honour enums, min/max lengths, numeric ranges and patterns (a value made from the pattern itself);
lists and maps get 1-2 entries; recursive structures are cut after one level; tagged unions get exactly one
member. Event-stream members are left out (they are tested separately).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

UTC = _dt.UTC
BASE_TIME = _dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


class ExampleGenerator:
    def __init__(self, *, max_list: int = 2, recursion: int = 1, for_output: bool = False) -> None:
        self.max_list = max_list
        self.recursion = recursion
        self.for_output = for_output
        self._counter = 0

    # ----------------------------------------------------------------------------------------- entry
    def structure(self, shape, top: bool = True) -> dict:
        return self._structure(shape, [], name_hint=shape.name, top=top)

    # ---------------------------------------------------------------------------------------- shapes
    def value(self, shape, stack: list[str], name_hint: str, location: str | None = None) -> Any:
        t = shape.type_name
        if t == "structure":
            if shape.is_document_type:
                return {"doc": name_hint.lower()[:8] or "doc", "n": 1}
            return self._structure(shape, stack, name_hint)
        if t == "list":
            return self._list(shape, stack, name_hint, location)
        if t == "map":
            return self._map(shape, stack, name_hint, location)
        return self.scalar(shape, name_hint, location)

    def _structure(self, shape, stack, name_hint, top=False):
        if shape.serialization.get("eventstream"):
            return None
        stack = stack + [shape.name]
        out: dict[str, Any] = {}
        members = shape.members
        required = set(shape.required_members)
        names = list(members)
        if shape.is_tagged_union and names:
            names = [self._union_choice(shape, stack)]
        for name in names:
            member = members[name]
            if member.serialization.get("eventstream"):
                continue
            if member.type_name == "structure" and member.serialization.get("eventstream"):
                continue
            if self._too_deep(member, stack) and name not in required:
                continue
            if (
                top
                and name not in required
                and member.metadata.get("contextParam")
                and "pattern" in member.metadata
            ):
                continue  # a valid one steers the SDK's endpoint rules to AWS itself (Kinesis's StreamId)
            location = member.serialization.get("location")
            if location == "statusCode":
                out[name] = 200
                continue
            v = self.value(member, stack, name, location)
            if v is not None:
                out[name] = v
        return out

    def _union_choice(self, shape, stack):
        for name, member in shape.members.items():
            if not self._too_deep(member, stack):
                return name
        return next(iter(shape.members))

    def _too_deep(self, shape, stack) -> bool:
        names = _reachable_structs(shape)
        return any(stack.count(n) >= self.recursion for n in names if n in stack)

    def _list(self, shape, stack, name_hint, location):
        lo = shape.metadata.get("min", 1) or 1
        n = max(min(self.max_list, shape.metadata.get("max", self.max_list)), lo)
        if location == "header" or shape.member.type_name == "structure" and shape.member.is_tagged_union:
            n = max(1, lo)
        items = []
        for i in range(n):
            v = self.value(shape.member, stack, f"{name_hint}{i}", location)
            if v is None:
                continue
            items.append(v)
        # enum lists: distinct values keep things realistic
        return items

    def _map(self, shape, stack, name_hint, location):
        lo = shape.metadata.get("min", 1) or 1
        n = max(min(self.max_list, shape.metadata.get("max", self.max_list)), lo)
        key_shape = shape.key
        keys: list[str] = []
        enum = key_shape.enum if key_shape.type_name == "string" else None
        if enum:
            keys = list(enum[:n])
        else:
            for i in range(n):
                keys.append(self._string(key_shape, f"key{i + 1}{name_hint}"))
            if location == "headers":
                keys = [k.lower() for k in keys]
            keys = list(dict.fromkeys(keys))
        out = {}
        for i, k in enumerate(keys):
            v = self.value(shape.value, stack, f"{name_hint}v{i}", None)
            if v is not None:
                out[k] = v
        return out

    def scalar(self, shape, name_hint: str, location: str | None = None) -> Any:
        t = shape.type_name
        meta = shape.metadata
        if t == "string":
            if shape.serialization.get("jsonvalue") and location == "header":
                return {"json": name_hint.lower()[:10] or "v", "n": [1, 2]}
            if shape.enum:
                return shape.enum[0]
            return self._string(shape, name_hint)
        if t in ("integer", "long"):
            lo, hi = meta.get("min"), meta.get("max")
            v = 7
            if lo is not None and v < lo:
                v = int(lo)
            if hi is not None and v > hi:
                v = int(hi)
            return v
        if t in ("float", "double"):
            lo, hi = meta.get("min"), meta.get("max")
            v = 2.5
            if lo is not None and hi is not None:
                v = float(lo) + (float(hi) - float(lo)) / 2
            elif lo is not None and v < lo:
                v = float(lo) + 0.5
            elif hi is not None and v > hi:
                v = float(hi) - 0.5
            return v
        if t == "boolean":
            return True
        if t == "blob":
            lo, hi = meta.get("min", 0), meta.get("max", 64)
            data = b"blob-" + name_hint.encode()[:40] + b"\x00\xff"
            if len(data) < lo:
                data = data + b"x" * (int(lo) - len(data))
            return data[: int(hi)] if hi else data
        if t == "timestamp":
            self._counter += 1
            return BASE_TIME + _dt.timedelta(days=self._counter % 7, seconds=self._counter)
        return name_hint

    def _string(self, shape, name_hint: str) -> str:
        meta = shape.metadata
        lo = int(meta.get("min", 1) or 0)
        hi = int(meta.get("max", 64))
        base = "".join(c for c in name_hint.lower() if c in _ALNUM) or "value"
        base = "x" + base
        if len(base) < lo:
            base = (base * (lo // len(base) + 1))[:lo]
        base = base[: max(hi, lo)]
        return _matching(meta.get("pattern"), base, lo, int(meta["max"]) if "max" in meta else 4096)


def _matching(pattern: str | None, preferred: str, lo: int, hi: int) -> str:
    """`preferred` if it matches the shape's pattern (as the server's validation does: the whole value),
    else a value made from the pattern, of a length within [lo, hi]."""
    import re

    if not pattern:
        return preferred
    try:
        compiled = re.compile(pattern, re.S)
    except re.error:
        return preferred  # not checked by the server either
    if compiled.fullmatch(preferred):
        return preferred
    service = re.match(r"\^?arn:aws[^:]*:([a-z0-9-]+):", pattern)
    if service:  # an ARN: a realistic one first (endpoint rules read ARNs: a made-up partition misleads them)
        for resource in ("stream/x", "x", "function:x", "table/x", "key/x", "x/x", "stream/x/consumer/c:1"):
            candidate = f"arn:aws:{service.group(1)}:us-east-1:123456789012:{resource}"
            if lo <= len(candidate) <= hi and compiled.fullmatch(candidate):
                return candidate
    import re._parser as sre_parse

    tree = sre_parse.parse(pattern, re.S)
    for repeat in (1, 2, 3, 8, lo, 32, 64):
        made = _make(tree, repeat)
        if made is not None and lo <= len(made) <= hi and compiled.fullmatch(made):
            return made
    return preferred


def _make(items, repeat: int) -> str | None:
    """A string the parsed regex `items` matches, each repetition taken `repeat` times where it allows."""
    import re._constants as c

    out = []
    for op, arg in items:
        if op is c.LITERAL:
            out.append(chr(arg))
        elif op is c.NOT_LITERAL:
            out.append("a" if arg != ord("a") else "b")
        elif op is c.ANY:
            out.append("a")
        elif op is c.IN:
            made = _one_of(arg)
            if made is None:
                return None
            out.append(made)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            low, high, sub = arg
            count = max(low, min(repeat, high if high is not c.MAXREPEAT else repeat))
            piece = _make(sub, repeat)
            if piece is None:
                return None
            out.append(piece * count)
        elif op is c.SUBPATTERN:
            piece = _make(arg[-1], repeat)
            if piece is None:
                return None
            out.append(piece)
        elif op is c.BRANCH:
            pieces = [piece for piece in (_make(branch, repeat) for branch in arg[1]) if piece is not None]
            if not pieces:
                return None
            out.append(next((piece for piece in pieces if piece), pieces[0]))  # a non-empty one first
        elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue
        else:
            return None
    return "".join(out)


def _one_of(choices) -> str | None:
    import re._constants as c

    negated = any(op is c.NEGATE for op, _ in choices)
    if negated:
        excluded = {arg for op, arg in choices if op is c.LITERAL}
        return next(ch for ch in "abcxyz0" if ord(ch) not in excluded)
    for op, arg in choices:
        if op is c.LITERAL:
            return chr(arg)
        if op is c.RANGE:
            low, high = arg
            for wanted in "a0A":
                if low <= ord(wanted) <= high:
                    return wanted
            return chr(low)
        if op is c.CATEGORY:
            return {"CATEGORY_DIGIT": "0", "CATEGORY_SPACE": " "}.get(str(arg), "a")
    return None


_reach_cache: dict[int, tuple[Any, frozenset]] = {}


def _reachable_structs(shape) -> frozenset:
    hit = _reach_cache.get(id(shape))
    if hit is not None:
        return hit[1]
    seen: set[str] = set()

    def walk(s):
        t = s.type_name
        if t == "structure":
            if s.name in seen:
                return
            seen.add(s.name)
            for m in s.members.values():
                walk(m)
        elif t == "list":
            walk(s.member)
        elif t == "map":
            walk(s.value)

    walk(shape)
    result = frozenset(seen)
    _reach_cache[id(shape)] = (shape, result)
    return result


def example_input(operation) -> dict:
    shape = operation.input_shape
    return {} if shape is None else ExampleGenerator().structure(shape)


def example_output(operation) -> dict:
    shape = operation.output_shape
    return {} if shape is None else ExampleGenerator(for_output=True).structure(shape)


def example_error(shape) -> dict:
    """Members of an error shape other than the message (as ServiceError **fields)."""
    out = ExampleGenerator(for_output=True).structure(shape)
    for k in ("message", "Message", "Code", "code", "__type"):
        out.pop(k, None)
    return out


# ---------------------------------------------------------------------------------------------- compare


def normalise(value: Any) -> Any:
    """A comparable form: UTC timestamps as floats, bytearray/streams as bytes, None members and
    ResponseMetadata dropped."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items() if v is not None and k != "ResponseMetadata"}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return ("timestamp", round(value.timestamp(), 3))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return ("bytes", bytes(value))
    if hasattr(value, "read"):
        return ("bytes", value.read())
    if isinstance(value, float) and value.is_integer():
        return value
    return value
