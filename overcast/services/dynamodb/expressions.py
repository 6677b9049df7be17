"""DynamoDB expressions: condition/filter/key-condition, update and projection expressions.

Parsed into small tuples once per request, with `#names` and `:values` resolved while parsing (so the
unused-placeholder check falls out of the parse), then evaluated against items in the wire shape.

Operands:   ("path", (name | index, ...)), ("value", av), ("size", operand),
            ("if_not_exists", path, operand), ("list_append", a, b), ("+" | "-", a, b)
Conditions: ("cmp", op, a, b), ("between", a, lo, hi), ("in", a, [operands]), ("and", c, c), ("or", c, c),
            ("not", c), ("func", name, [operands])
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path as FilePath
from typing import Any

from overcast.services.dynamodb.values import (
    canonical_value,
    validation,
)

Path = tuple[str | int, ...]

_TOKEN = re.compile(
    r"\s*(?:(?P<name>#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<number>\d+)|(?P<op><>|<=|>=|[=<>(),.\[\]+\-]))"
)
_CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}
_COMPARATORS = {"=", "<>", "<", "<=", ">", ">="}
_TYPES = {"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"}
# AWS's list (developer guide, "Reserved words in DynamoDB"): such names need a #placeholder.
RESERVED_WORDS = frozenset(json.loads((FilePath(__file__).parent / "reserved_words.json").read_text()))


class Placeholders:
    """ExpressionAttributeNames/Values of one request, and which of them the expressions used."""

    def __init__(self, names: dict[str, str] | None, values: dict[str, Any] | None) -> None:
        self.names = names or {}
        self.values = values or {}
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()
        self._canonical: dict[str, Any] = {}

    def name(self, token: str, kind: str) -> str:
        if token not in self.names:
            raise validation(
                f"Invalid {kind}: An expression attribute name used in the document path is not defined; "
                f"attribute name: {token}"
            )
        self.used_names.add(token)
        return self.names[token]

    def value(self, token: str, kind: str) -> dict[str, Any]:
        if token not in self.values:
            raise validation(
                f"Invalid {kind}: An expression attribute value used in expression is not defined; "
                f"attribute value: {token}"
            )
        self.used_values.add(token)
        if token not in self._canonical:
            try:
                self._canonical[token] = canonical_value(self.values[token], f" for key {token}")
            except Exception as exc:
                message = getattr(exc, "message", str(exc))
                raise validation(f"ExpressionAttributeValues contains invalid value: {message}") from None
        return self._canonical[token]

    def check_all_used(self) -> None:
        unused_names = set(self.names) - self.used_names
        if unused_names:
            keys = ", ".join(sorted(unused_names))
            raise validation(
                f"Value provided in ExpressionAttributeNames unused in expressions: keys: {{{keys}}}"
            )
        unused_values = set(self.values) - self.used_values
        if unused_values:
            keys = ", ".join(sorted(unused_values))
            raise validation(
                f"Value provided in ExpressionAttributeValues unused in expressions: keys: {{{keys}}}"
            )


# -- tokens and parsing ----------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, kind: str, placeholders: Placeholders) -> None:
        self.text = text
        self.kind = kind
        self.placeholders = placeholders
        self.tokens = self._tokenize(text)
        self.closing = _matching_parentheses(self.tokens)
        self.pos = 0

    def _tokenize(self, text: str) -> list[tuple[str, str]]:
        tokens, pos = [], 0
        stripped_end = len(text.rstrip())
        while pos < stripped_end:
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                bad = text[pos:].strip()[:1]
                raise self._error(
                    f'Invalid {self.kind}: Invalid token: "{bad}", near: "{text[pos:].strip()[:10]}"',
                    raw=True,
                )
            kind = match.lastgroup
            tokens.append((kind, match.group(kind)))
            pos = match.end()
        return tokens

    def _error(self, message: str, raw: bool = False) -> Exception:
        return validation(message)

    def syntax_error(self) -> Exception:
        if self.pos >= len(self.tokens):
            return validation(f'Invalid {self.kind}: Syntax error; token: "<EOF>", near: "{self._near()}"')
        token = self.tokens[self.pos][1]
        return validation(f'Invalid {self.kind}: Syntax error; token: "{token}", near: "{self._near()}"')

    def _near(self) -> str:
        window = self.tokens[max(0, self.pos - 1) : self.pos + 2]
        return " ".join(t for _, t in window)

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def peek_word(self) -> str | None:
        token = self.peek()
        return token[1].upper() if token and token[0] == "ident" else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise self.syntax_error()
        self.pos += 1
        return token

    def take_word(self, word: str) -> None:
        if self.peek_word() != word:
            raise self.syntax_error()
        self.pos += 1

    def at_end(self) -> bool:
        return self.pos >= len(self.tokens)

    def expect_end(self) -> None:
        if not self.at_end():
            raise self.syntax_error()

    # -- operands --

    def path(self) -> tuple:
        elements: list[str | int] = [self._name()]
        while (token := self.peek()) and token[1] in (".", "["):
            self.pos += 1
            if token[1] == ".":
                elements.append(self._name())
            else:
                kind, number = self.take()
                if kind != "number":
                    raise self.syntax_error()
                self.take("]")
                elements.append(int(number))
        return ("path", tuple(elements))

    def _name(self) -> str:
        kind, text = self.take()
        if kind == "name":
            return self.placeholders.name(text, self.kind)
        if kind == "ident":
            if text.upper() in RESERVED_WORDS:
                raise validation(
                    f"Invalid {self.kind}: Attribute name is a reserved keyword; reserved keyword: {text}"
                )
            return text
        self.pos -= 1
        raise self.syntax_error()

    def operand(self) -> tuple:
        token = self.peek()
        if token is None:
            raise self.syntax_error()
        kind, text = token
        if kind == "value":
            self.pos += 1
            return ("value", self.placeholders.value(text, self.kind))
        if kind == "ident" and (nxt := self.peek(1)) and nxt[1] == "(":
            return self.function_operand(text)
        if kind in ("ident", "name"):
            return self.path()
        raise self.syntax_error()

    def function_operand(self, name: str) -> tuple:
        if name != "size":
            raise validation(f"Invalid {self.kind}: Invalid function name; function: {name}")
        self.pos += 2
        argument = self.operand()
        self.take(")")
        if argument[0] != "path":
            raise validation(
                f"Invalid {self.kind}: Incorrect operand type for operator or function; operator or function: size, "
                f"operand type: {operand_type(argument)}"
            )
        return ("size", argument)

    # -- conditions --

    def condition(self) -> tuple:
        left = self._and()
        while self.peek_word() == "OR":
            self.pos += 1
            left = ("or", left, self._and())
        return left

    def _and(self) -> tuple:
        left = self._not()
        while self.peek_word() == "AND":
            self.pos += 1
            left = ("and", left, self._not())
        return left

    def _not(self) -> tuple:
        if self.peek_word() == "NOT":
            self.pos += 1
            return ("not", self._not())
        return self._primary()

    def _primary(self) -> tuple:
        token = self.peek()
        if token is None:
            raise self.syntax_error()
        if token[1] == "(":
            self._check_redundant(self.pos)
            self.pos += 1
            inner = self.condition()
            self.take(")")
            return inner
        if (
            token[0] == "ident"
            and token[1] in _CONDITION_FUNCTIONS
            and (nxt := self.peek(1))
            and nxt[1] == "("
        ):
            return self._condition_function(token[1])
        left = self.operand()
        word = self.peek_word()
        if word == "BETWEEN":
            self.pos += 1
            low = self.operand()
            self.take_word("AND")
            return ("between", left, low, self.operand())
        if word == "IN":
            self.pos += 1
            self.take("(")
            options = [self.operand()]
            while self.peek() and self.peek()[1] == ",":
                self.pos += 1
                options.append(self.operand())
            self.take(")")
            if len(options) > 100:
                raise validation(
                    f"Invalid {self.kind}: The IN operator is provided with too many operands; number of operands: {len(options)}"
                )
            return ("in", left, options)
        token = self.peek()
        if token is None or token[1] not in _COMPARATORS:
            raise self.syntax_error()
        self.pos += 1
        return ("cmp", token[1], left, self.operand())

    def _check_redundant(self, opening: int) -> None:
        """AWS refuses a parenthesized group that only wraps another one: `((a = b))`."""
        inner = opening + 1
        close = self.closing.get(opening)
        if (
            self.peek(1)
            and self.peek(1)[1] == "("
            and close is not None
            and self.closing.get(inner) == close - 1
        ):
            raise validation(f"Invalid {self.kind}: The expression has redundant parentheses;")

    def _condition_function(self, name: str) -> tuple:
        self.pos += 2
        arguments = [self.operand()]
        while self.peek() and self.peek()[1] == ",":
            self.pos += 1
            arguments.append(self.operand())
        self.take(")")
        if len(arguments) != _CONDITION_FUNCTIONS[name]:
            raise validation(
                f"Invalid {self.kind}: Incorrect number of operands for operator or function; operator or function: "
                f"{name}, number of operands: {len(arguments)}"
            )
        if arguments[0][0] != "path":
            raise validation(
                f"Invalid {self.kind}: Operator or function requires a document path; operator or function: {name}"
            )
        if name == "attribute_type":
            kind = arguments[1][1] if arguments[1][0] == "value" else None
            if not (kind and "S" in kind and kind["S"] in _TYPES):
                shown = kind["S"] if kind and "S" in kind else kind
                raise validation(
                    f"Invalid {self.kind}: Invalid attribute type name found; type: {shown}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"
                )
        return ("func", name, arguments)

    # -- updates --

    def update(self) -> dict[str, list]:
        sections: dict[str, list] = {}
        while not self.at_end():
            word = self.peek_word()
            if word not in ("SET", "REMOVE", "ADD", "DELETE"):
                raise self.syntax_error()
            if word in sections:
                raise validation(
                    f'Invalid {self.kind}: The "{word}" section can only be used once in an update expression;'
                )
            self.pos += 1
            sections[word] = self._section(word)
        if not sections:
            raise self.syntax_error()
        return sections

    def _section(self, word: str) -> list:
        actions = [self._action(word)]
        while self.peek() and self.peek()[1] == ",":
            self.pos += 1
            actions.append(self._action(word))
        return actions

    def _action(self, word: str) -> tuple:
        target = self.path()
        if word == "REMOVE":
            return (target,)
        if word == "SET":
            self.take("=")
            return (target, self._set_value())
        value = self.operand()
        if value[0] != "value":
            raise self.syntax_error()
        return (target, value)

    def _set_value(self) -> tuple:
        left = self._set_operand()
        token = self.peek()
        if token and token[1] in ("+", "-"):
            self.pos += 1
            return (token[1], left, self._set_operand())
        return left

    def _set_operand(self) -> tuple:
        token = self.peek()
        if token and token[0] == "ident" and (nxt := self.peek(1)) and nxt[1] == "(":
            name = token[1]
            if name not in ("if_not_exists", "list_append"):
                raise validation(f"Invalid {self.kind}: Invalid function name; function: {name}")
            self.pos += 2
            first = self._set_value() if name == "list_append" else self.path()
            self.take(",")
            second = self._set_value()
            self.take(")")
            return (name, first, second)
        operand = self.operand()
        if operand[0] == "size":
            raise validation(
                f"Invalid {self.kind}: The function is not allowed in an update expression; function: size"
            )
        return operand


def _matching_parentheses(tokens: list[tuple[str, str]]) -> dict[int, int]:
    """The index of the ")" that closes each "(" (unbalanced ones are left to the parser's errors)."""
    closing, opened = {}, []
    for index, (_, text) in enumerate(tokens):
        if text == "(":
            opened.append(index)
        elif text == ")" and opened:
            closing[opened.pop()] = index
    return closing


def operand_type(operand: tuple) -> str:
    if operand[0] == "value":
        kind = next(iter(operand[1]))
        return {
            "S": "STRING",
            "N": "NUMBER",
            "B": "BINARY",
            "BOOL": "BOOLEAN",
            "NULL": "NULL",
            "L": "LIST",
            "M": "MAP",
            "SS": "SET",
            "NS": "SET",
            "BS": "SET",
        }.get(kind, kind)
    return operand[0].upper()


def parse_condition(text: str, kind: str, placeholders: Placeholders) -> tuple:
    if not text.strip():
        raise validation(f"Invalid {kind}: The expression can not be empty;")
    parser = _Parser(text, kind, placeholders)
    tree = parser.condition()
    parser.expect_end()
    return tree


def parse_update(text: str, placeholders: Placeholders) -> dict[str, list]:
    if not text.strip():
        raise validation("Invalid UpdateExpression: The expression can not be empty;")
    parser = _Parser(text, "UpdateExpression", placeholders)
    sections = parser.update()
    _check_overlaps(sections)
    return sections


def parse_projection(text: str, placeholders: Placeholders) -> list[Path]:
    if not text.strip():
        raise validation("Invalid ProjectionExpression: The expression can not be empty;")
    parser = _Parser(text, "ProjectionExpression", placeholders)
    paths = [parser.path()[1]]
    while not parser.at_end():
        parser.take(",")
        paths.append(parser.path()[1])
    _check_path_overlaps(paths, "ProjectionExpression")
    return paths


def _check_overlaps(sections: dict[str, list]) -> None:
    paths = [action[0][1] for actions in sections.values() for action in actions]
    _check_path_overlaps(paths, "UpdateExpression")


def _check_path_overlaps(paths: list[Path], kind: str) -> None:
    for i, first in enumerate(paths):
        for second in paths[i + 1 :]:
            shorter = min(len(first), len(second))
            if first[:shorter] == second[:shorter]:
                what = "overlap" if len(first) != len(second) else "overlap"
                raise validation(
                    f"Invalid {kind}: Two document paths {what} with each other; must remove or rewrite one of these "
                    f"paths; path one: [{_path_text(first)}], path two: [{_path_text(second)}]"
                )


def _path_text(path: Path) -> str:
    return ", ".join(f"[{p}]" if isinstance(p, int) else p for p in path)


# -- evaluation ------------------------------------------------------------------------------------


def resolve(item: dict[str, Any], path: Path) -> dict[str, Any] | None:
    """The value at `path` in `item`, or None if any step is missing or of the wrong type."""
    first = path[0]
    value = item.get(first) if isinstance(first, str) else None
    for step in path[1:]:
        if value is None:
            return None
        if isinstance(step, int):
            inner = value.get("L")
            value = inner[step] if inner is not None and step < len(inner) else None
        else:
            inner = value.get("M")
            value = inner.get(step) if inner is not None else None
    return value


def operand_value(item: dict[str, Any], operand: tuple) -> dict[str, Any] | None:
    kind = operand[0]
    if kind == "value":
        return operand[1]
    if kind == "path":
        return resolve(item, operand[1])
    if kind == "size":
        return _size(resolve(item, operand[1][1]))
    raise AssertionError(kind)


def _size(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    ((kind, inner),) = value.items()
    if kind == "S":
        return {"N": str(len(inner))}
    if kind in ("B", "SS", "NS", "BS", "L", "M"):
        return {"N": str(len(inner))}
    return None


def evaluate(item: dict[str, Any], condition: tuple) -> bool:
    kind = condition[0]
    if kind == "cmp":
        return compare(condition[1], operand_value(item, condition[2]), operand_value(item, condition[3]))
    if kind == "and":
        return evaluate(item, condition[1]) and evaluate(item, condition[2])
    if kind == "or":
        return evaluate(item, condition[1]) or evaluate(item, condition[2])
    if kind == "not":
        return not evaluate(item, condition[1])
    if kind == "between":
        value = operand_value(item, condition[1])
        low, high = operand_value(item, condition[2]), operand_value(item, condition[3])
        return compare(">=", value, low) and compare("<=", value, high)
    if kind == "in":
        value = operand_value(item, condition[1])
        return any(compare("=", value, operand_value(item, option)) for option in condition[2])
    return _function(item, condition[1], condition[2])


def _function(item: dict[str, Any], name: str, arguments: list[tuple]) -> bool:
    target = resolve(item, arguments[0][1])
    if name == "attribute_exists":
        return target is not None
    if name == "attribute_not_exists":
        return target is None
    if target is None:
        return False
    other = operand_value(item, arguments[1])
    if other is None:
        return False
    if name == "attribute_type":
        return next(iter(target)) == other.get("S")
    if name == "begins_with":
        if "S" in target and "S" in other:
            return target["S"].startswith(other["S"])
        if "B" in target and "B" in other:
            return bytes(target["B"]).startswith(bytes(other["B"]))
        return False
    # contains
    if "S" in target and "S" in other:
        return other["S"] in target["S"]
    if "B" in target and "B" in other:
        return bytes(other["B"]) in bytes(target["B"])
    for set_kind, element_kind in (("SS", "S"), ("NS", "N"), ("BS", "B")):
        if set_kind in target:
            if element_kind not in other:
                return False
            if element_kind == "N":
                return Decimal(other["N"]) in {Decimal(n) for n in target["NS"]}
            return other[element_kind] in target[set_kind]
    if "L" in target:
        return any(values_equal(element, other) for element in target["L"])
    return False


def compare(op: str, left: dict[str, Any] | None, right: dict[str, Any] | None) -> bool:
    if left is None or right is None:
        return False
    if op == "=":
        return values_equal(left, right)
    if op == "<>":
        return not values_equal(left, right)
    kind = next(iter(left))
    if kind != next(iter(right)) or kind not in ("S", "N", "B"):
        return False
    a, b = left[kind], right[kind]
    if kind == "N":
        a, b = Decimal(a), Decimal(b)
    elif kind == "S":
        a, b = a.encode("utf-8"), b.encode("utf-8")
    else:
        a, b = bytes(a), bytes(b)
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def values_equal(left: dict[str, Any], right: dict[str, Any]) -> bool:
    kind = next(iter(left))
    if kind != next(iter(right)):
        return False
    a, b = left[kind], right[kind]
    if kind == "N":
        return Decimal(a) == Decimal(b)
    if kind == "NS":
        return {Decimal(n) for n in a} == {Decimal(n) for n in b}
    if kind in ("SS", "BS"):
        return set(map(hashable, a)) == set(map(hashable, b))
    if kind == "L":
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    if kind == "M":
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    if kind == "B":
        return bytes(a) == bytes(b)
    return a == b


def hashable(value: Any) -> Any:
    return bytes(value) if isinstance(value, (bytearray, memoryview)) else value


# -- projection ------------------------------------------------------------------------------------


def project(item: dict[str, Any], paths: list[Path]) -> dict[str, Any]:
    """The item cut down to `paths` (nested maps and lists keep their shape, list elements their order)."""
    result: dict[str, Any] = {}
    for path in paths:
        value = resolve(item, path)
        if value is not None:
            _place(result, path, value)
    return _finish_lists(result)


def _place(result: dict[str, Any], path: Path, value: dict[str, Any]) -> None:
    # Intermediate containers are dicts (list elements keyed by index) until _finish_lists.
    container: Any = result
    for index, step in enumerate(path[:-1]):
        holder_key = "L" if isinstance(path[index + 1], int) else "M"
        if step not in container:
            container[step] = {holder_key: {}}
        container = container[step][holder_key]
    container[path[-1]] = value


def _finish_lists(node: Any) -> Any:
    """Projected list elements were gathered by index in dicts; turn them into lists in index order."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if (
                isinstance(value, dict)
                and len(value) == 1
                and ("L" in value or "M" in value)
                and isinstance(next(iter(value.values())), dict)
            ):
                inner_kind = "L" if "L" in value else "M"
                inner = value[inner_kind]
                if inner_kind == "L":
                    out[key] = {"L": [_finish_value(inner[i]) for i in sorted(inner)]}
                else:
                    out[key] = {"M": _finish_lists(inner)}
            else:
                out[key] = value
        return out
    return node


def _finish_value(value: Any) -> Any:
    if (
        isinstance(value, dict)
        and len(value) == 1
        and ("L" in value or "M" in value)
        and isinstance(next(iter(value.values())), dict)
    ):
        return _finish_lists({"_": value})["_"]
    return value


def paths_in_update(sections: dict[str, list]) -> list[Path]:
    return [action[0][1] for actions in sections.values() for action in actions]
