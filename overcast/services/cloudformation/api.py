"""What other services may ask of CloudFormation besides its AWS operations: the resource handlers, for the
Cloud Control API, which provisions single resources through the same handlers as stacks do.

    import overcast.services.cloudformation.api as cloudformation

    handler = cloudformation.handler(type_name)
    ctx = cloudformation.resource_context(platform, principal, account, region, type_name)
    created = await handler.create(ctx, properties)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.services.cloudformation.resources import handler_for, registry
from overcast.services.cloudformation.resources.base import (
    Created,
    HandlerError,
    ResourceContext,
    ResourceHandler,
)

if TYPE_CHECKING:
    from overcast.identity import Principal
    from overcast.platform import Platform

__all__ = [
    "Created",
    "HandlerError",
    "ResourceContext",
    "ResourceHandler",
    "handler",
    "resource_context",
    "types",
]


def prepare(platform: Platform) -> None:
    """Build CloudFormation now (its tables are created outside any request's transaction)."""
    platform.provider("cloudformation")


def handler(type_name: str) -> ResourceHandler | None:
    """The handler of a resource type CloudFormation supports (custom resources excluded), or None."""
    if type_name.startswith("Custom::"):
        return None
    return handler_for(type_name)


def types() -> list[str]:
    return sorted(registry())


def resource_context(
    platform: Platform, principal: Principal, account: str, region: str, type_name: str
) -> ResourceContext:
    """A context for handling one resource outside any stack, calling the services as `principal`."""

    home = region

    async def caller(service: str, operation: str, params: dict[str, Any], region: str | None = None):
        return await platform.call(
            service, operation, params, principal=principal, account_id=account, region=region or home
        )

    _, service, kind = (type_name.split("::") + ["", ""])[:3]
    provider = platform.provider("cloudformation")
    return ResourceContext(
        caller=caller,
        account=account,
        region=region,
        stack_name=service or "Resource",
        stack_id="",
        logical_id=kind or "Resource",
        now=platform.clock.now,
        sleep_until=platform.clock.sleep_until,
        extra={
            "responses": getattr(provider, "responses", None),
            "macros": getattr(provider, "store", None),
            "resource_type": type_name,
        },
    )
