"""What DynamoDB's operations read from their parameters (pure: no context, no database): expression
placeholders, conditions and projections (with their legacy forms), ReturnValues, table names, digests."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from overcast.errors import ServiceError
from overcast.services.dynamodb import legacy
from overcast.services.dynamodb.expressions import Placeholders, parse_condition, parse_projection, project
from overcast.services.dynamodb.values import Item, validation
from overcast.services.kit.arns import parse_arn


def conditional_failed(old: Item | None, params: dict[str, Any]) -> ServiceError:
    fields = {}
    if old is not None and params.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
        fields["Item"] = old
    return ServiceError("ConditionalCheckFailedException", "The conditional request failed", **fields)


def policy_not_found(arn: str) -> ServiceError:
    return ServiceError(
        "PolicyNotFoundException", f"Resource-based policy not found for the provided ResourceArn: {arn}"
    )


def table_name(name: str) -> str:
    """TableName may also be a table ARN (its name is what follows `table/`)."""
    if name.startswith("arn:"):
        arn = parse_arn(name)
        return arn.resource_id if arn is not None and arn.resource_type == "table" else name
    return name


def placeholders(params: dict[str, Any]) -> Placeholders:
    names, values = params.get("ExpressionAttributeNames"), params.get("ExpressionAttributeValues")
    if values is not None and not values:
        raise validation("ExpressionAttributeValues must not be empty")
    if names is not None and not names:
        raise validation("ExpressionAttributeNames must not be empty")
    expressions = (
        "ConditionExpression",
        "UpdateExpression",
        "ProjectionExpression",
        "FilterExpression",
        "KeyConditionExpression",
    )
    if not any(params.get(e) is not None for e in expressions):
        if names is not None:
            raise validation("ExpressionAttributeNames can only be specified when using expressions")
        if values is not None:
            raise validation("ExpressionAttributeValues can only be specified when using expressions")
    return Placeholders(names, values)


def condition(params: dict[str, Any], placeholders: Placeholders, legacy_name: str) -> tuple | None:
    legacy.refuse_mixing(params, (legacy_name,), ("ConditionExpression",))
    if params.get("ConditionExpression") is not None:
        return parse_condition(params["ConditionExpression"], "ConditionExpression", placeholders)
    if params.get(legacy_name):
        return legacy.conditions(params[legacy_name], params.get("ConditionalOperator"))
    return None


def projection(params: dict[str, Any], placeholders: Placeholders) -> list | None:
    legacy.refuse_mixing(params, ("AttributesToGet",), ("ProjectionExpression",))
    if params.get("ProjectionExpression") is not None:
        return parse_projection(params["ProjectionExpression"], placeholders)
    if params.get("AttributesToGet"):
        return legacy.attributes_to_get(params["AttributesToGet"])
    return None


def check_return_values(params: dict[str, Any], allowed: tuple[str, ...]) -> None:
    value = params.get("ReturnValues")
    if value is not None and value not in allowed:
        raise validation("Return values set to invalid value")


def update_return(mode: str | None, old: Item | None, new: Item, paths: list) -> dict[str, Any]:
    if mode == "ALL_OLD" and old:
        return {"Attributes": old}
    if mode == "ALL_NEW":
        return {"Attributes": new}
    if mode == "UPDATED_OLD" and old:
        attributes = project(old, paths)
        return {"Attributes": attributes} if attributes else {}
    if mode == "UPDATED_NEW":
        attributes = project(new, paths)
        return {"Attributes": attributes} if attributes else {}
    return {}


def digest(value: Any) -> str:
    """A request's fingerprint for ClientRequestToken idempotency: maps compare regardless of key order."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=_binary_text)
    return hashlib.sha256(text.encode()).hexdigest()


def _binary_text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
