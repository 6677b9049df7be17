"""The dependency graph of a template's resources: from Ref, Fn::GetAtt, Fn::Sub and DependsOn.

A resource is created after everything it depends on and deleted before it; resources that do not depend on
one another are worked on at the same time.
"""

from __future__ import annotations

from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.intrinsics import prune, references


def dependencies(resources: dict[str, Any], conditions: dict[str, bool]) -> dict[str, set[str]]:
    """{logical id: the logical ids it depends on} over the resources given (those whose conditions hold)."""
    graph: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        named = references(prune(resource.get("Properties") or {}, conditions))
        named |= references(prune(resource.get("Metadata") or {}, conditions)) & set(resources)
        depends_on = resource.get("DependsOn") or []
        if isinstance(depends_on, str):
            depends_on = [depends_on]
        if not isinstance(depends_on, list) or not all(isinstance(item, str) for item in depends_on):
            raise ServiceError(
                "ValidationError",
                "Template format error: DependsOn must be a string or list of strings.",
                400,
            )
        graph[logical_id] = {
            name for name in named | set(depends_on) if name in resources and name != logical_id
        }
    return graph


def undefined_dependencies(template_resources: dict[str, Any], graph_names: set[str]) -> list[str]:
    """DependsOn targets that name no resource of the template at all (a template format error)."""
    missing = []
    for resource in template_resources.values():
        depends_on = resource.get("DependsOn") or []
        for name in [depends_on] if isinstance(depends_on, str) else depends_on:
            if isinstance(name, str) and name not in template_resources and name not in missing:
                missing.append(name)
    return missing


def check_acyclic(graph: dict[str, set[str]]) -> None:
    """ValidationError naming the resources of a cycle, as CloudFormation does."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    for start in graph:
        if state.get(start):
            continue
        stack: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        path = [start]
        state[start] = 1
        while stack:
            node, pending = stack[-1]
            if not pending:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            nxt = pending.pop()
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :]
                raise ServiceError(
                    "ValidationError",
                    f"Circular dependency between resources: [{', '.join(sorted(cycle))}]",
                    400,
                )
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, sorted(graph.get(nxt, ()))))


def dependents(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The reverse graph: {logical id: the resources that depend on it}."""
    reverse: dict[str, set[str]] = {name: set() for name in graph}
    for name, needs in graph.items():
        for need in needs:
            reverse.setdefault(need, set()).add(name)
    return reverse
