"""What other services may ask of Route 53 besides its operations."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from overcast.platform import Platform
    from overcast.services.route53.provider import Route53Provider


def has_record(platform: Platform, account: str, name: str, record_type: str, value: str) -> bool:
    """Whether a hosted zone Overcast hosts answers `name` with a `record_type` record of `value` (ACM's DNS
    validation: the CNAME it asked for exists). Any account's public zone counts, as on the internet."""
    # running, not provider: a service that never ran holds nothing, and starting it here, inside the caller's
    # transaction, would lose its new tables if that transaction rolled back
    provider: Route53Provider | None = platform.running("route53")  # type: ignore[assignment]
    if provider is None:
        return False
    return provider.has_record(name, record_type, value)


def answer_dns(
    platform: Platform, query: bytes, sender: str, vpc_id: str | None = None, vpc_region: str | None = None
) -> bytes | None:
    """The DNS server's response to a query message (wire format), as asked from inside a VPC when `vpc_id` is
    given (its private hosted zones answer first): for EC2's VPC resolver (the instance sandboxes' DNS). None
    for what is not a query."""
    provider: Route53Provider | None = platform.provider("route53")  # type: ignore[assignment]
    if provider is None:
        return None
    vpc = (vpc_id, vpc_region or platform.config.default_region) if vpc_id else None
    return provider.dns.answer(query, sender, 65535, vpc)
