"""What the HTTP and WebSocket API families share: ids and AWS's errors."""

from __future__ import annotations

import random
import string

from overcast.errors import ServiceError

_ID_ALPHABET = string.ascii_lowercase + string.digits
_ids = random.Random()


def new_id(length: int = 10) -> str:
    return "".join(_ids.choice(_ID_ALPHABET) for _ in range(length))


def not_found(message: str) -> ServiceError:
    return ServiceError("NotFoundException", message, 404)


def bad_request(message: str) -> ServiceError:
    return ServiceError("BadRequestException", message, 400)


def conflict(message: str) -> ServiceError:
    return ServiceError("ConflictException", message, 409)
