"""CloudWatch metric math: the expressions of GetMetricData and metric-math alarms.

Values are scalars, time series ({timestamp: value}) and arrays of labelled time series (from METRICS()).
Arithmetic (+ - * / ^, unary -) and comparisons (< <= > >= == !=, giving 1 or 0) and logic (AND/&&, OR/||,
NOT/!) apply point by point: a timestamp missing from either side is missing from the result; a scalar meets
every point; an array meets each of its series. Functions:

  ABS CEIL FLOOR LOG LOG10 SQRT           point by point
  AVG SUM MIN MAX STDDEV                  of an array: a series (per timestamp, over the series present);
                                          of a series: a scalar (over its points)
  METRICS() METRICS("text")               every metric of the request (those whose id or label contains text)
  FILL(x, value | REPEAT | LINEAR)        missing points of the period grid filled
  RATE DIFF DIFF_TIME RUNNING_SUM         change per second, change, seconds between points, running total
  IF(cond, a[, b])                        a where cond is non-zero, else b (or no point without b)
  PERIOD(x)  TIME_SERIES(scalar)  REMOVE_EMPTY(array)  DATAPOINT_COUNT(x)  FIRST(array)  LAST(array)

SEARCH(), INSIGHT_RULE_METRIC, ANOMALY_DETECTION_BAND, SLICE and SORT are not evaluated (an ExpressionError).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Series = dict[float, float]


class ExpressionError(ValueError):
    pass


@dataclass
class Labelled:
    label: str
    series: Series


@dataclass
class Context:
    """What an expression sees: the other queries' results by id, the period grid, and every metric of the
    request (for METRICS())."""

    values: dict[str, Any]
    grid: list[float]
    period: int
    metrics: list[tuple[str, str, Series]]  # (id, label, series) of the MetricStat queries


_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<string>\"[^\"]*\")|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>&&|\|\||<=|>=|==|!=|[-+*/^()<>!,]))"
)
_PRECEDENCE = {"OR": 1, "||": 1, "AND": 2, "&&": 2, "<": 3, "<=": 3, ">": 3, ">=": 3, "==": 3, "!=": 3}
_PRECEDENCE.update({"+": 4, "-": 4, "*": 5, "/": 5, "^": 7})


def _tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ExpressionError(f"Syntax error at position {position + 1}")
        kind = match.lastgroup or "op"
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


Node = Callable[[Context], Any]


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ExpressionError("Unexpected end of expression")
        self.index += 1
        return token

    def expect(self, value: str) -> None:
        token = self.take()
        if token[1] != value:
            raise ExpressionError(f"Expected '{value}' but found '{token[1]}'")

    def parse(self) -> Node:
        node = self.expression(0)
        if self.peek() is not None:
            raise ExpressionError(f"Unexpected '{self.peek()[1]}'")
        return node

    def expression(self, minimum: int) -> Node:
        left = self.unary()
        while True:
            token = self.peek()
            if token is None:
                return left
            operator = token[1].upper() if token[0] == "name" else token[1]
            precedence = _PRECEDENCE.get(operator) if token[0] in ("op", "name") else None
            if precedence is None or precedence < minimum:
                return left
            self.take()
            right = self.expression(precedence if operator == "^" else precedence + 1)
            left = _binary(operator, left, right)

    def unary(self) -> Node:
        token = self.peek()
        if token and token[1] in ("-", "+"):
            self.take()
            inner = self.expression(6)
            return inner if token[1] == "+" else (lambda ctx, inner=inner: _apply(lambda v: -v, inner(ctx)))
        if token and (token[1] == "!" or (token[0] == "name" and token[1].upper() == "NOT")):
            self.take()
            inner = self.expression(6)
            return lambda ctx: _apply(lambda v: 0.0 if v else 1.0, inner(ctx))
        return self.primary()

    def primary(self) -> Node:
        kind, text = self.take()
        if kind == "number":
            number = float(text)
            return lambda ctx: number
        if kind == "string":
            raise ExpressionError(f"Unexpected string {text}")
        if text == "(":
            inner = self.expression(0)
            self.expect(")")
            return inner
        if kind == "name":
            if self.peek() and self.peek()[1] == "(":
                self.take()
                args: list[Any] = []
                while self.peek() and self.peek()[1] != ")":
                    if args:
                        self.expect(",")
                    token = self.peek()
                    if token and token[0] == "string":
                        self.take()
                        value = token[1][1:-1]
                        args.append(lambda ctx, value=value: value)
                    elif token and token[0] == "name" and token[1].upper() in ("REPEAT", "LINEAR"):
                        self.take()
                        word = token[1].upper()
                        args.append(lambda ctx, word=word: word)
                    else:
                        args.append(self.expression(0))
                self.expect(")")
                return _function(text.upper(), args)
            name = text
            return lambda ctx: _reference(ctx, name)
        raise ExpressionError(f"Unexpected '{text}'")


def _reference(ctx: Context, name: str) -> Any:
    if name not in ctx.values:
        raise ExpressionError(f'Unrecognized identifier "{name}"')
    return ctx.values[name]


def _apply(function: Callable[[float], float], value: Any) -> Any:
    if isinstance(value, list):
        return [Labelled(item.label, {t: function(v) for t, v in item.series.items()}) for item in value]
    if isinstance(value, dict):
        return {t: function(v) for t, v in value.items()}
    return function(value)


def _combine(function: Callable[[float, float], float], left: Any, right: Any) -> Any:
    if isinstance(left, list):
        return [Labelled(item.label, _combine(function, item.series, right)) for item in left]
    if isinstance(right, list):
        return [Labelled(item.label, _combine(function, left, item.series)) for item in right]
    if isinstance(left, dict) and isinstance(right, dict):
        return {t: _safe(function, v, right[t]) for t, v in left.items() if t in right}
    if isinstance(left, dict):
        return {t: _safe(function, v, right) for t, v in left.items()}
    if isinstance(right, dict):
        return {t: _safe(function, left, v) for t, v in right.items()}
    return _safe(function, left, right)


def _safe(function: Callable[[float, float], float], a: float, b: float) -> float:
    try:
        return function(a, b)
    except ZeroDivisionError:
        return math.nan if a == 0 else math.copysign(math.inf, a)
    except (OverflowError, ValueError):
        return math.nan


_BINARY: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "^": lambda a, b: a**b,
    "<": lambda a, b: float(a < b),
    "<=": lambda a, b: float(a <= b),
    ">": lambda a, b: float(a > b),
    ">=": lambda a, b: float(a >= b),
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
    "AND": lambda a, b: float(bool(a) and bool(b)),
    "&&": lambda a, b: float(bool(a) and bool(b)),
    "OR": lambda a, b: float(bool(a) or bool(b)),
    "||": lambda a, b: float(bool(a) or bool(b)),
}


def _binary(operator: str, left: Node, right: Node) -> Node:
    function = _BINARY[operator]
    return lambda ctx: _combine(function, left(ctx), right(ctx))


def _aggregate(name: str) -> Callable[[list[float]], float]:
    return {
        "SUM": sum,
        "AVG": lambda v: sum(v) / len(v),
        "MIN": min,
        "MAX": max,
        "STDDEV": lambda v: statistics.pstdev(v) if len(v) > 1 else 0.0,
    }[name]


def _reduce(name: str, value: Any) -> Any:
    reduce = _aggregate(name)
    if isinstance(value, list):
        stamps = sorted({t for item in value for t in item.series})
        return {t: reduce([item.series[t] for item in value if t in item.series]) for t in stamps}
    if isinstance(value, dict):
        return reduce(list(value.values())) if value else math.nan
    return value


def _series_of(value: Any, name: str) -> Series:
    if not isinstance(value, dict):
        raise ExpressionError(f"{name} requires a time series")
    return value


def _each(value: Any, function: Callable[[Series], Series]) -> Any:
    if isinstance(value, list):
        return [Labelled(item.label, function(item.series)) for item in value]
    return function(_series_of(value, "This function"))


def _fill(ctx: Context, series: Series, how: Any) -> Series:
    filled: Series = {}
    known = sorted(series)
    for t in ctx.grid:
        if t in series:
            filled[t] = series[t]
        elif how == "REPEAT":
            before = [k for k in known if k < t]
            if before:
                filled[t] = series[before[-1]]
        elif how == "LINEAR":
            before = [k for k in known if k < t]
            after = [k for k in known if k > t]
            if before and after:
                a, b = before[-1], after[0]
                filled[t] = series[a] + (series[b] - series[a]) * (t - a) / (b - a)
        else:
            filled[t] = float(how)
    return filled


def _pairs(series: Series, function: Callable[[float, float, float, float], float]) -> Series:
    ordered = sorted(series)
    return {b: function(a, series[a], b, series[b]) for a, b in zip(ordered, ordered[1:], strict=False)}


def _running_sum(series: Series) -> Series:
    total, found = 0.0, {}
    for t in sorted(series):
        total += series[t]
        found[t] = total
    return found


def _if(condition: Any, then: Any, otherwise: Any = None) -> Any:
    if isinstance(condition, list):
        return [Labelled(item.label, _if(item.series, then, otherwise)) for item in condition]
    if not isinstance(condition, dict):
        return then if condition else otherwise

    def at(value: Any, t: float) -> float | None:
        if isinstance(value, dict):
            return value.get(t)
        return value

    found: Series = {}
    for t, flag in condition.items():
        chosen = at(then, t) if flag else (None if otherwise is None else at(otherwise, t))
        if chosen is not None:
            found[t] = chosen
    return found


def _metrics(ctx: Context, text: str | None) -> list[Labelled]:
    return [
        Labelled(label, series)
        for query_id, label, series in ctx.metrics
        if text is None or text in query_id or text in label
    ]


def _function(name: str, args: list[Node]) -> Node:
    unsupported = (
        "SEARCH",
        "INSIGHT_RULE_METRIC",
        "ANOMALY_DETECTION_BAND",
        "SLICE",
        "SORT",
        "SERVICE_QUOTA",
    )
    if name in unsupported:
        raise ExpressionError(f"The function {name} is not supported by Overcast")
    pointwise = {
        "ABS": abs,
        "CEIL": math.ceil,
        "FLOOR": math.floor,
        "SQRT": lambda v: math.sqrt(v) if v >= 0 else math.nan,
        "LOG": lambda v: math.log(v) if v > 0 else math.nan,
        "LOG10": lambda v: math.log10(v) if v > 0 else math.nan,
    }

    def arity(low: int, high: int | None = None) -> None:
        if not (low <= len(args) <= (low if high is None else high)):
            raise ExpressionError(f"Invalid number of arguments for function {name}")

    if name in pointwise:
        arity(1)
        function = pointwise[name]
        return lambda ctx: _apply(lambda v: float(function(v)), args[0](ctx))
    if name in ("SUM", "AVG", "MIN", "MAX", "STDDEV"):
        arity(1)
        return lambda ctx: _reduce(name, args[0](ctx))
    if name == "METRICS":
        arity(0, 1)
        return lambda ctx: _metrics(ctx, args[0](ctx) if args else None)
    if name == "FILL":
        arity(2)
        return lambda ctx: _each(args[0](ctx), lambda s: _fill(ctx, s, args[1](ctx)))
    if name == "RATE":
        arity(1)
        return lambda ctx: _each(args[0](ctx), lambda s: _pairs(s, lambda a, va, b, vb: (vb - va) / (b - a)))
    if name == "DIFF":
        arity(1)
        return lambda ctx: _each(args[0](ctx), lambda s: _pairs(s, lambda a, va, b, vb: vb - va))
    if name == "DIFF_TIME":
        arity(1)
        return lambda ctx: _each(args[0](ctx), lambda s: _pairs(s, lambda a, va, b, vb: b - a))
    if name == "RUNNING_SUM":
        arity(1)
        return lambda ctx: _each(args[0](ctx), _running_sum)
    if name == "IF":
        arity(2, 3)
        return lambda ctx: _if(args[0](ctx), args[1](ctx), args[2](ctx) if len(args) > 2 else None)
    if name == "PERIOD":
        arity(1)
        return lambda ctx: float(ctx.period)
    if name == "TIME_SERIES":
        arity(1)
        return lambda ctx: {t: float(args[0](ctx)) for t in ctx.grid}
    if name == "REMOVE_EMPTY":
        arity(1)
        return lambda ctx: [item for item in args[0](ctx) if item.series]
    if name == "DATAPOINT_COUNT":
        arity(1)
        return lambda ctx: _count(args[0](ctx))
    if name in ("FIRST", "LAST"):
        arity(1)
        return lambda ctx: _pick(args[0](ctx), name == "FIRST")
    raise ExpressionError(f"Unknown function {name}")


def _count(value: Any) -> Any:
    if isinstance(value, list):
        return [Labelled(item.label, float(len(item.series))) for item in value]
    return float(len(value)) if isinstance(value, dict) else 1.0


def _pick(value: Any, first: bool) -> Any:
    if not isinstance(value, list):
        return value
    if not value:
        return {}
    return (value[0] if first else value[-1]).series


def compile_expression(text: str) -> Node:
    """The expression as a function of a Context; ExpressionError for text CloudWatch would refuse."""
    return _Parser(text).parse()


def references(text: str) -> set[str]:
    """The query ids an expression names (for ordering and validation)."""
    found = set()
    tokens = _tokens(text)
    for i, (kind, value) in enumerate(tokens):
        following = tokens[i + 1][1] if i + 1 < len(tokens) else None
        if (
            kind == "name"
            and following != "("
            and value.upper() not in ("AND", "OR", "NOT", "REPEAT", "LINEAR")
        ):
            found.add(value)
    return found
