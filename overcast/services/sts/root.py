"""AssumeRoot: short-term credentials of a member account's root user, for the privileged task one of AWS's
root-task policies describes, asked for from the organization's management account once IAM's centralized
root sessions are enabled.

The session is the member account's root (GetCallerIdentity: `arn:aws:iam::<member>:root`) held to the task
policy: AWS's task policies only deny (everything but the task's actions, and those to non-root callers), so
under `--iam enforce` they are evaluated with the root's identity, which allows the rest (SCPs still apply;
`aws:AssumedRoot` is `true` in its requests)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import overcast.services.iam.api as iam
import overcast.services.organizations.api as organizations
from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.sts.provider import StsProvider

ROOT_TASK_PREFIX = "arn:aws:iam::aws:policy/root-task/"
TASK_POLICIES = (
    "IAMAuditRootUserCredentials",
    "IAMCreateRootUserPassword",
    "IAMDeleteRootUserCredentials",
    "S3UnlockBucketPolicy",
    "SQSUnlockQueuePolicy",
)
DEFAULT_DURATION = 900  # also the longest: a privileged session lasts at most 15 minutes
_TARGET = re.compile(r"^(?:arn:aws:iam::)?(\d{12})(?::root)?$")


def target_account(target: str) -> str | None:
    """The account a TargetPrincipal names: an account id or its root's ARN."""
    found = _TARGET.match(target)
    return found.group(1) if found else None


def target_arn(target: str) -> str:
    """The resource AssumeRoot acts on, for authorization: the member account's root."""
    account = target_account(target)
    return f"arn:aws:iam::{account}:root" if account else target


class AssumeRootOperations(Operations):
    service: StsProvider

    def assume_root(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        caller = ctx.principal
        member = target_account(params["TargetPrincipal"])
        task = params["TaskPolicyArn"].get("arn", "")
        denied = ServiceError(
            "AccessDenied",
            f"User: {caller.arn} is not authorized to perform: sts:AssumeRoot on resource: "
            f"{target_arn(params['TargetPrincipal'])}",
            403,
        )
        if caller.kind == "root":  # AWS: not with root user credentials
            raise denied
        org = organizations.organization_of(self.platform, caller.account_id)
        if (
            org is None
            or not _administers(self.platform, org, caller.account_id)
            or member is None
            or member == caller.account_id
            or not organizations.is_member(self.platform, org.id, member)
            or not iam.root_sessions_enabled(self.platform, org.id)
            or task.removeprefix(ROOT_TASK_PREFIX) not in TASK_POLICIES
        ):
            raise denied
        document = iam.managed_policy_document(self.platform, member, task)
        attributes: dict[str, Any] = {
            "task_policies": [document],  # deny-only: the root may do what the task leaves it
            "assumed_root": True,
            "issued_at": self.clock.now(),
            "mfa": False,
        }
        source_identity = caller.attributes.get("source_identity")
        if source_identity:
            attributes["source_identity"] = source_identity
        session = {
            "account": member,
            "arn": f"arn:aws:iam::{member}:root",
            "user_id": member,
            "kind": "root",
            "attributes": attributes,
        }
        result: dict[str, Any] = {
            "Credentials": self.service.issue(session, params.get("DurationSeconds") or DEFAULT_DURATION)
        }
        if source_identity:
            result["SourceIdentity"] = source_identity
        return result


def _administers(platform: Any, org: organizations.OrganizationInfo, account: str) -> bool:
    """The management account, or the organization's delegated administrator for IAM, may ask for root."""
    return account == org.management or organizations.is_delegated_administrator(
        platform, org.id, account, "iam.amazonaws.com"
    )
