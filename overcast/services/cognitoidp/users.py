"""Administrators' operations on users: create (temporary passwords, FORCE_CHANGE_PASSWORD, invitations),
get, delete, enable/disable, attributes, passwords, confirmation, MFA preferences, sign-out, ListUsers with
its filter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.cognitoidp import filters, messages, passwords
from overcast.services.cognitoidp.schema import attribute_map
from overcast.services.cognitoidp.shapes import (
    attribute_list,
    auth_factors,
    mfa_options,
    mfa_settings,
    user_type,
)
from overcast.services.cognitoidp.store import Pool, User
from overcast.services.cognitoidp.triggers import user_attributes
from overcast.services.kit.paging import decode_token, page_of

if TYPE_CHECKING:
    from overcast.services.cognitoidp.provider import CognitoIdpProvider

FILTER_COLUMNS = {"username": "username", "sub": "sub", "cognito:user_status": "status", "status": "enabled"}


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message, 400)


class AdminUserOperations(Operations):
    service: CognitoIdpProvider

    # -- creating ----------------------------------------------------------------------------------------

    async def admin_create_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        pool = service.pool_for(ctx, params["UserPoolId"])
        attributes = attribute_map(params.get("UserAttributes"))
        metadata = params.get("ClientMetadata")
        if params.get("MessageAction") == "RESEND":
            user = service.user_or_error(pool, params["Username"])
            if user.status != "FORCE_CHANGE_PASSWORD":
                raise ServiceError(
                    "UnsupportedUserStateException",
                    "Resend not possible. User is not in FORCE_CHANGE_PASSWORD state.",
                    400,
                )
            temporary = params.get("TemporaryPassword") or passwords.temporary_password(
                pool.config["Policies"]["PasswordPolicy"]
            )
            with self.db.transaction():
                service.accounts.set_password(pool, user, temporary, temporary=True)
                user.modified = self.clock.now()
                service.store.save_user(user)
            await self._invite(pool, user, temporary, params, metadata)
            return {"User": user_type(user)}
        user = service.accounts.new_user(
            pool,
            params["Username"],
            attributes,
            status="FORCE_CHANGE_PASSWORD",
            exists_message="User account already exists",
        )
        answer = await service.triggers.run(
            pool,
            "PreSignUp",
            "PreSignUp_AdminCreateUser",
            user.username,
            None,
            {
                "userAttributes": dict(attributes),
                "validationData": attribute_map(params.get("ValidationData")),
                "clientMetadata": metadata or {},
            },
            {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False},
        )
        if answer and answer.get("autoVerifyEmail") and "email" in user.attributes:
            user.attributes["email_verified"] = "true"
        if answer and answer.get("autoVerifyPhone") and "phone_number" in user.attributes:
            user.attributes["phone_number_verified"] = "true"
        temporary = params.get("TemporaryPassword") or passwords.temporary_password(
            pool.config["Policies"]["PasswordPolicy"]
        )
        with self.db.transaction():
            if service.find_user(pool, params["Username"]) is not None and service.store.user(
                pool.id, user.key
            ):
                raise ServiceError("UsernameExistsException", "User account already exists", 400)
            service.accounts.set_password(pool, user, temporary, temporary=True)
            for name in ("email", "phone_number"):
                if user.attributes.get(f"{name}_verified") == "true":
                    service.accounts.mark_verified(pool, user, name)
            service.store.add_user(user)
        if params.get("MessageAction") != "SUPPRESS":
            await self._invite(pool, user, temporary, params, metadata)
        return {"User": user_type(user)}

    async def _invite(self, pool: Pool, user: User, temporary: str, params: dict[str, Any], metadata) -> None:
        media = params.get("DesiredDeliveryMediums") or ["SMS"]
        custom = await self.service.triggers.custom_message(
            pool, user, "CustomMessage_AdminCreateUser", None, metadata
        )
        with self.db.transaction():
            for medium in media:
                target = messages.delivery(user, medium)
                if target is not None and target[0] == medium:
                    self.service.messages.write(
                        pool,
                        user,
                        medium,
                        target[1],
                        "invite",
                        None,
                        custom=custom,
                        temporary_password=temporary,
                    )

    # -- reading -----------------------------------------------------------------------------------------

    def admin_get_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        user = self.service.user_or_error(pool, params["Username"])
        result: dict[str, Any] = {
            "Username": user.username,
            "UserAttributes": attribute_list(user),
            "UserCreateDate": user.created,
            "UserLastModifiedDate": user.modified,
            "Enabled": user.enabled,
            "UserStatus": user.status,
        }
        if mfa_options(user):
            result["MFAOptions"] = mfa_options(user)
        result.update(mfa_settings(user))
        return result

    def admin_get_user_auth_factors(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        return auth_factors(self.service.user_or_error(pool, params["Username"]))

    def list_users(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        wanted = filters.parse(params.get("Filter"))
        limit = params.get("Limit") or 60
        scope = f"users:{params.get('Filter') or ''}"
        after = decode_token(
            params.get("PaginationToken"), lambda: invalid("Invalid pagination token"), scope
        )
        store = self.service.store
        if wanted is None:
            rows = store.users(pool.id, after, limit + 1)
        elif wanted.attribute in FILTER_COLUMNS:
            value = wanted.value
            if wanted.attribute == "status":
                value = {"enabled": "1", "disabled": "0"}.get(value.lower(), "none")
                wanted = filters.UserFilter("status", False, value)
            elif wanted.attribute == "cognito:user_status":
                value = value.upper()
            elif wanted.attribute == "username" and not pool.case_sensitive:
                pass
            rows = store.users_where(
                pool.id, FILTER_COLUMNS[wanted.attribute], value, wanted.prefix, after, limit + 1
            )
        else:
            rows = store.users_with_attribute(
                pool.id, wanted.attribute, wanted.value, wanted.prefix, after, limit + 1
            )
        page, token = page_of(rows, limit, lambda user: user.key, scope)
        only = params.get("AttributesToGet")
        result: dict[str, Any] = {"Users": [user_type(user, only) for user in page]}
        if token:
            result["PaginationToken"] = token
        return result

    # -- changing ----------------------------------------------------------------------------------------

    def admin_delete_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        user = self.service.user_or_error(pool, params["Username"])
        self.service.store.delete_user(pool.id, user.key)
        return {}

    def admin_enable_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._set_enabled(ctx, params, True)

    def admin_disable_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._set_enabled(ctx, params, False)

    def _set_enabled(self, ctx: RequestContext, params: dict[str, Any], enabled: bool) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        user = self.service.user_or_error(pool, params["Username"])
        user.enabled = enabled
        user.modified = self.clock.now()
        self.service.store.save_user(user)
        return {}

    async def admin_update_user_attributes(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        service = self.service
        pool = service.pool_for(ctx, params["UserPoolId"])
        user = service.user_or_error(pool, params["Username"])
        changes = attribute_map(params["UserAttributes"])
        with self.db.transaction():
            for name in ("email", "phone_number"):
                if changes.get(f"{name}_verified", "").lower() == "true" and name not in changes:
                    service.accounts.mark_verified(pool, user, name)
            unverified = service.accounts.update_attributes(pool, user, changes, admin=True)
        await service.messages.send_verification(pool, user, unverified, None, params.get("ClientMetadata"))
        return {}

    def admin_delete_user_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        user = self.service.user_or_error(pool, params["Username"])
        self.service.accounts.delete_attributes(pool, user, params["UserAttributeNames"])
        return {}

    def admin_set_user_password(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        user = self.service.user_or_error(pool, params["Username"])
        permanent = bool(params.get("Permanent"))
        self.service.accounts.set_password(pool, user, params["Password"], temporary=not permanent)
        user.status = "CONFIRMED" if permanent else "FORCE_CHANGE_PASSWORD"
        user.modified = self.clock.now()
        self.service.store.save_user(user)
        return {}

    async def admin_reset_user_password(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        pool = service.pool_for(ctx, params["UserPoolId"])
        user = service.user_or_error(pool, params["Username"])
        if not user.enabled:
            raise ServiceError("NotAuthorizedException", "User is disabled.", 400)
        with self.db.transaction():
            user.status = "RESET_REQUIRED"
            user.modified = self.clock.now()
            service.store.save_user(user)
        await service.messages.send_code(
            pool, user, "forgot", "CustomMessage_ForgotPassword", None, params.get("ClientMetadata")
        )
        return {}

    async def admin_confirm_sign_up(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        pool = service.pool_for(ctx, params["UserPoolId"])
        user = service.user_or_error(pool, params["Username"])
        if user.status != "UNCONFIRMED":
            raise ServiceError(
                "NotAuthorizedException", f"User cannot be confirmed. Current status is {user.status}", 400
            )
        with self.db.transaction():
            user.status = "CONFIRMED"
            user.modified = self.clock.now()
            service.store.save_user(user)
            service.store.delete_code(pool.id, user.key, "signup")
        await service.triggers.run(
            pool,
            "PostConfirmation",
            "PostConfirmation_ConfirmSignUp",
            user.username,
            None,
            {"userAttributes": user_attributes(user), "clientMetadata": params.get("ClientMetadata") or {}},
        )
        return {}

    def admin_user_global_sign_out(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        user = self.service.user_or_error(pool, params["Username"])
        self.service.store.revoke_user_tokens(pool.id, user.key)
        return {}

    def admin_set_user_mfa_preference(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        user = self.service.user_or_error(pool, params["Username"])
        self.service.accounts.set_mfa_preference(pool, user, params)
        return {}

    def admin_set_user_settings(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        user = self.service.user_or_error(pool, params["Username"])
        self.service.accounts.set_mfa_options(user, params["MFAOptions"])
        return {}

    # -- devices ------------------------------------------------------------------------------------------

    def admin_list_devices(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        user = self.service.user_or_error(pool, params["Username"])
        return self.service.accounts.device_page(pool, user, params)

    def admin_get_device(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        user = self.service.user_or_error(pool, params["Username"])
        return {"Device": self.service.accounts.device_of(pool, user, params["DeviceKey"])}

    def admin_forget_device(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        user = self.service.user_or_error(pool, params["Username"])
        self.service.accounts.device_of(pool, user, params["DeviceKey"])
        self.service.store.delete_device(pool.id, user.key, params["DeviceKey"])
        return {}

    def admin_update_device_status(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self.service.pool_for(ctx, params["UserPoolId"])
        user = self.service.user_or_error(pool, params["Username"])
        self.service.accounts.update_device_status(pool, user, params)
        return {}
