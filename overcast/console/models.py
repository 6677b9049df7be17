"""What the console's generic views read of the botocore models: the service index, and one service's model
(operations, shapes, paginators) without its documentation, as JSON.

The console signs and serializes AWS requests itself, in the browser, from these models: any service Overcast
serves gets list and detail views from its model before anyone writes a page for it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from functools import lru_cache
from typing import Any

_DROPPED = frozenset(("documentation", "documentationUrl", "examples", "deprecatedMessage"))
# The protocols the console's client speaks (smithy-rpc-v2-cbor is skipped: every such service offers another).
CONSOLE_PROTOCOLS = ("json", "rest-json", "rest-xml", "query", "ec2")


def service_index(served: dict[str, str]) -> list[dict[str, Any]]:
    """Every service Overcast serves (`served`: name → running | available) with its model's facts."""
    from overcast.routing.index import service_index as index

    services = index().services
    rows = []
    for name, state in sorted(served.items()):
        info = services.get(name)
        if info is None:
            continue
        rows.append(
            {
                "name": name,
                "state": state,
                "protocol": _console_protocol(list(info.protocols)),
                "signing": info.signing_name,
                "prefix": info.endpoint_prefix,
            }
        )
    return rows


def _console_protocol(protocols: list[str]) -> str | None:
    return next((p for p in protocols if p in CONSOLE_PROTOCOLS), None)


@lru_cache(maxsize=12)  # a dozen services' models held at most (gzip'd: ~20 KB each, EC2's 150 KB)
def service_model(name: str) -> tuple[bytes, bytes, str] | None:
    """(JSON, the same gzip'd, its ETag) of the model of service `name`, or None when botocore has no such service."""
    from botocore.exceptions import DataNotFoundError

    from overcast.protocol.models import _loader

    loader = _loader()
    try:
        model = loader.load_service_model(name, "service-2")
    except DataNotFoundError:
        return None
    try:
        paginators = loader.load_service_model(name, "paginators-1").get("pagination", {})
    except DataNotFoundError:
        paginators = {}
    metadata = model["metadata"]
    metadata["consoleProtocol"] = _console_protocol(metadata.get("protocols") or [metadata.get("protocol")])
    document = {
        "name": name,
        "implemented": _implemented(name),
        "metadata": metadata,
        "operations": _stripped(model["operations"]),
        "shapes": _stripped(model["shapes"]),
        "paginators": paginators,
    }
    text = json.dumps(document, separators=(",", ":")).encode()
    return text, gzip.compress(text, 6), '"' + hashlib.sha256(text).hexdigest()[:32] + '"'


def _implemented(name: str) -> list[str]:
    """The operations Overcast serves of this service (the others answer 501)."""
    from overcast.coverage import implemented

    return implemented(name)[0]


def _stripped(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _stripped(item) for key, item in value.items() if key not in _DROPPED}
    if isinstance(value, list):
        return [_stripped(item) for item in value]
    return value
