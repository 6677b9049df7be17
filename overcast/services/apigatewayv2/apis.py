"""HTTP and WebSocket APIs: create (with HTTP APIs' quick create), read, update, delete, CORS, tags, and
OpenAPI import/export of HTTP APIs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.apigatewayv2.common import bad_request, new_id, not_found
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn

if TYPE_CHECKING:
    from overcast.services.apigatewayv2.provider import ApiGatewayV2Provider

API_FIELDS = (
    "ApiKeySelectionExpression",
    "CorsConfiguration",
    "Description",
    "DisableSchemaValidation",
    "DisableExecuteApiEndpoint",
    "IpAddressType",
    "Name",
    "RouteSelectionExpression",
    "Version",
)


class ApiOperations(Operations):
    service: ApiGatewayV2Provider

    def create_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        protocol = params["ProtocolType"]
        if protocol == "WEBSOCKET":
            if not params.get("RouteSelectionExpression"):
                raise bad_request("RouteSelectionExpression is required for WEBSOCKET APIs")
            if params.get("CorsConfiguration") or params.get("Target"):
                raise bad_request("CORS configuration and quick create are only supported for HTTP APIs")
        api_id = new_id()
        api: dict[str, Any] = {
            "ApiId": api_id,
            "ApiKeySelectionExpression": params.get("ApiKeySelectionExpression")
            or "$request.header.x-api-key",
            "CreatedDate": int(self.clock.now()),
            "DisableExecuteApiEndpoint": bool(params.get("DisableExecuteApiEndpoint", False)),
            "IpAddressType": params.get("IpAddressType") or "ipv4",
            "Name": params["Name"],
            "ProtocolType": protocol,
            "RouteSelectionExpression": params.get("RouteSelectionExpression")
            or "$request.method $request.path",
        }
        for key in ("Description", "Version", "CorsConfiguration", "DisableSchemaValidation"):
            if params.get(key) is not None:
                api[key] = params[key]
        if protocol == "HTTP" and api["RouteSelectionExpression"] != "$request.method $request.path":
            raise bad_request(
                "Unsupported route selection expression for HTTP APIs: use $request.method $request.path"
            )
        self.service.save(ctx, "api", "", api_id, api)
        if params.get("Tags"):
            self.service.tags.add(
                self.service.arn(ctx, f"/apis/{api_id}"),
                params["Tags"],
                account=ctx.account_id,
                region=ctx.region,
            )
        if params.get("Target"):
            self._quick_create(ctx, api, params)
        return self.describe(ctx, api)

    def _quick_create(self, ctx: RequestContext, api: dict[str, Any], params: dict[str, Any]) -> None:
        """An HTTP API with one integration, one route and an auto-deployed `$default` stage."""
        target = params["Target"]
        arn = parse_arn(target)
        integrations = self.service.family_named("IntegrationOperations")
        spec: dict[str, Any] = {"ApiId": api["ApiId"], "IntegrationUri": target}
        if arn is not None and arn.service == "lambda":
            spec.update(IntegrationType="AWS_PROXY", PayloadFormatVersion="2.0")
        else:
            spec.update(IntegrationType="HTTP_PROXY", IntegrationMethod="ANY", PayloadFormatVersion="1.0")
        if params.get("CredentialsArn"):
            spec["CredentialsArn"] = params["CredentialsArn"]
        integration = integrations.create_integration(ctx, spec)
        self.service.family_named("RouteOperations").create_route(
            ctx,
            {
                "ApiId": api["ApiId"],
                "RouteKey": params.get("RouteKey") or "$default",
                "Target": f"integrations/{integration['IntegrationId']}",
            },
        )
        self.service.family_named("StageOperations").create_stage(
            ctx, {"ApiId": api["ApiId"], "StageName": "$default", "AutoDeploy": True}
        )

    def describe(self, ctx: RequestContext, api: dict[str, Any]) -> dict[str, Any]:
        scheme = "ws" if api["ProtocolType"] == "WEBSOCKET" else "http"
        shown = dict(
            api, ApiEndpoint=f"{scheme}://{api['ApiId']}.execute-api.localhost:{self.platform.config.port}"
        )
        shown["Tags"] = self.service.tags.get(self.service.arn(ctx, f"/apis/{api['ApiId']}"))
        return shown

    def get_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.describe(ctx, self.service.api(ctx, params["ApiId"]))

    def get_apis(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        apis = [self.describe(ctx, a) for a in self.service.store.list(ctx.account_id, ctx.region, "api")]
        return self.service.page(apis, params, "ApiId", "apis")

    def update_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        for key in API_FIELDS:
            if key in params:
                if key == "CorsConfiguration" and api["ProtocolType"] != "HTTP":
                    raise bad_request("CORS configuration is only supported for HTTP APIs")
                api[key] = params[key]
        self.service.save(ctx, "api", "", api["ApiId"], api)
        self.service.changed(ctx, api["ApiId"])
        return self.describe(ctx, api)

    def delete_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        self.service.store.delete_children(ctx.account_id, ctx.region, api["ApiId"])
        self.service.store.delete(ctx.account_id, ctx.region, "api", "", api["ApiId"])
        self.service.tags.forget(self.service.arn(ctx, f"/apis/{api['ApiId']}"))
        return {}

    def delete_cors_configuration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        api.pop("CorsConfiguration", None)
        self.service.save(ctx, "api", "", api["ApiId"], api)
        self.service.changed(ctx, api["ApiId"])
        return {}

    # -- tags ------------------------------------------------------------------------------------------

    def _tagged(self, ctx: RequestContext, arn: str) -> str:
        parsed = parse_arn(arn)
        if parsed is None or parsed.service != "apigateway" or not parsed.resource.startswith("/"):
            raise bad_request(f"Invalid resource ARN: {arn}")
        parts = parsed.resource.strip("/").split("/")
        kinds = {("apis",): "api", ("apis", "stages"): "stage", ("domainnames",): "domain"}
        kind = kinds.get(tuple(parts[0::2]))
        if kind is None or len(parts) % 2:
            raise bad_request(f"Invalid resource ARN: {arn}")
        parent, resource_id = (parts[1], parts[3]) if kind == "stage" else ("", parts[1])
        if self.service.store.get(ctx.account_id, ctx.region, kind, parent, resource_id) is None:
            raise not_found(f"Unable to find resource {arn}")
        return arn

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._tagged(ctx, params["ResourceArn"])
        self.service.tags.add(arn, params.get("Tags") or {}, account=ctx.account_id, region=ctx.region)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._tagged(ctx, params["ResourceArn"])
        self.service.tags.remove(arn, params["TagKeys"])
        return {}

    def get_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": self.service.tags.get(self._tagged(ctx, params["ResourceArn"]))}

    # -- OpenAPI (HTTP APIs) -----------------------------------------------------------------------------

    def import_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        document = _load(params["Body"])
        api = self.create_api(
            ctx,
            {
                "Name": (document.get("info") or {}).get("title") or "Imported API",
                "ProtocolType": "HTTP",
                "Description": (document.get("info") or {}).get("description"),
                "Version": str((document.get("info") or {}).get("version") or "") or None,
            },
        )
        self._import_paths(ctx, api["ApiId"], document)
        return self.get_api(ctx, {"ApiId": api["ApiId"]})

    def reimport_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        for kind in ("route", "integration"):
            for doc in self.service.store.list(ctx.account_id, ctx.region, kind, api["ApiId"]):
                self.service.store.delete(
                    ctx.account_id,
                    ctx.region,
                    kind,
                    api["ApiId"],
                    doc.get("RouteId") or doc.get("IntegrationId"),
                )
        self._import_paths(ctx, api["ApiId"], _load(params["Body"]))
        return self.get_api(ctx, {"ApiId": api["ApiId"]})

    def _import_paths(self, ctx: RequestContext, api_id: str, document: dict[str, Any]) -> None:
        try:
            self._import_operations(ctx, api_id, document)
        except (AttributeError, TypeError, KeyError, ValueError) as error:  # a definition of the wrong shape
            raise bad_request(f"Invalid OpenAPI definition: {error}") from None

    def _import_operations(self, ctx: RequestContext, api_id: str, document: dict[str, Any]) -> None:
        integrations = self.service.family_named("IntegrationOperations")
        routes = self.service.family_named("RouteOperations")
        for path, item in (document.get("paths") or {}).items():
            for verb, operation in (item or {}).items():
                method = "ANY" if verb == "x-amazon-apigateway-any-method" else verb.upper()
                spec = (operation or {}).get("x-amazon-apigateway-integration")
                route: dict[str, Any] = {"ApiId": api_id, "RouteKey": f"{method} {path}"}
                if spec:
                    integration = integrations.create_integration(
                        ctx,
                        {
                            "ApiId": api_id,
                            "IntegrationType": str(spec.get("type", "aws_proxy")).upper(),
                            "IntegrationUri": spec.get("uri"),
                            "IntegrationMethod": spec.get("httpMethod"),
                            "PayloadFormatVersion": str(spec.get("payloadFormatVersion", "2.0")),
                            **({"CredentialsArn": spec["credentials"]} if spec.get("credentials") else {}),
                        },
                    )
                    route["Target"] = f"integrations/{integration['IntegrationId']}"
                routes.create_route(ctx, route)

    def export_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        paths: dict[str, Any] = {}
        integrations = {
            i["IntegrationId"]: i
            for i in self.service.store.list(ctx.account_id, ctx.region, "integration", api["ApiId"])
        }
        for route in self.service.store.list(ctx.account_id, ctx.region, "route", api["ApiId"]):
            if route["RouteKey"] == "$default":
                verb, path = "x-amazon-apigateway-any-method", "/$default"
            else:
                method, path = route["RouteKey"].split(" ", 1)
                verb = "x-amazon-apigateway-any-method" if method == "ANY" else method.lower()
            operation: dict[str, Any] = {"responses": {"default": {"description": "Default response"}}}
            integration = integrations.get((route.get("Target") or "").removeprefix("integrations/"))
            if integration and params.get("IncludeExtensions", True):
                spec = {
                    "type": integration["IntegrationType"].lower(),
                    "payloadFormatVersion": integration.get("PayloadFormatVersion", "1.0"),
                    "connectionType": integration.get("ConnectionType", "INTERNET"),
                }
                if integration.get("IntegrationUri"):
                    spec["uri"] = integration["IntegrationUri"]
                if integration.get("IntegrationMethod"):
                    spec["httpMethod"] = integration["IntegrationMethod"]
                operation["x-amazon-apigateway-integration"] = spec
            paths.setdefault(path, {})[verb] = operation
        document = {
            "openapi": "3.0.1",
            "info": {"title": api["Name"], "version": api.get("Version") or "1.0"},
            "paths": paths,
        }
        if params.get("OutputType") == "YAML":
            import yaml

            body = yaml.safe_dump(document, sort_keys=False).encode()
        else:
            body = json.dumps(document, indent=2).encode()
        return {"body": body}


def _load(body: str | bytes) -> dict[str, Any]:
    text = body.decode() if isinstance(body, bytes) else body
    try:
        document = json.loads(text)
    except ValueError:
        import yaml

        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError:
            document = None
    if not isinstance(document, dict) or "openapi" not in document:
        raise bad_request("Invalid OpenAPI definition: an OpenAPI 3 document is required")
    return document
