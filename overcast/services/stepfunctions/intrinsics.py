"""The intrinsic functions of JSONPath states: `States.Format('Hello {}', $.name)` and the rest.

An intrinsic is a string value of a field ending in `.$` (in Parameters, ResultSelector, ItemSelector,
Arguments-less JSONPath states). Its arguments are string literals in single quotes (with `\\'`, `\\{`, `\\}`
and `\\\\` escapes), numbers, `true`/`false`/`null`, JSONPaths (`$.x`, `$$.Execution.Id`) and other intrinsic
calls. A failing call raises States.IntrinsicFailure... except where AWS raises States.Runtime.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from overcast.services.stepfunctions import jsonpath
from overcast.services.stepfunctions.failures import StatesError, dumps

FAILURE = "States.IntrinsicFailure"


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Any, ...]  # Literal | PathArg | Call


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class PathArg:
    path: str


class SyntaxProblem(ValueError):
    pass


def is_intrinsic(text: Any) -> bool:
    return isinstance(text, str) and text.startswith("States.") and text.rstrip().endswith(")")


@lru_cache(maxsize=2048)
def parse(text: str) -> Call:
    parser = _Parser(text)
    call = parser.call()
    parser.skip_space()
    if parser.pos != len(text):
        raise SyntaxProblem(text)
    return call


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def call(self) -> Call:
        self.skip_space()
        match = re.compile(r"States\.[A-Za-z0-9]+").match(self.text, self.pos)
        if not match:
            raise SyntaxProblem(self.text)
        name = match.group()
        self.pos = match.end()
        self.skip_space()
        if not self.text.startswith("(", self.pos):
            raise SyntaxProblem(self.text)
        self.pos += 1
        args: list[Any] = []
        self.skip_space()
        if self.text.startswith(")", self.pos):
            self.pos += 1
            return Call(name, ())
        while True:
            args.append(self.argument())
            self.skip_space()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.text.startswith(")", self.pos):
                self.pos += 1
                return Call(name, tuple(args))
            raise SyntaxProblem(self.text)

    def argument(self) -> Any:
        self.skip_space()
        rest = self.text[self.pos :]
        if rest.startswith("'"):
            return Literal(self.string())
        if rest.startswith("States."):
            return self.call()
        if rest.startswith("$"):
            return PathArg(self.path())
        match = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null").match(self.text, self.pos)
        if not match:
            raise SyntaxProblem(self.text)
        self.pos = match.end()
        return Literal(json.loads(match.group()))

    def string(self) -> str:
        self.pos += 1
        out = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                nxt = self.text[self.pos + 1]
                # \{ and \} stay escaped for States.Format; the others are the character itself
                out.append("\\" + nxt if nxt in "{}" else nxt)
                self.pos += 2
                continue
            if ch == "'":
                self.pos += 1
                return "".join(out)
            out.append(ch)
            self.pos += 1
        raise SyntaxProblem(self.text)

    def path(self) -> str:
        start, depth, quote = self.pos, 0, None
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if quote:
                if ch == quote:
                    quote = None
            elif ch in "'\"" and depth:
                quote = ch
            elif ch in "[(":
                depth += 1
            elif ch in "])":
                if depth == 0:
                    break
                depth -= 1
            elif ch == "," and depth == 0:
                break
            self.pos += 1
        return self.text[start : self.pos].strip()


def evaluate(text: str, data: Any, context: Any) -> Any:
    """The value of the intrinsic call `text` over the state's input `data` and the context object."""
    try:
        call = parse(text)
    except SyntaxProblem:
        raise StatesError(FAILURE, f"Invalid intrinsic function call: {text}") from None
    return _run(call, data, context)


def _run(call: Call, data: Any, context: Any) -> Any:
    args = [_argument(arg, data, context) for arg in call.args]
    function = FUNCTIONS.get(call.name)
    if function is None:
        raise StatesError(FAILURE, f"The intrinsic function {call.name} is not supported")
    try:
        return function(*args)
    except StatesError:
        raise
    except TypeError:
        raise StatesError(FAILURE, f"Invalid arguments in {call.name}: {dumps(_plain(args))}") from None


def _plain(args: list[Any]) -> list[Any]:
    return [a.replace("\\{", "{").replace("\\}", "}") if isinstance(a, str) else a for a in args]


def _argument(arg: Any, data: Any, context: Any) -> Any:
    if isinstance(arg, Literal):
        return arg.value
    if isinstance(arg, Call):
        return _run(arg, data, context)
    try:
        return jsonpath.query(arg.path, data, context)
    except jsonpath.NotFound:
        raise StatesError(
            "States.Runtime", f"The JSONPath {arg.path} could not be found in the input {dumps(data)}"
        ) from None


def _fail(name: str, message: str) -> StatesError:
    return StatesError(FAILURE, message)


def _need(condition: bool, name: str, message: str) -> None:
    if not condition:
        raise _fail(name, message)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    return _is_number(value) and float(value).is_integer()


# -- the functions -----------------------------------------------------------------------------------------


def _format(template: Any, *values: Any) -> str:
    _need(isinstance(template, str), "States.Format", "The first argument of States.Format must be a string")
    pieces = re.split(r"(\\\{|\\\}|\{\})", template)
    holes = sum(1 for p in pieces if p == "{}")
    _need(
        holes == len(values),
        "States.Format",
        f"Number of arguments in States.Format does not match the number of placeholders: expected {holes}, "
        f"got {len(values)}",
    )
    out, index = [], 0
    for piece in pieces:
        if piece == "{}":
            value = values[index]
            index += 1
            out.append(value if isinstance(value, str) else dumps(value))
        elif piece in ("\\{", "\\}"):
            out.append(piece[1])
        else:
            out.append(piece)
    return "".join(out)


def _string_to_json(text: Any) -> Any:
    _need(isinstance(text, str), "States.StringToJson", "States.StringToJson needs a string")
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        raise _fail("States.StringToJson", f"Unable to parse string to JSON: {text}") from None


def _json_to_string(value: Any) -> str:
    return dumps(value)


def _array(*values: Any) -> list[Any]:
    return list(values)


def _array_partition(array: Any, size: Any) -> list[list[Any]]:
    _need(isinstance(array, list), "States.ArrayPartition", "The first argument must be an array")
    _need(
        _is_integer(size) and size > 0, "States.ArrayPartition", "The chunk size must be a positive integer"
    )
    size = int(size)
    return [array[i : i + size] for i in range(0, len(array), size)]


def _array_contains(array: Any, value: Any) -> bool:
    _need(isinstance(array, list), "States.ArrayContains", "The first argument must be an array")
    return any(_equal(item, value) for item in array)


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    return left == right


def _array_range(start: Any, end: Any, step: Any) -> list[Any]:
    _need(
        all(_is_integer(v) for v in (start, end, step)) and step != 0,
        "States.ArrayRange",
        "The arguments of States.ArrayRange must be integers and the step must not be 0",
    )
    start, end, step = int(start), int(end), int(step)
    values = list(range(start, end + (1 if step > 0 else -1), step))
    _need(len(values) <= 1000, "States.ArrayRange", "The array range cannot contain more than 1000 items")
    return values


def _array_get_item(array: Any, index: Any) -> Any:
    _need(isinstance(array, list), "States.ArrayGetItem", "The first argument must be an array")
    _need(
        _is_integer(index) and index >= 0, "States.ArrayGetItem", "The index must be a non-negative integer"
    )
    _need(int(index) < len(array), "States.ArrayGetItem", f"Index {int(index)} is out of bounds")
    return array[int(index)]


def _array_length(array: Any) -> int:
    _need(isinstance(array, list), "States.ArrayLength", "The argument must be an array")
    return len(array)


def _array_unique(array: Any) -> list[Any]:
    _need(isinstance(array, list), "States.ArrayUnique", "The argument must be an array")
    seen: list[Any] = []
    for item in array:
        if not any(_equal(item, s) and type(item) is type(s) for s in seen):
            seen.append(item)
    return seen


def _base64_encode(text: Any) -> str:
    _need(isinstance(text, str), "States.Base64Encode", "The argument must be a string")
    _need(len(text) <= 10000, "States.Base64Encode", "The input string is longer than 10000 characters")
    return base64.b64encode(text.encode()).decode()


def _base64_decode(text: Any) -> str:
    _need(isinstance(text, str), "States.Base64Decode", "The argument must be a string")
    _need(len(text) <= 10000, "States.Base64Decode", "The input string is longer than 10000 characters")
    try:
        return base64.b64decode(text.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _fail("States.Base64Decode", f"Unable to decode base64 string: {text}") from None


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def _hash(data: Any, algorithm: Any) -> str:
    _need(
        algorithm in _HASHES,
        "States.Hash",
        f"Invalid hash algorithm {algorithm}: use one of {', '.join(_HASHES)}",
    )
    text = data if isinstance(data, str) else dumps(data)
    _need(len(text) <= 10000, "States.Hash", "The input data is longer than 10000 characters")
    return hashlib.new(_HASHES[algorithm], text.encode()).hexdigest()


def _json_merge(left: Any, right: Any, deep: Any) -> dict[str, Any]:
    _need(
        isinstance(left, dict) and isinstance(right, dict),
        "States.JsonMerge",
        "The first two arguments of States.JsonMerge must be JSON objects",
    )
    _need(
        deep is False, "States.JsonMerge", "States.JsonMerge supports only shallow merges: deep must be false"
    )
    return {**left, **right}


def _math_random(start: Any, end: Any, seed: Any = None) -> int:
    _need(
        _is_integer(start) and _is_integer(end),
        "States.MathRandom",
        "The start and end of States.MathRandom must be integers",
    )
    generator = random.Random(seed) if seed is not None else random
    low, high = int(start), int(end)
    _need(low < high, "States.MathRandom", "The start must be less than the end")
    return generator.randrange(low, high)


def _math_add(left: Any, right: Any) -> int:
    _need(
        _is_integer(left) and _is_integer(right),
        "States.MathAdd",
        "The arguments of States.MathAdd must be integers",
    )
    return int(left) + int(right)


def _string_split(text: Any, separators: Any) -> list[str]:
    _need(
        isinstance(text, str) and isinstance(separators, str),
        "States.StringSplit",
        "The arguments of States.StringSplit must be strings",
    )
    if not separators:
        return [text] if text else []
    pattern = "[" + re.escape(separators) + "]"
    return [part for part in re.split(pattern, text) if part]


def _uuid() -> str:
    return str(uuid.uuid4())


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "States.Format": _format,
    "States.StringToJson": _string_to_json,
    "States.JsonToString": _json_to_string,
    "States.Array": _array,
    "States.ArrayPartition": _array_partition,
    "States.ArrayContains": _array_contains,
    "States.ArrayRange": _array_range,
    "States.ArrayGetItem": _array_get_item,
    "States.ArrayLength": _array_length,
    "States.ArrayUnique": _array_unique,
    "States.Base64Encode": _base64_encode,
    "States.Base64Decode": _base64_decode,
    "States.Hash": _hash,
    "States.JsonMerge": _json_merge,
    "States.MathRandom": _math_random,
    "States.MathAdd": _math_add,
    "States.StringSplit": _string_split,
    "States.UUID": _uuid,
}
