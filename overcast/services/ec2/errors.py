"""EC2's errors, worded as AWS words them (EC2 API Reference, "Error codes")."""

from __future__ import annotations

from overcast.errors import ServiceError


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValue", message)


def invalid_value(value: object, parameter: str, reason: str = "") -> ServiceError:
    tail = f" {reason}" if reason else ""
    return invalid(f"Value ({value}) for parameter {parameter} is invalid.{tail}")


def missing(parameter: str) -> ServiceError:
    return ServiceError("MissingParameter", f"The request must contain the parameter {parameter}")


def combination(message: str) -> ServiceError:
    return ServiceError("InvalidParameterCombination", message)


def dependency(noun: str, resource_id: str) -> ServiceError:
    return ServiceError(
        "DependencyViolation", f"The {noun} '{resource_id}' has dependencies and cannot be deleted."
    )


def dependent_object(resource_id: str) -> ServiceError:
    return ServiceError("DependencyViolation", f"resource {resource_id} has a dependent object")


def dry_run() -> ServiceError:
    return ServiceError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412)


def bad_cidr(cidr: str, parameter: str = "cidrBlock") -> ServiceError:
    return invalid_value(cidr, parameter, "This is not a valid CIDR block.")


def bad_filter(name: str) -> ServiceError:
    return invalid(f"The filter '{name}' is invalid")


def bad_token() -> ServiceError:
    return invalid("The token provided is invalid or has expired.")


def limit(code: str, message: str) -> ServiceError:
    return ServiceError(code, message)


def already_associated(message: str) -> ServiceError:
    return ServiceError("Resource.AlreadyAssociated", message)


def not_permitted(message: str) -> ServiceError:
    return ServiceError("OperationNotPermitted", message)


def incorrect_state(message: str) -> ServiceError:
    return ServiceError("IncorrectState", message)
