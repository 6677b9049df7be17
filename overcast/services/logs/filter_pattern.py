"""CloudWatch Logs filter patterns (metric filters, subscription filters, FilterLogEvents, TestMetricFilter).

`compile_pattern(text)` turns a pattern into a matcher: `matcher(message)` is None when the event does not
match, else the values the pattern extracted (space-delimited fields, as `$name`). Four forms exist:

- terms: `ERROR "exact phrase" ?optional -excluded`, case-sensitive; every plain term must appear, `-terms`
  must not, and `?terms` start alternatives (any one group matching is enough);
- `%regex%`;
- JSON: `{ $.a.b[0] = "x*" && ($.n > 5 || $.c IS NULL) }`, with `NOT EXISTS`, `IS TRUE`, `IS FALSE`;
- space-delimited: `[ip, user, ..., status = 4* || status = 5*, bytes > 1000]`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from overcast.services.kit.regex import RegexError, compile_linear

Matcher = Callable[[str], dict[str, str] | None]
_MISSING = object()


class PatternError(ValueError):
    """The pattern is not valid filter-pattern syntax."""


@lru_cache(maxsize=512)
def compile_pattern(text: str | None) -> Matcher:
    pattern = (text or "").strip()
    if not pattern:
        return _match_all
    if pattern.startswith("{"):
        return _json_matcher(pattern)
    if pattern.startswith("["):
        return _delimited_matcher(pattern)
    if len(pattern) > 1 and pattern.startswith("%") and pattern.endswith("%"):
        regex = _regex(pattern[1:-1])
        return lambda message: {} if regex.search(message) else None
    return _terms_matcher(pattern)


def _match_all(message: str) -> dict[str, str]:
    return {}


def _regex(source: str) -> Any:
    """A `%regex%` of the pattern, matched in linear time (no pattern can make the server backtrack)."""
    try:
        return compile_linear(source)
    except RegexError as error:
        raise PatternError(f"invalid regular expression {source!r}: {error}") from None


def _wildcard(value: str) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", value)), re.S
    )


# -- terms ------------------------------------------------------------------------------------------

_TERM = re.compile(r'([?-]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))')


@lru_cache(maxsize=512)
def sql_prefilter(text: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(terms every match contains, terms no match contains), for the store to test in SQL before Python does.

    Only term patterns say anything here; the matcher still decides.
    """
    pattern = (text or "").strip()
    if not pattern or pattern[0] in "{[" or (len(pattern) > 1 and pattern[0] == pattern[-1] == "%"):
        return (), ()
    required, _, excluded = _parse_terms(pattern)
    return tuple(required), tuple(excluded)


def _parse_terms(pattern: str) -> tuple[list[str], list[list[str]], list[str]]:
    """(plain terms before the first ?term, ?-groups, -terms); plain terms after a ?term join its group."""
    required: list[str] = []
    alternatives: list[list[str]] = []
    excluded: list[str] = []
    position = 0
    for found in _TERM.finditer(pattern):
        if pattern[position : found.start()].strip():
            raise PatternError(f"unexpected text in {pattern!r}")
        position = found.end()
        prefix, quoted, bare = found.groups()
        term = quoted.replace('\\"', '"') if quoted is not None else bare
        if quoted is None and '"' in term:
            raise PatternError(f"unbalanced quote in {pattern!r}")
        if prefix == "-":
            excluded.append(term)
        elif prefix == "?":
            alternatives.append([term])
        else:
            (alternatives[-1] if alternatives else required).append(term)
    return required, alternatives, excluded


def _terms_matcher(pattern: str) -> Matcher:
    required, alternatives, excluded = _parse_terms(pattern)

    def match(message: str) -> dict[str, str] | None:
        if any(term in message for term in excluded) or not all(term in message for term in required):
            return None
        if alternatives and not any(all(term in message for term in group) for group in alternatives):
            return None
        return {}

    return match


# -- JSON -------------------------------------------------------------------------------------------

_JSON_TOKEN = re.compile(
    r"\s*(?:(?P<op>&&|\|\||<=|>=|!=|==|=|<|>|\(|\))|(?P<sel>\$(?:\.[^\s=!<>()&|\[]+|\[\d+\]|\.\*)*)"
    r'|(?P<str>"(?:[^"\\]|\\.)*")|(?P<regex>%[^%]+%)|(?P<word>[^\s=!<>()&|"]+))'
)


def _json_matcher(pattern: str) -> Matcher:
    if not pattern.endswith("}"):
        raise PatternError("a JSON filter pattern ends with }")
    tokens = _tokenize(pattern[1:-1])
    if not tokens:
        raise PatternError("empty JSON filter pattern")
    parser = _JsonParser(tokens)
    predicate = parser.parse_or()
    if parser.position != len(tokens):
        raise PatternError(f"unexpected {tokens[parser.position][1]!r} in JSON filter pattern")

    def match(message: str) -> dict[str, str] | None:
        if not message.lstrip().startswith("{"):
            return None
        try:
            document = json.loads(message)
        except ValueError:
            return None
        return {} if predicate(document) else None

    return match


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if not text[position:].strip():
            break
        found = _JSON_TOKEN.match(text, position)
        if not found or found.end() == position:
            raise PatternError(f"unexpected character in filter pattern at {text[position:]!r}")
        kind = found.lastgroup or ""
        tokens.append((kind, found.group(kind)))
        position = found.end()
    return tokens


class _JsonParser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise PatternError("JSON filter pattern ends too early")
        self.position += 1
        return token

    def parse_or(self) -> Callable[[Any], bool]:
        terms = [self.parse_and()]
        while self.peek() == ("op", "||"):
            self.take()
            terms.append(self.parse_and())
        return terms[0] if len(terms) == 1 else lambda doc: any(term(doc) for term in terms)

    def parse_and(self) -> Callable[[Any], bool]:
        terms = [self.parse_unary()]
        while self.peek() == ("op", "&&"):
            self.take()
            terms.append(self.parse_unary())
        return terms[0] if len(terms) == 1 else lambda doc: all(term(doc) for term in terms)

    def parse_unary(self) -> Callable[[Any], bool]:
        kind, value = self.take()
        if (kind, value) == ("op", "("):
            inner = self.parse_or()
            if self.take() != ("op", ")"):
                raise PatternError("missing ) in JSON filter pattern")
            return inner
        if kind != "sel":
            raise PatternError(f"expected a $.selector, found {value!r}")
        return self.parse_condition(_selector(value))

    def parse_condition(self, select: Callable[[Any], Any]) -> Callable[[Any], bool]:
        kind, word = self.take()
        if kind == "word" and word.upper() in ("IS", "NOT"):
            return self.parse_postfix(select, word.upper())
        if kind != "op" or word not in _COMPARISONS:
            raise PatternError(f"expected a comparison, found {word!r}")
        compare = _comparison(word, self.take())
        return lambda doc: compare(select(doc))

    def parse_postfix(self, select: Callable[[Any], Any], first: str) -> Callable[[Any], bool]:
        second = self.take()[1].upper()
        if first == "NOT" and second == "EXISTS":
            return lambda doc: select(doc) is _MISSING
        if first == "IS" and second == "NULL":
            return lambda doc: select(doc) is None
        if first == "IS" and second in ("TRUE", "FALSE"):
            expected = second == "TRUE"
            return lambda doc: select(doc) is expected
        raise PatternError(f"unknown condition {first} {second}")


_COMPARISONS = {"=", "==", "!=", "<", ">", "<=", ">="}
_NUMERIC = {
    "=": lambda a, b: a == b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _selector(text: str) -> Callable[[Any], Any]:
    steps: list[str | int] = []
    for name, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", text[1:]):
        steps.append(int(index) if index else name)

    def select(document: Any) -> Any:
        for step in steps:
            if isinstance(step, int):
                if not isinstance(document, list) or step >= len(document):
                    return _MISSING
                document = document[step]
            elif isinstance(document, dict) and step in document:
                document = document[step]
            else:
                return _MISSING
        return document

    return select


def _comparison(op: str, operand: tuple[str, str], coerce: bool = False) -> Callable[[Any], bool]:
    """`coerce`: the value compared is text (a space-delimited field) that may hold a number."""
    kind, text = operand
    number = _number(text) if kind == "word" else None
    if number is not None:
        return _numeric_comparison(op, number, coerce)
    if op not in ("=", "==", "!="):
        raise PatternError(f"{op} needs a number, found {text!r}")
    if kind == "regex":
        regex = _regex(text[1:-1])

        def matches(value: str) -> bool:
            return regex.search(value) is not None
    else:
        literal = json.loads(text) if kind == "str" else text
        wildcard = _wildcard(literal) if "*" in literal else None
        matches = (lambda value: wildcard.fullmatch(value) is not None) if wildcard else literal.__eq__
    negate = op == "!="

    def compare(value: Any) -> bool:
        if value is _MISSING or value is None or isinstance(value, (dict, list)):
            return False
        text_value = json.dumps(value) if isinstance(value, bool) else str(value)
        return matches(text_value) != negate

    return compare


def _numeric_comparison(op: str, number: float, coerce: bool) -> Callable[[Any], bool]:
    check = _NUMERIC[op]

    def compare(value: Any) -> bool:
        if coerce and isinstance(value, str):
            value = _number(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return check(value, number)

    return compare


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


# -- space-delimited --------------------------------------------------------------------------------

_FIELD_CONDITION = re.compile(r'^\s*([\w$@.\-]+)\s*(<=|>=|!=|==|=|<|>)\s*(".*"|%.+%|\S+)\s*$')
_MESSAGE_FIELD = re.compile(r'"([^"]*)"|\[([^\]]*)\]|(\S+)')


def _delimited_matcher(pattern: str) -> Matcher:
    if not pattern.endswith("]"):
        raise PatternError("a space-delimited filter pattern ends with ]")
    fields = [_delimited_field(text.strip()) for text in _split_fields(pattern[1:-1])]

    def match(message: str) -> dict[str, str] | None:
        values = [
            next(group for group in found.groups() if group is not None)
            for found in _MESSAGE_FIELD.finditer(message)
        ]
        extracted: dict[str, str] = {}
        return extracted if _align(fields, 0, values, 0, extracted) else None

    return match


def _split_fields(body: str) -> list[str]:
    """Split on commas outside quotes."""
    parts, buffer, quoted = [], "", False
    for char in body:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(buffer)
            buffer = ""
        else:
            buffer += char
    parts.append(buffer)
    if any(not part.strip() for part in parts) and body.strip():
        raise PatternError("empty field in space-delimited filter pattern")
    return [part for part in parts if part.strip()]


_Field = tuple[str | None, Callable[[str], bool] | None]  # (name or None for "...", condition)


def _delimited_field(text: str) -> _Field:
    if text == "...":
        return (None, None)
    alternatives = []
    name = None
    for alternative in text.split("||"):
        conjunction = []
        for part in alternative.split("&&"):
            found = _FIELD_CONDITION.match(part)
            if found:
                name, op, operand = found.groups()
                kind = "str" if operand.startswith('"') else "regex" if operand.startswith("%") else "word"
                conjunction.append(_comparison(op, (kind, operand), coerce=True))
            elif re.fullmatch(r"\s*[\w$@.\-]+\s*", part):
                name = part.strip()
            else:
                raise PatternError(f"invalid field {part.strip()!r} in space-delimited filter pattern")
        alternatives.append(conjunction)
    if not any(alternatives):
        return (name, None)
    return (name, lambda value: any(all(check(value) for check in group) for group in alternatives))


def _align(fields: list[_Field], i: int, values: list[str], j: int, extracted: dict[str, str]) -> bool:
    if i == len(fields):
        return j == len(values)
    name, condition = fields[i]
    if name is None:  # "..." swallows any number of fields
        return any(_align(fields, i + 1, values, k, extracted) for k in range(j, len(values) + 1))
    if j == len(values) or (condition is not None and not condition(values[j])):
        return False
    if _align(fields, i + 1, values, j + 1, extracted):
        extracted[f"${name}"] = values[j]
        return True
    return False
