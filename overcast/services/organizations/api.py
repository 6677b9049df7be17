"""What other services may ask of Organizations besides its AWS operations (docs/adding-a-service.md: one road).

from overcast.services.organizations import api as organizations

found = organizations.organization_of(platform, account)   # None outside an organization
if found and organizations.trusted_access(platform, found.id, "iam.amazonaws.com"): ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from overcast.platform import Platform
    from overcast.services.organizations.provider import OrganizationsProvider


class OrganizationInfo(NamedTuple):
    id: str
    management: str  # the management account's id
    feature_set: str  # ALL | CONSOLIDATED_BILLING


def _organizations(platform: Platform) -> OrganizationsProvider | None:
    return platform.provider("organizations")  # type: ignore[return-value]


def organization_of(platform: Platform, account: str) -> OrganizationInfo | None:
    """The organization `account` belongs to (as its management account or a member), or None."""
    provider = _organizations(platform)
    org = provider.store.organization_of(account) if provider is not None else None
    return OrganizationInfo(org.id, org.management, org.feature_set) if org else None


def is_member(platform: Platform, org_id: str, account: str) -> bool:
    """Whether `account` belongs to the organization `org_id`."""
    provider = _organizations(platform)
    return provider is not None and provider.store.account(org_id, account) is not None


def trusted_access(platform: Platform, org_id: str, service_principal: str) -> bool:
    """Whether the organization enabled trusted access (EnableAWSServiceAccess) for `service_principal`."""
    provider = _organizations(platform)
    if provider is None:
        return False
    return any(principal == service_principal for principal, _ in provider.store.service_access(org_id))


def is_delegated_administrator(platform: Platform, org_id: str, account: str, service_principal: str) -> bool:
    """Whether `account` is registered as the organization's delegated administrator for `service_principal`."""
    provider = _organizations(platform)
    return provider is not None and bool(provider.store.delegations(org_id, account, service_principal))
