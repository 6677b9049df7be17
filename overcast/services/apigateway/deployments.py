"""Deployments (frozen snapshots of a REST API) and stages (a name serving a deployment, with its variables,
method settings, caching, logging and canary).

A deployment copies the API's resources, methods, authorizers, models, validators, gateway responses and
settings into its own document: changes to the API take effect only when deployed again, as in AWS.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.apigateway.common import (
    apply_patch,
    as_bool,
    as_float,
    as_int,
    bad_request,
    conflict,
    map_entry,
    new_id,
    not_found,
    set_field,
    unescape,
)
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.apigateway.provider import ApiGatewayProvider

CACHE_SIZES = ("0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237")
_STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_VARIABLE = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_VARIABLE_VALUE = re.compile(r"^[A-Za-z0-9\-._~:/?#&=,]*$")
# A stage's method setting: the patch path's last two segments -> (MethodSetting member, converter)
_METHOD_SETTINGS = {
    ("metrics", "enabled"): ("metricsEnabled", as_bool),
    ("logging", "loglevel"): ("loggingLevel", str),
    ("logging", "dataTrace"): ("dataTraceEnabled", as_bool),
    ("throttling", "burstLimit"): ("throttlingBurstLimit", as_int),
    ("throttling", "rateLimit"): ("throttlingRateLimit", as_float),
    ("caching", "enabled"): ("cachingEnabled", as_bool),
    ("caching", "ttlInSeconds"): ("cacheTtlInSeconds", as_int),
    ("caching", "dataEncrypted"): ("cacheDataEncrypted", as_bool),
    ("caching", "requireAuthorizationForCacheControl"): ("requireAuthorizationForCacheControl", as_bool),
    ("caching", "unauthorizedCacheControlHeaderStrategy"): ("unauthorizedCacheControlHeaderStrategy", str),
}
DEFAULT_METHOD_SETTING = {
    "metricsEnabled": False,
    "loggingLevel": "OFF",
    "dataTraceEnabled": False,
    "throttlingBurstLimit": 5000,
    "throttlingRateLimit": 10000.0,
    "cachingEnabled": False,
    "cacheTtlInSeconds": 300,
    "cacheDataEncrypted": False,
    "requireAuthorizationForCacheControl": True,
    "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
}


def check_variables(variables: dict[str, str] | None) -> None:
    for name, value in (variables or {}).items():
        if not _VARIABLE.match(name):
            raise bad_request(
                "Stage variable name must match the regular expression: [A-Za-z0-9_]+ and be at most 64 characters"
            )
        if not _VARIABLE_VALUE.match(value or "") or len(value or "") > 512:
            raise bad_request(
                "Stage variable value must match the regular expression: [A-Za-z0-9-._~:/?#&=,]+ and be at most "
                "512 characters"
            )


def _cache_size(value: str) -> str:
    if value not in CACHE_SIZES:
        raise bad_request(f"Invalid cache cluster size specified: {value}")
    return value


class DeploymentOperations(Operations):
    service: ApiGatewayProvider

    def snapshot(self, ctx: RequestContext, api: dict[str, Any], strict: bool = True) -> dict[str, Any]:
        """What a deployment freezes of the API (`strict`: refuse an API AWS would not deploy)."""
        store, account, region, api_id = self.service.store, ctx.account_id, ctx.region, api["id"]
        resources = store.list(account, region, "resource", api_id)
        methods = [m for r in resources for m in (r.get("resourceMethods") or {}).values()]
        if strict and not methods:
            raise bad_request("The REST API doesn't contain any methods")
        if strict and any("methodIntegration" not in m for m in methods):
            raise bad_request("No integration defined for method")
        return {
            "resources": resources,
            "authorizers": {a["id"]: a for a in store.list(account, region, "authorizer", api_id)},
            "models": {m["name"]: m for m in store.list(account, region, "model", api_id)},
            "validators": {v["id"]: v for v in store.list(account, region, "validator", api_id)},
            "gatewayResponses": {
                g["responseType"]: g for g in store.list(account, region, "gatewayresponse", api_id)
            },
            "binaryMediaTypes": api.get("binaryMediaTypes") or [],
            "apiKeySource": api.get("apiKeySource", "HEADER"),
            "policy": api.get("policy"),
            "minimumCompressionSize": api.get("minimumCompressionSize"),
        }

    def create_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        api_id = api["id"]
        stage_name = params.get("stageName")
        canary = params.get("canarySettings")
        if canary and not stage_name:
            raise bad_request("Canary settings can only be specified with a stage name")
        check_variables(params.get("variables"))
        snapshot = self.snapshot(ctx, api)
        deployment_id = new_id()
        deployment: dict[str, Any] = {"id": deployment_id, "createdDate": int(self.clock.now())}
        if params.get("description"):
            deployment["description"] = params["description"]
        self.service.save(ctx, "deployment", api_id, deployment_id, {**deployment, "snapshot": snapshot})
        if stage_name:
            stages = self.service.family(StageOperations)
            stage = self.service.store.get(ctx.account_id, ctx.region, "stage", api_id, stage_name)
            if canary:
                if stage is None:
                    raise bad_request("Stage does not exist: a canary deployment needs an existing stage")
                stage["canarySettings"] = stages.canary(canary, deployment_id)
            elif stage is None:
                stage = stages.new_stage(
                    ctx, api_id, stage_name, deployment_id, params, params.get("stageDescription")
                )
            else:
                stage["deploymentId"] = deployment_id
                if params.get("variables"):
                    stage["variables"] = {**stage.get("variables", {}), **params["variables"]}
                if params.get("stageDescription"):
                    stage["description"] = params["stageDescription"]
                for key in ("cacheClusterEnabled", "tracingEnabled"):
                    if params.get(key) is not None:
                        stage[key] = params[key]
            stage["lastUpdatedDate"] = int(self.clock.now())
            self.service.save(ctx, "stage", api_id, stage_name, stage)
        return deployment

    def _deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.rest_api(ctx, params["restApiId"])
        return self.service.doc(
            ctx,
            "deployment",
            params["restApiId"],
            params["deploymentId"],
            "Invalid Deployment identifier specified",
        )

    def get_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        deployment = self._deployment(ctx, params)
        return present(deployment, "apisummary" in [e.lower() for e in params.get("embed") or []])

    def get_deployments(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        deployments = self.service.store.list(ctx.account_id, ctx.region, "deployment", api["id"])
        items = [present(d, False) for d in deployments]
        return self.service.page(items, params, "id", f"deployments:{api['id']}")

    def update_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        deployment = self._deployment(ctx, params)
        apply_patch(deployment, params.get("patchOperations"), [("/description", set_field())])
        self.service.save(ctx, "deployment", params["restApiId"], deployment["id"], deployment)
        return present(deployment, False)

    def delete_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        deployment = self._deployment(ctx, params)
        for stage in self.service.store.list(ctx.account_id, ctx.region, "stage", params["restApiId"]):
            if stage.get("deploymentId") == deployment["id"]:
                raise bad_request("Active stages pointing to this deployment must be moved or deleted")
        self.service.store.delete(
            ctx.account_id, ctx.region, "deployment", params["restApiId"], deployment["id"]
        )
        return {}


def present(deployment: dict[str, Any], summary: bool) -> dict[str, Any]:
    shown = {k: v for k, v in deployment.items() if k != "snapshot"}
    if summary:
        shown["apiSummary"] = {
            r["path"]: {
                verb: {
                    "authorizationType": m.get("authorizationType", "NONE"),
                    "apiKeyRequired": m.get("apiKeyRequired", False),
                }
                for verb, m in (r.get("resourceMethods") or {}).items()
            }
            for r in deployment["snapshot"]["resources"]
            if r.get("resourceMethods")
        }
    return shown


class StageOperations(Operations):
    service: ApiGatewayProvider

    def new_stage(
        self,
        ctx: RequestContext,
        api_id: str,
        name: str,
        deployment_id: str,
        params: dict[str, Any],
        description: str | None,
    ) -> dict[str, Any]:
        if not _STAGE_NAME.match(name):
            raise bad_request("Stage name only allows a-zA-Z0-9_-")
        now = int(self.clock.now())
        stage: dict[str, Any] = {
            "deploymentId": deployment_id,
            "stageName": name,
            "cacheClusterEnabled": bool(params.get("cacheClusterEnabled", False)),
            "cacheClusterStatus": "NOT_AVAILABLE",
            "methodSettings": {},
            "tracingEnabled": bool(params.get("tracingEnabled", False)),
            "createdDate": now,
            "lastUpdatedDate": now,
        }
        if stage["cacheClusterEnabled"]:
            stage["cacheClusterSize"] = _cache_size(params.get("cacheClusterSize") or "0.5")
            stage["cacheClusterStatus"] = "AVAILABLE"
        if description:
            stage["description"] = description
        if params.get("variables"):
            check_variables(params["variables"])
            stage["variables"] = params["variables"]
        if params.get("documentationVersion"):
            stage["documentationVersion"] = params["documentationVersion"]
        return stage

    def canary(self, settings: dict[str, Any], deployment_id: str | None) -> dict[str, Any]:
        percent = settings.get("percentTraffic", 0.0)
        if not 0.0 <= percent <= 100.0:
            raise bad_request("Canary traffic percentage must be between 0.0 and 100.0")
        check_variables(settings.get("stageVariableOverrides"))
        canary = {
            "percentTraffic": float(percent),
            "useStageCache": bool(settings.get("useStageCache", False)),
        }
        if deployment_id or settings.get("deploymentId"):
            canary["deploymentId"] = deployment_id or settings["deploymentId"]
        if settings.get("stageVariableOverrides"):
            canary["stageVariableOverrides"] = settings["stageVariableOverrides"]
        return canary

    def create_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        api_id, name = api["id"], params["stageName"]
        self.service.doc(
            ctx, "deployment", api_id, params["deploymentId"], "Invalid Deployment identifier specified"
        )
        if self.service.store.get(ctx.account_id, ctx.region, "stage", api_id, name) is not None:
            raise conflict("Stage already exists")
        stage = self.new_stage(ctx, api_id, name, params["deploymentId"], params, params.get("description"))
        if params.get("canarySettings"):
            stage["canarySettings"] = self.canary(params["canarySettings"], None)
        self.service.save(ctx, "stage", api_id, name, stage)
        if params.get("tags"):
            self.service.tags.add(
                self._arn(ctx, api_id, name), params["tags"], account=ctx.account_id, region=ctx.region
            )
        return self.describe(ctx, api_id, stage)

    def _arn(self, ctx: RequestContext, api_id: str, name: str) -> str:
        return self.service.arn(ctx, f"/restapis/{api_id}/stages/{name}")

    def describe(self, ctx: RequestContext, api_id: str, stage: dict[str, Any]) -> dict[str, Any]:
        return self.service.with_tags(ctx, f"/restapis/{api_id}/stages/{stage['stageName']}", stage)

    def stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.rest_api(ctx, params["restApiId"])
        return self.service.doc(
            ctx, "stage", params["restApiId"], params["stageName"], "Invalid Stage identifier specified"
        )

    def get_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.describe(ctx, params["restApiId"], self.stage(ctx, params))

    def get_stages(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.rest_api(ctx, params["restApiId"])
        stages = self.service.store.list(ctx.account_id, ctx.region, "stage", api["id"])
        if params.get("deploymentId"):
            stages = [s for s in stages if s.get("deploymentId") == params["deploymentId"]]
        return {"item": [self.describe(ctx, api["id"], s) for s in stages]}

    def update_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = params["restApiId"]
        stage = self.stage(ctx, params)
        apply_patch(
            stage,
            params.get("patchOperations"),
            [
                ("/deploymentId", self._deployment_rule(ctx, api_id)),
                ("/description", set_field()),
                ("/clientCertificateId", set_field(lambda v: v or None)),
                ("/documentationVersion", set_field(lambda v: v or None)),
                ("/webAclArn", set_field(lambda v: v or None)),
                ("/cacheClusterEnabled", _cache_enabled),
                ("/cacheClusterSize", set_field(_cache_size)),
                ("/tracingEnabled", set_field(as_bool)),
                ("/variables/*", map_entry()),
                ("/accessLogSettings", _access_logs),
                ("/accessLogSettings/*", _access_logs),
                ("/canarySettings", _canary),
                ("/canarySettings/*", _canary),
                ("/canarySettings/stageVariableOverrides/*", _canary),
                ("/*/*/*/*", _method_setting),
            ],
        )
        check_variables(stage.get("variables"))
        self._check_logging(ctx, stage)
        stage = {k: v for k, v in stage.items() if v is not None}
        stage["lastUpdatedDate"] = int(self.clock.now())
        self.service.save(ctx, "stage", api_id, stage["stageName"], stage)
        return self.describe(ctx, api_id, stage)

    def _check_logging(self, ctx: RequestContext, stage: dict[str, Any]) -> None:
        """AWS writes execution logs only with the account's CloudWatch role set, and refuses them without."""
        logging = any(
            s.get("loggingLevel", "OFF") != "OFF" for s in (stage.get("methodSettings") or {}).values()
        )
        if not logging:
            return
        account = self.service.store.get(ctx.account_id, ctx.region, "account", "", "account") or {}
        if not account.get("cloudwatchRoleArn"):
            raise bad_request("CloudWatch Logs role ARN must be set in account settings to enable logging")

    def _deployment_rule(self, ctx: RequestContext, api_id: str):
        def apply(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
            self.service.doc(ctx, "deployment", api_id, value, "Invalid Deployment identifier specified")
            doc["deploymentId"] = value

        return apply

    def delete_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stage = self.stage(ctx, params)
        self.service.store.delete(
            ctx.account_id, ctx.region, "stage", params["restApiId"], stage["stageName"]
        )
        self.service.tags.forget(self._arn(ctx, params["restApiId"], stage["stageName"]))
        return {}

    def flush_stage_cache(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.stage(ctx, params)
        self.service.gateway.cache.flush(params["restApiId"], params["stageName"])
        return {}

    def flush_stage_authorizers_cache(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.stage(ctx, params)
        self.service.gateway.authorizer_cache.flush(params["restApiId"], params["stageName"])
        return {}


def _cache_enabled(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
    enabled = as_bool(value)
    doc["cacheClusterEnabled"] = enabled
    doc["cacheClusterStatus"] = "AVAILABLE" if enabled else "NOT_AVAILABLE"
    if enabled:
        doc.setdefault("cacheClusterSize", "0.5")


def _access_logs(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
    if op == "remove" and len(parts) == 1:
        doc.pop("accessLogSettings", None)
        return
    settings = doc.setdefault("accessLogSettings", {})
    if parts[-1] not in ("destinationArn", "format"):
        raise bad_request(f"Invalid patch path /{'/'.join(parts)}")
    if op == "remove":
        settings.pop(parts[-1], None)
    else:
        settings[parts[-1]] = value
    if not settings:
        doc.pop("accessLogSettings", None)


def _canary(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
    if len(parts) == 1:
        if op == "remove":
            doc.pop("canarySettings", None)
            return
        raise bad_request("Invalid patch path /canarySettings")
    canary = doc.setdefault("canarySettings", {"percentTraffic": 0.0, "useStageCache": False})
    field = parts[1]
    if field == "stageVariableOverrides" and len(parts) == 3:
        overrides = canary.setdefault("stageVariableOverrides", {})
        if op == "remove":
            overrides.pop(parts[2], None)
        else:
            overrides[parts[2]] = value
    elif field == "percentTraffic":
        percent = as_float(value)
        if not 0.0 <= percent <= 100.0:
            raise bad_request("Canary traffic percentage must be between 0.0 and 100.0")
        canary["percentTraffic"] = percent
    elif field == "deploymentId":
        canary["deploymentId"] = value
    elif field == "useStageCache":
        canary["useStageCache"] = as_bool(value)
    else:
        raise bad_request(f"Invalid patch path /{'/'.join(parts)}")


def _method_setting(doc: dict[str, Any], op: str, parts: list[str], value: Any) -> None:
    """`/<resource path>/<method>/<group>/<setting>`: `/*/*/throttling/rateLimit`, `/~1pets/GET/caching/enabled`."""
    resource, verb, group, name = parts
    member = _METHOD_SETTINGS.get((group, name))
    if member is None:
        raise bad_request(f"Invalid method setting path: /{'/'.join(parts)}")
    key = f"{unescape(resource).lstrip('/') if resource != '*' else '*'}/{verb}"
    settings = doc.setdefault("methodSettings", {})
    setting = settings.setdefault(key, dict(DEFAULT_METHOD_SETTING))
    if op == "remove":
        setting[member[0]] = DEFAULT_METHOD_SETTING[member[0]]
    else:
        if member[0] == "loggingLevel" and value not in ("OFF", "ERROR", "INFO"):
            raise bad_request(f"Invalid logging level: {value}")
        setting[member[0]] = member[1](value)


def method_setting(stage: dict[str, Any], resource_path: str, verb: str) -> dict[str, Any]:
    """The settings that apply to one method of a stage: its own, else `*/*`'s, else the defaults."""
    settings = stage.get("methodSettings") or {}
    own = settings.get(f"{resource_path.lstrip('/')}/{verb}")
    if own is not None:
        return own
    return settings.get("*/*") or DEFAULT_METHOD_SETTING


__all__ = ["DeploymentOperations", "StageOperations", "method_setting", "not_found"]
