"""What Route 53's families share: identifiers, errors, and its paging of MaxItems strings."""

from __future__ import annotations

import os
import string

from overcast.errors import ServiceError

_ALPHABET = string.ascii_uppercase + string.digits
PROPAGATION_SECONDS = 5.0  # a change is PENDING this long (virtual time), then INSYNC
TAG_REGION = "us-east-1"  # Route 53 is global; its tags are found through the Tagging API of us-east-1


def new_id(prefix: str, length: int = 20) -> str:
    return prefix + "".join(_ALPHABET[b % len(_ALPHABET)] for b in os.urandom(length))


def bare(resource_id: str) -> str:
    """An id without the /hostedzone/, /change/ or /healthcheck/ path some clients send."""
    return resource_id.rsplit("/", 1)[-1]


def no_zone(zone_id: str) -> ServiceError:
    return ServiceError("NoSuchHostedZone", f"No hosted zone found with ID: {zone_id}", 404)


def no_health_check(check_id: str) -> ServiceError:
    return ServiceError("NoSuchHealthCheck", f"A health check with id {check_id} does not exist.", 404)


def invalid_input(message: str) -> ServiceError:
    return ServiceError("InvalidInput", message, 400)


def max_items(text: str | None, default: int, ceiling: int | None = None) -> int:
    if text is None:
        return default
    if not text.isdigit() or int(text) < 1:
        raise invalid_input(
            f"1 validation error detected: Value '{text}' at 'maxItems' failed to satisfy constraint: Member must be a positive integer"
        )
    return min(int(text), ceiling) if ceiling else int(text)
