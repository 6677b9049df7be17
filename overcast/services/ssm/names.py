"""Parameter names, selectors, labels, tiers and policies: Parameter Store's rules and texts. Pure logic."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from overcast.errors import ServiceError

MAX_DEPTH = 15
STANDARD_VALUE_BYTES = 4096
ADVANCED_VALUE_BYTES = 8192
STANDARD_LIMIT = 10_000
ADVANCED_LIMIT = 100_000
MAX_VERSIONS = 100
MAX_LABELS_PER_VERSION = 10
_NAME_CHARS = re.compile(r"^[a-zA-Z0-9_.\-/]+$")
_LABEL = re.compile(r"^[a-zA-Z0-9_.\-]{1,100}$")
_AMI = re.compile(r"^ami-[0-9a-f]{8}([0-9a-f]{9})?$")
POLICY_TYPES = ("Expiration", "ExpirationNotification", "NoChangeNotification")
_UNITS = {"Days": 86400, "Hours": 3600}


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def parameter_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:ssm:{region}:{account}:parameter{name if name.startswith('/') else '/' + name}"


def check_name(name: str) -> None:
    """PutParameter's name rules."""
    bare = name.lstrip("/").lower()
    if bare.startswith(("aws", "ssm")) or not _NAME_CHARS.match(name):
        raise validation(
            'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it '
            "can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, "
            "numbers and the following 3 symbols .-_"
        )
    if "/" in name and not name.startswith("/"):
        raise validation("Parameter name must be a fully qualified name.")
    if "//" in name or (name != "/" and name.endswith("/")):
        raise validation("Parameter name must be a fully qualified name.")
    if name.count("/") > MAX_DEPTH:
        raise ServiceError(
            "HierarchyLevelLimitExceededException",
            "A hierarchy can have a maximum of 15 levels. For more information, see "
            "https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html",
        )


def split_selector(text: str) -> tuple[str, str | None]:
    """("name", "3" | "label" | None) of `name:3` or `name:label` (a name holds no colon); a parameter ARN
    (`arn:aws:ssm:<region>:<account>:parameter/<name>`) names its parameter."""
    if text.startswith("arn:"):
        _, _, resource = text.partition(":parameter")
        if not resource:
            return text, None
        text = resource if resource.count("/") > 1 else resource.lstrip("/")
    name, found, selector = text.rpartition(":")
    if not found:
        return text, None
    return name, selector


def invalid_labels(labels: list[str]) -> list[str]:
    """The labels LabelParameterVersion refuses (they are returned, not raised)."""
    return [
        label
        for label in labels
        if not _LABEL.match(label) or label.isdigit() or label.lower().startswith(("aws", "ssm"))
    ]


def check_value(value: str, tier: str) -> None:
    size = len(value.encode())
    if tier == "Standard" and size > STANDARD_VALUE_BYTES:
        raise validation(
            "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger "
            "parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see "
            "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html"
        )
    if size > ADVANCED_VALUE_BYTES:
        raise validation(
            "Advanced tier parameters support a maximum parameter value of 8192 characters. For more information, "
            "see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html"
        )


def check_data_type(data_type: str, parameter_type: str, value: str) -> None:
    if data_type not in ("text", "aws:ec2:image", "aws:ssm:integration"):
        raise validation(
            f"The following data type is not supported: {data_type} (Data type names are all lowercase.)"
        )
    if data_type == "aws:ec2:image":
        if parameter_type != "String":
            raise validation("Parameters with the aws:ec2:image data type must be of type String.")
        if not _AMI.match(value):
            raise validation(f"The parameter value {value} is not a valid Amazon Machine Image (AMI) ID.")


def check_pattern(pattern: str | None, value: str) -> None:
    if not pattern:
        return
    try:
        compiled = re.compile(pattern)
    except re.error:
        raise ServiceError(
            "InvalidAllowedPatternException", "The allowed pattern is not a valid regular expression."
        ) from None
    if not compiled.fullmatch(value) and not compiled.match(value):
        raise ServiceError(
            "ParameterPatternMismatchException",
            f"Parameter value, cannot be validated against allowedPattern: {pattern}",
        )


# -- parameter policies ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policies:
    """A parameter's policies: their texts as given, and the moments they act."""

    texts: list[dict[str, str]]  # DescribeParameters' Policies entries
    expires: float | None = None
    notify_at: float | None = None
    no_change_after: float | None = None  # seconds after the last change


def _timestamp(text: str) -> float:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ServiceError(
            "InvalidPolicyAttributeException",
            "A policy attribute or its value is invalid. Timestamp must be a valid ISO 8601 timestamp.",
        ) from None


def _span(attributes: dict[str, Any], key: str) -> float:
    amount, unit = attributes.get(key), attributes.get("Unit")
    if unit not in _UNITS or not str(amount).isdigit():
        raise ServiceError(
            "InvalidPolicyAttributeException",
            f"A policy attribute or its value is invalid. {key} and Unit (Days or Hours) are required.",
        )
    return int(amount) * _UNITS[unit]


def parse_policies(text: str, modified: float) -> Policies:
    """The Policies member of PutParameter (a JSON list of policies), checked as Parameter Store checks it."""
    try:
        items = json.loads(text)
    except ValueError:
        raise ServiceError("InvalidPolicyTypeException", "The policy text is not valid JSON.") from None
    items = items if isinstance(items, list) else [items]
    if len(items) > 10:
        raise ServiceError(
            "PoliciesLimitExceededException",
            "You specified more than the maximum number of allowed policies for the parameter. The maximum is 10.",
        )
    seen: set[str] = set()
    texts: list[dict[str, str]] = []
    expires = notify_at = no_change = None
    for item in items:
        kind = item.get("Type") if isinstance(item, dict) else None
        if kind not in POLICY_TYPES:
            raise ServiceError(
                "InvalidPolicyTypeException",
                "The policy type is not supported. Parameter Store supports the following policy types: "
                "Expiration, ExpirationNotification, and NoChangeNotification.",
            )
        if kind in seen:
            raise ServiceError(
                "IncompatiblePolicyException", f"Only one {kind} policy is allowed per parameter."
            )
        seen.add(kind)
        attributes = item.get("Attributes")
        attributes = attributes if isinstance(attributes, dict) else {}
        if kind == "Expiration":
            expires = _timestamp(str(attributes.get("Timestamp", "")))
        elif kind == "ExpirationNotification":
            notify_at = _span(attributes, "Before")
        else:
            no_change = _span(attributes, "After")
        texts.append(
            {
                "PolicyText": json.dumps(item, separators=(",", ":")),
                "PolicyType": kind,
                "PolicyStatus": "Pending",
            }
        )
    if notify_at is not None:
        if expires is None:
            raise ServiceError(
                "IncompatiblePolicyException",
                "An ExpirationNotification policy requires an Expiration policy.",
            )
        notify_at = expires - notify_at
    return Policies(texts, expires, notify_at, no_change)
