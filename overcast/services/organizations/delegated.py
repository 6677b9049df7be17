"""Delegated administrators: member accounts the management account lets administer a service for the whole
organization (RegisterDelegatedAdministrator and the rest). Other services ask through organizations/api.py
(`is_delegated_administrator`): IAM's centralized root access and STS AssumeRoot accept IAM's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.organizations.errors import error

if TYPE_CHECKING:
    from overcast.services.organizations.provider import OrganizationsProvider
    from overcast.services.organizations.store import Organization


def _not_registered() -> ServiceError:
    return error(
        "AccountNotRegisteredException",
        "The provided account is not a registered delegated administrator for your organization.",
    )


class DelegatedAdministratorOperations(Operations):
    service: OrganizationsProvider

    def register_delegated_administrator(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        account = orgs.account(org, params["AccountId"]).account
        principal = params["ServicePrincipal"]
        if account == org.management:
            raise ServiceError(
                "ConstraintViolationException",
                "You cannot register master account/yourself as delegated administrator for your organization.",
                400,
                Reason="CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR",
            )
        if orgs.store.delegations(org.id, account, principal):
            raise error(
                "AccountAlreadyRegisteredException",
                "The provided account is already a delegated administrator for your organization.",
            )
        orgs.store.delegate(org.id, account, principal, self.clock.now())
        orgs.changed()
        return {}

    def deregister_delegated_administrator(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        orgs.account(org, params["AccountId"])
        if not orgs.store.undelegate(org.id, params["AccountId"], params["ServicePrincipal"]):
            raise _not_registered()
        orgs.changed()
        return {}

    def list_delegated_administrators(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Each delegated administrator once (for `ServicePrincipal`, or any service), as an account with the
        date it was first registered."""
        orgs = self.service
        org = self._administering(ctx)
        first: dict[str, float] = {}
        for account, _, enabled in orgs.store.delegations(org.id, principal=params.get("ServicePrincipal")):
            first.setdefault(account, enabled)
        shapes = [
            {**orgs.account_shape(org, orgs.account(org, account)), "DelegationEnabledDate": enabled}
            for account, enabled in first.items()
        ]
        return orgs.listing(ctx, params, "DelegatedAdministrators", shapes)

    def list_delegated_services_for_account(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        orgs = self.service
        org = self._administering(ctx)
        orgs.account(org, params["AccountId"])
        rows = orgs.store.delegations(org.id, params["AccountId"])
        if not rows:
            raise _not_registered()
        services = [
            {"ServicePrincipal": principal, "DelegationEnabledDate": enabled}
            for _, principal, enabled in rows
        ]
        return orgs.listing(ctx, params, "DelegatedServices", services)

    def _administering(self, ctx: RequestContext) -> Organization:
        """The caller's organization, for its management account or one of its delegated administrators."""
        org = self.service.org(ctx, management=False)
        if org.management != ctx.account_id and not self.service.store.delegations(org.id, ctx.account_id):
            self.service.org(ctx)  # AWS's AccessDeniedException for any other member
        return org
