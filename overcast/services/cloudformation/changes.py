"""What a change set would do: each resource added, modified (in place or by replacement) or removed.

A property is compared as resolved against the stack's resources as they are; a value that depends on a
resource the change set would add or replace is not known yet (Evaluation Dynamic, Replacement Conditional).
"""

from __future__ import annotations

from typing import Any

from overcast.services.cloudformation.intrinsics import UNKNOWN, Scope, is_unknown, resolve
from overcast.services.cloudformation.resources import handler_for
from overcast.services.cloudformation.store import Resource

LIVE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE", "UPDATE_FAILED", "CREATE_FAILED"}


def topological(graph: dict[str, set[str]]) -> list[str]:
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for need in sorted(graph.get(name, ())):
            visit(need)
        order.append(name)

    for name in sorted(graph):
        visit(name)
    return order


def plan_changes(
    active: dict[str, dict[str, Any]],
    graph: dict[str, set[str]],
    scope: Scope,
    rows: list[Resource],
    imports: dict[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The Changes of a change set (DescribeChangeSet's shape)."""
    existing = {row.logical_id: row for row in rows if row.status in LIVE and row.physical_id}
    imports = imports or {}
    changing: set[str] = set()

    def ref(name: str) -> Any:
        row = existing.get(name)
        return UNKNOWN if row is None or name in changing else row.physical_id

    def attribute(name: str, attribute: str) -> Any:
        row = existing.get(name)
        if row is None or name in changing:
            return UNKNOWN
        return row.attributes.get(attribute, UNKNOWN)

    planning = Scope(
        parameters=scope.parameters,
        pseudo=scope.pseudo,
        mappings=scope.mappings,
        conditions=scope.conditions,
        resources=scope.resources,
        ref=ref,
        attribute=attribute,
        export=scope.export,
        region=scope.region,
        language_extensions=scope.language_extensions,
    )
    changes = []
    for logical_id in topological(graph):
        definition = active[logical_id]
        kind = definition["Type"]
        row = existing.get(logical_id)
        if logical_id in imports:
            identifier = imports[logical_id]
            changes.append(_change("Import", logical_id, kind, next(iter(identifier.values()), None)))
            continue
        if row is None:
            changing.add(logical_id)
            changes.append(_change("Add", logical_id, kind))
            continue
        properties = resolve(definition.get("Properties") or {}, planning)
        before = row.properties or {}
        if properties == before and row.type == kind:
            continue
        details, replacement = _details(kind, before, properties)
        if replacement != "False":
            changing.add(logical_id)
        change = _change("Modify", logical_id, kind, row.physical_id)
        change["ResourceChange"]["Replacement"] = replacement
        change["ResourceChange"]["Scope"] = sorted({detail["Target"]["Attribute"] for detail in details})
        change["ResourceChange"]["Details"] = details
        changes.append(change)
    for row in rows:  # a resource whose creation failed (kept by a stack that did not roll back) goes too
        if row.logical_id not in active and row.status != "DELETE_COMPLETE":
            changes.append(_change("Remove", row.logical_id, row.type, row.physical_id))
    return changes


def _change(action: str, logical_id: str, kind: str, physical_id: str | None = None) -> dict[str, Any]:
    change: dict[str, Any] = {"Action": action, "LogicalResourceId": logical_id}
    if physical_id is not None:
        change["PhysicalResourceId"] = physical_id
    change["ResourceType"] = kind
    change["Scope"] = []
    change["Details"] = []
    if action == "Remove":
        change["PolicyAction"] = "Delete"
    return {"Type": "Resource", "ResourceChange": change}


def _details(kind: str, before: dict[str, Any], after: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    handler = handler_for(kind)
    create_only = handler.create_only if handler else frozenset()
    details = []
    replacement = "False"
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        dynamic = is_unknown(new)
        recreation = "Always" if name in create_only else "Never"
        if name in create_only:
            if dynamic and replacement == "False":
                replacement = "Conditional"
                recreation = "Conditionally"
            elif not dynamic:
                replacement = "True"
        target: dict[str, Any] = {
            "Attribute": "Tags" if name == "Tags" else "Properties",
            "Name": name,
            "RequiresRecreation": recreation,
            "Path": f"/Properties/{name}",
            "AttributeChangeType": "Add" if old is None else "Remove" if new is None else "Modify",
        }
        details.append(
            {
                "Target": target,
                "Evaluation": "Dynamic" if dynamic else "Static",
                "ChangeSource": "ResourceReference" if dynamic else "DirectModification",
            }
        )
    return details, replacement
