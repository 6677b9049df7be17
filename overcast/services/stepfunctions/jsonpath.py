"""JSONPath as the Amazon States Language uses it (the Jayway dialect's common subset).

Written here rather than taken from a library: ASL needs two things the JSONPath packages do not give together
— Jayway's split between *definite* paths (one value, an error when absent) and *indefinite* ones (a list of
matches, possibly empty), and *reference paths* (`$.a['b'][0]`) that ResultPath writes through, creating the
objects on the way. The grammar is small: `$` (or `$$` for the context object), `.name`, `['name']`, `[n]`,
`[-n]`, `[*]`, `.*`, `..name`, `[a,b]`, `[start:end:step]`, `[?(@.x > 1 && @.y == 'z')]` and `.length()`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_MISSING = object()


class PathError(ValueError):
    """The text is not a JSONPath this dialect accepts."""


class NotFound(LookupError):
    """A definite path names nothing in the data."""


@dataclass(frozen=True)
class Segment:
    kind: str  # name | index | wildcard | descend | union | slice | filter | length
    value: Any = None


@dataclass(frozen=True)
class Path:
    text: str
    context: bool  # starts with $$ (the context object)
    segments: tuple[Segment, ...]

    @property
    def definite(self) -> bool:
        return all(s.kind in ("name", "index", "length") for s in self.segments)

    @property
    def reference(self) -> bool:
        """A Reference Path (what ResultPath accepts): names and non-negative indexes only."""
        return (
            all(s.kind == "name" or (s.kind == "index" and s.value >= 0) for s in self.segments)
            and not self.context
        )


_NAME = re.compile(r"[^.\[\]()\s]+")
_INDEX = re.compile(r"\[\s*(-?\d+)\s*\]")
_SLICE = re.compile(r"\[\s*(-?\d*)\s*:\s*(-?\d*)\s*(?::\s*(-?\d*)\s*)?\]")


@lru_cache(maxsize=4096)
def parse(text: str) -> Path:
    if not isinstance(text, str) or not text.startswith("$"):
        raise PathError(text)
    context = text.startswith("$$")
    pos = 2 if context else 1
    segments: list[Segment] = []
    while pos < len(text):
        pos = _segment(text, pos, segments)
    return Path(text, context, tuple(segments))


def _segment(text: str, pos: int, out: list[Segment]) -> int:
    if text.startswith("..", pos):
        pos += 2
        if text.startswith("*", pos):
            out.append(Segment("descend", None))
            return pos + 1
        match = _NAME.match(text, pos)
        if not match:
            if text.startswith("[", pos):
                out.append(Segment("descend", None))
                return pos
            raise PathError(text)
        out.append(Segment("descend", match.group()))
        return match.end()
    if text.startswith(".length()", pos) and pos + 9 == len(text):
        out.append(Segment("length"))
        return pos + 9
    if text.startswith(".", pos):
        pos += 1
        if text.startswith("*", pos):
            out.append(Segment("wildcard"))
            return pos + 1
        match = _NAME.match(text, pos)
        if not match:
            raise PathError(text)
        out.append(Segment("name", match.group()))
        return match.end()
    if text.startswith("[", pos):
        return _bracket(text, pos, out)
    raise PathError(text)


def _bracket(text: str, pos: int, out: list[Segment]) -> int:
    if text.startswith("[*]", pos):
        out.append(Segment("wildcard"))
        return pos + 3
    if text.startswith("[?(", pos):
        end = _matching(text, pos + 2)
        if end + 1 >= len(text) + 1 or not text.startswith("]", end + 1):
            raise PathError(text)
        out.append(Segment("filter", _parse_filter(text[pos + 3 : end], text)))
        return end + 2
    if match := _INDEX.match(text, pos):
        out.append(Segment("index", int(match.group(1))))
        return match.end()
    if match := _SLICE.match(text, pos):
        parts = tuple(int(p) if p not in (None, "") else None for p in match.groups())
        out.append(Segment("slice", parts))
        return match.end()
    close = _close_bracket(text, pos)
    items = [_member(part.strip(), text) for part in _split_top(text[pos + 1 : close], ",")]
    if len(items) == 1:
        item = items[0]
        out.append(Segment("index" if isinstance(item, int) else "name", item))
    else:
        out.append(Segment("union", tuple(items)))
    return close + 1


def _member(part: str, text: str) -> str | int:
    if len(part) >= 2 and part[0] == part[-1] and part[0] in "'\"":
        return part[1:-1].replace("\\'", "'").replace('\\"', '"')
    if re.fullmatch(r"-?\d+", part):
        return int(part)
    raise PathError(text)


def _close_bracket(text: str, pos: int) -> int:
    quote = None
    for i in range(pos + 1, len(text)):
        ch = text[i]
        if quote:
            if ch == "\\":
                continue
            if ch == quote and text[i - 1] != "\\":
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "]":
            return i
    raise PathError(text)


def _matching(text: str, pos: int) -> int:
    """The index of the parenthesis closing the one at `pos`."""
    depth, quote = 0, None
    for i in range(pos, len(text)):
        ch = text[i]
        if quote:
            if ch == quote and text[i - 1] != "\\":
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
    raise PathError(text)


def _split_top(text: str, sep: str) -> list[str]:
    parts, quote, start = [], None, 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote and text[i - 1] != "\\":
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == sep:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


# -- filters: [?(@.price < 10 && @.kind == 'book')] ---------------------------------------------------------

_FILTER_TOKEN = re.compile(
    r"\s*(?:(?P<op>==|!=|<=|>=|<|>|&&|\|\||!|\(|\))|(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<word>true|false|null)"
    r"|(?P<path>[@$][^\s=!<>&|()]*(?:\([^)]*\))?))"
)


def _parse_filter(source: str, text: str) -> tuple:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(source):
        match = _FILTER_TOKEN.match(source, pos)
        if not match or match.end() == pos:
            if source[pos:].strip() == "":
                break
            raise PathError(text)
        kind = match.lastgroup
        raw = match.group(kind)
        if kind == "str":
            tokens.append(("value", raw[1:-1]))
        elif kind == "num":
            tokens.append(("value", float(raw) if any(c in raw for c in ".eE") else int(raw)))
        elif kind == "word":
            tokens.append(("value", {"true": True, "false": False, "null": None}[raw]))
        elif kind == "path":
            tokens.append(("path", raw))
        else:
            tokens.append(("op", raw))
        pos = match.end()
    parser = _FilterParser(tokens, text)
    tree = parser.disjunction()
    if parser.pos != len(tokens):
        raise PathError(text)
    return tree


class _FilterParser:
    def __init__(self, tokens: list[tuple[str, Any]], text: str) -> None:
        self.tokens, self.pos, self.text = tokens, 0, text

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        if token is None:
            raise PathError(self.text)
        self.pos += 1
        return token

    def disjunction(self) -> tuple:
        left = self.conjunction()
        while self.peek() == ("op", "||"):
            self.pos += 1
            left = ("or", left, self.conjunction())
        return left

    def conjunction(self) -> tuple:
        left = self.comparison()
        while self.peek() == ("op", "&&"):
            self.pos += 1
            left = ("and", left, self.comparison())
        return left

    def comparison(self) -> tuple:
        token = self.take()
        if token == ("op", "!"):
            return ("not", self.comparison())
        if token == ("op", "("):
            inner = self.disjunction()
            if self.take() != ("op", ")"):
                raise PathError(self.text)
            return inner
        if token[0] == "op":
            raise PathError(self.text)
        left = token
        following = self.peek()
        if following and following[0] == "op" and following[1] in ("==", "!=", "<", "<=", ">", ">="):
            self.pos += 1
            right = self.take()
            if right[0] == "op":
                raise PathError(self.text)
            return ("cmp", following[1], left, right)
        return ("exists", left)


def _operand(token: tuple[str, Any], current: Any, root: Any) -> Any:
    kind, value = token
    if kind == "value":
        return value
    base = current if value.startswith("@") else root
    try:
        return query("$" + value[1:], base)
    except NotFound:
        return _MISSING


def _test(tree: tuple, current: Any, root: Any) -> bool:
    kind = tree[0]
    if kind == "or":
        return _test(tree[1], current, root) or _test(tree[2], current, root)
    if kind == "and":
        return _test(tree[1], current, root) and _test(tree[2], current, root)
    if kind == "not":
        return not _test(tree[1], current, root)
    if kind == "exists":
        found = _operand(tree[1], current, root)
        return found is not _MISSING and found is not None and found is not False
    _, op, left_token, right_token = tree
    left, right = _operand(left_token, current, root), _operand(right_token, current, root)
    if left is _MISSING or right is _MISSING:
        return False
    if op == "==":
        return _same(left, right)
    if op == "!=":
        return not _same(left, right)
    if _is_number(left) and _is_number(right) or isinstance(left, str) and isinstance(right, str):
        return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    return left == right


# -- evaluation ------------------------------------------------------------------------------------------


def query(text: str, data: Any, context: Any = None) -> Any:
    """The value of the path `text` in `data` (`$$...` reads `context`). A definite path gives its one value
    or raises NotFound; an indefinite one gives the list of what it matched."""
    if text == "$":
        return data
    path = parse(text)
    root = context if path.context else data
    if path.definite:
        return _definite(path, root)
    nodes = [root]
    for segment in path.segments:
        nodes = [found for node in nodes for found in _step(segment, node, root)]
    return nodes


def _definite(path: Path, root: Any) -> Any:
    node = root
    for segment in path.segments:
        if segment.kind == "name":
            if not isinstance(node, dict) or segment.value not in node:
                raise NotFound(path.text)
            node = node[segment.value]
        elif segment.kind == "index":
            if not isinstance(node, list) or not -len(node) <= segment.value < len(node):
                raise NotFound(path.text)
            node = node[segment.value]
        else:  # length()
            if not isinstance(node, list | dict | str):
                raise NotFound(path.text)
            node = len(node)
    return node


def _step(segment: Segment, node: Any, root: Any) -> list[Any]:
    kind, value = segment.kind, segment.value
    if kind == "name":
        return [node[value]] if isinstance(node, dict) and value in node else []
    if kind == "index":
        if isinstance(node, list) and -len(node) <= value < len(node):
            return [node[value]]
        return []
    if kind == "wildcard":
        return list(node.values()) if isinstance(node, dict) else list(node) if isinstance(node, list) else []
    if kind == "union":
        found = []
        for item in value:
            found.extend(_step(Segment("index" if isinstance(item, int) else "name", item), node, root))
        return found
    if kind == "slice":
        if not isinstance(node, list):
            return []
        start, end, step = value
        return node[slice(start, end, step or 1)]
    if kind == "filter":
        members = node if isinstance(node, list) else list(node.values()) if isinstance(node, dict) else []
        return [member for member in members if _test(value, member, root)]
    if kind == "length":
        return [len(node)] if isinstance(node, list | dict | str) else []
    # descend: every value below `node` (and itself) that has `value` as a key, or every value for `..*`
    found: list[Any] = []
    for descendant in _walk(node):
        if value is None:
            if descendant is not node:
                found.append(descendant)
        elif isinstance(descendant, dict) and value in descendant:
            found.append(descendant[value])
    return found


def _walk(node: Any):
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from _walk(child)


def is_path(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    try:
        parse(text)
    except PathError:
        return False
    return True


def is_reference_path(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    try:
        return parse(text).reference
    except PathError:
        return False


class ResultPathMismatch(ValueError):
    """ResultPath leads through a value that is not an object (or a list shorter than the index)."""


def put(data: Any, text: str, value: Any) -> Any:
    """`data` with `value` placed at the reference path `text` (ResultPath): `$` replaces the whole; names
    that do not exist are created as objects; `data` itself is not modified."""
    path = parse(text)
    if not path.segments:
        return value
    # Copy only the containers on the way (the rest is shared: values are never changed in place).
    result = _shallow(data)
    node = result
    segments = path.segments
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment.kind == "name":
            if not isinstance(node, dict):
                raise ResultPathMismatch(text)
            if last:
                node[segment.value] = value
            else:
                child = node.get(segment.value)
                node[segment.value] = _shallow(child) if isinstance(child, dict | list) else {}
                node = node[segment.value]
        else:
            if not isinstance(node, list) or segment.value >= len(node):
                raise ResultPathMismatch(text)
            if last:
                node[segment.value] = value
            else:
                node[segment.value] = _shallow(node[segment.value])
                node = node[segment.value]
    return result


def _shallow(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value
