"""Integrations of HTTP and WebSocket APIs (Lambda proxy, HTTP proxy, AWS service actions by subtype, and
the WebSocket APIs' AWS/HTTP/MOCK integrations) with their integration responses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.apigatewayv2.common import bad_request, new_id
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn

if TYPE_CHECKING:
    from overcast.services.apigatewayv2.provider import ApiGatewayV2Provider

FIELDS = (
    "ConnectionId",
    "ConnectionType",
    "ContentHandlingStrategy",
    "CredentialsArn",
    "Description",
    "IntegrationMethod",
    "IntegrationSubtype",
    "IntegrationType",
    "IntegrationUri",
    "PassthroughBehavior",
    "PayloadFormatVersion",
    "RequestParameters",
    "RequestTemplates",
    "ResponseParameters",
    "TemplateSelectionExpression",
    "TimeoutInMillis",
    "TlsConfig",
)
# HTTP APIs' AWS service integrations: subtype -> (botocore service, operation)
SUBTYPES = {
    "SQS-SendMessage": ("sqs", "SendMessage"),
    "SQS-ReceiveMessage": ("sqs", "ReceiveMessage"),
    "SQS-DeleteMessage": ("sqs", "DeleteMessage"),
    "SQS-PurgeQueue": ("sqs", "PurgeQueue"),
    "EventBridge-PutEvents": ("events", "PutEvents"),
    "StepFunctions-StartExecution": ("stepfunctions", "StartExecution"),
    "StepFunctions-StartSyncExecution": ("stepfunctions", "StartSyncExecution"),
    "StepFunctions-StopExecution": ("stepfunctions", "StopExecution"),
    "Kinesis-PutRecord": ("kinesis", "PutRecord"),
    "AppConfig-GetConfiguration": ("appconfig", "GetConfiguration"),
}


def check(api: dict[str, Any], integration: dict[str, Any]) -> None:
    kind = integration["IntegrationType"]
    http = api["ProtocolType"] == "HTTP"
    allowed = ("AWS_PROXY", "HTTP_PROXY") if http else ("AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK")
    if kind not in allowed:
        raise bad_request(f"Unsupported integration type {kind} for {api['ProtocolType']} APIs")
    subtype = integration.get("IntegrationSubtype")
    if subtype:
        if not http or kind != "AWS_PROXY" or subtype not in SUBTYPES:
            raise bad_request(f"Invalid integration subtype: {subtype}")
        if not integration.get("CredentialsArn"):
            raise bad_request("CredentialsArn is required for AWS service integrations")
    elif kind != "MOCK" and not integration.get("IntegrationUri"):
        raise bad_request("IntegrationUri is required for this integration type")
    if kind == "AWS_PROXY" and not subtype:
        arn = parse_arn(
            integration.get("IntegrationUri", "").split("/functions/")[-1].removesuffix("/invocations")
        )
        if arn is None or arn.service != "lambda":
            raise bad_request("AWS_PROXY integrations need a Lambda function ARN (or an IntegrationSubtype)")
    version = integration.get("PayloadFormatVersion")
    if version not in (None, "1.0", "2.0"):
        raise bad_request("PayloadFormatVersion must be 1.0 or 2.0")
    if version == "2.0" and kind != "AWS_PROXY":
        raise bad_request("Payload format version 2.0 is only supported for AWS_PROXY integrations")
    timeout = integration.get("TimeoutInMillis", 30000)
    if not 50 <= timeout <= (30000 if http else 29000):
        raise bad_request("TimeoutInMillis is out of range")


class IntegrationOperations(Operations):
    service: ApiGatewayV2Provider

    def create_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        http = api["ProtocolType"] == "HTTP"
        integration: dict[str, Any] = {"IntegrationId": new_id(7), "ConnectionType": "INTERNET"}
        for key in FIELDS:
            if params.get(key) is not None:
                integration[key] = params[key]
        kind = integration["IntegrationType"]
        if kind == "AWS_PROXY":
            integration.setdefault("IntegrationMethod", "POST")
            integration.setdefault("PayloadFormatVersion", "2.0" if http else "1.0")
        else:
            integration.setdefault("PayloadFormatVersion", "1.0")
        if not http:
            integration.setdefault("PassthroughBehavior", "WHEN_NO_MATCH")
            if kind in ("AWS", "HTTP", "MOCK"):
                integration.setdefault(
                    "IntegrationResponseSelectionExpression", "${integration.response.statuscode}"
                )
        integration.setdefault("TimeoutInMillis", 30000 if http else 29000)
        check(api, integration)
        self.service.save(ctx, "integration", api["ApiId"], integration["IntegrationId"], integration)
        self.service.changed(ctx, api["ApiId"])
        return integration

    def _integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.api(ctx, params["ApiId"])
        return self.service.doc(
            ctx,
            "integration",
            params["ApiId"],
            params["IntegrationId"],
            "Invalid Integration identifier specified",
        )

    def get_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._integration(ctx, params)

    def get_integrations(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        items = self.service.store.list(ctx.account_id, ctx.region, "integration", api["ApiId"])
        return self.service.page(items, params, "IntegrationId", f"integrations:{api['ApiId']}")

    def update_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api = self.service.api(ctx, params["ApiId"])
        integration = self._integration(ctx, params)
        for key in FIELDS:
            if key in params:
                integration[key] = params[key]
        check(api, integration)
        self.service.save(ctx, "integration", api["ApiId"], integration["IntegrationId"], integration)
        self.service.changed(ctx, api["ApiId"])
        return integration

    def delete_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        integration = self._integration(ctx, params)
        target = f"integrations/{integration['IntegrationId']}"
        for route in self.service.store.list(ctx.account_id, ctx.region, "route", params["ApiId"]):
            if route.get("Target") == target:
                raise bad_request(f"Cannot delete integration: it is the target of route {route['RouteKey']}")
        self.service.store.delete(
            ctx.account_id, ctx.region, "integration", params["ApiId"], integration["IntegrationId"]
        )
        self.service.store.delete_children(
            ctx.account_id, ctx.region, f"{params['ApiId']}/{integration['IntegrationId']}"
        )
        return {}

    # -- integration responses (WebSocket) -------------------------------------------------------------

    def create_integration_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        integration = self._integration(ctx, params)
        response: dict[str, Any] = {
            "IntegrationResponseId": new_id(6),
            "IntegrationResponseKey": params["IntegrationResponseKey"],
        }
        for key in (
            "ContentHandlingStrategy",
            "ResponseParameters",
            "ResponseTemplates",
            "TemplateSelectionExpression",
        ):
            if params.get(key) is not None:
                response[key] = params[key]
        parent = f"{params['ApiId']}/{integration['IntegrationId']}"
        self.service.save(ctx, "integrationresponse", parent, response["IntegrationResponseId"], response)
        self.service.changed(ctx, params["ApiId"])
        return response

    def _response(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        integration = self._integration(ctx, params)
        parent = f"{params['ApiId']}/{integration['IntegrationId']}"
        found = self.service.doc(
            ctx,
            "integrationresponse",
            parent,
            params["IntegrationResponseId"],
            "Invalid IntegrationResponse identifier specified",
        )
        return parent, found

    def get_integration_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._response(ctx, params)[1]

    def get_integration_responses(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        integration = self._integration(ctx, params)
        items = self.service.store.list(
            ctx.account_id,
            ctx.region,
            "integrationresponse",
            f"{params['ApiId']}/{integration['IntegrationId']}",
        )
        return self.service.page(
            items, params, "IntegrationResponseId", f"iresponses:{integration['IntegrationId']}"
        )

    def update_integration_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        parent, response = self._response(ctx, params)
        for key in (
            "ContentHandlingStrategy",
            "IntegrationResponseKey",
            "ResponseParameters",
            "ResponseTemplates",
            "TemplateSelectionExpression",
        ):
            if key in params:
                response[key] = params[key]
        self.service.save(ctx, "integrationresponse", parent, response["IntegrationResponseId"], response)
        return response

    def delete_integration_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        parent, response = self._response(ctx, params)
        self.service.store.delete(
            ctx.account_id, ctx.region, "integrationresponse", parent, response["IntegrationResponseId"]
        )
        return {}
