"""IAM: users, groups, roles, managed and inline policies, instance profiles (this module), and access keys,
passwords, MFA, account settings, reports and the policy simulator (`accounts.py`, `reports.py`)."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any
from urllib.parse import quote

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import Credential, Principal
from overcast.policy import document as policy_doc
from overcast.services.base import ServiceProvider
from overcast.services.iam.accounts import AccountsMixin
from overcast.services.iam.advisor import AdvisorMixin
from overcast.services.iam.managed import AWS_POLICY_PREFIX, aws_policy
from overcast.services.iam.reports import ReportsMixin
from overcast.services.iam.store import Entity, IamStore

_ID_ALPHABET = string.ascii_uppercase + string.digits
ID_PREFIXES = {
    "user": "AIDA",
    "group": "AGPA",
    "role": "AROA",
    "policy": "ANPA",
    "instance-profile": "AIPA",
    "oidc-provider": "AOPA",
}
KIND_WORD = {"user": "user", "group": "group", "role": "role", "instance-profile": "Instance Profile"}
MAX_POLICY_VERSIONS = 5
MANAGED_POLICIES_PER_ENTITY = 10  # AWS's default quota for users, groups and roles
GROUPS_PER_USER = 10
INLINE_SIZE_QUOTAS = {
    "user": 2048,
    "group": 5120,
    "role": 10240,
}  # aggregate per entity in AWS; per policy here
MANAGED_POLICY_SIZE = 6144


def new_id(prefix: str, length: int = 17) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def quoted(document: str) -> str:
    """IAM returns policy documents URL-encoded (the SDKs decode them)."""
    return quote(document, safe="")


def no_such(kind: str, name: str) -> ServiceError:
    if kind == "instance-profile":
        return ServiceError("NoSuchEntity", f"Instance Profile {name} cannot be found.", 404)
    return ServiceError(
        "NoSuchEntity", f"The {KIND_WORD.get(kind, kind)} with name {name} cannot be found.", 404
    )


def already_exists(kind: str, name: str) -> ServiceError:
    if kind == "policy":
        return ServiceError(
            "EntityAlreadyExists",
            f"A policy called {name} already exists. Duplicate names are not allowed.",
            409,
        )
    if kind == "instance-profile":
        return ServiceError("EntityAlreadyExists", f"Instance Profile {name} already exists.", 409)
    return ServiceError(
        "EntityAlreadyExists", f"{KIND_WORD[kind].capitalize()} with name {name} already exists.", 409
    )


def delete_conflict(message: str) -> ServiceError:
    return ServiceError("DeleteConflict", message, 409)


def page(params: dict[str, Any], items: list[Any], marker_of) -> tuple[list[Any], dict[str, Any]]:
    """Cut a page from `items` (fetched with one extra row): the page and its IsTruncated/Marker fields."""
    limit = params.get("MaxItems") or 100
    if len(items) > limit:
        return items[:limit], {"IsTruncated": True, "Marker": marker_of(items[limit - 1])}
    return items, {"IsTruncated": False}


_IAM_LISTS = {
    "ListUsers": "user",
    "ListGroups": "group",
    "ListRoles": "role",
    "ListPolicies": "policy",
    "ListInstanceProfiles": "instance-profile",
}


class IamProvider(AccountsMixin, ReportsMixin, AdvisorMixin, ServiceProvider):
    service_name = "iam"

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The resource a request acts on, for authorization."""
        account = ctx.account_id
        listed = _IAM_LISTS.get(ctx.operation)
        if listed:  # AWS authorizes listings against the path they list
            return f"arn:aws:iam::{account}:{listed}{params.get('PathPrefix') or '/'}"
        if params.get("PolicyArn") and not ctx.operation.startswith(("Attach", "Detach")):
            return params["PolicyArn"]
        for param, kind in (
            ("UserName", "user"),
            ("RoleName", "role"),
            ("GroupName", "group"),
            ("InstanceProfileName", "instance-profile"),
            ("PolicyName", "policy"),
        ):
            name = params.get(param)
            if name:
                if param == "PolicyName" and ctx.operation != "CreatePolicy":
                    continue
                return f"arn:aws:iam::{account}:{kind}/{name}"
        return params.get("PolicyArn") or params.get("OpenIDConnectProviderArn") or params.get("SerialNumber")

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.generation = 0  # bumped by every write: caches of evaluated principals key on it
        # Created outside any request transaction (the platform builds providers before it opens one), so
        # the migration is never rolled back with a failed request.
        self.store = IamStore(self.db)

    def reset(self) -> None:
        self.generation += 1
        self.forget_access_cache()

    def changed(self) -> None:
        self.generation += 1

    async def internal_endpoint(self, request, path: str):
        """/_overcast/iam/report: under --iam soft, per principal, the calls it made and the least-privilege
        policy they needed (the policy engine's record)."""
        if path != "/_overcast/iam/report" or request.method != "GET":
            return None
        from overcast.http import json_response
        from overcast.policy.enforcement import least_privilege_report

        mode = self.platform.config.iam
        return json_response({"mode": mode, "principals": least_privilege_report(self.platform)})

    # -- entity helpers ------------------------------------------------------------------------------------

    def arn(self, account: str, kind: str, path: str, name: str) -> str:
        return f"arn:aws:iam::{account}:{kind}{path}{name}"

    def create_entity(
        self, ctx: RequestContext, kind: str, name: str, path: str | None, data: dict
    ) -> Entity:
        path = path or "/"
        if self.store.get(ctx.account_id, kind, name):
            raise already_exists(kind, name)
        entity = Entity(
            ctx.account_id,
            kind,
            name,
            new_id(ID_PREFIXES[kind]),
            path,
            self.arn(ctx.account_id, kind, path, name),
            self.clock.now(),
            data,
        )
        self.store.insert(entity)
        self.changed()
        return entity

    def entity(self, ctx: RequestContext, kind: str, name: str) -> Entity:
        found = self.store.get(ctx.account_id, kind, name)
        if found is None:
            raise no_such(kind, name)
        return found

    def listing(self, ctx: RequestContext, kind: str, params: dict[str, Any]) -> tuple[list[Entity], dict]:
        limit = params.get("MaxItems") or 100
        rows = self.store.page(
            ctx.account_id, kind, params.get("PathPrefix") or "/", params.get("Marker") or "", limit + 1
        )
        return page(params, rows, lambda e: e.key)

    def tags_of(self, entity: Entity) -> list[dict[str, str]]:
        return self.store.tags(entity.account, entity.kind, entity.key)

    def put_tags(self, entity: Entity, tags: list[dict[str, str]] | None) -> None:
        if not tags:
            return
        keys = [t["Key"] for t in tags]
        if len(set(keys)) != len(keys):
            raise ServiceError(
                "InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive."
            )
        if len({t["Key"] for t in self.tags_of(entity)} | set(keys)) > 50:
            raise ServiceError("LimitExceeded", "The number of tags has reached the maximum limit.", 409)
        self.store.put_tags(entity.account, entity.kind, entity.key, tags)
        self.changed()

    def with_tags(self, shape: dict[str, Any], entity: Entity) -> dict[str, Any]:
        tags = self.tags_of(entity)
        if tags:
            shape["Tags"] = tags
        return shape

    # -- users ---------------------------------------------------------------------------------------------

    def user_shape(self, user: Entity, *, tags: bool = False) -> dict[str, Any]:
        shape: dict[str, Any] = {
            "Path": user.path,
            "UserName": user.name,
            "UserId": user.id,
            "Arn": user.arn,
            "CreateDate": user.created,
        }
        boundary = user.data.get("boundary")
        if boundary:
            shape["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": boundary,
            }
        if user.data.get("password_last_used"):
            shape["PasswordLastUsed"] = user.data["password_last_used"]
        return self.with_tags(shape, user) if tags else shape

    def create_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if params.get("PermissionsBoundary"):
            data["boundary"] = self.attachable_policy(ctx, params["PermissionsBoundary"])["arn"]
        user = self.create_entity(ctx, "user", params["UserName"], params.get("Path"), data)
        self.put_tags(user, params.get("Tags"))
        return {"User": self.user_shape(user, tags=True)}

    def get_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("UserName")
        if not name:
            if ctx.principal.kind != "user":
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
                raise ServiceError(
                    "ValidationError", "Must specify userName when calling with non-User credentials"
                )
            name = ctx.principal.attributes["user_name"]
        return {"User": self.user_shape(self.entity(ctx, "user", name), tags=True)}

    def list_users(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        users, paging = self.listing(ctx, "user", params)
        return {"Users": [self.user_shape(u) for u in users], **paging}

    def update_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.update_entity(ctx, "user", params["UserName"], params.get("NewUserName"), params.get("NewPath"))
        return {}

    def update_entity(
        self, ctx: RequestContext, kind: str, name: str, new_name: str | None, new_path: str | None
    ) -> None:
        """UpdateUser / UpdateGroup: a new name and/or path; what the entity owns follows a new name."""
        entity = self.entity(ctx, kind, name)
        old_key = entity.key
        if new_name and new_name.lower() != old_key and self.store.get(ctx.account_id, kind, new_name):
            raise already_exists(kind, new_name)
        self.rename(entity, new_name, new_path)
        self.store.update(entity, old_key)
        if entity.key != old_key:
            self.move_owned_rows(ctx.account_id, kind, old_key, entity.key)
        self.changed()

    def rename(self, entity: Entity, new_name: str | None, new_path: str | None) -> None:
        entity.name = new_name or entity.name
        entity.path = new_path or entity.path
        entity.arn = self.arn(entity.account, entity.kind, entity.path, entity.name)

    def move_owned_rows(self, account: str, kind: str, old_key: str, new_key: str) -> None:
        args = (new_key, account, kind, old_key)
        for table in ("iam_inline", "iam_attached", "iam_tags"):
            self.db.execute(
                f"UPDATE {table} SET owner_key = ? WHERE account = ? AND kind = ? AND owner_key = ?", args
            )
        if kind == "user":
            for table in ("iam_members", "iam_access_keys", "iam_login_profiles", "iam_mfa_devices"):
                self.db.execute(
                    f"UPDATE {table} SET user_key = ? WHERE account = ? AND user_key = ?",
                    (new_key, account, old_key),
                )
        if kind == "group":
            self.db.execute(
                "UPDATE iam_members SET group_key = ? WHERE account = ? AND group_key = ?",
                (new_key, account, old_key),
            )

    def delete_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user = self.entity(ctx, "user", params["UserName"])
        account, key = ctx.account_id, user.key
        if self.store.login_profile(account, key):
            raise delete_conflict("Cannot delete entity, must delete login profile first.")
        if self.store.access_keys_of(account, key):
            raise delete_conflict("Cannot delete entity, must delete access keys first.")
        if self.store.inline(account, "user", key):
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        if self.store.attached(account, "user", key):
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        if self.store.groups_of(account, key):
            raise delete_conflict("Cannot delete entity, must remove user from all groups first.")
        if self.store.mfa_devices(account, key):
            raise delete_conflict("Cannot delete entity, must delete MFA device first.")
        self.store.delete(user)
        self.changed()
        return {}

    # -- groups --------------------------------------------------------------------------------------------

    def group_shape(self, group: Entity) -> dict[str, Any]:
        return {
            "Path": group.path,
            "GroupName": group.name,
            "GroupId": group.id,
            "Arn": group.arn,
            "CreateDate": group.created,
        }

    def create_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.create_entity(ctx, "group", params["GroupName"], params.get("Path"), {})
        return {"Group": self.group_shape(group)}

    def get_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.entity(ctx, "group", params["GroupName"])
        users = [
            self.store.get(ctx.account_id, "user", key)
            for key in self.store.members_of(ctx.account_id, group.key)
        ]
        members = [u for u in users if u and u.key > (params.get("Marker") or "")]
        members, paging = page(params, members, lambda u: u.key)
        return {"Group": self.group_shape(group), "Users": [self.user_shape(u) for u in members], **paging}

    def list_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        groups, paging = self.listing(ctx, "group", params)
        return {"Groups": [self.group_shape(g) for g in groups], **paging}

    def list_groups_for_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user = self.entity(ctx, "user", params["UserName"])
        groups = [
            self.store.get(ctx.account_id, "group", k)
            for k in sorted(self.store.groups_of(ctx.account_id, user.key))
        ]
        found = [g for g in groups if g and g.key > (params.get("Marker") or "")]
        found, paging = page(params, found, lambda g: g.key)
        return {"Groups": [self.group_shape(g) for g in found], **paging}

    def update_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.update_entity(
            ctx, "group", params["GroupName"], params.get("NewGroupName"), params.get("NewPath")
        )
        return {}

    def add_user_to_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.entity(ctx, "group", params["GroupName"])
        user = self.entity(ctx, "user", params["UserName"])
        groups = self.store.groups_of(ctx.account_id, user.key)
        if group.key not in groups and len(groups) >= GROUPS_PER_USER:
            raise ServiceError(
                "LimitExceeded", f"Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}", 409
            )
        self.store.add_member(ctx.account_id, group.key, user.key)
        self.changed()
        return {}

    def remove_user_from_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.entity(ctx, "group", params["GroupName"])
        user = self.entity(ctx, "user", params["UserName"])
        if group.key not in self.store.groups_of(ctx.account_id, user.key):
            raise ServiceError("NoSuchEntity", f"User {user.name} is not in group {group.name}.", 404)
        self.store.remove_member(ctx.account_id, group.key, user.key)
        self.changed()
        return {}

    def delete_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.entity(ctx, "group", params["GroupName"])
        if self.store.members_of(ctx.account_id, group.key):
            raise delete_conflict("Cannot delete entity, must remove users from group first.")
        if self.store.inline(ctx.account_id, "group", group.key):
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        if self.store.attached(ctx.account_id, "group", group.key):
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        self.store.delete(group)
        self.changed()
        return {}

    # -- roles ---------------------------------------------------------------------------------------------

    def role_shape(self, role: Entity, *, tags: bool = False) -> dict[str, Any]:
        shape: dict[str, Any] = {
            "Path": role.path,
            "RoleName": role.name,
            "RoleId": role.id,
            "Arn": role.arn,
            "CreateDate": role.created,
            "AssumeRolePolicyDocument": quoted(role.data["trust"]),
            "MaxSessionDuration": role.data.get("max_session", 3600),
        }
        if role.data.get("description") is not None:
            shape["Description"] = role.data["description"]
        if role.data.get("boundary"):
            shape["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": role.data["boundary"],
            }
        if role.data.get("last_used"):
            shape["RoleLastUsed"] = {
                "LastUsedDate": role.data["last_used"],
                "Region": role.data.get("last_region"),
            }
        return self.with_tags(shape, role) if tags else shape

    def create_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        trust = params["AssumeRolePolicyDocument"]
        policy_doc.validate(trust, policy_doc.TRUST)
        data: dict[str, Any] = {"trust": trust, "max_session": params.get("MaxSessionDuration") or 3600}
        if params.get("Description") is not None:
            data["description"] = params["Description"]
        if params.get("PermissionsBoundary"):
            data["boundary"] = self.attachable_policy(ctx, params["PermissionsBoundary"])["arn"]
        role = self.create_entity(ctx, "role", params["RoleName"], params.get("Path"), data)
        self.put_tags(role, params.get("Tags"))
        return {"Role": self.role_shape(role, tags=True)}

    def create_service_linked_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = params["AWSServiceName"]
        if not service.endswith(".amazonaws.com"):
            raise ServiceError(
                "InvalidInput", f"Service name {service} is not a valid AWS service principal."
            )
        label = "".join(part.capitalize() for part in service.split(".")[0].split("-"))
        name = f"AWSServiceRoleFor{label}" + (
            f"_{params['CustomSuffix']}" if params.get("CustomSuffix") else ""
        )
        trust = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
                ],
            }
        )
        data = {
            "trust": trust,
            "max_session": 3600,
            "description": params.get("Description"),
            "service_linked": True,
        }
        role = self.create_entity(ctx, "role", name, f"/aws-service-role/{service}/", data)
        return {"Role": self.role_shape(role)}

    def delete_service_linked_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role = self.entity(ctx, "role", params["RoleName"])
        self.store.forget_owner(ctx.account_id, "role", role.key)
        self.store.delete(role)
        self.changed()
        return {"DeletionTaskId": f"task/aws-service-role/{role.name}/{new_id('', 8)}"}

    def get_service_linked_role_deletion_status(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return {"Status": "SUCCEEDED"}

    def get_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Role": self.role_shape(self.entity(ctx, "role", params["RoleName"]), tags=True)}

    def list_roles(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        roles, paging = self.listing(ctx, "role", params)
        return {"Roles": [self.role_shape(r) for r in roles], **paging}

    def update_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role = self.entity(ctx, "role", params["RoleName"])
        if params.get("MaxSessionDuration"):
            role.data["max_session"] = params["MaxSessionDuration"]
        if "Description" in params:
            role.data["description"] = params["Description"]
        self.store.update(role)
        self.changed()
        return {}

    def update_role_description(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role = self.entity(ctx, "role", params["RoleName"])
        role.data["description"] = params["Description"]
        self.store.update(role)
        return {"Role": self.role_shape(role, tags=True)}

    def update_assume_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role = self.entity(ctx, "role", params["RoleName"])
        policy_doc.validate(params["PolicyDocument"], policy_doc.TRUST)
        role.data["trust"] = params["PolicyDocument"]
        self.store.update(role)
        self.changed()
        return {}

    def delete_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role = self.entity(ctx, "role", params["RoleName"])
        if role.data.get("service_linked"):
            raise ServiceError(
                "UnmodifiableEntity",
                f"Cannot perform the operation on the protected role '{role.name}' "
                "- this role is only modifiable by AWS",
                400,
            )
        if self.store.profiles_of_role(ctx.account_id, role.key):
            raise delete_conflict("Cannot delete entity, must remove roles from instance profile first.")
        if self.store.inline(ctx.account_id, "role", role.key):
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        if self.store.attached(ctx.account_id, "role", role.key):
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        self.store.delete(role)
        self.changed()
        return {}

    def put_user_permissions_boundary(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._set_boundary(ctx, "user", params["UserName"], params["PermissionsBoundary"])

    def put_role_permissions_boundary(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._set_boundary(ctx, "role", params["RoleName"], params["PermissionsBoundary"])

    def delete_user_permissions_boundary(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._set_boundary(ctx, "user", params["UserName"], None)

    def delete_role_permissions_boundary(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._set_boundary(ctx, "role", params["RoleName"], None)

    def _set_boundary(
        self, ctx: RequestContext, kind: str, name: str, policy_arn: str | None
    ) -> dict[str, Any]:
        entity = self.entity(ctx, kind, name)
        if policy_arn:
            entity.data["boundary"] = self.attachable_policy(ctx, policy_arn)["arn"]
        else:
            entity.data.pop("boundary", None)
        self.store.update(entity)
        self.changed()
        return {}

    # -- tags on users, roles, policies, instance profiles -------------------------------------------------

    def _tag(self, ctx: RequestContext, kind: str, name: str, params: dict[str, Any]) -> dict[str, Any]:
        self.put_tags(self.entity(ctx, kind, name), params["Tags"])
        return {}

    def _untag(self, ctx: RequestContext, kind: str, name: str, params: dict[str, Any]) -> dict[str, Any]:
        entity = self.entity(ctx, kind, name)
        self.store.remove_tags(ctx.account_id, kind, entity.key, params["TagKeys"])
        self.changed()
        return {}

    def _list_tags(self, ctx: RequestContext, kind: str, name: str, params: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": self.tags_of(self.entity(ctx, kind, name)), "IsTruncated": False}

    def tag_user(self, ctx, params):
        return self._tag(ctx, "user", params["UserName"], params)

    def untag_user(self, ctx, params):
        return self._untag(ctx, "user", params["UserName"], params)

    def list_user_tags(self, ctx, params):
        return self._list_tags(ctx, "user", params["UserName"], params)

    def tag_role(self, ctx, params):
        return self._tag(ctx, "role", params["RoleName"], params)

    def untag_role(self, ctx, params):
        return self._untag(ctx, "role", params["RoleName"], params)

    def list_role_tags(self, ctx, params):
        return self._list_tags(ctx, "role", params["RoleName"], params)

    def tag_instance_profile(self, ctx, params):
        return self._tag(ctx, "instance-profile", params["InstanceProfileName"], params)

    def untag_instance_profile(self, ctx, params):
        return self._untag(ctx, "instance-profile", params["InstanceProfileName"], params)

    def list_instance_profile_tags(self, ctx, params):
        return self._list_tags(ctx, "instance-profile", params["InstanceProfileName"], params)

    def tag_policy(self, ctx, params):
        return self._tag(ctx, "policy", self.customer_policy(ctx, params["PolicyArn"]).name, params)

    def untag_policy(self, ctx, params):
        return self._untag(ctx, "policy", self.customer_policy(ctx, params["PolicyArn"]).name, params)

    def list_policy_tags(self, ctx, params):
        return self._list_tags(ctx, "policy", self.customer_policy(ctx, params["PolicyArn"]).name, params)

    # -- inline policies -----------------------------------------------------------------------------------

    def _put_inline(
        self, ctx: RequestContext, kind: str, owner: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        entity = self.entity(ctx, kind, owner)
        policy_doc.validate(params["PolicyDocument"], policy_doc.IDENTITY)
        self.check_size(params["PolicyDocument"], INLINE_SIZE_QUOTAS[kind], f"{kind} {entity.name}")
        self.store.put_inline(
            ctx.account_id, kind, entity.key, params["PolicyName"], params["PolicyDocument"]
        )
        self.changed()
        return {}

    def _get_inline(
        self, ctx: RequestContext, kind: str, owner: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        entity = self.entity(ctx, kind, owner)
        wanted = params["PolicyName"].lower()
        for name, document in self.store.inline(ctx.account_id, kind, entity.key):
            if name.lower() == wanted:
                owner_field = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
                return {owner_field: entity.name, "PolicyName": name, "PolicyDocument": quoted(document)}
        raise ServiceError(
            "NoSuchEntity", f"The {kind} policy with name {params['PolicyName']} cannot be found.", 404
        )

    def _delete_inline(
        self, ctx: RequestContext, kind: str, owner: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        entity = self.entity(ctx, kind, owner)
        if not self.store.delete_inline(ctx.account_id, kind, entity.key, params["PolicyName"]):
            raise ServiceError(
                "NoSuchEntity", f"The {kind} policy with name {params['PolicyName']} cannot be found.", 404
            )
        self.changed()
        return {}

    def _list_inline(
        self, ctx: RequestContext, kind: str, owner: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        entity = self.entity(ctx, kind, owner)
        names = [
            n
            for n, _ in self.store.inline(ctx.account_id, kind, entity.key)
            if n.lower() > (params.get("Marker") or "")
        ]
        names, paging = page(params, names, str.lower)
        return {"PolicyNames": names, **paging}

    def put_user_policy(self, ctx, params):
        return self._put_inline(ctx, "user", params["UserName"], params)

    def get_user_policy(self, ctx, params):
        return self._get_inline(ctx, "user", params["UserName"], params)

    def delete_user_policy(self, ctx, params):
        return self._delete_inline(ctx, "user", params["UserName"], params)

    def list_user_policies(self, ctx, params):
        return self._list_inline(ctx, "user", params["UserName"], params)

    def put_group_policy(self, ctx, params):
        return self._put_inline(ctx, "group", params["GroupName"], params)

    def get_group_policy(self, ctx, params):
        return self._get_inline(ctx, "group", params["GroupName"], params)

    def delete_group_policy(self, ctx, params):
        return self._delete_inline(ctx, "group", params["GroupName"], params)

    def list_group_policies(self, ctx, params):
        return self._list_inline(ctx, "group", params["GroupName"], params)

    def put_role_policy(self, ctx, params):
        return self._put_inline(ctx, "role", params["RoleName"], params)

    def get_role_policy(self, ctx, params):
        return self._get_inline(ctx, "role", params["RoleName"], params)

    def delete_role_policy(self, ctx, params):
        return self._delete_inline(ctx, "role", params["RoleName"], params)

    def list_role_policies(self, ctx, params):
        return self._list_inline(ctx, "role", params["RoleName"], params)

    # -- managed policies ----------------------------------------------------------------------------------

    def customer_policy(self, ctx: RequestContext, policy_arn: str) -> Entity:
        found = self.store.by_arn(policy_arn)
        if found is None or found.kind != "policy" or found.account != ctx.account_id:
            raise ServiceError(
                "NoSuchEntity", f"Policy {policy_arn} does not exist or is not attachable.", 404
            )
        return found

    def attachable_policy(self, ctx: RequestContext, policy_arn: str) -> dict[str, Any]:
        """A managed policy (customer or AWS) as {arn, name, id, path, version, document, created, entity}."""
        if policy_arn.startswith(AWS_POLICY_PREFIX):
            found = aws_policy(policy_arn)
            if found is None:
                raise ServiceError(
                    "NoSuchEntity", f"Policy {policy_arn} does not exist or is not attachable.", 404
                )
            return found
        entity = self.customer_policy(ctx, policy_arn)
        version = entity.data["default_version"]
        document, _ = self.store.version(entity.account, entity.key, version) or ("", 0.0)
        return {
            "arn": entity.arn,
            "name": entity.name,
            "id": entity.id,
            "path": entity.path,
            "version": f"v{version}",
            "document": document,
            "created": entity.created,
            "entity": entity,
            "description": entity.data.get("description"),
            "updated": entity.data.get("updated", entity.created),
        }

    def policy_shape(self, policy: dict[str, Any], account: str) -> dict[str, Any]:
        attachments = len(self.store.attachments_of(account, policy["arn"]))
        shape = {
            "PolicyName": policy["name"],
            "PolicyId": policy["id"],
            "Arn": policy["arn"],
            "Path": policy["path"],
            "DefaultVersionId": policy["version"],
            "AttachmentCount": attachments,
            "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": True,
            "CreateDate": policy["created"],
            "UpdateDate": policy.get("updated", policy["created"]),
        }
        if policy.get("description"):
            shape["Description"] = policy["description"]
        return shape

    def check_size(self, document: str, quota: int, owner: str) -> None:
        """IAM counts a policy's size without whitespace."""
        if len("".join(document.split())) > quota:
            raise ServiceError(
                "LimitExceeded", f"Maximum policy size of {quota} bytes exceeded for {owner}", 409
            )

    def create_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        document = params["PolicyDocument"]
        policy_doc.validate(document, policy_doc.IDENTITY)
        self.check_size(document, MANAGED_POLICY_SIZE, f"policy {params['PolicyName']}")
        data = {"default_version": 1, "next_version": 2, "description": params.get("Description")}
        entity = self.create_entity(ctx, "policy", params["PolicyName"], params.get("Path"), data)
        self.store.add_version(ctx.account_id, entity.key, 1, document, entity.created)
        self.put_tags(entity, params.get("Tags"))
        shape = self.policy_shape(self.attachable_policy(ctx, entity.arn), ctx.account_id)
        return {"Policy": self.with_tags(shape, entity)}

    def get_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policy = self.attachable_policy(ctx, params["PolicyArn"])
        shape = self.policy_shape(policy, ctx.account_id)
        return {"Policy": self.with_tags(shape, policy["entity"]) if "entity" in policy else shape}

    def list_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        from overcast.services.iam.managed import aws_policies

        scope = params.get("Scope") or "All"
        prefix = params.get("PathPrefix") or "/"
        found: list[dict[str, Any]] = []
        if scope in ("All", "AWS"):
            found += [p for p in aws_policies() if p["path"].startswith(prefix)]
        if scope in ("All", "Local"):
            found += [
                self.attachable_policy(ctx, e.arn)
                for e in self.store.all_of(ctx.account_id, "policy")
                if e.path.startswith(prefix)
            ]
        shapes = [self.policy_shape(p, ctx.account_id) for p in found]
        if params.get("OnlyAttached"):
            shapes = [s for s in shapes if s["AttachmentCount"]]
        marker = params.get("Marker") or ""
        shapes = [s for s in shapes if s["Arn"] > marker]
        shapes.sort(key=lambda s: s["Arn"])
        shapes, paging = page(params, shapes, lambda s: s["Arn"])
        return {"Policies": shapes, **paging}

    def delete_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entity = self.customer_policy(ctx, params["PolicyArn"])
        if self.store.attachments_of(ctx.account_id, entity.arn):
            raise delete_conflict("Cannot delete a policy attached to entities.")
        if len(self.store.versions(ctx.account_id, entity.key)) > 1:
            raise delete_conflict(
                "This policy has more than one version. Before you delete a policy, you must "
                "delete the policy's versions. The default version is deleted with the policy."
            )
        self.store.delete_versions(ctx.account_id, entity.key)
        self.store.delete(entity)
        self.changed()
        return {}

    def version_shape(
        self, version: int, document: str | None, created: float, default: int
    ) -> dict[str, Any]:
        shape: dict[str, Any] = {
            "VersionId": f"v{version}",
            "IsDefaultVersion": version == default,
            "CreateDate": created,
        }
        if document is not None:
            shape["Document"] = quoted(document)
        return shape

    def create_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entity = self.customer_policy(ctx, params["PolicyArn"])
        document = params["PolicyDocument"]
        policy_doc.validate(document, policy_doc.IDENTITY)
        self.check_size(document, MANAGED_POLICY_SIZE, f"policy {entity.name}")
        if len(self.store.versions(ctx.account_id, entity.key)) >= MAX_POLICY_VERSIONS:
            raise ServiceError(
                "LimitExceeded",
                f"A managed policy can have up to {MAX_POLICY_VERSIONS} versions. Before you create a new version, "
                "you must delete an existing version.",
                409,
            )
        version = entity.data["next_version"]
        now = self.clock.now()
        self.store.add_version(ctx.account_id, entity.key, version, document, now)
        entity.data["next_version"] = version + 1
        entity.data["updated"] = now
        if params.get("SetAsDefault"):
            entity.data["default_version"] = version
        self.store.update(entity)
        self.changed()
        return {"PolicyVersion": self.version_shape(version, None, now, entity.data["default_version"])}

    def _version_number(self, text: str) -> int:
        if not (text.startswith("v") and text[1:].isdigit()):
            raise ServiceError(
                "ValidationError",
                f"Value '{text}' at 'versionId' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?",
            )
        return int(text[1:])

    def get_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params["PolicyArn"].startswith(AWS_POLICY_PREFIX):
            policy = self.attachable_policy(ctx, params["PolicyArn"])
            if params["VersionId"] != policy["version"]:
                raise ServiceError(
                    "NoSuchEntity",
                    f"Policy {params['PolicyArn']} version {params['VersionId']} "
                    "does not exist or is not attachable.",
                    404,
                )
            return {
                "PolicyVersion": {
                    "VersionId": policy["version"],
                    "IsDefaultVersion": True,
                    "Document": quoted(policy["document"]),
                    "CreateDate": policy["created"],
                }
            }
        entity = self.customer_policy(ctx, params["PolicyArn"])
        number = self._version_number(params["VersionId"])
        found = self.store.version(ctx.account_id, entity.key, number)
        if found is None:
            raise ServiceError(
                "NoSuchEntity",
                f"Policy {entity.arn} version {params['VersionId']} does not exist or is not attachable.",
                404,
            )
        return {
            "PolicyVersion": self.version_shape(number, found[0], found[1], entity.data["default_version"])
        }

    def list_policy_versions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entity = self.customer_policy(ctx, params["PolicyArn"])
        default = entity.data["default_version"]
        versions = [
            self.version_shape(v, d, c, default)
            for v, d, c in self.store.versions(ctx.account_id, entity.key)
        ]
        return {"Versions": versions, "IsTruncated": False}

    def set_default_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entity = self.customer_policy(ctx, params["PolicyArn"])
        number = self._version_number(params["VersionId"])
        if self.store.version(ctx.account_id, entity.key, number) is None:
            raise ServiceError(
                "NoSuchEntity",
                f"Policy {entity.arn} version {params['VersionId']} does not exist or is not attachable.",
                404,
            )
        entity.data["default_version"] = number
        entity.data["updated"] = self.clock.now()
        self.store.update(entity)
        self.changed()
        return {}

    def delete_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entity = self.customer_policy(ctx, params["PolicyArn"])
        number = self._version_number(params["VersionId"])
        if self.store.version(ctx.account_id, entity.key, number) is None:
            raise ServiceError(
                "NoSuchEntity",
                f"Policy {entity.arn} version {params['VersionId']} does not exist or is not attachable.",
                404,
            )
        if number == entity.data["default_version"]:
            raise delete_conflict("Cannot delete the default version of a policy.")
        self.store.delete_versions(ctx.account_id, entity.key, number)
        self.changed()
        return {}

    # -- attachments ---------------------------------------------------------------------------------------

    def _attach(self, ctx: RequestContext, kind: str, owner: str, params: dict[str, Any]) -> dict[str, Any]:
        entity = self.entity(ctx, kind, owner)
        policy = self.attachable_policy(ctx, params["PolicyArn"])
        attached = self.store.attached(ctx.account_id, kind, entity.key)
        if policy["arn"] not in attached and len(attached) >= MANAGED_POLICIES_PER_ENTITY:
            quota = {"user": "PoliciesPerUser", "group": "PoliciesPerGroup", "role": "PoliciesPerRole"}[kind]
            raise ServiceError(
                "LimitExceeded", f"Cannot exceed quota for {quota}: {MANAGED_POLICIES_PER_ENTITY}", 409
            )
        self.store.attach(ctx.account_id, kind, entity.key, policy["arn"])
        self.changed()
        return {}

    def _detach(self, ctx: RequestContext, kind: str, owner: str, params: dict[str, Any]) -> dict[str, Any]:
        entity = self.entity(ctx, kind, owner)
        if not self.store.detach(ctx.account_id, kind, entity.key, params["PolicyArn"]):
            raise ServiceError("NoSuchEntity", f"Policy {params['PolicyArn']} was not found.", 404)
        self.changed()
        return {}

    def _list_attached(
        self, ctx: RequestContext, kind: str, owner: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        entity = self.entity(ctx, kind, owner)
        prefix = params.get("PathPrefix") or "/"
        items = []
        for arn in self.store.attached(ctx.account_id, kind, entity.key):
            try:
                policy = self.attachable_policy(ctx, arn)
            except ServiceError:
                continue
            if policy["path"].startswith(prefix) and arn > (params.get("Marker") or ""):
                items.append({"PolicyName": policy["name"], "PolicyArn": arn})
        items, paging = page(params, items, lambda p: p["PolicyArn"])
        return {"AttachedPolicies": items, **paging}

    def attach_user_policy(self, ctx, params):
        return self._attach(ctx, "user", params["UserName"], params)

    def detach_user_policy(self, ctx, params):
        return self._detach(ctx, "user", params["UserName"], params)

    def list_attached_user_policies(self, ctx, params):
        return self._list_attached(ctx, "user", params["UserName"], params)

    def attach_group_policy(self, ctx, params):
        return self._attach(ctx, "group", params["GroupName"], params)

    def detach_group_policy(self, ctx, params):
        return self._detach(ctx, "group", params["GroupName"], params)

    def list_attached_group_policies(self, ctx, params):
        return self._list_attached(ctx, "group", params["GroupName"], params)

    def attach_role_policy(self, ctx, params):
        return self._attach(ctx, "role", params["RoleName"], params)

    def detach_role_policy(self, ctx, params):
        return self._detach(ctx, "role", params["RoleName"], params)

    def list_attached_role_policies(self, ctx, params):
        return self._list_attached(ctx, "role", params["RoleName"], params)

    def list_entities_for_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policy = self.attachable_policy(ctx, params["PolicyArn"])
        wanted = params.get("EntityFilter")
        result: dict[str, Any] = {
            "PolicyGroups": [],
            "PolicyUsers": [],
            "PolicyRoles": [],
            "IsTruncated": False,
        }
        for kind, key in self.store.attachments_of(ctx.account_id, policy["arn"]):
            entity = self.store.get(ctx.account_id, kind, key)
            if entity is None or (wanted and wanted.lower() != kind):
                continue
            field = {"user": "PolicyUsers", "group": "PolicyGroups", "role": "PolicyRoles"}[kind]
            label = {"user": "User", "group": "Group", "role": "Role"}[kind]
            result[field].append({f"{label}Name": entity.name, f"{label}Id": entity.id})
        return result

    # -- instance profiles ---------------------------------------------------------------------------------

    def profile_shape(self, profile: Entity, *, tags: bool = False) -> dict[str, Any]:
        roles = [
            self.store.get(profile.account, "role", key)
            for key in self.store.profile_roles(profile.account, profile.key)
        ]
        shape = {
            "Path": profile.path,
            "InstanceProfileName": profile.name,
            "InstanceProfileId": profile.id,
            "Arn": profile.arn,
            "CreateDate": profile.created,
            "Roles": [self.role_shape(r) for r in roles if r],
        }
        return self.with_tags(shape, profile) if tags else shape

    def create_instance_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        profile = self.create_entity(
            ctx, "instance-profile", params["InstanceProfileName"], params.get("Path"), {}
        )
        self.put_tags(profile, params.get("Tags"))
        return {"InstanceProfile": self.profile_shape(profile, tags=True)}

    def get_instance_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        profile = self.entity(ctx, "instance-profile", params["InstanceProfileName"])
        return {"InstanceProfile": self.profile_shape(profile, tags=True)}

    def list_instance_profiles(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        profiles, paging = self.listing(ctx, "instance-profile", params)
        return {"InstanceProfiles": [self.profile_shape(p) for p in profiles], **paging}

    def list_instance_profiles_for_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role = self.entity(ctx, "role", params["RoleName"])
        profiles = [
            self.store.get(ctx.account_id, "instance-profile", k)
            for k in self.store.profiles_of_role(ctx.account_id, role.key)
        ]
        return {"InstanceProfiles": [self.profile_shape(p) for p in profiles if p], "IsTruncated": False}

    def add_role_to_instance_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        profile = self.entity(ctx, "instance-profile", params["InstanceProfileName"])
        role = self.entity(ctx, "role", params["RoleName"])
        if self.store.profile_roles(ctx.account_id, profile.key):
            raise ServiceError(
                "LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1", 409
            )
        self.store.link_profile(ctx.account_id, profile.key, role.key)
        self.changed()
        return {}

    def remove_role_from_instance_profile(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        profile = self.entity(ctx, "instance-profile", params["InstanceProfileName"])
        role = self.entity(ctx, "role", params["RoleName"])
        if role.key not in self.store.profile_roles(ctx.account_id, profile.key):
            raise ServiceError(
                "NoSuchEntity", f"Role {role.name} in Instance Profile {profile.name} cannot be found.", 404
            )
        self.store.unlink_profile(ctx.account_id, profile.key, role.key)
        self.changed()
        return {}

    def delete_instance_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        profile = self.entity(ctx, "instance-profile", params["InstanceProfileName"])
        if self.store.profile_roles(ctx.account_id, profile.key):
            raise delete_conflict("Cannot delete entity, must remove roles from instance profile first.")
        self.store.delete(profile)
        self.changed()
        return {}

    # -- OIDC providers (for AssumeRoleWithWebIdentity) ----------------------------------------------------

    def create_open_id_connect_provider(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        url = params["Url"]
        if not url.startswith("https://"):
            raise ServiceError("InvalidInput", "Invalid URL: the URL must begin with https://")
        host = url[len("https://") :].rstrip("/")
        arn = f"arn:aws:iam::{ctx.account_id}:oidc-provider/{host}"
        if self.store.get(ctx.account_id, "oidc-provider", host):
            raise ServiceError("EntityAlreadyExists", f"Provider with url {url} already exists.", 409)
        entity = Entity(
            ctx.account_id,
            "oidc-provider",
            host,
            new_id("AOPA"),
            "/",
            arn,
            self.clock.now(),
            {
                "url": url,
                "clients": params.get("ClientIDList") or [],
                "thumbprints": params.get("ThumbprintList") or [],
            },
        )
        self.store.insert(entity)
        self.put_tags(entity, params.get("Tags"))
        self.changed()
        return {"OpenIDConnectProviderArn": arn, "Tags": self.tags_of(entity)}

    def oidc_provider(self, ctx: RequestContext, arn: str) -> Entity:
        found = self.store.by_arn(arn)
        if found is None or found.kind != "oidc-provider":
            raise ServiceError("NoSuchEntity", f"OpenIDConnect Provider not found for arn {arn}", 404)
        return found

    def get_open_id_connect_provider(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entity = self.oidc_provider(ctx, params["OpenIDConnectProviderArn"])
        return {
            "Url": entity.name,
            "ClientIDList": entity.data["clients"],
            "ThumbprintList": entity.data["thumbprints"],
            "CreateDate": entity.created,
            "Tags": self.tags_of(entity),
        }

    def list_open_id_connect_providers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "OpenIDConnectProviderList": [
                {"Arn": e.arn} for e in self.store.all_of(ctx.account_id, "oidc-provider")
            ]
        }

    def delete_open_id_connect_provider(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.store.delete(self.oidc_provider(ctx, params["OpenIDConnectProviderArn"]))
        self.changed()
        return {}

    # -- keys this service issued ---------------------------------------------------------------------------

    def credential(self, access_key_id: str) -> Credential | None:
        if not access_key_id.startswith("AKIA"):
            return None
        row = self.store.access_key(access_key_id)
        if row is None:
            return None
        key_id, account, user_key, secret, status, *_ = row
        user = self.store.get(account, "user", user_key)
        if user is None:
            return None
        principal = Principal(
            account, user.arn, user.id, "user", key_id, {"user_name": user.name, "user_key": user.key}
        )
        return Credential(key_id, secret, principal, active=status == "Active")

    # -- what the policy engine needs -----------------------------------------------------------------------

    def authorization_resource(self, ctx: RequestContext, arn: str) -> Any:
        """An IAM entity as the engine sees it: its full ARN (with its path) and its tags (aws:ResourceTag)."""
        from overcast.policy.enforcement import ResourcePolicy

        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "iam" or "/" not in parts[5]:
            return None
        kind, name = parts[5].split("/", 1)
        if kind not in ("user", "group", "role", "policy", "instance-profile") or not name or "/" in name:
            return None
        entity = self.store.get(parts[4], kind, name)
        if entity is None:
            return None
        tags = {t["Key"]: t["Value"] for t in self.store.tags(entity.account, kind, entity.key)}
        return ResourcePolicy(entity.account, None, tags, arn=entity.arn)

    def policy_documents(self, account: str, kind: str, key: str) -> list[str]:
        """Inline and attached managed policy documents of one user, group or role."""
        documents = [document for _, document in self.store.inline(account, kind, key)]
        for arn in self.store.attached(account, kind, key):
            documents.append(self.managed_document(account, arn))
        return [d for d in documents if d]

    def managed_document(self, account: str, arn: str) -> str:
        if arn.startswith(AWS_POLICY_PREFIX):
            found = aws_policy(arn)
            return found["document"] if found else ""
        entity = self.store.by_arn(arn)
        if entity is None or entity.account != account:
            return ""
        version = self.store.version(account, entity.key, entity.data["default_version"])
        return version[0] if version else ""
