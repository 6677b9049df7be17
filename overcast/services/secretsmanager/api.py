"""What other services call Secrets Manager for: a secret's value read as a caller through another service
(SSM's `/aws/reference/secretsmanager/<secret>` parameters), validated and authorized as a GetSecretValue of
that caller (`secretsmanager:GetSecretValue`, and `kms:Decrypt` through Secrets Manager on the secret's key).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.identity import Principal
from overcast.services.kit.calls import call_sync

if TYPE_CHECKING:
    from overcast.platform import Platform


def get_secret_value(
    platform: Platform,
    principal: Principal,
    account_id: str,
    region: str,
    secret_id: str,
    *,
    version_id: str | None = None,
    version_stage: str | None = None,
) -> dict[str, Any]:
    """GetSecretValue's answer (raises its ServiceErrors), within the calling request's transaction."""
    params: dict[str, Any] = {"SecretId": secret_id}
    if version_id:
        params["VersionId"] = version_id
    if version_stage:
        params["VersionStage"] = version_stage
    return call_sync(
        platform,
        "secretsmanager",
        "GetSecretValue",
        params,
        principal=principal,
        account_id=account_id,
        region=region,
        condition_keys={"aws:CalledVia": ["ssm.amazonaws.com"]},
    )
