"""An AWS service acting as a role the user gave it: a delivery stream's role, a state machine's role, an
EventBridge target's role, an API Gateway integration's role, a stack's service role.

    principal = await roles.session(platform, role_arn, "firehose.amazonaws.com", account, region)
    await platform.call("s3", "PutObject", params, principal=principal, account_id=..., region=...)

The service assumes the role through STS (`AssumeRole` as the service principal), so the role's trust policy
decides, and its calls are then authorized as the role session, as in AWS. Sessions are reused for a while
(they last an hour; they are renewed well before). Outside `--iam enforce` a role that cannot be assumed (never
created, or trusting someone else) leaves the service acting as the account's root, so scripts that never
create roles keep working; under enforce the failure is raised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from overcast.errors import ServiceError
from overcast.identity import Principal, root_principal, service_principal

if TYPE_CHECKING:
    from overcast.platform import Platform

RENEW_SECONDS = 15 * 60  # a cached session is renewed after this (sessions last an hour)
_sessions: dict[tuple[int, int, str, str, str, int], Principal] = {}


async def session(
    platform: Platform,
    role_arn: str,
    service_host: str,
    account: str,
    region: str,
    session_name: str | None = None,
    *,
    lenient: bool = True,
) -> Principal:
    """The principal of a session of `role_arn` assumed by `service_host` for `account`. `lenient`: outside
    `--iam enforce`, the account's root when the role cannot be assumed; else the STS error is raised."""
    epoch = int(platform.clock.now() // RENEW_SECONDS)
    key = (id(platform), platform.generation, role_arn, service_host, account, epoch)
    found = _sessions.get(key)
    if found is not None:
        return found
    name = session_name or service_host.split(".", 1)[0]
    try:
        answer = await platform.call(
            "sts",
            "AssumeRole",
            {"RoleArn": role_arn, "RoleSessionName": name[:64]},
            principal=service_principal(service_host, account),
            account_id=account,
            region=region,
        )
        credential = platform.credentials.lookup(answer["Credentials"]["AccessKeyId"])
        if credential is None:
            raise ServiceError("AccessDenied", f"The role session of {role_arn} could not be found", 403)
        found = credential.principal
    except ServiceError:
        if not lenient or platform.config.iam == "enforce":
            raise
        found = root_principal(account)
    if len(_sessions) > 1000:
        _sessions.clear()
    _sessions[key] = found
    return found
