"""Managed policies: customer policies with up to five versions, and AWS's managed policies (read only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.policy import document as policy_doc
from overcast.services.base import Operations
from overcast.services.iam.errors import delete_conflict, limit_exceeded, no_such_version
from overcast.services.iam.managed import AWS_POLICY_PREFIX, aws_policies

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider

MAX_POLICY_VERSIONS = 5
MANAGED_POLICY_SIZE = 6144


def quoted(document: str) -> str:
    """IAM returns policy documents URL-encoded (the SDKs decode them)."""
    return quote(document, safe="")


def version_number(text: str) -> int:
    if not (text.startswith("v") and text[1:].isdigit()):
        raise ServiceError(
            "ValidationError",
            f"Value '{text}' at 'versionId' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?",
        )
    return int(text[1:])


def version_shape(version: int, document: str | None, created: float, default: int) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "VersionId": f"v{version}",
        "IsDefaultVersion": version == default,
        "CreateDate": created,
    }
    if document is not None:
        shape["Document"] = quoted(document)
    return shape


class PolicyOperations(Operations):
    service: IamProvider

    def create_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        document = params["PolicyDocument"]
        policy_doc.validate(document, policy_doc.IDENTITY)
        iam.check_size(document, MANAGED_POLICY_SIZE, f"policy {params['PolicyName']}")
        data = {"default_version": 1, "next_version": 2, "description": params.get("Description")}
        entity = iam.create_entity(ctx, "policy", params["PolicyName"], params.get("Path"), data)
        iam.store.add_version(ctx.account_id, entity.key, 1, document, entity.created)
        iam.add_tags(entity, params.get("Tags"))
        shape = iam.policy_shape(iam.attachable_policy(ctx, entity.arn), ctx.account_id)
        return {"Policy": iam.with_tags(shape, entity)}

    def get_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        policy = iam.attachable_policy(ctx, params["PolicyArn"])
        shape = iam.policy_shape(policy, ctx.account_id)
        return {"Policy": iam.with_tags(shape, policy["entity"]) if "entity" in policy else shape}

    def list_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        scope = params.get("Scope") or "All"
        prefix = params.get("PathPrefix") or "/"
        found: list[dict[str, Any]] = []
        if scope in ("All", "AWS"):
            found += [p for p in aws_policies() if p["path"].startswith(prefix)]
        if scope in ("All", "Local"):
            found += [
                iam.attachable_policy(ctx, e.arn)
                for e in iam.store.all_of(ctx.account_id, "policy")
                if e.path.startswith(prefix)
            ]
        counts = iam.store.attachment_counts(ctx.account_id)
        if params.get("OnlyAttached"):
            found = [p for p in found if counts.get(p["arn"])]
        after = iam.marker_position(ctx, params) or ""
        found = sorted((p for p in found if p["arn"] > after), key=lambda p: p["arn"])
        found, paging = iam.page(ctx, params, found, lambda p: p["arn"])
        shapes = [iam.policy_shape(p, ctx.account_id, counts.get(p["arn"], 0)) for p in found]
        return {"Policies": shapes, **paging}

    def delete_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        entity = iam.customer_policy(ctx, params["PolicyArn"])
        if iam.store.attachments_of(ctx.account_id, entity.arn):
            raise delete_conflict("Cannot delete a policy attached to entities.")
        if len(iam.store.versions(ctx.account_id, entity.key)) > 1:
            raise delete_conflict(
                "This policy has more than one version. Before you delete a policy, you must "
                "delete the policy's versions. The default version is deleted with the policy."
            )
        iam.store.delete_versions(ctx.account_id, entity.key)
        iam.remove_entity(entity)
        return {}

    # -- versions ------------------------------------------------------------------------------------------

    def create_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        entity = iam.customer_policy(ctx, params["PolicyArn"])
        document = params["PolicyDocument"]
        policy_doc.validate(document, policy_doc.IDENTITY)
        iam.check_size(document, MANAGED_POLICY_SIZE, f"policy {entity.name}")
        if len(iam.store.versions(ctx.account_id, entity.key)) >= MAX_POLICY_VERSIONS:
            raise limit_exceeded(
                f"A managed policy can have up to {MAX_POLICY_VERSIONS} versions. Before you create a new "
                "version, you must delete an existing version."
            )
        version = entity.data["next_version"]
        now = self.clock.now()
        iam.store.add_version(ctx.account_id, entity.key, version, document, now)
        entity.data["next_version"] = version + 1
        entity.data["updated"] = now
        if params.get("SetAsDefault"):
            entity.data["default_version"] = version
        iam.store.update(entity)
        iam.changed()
        return {"PolicyVersion": version_shape(version, None, now, entity.data["default_version"])}

    def get_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        iam = self.service
        if params["PolicyArn"].startswith(AWS_POLICY_PREFIX):
            policy = iam.attachable_policy(ctx, params["PolicyArn"])
            if params["VersionId"] != policy["version"]:
                raise no_such_version(params["PolicyArn"], params["VersionId"])
            return {
                "PolicyVersion": {
                    "VersionId": policy["version"],
                    "IsDefaultVersion": True,
                    "Document": quoted(policy["document"]),
                    "CreateDate": policy["updated"],
                }
            }
        entity = iam.customer_policy(ctx, params["PolicyArn"])
        number = version_number(params["VersionId"])
        found = iam.store.version(ctx.account_id, entity.key, number)
        if found is None:
            raise no_such_version(entity.arn, params["VersionId"])
        return {"PolicyVersion": version_shape(number, found[0], found[1], entity.data["default_version"])}

    def list_policy_versions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params["PolicyArn"].startswith(AWS_POLICY_PREFIX):  # the default version (older ones are not kept)
            policy = self.service.attachable_policy(ctx, params["PolicyArn"])
            current = {
                "VersionId": policy["version"],
                "IsDefaultVersion": True,
                "CreateDate": policy["updated"],
            }
            return {"Versions": [{**current, "Document": quoted(policy["document"])}], "IsTruncated": False}
        entity = self.service.customer_policy(ctx, params["PolicyArn"])
        default = entity.data["default_version"]
        versions = [
            version_shape(v, d, c, default)
            for v, d, c in self.service.store.versions(ctx.account_id, entity.key)
        ]
        return {"Versions": versions, "IsTruncated": False}

    def set_default_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entity, number = self._existing_version(ctx, params)
        entity.data["default_version"] = number
        entity.data["updated"] = self.clock.now()
        self.service.store.update(entity)
        self.service.changed()
        return {}

    def delete_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entity, number = self._existing_version(ctx, params)
        if number == entity.data["default_version"]:
            raise delete_conflict("Cannot delete the default version of a policy.")
        self.service.store.delete_versions(ctx.account_id, entity.key, number)
        self.service.changed()
        return {}

    def _existing_version(self, ctx: RequestContext, params: dict[str, Any]):
        entity = self.service.customer_policy(ctx, params["PolicyArn"])
        number = version_number(params["VersionId"])
        if self.service.store.version(ctx.account_id, entity.key, number) is None:
            raise no_such_version(entity.arn, params["VersionId"])
        return entity, number
