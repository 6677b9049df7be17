"""IAM groups and their members."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.iam.errors import delete_conflict, limit_exceeded

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider

GROUPS_PER_USER = 10


class GroupOperations(Operations):
    service: IamProvider

    def create_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.service.create_entity(ctx, "group", params["GroupName"], params.get("Path"), {})
        return {"Group": self.service.group_shape(group)}

    def get_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam, store = self.service, self.service.store
        group = iam.entity(ctx, "group", params["GroupName"])
        users = [
            store.get(ctx.account_id, "user", key) for key in store.members_of(ctx.account_id, group.key)
        ]
        after = iam.marker_position(ctx, params) or ""
        members, paging = iam.page(ctx, params, [u for u in users if u and u.key > after], lambda u: u.key)
        return {"Group": iam.group_shape(group), "Users": [iam.user_shape(u) for u in members], **paging}

    def list_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        groups, paging = self.service.listing(ctx, "group", params)
        return {"Groups": [self.service.group_shape(g) for g in groups], **paging}

    def list_groups_for_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam, store = self.service, self.service.store
        user = iam.entity(ctx, "user", params["UserName"])
        groups = [
            store.get(ctx.account_id, "group", k) for k in sorted(store.groups_of(ctx.account_id, user.key))
        ]
        after = iam.marker_position(ctx, params) or ""
        found, paging = iam.page(ctx, params, [g for g in groups if g and g.key > after], lambda g: g.key)
        return {"Groups": [iam.group_shape(g) for g in found], **paging}

    def update_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.rename_entity(
            ctx, "group", params["GroupName"], params.get("NewGroupName"), params.get("NewPath")
        )
        return {}

    def add_user_to_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        group = iam.entity(ctx, "group", params["GroupName"])
        user = iam.entity(ctx, "user", params["UserName"])
        groups = iam.store.groups_of(ctx.account_id, user.key)
        if group.key not in groups and len(groups) >= GROUPS_PER_USER:
            raise limit_exceeded(f"Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}")
        iam.store.add_member(ctx.account_id, group.key, user.key)
        iam.changed()
        return {}

    def remove_user_from_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        group = iam.entity(ctx, "group", params["GroupName"])
        user = iam.entity(ctx, "user", params["UserName"])
        if group.key not in iam.store.groups_of(ctx.account_id, user.key):
            raise ServiceError("NoSuchEntity", f"User {user.name} is not in group {group.name}.", 404)
        iam.store.remove_member(ctx.account_id, group.key, user.key)
        iam.changed()
        return {}

    def delete_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam, store = self.service, self.service.store
        group = iam.entity(ctx, "group", params["GroupName"])
        if store.members_of(ctx.account_id, group.key):
            raise delete_conflict("Cannot delete entity, must remove users from group first.")
        if store.inline(ctx.account_id, "group", group.key):
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        if store.attached(ctx.account_id, "group", group.key):
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        iam.remove_entity(group)
        return {}
