"""IAM's provider: the operation families it composes, the hooks the platform and the policy engine call, and
what the families share (entities, tags, shapes, managed policies, the identity a principal is evaluated with).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.http import HttpRequest, HttpResponse
from overcast.identity import Credential, Principal
from overcast.policy import document as policy_doc
from overcast.policy.enforcement import Identity, ResourcePolicy
from overcast.services.base import ServiceProvider
from overcast.services.iam.access_keys import AccessKeyOperations
from overcast.services.iam.accounts import AccountOperations
from overcast.services.iam.advisor import AccessRecorder, AdvisorOperations
from overcast.services.iam.attachments import AttachedPolicyOperations
from overcast.services.iam.certificates import ServerCertificateOperations, SigningCertificateOperations
from overcast.services.iam.errors import (
    already_exists,
    check_policy_arn,
    invalid_marker,
    no_such,
    no_such_policy,
)
from overcast.services.iam.groups import GroupOperations
from overcast.services.iam.inline import InlinePolicyOperations
from overcast.services.iam.instance_profiles import InstanceProfileOperations
from overcast.services.iam.keys import ID_PREFIXES, new_id
from overcast.services.iam.login_profiles import LoginProfileOperations
from overcast.services.iam.managed import AWS_POLICY_PREFIX, aws_policy
from overcast.services.iam.mfa import MfaDeviceOperations, Tagged
from overcast.services.iam.oidc import OpenIdConnectProviderOperations
from overcast.services.iam.policies import PolicyOperations, quoted
from overcast.services.iam.reports import ReportOperations
from overcast.services.iam.roles import RoleOperations
from overcast.services.iam.root_access import RootAccessOperations
from overcast.services.iam.saml import SamlProviderOperations
from overcast.services.iam.service_credentials import ServiceSpecificCredentialOperations
from overcast.services.iam.simulator import SimulatorOperations
from overcast.services.iam.ssh_keys import SshPublicKeyOperations
from overcast.services.iam.store import Entity, IamStore
from overcast.services.iam.tagging import TagOperations
from overcast.services.iam.users import UserOperations
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.kit.tags import TagRules, tag_dict

T = TypeVar("T")

# Listings AWS authorizes against the path they list.
_IAM_LISTS = {
    "ListUsers": "user",
    "ListGroups": "group",
    "ListRoles": "role",
    "ListPolicies": "policy",
    "ListInstanceProfiles": "instance-profile",
}
# The kinds of entity whose ARNs the policy engine may ask about (aws:ResourceTag, paths).
_AUTHORIZED_KINDS = ("user", "group", "role", "policy", "instance-profile")
TAG_RULES = TagRules(
    max_tags=50,
    reserved_prefix=None,
    too_many=lambda _: ServiceError(
        "LimitExceeded", "The number of tags has reached the maximum limit.", 409
    ),
)


class IamProvider(ServiceProvider):
    service_name = "iam"
    families = (
        UserOperations,
        GroupOperations,
        RoleOperations,
        InstanceProfileOperations,
        OpenIdConnectProviderOperations,
        SamlProviderOperations,
        ServerCertificateOperations,
        SigningCertificateOperations,
        SshPublicKeyOperations,
        ServiceSpecificCredentialOperations,
        PolicyOperations,
        AttachedPolicyOperations,
        InlinePolicyOperations,
        TagOperations,
        AccessKeyOperations,
        LoginProfileOperations,
        MfaDeviceOperations,
        AccountOperations,
        ReportOperations,
        SimulatorOperations,
        AdvisorOperations,
        RootAccessOperations,
    )

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.generation = 0  # bumped by every write: caches of evaluated principals key on it
        # Built outside any request transaction (the platform builds providers before it opens one), so the
        # migration is never rolled back with a failed request.
        self.store = IamStore(self.db)
        self.access = AccessRecorder(self.store, self.clock)
        self._move_legacy_tags()

    def reset(self) -> None:
        self.generation += 1
        self.access.forget()

    def changed(self) -> None:
        self.generation += 1

    # -- hooks ---------------------------------------------------------------------------------------------

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The resource a request acts on, for authorization."""
        account = ctx.account_id
        listed = _IAM_LISTS.get(ctx.operation)
        if listed:
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

    async def internal_endpoint(self, request: HttpRequest, path: str) -> HttpResponse | None:
        """/_overcast/iam/report: under --iam soft, per principal, the calls it made and the least-privilege
        policy they needed (the policy engine's record)."""
        if path != "/_overcast/iam/report" or request.method != "GET":
            return None
        from overcast.http import json_response
        from overcast.policy.enforcement import least_privilege_report

        mode = self.platform.config.iam
        return json_response({"mode": mode, "principals": least_privilege_report(self.platform)})

    def credential(self, access_key_id: str) -> Credential | None:
        """The IAM user behind an AKIA... access key."""
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

    def authorization_resource(self, ctx: RequestContext, arn: str) -> ResourcePolicy | None:
        """An IAM entity as the engine sees it: its full ARN (with its path) and its tags (aws:ResourceTag)."""
        parsed = parse_arn(arn)
        if parsed is None or parsed.service != "iam" or "/" not in parsed.resource:
            return None
        kind, name = parsed.resource_type, parsed.resource_id
        if kind not in _AUTHORIZED_KINDS or not name or "/" in name:
            return None
        entity = self.store.get(parsed.account, kind, name)
        if entity is None:
            return None
        return ResourcePolicy(entity.account, None, self.tags.get(entity.arn), arn=entity.arn)

    # -- what the policy engine asks (by duck typing: policy/ imports no service) ----------------------------

    def identity_of(self, principal: Principal) -> Identity:
        """The identity-based policies, permissions boundary and tags of a user or a role session."""
        if principal.kind == "user":
            kind = "user"
            key = principal.attributes.get("user_key") or principal.arn.rsplit("/", 1)[-1].lower()
        elif principal.kind == "assumed-role":
            kind, key = "role", principal.attributes["role_name"].lower()
        elif principal.kind == "federated-user":  # the parent user's policies, narrowed by the session policy
            parent = self.store.by_arn(principal.attributes.get("parent", ""))
            return self.entity_identity(parent) if parent else Identity([])
        else:
            return Identity([])
        entity = self.store.get(principal.account_id, kind, key)
        return self.entity_identity(entity) if entity is not None else Identity([])

    def entity_identity(self, entity: Entity) -> Identity:
        account, kind, key = entity.account, entity.kind, entity.key
        documents = self.policy_documents(account, kind, key)
        if kind == "user":
            for group_key in self.store.groups_of(account, key):
                documents += self.policy_documents(account, "group", group_key)
        policies = [p for p in (policy_doc.parse(d) for d in documents) if p]
        boundary_arn = entity.data.get("boundary")
        boundary = policy_doc.parse(self.managed_document(account, boundary_arn)) if boundary_arn else None
        return Identity(policies, boundary, self.tags.get(entity.arn))

    def record_service_access(self, principal: Principal, namespace: str, region: str) -> None:
        """Every call of a user or role session, for the access advisor and access keys' last use."""
        self.access.record(principal, namespace, region)

    # -- entities ------------------------------------------------------------------------------------------

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

    def by_arn(self, arn: str, kind: str, missing: str) -> Entity:
        """The entity of `kind` an ARN names, else NoSuchEntity with the service's text `missing`."""
        found = self.store.by_arn(arn)
        if found is None or found.kind != kind:
            raise ServiceError("NoSuchEntity", missing, 404)
        return found

    def saml_provider(self, arn: str) -> Entity:
        return self.by_arn(arn, "saml-provider", f"Manifest not found for arn {arn}")

    def oidc_provider(self, arn: str) -> Entity:
        return self.by_arn(arn, "oidc-provider", f"OpenIDConnect Provider not found for arn {arn}")

    def remove_entity(self, entity: Entity) -> None:
        self.store.delete(entity)
        self.tags.forget(entity.arn)
        self.changed()

    def rename_entity(
        self, ctx: RequestContext, kind: str, name: str, new_name: str | None, new_path: str | None
    ) -> None:
        """UpdateUser / UpdateGroup: a new name and/or path; what the entity owns follows it."""
        entity = self.entity(ctx, kind, name)
        old_key, old_arn = entity.key, entity.arn
        if new_name and new_name.lower() != old_key and self.store.get(ctx.account_id, kind, new_name):
            raise already_exists(kind, new_name)
        entity.name = new_name or entity.name
        entity.path = new_path or entity.path
        entity.arn = self.arn(entity.account, entity.kind, entity.path, entity.name)
        self.store.update(entity, old_key)
        if entity.key != old_key:
            self.store.rename_owner(ctx.account_id, kind, old_key, entity.key)
        if entity.arn != old_arn:
            tags = self.tags.get(old_arn)
            self.tags.forget(old_arn)
            self.tags.add(entity.arn, tags, TAG_RULES, account=entity.account, region="")
        self.changed()

    def set_boundary(self, ctx: RequestContext, kind: str, name: str, policy_arn: str | None) -> None:
        entity = self.entity(ctx, kind, name)
        if policy_arn:
            entity.data["boundary"] = self.attachable_policy(ctx, policy_arn)["arn"]
        else:
            entity.data.pop("boundary", None)
        self.store.update(entity)
        self.changed()

    def caller_user(self, ctx: RequestContext, params: dict[str, Any]) -> Entity:
        """The user `UserName` names, or the calling user when the request names none."""
        name = params.get("UserName")
        if not name:
            if ctx.principal.kind != "user":
                raise ServiceError(
                    "ValidationError", "Must specify userName when calling with non-User credentials"
                )
            name = ctx.principal.attributes["user_name"]
        return self.entity(ctx, "user", name)

    # -- paging (Marker / IsTruncated / MaxItems) ----------------------------------------------------------

    def marker_position(self, ctx: RequestContext, params: dict[str, Any]) -> Any:
        """The position the request's Marker resumes after (None from the start); a Marker that is not one
        of this listing's is refused."""
        return decode_token(params.get("Marker"), invalid_marker, ctx.operation)

    def page(
        self, ctx: RequestContext, params: dict[str, Any], items: list[T], position: Callable[[T], Any]
    ) -> tuple[list[T], dict[str, Any]]:
        """Cut a page from `items` (all that follow the Marker, or at least one more than a page): the page
        and its IsTruncated/Marker fields."""
        found, token = page_of(items, params.get("MaxItems") or 100, position, ctx.operation)
        return found, ({"IsTruncated": True, "Marker": token} if token else {"IsTruncated": False})

    def listing(self, ctx: RequestContext, kind: str, params: dict[str, Any]) -> tuple[list[Entity], dict]:
        """One page of the entities of a kind under PathPrefix, by name."""
        limit = params.get("MaxItems") or 100
        rows = self.store.page(
            ctx.account_id,
            kind,
            params.get("PathPrefix") or "/",
            self.marker_position(ctx, params) or "",
            limit + 1,
        )
        return self.page(ctx, params, rows, lambda e: e.key)

    # -- tags ----------------------------------------------------------------------------------------------

    def tags_of(self, entity: Entity | Tagged) -> list[dict[str, str]]:
        """An entity's tags in IAM's order (by key)."""
        return [{"Key": k, "Value": v} for k, v in sorted(self.tags.get(entity.arn).items())]

    def add_tags(self, entity: Entity | Tagged, tags: list[dict[str, str]] | None) -> None:
        if not tags:
            return
        keys = [t["Key"] for t in tags]
        if len(set(keys)) != len(keys):
            raise ServiceError(
                "InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive."
            )
        self.tags.add(entity.arn, tag_dict(tags), TAG_RULES, account=entity.account, region="")
        self.changed()

    def with_tags(self, shape: dict[str, Any], entity: Entity) -> dict[str, Any]:
        tags = self.tags_of(entity)
        if tags:
            shape["Tags"] = tags
        return shape

    def _move_legacy_tags(self) -> None:
        """Tags written by versions that kept them in iam_tags move to the kit's table, once."""
        with self.db.transaction():
            for arn, account, key, value in self.store.legacy_tags():
                self.tags.add(arn, {key: value}, TAG_RULES, account=account, region="")
            self.store.forget_legacy_tags()

    # -- shapes --------------------------------------------------------------------------------------------

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

    def group_shape(self, group: Entity) -> dict[str, Any]:
        return {
            "Path": group.path,
            "GroupName": group.name,
            "GroupId": group.id,
            "Arn": group.arn,
            "CreateDate": group.created,
        }

    def role_shape(self, role: Entity, view: str = "list") -> dict[str, Any]:
        """A role as each operation shows it: "create" (CreateRole: no MaxSessionDuration nor RoleLastUsed),
        "get" (GetRole and the like: everything, RoleLastUsed {} until first used) or "list" (ListRoles and
        roles inside instance profiles: no PermissionsBoundary, RoleLastUsed nor Tags)."""
        shape: dict[str, Any] = {
            "Path": role.path,
            "RoleName": role.name,
            "RoleId": role.id,
            "Arn": role.arn,
            "CreateDate": role.created,
            "AssumeRolePolicyDocument": quoted(role.data["trust"]),
        }
        if role.data.get("description") is not None:
            shape["Description"] = role.data["description"]
        if view != "create":
            shape["MaxSessionDuration"] = role.data.get("max_session", 3600)
        if view != "list" and role.data.get("boundary"):
            shape["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": role.data["boundary"],
            }
        if view == "get":
            last_used = role.data.get("last_used")
            shape["RoleLastUsed"] = (
                {"LastUsedDate": last_used, "Region": role.data.get("last_region")} if last_used else {}
            )
        return self.with_tags(shape, role) if view != "list" else shape

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

    def policy_shape(
        self, policy: dict[str, Any], account: str, attachments: int | None = None
    ) -> dict[str, Any]:
        if attachments is None:
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

    # -- managed policies ----------------------------------------------------------------------------------

    def customer_policy(self, ctx: RequestContext, policy_arn: str) -> Entity:
        check_policy_arn(policy_arn)
        found = self.store.by_arn(policy_arn)
        if found is None or found.kind != "policy" or found.account != ctx.account_id:
            raise no_such_policy(policy_arn)
        return found

    def attachable_policy(self, ctx: RequestContext, policy_arn: str) -> dict[str, Any]:
        """A managed policy (customer or AWS) as {arn, name, id, path, version, document, created, entity}."""
        if policy_arn.startswith(AWS_POLICY_PREFIX):
            found = aws_policy(policy_arn)
            if found is None:
                raise no_such_policy(policy_arn)
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

    def check_size(self, document: str, quota: int, owner: str) -> None:
        """IAM counts a policy's size without whitespace."""
        if len("".join(document.split())) > quota:
            raise ServiceError(
                "LimitExceeded", f"Maximum policy size of {quota} bytes exceeded for {owner}", 409
            )
