"""Layers: versioned zips that functions mount beside their own code."""

from __future__ import annotations

import json
import uuid
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


class LayerPermissionOperations(Operations):
    """Who may use a layer version (AddLayerVersionPermission): statements granting lambda:GetLayerVersion
    (or ListLayerVersions) to an account, an organization or everyone."""

    service: LambdaProvider

    def add_layer_version_permission(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, version, layer = self._layer(ctx, params)
        policy = layer.get("_Policy") or []
        check_layer_revision(layer, params)
        if any(s["Sid"] == params["StatementId"] for s in policy):
            raise ServiceError(
                "ResourceConflictException",
                f"The statement id ({params['StatementId']}) provided already exists. Please provide a new "
                "statement id, or remove the existing statement.",
            )
        principal = params["Principal"]
        statement: dict[str, Any] = {
            "Sid": params["StatementId"],
            "Effect": "Allow",
            "Principal": "*" if principal == "*" else {"AWS": f"arn:aws:iam::{principal}:root"},
            "Action": params["Action"],
            "Resource": layer["LayerVersionArn"],
        }
        if params.get("OrganizationId"):
            statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": params["OrganizationId"]}}
        layer["_Policy"] = [*policy, statement]
        layer["_PolicyRevision"] = str(uuid.uuid4())
        self.service.store.update_layer(ctx.account_id, ctx.region, name, version, layer)
        return {"Statement": json.dumps(statement), "RevisionId": layer["_PolicyRevision"]}

    def get_layer_version_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _, _, layer = self._layer(ctx, params)
        if not layer.get("_Policy"):
            raise not_found("No policy is associated with the given resource.")
        policy = {"Version": "2012-10-17", "Id": "default", "Statement": layer["_Policy"]}
        return {"Policy": json.dumps(policy), "RevisionId": layer["_PolicyRevision"]}

    def remove_layer_version_permission(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, version, layer = self._layer(ctx, params)
        check_layer_revision(layer, params)
        policy = layer.get("_Policy") or []
        kept = [s for s in policy if s["Sid"] != params["StatementId"]]
        if len(kept) == len(policy):
            raise not_found(f"Statement {params['StatementId']} is not found in resource policy.")
        layer["_Policy"] = kept
        layer["_PolicyRevision"] = str(uuid.uuid4())
        self.service.store.update_layer(ctx.account_id, ctx.region, name, version, layer)
        return {}

    def _layer(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[str, int, dict[str, Any]]:
        name = _layer_name(params["LayerName"])
        version = params["VersionNumber"]
        layer = self.service.store.layer(ctx.account_id, ctx.region, name, version)
        if layer is None:
            raise not_found(
                f"Layer version arn:aws:lambda:{ctx.region}:{ctx.account_id}:layer:{name}:{version} does not exist."
            )
        return name, version, layer


def check_layer_revision(layer: dict[str, Any], params: dict[str, Any]) -> None:
    if params.get("RevisionId") and params["RevisionId"] != layer.get("_PolicyRevision"):
        raise ServiceError(
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. Call the GetLayerPolicy API to "
            "retrieve the latest Revision Id",
            412,
        )
