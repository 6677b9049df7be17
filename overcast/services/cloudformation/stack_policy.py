"""Stack policies: which update actions (Update:Modify, Update:Replace, Update:Delete) on which resources a
stack's policy allows. Without a matching Allow an update is denied; an explicit Deny wins."""

from __future__ import annotations

import fnmatch
import json
from typing import Any


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _matches_action(patterns: list[str], action: str) -> bool:
    return any(fnmatch.fnmatchcase(f"Update:{action}", pattern) for pattern in patterns)


def _matches_resource(statement: dict[str, Any], logical_id: str) -> bool:
    target = f"LogicalResourceId/{logical_id}"
    if "Resource" in statement:
        return any(fnmatch.fnmatchcase(target, pattern) for pattern in _as_list(statement["Resource"]))
    if "NotResource" in statement:
        return not any(fnmatch.fnmatchcase(target, pattern) for pattern in _as_list(statement["NotResource"]))
    return False


def _matches_condition(statement: dict[str, Any], kind: str) -> bool:
    for operator, clauses in (statement.get("Condition") or {}).items():
        values = _as_list((clauses or {}).get("ResourceType"))
        if operator == "StringEquals" and kind not in values:
            return False
        if operator == "StringLike" and not any(fnmatch.fnmatchcase(kind, value) for value in values):
            return False
    return True


def _applies(statement: dict[str, Any], logical_id: str, kind: str, action: str) -> bool:
    if "Action" in statement:
        if not _matches_action(_as_list(statement["Action"]), action):
            return False
    elif "NotAction" in statement:
        if _matches_action(_as_list(statement["NotAction"]), action):
            return False
    return _matches_resource(statement, logical_id) and _matches_condition(statement, kind)


def denies(text: str, logical_id: str, kind: str, action: str) -> str | None:
    """Why the policy `text` refuses `Update:<action>` of the resource, or None when it allows it."""
    try:
        statements = _as_list(json.loads(text).get("Statement"))
    except (ValueError, AttributeError):
        return None
    allowed = False
    for statement in statements:
        if not isinstance(statement, dict) or not _applies(statement, logical_id, kind, action):
            continue
        if statement.get("Effect") == "Deny":
            return f"Action denied by stack policy: Statement [{statement.get('Sid', '#')}] has a Deny effect"
        if statement.get("Effect") == "Allow":
            allowed = True
    return None if allowed else "Action not allowed by stack policy"
