"""Organizations' errors, with AWS's codes and wording (all 400 unless AWS says otherwise)."""

from __future__ import annotations

from overcast.errors import ServiceError


def error(code: str, message: str, status: int = 400) -> ServiceError:
    return ServiceError(code, message, status)


def not_in_use() -> ServiceError:
    return error("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")


def access_denied() -> ServiceError:
    return error("AccessDeniedException", "You don't have permissions to access this resource.")


def already_in_organization() -> ServiceError:
    return error(
        "AlreadyInOrganizationException", "The AWS account is already a member of an organization.", 409
    )


def duplicate_account() -> ServiceError:
    return error(
        "DuplicateAccountException", "That account is already present in the specified organization.", 409
    )


def account_not_found() -> ServiceError:
    return error("AccountNotFoundException", "You specified an account that doesn't exist.")


def parent_not_found() -> ServiceError:
    return error("ParentNotFoundException", "You specified parent that doesn't exist.")


def target_not_found() -> ServiceError:
    return error(
        "TargetNotFoundException",
        "We can't find a root, OU, account, or email that matches the ID that you specified.",
    )


def policy_type_not_enabled() -> ServiceError:
    return error(
        "PolicyTypeNotEnabledException", "This operation can be performed only for enabled policy types."
    )


def handshake_not_found() -> ServiceError:
    return error(
        "HandshakeNotFoundException", "We can't find a handshake with the HandshakeId that you specified."
    )


def invalid_next_token() -> ServiceError:
    return ServiceError(
        "InvalidInputException",
        "You specified an invalid value for nextToken. You must get the value from the response to a previous "
        "call to the API.",
        400,
        Reason="INVALID_PAGINATION_TOKEN",
    )
