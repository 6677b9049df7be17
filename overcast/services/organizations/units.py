"""Organizational units: the tree under the root that accounts are placed in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.organizations.errors import error, parent_not_found
from overcast.services.organizations.ids import random_id
from overcast.services.organizations.store import Unit

if TYPE_CHECKING:
    from overcast.services.organizations.provider import OrganizationsProvider


class OrganizationalUnitOperations(Operations):
    service: OrganizationsProvider

    def create_organizational_unit(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        parent = params["ParentId"]
        if not orgs.is_parent(org, parent):
            raise parent_not_found()
        if orgs.store.unit_named(org.id, parent, params["Name"]):
            raise error(
                "DuplicateOrganizationalUnitException", "An OU with the same name already exists.", 409
            )
        unit = Unit(f"ou-{org.root_id[2:]}-{random_id(8)}", org.id, parent, params["Name"])
        orgs.store.add_unit(unit)
        orgs.grant_full_access(org, unit.id)
        orgs.put_tags(org, unit.id, params.get("Tags"))
        orgs.changed()
        return {"OrganizationalUnit": orgs.unit_shape(org, orgs.unit(org, unit.id))}

    def describe_organizational_unit(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx)
        unit = self.service.unit(org, params["OrganizationalUnitId"])
        return {"OrganizationalUnit": self.service.unit_shape(org, unit)}

    def update_organizational_unit(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        unit = orgs.unit(org, params["OrganizationalUnitId"])
        if params.get("Name"):
            orgs.store.rename_unit(unit.id, params["Name"])
        return {"OrganizationalUnit": orgs.unit_shape(org, orgs.unit(org, unit.id))}

    def delete_organizational_unit(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        unit = orgs.unit(org, params["OrganizationalUnitId"])
        if orgs.store.has_children(unit.id):
            raise error(
                "OrganizationalUnitNotEmptyException",
                "The specified OU is not empty. Move all accounts to "
                "another root or to other OUs, remove all child OUs, and try the operation again.",
            )
        orgs.store.delete_unit(org.id, unit.id)
        orgs.changed()
        return {}

    def list_organizational_units_for_parent(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        if not orgs.is_parent(org, params["ParentId"]):
            raise parent_not_found()
        units = orgs.store.units_under(org.id, params["ParentId"])
        return orgs.listing(ctx, params, "OrganizationalUnits", [orgs.unit_shape(org, u) for u in units])

    def list_children(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        parent = params["ParentId"]
        if not orgs.is_parent(org, parent):
            raise parent_not_found()
        if params["ChildType"] == "ACCOUNT":
            ids = [a.account for a in orgs.store.accounts_under(org.id, parent)]
        else:
            ids = [u.id for u in orgs.store.units_under(org.id, parent, by="id")]
        return orgs.listing(ctx, params, "Children", [{"Id": i, "Type": params["ChildType"]} for i in ids])

    def list_parents(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx)
        parent = self.service.store.parent_of(org.id, params["ChildId"])
        if parent is None:
            raise error(
                "ChildNotFoundException",
                "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.",
            )
        kind = "ROOT" if parent == org.root_id else "ORGANIZATIONAL_UNIT"
        return self.service.listing(ctx, params, "Parents", [{"Id": parent, "Type": kind}])
