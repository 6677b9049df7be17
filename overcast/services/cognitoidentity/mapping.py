"""Which role an authenticated identity gets (GetCredentialsForIdentity's enhanced flow): the pool's role
mapping for the provider it signed in with (token-based: the token's cognito:preferred_role, or a requested
role among its cognito:roles; rules-based: the first rule whose claim matches), else the pool's
authenticated role."""

from __future__ import annotations

from typing import Any

AMBIGUOUS = object()  # no mapping decided, and the mapping says to deny


def _claim_values(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)] if value is not None else []


def rule_matches(rule: dict[str, Any], claims: dict[str, Any]) -> bool:
    values = _claim_values(claims.get(rule["Claim"]))
    expected, kind = rule["Value"], rule["MatchType"]
    if kind == "Equals":
        return expected in values
    if kind == "Contains":
        return any(expected in value for value in values)
    if kind == "StartsWith":
        return any(value.startswith(expected) for value in values)
    if kind == "NotEqual":
        return bool(values) and expected not in values
    return False


def mapped_role(
    mapping: dict[str, Any] | None, claims: dict[str, Any], requested: str | None, default: str | None
) -> str | None | object:
    """The role ARN for an identity with these token `claims`; None when there is none; AMBIGUOUS when the
    mapping decides nothing and says Deny."""
    if not mapping:
        return requested or default
    decided: str | None = None
    if mapping.get("Type") == "Token":
        roles = _claim_values(claims.get("cognito:roles"))
        if requested and requested in roles:
            decided = requested
        elif claims.get("cognito:preferred_role"):
            decided = str(claims["cognito:preferred_role"])
        elif len(roles) == 1:
            decided = roles[0]
    elif mapping.get("Type") == "Rules":
        for rule in (mapping.get("RulesConfiguration") or {}).get("Rules") or ():
            if rule_matches(rule, claims):
                decided = rule["RoleARN"]
                break
    if decided:
        return decided
    if mapping.get("AmbiguousRoleResolution") == "Deny":
        return AMBIGUOUS
    return default
