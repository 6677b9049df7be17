"""Secrets Manager's errors and limits, shared by its operation families (AWS's codes and texts)."""

from __future__ import annotations

from overcast.errors import ServiceError
from overcast.services.kit.tags import TagRules

MAX_VERSIONS = 100  # versions kept per secret; older versions without staging labels are removed
MAX_LABELS_PER_VERSION = 20


def not_found() -> ServiceError:
    return ServiceError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message)


def invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequestException", message)


def marked_for_deletion() -> ServiceError:
    return invalid_request(
        "You can't perform this operation on the secret because it was marked for deletion."
    )


def invalid_token() -> ServiceError:
    return ServiceError("InvalidNextTokenException", "The NextToken value is invalid.")


TAG_RULES = TagRules(
    max_tags=50,
    max_key=128,
    max_value=256,
    too_many=lambda limit: invalid_request("You can't add more than 50 tags to a secret."),
    invalid=lambda key: invalid_parameter("The tag key or value is invalid."),
    reserved=lambda key: invalid_parameter("The tag key can't start with aws:."),
)
