"""AWS managed policies (arn:aws:iam::aws:policy/...): their published documents, kept in managed_policies.json.

Loaded on first use; the documents are facts AWS publishes in its managed policy reference. ReadOnlyAccess is
abridged to the read actions of the services Overcast emulates (the real one lists every AWS service).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"
_CREATED = 1423267200.0  # 2015-02-07: a fixed creation date, as AWS's policies have one


@cache
def _policies() -> dict[str, dict[str, Any]]:
    raw = json.loads((Path(__file__).parent / "managed_policies.json").read_text())
    policies = {}
    for name, entry in raw.items():
        arn = f"{AWS_POLICY_PREFIX}{entry['path'].lstrip('/')}{name}"
        policies[arn] = {
            "arn": arn,
            "name": name,
            "id": entry["id"],
            "path": entry["path"],
            "version": "v1",
            "document": json.dumps(entry["document"]),
            "created": _CREATED,
            "updated": _CREATED,
            "description": entry["description"],
        }
    return policies


def aws_policy(arn: str) -> dict[str, Any] | None:
    return _policies().get(arn)


def aws_policies() -> list[dict[str, Any]]:
    return list(_policies().values())
