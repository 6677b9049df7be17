"""PartiQL for DynamoDB: SELECT, INSERT, UPDATE and DELETE statements parsed into the same condition and
update trees as the expression language, then run by the provider's item machinery.

Supported: SELECT <*|paths> FROM "table"[."index"] [WHERE ...] [ORDER BY <sort key> [ASC|DESC]];
INSERT INTO "table" VALUE {...}; UPDATE "table" SET path = value|list_append(..)|set_add(..)|set_delete(..)
[SET ...] [REMOVE path] WHERE <key> [AND condition] [RETURNING ALL|MODIFIED OLD|NEW *];
DELETE FROM "table" WHERE <key> [AND condition] [RETURNING ALL OLD *]; EXISTS(SELECT ...) in transactions.
Literals: 'strings', numbers, TRUE/FALSE, NULL,
[lists], {'maps': ...}, <<sets>>, ? parameters. Conditions: comparisons, BETWEEN, IN [...], AND/OR/NOT,
IS [NOT] MISSING, begins_with, contains, attribute_type, size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from overcast.services.dynamodb.values import canonical_value, number_text, parse_number, validation

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<quoted>\"(?:[^\"]|\"\")*\")|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<op><<|>>|<>|!=|<=|>=|[=<>()\[\]{},.:?*+\-]))"
)
_COMPARATORS = {"=", "<>", "!=", "<", "<=", ">", ">="}
_FUNCTIONS = {"begins_with", "contains", "attribute_type"}
_SET_FUNCTIONS = {"list_append", "set_add", "set_delete"}


@dataclass
class Statement:
    kind: str  # SELECT | INSERT | UPDATE | DELETE | EXISTS
    table: str
    index: str | None = None
    projection: list[tuple] | None = None
    where: tuple | None = None
    item: dict[str, Any] | None = None
    updates: dict[str, list] = field(default_factory=dict)
    returning: str | None = None  # ALL OLD | MODIFIED OLD | ALL NEW | MODIFIED NEW
    order_by: tuple | None = None  # the path named by ORDER BY
    descending: bool = False


def malformed(detail: str) -> Exception:
    return validation(f"Statement wasn't well formed, can't be processed: {detail}")


class _Parser:
    def __init__(self, text: str, parameters: list[dict[str, Any]] | None) -> None:
        self.tokens = self._tokenize(text)
        self.pos = 0
        self.parameters = list(parameters or [])
        self.used_parameters = 0

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens, pos, end = [], 0, len(text.rstrip().rstrip(";").rstrip())
        while pos < end:
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise malformed(f"Unexpected character: {text[pos:].strip()[:1]}")
            tokens.append((match.lastgroup, match.group(match.lastgroup)))
            pos = match.end()
        return tokens

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def word(self) -> str | None:
        token = self.peek()
        return token[1].upper() if token and token[0] == "word" else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise malformed("Unexpected end of statement")
        if value is not None and token[1].upper() != value:
            raise malformed(f"Expected {value} but found {token[1]}")
        self.pos += 1
        return token

    def accept(self, value: str) -> bool:
        token = self.peek()
        if token is not None and token[1].upper() == value:
            self.pos += 1
            return True
        return False

    # -- statements --

    def statement(self) -> Statement:
        verb = self.word()
        if verb == "SELECT":
            statement = self._select()
        elif verb == "INSERT":
            statement = self._insert()
        elif verb == "UPDATE":
            statement = self._update()
        elif verb == "DELETE":
            statement = self._delete()
        elif verb == "EXISTS":
            statement = self._exists()
        else:
            raise malformed(f"Unsupported statement: {self.peek()[1] if self.peek() else ''}")
        if self.peek() is not None:
            raise malformed(f"Unexpected token: {self.peek()[1]}")  # type: ignore[index]
        if self.used_parameters != len(self.parameters):
            raise validation("Number of parameters in request and statement don't match.")
        return statement

    def _select(self) -> Statement:
        self.take("SELECT")
        projection = None
        if not self.accept("*"):
            projection = [self.path()[1]]
            while self.accept(","):
                projection.append(self.path()[1])
        self.take("FROM")
        table, index = self._target()
        where = self._where(required=False)
        statement = Statement("SELECT", table, index, projection, where)
        if self.accept("ORDER"):
            self.take("BY")
            statement.order_by = self.path()
            if self.accept("DESC"):
                statement.descending = True
            else:
                self.accept("ASC")
        return statement

    def _exists(self) -> Statement:
        self.take("EXISTS")
        self.take("(")
        inner = self._select()
        self.take(")")
        if inner.order_by is not None:
            raise malformed("ORDER BY is not allowed in EXISTS")
        return Statement("EXISTS", inner.table, inner.index, where=inner.where)

    def _insert(self) -> Statement:
        self.take("INSERT")
        self.take("INTO")
        table, _ = self._target()
        self.take("VALUE")
        value = self.literal()
        if "M" not in value:
            raise malformed("INSERT requires a map value")
        return Statement("INSERT", table, item=value["M"])

    def _update(self) -> Statement:
        self.take("UPDATE")
        table, _ = self._target()
        updates: dict[str, list] = {}
        while self.word() in ("SET", "REMOVE"):
            clause = self.take()[1].upper()
            if clause == "SET":
                target = self.path()
                self.take("=")
                value = self._set_value()
                if value[0] in ("set_add", "set_delete"):
                    # SET s = set_add(s, <<...>>) is the expression language's ADD s :v (DELETE for set_delete)
                    if value[1] != target:
                        raise validation(
                            f"{value[0]} must name the attribute being set as its first argument"
                        )
                    if value[2][0] != "value" or next(iter(value[2][1])) not in ("SS", "NS", "BS"):
                        raise validation(f"The second argument of {value[0]} must be a set")
                    section = "ADD" if value[0] == "set_add" else "DELETE"
                    updates.setdefault(section, []).append((target, value[2]))
                else:
                    updates.setdefault("SET", []).append((target, value))
            else:
                updates.setdefault("REMOVE", []).append((self.path(),))
        if not updates:
            raise malformed("UPDATE requires SET or REMOVE")
        where = self._where(required=True)
        returning = self._returning(("ALL OLD", "MODIFIED OLD", "ALL NEW", "MODIFIED NEW"))
        return Statement("UPDATE", table, where=where, updates=updates, returning=returning)

    def _delete(self) -> Statement:
        self.take("DELETE")
        self.take("FROM")
        table, _ = self._target()
        where = self._where(required=True)
        return Statement("DELETE", table, where=where, returning=self._returning(("ALL OLD",)))

    def _returning(self, allowed: tuple[str, ...]) -> str | None:
        if not self.accept("RETURNING"):
            return None
        which = f"{self.take()[1].upper()} {self.take()[1].upper()}"
        self.take("*")
        if which not in allowed:
            raise malformed(f"RETURNING {which} * is not supported here; use one of {', '.join(allowed)}")
        return which

    def _target(self) -> tuple[str, str | None]:
        table = self._identifier()
        index = self._identifier() if self.accept(".") else None
        return table, index

    def _identifier(self) -> str:
        kind, text = self.take()
        if kind == "quoted":
            return text[1:-1].replace('""', '"')
        if kind == "word":
            return text
        raise malformed(f"Expected an identifier but found {text}")

    def _where(self, required: bool) -> tuple | None:
        if self.accept("WHERE"):
            return self.condition()
        if required:
            raise malformed("A WHERE clause is required")
        return None

    def _set_value(self) -> tuple:
        token = self.peek()
        after = self.tokens[self.pos + 1] if self.pos + 1 < len(self.tokens) else None
        if (
            token
            and token[0] == "word"
            and token[1].lower() in _SET_FUNCTIONS
            and after is not None
            and after[1] == "("
        ):
            name = token[1].lower()
            self.pos += 2
            first = self.operand()
            self.take(",")
            second = self.operand()
            self.take(")")
            return (name, first, second)
        left = self.operand()
        token = self.peek()
        if token and token[1] in ("+", "-"):
            self.pos += 1
            return (token[1], left, self.operand())
        return left

    # -- conditions --

    def condition(self) -> tuple:
        left = self._and()
        while self.accept("OR"):
            left = ("or", left, self._and())
        return left

    def _and(self) -> tuple:
        left = self._not()
        while self.accept("AND"):
            left = ("and", left, self._not())
        return left

    def _not(self) -> tuple:
        if self.accept("NOT"):
            return ("not", self._not())
        return self._primary()

    def _primary(self) -> tuple:
        token = self.peek()
        if token and token[1] == "(":
            self.pos += 1
            inner = self.condition()
            self.take(")")
            return inner
        if token and token[0] == "word" and token[1].lower() in _FUNCTIONS:
            name = token[1].lower()
            self.pos += 1
            self.take("(")
            arguments = [self.operand()]
            while self.accept(","):
                arguments.append(self.operand())
            self.take(")")
            return ("func", name, arguments)
        left = self.operand()
        if self.accept("IS"):
            negated = self.accept("NOT")
            self.take("MISSING")
            return ("func", "attribute_exists" if negated else "attribute_not_exists", [left])
        if self.accept("BETWEEN"):
            low = self.operand()
            self.take("AND")
            return ("between", left, low, self.operand())
        if self.accept("IN"):
            self.take("[")
            options = [self.operand()]
            while self.accept(","):
                options.append(self.operand())
            self.take("]")
            return ("in", left, options)
        kind, op = self.take()
        if op not in _COMPARATORS:
            raise malformed(f"Unexpected token: {op}")
        return ("cmp", "<>" if op == "!=" else op, left, self.operand())

    def operand(self) -> tuple:
        token = self.peek()
        if token is None:
            raise malformed("Unexpected end of statement")
        if token[0] == "word" and token[1].lower() == "size":
            self.pos += 1
            self.take("(")
            inner = self.path()
            self.take(")")
            return ("size", inner)
        if token[0] == "quoted" or (token[0] == "word" and token[1].upper() not in ("TRUE", "FALSE", "NULL")):
            return self.path()
        return ("value", self.literal())

    def path(self) -> tuple:
        elements: list[str | int] = [self._identifier()]
        while True:
            if self.accept("."):
                elements.append(self._identifier())
            elif self.accept("["):
                kind, text = self.take()
                if kind != "number" or not text.isdigit():
                    raise malformed("A list index must be a non-negative integer")
                self.take("]")
                elements.append(int(text))
            else:
                return ("path", tuple(elements))

    # -- literals --

    def literal(self) -> dict[str, Any]:
        kind, text = self.take()
        if kind == "string":
            return {"S": text[1:-1].replace("''", "'")}
        if kind == "number":
            return {"N": number_text(parse_number(text))}
        if text == "?":
            if self.used_parameters >= len(self.parameters):
                raise validation("Number of parameters in request and statement don't match.")
            value = self.parameters[self.used_parameters]
            self.used_parameters += 1
            return canonical_value(value)
        upper = text.upper()
        if upper in ("TRUE", "FALSE"):
            return {"BOOL": upper == "TRUE"}
        if upper == "NULL":
            return {"NULL": True}
        if text == "[":
            return {"L": self._sequence("]")}
        if text == "<<":
            return self._set(self._sequence(">>"))
        if text == "{":
            return {"M": self._map()}
        raise malformed(f"Unexpected token: {text}")

    def _sequence(self, closing: str) -> list[dict[str, Any]]:
        values: list[dict[str, Any]] = []
        if self.accept(closing):
            return values
        values.append(self.literal())
        while self.accept(","):
            values.append(self.literal())
        self.take(closing)
        return values

    def _map(self) -> dict[str, Any]:
        entries: dict[str, Any] = {}
        if self.accept("}"):
            return entries
        while True:
            key = self.literal()
            if "S" not in key:
                raise malformed("Map keys must be strings")
            self.take(":")
            entries[key["S"]] = self.literal()
            if not self.accept(","):
                break
        self.take("}")
        return entries

    @staticmethod
    def _set(values: list[dict[str, Any]]) -> dict[str, Any]:
        kinds = {next(iter(v)) for v in values}
        if len(kinds) != 1 or next(iter(kinds)) not in ("S", "N", "B"):
            raise malformed("A set holds values of one scalar type")
        kind = next(iter(kinds))
        return canonical_value({kind + "S": [v[kind] for v in values]})


def parse(text: str, parameters: list[dict[str, Any]] | None) -> Statement:
    return _Parser(text, parameters).statement()


def conjuncts(tree: tuple | None) -> list[tuple]:
    if tree is None:
        return []
    if tree[0] == "and":
        return conjuncts(tree[1]) + conjuncts(tree[2])
    return [tree]


def key_equalities(tree: tuple | None) -> dict[str, dict[str, Any]]:
    """Attribute = value terms of the top-level AND (what identifies an item or a partition)."""
    found = {}
    for term in conjuncts(tree):
        if term[0] == "cmp" and term[1] == "=":
            left, right = term[2], term[3]
            if left[0] == "value" and right[0] == "path":
                left, right = right, left
            if left[0] == "path" and len(left[1]) == 1 and right[0] == "value":
                found[left[1][0]] = right[1]
    return found
