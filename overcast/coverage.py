"""Which operations each service implements, from the providers themselves: `python -m overcast.coverage`
prints the table of docs/services.md, so that page stays true."""

from __future__ import annotations

import importlib

from overcast.protocol.models import get_service_model
from overcast.services import PROVIDERS, is_available
from overcast.services.base import serves


def implemented(service: str) -> tuple[list[str], int]:
    """(implemented operation names, number of operations in the AWS model)."""
    model = get_service_model(service)
    if not is_available(service):
        return [], len(model.operation_names)
    module_name, class_name = PROVIDERS[service].split(":")
    provider = getattr(importlib.import_module(module_name), class_name)
    names = [op for op in model.operation_names if serves(provider, op)]
    return names, len(model.operation_names)


def table() -> str:
    lines = ["| service | operations implemented | details |", "|---|---|---|"]
    for service in sorted(PROVIDERS):
        names, total = implemented(service)
        page = f"[services/{service}.md](services/{service}.md)" if names else "not yet"
        lines.append(f"| {service} | {len(names)} of {total} | {page} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
