"""The organization itself: creating it (the caller becomes its management account), its root, and the
policy types enabled on it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.organizations.errors import already_in_organization, error
from overcast.services.organizations.ids import FULL_ACCESS_ID, SCP, random_id
from overcast.services.organizations.store import Organization

if TYPE_CHECKING:
    from overcast.services.organizations.provider import OrganizationsProvider


class OrganizationOperations(Operations):
    service: OrganizationsProvider

    def create_organization(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        if orgs.store.organization_of(ctx.account_id):
            raise already_in_organization()
        org = Organization(
            f"o-{random_id(10)}",
            ctx.account_id,
            f"r-{random_id(4)}",
            params.get("FeatureSet") or "ALL",
            f"management@{ctx.account_id}.overcast.local",
            "[]",
            self.clock.now(),
        )
        orgs.store.create_organization(org, "management")
        orgs.changed()
        return {"Organization": orgs.org_shape(orgs.org(ctx))}

    def describe_organization(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Organization": self.service.org_shape(self.service.org(ctx, management=False))}

    def delete_organization(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx)
        if self.service.store.member_count(org.id) > 1:
            raise error(
                "OrganizationNotEmptyException",
                "To delete an organization you must first remove all member "
                "accounts (except the management account).",
            )
        self.service.store.delete_organization(org.id)
        self.service.changed()
        return {}

    def list_roots(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.service.listing(ctx, params, "Roots", [self.service.root_shape(self.service.org(ctx))])

    def enable_policy_type(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        if params["RootId"] != org.root_id:
            raise error("RootNotFoundException", "You specified a root that doesn't exist.")
        types = org.enabled_types
        if params["PolicyType"] in types:
            raise error("PolicyTypeAlreadyEnabledException", "The specified policy type is already enabled.")
        orgs.store.set_policy_types(org.id, [*types, params["PolicyType"]])
        if params["PolicyType"] == SCP:  # FullAWSAccess goes on every root, OU and account
            for target in [org.root_id, *orgs.store.unit_ids(org.id), *orgs.store.account_ids(org.id)]:
                orgs.store.attach(org.id, FULL_ACCESS_ID, target)
        orgs.changed()
        return {"Root": orgs.root_shape(orgs.org(ctx))}

    def disable_policy_type(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        types = org.enabled_types
        if params["PolicyType"] not in types:
            raise error(
                "PolicyTypeNotEnabledException",
                "This operation can be performed only for enabled policy types.",
            )
        orgs.store.set_policy_types(org.id, [t for t in types if t != params["PolicyType"]])
        if params["PolicyType"] == SCP:
            orgs.store.detach_type(org.id, SCP, also=FULL_ACCESS_ID)
        orgs.changed()
        return {"Root": orgs.root_shape(orgs.org(ctx))}
