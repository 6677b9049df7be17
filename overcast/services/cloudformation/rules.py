"""The Rules section: assertions about parameter values, checked before a stack operation starts."""

from __future__ import annotations

from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.intrinsics import UNKNOWN, Scope, resolve


def _holds(value: Any, scope: Scope) -> bool:
    result = resolve(value, scope)
    if result is UNKNOWN:
        return True
    if isinstance(result, str):
        return result.lower() == "true"
    return bool(result)


def check_rules(rules: dict[str, Any], scope: Scope) -> None:
    """ValidationError with the assertion's description when a rule whose condition holds is broken."""
    for name, rule in rules.items():
        if not isinstance(rule, dict):
            raise ServiceError(
                "ValidationError", f"Template format error: Rule {name} must be an object", 400
            )
        condition = rule.get("RuleCondition")
        if condition is not None and not _holds(condition, scope):
            continue
        for assertion in rule.get("Assertions") or []:
            if not _holds(assertion.get("Assert"), scope):
                description = (
                    assertion.get("AssertDescription") or f"Template error: Assertion failed for rule {name}"
                )
                raise ServiceError("ValidationError", description, 400)
