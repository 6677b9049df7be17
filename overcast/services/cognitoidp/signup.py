"""Self sign-up and account recovery, the operations AWS serves without a signature (the app client and its
secret hash say who calls): SignUp, ConfirmSignUp, ResendConfirmationCode, ForgotPassword,
ConfirmForgotPassword. Pre sign-up, post confirmation, custom message and user migration triggers run here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.cognitoidp.schema import attribute_map
from overcast.services.cognitoidp.store import Pool, User
from overcast.services.cognitoidp.triggers import user_attributes

if TYPE_CHECKING:
    from overcast.services.cognitoidp.provider import CognitoIdpProvider


def code_mismatch() -> ServiceError:
    return ServiceError("CodeMismatchException", "Invalid verification code provided, please try again.", 400)


class SignUpOperations(Operations):
    service: CognitoIdpProvider

    async def sign_up(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        pool, client = service.client_for(params["ClientId"])
        service.check_secret_hash(client, params["Username"], params.get("SecretHash"))
        if (pool.config.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly"):
            raise ServiceError("NotAuthorizedException", "SignUp is not permitted for this user pool", 400)
        attributes = attribute_map(params.get("UserAttributes"))
        service.check_writable(client, attributes)
        user = service.accounts.new_user(
            pool, params["Username"], attributes, status="UNCONFIRMED", exists_message="User already exists"
        )
        service.accounts.set_password(pool, user, params["Password"])
        metadata = params.get("ClientMetadata")
        answer = await service.triggers.run(
            pool,
            "PreSignUp",
            "PreSignUp_SignUp",
            user.username,
            client["ClientId"],
            {
                "userAttributes": dict(user.attributes),
                "validationData": attribute_map(params.get("ValidationData")) or None,
                "clientMetadata": metadata or {},
            },
            {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False},
        )
        answer = answer or {}
        confirmed = bool(answer.get("autoConfirmUser"))
        with self.db.transaction():
            if service.store.user(pool.id, user.key) is not None:
                raise ServiceError("UsernameExistsException", "User already exists", 400)
            if confirmed:
                user.status = "CONFIRMED"
            for flag, name in (("autoVerifyEmail", "email"), ("autoVerifyPhone", "phone_number")):
                if answer.get(flag) and user.attributes.get(name):
                    service.accounts.mark_verified(pool, user, name)
            service.store.add_user(user)
        result: dict[str, Any] = {"UserConfirmed": confirmed, "UserSub": user.sub}
        if confirmed:
            await self._post_confirmation(
                pool, user, client["ClientId"], "PostConfirmation_ConfirmSignUp", metadata
            )
        else:
            sent = await service.messages.send_code(
                pool, user, "signup", "CustomMessage_SignUp", client["ClientId"], metadata
            )
            if sent:
                result["CodeDeliveryDetails"] = sent
        return result

    async def _post_confirmation(
        self, pool: Pool, user: User, client_id: str | None, source: str, metadata: dict[str, str] | None
    ) -> None:
        await self.service.triggers.run(
            pool,
            "PostConfirmation",
            source,
            user.username,
            client_id,
            {"userAttributes": user_attributes(user), "clientMetadata": metadata or {}},
        )

    def _check_code(self, pool: Pool, user: User, purpose: str, given: str) -> None:
        stored = self.service.store.code(pool.id, user.key, purpose)
        if stored is None or stored[0] != given:
            raise code_mismatch()
        if stored[1] <= self.clock.now():
            raise ServiceError(
                "ExpiredCodeException", "Invalid code provided, please request a code again.", 400
            )

    async def confirm_sign_up(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        pool, client = service.client_for(params["ClientId"])
        service.check_secret_hash(client, params["Username"], params.get("SecretHash"))
        user = service.find_user(pool, params["Username"])
        if user is None:
            if client.get("PreventUserExistenceErrors") == "ENABLED":
                raise code_mismatch()
            raise ServiceError("UserNotFoundException", "User does not exist.", 400)
        if user.status != "UNCONFIRMED":
            raise ServiceError(
                "NotAuthorizedException", f"User cannot be confirmed. Current status is {user.status}", 400
            )
        with self.db.transaction():
            self._check_code(pool, user, "signup", params["ConfirmationCode"])
            target = service.messages.target_for(pool, user, "signup")
            if target is not None:
                service.accounts.mark_verified(
                    pool, user, "email" if target[0] == "EMAIL" else "phone_number"
                )
            user.status = "CONFIRMED"
            user.modified = self.clock.now()
            service.store.save_user(user)
            service.store.delete_code(pool.id, user.key, "signup")
        await self._post_confirmation(
            pool, user, client["ClientId"], "PostConfirmation_ConfirmSignUp", params.get("ClientMetadata")
        )
        return {}

    async def resend_confirmation_code(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        pool, client = service.client_for(params["ClientId"])
        service.check_secret_hash(client, params["Username"], params.get("SecretHash"))
        user = service.user_or_error(pool, params["Username"])
        if user.status != "UNCONFIRMED":
            raise ServiceError("InvalidParameterException", "User is already confirmed.", 400)
        sent = await service.messages.send_code(
            pool, user, "signup", "CustomMessage_ResendCode", client["ClientId"], params.get("ClientMetadata")
        )
        if sent is None:
            raise ServiceError(
                "InvalidParameterException", "Cannot resend codes. Auto verification not turned on.", 400
            )
        return {"CodeDeliveryDetails": sent}

    async def forgot_password(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        pool, client = service.client_for(params["ClientId"])
        service.check_secret_hash(client, params["Username"], params.get("SecretHash"))
        metadata = params.get("ClientMetadata")
        user = service.find_user(pool, params["Username"])
        if user is None:
            user = await service.accounts.migrate(
                pool, client, params["Username"], None, "UserMigration_ForgotPassword", metadata
            )
        if user is None:
            if client.get("PreventUserExistenceErrors") == "ENABLED":
                return {
                    "CodeDeliveryDetails": {
                        "Destination": "u***@e***",
                        "DeliveryMedium": "EMAIL",
                        "AttributeName": "email",
                    }
                }
            raise ServiceError("UserNotFoundException", "Username/client id combination not found.", 400)
        if not user.enabled:
            raise ServiceError("NotAuthorizedException", "User is disabled.", 400)
        sent = await service.messages.send_code(
            pool, user, "forgot", "CustomMessage_ForgotPassword", client["ClientId"], metadata
        )
        if sent is None:
            raise ServiceError(
                "InvalidParameterException",
                "Cannot reset password for the user as there is no registered/verified email or phone_number",
                400,
            )
        return {"CodeDeliveryDetails": sent}

    async def confirm_forgot_password(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        pool, client = service.client_for(params["ClientId"])
        service.check_secret_hash(client, params["Username"], params.get("SecretHash"))
        user = service.find_user(pool, params["Username"])
        if user is None:
            if client.get("PreventUserExistenceErrors") == "ENABLED":
                raise code_mismatch()
            raise ServiceError("UserNotFoundException", "Username/client id combination not found.", 400)
        with self.db.transaction():
            self._check_code(pool, user, "forgot", params["ConfirmationCode"])
            service.accounts.set_password(pool, user, params["Password"])
            if user.status in ("RESET_REQUIRED", "FORCE_CHANGE_PASSWORD"):
                user.status = "CONFIRMED"
            user.modified = self.clock.now()
            service.store.save_user(user)
            service.store.delete_code(pool.id, user.key, "forgot")
        await self._post_confirmation(
            pool,
            user,
            client["ClientId"],
            "PostConfirmation_ConfirmForgotPassword",
            params.get("ClientMetadata"),
        )
        return {}
