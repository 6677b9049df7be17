"""What creating and changing a user involves, shared by sign-up, admin creation, user migration and the
self-service operations: usernames and their uniqueness, passwords (policy, digest, SRP verifier), attribute
changes and their verification state."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.services.cognitoidp import passwords, schema, srp
from overcast.services.cognitoidp.schema import EMAIL, PHONE
from overcast.services.cognitoidp.store import Pool, User

if TYPE_CHECKING:
    from overcast.services.cognitoidp.provider import CognitoIdpProvider


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message, 400)


class Accounts:
    def __init__(self, provider: CognitoIdpProvider) -> None:
        self.provider = provider
        self.store = provider.store
        self.clock = provider.clock

    # -- creating ----------------------------------------------------------------------------------------

    def username_for(self, pool: Pool, given: str, attributes: dict[str, str]) -> str:
        """The username a new user gets. In a pool whose users sign in with an email or phone number, that
        value becomes an attribute and the username is a UUID (the user's sub), as in AWS."""
        allowed = pool.config.get("UsernameAttributes") or []
        if not allowed:
            if EMAIL.match(given) and "email" in (pool.config.get("AliasAttributes") or ()):
                raise invalid(
                    "Username cannot be of email format, since user pool is configured for email alias."
                )
            return given
        if "email" in allowed and EMAIL.match(given):
            attributes.setdefault("email", given)
        elif "phone_number" in allowed and PHONE.match(given):
            attributes.setdefault("phone_number", given)
        elif allowed == ["email"]:
            raise invalid("Username should be an email.")
        elif allowed == ["phone_number"]:
            raise invalid("Username should be a phone number.")
        else:
            raise invalid("Username should be either an email or a phone number.")
        return str(uuid.uuid4())

    def new_user(
        self, pool: Pool, given: str, attributes: dict[str, str], *, status: str, exists_message: str
    ) -> User:
        """A user (not yet stored) named `given`, with its attributes checked against the pool's schema."""
        schema.check_formats(attributes)
        username = self.username_for(pool, given, attributes)
        key = pool.key_of(username)
        if self.store.user(pool.id, key) is not None:
            raise ServiceError("UsernameExistsException", exists_message, 400)
        for name in pool.config.get("UsernameAttributes") or ():
            if attributes.get(name) and self.store.keys_with(
                pool.id, name, attributes[name], fold=name == "email"
            ):
                what = "email" if name == "email" else "phone_number"
                raise ServiceError(
                    "UsernameExistsException", f"An account with the given {what} already exists.", 400
                )
        schema.check_values(pool.config["SchemaAttributes"], attributes, creating=True)
        now = self.clock.now()
        sub = str(uuid.UUID(username)) if pool.config.get("UsernameAttributes") else str(uuid.uuid4())
        return User(pool.id, key, username, sub, status, True, dict(attributes), {}, {}, now, now)

    # -- passwords ---------------------------------------------------------------------------------------

    def set_password(self, pool: Pool, user: User, password: str, *, temporary: bool = False) -> None:
        """Check `password` against the pool's policy and keep it (digest and SRP verifier)."""
        policy = pool.config["Policies"]["PasswordPolicy"]
        passwords.check(password, policy)
        salt, verifier = srp.new_verifier(pool.short_name, user.username, password)
        user.secrets.update(
            {"digest": passwords.digest(password), "srp_salt": salt, "srp_verifier": verifier}
        )
        if temporary:
            days = policy.get("TemporaryPasswordValidityDays", 7)
            user.secrets["temporary_until"] = self.clock.now() + days * 86400
        else:
            user.secrets.pop("temporary_until", None)

    @staticmethod
    def password_matches(user: User, password: str) -> bool:
        return passwords.matches(password, user.secrets.get("digest"))

    # -- attributes --------------------------------------------------------------------------------------

    def update_attributes(self, pool: Pool, user: User, changes: dict[str, str], *, admin: bool) -> list[str]:
        """Apply attribute changes; the names of changed attributes that now need verification (an email or
        phone number changed without being marked verified)."""
        schema.check_formats(changes)
        schema.check_values(pool.config["SchemaAttributes"], changes, creating=False, current=user.attributes)
        unverified = []
        for name in ("email", "phone_number"):
            if name in changes and changes[name] != user.attributes.get(name):
                if pool.config.get("UsernameAttributes") and name in pool.config["UsernameAttributes"]:
                    others = self.store.keys_with(pool.id, name, changes[name], fold=name == "email")
                    if any(key != user.key for key in others):
                        raise ServiceError(
                            "AliasExistsException", f"An account with the given {name} already exists.", 400
                        )
                if changes.get(f"{name}_verified", "").lower() != "true":
                    changes[f"{name}_verified"] = "false"
                    unverified.append(name)
        user.attributes.update(changes)
        user.modified = self.clock.now()
        self.store.save_user(user, reindex=True)
        return unverified

    def mark_verified(self, pool: Pool, user: User, name: str) -> None:
        """An email or phone number verified: as an alias, it must not be another verified user's."""
        value = user.attributes.get(name)
        if value and name in (pool.config.get("AliasAttributes") or ()):
            for key in self.store.keys_with(pool.id, name, value, fold=name == "email"):
                other = self.store.user(pool.id, key)
                if other and other.key != user.key and other.attributes.get(f"{name}_verified") == "true":
                    raise ServiceError(
                        "AliasExistsException", f"An account with the given {name} already exists.", 400
                    )
        user.attributes[f"{name}_verified"] = "true"

    def delete_attributes(self, pool: Pool, user: User, names: list[str]) -> None:
        by_name = {entry["Name"]: entry for entry in pool.config["SchemaAttributes"]}
        for name in names:
            entry = by_name.get(name)
            if entry is None:
                raise invalid("Attribute does not exist in the schema.\n")
            if entry.get("Required") or name == "sub":
                raise invalid(
                    f"Attributes did not conform to the schema: {name}: The attribute {name} is required\n"
                )
        for name in names:
            user.attributes.pop(name, None)
            if name in ("email", "phone_number"):
                user.attributes.pop(f"{name}_verified", None)
        user.modified = self.clock.now()
        self.store.save_user(user, reindex=True)

    # -- MFA ---------------------------------------------------------------------------------------------

    def set_mfa_preference(self, pool: Pool, user: User, params: dict[str, Any]) -> None:
        """SetUserMFAPreference / AdminSetUserMFAPreference: which MFA methods are on, and the preferred one."""
        enabled = list(user.settings.get("mfa_enabled") or [])
        preferred = user.settings.get("mfa_preferred")
        for key, method in (
            ("SMSMfaSettings", "SMS_MFA"),
            ("SoftwareTokenMfaSettings", "SOFTWARE_TOKEN_MFA"),
            ("EmailMfaSettings", "EMAIL_OTP"),
        ):
            setting = params.get(key)
            if setting is None:
                continue
            if setting.get("Enabled"):
                if method == "SOFTWARE_TOKEN_MFA" and not user.secrets.get("totp_verified"):
                    raise invalid("User has not verified software token mfa")
                if method == "SMS_MFA" and not user.attributes.get("phone_number"):
                    raise invalid("User does not have delivery config set to turn on SMS_MFA")
                if method not in enabled:
                    enabled.append(method)
                if setting.get("PreferredMfa"):
                    preferred = method
                elif preferred == method:
                    preferred = None
            else:
                if method in enabled:
                    enabled.remove(method)
                if preferred == method:
                    preferred = None
        user.settings["mfa_enabled"] = enabled
        user.settings["mfa_preferred"] = preferred
        user.modified = self.clock.now()
        self.store.save_user(user)

    def set_mfa_options(self, user: User, options: list[dict[str, str]]) -> None:
        """The legacy SMS MFA switch (SetUserSettings): MFAOptions [{DeliveryMedium: SMS, AttributeName}]."""
        user.settings["MFAOptions"] = options
        enabled = [m for m in user.settings.get("mfa_enabled") or [] if m != "SMS_MFA"]
        if any(option.get("DeliveryMedium") == "SMS" for option in options):
            enabled.append("SMS_MFA")
        user.settings["mfa_enabled"] = enabled
        user.modified = self.clock.now()
        self.store.save_user(user)

    # -- devices ------------------------------------------------------------------------------------------

    def new_device(self, pool: Pool, user: User) -> dict[str, str]:
        """NewDeviceMetadata for a sign-in in a pool that tracks devices (confirmed later by ConfirmDevice)."""
        device_key = f"{pool.region}_{uuid.uuid4()}"
        group_key = user.settings.setdefault("device_group", f"-{uuid.uuid4().hex[:9]}")
        now = self.clock.now()
        self.store.put_device(
            pool.id,
            user.key,
            device_key,
            {
                "DeviceKey": device_key,
                "DeviceAttributes": [],
                "DeviceCreateDate": now,
                "DeviceLastModifiedDate": now,
                "DeviceLastAuthenticatedDate": now,
                "_confirmed": False,
            },
        )
        self.store.save_user(user)
        return {"DeviceKey": device_key, "DeviceGroupKey": group_key}

    def device_of(self, pool: Pool, user: User, device_key: str) -> dict[str, Any]:
        device = self.store.device(pool.id, user.key, device_key)
        if device is None:
            raise ServiceError("ResourceNotFoundException", "Device does not exist.", 400)
        return {k: v for k, v in device.items() if not k.startswith("_")}

    def confirm_device(self, pool: Pool, user: User, params: dict[str, Any]) -> bool:
        device = self.store.device(pool.id, user.key, params["DeviceKey"])
        if device is None:
            raise ServiceError("ResourceNotFoundException", "Device does not exist.", 400)
        device["_confirmed"] = True
        device["_verifier"] = params.get("DeviceSecretVerifierConfig") or {}
        on_prompt = (pool.config.get("DeviceConfiguration") or {}).get(
            "DeviceOnlyRememberedOnUserPrompt", False
        )
        attributes = {"device_status": "valid"}
        if params.get("DeviceName"):
            attributes["device_name"] = params["DeviceName"]
        attributes["dev:device_remembered_status"] = "not_remembered" if on_prompt else "remembered"
        device["DeviceAttributes"] = [{"Name": name, "Value": value} for name, value in attributes.items()]
        device["DeviceLastModifiedDate"] = self.clock.now()
        self.store.put_device(pool.id, user.key, params["DeviceKey"], device)
        return bool(on_prompt)

    def update_device_status(self, pool: Pool, user: User, params: dict[str, Any]) -> None:
        device = self.store.device(pool.id, user.key, params["DeviceKey"])
        if device is None:
            raise ServiceError("ResourceNotFoundException", "Device does not exist.", 400)
        status = params.get("DeviceRememberedStatus") or "not_remembered"
        attributes = [a for a in device["DeviceAttributes"] if a["Name"] != "dev:device_remembered_status"]
        device["DeviceAttributes"] = [*attributes, {"Name": "dev:device_remembered_status", "Value": status}]
        device["DeviceLastModifiedDate"] = self.clock.now()
        self.store.put_device(pool.id, user.key, params["DeviceKey"], device)

    def device_page(self, pool: Pool, user: User, params: dict[str, Any]) -> dict[str, Any]:
        from overcast.services.kit.paging import decode_token, page_of

        limit = params.get("Limit") or 60
        after = decode_token(
            params.get("PaginationToken"), lambda: invalid("Invalid pagination token"), "devices"
        )
        rows = [
            row for row in self.store.devices(pool.id, user.key, after, limit + 1) if row.get("_confirmed")
        ]
        page, token = page_of(rows, limit, lambda device: device["DeviceKey"], "devices")
        result: dict[str, Any] = {
            "Devices": [{k: v for k, v in d.items() if not k.startswith("_")} for d in page]
        }
        if token:
            result["PaginationToken"] = token
        return result

    # -- user migration ------------------------------------------------------------------------------------

    async def migrate(
        self,
        pool: Pool,
        client: dict[str, Any],
        name: str,
        password: str | None,
        source: str,
        metadata: dict[str, str] | None,
    ) -> User | None:
        """A user the UserMigration trigger brings in from another directory (None: no trigger, or the
        trigger does not know them)."""
        triggers = self.provider.triggers
        if not triggers.configured(pool, "UserMigration"):
            return None
        request: dict[str, Any] = {"validationData": None, "clientMetadata": metadata or {}}
        if password is not None:
            request["password"] = password
        try:
            answer = await triggers.run(
                pool,
                "UserMigration",
                source,
                name,
                client["ClientId"],
                request,
                {
                    "userAttributes": None,
                    "forceAliasCreation": None,
                    "enableSMSMFA": None,
                    "finalUserStatus": None,
                    "messageAction": None,
                    "desiredDeliveryMediums": None,
                },
            )
        except ServiceError as error:
            if error.code == "UserLambdaValidationException":  # the trigger said the user is unknown
                return None
            raise
        if not answer or not isinstance(answer.get("userAttributes"), dict):
            return None
        attributes = {k: str(v) for k, v in answer["userAttributes"].items() if k not in ("username", "sub")}
        status = answer.get("finalUserStatus") or ("CONFIRMED" if password is not None else "RESET_REQUIRED")
        user = self.new_user(pool, name, attributes, status=status, exists_message="User already exists")
        with self.provider.db.transaction():
            if password is not None:
                self.set_password(pool, user, password)
            self.store.add_user(user)
        return user
