"""OpenAPI 3 and Swagger 2 definitions to and from a REST API, with API Gateway's extensions:
`x-amazon-apigateway-integration` (with its `responses`), `-any-method`, `-authorizer` and `-authtype` on
security schemes, `-request-validators` and `-request-validator`, `-gateway-responses`, `-binary-media-types`,
`-api-key-source` and `-policy`.

Pure: `to_api` turns a definition into resource, model, validator, authorizer and gateway response
documents (merged over the resources the API already has); `export` writes a deployment as a definition.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from overcast.services.apigateway.common import bad_request

VERBS = ("get", "put", "post", "delete", "options", "head", "patch")
ANY = "x-amazon-apigateway-any-method"


def load(body: bytes | str) -> dict[str, Any]:
    try:
        text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else body
    except UnicodeDecodeError:
        raise bad_request("Invalid OpenAPI input: the definition is not UTF-8 text") from None
    try:
        document = json.loads(text)
    except ValueError:
        try:
            import yaml

            document = yaml.safe_load(text)
        except Exception:
            document = None
    if not isinstance(document, dict) or not ("openapi" in document or "swagger" in document):
        raise bad_request(
            "Invalid OpenAPI input. Please check the API definition: it must be an OpenAPI 3 or Swagger 2 document"
        )
    return document


def title(document: dict[str, Any]) -> str | None:
    return (document.get("info") or {}).get("title")


def description(document: dict[str, Any]) -> str | None:
    return (document.get("info") or {}).get("description")


def version(document: dict[str, Any]) -> str | None:
    found = (document.get("info") or {}).get("version")
    return str(found) if found is not None else None


def api_settings(document: dict[str, Any]) -> dict[str, Any]:
    """The API-level extensions as RestApi fields."""
    settings: dict[str, Any] = {}
    if document.get("x-amazon-apigateway-binary-media-types"):
        settings["binaryMediaTypes"] = list(document["x-amazon-apigateway-binary-media-types"])
    if document.get("x-amazon-apigateway-api-key-source"):
        settings["apiKeySource"] = document["x-amazon-apigateway-api-key-source"]
    if document.get("x-amazon-apigateway-policy"):
        policy = document["x-amazon-apigateway-policy"]
        settings["policy"] = policy if isinstance(policy, str) else json.dumps(policy)
    if "x-amazon-apigateway-minimum-compression-size" in document:
        settings["minimumCompressionSize"] = document["x-amazon-apigateway-minimum-compression-size"]
    return settings


@dataclass
class Imported:
    resources: list[dict[str, Any]] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)
    validators: list[dict[str, Any]] = field(default_factory=list)
    authorizers: list[dict[str, Any]] = field(default_factory=list)
    gateway_responses: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _schemes(document: dict[str, Any]) -> dict[str, Any]:
    if "openapi" in document:
        return ((document.get("components") or {}).get("securitySchemes")) or {}
    return document.get("securityDefinitions") or {}


def _schemas(document: dict[str, Any]) -> dict[str, Any]:
    if "openapi" in document:
        return ((document.get("components") or {}).get("schemas")) or {}
    return document.get("definitions") or {}


def _model_name(ref: str | None) -> str | None:
    return ref.rsplit("/", 1)[-1] if ref else None


def to_api(document: dict[str, Any], existing: list[dict[str, Any]], new_id: Callable[..., str]) -> Imported:
    imported = Imported()
    by_path = {r["path"]: r for r in existing if r}
    for name, schema in _schemas(document).items():
        imported.models.append(
            {"id": new_id(6), "name": name, "contentType": "application/json", "schema": json.dumps(schema)}
        )
    validator_ids: dict[str, str] = {}
    for name, spec in (document.get("x-amazon-apigateway-request-validators") or {}).items():
        validator_ids[name] = new_id(6)
        imported.validators.append(
            {
                "id": validator_ids[name],
                "name": name,
                "validateRequestBody": bool(spec.get("validateRequestBody", False)),
                "validateRequestParameters": bool(spec.get("validateRequestParameters", False)),
            }
        )
    authorizers, api_key_schemes, iam_schemes = _authorizers(document, new_id, imported)
    default_validator = document.get("x-amazon-apigateway-request-validator")
    global_security = document.get("security")
    for kind, spec in (document.get("x-amazon-apigateway-gateway-responses") or {}).items():
        imported.gateway_responses.append(
            {
                "responseType": kind,
                "defaultResponse": False,
                "statusCode": str(spec.get("statusCode", "")) or None,
                "responseParameters": spec.get("responseParameters") or {},
                "responseTemplates": spec.get("responseTemplates") or {},
            }
        )
    imported.gateway_responses = [
        {k: v for k, v in g.items() if v is not None} for g in imported.gateway_responses
    ]
    for path, item in (document.get("paths") or {}).items():
        resource = _resource_for(path, by_path, new_id)
        for verb, operation in (item or {}).items():
            if verb not in VERBS and verb != ANY:
                continue
            method_name = "ANY" if verb == ANY else verb.upper()
            method = _method(
                method_name,
                operation or {},
                item.get("parameters") or [],
                document,
                authorizers,
                api_key_schemes,
                iam_schemes,
                validator_ids,
                operation.get("x-amazon-apigateway-request-validator", default_validator),
                global_security,
                imported,
            )
            resource.setdefault("resourceMethods", {})[method_name] = method
    imported.resources = list(by_path.values())
    return imported


def _resource_for(
    path: str, by_path: dict[str, dict[str, Any]], new_id: Callable[..., str]
) -> dict[str, Any]:
    path = "/" + path.strip("/") if path.strip("/") else "/"
    if path in by_path:
        return by_path[path]
    parent_path = path.rsplit("/", 1)[0] or "/"
    parent = _resource_for(parent_path, by_path, new_id)
    resource = {"id": new_id(), "parentId": parent["id"], "pathPart": path.rsplit("/", 1)[1], "path": path}
    by_path[path] = resource
    return resource


def _authorizers(document: dict[str, Any], new_id, imported: Imported):
    authorizers: dict[str, str] = {}
    api_keys: set[str] = set()
    iam: set[str] = set()
    for name, scheme in _schemes(document).items():
        spec = scheme.get("x-amazon-apigateway-authorizer")
        if spec:
            kind = str(spec.get("type", "token")).upper()
            header = scheme.get("name") or "Authorization"
            authorizer = {
                "id": new_id(6),
                "name": name,
                "type": kind,
                "authType": scheme.get("x-amazon-apigateway-authtype", "custom"),
                "authorizerResultTtlInSeconds": spec.get("authorizerResultTtlInSeconds", 300),
            }
            if kind == "COGNITO_USER_POOLS":
                authorizer["providerARNs"] = spec.get("providerARNs") or []
            else:
                authorizer["authorizerUri"] = spec.get("authorizerUri")
            if spec.get("authorizerCredentials"):
                authorizer["authorizerCredentials"] = spec["authorizerCredentials"]
            source = spec.get("identitySource") or (
                f"method.request.header.{header}" if kind != "REQUEST" else None
            )
            if source:
                authorizer["identitySource"] = source
            if spec.get("identityValidationExpression"):
                authorizer["identityValidationExpression"] = spec["identityValidationExpression"]
            authorizers[name] = authorizer["id"]
            imported.authorizers.append({k: v for k, v in authorizer.items() if v is not None})
        elif scheme.get("x-amazon-apigateway-authtype") == "awsSigv4":
            iam.add(name)
        elif scheme.get("type") == "apiKey" and str(scheme.get("name", "")).lower() == "x-api-key":
            api_keys.add(name)
    return authorizers, api_keys, iam


def _method(
    verb: str,
    operation: dict[str, Any],
    shared_parameters: list[dict[str, Any]],
    document: dict[str, Any],
    authorizers: dict[str, str],
    api_key_schemes: set[str],
    iam_schemes: set[str],
    validator_ids: dict[str, str],
    validator: str | None,
    global_security: list[dict[str, Any]] | None,
    imported: Imported,
) -> dict[str, Any]:
    method: dict[str, Any] = {"httpMethod": verb, "authorizationType": "NONE", "apiKeyRequired": False}
    security = operation.get("security", global_security) or []
    for requirement in security:
        for name, scopes in requirement.items():
            if name in api_key_schemes:
                method["apiKeyRequired"] = True
            elif name in iam_schemes:
                method["authorizationType"] = "AWS_IAM"
            elif name in authorizers:
                authorizer = next(a for a in imported.authorizers if a["id"] == authorizers[name])
                method["authorizationType"] = (
                    "COGNITO_USER_POOLS" if authorizer["type"] == "COGNITO_USER_POOLS" else "CUSTOM"
                )
                method["authorizerId"] = authorizer["id"]
                if scopes:
                    method["authorizationScopes"] = list(scopes)
    if operation.get("operationId"):
        method["operationName"] = operation["operationId"]
    parameters: dict[str, bool] = {}
    for parameter in [*shared_parameters, *(operation.get("parameters") or [])]:
        where = {"path": "path", "query": "querystring", "header": "header"}.get(parameter.get("in", ""))
        if where:
            parameters[f"method.request.{where}.{parameter['name']}"] = bool(parameter.get("required", False))
        elif parameter.get("in") == "body":
            name = _model_name((parameter.get("schema") or {}).get("$ref"))
            if name:
                method["requestModels"] = {"application/json": name}
    if parameters:
        method["requestParameters"] = parameters
    body = operation.get("requestBody") or {}
    for content_type, media in (body.get("content") or {}).items():
        name = _model_name((media.get("schema") or {}).get("$ref"))
        if name:
            method.setdefault("requestModels", {})[content_type] = name
    if validator and validator in validator_ids:
        method["requestValidatorId"] = validator_ids[validator]
    responses: dict[str, Any] = {}
    for status, spec in (operation.get("responses") or {}).items():
        if not str(status).isdigit():
            continue
        response: dict[str, Any] = {"statusCode": str(status)}
        headers = (spec or {}).get("headers") or {}
        if headers:
            response["responseParameters"] = {f"method.response.header.{h}": False for h in headers}
        models = {}
        for content_type, media in ((spec or {}).get("content") or {}).items():
            name = _model_name((media.get("schema") or {}).get("$ref"))
            if name:
                models[content_type] = name
        if (spec or {}).get("schema", {}).get("$ref"):
            models["application/json"] = _model_name(spec["schema"]["$ref"])
        if models:
            response["responseModels"] = models
        responses[str(status)] = response
    if responses:
        method["methodResponses"] = responses
    spec = operation.get("x-amazon-apigateway-integration")
    if spec:
        method["methodIntegration"] = _integration(spec)
    else:
        imported.warnings.append(f"No integration defined for method {verb}")
    return method


def _integration(spec: dict[str, Any]) -> dict[str, Any]:
    kind = str(spec.get("type", "")).upper()
    integration: dict[str, Any] = {"type": kind}
    if spec.get("httpMethod"):
        integration["httpMethod"] = str(spec["httpMethod"]).upper()
    for key in (
        "uri",
        "credentials",
        "requestParameters",
        "requestTemplates",
        "contentHandling",
        "connectionType",
        "connectionId",
        "cacheNamespace",
        "tlsConfig",
    ):
        if spec.get(key) is not None:
            integration[key] = spec[key]
    integration["passthroughBehavior"] = str(spec.get("passthroughBehavior", "when_no_match")).upper()
    integration["timeoutInMillis"] = int(spec.get("timeoutInMillis", 29000))
    integration["cacheKeyParameters"] = spec.get("cacheKeyParameters") or []
    responses = {}
    for pattern, response in (spec.get("responses") or {}).items():
        status = str(response.get("statusCode", "200"))
        entry: dict[str, Any] = {"statusCode": status}
        if pattern != "default":
            entry["selectionPattern"] = pattern
        for key in ("responseParameters", "responseTemplates", "contentHandling"):
            if response.get(key):
                entry[key] = response[key]
        responses[status] = entry
    if responses:
        integration["integrationResponses"] = responses
    return integration


# -- export -----------------------------------------------------------------------------------------


def export(
    api: dict[str, Any],
    snapshot: dict[str, Any],
    stage: dict[str, Any],
    kind: str,
    *,
    host: str,
    integrations: bool,
    authorizers: bool,
) -> dict[str, Any]:
    oas3 = kind == "oas30"
    document: dict[str, Any] = {}
    info = {"title": api["name"], "version": api.get("version") or _iso(api["createdDate"])}
    if api.get("description"):
        info["description"] = api["description"]
    if oas3:
        document["openapi"] = "3.0.1"
        document["info"] = info
        document["servers"] = [
            {"url": f"http://{host}/{{basePath}}", "variables": {"basePath": {"default": stage["stageName"]}}}
        ]
    else:
        document["swagger"] = "2.0"
        document["info"] = info
        document["host"] = host
        document["basePath"] = f"/{stage['stageName']}"
        document["schemes"] = ["http"]
    paths: dict[str, Any] = {}
    schemes: dict[str, Any] = {}
    for resource in sorted(snapshot["resources"], key=lambda r: r["path"]):
        methods = resource.get("resourceMethods") or {}
        if not methods:
            continue
        item: dict[str, Any] = {}
        for verb, method in methods.items():
            item[ANY if verb == "ANY" else verb.lower()] = _export_method(
                method, snapshot, oas3, integrations, authorizers, schemes
            )
        paths[resource["path"]] = item
    document["paths"] = paths
    models = {name: json.loads(m.get("schema") or "{}") for name, m in snapshot.get("models", {}).items()}
    if oas3:
        components: dict[str, Any] = {}
        if models:
            components["schemas"] = models
        if schemes:
            components["securitySchemes"] = schemes
        if components:
            document["components"] = components
    else:
        if models:
            document["definitions"] = models
        if schemes:
            document["securityDefinitions"] = schemes
    if integrations and snapshot.get("binaryMediaTypes"):
        document["x-amazon-apigateway-binary-media-types"] = snapshot["binaryMediaTypes"]
    return document


def _export_method(method, snapshot, oas3: bool, integrations: bool, authorizers: bool, schemes) -> dict:
    out: dict[str, Any] = {}
    if method.get("operationName"):
        out["operationId"] = method["operationName"]
    parameters = []
    for name, required in (method.get("requestParameters") or {}).items():
        where, _, param = name.removeprefix("method.request.").partition(".")
        location = {"querystring": "query", "path": "path", "header": "header"}.get(where)
        if location:
            entry: dict[str, Any] = {
                "name": param,
                "in": location,
                "required": bool(required) or location == "path",
            }
            if oas3:
                entry["schema"] = {"type": "string"}
            else:
                entry["type"] = "string"
            parameters.append(entry)
    if parameters:
        out["parameters"] = parameters
    models = method.get("requestModels") or {}
    if models:
        if oas3:
            out["requestBody"] = {
                "content": {
                    ct: {"schema": {"$ref": f"#/components/schemas/{m}"}} for ct, m in models.items()
                },
                "required": True,
            }
        else:
            out.setdefault("parameters", []).append(
                {
                    "in": "body",
                    "name": next(iter(models.values())),
                    "required": True,
                    "schema": {"$ref": f"#/definitions/{next(iter(models.values()))}"},
                }
            )
    responses = {}
    for status, response in (method.get("methodResponses") or {}).items():
        entry = {"description": f"{status} response"}
        headers = {
            name.removeprefix("method.response.header."): (
                {"schema": {"type": "string"}} if oas3 else {"type": "string"}
            )
            for name in (response.get("responseParameters") or {})
        }
        if headers:
            entry["headers"] = headers
        for content_type, model in (response.get("responseModels") or {}).items():
            if oas3:
                entry.setdefault("content", {})[content_type] = {
                    "schema": {"$ref": f"#/components/schemas/{model}"}
                }
            else:
                entry["schema"] = {"$ref": f"#/definitions/{model}"}
        responses[status] = entry
    out["responses"] = responses
    security = []
    if method.get("apiKeyRequired"):
        security.append({"api_key": []})
        schemes["api_key"] = {"type": "apiKey", "name": "x-api-key", "in": "header"}
    if method.get("authorizationType") == "AWS_IAM":
        security.append({"sigv4": []})
        schemes["sigv4"] = {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "x-amazon-apigateway-authtype": "awsSigv4",
        }
    authorizer = snapshot.get("authorizers", {}).get(method.get("authorizerId") or "")
    if authorizer:
        security.append({authorizer["name"]: method.get("authorizationScopes") or []})
        scheme = {
            "type": "apiKey",
            "name": (authorizer.get("identitySource") or "method.request.header.Authorization").split(".")[
                -1
            ],
            "in": "header",
            "x-amazon-apigateway-authtype": authorizer.get("authType", "custom"),
        }
        if authorizers:
            spec = {
                "type": authorizer["type"].lower(),
                "authorizerResultTtlInSeconds": authorizer.get("authorizerResultTtlInSeconds", 300),
            }
            for key in (
                "authorizerUri",
                "authorizerCredentials",
                "identitySource",
                "identityValidationExpression",
                "providerARNs",
            ):
                if authorizer.get(key):
                    spec[key] = authorizer[key]
            scheme["x-amazon-apigateway-authorizer"] = spec
        schemes[authorizer["name"]] = scheme
    if security:
        out["security"] = security
    integration = method.get("methodIntegration")
    if integrations and integration:
        spec = {"type": integration["type"].lower()}
        for key in (
            "httpMethod",
            "uri",
            "credentials",
            "requestParameters",
            "requestTemplates",
            "contentHandling",
            "connectionType",
            "connectionId",
            "timeoutInMillis",
            "cacheNamespace",
            "cacheKeyParameters",
        ):
            if integration.get(key) not in (None, [], {}):
                spec[key] = integration[key]
        spec["passthroughBehavior"] = integration.get("passthroughBehavior", "WHEN_NO_MATCH").lower()
        spec_responses = {}
        for status, response in (integration.get("integrationResponses") or {}).items():
            entry = {"statusCode": status}
            for key in ("responseParameters", "responseTemplates", "contentHandling"):
                if response.get(key):
                    entry[key] = response[key]
            spec_responses[response.get("selectionPattern") or "default"] = entry
        if spec_responses:
            spec["responses"] = spec_responses
        out["x-amazon-apigateway-integration"] = spec
    return out


def _iso(moment: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dump_yaml(document: dict[str, Any]) -> bytes:
    import yaml

    return yaml.safe_dump(document, sort_keys=False).encode()
