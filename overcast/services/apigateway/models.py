"""Models (JSON Schema draft 4), request validators and gateway responses of a REST API."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.apigateway.common import (
    apply_patch,
    as_bool,
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

_MODEL_NAME = re.compile(r"^[A-Za-z0-9]+$")
DEFAULT_TEMPLATE = {"application/json": '{"message":$context.error.messageString}'}
# AWS's gateway response types and their default status codes (DEFAULT_4XX/5XX have none of their own).
GATEWAY_RESPONSES = {
    "ACCESS_DENIED": "403",
    "API_CONFIGURATION_ERROR": "500",
    "AUTHORIZER_CONFIGURATION_ERROR": "500",
    "AUTHORIZER_FAILURE": "500",
    "BAD_REQUEST_PARAMETERS": "400",
    "BAD_REQUEST_BODY": "400",
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
    "EXPIRED_TOKEN": "403",
    "INTEGRATION_FAILURE": "504",
    "INTEGRATION_TIMEOUT": "504",
    "INVALID_API_KEY": "403",
    "INVALID_SIGNATURE": "403",
    "MISSING_AUTHENTICATION_TOKEN": "403",
    "QUOTA_EXCEEDED": "429",
    "REQUEST_TOO_LARGE": "413",
    "RESOURCE_NOT_FOUND": "404",
    "THROTTLED": "429",
    "UNAUTHORIZED": "401",
    "UNSUPPORTED_MEDIA_TYPE": "415",
    "WAF_FILTERED": "403",
}


def default_gateway_response(kind: str) -> dict[str, Any]:
    response: dict[str, Any] = {"responseType": kind, "defaultResponse": True, "responseParameters": {}}
    if GATEWAY_RESPONSES[kind]:
        response["statusCode"] = GATEWAY_RESPONSES[kind]
    response["responseTemplates"] = dict(DEFAULT_TEMPLATE)
    return response


def body_problem(schema_text: str, body: bytes) -> str | None:
    """What is wrong with a request body against a model's JSON schema (draft 4 unless it names another),
    as `$context.error.validationErrorString` words it; None when it conforms."""
    import jsonschema

    try:
        document = json.loads(body or b"null")
    except ValueError:
        return "[Invalid JSON in request body]"
    schema = json.loads(schema_text)
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft4Validator)
    errors = sorted(validator_class(schema).iter_errors(document), key=lambda e: list(e.path))
    if errors:
        return "[" + ", ".join(e.message for e in errors) + "]"
    return None


def parse_schema(text: str) -> dict[str, Any]:
    try:
        schema = json.loads(text)
    except ValueError:
        schema = None
    if not isinstance(schema, dict):
        raise bad_request(
            "Validation Result: warnings : [], errors : [Invalid model schema specified. Unsupported keyword(s): "
            "[], Model schema must be a valid JSON object]"
        )
    return schema


class ModelOperations(Operations):
    service: ApiGatewayProvider

    def create_model(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        name = params["name"]
        if not _MODEL_NAME.match(name):
            raise bad_request("Model name must be alphanumeric")
        if self.service.store.get(ctx.account_id, ctx.region, "model", api["id"], name) is not None:
            raise conflict("Model name already exists for this REST API")
        model: dict[str, Any] = {"id": new_id(6), "name": name, "contentType": params["contentType"]}
        if params.get("description"):
            model["description"] = params["description"]
        if params.get("schema"):
            parse_schema(params["schema"])
            model["schema"] = params["schema"]
        self.service.save(ctx, "model", api["id"], name, model)
        return model

    def _model(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.rest_api(ctx, params["restApiId"])
        return self.service.doc(
            ctx,
            "model",
            params["restApiId"],
            params["modelName"],
            f"Invalid model name specified: {params['modelName']}",
        )

    def get_model(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._model(ctx, params)

    def get_models(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        models = self.service.store.list(ctx.account_id, ctx.region, "model", api["id"])
        return self.service.page(models, params, "id", f"models:{api['id']}")

    def update_model(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        model = self._model(ctx, params)
        apply_patch(
            model,
            params.get("patchOperations"),
            [("/schema", set_field(lambda v: parse_schema(v) and v)), ("/description", set_field())],
        )
        self.service.save(ctx, "model", params["restApiId"], model["name"], model)
        return model

    def delete_model(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        model = self._model(ctx, params)
        for resource in self.service.store.list(ctx.account_id, ctx.region, "resource", params["restApiId"]):
            for method in (resource.get("resourceMethods") or {}).values():
                if model["name"] in (method.get("requestModels") or {}).values():
                    raise conflict(
                        f"Cannot delete model '{model['name']}', is referenced in method request: "
                        f"{resource['path']}/{method['httpMethod']}"
                    )
        self.service.store.delete(ctx.account_id, ctx.region, "model", params["restApiId"], model["name"])
        return {}

    def get_model_template(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """A mapping template that passes the model's properties through (as the console generates it)."""
        model = self._model(ctx, params)
        schema = parse_schema(model.get("schema") or "{}")
        lines = ["#set($inputRoot = $input.path('$'))", "{"]
        properties = list((schema.get("properties") or {}).items())
        for index, (name, spec) in enumerate(properties):
            comma = "," if index < len(properties) - 1 else ""
            quoted = (spec or {}).get("type") == "string"
            value = f'"$inputRoot.{name}"' if quoted else f"$inputRoot.{name}"
            lines.append(f'  "{name}" : {value}{comma}')
        lines.append("}")
        return {"value": "\n".join(lines)}


class RequestValidatorOperations(Operations):
    service: ApiGatewayProvider

    def create_request_validator(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        validator = {
            "id": new_id(6),
            "name": params.get("name") or "",
            "validateRequestBody": bool(params.get("validateRequestBody", False)),
            "validateRequestParameters": bool(params.get("validateRequestParameters", False)),
        }
        for other in self.service.store.list(ctx.account_id, ctx.region, "validator", api["id"]):
            if other["name"] == validator["name"]:
                raise conflict(f"Validator with name '{validator['name']}' already exists")
        self.service.save(ctx, "validator", api["id"], validator["id"], validator)
        return validator

    def _validator(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.rest_api(ctx, params["restApiId"])
        return self.service.doc(
            ctx,
            "validator",
            params["restApiId"],
            params["requestValidatorId"],
            "Invalid Request Validator identifier specified",
        )

    def get_request_validator(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._validator(ctx, params)

    def get_request_validators(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        items = self.service.store.list(ctx.account_id, ctx.region, "validator", api["id"])
        return self.service.page(items, params, "id", f"validators:{api['id']}")

    def update_request_validator(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        validator = self._validator(ctx, params)
        apply_patch(
            validator,
            params.get("patchOperations"),
            [
                ("/name", set_field()),
                ("/validateRequestBody", set_field(as_bool)),
                ("/validateRequestParameters", set_field(as_bool)),
            ],
        )
        self.service.save(ctx, "validator", params["restApiId"], validator["id"], validator)
        return validator

    def delete_request_validator(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        validator = self._validator(ctx, params)
        self.service.store.delete(
            ctx.account_id, ctx.region, "validator", params["restApiId"], validator["id"]
        )
        return {}


class GatewayResponseOperations(Operations):
    service: ApiGatewayProvider

    def _kind(self, kind: str) -> str:
        if kind not in GATEWAY_RESPONSES:
            raise bad_request(
                f"1 validation error detected: Value '{kind}' at 'responseType' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(GATEWAY_RESPONSES)}]"
            )
        return kind

    def put_gateway_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        kind = self._kind(params["responseType"])
        response: dict[str, Any] = {"responseType": kind, "defaultResponse": False}
        status = params.get("statusCode") or GATEWAY_RESPONSES[kind]
        if status:
            response["statusCode"] = status
        response["responseParameters"] = params.get("responseParameters") or {}
        response["responseTemplates"] = params.get("responseTemplates") or {}
        self.service.save(ctx, "gatewayresponse", api["id"], kind, response)
        return response

    def get_gateway_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        kind = self._kind(params["responseType"])
        found = self.service.store.get(ctx.account_id, ctx.region, "gatewayresponse", api["id"], kind)
        return found or default_gateway_response(kind)

    def get_gateway_responses(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        own = {
            g["responseType"]: g
            for g in self.service.store.list(ctx.account_id, ctx.region, "gatewayresponse", api["id"])
        }
        items = [own.get(kind) or default_gateway_response(kind) for kind in GATEWAY_RESPONSES]
        return self.service.page(items, params, "responseType", f"gatewayresponses:{api['id']}")

    def update_gateway_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        response = self.get_gateway_response(ctx, params)
        response["defaultResponse"] = False
        apply_patch(
            response,
            params.get("patchOperations"),
            [
                ("/statusCode", set_field()),
                ("/responseParameters/*", map_entry()),
                ("/responseTemplates/*", map_entry()),
            ],
        )
        response.setdefault("responseParameters", {})
        response.setdefault("responseTemplates", {})
        self.service.save(ctx, "gatewayresponse", params["restApiId"], response["responseType"], response)
        return response

    def delete_gateway_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        kind = self._kind(params["responseType"])
        if not self.service.store.delete(ctx.account_id, ctx.region, "gatewayresponse", api["id"], kind):
            raise not_found("Invalid Gateway Response identifier specified")
        return {}
