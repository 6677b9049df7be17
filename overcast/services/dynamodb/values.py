"""DynamoDB attribute values: validation, canonical numbers, item size, order-preserving key encoding.

Values stay in the wire shape ({"S": "x"}, {"N": "1.5"}, {"B": b"..."}, {"L": [...]}, ...): that is what the
protocol layer hands over and what it serializes back, so no conversion happens on the hot path.
"""

from __future__ import annotations

import base64
import json
from decimal import Context, Decimal, Inexact, InvalidOperation, Rounded
from typing import Any

from overcast.errors import ServiceError

Item = dict[str, dict[str, Any]]

MAX_ITEM_BYTES = 400 * 1024
_NUMBER_CONTEXT = Context(prec=38, traps=[InvalidOperation, Inexact, Rounded])
_SET_NAMES = {"SS": "string", "NS": "number", "BS": "binary"}


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def invalid_parameter(message: str) -> ServiceError:
    return validation(f"One or more parameter values were invalid: {message}")


# -- numbers ---------------------------------------------------------------------------------------


def parse_number(text: str) -> Decimal:
    """A DynamoDB number: at most 38 significant digits, magnitude 1E-130 to 9.9999...E+125."""
    try:
        value = Decimal(text.strip()) if isinstance(text, str) and text.strip() == text else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise validation("A value provided cannot be converted into a number")
    if value.is_zero():
        return Decimal(0)
    digits = value.normalize(_unbounded()).as_tuple()
    if len(digits.digits) > 38:
        raise validation("Attempting to store more than 38 significant digits in a Number")
    magnitude = len(digits.digits) + digits.exponent  # number of digits before the decimal point
    if magnitude > 126:
        raise validation(
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        ) from None
    if magnitude < -129:
        raise validation(
            "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        )
    return value


def _unbounded() -> Context:
    return Context(prec=200)


def number_text(value: Decimal) -> str:
    """The canonical text DynamoDB answers with: no exponent, no trailing zeros."""
    if value.is_zero():
        return "0"
    text = format(value.normalize(_unbounded()), "f")
    return text


def add_numbers(a: Decimal, b: Decimal) -> Decimal:
    try:
        return _NUMBER_CONTEXT.add(a, b)
    except (Inexact, Rounded):
        raise validation(
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        ) from None


def subtract_numbers(a: Decimal, b: Decimal) -> Decimal:
    try:
        return _NUMBER_CONTEXT.subtract(a, b)
    except (Inexact, Rounded):
        raise validation(
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        ) from None


# -- validation and canonical form -------------------------------------------------------------------


MAX_DEPTH = 32  # levels of nesting AWS stores (a top-level attribute is level 1)


def _check_text(text: Any) -> None:
    """A string the JSON carried as a lone UTF-16 surrogate (`"\\ud800"`) has no UTF-8 form: AWS refuses the body."""
    if isinstance(text, str) and not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ServiceError("SerializationException", "", 400) from None


def canonical_value(value: Any, where: str = "", depth: int = 1) -> dict[str, Any]:
    """Validate one attribute value and return it with canonical numbers (sets deduplicated)."""
    if depth > MAX_DEPTH:
        raise validation(
            "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond "
            "supported limit"
        )
    if not isinstance(value, dict) or len(value) != 1:
        raise validation(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
            if isinstance(value, dict) and value
            else "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    ((kind, inner),) = value.items()
    if kind == "S":
        _check_text(inner)
        return value
    if kind == "B":
        return value
    if kind == "N":
        return {"N": number_text(parse_number(inner))}
    if kind in ("BOOL", "NULL"):
        if kind == "NULL" and inner is not True:
            raise validation(
                "One or more parameter values were invalid: Null attribute value types must have the value of true"
            )
        return value
    if kind in _SET_NAMES:
        if not inner:
            raise invalid_parameter(f"An {_SET_NAMES[kind]} set  may not be empty{where}")
        if kind == "NS":
            numbers = [number_text(parse_number(n)) for n in inner]
            if len(set(map(Decimal, numbers))) != len(numbers):
                raise invalid_parameter(f"Input collection {inner} contains duplicates.")
            return {"NS": numbers}
        if len(set(inner)) != len(inner):
            raise invalid_parameter(f"Input collection {inner} contains duplicates.")
        if kind == "SS":
            for text in inner:
                _check_text(text)
        return value
    if kind == "L":
        return {"L": [canonical_value(v, where, depth + 1) for v in inner]}
    if kind == "M":
        for name in inner:
            _check_text(name)
        return {"M": {k: canonical_value(v, where, depth + 1) for k, v in inner.items()}}
    raise validation(f"Supplied AttributeValue has an unsupported datatype: {kind}")


def canonical_item(item: Item) -> Item:
    for name in item:
        _check_text(name)
    return {name: canonical_value(value) for name, value in item.items()}


# -- size (what AWS bills and limits) ---------------------------------------------------------------


def value_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return number_size(inner)
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in inner)
    if kind == "NS":
        return sum(number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    # M
    return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in inner.items())


def number_size(text: str) -> int:
    digits = len(text.lstrip("-").replace(".", "").strip("0")) or 1
    return (digits + 1) // 2 + 1


def item_size(item: Item) -> int:
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def check_item_size(item: Item) -> int:
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise validation("Item size has exceeded the maximum allowed size")
    return size


# -- storage form -----------------------------------------------------------------------------------


def _bytes_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_encode_json = json.JSONEncoder(default=_bytes_default, separators=(",", ":"), ensure_ascii=False).encode


def has_binary(item: Item) -> bool:
    return any(_value_has_binary(v) for v in item.values())


def _value_has_binary(value: dict[str, Any]) -> bool:
    ((kind, inner),) = value.items()
    if kind in ("B", "BS"):
        return True
    if kind == "L":
        return any(_value_has_binary(v) for v in inner)
    if kind == "M":
        return any(_value_has_binary(v) for v in inner.values())
    return False


def dump_item(item: Item) -> str:
    """JSON text for the items table (binary values as base64; the row's `binary` flag says to decode)."""
    return _encode_json(item)


def load_item(text: str, binary: bool) -> Item:
    item = json.loads(text)
    if binary:
        for value in item.values():
            _decode_binary(value)
    return item


def restore_binary(item: Item) -> Item:
    """Turn the base64 text of B and BS values back into bytes, in place."""
    for value in item.values():
        _decode_binary(value)
    return item


def _decode_binary(value: dict[str, Any]) -> None:
    ((kind, inner),) = value.items()
    if kind == "B":
        value["B"] = base64.b64decode(inner)
    elif kind == "BS":
        value["BS"] = [base64.b64decode(b) for b in inner]
    elif kind == "L":
        for v in inner:
            _decode_binary(v)
    elif kind == "M":
        for v in inner.values():
            _decode_binary(v)


# -- keys: an encoding whose byte order is DynamoDB's order -----------------------------------------


def encode_key_value(value: dict[str, Any]) -> bytes:
    """S by UTF-8 bytes, B by bytes, N numerically: memcmp order of the result is DynamoDB's order."""
    if "S" in value:
        return value["S"].encode("utf-8")
    if "B" in value:
        return bytes(value["B"])
    return encode_number(Decimal(value["N"]))


def encode_number(value: Decimal) -> bytes:
    if value.is_zero():
        return b"\x02"
    sign, digits, exponent = value.normalize(_unbounded()).as_tuple()
    magnitude = len(digits) + exponent + 200  # 0.d1d2... x 10^magnitude, shifted positive
    text = "".join(map(str, digits)).rstrip("0").encode("ascii")
    if not sign:
        return b"\x03" + magnitude.to_bytes(2, "big") + text
    inverted = bytes(ord("9") - d + ord("0") for d in text)
    return b"\x01" + (65535 - magnitude).to_bytes(2, "big") + inverted + b"\xff"


def type_of(value: dict[str, Any]) -> str:
    return next(iter(value))
