"""Logs Insights: the basic query language run over stored events.

Commands, joined by `|` and applied in order: `fields`, `display`, `filter`, `parse` (glob `"* [*] *"` or
`/(?<name>...)/` regex), `stats` (count, count_distinct, sum, avg, min, max; `by` fields and `bin(5m)`),
`sort`, `limit`, `dedup`. Records carry @timestamp, @message, @logStream, @log, @ingestionTime, @ptr and the
fields discovered in JSON messages (nested keys joined with dots). Results are strings, as AWS returns them.
"""

from __future__ import annotations

import heapq
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from overcast.services.kit.regex import RegexError, compile_linear

Record = dict[str, Any]
Expression = Callable[[Record], Any]


class QueryError(ValueError):
    """The query string is not valid Insights syntax."""


@dataclass
class Command:
    name: str
    apply: Callable[[Iterable[Record]], Iterable[Record]]
    outputs: list[str] | None = None  # fields the command makes the visible ones (fields, display, stats)


@dataclass
class Query:
    commands: list[Command] = field(default_factory=list)
    is_aggregate: bool = False


# -- tokens -----------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<regex>/(?:[^/\\]|\\.)+/)|(?P<num>-?\d+(?:\.\d+)?(?![\w.]))"""
    r"""|(?P<op>==|!=|<=|>=|=~|=|<|>|\(|\)|\[|\]|,|\+|-|\*|/)|(?P<name>`[^`]+`|@?[A-Za-z_][\w.@]*))"""
)


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while text[position:].strip():
        found = _TOKEN.match(text, position)
        if not found:
            raise QueryError(f"unexpected symbol at: {text[position:].strip()[:30]!r}")
        kind = found.lastgroup or ""
        tokens.append((kind, found.group(kind)))
        position = found.end()
    return tokens


def split_commands(text: str) -> list[str]:
    """Split on | outside quotes and regex literals."""
    parts, buffer, quote = [], "", ""
    for char in text:
        if quote:
            quote = "" if char == quote and not buffer.endswith("\\") else quote
        elif char in "\"'/`":
            quote = char
        elif char == "|":
            parts.append(buffer)
            buffer = ""
            continue
        buffer += char
    parts.append(buffer)
    return [part.strip() for part in parts if part.strip()]


class Parser:
    def __init__(self, text: str) -> None:
        # bin(5m): the period is a bare word the expression grammar has no token for; make it a string
        self.tokens = tokenize(re.sub(r"\bbin\(\s*(\w+)\s*\)", r'bin("\1")', text, flags=re.I))
        self.position = 0

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise QueryError("unexpected end of query")
        self.position += 1
        return token

    def accept(self, word: str) -> bool:
        token = self.peek()
        if token and token[1].lower() == word:
            self.position += 1
            return True
        return False

    def done(self) -> bool:
        return self.position >= len(self.tokens)

    # boolean expressions: or > and > not > comparison > arithmetic > term

    def expression(self) -> Expression:
        left = self.conjunction()
        while self.accept("or"):
            right, first = self.conjunction(), left

            def left(r, a=first, b=right):
                return bool(a(r)) or bool(b(r))

        return left

    def conjunction(self) -> Expression:
        left = self.negation()
        while self.accept("and"):
            right, first = self.negation(), left

            def left(r, a=first, b=right):
                return bool(a(r)) and bool(b(r))

        return left

    def negation(self) -> Expression:
        if self.accept("not"):
            inner = self.negation()
            return lambda r: not inner(r)
        return self.comparison()

    def comparison(self) -> Expression:
        left = self.arithmetic()
        token = self.peek()
        if token is None:
            return left
        negated = False
        if token[1].lower() == "not" and self.peek(1) and self.peek(1)[1].lower() in ("like", "in"):
            self.take()
            negated, token = True, self.peek()
        word = token[1].lower()
        if word in ("like", "=~"):
            self.take()
            matcher = self.pattern_operand()

            def test(r):
                return (v := left(r)) is not None and matcher(str(v))
        elif word == "in":
            self.take()
            values = self.list_literal()

            def test(r):
                return _in(left(r), values)
        elif token[0] == "op" and word in _COMPARE:
            self.take()
            right, compare = self.arithmetic(), _COMPARE[word]

            def test(r):
                return _compare(left(r), right(r), compare)
        else:
            return left
        return (lambda r: not test(r)) if negated else test

    def pattern_operand(self) -> Callable[[str], bool]:
        kind, text = self.take()
        if kind == "regex":
            regex = _regex(text[1:-1])
            return lambda value: regex.search(value) is not None
        if kind == "str":
            literal = _unquote(text)
            return lambda value: literal in value
        raise QueryError(f"like needs a /regex/ or a string, found {text!r}")

    def list_literal(self) -> list[Any]:
        if self.take() != ("op", "["):
            raise QueryError("in needs a [list]")
        values = []
        while not self.accept("]"):
            kind, text = self.take()
            if (kind, text) != ("op", ","):
                values.append(_literal(kind, text))
        return values

    def arithmetic(self) -> Expression:
        left = self.term()
        while (token := self.peek()) and token[0] == "op" and token[1] in "+-*/" and len(token[1]) == 1:
            self.take()
            right, first, op = self.term(), left, token[1]

            def left(r, a=first, b=right, o=op):
                return _arithmetic(o, a(r), b(r))

        return left

    def term(self) -> Expression:
        kind, text = self.take()
        if (kind, text) == ("op", "("):
            inner = self.expression()
            if self.take() != ("op", ")"):
                raise QueryError("missing )")
            return inner
        if kind in ("str", "num"):
            value = _literal(kind, text)
            return lambda r: value
        if kind == "name" and self.peek() == ("op", "("):
            return self.function(text.lower())
        if kind == "name":
            name = text.strip("`")
            return lambda r: r.get(name)
        raise QueryError(f"unexpected {text!r}")

    def function(self, name: str) -> Expression:
        self.take()
        arguments: list[Expression] = []
        while not self.accept(")"):
            if self.peek() == ("op", ","):
                self.take()
                continue
            arguments.append(self.expression())
        functions: dict[str, Callable[..., Any]] = {
            "ispresent": lambda v: v is not None,
            "isempty": lambda v: v is None or v == "",
            "tolower": lambda v: None if v is None else str(v).lower(),
            "toupper": lambda v: None if v is None else str(v).upper(),
            "strlen": lambda v: None if v is None else len(str(v)),
            "abs": lambda v: None if _number(v) is None else abs(_number(v)),
        }
        if name == "bin" and len(arguments) == 1:
            to_bin = bin_function(str(arguments[0]({})))
            return lambda r: to_bin(r.get("@timestamp"))
        if name not in functions or len(arguments) != 1:
            raise QueryError(f"unknown function {name}")
        function, argument = functions[name], arguments[0]
        return lambda r: function(argument(r))


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _compare(left: Any, right: Any, compare: Callable[[Any, Any], bool]) -> bool:
    if left is None or right is None:
        return False
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return compare(a, b)
    try:
        return compare(str(left), str(right))
    except TypeError:
        return False


def _in(value: Any, values: list[Any]) -> bool:
    return value is not None and any(_compare(value, candidate, _COMPARE["="]) for candidate in values)


def _arithmetic(op: str, a: Any, b: Any) -> float | None:
    x, y = _number(a), _number(b)
    if x is None or y is None or (op == "/" and y == 0):
        return None
    return {"+": x + y, "-": x - y, "*": x * y, "/": x / y}[op]


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _literal(kind: str, text: str) -> Any:
    if kind == "str":
        return _unquote(text)
    if kind == "num":
        return float(text) if "." in text else int(text)
    raise QueryError(f"expected a value, found {text!r}")


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def _regex(source: str) -> Any:
    """A query's regex, matched in linear time (RE2: no pattern can make the server backtrack)."""
    try:
        return compile_linear(re.sub(r"\(\?<([A-Za-z_]\w*)>", r"(?P<\1>", source))
    except RegexError as error:
        raise QueryError(f"invalid regular expression: {error}") from None


# -- commands ---------------------------------------------------------------------------------------


def parse(text: str) -> Query:
    query = Query()
    for source in split_commands(text):
        name, _, rest = source.partition(" ")
        builder = _COMMANDS.get(name.lower())
        if builder is None:
            raise QueryError(f"unexpected symbol: {name}")
        command = builder(rest.strip())
        query.is_aggregate |= command.name == "stats"
        query.commands.append(command)
    if not query.commands:
        raise QueryError("empty query")
    return query


def _named_expressions(text: str) -> list[tuple[str, Expression]]:
    """`a, b.c, strlen(d) as n` -> [(name, expression)]; the name is the source text unless `as` gives one."""
    result = []
    for part in _split_top_level(text):
        source, alias = part, None
        found = re.match(r"(.*?)\s+as\s+([@\w.]+|`[^`]+`)\s*$", part, re.I | re.S)
        if found:
            source, alias = found.group(1).strip(), found.group(2).strip("`")
        parser = Parser(source)
        expression = parser.expression()
        if not parser.done():
            raise QueryError(f"unexpected {parser.peek()[1]!r} in {part!r}")
        result.append((alias or source.strip("`"), expression))
    if not result:
        raise QueryError("expected at least one field")
    return result


def _split_top_level(text: str) -> list[str]:
    parts, buffer, depth, quote = [], "", 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'`":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(buffer.strip())
            buffer = ""
            continue
        buffer += char
    if buffer.strip():
        parts.append(buffer.strip())
    return parts


def _fields(text: str, name: str = "fields") -> Command:
    named = _named_expressions(text)

    def apply(records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            for field_name, expression in named:
                record[field_name] = expression(record)
            yield record

    return Command(name, apply, [field_name for field_name, _ in named])


def _display(text: str) -> Command:
    return _fields(text, "display")


def _filter(text: str) -> Command:
    parser = Parser(text)
    condition = parser.expression()
    if not parser.done():
        raise QueryError(f"unexpected {parser.peek()[1]!r} in filter")
    return Command("filter", lambda records: (r for r in records if condition(r)))


def _parse(text: str) -> Command:
    found = re.match(r"""^(\S+)\s+(".*"|'.*'|/.*/)(?:\s+as\s+(.+))?$""", text, re.S)
    if not found:
        raise QueryError('parse needs a field and a "glob" or /regex/')
    source, pattern, names = found.group(1).strip("`"), found.group(2), found.group(3)
    if pattern.startswith("/"):
        regex = _regex(pattern[1:-1])
        targets = list(regex.groupindex)
    else:
        pieces = _unquote(pattern).split("*")
        parts = [
            re.escape(piece) + ("(.*?)" if i < len(pieces) - 2 else "(.*)" if i == len(pieces) - 2 else "")
            for i, piece in enumerate(pieces)
        ]
        regex = compile_linear("".join(parts), dot_all=True)
        targets = [n.strip() for n in (names or "").split(",") if n.strip()]
        if len(targets) != regex.groups:
            raise QueryError("parse needs as many names after 'as' as the glob has *")

    def apply(records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            value = record.get(source)
            match = regex.search(str(value)) if value is not None else None
            if match:
                for index, name in enumerate(targets, start=1):
                    record[name] = match.group(name if pattern.startswith("/") else index)
            yield record

    return Command("parse", apply)


_AGGREGATES: dict[str, Callable[[list[Any]], Any]] = {
    "count": len,
    "count_distinct": lambda values: len(set(values)),
    "sum": lambda values: sum(values) if values else None,
    "avg": lambda values: sum(values) / len(values) if values else None,
    "min": lambda values: min(values) if values else None,
    "max": lambda values: max(values) if values else None,
}


def _stats(text: str) -> Command:
    found = re.match(r"(.*?)(?:\s+by\s+(.+))?$", text, re.I | re.S)
    aggregations = [_aggregation(part) for part in _split_top_level(found.group(1))]
    keys = _named_expressions(found.group(2)) if found.group(2) else []
    if not aggregations:
        raise QueryError("stats needs an aggregation")

    def apply(records: Iterable[Record]) -> Iterator[Record]:
        groups: dict[tuple, list[list[Any]]] = {}
        for record in records:
            key = tuple(expression(record) for _, expression in keys)
            values = groups.setdefault(key, [[] for _ in aggregations])
            for bucket, (_, _, argument, numeric) in zip(values, aggregations, strict=True):
                value = argument(record)
                if value is not None and numeric:
                    value = _number(value)
                if value is not None:
                    bucket.append(value)
        for key, buckets in groups.items():
            row = {name: value for (name, _), value in zip(keys, key, strict=True)}
            for (name, function, _, _), bucket in zip(aggregations, buckets, strict=True):
                row[name] = function(bucket)
            yield row

    return Command("stats", apply, [name for name, _ in keys] + [name for name, *_ in aggregations])


def _aggregation(text: str) -> tuple[str, Callable[[list[Any]], Any], Expression, bool]:
    found = re.match(r"(\w+)\s*\((.*)\)(?:\s+as\s+([@\w.]+|`[^`]+`))?\s*$", text, re.I | re.S)
    if not found or found.group(1).lower() not in _AGGREGATES:
        raise QueryError(f"unknown aggregation {text!r}")
    function_name, argument_text, alias = found.group(1).lower(), found.group(2).strip(), found.group(3)
    name = alias.strip("`") if alias else text.split(" as ")[0].strip()
    if argument_text == "*" and function_name == "count":

        def argument(r):
            return 1
    else:
        parser = Parser(argument_text)
        argument = parser.expression()
    numeric = function_name in ("sum", "avg", "min", "max")
    return name, _AGGREGATES[function_name], argument, numeric


def _sort(text: str) -> Command:
    keys = []
    for part in _split_top_level(text):
        found = re.match(r"(.+?)(?:\s+(asc|desc))?$", part, re.I)
        keys.append((_sort_expression(found.group(1).strip()), (found.group(2) or "desc").lower() == "desc"))

    def apply(records: Iterable[Record]) -> list[Record]:
        ordered = list(records)
        for expression, descending in reversed(keys):  # stable sorts, last key first
            present = [r for r in ordered if expression(r) is not None]
            missing = [r for r in ordered if expression(r) is None]
            present.sort(key=lambda r, e=expression: _sort_key(e(r)), reverse=descending)
            ordered = present + missing
        return ordered

    return Command("sort", apply)


def _sort_expression(text: str) -> Expression:
    """A field by its name (stats output names like `count(*)` included), else an expression."""
    name = text.strip("`")
    try:
        expression: Expression | None = Parser(text).expression()
    except QueryError:
        expression = None
    return lambda r: r.get(name) if name in r or expression is None else expression(r)


def _sort_key(value: Any) -> tuple[int, Any]:
    number = _number(value)
    return (0, number) if number is not None else (1, str(value))


def _limit(text: str) -> Command:
    if not text.isdigit() or int(text) < 1:
        raise QueryError("limit needs a positive number")
    count = int(text)

    def apply(records: Iterable[Record]) -> Iterator[Record]:
        for index, record in enumerate(records):
            if index == count:
                return
            yield record

    return Command("limit", apply)


def _dedup(text: str) -> Command:
    named = _named_expressions(text)

    def apply(records: Iterable[Record]) -> Iterator[Record]:
        seen = set()
        for record in records:
            key = tuple(json.dumps(e(record), default=str) for _, e in named)
            if key not in seen:
                seen.add(key)
                yield record

    return Command("dedup", apply)


_COMMANDS: dict[str, Callable[[str], Command]] = {
    "fields": _fields,
    "display": _display,
    "filter": _filter,
    "parse": _parse,
    "stats": _stats,
    "sort": _sort,
    "limit": _limit,
    "dedup": _dedup,
}


# -- execution --------------------------------------------------------------------------------------


def bin_function(period: str) -> Callable[[Any], Any]:
    found = re.fullmatch(r"(\d+)(ms|s|m|h|d|w)?", period.strip())
    if not found:
        raise QueryError(f"invalid bin period {period!r}")
    unit = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}[
        found.group(2) or "s"
    ]
    size = int(found.group(1)) * unit
    return lambda ts: None if _number(ts) is None else int(_number(ts)) // size * size


def execute(
    query: Query, events: Iterable[Record], limit: int
) -> tuple[list[list[dict[str, str]]], dict[str, float]]:
    """Run the query; returns (rows of {field, value}, statistics)."""
    counters = {"recordsScanned": 0.0, "bytesScanned": 0.0}

    def discovered(records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            counters["recordsScanned"] += 1
            counters["bytesScanned"] += len(record["@message"])
            for name, value in record_fields(record["@message"]).items():
                record.setdefault(name, value)
            yield record

    stream: Iterable[Record] = discovered(events)
    visible: list[str] = ["@timestamp", "@message", "@logStream", "@log"]
    chosen = False  # whether a fields/display/stats command has picked the visible fields yet
    for command in query.commands:
        stream = command.apply(stream)
        if command.outputs is not None:
            extend = command.name == "fields" and chosen
            visible = list(dict.fromkeys(visible + command.outputs)) if extend else command.outputs
            chosen = True
    matched = 0

    def counted(records: Iterable[Record]) -> Iterator[Record]:
        nonlocal matched
        for record in records:
            matched += 1
            yield record

    stream = iter(stream)
    if any(command.name in ("sort", "stats") for command in query.commands):
        kept = list(itertools.islice(counted(stream), limit))
        matched += sum(1 for _ in stream)  # the rest of the stream, only counted
    else:  # newest first, as the console shows a query without sort
        kept = heapq.nlargest(limit, counted(stream), key=lambda r: r.get("@timestamp") or 0)
    rows = [_row(record, visible, query.is_aggregate) for record in kept]
    return rows, {"recordsMatched": float(matched), **counters}


def _row(record: Record, visible: list[str], aggregate: bool) -> list[dict[str, str]]:
    row = [
        {"field": name, "value": _text(name, record[name])}
        for name in visible
        if record.get(name) is not None
    ]
    if not aggregate and "@ptr" in record:
        row.append({"field": "@ptr", "value": record["@ptr"]})
    return row


def _text(name: str, value: Any) -> str:
    if name == "@timestamp" or name.startswith("bin(") or name == "@ingestionTime":
        return datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def record_fields(message: str) -> Record:
    """The fields Insights discovers in a message: a JSON object's keys, nested ones joined with dots."""
    found: Record = {}
    if message.startswith("{"):
        try:
            _flatten(json.loads(message), "", found)
        except ValueError:
            pass
    return found


def _flatten(value: Any, prefix: str, into: Record) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(inner, f"{prefix}{key}.", into)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _flatten(inner, f"{prefix}{index}.", into)
    elif prefix:
        into.setdefault(prefix[:-1], value)
