"""What other services may call besides Platform.call: putting their own events on an account's default bus,
as AWS services do (S3 with EventBridge notifications on, EC2 state changes, CloudTrail's API calls, CloudWatch
alarm state changes, ...).

    from overcast.services.events import api as events
    events.put_event(platform, account, region, source="aws.s3", detail_type="Object Created",
                     detail={...}, resources=[bucket_arn])

The event is routed inside the caller's transaction when there is one (it is queued with the caller's write,
or not at all), and delivered to the matching rules' targets by EventBridge's own workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from overcast.platform import Platform


def put_event(
    platform: Platform,
    account: str,
    region: str,
    *,
    source: str,
    detail_type: str,
    detail: dict[str, Any],
    resources: list[str] | None = None,
    moment: float | None = None,
    bus: str = "default",
) -> str | None:
    """Put an AWS service's event on `bus` (the default bus by default); its event id, or None when the bus
    does not exist or EventBridge was never used (it then has no rules and no archives, so the event would
    reach nothing; services need not start it for each of their events). `moment` (virtual epoch seconds) is
    the event's `time`, now by default."""
    from overcast.services.events.provider import EventsProvider

    provider = platform.running("events")
    if provider is None:  # EventBridge never used in this data directory: no rule could match
        return None
    assert isinstance(provider, EventsProvider)
    with platform.db.transaction():
        target_bus = provider.bus(account, region, bus)
        if target_bus is None:
            return None
        event = provider.new_event(account, region, source, detail_type, detail, resources, moment)
        provider.accept(target_bus, event)
    return event["id"]
