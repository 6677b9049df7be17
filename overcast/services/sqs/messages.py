"""Message-level rules of SQS: attribute validation, the MD5 digests SDKs verify, body characters."""

from __future__ import annotations

import hashlib
import re
import struct
from typing import Any

from overcast.errors import ServiceError

MAX_MESSAGE_ATTRIBUTES = 10
_ATTRIBUTE_NAME = re.compile(r"^[\w\-.]{1,256}$")  # letters of any script, as SQS accepts
_DATA_TYPE = re.compile(r"^(String|Number|Binary)(\.[A-Za-z0-9_\-.]{1,250})?$")
# XML 1.0 characters: what SQS accepts in a body or a string attribute.
_INVALID_CHARACTER = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValue", message)


def check_body(body: str) -> None:
    if not body:
        raise ServiceError("MissingParameter", "The request must contain the parameter MessageBody.")
    if _INVALID_CHARACTER.search(body):
        raise ServiceError(
            "InvalidMessageContents",
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | "
            "#xE000 to #xFFFD | #x10000 to #x10FFFF",
        )


def check_attributes(attributes: dict[str, Any], *, system: bool = False) -> int:
    """Validate message (or system) attributes; returns the bytes they count towards the size limit."""
    if not attributes:
        return 0
    kind = "system" if system else "user"
    if len(attributes) > MAX_MESSAGE_ATTRIBUTES:
        raise invalid(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum "
            f"[{MAX_MESSAGE_ATTRIBUTES}]."
        )
    size = 0
    for name, value in attributes.items():
        if system and name != "AWSTraceHeader":
            raise invalid(f"Message system attribute name '{name}' is invalid.")
        _check_attribute_name(name)
        data_type = value.get("DataType") or ""
        if not _DATA_TYPE.match(data_type):
            raise invalid(
                f"The message attribute '{name}' has an invalid message attribute type, the set of "
                "supported type prefixes is Binary, Number, and String."
            )
        base = data_type.split(".", 1)[0]
        if base == "Binary":
            data = value.get("BinaryValue")
            if not data:
                raise invalid(
                    f"Message ({kind}) attribute '{name}' must contain a non-empty value of type 'Binary'."
                )
            size += len(data)
        else:
            text = value.get("StringValue")
            if not text:
                raise invalid(
                    f"Message ({kind}) attribute '{name}' must contain a non-empty value of type '{base}'."
                )
            if base == "Number" and not _NUMBER.match(text):
                raise invalid(f"Can't cast the value of message ({kind}) attribute '{name}' to a number.")
            if _INVALID_CHARACTER.search(text):
                raise invalid(f"Message ({kind}) attribute '{name}' contains invalid characters.")
            size += len(text.encode())
        size += len(name.encode()) + len(data_type.encode())
    return size


def _check_attribute_name(name: str) -> None:
    lowered = name.lower()
    if (
        not _ATTRIBUTE_NAME.match(name)
        or ".." in name
        or name.startswith(".")
        or name.endswith(".")
        or lowered.startswith(("aws.", "amazon."))
    ):
        raise invalid(f"Message (user) attribute name '{name}' is invalid.")


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def md5_of_attributes(attributes: dict[str, Any]) -> str | None:
    """The digest SDKs recompute: per attribute (sorted by name) length-prefixed name, type, transport byte, value."""
    if not attributes:
        return None
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        value = attributes[name]
        data_type = value["DataType"]
        digest.update(_length_prefixed(name.encode()))
        digest.update(_length_prefixed(data_type.encode()))
        if data_type.startswith("Binary"):
            digest.update(b"\x02")
            digest.update(_length_prefixed(bytes(value["BinaryValue"])))
        else:
            digest.update(b"\x01")
            digest.update(_length_prefixed(value["StringValue"].encode()))
    return digest.hexdigest()


def _length_prefixed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def encode_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """Attributes as stored (JSON): binary values as latin-1 text, only the members SQS keeps."""
    stored = {}
    for name, value in attributes.items():
        entry = {"DataType": value["DataType"]}
        if "BinaryValue" in value and value["DataType"].startswith("Binary"):
            entry["BinaryValue"] = bytes(value["BinaryValue"]).decode("latin-1")
        else:
            entry["StringValue"] = value["StringValue"]
        stored[name] = entry
    return stored


def decode_attributes(stored: dict[str, Any]) -> dict[str, Any]:
    return {
        name: (
            {"DataType": v["DataType"], "BinaryValue": v["BinaryValue"].encode("latin-1")}
            if "BinaryValue" in v
            else dict(v)
        )
        for name, v in stored.items()
    }


def select_attributes(stored: dict[str, Any], wanted: list[str] | None) -> dict[str, Any]:
    """The message attributes a receive asked for: names, 'All' / '*' / '.*', or 'prefix.*' ('Hel.*': Hello)."""
    if not stored or not wanted:
        return {}
    if "All" in wanted or "*" in wanted or ".*" in wanted:
        return stored
    chosen = {}
    for pattern in wanted:
        if pattern.endswith(".*"):
            prefix = pattern[:-2]
            chosen.update({k: v for k, v in stored.items() if k.startswith(prefix)})
        elif pattern in stored:
            chosen[pattern] = stored[pattern]
    return chosen
