"""Codes and the messages that carry them: verification, invitation, password reset and MFA messages are
rendered from the pool's templates (or a CustomMessage trigger's answer) and written to the outbox
(`GET /_overcast/cognito-idp/outbox`), never sent to the real world."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from overcast.services.cognitoidp.store import Pool, User

if TYPE_CHECKING:
    from overcast.services.cognitoidp.provider import CognitoIdpProvider

CODE_LIFETIME = {"signup": 86400.0, "forgot": 3600.0, "verify": 86400.0}
DEFAULT_VERIFICATION = "Your verification code is {####}. "
DEFAULT_VERIFICATION_SUBJECT = "Your verification code"
DEFAULT_INVITATION = "Your username is {username} and temporary password is {####}. "
DEFAULT_INVITATION_SUBJECT = "Your temporary password"
DEFAULT_MFA = "Your authentication code is {####}. "


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def delivery(user: User, prefer: str | None = None) -> tuple[str, str] | None:
    """(channel, destination): EMAIL to the user's email, else SMS to the phone number; None for neither."""
    email, phone = user.attributes.get("email"), user.attributes.get("phone_number")
    if prefer == "SMS" and phone:
        return "SMS", phone
    if email:
        return "EMAIL", email
    if phone:
        return "SMS", phone
    return None


def masked(channel: str, destination: str) -> str:
    """How CodeDeliveryDetails shows a destination: a***@e***, +*******0100."""
    if channel == "EMAIL":
        name, _, domain = destination.partition("@")
        return f"{name[:1]}***@{domain[:1]}***"
    return "+" + "*" * max(len(destination) - 5, 0) + destination[-4:]


def details(channel: str, destination: str, attribute: str | None = None) -> dict[str, str]:
    return {
        "Destination": masked(channel, destination),
        "DeliveryMedium": channel,
        "AttributeName": attribute or ("email" if channel == "EMAIL" else "phone_number"),
    }


class Messages:
    def __init__(self, provider: CognitoIdpProvider) -> None:
        self.provider = provider
        self.store = provider.store
        self.clock = provider.clock

    def templates(self, pool: Pool, purpose: str) -> tuple[str, str, str]:
        """(email subject, email message, SMS message) for a purpose: verify, invite, mfa."""
        config = pool.config
        template = config.get("VerificationMessageTemplate") or {}
        if purpose == "invite":
            invite = (config.get("AdminCreateUserConfig") or {}).get("InviteMessageTemplate") or {}
            return (
                invite.get("EmailSubject") or DEFAULT_INVITATION_SUBJECT,
                invite.get("EmailMessage") or DEFAULT_INVITATION,
                invite.get("SMSMessage") or DEFAULT_INVITATION,
            )
        if purpose in ("mfa", "otp"):
            text = config.get("SmsAuthenticationMessage") or DEFAULT_MFA
            return DEFAULT_VERIFICATION_SUBJECT, text, text
        return (
            template.get("EmailSubject")
            or config.get("EmailVerificationSubject")
            or DEFAULT_VERIFICATION_SUBJECT,
            template.get("EmailMessage") or config.get("EmailVerificationMessage") or DEFAULT_VERIFICATION,
            template.get("SmsMessage") or config.get("SmsVerificationMessage") or DEFAULT_VERIFICATION,
        )

    def write(
        self,
        pool: Pool,
        user: User,
        channel: str,
        destination: str,
        purpose: str,
        code: str | None,
        *,
        custom: dict[str, Any] | None = None,
        temporary_password: str | None = None,
    ) -> None:
        """Render the purpose's message for `user` and put it in the outbox (inside a transaction)."""
        subject, email_text, sms_text = self.templates(pool, "invite" if temporary_password else purpose)
        if custom:  # a CustomMessage trigger's answer
            subject = custom.get("emailSubject") or subject
            email_text = custom.get("emailMessage") or email_text
            sms_text = custom.get("smsMessage") or sms_text
        text = email_text if channel == "EMAIL" else sms_text
        secret = temporary_password if temporary_password is not None else code
        text = text.replace("{####}", secret or "").replace("{username}", user.username)
        self.store.add_message(
            {
                "account": pool.account,
                "region": pool.region,
                "pool_id": pool.id,
                "username": user.username,
                "channel": channel,
                "destination": destination,
                "purpose": purpose,
                "subject": subject if channel == "EMAIL" else None,
                "message": text,
                "code": secret,
                "created": self.clock.now(),
            }
        )

    def issue_code(self, pool: Pool, user: User, purpose: str) -> str:
        """A new code for `purpose` (signup, forgot, verify:<attribute>), replacing any earlier one."""
        code = new_code()
        lifetime = CODE_LIFETIME.get(purpose.split(":")[0], 86400.0)
        self.store.put_code(pool.id, user.key, purpose, code, self.clock.now() + lifetime)
        return code

    # -- sending codes ------------------------------------------------------------------------------------

    def target_for(self, pool: Pool, user: User, purpose: str) -> tuple[str, str] | None:
        """Where a code goes: for sign-up, the first auto-verified attribute the user has; for a password reset,
        the pool's recovery mechanisms (verified email, then verified phone, by default)."""
        attributes = user.attributes
        if purpose == "signup":
            auto = pool.config.get("AutoVerifiedAttributes") or []
            if "email" in auto and attributes.get("email"):
                return "EMAIL", attributes["email"]
            if "phone_number" in auto and attributes.get("phone_number"):
                return "SMS", attributes["phone_number"]
            return None
        if purpose == "forgot":
            recovery = (pool.config.get("AccountRecoverySetting") or {}).get("RecoveryMechanisms") or [
                {"Name": "verified_email", "Priority": 1},
                {"Name": "verified_phone_number", "Priority": 2},
            ]
            for mechanism in sorted(recovery, key=lambda m: m.get("Priority", 0)):
                name = mechanism["Name"].removeprefix("verified_")
                if name == "admin_only":
                    return None
                if attributes.get(name) and (
                    attributes.get(f"{name}_verified") == "true" or user.status == "RESET_REQUIRED"
                ):
                    return ("EMAIL" if name == "email" else "SMS"), attributes[name]
            return None
        name = purpose.split(":", 1)[1]
        value = attributes.get(name)
        return (("EMAIL" if name == "email" else "SMS"), value) if value else None

    async def send_code(
        self,
        pool: Pool,
        user: User,
        purpose: str,
        source: str,
        client_id: str | None,
        metadata: dict[str, str] | None,
    ) -> dict[str, str] | None:
        """Issue a code for `purpose` and put its message in the outbox (CustomMessage trigger `source` may
        reword it); the CodeDeliveryDetails, or None when the user has nowhere to receive it."""
        target = self.target_for(pool, user, purpose)
        if target is None:
            return None
        custom = await self.provider.triggers.custom_message(pool, user, source, client_id, metadata)
        with self.provider.db.transaction():
            code = self.issue_code(pool, user, purpose)
            self.write(pool, user, target[0], target[1], purpose.split(":")[0], code, custom=custom)
        attribute = purpose.split(":", 1)[1] if ":" in purpose else None
        return details(target[0], target[1], attribute)

    async def send_verification(
        self, pool: Pool, user: User, names: list[str], client_id: str | None, metadata: dict[str, str] | None
    ) -> list[dict[str, str]]:
        """Codes for changed attributes that need verification, when the pool verifies them automatically."""
        auto = pool.config.get("AutoVerifiedAttributes") or []
        sent = []
        for name in names:
            if name in auto:
                found = await self.send_code(
                    pool, user, f"verify:{name}", "CustomMessage_UpdateUserAttribute", client_id, metadata
                )
                if found:
                    sent.append(found)
        return sent
