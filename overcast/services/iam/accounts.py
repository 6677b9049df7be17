"""IAM credentials and account settings: access keys, login profiles and the password policy, account alias,
virtual MFA devices with real TOTP codes (RFC 6238, 30-second steps, 6 digits, SHA-1)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
import struct
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError

if TYPE_CHECKING:
    from overcast.services.iam.store import Entity, IamStore

ACCESS_KEYS_PER_USER = 2
_KEY_ALPHABET = string.ascii_uppercase + "234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"
_SYMBOLS = set("!@#$%^&*()_+-=[]{}|'")
TOTP_STEP = 30


def new_access_key_id(prefix: str = "AKIA") -> str:
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def new_secret() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def totp(seed_base32: str, step: int) -> str:
    key = base64.b32decode(seed_base32)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def hash_password(password: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10_000).hex()
    return f"{salt}${digest}"


def password_matches(password: str, stored: str) -> bool:
    salt = stored.split("$", 1)[0]
    return hmac.compare_digest(hash_password(password, salt), stored)


class AccountsMixin:
    store: IamStore
    clock: Any

    # -- access keys ---------------------------------------------------------------------------------------

    def caller_user(self, ctx: RequestContext, params: dict[str, Any]) -> Entity:
        name = params.get("UserName")
        if not name:
            if ctx.principal.kind != "user":
                raise ServiceError(
                    "ValidationError", "Must specify userName when calling with non-User credentials"
                )
            name = ctx.principal.attributes["user_name"]
        return self.entity(ctx, "user", name)  # type: ignore[attr-defined]

    def access_key_shape(self, row: tuple, user: Entity, *, secret: bool = False) -> dict[str, Any]:
        shape = {"UserName": user.name, "AccessKeyId": row[0], "Status": row[4], "CreateDate": row[5]}
        if secret:
            shape["SecretAccessKey"] = row[3]
        return shape

    def create_access_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user = self.caller_user(ctx, params)
        if len(self.store.access_keys_of(ctx.account_id, user.key)) >= ACCESS_KEYS_PER_USER:
            raise ServiceError(
                "LimitExceeded", f"Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}", 409
            )
        key_id, secret = new_access_key_id(), new_secret()
        self.store.add_access_key(key_id, ctx.account_id, user.key, secret, self.clock.now())
        row = self.store.access_key(key_id)
        return {"AccessKey": self.access_key_shape(row, user, secret=True)}

    def list_access_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("UserName") and ctx.principal.kind == "root":
            return {"AccessKeyMetadata": [], "IsTruncated": False}
        user = self.caller_user(ctx, params)
        rows = self.store.access_keys_of(ctx.account_id, user.key)
        return {"AccessKeyMetadata": [self.access_key_shape(r, user) for r in rows], "IsTruncated": False}

    def _own_key(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[tuple, Entity]:
        user = self.caller_user(ctx, params)
        row = self.store.access_key(params["AccessKeyId"])
        if row is None or row[1] != ctx.account_id or row[2] != user.key:
            raise ServiceError(
                "NoSuchEntity", f"The Access Key with id {params['AccessKeyId']} cannot be found.", 404
            )
        return row, user

    def update_access_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row, _ = self._own_key(ctx, params)
        self.store.set_access_key_status(row[0], params["Status"])
        return {}

    def delete_access_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row, _ = self._own_key(ctx, params)
        self.store.delete_access_key(row[0])
        return {}

    def get_access_key_last_used(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self.store.access_key(params["AccessKeyId"])
        if row is None or row[1] != ctx.account_id:
            raise ServiceError("AccessDenied", "The access key is not in your account.", 403)
        user = self.store.get(ctx.account_id, "user", row[2])
        last_used: dict[str, Any] = {"ServiceName": row[7] or "N/A", "Region": row[8] or "N/A"}
        if row[6]:
            last_used["LastUsedDate"] = row[6]
        return {"UserName": user.name if user else row[2], "AccessKeyLastUsed": last_used}

    # -- passwords -----------------------------------------------------------------------------------------

    def check_password(self, account: str, user: Entity, password: str) -> None:
        _, policy = self.store.account_settings(account)
        if (
            policy is None
        ):  # AWS's default: 8 characters, three of the four character types, not the user name
            kinds = sum(
                [
                    any(c.isupper() for c in password),
                    any(c.islower() for c in password),
                    any(c.isdigit() for c in password),
                    any(not c.isalnum() for c in password),
                ]
            )
            ok = len(password) >= 8 and kinds >= 3 and password.lower() != user.name.lower()
        else:
            ok = (
                len(password) >= policy.get("MinimumPasswordLength", 6)
                and (not policy.get("RequireSymbols") or any(c in _SYMBOLS for c in password))
                and (not policy.get("RequireNumbers") or any(c.isdigit() for c in password))
                and (not policy.get("RequireUppercaseCharacters") or any(c.isupper() for c in password))
                and (not policy.get("RequireLowercaseCharacters") or any(c.islower() for c in password))
            )
        if not ok:
            raise ServiceError(
                "PasswordPolicyViolation", "Password does not conform to the account password policy."
            )

    def create_login_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user = self.caller_user(ctx, params)
        if self.store.login_profile(ctx.account_id, user.key):
            raise ServiceError(
                "EntityAlreadyExists", f"Login Profile for user {user.name} already exists.", 409
            )
        password = params.get("Password") or ""
        self.check_password(ctx.account_id, user, password)
        reset = bool(params.get("PasswordResetRequired"))
        now = self.clock.now()
        self.store.put_login_profile(ctx.account_id, user.key, hash_password(password), reset, now)
        return {"LoginProfile": {"UserName": user.name, "CreateDate": now, "PasswordResetRequired": reset}}

    def _login_profile(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[Entity, tuple]:
        user = self.caller_user(ctx, params)
        profile = self.store.login_profile(ctx.account_id, user.key)
        if profile is None:
            raise ServiceError("NoSuchEntity", f"Login Profile for User {user.name} cannot be found.", 404)
        return user, profile

    def get_login_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user, profile = self._login_profile(ctx, params)
        return {
            "LoginProfile": {
                "UserName": user.name,
                "CreateDate": profile[2],
                "PasswordResetRequired": bool(profile[1]),
            }
        }

    def update_login_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user, profile = self._login_profile(ctx, params)
        stored = profile[0]
        if params.get("Password") is not None:
            self.check_password(ctx.account_id, user, params["Password"])
            stored = hash_password(params["Password"])
        reset = params.get("PasswordResetRequired")
        self.store.put_login_profile(
            ctx.account_id, user.key, stored, bool(profile[1] if reset is None else reset), profile[2]
        )
        return {}

    def delete_login_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user, _ = self._login_profile(ctx, params)
        self.store.delete_login_profile(ctx.account_id, user.key)
        return {}

    def change_password(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if ctx.principal.kind != "user":
            raise ServiceError("InvalidUserType", "Only IAM users can change their own password.")
        user, profile = self._login_profile(ctx, {})
        if not password_matches(params["OldPassword"], profile[0]):
            raise ServiceError("InvalidUserType", "The old password is not correct.")
        self.check_password(ctx.account_id, user, params["NewPassword"])
        self.store.put_login_profile(
            ctx.account_id, user.key, hash_password(params["NewPassword"]), False, profile[2]
        )
        return {}

    def update_account_password_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policy = {
            "MinimumPasswordLength": params.get("MinimumPasswordLength") or 6,
            "RequireSymbols": bool(params.get("RequireSymbols")),
            "RequireNumbers": bool(params.get("RequireNumbers")),
            "RequireUppercaseCharacters": bool(params.get("RequireUppercaseCharacters")),
            "RequireLowercaseCharacters": bool(params.get("RequireLowercaseCharacters")),
            "AllowUsersToChangePassword": bool(params.get("AllowUsersToChangePassword")),
            "ExpirePasswords": bool(params.get("MaxPasswordAge")),
            "HardExpiry": bool(params.get("HardExpiry")),
        }
        for optional in ("MaxPasswordAge", "PasswordReusePrevention"):
            if params.get(optional):
                policy[optional] = params[optional]
        self.store.set_password_policy(ctx.account_id, policy)
        return {}

    def get_account_password_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _, policy = self.store.account_settings(ctx.account_id)
        if policy is None:
            raise ServiceError(
                "NoSuchEntity", f"The Password Policy with domain name {ctx.account_id} cannot be found.", 404
            )
        return {"PasswordPolicy": policy}

    def delete_account_password_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.get_account_password_policy(ctx, params)
        self.store.set_password_policy(ctx.account_id, None)
        return {}

    # -- account alias -------------------------------------------------------------------------------------

    def create_account_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        alias = params["AccountAlias"]
        row = self.store.db.one("SELECT account FROM iam_accounts WHERE alias = ?", (alias,))
        if row and row[0] != ctx.account_id:
            raise ServiceError("EntityAlreadyExists", f"The account alias {alias} already exists.", 409)
        self.store.set_alias(ctx.account_id, alias)
        return {}

    def list_account_aliases(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        alias, _ = self.store.account_settings(ctx.account_id)
        return {"AccountAliases": [alias] if alias else [], "IsTruncated": False}

    def delete_account_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        alias, _ = self.store.account_settings(ctx.account_id)
        if alias != params["AccountAlias"]:
            raise ServiceError(
                "NoSuchEntity", f"The account alias {params['AccountAlias']} cannot be found.", 404
            )
        self.store.set_alias(ctx.account_id, None)
        return {}

    # -- virtual MFA devices -------------------------------------------------------------------------------

    def create_virtual_mfa_device(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        path = params.get("Path") or "/"
        name = params["VirtualMFADeviceName"]
        serial = f"arn:aws:iam::{ctx.account_id}:mfa{path}{name}"
        if self.store.mfa_device(serial):
            raise ServiceError(
                "EntityAlreadyExists", "MFADevice entity at the same path and name already exists.", 409
            )
        seed = base64.b32encode(secrets.token_bytes(40)).decode()
        self.store.add_mfa_device(serial, ctx.account_id, name, path, seed, self.clock.now())
        return {"VirtualMFADevice": {"SerialNumber": serial, "Base32StringSeed": seed.encode()}}

    def mfa_device_of(self, ctx: RequestContext, serial: str) -> tuple:
        row = self.store.mfa_device(serial)
        if row is None or row[1] != ctx.account_id:
            raise ServiceError("NoSuchEntity", f"MFA Device with serial number {serial} does not exist.", 404)
        return row

    def totp_step(self, seed: str, code: str, *, window: int = 1, after: int = 0) -> int | None:
        """The time step (> `after`) whose code is `code`, within `window` steps of now; None if none."""
        now = int(self.clock.now() // TOTP_STEP)
        for step in range(now - window, now + window + 1):
            if step > after and hmac.compare_digest(totp(seed, step), code):
                return step
        return None

    def enable_mfa_device(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user = self.entity(ctx, "user", params["UserName"])  # type: ignore[attr-defined]
        device = self.mfa_device_of(ctx, params["SerialNumber"])
        if device[5]:
            raise ServiceError("EntityAlreadyExists", "MFA Device is already in use.", 409)
        first = self.totp_step(device[4], params["AuthenticationCode1"], window=10)
        if first is None or totp(device[4], first + 1) != params["AuthenticationCode2"]:
            raise ServiceError(
                "InvalidAuthenticationCode", "Authentication code for device is not valid.", 403
            )
        self.store.set_mfa_user(device[0], user.key, self.clock.now(), first + 1)
        return {}

    def resync_mfa_device(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        device = self.mfa_device_of(ctx, params["SerialNumber"])
        first = self.totp_step(device[4], params["AuthenticationCode1"], window=20)
        if first is None or totp(device[4], first + 1) != params["AuthenticationCode2"]:
            raise ServiceError(
                "InvalidAuthenticationCode", "Authentication code for device is not valid.", 403
            )
        self.store.set_mfa_counter(device[0], first + 1)
        return {}

    def deactivate_mfa_device(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        device = self.mfa_device_of(ctx, params["SerialNumber"])
        user = self.caller_user(ctx, params)
        if device[5] != user.key:
            raise ServiceError(
                "NoSuchEntity",
                f"MFA Device with serial number {device[0]} is not enabled for user {user.name}.",
                404,
            )
        self.store.set_mfa_user(device[0], None, None)
        return {}

    def delete_virtual_mfa_device(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        device = self.mfa_device_of(ctx, params["SerialNumber"])
        if device[5]:
            raise ServiceError("DeleteConflict", "MFA Device is still in use", 409)
        self.store.delete_mfa_device(device[0])
        return {}

    def list_mfa_devices(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("UserName") and ctx.principal.kind == "root":
            return {"MFADevices": [], "IsTruncated": False}
        user = self.caller_user(ctx, params)
        devices = [
            {"UserName": user.name, "SerialNumber": d[0], "EnableDate": d[6]}
            for d in self.store.mfa_devices(ctx.account_id, user.key)
        ]
        return {"MFADevices": devices, "IsTruncated": False}

    def list_virtual_mfa_devices(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        status = params.get("AssignmentStatus") or "Any"
        devices = []
        for device in self.store.mfa_devices(ctx.account_id):
            assigned = device[5] is not None
            if (status == "Assigned" and not assigned) or (status == "Unassigned" and assigned):
                continue
            shape: dict[str, Any] = {"SerialNumber": device[0]}
            if assigned:
                user = self.store.get(ctx.account_id, "user", device[5])
                if user:
                    shape["User"] = self.user_shape(user)  # type: ignore[attr-defined]
                shape["EnableDate"] = device[6]
            devices.append(shape)
        return {"VirtualMFADevices": devices, "IsTruncated": False}

    def verify_mfa(self, account: str, serial: str, code: str) -> bool:
        """STS: is `code` the current code of the enabled device `serial` (and not one already used)?"""
        device = self.store.mfa_device(serial)
        if device is None or device[1] != account or device[5] is None:
            return False
        step = self.totp_step(device[4], code, after=device[8])
        if step is None:
            return False
        self.store.set_mfa_counter(serial, step)
        return True
