"""SNS mobile push: platform applications and platform endpoints.

Nothing is sent to a push service: what would be is captured in the outbox (protocol `application`), like
email (publishing.py, fanout.py).
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.sns.checks import invalid, invalid_token
from overcast.services.sns.store import PAGE

if TYPE_CHECKING:
    from overcast.services.sns.provider import SnsProvider

PLATFORMS = (
    "ADM",
    "APNS",
    "APNS_SANDBOX",
    "APNS_VOIP",
    "APNS_VOIP_SANDBOX",
    "BAIDU",
    "GCM",
    "MACOS",
    "MACOS_SANDBOX",
    "MPNS",
    "WNS",
)
APPLICATION_ATTRIBUTES = (
    "PlatformCredential",
    "PlatformPrincipal",
    "EventEndpointCreated",
    "EventEndpointDeleted",
    "EventEndpointUpdated",
    "EventDeliveryFailure",
    "SuccessFeedbackRoleArn",
    "FailureFeedbackRoleArn",
    "SuccessFeedbackSampleRate",
    "ApplePlatformTeamID",
    "ApplePlatformBundleID",
    "AuthenticationMethod",
    "Enabled",
)
SECRET_ATTRIBUTES = ("PlatformCredential", "PlatformPrincipal")  # never returned, as in AWS
ENDPOINT_ATTRIBUTES = ("CustomUserData", "Enabled", "Token")
_APPLICATION_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
MAX_CUSTOM_USER_DATA = 2048


class MobileOperations(Operations):
    """Platform applications and platform endpoints."""

    service: SnsProvider

    # -- platform applications ---------------------------------------------------------------------

    def create_platform_application(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, platform = params["Name"], params["Platform"]
        if not _APPLICATION_NAME.match(name):
            raise invalid("Invalid platform application name")
        if platform not in PLATFORMS:
            raise invalid(f"Platform Reason: {platform} is not supported")
        attributes = _application_attributes(dict(params.get("Attributes") or {}))
        if "PlatformCredential" not in attributes:
            raise invalid("Attributes Reason: PlatformCredential attribute is required")
        if platform.startswith(("APNS", "MACOS")) and "PlatformPrincipal" not in attributes:
            raise invalid("Attributes Reason: PlatformPrincipal attribute is required for " + platform)
        attributes.setdefault("Enabled", "true")
        arn = ctx.arn("sns", f"app/{platform}/{name}")
        self.service.store.save_platform_application(arn, ctx.account_id, ctx.region, platform, attributes)
        return {"PlatformApplicationArn": arn}

    def get_platform_application_attributes(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        _, attributes = self.service.platform_application(params["PlatformApplicationArn"])
        return {"Attributes": {k: v for k, v in attributes.items() if k not in SECRET_ATTRIBUTES}}

    def set_platform_application_attributes(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        arn = params["PlatformApplicationArn"]
        platform, attributes = self.service.platform_application(arn)
        attributes.update(_application_attributes(dict(params["Attributes"])))
        parsed = parse_arn(arn)
        assert parsed is not None  # platform_application() checked it
        self.service.store.save_platform_application(arn, parsed.account, parsed.region, platform, attributes)
        return {}

    def delete_platform_application(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.store.delete_platform_application(
            params["PlatformApplicationArn"]
        )  # idempotent, as in AWS
        return {}

    def list_platform_applications(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        scope = "ListPlatformApplications"
        after = decode_token(params.get("NextToken") or None, invalid_token, scope) or ""
        found = self.service.store.platform_applications(ctx.account_id, ctx.region, after)
        page, token = page_of(found, PAGE, lambda application: application[0], scope)
        result: dict[str, Any] = {
            "PlatformApplications": [
                {
                    "PlatformApplicationArn": arn,
                    "Attributes": {k: v for k, v in attributes.items() if k not in SECRET_ATTRIBUTES},
                }
                for arn, attributes in page
            ]
        }
        if token:
            result["NextToken"] = token
        return result

    # -- platform endpoints ------------------------------------------------------------------------

    def create_platform_endpoint(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        application_arn, token = params["PlatformApplicationArn"], params["Token"]
        platform, _ = self.service.platform_application(application_arn)
        if not token:
            raise invalid("Token Reason: Token must not be empty")
        attributes = {"Enabled": "true", **_endpoint_attributes(dict(params.get("Attributes") or {}))}
        attributes["Token"] = token
        if params.get("CustomUserData") is not None:
            attributes["CustomUserData"] = params["CustomUserData"]
        _endpoint_attributes(attributes)
        existing = store.endpoint_by_token(application_arn, token)
        if existing is not None:
            arn, stored = existing
            if stored != attributes:
                raise invalid(
                    f"Token Reason: Endpoint {arn} already exists with the same Token, but different attributes."
                )
            return {"EndpointArn": arn}
        application = parse_arn(application_arn)
        assert application is not None  # platform_application() checked it
        name = application.resource.rsplit("/", 1)[1]
        arn = ctx.arn("sns", f"endpoint/{platform}/{name}/{uuid.uuid4()}", region=application.region)
        store.save_platform_endpoint(arn, application_arn, attributes)
        return {"EndpointArn": arn}

    def get_endpoint_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _, attributes = self.service.platform_endpoint(params["EndpointArn"])
        return {"Attributes": attributes}

    def set_endpoint_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["EndpointArn"]
        application_arn, attributes = self.service.platform_endpoint(arn)
        attributes.update(_endpoint_attributes(dict(params["Attributes"])))
        self.service.store.save_platform_endpoint(arn, application_arn, attributes)
        return {}

    def delete_endpoint(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.store.delete_platform_endpoint(params["EndpointArn"])  # idempotent, as in AWS
        return {}

    def list_endpoints_by_platform_application(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        scope = "ListEndpointsByPlatformApplication"
        application_arn = params["PlatformApplicationArn"]
        self.service.platform_application(application_arn)
        after = decode_token(params.get("NextToken") or None, invalid_token, scope) or ""
        found = self.service.store.platform_endpoints(application_arn, after)
        page, token = page_of(found, PAGE, lambda endpoint: endpoint[0], scope)
        result: dict[str, Any] = {
            "Endpoints": [{"EndpointArn": arn, "Attributes": attributes} for arn, attributes in page]
        }
        if token:
            result["NextToken"] = token
        return result


def _application_attributes(attributes: dict[str, str]) -> dict[str, str]:
    for name, value in attributes.items():
        if name not in APPLICATION_ATTRIBUTES:
            raise invalid(f"Attributes Reason: Invalid attribute name: {name}")
        if name == "Enabled" and value not in ("true", "false"):
            raise invalid("Attributes Reason: Enabled must be true or false")
    return attributes


def _endpoint_attributes(attributes: dict[str, str]) -> dict[str, str]:
    for name, value in attributes.items():
        if name not in ENDPOINT_ATTRIBUTES:
            raise invalid(f"Attributes Reason: Invalid attribute name: {name}")
        if name == "Enabled" and value not in ("true", "false"):
            raise invalid("Attributes Reason: Enabled must be true or false")
        if name == "Token" and not value:
            raise invalid("Attributes Reason: Token must not be empty")
        if name == "CustomUserData" and len(value.encode()) > MAX_CUSTOM_USER_DATA:
            raise invalid("CustomUserData Reason: must be less than 2KB")
    return attributes
