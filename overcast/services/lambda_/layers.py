"""Layers: versioned zips that functions mount beside their own code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn
from overcast.services.lambda_.common import LAYER_ARN, lambda_time, not_found, page, public

if TYPE_CHECKING:
    from overcast.services.lambda_.provider import LambdaProvider


class LayerOperations(Operations):
    service: LambdaProvider

    async def publish_layer_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = _layer_name(params["LayerName"])
        zip_bytes = await self.service.fetch_code(ctx, params["Content"])
        with self.db.transaction():
            sha, sha_b64 = self.service.store_package(zip_bytes)
            version = self.service.store.next_layer_version(ctx.account_id, ctx.region, name)
            layer_arn = ctx.arn("lambda", f"layer:{name}")
            config = {
                "Content": {
                    "Location": self.service.code_location(sha),
                    "CodeSha256": sha_b64,
                    "CodeSize": len(zip_bytes),
                },
                "LayerArn": layer_arn,
                "LayerVersionArn": f"{layer_arn}:{version}",
                "Description": params.get("Description", ""),
                "CreatedDate": lambda_time(self.clock.now()),
                "Version": version,
                "_CodeSha": sha,
            }
            for key in ("CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"):
                if key in params:
                    config[key] = params[key]
            self.service.store.put_layer(ctx.account_id, ctx.region, name, version, config, sha)
            return public(config)

    def get_layer_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        layer = self.service.store.layer(
            ctx.account_id, ctx.region, params["LayerName"], params["VersionNumber"]
        )
        if layer is None:
            raise not_found("The resource you requested does not exist.")
        return public(layer)

    def get_layer_version_by_arn(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        match = LAYER_ARN.match(params["Arn"])
        if not match:
            raise ServiceError(
                "ValidationException",
                f"1 validation error detected: Value '{params['Arn']}' at "
                "'arn' failed to satisfy constraint: Member must be a layer version ARN",
            )
        layer = self.service.store.layer(match.group(2), match.group(1), match.group(3), int(match.group(4)))
        if layer is None:
            raise not_found("The resource you requested does not exist.")
        return public(layer)

    def list_layer_versions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        versions = self.service.store.layer_versions(ctx.account_id, ctx.region, params["LayerName"])
        items = [_layer_item(v) for v in versions if _layer_matches(v, params)]
        return page(items, params, "LayerVersions")

    def list_layers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        items = [
            {
                "LayerName": _layer_name(v["LayerArn"]),
                "LayerArn": v["LayerArn"],
                "LatestMatchingVersion": _layer_item(v),
            }
            for v in self.service.store.latest_layers(ctx.account_id, ctx.region)
            if _layer_matches(v, params)
        ]
        return page(items, params, "Layers")

    def delete_layer_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        sha = self.service.store.delete_layer(
            ctx.account_id, ctx.region, params["LayerName"], params["VersionNumber"]
        )
        self.service.release_package(sha)
        return {}


def _layer_name(name_or_arn: str) -> str:
    """A layer's name from its name or its ARN (arn:aws:lambda:<region>:<account>:layer:<name>)."""
    arn = parse_arn(name_or_arn)
    return arn.resource_id if arn else name_or_arn


def _layer_item(layer: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "LayerVersionArn",
        "Version",
        "Description",
        "CreatedDate",
        "CompatibleRuntimes",
        "CompatibleArchitectures",
        "LicenseInfo",
    )
    return {k: layer[k] for k in keys if k in layer}


def _layer_matches(layer: dict[str, Any], params: dict[str, Any]) -> bool:
    runtime, arch = params.get("CompatibleRuntime"), params.get("CompatibleArchitecture")
    return (not runtime or runtime in layer.get("CompatibleRuntimes", [])) and (
        not arch or arch in layer.get("CompatibleArchitectures", [])
    )
