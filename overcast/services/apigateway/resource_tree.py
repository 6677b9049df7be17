"""Which resource and method of a deployed REST API a request path names.

At each level a literal path part wins over a `{variable}`, which wins over a greedy `{proxy+}` (one or more
segments); a branch that leads nowhere gives way to the next kind. A method is the request's verb, else
`ANY`. Variables' values are percent-decoded, as AWS passes them to the integration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote


@dataclass
class Node:
    resource: dict[str, Any] | None = None
    literals: dict[str, Node] = field(default_factory=dict)
    variable: tuple[str, Node] | None = None
    greedy: tuple[str, Node] | None = None


@dataclass
class Match:
    resource: dict[str, Any]
    method: dict[str, Any] | None
    path_parameters: dict[str, str]


class ResourceTree:
    def __init__(self, resources: list[dict[str, Any]]) -> None:
        self.root = Node()
        for resource in resources:
            node = self.root
            for part in [p for p in resource["path"].split("/") if p]:
                if part.startswith("{") and part.endswith("+}"):
                    if node.greedy is None:
                        node.greedy = (part[1:-2], Node())
                    node = node.greedy[1]
                elif part.startswith("{") and part.endswith("}"):
                    if node.variable is None:
                        node.variable = (part[1:-1], Node())
                    node = node.variable[1]
                else:
                    node = node.literals.setdefault(part, Node())
            node.resource = resource

    def match(self, path: str, verb: str) -> Match | None:
        """The resource and method for a raw request path (None: no resource has this path)."""
        segments = [s for s in path.split("/") if s != ""] if path not in ("", "/") else []
        found = self._walk(self.root, segments, {})
        if found is None:
            return None
        resource, parameters = found
        methods = resource.get("resourceMethods") or {}
        method = methods.get(verb) or methods.get("ANY")
        return Match(resource, method, parameters)

    def _walk(self, node: Node, segments: list[str], parameters: dict[str, str]):
        if not segments:
            return (node.resource, parameters) if node.resource is not None else None
        head, rest = segments[0], segments[1:]
        literal = node.literals.get(unquote(head)) or node.literals.get(head)
        if literal is not None:
            found = self._walk(literal, rest, parameters)
            if found is not None:
                return found
        if node.variable is not None:
            name, child = node.variable
            found = self._walk(child, rest, {**parameters, name: unquote(head)})
            if found is not None:
                return found
        if node.greedy is not None and node.greedy[1].resource is not None:
            name, child = node.greedy
            return child.resource, {**parameters, name: unquote("/".join(segments))}
        return None
