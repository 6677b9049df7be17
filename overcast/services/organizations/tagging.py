"""Tags of the organization's roots, OUs, accounts and policies (by their ids, as Organizations names them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.organizations.provider import OrganizationsProvider


class TagOperations(Operations):
    service: OrganizationsProvider

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx)
        self.service.put_tags(org, params["ResourceId"], params["Tags"])
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx)
        self.service.store.remove_tags(org.id, params["ResourceId"], params["TagKeys"])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx)
        tags = self.service.store.tags(org.id, params["ResourceId"])
        return self.service.listing(ctx, params, "Tags", [{"Key": k, "Value": v} for k, v in tags])
