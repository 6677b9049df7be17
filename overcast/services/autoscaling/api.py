"""What other services may ask of Auto Scaling besides its AWS operations (docs/adding-a-service.md).

    import overcast.services.autoscaling.api as autoscaling
    autoscaling.alarm_fired(platform, account, region, policy_arn, "my-alarm", "ALARM", reason_data)

`alarm_fired` is CloudWatch's alarm action that names a scaling policy ARN (ExecutePolicy's semantics, with
the alarm's breach); it runs in its own transaction and raises ServiceError when the policy is gone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from overcast.platform import Platform


def alarm_fired(
    platform: Platform,
    account: str,
    region: str,
    policy_arn: str,
    alarm: str,
    state: str,
    reason_data: dict[str, Any] | None,
) -> None:
    from overcast.services.autoscaling.policies import PolicyOperations
    from overcast.services.autoscaling.provider import AutoScalingProvider

    provider = platform.provider("autoscaling")
    assert isinstance(provider, AutoScalingProvider)
    with platform.db.transaction():
        provider.family(PolicyOperations).alarm_fired(account, region, policy_arn, alarm, state, reason_data)
