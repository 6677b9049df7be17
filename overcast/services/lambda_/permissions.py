"""A function's resource-based policy: AddPermission, RemovePermission, GetPolicy.

Statements are kept on the function's row with the qualifier they were added for (`_Qualifier`); the
policy engine reads them through the provider's `authorization_resource`.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.lambda_.common import function_arn, not_found

if TYPE_CHECKING:
    from overcast.services.lambda_.provider import LambdaProvider


class PermissionOperations(Operations):
    service: LambdaProvider

    def _statements(self, ctx: RequestContext, name: str) -> list[dict[str, Any]]:
        row = self.service.store.function_row(ctx.account_id, ctx.region, name)
        if row is None:
            raise not_found(f"Function not found: {function_arn(ctx, name)}")
        return json.loads(row.policy)

    def _save(self, ctx: RequestContext, name: str, statements: list[dict[str, Any]]) -> None:
        self.service.store.set_function_field(
            ctx.account_id, ctx.region, name, "policy", json.dumps(statements)
        )

    def add_permission(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self.service.parse_ref(ctx, params)
        if qualifier:
            self.service.resolve(ctx, name, qualifier)
        statements = self._statements(ctx, name)
        if any(s["Sid"] == params["StatementId"] and s.get("_Qualifier") == qualifier for s in statements):
            raise ServiceError(
                "ResourceConflictException",
                "The statement id (sid) provided already exists. Please "
                "choose a new statement id, or remove the existing statement.",
            )
        statement = _permission_statement(params, function_arn(ctx, name, qualifier))
        statements.append(dict(statement, _Qualifier=qualifier))
        self._save(ctx, name, statements)
        return {"Statement": json.dumps(statement)}

    def remove_permission(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self.service.parse_ref(ctx, params)
        statements = self._statements(ctx, name)
        kept = [
            s
            for s in statements
            if not (s["Sid"] == params["StatementId"] and s.get("_Qualifier") == qualifier)
        ]
        if len(kept) == len(statements):
            raise not_found(f"Statement {params['StatementId']} is not found in resource policy.")
        self._save(ctx, name, kept)
        return {}

    def get_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self.service.parse_ref(ctx, params)
        self._statements(ctx, name)  # the function exists
        policy = self.service.resource_policy(ctx.account_id, ctx.region, name, qualifier)
        if policy is None:
            raise not_found("The resource you requested does not exist.")
        return {"Policy": json.dumps(policy), "RevisionId": self.service.latest(ctx, name)["RevisionId"]}


def _permission_statement(params: dict[str, Any], resource: str) -> dict[str, Any]:
    principal = params["Principal"]
    if principal == "*":
        who: Any = "*"
    elif re.fullmatch(r"\d{12}", principal):
        who = {"AWS": f"arn:aws:iam::{principal}:root"}
    elif principal.endswith(".amazonaws.com") or principal.endswith(".amazonaws.com.cn"):
        who = {"Service": principal}
    else:
        who = {"AWS": principal}
    statement: dict[str, Any] = {
        "Sid": params["StatementId"],
        "Effect": "Allow",
        "Principal": who,
        "Action": params["Action"],
        "Resource": resource,
    }
    condition: dict[str, dict[str, str]] = {}
    if params.get("SourceArn"):
        condition.setdefault("ArnLike", {})["AWS:SourceArn"] = params["SourceArn"]
    if params.get("SourceAccount"):
        condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = params["SourceAccount"]
    if params.get("PrincipalOrgID"):
        condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = params["PrincipalOrgID"]
    if params.get("FunctionUrlAuthType"):
        condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = params["FunctionUrlAuthType"]
    if condition:
        statement["Condition"] = condition
    return statement
