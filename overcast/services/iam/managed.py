"""AWS managed policies (arn:aws:iam::aws:policy/...): every one AWS publishes, with its current document,
default version id, path and dates, kept in managed_policies.json.gz (made by generate_managed_policies.py).

Loaded once on first use (about 1,600 policies, 3 MB of JSON in memory).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"


def policy_id(name: str) -> str:
    """A stable id shaped like AWS's (ANPA + 17 characters): the data does not carry AWS's own ids."""
    digest = base64.b32encode(hashlib.sha256(name.encode()).digest()).decode()
    return "ANPA" + digest[:17]


@cache
def _policies() -> dict[str, dict[str, Any]]:
    raw = json.loads(gzip.decompress((Path(__file__).parent / "managed_policies.json.gz").read_bytes()))
    policies = {}
    for name, path, version, created, updated, document, description in raw["policies"]:
        arn = f"{AWS_POLICY_PREFIX}{path.lstrip('/')}{name}"
        policies[arn] = {
            "arn": arn,
            "name": name,
            "id": policy_id(name),
            "path": path,
            "version": version,
            "document": document,
            "created": created,
            "updated": updated,
            "description": description,
        }
    return policies


def aws_policy(arn: str) -> dict[str, Any] | None:
    return _policies().get(arn)


def aws_policies() -> list[dict[str, Any]]:
    return list(_policies().values())
