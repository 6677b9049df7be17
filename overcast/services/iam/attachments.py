"""Managed policies attached to users, groups and roles (at most ten each), and who a policy is attached to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.iam.errors import check_policy_arn, limit_exceeded

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider

MANAGED_POLICIES_PER_ENTITY = 10  # AWS's default quota for users, groups and roles
_QUOTAS = {"user": "PoliciesPerUser", "group": "PoliciesPerGroup", "role": "PoliciesPerRole"}
_LABELS = {"user": "User", "group": "Group", "role": "Role"}


class AttachedPolicyOperations(Operations):
    service: IamProvider

    def attach_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._attach(ctx, "user", params["UserName"], params)

    def detach_user_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._detach(ctx, "user", params["UserName"], params)

    def list_attached_user_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list(ctx, "user", params["UserName"], params)

    def attach_group_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._attach(ctx, "group", params["GroupName"], params)

    def detach_group_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._detach(ctx, "group", params["GroupName"], params)

    def list_attached_group_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list(ctx, "group", params["GroupName"], params)

    def attach_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._attach(ctx, "role", params["RoleName"], params)

    def detach_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._detach(ctx, "role", params["RoleName"], params)

    def list_attached_role_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list(ctx, "role", params["RoleName"], params)

    def list_entities_for_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        policy = iam.attachable_policy(ctx, params["PolicyArn"])
        wanted = params.get("EntityFilter")
        result: dict[str, Any] = {
            "PolicyGroups": [],
            "PolicyUsers": [],
            "PolicyRoles": [],
            "IsTruncated": False,
        }
        for kind, key in iam.store.attachments_of(ctx.account_id, policy["arn"]):
            entity = iam.store.get(ctx.account_id, kind, key)
            if entity is None or (wanted and wanted.lower() != kind):
                continue
            label = _LABELS[kind]
            result[f"Policy{label}s"].append({f"{label}Name": entity.name, f"{label}Id": entity.id})
        return result

    # -- one implementation for users, groups and roles ----------------------------------------------------

    def _attach(self, ctx: RequestContext, kind: str, owner: str, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        check_policy_arn(params["PolicyArn"])
        entity = iam.entity(ctx, kind, owner)
        policy = iam.attachable_policy(ctx, params["PolicyArn"])
        attached = iam.store.attached(ctx.account_id, kind, entity.key)
        if policy["arn"] not in attached and len(attached) >= MANAGED_POLICIES_PER_ENTITY:
            raise limit_exceeded(f"Cannot exceed quota for {_QUOTAS[kind]}: {MANAGED_POLICIES_PER_ENTITY}")
        iam.store.attach(ctx.account_id, kind, entity.key, policy["arn"])
        iam.changed()
        return {}

    def _detach(self, ctx: RequestContext, kind: str, owner: str, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        check_policy_arn(params["PolicyArn"])
        entity = iam.entity(ctx, kind, owner)
        if not iam.store.detach(ctx.account_id, kind, entity.key, params["PolicyArn"]):
            raise ServiceError("NoSuchEntity", f"Policy {params['PolicyArn']} was not found.", 404)
        iam.changed()
        return {}

    def _list(self, ctx: RequestContext, kind: str, owner: str, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        entity = iam.entity(ctx, kind, owner)
        prefix = params.get("PathPrefix") or "/"
        after = iam.marker_position(ctx, params) or ""
        items = []
        for arn in iam.store.attached(ctx.account_id, kind, entity.key):
            try:
                policy = iam.attachable_policy(ctx, arn)
            except ServiceError:
                continue
            if policy["path"].startswith(prefix) and arn > after:
                items.append({"PolicyName": policy["name"], "PolicyArn": arn})
        items, paging = iam.page(ctx, params, items, lambda p: p["PolicyArn"])
        return {"AttachedPolicies": items, **paging}
