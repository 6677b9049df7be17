"""What other services may ask of STS besides its AWS operations (docs/adding-a-service.md, "one road").

Minimal for now: the credentials an AWS service obtains for a role it acts with (Lambda's execution role).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from overcast.platform import Platform


def load(platform: Platform) -> bool:
    """Start STS now, outside any request's transaction (its tables are created once, on first use);
    whether Overcast has it."""
    return platform.provider("sts") is not None


def credentials_for_role(
    platform: Platform,
    role_arn: str,
    session_name: str,
    account: str,
    region: str,
    *,
    service: str,
    source_arn: str | None = None,
    duration: int = 3600,
) -> dict[str, Any] | None:
    """Temporary credentials of `role_arn` for the AWS service `service` ("lambda.amazonaws.com") acting for
    `account` in `region` from the resource `source_arn`: STS's Credentials shape. The role's trust policy
    must allow the service (aws:SourceArn and aws:SourceAccount are set); raises STS's AccessDenied (a
    ServiceError) otherwise. None when Overcast has no STS. Opens its own (nested) transaction."""
    sts = platform.provider("sts")
    if sts is None or not hasattr(sts, "credentials_for_service"):
        return None
    with platform.db.transaction():
        return sts.credentials_for_service(
            role_arn,
            service,
            session_name,
            duration=duration,
            source_arn=source_arn,
            source_account=account,
        )
