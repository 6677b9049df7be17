"""Inline policies of users, groups and roles (validated as identity policies, within AWS's size quotas)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.policy import document as policy_doc
from overcast.services.base import Operations
from overcast.services.iam.policies import quoted

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider

# AWS's quotas are aggregate per entity; here they bound each policy.
INLINE_SIZE_QUOTAS = {"user": 2048, "group": 5120, "role": 10240}
_OWNER_FIELDS = {"user": "UserName", "group": "GroupName", "role": "RoleName"}


def _no_such(kind: str, name: str) -> ServiceError:
    return ServiceError("NoSuchEntity", f"The {kind} policy with name {name} cannot be found.", 404)


class InlinePolicyOperations(Operations):
    service: IamProvider

    def put_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._put(ctx, "user", params)

    def get_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._get(ctx, "user", params)

    def delete_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._delete(ctx, "user", params)

    def list_user_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list(ctx, "user", params)

    def put_group_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._put(ctx, "group", params)

    def get_group_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._get(ctx, "group", params)

    def delete_group_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._delete(ctx, "group", params)

    def list_group_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list(ctx, "group", params)

    def put_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._put(ctx, "role", params)

    def get_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._get(ctx, "role", params)

    def delete_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._delete(ctx, "role", params)

    def list_role_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list(ctx, "role", params)

    # -- one implementation for users, groups and roles ----------------------------------------------------

    def _put(self, ctx: RequestContext, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        entity = iam.entity(ctx, kind, params[_OWNER_FIELDS[kind]])
        policy_doc.validate(params["PolicyDocument"], policy_doc.IDENTITY)
        iam.check_size(params["PolicyDocument"], INLINE_SIZE_QUOTAS[kind], f"{kind} {entity.name}")
        iam.store.put_inline(ctx.account_id, kind, entity.key, params["PolicyName"], params["PolicyDocument"])
        iam.changed()
        return {}

    def _get(self, ctx: RequestContext, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        owner_field = _OWNER_FIELDS[kind]
        entity = self.service.entity(ctx, kind, params[owner_field])
        wanted = params["PolicyName"].lower()
        for name, document in self.service.store.inline(ctx.account_id, kind, entity.key):
            if name.lower() == wanted:
                return {owner_field: entity.name, "PolicyName": name, "PolicyDocument": quoted(document)}
        raise _no_such(kind, params["PolicyName"])

    def _delete(self, ctx: RequestContext, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        entity = self.service.entity(ctx, kind, params[_OWNER_FIELDS[kind]])
        if not self.service.store.delete_inline(ctx.account_id, kind, entity.key, params["PolicyName"]):
            raise _no_such(kind, params["PolicyName"])
        self.service.changed()
        return {}

    def _list(self, ctx: RequestContext, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        entity = iam.entity(ctx, kind, params[_OWNER_FIELDS[kind]])
        after = iam.marker_position(ctx, params) or ""
        names = [n for n, _ in iam.store.inline(ctx.account_id, kind, entity.key) if n.lower() > after]
        names, paging = iam.page(ctx, params, names, str.lower)
        return {"PolicyNames": names, **paging}
