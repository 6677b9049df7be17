"""AWS's policy evaluation logic.

The order is the one AWS documents: an explicit deny in any policy wins; then every level of Organizations
SCPs must allow (the management account is exempt); then a resource-based policy may grant on its own within
its account; otherwise an identity-based policy must allow (and, across accounts, the resource's policy too);
finally a permissions boundary and session policies, when present, must also allow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from overcast.identity import Principal
from overcast.policy.conditions import condition_holds
from overcast.policy.document import Policy, Statement
from overcast.policy.matching import action_matches, arn_matches, substitute

Context = dict[str, list[str]]


@dataclass
class Request:
    """What is asked: who, which action on which resource, and the condition keys it carries."""

    principal: Principal
    action: str
    resource: str
    context: Context = field(default_factory=dict)


@dataclass
class Policies:
    """Everything that bears on one request. Empty lists mean 'not in play'."""

    identity: Sequence[Policy] = ()
    resource: Policy | None = None
    resource_account: str | None = None  # the account owning the resource (None: the caller's)
    boundary: Policy | None = None
    session: Sequence[Policy] = ()
    scp_levels: Sequence[Sequence[Policy]] = ()  # root, OUs..., account: each level must allow
    resource_required: bool = False  # the resource policy must allow, even in its own account (KMS keys)


@dataclass
class Decision:
    allowed: bool
    reason: str = ""  # the tail of AWS's message: "because no identity-based policy allows the x:Y action"
    matched: list[Statement] = field(default_factory=list)  # statements that decided (SimulatePolicy)

    @property
    def explicit_deny(self) -> bool:
        return self.reason.startswith("with an explicit deny")


# -- one statement ---------------------------------------------------------------------------------------


def _actions_match(statement: Statement, action: str) -> bool:
    if statement.actions is not None:
        return any(action_matches(p, action) for p in statement.actions)
    return not any(action_matches(p, action) for p in statement.not_actions or ())


def _resource_patterns(patterns: tuple[str, ...], policy: Policy, context: Context) -> list[str]:
    if not policy.variables_allowed:
        return list(patterns)
    return [p for p in (substitute(p, context) for p in patterns) if p is not None]


def _resources_match(statement: Statement, policy: Policy, request: Request) -> bool:
    if statement.resources is None and statement.not_resources is None:
        return True  # trust policies name no resource
    if statement.resources is not None:
        patterns = _resource_patterns(statement.resources, policy, request.context)
        return any(arn_matches(p, request.resource) for p in patterns)
    patterns = _resource_patterns(statement.not_resources or (), policy, request.context)
    return not any(arn_matches(p, request.resource) for p in patterns)


def _conditions_hold(statement: Statement, policy: Policy, context: Context) -> bool:
    for operator, key, expected in statement.conditions:
        values = expected
        if policy.variables_allowed and any("${" in v for v in expected):
            values = tuple(v for v in (substitute(v, context) for v in expected) if v is not None)
        if not condition_holds(operator, context.get(key), values):
            return False
    return True


DIRECT, ACCOUNT = "direct", "account"


def principal_match(principals: dict[str, tuple[str, ...]], principal: Principal) -> str | None:
    """How a Principal element names the caller: DIRECT (the very user/role/session), ACCOUNT (its account's
    root: the account's own policies must also allow), or None."""
    if "*" in principals:
        return DIRECT
    for value in principals.get("AWS", ()):
        if value == "*":
            return DIRECT
        if principal.is_anonymous:
            continue
        if value == principal.account_id or value == f"arn:aws:iam::{principal.account_id}:root":
            return DIRECT if principal.kind == "root" else ACCOUNT
        if value == principal.arn or value == principal.attributes.get("role_arn"):
            return DIRECT
        if "*" in value and arn_matches(value, principal.arn):
            return DIRECT
    if principal.kind == "service" and principal.arn in principals.get("Service", ()):
        return DIRECT
    federated = principal.attributes.get("federated_provider")
    if federated and federated in principals.get("Federated", ()):
        return DIRECT
    return None


def _principal_match(statement: Statement, principal: Principal) -> str | None:
    if statement.principals is not None:
        return principal_match(statement.principals, principal)
    if statement.not_principals is not None:
        return None if principal_match(statement.not_principals, principal) else DIRECT
    return DIRECT  # identity-side policies apply to their holder


def statement_applies(statement: Statement, policy: Policy, request: Request) -> str | None:
    """The principal match strength if `statement` applies to `request`, else None."""
    if not _actions_match(statement, request.action):
        return None
    if not _resources_match(statement, policy, request):
        return None
    strength = _principal_match(statement, request.principal)
    if strength is None or not _conditions_hold(statement, policy, request.context):
        return None
    return strength


@dataclass
class Outcome:
    denied: list[Statement] = field(default_factory=list)
    allowed: list[Statement] = field(default_factory=list)
    strength: str | None = None  # strongest principal match among the allows


def outcome(policies: Sequence[Policy], request: Request) -> Outcome:
    result = Outcome()
    for policy in policies:
        for statement in policy.statements:
            strength = statement_applies(statement, policy, request)
            if strength is None:
                continue
            if statement.effect == "Deny":
                result.denied.append(statement)
            else:
                result.allowed.append(statement)
                if result.strength != DIRECT:
                    result.strength = strength
    return result


# -- the whole request -----------------------------------------------------------------------------------


def evaluate(request: Request, policies: Policies) -> Decision:
    principal = request.principal
    action = request.action
    identity = outcome(policies.identity, request)
    resource = outcome([policies.resource] if policies.resource else [], request)
    boundary = outcome([policies.boundary] if policies.boundary else [], request)
    session = outcome(policies.session, request)
    scps = [outcome(level, request) for level in policies.scp_levels]

    for found, where in (
        (identity, "an identity-based policy"),
        (resource, "a resource-based policy"),
        (boundary, "a permissions boundary"),
        (session, "a session policy"),
        *((level, "a service control policy") for level in scps),
    ):
        if found.denied:
            return Decision(False, f"with an explicit deny in {where}", found.denied)
    for level in scps:
        if not level.allowed:
            return Decision(False, f"because no service control policy allows the {action} action")

    is_root = principal.kind == "root"
    owner = policies.resource_account or principal.account_id
    same_account = owner == principal.account_id
    identity_allows = bool(identity.allowed) or is_root
    if same_account:
        if policies.resource_required and resource.strength is None:
            return Decision(False, f"because no resource-based policy allows the {action} action")
        if resource.strength == DIRECT and principal.kind in ("user", "root", "service", "anonymous"):
            return Decision(True, matched=resource.allowed)  # a direct grant is not limited by a boundary
        if not identity_allows and resource.strength != DIRECT:
            return Decision(False, f"because no identity-based policy allows the {action} action")
    else:
        if principal.kind not in ("service", "anonymous") and not identity_allows:
            return Decision(False, f"because no identity-based policy allows the {action} action")
        if resource.strength is None:
            return Decision(False, f"because no resource-based policy allows the {action} action")
    if policies.boundary is not None and not boundary.allowed:
        return Decision(False, f"because no permissions boundary allows the {action} action")
    if policies.session and not session.allowed:
        return Decision(False, f"because no session policy allows the {action} action")
    return Decision(True, matched=identity.allowed + resource.allowed)


def denial_message(request: Request, decision: Decision) -> str:
    who = "anonymous" if request.principal.is_anonymous else request.principal.arn
    return (
        f"User: {who} is not authorized to perform: {request.action} on resource: {request.resource} "
        f"{decision.reason}"
    )
