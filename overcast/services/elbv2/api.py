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
