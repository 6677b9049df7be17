"""Resources (the path tree of a REST API) and what hangs on them: methods, method responses, integrations
and integration responses. A resource's document holds its methods (`resourceMethods`), each with its
`methodResponses` and `methodIntegration` (with `integrationResponses`), as GetResource embeds them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.apigateway import vtl
from overcast.services.apigateway.common import (
    apply_patch,
    as_bool,
    as_int,
    bad_request,
    conflict,
    map_entry,
    new_id,
    not_found,
    set_field,
)
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.apigateway.provider import ApiGatewayProvider

HTTP_METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
AUTHORIZATION_TYPES = ("NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS")
INTEGRATION_TYPES = ("HTTP", "AWS", "MOCK", "HTTP_PROXY", "AWS_PROXY")
_PATH_PART = re.compile(r"^(\{[A-Za-z0-9._-]+\+?\}|[A-Za-z0-9._:@~!$&'()*,;=-]+)$")
_STATUS = re.compile(r"^[1-5]\d\d$")


def _status_code(value: str) -> str:
    if not _STATUS.match(value or ""):
        raise bad_request("Invalid status code specified")
    return value


class ResourceOperations(Operations):
    service: ApiGatewayProvider

    def resource(self, ctx: RequestContext, api_id: str, resource_id: str) -> dict[str, Any]:
        self.service.rest_api(ctx, api_id)
        return self.service.doc(ctx, "resource", api_id, resource_id, "Invalid Resource identifier specified")

    def create_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = params["restApiId"]
        parent = self.resource(ctx, api_id, params["parentId"])
        part = params["pathPart"]
        self._check_path_part(ctx, api_id, parent, part)
        resource_id = new_id()
        path = ("" if parent["path"] == "/" else parent["path"]) + "/" + part
        resource = {"id": resource_id, "parentId": parent["id"], "pathPart": part, "path": path}
        self.service.save(ctx, "resource", api_id, resource_id, resource)
        return resource

    def _check_path_part(
        self, ctx: RequestContext, api_id: str, parent: dict, part: str, own: str = ""
    ) -> None:
        if not _PATH_PART.match(part):
            raise bad_request(
                "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and "
                "an optional plus sign before the closing brace."
            )
        if parent.get("pathPart", "").endswith("+}"):
            raise bad_request(
                f"Cannot create a child of a resource with a greedy path variable: {parent['path']}"
            )
        siblings = [
            r
            for r in self.service.store.list(ctx.account_id, ctx.region, "resource", api_id)
            if r.get("parentId") == parent["id"] and r["id"] != own
        ]
        for sibling in siblings:
            if sibling["pathPart"] == part:
                raise conflict(f"Another resource with the same parent already has this name: {part}")
            if part.startswith("{") and sibling["pathPart"].startswith("{"):
                raise bad_request(
                    f"A sibling ({sibling['pathPart']}) of this resource already has a variable path part -- "
                    "only one is allowed"
                )

    def get_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resource = self.resource(ctx, params["restApiId"], params["resourceId"])
        return present(resource, "methods" in (params.get("embed") or []))

    def get_resources(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = params["restApiId"]
        self.service.rest_api(ctx, api_id)
        embed = "methods" in (params.get("embed") or [])
        resources = self.service.store.list(ctx.account_id, ctx.region, "resource", api_id)
        resources.sort(key=lambda r: r["path"])
        return self.service.page([present(r, embed) for r in resources], params, "id", f"resources:{api_id}")

    def update_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = params["restApiId"]
        resource = self.resource(ctx, api_id, params["resourceId"])
        old_path = resource["path"]
        for operation in params.get("patchOperations") or []:
            if operation.get("path") == "/pathPart" and operation.get("op", "replace") == "replace":
                parent = self.resource(ctx, api_id, resource["parentId"])
                self._check_path_part(ctx, api_id, parent, operation["value"], own=resource["id"])
                resource["pathPart"] = operation["value"]
            elif operation.get("path") == "/parentId" and operation.get("op", "replace") == "replace":
                parent = self.resource(ctx, api_id, operation["value"])
                self._check_path_part(ctx, api_id, parent, resource["pathPart"], own=resource["id"])
                resource["parentId"] = parent["id"]
            else:
                raise bad_request(f"Invalid patch path {operation.get('path')}")
        parent = self.resource(ctx, api_id, resource["parentId"])
        resource["path"] = ("" if parent["path"] == "/" else parent["path"]) + "/" + resource["pathPart"]
        self.service.save(ctx, "resource", api_id, resource["id"], resource)
        for child in self.service.store.list(ctx.account_id, ctx.region, "resource", api_id):
            if child["path"].startswith(old_path + "/"):
                child["path"] = resource["path"] + child["path"][len(old_path) :]
                self.service.save(ctx, "resource", api_id, child["id"], child)
        return present(resource, False)

    def delete_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = params["restApiId"]
        resource = self.resource(ctx, api_id, params["resourceId"])
        if resource["path"] == "/":
            raise bad_request("Cannot delete the root resource of a REST API")
        for other in self.service.store.list(ctx.account_id, ctx.region, "resource", api_id):
            if other["path"] == resource["path"] or other["path"].startswith(resource["path"] + "/"):
                self.service.store.delete(ctx.account_id, ctx.region, "resource", api_id, other["id"])
        return {}


def present(resource: dict[str, Any], embed: bool) -> dict[str, Any]:
    """A resource as GetResource(s) return it: its methods in full when embedded, else only their names."""
    shown = {k: v for k, v in resource.items() if k != "resourceMethods"}
    methods = resource.get("resourceMethods")
    if methods:
        shown["resourceMethods"] = methods if embed else {name: {} for name in methods}
    return shown


class MethodOperations(Operations):
    service: ApiGatewayProvider

    # -- lookups -----------------------------------------------------------------------------------------

    def _resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.rest_api(ctx, params["restApiId"])
        return self.service.doc(
            ctx,
            "resource",
            params["restApiId"],
            params["resourceId"],
            "Invalid Resource identifier specified",
        )

    def _method(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        resource = self._resource(ctx, params)
        method = (resource.get("resourceMethods") or {}).get(params["httpMethod"])
        if method is None:
            raise not_found("Invalid Method identifier specified")
        return resource, method

    def _save(self, ctx: RequestContext, params: dict[str, Any], resource: dict[str, Any]) -> None:
        self.service.save(ctx, "resource", params["restApiId"], resource["id"], resource)

    # -- methods -----------------------------------------------------------------------------------------

    def put_method(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resource = self._resource(ctx, params)
        verb = params["httpMethod"]
        if verb not in HTTP_METHODS:
            raise bad_request(f"Invalid HttpMethod specified. Valid options are {','.join(HTTP_METHODS)}")
        if verb in (resource.get("resourceMethods") or {}):
            raise conflict("Method already exists for this resource")
        method: dict[str, Any] = {
            "httpMethod": verb,
            "apiKeyRequired": bool(params.get("apiKeyRequired", False)),
        }
        self._authorization(ctx, params, method, params["authorizationType"], params.get("authorizerId"))
        for key in ("operationName", "requestParameters", "requestModels", "authorizationScopes"):
            if params.get(key):
                method[key] = params[key]
        if params.get("requestValidatorId"):
            self._validator(ctx, params, params["requestValidatorId"])
            method["requestValidatorId"] = params["requestValidatorId"]
        for model in (params.get("requestModels") or {}).values():
            self._model(ctx, params, model)
        resource.setdefault("resourceMethods", {})[verb] = method
        self._save(ctx, params, resource)
        return method

    def _authorization(
        self, ctx: RequestContext, params: dict[str, Any], method: dict, kind: str, authorizer_id: str | None
    ) -> None:
        if kind not in AUTHORIZATION_TYPES:
            raise bad_request(f"Invalid authorization type specified: {kind}")
        method["authorizationType"] = kind
        if kind in ("CUSTOM", "COGNITO_USER_POOLS"):
            authorizer = authorizer_id and self.service.store.get(
                ctx.account_id, ctx.region, "authorizer", params["restApiId"], authorizer_id
            )
            if not authorizer:
                raise bad_request(
                    "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or "
                    "COGNITO_USER_POOLS requires a valid authorizer."
                )
            expected = "COGNITO_USER_POOLS" if authorizer["type"] == "COGNITO_USER_POOLS" else "CUSTOM"
            if expected != kind:
                raise bad_request(
                    f"Authorizer type {authorizer['type']} requires authorization type {expected}"
                )
            method["authorizerId"] = authorizer_id
        else:
            method.pop("authorizerId", None)

    def _validator(self, ctx: RequestContext, params: dict[str, Any], validator_id: str) -> None:
        if (
            self.service.store.get(ctx.account_id, ctx.region, "validator", params["restApiId"], validator_id)
            is None
        ):
            raise bad_request("Invalid Request Validator identifier specified")

    def _model(self, ctx: RequestContext, params: dict[str, Any], name: str) -> None:
        if self.service.store.get(ctx.account_id, ctx.region, "model", params["restApiId"], name) is None:
            raise bad_request(f"Invalid model identifier specified: {name}")

    def get_method(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._method(ctx, params)[1]

    def update_method(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resource, method = self._method(ctx, params)
        kind = {"value": None}

        def authorization(doc: dict, op: str, parts: list[str], value: Any) -> None:
            kind["value"] = value

        def authorizer(doc: dict, op: str, parts: list[str], value: Any) -> None:
            doc["authorizerId"] = value

        apply_patch(
            method,
            params.get("patchOperations"),
            [
                ("/authorizationType", authorization),
                ("/authorizerId", authorizer),
                ("/apiKeyRequired", set_field(as_bool)),
                ("/operationName", set_field()),
                ("/requestValidatorId", set_field(lambda v: v or None)),
                ("/requestParameters/*", map_entry(as_bool)),
                ("/requestModels/*", map_entry()),
                ("/authorizationScopes", _scopes),
                ("/authorizationScopes/*", _scopes),
            ],
        )
        if kind["value"] is not None or "authorizerId" in method:
            self._authorization(
                ctx, params, method, kind["value"] or method["authorizationType"], method.get("authorizerId")
            )
        if method.get("requestValidatorId"):
            self._validator(ctx, params, method["requestValidatorId"])
        method = {k: v for k, v in method.items() if v is not None}
        resource["resourceMethods"][params["httpMethod"]] = method
        self._save(ctx, params, resource)
        return method

    def delete_method(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resource, _ = self._method(ctx, params)
        del resource["resourceMethods"][params["httpMethod"]]
        if not resource["resourceMethods"]:
            del resource["resourceMethods"]
        self._save(ctx, params, resource)
        return {}

    # -- method responses -------------------------------------------------------------------------------

    def put_method_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resource, method = self._method(ctx, params)
        status = _status_code(params["statusCode"])
        response: dict[str, Any] = {"statusCode": status}
        for key in ("responseParameters", "responseModels"):
            if params.get(key):
                response[key] = params[key]
        method.setdefault("methodResponses", {})[status] = response
        self._save(ctx, params, resource)
        return response

    def _method_response(self, ctx: RequestContext, params: dict[str, Any]):
        resource, method = self._method(ctx, params)
        response = (method.get("methodResponses") or {}).get(params["statusCode"])
        if response is None:
            raise not_found("Invalid Response status code specified")
        return resource, method, response

    def get_method_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._method_response(ctx, params)[2]

    def update_method_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resource, method, response = self._method_response(ctx, params)
        apply_patch(
            response,
            params.get("patchOperations"),
            [("/responseParameters/*", map_entry(as_bool)), ("/responseModels/*", map_entry())],
        )
        self._save(ctx, params, resource)
        return response

    def delete_method_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resource, method, _ = self._method_response(ctx, params)
        del method["methodResponses"][params["statusCode"]]
        if not method["methodResponses"]:
            del method["methodResponses"]
        self._save(ctx, params, resource)
        return {}

    # -- integrations -------------------------------------------------------------------------------------

    def put_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resource, method = self._method(ctx, params)
        kind = params["type"]
        if kind not in INTEGRATION_TYPES:
            raise bad_request(f"Invalid integration type specified: {kind}")
        integration: dict[str, Any] = {"type": kind}
        if kind != "MOCK":
            if not params.get("integrationHttpMethod"):
                raise bad_request("Enumeration value for HttpMethod must be non-empty")
            if params["integrationHttpMethod"] not in HTTP_METHODS:
                raise bad_request(f"Invalid HttpMethod specified. Valid options are {','.join(HTTP_METHODS)}")
            if not params.get("uri"):
                raise bad_request("Invalid integration URI specified")
            _check_uri(kind, params["uri"])
            integration["httpMethod"] = params["integrationHttpMethod"]
            integration["uri"] = params["uri"]
            integration["connectionType"] = params.get("connectionType") or "INTERNET"
        for key in ("connectionId", "credentials", "requestParameters", "contentHandling", "tlsConfig"):
            if params.get(key):
                integration[key] = params[key]
        for template in (params.get("requestTemplates") or {}).values():
            if template:
                vtl.check_syntax(template)
        if params.get("requestTemplates"):
            integration["requestTemplates"] = params["requestTemplates"]
        behavior = params.get("passthroughBehavior") or "WHEN_NO_MATCH"
        if behavior not in ("WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"):
            raise bad_request(f"Invalid passthrough behavior specified: {behavior}")
        integration["passthroughBehavior"] = behavior
        timeout = params.get("timeoutInMillis") or 29000
        if not 50 <= timeout <= 29000:
            raise bad_request("Timeout should be between 50 ms and 29000 ms")
        integration["timeoutInMillis"] = timeout
        integration["cacheNamespace"] = params.get("cacheNamespace") or resource["id"]
        integration["cacheKeyParameters"] = params.get("cacheKeyParameters") or []
        old = method.get("methodIntegration") or {}
        if old.get("integrationResponses"):
            integration["integrationResponses"] = old["integrationResponses"]
        method["methodIntegration"] = integration
        self._save(ctx, params, resource)
        return integration

    def _integration(self, ctx: RequestContext, params: dict[str, Any]):
        resource, method = self._method(ctx, params)
        integration = method.get("methodIntegration")
        if integration is None:
            raise not_found("No integration defined for method")
        return resource, method, integration

    def get_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._integration(ctx, params)[2]

    def update_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resource, method, integration = self._integration(ctx, params)
        apply_patch(
            integration,
            params.get("patchOperations"),
            [
                ("/uri", set_field()),
                ("/httpMethod", set_field()),
                ("/type", set_field()),
                ("/credentials", set_field(lambda v: v or None)),
                ("/connectionType", set_field()),
                ("/connectionId", set_field()),
                ("/passthroughBehavior", set_field()),
                ("/contentHandling", set_field(lambda v: v or None)),
                ("/timeoutInMillis", set_field(as_int)),
                ("/cacheNamespace", set_field()),
                ("/cacheKeyParameters/*", _cache_key),
                ("/requestParameters/*", map_entry()),
                ("/requestTemplates/*", map_entry()),
                ("/tlsConfig/insecureSkipVerification", _tls),
            ],
        )
        for template in (integration.get("requestTemplates") or {}).values():
            if template:
                vtl.check_syntax(template)
        integration = {k: v for k, v in integration.items() if v is not None}
        method["methodIntegration"] = integration
        self._save(ctx, params, resource)
        return integration

    def delete_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resource, method, _ = self._integration(ctx, params)
        del method["methodIntegration"]
        self._save(ctx, params, resource)
        return {}

    # -- integration responses ----------------------------------------------------------------------------

    def put_integration_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resource, method, integration = self._integration(ctx, params)
        status = params["statusCode"]
        if status not in (method.get("methodResponses") or {}):
            raise not_found("Invalid Response status code specified")
        response: dict[str, Any] = {"statusCode": status}
        if params.get("selectionPattern") is not None:
            try:
                re.compile(params["selectionPattern"])
            except re.error:
                raise bad_request(
                    f"Invalid selection pattern specified: {params['selectionPattern']}"
                ) from None
            response["selectionPattern"] = params["selectionPattern"]
        for template in (params.get("responseTemplates") or {}).values():
            if template:
                vtl.check_syntax(template)
        for key in ("responseParameters", "responseTemplates", "contentHandling"):
            if params.get(key) is not None:
                response[key] = params[key]
        integration.setdefault("integrationResponses", {})[status] = response
        self._save(ctx, params, resource)
        return response

    def _integration_response(self, ctx: RequestContext, params: dict[str, Any]):
        resource, method, integration = self._integration(ctx, params)
        response = (integration.get("integrationResponses") or {}).get(params["statusCode"])
        if response is None:
            raise not_found("Invalid Response status code specified")
        return resource, integration, response

    def get_integration_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._integration_response(ctx, params)[2]

    def update_integration_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resource, _, response = self._integration_response(ctx, params)
        apply_patch(
            response,
            params.get("patchOperations"),
            [
                ("/selectionPattern", set_field()),
                ("/contentHandling", set_field(lambda v: v or None)),
                ("/responseParameters/*", map_entry()),
                ("/responseTemplates/*", map_entry()),
            ],
        )
        self._save(ctx, params, resource)
        return {k: v for k, v in response.items() if v is not None}

    def delete_integration_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resource, integration, _ = self._integration_response(ctx, params)
        del integration["integrationResponses"][params["statusCode"]]
        if not integration["integrationResponses"]:
            del integration["integrationResponses"]
        self._save(ctx, params, resource)
        return {}

    # -- testing ----------------------------------------------------------------------------------------

    async def test_invoke_method(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Run a method of the API as it is now (undeployed), as the console's Test button does."""
        with self.db.transaction():
            resource, method = self._method(ctx, params)
        return await self.service.gateway.test_invoke(ctx, params, resource, method)


def _check_uri(kind: str, uri: str) -> None:
    if kind in ("AWS", "AWS_PROXY"):
        if not uri.startswith("arn:aws:apigateway:") or not (
            "/" in uri and (":path/" in uri or ":action/" in uri)
        ):
            raise bad_request("AWS ARN for integration must contain path or action")
        if kind == "AWS_PROXY" and ":lambda:path/" not in uri and ":firehose:" not in uri:
            raise bad_request(
                "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream "
                "invocations."
            )
    elif not re.match(r"^https?://", uri):
        raise bad_request("Invalid HTTP endpoint specified for URI")


def _cache_key(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
    keys = doc.setdefault("cacheKeyParameters", [])
    if op == "remove":
        doc["cacheKeyParameters"] = [k for k in keys if k != parts[-1]]
    elif parts[-1] not in keys:
        keys.append(parts[-1])


def _tls(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
    doc.setdefault("tlsConfig", {})["insecureSkipVerification"] = as_bool(value)


def _scopes(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
    scopes = doc.setdefault("authorizationScopes", [])
    member = parts[-1] if len(parts) > 1 else value
    if op == "remove":
        doc["authorizationScopes"] = [s for s in scopes if s != member] or None
    elif member not in scopes:
        scopes.append(member)
