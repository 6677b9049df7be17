"""Organization policies (service control policies) and where they are attached: the root, OUs, accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.policy import document as policy_doc
from overcast.services.base import Operations
from overcast.services.organizations.errors import error, policy_type_not_enabled, target_not_found
from overcast.services.organizations.ids import FULL_ACCESS_ID, SCP, random_id
from overcast.services.organizations.store import Organization, Policy

if TYPE_CHECKING:
    from overcast.services.organizations.provider import OrganizationsProvider


def policy_summary(org: Organization, policy: Policy) -> dict[str, Any]:
    aws = policy.id == FULL_ACCESS_ID
    arn = (
        f"arn:aws:organizations::aws:policy/service_control_policy/{policy.id}"
        if aws
        else f"arn:aws:organizations::{org.management}:policy/{org.id}/{policy.type.lower()}/{policy.id}"
    )
    return {
        "Id": policy.id,
        "Arn": arn,
        "Name": policy.name,
        "Description": policy.description,
        "Type": policy.type,
        "AwsManaged": aws,
    }


def _described(org: Organization, policy: Policy) -> dict[str, Any]:
    return {"Policy": {"PolicySummary": policy_summary(org, policy), "Content": policy.content}}


class PolicyOperations(Operations):
    service: OrganizationsProvider

    def create_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        if params["Type"] == SCP:
            try:
                policy_doc.validate(params["Content"], policy_doc.SCP)
            except ServiceError as invalid:
                raise error("MalformedPolicyDocumentException", invalid.message) from None
        if orgs.store.policy_named(org.id, params["Name"], params["Type"]):
            raise error("DuplicatePolicyException", "A policy with the same name already exists.", 409)
        policy = Policy(
            f"p-{random_id(8)}",
            org.id,
            params["Name"],
            params["Description"],
            params["Type"],
            params["Content"],
        )
        orgs.store.add_policy(policy)
        orgs.put_tags(org, policy.id, params.get("Tags"))
        return _described(org, orgs.policy(org, policy.id))

    def describe_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx)
        return _described(org, self.service.policy(org, params["PolicyId"]))

    def update_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        policy = orgs.policy(org, params["PolicyId"])
        if policy.id == FULL_ACCESS_ID:
            raise error("AccessDeniedException", "You can't modify an AWS managed policy.")
        if params.get("Content"):
            policy_doc.validate(params["Content"], policy_doc.SCP)
        orgs.store.update_policy(
            policy.id,
            params.get("Name") or policy.name,
            params.get("Description", policy.description),
            params.get("Content") or policy.content,
        )
        orgs.changed()
        return self.describe_policy(ctx, params)

    def delete_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        policy = orgs.policy(org, params["PolicyId"])
        if orgs.store.is_attached(org.id, policy.id):
            raise error(
                "PolicyInUseException",
                "The policy is attached to one or more entities. You must detach it "
                "from all roots, OUs, and accounts before performing this operation.",
            )
        orgs.store.delete_policy(policy.id)
        return {}

    def list_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        policies = orgs.store.policies(org.id, params["Filter"])
        if params["Filter"] == SCP:
            policies = [orgs.policy(org, FULL_ACCESS_ID), *policies]
        return orgs.listing(ctx, params, "Policies", [policy_summary(org, p) for p in policies])

    def attach_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        policy = orgs.policy(org, params["PolicyId"])
        target = self._target(org, params["TargetId"])
        if policy.type not in org.enabled_types:
            raise policy_type_not_enabled()
        if orgs.store.is_attached(org.id, policy.id, target):
            raise error(
                "DuplicatePolicyAttachmentException",
                "The selected policy is already attached to the specified target.",
                409,
            )
        orgs.store.attach(org.id, policy.id, target)
        orgs.changed()
        return {}

    def detach_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        policy = orgs.policy(org, params["PolicyId"])
        target = self._target(org, params["TargetId"])
        attached = orgs.store.attached_to(org.id, target)
        if policy.id not in attached:
            raise error(
                "PolicyNotAttachedException",
                "The policy isn't attached to the specified target in the specified root.",
            )
        if len(attached) == 1 and policy.type == SCP:
            raise error(
                "ConstraintViolationException",
                "You cannot remove the last service control policy (SCP) that is attached to the target.",
                400,
            )
        orgs.store.detach(org.id, policy.id, target)
        orgs.changed()
        return {}

    def list_policies_for_target(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        target = self._target(org, params["TargetId"])
        policies = [orgs.policy(org, i) for i in orgs.store.attached_to(org.id, target)]
        summaries = [policy_summary(org, p) for p in policies if p.type == params["Filter"]]
        return orgs.listing(ctx, params, "Policies", summaries)

    def list_targets_for_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        orgs = self.service
        org = orgs.org(ctx)
        policy = orgs.policy(org, params["PolicyId"])
        targets = []
        for target in orgs.store.targets_of(org.id, policy.id):
            if target == org.root_id:
                kind, name, arn = "ROOT", "Root", orgs.root_shape(org)["Arn"]
            elif target.startswith("ou-"):
                unit = orgs.unit(org, target)
                kind, name, arn = "ORGANIZATIONAL_UNIT", unit.name, orgs.unit_shape(org, unit)["Arn"]
            else:
                account = orgs.account(org, target)
                kind, name, arn = "ACCOUNT", account.name, orgs.account_shape(org, account)["Arn"]
            targets.append({"TargetId": target, "Arn": arn, "Name": name, "Type": kind})
        return orgs.listing(ctx, params, "Targets", targets)

    def _target(self, org: Organization, target: str) -> str:
        """`target` if it is the root, an OU or an account of the organization."""
        store = self.service.store
        if target == org.root_id:
            return target
        if target.startswith("ou-"):
            found = store.parent_of(org.id, target) is not None
        else:
            found = store.account(org.id, target) is not None
        if not found:
            raise target_not_found()
        return target
