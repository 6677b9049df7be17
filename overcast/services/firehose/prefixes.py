"""S3 object keys of a delivery: custom prefixes with expressions, AWS's default layout and object names.

    !{timestamp:yyyy/MM/dd}            the arrival time of the batch's oldest record, a Java DateTimeFormatter
                                       pattern (letters y M d H h m s S a E D, 'quoted text', other characters
                                       kept)
    !{firehose:random-string}          11 random characters
    !{firehose:error-output-type}      processing-failed, http-endpoint-failed, ... (error prefixes only)
    !{partitionKeyFromQuery:name}      a dynamic partitioning key from the MetadataExtraction query
    !{partitionKeyFromLambda:name}     a dynamic partitioning key from the transformation function

A prefix without expressions gets AWS's `YYYY/MM/DD/HH/` appended (all of it when there is no prefix); the
object name is `<delivery stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>` and the compression's extension.
"""

from __future__ import annotations

import random
import re
import string
import uuid
from datetime import datetime

_EXPRESSION = re.compile(r"!\{([^}:]*):([^}]*)\}")
NAMESPACES = ("timestamp", "firehose", "partitionKeyFromQuery", "partitionKeyFromLambda")
_PATTERN_LETTERS = re.compile(r"'[^']*'|([yMdHhmsSaEDu])\1*")


class PrefixError(ValueError):
    pass


def expressions(prefix: str) -> list[tuple[str, str]]:
    return _EXPRESSION.findall(prefix or "")


def check(prefix: str, *, error_prefix: bool = False) -> None:
    """Raise PrefixError for an expression Firehose would refuse."""
    for namespace, name in expressions(prefix):
        if namespace not in NAMESPACES:
            raise PrefixError(f"The expression namespace {namespace} is not supported.")
        if namespace == "firehose" and name not in ("random-string", "error-output-type"):
            raise PrefixError(f"The firehose expression {name} is not supported.")
        if namespace == "firehose" and name == "error-output-type" and not error_prefix:
            raise PrefixError(
                "The firehose:error-output-type expression can only be used in ErrorOutputPrefix."
            )
        if namespace.startswith("partitionKey") and error_prefix:
            raise PrefixError(f"The {namespace} expression can not be used in ErrorOutputPrefix.")


def java_time(pattern: str, moment: datetime) -> str:
    """Format `moment` with a Java DateTimeFormatter pattern (the common letters)."""

    def letter(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("'"):
            return token[1:-1] if len(token) > 2 else "'"
        kind, width = token[0], len(token)
        if kind in "yu":
            return f"{moment.year % 100:02d}" if width == 2 else f"{moment.year:0{width}d}"
        if kind == "M":
            return (
                moment.strftime("%B" if width >= 4 else "%b") if width >= 3 else f"{moment.month:0{width}d}"
            )
        values = {
            "d": moment.day,
            "H": moment.hour,
            "h": (moment.hour % 12) or 12,
            "m": moment.minute,
            "s": moment.second,
            "D": moment.timetuple().tm_yday,
        }
        if kind in values:
            return f"{values[kind]:0{width}d}"
        if kind == "S":
            return f"{moment.microsecond:06d}"[:width].ljust(width, "0")
        if kind == "a":
            return moment.strftime("%p")
        return moment.strftime("%A" if width >= 4 else "%a")  # E

    return _PATTERN_LETTERS.sub(letter, pattern)


def evaluate(prefix: str, moment: datetime, keys: dict[str, str], error_type: str | None = None) -> str:
    def value(match: re.Match[str]) -> str:
        namespace, name = match.group(1), match.group(2)
        if namespace == "timestamp":
            return java_time(name, moment)
        if namespace == "firehose":
            if name == "random-string":
                return "".join(random.choices(string.ascii_letters + string.digits, k=11))
            return error_type or ""
        return keys.get(name, "")

    return _EXPRESSION.sub(value, prefix)


def hourly(moment: datetime) -> str:
    return moment.strftime("%Y/%m/%d/%H/")


def object_prefix(prefix: str | None, moment: datetime, keys: dict[str, str]) -> str:
    if not prefix:
        return hourly(moment)
    if not expressions(prefix):
        return prefix + hourly(moment)
    return evaluate(prefix, moment, keys)


def error_prefix(prefix: str | None, moment: datetime, error_type: str) -> str:
    if not prefix:
        return f"{error_type}/{hourly(moment)}"
    if not expressions(prefix):
        return f"{prefix}{error_type}/{hourly(moment)}"
    return evaluate(prefix, moment, {}, error_type)


def object_name(stream: str, version: int, moment: datetime, extension: str) -> str:
    return f"{stream}-{version}-{moment.strftime('%Y-%m-%d-%H-%M-%S')}-{uuid.uuid4()}{extension}"
