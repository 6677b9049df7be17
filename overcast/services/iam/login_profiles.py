"""Console passwords (login profiles): validated against the account's password policy, or AWS's default
(8 characters, three of the four character types, not the user name), and kept as salted hashes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.iam.keys import hash_password, password_matches
from overcast.services.iam.store import Entity

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider

_SYMBOLS = set("!@#$%^&*()_+-=[]{}|'")


def password_allowed(password: str, user_name: str, policy: dict[str, Any] | None) -> bool:
    """Whether `password` satisfies the account password policy (AWS's default when there is none)."""
    if policy is None:
        kinds = sum(
            [
                any(c.isupper() for c in password),
                any(c.islower() for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password),
            ]
        )
        return len(password) >= 8 and kinds >= 3 and password.lower() != user_name.lower()
    return (
        len(password) >= policy.get("MinimumPasswordLength", 6)
        and (not policy.get("RequireSymbols") or any(c in _SYMBOLS for c in password))
        and (not policy.get("RequireNumbers") or any(c.isdigit() for c in password))
        and (not policy.get("RequireUppercaseCharacters") or any(c.isupper() for c in password))
        and (not policy.get("RequireLowercaseCharacters") or any(c.islower() for c in password))
    )


class LoginProfileOperations(Operations):
    service: IamProvider

    def create_login_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        user = self.service.caller_user(ctx, params)
        if store.login_profile(ctx.account_id, user.key):
            raise ServiceError(
                "EntityAlreadyExists", f"Login Profile for user {user.name} already exists.", 409
            )
        password = params.get("Password") or ""
        self._check(ctx.account_id, user, password)
        reset = bool(params.get("PasswordResetRequired"))
        now = self.clock.now()
        store.put_login_profile(ctx.account_id, user.key, hash_password(password), reset, now)
        return {"LoginProfile": {"UserName": user.name, "CreateDate": now, "PasswordResetRequired": reset}}

    def get_login_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user, profile = self._profile(ctx, params)
        return {
            "LoginProfile": {
                "UserName": user.name,
                "CreateDate": profile[2],
                "PasswordResetRequired": bool(profile[1]),
            }
        }

    def update_login_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user, profile = self._profile(ctx, params)
        stored = profile[0]
        if params.get("Password") is not None:
            self._check(ctx.account_id, user, params["Password"])
            stored = hash_password(params["Password"])
        reset = params.get("PasswordResetRequired")
        self.service.store.put_login_profile(
            ctx.account_id, user.key, stored, bool(profile[1] if reset is None else reset), profile[2]
        )
        return {}

    def delete_login_profile(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user, _ = self._profile(ctx, params)
        self.service.store.delete_login_profile(ctx.account_id, user.key)
        return {}

    def change_password(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if ctx.principal.kind != "user":
            raise ServiceError("InvalidUserType", "Only IAM users can change their own password.")
        user, profile = self._profile(ctx, {})
        if not password_matches(params["OldPassword"], profile[0]):
            raise ServiceError("InvalidUserType", "The old password is not correct.")
        self._check(ctx.account_id, user, params["NewPassword"])
        self.service.store.put_login_profile(
            ctx.account_id, user.key, hash_password(params["NewPassword"]), False, profile[2]
        )
        return {}

    def _profile(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[Entity, tuple]:
        user = self.service.caller_user(ctx, params)
        profile = self.service.store.login_profile(ctx.account_id, user.key)
        if profile is None:
            raise ServiceError("NoSuchEntity", f"Login Profile for User {user.name} cannot be found.", 404)
        return user, profile

    def _check(self, account: str, user: Entity, password: str) -> None:
        _, policy = self.service.store.account_settings(account)
        if not password_allowed(password, user.name, policy):
            raise ServiceError(
                "PasswordPolicyViolation", "Password does not conform to the account password policy."
            )
