"""What the Logs operation families share that needs neither the provider nor the database: AWS's errors,
names, filter patterns, tag rules and pagination tokens."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from overcast.errors import ServiceError
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.paging import decode_token
from overcast.services.kit.tags import TagRules
from overcast.services.logs.filter_pattern import PatternError, compile_pattern

MAX_TAGS = 50


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message)


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)


# Logs' tag limits and wording (TagResource words "too many" its own way: see tagging.py)
TAG_RULES = TagRules(
    max_tags=MAX_TAGS,
    too_many=lambda limit: invalid(f"A resource can have no more than {limit} tags."),
    invalid=lambda key: invalid(f"Tag key or value is invalid: {key}"),
    reserved=lambda key: invalid("Tag keys beginning with 'aws:' are reserved."),
)


def group_name(identifier: str | None) -> str | None:
    """A log group name from a name or an ARN (arn:aws:logs:<region>:<account>:log-group:<name>[:*])."""
    if not identifier or not identifier.startswith("arn:"):
        return identifier
    arn = parse_arn(identifier)
    if arn is None or arn.resource_type != "log-group":
        return identifier
    return arn.resource_id.removesuffix(":*")


def check_name(name: str, member: str, pattern: re.Pattern[str]) -> None:
    if not pattern.fullmatch(name):
        raise invalid(
            f"1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {pattern.pattern}"
        )


def pattern_matcher(pattern: str | None) -> Callable[[str], Any]:
    try:
        return compile_pattern(pattern)
    except PatternError as error:
        raise invalid(f"Invalid filter pattern: {error}") from None


def bad_token() -> ServiceError:
    return invalid("The specified nextToken is invalid.")


def token_position(params: dict[str, Any], scope: str, *kinds: type) -> list[Any] | None:
    """The position a nextToken of the listing `scope` holds (values of the types `kinds`), None without a
    token; AWS's error for a token that is not one of ours."""
    position = decode_token(params.get("nextToken") or None, bad_token, scope)
    if position is None:
        return None
    if not isinstance(position, list) or len(position) != len(kinds):
        raise bad_token()
    if not all(isinstance(value, kind) for value, kind in zip(position, kinds, strict=True)):
        raise bad_token()
    return position
