"""What other services may ask of IAM besides its AWS operations (the one road between services:
docs/adding-a-service.md). STS resolves the role it is asked to assume, the OIDC provider a web identity
token names and the MFA code a caller presents here, and issues access key ids in IAM's format.

Every function takes the platform; call them from a request's transaction (or open one): what they write
(a role's last use, an MFA code used up) commits or rolls back with the caller's request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from overcast.services.iam.errors import no_such_policy
from overcast.services.iam.keys import new_access_key_id, new_secret
from overcast.services.iam.managed import AWS_POLICY_PREFIX, aws_policy
from overcast.services.iam.mfa import verify_code

if TYPE_CHECKING:
    from overcast.platform import Platform
    from overcast.services.iam.provider import IamProvider

__all__ = [
    "InstanceProfile",
    "OidcProvider",
    "Role",
    "SamlProvider",
    "saml_provider",
    "managed_policy_document",
    "new_access_key_id",
    "new_secret",
    "instance_profile",
    "oidc_provider",
    "record_role_use",
    "root_sessions_enabled",
    "role",
    "verify_mfa",
]


@dataclass(frozen=True)
class Role:
    """A role as those who assume it see it."""

    account: str
    name: str
    id: str  # AROA...
    arn: str
    trust: str  # the trust policy document
    max_session: int  # MaxSessionDuration, seconds
    tags: dict[str, str]  # the role's tags (they become the session's principal tags)


@dataclass(frozen=True)
class InstanceProfile:
    """An instance profile as EC2 sees it when an instance is launched with it."""

    arn: str
    id: str  # AIPA...
    role_arn: str | None  # its role (at most one), None when it has none


@dataclass(frozen=True)
class OidcProvider:
    arn: str
    clients: tuple[str, ...]  # the audiences (client ids) it accepts


def _iam(platform: Platform) -> IamProvider:
    return platform.provider("iam")  # type: ignore[return-value]


def role(platform: Platform, role_arn: str) -> Role | None:
    """The role `role_arn` names (its full ARN, with its path), or None."""
    iam = _iam(platform)
    entity = iam.store.by_arn(role_arn)
    if entity is None or entity.kind != "role":
        return None
    return Role(
        entity.account,
        entity.name,
        entity.id,
        entity.arn,
        entity.data["trust"],
        entity.data.get("max_session", 3600),
        iam.tags.get(entity.arn),
    )


def record_role_use(platform: Platform, role_arn: str, region: str) -> None:
    """The role was assumed now, in `region` (GetRole's RoleLastUsed)."""
    iam = _iam(platform)
    entity = iam.store.by_arn(role_arn)
    if entity is not None and entity.kind == "role":
        entity.data["last_used"] = iam.clock.now()
        entity.data["last_region"] = region
        iam.store.update(entity)


def instance_profile(platform: Platform, account: str, name_or_arn: str) -> InstanceProfile | None:
    """The instance profile of `account` named by its name or ARN (EC2's IamInstanceProfile), or None."""
    iam = _iam(platform)
    if name_or_arn.startswith("arn:"):
        entity = iam.store.by_arn(name_or_arn)
    else:
        entity = iam.store.get(account, "instance-profile", name_or_arn)
    if entity is None or entity.kind != "instance-profile" or entity.account != account:
        return None
    roles = [iam.store.get(account, "role", key) for key in iam.store.profile_roles(account, entity.key)]
    role_arn = next((r.arn for r in roles if r is not None), None)
    return InstanceProfile(entity.arn, entity.id, role_arn)


def oidc_provider(platform: Platform, account: str, issuer: str) -> OidcProvider | None:
    """The OpenID Connect provider of `account` for the issuer host `issuer` (without https://), or None."""
    entity = _iam(platform).store.get(account, "oidc-provider", issuer)
    if entity is None:
        return None
    return OidcProvider(entity.arn, tuple(entity.data["clients"]))


@dataclass(frozen=True)
class SamlProvider:
    arn: str
    account: str
    name: str
    metadata: str  # the IdP's SAML metadata document
    valid_until: float


def saml_provider(platform: Platform, arn: str) -> SamlProvider | None:
    """The SAML provider an ARN names (AssumeRoleWithSAML's PrincipalArn), or None."""
    entity = _iam(platform).store.by_arn(arn)
    if entity is None or entity.kind != "saml-provider":
        return None
    return SamlProvider(
        entity.arn, entity.account, entity.name, entity.data["metadata"], entity.data["valid_until"]
    )


def managed_policy_document(platform: Platform, account: str, policy_arn: str) -> str:
    """The default version's document of a managed policy (AWS's, or a customer policy of `account`);
    raises IAM's NoSuchEntity when there is none."""
    if policy_arn.startswith(AWS_POLICY_PREFIX):
        found = aws_policy(policy_arn)
        if found is None:
            raise no_such_policy(policy_arn)
        return found["document"]
    iam = _iam(platform)
    entity = iam.store.by_arn(policy_arn)
    if entity is None or entity.kind != "policy" or entity.account != account:
        raise no_such_policy(policy_arn)
    return iam.managed_document(account, policy_arn)


def verify_mfa(platform: Platform, account: str, serial: str, code: str) -> bool:
    """Is `code` the current code of `account`'s enabled MFA device `serial`? A code is accepted once."""
    iam = _iam(platform)
    return verify_code(iam.store, iam.clock.now(), account, serial, code)


def root_sessions_enabled(platform: Platform, org_id: str) -> bool:
    """Whether the organization enabled centralized root sessions (EnableOrganizationsRootSessions), which
    STS's AssumeRoot needs."""
    return "RootSessions" in _iam(platform).store.org_features(org_id)
