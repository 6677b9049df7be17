"""A synchronous call to another service's operation, for operations that run inside their own request's
transaction (Platform.call is async): validated and authorized exactly as Platform.call does, the callee's
handler run in a savepoint of the caller's transaction. Only a service's own api.py uses it, for its own
operations (KMS's Decrypt on behalf of Secrets Manager, Secrets Manager's GetSecretValue for SSM's
/aws/reference/secretsmanager parameters).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import Principal

if TYPE_CHECKING:
    from overcast.platform import Platform


@cache
def _operation_model(service: str, operation: str) -> Any:
    from overcast.protocol.models import get_service_model

    return get_service_model(service).operation_model(operation)


def call_sync(
    platform: Platform,
    service: str,
    operation: str,
    params: dict[str, Any],
    *,
    principal: Principal,
    account_id: str,
    region: str,
    condition_keys: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from overcast.platform import new_request_id
    from overcast.protocol.validate import validate

    validate(_operation_model(service, operation), params)
    provider = platform.provider(service)
    entry = provider.handler(operation) if provider else None
    if entry is None or entry[1]:
        raise ServiceError(
            "InternalFailure", f"{service} cannot serve {operation} synchronously", 500, sender_fault=False
        )
    ctx = RequestContext(service, operation, account_id, region, principal, new_request_id())
    if condition_keys:
        ctx.extra["condition_keys"] = condition_keys
    if platform.authorizer is not None:
        platform.authorizer(ctx, params)
    with platform.db.transaction():
        return entry[0](ctx, params)
