"""What the families and the provider share: name rules, tag rules, AWS's error wording, timestamps."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from overcast.errors import ServiceError
from overcast.services.kit.tags import TagRules

# Names of state machines, executions, activities and aliases: no whitespace, brackets, wildcards, special or
# control characters, 1-80 characters.
_NAME = re.compile(r"^[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,80}$")


def _too_many_tags(limit: int) -> ServiceError:
    return ServiceError("TooManyTags", f"The number of tags exceeds the limit of {limit}.", 400)


def _invalid_tag(key: str) -> ServiceError:
    return ServiceError("ValidationException", f"Tag key or value is invalid: {key}", 400)


TAG_RULES = TagRules(too_many=_too_many_tags, invalid=_invalid_tag)


def invalid_arn(arn: str, reason: str | None = None) -> ServiceError:
    return ServiceError("InvalidArn", f"Invalid Arn: '{reason or arn}'", 400)


def machine_missing(arn: str) -> ServiceError:
    return ServiceError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'", 400)


def execution_missing(arn: str) -> ServiceError:
    return ServiceError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'", 400)


def invalid_token() -> ServiceError:
    return ServiceError("InvalidToken", "Invalid Token: 'Invalid token'", 400)


def check_name(name: str) -> None:
    if not _NAME.match(name or ""):
        raise ServiceError("InvalidName", f"Invalid Name: '{name}'", 400)


def iso_date(moment: float | None) -> Any:
    """A timestamp for the response."""
    return datetime.fromtimestamp(moment, UTC) if moment is not None else None
