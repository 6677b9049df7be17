"""What Lambda's operation families share that needs neither the provider nor the database: AWS's errors,
function names and ARNs, times, stored configurations and marker paging."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from overcast.errors import ServiceError
from overcast.services.kit.arns import build_arn
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.kit.tags import TagRules

# AWS's pattern for FunctionName (the model's NamespacedFunctionName), quoted in its validation errors
FUNCTION_NAME_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?"
    r"(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
FUNCTION_REF = re.compile(
    r"^(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):\d{12}:function:|\d{12}:function:)?"
    r"(?P<name>[a-zA-Z0-9_.-]{1,64})(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9_-]{1,128}))?$"
)
LAYER_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):layer:([a-zA-Z0-9_-]+):(\d+)$")


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValueException", message)


# Lambda's tag limits and wording (Lambda's API does not refuse keys starting with aws:)
TAG_RULES = TagRules(
    too_many=lambda limit: invalid("Number of tags exceeds resource tag limit."),
    invalid=lambda key: invalid(f"Tag key or value is invalid: {key}"),
    reserved_prefix=None,
)


def constraint(value: Any, member: str, rule: str) -> ServiceError:
    return ServiceError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must have "
        f"value {rule}",
    )


class Where(Protocol):
    """An account and a region: a RequestContext, or a `Scope` outside requests."""

    account_id: str
    region: str


@dataclass(frozen=True)
class Scope:
    """The account and region a function is named in outside a request (queued events, pollers, URLs)."""

    account_id: str
    region: str


def function_arn(where: Where, name: str, qualifier: str | None = None) -> str:
    resource = f"function:{name}" + (f":{qualifier}" if qualifier else "")
    return build_arn("lambda", where.region, where.account_id, resource)


def lambda_time(moment: float) -> str:
    """Lambda's LastModified format: 2024-01-02T03:04:05.678+0000."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def public(config: dict[str, Any]) -> dict[str, Any]:
    """A stored configuration without Overcast's own bookkeeping keys."""
    return {k: v for k, v in config.items() if not k.startswith("_")}


# How long an update stays InProgress (virtual seconds): meanwhile further updates and PublishVersion are refused
# with ResourceConflictException, as in AWS (whose updates take seconds); waiters see it end.
UPDATE_SECONDS = 1.0


def function_view(config: dict[str, Any], now: float) -> dict[str, Any]:
    """A function configuration as AWS reports it at `now`: LastUpdateStatus InProgress while an update runs."""
    view = public(config)
    if now < config.get("_UpdateUntil", 0.0):
        view["LastUpdateStatus"] = "InProgress"
        view["LastUpdateStatusReason"] = "The function is being created."
        view["LastUpdateStatusReasonCode"] = "Creating"
    return view


def check_not_updating(config: dict[str, Any], now: float) -> None:
    if now < config.get("_UpdateUntil", 0.0):
        raise ServiceError(
            "ResourceConflictException",
            "The operation cannot be performed at this time. An update is in progress for resource: "
            f"{config['FunctionArn']}",
        )


def check_revision(config: dict[str, Any], params: dict[str, Any]) -> None:
    if params.get("RevisionId") and params["RevisionId"] != config["RevisionId"]:
        raise ServiceError(
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/"
            "GetAlias API to retrieve the latest Revision Id",
            412,
        )


def bad_marker() -> ServiceError:
    return invalid("Invalid marker")


def marker_position(params: dict[str, Any], scope: str, kind: type) -> Any:
    """The position a Marker names (None without one); AWS's error for a marker that is not ours."""
    position = decode_token(params.get("Marker") or None, bad_marker, scope)
    if position is not None and not isinstance(position, kind):
        raise bad_marker()
    return position


def page(items: list[dict[str, Any]], params: dict[str, Any], key: str) -> dict[str, Any]:
    """Marker paging over a short list (versions, aliases, layers, URL configs): the marker is an offset."""
    start = marker_position(params, key, int) or 0
    limit = params.get("MaxItems") or 50
    rows = list(enumerate(items))[max(start, 0) : max(start, 0) + limit + 1]
    shown, token = page_of(rows, limit, lambda row: row[0] + 1, key)
    result: dict[str, Any] = {key: [item for _, item in shown]}
    if token:
        result["NextMarker"] = token
    return result
