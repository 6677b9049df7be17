"""Mobile push (platform applications and endpoints) and SMS settings: opt-outs and the SMS sandbox.

Nothing is sent to a push service or a phone: what would be is captured in the outbox (protocol
`application` or `sms`), like email. Mixed into `SnsProvider`.
"""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError

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
SMS_ATTRIBUTES = (
    "MonthlySpendLimit",
    "DeliveryStatusIAMRole",
    "DeliveryStatusSuccessSamplingRate",
    "DefaultSenderID",
    "DefaultSMSType",
    "UsageReportS3Bucket",
)
_APPLICATION_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
PHONE = re.compile(r"^\+?[0-9]{5,15}$")
MAX_CUSTOM_USER_DATA = 2048


def _invalid(reason: str) -> ServiceError:
    return ServiceError("InvalidParameter", f"Invalid parameter: {reason}")


def _arn_resource(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[5] if len(parts) == 6 and parts[:3] == ["arn", "aws", "sns"] else None


class MobileOps:
    """Platform applications, platform endpoints, SMS attributes, opt-outs and the SMS sandbox."""

    # -- platform applications ---------------------------------------------------------------------

    @staticmethod
    def _application_attributes(attributes: dict[str, str]) -> dict[str, str]:
        for name, value in attributes.items():
            if name not in APPLICATION_ATTRIBUTES:
                raise _invalid(f"Attributes Reason: Invalid attribute name: {name}")
            if name == "Enabled" and value not in ("true", "false"):
                raise _invalid("Attributes Reason: Enabled must be true or false")
        return attributes

    def _application(self, arn: str) -> tuple[str, dict[str, str]]:
        if _arn_resource(arn) is None or not _arn_resource(arn).startswith("app/"):
            raise _invalid("PlatformApplicationArn Reason: An ARN must have 6 elements separated by ':'")
        found = self.store.platform_application(arn)
        if found is None:
            raise ServiceError("NotFound", "PlatformApplication does not exist", 404)
        return found

    def create_platform_application(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, platform = params["Name"], params["Platform"]
        if not _APPLICATION_NAME.match(name):
            raise _invalid("Invalid platform application name")
        if platform not in PLATFORMS:
            raise _invalid(f"Platform Reason: {platform} is not supported")
        attributes = self._application_attributes(dict(params.get("Attributes") or {}))
        if "PlatformCredential" not in attributes:
            raise _invalid("Attributes Reason: PlatformCredential attribute is required")
        if platform.startswith(("APNS", "MACOS")) and "PlatformPrincipal" not in attributes:
            raise _invalid("Attributes Reason: PlatformPrincipal attribute is required for " + platform)
        attributes.setdefault("Enabled", "true")
        arn = ctx.arn("sns", f"app/{platform}/{name}")
        self.store.save_platform_application(arn, ctx.account_id, ctx.region, platform, attributes)
        return {"PlatformApplicationArn": arn}

    def get_platform_application_attributes(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        _, attributes = self._application(params["PlatformApplicationArn"])
        return {"Attributes": {k: v for k, v in attributes.items() if k not in SECRET_ATTRIBUTES}}

    def set_platform_application_attributes(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        arn = params["PlatformApplicationArn"]
        platform, attributes = self._application(arn)
        attributes.update(self._application_attributes(dict(params["Attributes"])))
        region, account = arn.split(":")[3:5]
        self.store.save_platform_application(arn, account, region, platform, attributes)
        return {}

    def delete_platform_application(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.store.delete_platform_application(params["PlatformApplicationArn"])  # idempotent, as in AWS
        return {}

    def list_platform_applications(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = self.store.platform_applications(
            ctx.account_id, ctx.region, self._decode_token(params.get("NextToken"))
        )
        page = found[: self.PAGE]
        result: dict[str, Any] = {
            "PlatformApplications": [
                {
                    "PlatformApplicationArn": arn,
                    "Attributes": {k: v for k, v in attributes.items() if k not in SECRET_ATTRIBUTES},
                }
                for arn, attributes in page
            ]
        }
        if len(found) > self.PAGE:
            result["NextToken"] = self._encode_token(page[-1][0])
        return result

    # -- platform endpoints ------------------------------------------------------------------------

    @staticmethod
    def _endpoint_attributes(attributes: dict[str, str]) -> dict[str, str]:
        for name, value in attributes.items():
            if name not in ENDPOINT_ATTRIBUTES:
                raise _invalid(f"Attributes Reason: Invalid attribute name: {name}")
            if name == "Enabled" and value not in ("true", "false"):
                raise _invalid("Attributes Reason: Enabled must be true or false")
            if name == "Token" and not value:
                raise _invalid("Attributes Reason: Token must not be empty")
            if name == "CustomUserData" and len(value.encode()) > MAX_CUSTOM_USER_DATA:
                raise _invalid("CustomUserData Reason: must be less than 2KB")
        return attributes

    def _endpoint(self, arn: str) -> tuple[str, dict[str, str]]:
        resource = _arn_resource(arn)
        if resource is None or not resource.startswith("endpoint/"):
            raise _invalid("EndpointArn Reason: An ARN must have 6 elements separated by ':'")
        found = self.store.platform_endpoint(arn)
        if found is None:
            raise ServiceError("NotFound", "Endpoint does not exist", 404)
        return found

    def create_platform_endpoint(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        application_arn, token = params["PlatformApplicationArn"], params["Token"]
        platform, _ = self._application(application_arn)
        if not token:
            raise _invalid("Token Reason: Token must not be empty")
        attributes = {"Enabled": "true", **self._endpoint_attributes(dict(params.get("Attributes") or {}))}
        attributes["Token"] = token
        if params.get("CustomUserData") is not None:
            attributes["CustomUserData"] = params["CustomUserData"]
        self._endpoint_attributes(attributes)
        existing = self.store.endpoint_by_token(application_arn, token)
        if existing is not None:
            arn, stored = existing
            if stored != attributes:
                raise _invalid(
                    f"Token Reason: Endpoint {arn} already exists with the same Token, but different attributes."
                )
            return {"EndpointArn": arn}
        name = application_arn.rsplit("/", 1)[1]
        arn = ctx.arn(
            "sns", f"endpoint/{platform}/{name}/{uuid.uuid4()}", region=application_arn.split(":")[3]
        )
        self.store.save_platform_endpoint(arn, application_arn, attributes)
        return {"EndpointArn": arn}

    def get_endpoint_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _, attributes = self._endpoint(params["EndpointArn"])
        return {"Attributes": attributes}

    def set_endpoint_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["EndpointArn"]
        application_arn, attributes = self._endpoint(arn)
        attributes.update(self._endpoint_attributes(dict(params["Attributes"])))
        self.store.save_platform_endpoint(arn, application_arn, attributes)
        return {}

    def delete_endpoint(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.store.delete_platform_endpoint(params["EndpointArn"])  # idempotent, as in AWS
        return {}

    def list_endpoints_by_platform_application(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        application_arn = params["PlatformApplicationArn"]
        self._application(application_arn)
        found = self.store.platform_endpoints(application_arn, self._decode_token(params.get("NextToken")))
        page = found[: self.PAGE]
        result: dict[str, Any] = {
            "Endpoints": [{"EndpointArn": arn, "Attributes": attributes} for arn, attributes in page]
        }
        if len(found) > self.PAGE:
            result["NextToken"] = self._encode_token(page[-1][0])
        return result

    def _push(self, ctx: RequestContext, endpoint_arn: str, messages: dict[str, str]) -> dict[str, Any]:
        """Publish(TargetArn=<endpoint>): captured in the outbox as the push service would receive it."""
        application_arn, attributes = self._endpoint(endpoint_arn)
        platform, application = self._application(application_arn)
        if application.get("Enabled") == "false":
            raise ServiceError("PlatformApplicationDisabled", "Platform application is disabled.")
        if attributes.get("Enabled") == "false":
            raise ServiceError("EndpointDisabled", "Endpoint is disabled")
        message_id = str(uuid.uuid4())
        self.store.add_to_outbox(
            {
                "account": ctx.account_id,
                "region": ctx.region,
                "protocol": "application",
                "endpoint": endpoint_arn,
                "message_id": message_id,
                "kind": "Notification",
                "payload": messages.get(platform, messages["default"]),
                "created_at": self.clock.now(),
            }
        )
        return {"MessageId": message_id}

    def _endpoint_accepts(self, endpoint_arn: str) -> tuple[bool, str | None]:
        """(deliverable, platform) for an `application` subscription's endpoint."""
        found = self.store.platform_endpoint(endpoint_arn)
        if found is None:
            return True, None  # an endpoint we do not know: captured as addressed
        application = self.store.platform_application(found[0])
        enabled = found[1].get("Enabled") != "false" and (
            application is None or application[1].get("Enabled") != "false"
        )
        return enabled, application[0] if application else None

    # -- SMS ---------------------------------------------------------------------------------------

    @staticmethod
    def _phone(number: str, name: str = "PhoneNumber") -> str:
        if not PHONE.match(number or ""):
            raise _invalid(f"{name} Reason: input incorrectly formatted")
        return number

    def set_sms_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        for name, value in params["attributes"].items():
            if name not in SMS_ATTRIBUTES:
                raise _invalid(f"attributes Reason: {name} is not a valid attribute")
            if name == "DefaultSMSType" and value not in ("Promotional", "Transactional"):
                raise _invalid("DefaultSMSType Reason: must be Promotional or Transactional")
            if name in ("MonthlySpendLimit", "DeliveryStatusSuccessSamplingRate") and not value.isdigit():
                raise _invalid(f"{name} Reason: must be a whole number")
            if name == "DeliveryStatusSuccessSamplingRate" and int(value) > 100:
                raise _invalid(f"{name} Reason: must be between 0 and 100")
            self.store.set_sms_value(ctx.account_id, ctx.region, "attribute", name, value)
        return {}

    def get_sms_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stored = self.store.sms_values(ctx.account_id, ctx.region, "attribute")
        wanted = params.get("attributes")
        if wanted:
            stored = {k: v for k, v in stored.items() if k in wanted}
        return {"attributes": stored}

    def check_if_phone_number_is_opted_out(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        phone = self._phone(params["phoneNumber"], "phoneNumber")
        return {"isOptedOut": self._opted_out(ctx.account_id, ctx.region, phone)}

    def _opted_out(self, account: str, region: str, phone: str) -> bool:
        return self.store.sms_value(account, region, "opted_out", phone) is not None

    def opt_out(self, account: str, region: str, phone: str) -> None:
        """What a recipient replying STOP does (POST /_overcast/sns/opt-out)."""
        with self.db.transaction():
            self.store.set_sms_value(account, region, "opted_out", phone, self.clock.now())

    def list_phone_numbers_opted_out(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        numbers = list(
            self.store.sms_values(
                ctx.account_id,
                ctx.region,
                "opted_out",
                self._decode_token(params.get("nextToken")),
                self.PAGE + 1,
            )
        )
        result: dict[str, Any] = {"phoneNumbers": numbers[: self.PAGE]}
        if len(numbers) > self.PAGE:
            result["nextToken"] = self._encode_token(numbers[self.PAGE - 1])
        return result

    def opt_in_phone_number(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        phone = self._phone(params["phoneNumber"], "phoneNumber")
        self.store.delete_sms_value(ctx.account_id, ctx.region, "opted_out", phone)
        return {}

    def list_origination_numbers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("MaxResults")
        if limit is not None and not 1 <= limit <= 30:
            raise ServiceError("ValidationException", "MaxResults must be between 1 and 30")
        return {"PhoneNumbers": []}  # no origination numbers are provisioned locally

    # -- the SMS sandbox ---------------------------------------------------------------------------

    def get_sms_sandbox_account_status(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"IsInSandbox": False}  # every SMS is captured in the outbox, to any number

    def create_sms_sandbox_phone_number(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        phone = self._phone(params["PhoneNumber"])
        if not phone.startswith("+"):
            raise _invalid("PhoneNumber Reason: must be in E.164 format")
        if self._opted_out(ctx.account_id, ctx.region, phone):
            raise ServiceError("OptedOut", "The phone number has opted out of receiving SMS messages.")
        code = f"{secrets.randbelow(10**6):06d}"
        self.store.set_sms_value(
            ctx.account_id, ctx.region, "sandbox", phone, {"Status": "Pending", "Code": code}
        )
        self.store.add_to_outbox(
            {
                "account": ctx.account_id,
                "region": ctx.region,
                "protocol": "sms",
                "endpoint": phone,
                "message_id": str(uuid.uuid4()),
                "kind": "VerificationCode",
                "payload": f"Your verification code is {code}",
                "created_at": self.clock.now(),
            }
        )
        return {}

    def _sandbox_number(self, ctx: RequestContext, phone: str) -> dict[str, str]:
        found = self.store.sms_value(ctx.account_id, ctx.region, "sandbox", self._phone(phone))
        if found is None:
            raise ServiceError("ResourceNotFound", "Phone number does not exist in the sandbox", 404)
        return found

    def verify_sms_sandbox_phone_number(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        phone = params["PhoneNumber"]
        entry = self._sandbox_number(ctx, phone)
        if entry["Status"] != "Verified":
            if params["OneTimePassword"] != entry["Code"]:
                raise ServiceError("VerificationException", "Invalid one-time password", 400)
            entry["Status"] = "Verified"
            self.store.set_sms_value(ctx.account_id, ctx.region, "sandbox", phone, entry)
        return {}

    def delete_sms_sandbox_phone_number(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._sandbox_number(ctx, params["PhoneNumber"])
        self.store.delete_sms_value(ctx.account_id, ctx.region, "sandbox", params["PhoneNumber"])
        return {}

    def list_sms_sandbox_phone_numbers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("MaxResults") or 100
        if not 1 <= limit <= 100:
            raise _invalid("MaxResults Reason: must be between 1 and 100")
        numbers = self.store.sms_values(
            ctx.account_id, ctx.region, "sandbox", self._decode_token(params.get("NextToken")), limit + 1
        )
        phones = list(numbers)
        result: dict[str, Any] = {
            "PhoneNumbers": [{"PhoneNumber": p, "Status": numbers[p]["Status"]} for p in phones[:limit]]
        }
        if len(phones) > limit:
            result["NextToken"] = self._encode_token(phones[limit - 1])
        return result
