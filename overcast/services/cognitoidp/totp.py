"""Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), as authenticator apps
compute them from the secret AssociateSoftwareToken hands out. The standard library's hmac is all it takes,
so the server needs no TOTP package (the tests check it against pyotp)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct

STEP = 30
DIGITS = 6


def new_secret() -> str:
    """A base32 secret of 32 bytes (52 characters without padding), like Cognito's SecretCode."""
    return base64.b32encode(secrets.token_bytes(32)).decode().rstrip("=")


def code_at(secret: str, moment: float) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", int(moment // STEP)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def verify(secret: str, code: str, moment: float, window: int = 1) -> bool:
    """Whether `code` is the secret's code for `moment`, give or take `window` steps of clock drift."""
    return any(
        hmac.compare_digest(code_at(secret, moment + drift * STEP), code)
        for drift in range(-window, window + 1)
    )
