"""Identifiers and secrets IAM issues, and the checks on them (pure: no request, no database).

Ids are AWS-shaped (`AIDA`... users, `AKIA`... access keys); virtual MFA devices give real TOTP codes
(RFC 6238: 30-second steps, 6 digits, SHA-1); passwords are kept as salted PBKDF2 hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
import struct

_ID_ALPHABET = string.ascii_uppercase + string.digits
_KEY_ALPHABET = string.ascii_uppercase + "234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"
TOTP_STEP = 30  # seconds

# The prefix AWS gives the unique id of each kind of entity.
ID_PREFIXES = {
    "user": "AIDA",
    "group": "AGPA",
    "role": "AROA",
    "policy": "ANPA",
    "instance-profile": "AIPA",
    "oidc-provider": "AOPA",
    "server-certificate": "ASCA",
    "signing-certificate": "",  # its id is its name (32 characters)
    "ssh-public-key": "APKA",
    "service-specific-credential": "ACCA",
    "saml-provider": "",
}


def new_id(prefix: str, length: int = 17) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def new_access_key_id(prefix: str = "AKIA") -> str:
    """An access key id: AKIA... for IAM users' keys, ASIA... for temporary (STS) credentials."""
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def new_secret() -> str:
    """A 40-character secret access key."""
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def new_mfa_seed() -> str:
    return base64.b32encode(secrets.token_bytes(40)).decode()


def totp(seed_base32: str, step: int) -> str:
    """The 6-digit code of the device with seed `seed_base32` at time step `step` (epoch seconds // 30)."""
    key = base64.b32decode(seed_base32)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def totp_step(seed: str, code: str, now: float, *, window: int = 1, after: int = 0) -> int | None:
    """The time step (> `after`) whose code is `code`, within `window` steps of `now`; None if none."""
    current = int(now // TOTP_STEP)
    for step in range(current - window, current + window + 1):
        if step > after and hmac.compare_digest(totp(seed, step), code):
            return step
    return None


def hash_password(password: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10_000).hex()
    return f"{salt}${digest}"


def password_matches(password: str, stored: str) -> bool:
    salt = stored.split("$", 1)[0]
    return hmac.compare_digest(hash_password(password, salt), stored)
