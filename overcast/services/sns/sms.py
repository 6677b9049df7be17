"""SNS SMS settings: attributes, opt-outs and the SMS sandbox.

Nothing is sent to a phone: what would be is captured in the outbox (protocol `sms`).
"""

from __future__ import annotations

import secrets
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.sns.checks import invalid, invalid_token, phone
from overcast.services.sns.store import PAGE

if TYPE_CHECKING:
    from overcast.services.sns.provider import SnsProvider

SMS_ATTRIBUTES = (
    "MonthlySpendLimit",
    "DeliveryStatusIAMRole",
    "DeliveryStatusSuccessSamplingRate",
    "DefaultSenderID",
    "DefaultSMSType",
    "UsageReportS3Bucket",
)


class SmsOperations(Operations):
    """SMS attributes, opted-out phone numbers and the SMS sandbox."""

    service: SnsProvider

    def set_sms_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        for name, value in params["attributes"].items():
            if name not in SMS_ATTRIBUTES:
                raise invalid(f"attributes Reason: {name} is not a valid attribute")
            if name == "DefaultSMSType" and value not in ("Promotional", "Transactional"):
                raise invalid("DefaultSMSType Reason: must be Promotional or Transactional")
            if name in ("MonthlySpendLimit", "DeliveryStatusSuccessSamplingRate") and not value.isdigit():
                raise invalid(f"{name} Reason: must be a whole number")
            if name == "DeliveryStatusSuccessSamplingRate" and int(value) > 100:
                raise invalid(f"{name} Reason: must be between 0 and 100")
            self.service.store.set_sms_value(ctx.account_id, ctx.region, "attribute", name, value)
        return {}

    def get_sms_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stored = self.service.store.sms_values(ctx.account_id, ctx.region, "attribute")
        wanted = params.get("attributes")
        if wanted:
            stored = {k: v for k, v in stored.items() if k in wanted}
        return {"attributes": stored}

    # -- opt-outs ----------------------------------------------------------------------------------

    def check_if_phone_number_is_opted_out(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        number = phone(params["phoneNumber"], "phoneNumber")
        return {"isOptedOut": self.service.opted_out(ctx.account_id, ctx.region, number)}

    def list_phone_numbers_opted_out(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        scope = "ListPhoneNumbersOptedOut"
        after = decode_token(params.get("nextToken") or None, invalid_token, scope) or ""
        numbers = list(
            self.service.store.sms_values(ctx.account_id, ctx.region, "opted_out", after, PAGE + 1)
        )
        page, token = page_of(numbers, PAGE, lambda number: number, scope)
        result: dict[str, Any] = {"phoneNumbers": page}
        if token:
            result["nextToken"] = token
        return result

    def opt_in_phone_number(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        number = phone(params["phoneNumber"], "phoneNumber")
        self.service.store.delete_sms_value(ctx.account_id, ctx.region, "opted_out", number)
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
        store = self.service.store
        number = phone(params["PhoneNumber"])
        if not number.startswith("+"):
            raise invalid("PhoneNumber Reason: must be in E.164 format")
        if self.service.opted_out(ctx.account_id, ctx.region, number):
            raise ServiceError("OptedOut", "The phone number has opted out of receiving SMS messages.")
        code = f"{secrets.randbelow(10**6):06d}"
        store.set_sms_value(
            ctx.account_id, ctx.region, "sandbox", number, {"Status": "Pending", "Code": code}
        )
        store.add_to_outbox(
            {
                "account": ctx.account_id,
                "region": ctx.region,
                "protocol": "sms",
                "endpoint": number,
                "message_id": str(uuid.uuid4()),
                "kind": "VerificationCode",
                "payload": f"Your verification code is {code}",
                "created_at": self.clock.now(),
            }
        )
        return {}

    def _sandbox_number(self, ctx: RequestContext, number: str) -> dict[str, str]:
        found = self.service.store.sms_value(ctx.account_id, ctx.region, "sandbox", phone(number))
        if found is None:
            raise ServiceError("ResourceNotFound", "Phone number does not exist in the sandbox", 404)
        return found

    def verify_sms_sandbox_phone_number(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        number = params["PhoneNumber"]
        entry = self._sandbox_number(ctx, number)
        if entry["Status"] != "Verified":
            if params["OneTimePassword"] != entry["Code"]:
                raise ServiceError("VerificationException", "Invalid one-time password", 400)
            entry["Status"] = "Verified"
            self.service.store.set_sms_value(ctx.account_id, ctx.region, "sandbox", number, entry)
        return {}

    def delete_sms_sandbox_phone_number(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._sandbox_number(ctx, params["PhoneNumber"])
        self.service.store.delete_sms_value(ctx.account_id, ctx.region, "sandbox", params["PhoneNumber"])
        return {}

    def list_sms_sandbox_phone_numbers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        scope = "ListSMSSandboxPhoneNumbers"
        limit = params.get("MaxResults") or 100
        if not 1 <= limit <= 100:
            raise invalid("MaxResults Reason: must be between 1 and 100")
        after = decode_token(params.get("NextToken") or None, invalid_token, scope) or ""
        numbers = self.service.store.sms_values(ctx.account_id, ctx.region, "sandbox", after, limit + 1)
        page, token = page_of(list(numbers), limit, lambda number: number, scope)
        result: dict[str, Any] = {
            "PhoneNumbers": [{"PhoneNumber": p, "Status": numbers[p]["Status"]} for p in page]
        }
        if token:
            result["NextToken"] = token
        return result
