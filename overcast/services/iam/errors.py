"""IAM's errors, with AWS's codes, statuses and wording."""

from __future__ import annotations

from overcast.errors import ServiceError
from overcast.services.kit.arns import parse_arn

KIND_WORD = {"user": "user", "group": "group", "role": "role", "instance-profile": "Instance Profile"}


def no_such(kind: str, name: str) -> ServiceError:
    if kind == "instance-profile":
        return ServiceError("NoSuchEntity", f"Instance Profile {name} cannot be found.", 404)
    return ServiceError(
        "NoSuchEntity", f"The {KIND_WORD.get(kind, kind)} with name {name} cannot be found.", 404
    )


def no_such_policy(policy_arn: str) -> ServiceError:
    return ServiceError("NoSuchEntity", f"Policy {policy_arn} does not exist or is not attachable.", 404)


def no_such_version(policy_arn: str, version_id: str) -> ServiceError:
    return ServiceError(
        "NoSuchEntity", f"Policy {policy_arn} version {version_id} does not exist or is not attachable.", 404
    )


def already_exists(kind: str, name: str) -> ServiceError:
    if kind == "policy":
        return ServiceError(
            "EntityAlreadyExists",
            f"A policy called {name} already exists. Duplicate names are not allowed.",
            409,
        )
    if kind == "instance-profile":
        return ServiceError("EntityAlreadyExists", f"Instance Profile {name} already exists.", 409)
    return ServiceError(
        "EntityAlreadyExists", f"{KIND_WORD[kind].capitalize()} with name {name} already exists.", 409
    )


def delete_conflict(message: str) -> ServiceError:
    return ServiceError("DeleteConflict", message, 409)


def invalid_input(message: str) -> ServiceError:
    return ServiceError("InvalidInput", message, 400)


def invalid_marker() -> ServiceError:
    return invalid_input("Invalid Marker.")


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceeded", message, 409)


def check_policy_arn(policy_arn: str) -> None:
    """A PolicyArn that is no ARN at all (a bare name or path): IAM's 400 before any lookup."""
    if parse_arn(policy_arn) is None:
        raise ServiceError("ValidationError", "Invalid ARN:  Could not be parsed!", 400)
