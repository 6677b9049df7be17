"""What other services may ask of STS besides its AWS operations (docs/adding-a-service.md: one road).

from overcast.services.sts import api as sts

with platform.db.transaction():
    credentials = sts.credentials_for_role(
        platform, role_arn, "lambda.amazonaws.com", "my-function",
        source_arn=function_arn, source_account=account,
    )
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from overcast.platform import Platform
    from overcast.services.sts.provider import StsProvider


def _sts(platform: Platform) -> StsProvider:
    return platform.provider("sts")  # type: ignore[return-value]


def prepare(platform: Platform) -> None:
    """Build STS now (its table is created outside any request's transaction): from a service's __init__
    when it will ask for credentials later, from inside a request."""
    _sts(platform)


def credentials_for_role(
    platform: Platform,
    role_arn: str,
    service: str,
    session_name: str,
    *,
    duration: int = 3600,
    source_arn: str | None = None,
    source_account: str | None = None,
) -> dict[str, Any]:
    """Temporary credentials of the role `role_arn` for the AWS service `service` (a service principal such as
    "lambda.amazonaws.com") acting with it: Lambda's execution role, a state machine's role, a delivery
    stream's role.

    As in AWS, the role's trust policy must allow `Principal.Service` = `service` the action sts:AssumeRole,
    with the request's condition keys sts:RoleSessionName, aws:SourceArn and aws:SourceAccount (when given);
    the caller's identity policies play no part. The session lasts `duration` seconds, at most the role's
    MaxSessionDuration. Returns STS's Credentials shape (AccessKeyId ASIA..., SecretAccessKey, SessionToken,
    Expiration); the session's principal is `arn:aws:sts::<account>:assumed-role/<role>/<session_name>`.
    Raises ServiceError AccessDenied (403) when the role does not exist or does not trust the service.

    It writes the session: call it inside a transaction (a request's, or `with platform.db.transaction():`),
    and call `prepare(platform)` from your provider's __init__ so STS is built outside one."""
    return _sts(platform).credentials_for_service(
        role_arn,
        service,
        session_name,
        duration=duration,
        source_arn=source_arn,
        source_account=source_account,
    )


def credentials_for_web_identity(
    platform: Platform,
    role_arn: str,
    provider: str,
    subject: str,
    session_name: str,
    *,
    context_keys: dict[str, Any],
    duration: int = 3600,
    region: str | None = None,
) -> dict[str, Any]:
    """Temporary credentials of `role_arn` for a web identity an AWS service vouches for, as if that identity
    had called AssumeRoleWithWebIdentity: Cognito identity pools' enhanced flow, where `provider` is
    "cognito-identity.amazonaws.com", `subject` the identity id and `context_keys` its
    `cognito-identity.amazonaws.com:aud` / `:sub` / `:amr` values.

    The role's trust policy must allow `Principal.Federated` = `provider` sts:AssumeRoleWithWebIdentity under
    those condition keys. The keys travel with the session, so the role's policies can name them as policy
    variables (`${cognito-identity.amazonaws.com:sub}`). Returns {"Credentials": STS's Credentials shape,
    "AssumedRoleUser": {...}}; raises ServiceError AccessDenied (403) when the role does not exist or does not
    trust the identity. Call it inside a transaction, and `prepare(platform)` from your provider's __init__."""
    return _sts(platform).credentials_for_web_identity(
        role_arn, provider, subject, session_name, context_keys=context_keys, duration=duration, region=region
    )
