"""Policy documents: parse and validate the IAM policy language into statements the evaluator walks.

Validation follows IAM's grammar and answers with IAM's MalformedPolicyDocument messages. Parsed policies are
cached by their text (documents are immutable once stored), so evaluation never re-parses JSON per request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from overcast.errors import ServiceError

VERSIONS = ("2012-10-17", "2008-10-17")
STATEMENT_KEYS = {
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
}

IDENTITY = "identity"  # user/group/role inline and managed policies, boundaries, session policies
RESOURCE = "resource"  # bucket/queue/topic/function policies: Principal required
TRUST = "trust"  # a role's trust policy: Principal required, no Resource
SCP = "scp"  # service control policies: no Principal


@dataclass(frozen=True)
class Statement:
    effect: str  # "Allow" | "Deny"
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principals: dict[str, tuple[str, ...]] | None  # {"AWS": (...), "Service": (...)} or {"*": ("*",)}
    not_principals: dict[str, tuple[str, ...]] | None
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]  # (operator, key lower-cased, values)
    sid: str | None = None


@dataclass(frozen=True)
class Policy:
    version: str
    statements: tuple[Statement, ...]

    @property
    def variables_allowed(self) -> bool:
        return self.version == "2012-10-17"


def malformed(message: str) -> ServiceError:
    return ServiceError("MalformedPolicyDocument", message, 400)


def validate(text: str, kind: str = IDENTITY) -> Policy:
    """Parse `text` as a policy of `kind`, raising MalformedPolicyDocument with IAM's message if invalid."""
    return _parse(text, kind)


def parse(text: str, kind: str = IDENTITY) -> Policy | None:
    """A stored policy for evaluation (already validated when stored); None if it cannot be read."""
    try:
        return _parse(text, kind)
    except ServiceError:
        return None


@lru_cache(maxsize=4096)
def _parse(text: str, kind: str) -> Policy:
    try:
        document = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        # IAM words unparseable trust policies (CreateRole, UpdateAssumeRolePolicy) differently
        raise malformed(
            "This policy contains invalid Json" if kind == TRUST else "Syntax errors in policy."
        ) from None
    if not isinstance(document, dict):
        raise malformed("Syntax errors in policy.")
    unknown = set(document) - {"Version", "Id", "Statement"}
    if unknown:
        raise malformed("Syntax errors in policy.")
    version = document.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise malformed("The policy failed legacy parsing")
    raw = document.get("Statement")
    if raw is None:
        raise malformed("Syntax errors in policy.")
    raw_statements = raw if isinstance(raw, list) else [raw]
    if not raw_statements:
        raise malformed("Syntax errors in policy.")
    statements = tuple(_statement(item, kind) for item in raw_statements)
    return Policy(version, statements)


def _statement(item: Any, kind: str) -> Statement:
    if not isinstance(item, dict) or set(item) - STATEMENT_KEYS:
        raise malformed("Syntax errors in policy.")
    effect = item.get("Effect")
    if effect is None:
        raise malformed("Missing required field Effect")
    if effect not in ("Allow", "Deny"):
        raise malformed("Syntax errors in policy.")
    if "Action" in item and "NotAction" in item:
        raise malformed("Syntax errors in policy.")
    if "Action" not in item and "NotAction" not in item:
        raise malformed("Policy statement must contain actions.")
    has_principal = "Principal" in item or "NotPrincipal" in item
    has_resource = "Resource" in item or "NotResource" in item
    if kind in (IDENTITY, SCP) and has_principal:
        raise malformed("Policy document should not specify a principal.")
    if kind in (RESOURCE, TRUST) and not has_principal:
        raise malformed("Missing required field Principal")
    if kind == TRUST and has_resource:
        raise malformed("Has prohibited field Resource")
    if kind in (IDENTITY, RESOURCE) and not has_resource:
        raise malformed("Policy statement must contain resources.")
    if kind in (IDENTITY, SCP):
        for resource in _strings(item.get("Resource")) or _strings(item.get("NotResource")) or ():
            if resource != "*" and not resource.startswith("arn:"):
                raise malformed(f'Resource {resource} must be in ARN format or "*".')
    actions = _strings(item.get("Action"))
    not_actions = _strings(item.get("NotAction"))
    for action in (actions or ()) + (not_actions or ()):
        if action != "*" and ":" not in action:
            raise malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
    return Statement(
        effect=effect,
        actions=actions,
        not_actions=not_actions,
        resources=_strings(item.get("Resource")) if kind != TRUST else None,
        not_resources=_strings(item.get("NotResource")),
        principals=_principals(item.get("Principal")),
        not_principals=_principals(item.get("NotPrincipal")),
        conditions=_conditions(item.get("Condition")),
        sid=item.get("Sid") if isinstance(item.get("Sid"), str) else None,
    )


def _strings(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) for v in values):
        raise malformed("Syntax errors in policy.")
    return tuple(values)


def _principals(value: Any) -> dict[str, tuple[str, ...]] | None:
    if value is None:
        return None
    if value == "*":
        return {"*": ("*",)}
    if not isinstance(value, dict) or not value:
        raise malformed("Invalid principal in policy")
    principals: dict[str, tuple[str, ...]] = {}
    for kind, names in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise malformed("Invalid principal in policy")
        found = _strings(names)
        assert found is not None
        principals[kind] = found
    return principals


def _conditions(value: Any) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise malformed("Syntax errors in policy.")
    from overcast.policy.conditions import is_known_operator

    conditions = []
    for operator, block in value.items():
        if not is_known_operator(operator):
            raise malformed(f"Invalid Condition type : {operator}")
        if not isinstance(block, dict):
            raise malformed("Syntax errors in policy.")
        for key, raw in block.items():
            values = raw if isinstance(raw, list) else [raw]
            texts = tuple(_condition_text(v) for v in values)
            conditions.append((operator, key.lower(), texts))
    return tuple(conditions)


def _condition_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise malformed("Syntax errors in policy.")


def normalize(text: str) -> str:
    """A policy as IAM hands it back: the submitted JSON, re-serialised compactly."""
    return json.dumps(json.loads(text), separators=(",", ":"))
