"""Helpers shared by every protocol: timestamps, base64, shape walking, error-shape lookup, and the
non-body parts of rest protocols (path labels, querystring, headers, status code).

Everything that depends only on a shape is computed once and cached (`shape_cached`); the per-request
work is a dict lookup and the conversion itself.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import json
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError

if TYPE_CHECKING:  # pragma: no cover
    from botocore.model import ServiceModel, Shape

    from overcast.http import HttpRequest

UTC = UTC
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------------------------- caching


class WireError(ValueError):
    """The request's bytes do not fit the model (bad JSON, wrong type, bad base64): each protocol turns it
    into its own error code (SerializationException, MalformedQueryString, ...)."""


def apply_decoder(conv, value: Any, code: str = "SerializationException") -> Any:
    """`value` through a protocol's decoder for its shape (None: nothing to convert); wire errors become
    the protocol's `code`."""
    if conv is None:
        return value
    try:
        return conv(value)
    except WireError as exc:
        raise ServiceError(code, str(exc)) from None


def shape_cached(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Cache fn(shape, *args) per shape object (botocore shapes are not hashable by value).

    The shape is kept alive in the cache so its id is never reused.
    """
    cache: dict[tuple, tuple[Any, Any]] = {}

    def wrapper(shape, *args):
        key = (id(shape), *args)
        hit = cache.get(key)
        if hit is not None:
            return hit[1]
        value = fn(shape, *args)
        cache[key] = (shape, value)
        return value

    wrapper.cache = cache  # type: ignore[attr-defined]
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


# ------------------------------------------------------------------------------------------ timestamps


def to_datetime(value: Any) -> datetime:
    """A tz-aware UTC datetime from a datetime (naive = UTC), epoch seconds, or an ISO 8601 / RFC 822
    string. Raises WireError when it cannot."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value.utcoffset() else value
    if isinstance(value, bool):
        raise WireError(f"Invalid timestamp: {value!r}")
    if isinstance(value, (int, float)):
        return epoch_to_datetime(value)
    if isinstance(value, str):
        return parse_timestamp(value)
    raise WireError(f"Invalid timestamp: {value!r}")


def epoch_to_datetime(value: float) -> datetime:
    try:
        if isinstance(value, int):
            return datetime.fromtimestamp(value, UTC)
        seconds = int(value // 1)
        micros = round((value - seconds) * 1_000_000)
        if micros >= 1_000_000:
            seconds, micros = seconds + 1, micros - 1_000_000
        return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)
    except (OverflowError, OSError, ValueError) as exc:
        raise WireError(f"Invalid timestamp: {value!r}") from exc


def parse_timestamp(text: str, fmt: str | None = None) -> datetime:
    """Parse a timestamp string in any of AWS's formats (fmt is a hint: 'iso8601', 'unixTimestamp', 'rfc822')."""
    text = text.strip()
    try:
        if fmt == "unixTimestamp" or (text[:1].isdigit() and _is_number(text)) or text[:1] == "-":
            return epoch_to_datetime(float(text) if ("." in text or "e" in text.lower()) else int(text))
        if text[:1].isdigit():
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
            dt = datetime.fromisoformat(text)
        else:
            dt = parsedate_to_datetime(text)
    except (ValueError, TypeError, IndexError) as exc:
        raise WireError(f"Invalid timestamp: {text!r}") from exc
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def datetime_to_epoch(value: Any) -> int | float:
    """Epoch seconds: an int for whole seconds, else a float with millisecond precision (as AWS sends)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    dt = to_datetime(value)
    if dt.tzinfo is UTC:  # the common case, without a time tuple: whole seconds since the epoch, floored
        delta = dt - _EPOCH
        seconds = delta.days * 86400 + delta.seconds
    else:
        seconds = calendar.timegm(dt.utctimetuple())
    if dt.microsecond:
        return seconds + round(dt.microsecond / 1_000_000, 3)
    return seconds


def format_iso8601(value: Any) -> str:
    dt = to_datetime(value)
    if dt.microsecond:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_rfc822(value: Any) -> str:
    try:
        return _format_rfc822(value)
    except TypeError:  # unhashable: not cached
        return _format_rfc822.__wrapped__(value)


@lru_cache(maxsize=1024)  # the same timestamps (an object's Last-Modified) are formatted again and again
def _format_rfc822(value: Any) -> str:
    return formatdate(calendar.timegm(to_datetime(value).utctimetuple()), usegmt=True)


def format_timestamp(value: Any, fmt: str) -> str | int | float:
    """Format `value` per a model timestampFormat: 'iso8601', 'unixTimestamp' (a number) or 'rfc822'."""
    fmt_l = fmt.lower()
    if fmt_l == "unixtimestamp":
        return datetime_to_epoch(value)
    if fmt_l == "rfc822":
        return format_rfc822(value)
    return format_iso8601(value)


# ---------------------------------------------------------------------------------------------- base64


def b64encode(value: bytes | bytearray | str) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).decode("ascii")


def b64decode(value: str | bytes) -> bytes:
    """Strict-enough base64 decoding; WireError on garbage."""
    try:
        return base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise WireError(f"Invalid base64: {value!r}") from exc


def to_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"blob value must be bytes, not {type(value).__name__}")


# ------------------------------------------------------------------------------------------ shape walks

SCALAR_TYPES = frozenset(
    (
        "string",
        "integer",
        "long",
        "float",
        "double",
        "boolean",
        "blob",
        "timestamp",
        "bigdecimal",
        "biginteger",
    )
)


def serialized_name(shape: Shape, default: str) -> str:
    return shape.serialization.get("name", default)


def is_jsonvalue(shape: Shape) -> bool:
    return shape.type_name == "string" and bool(shape.serialization.get("jsonvalue"))


@shape_cached
def shape_contains(shape: Shape, type_names: frozenset) -> bool:
    """Whether `shape` or anything reachable from it has a type in `type_names` (recursion-safe)."""
    return _contains(shape, type_names, set())


def _contains(shape, type_names, seen) -> bool:
    t = shape.type_name
    if t in type_names:
        return True
    if t == "structure":
        if shape.name in seen:
            return False
        seen.add(shape.name)
        return any(_contains(m, type_names, seen) for m in shape.members.values())
    if t == "list":
        return _contains(shape.member, type_names, seen)
    if t == "map":
        return _contains(shape.key, type_names, seen) or _contains(shape.value, type_names, seen)
    return False


def compile_transform(
    shape: Shape,
    leaf: Callable[[Shape], Callable[[Any], Any] | None],
    *,
    in_names: bool = False,
    out_names: bool = False,
    check: bool = False,
) -> Callable[[Any], Any] | None:
    """Compile a converter for values of `shape`; None when values pass through unchanged.

    leaf(shape) returns the converter of a scalar member (or None for identity). in_names: structure keys
    are read by their serialized name (`locationName`) and written by member name; out_names the opposite.
    check: containers raise WireError on the wrong JSON type. Members whose value is None are dropped, and
    so are keys that are not members (when the structure needs a converter at all).
    """
    memo: dict[tuple, Any] = {}
    return _compile(shape, leaf, in_names, out_names, check, memo)


def _compile(shape, leaf, in_names, out_names, check, memo):
    t = shape.type_name
    if t == "structure":
        if shape.is_document_type:
            return None
        key = shape.name
        if key in memo:
            cell = memo[key]
            if cell is _PENDING:
                # recursive reference: resolve lazily once compiled
                return _Lazy(memo, key)
            return cell
        memo[key] = _PENDING
        table: dict[str, tuple[str, Any]] = {}
        needs = check
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            conv = _compile(member, leaf, in_names, out_names, check, memo)
            if in_names:
                table[wire] = (name, conv)
                needs = needs or wire != name
            elif out_names:
                table[name] = (wire, conv)
                needs = needs or wire != name
            else:
                table[name] = (name, conv)
            if conv is not None:
                needs = True
        if not needs:
            fn = None
        else:
            fn = _make_struct(table, check, shape.name)
        memo[key] = fn
        return fn
    if t == "list":
        inner = _compile(shape.member, leaf, in_names, out_names, check, memo)
        if inner is None and not check:
            return None
        return _make_list(inner, check)
    if t == "map":
        inner = _compile(shape.value, leaf, in_names, out_names, check, memo)
        if inner is None and not check:
            return None
        return _make_map(inner, check)
    return leaf(shape)


_PENDING = object()


class _Lazy:
    __slots__ = ("memo", "key", "fn")

    def __init__(self, memo, key):
        self.memo, self.key, self.fn = memo, key, _PENDING

    def __call__(self, value):
        fn = self.fn
        if fn is _PENDING:
            fn = self.fn = self.memo[self.key]
        return fn(value) if fn is not None else value


def _make_struct(table, check, name):
    def convert(value):
        if not isinstance(value, dict):
            if check:
                raise WireError(f"Expected an object for {name}, got {type(value).__name__}")
            return value
        out = {}
        get = table.get
        for k, v in value.items():
            if v is None:
                continue
            entry = get(k)
            if entry is None:
                continue
            target, conv = entry
            out[target] = conv(v) if conv is not None else v
        return out

    return convert


def _make_list(inner, check):
    def convert(value):
        if not isinstance(value, list):
            if check and not isinstance(value, tuple):
                raise WireError(f"Expected a list, got {type(value).__name__}")
            value = list(value)
        if inner is None:
            return value
        return [inner(v) if v is not None else None for v in value]

    return convert


def _make_map(inner, check):
    def convert(value):
        if not isinstance(value, dict):
            if check:
                raise WireError(f"Expected an object, got {type(value).__name__}")
            return value
        if inner is None:
            return value
        return {k: (inner(v) if v is not None else None) for k, v in value.items()}

    return convert


# ---------------------------------------------------------------------------------------------- errors


# Query-protocol codes of services that moved to JSON before their models could say so (botocore's SQS
# model lost the `error.code` traits); real SQS still sends them in x-amzn-query-error.
LEGACY_QUERY_CODES: dict[str, dict[str, str]] = {
    "sqs": {
        "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDeletedRecently": "AWS.SimpleQueueService.QueueDeletedRecently",
        "QueueNameExists": "QueueAlreadyExists",
        "PurgeQueueInProgress": "AWS.SimpleQueueService.PurgeQueueInProgress",
        "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        "BatchRequestTooLong": "AWS.SimpleQueueService.BatchRequestTooLong",
        "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
        "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
        "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        "UnsupportedOperation": "AWS.SimpleQueueService.UnsupportedOperation",
        "MessageNotInflight": "AWS.SimpleQueueService.MessageNotInflight",
        "KmsAccessDenied": "KMS.AccessDeniedException",
        "KmsDisabled": "KMS.DisabledException",
        "KmsInvalidKeyUsage": "KMS.InvalidKeyUsageException",
        "KmsInvalidState": "KMS.InvalidStateException",
        "KmsNotFound": "KMS.NotFoundException",
        "KmsOptInRequired": "KMS.OptInRequired",
        "KmsThrottled": "KMS.ThrottlingException",
    },
}


# Query-protocol codes no error shape models, and the JSON `__type` real SQS gives them (the query code still
# travels in x-amzn-query-error, which is what botocore reports).
UNMODELED_JSON_TYPES: dict[str, dict[str, str]] = {
    "sqs": {
        "InvalidParameterValue": "InvalidParameterValueException",
        "MissingParameter": "MissingRequiredParameterException",
    },
}


def json_error_type(service: ServiceModel, code: str) -> str:
    """The `__type` of an error no shape models: the service's JSON name for it, else the code itself."""
    return UNMODELED_JSON_TYPES.get(service.service_name, {}).get(code, code)


@shape_cached
def _error_shapes(service: ServiceModel) -> dict[str, Shape]:
    table: dict[str, Shape] = {}
    for shape in service.error_shapes:
        table.setdefault(shape.name, shape)
    legacy = LEGACY_QUERY_CODES.get(service.service_name, {})
    for shape in service.error_shapes:
        code = shape.metadata.get("error", {}).get("code") or legacy.get(shape.name)
        if code:
            table.setdefault(code, shape)
    return table


def error_shape(service: ServiceModel, code: str) -> Shape | None:
    """The service's error shape named `code` (or whose awsQueryError code is `code`)."""
    return _error_shapes(service).get(code)


def error_status(service: ServiceModel, error: ServiceError) -> int:
    if error.status:
        return error.status
    shape = error_shape(service, error.code)
    if shape is not None:
        status = shape.metadata.get("error", {}).get("httpStatusCode")
        if status:
            return int(status)
    return 400 if error.sender_fault else 500


def query_error_code(service: ServiceModel, code: str) -> str:
    """The code a query-compatible service's error shape has in the old query protocol."""
    shape = error_shape(service, code)
    if shape is None:
        return code
    legacy = LEGACY_QUERY_CODES.get(service.service_name)
    return (
        shape.metadata.get("error", {}).get("code")
        or (legacy.get(shape.name) if legacy else None)
        or shape.name
    )


def error_is_sender_fault(service: ServiceModel, error: ServiceError) -> bool:
    shape = error_shape(service, error.code)
    if shape is not None:
        err = shape.metadata.get("error", {})
        if "senderFault" in err:
            return bool(err["senderFault"])
        if shape.metadata.get("fault"):
            return False
    return error.sender_fault


# ------------------------------------------------------------------------------ rest: labels, qs, headers

HEADER_TIMESTAMP_FORMAT = "rfc822"
QUERY_TIMESTAMP_FORMAT = "iso8601"


def text_to_value(shape: Shape, text: str, timestamp_format: str) -> Any:
    """A scalar from its text form in a path label, query string or header."""
    t = shape.type_name
    try:
        if t == "string":
            if shape.serialization.get("jsonvalue"):
                return json.loads(b64decode(text).decode("utf-8"))
            return text
        if t in ("integer", "long"):
            return int(text)
        if t in ("float", "double"):
            return float(text)
        if t == "boolean":
            low = text.strip().lower()
            if low == "true":
                return True
            if low == "false":
                return False
            raise WireError(f"Invalid boolean: {text!r}")
        if t == "timestamp":
            return parse_timestamp(text, shape.serialization.get("timestampFormat", timestamp_format))
        if t == "blob":
            return b64decode(text)
    except (ValueError, json.JSONDecodeError) as exc:
        if isinstance(exc, WireError):
            raise
        raise WireError(f"Invalid value for {shape.name}: {text!r}") from exc
    return text


def value_to_text(shape: Shape, value: Any, timestamp_format: str) -> str:
    """The text form of a scalar for a path label, query string or header."""
    t = shape.type_name
    if t == "timestamp":
        return str(format_timestamp(value, shape.serialization.get("timestampFormat", timestamp_format)))
    if t == "boolean":
        return "true" if value else "false"
    if t == "string" and shape.serialization.get("jsonvalue"):
        return b64encode(json.dumps(value, separators=(",", ":")))
    if t == "blob":
        return b64encode(value)
    if t in ("float", "double"):
        return _float_text(value)
    return str(value)


def _float_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return str(value)


def split_header_list(text: str) -> list[str]:
    """Split a comma-separated header list, honouring double-quoted items ('"a,b", c')."""
    items: list[str] = []
    buf: list[str] = []
    i, n = 0, len(text)
    quoted = False
    while i < n:
        ch = text[i]
        if quoted:
            if ch == "\\" and i + 1 < n:
                buf.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                quoted = False
            else:
                buf.append(ch)
        elif ch == '"':
            quoted = True
        elif ch == ",":
            items.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
        i += 1
    items.append("".join(buf).strip())
    return items


def header_list_text(shape: Shape, values: list) -> str:
    member = shape.member
    out = []
    for v in values:
        if v is None:
            continue
        if member.type_name == "string":
            out.append('"' + v.replace('"', '\\"') + '"' if ('"' in v or "," in v) else v)
        else:
            out.append(value_to_text(member, v, HEADER_TIMESTAMP_FORMAT))
    return ",".join(out)


class RestLayout:
    """Where each member of a rest input/output structure lives, computed once per shape."""

    __slots__ = (
        "uri",
        "querystring",
        "query_map",
        "header",
        "header_lower",
        "header_by_wire",
        "prefix_headers",
        "status_code",
        "body_members",
        "payload",
        "payload_shape",
        "payload_kind",
    )

    def __init__(self, shape: Shape | None) -> None:
        self.uri: list[tuple[str, str, Shape]] = []  # (member, label name, shape)
        self.querystring: list[tuple[str, str, Shape]] = []  # (member, param name, shape)
        self.query_map: tuple[str, Shape] | None = None  # member whose map takes the remaining params
        self.header: list[tuple[str, str, Shape]] = []  # (member, header name, shape)
        self.header_lower: list[tuple[str, str, Shape]] = []  # .header with lower-case wire names (parsing)
        self.header_by_wire: dict[str, list[tuple[str, Shape]]] = {}  # lower-case wire name → members
        self.prefix_headers: list[tuple[str, str, Shape]] = []  # (member, lower-case prefix, shape)
        self.status_code: str | None = None
        self.body_members: dict[str, Shape] = {}
        self.payload: str | None = None
        self.payload_shape: Shape | None = None
        # 'blob' / 'string' (raw body), 'eventstream', 'structure', 'document', or None
        self.payload_kind: str | None = None
        if shape is None:
            return
        for name, member in shape.members.items():
            loc = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if loc == "uri":
                self.uri.append((name, wire, member))
            elif loc == "querystring":
                if member.type_name == "map":
                    self.query_map = (name, member)
                else:
                    self.querystring.append((name, wire, member))
            elif loc == "header":
                self.header.append((name, wire, member))
                self.header_lower.append((name, wire.lower(), member))
                self.header_by_wire.setdefault(wire.lower(), []).append((name, member))
            elif loc == "headers":
                self.prefix_headers.append((name, member.serialization.get("name", "").lower(), member))
            elif loc == "statusCode":
                self.status_code = name
            else:
                self.body_members[name] = member
        payload = shape.serialization.get("payload")
        if payload:
            self.payload = payload
            pshape = shape.members[payload]
            self.payload_shape = pshape
            if pshape.serialization.get("eventstream"):
                self.payload_kind = "eventstream"
            elif pshape.type_name in ("blob", "string"):
                self.payload_kind = pshape.type_name
            elif pshape.type_name == "structure" and pshape.is_document_type:
                self.payload_kind = "document"
            else:
                self.payload_kind = pshape.type_name
            self.body_members = {}


@shape_cached
def rest_layout(shape: Shape | None) -> RestLayout:
    return RestLayout(shape)


_EMPTY_LAYOUT = RestLayout(None)


def layout_for(shape: Shape | None) -> RestLayout:
    return _EMPTY_LAYOUT if shape is None else rest_layout(shape)


def parse_rest_members(
    layout: RestLayout,
    labels: dict[str, str] | None,
    request: HttpRequest,
    params: dict,
    query_literals: dict | tuple = (),
) -> None:
    """Fill `params` with the members a rest request carries outside its body (labels, query, headers).

    query_literals: names fixed by the operation's requestUri ('?uploads', '?mode=import'), which a
    querystring map member must not swallow."""
    if layout.uri and labels:
        for name, wire, shape in layout.uri:
            text = labels.get(wire)
            if text is not None:
                params[name] = text_to_value(shape, text, QUERY_TIMESTAMP_FORMAT)
    if layout.querystring or layout.query_map:
        query = request.query_params()
        used: set[str] = set(query_literals)
        for name, wire, shape in layout.querystring:
            values = query.get(wire)
            if values is None:
                continue
            used.add(wire)
            if shape.type_name == "list":
                params[name] = [text_to_value(shape.member, v, QUERY_TIMESTAMP_FORMAT) for v in values]
            else:
                params[name] = text_to_value(shape, values[0], QUERY_TIMESTAMP_FORMAT)
        if layout.query_map:
            name, shape = layout.query_map
            vshape = shape.value
            out = {}
            for k, values in query.items():
                if k in used:
                    continue
                if vshape.type_name == "list":
                    out[k] = [text_to_value(vshape.member, v, QUERY_TIMESTAMP_FORMAT) for v in values]
                else:
                    out[k] = text_to_value(vshape, values[0], QUERY_TIMESTAMP_FORMAT)
            if out:
                params[name] = out
    if layout.header or layout.prefix_headers:
        headers = request.headers
        sent = headers.lowered()
        if len(sent) < len(layout.header_lower):  # S3's PutObject has ~45 header members, a request ~10
            by_wire = layout.header_by_wire
            found = [
                (name, shape, text) for wire, text in sent.items() for name, shape in by_wire.get(wire, ())
            ]
        else:
            found = [(name, shape, sent[wire]) for name, wire, shape in layout.header_lower if wire in sent]
        for name, shape, text in found:
            if shape.type_name == "list":
                params[name] = [
                    text_to_value(shape.member, v, HEADER_TIMESTAMP_FORMAT) for v in split_header_list(text)
                ]
            else:
                params[name] = text_to_value(shape, text, HEADER_TIMESTAMP_FORMAT)
        for name, prefix, _shape in layout.prefix_headers:
            out = {}
            for hname, value in headers.items():
                if hname.startswith(prefix):
                    out[hname[len(prefix) :]] = value
            if out:
                params[name] = out


def serialize_rest_members(layout: RestLayout, result: dict, headers: list[tuple[str, str]]) -> int | None:
    """Append the output members that travel as headers to `headers`; return the statusCode member's value."""
    for name, wire, shape in layout.header:
        value = result.get(name)
        if value is None:
            continue
        if shape.type_name == "list":
            if not value:
                continue
            headers.append((wire, header_list_text(shape, value)))
        else:
            headers.append((wire, value_to_text(shape, value, HEADER_TIMESTAMP_FORMAT)))
    for name, prefix, _shape in layout.prefix_headers:
        value = result.get(name)
        if value:
            for k, v in value.items():
                headers.append((prefix + k, str(v)))
    if layout.status_code is not None:
        status = result.get(layout.status_code)
        if status is not None:
            return int(status)
    return None
