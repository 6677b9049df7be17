"""Centralized root access for an organization's member accounts: root credentials management and root
sessions (what STS's AssumeRoot needs), enabled by the management account once the organization gives IAM
trusted access. The features belong to the organization, so they are stored by organization id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import overcast.services.organizations.api as organizations
from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider

CREDENTIALS = "RootCredentialsManagement"
SESSIONS = "RootSessions"
IAM_PRINCIPAL = "iam.amazonaws.com"

# The texts are AWS's documented meaning of each error (the model's documentation).
_NO_ORGANIZATION = "The request was rejected because no organization is associated with your account."
_NOT_MANAGEMENT = (
    "The request was rejected because the account making the request is not the management account for the "
    "organization."
)
_NOT_ADMINISTRATOR = (
    "The request was rejected because the account making the request is not the management account or "
    "delegated administrator account for centralized root access."
)
_NOT_ALL_FEATURES = "The request was rejected because your organization does not have All features enabled."
_NO_TRUSTED_ACCESS = (
    "The request was rejected because trusted access is not enabled for IAM in Organizations."
)


class RootAccessOperations(Operations):
    service: IamProvider

    def enable_organizations_root_credentials_management(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self._set(ctx, CREDENTIALS, True)

    def disable_organizations_root_credentials_management(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self._set(ctx, CREDENTIALS, False)

    def enable_organizations_root_sessions(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self._set(ctx, SESSIONS, True)

    def disable_organizations_root_sessions(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self._set(ctx, SESSIONS, False)

    def list_organizations_features(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._features(self._organization(ctx, enabling=False))

    def _set(self, ctx: RequestContext, feature: str, enabled: bool) -> dict[str, Any]:
        org_id = self._organization(ctx, enabling=enabled)
        self.service.store.set_org_feature(org_id, feature, enabled)
        return self._features(org_id)

    def _features(self, org_id: str) -> dict[str, Any]:
        enabled = self.service.store.org_features(org_id)
        return {
            "OrganizationId": org_id,
            "EnabledFeatures": [f for f in (CREDENTIALS, SESSIONS) if f in enabled],
        }

    def _organization(self, ctx: RequestContext, *, enabling: bool) -> str:
        """The caller's organization id, when the caller is its management account (or, except to enable, IAM's
        delegated administrator) and IAM may act in it."""
        org = organizations.organization_of(self.platform, ctx.account_id)
        if org is None:
            raise ServiceError("OrganizationNotFoundException", _NO_ORGANIZATION)
        if org.management != ctx.account_id:
            if enabling:
                raise ServiceError("CallerIsNotManagementAccountException", _NOT_MANAGEMENT)
            if not organizations.is_delegated_administrator(
                self.platform, org.id, ctx.account_id, IAM_PRINCIPAL
            ):
                raise ServiceError(
                    "AccountNotManagementOrDelegatedAdministratorException", _NOT_ADMINISTRATOR
                )
        if org.feature_set != "ALL":
            raise ServiceError("OrganizationNotInAllFeaturesModeException", _NOT_ALL_FEATURES)
        if not organizations.trusted_access(self.platform, org.id, IAM_PRINCIPAL):
            raise ServiceError("ServiceAccessNotEnabledException", _NO_TRUSTED_ACCESS)
        return org.id
