"""Trusted access: the AWS services (by service principal) allowed to act across the organization's accounts,
which some services require before their organization-wide features work (IAM's centralized root access)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.organizations.provider import OrganizationsProvider


class ServiceAccessOperations(Operations):
    service: OrganizationsProvider

    def enable_aws_service_access(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx)
        self.service.store.enable_service_access(org.id, params["ServicePrincipal"], self.clock.now())
        return {}

    def disable_aws_service_access(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx)
        self.service.store.disable_service_access(org.id, params["ServicePrincipal"])
        return {}

    def list_aws_service_access_for_organization(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        org = self.service.org(ctx)
        enabled = [
            {"ServicePrincipal": principal, "DateEnabled": when}
            for principal, when in self.service.store.service_access(org.id)
        ]
        return self.service.listing(ctx, params, "EnabledServicePrincipals", enabled)
