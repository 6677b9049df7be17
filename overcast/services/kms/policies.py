"""Key policies: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies (every key has one policy, named `default`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.kms import key_policies
from overcast.services.kms.rules import not_found, unsupported

if TYPE_CHECKING:
    from overcast.services.kms.provider import KmsProvider

POLICY_NAME = "default"


def _check_name(name: str | None) -> None:
    if name not in (None, POLICY_NAME):
        raise not_found("No such policy exists")


class PolicyOperations(Operations):
    service: KmsProvider

    def get_key_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _check_name(params.get("PolicyName"))
        key = self.service.key_of(ctx, params["KeyId"])
        return {"Policy": key.policy, "PolicyName": POLICY_NAME}

    def put_key_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _check_name(params.get("PolicyName"))
        key = self.service.key_of(ctx, params["KeyId"])
        if key.manager == "AWS":
            raise unsupported(f"{key.arn} is an AWS managed key. Its key policy cannot be changed.")
        self.service.check_not_pending(key)
        key_policies.validate(
            params["Policy"], ctx.principal, key.arn, bool(params.get("BypassPolicyLockoutSafetyCheck"))
        )
        key.policy = params["Policy"]
        self.service.store.put_key(key)
        return {}

    def list_key_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.key_of(ctx, params["KeyId"])
        return {"PolicyNames": [POLICY_NAME], "Truncated": False}
