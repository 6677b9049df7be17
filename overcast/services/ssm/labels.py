"""Labels on parameter versions: LabelParameterVersion and UnlabelParameterVersion (a label is on one version at
a time; moving it is labelling another version)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.ssm import names

if TYPE_CHECKING:
    from overcast.services.ssm.provider import SsmProvider


class LabelOperations(Operations):
    service: SsmProvider

    def _version(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[str, int]:
        name = params["Name"]
        store = self.service.store
        latest = store.latest(ctx.account_id, ctx.region, name)
        if latest is None:
            raise ServiceError("ParameterNotFound", "")
        version = params.get("ParameterVersion") or latest.version
        if store.version(ctx.account_id, ctx.region, name, version) is None:
            raise ServiceError(
                "ParameterVersionNotFound",
                f"Systems Manager could not find version {version} of {name}. Verify the version and try again.",
            )
        return name, version

    def label_parameter_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, version = self._version(ctx, params)
        store = self.service.store
        labels = list(dict.fromkeys(params["Labels"]))
        invalid = names.invalid_labels(labels)
        valid = [label for label in labels if label not in invalid]
        current = store.labels_of(ctx.account_id, ctx.region, name, version)
        if len(set(current) | set(valid)) > names.MAX_LABELS_PER_VERSION:
            raise ServiceError(
                "ParameterVersionLabelLimitExceeded",
                "A parameter version can have maximum 10 labels.Move one or more labels to another version and try "
                "again.",
            )
        for label in valid:
            store.set_label(ctx.account_id, ctx.region, name, label, version)
        if valid:
            found = store.latest(ctx.account_id, ctx.region, name)
            if found is not None:
                self.service.announce(
                    ctx.account_id,
                    ctx.region,
                    "LabelParameterVersion",
                    name,
                    found.type,
                    found.description or "",
                )
        return {"InvalidLabels": invalid, "ParameterVersion": version}

    def unlabel_parameter_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, version = self._version(ctx, params)
        store = self.service.store
        current = set(store.labels_of(ctx.account_id, ctx.region, name, version))
        removed, invalid = [], []
        for label in dict.fromkeys(params["Labels"]):
            if label in current:
                store.remove_label(ctx.account_id, ctx.region, name, label)
                removed.append(label)
            else:
                invalid.append(label)
        return {"RemovedLabels": removed, "InvalidLabels": invalid}
