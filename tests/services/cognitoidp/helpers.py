"""What the Cognito tests share: pools and clients made through boto3, the outbox, SECRET_HASH, tokens'
claims checked against the pool's JWKS with PyJWT (as an application verifies them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.request
from typing import Any

import jwt

PASSWORD = "Corr3ct-Horse!"


def outbox(server, pool_id: str | None = None) -> list[dict[str, Any]]:
    query = f"?pool={pool_id}" if pool_id else ""
    with urllib.request.urlopen(
        f"{server.endpoint}/_overcast/cognito-idp/outbox{query}", timeout=10
    ) as response:
        return json.loads(response.read())["messages"]


def last_code(server, pool_id: str) -> str:
    messages = outbox(server, pool_id)
    assert messages, "no message in the outbox"
    return messages[-1]["code"]


def secret_hash(username: str, client_id: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def make_pool(idp, **kwargs) -> dict[str, Any]:
    kwargs.setdefault("PoolName", "app-users")
    return idp.create_user_pool(**kwargs)["UserPool"]


def make_client(idp, pool_id: str, **kwargs) -> dict[str, Any]:
    kwargs.setdefault("ClientName", "web")
    kwargs.setdefault(
        "ExplicitAuthFlows",
        ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_CUSTOM_AUTH"],
    )
    return idp.create_user_pool_client(UserPoolId=pool_id, **kwargs)["UserPoolClient"]


def confirmed_user(idp, pool_id: str, username: str, password: str = PASSWORD, **attributes: str) -> None:
    """A user created by an administrator with a permanent password (CONFIRMED)."""
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
        MessageAction="SUPPRESS",
    )
    idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)


def sign_in(idp, client_id: str, username: str, password: str = PASSWORD) -> dict[str, Any]:
    return idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )["AuthenticationResult"]


def verified_claims(server, token: str, audience: str | None = None) -> dict[str, Any]:
    """The token's claims, verified as an application does: the issuer's discovery document names the JWKS,
    whose key must have signed it."""
    issuer = jwt.decode(token, options={"verify_signature": False})["iss"]
    with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=10) as response:
        discovery = json.loads(response.read())
    assert discovery["issuer"] == issuer
    keys = jwt.PyJWKClient(discovery["jwks_uri"])
    key = keys.get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience=audience,
        issuer=issuer,
        options={"verify_aud": audience is not None, "verify_iat": False},  # iat is on the virtual clock,
    )
