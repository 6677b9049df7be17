"""What other services call Secrets Manager for: a secret's value read as a caller through another service
(SSM's `/aws/reference/secretsmanager/<secret>` parameters, CloudFormation's `{{resolve:secretsmanager:...}}`
dynamic references), validated and authorized as a GetSecretValue of that caller
(`secretsmanager:GetSecretValue`, and `kms:Decrypt` through Secrets Manager on the secret's key).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.identity import Principal

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
    return platform.call_now(
        "secretsmanager",
        "GetSecretValue",
        params,
        principal=principal,
        account_id=account_id,
        region=region,
        condition_keys={"aws:CalledVia": ["ssm.amazonaws.com"]},
    )


def resolve_reference(
    platform: Platform, principal: Principal, account_id: str, region: str, reference: str
) -> str:
    """The value a CloudFormation dynamic reference names: the part after `{{resolve:secretsmanager:`, that is
    `secret-id[:SecretString[:json-key[:version-stage[:version-id]]]]` (a secret id may be a whole ARN; empty
    fields take their defaults: the whole SecretString of AWSCURRENT)."""
    parts = reference.split(":")
    if reference.startswith("arn:"):
        secret_id, rest = ":".join(parts[:7]), parts[7:]
    else:
        secret_id, rest = parts[0], parts[1:]
    rest += [""] * (4 - len(rest))
    field, json_key, stage, version = rest[:4]
    if field not in ("", "SecretString"):
        raise ServiceError(
            "ValidationError", f"Dynamic reference field {field} is not supported: use SecretString."
        )
    answer = get_secret_value(
        platform,
        principal,
        account_id,
        region,
        secret_id,
        version_id=version or None,
        version_stage=stage or None,
    )
    text = answer.get("SecretString", "")
    if not json_key:
        return text
    try:
        value = json.loads(text)[json_key]
    except (ValueError, KeyError, TypeError):
        raise ServiceError(
            "ValidationError", f"Could not find the key {json_key} in the SecretString of {secret_id}."
        ) from None
    return value if isinstance(value, str) else json.dumps(value)
