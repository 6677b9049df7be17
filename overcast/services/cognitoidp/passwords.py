"""Password policies (PasswordPolicyType) and how passwords are kept.

A password is kept twice: as an SRP verifier (salt, g^x mod N) for USER_SRP_AUTH, and as a salted SHA-256
digest so the plain-password flows (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, the hosted UI) check it
without a 3072-bit exponentiation. Neither is the password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from typing import Any

from overcast.errors import ServiceError

DEFAULT_POLICY: dict[str, Any] = {
    "MinimumLength": 8,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": 7,
}

# The special characters Cognito's policy counts (a space counts when it is neither first nor last).
SYMBOLS = set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-")


def policy_of(given: dict[str, Any] | None) -> dict[str, Any]:
    """The stored policy: AWS fills the members a request leaves out with these values."""
    policy = {**DEFAULT_POLICY, **(given or {})}
    if given is not None:  # a policy that was given keeps only what it says, AWS's defaults aside
        policy = {
            "MinimumLength": given.get("MinimumLength", 8),
            "RequireUppercase": given.get("RequireUppercase", False),
            "RequireLowercase": given.get("RequireLowercase", False),
            "RequireNumbers": given.get("RequireNumbers", False),
            "RequireSymbols": given.get("RequireSymbols", False),
            **(
                {"PasswordHistorySize": given["PasswordHistorySize"]}
                if "PasswordHistorySize" in given
                else {}
            ),
            "TemporaryPasswordValidityDays": given.get("TemporaryPasswordValidityDays", 7),
        }
    return policy


def violation(password: str, policy: dict[str, Any]) -> str | None:
    """What `password` lacks under `policy`, in AWS's words, or None."""
    if len(password) < policy.get("MinimumLength", 8):
        return "Password not long enough"
    if policy.get("RequireLowercase") and not any(c.islower() for c in password):
        return "Password must have lowercase characters"
    if policy.get("RequireUppercase") and not any(c.isupper() for c in password):
        return "Password must have uppercase characters"
    if policy.get("RequireNumbers") and not any(c in string.digits for c in password):
        return "Password must have numeric characters"
    if policy.get("RequireSymbols") and not (
        any(c in SYMBOLS for c in password) or " " in password.strip(" ")
    ):
        return "Password must have symbol characters"
    return None


def check(password: str, policy: dict[str, Any]) -> None:
    problem = violation(password, policy)
    if problem:
        raise ServiceError(
            "InvalidPasswordException", f"Password did not conform with policy: {problem}", 400
        )


def digest(password: str) -> str:
    salt = secrets.token_hex(16)
    return f"{salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"


def matches(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    salt, _, expected = stored.partition("$")
    return hmac.compare_digest(hashlib.sha256((salt + password).encode()).hexdigest(), expected)


def temporary_password(policy: dict[str, Any]) -> str:
    """A generated temporary password that satisfies `policy` (AdminCreateUser without TemporaryPassword)."""
    length = max(policy.get("MinimumLength", 8), 12)
    pools = [string.ascii_lowercase, string.ascii_uppercase, string.digits, "^$*.!@#%&"]
    chars = [secrets.choice(pool) for pool in pools]
    alphabet = "".join(pools)
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)
