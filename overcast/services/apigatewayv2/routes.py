"""Routes (with their route responses) and models of HTTP and WebSocket APIs."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.apigatewayv2.common import bad_request, conflict, new_id
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.apigatewayv2.provider import ApiGatewayV2Provider

HTTP_METHODS = ("ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_HTTP_ROUTE = re.compile(r"^(\$default|(" + "|".join(HTTP_METHODS) + r") /\S*)$")
ROUTE_FIELDS = (
    "ApiKeyRequired",
    "AuthorizationScopes",
    "AuthorizationType",
    "AuthorizerId",
    "ModelSelectionExpression",
    "OperationName",
    "RequestModels",
    "RequestParameters",
    "RouteKey",
    "RouteResponseSelectionExpression",
    "Target",
)


class RouteOperations(Operations):
    service: ApiGatewayV2Provider

    def _check(self, ctx: RequestContext, api: dict[str, Any], route: dict[str, Any]) -> None:
        key = route["RouteKey"]
        if api["ProtocolType"] == "HTTP":
            if not _HTTP_ROUTE.match(key):
                raise bad_request(
                    f"Unable to create Route with key '{key}': the key must be $default or '<METHOD> /<path>'"
                )
            if key != "$default" and not key.split(" ", 1)[1].startswith("/"):
                raise bad_request(f"Invalid route key: {key}")
        for other in self.service.store.list(ctx.account_id, ctx.region, "route", api["ApiId"]):
            if other["RouteKey"] == key and other["RouteId"] != route.get("RouteId"):
                raise conflict(f"Route with key {key} already exists for this API")
        kind = route.get("AuthorizationType", "NONE")
        allowed = (
            ("NONE", "JWT", "AWS_IAM", "CUSTOM")
            if api["ProtocolType"] == "HTTP"
            else ("NONE", "AWS_IAM", "CUSTOM")
        )
        if kind not in allowed:
            raise bad_request(f"Invalid authorization type {kind} for this API")
        if kind in ("JWT", "CUSTOM"):
            authorizer = self.service.store.get(
                ctx.account_id, ctx.region, "authorizer", api["ApiId"], route.get("AuthorizerId") or ""
            )
            if authorizer is None:
                raise bad_request("Invalid authorizer ID specified for this route")
            expected = "JWT" if authorizer["AuthorizerType"] == "JWT" else "CUSTOM"
            if expected != kind:
                raise bad_request(
                    f"The authorizer of type {authorizer['AuthorizerType']} requires authorization type {expected}"
                )
        target = route.get("Target")
        if target:
            integration_id = target.removeprefix("integrations/")
            if (
                not target.startswith("integrations/")
                or self.service.store.get(
                    ctx.account_id, ctx.region, "integration", api["ApiId"], integration_id
                )
                is None
            ):
                raise bad_request(f"Invalid target: {target}")

    def create_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        route: dict[str, Any] = {"RouteId": new_id(7), "ApiKeyRequired": False, "AuthorizationType": "NONE"}
        for key in ROUTE_FIELDS:
            if params.get(key) is not None:
                route[key] = params[key]
        self._check(ctx, api, route)
        self.service.save(ctx, "route", api["ApiId"], route["RouteId"], route)
        self.service.changed(ctx, api["ApiId"])
        return route

    def route(self, ctx: RequestContext, api_id: str, route_id: str) -> dict[str, Any]:
        self.service.api(ctx, api_id)
        return self.service.doc(
            ctx, "route", api_id, route_id, f"Invalid Route identifier specified {route_id}"
        )

    def get_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.route(ctx, params["ApiId"], params["RouteId"])

    def get_routes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        routes = self.service.store.list(ctx.account_id, ctx.region, "route", api["ApiId"])
        return self.service.page(routes, params, "RouteId", f"routes:{api['ApiId']}")

    def update_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        route = self.route(ctx, params["ApiId"], params["RouteId"])
        for key in ROUTE_FIELDS:
            if key in params:
                route[key] = params[key]
        if route.get("AuthorizationType") == "NONE":
            route.pop("AuthorizerId", None)
        self._check(ctx, api, route)
        self.service.save(ctx, "route", api["ApiId"], route["RouteId"], route)
        self.service.changed(ctx, api["ApiId"])
        return route

    def delete_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        route = self.route(ctx, params["ApiId"], params["RouteId"])
        self.service.store.delete(ctx.account_id, ctx.region, "route", params["ApiId"], route["RouteId"])
        self.service.store.delete_children(
            ctx.account_id, ctx.region, f"{params['ApiId']}/{route['RouteId']}"
        )
        self.service.changed(ctx, params["ApiId"])
        return {}

    def delete_route_request_parameter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        route = self.route(ctx, params["ApiId"], params["RouteId"])
        (route.get("RequestParameters") or {}).pop(params["RequestParameterKey"], None)
        self.service.save(ctx, "route", params["ApiId"], route["RouteId"], route)
        return {}

    # -- route responses (WebSocket) -------------------------------------------------------------------

    def create_route_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        route = self.route(ctx, params["ApiId"], params["RouteId"])
        response: dict[str, Any] = {
            "RouteResponseId": new_id(6),
            "RouteResponseKey": params["RouteResponseKey"],
        }
        for key in ("ModelSelectionExpression", "ResponseModels", "ResponseParameters"):
            if params.get(key) is not None:
                response[key] = params[key]
        parent = f"{params['ApiId']}/{route['RouteId']}"
        self.service.save(ctx, "routeresponse", parent, response["RouteResponseId"], response)
        self.service.changed(ctx, params["ApiId"])
        return response

    def _route_response(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        route = self.route(ctx, params["ApiId"], params["RouteId"])
        parent = f"{params['ApiId']}/{route['RouteId']}"
        found = self.service.doc(
            ctx,
            "routeresponse",
            parent,
            params["RouteResponseId"],
            "Invalid RouteResponse identifier specified",
        )
        return parent, found

    def get_route_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._route_response(ctx, params)[1]

    def get_route_responses(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        route = self.route(ctx, params["ApiId"], params["RouteId"])
        items = self.service.store.list(
            ctx.account_id, ctx.region, "routeresponse", f"{params['ApiId']}/{route['RouteId']}"
        )
        return self.service.page(items, params, "RouteResponseId", f"routeresponses:{route['RouteId']}")

    def update_route_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        parent, response = self._route_response(ctx, params)
        for key in ("ModelSelectionExpression", "ResponseModels", "ResponseParameters", "RouteResponseKey"):
            if key in params:
                response[key] = params[key]
        self.service.save(ctx, "routeresponse", parent, response["RouteResponseId"], response)
        return response

    def delete_route_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        parent, response = self._route_response(ctx, params)
        self.service.store.delete(
            ctx.account_id, ctx.region, "routeresponse", parent, response["RouteResponseId"]
        )
        return {}

    # -- models -------------------------------------------------------------------------------------------

    def create_model(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        if any(
            m["Name"] == params["Name"]
            for m in self.service.store.list(ctx.account_id, ctx.region, "model", api["ApiId"])
        ):
            raise conflict(f"Model name already exists: {params['Name']}")
        model = {"ModelId": new_id(6), "Name": params["Name"], "Schema": params["Schema"]}
        for key in ("ContentType", "Description"):
            if params.get(key):
                model[key] = params[key]
        self.service.save(ctx, "model", api["ApiId"], model["ModelId"], model)
        return model

    def _model(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.api(ctx, params["ApiId"])
        return self.service.doc(
            ctx, "model", params["ApiId"], params["ModelId"], "Invalid Model identifier specified"
        )

    def get_model(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._model(ctx, params)

    def get_models(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        items = self.service.store.list(ctx.account_id, ctx.region, "model", api["ApiId"])
        return self.service.page(items, params, "ModelId", f"models:{api['ApiId']}")

    def update_model(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        model = self._model(ctx, params)
        for key in ("ContentType", "Description", "Name", "Schema"):
            if key in params:
                model[key] = params[key]
        self.service.save(ctx, "model", params["ApiId"], model["ModelId"], model)
        return model

    def delete_model(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        model = self._model(ctx, params)
        self.service.store.delete(ctx.account_id, ctx.region, "model", params["ApiId"], model["ModelId"])
        return {}

    def get_model_template(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._model(ctx, params)
        return {"Value": "#set($inputRoot = $input.path('$'))\n{}"}
