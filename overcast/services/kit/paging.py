"""Pagination tokens: opaque to clients, stable across calls, validated when they come back.

A token holds the position after which the next page starts (any JSON value: a name, a key tuple, an offset)
and a scope naming what it pages (an operation and its filters), so a token of one listing is refused by
another. A token that does not decode, or names another scope, raises the service's own error.

    rows = store.queues_after(account, region, decode_token(params.get("NextToken"), invalid), limit + 1)
    page, token = page_of(rows, limit, lambda queue: queue.name)
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from overcast.errors import ServiceError

T = TypeVar("T")


def encode_token(position: Any, scope: str = "") -> str:
    raw = json.dumps([scope, position], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str | None, invalid: Callable[[], ServiceError], scope: str = "") -> Any:
    """The position a token names (None for no token); `invalid()` is raised for one that is not ours."""
    if token is None:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        found_scope, position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise invalid() from None
    if found_scope != scope:
        raise invalid()
    return position


def page_of(
    rows: Sequence[T], limit: int, position: Callable[[T], Any], scope: str = ""
) -> tuple[list[T], str | None]:
    """The first `limit` of `rows` (fetch limit + 1 to know whether more follow) and the token of the page
    after them, or None when this page is the last."""
    page = list(rows[:limit])
    token = encode_token(position(page[-1]), scope) if len(rows) > limit and page else None
    return page, token
