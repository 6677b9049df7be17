"""JSONata for states whose QueryLanguage is JSONata, through `jsonata-python` (a pure-Python port of the
reference implementation).

A field's value is a JSONata expression when it is a string `{% expr %}`; objects and arrays are walked and
each such string evaluated (Arguments, Output, Assign, Items, ItemSelector...). The expression sees `$states`
(input, result, errorOutput, context) and the workflow variables (`$name`, from Assign), plus the functions
Step Functions adds: `$partition`, `$range`, `$hash`, `$random`, `$uuid` and `$parse`. `$now()` and
`$millis()` read the virtual clock. Evaluation errors are States.QueryEvaluationError.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import jsonata

from overcast.services.stepfunctions.failures import StatesError, dumps

QUERY_ERROR = "States.QueryEvaluationError"


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


def has_expression(value: Any) -> bool:
    if is_expression(value):
        return True
    if isinstance(value, dict):
        return any(has_expression(v) for v in value.values())
    if isinstance(value, list):
        return any(has_expression(v) for v in value)
    return False


class ExpressionSyntax(ValueError):
    pass


@lru_cache(maxsize=2048)
def compile_expression(source: str) -> jsonata.Jsonata:
    try:
        return jsonata.Jsonata(source)
    except Exception as error:  # the library raises JException for any parse failure
        raise ExpressionSyntax(str(error)) from None


def check_syntax(value: Any) -> str | None:
    """The first syntax error of the JSONata expressions in `value`, or None."""
    if is_expression(value):
        try:
            compile_expression(value[2:-2].strip())
        except ExpressionSyntax as error:
            return str(error)
        return None
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        found = check_syntax(child)
        if found:
            return found
    return None


def evaluate_template(
    value: Any, states: dict[str, Any], variables: dict[str, Any], now: float, field: str, state: str
) -> Any:
    """`value` with every `{% %}` string in it replaced by the expression's value."""
    if is_expression(value):
        return evaluate(value[2:-2].strip(), states, variables, now, field, state)
    if isinstance(value, dict):
        return {k: evaluate_template(v, states, variables, now, field, state) for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate_template(v, states, variables, now, field, state) for v in value]
    return value


def evaluate(
    source: str, states: dict[str, Any], variables: dict[str, Any], now: float, field: str, state: str
) -> Any:
    try:
        expression = compile_expression(source)
    except ExpressionSyntax as error:
        raise _error(state, source, field, str(error)) from None
    bindings = dict(_FUNCTIONS)
    bindings.update(variables)
    bindings["states"] = states
    millis = int(now * 1000)
    bindings["now"] = jsonata.Jsonata.JLambda(lambda *a: _iso(millis))
    bindings["millis"] = jsonata.Jsonata.JLambda(lambda *a: millis)
    try:
        result = expression.evaluate(None, bindings)
    except StatesError:
        raise
    except Exception as error:  # JException and the library's own failures
        raise _error(state, source, field, str(error)) from None
    return plain(result)


def _error(state: str, source: str, field: str, problem: str) -> StatesError:
    return StatesError(
        QUERY_ERROR,
        f"An error occurred while executing the state '{state}'. The JSONata expression '{source}' specified "
        f"for the field '{field}' threw an error during evaluation. {problem}",
    )


def plain(value: Any) -> Any:
    """The library's sequences and wrappers as plain JSON values."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if callable(value):
        return None
    return value


def _iso(millis: int) -> str:
    moment = datetime.fromtimestamp(millis / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


# -- the functions Step Functions adds ----------------------------------------------------------------------


def _partition(array: Any, size: Any) -> list[list[Any]]:
    if not isinstance(array, list) or not isinstance(size, int | float) or size < 1:
        raise StatesError(QUERY_ERROR, "$partition needs an array and a positive chunk size")
    size = int(size)
    return [list(array[i : i + size]) for i in range(0, len(array), size)]


def _range(start: Any, end: Any, step: Any) -> list[int]:
    if step == 0:
        raise StatesError(QUERY_ERROR, "$range needs a step other than 0")
    start, end, step = int(start), int(end), int(step)
    return list(range(start, end + (1 if step > 0 else -1), step))


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def _hash(data: Any, algorithm: Any = "SHA-256") -> str:
    if algorithm not in _HASHES:
        raise StatesError(QUERY_ERROR, f"$hash: unsupported algorithm {algorithm}")
    text = data if isinstance(data, str) else dumps(data)
    return hashlib.new(_HASHES[algorithm], text.encode()).hexdigest()


def _random(seed: Any = None) -> float:
    return (random.Random(seed) if seed is not None else random).random()


def _uuid() -> str:
    return str(uuid.uuid4())


def _parse(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        raise StatesError(QUERY_ERROR, f"$parse: the string is not JSON: {text}") from None


_FUNCTIONS = {
    "partition": jsonata.Jsonata.JLambda(_partition),
    "range": jsonata.Jsonata.JLambda(_range),
    "hash": jsonata.Jsonata.JLambda(_hash),
    "random": jsonata.Jsonata.JLambda(_random),
    "uuid": jsonata.Jsonata.JLambda(_uuid),
    "parse": jsonata.Jsonata.JLambda(_parse),
}
