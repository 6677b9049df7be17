"""How users appear in responses (UserType, AdminGetUser, GetUser)."""

from __future__ import annotations

from typing import Any

from overcast.services.cognitoidp.store import User


def attribute_list(user: User, only: list[str] | None = None) -> list[dict[str, str]]:
    """The user's attributes as [{Name, Value}], sub first, as AWS lists them."""
    values = {"sub": user.sub, **user.attributes}
    return [{"Name": name, "Value": value} for name, value in values.items() if only is None or name in only]


def mfa_options(user: User) -> list[dict[str, str]]:
    return list(user.settings.get("MFAOptions") or [])


def user_type(user: User, only: list[str] | None = None) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "Username": user.username,
        "Attributes": attribute_list(user, only),
        "UserCreateDate": user.created,
        "UserLastModifiedDate": user.modified,
        "Enabled": user.enabled,
        "UserStatus": user.status,
    }
    if mfa_options(user):
        shape["MFAOptions"] = mfa_options(user)
    return shape


def mfa_settings(user: User) -> dict[str, Any]:
    """PreferredMfaSetting and UserMFASettingList, present only when the user has MFA."""
    enabled = list(user.settings.get("mfa_enabled") or [])
    result: dict[str, Any] = {}
    if user.settings.get("mfa_preferred"):
        result["PreferredMfaSetting"] = user.settings["mfa_preferred"]
    if enabled:
        result["UserMFASettingList"] = enabled
    return result


def auth_factors(user: User) -> dict[str, Any]:
    """GetUserAuthFactors' answer: the MFA settings and the first factors the user can sign in with."""
    factors = ["PASSWORD"] if user.secrets.get("digest") else []
    return {"Username": user.username, **mfa_settings(user), "ConfiguredUserAuthFactors": factors}
