"""SQS's errors and request checks shared by its operation families (pure: no context, no database)."""

from __future__ import annotations

import re
from typing import Any

from overcast.errors import ServiceError
from overcast.services.kit.tags import TagRules

BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
FIFO_TOKEN = re.compile(r"^[!-~]{1,128}$")  # alphanumerics and punctuation, as group and deduplication ids
MAX_BATCH = 10
MAX_VISIBILITY = 43_200  # 12 hours: the most a receive's visibility can last, however it is extended


def no_such_queue() -> ServiceError:
    return ServiceError("QueueDoesNotExist", "The specified queue does not exist.")


def resource_not_found(parameter: str) -> ServiceError:
    return ServiceError(
        "ResourceNotFoundException",
        f"The resource that you specified for the {parameter} parameter doesn't exist.",
        status=404,
    )


def invalid_parameter(name: str, value: Any, reason: str) -> ServiceError:
    return ServiceError(
        "InvalidParameterValue", f"Value {value} for parameter {name} is invalid. Reason: {reason}"
    )


def invalid_token() -> ServiceError:
    return ServiceError("InvalidParameterValue", "Invalid NextToken value.")


def int_param(params: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = params.get(name)
    if value is not None and not low <= value <= high:
        raise invalid_parameter(name, value, f"Must be between {low} and {high}, if provided.")
    return value


def check_max_results(params: dict[str, Any]) -> int | None:
    limit = params.get("MaxResults")
    if limit is not None and not 1 <= limit <= 1000:
        raise invalid_parameter("MaxResults", limit, "MaxResults must be an integer between 1 and 1000.")
    return limit


def check_batch(entries: list[dict[str, Any]], entry_shape: str) -> list[dict[str, Any]]:
    if not entries:
        raise ServiceError("EmptyBatchRequest", f"There should be at least one {entry_shape} in the request.")
    if len(entries) > MAX_BATCH:
        raise ServiceError(
            "TooManyEntriesInBatchRequest",
            f"Maximum number of entries per request are {MAX_BATCH}. You have sent {len(entries)}.",
        )
    ids = [entry["Id"] for entry in entries]
    for entry_id in ids:
        if not BATCH_ID.match(entry_id):
            raise ServiceError(
                "InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, "
                "hyphens and underscores. It can be at most 80 letters long.",
            )
    if len(set(ids)) != len(ids):
        raise ServiceError(
            "BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id."
        )
    return entries


# Queue tags: AWS's limits, SQS's wording (keys starting with aws: are not refused).
TAG_RULES = TagRules(
    reserved_prefix=None,
    too_many=lambda limit: ServiceError(
        "InvalidParameterValue", f"Too many tags added for queue. The maximum is {limit}."
    ),
    invalid=lambda key: ServiceError("InvalidParameterValue", f"Tag key or value is invalid: {key}"),
)
