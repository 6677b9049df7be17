"""Organizations' provider: the operation families it composes, what the policy engine asks of it (the SCPs
bearing on an account, an account's organization id), and what the families share (the caller's
organization, lookups, shapes, the FullAWSAccess policy, tags)."""

from __future__ import annotations

from typing import Any

from overcast.context import RequestContext
from overcast.policy import document as policy_doc
from overcast.services.base import ServiceProvider
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.organizations.accounts import AccountOperations
from overcast.services.organizations.delegated import DelegatedAdministratorOperations
from overcast.services.organizations.errors import (
    access_denied,
    account_not_found,
    error,
    invalid_next_token,
    not_in_use,
)
from overcast.services.organizations.handshakes import HandshakeOperations
from overcast.services.organizations.ids import FULL_ACCESS, FULL_ACCESS_ID, SCP
from overcast.services.organizations.organization import OrganizationOperations
from overcast.services.organizations.policies import PolicyOperations
from overcast.services.organizations.resource_policy import ResourcePolicyOperations
from overcast.services.organizations.service_access import ServiceAccessOperations
from overcast.services.organizations.store import Account, Organization, OrganizationsStore, Policy, Unit
from overcast.services.organizations.tagging import TagOperations
from overcast.services.organizations.units import OrganizationalUnitOperations


class OrganizationsProvider(ServiceProvider):
    service_name = "organizations"
    families = (
        OrganizationOperations,
        OrganizationalUnitOperations,
        AccountOperations,
        HandshakeOperations,
        PolicyOperations,
        ServiceAccessOperations,
        DelegatedAdministratorOperations,
        ResourcePolicyOperations,
        TagOperations,
    )

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.generation = 0  # bumped by every change the policy engine's answers depend on
        self._scp_cache: dict[str, tuple[int, Any]] = {}
        self.store = OrganizationsStore(self.db)

    def reset(self) -> None:
        self.changed()

    def changed(self) -> None:
        self.generation += 1
        self._scp_cache.clear()

    # -- what the policy engine asks (by duck typing: policy/ imports no service) ----------------------------

    def scp_levels(self, account: str) -> list[list[policy_doc.Policy]] | None:
        """SCPs bearing on `account`, one list per level (root, OUs top-down, the account); None when none apply
        (not in an organization, SCPs not enabled, or the management account, which SCPs never restrict)."""
        cached = self._scp_cache.get(account)
        if cached is not None and cached[0] == self.generation:
            return cached[1]
        levels = self._compute_levels(account)
        self._scp_cache[account] = (self.generation, levels)
        return levels

    def _compute_levels(self, account: str) -> list[list[policy_doc.Policy]] | None:
        org = self.store.organization_of(account)
        if org is None or org.management == account or SCP not in org.enabled_types:
            return None
        chain = [account]
        parent = self.store.parent_of(org.id, account)
        while parent is not None:
            chain.append(parent)
            parent = None if parent == org.root_id else self.store.parent_of(org.id, parent)
        levels = []
        for target in reversed(chain):
            texts = [self.policy(org, i).content for i in self.store.attached_to(org.id, target)]
            levels.append([p for p in (policy_doc.parse(t, policy_doc.SCP) for t in texts) if p])
        return levels

    def org_id_of(self, account: str) -> str | None:
        """The id of the organization `account` belongs to (aws:PrincipalOrgID), or None."""
        key = f"org:{account}"
        cached = self._scp_cache.get(key)
        if cached is not None and cached[0] == self.generation:
            return cached[1]
        org = self.store.organization_of(account)
        found = org.id if org else None
        self._scp_cache[key] = (self.generation, found)
        return found

    # -- lookups -------------------------------------------------------------------------------------------

    def org(self, ctx: RequestContext, *, management: bool = True) -> Organization:
        """The caller's organization; by default only its management account may act on it."""
        org = self.store.organization_of(ctx.account_id)
        if org is None:
            raise not_in_use()
        if management and org.management != ctx.account_id:
            raise access_denied()
        return org

    def account(self, org: Organization, account: str) -> Account:
        found = self.store.account(org.id, account)
        if found is None:
            raise account_not_found()
        return found

    def unit(self, org: Organization, unit_id: str) -> Unit:
        found = self.store.unit(org.id, unit_id)
        if found is None:
            raise error(
                "OrganizationalUnitNotFoundException",
                "You specified an organizational unit that doesn't exist.",
            )
        return found

    def is_parent(self, org: Organization, parent_id: str) -> bool:
        """Whether `parent_id` is the root or an OU of the organization."""
        return parent_id == org.root_id or (
            parent_id.startswith("ou-") and self.store.unit(org.id, parent_id) is not None
        )

    def policy(self, org: Organization, policy_id: str) -> Policy:
        """A policy of the organization, or AWS's FullAWSAccess."""
        if policy_id == FULL_ACCESS_ID:
            return Policy(
                FULL_ACCESS_ID, org.id, "FullAWSAccess", "Allows access to every operation", SCP, FULL_ACCESS
            )
        found = self.store.policy(org.id, policy_id)
        if found is None:
            raise error(
                "PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified."
            )
        return found

    def grant_full_access(self, org: Organization, target: str) -> None:
        """While SCPs are enabled, every root, OU and account has FullAWSAccess from the start."""
        if SCP in org.enabled_types:
            self.store.attach(org.id, FULL_ACCESS_ID, target)

    def put_tags(self, org: Organization, target: str, tags: list[dict[str, str]] | None) -> None:
        if tags:
            self.store.put_tags(org.id, target, [(t["Key"], t["Value"]) for t in tags])

    def listing(
        self, ctx: RequestContext, params: dict[str, Any], key: str, items: list[Any]
    ) -> dict[str, Any]:
        """A List* response: {key: items}, one page of them (with a NextToken when more follow) when the
        request gives MaxResults; the token holds the offset of the next page."""
        start = decode_token(params.get("NextToken"), invalid_next_token, ctx.operation) or 0
        if not isinstance(start, int) or start < 0:
            raise invalid_next_token()
        rest = list(enumerate(items[start:], start + 1))
        limit = params.get("MaxResults") or len(rest)
        found, token = page_of(rest, limit, lambda row: row[0], ctx.operation)
        response: dict[str, Any] = {key: [item for _, item in found]}
        if token:
            response["NextToken"] = token
        return response

    # -- shapes --------------------------------------------------------------------------------------------

    def org_shape(self, org: Organization) -> dict[str, Any]:
        management = org.management
        return {
            "Id": org.id,
            "Arn": f"arn:aws:organizations::{management}:organization/{org.id}",
            "FeatureSet": org.feature_set,
            "MasterAccountArn": f"arn:aws:organizations::{management}:account/{org.id}/{management}",
            "MasterAccountId": management,
            "MasterAccountEmail": org.email,
            "AvailablePolicyTypes": [{"Type": SCP, "Status": "ENABLED"}] if SCP in org.enabled_types else [],
        }

    def root_shape(self, org: Organization) -> dict[str, Any]:
        return {
            "Id": org.root_id,
            "Arn": f"arn:aws:organizations::{org.management}:root/{org.id}/{org.root_id}",
            "Name": "Root",
            "PolicyTypes": [{"Type": t, "Status": "ENABLED"} for t in org.enabled_types],
        }

    def account_shape(self, org: Organization, account: Account) -> dict[str, Any]:
        return {
            "Id": account.account,
            "Arn": f"arn:aws:organizations::{org.management}:account/{org.id}/{account.account}",
            "Email": account.email,
            "Name": account.name,
            "Status": account.status,
            "State": "CLOSED" if account.status == "SUSPENDED" else "ACTIVE",
            "JoinedMethod": account.joined_method,
            "JoinedTimestamp": account.joined,
        }

    def unit_shape(self, org: Organization, unit: Unit) -> dict[str, Any]:
        return {
            "Id": unit.id,
            "Arn": f"arn:aws:organizations::{org.management}:ou/{org.id}/{unit.id}",
            "Name": unit.name,
        }
