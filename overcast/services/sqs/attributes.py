"""Queue attributes: which exist, their defaults and ranges, and how a set of them is validated."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from overcast.errors import ServiceError

MAX_MESSAGE_SIZE = 1_048_576  # 1 MiB since August 2025 (was 256 KiB)


@dataclass(frozen=True)
class IntegerRange:
    low: int
    high: int
    default: int | None


INTEGER_ATTRIBUTES = {
    "DelaySeconds": IntegerRange(0, 900, 0),
    "MaximumMessageSize": IntegerRange(1024, MAX_MESSAGE_SIZE, MAX_MESSAGE_SIZE),
    "MessageRetentionPeriod": IntegerRange(60, 1_209_600, 345_600),
    "ReceiveMessageWaitTimeSeconds": IntegerRange(0, 20, 0),
    "VisibilityTimeout": IntegerRange(0, 43_200, 30),
    "KmsDataKeyReusePeriodSeconds": IntegerRange(60, 86_400, None),
}
BOOLEAN_ATTRIBUTES = ("SqsManagedSseEnabled",)
JSON_ATTRIBUTES = ("Policy", "RedrivePolicy", "RedriveAllowPolicy")
FIFO_ONLY = {
    "ContentBasedDeduplication": ("true", "false"),
    "DeduplicationScope": ("messageGroup", "queue"),
    "FifoThroughputLimit": ("perQueue", "perMessageGroupId"),
}
STRING_ATTRIBUTES = ("KmsMasterKeyId",)
READ_ONLY = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
)
SETTABLE = (*INTEGER_ATTRIBUTES, *BOOLEAN_ATTRIBUTES, *JSON_ATTRIBUTES, *FIFO_ONLY, *STRING_ATTRIBUTES)
ALL_NAMES = frozenset((*SETTABLE, "FifoQueue", *READ_ONLY))


def invalid_value(name: str, reason: str = "") -> ServiceError:
    suffix = f" Reason: {reason}" if reason else ""
    return ServiceError("InvalidAttributeValue", f"Invalid value for the parameter {name}.{suffix}")


def defaults(fifo: bool) -> dict[str, str]:
    values = {name: str(r.default) for name, r in INTEGER_ATTRIBUTES.items() if r.default is not None}
    values["SqsManagedSseEnabled"] = "true"
    if fifo:
        values.update(
            FifoQueue="true",
            ContentBasedDeduplication="false",
            DeduplicationScope="queue",
            FifoThroughputLimit="perQueue",
        )
    return values


def normalise(given: dict[str, str], *, fifo: bool, creating: bool) -> dict[str, str]:
    """Validated attributes in their canonical text form. Raises InvalidAttributeName / InvalidAttributeValue."""
    result: dict[str, str] = {}
    for name, value in given.items():
        value = "" if value is None else str(value)
        if name in INTEGER_ATTRIBUTES:
            result[name] = _integer(name, value)
        elif name in BOOLEAN_ATTRIBUTES:
            result[name] = _boolean(name, value)
        elif name in JSON_ATTRIBUTES:
            result[name] = _json_text(name, value)
        elif name in STRING_ATTRIBUTES:
            result[name] = value
        elif name == "FifoQueue":
            if not fifo:  # a standard queue has no such attribute, even "false"
                raise ServiceError("InvalidAttributeName", f"Unknown Attribute {name}.")
            if not creating:
                raise invalid_value(name, "Modifying queue type is not supported.")
            if _boolean(name, value) != "true":
                raise invalid_value(name)
            result[name] = "true"
        elif name in FIFO_ONLY:
            if not fifo:
                raise ServiceError("InvalidAttributeName", f"Unknown Attribute {name}.")
            if name == "ContentBasedDeduplication":  # booleans are read in any case ("True")
                value = _boolean(name, value)
            if value not in FIFO_ONLY[name]:
                raise invalid_value(name)
            result[name] = value
        else:
            raise ServiceError("InvalidAttributeName", f"Unknown Attribute {name}.")
    if "KmsMasterKeyId" in result and result.get("SqsManagedSseEnabled") == "true":
        raise invalid_value(
            "SqsManagedSseEnabled",
            "You can use one type of server-side encryption (SSE) at "
            "one time. You can either enable KMS SSE or SQS SSE.",
        )
    return result


def check_combination(values: dict[str, str]) -> None:
    """Rules across a queue's attributes once the request's values are merged with the queue's."""
    if (
        values.get("FifoThroughputLimit") == "perMessageGroupId"
        and values.get("DeduplicationScope") != "messageGroup"
    ):
        raise invalid_value(
            "FifoThroughputLimit",
            "perMessageGroupId is allowed only when the value for DeduplicationScope is messageGroup.",
        )


def _integer(name: str, value: str) -> str:
    bounds = INTEGER_ATTRIBUTES[name]
    try:
        number = int(value)
    except ValueError:
        raise invalid_value(name) from None
    if not bounds.low <= number <= bounds.high:
        raise invalid_value(name, f"Must be between {bounds.low} and {bounds.high}.")
    return str(number)


def _boolean(name: str, value: str) -> str:
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise invalid_value(name)
    return lowered


def _json_text(name: str, value: str) -> str:
    if value == "":  # an empty value removes the policy
        return ""
    try:
        document = json.loads(value)
    except ValueError:
        raise invalid_value(name, "Invalid JSON.") from None
    if not isinstance(document, dict):
        raise invalid_value(name)
    if name == "RedrivePolicy":
        _check_redrive_policy(document, value)
    elif name == "RedriveAllowPolicy":
        _check_redrive_allow_policy(document)
    return value


def _check_redrive_policy(policy: dict[str, Any], text: str) -> None:
    target = policy.get("deadLetterTargetArn")
    count = policy.get("maxReceiveCount")
    if not target or count is None:
        raise ServiceError(
            "InvalidParameterValue",
            f"Value {text} for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON "
            "map or is missing deadLetterTargetArn or maxReceiveCount.",
        )
    try:
        count = int(count)
    except (TypeError, ValueError):
        count = 0
    if not 1 <= count <= 1000:
        raise ServiceError(
            "InvalidParameterValue",
            f"Value {text} for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: "
            f"{policy.get('maxReceiveCount')}, valid values are from 1 to 1000 both inclusive.",
        )


def _check_redrive_allow_policy(policy: dict[str, Any]) -> None:
    permission = policy.get("redrivePermission")
    if permission not in ("allowAll", "denyAll", "byQueue"):
        raise invalid_value("RedriveAllowPolicy", "Invalid value for redrivePermission.")
    sources = policy.get("sourceQueueArns") or []
    if not isinstance(sources, list) or not all(isinstance(arn, str) for arn in sources):
        raise invalid_value("RedriveAllowPolicy", "sourceQueueArns must be a list of queue ARNs.")
    if permission == "byQueue" and not 1 <= len(sources) <= 10:
        raise invalid_value("RedriveAllowPolicy", "sourceQueueArns must list 1 to 10 queue ARNs for byQueue.")
    if permission != "byQueue" and sources:
        raise invalid_value("RedriveAllowPolicy", "sourceQueueArns is only allowed with byQueue.")


def redrive_target(attributes: dict[str, str]) -> tuple[str, int] | None:
    """(dead-letter queue ARN, maxReceiveCount) of a queue with a redrive policy."""
    text = attributes.get("RedrivePolicy")
    if not text:
        return None
    policy = json.loads(text)
    return policy["deadLetterTargetArn"], int(policy["maxReceiveCount"])


def allows_source(dlq_attributes: dict[str, str], source_arn: str) -> bool:
    text = dlq_attributes.get("RedriveAllowPolicy")
    if not text:
        return True
    policy = json.loads(text)
    permission = policy.get("redrivePermission")
    if permission == "denyAll":
        return False
    if permission == "byQueue":
        return source_arn in (policy.get("sourceQueueArns") or [])
    return True
