"""DynamoDB resource-based policies of tables (evaluated by the policy engine through the provider's
authorization_resource): put, get, delete, with revision ids."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.dynamodb.parameters import policy_not_found
from overcast.services.dynamodb.values import validation

if TYPE_CHECKING:
    from overcast.services.dynamodb.provider import DynamoDBProvider

MAX_POLICY_BYTES = 20 * 1024


class PolicyOperations(Operations):
    service: DynamoDBProvider

    def put_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.service.table_by_arn(ctx, params["ResourceArn"])
        try:
            document = json.loads(params["Policy"])
            if not isinstance(document, dict) or "Statement" not in document:
                raise ValueError(document)
        except ValueError:
            raise validation("Invalid policy document") from None
        if len(params["Policy"].encode()) > MAX_POLICY_BYTES:
            raise ServiceError(
                "LimitExceededException", "Policy size exceeds the maximum allowed size of 20 KB"
            )
        meta = dict(table.meta)
        _check_revision(meta, params, required=False)
        revision = str(int(self.clock.now() * 1000))
        meta["_policy"] = {"Policy": params["Policy"], "RevisionId": revision}
        self.service.store.save_meta(ctx.account_id, ctx.region, table.name, table.id, meta)
        return {"RevisionId": revision}

    def get_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.service.table_by_arn(ctx, params["ResourceArn"])
        policy = table.meta.get("_policy")
        if policy is None:
            raise policy_not_found(params["ResourceArn"])
        return dict(policy)

    def delete_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.service.table_by_arn(ctx, params["ResourceArn"])
        meta = dict(table.meta)
        _check_revision(meta, params, required=True)
        meta.pop("_policy")
        self.service.store.save_meta(ctx.account_id, ctx.region, table.name, table.id, meta)
        return {"RevisionId": str(int(self.clock.now() * 1000))}


def _check_revision(meta: dict[str, Any], params: dict[str, Any], required: bool) -> None:
    current = meta.get("_policy")
    if current is None and (required or params.get("ExpectedRevisionId")):
        raise policy_not_found(params["ResourceArn"])
    expected = params.get("ExpectedRevisionId")
    if expected is not None and current is not None and expected != current["RevisionId"]:
        raise ServiceError(
            "PolicyNotFoundException",
            "Resource-based policy not found for the provided ResourceArn: the revision id provided in the "
            "request doesn't match the current revision",
        )
