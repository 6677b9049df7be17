"""The policy simulator: SimulatePrincipalPolicy / SimulateCustomPolicy evaluate with the same engine as
enforcement; GetContextKeysForCustomPolicy lists the condition keys of policies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import Principal
from overcast.policy import document as policy_doc
from overcast.policy.enforcement import Identity, build_context
from overcast.policy.evaluate import Policies, Request, evaluate
from overcast.services.base import Operations
from overcast.services.iam.store import Entity
from overcast.services.kit.arns import parse_arn

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider


class SimulatorOperations(Operations):
    service: IamProvider

    def simulate_principal_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        source = self._source(ctx, params["PolicySourceArn"])
        identity = self.service.entity_identity(source)
        if source.kind == "group":
            documents = self.service.policy_documents(source.account, "group", source.key)
            identity = Identity([p for p in (policy_doc.parse(d) for d in documents) if p])
        kind = {"user": "user", "role": "assumed-role", "group": "user"}[source.kind]
        principal = Principal(
            ctx.account_id,
            source.arn,
            source.id,
            kind,
            None,
            {"user_name": source.name}
            if kind == "user"
            else {"role_arn": source.arn, "role_name": source.name},
        )
        return self._simulate(ctx, params, principal, identity)

    def simulate_custom_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        caller = params.get("CallerArn") or f"arn:aws:iam::{ctx.account_id}:user/simulated"
        principal = Principal(
            ctx.account_id, caller, "AIDASIMULATED", "user", None, {"user_name": caller.rsplit("/", 1)[-1]}
        )
        return self._simulate(ctx, params, principal, Identity([]))

    def _simulate(
        self, ctx: RequestContext, params: dict[str, Any], principal: Principal, identity: Identity
    ) -> dict[str, Any]:
        extra = [policy_doc.validate(text) for text in params.get("PolicyInputList") or ()]
        boundaries = [policy_doc.validate(t) for t in params.get("PermissionsBoundaryPolicyInputList") or ()]
        resource_policy = (
            policy_doc.validate(params["ResourcePolicy"], policy_doc.RESOURCE)
            if params.get("ResourcePolicy")
            else None
        )
        context_values = {
            entry["ContextKeyName"]: entry.get("ContextKeyValues") or []
            for entry in params.get("ContextEntries") or ()
        }
        owner = parse_arn(params.get("ResourceOwner") or "")
        policies = Policies(
            identity=list(identity.policies) + extra,
            resource=resource_policy,
            resource_account=owner.account if owner else None,
            boundary=boundaries[0] if boundaries else identity.boundary,
        )
        results = []
        for action in params["ActionNames"]:
            for resource in params.get("ResourceArns") or ["*"]:
                context = build_context(principal, self.clock.now(), identity=identity, extra=context_values)
                request = Request(principal, action, resource, context)
                decision = evaluate(request, policies)
                verdict = (
                    "allowed"
                    if decision.allowed
                    else ("explicitDeny" if decision.explicit_deny else "implicitDeny")
                )
                results.append(
                    {
                        "EvalActionName": action,
                        "EvalResourceName": resource,
                        "EvalDecision": verdict,
                        "MatchedStatements": [
                            {"SourcePolicyId": s.sid or "", "SourcePolicyType": "IAM Policy"}
                            for s in decision.matched
                        ],
                        "MissingContextValues": [],
                    }
                )
        return {"EvaluationResults": results, "IsTruncated": False}

    def get_context_keys_for_custom_policy(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return {"ContextKeyNames": _context_keys(params["PolicyInputList"])}

    def get_context_keys_for_principal_policy(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        """The keys of a user's (and its groups'), group's or role's policies, and of PolicyInputList."""
        source = self._source(ctx, params["PolicySourceArn"])
        documents = self.service.policy_documents(source.account, source.kind, source.key)
        if source.kind == "user":
            for group in self.service.store.groups_of(source.account, source.key):
                documents += self.service.policy_documents(source.account, "group", group)
        return {"ContextKeyNames": _context_keys([*documents, *(params.get("PolicyInputList") or ())])}

    def _source(self, ctx: RequestContext, arn: str) -> Entity:
        source = self.service.store.by_arn(arn)
        if source is None or source.account != ctx.account_id or source.kind not in ("user", "group", "role"):
            raise ServiceError("NoSuchEntity", f"PolicySourceArn {arn} does not exist.", 404)
        return source


def _context_keys(documents: list[str]) -> list[str]:
    """The condition keys the policies test, each once."""
    keys: set[str] = set()
    for text in documents:
        for statement in policy_doc.validate(text).statements:
            keys.update(key for _, key, _ in statement.conditions)
    return sorted(keys)
