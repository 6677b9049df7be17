"""Resource policies: account-level ones by name (up to ten per region) and those of one log group."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.logs.common import invalid, not_found

if TYPE_CHECKING:
    from overcast.services.logs.provider import LogsProvider

MAX_RESOURCE_POLICIES = 10  # account-level policies per region


class ResourcePolicyOperations(Operations):
    service: LogsProvider

    def put_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        name, arn = params.get("policyName") or "", params.get("resourceArn") or ""
        document = params.get("policyDocument")
        if not document or not (name or arn):
            raise invalid("policyName and policyDocument are required.")
        try:
            json.loads(document)
        except ValueError:
            raise invalid("Invalid policy document: not valid JSON.") from None
        if arn:
            self.service.group_by_arn(ctx, arn)
        existing = {row[0] for row in store.resource_policies(ctx.account_id, ctx.region, arn)}
        if not arn and name not in existing and len(existing) >= MAX_RESOURCE_POLICIES:
            raise ServiceError("LimitExceededException", "Resource limit exceeded.")
        revision, now = str(uuid.uuid4()), self.service.now_ms()
        store.put_resource_policy(ctx.account_id, ctx.region, name, arn, document, now, revision)
        return {"resourcePolicy": describe_policy(name, arn, document, now, revision), "revisionId": revision}

    def describe_resource_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params.get("resourceArn") or ""
        rows = self.service.store.resource_policies(ctx.account_id, ctx.region, arn)
        return {"resourcePolicies": [describe_policy(name, arn, *rest) for name, *rest in rows]}

    def delete_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, arn = params.get("policyName") or "", params.get("resourceArn") or ""
        if not self.service.store.delete_resource_policy(ctx.account_id, ctx.region, name, arn):
            raise not_found("Policy with name [" + name + "] does not exist")
        return {}


def describe_policy(name: str, arn: str, document: str, updated: int, revision: str) -> dict[str, Any]:
    described: dict[str, Any] = {
        "policyDocument": document,
        "lastUpdatedTime": updated,
        "revisionId": revision,
        "policyScope": "RESOURCE" if arn else "ACCOUNT",
    }
    if name:
        described["policyName"] = name
    if arn:
        described["resourceArn"] = arn
    return described
