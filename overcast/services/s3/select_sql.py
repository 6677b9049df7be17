"""The SQL of S3 Select: a lexer, a parser and an evaluator for the subset AWS documents.

SELECT list (`*`, columns by name or `_N`, expressions with aliases, `s.a.b[0]` paths), FROM `S3Object`
with an optional path (`S3Object[*].items`) and alias, WHERE (comparisons, AND/OR/NOT, LIKE with ESCAPE,
BETWEEN, IN, IS [NOT] NULL/MISSING), arithmetic and `||`, CASE, CAST, string functions (LOWER, UPPER,
CHAR_LENGTH, SUBSTRING, TRIM), COALESCE, NULLIF, UTCNOW, aggregates (COUNT, SUM, AVG, MIN, MAX) and LIMIT.

Values are Python values: None is NULL, `MISSING` an absent field, str, int, float, Decimal, bool, datetime,
list and dict (JSON). CSV fields are strings; compared with a number (or in arithmetic) a numeric string
counts as its number, as S3 Select coerces them. Errors are ServiceErrors with AWS's codes (400).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from overcast.errors import ServiceError


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


MAX_NESTING = 32  # parenthesized levels: deeper ones would exhaust Python's stack while parsing or evaluating


def sql_error(code: str, message: str, **fields: Any) -> ServiceError:
    return ServiceError(code, message, 400, **fields)


# ----------------------------------------------------------------------------------------------- lexer

KEYWORDS = {
    "select", "from", "where", "limit", "as", "and", "or", "not", "like", "escape", "between", "in", "is",
    "null", "missing", "true", "false", "cast", "case", "when", "then", "else", "end", "for", "leading",
    "trailing", "both",
}  # fmt: skip

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<str>'(?:[^']|'')*')
  | (?P<qid>"(?:[^"]|"")*")
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><>|!=|<=|>=|\|\||[=<>+\-*/%(),.\[\];])
    """,
    re.VERBOSE,
)


@dataclass
class Token:
    kind: str  # num, str, qid, id, kw, op, eof
    value: Any
    pos: int  # character offset, for the error's line and column
    text: str = ""


def tokenize(sql: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(sql):
        m = _TOKEN.match(sql, pos)
        if m is None:
            line, col = _line_col(sql, pos)
            raise sql_error(
                "LexerInvalidChar",
                f"The SQL expression contains an invalid character at line {line}, column {col}.",
            )
        kind = m.lastgroup or ""
        text = m.group()
        if kind == "num":
            is_int = text.isdigit()
            tokens.append(Token("num", int(text) if is_int else Decimal(text), pos, text))
        elif kind == "str":
            tokens.append(Token("str", text[1:-1].replace("''", "'"), pos, text))
        elif kind == "qid":
            tokens.append(Token("qid", text[1:-1].replace('""', '"'), pos, text))
        elif kind == "id":
            low = text.lower()
            tokens.append(
                Token("kw" if low in KEYWORDS else "id", low if low in KEYWORDS else text, pos, text)
            )
        elif kind == "op":
            tokens.append(Token("op", text, pos, text))
        pos = m.end()
    tokens.append(Token("eof", None, len(sql), "<EOF>"))
    return tokens


def _line_col(sql: str, pos: int) -> tuple[int, int]:
    line = sql.count("\n", 0, pos) + 1
    col = pos - (sql.rfind("\n", 0, pos) + 1) + 1
    return line, col


# ------------------------------------------------------------------------------------------------ AST


class Node:
    def eval(self, row: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def children(self) -> list[Node]:
        return []


@dataclass
class Literal(Node):
    value: Any

    def eval(self, row: Any) -> Any:
        return self.value


@dataclass
class Path(Node):
    """A reference to a field of the record: steps are (name, case_sensitive) or an int index or '*'."""

    steps: list[Any]
    text: str

    def eval(self, row: Any) -> Any:
        return row.resolve(self.steps)


@dataclass
class StarPath(Node):
    """`s.*`: the whole record, allowed alone in the SELECT list."""

    steps: list[Any]

    def eval(self, row: Any) -> Any:
        raise sql_error(
            "ParseInvalidContextForWildcardInSelectList",
            "Invalid use of * in the SELECT list of the SQL expression.",
        )


@dataclass
class Unary(Node):
    op: str
    operand: Node

    def eval(self, row: Any) -> Any:
        v = self.operand.eval(row)
        if self.op == "not":
            b = truth(v)
            return None if b is None else not b
        n = number(v)
        if n is None:
            return None
        return -n if self.op == "-" else n

    def children(self) -> list[Node]:
        return [self.operand]


@dataclass
class Binary(Node):
    op: str
    left: Node
    right: Node

    def eval(self, row: Any) -> Any:
        op = self.op
        if op == "and":
            a = truth(self.left.eval(row))
            if a is False:
                return False
            b = truth(self.right.eval(row))
            if b is False:
                return False
            return None if a is None or b is None else True
        if op == "or":
            a = truth(self.left.eval(row))
            if a is True:
                return True
            b = truth(self.right.eval(row))
            if b is True:
                return True
            return None if a is None or b is None else False
        a, b = self.left.eval(row), self.right.eval(row)
        if op == "||":
            if a is None or b is None or a is MISSING or b is MISSING:
                return None
            return to_text(a) + to_text(b)
        if op in ("=", "!=", "<>", "<", ">", "<=", ">="):
            return compare(op, a, b)
        x, y = number(a), number(b)
        if x is None or y is None:
            return None  # NULL, MISSING or a value that is no number (PartiQL's permissive mode)
        if isinstance(x, float) or isinstance(y, float):
            x, y = float(x), float(y)
        elif isinstance(x, Decimal) or isinstance(y, Decimal):
            x, y = Decimal(x), Decimal(y)
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        if y == 0:
            raise sql_error("DivisionByZero", "Division by zero.")
        if op == "/":
            if isinstance(x, int) and isinstance(y, int):
                q = abs(x) // abs(y)
                return q if (x >= 0) == (y >= 0) else -q
            return x / y
        if isinstance(x, int) and isinstance(y, int):
            r = abs(x) % abs(y)
            return r if x >= 0 else -r
        return x % y

    def children(self) -> list[Node]:
        return [self.left, self.right]


@dataclass
class Like(Node):
    operand: Node
    pattern: Node
    escape: Node | None
    negated: bool

    def eval(self, row: Any) -> Any:
        v, p = self.operand.eval(row), self.pattern.eval(row)
        esc = self.escape.eval(row) if self.escape is not None else None
        if v is None or p is None or v is MISSING or p is MISSING:
            return None
        if not isinstance(v, str) or not isinstance(p, str):
            raise sql_error(
                "LikeInvalidInputs", "Invalid argument given to the LIKE clause in the SQL expression."
            )
        matched = _like_regex(p, esc).fullmatch(v) is not None
        return matched != self.negated

    def children(self) -> list[Node]:
        return [n for n in (self.operand, self.pattern, self.escape) if n is not None]


_LIKE_CACHE: dict[tuple[str, str | None], re.Pattern] = {}


def _like_regex(pattern: str, escape: str | None) -> re.Pattern:
    key = (pattern, escape)
    found = _LIKE_CACHE.get(key)
    if found is not None:
        return found
    if escape is not None and len(escape) != 1:
        raise sql_error(
            "EvaluatorLikePatternInvalidEscapeSequence",
            "Invalid escape sequence in the LIKE pattern of the SQL expression.",
        )
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if escape is not None and c == escape:
            if i + 1 >= len(pattern):
                raise sql_error(
                    "EvaluatorLikePatternInvalidEscapeSequence",
                    "Invalid escape sequence in the LIKE pattern of the SQL expression.",
                )
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    compiled = re.compile("".join(out), re.DOTALL)
    if len(_LIKE_CACHE) < 1024:
        _LIKE_CACHE[key] = compiled
    return compiled


@dataclass
class Between(Node):
    operand: Node
    low: Node
    high: Node
    negated: bool

    def eval(self, row: Any) -> Any:
        v = self.operand.eval(row)
        lo = compare(">=", v, self.low.eval(row))
        hi = compare("<=", v, self.high.eval(row))
        if lo is False or hi is False:
            result: Any = False
        elif lo is None or hi is None:
            return None
        else:
            result = True
        return result != self.negated

    def children(self) -> list[Node]:
        return [self.operand, self.low, self.high]


@dataclass
class In(Node):
    operand: Node
    options: list[Node]
    negated: bool

    def eval(self, row: Any) -> Any:
        v = self.operand.eval(row)
        unknown = False
        for option in self.options:
            r = compare("=", v, option.eval(row))
            if r is True:
                return not self.negated
            if r is None:
                unknown = True
        return None if unknown else self.negated

    def children(self) -> list[Node]:
        return [self.operand, *self.options]


@dataclass
class IsTest(Node):
    operand: Node
    what: str  # null / missing / true / false
    negated: bool

    def eval(self, row: Any) -> Any:
        v = self.operand.eval(row)
        if self.what == "null":
            r = v is None or v is MISSING
        elif self.what == "missing":
            r = v is MISSING
        else:
            r = v is (self.what == "true")
        return r != self.negated

    def children(self) -> list[Node]:
        return [self.operand]


@dataclass
class Case(Node):
    subject: Node | None
    whens: list[tuple[Node, Node]]
    default: Node | None

    def eval(self, row: Any) -> Any:
        subject = self.subject.eval(row) if self.subject is not None else None
        for cond, result in self.whens:
            if self.subject is not None:
                hit = compare("=", subject, cond.eval(row)) is True
            else:
                hit = truth(cond.eval(row)) is True
            if hit:
                return result.eval(row)
        return self.default.eval(row) if self.default is not None else None

    def children(self) -> list[Node]:
        out = [self.subject] if self.subject is not None else []
        for a, b in self.whens:
            out += [a, b]
        return out + ([self.default] if self.default is not None else [])


CAST_TYPES = {
    "int": "int", "integer": "int", "bigint": "int", "smallint": "int",
    "float": "float", "real": "float", "double": "float",
    "decimal": "decimal", "numeric": "decimal",
    "string": "string", "varchar": "string", "char": "string", "character": "string",
    "bool": "bool", "boolean": "bool", "timestamp": "timestamp",
}  # fmt: skip


@dataclass
class Cast(Node):
    operand: Node
    type: str

    def eval(self, row: Any) -> Any:
        return cast(self.operand.eval(row), self.type)

    def children(self) -> list[Node]:
        return [self.operand]


@dataclass
class Call(Node):
    name: str
    args: list[Node]
    trim_where: str = "both"

    def eval(self, row: Any) -> Any:
        values = [a.eval(row) for a in self.args]
        return call_function(self.name, values, self.trim_where)

    def children(self) -> list[Node]:
        return list(self.args)


AGGREGATES = ("count", "sum", "avg", "min", "max")


@dataclass
class Aggregate(Node):
    name: str
    arg: Node | None  # None: COUNT(*)
    state: dict = field(default_factory=dict)

    def reset(self) -> None:
        self.state = {"count": 0, "total": None, "best": None}

    def accumulate(self, row: Any) -> None:
        st = self.state
        if self.arg is None:
            st["count"] += 1
            return
        v = self.arg.eval(row)
        if v is None or v is MISSING:
            return
        st["count"] += 1
        if self.name in ("sum", "avg"):
            n = number(v)
            if n is None:
                raise sql_error(
                    "IncorrectSqlFunctionArgumentType",
                    f"Incorrect type of arguments in function call {self.name.upper()}.",
                )
            total = st["total"]
            if total is None:
                st["total"] = n
            elif isinstance(total, float) or isinstance(n, float):
                st["total"] = float(total) + float(n)
            else:
                st["total"] = total + n
        elif self.name in ("min", "max"):
            best = st["best"]
            if best is None:
                st["best"] = v
            else:
                better = compare("<" if self.name == "min" else ">", v, best)
                if better:
                    st["best"] = v

    def eval(self, row: Any) -> Any:
        st = self.state
        if self.name == "count":
            return st["count"]
        if self.name == "sum":
            return st["total"]
        if self.name == "avg":
            if not st["count"]:
                return None
            total = st["total"]
            if isinstance(total, float):
                return total / st["count"]
            return Decimal(total) / Decimal(st["count"])
        return st["best"]

    def children(self) -> list[Node]:
        return [self.arg] if self.arg is not None else []


@dataclass
class SelectItem:
    expr: Node
    alias: str | None
    name: str  # the output column's name


@dataclass
class Query:
    star: bool
    items: list[SelectItem]
    from_path: list[Any]  # steps after S3Object: '*' or names
    alias: str | None
    where: Node | None
    limit: int | None
    aggregates: list[Aggregate]


# ------------------------------------------------------------------------------------------------ parser


class Parser:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.tokens = tokenize(sql)
        self.i = 0
        self.alias: str | None = None
        self.depth = 0  # parentheses open at this point

    # -- helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def is_kw(self, *words: str) -> bool:
        return self.tok.kind == "kw" and self.tok.value in words

    def is_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.value in ops

    def unexpected(self, token: Token | None = None) -> ServiceError:
        token = token or self.tok
        line, col = _line_col(self.sql, token.pos)
        return sql_error(
            "ParseUnexpectedToken",
            f"Unexpected token found {token.text} at line {line}, column {col}.",
        )

    def expect_kw(self, word: str, code: str = "ParseExpectedKeyword") -> None:
        if not self.is_kw(word):
            line, col = _line_col(self.sql, self.tok.pos)
            raise sql_error(code, f"Expected keyword {word.upper()} at line {line}, column {col}.")
        self.advance()

    def expect_op(self, op: str) -> None:
        if not self.is_op(op):
            line, col = _line_col(self.sql, self.tok.pos)
            code = "ParseExpectedRightParenBuiltinFunctionCall" if op == ")" else "ParseExpectedTokenType"
            raise sql_error(code, f"Expected {op} at line {line}, column {col}, found {self.tok.text}.")
        self.advance()

    # -- statement
    def parse(self) -> Query:
        if not self.is_kw("select"):
            if self.tok.kind == "eof":
                raise sql_error("ParseEmptySelect", "The SQL expression contains an empty SELECT.")
            raise sql_error(
                "ParseUnsupportedSelect", "The SQL expression contains an unsupported use of SELECT."
            )
        self.advance()
        star = False
        raw_items: list[tuple[Node, str | None]] = []
        if self.is_op("*"):
            self.advance()
            star = True
            if self.is_op(","):
                raise sql_error(
                    "ParseAsteriskIsNotAloneInSelectList",
                    "Other expressions are not allowed in the SELECT list when '*' is used without dot "
                    "notation in the SQL expression.",
                )
        else:
            if self.is_kw("from") or self.tok.kind == "eof":
                raise sql_error("ParseEmptySelect", "The SQL expression contains an empty SELECT.")
            while True:
                expr = self.expression()
                alias = None
                if self.is_kw("as"):
                    self.advance()
                    if self.tok.kind not in ("id", "qid"):
                        raise sql_error(
                            "ParseExpectedIdentForAlias",
                            "Did not find the expected identifier for the alias.",
                        )
                    alias = self.advance().value
                elif self.tok.kind in ("id", "qid"):
                    alias = self.advance().value
                raw_items.append((expr, alias))
                if self.is_op(","):
                    self.advance()
                    if self.is_op("*"):
                        raise sql_error(
                            "ParseAsteriskIsNotAloneInSelectList",
                            "Other expressions are not allowed in the SELECT list when '*' is used without dot "
                            "notation in the SQL expression.",
                        )
                    continue
                break
        if not self.is_kw("from"):
            if self.tok.kind == "eof":
                raise sql_error(
                    "ParseSelectMissingFrom", "The SQL expression contains a missing FROM after SELECT."
                )
            raise self.unexpected()
        self.advance()
        from_path, alias = self.from_clause()
        self.alias = alias
        where = None
        if self.is_kw("where"):
            self.advance()
            where = self.expression()
        limit = None
        if self.is_kw("limit"):
            self.advance()
            negative = False
            if self.is_op("-"):
                self.advance()
                negative = True
            if self.tok.kind != "num" or not isinstance(self.tok.value, int):
                raise sql_error(
                    "ParseExpectedNumber", "Did not find the expected number in the SQL expression."
                )
            limit = self.advance().value
            if negative:
                raise sql_error(
                    "EvaluatorNegativeLimit", "The LIMIT clause in the SQL expression can't be negative."
                )
        if self.is_op(";"):
            self.advance()
        if self.tok.kind != "eof":
            if self.tok.kind == "id" and self.tok.value.lower() in ("group", "order", "having", "join"):
                raise sql_error(
                    "UnsupportedSqlOperation",
                    f"{self.tok.value.upper()} is not supported in the SQL expression.",
                )
            raise self.unexpected()
        if len(raw_items) == 1 and isinstance(raw_items[0][0], StarPath):
            steps = raw_items[0][0].steps
            name = steps[0][0].lower() if len(steps) == 1 and isinstance(steps[0], tuple) else None
            if name is not None and (name == "s3object" or (alias is not None and name == alias.lower())):
                star, raw_items = True, []
        for expr, _ in raw_items:
            if _collect(expr, StarPath, []):
                raise sql_error(
                    "ParseInvalidContextForWildcardInSelectList",
                    "Invalid use of * in the SELECT list of the SQL expression.",
                )
        items: list[SelectItem] = []
        for index, (expr, item_alias) in enumerate(raw_items, 1):
            self._strip_alias(expr)
            name = item_alias or self._default_name(expr, index)
            items.append(SelectItem(expr, item_alias, name))
        aggregates: list[Aggregate] = []
        for item in items:
            _collect(item.expr, Aggregate, aggregates)
        if where is not None:
            self._strip_alias(where)
            found: list[Aggregate] = []
            _collect(where, Aggregate, found)
            if found:
                raise sql_error(
                    "ParseUnexpectedToken",
                    "Aggregate functions are not allowed in the WHERE clause of the SQL expression.",
                )
        if aggregates:
            for item in items:
                if _has_bare_path(item.expr):
                    raise sql_error(
                        "UnsupportedSqlStructure",
                        "Fields must be used inside aggregate functions when the SELECT list has aggregates.",
                    )
        return Query(star, items, from_path, alias, where, limit, aggregates)

    def from_clause(self) -> tuple[list[Any], str | None]:
        t = self.tok
        if t.kind not in ("id", "qid") or t.value.lower() != "s3object":
            if t.kind in ("id", "qid"):
                raise sql_error(
                    "InvalidDataSource",
                    "Invalid data source type. Only S3Object is supported as a data source.",
                )
            raise self.unexpected()
        self.advance()
        steps: list[Any] = []
        while True:
            if self.is_op("["):
                self.advance()
                if self.is_op("*"):
                    self.advance()
                    steps.append("*")
                elif self.tok.kind == "num" and isinstance(self.tok.value, int):
                    steps.append(self.advance().value)
                else:
                    raise self.unexpected()
                self.expect_op("]")
            elif self.is_op("."):
                self.advance()
                if self.tok.kind not in ("id", "qid", "kw"):
                    raise sql_error(
                        "ParseInvalidPathComponent", "Invalid path component in the SQL expression."
                    )
                tk = self.advance()
                steps.append((tk.text if tk.kind == "kw" else tk.value, tk.kind == "qid"))
            else:
                break
        alias = None
        if self.is_kw("as"):
            self.advance()
            if self.tok.kind not in ("id", "qid"):
                raise sql_error(
                    "ParseExpectedIdentForAlias", "Did not find the expected identifier for the alias."
                )
            alias = self.advance().value
        elif self.tok.kind in ("id", "qid") and self.tok.value.lower() not in (
            "group",
            "order",
            "having",
            "join",
        ):
            alias = self.advance().value
        return steps, alias

    def _strip_alias(self, node: Node) -> None:
        """`s.a` and `S3Object.a` address the record's field `a`."""
        for path in _collect(node, Path, []):
            first = path.steps[0] if path.steps else None
            if isinstance(first, tuple) and len(path.steps) > 1:
                name = first[0]
                if (
                    self.alias is not None and name.lower() == self.alias.lower()
                ) or name.lower() == "s3object":
                    path.steps = path.steps[1:]
            if path.steps and isinstance(path.steps[0], tuple):
                name, quoted = path.steps[0]
                m = re.fullmatch(r"_(\d+)", name)
                if m and not quoted:
                    index = int(m.group(1))
                    if index < 1:
                        raise sql_error("InvalidColumnIndex", f"The column index at {name} is invalid.")
                    path.steps[0] = ("#", index)

    @staticmethod
    def _default_name(expr: Node, index: int) -> str:
        if isinstance(expr, Path) and expr.steps:
            last = expr.steps[-1]
            if isinstance(last, tuple):
                return f"_{last[1]}" if last[0] == "#" else last[0]
        return f"_{index}"

    # -- expressions
    def expression(self) -> Node:
        return self.or_expr()

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.is_kw("or"):
            self.advance()
            node = Binary("or", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while self.is_kw("and"):
            self.advance()
            node = Binary("and", node, self.not_expr())
        return node

    def not_expr(self) -> Node:
        if self.is_kw("not"):
            self.advance()
            return Unary("not", self.not_expr())
        return self.predicate()

    def predicate(self) -> Node:
        left = self.concat()
        while True:
            if self.is_op("=", "!=", "<>", "<", ">", "<=", ">="):
                op = self.advance().value
                left = Binary(op, left, self.concat())
                continue
            negated = False
            if (
                self.is_kw("not")
                and self.tokens[self.i + 1].kind == "kw"
                and self.tokens[self.i + 1].value in ("like", "between", "in")
            ):
                self.advance()
                negated = True
            if self.is_kw("like"):
                self.advance()
                pattern = self.concat()
                escape = None
                if self.is_kw("escape"):
                    self.advance()
                    escape = self.concat()
                left = Like(left, pattern, escape, negated)
            elif self.is_kw("between"):
                self.advance()
                low = self.concat()
                self.expect_kw("and")
                high = self.concat()
                left = Between(left, low, high, negated)
            elif self.is_kw("in"):
                self.advance()
                self.expect_op("(")
                options = [self.expression()]
                while self.is_op(","):
                    self.advance()
                    options.append(self.expression())
                self.expect_op(")")
                left = In(left, options, negated)
            elif self.is_kw("is"):
                self.advance()
                neg = False
                if self.is_kw("not"):
                    self.advance()
                    neg = True
                if not self.is_kw("null", "missing", "true", "false"):
                    raise self.unexpected()
                left = IsTest(left, self.advance().value, neg)
            else:
                return left

    def concat(self) -> Node:
        node = self.additive()
        while self.is_op("||"):
            self.advance()
            node = Binary("||", node, self.additive())
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.is_op("+", "-"):
            op = self.advance().value
            node = Binary(op, node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while self.is_op("*", "/", "%"):
            op = self.advance().value
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.is_op("-", "+"):
            op = self.advance().value
            operand = self.unary()
            if isinstance(operand, Literal) and isinstance(operand.value, (int, Decimal)) and op == "-":
                return Literal(-operand.value)
            return Unary(op, operand)
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while isinstance(node, Path):
            if self.is_op("."):
                self.advance()
                if self.is_op("*"):
                    self.advance()
                    return StarPath(node.steps)
                if self.tok.kind not in ("id", "qid", "kw"):
                    raise sql_error(
                        "ParseInvalidPathComponent", "Invalid path component in the SQL expression."
                    )
                tk = self.advance()
                node.steps.append((tk.text if tk.kind == "kw" else tk.value, tk.kind == "qid"))
            elif self.is_op("["):
                self.advance()
                if self.tok.kind == "num" and isinstance(self.tok.value, int):
                    node.steps.append(self.advance().value)
                elif self.tok.kind == "str":
                    node.steps.append((self.advance().value, True))
                else:
                    raise sql_error(
                        "ParseInvalidPathComponent", "Invalid path component in the SQL expression."
                    )
                self.expect_op("]")
            else:
                break
        return node

    def primary(self) -> Node:
        t = self.tok
        if t.kind == "num":
            self.advance()
            return Literal(t.value)
        if t.kind == "str":
            self.advance()
            return Literal(t.value)
        if t.kind == "qid":
            self.advance()
            return Path([(t.value, True)], t.text)
        if t.kind == "op" and t.value == "(":
            self.advance()
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise sql_error("UnsupportedSyntax", "The SQL expression is nested too deeply.")
            node = self.expression()
            self.expect_op(")")
            self.depth -= 1
            return node
        if t.kind == "kw":
            if t.value in ("null", "missing", "true", "false"):
                self.advance()
                return Literal({"null": None, "missing": MISSING, "true": True, "false": False}[t.value])
            if t.value == "cast":
                return self.cast()
            if t.value == "case":
                return self.case()
            raise self.unexpected()
        if t.kind == "id":
            if self.tokens[self.i + 1].kind == "op" and self.tokens[self.i + 1].value == "(":
                return self.function()
            self.advance()
            return Path([(t.value, False)], t.text)
        if t.kind == "eof":
            raise sql_error("ParseExpectedExpression", "Did not find the expected SQL expression.")
        raise self.unexpected()

    def cast(self) -> Node:
        self.advance()
        if not self.is_op("("):
            raise sql_error(
                "ParseExpectedLeftParenAfterCast",
                "Did not find expected the left parenthesis in the SQL expression.",
            )
        self.advance()
        operand = self.expression()
        self.expect_kw("as")
        t = self.tok
        name = (t.text or "").lower()
        if t.kind not in ("id", "kw") or name not in CAST_TYPES:
            raise sql_error(
                "ParseExpectedTypeName", "Did not find the expected type name in the SQL expression."
            )
        self.advance()
        if self.is_op("("):  # VARCHAR(10), DECIMAL(10, 2): precision is accepted and ignored
            while not self.is_op(")") and self.tok.kind != "eof":
                self.advance()
            self.expect_op(")")
        self.expect_op(")")
        return Cast(operand, CAST_TYPES[name])

    def case(self) -> Node:
        self.advance()
        subject = None
        if not self.is_kw("when"):
            subject = self.expression()
        whens = []
        while self.is_kw("when"):
            self.advance()
            cond = self.expression()
            self.expect_kw("then")
            whens.append((cond, self.expression()))
        if not whens:
            raise sql_error(
                "ParseExpectedWhenClause", "Did not find the expected WHEN clause in the SQL expression."
            )
        default = None
        if self.is_kw("else"):
            self.advance()
            default = self.expression()
        self.expect_kw("end")
        return Case(subject, whens, default)

    def function(self) -> Node:
        name_token = self.advance()
        name = name_token.value.lower()
        self.advance()  # (
        if name in AGGREGATES:
            if self.is_op("*"):
                if name != "count":
                    raise sql_error(
                        "ParseUnsupportedCallWithStar",
                        "Only COUNT with (*) as a parameter is supported in the SQL expression.",
                    )
                self.advance()
                self.expect_op(")")
                return Aggregate("count", None)
            arg = self.expression()
            if self.is_op(","):
                raise sql_error(
                    "ParseNonUnaryAgregateFunctionCall",
                    "Only one argument is supported for aggregate functions.",
                )
            self.expect_op(")")
            inner: list[Aggregate] = []
            _collect(arg, Aggregate, inner)
            if inner:
                raise sql_error("ParseUnexpectedToken", "Aggregate functions cannot be nested.")
            return Aggregate(name, arg)
        if name == "substring":
            args = [self.expression()]
            if self.is_kw("from"):
                self.advance()
                args.append(self.expression())
                if self.is_kw("for"):
                    self.advance()
                    args.append(self.expression())
            else:
                while self.is_op(","):
                    self.advance()
                    args.append(self.expression())
            self.expect_op(")")
            return Call(name, args)
        if name == "trim":
            where = "both"
            if self.is_kw("leading", "trailing", "both"):
                where = self.advance().value
            args: list[Node] = []
            if self.is_kw("from"):
                self.advance()
                args = [self.expression()]
            else:
                first = self.expression()
                if self.is_kw("from"):
                    self.advance()
                    args = [self.expression(), first]
                else:
                    args = [first]
            self.expect_op(")")
            return Call(name, args, where)
        if name not in FUNCTIONS:
            raise sql_error(
                "UnsupportedFunction", f"The SQL function {name_token.value.upper()} is not supported."
            )
        args = []
        if not self.is_op(")"):
            args.append(self.expression())
            while self.is_op(","):
                self.advance()
                args.append(self.expression())
        self.expect_op(")")
        low, high = FUNCTIONS[name]
        if not low <= len(args) <= high:
            raise sql_error(
                "EvaluatorInvalidArguments", f"Invalid number of arguments in the call to {name.upper()}."
            )
        return Call(name, args)


def _collect(node: Node | None, kind: type, out: list) -> list:
    if node is None:
        return out
    if isinstance(node, kind):
        out.append(node)
    if kind is Path or not isinstance(node, kind):
        for child in node.children():
            _collect(child, kind, out)
    return out


def _has_bare_path(node: Node) -> bool:
    if isinstance(node, Aggregate):
        return False
    if isinstance(node, Path):
        return True
    return any(_has_bare_path(c) for c in node.children())


def parse(sql: str) -> Query:
    try:
        return Parser(sql).parse()
    except RecursionError:  # nesting by other means than parentheses (NOT NOT NOT ..., - - - ...)
        raise sql_error("UnsupportedSyntax", "The SQL expression is nested too deeply.") from None


# --------------------------------------------------------------------------------------------- values


def truth(value: Any) -> bool | None:
    if value is None or value is MISSING:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low == "true":
            return True
        if low == "false":
            return False
    raise sql_error("EvaluatorInvalidArguments", "A condition of the SQL expression is not a boolean.")


_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")


def number(value: Any) -> int | float | Decimal | None:
    """A numeric value, or None: numbers as they are, numeric strings (CSV fields) as their number."""
    if isinstance(value, bool) or value is None or value is MISSING:
        return None
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            return Decimal(text)
    return None


def compare(op: str, a: Any, b: Any) -> bool | None:
    if a is None or b is None or a is MISSING or b is MISSING:
        return None
    x: Any
    y: Any
    a_num = isinstance(a, (int, float, Decimal)) and not isinstance(a, bool)
    b_num = isinstance(b, (int, float, Decimal)) and not isinstance(b, bool)
    if a_num or b_num:
        x, y = number(a), number(b)
        if x is None or y is None:
            if op == "=":
                return False
            if op in ("!=", "<>"):
                return True
            return None  # an ordering between a number and a non-numeric value is unknown
        if isinstance(x, float) or isinstance(y, float):
            x, y = float(x), float(y)
    elif isinstance(a, bool) or isinstance(b, bool):
        x, y = truth(a), truth(b)
    elif isinstance(a, datetime) or isinstance(b, datetime):
        x = a if isinstance(a, datetime) else cast(a, "timestamp")
        y = b if isinstance(b, datetime) else cast(b, "timestamp")
    else:
        x, y = a, b
        if type(x) is not type(y):
            if op == "=":
                return False
            if op in ("!=", "<>"):
                return True
            return None
    try:
        if op == "=":
            return x == y
        if op in ("!=", "<>"):
            return x != y
        if op == "<":
            return x < y
        if op == ">":
            return x > y
        if op == "<=":
            return x <= y
        return x >= y
    except TypeError:
        return None


def to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return (
            format(value, "f") if value == value.to_integral_value() and "E" not in str(value) else str(value)
        )
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, (list, dict)):
        import json

        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)


def _cast_failed(value: Any, type_: str) -> ServiceError:
    return sql_error(
        "CastFailed",
        f"Attempt to convert from one data type to another using CAST failed in the SQL expression "
        f"(value {to_text(value)!r} to {type_.upper()}).",
    )


def cast(value: Any, type_: str) -> Any:
    if value is None or value is MISSING:
        return value
    try:
        if type_ == "string":
            return to_text(value)
        if type_ == "int":
            if isinstance(value, bool):
                return int(value)
            if isinstance(value, (int,)):
                return value
            if isinstance(value, (float, Decimal)):
                return int(value)
            if isinstance(value, str):
                text = value.strip()
                try:
                    return int(text)
                except ValueError:
                    return int(Decimal(text))
        if type_ == "float":
            if isinstance(value, bool):
                return float(value)
            if isinstance(value, (int, float, Decimal, str)):
                return float(value if not isinstance(value, str) else value.strip())
        if type_ == "decimal":
            if isinstance(value, bool):
                return Decimal(int(value))
            if isinstance(value, (int, float, Decimal)):
                return Decimal(str(value)) if isinstance(value, float) else Decimal(value)
            if isinstance(value, str):
                return Decimal(value.strip())
        if type_ == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, (int, float, Decimal)):
                return value != 0
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                return value.strip().lower() == "true"
        if type_ == "timestamp":
            if isinstance(value, datetime):
                return value
            if isinstance(value, str):
                text = value.strip().replace("Z", "+00:00")
                if re.fullmatch(r"\d{4}T", text):
                    text = text[:4] + "-01-01"
                elif re.fullmatch(r"\d{4}-\d{2}T", text):
                    text = text[:7] + "-01"
                elif text.endswith("T"):
                    text = text[:-1]
                moment = datetime.fromisoformat(text)
                return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, InvalidOperation, OverflowError, ArithmeticError):
        raise _cast_failed(value, type_) from None
    raise _cast_failed(value, type_)


# ------------------------------------------------------------------------------------------- functions

FUNCTIONS: dict[str, tuple[int, int]] = {
    "lower": (1, 1),
    "upper": (1, 1),
    "char_length": (1, 1),
    "character_length": (1, 1),
    "coalesce": (1, 64),
    "nullif": (2, 2),
    "utcnow": (0, 0),
    "abs": (1, 1),
}


def _string_arg(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise sql_error(
            "IncorrectSqlFunctionArgumentType",
            f"Incorrect type of arguments in function call {name.upper()}.",
        )
    return value


def call_function(name: str, args: list[Any], trim_where: str = "both") -> Any:
    if name == "coalesce":
        for v in args:
            if v is not None and v is not MISSING:
                return v
        return None
    if name == "nullif":
        return None if compare("=", args[0], args[1]) is True else args[0]
    if name == "utcnow":
        return datetime.now(UTC)
    if any(v is None or v is MISSING for v in args):
        return None
    if name == "lower":
        return _string_arg(name, args[0]).lower()
    if name == "upper":
        return _string_arg(name, args[0]).upper()
    if name in ("char_length", "character_length"):
        return len(_string_arg(name, args[0]))
    if name == "abs":
        n = number(args[0])
        if n is None:
            raise sql_error(
                "IncorrectSqlFunctionArgumentType", "Incorrect type of arguments in function call ABS."
            )
        return abs(n)
    if name == "substring":
        text = _string_arg(name, args[0])
        if len(args) < 2:
            raise sql_error(
                "EvaluatorInvalidArguments", "Invalid number of arguments in the call to SUBSTRING."
            )
        start = number(args[1])
        length = number(args[2]) if len(args) > 2 else None
        if not isinstance(start, int) or (len(args) > 2 and not isinstance(length, int)):
            raise sql_error(
                "IncorrectSqlFunctionArgumentType", "Incorrect type of arguments in function call SUBSTRING."
            )
        if length is not None and length < 0:
            raise sql_error("InvalidArgument", "The length of SUBSTRING can't be negative.")
        # SQL semantics: 1-based; positions before 1 count against the length
        begin = start - 1
        end = None if length is None else begin + length
        begin = max(begin, 0)
        if end is not None:
            end = max(end, 0)
        return text[begin:end]
    if name == "trim":
        text = _string_arg(name, args[0])
        chars = _string_arg(name, args[1]) if len(args) > 1 else " "
        if trim_where == "leading":
            return text.lstrip(chars)
        if trim_where == "trailing":
            return text.rstrip(chars)
        return text.strip(chars)
    raise sql_error(
        "UnsupportedFunction", f"The SQL function {name.upper()} is not supported."
    )  # pragma: no cover
