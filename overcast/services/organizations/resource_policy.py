"""The organization's resource policy (Put/Describe/DeleteResourcePolicy): what the management account
delegates to member accounts (reading the organization, managing its policies). The management account
writes it; a member it names (as `arn:aws:iam::<account>:root` or the account id) may read it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.organizations.errors import access_denied, error
from overcast.services.organizations.ids import random_id

if TYPE_CHECKING:
    from overcast.services.organizations.provider import OrganizationsProvider
    from overcast.services.organizations.store import Organization


# Organizations' messages are its documentation's first sentence for each error.
def _missing() -> Any:
    return error(
        "ResourcePolicyNotFoundException",
        "We can't find a resource policy request with the parameter that you specified.",
    )


class ResourcePolicyOperations(Operations):
    service: OrganizationsProvider

    def put_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx)
        content = params["Content"]
        try:
            document = json.loads(content)
        except ValueError:
            document = None
        if not isinstance(document, dict) or not document.get("Statement"):
            raise error(
                "MalformedPolicyDocumentException",
                "The provided policy document doesn't meet the requirements of the specified policy type.",
            )
        found = self.service.store.resource_policy(org.id)
        policy_id = found[0] if found else f"rp-{random_id(8)}"
        self.service.store.put_resource_policy(org.id, policy_id, content)
        if params.get("Tags"):
            self.service.put_tags(org, policy_id, params["Tags"])
        return {"ResourcePolicy": self._shape(org, policy_id, content)}

    def describe_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx, management=False)
        found = self.service.store.resource_policy(org.id)
        if org.management != ctx.account_id and (found is None or not _names(found[1], ctx.account_id)):
            raise access_denied()
        if found is None:
            raise _missing()
        return {"ResourcePolicy": self._shape(org, *found)}

    def delete_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        org = self.service.org(ctx)
        if not self.service.store.delete_resource_policy(org.id):
            raise _missing()
        return {}

    @staticmethod
    def _shape(org: Organization, policy_id: str, content: str) -> dict[str, Any]:
        arn = f"arn:aws:organizations::{org.management}:resourcepolicy/{org.id}/{policy_id}"
        return {"ResourcePolicySummary": {"Id": policy_id, "Arn": arn}, "Content": content}


def _names(content: str, account: str) -> bool:
    """Whether a statement of the policy names `account` as its principal (its root ARN or its id)."""
    document = json.loads(content)
    statements = document.get("Statement")
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = (statement or {}).get("Principal")
        values = principal.get("AWS") if isinstance(principal, dict) else principal
        for value in values if isinstance(values, list) else [values]:
            if value in (account, f"arn:aws:iam::{account}:root", "*"):
                return True
    return False
