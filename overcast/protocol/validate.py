"""Model validation of parsed requests: required members, types, enums, patterns, lengths and numeric ranges.

Messages follow AWS's (smithy) style:
    1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null
The error code depends on the protocol family, overridable per service (SERVICE_CODES).
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.protocol.common import shape_cached

if TYPE_CHECKING:  # pragma: no cover
    from botocore.model import OperationModel, Shape

# Error code for constraint violations, per protocol.
PROTOCOL_CODES: dict[str, str] = {
    "json": "ValidationException",
    "json-cbor": "ValidationException",
    "rest-json": "ValidationException",
    "smithy-rpc-v2-cbor": "ValidationException",
    "query": "ValidationError",
    "ec2": "InvalidParameterValue",
    "rest-xml": "InvalidArgument",
}
# Error code for values of the wrong type (bad JSON types are a serialization problem, not a constraint).
TYPE_ERROR_CODES: dict[str, str] = {
    "json": "SerializationException",
    "json-cbor": "SerializationException",
    "rest-json": "SerializationException",
    "smithy-rpc-v2-cbor": "SerializationException",
}
# Per-service overrides: service name -> code, or service name -> {'missing': code, 'invalid': code}.
SERVICE_CODES: dict[str, str | dict[str, str]] = {
    "ec2": {"missing": "MissingParameter", "invalid": "InvalidParameterValue"},
    "logs": "InvalidParameterException",
}

# Services that report a missing required member as MissingParameter, one at a time, by its wire name.
MISSING_PARAMETER_SERVICES = frozenset({"sqs"})

# Enums the service itself does not enforce as the model says: SQS takes message system attribute names
# (SentTimestamp, ...) in ReceiveMessage's AttributeNames, and answers unknown queue attributes with its own
# InvalidAttributeName, which the service raises itself. S3 Select answers its own codes for bad
# serialization settings (InvalidFileHeaderInfo, InvalidJsonType, InvalidQuoteFields, ...).
UNCHECKED_ENUMS = frozenset(
    {
        "QueueAttributeName",
        "FileHeaderInfo",
        "JSONType",
        "QuoteFields",
        "ExpressionType",
        "CompressionType",
        "BucketLocationConstraint",  # S3 answers InvalidLocationConstraint itself (and takes any region)
    }
)

_MAX_ERRORS = 10

Checker = Callable[[Any, str, list], None]


class _Problem:
    __slots__ = ("path", "value", "constraint", "missing")

    def __init__(self, path: str, value: Any, constraint: str, missing: bool = False) -> None:
        self.path, self.value, self.constraint, self.missing = path, value, constraint, missing

    def text(self) -> str:
        return f"Value {_show(self.value)} at '{self.path}' failed to satisfy constraint: {self.constraint}"


class _TypeProblem(Exception):
    pass


def _show(value: Any) -> str:
    if value is None:
        return "null"
    return f"'{_java(value)}'"


def _java(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_java(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bytes):
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
    return str(value)


def _segment(name: str) -> str:
    return name[:1].lower() + name[1:]


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _compile(shape: Shape, memo: dict) -> Checker | None:
    t = shape.type_name
    meta = shape.metadata
    checks: list[Checker] = []

    if t == "structure":
        if shape.is_document_type:
            return None
        key = shape.name
        if key in memo:
            cell = memo[key]
            if cell is _PENDING:
                return _Lazy(memo, key)
            return cell
        memo[key] = _PENDING
        required = [
            (m, _segment(m))
            for m in shape.required_members
            if m in shape.members and not shape.members[m].serialization.get("eventstream")
        ]
        members = []
        for name, member in shape.members.items():
            sub = _compile(member, memo)
            if sub is not None:
                members.append((name, _segment(name), sub))
        union = shape.is_tagged_union
        position = {name: i for i, (name, _seg, _sub) in enumerate(members)}

        def check_struct(value, path, problems, _req=required, _mem=members, _union=union, _pos=position):
            if not isinstance(value, dict):
                raise _TypeProblem(f"Expected a structure at '{path or '.'}'")
            prefix = path + "." if path else ""
            for name, seg in _req:
                if value.get(name) is None:
                    problems.append(_Problem(prefix + seg, None, "Member must not be null", True))
            if len(value) * 4 < len(_mem):  # a few of many members given: visit those, in model order
                for i in sorted(_pos[name] for name in value if name in _pos):
                    name, seg, sub = _mem[i]
                    v = value[name]
                    if v is not None:
                        sub(v, prefix + seg, problems)
                return
            for name, seg, sub in _mem:
                v = value.get(name)
                if v is not None:
                    sub(v, prefix + seg, problems)

        memo[key] = check_struct
        return check_struct

    if t == "list":
        sub = _compile(shape.member, memo)

        def check_list_type(value, path, problems):
            if not isinstance(value, (list, tuple)):
                raise _TypeProblem(f"Expected a list at '{path}'")
            if sub is not None:
                for i, item in enumerate(value, 1):
                    if item is not None:
                        sub(item, f"{path}.{i}.member", problems)

        checks.append(check_list_type)
    elif t == "map":
        ksub = _compile(shape.key, memo)
        vsub = _compile(shape.value, memo)

        def check_map_type(value, path, problems):
            if not isinstance(value, dict):
                raise _TypeProblem(f"Expected a map at '{path}'")
            for k, v in value.items():
                if ksub is not None:
                    ksub(k, f"{path}.{k}.key", problems)
                if vsub is not None and v is not None:
                    vsub(v, f"{path}.{k}.member", problems)

        checks.append(check_map_type)
    elif t == "string" and shape.serialization.get("jsonvalue"):
        return None  # any JSON value (decoded from a header)
    else:
        checks.append(_TYPE_CHECKS.get(t, _noop))

    enum = shape.enum if t == "string" and shape.name not in UNCHECKED_ENUMS else None
    if enum:
        allowed = frozenset(enum)
        text = "Member must satisfy enum value set: [" + ", ".join(enum) + "]"

        def check_enum(value, path, problems):
            if value not in allowed:
                problems.append(_Problem(path, value, text))

        checks.append(check_enum)

    pattern = _pattern(meta.get("pattern")) if t == "string" and memo[_PATTERNS] else None
    if pattern is not None:
        pattern_text = f"Member must satisfy regular expression pattern: {meta['pattern']}"

        def check_pattern(value, path, problems, _match=pattern.fullmatch):
            if _match(value) is None:
                problems.append(_Problem(path, value, pattern_text))

        checks.append(check_pattern)

    lo, hi = meta.get("min"), meta.get("max")
    if (lo is not None or hi is not None) and t in ("string", "blob", "list", "map"):
        lo_text = f"Member must have length greater than or equal to {_num(lo)}" if lo is not None else ""
        hi_text = f"Member must have length less than or equal to {_num(hi)}" if hi is not None else ""

        def check_len(value, path, problems, lo=lo, hi=hi):
            n = len(value)
            if lo is not None and n < lo:
                problems.append(_Problem(path, value, lo_text))
            elif hi is not None and n > hi:
                problems.append(_Problem(path, value, hi_text))

        checks.append(check_len)
    elif (lo is not None or hi is not None) and t in ("integer", "long", "float", "double"):
        lo_text = f"Member must have value greater than or equal to {_num(lo)}" if lo is not None else ""
        hi_text = f"Member must have value less than or equal to {_num(hi)}" if hi is not None else ""

        def check_range(value, path, problems, lo=lo, hi=hi):
            if lo is not None and value < lo:
                problems.append(_Problem(path, value, lo_text))
            elif hi is not None and value > hi:
                problems.append(_Problem(path, value, hi_text))

        checks.append(check_range)

    checks = [c for c in checks if c is not _noop]
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]

    def check_all(value, path, problems, _checks=tuple(checks)):
        for c in _checks:
            c(value, path, problems)

    return check_all


_PENDING = object()


# Services whose front ends do not check the model's patterns (their own validation stands instead, and some
# of their patterns cannot match anything, e.g. EC2's "...placement-group/^.{1,255}$").
UNCHECKED_PATTERNS = frozenset({"ec2", "s3", "s3control"})


_PATTERNS = " patterns"  # the memo's flag (no shape is named so): check patterns or not


@functools.cache
def _pattern(text: str | None) -> re.Pattern[str] | None:
    """A model's `pattern` (AWS's input rule; Java regex syntax) as a Python regex, matched against the whole
    value as AWS's validators do. Patterns Python cannot express (Unicode classes such as \\p{L}), or that
    anchor after consuming input (a model mistake no value can satisfy), are skipped: the service's own checks
    stand for them."""
    if not text or _anchors_midway(text):
        return None
    try:
        return re.compile(text, re.S)
    except re.error:
        return None


# What a `^` may follow without input consumed before it: a group's start, an alternative, a (lookaround) group.
_ANCHOR_AFTER = ("(", "|", ")", "(?!", "(?=", "(?:", "(?<=", "(?<!")


def _anchors_midway(text: str) -> bool:
    """Whether a `^` follows something that consumes input, or a `$` precedes it (outside character classes):
    EC2's "...placement-group/^.{1,255}$" can never match."""
    in_class = escaped = False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "^" and i and not text[:i].endswith(_ANCHOR_AFTER):
            return True
        elif char == "$" and i + 1 < len(text) and text[i + 1] not in ")|":
            return True
    return False


class _Lazy:
    __slots__ = ("memo", "key")

    def __init__(self, memo, key):
        self.memo, self.key = memo, key

    def __call__(self, value, path, problems):
        fn = self.memo[self.key]
        if fn is not None:
            fn(value, path, problems)


def _noop(value, path, problems):
    pass


def _check_string(value, path, problems):
    if not isinstance(value, str):
        raise _TypeProblem(f"Expected a string at '{path}'")


def _check_int(value, path, problems):
    if not isinstance(value, int) or isinstance(value, bool):
        raise _TypeProblem(f"Expected an integer at '{path}'")
    if not -(2**31) <= value < 2**31:
        raise _TypeProblem(f"Integer out of range at '{path}': {value}")


def _check_long(value, path, problems):
    if not isinstance(value, int) or isinstance(value, bool):
        raise _TypeProblem(f"Expected an integer at '{path}'")
    if not -(2**63) <= value < 2**63:
        raise _TypeProblem(f"Number out of range at '{path}': {value}")


def _check_float(value, path, problems):
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise _TypeProblem(f"Expected a number at '{path}'")


def _check_bool(value, path, problems):
    if not isinstance(value, bool):
        raise _TypeProblem(f"Expected a boolean at '{path}'")


def _check_blob(value, path, problems):
    if not isinstance(value, (bytes, bytearray)) and not hasattr(value, "read"):
        raise _TypeProblem(f"Expected binary data at '{path}'")


def _check_timestamp(value, path, problems):
    if not isinstance(value, datetime.datetime):
        raise _TypeProblem(f"Expected a timestamp at '{path}'")


_TYPE_CHECKS: dict[str, Checker] = {
    "string": _check_string,
    "integer": _check_int,
    "long": _check_long,
    "float": _check_float,
    "double": _check_float,
    "boolean": _check_bool,
    "blob": _check_blob,
    "timestamp": _check_timestamp,
}


@shape_cached
def validator_for(shape: Shape, patterns: bool = True) -> Checker | None:
    """The compiled checker of a (top-level input) shape; None when it has nothing to check."""
    return _compile(shape, {_PATTERNS: patterns})


def problems(operation: OperationModel, params: dict) -> list[str]:
    """The validation problems of `params` as AWS phrases them (no exception)."""
    shape = operation.input_shape
    if shape is None:
        return []
    checker = validator_for(shape, operation.service_model.service_name not in UNCHECKED_PATTERNS)
    if checker is None:
        return []
    found: list[_Problem] = []
    checker(params, "", found)
    return [p.text() for p in found]


def _codes(service_name: str, protocol: str) -> tuple[str, str]:
    override = SERVICE_CODES.get(service_name)
    if isinstance(override, str):
        return override, override
    if isinstance(override, dict):
        return override.get("missing", override.get("invalid", "ValidationException")), override.get(
            "invalid", "ValidationException"
        )
    code = PROTOCOL_CODES.get(protocol, "ValidationException")
    return code, code


def _all_in_xml_body(operation: OperationModel, found: list[_Problem]) -> bool:
    """Whether every problem is inside a REST-XML request's XML body (its payload structure)."""
    payload = (operation.input_shape.serialization or {}).get("payload") if operation.input_shape else None
    if not payload or operation.input_shape.members[payload].type_name != "structure":
        return False
    root = payload[:1].lower() + payload[1:]
    return all(p.path == root or p.path.startswith(root + ".") for p in found)


def validate(operation: OperationModel, params: dict, protocol: str | None = None) -> None:
    """Raise ServiceError if `params` violate `operation`'s input shape."""
    shape = operation.input_shape
    if shape is None:
        return
    checker = validator_for(shape, operation.service_model.service_name not in UNCHECKED_PATTERNS)
    if checker is None:
        return
    found: list[_Problem] = []
    service = operation.service_model
    protocol = protocol or service.protocol
    try:
        checker(params, "", found)
    except _TypeProblem as exc:
        code = TYPE_ERROR_CODES.get(protocol) or _codes(service.service_name, protocol)[1]
        raise ServiceError(code, str(exc)) from None
    if not found:
        return
    if service.service_name == "s3" and _all_in_xml_body(operation, found):
        # S3 validates the XML it is sent against its schema: a bad value inside is not well-formed XML
        raise ServiceError(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema",
        )
    missing_code, invalid_code = _codes(service.service_name, protocol)
    code = missing_code if all(p.missing for p in found) else invalid_code
    if protocol == "ec2" and found[0].missing:
        # EC2 reports one missing parameter at a time, by its wire name.
        path = found[0].path
        raise ServiceError(
            missing_code, f"The request must contain the parameter {path[:1].upper() + path[1:]}"
        )
    if service.service_name in MISSING_PARAMETER_SERVICES and found[0].missing:
        # SQS too (in both its protocols), with a full stop.
        path = found[0].path
        raise ServiceError(
            "MissingParameter", f"The request must contain the parameter {path[:1].upper() + path[1:]}."
        )
    shown = found[:_MAX_ERRORS]
    n = len(found)
    head = f"{n} validation error{'s' if n != 1 else ''} detected: "
    raise ServiceError(code, head + "; ".join(p.text() for p in shown))
