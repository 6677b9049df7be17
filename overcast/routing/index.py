"""A compact index of every botocore service's routing metadata, so start-up loads no service model.

Building it reads all ~440 models (seconds), so the package ships one built for the botocore it was tested
with; when another botocore is installed, it is rebuilt once into the user's cache directory.
Regenerate the shipped copy with `python -m overcast.routing.index`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SHIPPED = Path(__file__).with_name("service_index.json")


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    signing_name: str
    endpoint_prefix: str
    target_prefix: str | None
    api_version: str
    protocols: tuple[str, ...]


class ServiceIndex:
    def __init__(self, services: list[ServiceInfo]) -> None:
        self.services = {info.name: info for info in services}
        self.by_signing_name: dict[str, list[ServiceInfo]] = {}
        self.by_endpoint_prefix: dict[str, list[ServiceInfo]] = {}
        self.by_target_prefix: dict[str, list[ServiceInfo]] = {}
        self.by_api_version: dict[str, list[ServiceInfo]] = {}
        for info in services:
            self.by_signing_name.setdefault(info.signing_name, []).append(info)
            self.by_endpoint_prefix.setdefault(info.endpoint_prefix, []).append(info)
            self.by_api_version.setdefault(info.api_version, []).append(info)
            if info.target_prefix:
                self.by_target_prefix.setdefault(info.target_prefix, []).append(info)
        for table in (
            self.by_signing_name,
            self.by_endpoint_prefix,
            self.by_target_prefix,
            self.by_api_version,
        ):
            for infos in table.values():
                # The service named like its signing name/prefix comes first (s3 before s3control,
                # lambda before lambda-core): it is the one an ambiguous request most likely means.
                infos.sort(key=lambda i: (i.name not in (i.signing_name, i.endpoint_prefix), i.name))


def botocore_version() -> str:
    from importlib.metadata import version

    return version("botocore")


def build() -> dict:
    import botocore.session

    loader = botocore.session.get_session().get_component("data_loader")
    services = {}
    for name in loader.list_available_services("service-2"):
        meta = loader.load_service_model(name, "service-2")["metadata"]
        services[name] = {
            "signing": meta.get("signingName") or meta["endpointPrefix"],
            "prefix": meta["endpointPrefix"],
            "target": meta.get("targetPrefix"),
            "version": meta["apiVersion"],
            "protocols": meta.get("protocols") or [meta["protocol"]],
        }
    return {"botocore": botocore_version(), "services": services}


def _cache_path(version: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "overcast" / f"service-index-{version}.json"


@cache
def service_index() -> ServiceIndex:
    data = json.loads(SHIPPED.read_text())
    installed = botocore_version()
    if data["botocore"] != installed:
        cached = _cache_path(installed)
        if cached.exists():
            data = json.loads(cached.read_text())
        else:
            data = build()
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_text(json.dumps(data))
    return ServiceIndex(
        [
            ServiceInfo(name, s["signing"], s["prefix"], s["target"], s["version"], tuple(s["protocols"]))
            for name, s in data["services"].items()
        ]
    )


if __name__ == "__main__":
    SHIPPED.write_text(json.dumps(build(), indent=0, sort_keys=True) + "\n")
    print(f"wrote {SHIPPED}")
