"""Documentation parts and versions of a REST API, and VPC links (records: no network is reached through
them). A documentation version snapshots the API's parts, as AWS's does."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.apigateway.common import apply_patch, bad_request, conflict, new_id, set_field
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.apigateway.provider import ApiGatewayProvider

# Which location fields each part type takes (AWS refuses the others).
_LOCATION_FIELDS = {
    "API": (),
    "AUTHORIZER": ("name",),
    "MODEL": ("name",),
    "RESOURCE": ("path",),
    "METHOD": ("path", "method"),
    "PATH_PARAMETER": ("path", "method", "name"),
    "QUERY_PARAMETER": ("path", "method", "name"),
    "REQUEST_HEADER": ("path", "method", "name"),
    "REQUEST_BODY": ("path", "method"),
    "RESPONSE": ("path", "method", "statusCode"),
    "RESPONSE_HEADER": ("path", "method", "statusCode", "name"),
    "RESPONSE_BODY": ("path", "method", "statusCode"),
}


def _properties(text: str) -> str:
    try:
        if not isinstance(json.loads(text), dict):
            raise ValueError
    except ValueError:
        raise bad_request("Documentation part properties must be a JSON object") from None
    return text


def _location(value: dict[str, Any]) -> dict[str, Any]:
    kind = value.get("type")
    allowed = _LOCATION_FIELDS.get(kind or "")
    if allowed is None:
        raise bad_request(f"Invalid documentation part type: {kind}")
    location: dict[str, Any] = {"type": kind}
    for field in allowed:
        if field == "path":
            location["path"] = value.get("path") or "/"
        elif field == "method":
            location["method"] = value.get("method") or "*"
        elif field == "statusCode":
            location["statusCode"] = value.get("statusCode") or "*"
        elif value.get("name"):
            location["name"] = value["name"]
        else:
            raise bad_request(f"Documentation part of type {kind} requires a name")
    extra = {k for k, v in value.items() if v is not None and k != "type"} - set(allowed)
    if extra:
        raise bad_request(
            f"Invalid location for documentation part of type {kind}: {', '.join(sorted(extra))}"
        )
    return location


class DocumentationOperations(Operations):
    service: ApiGatewayProvider

    def create_documentation_part(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        location = _location(params["location"])
        for part in self.service.store.list(ctx.account_id, ctx.region, "docpart", api["id"]):
            if part["location"] == location:
                raise conflict("Documentation part already exists for the specified location")
        part = {"id": new_id(6), "location": location, "properties": _properties(params["properties"])}
        self.service.save(ctx, "docpart", api["id"], part["id"], part)
        return part

    def _part(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.rest_api(ctx, params["restApiId"])
        return self.service.doc(
            ctx,
            "docpart",
            params["restApiId"],
            params["documentationPartId"],
            "Invalid Documentation part identifier specified",
        )

    def get_documentation_part(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._part(ctx, params)

    def get_documentation_parts(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        parts = self.service.store.list(ctx.account_id, ctx.region, "docpart", api["id"])
        if params.get("type"):
            parts = [p for p in parts if p["location"]["type"] == params["type"]]
        if params.get("path"):
            parts = [p for p in parts if p["location"].get("path") == params["path"]]
        if params.get("nameQuery"):
            parts = [p for p in parts if params["nameQuery"] in (p["location"].get("name") or "")]
        return self.service.page(parts, params, "id", f"docparts:{api['id']}")

    def update_documentation_part(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        part = self._part(ctx, params)
        apply_patch(part, params.get("patchOperations"), [("/properties", set_field(_properties))])
        self.service.save(ctx, "docpart", params["restApiId"], part["id"], part)
        return part

    def delete_documentation_part(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        part = self._part(ctx, params)
        self.service.store.delete(ctx.account_id, ctx.region, "docpart", params["restApiId"], part["id"])
        return {}

    def import_documentation_parts(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """The parts an OpenAPI definition's `x-amazon-apigateway-documentation` extension lists: `merge`
        (the default) replaces the part at each location and keeps the others, `overwrite` replaces them
        all."""
        from overcast.services.apigateway import openapi

        api = self.service.rest_api(ctx, params["restApiId"])
        definition = openapi.load(params["body"])
        mode = params.get("mode") or "merge"
        if mode not in ("merge", "overwrite"):
            raise bad_request(f"Invalid import mode: {mode}")
        listed = (definition.get("x-amazon-apigateway-documentation") or {}).get("documentationParts")
        if not isinstance(listed, list):
            listed = []
        imported: list[tuple[dict[str, Any], str]] = []
        for entry in listed:
            if not isinstance(entry, dict) or not isinstance(entry.get("location"), dict):
                raise bad_request("Invalid documentation part: a location is required")
            properties = entry.get("properties")
            text = json.dumps(properties) if isinstance(properties, dict) else _properties(str(properties))
            imported.append((_location(entry["location"]), text))
        store, account, region = self.service.store, ctx.account_id, ctx.region
        existing = store.list(account, region, "docpart", api["id"])
        if mode == "overwrite":
            for part in existing:
                store.delete(account, region, "docpart", api["id"], part["id"])
            existing = []
        by_location = {json.dumps(p["location"], sort_keys=True): p for p in existing}
        ids = []
        for location, text in imported:
            key = json.dumps(location, sort_keys=True)
            part = by_location.get(key) or {"id": new_id(6), "location": location}
            part["properties"] = text
            by_location[key] = part
            self.service.save(ctx, "docpart", api["id"], part["id"], part)
            ids.append(part["id"])
        return {"ids": ids, "warnings": []}

    # -- versions -------------------------------------------------------------------------------------

    def create_documentation_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        name = params["documentationVersion"]
        if self.service.store.get(ctx.account_id, ctx.region, "docversion", api["id"], name) is not None:
            raise conflict("Documentation version already exists")
        version: dict[str, Any] = {"version": name, "createdDate": int(self.clock.now())}
        if params.get("description"):
            version["description"] = params["description"]
        parts = self.service.store.list(ctx.account_id, ctx.region, "docpart", api["id"])
        self.service.save(ctx, "docversion", api["id"], name, {**version, "parts": parts})
        if params.get("stageName"):
            stage = self.service.doc(
                ctx, "stage", api["id"], params["stageName"], "Invalid Stage identifier specified"
            )
            stage["documentationVersion"] = name
            self.service.save(ctx, "stage", api["id"], params["stageName"], stage)
        return version

    def _version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.rest_api(ctx, params["restApiId"])
        return self.service.doc(
            ctx,
            "docversion",
            params["restApiId"],
            params["documentationVersion"],
            "Invalid Documentation version identifier specified",
        )

    def get_documentation_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in self._version(ctx, params).items() if k != "parts"}

    def get_documentation_versions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        versions = [
            {k: v for k, v in version.items() if k != "parts"}
            for version in self.service.store.list(ctx.account_id, ctx.region, "docversion", api["id"])
        ]
        return self.service.page(versions, params, "version", f"docversions:{api['id']}")

    def update_documentation_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        version = self._version(ctx, params)
        apply_patch(version, params.get("patchOperations"), [("/description", set_field())])
        self.service.save(ctx, "docversion", params["restApiId"], version["version"], version)
        return {k: v for k, v in version.items() if k != "parts"}

    def delete_documentation_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        version = self._version(ctx, params)
        self.service.store.delete(
            ctx.account_id, ctx.region, "docversion", params["restApiId"], version["version"]
        )
        return {}


class VpcLinkOperations(Operations):
    service: ApiGatewayProvider

    def create_vpc_link(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("targetArns"):
            raise bad_request("targetArns must contain one Network Load Balancer ARN")
        link: dict[str, Any] = {
            "id": new_id(6),
            "name": params["name"],
            "targetArns": params["targetArns"],
            "status": "AVAILABLE",
            "statusMessage": "Your vpc link is ready for use",
        }
        if params.get("description"):
            link["description"] = params["description"]
        self.service.save(ctx, "vpclink", "", link["id"], link)
        if params.get("tags"):
            self.service.tags.add(
                self.service.arn(ctx, f"/vpclinks/{link['id']}"),
                params["tags"],
                account=ctx.account_id,
                region=ctx.region,
            )
        return self.service.with_tags(ctx, f"/vpclinks/{link['id']}", link)

    def _link(self, ctx: RequestContext, link_id: str) -> dict[str, Any]:
        return self.service.doc(ctx, "vpclink", "", link_id, "Invalid VPC link identifier specified")

    def get_vpc_link(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        link = self._link(ctx, params["vpcLinkId"])
        return self.service.with_tags(ctx, f"/vpclinks/{link['id']}", link)

    def get_vpc_links(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        links = self.service.store.list(ctx.account_id, ctx.region, "vpclink")
        return self.service.page(links, params, "id", "vpclinks")

    def update_vpc_link(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        link = self._link(ctx, params["vpcLinkId"])
        apply_patch(
            link, params.get("patchOperations"), [("/name", set_field()), ("/description", set_field())]
        )
        self.service.save(ctx, "vpclink", "", link["id"], link)
        return link

    def delete_vpc_link(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        link = self._link(ctx, params["vpcLinkId"])
        self.service.store.delete(ctx.account_id, ctx.region, "vpclink", "", link["id"])
        self.service.tags.forget(self.service.arn(ctx, f"/vpclinks/{link['id']}"))
        return {}
