"""What a service package implements: a provider whose methods are its operations.

An operation is a method named like boto3's method for it (`send_message` for SendMessage) that takes the
request context and the parsed request (a dict shaped like the boto3 call's arguments) and returns a dict
shaped like the boto3 response. A plain method runs inside one database transaction, so the request is
all-or-nothing; an `async def` method (streaming bodies, long polls) opens its own short transactions
(`self.db.transaction()`) and never awaits inside one.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from overcast.http import HttpRequest
from overcast.identity import Principal

if TYPE_CHECKING:
    from overcast.platform import Platform

Handler = Callable[["RequestContext", dict[str, Any]], dict[str, Any] | Awaitable[dict[str, Any]]]


@dataclass
class RequestContext:
    service: str  # botocore service name
    operation: str  # operation name as in the model (SendMessage)
    account_id: str
    region: str
    principal: Principal
    request_id: str
    request: HttpRequest | None = None  # None for internal calls between services
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def partition(self) -> str:
        return "aws"

    def arn(
        self, service: str, resource: str, *, region: str | None = None, account: str | None = None
    ) -> str:
        region = self.region if region is None else region
        account = self.account_id if account is None else account
        return f"arn:aws:{service}:{region}:{account}:{resource}"


class ServiceProvider:
    """Base class of every service's provider. Subclasses set `service_name` (botocore's name)."""

    service_name: ClassVar[str]

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.db = platform.db
        self.clock = platform.clock
        self._handlers: dict[str, tuple[Handler, bool] | None] = {}

    def handler(self, operation: str) -> tuple[Handler, bool] | None:
        """The method implementing `operation` and whether it is a coroutine, or None."""
        if operation not in self._handlers:
            from botocore import xform_name

            method = getattr(self, xform_name(operation), None)
            self._handlers[operation] = (method, inspect.iscoroutinefunction(method)) if method else None
        return self._handlers[operation]

    async def start(self) -> None:
        """Start background workers (asyncio tasks). Called once, when the provider is first loaded."""

    async def stop(self) -> None:
        """Stop background workers."""

    def reset(self) -> None:
        """Forget in-memory state after the database was emptied (`overcast reset`)."""
