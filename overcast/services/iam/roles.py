"""IAM roles (and service-linked roles): trust policies, session limits, descriptions, permissions
boundaries. AssumeRole itself is STS's, which reads roles through `iam/api.py`."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.policy import document as policy_doc
from overcast.services.base import Operations
from overcast.services.iam.errors import delete_conflict, invalid_input
from overcast.services.iam.managed import AWS_POLICY_PREFIX
from overcast.services.iam.service_linked import linked_role

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider


def service_linked_trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


class RoleOperations(Operations):
    service: IamProvider

    def create_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        trust = params["AssumeRolePolicyDocument"]
        policy_doc.validate(trust, policy_doc.TRUST)
        data: dict[str, Any] = {"trust": trust, "max_session": params.get("MaxSessionDuration") or 3600}
        if params.get("Description") is not None:
            data["description"] = params["Description"]
        if params.get("PermissionsBoundary"):
            data["boundary"] = iam.attachable_policy(ctx, params["PermissionsBoundary"])["arn"]
        role = iam.create_entity(ctx, "role", params["RoleName"], params.get("Path"), data)
        iam.add_tags(role, params.get("Tags"))
        return {"Role": iam.role_shape(role, "create")}

    def create_service_linked_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        service = params["AWSServiceName"]
        if not service.endswith(".amazonaws.com"):
            raise ServiceError(
                "InvalidInput", f"Service name {service} is not a valid AWS service principal."
            )
        linked = linked_role(service)
        name = linked.name
        if params.get("CustomSuffix"):
            if not linked.suffix:
                raise invalid_input(f"Custom suffix is not allowed for {service}")
            name = f"{name}_{params['CustomSuffix']}"
        if iam.store.get(ctx.account_id, "role", name):
            raise invalid_input(
                f"Service role name {name} has been taken in this account, please try a different suffix."
            )
        data = {"trust": service_linked_trust(service), "max_session": 3600, "service_linked": True}
        if params.get("Description") is not None:
            data["description"] = params["Description"]
        role = iam.create_entity(ctx, "role", name, f"/aws-service-role/{service}/", data)
        if linked.policy:
            iam.store.attach(
                ctx.account_id, "role", role.key, f"{AWS_POLICY_PREFIX}aws-service-role/{linked.policy}"
            )
        return {"Role": iam.role_shape(role, "create")}

    def delete_service_linked_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role = self.service.entity(ctx, "role", params["RoleName"])
        self.service.store.forget_owner(ctx.account_id, "role", role.key)
        self.service.remove_entity(role)
        service = role.path.removeprefix("/aws-service-role/").rstrip("/")
        return {"DeletionTaskId": f"task/aws-service-role/{service}/{role.name}/{uuid.uuid4()}"}

    def get_service_linked_role_deletion_status(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return {"Status": "SUCCEEDED"}

    def get_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Role": self.service.role_shape(self.service.entity(ctx, "role", params["RoleName"]), "get")}

    def list_roles(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        roles, paging = self.service.listing(ctx, "role", params)
        return {"Roles": [self.service.role_shape(r) for r in roles], **paging}

    def update_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role = self.service.entity(ctx, "role", params["RoleName"])
        if params.get("MaxSessionDuration"):
            role.data["max_session"] = params["MaxSessionDuration"]
        if "Description" in params:
            role.data["description"] = params["Description"]
        self.service.store.update(role)
        self.service.changed()
        return {}

    def update_role_description(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role = self.service.entity(ctx, "role", params["RoleName"])
        role.data["description"] = params["Description"]
        self.service.store.update(role)
        return {"Role": self.service.role_shape(role, "get")}

    def update_assume_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role = self.service.entity(ctx, "role", params["RoleName"])
        policy_doc.validate(params["PolicyDocument"], policy_doc.TRUST)
        role.data["trust"] = params["PolicyDocument"]
        self.service.store.update(role)
        self.service.changed()
        return {}

    def delete_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        role = self.service.entity(ctx, "role", params["RoleName"])
        if role.data.get("service_linked"):
            raise ServiceError(
                "UnmodifiableEntity",
                f"Cannot perform the operation on the protected role '{role.name}' "
                "- this role is only modifiable by AWS",
                400,
            )
        if store.profiles_of_role(ctx.account_id, role.key):
            raise delete_conflict("Cannot delete entity, must remove roles from instance profile first.")
        if store.inline(ctx.account_id, "role", role.key):
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        if store.attached(ctx.account_id, "role", role.key):
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        self.service.remove_entity(role)
        return {}

    def put_role_permissions_boundary(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.set_boundary(ctx, "role", params["RoleName"], params["PermissionsBoundary"])
        return {}

    def delete_role_permissions_boundary(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.set_boundary(ctx, "role", params["RoleName"], None)
        return {}
