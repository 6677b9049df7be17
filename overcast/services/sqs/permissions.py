"""SQS AddPermission and RemovePermission: statements of the queue policy (the Policy attribute)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.sqs import attributes as qa
from overcast.services.sqs.checks import invalid_parameter
from overcast.services.sqs.store import Queue

if TYPE_CHECKING:
    from overcast.services.sqs.provider import SqsProvider


class PermissionOperations(Operations):
    service: SqsProvider

    def add_permission(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.service.queue_for(ctx, params["QueueUrl"])
        label = params["Label"]
        default = {"Version": "2008-10-17", "Id": f"{queue.arn}/SQSDefaultPolicy", "Statement": []}
        policy = json.loads(queue.attributes["Policy"]) if queue.attributes.get("Policy") else default
        statements = policy.setdefault("Statement", [])
        if any(statement.get("Sid") == label for statement in statements):
            raise invalid_parameter("Label", label, "Already exists.")
        if not params["AWSAccountIds"] or not params["Actions"]:
            raise ServiceError("MissingParameter", "The request must contain the parameter Actions.")
        principals = [f"arn:aws:iam::{account}:root" for account in params["AWSAccountIds"]]
        actions = [f"SQS:{action}" for action in params["Actions"]]
        statements.append(
            {
                "Sid": label,
                "Effect": "Allow",
                "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
                "Action": actions[0] if len(actions) == 1 else actions,
                "Resource": queue.arn,
            }
        )
        self._store_policy(queue, policy)
        return {}

    def remove_permission(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        queue = self.service.queue_for(ctx, params["QueueUrl"])
        label = params["Label"]
        policy = json.loads(queue.attributes.get("Policy") or "{}")
        statements = policy.get("Statement") or []
        kept = [statement for statement in statements if statement.get("Sid") != label]
        if len(kept) == len(statements):
            raise invalid_parameter("Label", label, "can't find label.")
        policy["Statement"] = kept
        self._store_policy(queue, policy if kept else None)
        return {}

    def _store_policy(self, queue: Queue, policy: dict[str, Any] | None) -> None:
        values = dict(queue.attributes)
        if policy:
            values["Policy"] = json.dumps(policy, separators=(",", ":"))
        else:
            values.pop("Policy", None)
        target = qa.redrive_target(values)
        self.service.store.update_attributes(queue, values, target[0] if target else None, self.clock.now())
