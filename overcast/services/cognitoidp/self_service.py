"""What a signed-in user does with their access token (operations AWS serves without a signature): GetUser,
attributes and their verification, password change, deletion, sign-out and token revocation, TOTP setup,
MFA preferences and devices."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.cognitoidp import totp
from overcast.services.cognitoidp.schema import attribute_map
from overcast.services.cognitoidp.shapes import attribute_list, auth_factors, mfa_options, mfa_settings
from overcast.services.cognitoidp.store import Pool, User
from overcast.services.cognitoidp.tokens import digest

if TYPE_CHECKING:
    from overcast.services.cognitoidp.provider import CognitoIdpProvider


class SelfServiceOperations(Operations):
    service: CognitoIdpProvider

    def _me(self, params: dict[str, Any]) -> tuple[Pool, User]:
        pool, user, _ = self.service.tokens.access_user(params["AccessToken"])
        return pool, user

    def get_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _, user = self._me(params)
        result: dict[str, Any] = {"Username": user.username, "UserAttributes": attribute_list(user)}
        if mfa_options(user):
            result["MFAOptions"] = mfa_options(user)
        result.update(mfa_settings(user))
        return result

    def get_user_auth_factors(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return auth_factors(self._me(params)[1])

    async def update_user_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool, user, claims = self.service.tokens.access_user(params["AccessToken"])
        changes = attribute_map(params["UserAttributes"])
        _, client = self.service.client_for(claims["client_id"])
        self.service.check_writable(client, changes)
        for name in ("email_verified", "phone_number_verified"):
            if name in changes:
                raise ServiceError(
                    "InvalidParameterException", f"Cannot modify the non-mutable attribute {name}", 400
                )
        with self.db.transaction():
            unverified = self.service.accounts.update_attributes(pool, user, changes, admin=False)
        sent = await self.service.messages.send_verification(
            pool, user, unverified, claims.get("client_id"), params.get("ClientMetadata")
        )
        return {"CodeDeliveryDetailsList": sent} if sent else {}

    def delete_user_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool, user = self._me(params)
        self.service.accounts.delete_attributes(pool, user, params["UserAttributeNames"])
        return {}

    def delete_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool, user = self._me(params)
        self.service.store.delete_user(pool.id, user.key)
        return {}

    def change_password(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool, user = self._me(params)
        previous = params.get("PreviousPassword")
        if previous is None or not self.service.accounts.password_matches(user, previous):
            raise ServiceError("NotAuthorizedException", "Incorrect username or password.", 400)
        self.service.accounts.set_password(pool, user, params["ProposedPassword"])
        user.modified = self.clock.now()
        self.service.store.save_user(user)
        return {}

    async def get_user_attribute_verification_code(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        pool, user, claims = self.service.tokens.access_user(params["AccessToken"])
        name = params["AttributeName"]
        if name not in ("email", "phone_number") or not user.attributes.get(name):
            raise ServiceError(
                "InvalidParameterException", f"There is no {name} attribute for this user.", 400
            )
        sent = await self.service.messages.send_code(
            pool,
            user,
            f"verify:{name}",
            "CustomMessage_VerifyUserAttribute",
            claims.get("client_id"),
            params.get("ClientMetadata"),
        )
        return {"CodeDeliveryDetails": sent} if sent else {}

    def verify_user_attribute(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool, user = self._me(params)
        name = params["AttributeName"]
        stored = self.service.store.code(pool.id, user.key, f"verify:{name}")
        if stored is None or stored[0] != params["Code"]:
            raise ServiceError(
                "CodeMismatchException", "Invalid verification code provided, please try again.", 400
            )
        if stored[1] <= self.clock.now():
            raise ServiceError(
                "ExpiredCodeException", "Invalid code provided, please request a code again.", 400
            )
        self.service.accounts.mark_verified(pool, user, name)
        user.modified = self.clock.now()
        self.service.store.save_user(user, reindex=True)
        self.service.store.delete_code(pool.id, user.key, f"verify:{name}")
        return {}

    # -- signing out ---------------------------------------------------------------------------------------

    def global_sign_out(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool, user = self._me(params)
        self.service.store.revoke_user_tokens(pool.id, user.key)
        return {}

    def revoke_token(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool, client = self.service.client_for(params["ClientId"])
        if "ClientSecret" in client and params.get("ClientSecret") != client["ClientSecret"]:
            raise ServiceError("NotAuthorizedException", "Invalid client secret", 400)
        if not client.get("EnableTokenRevocation", True):
            raise ServiceError(
                "UnsupportedOperationException", "Token revocation is not enabled for this client.", 400
            )
        record = self.service.store.refresh(digest(params["Token"]))
        if record is None:
            if params["Token"].count(".") == 2:
                raise ServiceError("UnsupportedTokenTypeException", "Unsupported token type", 400)
            return {}  # an unknown token: nothing to revoke (RFC 7009)
        if record["client_id"] != client["ClientId"]:
            raise ServiceError("NotAuthorizedException", "Invalid Refresh Token", 400)
        self.service.store.revoke_refresh(digest(params["Token"]))
        return {}

    # -- TOTP ------------------------------------------------------------------------------------------------

    def _setup_session(self, session: str) -> tuple[Pool, User, dict[str, Any], str]:
        found = self.service.store.session(digest(session))
        if found is None or found[1].get("challenge") != "MFA_SETUP":
            raise ServiceError("NotAuthorizedException", "Invalid session for the user.", 400)
        if found[2] <= self.clock.now():
            raise ServiceError(
                "NotAuthorizedException", "Invalid session for the user, session is expired.", 400
            )
        pool = self.service.store.pool(found[0])
        user = self.service.store.user(found[0], found[1]["key"]) if pool else None
        if pool is None or user is None:
            raise ServiceError("NotAuthorizedException", "Invalid session for the user.", 400)
        return pool, user, found[1], found[2]

    def associate_software_token(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        secret = totp.new_secret()
        if params.get("AccessToken"):
            _, user = self._me(params)
            user.secrets["totp_pending"] = secret
            self.service.store.save_user(user)
            return {"SecretCode": secret}
        if not params.get("Session"):
            raise ServiceError(
                "InvalidParameterException", "Either AccessToken or Session must be provided.", 400
            )
        pool, user, _, _ = self._setup_session(params["Session"])
        user.secrets["totp_pending"] = secret
        self.service.store.save_user(user)
        return {"SecretCode": secret, "Session": params["Session"]}

    def verify_software_token(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        state = None
        if params.get("AccessToken"):
            _, user = self._me(params)
        elif params.get("Session"):
            pool, user, state, expires = self._setup_session(params["Session"])
        else:
            raise ServiceError(
                "InvalidParameterException", "Either AccessToken or Session must be provided.", 400
            )
        secret = user.secrets.get("totp_pending")
        if not secret:
            raise ServiceError("InvalidParameterException", "User has not associated a software token.", 400)
        if not totp.verify(secret, params["UserCode"], self.clock.now()):
            raise ServiceError("EnableSoftwareTokenMFAException", "Code mismatch", 400)
        user.secrets.update({"totp_secret": secret, "totp_verified": True})
        user.secrets.pop("totp_pending", None)
        if state is not None:  # the MFA_SETUP challenge: TOTP becomes the user's MFA
            enabled = list(user.settings.get("mfa_enabled") or [])
            if "SOFTWARE_TOKEN_MFA" not in enabled:
                enabled.append("SOFTWARE_TOKEN_MFA")
            user.settings.update({"mfa_enabled": enabled, "mfa_preferred": "SOFTWARE_TOKEN_MFA"})
            state["totp_verified"] = True
            self.service.store.put_session(
                digest(params["Session"]), pool.id, state, expires, self.clock.now()
            )
        user.modified = self.clock.now()
        self.service.store.save_user(user)
        result: dict[str, Any] = {"Status": "SUCCESS"}
        if params.get("Session"):
            result["Session"] = params["Session"]
        return result

    def set_user_mfa_preference(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool, user = self._me(params)
        self.service.accounts.set_mfa_preference(pool, user, params)
        return {}

    def set_user_settings(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _, user = self._me(params)
        self.service.accounts.set_mfa_options(user, params["MFAOptions"])
        return {}

    # -- devices ----------------------------------------------------------------------------------------------

    def confirm_device(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool, user = self._me(params)
        return {"UserConfirmationNecessary": self.service.accounts.confirm_device(pool, user, params)}

    def list_devices(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool, user = self._me(params)
        return self.service.accounts.device_page(pool, user, params)

    def get_device(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("AccessToken"):
            raise ServiceError("NotAuthorizedException", "Invalid Access Token", 400)
        pool, user = self._me(params)
        return {"Device": self.service.accounts.device_of(pool, user, params["DeviceKey"])}

    def forget_device(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("AccessToken"):
            raise ServiceError("NotAuthorizedException", "Invalid Access Token", 400)
        pool, user = self._me(params)
        self.service.accounts.device_of(pool, user, params["DeviceKey"])
        self.service.store.delete_device(pool.id, user.key, params["DeviceKey"])
        return {}

    def update_device_status(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool, user = self._me(params)
        self.service.accounts.update_device_status(pool, user, params)
        return {}
