"""RS256 JSON Web Tokens and the JSON Web Key Sets that verify them (Cognito user pools sign their ID and access
tokens so, identity pools their OpenID tokens).

Keys are 2048-bit RSA, kept by the service that owns them (PEM in its store). Built on `cryptography` (already
a dependency) rather than a JWT library: signing and checking one algorithm is a few lines, and the server then
needs nothing more.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


class InvalidToken(Exception):
    """Not a JWT this key signed (malformed, another key, a bad signature)."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key() -> tuple[str, str]:
    """(kid, private key PEM) of a new signing key. The kid is derived from the public key, as AWS's are
    stable base64 strings naming the key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(public).digest()).decode(), pem


def load_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def sign(claims: dict[str, Any], key: rsa.RSAPrivateKey, kid: str) -> str:
    header = b64url(json.dumps({"kid": kid, "alg": "RS256"}, separators=(",", ":")).encode())
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{b64url(signature)}"


def header_of(token: str) -> dict[str, Any]:
    """The JOSE header of a compact JWT (unverified); raises InvalidToken for one that is not a JWT."""
    try:
        header = json.loads(unb64url(token.split(".")[0]))
    except (ValueError, IndexError):
        raise InvalidToken("not a JWT") from None
    if not isinstance(header, dict) or token.count(".") != 2:
        raise InvalidToken("not a JWT")
    return header


def unverified_claims(token: str) -> dict[str, Any]:
    try:
        claims = json.loads(unb64url(token.split(".")[1]))
    except (ValueError, IndexError):
        raise InvalidToken("not a JWT") from None
    if not isinstance(claims, dict):
        raise InvalidToken("not a JWT")
    return claims


def verify(token: str, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """The claims of `token` when `key` signed it (RS256); raises InvalidToken otherwise. Expiry is the
    caller's to check, on the virtual clock."""
    if header_of(token).get("alg") != "RS256":
        raise InvalidToken("not RS256")
    head, payload, signature = token.split(".")
    try:
        key.public_key().verify(
            unb64url(signature), f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, ValueError):
        raise InvalidToken("bad signature") from None
    return unverified_claims(token)


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, str]:
    """The public key as a JWK, the shape Cognito's jwks.json lists."""
    numbers = key.public_key().public_numbers()

    def as_b64(value: int) -> str:
        return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))

    return {
        "alg": "RS256",
        "e": as_b64(numbers.e),
        "kid": kid,
        "kty": "RSA",
        "n": as_b64(numbers.n),
        "use": "sig",
    }
