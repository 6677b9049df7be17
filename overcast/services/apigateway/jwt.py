"""JSON Web Tokens as API Gateway's JWT and Cognito authorizers check them: the signature against the issuer's
published keys (a JWKS document, RS256/RS384/RS512), then `exp`, `nbf`, `iat`, `iss` and the audience.

Pure: the caller fetches the JWKS (from `<issuer>/.well-known/jwks.json`, or the OpenID configuration's
`jwks_uri`) and passes the time (the virtual clock).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_HASHES = {"RS256": hashes.SHA256, "RS384": hashes.SHA384, "RS512": hashes.SHA512}


class InvalidToken(Exception):
    """The token is refused (API Gateway answers 401 Unauthorized); the text says why, for the logs."""


@dataclass(frozen=True)
class Token:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def parse(token: str) -> Token:
    """The token's parts, unverified; raises InvalidToken for anything that is not a JWS compact JWT."""
    token = token.strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("not a JWT")
    try:
        header = json.loads(_b64(parts[0]))
        claims = json.loads(_b64(parts[1]))
        signature = _b64(parts[2])
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidToken(f"undecodable JWT: {error}") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidToken("not a JWT")
    return Token(header, claims, f"{parts[0]}.{parts[1]}".encode(), signature)


def _public_key(jwk: dict[str, Any]) -> rsa.RSAPublicKey:
    n = int.from_bytes(_b64(jwk["n"]), "big")
    e = int.from_bytes(_b64(jwk["e"]), "big")
    return rsa.RSAPublicNumbers(e, n).public_key()


def verify_signature(token: Token, jwks: dict[str, Any]) -> None:
    """Check the signature with the key of the JWKS the header's `kid` names (or the only RSA key)."""
    algorithm = token.header.get("alg")
    if algorithm not in _HASHES:
        raise InvalidToken(f"unsupported algorithm {algorithm}")
    keys = [k for k in jwks.get("keys", []) if isinstance(k, dict) and k.get("kty") == "RSA"]
    kid = token.header.get("kid")
    candidates = [k for k in keys if k.get("kid") == kid] if kid is not None else keys
    if not candidates:
        raise InvalidToken("no key of the issuer matches the token's kid")
    for jwk in candidates:
        try:
            _public_key(jwk).verify(
                token.signature, token.signing_input, padding.PKCS1v15(), _HASHES[algorithm]()
            )
            return
        except (InvalidSignature, KeyError, ValueError):
            continue
    raise InvalidToken("invalid signature")


def check_claims(
    token: Token,
    now: float,
    *,
    issuer: str | None = None,
    audiences: list[str] | None = None,
    leeway: float = 0,
) -> None:
    """The time claims, the issuer and (when given) the audience: `aud`, or `client_id` for an access token
    without `aud`, must be one of `audiences`."""
    claims = token.claims
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or now > exp + leeway:
        raise InvalidToken("the token has expired" if isinstance(exp, (int, float)) else "no exp claim")
    nbf = claims.get("nbf")
    if isinstance(nbf, (int, float)) and now + leeway < nbf:
        raise InvalidToken("the token is not valid yet")
    if issuer is not None and claims.get("iss") != issuer:
        raise InvalidToken("the token's issuer is not the configured issuer")
    if audiences:
        aud = claims.get("aud", claims.get("client_id"))
        found = aud if isinstance(aud, list) else [aud]
        if not any(a in audiences for a in found):
            raise InvalidToken("the token's audience is not allowed")
