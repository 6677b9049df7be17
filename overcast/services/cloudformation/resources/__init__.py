"""Resource handlers, one module per AWS service; each module lists its handler classes in `HANDLERS`.

Adding a service's resource types is adding a module here: the registry finds every module of this package.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from overcast.services.cloudformation.resources.base import ResourceHandler


@cache
def registry() -> dict[str, ResourceHandler]:
    """{resource type: its handler} over every module of this package."""
    handlers: dict[str, ResourceHandler] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        if module_info.name in ("base", "__main__"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for kind in getattr(module, "HANDLERS", ()):
            handlers[kind.type_name] = kind()
    return handlers


def handler_for(type_name: str) -> ResourceHandler | None:
    """The handler of `type_name`; custom resources (`Custom::...`) share AWS::CloudFormation::CustomResource's."""
    handlers = registry()
    if type_name.startswith("Custom::"):
        return handlers.get("AWS::CloudFormation::CustomResource")
    return handlers.get(type_name)


def table() -> str:
    """The resource-type table of docs/services/cloudformation.md (`python -m
    overcast.services.cloudformation.resources` prints it)."""
    rows = [
        "| type | service | Ref / identifier | Fn::GetAtt | replaced when changed |",
        "|---|---|---|---|---|",
    ]
    for type_name, handler in sorted(registry().items()):
        rows.append(
            f"| {type_name} | {handler.service} | {handler.primary_identifier} | "
            f"{', '.join(handler.attributes) or '—'} | {', '.join(sorted(handler.create_only)) or '—'} |"
        )
    return "\n".join(rows)
