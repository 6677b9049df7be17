"""EventBridge's event-pattern language: compiling a pattern (with AWS's InvalidEventPatternException
reasons) and matching an event against it.

A pattern is a JSON object whose leaves are arrays of matchers: literal values (exact match; a number matches
numerically), or objects: `prefix`, `suffix` (each also with `equals-ignore-case`), `anything-but` (a value, a
list, or `prefix`/`suffix`/`equals-ignore-case`/`wildcard`), `numeric` (ranges), `exists`, `cidr`,
`equals-ignore-case`, `wildcard`. Fields of one object must all match (AND), values of one array any (OR);
`"$or": [{...}, {...}]` ORs sub-patterns. An event array matches when any of its elements does; nested objects
under an array are matched element by element (the fields of one sub-pattern come from the same element).

AWS compiles patterns with its Event Ruler (Jackson's streaming parser): the reason texts are its, and so is the
location suffix (` at [Source: (String)"..."; line: L, column: C]`). JSON is tokenized here rather than with
`json.loads` so that the position of the offending token is known.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any

NUMERIC_LIMIT = 5.0e9
_MISSING = object()


class PatternError(ValueError):
    """An invalid pattern; str() is the text after 'Event pattern is not valid. Reason: '."""


# -- a JSON tokenizer that knows where each token ends ------------------------------------------------------

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_STRING = re.compile(r'"((?:[^"\\\x00-\x1f]|\\.)*)"', re.DOTALL)
_SPACE = re.compile(r"[ \t\r\n]*")
_WORD = re.compile(r"[A-Za-z0-9_$.\-+]+")


@dataclass
class _Token:
    kind: str  # { } [ ] : , string number true false null
    value: Any
    start: int
    end: int  # offset just after the token


class _Tokens:
    """JSON tokens, with the position Jackson's parser would report for an error after each of them.

    Jackson reads a string value lazily: having returned it, its position is just after the opening quote
    until the text is read (`read`). Having returned a field name, it has already consumed the colon and the
    start of the value (a whole number or literal, the bracket of an array or object, a string's quote)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0  # where scanning goes on
        self.ptr = 0  # where Jackson's parser stands
        self._peeked: _Token | None = None

    def fail(self, reason: str, at: int | None = None) -> PatternError:
        return PatternError(f"{reason}\n at {_location(self.text, self.ptr if at is None else at)}")

    def read(self, token: _Token) -> Any:
        """The value of a token whose text the compiler reads (a lazily read string is read to its end)."""
        if token.kind == "string" and self.ptr < token.end:
            self.ptr = token.end
        return token.value

    def source(self, token: _Token) -> str:
        return self.text[token.start : token.end]

    def next(self, expect: str = "value") -> _Token:
        if self._peeked is not None:
            token, self._peeked = self._peeked, None
            return token
        token = self._scan(expect)
        self.ptr = token.start + 1 if token.kind == "string" else token.end
        return token

    def _scan(self, expect: str) -> _Token:
        text = self.text
        self.pos = _SPACE.match(text, self.pos).end()
        start = self.pos
        if start >= len(text):
            raise self.fail(f"Unexpected end-of-input: expected close marker for {expect.upper()}", len(text))
        char = text[start]
        if char in "{}[]:,":
            self.pos += 1
            return _Token(char, char, start, self.pos)
        if char == '"':
            found = _STRING.match(text, start)
            if not found:
                raise self.fail(
                    "Unexpected end-of-input: was expecting closing quote for a string value", len(text)
                )
            self.pos = found.end()
            return _Token("string", json.loads(found.group(0)), start, self.pos)
        if char == "-" or char.isdigit():
            found = _NUMBER.match(text, start)
            if not found:
                raise self.fail(
                    f"Unexpected character ('{char}' (code {ord(char)})): expected digit", start + 1
                )
            self.pos = found.end()
            literal = found.group(0)
            number = float(literal) if any(c in literal for c in ".eE") else int(literal)
            return _Token("number", (number, literal), start, self.pos)
        word = _WORD.match(text, start)
        literal = word.group(0) if word else char
        if literal in ("true", "false", "null"):
            self.pos += len(literal)
            return _Token(literal, {"true": True, "false": False, "null": None}[literal], start, self.pos)
        if word and literal[0].isalpha():
            raise self.fail(
                f"Unrecognized token '{literal}': was expecting (JSON String, Number, Array, Object or "
                "token 'null', 'true' or 'false')",
                start + len(literal),
            )
        raise self.fail(
            f"Unexpected character ('{char}' (code {ord(char)})): expected a valid value (JSON String, "
            "Number, Array, Object or token 'null', 'true' or 'false')",
            start + 1,
        )

    def field_name(self, first: bool = True) -> str | None:
        """The next field name of an object, or None at its end (the comma before a later field consumed)."""
        token = self.next("object")
        if token.kind == "}":
            return None
        if not first:
            if token.kind != ",":
                raise self.fail(
                    self._unexpected(token, "was expecting comma to separate Object entries"), token.start + 1
                )
            token = self.next("object")
        if token.kind != "string":
            raise self.fail(
                self._unexpected(token, "was expecting double-quote to start field name"), token.start + 1
            )
        self.read(token)
        colon = self._scan("object")
        if colon.kind != ":":
            raise self.fail(
                self._unexpected(colon, "was expecting a colon to separate field name and value"),
                colon.start + 1,
            )
        value = self._peeked = self._scan("object")
        self.ptr = value.start + 1 if value.kind == "string" else value.end
        return token.value

    def array_item(self, first: bool = True) -> _Token | None:
        """The next token of an array's item, or None at its end (the comma before a later item consumed)."""
        token = self.next("array")
        if token.kind == "]":
            return None
        if not first:
            if token.kind != ",":
                raise self.fail(
                    self._unexpected(token, "was expecting comma to separate Array entries"), token.start + 1
                )
            token = self.next("array")
        return token

    def _unexpected(self, token: _Token, expectation: str) -> str:
        char = self.text[token.start]
        return f"Unexpected character ('{char}' (code {ord(char)})): {expectation}"


def _location(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    shown = text if len(text) <= 500 else f'{text[:500]}"[truncated {len(text) - 500} chars]'
    closing = "" if len(text) > 500 else '"'
    return f'[Source: (String)"{shown}{closing}; line: {line}, column: {column}]'


# -- the compiled pattern -----------------------------------------------------------------------------------


@dataclass
class Matcher:
    kind: str  # exact, prefix, suffix, anything-but, numeric, exists, cidr, equals-ignore-case, wildcard
    value: Any = None
    ignore_case: bool = False
    negated_kind: str = ""  # for anything-but: "", prefix, suffix, equals-ignore-case, wildcard


@dataclass
class PatternObject:
    leaves: dict[str, list[Matcher]] = field(default_factory=dict)
    children: dict[str, PatternObject] = field(default_factory=dict)
    alternatives: list[list[PatternObject]] = field(default_factory=list)  # each a "$or": any of them


def compile_pattern(text: str) -> PatternObject:
    """The compiled pattern, or PatternError with AWS's reason."""
    tokens = _Tokens(text)
    first = tokens.next()
    if first.kind != "{":
        raise tokens.fail("Filter is not an object")
    pattern = _object(tokens, inside_or=False)
    rest = _SPACE.match(text, tokens.pos).end()
    if rest < len(text):
        char = text[rest]
        raise tokens.fail(
            f"Unexpected character ('{char}' (code {ord(char)})): expected end-of-input", rest + 1
        )
    return pattern


def _object(tokens: _Tokens, inside_or: bool) -> PatternObject:
    pattern = PatternObject()
    present = False
    while (name := tokens.field_name(not present)) is not None:
        present = True
        if name == "$or":
            pattern.alternatives.append(_or(tokens))
            continue
        token = tokens.next()
        if token.kind == "{":
            pattern.children[name] = _object(tokens, inside_or)
        elif token.kind == "[":
            pattern.leaves[name] = _matchers(tokens)
        else:
            raise tokens.fail(f'"{name}" must be an object or an array')
    if not present:
        raise tokens.fail("Empty objects are not allowed")
    return pattern


def _or(tokens: _Tokens) -> list[PatternObject]:
    if tokens.next().kind != "[":
        raise tokens.fail("It must be an Array followed with $or.")
    branches: list[PatternObject] = []
    while (token := tokens.array_item(not branches)) is not None:
        if token.kind != "{":
            raise tokens.fail("Only JSON object is allowed in array of $or relationship.")
        branches.append(_object(tokens, inside_or=True))
    if len(branches) < 2:
        raise tokens.fail("There must have at least 2 Objects in $or relationship.")
    return branches


def _matchers(tokens: _Tokens) -> list[Matcher]:
    found: list[Matcher] = []
    while (token := tokens.array_item(not found)) is not None:
        if token.kind == "{":
            found.append(_expression(tokens))
        elif token.kind == "string":
            found.append(Matcher("exact", tokens.read(token)))
        elif token.kind == "number":
            found.append(Matcher("exact", token.value[0]))
        elif token.kind in ("true", "false", "null"):
            found.append(Matcher("exact", token.value))
        else:
            raise tokens.fail("Match value must be String, number, true, false, or null")
    if not found:
        raise tokens.fail("Empty arrays are not allowed")
    return found


def _end_of_expression(tokens: _Tokens, reason: str = "Only one key allowed in match expression") -> None:
    if tokens.next().kind != "}":
        raise tokens.fail(reason)


def _string_value(tokens: _Tokens, what: str) -> str:
    token = tokens.next()
    if token.kind != "string":
        raise tokens.fail(f"{what} match pattern must be a string")
    return tokens.read(token)


def _expression(tokens: _Tokens) -> Matcher:
    name = tokens.field_name()
    if name is None:
        raise tokens.fail("Match expression name not found")
    if name in ("prefix", "suffix"):
        token = tokens.next()
        if token.kind == "{":  # {"prefix": {"equals-ignore-case": "..."}}
            if tokens.field_name() != "equals-ignore-case":
                raise tokens.fail(f"Unsupported {name} pattern")
            value = _string_value(tokens, "equals-ignore-case")
            _end_of_expression(tokens)
            _end_of_expression(tokens)
            return Matcher(name, value.lower(), ignore_case=True)
        if token.kind != "string":
            raise tokens.fail(f"{name} match pattern must be a string")
        value = tokens.read(token)
        _end_of_expression(tokens)
        return Matcher(name, value)
    if name == "equals-ignore-case":
        value = _string_value(tokens, "equals-ignore-case")
        _end_of_expression(tokens)
        return Matcher("equals-ignore-case", value.lower())
    if name == "wildcard":
        value = _string_value(tokens, "wildcard")
        regex = _wildcard(tokens, value)
        _end_of_expression(tokens)
        return Matcher("wildcard", regex)
    if name == "exists":
        token = tokens.next()
        if token.kind not in ("true", "false"):
            raise tokens.fail("exists match pattern must be either true or false.")
        _end_of_expression(tokens)
        return Matcher("exists", token.value)
    if name == "cidr":
        value = _string_value(tokens, "prefix")
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise tokens.fail(f"Nonstandard IP address: {value}") from None
        _end_of_expression(tokens)
        return Matcher("cidr", network)
    if name == "numeric":
        if tokens.next().kind != "[":
            raise tokens.fail("Value of numeric must be an array.")
        matcher = _numeric(tokens)
        _end_of_expression(tokens, "Too many elements in numeric expression")
        return matcher
    if name == "anything-but":
        return _anything_but(tokens)
    raise tokens.fail(f"Unrecognized match type {name}")


def _wildcard(tokens: _Tokens, value: str) -> re.Pattern[str]:
    parts, previous_star, i = [], False, 0
    while i < len(value):
        char = value[i]
        if char == "\\":
            if i + 1 >= len(value) or value[i + 1] not in "*\\":
                raise tokens.fail(f"Invalid escape character at pos {i}")
            parts.append(re.escape(value[i + 1]))
            previous_star = False
            i += 2
            continue
        if char == "*":
            if previous_star:
                raise tokens.fail(f"Consecutive wildcard characters at pos {i}")
            parts.append(".*")
            previous_star = True
        else:
            parts.append(re.escape(char))
            previous_star = False
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def _number(tokens: _Tokens, token: _Token, operator: str) -> float:
    if token.kind != "number":
        raise tokens.fail(f"Value of {operator} must be numeric")
    return float(token.value[0])


def _in_limits(tokens: _Tokens, *numbers: float) -> None:
    """Event Ruler compares numbers within ±5e9 only (checked as it builds the range, after its last token)."""
    if any(not -NUMERIC_LIMIT <= n <= NUMERIC_LIMIT for n in numbers if abs(n) != float("inf")):
        raise tokens.fail("Value must be between -5.0E9 and 5.0E9, inclusive")


def _numeric(tokens: _Tokens) -> Matcher:
    token = tokens.array_item()
    if token is None or token.kind != "string":
        raise tokens.fail(f"Invalid member in numeric match: {tokens.source(token) if token else ']'}")
    operator = tokens.read(token)
    value_token = tokens.array_item(False) or _Token("]", None, tokens.ptr, tokens.ptr)
    if operator not in ("=", ">", ">=", "<", "<="):
        raise tokens.fail(f"Unrecognized numeric range operator: {operator}")
    value = _number(tokens, value_token, operator)
    low, low_open, high, high_open = -float("inf"), True, float("inf"), True
    if operator == "=":
        low = high = value
        low_open = high_open = False
    elif operator in (">", ">="):
        low, low_open = value, operator == ">"
    else:
        high, high_open = value, operator == "<"
    following = tokens.array_item(False)
    if following is None:
        _in_limits(tokens, low, high)
        return Matcher("numeric", (low, low_open, high, high_open))
    if operator not in (">", ">="):
        raise tokens.fail("Too many elements in numeric expression")
    if following.kind != "string":
        raise tokens.fail(f"Bad value in numeric range: {tokens.source(following)}")
    upper = tokens.read(following)
    if upper not in ("<", "<="):
        raise tokens.fail(f"Bad numeric range operator: {upper}")
    high = _number(tokens, tokens.array_item(False) or _Token("]", None, tokens.ptr, tokens.ptr), upper)
    high_open = upper == "<"
    if tokens.array_item(False) is not None:
        raise tokens.fail("Too many terms in numeric range expression")
    _in_limits(tokens, low, high)
    if low > high or (low == high and (low_open or high_open)):
        raise tokens.fail("Bottom must be less than top")
    return Matcher("numeric", (low, low_open, high, high_open))


def _anything_but(tokens: _Tokens) -> Matcher:
    token = tokens.next()
    if token.kind == "{":
        operator = tokens.field_name()
        if operator in ("prefix", "suffix"):
            text = _string_value(tokens, "prefix/suffix")
            if not text:
                raise tokens.fail("Null prefix/suffix not allowed")
            _end_of_expression(tokens)
            _end_of_expression(tokens)
            return Matcher("anything-but", text, negated_kind=operator)
        if operator == "wildcard":
            values = _anything_but_strings(tokens, "wildcard")
            regexes = [_wildcard(tokens, value) for value in values]
            _end_of_expression(tokens, "Too many elements in numeric expression")
            _end_of_expression(tokens, "Too many elements in numeric expression")
            return Matcher("anything-but", regexes, negated_kind="wildcard")
        if operator == "equals-ignore-case":
            values = _anything_but_strings(tokens, "equals-ignore-case")
            _end_of_expression(tokens, "Too many elements in numeric expression")
            _end_of_expression(tokens, "Too many elements in numeric expression")
            return Matcher("anything-but", {v.lower() for v in values}, negated_kind="equals-ignore-case")
        raise tokens.fail(f"Unsupported anything-but pattern: {operator}")
    if token.kind == "[":
        values: set[Any] = set()
        numbers = strings = False
        while (item := tokens.array_item(not (numbers or strings))) is not None:
            if item.kind == "string":
                values.add(tokens.read(item))
                strings = True
            elif item.kind == "number":
                values.add(_number(tokens, item, "anything-but"))
                numbers = True
            else:
                raise tokens.fail("Inside anything but list, start|null|boolean is not supported.")
        if numbers == strings:
            raise tokens.fail(
                "Inside anything but list, either all values are number or string, mixed type is not supported"
            )
        matcher = Matcher("anything-but", (values, numbers))
    elif token.kind == "string":
        matcher = Matcher("anything-but", ({tokens.read(token)}, False))
    elif token.kind == "number":
        matcher = Matcher("anything-but", ({_number(tokens, token, "anything-but")}, True))
    else:
        raise tokens.fail("Value of anything-but must be an array or single string/number value.")
    _end_of_expression(tokens, "Too many elements in numeric expression")
    return matcher


def _anything_but_strings(tokens: _Tokens, operator: str) -> list[str]:
    token = tokens.next()
    if token.kind == "string":
        return [tokens.read(token)]
    if token.kind != "[":
        raise tokens.fail(f"{operator} match pattern must be a string")
    values: list[str] = []
    while (item := tokens.array_item(not values)) is not None:
        if item.kind != "string":
            raise tokens.fail(
                f"Inside anything-but/{operator} list, number|start|null|boolean is not supported."
            )
        values.append(tokens.read(item))
    return values


# -- matching -------------------------------------------------------------------------------------------------


def matches(pattern: PatternObject, event: Any) -> bool:
    """Whether `event` (a decoded JSON object) matches the compiled `pattern`."""
    if isinstance(event, list):
        return any(matches(pattern, element) for element in event if isinstance(element, dict | list))
    if not isinstance(event, dict):
        return _all_absent(pattern)
    for name, matchers in pattern.leaves.items():
        if not _leaf(matchers, event.get(name, _MISSING)):
            return False
    for name, child in pattern.children.items():
        if not matches(child, event.get(name, _MISSING)):
            return False
    return all(any(matches(branch, event) for branch in branches) for branches in pattern.alternatives)


def _all_absent(pattern: PatternObject) -> bool:
    """A sub-pattern under a field the event lacks matches only if every leaf is `exists: false`."""
    for matchers in pattern.leaves.values():
        if not any(m.kind == "exists" and m.value is False for m in matchers):
            return False
    return all(_all_absent(child) for child in pattern.children.values()) and all(
        any(_all_absent(branch) for branch in branches) for branches in pattern.alternatives
    )


def _scalars(value: Any) -> list[Any]:
    """The leaf values at a field: none for a missing field, an object or an empty array."""
    if value is _MISSING or isinstance(value, dict):
        return []
    if isinstance(value, list):
        found = []
        for element in value:
            found.extend(_scalars(element))
        return found
    return [value]


def _leaf(matchers: list[Matcher], value: Any) -> bool:
    candidates = _scalars(value)
    for matcher in matchers:
        if matcher.kind == "exists":
            if bool(candidates) == matcher.value:
                return True
        elif any(_test(matcher, candidate) for candidate in candidates):
            return True
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _test(matcher: Matcher, value: Any) -> bool:
    kind = matcher.kind
    if kind == "exact":
        expected = matcher.value
        if _is_number(expected):
            return _is_number(value) and value == expected
        if expected is None or isinstance(expected, bool):
            return value is expected
        return isinstance(value, str) and value == expected
    if kind == "numeric":
        if not _is_number(value):
            return False
        low, low_open, high, high_open = matcher.value
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        return above and below
    if kind == "anything-but":
        return _anything_but_test(matcher, value)
    if not isinstance(value, str):
        return False
    if kind == "prefix":
        return (value.lower() if matcher.ignore_case else value).startswith(matcher.value)
    if kind == "suffix":
        return (value.lower() if matcher.ignore_case else value).endswith(matcher.value)
    if kind == "equals-ignore-case":
        return value.lower() == matcher.value
    if kind == "wildcard":
        return matcher.value.fullmatch(value) is not None
    if kind == "cidr":
        try:
            return ipaddress.ip_address(value) in matcher.value
        except ValueError:
            return False
    return False


def _anything_but_test(matcher: Matcher, value: Any) -> bool:
    negated = matcher.negated_kind
    if negated:
        if not isinstance(value, str):
            return True
        if negated == "prefix":
            return not value.startswith(matcher.value)
        if negated == "suffix":
            return not value.endswith(matcher.value)
        if negated == "equals-ignore-case":
            return value.lower() not in matcher.value
        return not any(regex.fullmatch(value) for regex in matcher.value)
    values, numeric = matcher.value
    if numeric:
        return _is_number(value) and float(value) not in values
    return not (isinstance(value, str) and value in values)
