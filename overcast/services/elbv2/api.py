"""What other services may ask of ELBv2 besides its operations: whether a DNS name is one of its load
balancers, and whether it has a healthy target (Route 53 alias records with EvaluateTargetHealth)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from overcast.platform import Platform
    from overcast.services.elbv2.provider import ElbV2Provider


def _elb(platform: Platform) -> ElbV2Provider | None:
    # running, not provider: a service that never ran holds nothing, and starting it here, inside the caller's
    # transaction, would lose its new tables if that transaction rolled back
    return platform.running("elbv2")  # type: ignore[return-value]


def load_balancer_exists(platform: Platform, host: str) -> bool:
    """Whether `host` (a DNS name without its port, any case) names a load balancer."""
    elb = _elb(platform)
    return (
        elb is not None
        and elb.store.load_balancer_by_host(host.lower().removeprefix("dualstack.")) is not None
    )


def load_balancer_healthy(platform: Platform, host: str) -> bool | None:
    """Whether the load balancer named `host` has a healthy (or health-check-free) target; None when `host`
    is not a load balancer."""
    elb = _elb(platform)
    if elb is None:
        return None
    lb = elb.store.load_balancer_by_host(host.lower().removeprefix("dualstack."))
    if lb is None:
        return None
    for tg_arn in elb.store.target_groups_of_load_balancer(lb.arn):
        if any(target.state in ("healthy", "unavailable") for target in elb.store.targets(tg_arn)):
            return True
    return False


# -- Auto Scaling's groups registering their instances (TargetGroupARNs, traffic sources) ------------------------


def target_group_exists(platform: Platform, account: str, region: str, arn: str) -> bool:
    """Whether `arn` names a target group of this account and region."""
    elb = platform.running("elbv2")  # a service that never ran holds no target group
    tg = elb.store.target_group(arn) if elb is not None else None  # type: ignore[attr-defined]
    return tg is not None and tg.account == account and tg.region == region


async def register_instances(
    platform: Platform, service_host: str, account: str, region: str, tg_arn: str, ids: list[str]
) -> None:
    """RegisterTargets as `service_host` (Auto Scaling) makes it with its service-linked role: validated and
    answered as any call, not put to the policy engine (the role's permissions are AWS's)."""
    await _act(platform, service_host, account, region, "RegisterTargets", _targets(tg_arn, ids))


async def deregister_instances(
    platform: Platform, service_host: str, account: str, region: str, tg_arn: str, ids: list[str]
) -> None:
    """DeregisterTargets of those of `ids` still registered (draining as the target group says)."""
    elb = platform.running("elbv2")
    if elb is None or elb.store.target_group(tg_arn) is None:  # type: ignore[attr-defined]
        return
    registered = {t.target_id for t in elb.store.targets(tg_arn) if t.drain_until is None}  # type: ignore[attr-defined]
    ids = [i for i in ids if i in registered]
    if ids:
        await _act(platform, service_host, account, region, "DeregisterTargets", _targets(tg_arn, ids))


def instance_health(platform: Platform, tg_arn: str) -> dict[str, str]:
    """{instance id: health state} of a target group's targets ("unhealthy" ones fail its health checks)."""
    elb = platform.running("elbv2")
    if elb is None:
        return {}
    return {t.target_id: t.state for t in elb.store.targets(tg_arn)}  # type: ignore[attr-defined]


def _targets(tg_arn: str, ids: list[str]) -> dict:
    return {"TargetGroupArn": tg_arn, "Targets": [{"Id": i} for i in ids]}


async def _act(
    platform: Platform, service_host: str, account: str, region: str, operation: str, params: dict
) -> None:
    from overcast.context import RequestContext
    from overcast.identity import service_principal
    from overcast.platform import new_request_id
    from overcast.protocol.models import get_service_model
    from overcast.protocol.validate import validate

    validate(get_service_model("elbv2").operation_model(operation), params)
    elb = platform.provider("elbv2")
    assert elb is not None
    entry = elb.handler(operation)
    assert entry is not None, operation
    handler, is_async = entry
    ctx = RequestContext("elbv2", operation, account, region, service_principal(service_host, account),
                         new_request_id())  # fmt: skip
    if is_async:
        await handler(ctx, params)
        return
    with platform.db.transaction():
        handler(ctx, params)
