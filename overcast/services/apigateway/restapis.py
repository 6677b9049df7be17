"""REST APIs: create, read, update, delete, and import/export as OpenAPI (openapi.py does the translating)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.apigateway import openapi
from overcast.services.apigateway.common import (
    apply_patch,
    as_bool,
    as_int,
    bad_request,
    list_member,
    new_id,
    set_field,
)
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.apigateway.provider import ApiGatewayProvider

ENDPOINT_TYPES = ("EDGE", "REGIONAL", "PRIVATE")
# Every REST API starts with these two models, as in AWS.
DEFAULT_MODELS = (
    (
        "Empty",
        "This is a default empty schema model",
        {"$schema": "http://json-schema.org/draft-04/schema#", "title": "Empty Schema", "type": "object"},
    ),
    (
        "Error",
        "This is a default error schema model",
        {
            "$schema": "http://json-schema.org/draft-04/schema#",
            "title": "Error Schema",
            "type": "object",
            "properties": {"message": {"type": "string"}},
        },
    ),
)


def _endpoint_configuration(value: dict[str, Any] | None) -> dict[str, Any]:
    config = dict(value or {})
    types = config.get("types") or ["EDGE"]
    if len(types) != 1 or types[0] not in ENDPOINT_TYPES:
        raise bad_request(
            "Invalid endpoint configuration: must contain exactly one of EDGE, REGIONAL, PRIVATE"
        )
    config["types"] = types
    config.setdefault("ipAddressType", "dualstack" if types[0] == "PRIVATE" else "ipv4")
    if types[0] != "PRIVATE" and config.get("vpcEndpointIds"):
        raise bad_request("VPC endpoint IDs can only be set for PRIVATE endpoint types")
    return config


def _policy(value: str | None) -> str | None:
    if not value:
        return None
    try:
        json.loads(value)
    except ValueError:
        raise bad_request("Invalid policy document. Please check the policy syntax and try again.") from None
    return value


class RestApiOperations(Operations):
    service: ApiGatewayProvider

    def create_rest_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if not params["name"].strip():
            raise bad_request("Invalid REST API name specified")
        api = self.new_api(ctx, params)
        if params.get("cloneFrom"):
            source = self.service.rest_api(ctx, params["cloneFrom"])
            self._clone(ctx, source["id"], api)
        return self.describe(ctx, api)

    def new_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = new_id()
        root_id = new_id()
        api: dict[str, Any] = {
            "id": api_id,
            "name": params["name"],
            "createdDate": int(self.clock.now()),
            "apiKeySource": params.get("apiKeySource") or "HEADER",
            "endpointConfiguration": _endpoint_configuration(params.get("endpointConfiguration")),
            "disableExecuteApiEndpoint": bool(params.get("disableExecuteApiEndpoint", False)),
            "rootResourceId": root_id,
        }
        for key in ("description", "version", "binaryMediaTypes", "minimumCompressionSize"):
            if params.get(key) is not None:
                api[key] = params[key]
        if params.get("policy"):
            api["policy"] = _policy(params["policy"])
        self.service.save(ctx, "restapi", "", api_id, api)
        self.service.save(ctx, "resource", api_id, root_id, {"id": root_id, "path": "/"})
        for name, description, schema in DEFAULT_MODELS:
            model_id = new_id(6)
            model = {
                "id": model_id,
                "name": name,
                "description": description,
                "schema": json.dumps(schema, indent=2),
                "contentType": "application/json",
            }
            self.service.save(ctx, "model", api_id, name, model)
        if params.get("tags"):
            self.service.tags.add(
                self.service.arn(ctx, f"/restapis/{api_id}"),
                params["tags"],
                account=ctx.account_id,
                region=ctx.region,
            )
        return api

    def _clone(self, ctx: RequestContext, source_id: str, api: dict[str, Any]) -> None:
        """Copy the source API's resources and methods, models, validators and authorizers."""
        store = self.service.store
        ids: dict[str, str] = {}
        resources = store.list(ctx.account_id, ctx.region, "resource", source_id)
        for resource in resources:
            ids[resource["id"]] = api["rootResourceId"] if resource["path"] == "/" else new_id()
        for resource in resources:
            copy = dict(resource, id=ids[resource["id"]])
            if "parentId" in copy:
                copy["parentId"] = ids[copy["parentId"]]
            self.service.save(ctx, "resource", api["id"], copy["id"], copy)
        for kind in ("model", "validator", "authorizer", "gatewayresponse"):
            for parent_doc in store.list(ctx.account_id, ctx.region, kind, source_id):
                key = (
                    parent_doc.get("name")
                    if kind == "model"
                    else parent_doc.get("id", parent_doc.get("responseType"))
                )
                self.service.save(ctx, kind, api["id"], key, parent_doc)

    def describe(self, ctx: RequestContext, api: dict[str, Any]) -> dict[str, Any]:
        return self.service.with_tags(ctx, f"/restapis/{api['id']}", api)

    def get_rest_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.describe(ctx, self.service.rest_api(ctx, params["restApiId"]))

    def get_rest_apis(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        apis = [
            self.describe(ctx, api) for api in self.service.store.list(ctx.account_id, ctx.region, "restapi")
        ]
        return self.service.page(apis, params, "id", "restapis")

    def update_rest_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        apply_patch(
            api,
            params.get("patchOperations"),
            [
                ("/name", set_field()),
                ("/description", set_field()),
                ("/version", set_field()),
                ("/policy", set_field(_policy)),
                ("/apiKeySource", set_field(_api_key_source)),
                ("/minimumCompressionSize", set_field(lambda v: as_int(v) if v != "" else None)),
                ("/disableExecuteApiEndpoint", set_field(as_bool)),
                ("/binaryMediaTypes/*", list_member()),
                ("/endpointConfiguration/types/0", _endpoint_type),
                ("/endpointConfiguration/ipAddressType", _ip_address_type),
                ("/endpointConfiguration/vpcEndpointIds", _vpc_endpoints),
            ],
        )
        api = {k: v for k, v in api.items() if v is not None}
        self.service.save(ctx, "restapi", "", api["id"], api)
        return self.describe(ctx, api)

    def delete_rest_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        store = self.service.store
        for stage in store.list(ctx.account_id, ctx.region, "stage", api["id"]):
            self.service.tags.forget(
                self.service.arn(ctx, f"/restapis/{api['id']}/stages/{stage['stageName']}")
            )
        store.delete_children(ctx.account_id, ctx.region, api["id"])
        store.delete(ctx.account_id, ctx.region, "restapi", "", api["id"])
        self.service.tags.forget(self.service.arn(ctx, f"/restapis/{api['id']}"))
        return {}

    # -- OpenAPI -------------------------------------------------------------------------------------

    def import_rest_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        definition = openapi.load(params["body"])
        options = params.get("parameters") or {}
        name = openapi.title(definition) or "Imported API"
        endpoint = options.get("endpointConfigurationTypes")
        api = self.new_api(
            ctx,
            {
                "name": name,
                "description": openapi.description(definition),
                "version": openapi.version(definition),
                "endpointConfiguration": {"types": [endpoint]} if endpoint else None,
                **openapi.api_settings(definition),
            },
        )
        warnings = self._put_definition(
            ctx, api, definition, params.get("failOnWarnings", False), "overwrite"
        )
        api = self.service.store.get(ctx.account_id, ctx.region, "restapi", "", api["id"]) or api
        result = self.describe(ctx, api)
        if warnings:
            result["warnings"] = warnings
        return result

    def put_rest_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        definition = openapi.load(params["body"])
        mode = params.get("mode") or "merge"
        warnings = self._put_definition(ctx, api, definition, params.get("failOnWarnings", False), mode)
        api = self.service.store.get(ctx.account_id, ctx.region, "restapi", "", api["id"]) or api
        result = self.describe(ctx, api)
        if warnings:
            result["warnings"] = warnings
        return result

    def _put_definition(
        self, ctx: RequestContext, api: dict[str, Any], definition: dict[str, Any], strict: bool, mode: str
    ) -> list[str]:
        store = self.service.store
        account, region, api_id = ctx.account_id, ctx.region, api["id"]
        existing = store.list(account, region, "resource", api_id) if mode == "merge" else []
        if mode == "overwrite":
            for kind in ("resource", "model", "validator", "authorizer", "gatewayresponse"):
                for doc in store.list(account, region, kind, api_id):
                    key = doc.get("name") if kind == "model" else doc.get("id", doc.get("responseType"))
                    if not (kind == "resource" and doc["path"] == "/"):
                        store.delete(account, region, kind, api_id, key)
            existing = [store.get(account, region, "resource", api_id, api["rootResourceId"])]
            root = existing[0]
            root.pop("resourceMethods", None)
            self.service.save(ctx, "resource", api_id, root["id"], root)
        try:
            imported = openapi.to_api(definition, existing, new_id)
        except (AttributeError, TypeError, KeyError, ValueError) as error:  # a definition of the wrong shape
            raise bad_request(f"Invalid OpenAPI input: {error}") from None
        if imported.warnings and strict:
            raise bad_request("Warnings found during import:\n\t" + "\n\t".join(imported.warnings))
        for resource in imported.resources:
            self.service.save(ctx, "resource", api_id, resource["id"], resource)
        for model in imported.models:
            self.service.save(ctx, "model", api_id, model["name"], model)
        for validator in imported.validators:
            self.service.save(ctx, "validator", api_id, validator["id"], validator)
        for authorizer in imported.authorizers:
            self.service.save(ctx, "authorizer", api_id, authorizer["id"], authorizer)
        for response in imported.gateway_responses:
            self.service.save(ctx, "gatewayresponse", api_id, response["responseType"], response)
        settings = openapi.api_settings(definition)
        if settings:
            api = {**store.get(account, region, "restapi", "", api_id), **settings}
            self.service.save(ctx, "restapi", "", api_id, api)
        return imported.warnings

    def get_export(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        stage = self.service.doc(
            ctx, "stage", api["id"], params["stageName"], "Invalid Stage identifier specified"
        )
        kind = params["exportType"]
        if kind not in ("swagger", "oas30"):
            raise bad_request(f"No export type found for: {kind}")
        deployment = self.service.doc(
            ctx, "deployment", api["id"], stage["deploymentId"], "Invalid Deployment identifier specified"
        )
        options = params.get("parameters") or {}
        extensions = options.get("extensions", "")
        document = openapi.export(
            api,
            deployment["snapshot"],
            stage,
            kind,
            host=f"{api['id']}.execute-api.localhost:{self.platform.config.port}",
            integrations="integrations" in extensions or "apigateway" in extensions,
            authorizers="authorizers" in extensions or "apigateway" in extensions,
        )
        accepts = params.get("accepts") or "application/json"
        if "yaml" in accepts:
            body, content_type = openapi.dump_yaml(document), "application/yaml"
        else:
            body, content_type = json.dumps(document, indent=2).encode(), "application/octet-stream"
        suffix = "yaml" if "yaml" in accepts else "json"
        return {
            "contentType": content_type,
            "contentDisposition": f'attachment; filename="{kind}_{stage["stageName"]}.{suffix}"',
            "body": body,
        }


def _api_key_source(value: str) -> str:
    if value not in ("HEADER", "AUTHORIZER"):
        raise bad_request(f"Invalid API Key source: {value}")
    return value


def _endpoint_type(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
    config = doc.setdefault("endpointConfiguration", {"types": ["EDGE"]})
    config.update(_endpoint_configuration({**config, "types": [value]}))


def _ip_address_type(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
    if value not in ("ipv4", "dualstack"):
        raise bad_request(f"Invalid IP address type: {value}")
    doc.setdefault("endpointConfiguration", {"types": ["EDGE"]})["ipAddressType"] = value


def _vpc_endpoints(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
    config = doc.setdefault("endpointConfiguration", {"types": ["EDGE"]})
    ids = config.setdefault("vpcEndpointIds", [])
    if op == "remove":
        config["vpcEndpointIds"] = [i for i in ids if i != value]
    elif value not in ids:
        ids.append(value)
