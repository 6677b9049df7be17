"""Groups: precedence and IAM roles (which become the tokens' cognito:groups, cognito:roles and
cognito:preferred_role), and their members."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.cognitoidp.shapes import user_type
from overcast.services.kit.paging import decode_token, page_of

if TYPE_CHECKING:
    from overcast.services.cognitoidp.provider import CognitoIdpProvider


def _invalid_token() -> ServiceError:
    return ServiceError("InvalidParameterException", "Invalid pagination token", 400)


class GroupOperations(Operations):
    service: CognitoIdpProvider

    def _group(self, pool_id: str, name: str) -> dict[str, Any]:
        group = self.service.store.child(pool_id, "group", name)
        if group is None:
            raise ServiceError("ResourceNotFoundException", "Group not found.", 400)
        return group

    def create_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        name = params["GroupName"]
        if self.service.store.child(pool.id, "group", name) is not None:
            raise ServiceError("GroupExistsException", f"A group with the name {name} already exists.", 400)
        now = self.clock.now()
        group: dict[str, Any] = {"GroupName": name, "UserPoolId": pool.id}
        for key in ("Description", "RoleArn", "Precedence"):
            if params.get(key) is not None:
                group[key] = params[key]
        group.update({"LastModifiedDate": now, "CreationDate": now})
        self.service.store.put_child(pool.id, "group", name, group)
        return {"Group": group}

    def get_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        return {"Group": self._group(pool.id, params["GroupName"])}

    def update_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        group = self._group(pool.id, params["GroupName"])
        for key in ("Description", "RoleArn", "Precedence"):
            if key in params:
                group[key] = params[key]
        group["LastModifiedDate"] = self.clock.now()
        self.service.store.put_child(pool.id, "group", group["GroupName"], group)
        return {"Group": group}

    def delete_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        self._group(pool.id, params["GroupName"])
        self.service.store.delete_child(pool.id, "group", params["GroupName"])
        self.service.store.forget_group(pool.id, params["GroupName"])
        return {}

    def list_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        limit = params.get("Limit") or 60
        after = decode_token(params.get("NextToken"), _invalid_token, "groups")
        rows = self.service.store.children(pool.id, "group", after, limit + 1)
        page, token = page_of(rows, limit, lambda group: group["GroupName"], "groups")
        result: dict[str, Any] = {"Groups": page}
        if token:
            result["NextToken"] = token
        return result

    def admin_add_user_to_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        group = self._group(pool.id, params["GroupName"])
        user = self.service.user_or_error(pool, params["Username"])
        self.service.store.add_member(pool.id, group["GroupName"], user.key)
        return {}

    def admin_remove_user_from_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        group = self._group(pool.id, params["GroupName"])
        user = self.service.user_or_error(pool, params["Username"])
        self.service.store.remove_member(pool.id, group["GroupName"], user.key)
        return {}

    def admin_list_groups_for_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        user = self.service.user_or_error(pool, params["Username"])
        names = self.service.store.groups_of(pool.id, user.key)
        limit = params.get("Limit") or 60
        after = decode_token(params.get("NextToken"), _invalid_token, "user-groups") or ""
        rows = [name for name in names if name > after][: limit + 1]
        page, token = page_of(rows, limit, lambda name: name, "user-groups")
        groups = [self.service.store.child(pool.id, "group", name) for name in page]
        result: dict[str, Any] = {"Groups": [group for group in groups if group is not None]}
        if token:
            result["NextToken"] = token
        return result

    def list_users_in_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        self._group(pool.id, params["GroupName"])
        limit = params.get("Limit") or 60
        after = decode_token(params.get("NextToken"), _invalid_token, "members")
        rows = self.service.store.members(pool.id, params["GroupName"], after, limit + 1)
        page, token = page_of(rows, limit, lambda user: user.key, "members")
        result: dict[str, Any] = {"Users": [user_type(user) for user in page]}
        if token:
            result["NextToken"] = token
        return result
