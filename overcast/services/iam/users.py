"""IAM users: create, read, list, rename or move, delete, and their permissions boundaries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.iam.errors import delete_conflict

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider


# Credentials a user holds besides access keys, login profile and MFA devices (DeleteUser refuses while any remain)
_USER_CREDENTIALS = (
    ("signing-certificate", "signing certificates"),
    ("ssh-public-key", "SSH public keys"),
    ("service-specific-credential", "service-specific credentials"),
)


class UserOperations(Operations):
    service: IamProvider

    def create_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        data: dict[str, Any] = {}
        if params.get("PermissionsBoundary"):
            data["boundary"] = iam.attachable_policy(ctx, params["PermissionsBoundary"])["arn"]
        user = iam.create_entity(ctx, "user", params["UserName"], params.get("Path"), data)
        iam.add_tags(user, params.get("Tags"))
        return {"User": iam.user_shape(user, tags=True)}

    def get_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("UserName")
        if not name:
            if ctx.principal.kind == "root":
                root = ctx.principal
                return {
                    "User": {
                        "Path": "/",
                        "UserName": "",
                        "UserId": root.account_id,
                        "Arn": root.arn,
                        "CreateDate": 0.0,
                    }
                }
            if ctx.principal.kind != "user":
                raise ServiceError(
                    "ValidationError", "Must specify userName when calling with non-User credentials"
                )
            name = ctx.principal.attributes["user_name"]
        return {"User": self.service.user_shape(self.service.entity(ctx, "user", name), tags=True)}

    def list_users(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        users, paging = self.service.listing(ctx, "user", params)
        return {"Users": [self.service.user_shape(u) for u in users], **paging}

    def update_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.rename_entity(
            ctx, "user", params["UserName"], params.get("NewUserName"), params.get("NewPath")
        )
        return {}

    def delete_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        user = self.service.entity(ctx, "user", params["UserName"])
        account, key = ctx.account_id, user.key
        if store.login_profile(account, key):
            raise delete_conflict("Cannot delete entity, must delete login profile first.")
        if store.access_keys_of(account, key):
            raise delete_conflict("Cannot delete entity, must delete access keys first.")
        if store.inline(account, "user", key):
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        if store.attached(account, "user", key):
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        if store.groups_of(account, key):
            raise delete_conflict("Cannot delete entity, must remove user from all groups first.")
        if store.mfa_devices(account, key):
            raise delete_conflict("Cannot delete entity, must delete MFA device first.")
        for kind, what in _USER_CREDENTIALS:
            if any(e.data.get("user") == key for e in store.all_of(account, kind)):
                raise delete_conflict(f"Cannot delete entity, must delete {what} first.")
        self.service.remove_entity(user)
        return {}

    def put_user_permissions_boundary(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.set_boundary(ctx, "user", params["UserName"], params["PermissionsBoundary"])
        return {}

    def delete_user_permissions_boundary(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.set_boundary(ctx, "user", params["UserName"], None)
        return {}
