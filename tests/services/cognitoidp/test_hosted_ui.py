"""The hosted UI's OAuth 2.0 endpoints driven with `requests`, as a browser and an app backend do:
authorization code with PKCE, then refresh; client credentials with custom scopes; userInfo; logout; the
same endpoints at the pool's domain."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.services.cognitoidp.helpers import PASSWORD, confirmed_user, make_pool, verified_claims

CALLBACK = "https://app.example.com/callback"


@pytest.fixture
def idp(overcast):
    return overcast.client("cognito-idp")


@pytest.fixture
def app(idp):
    pool = make_pool(idp)
    idp.create_user_pool_domain(UserPoolId=pool["Id"], Domain="my-app")
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="spa",
        AllowedOAuthFlows=["code"],
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthScopes=["openid", "email", "aws.cognito.signin.user.admin"],
        CallbackURLs=[CALLBACK],
        LogoutURLs=["https://app.example.com/bye"],
        SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]
    confirmed_user(idp, pool["Id"], "ana", email="ana@example.com")
    return pool, client


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def sign_in_through_the_login_page(
    authorize_url: str, params: dict, password: str = PASSWORD
) -> requests.Response:
    session = requests.Session()
    to_login = session.get(authorize_url, params=params, allow_redirects=False, timeout=10)
    assert to_login.status_code == 302
    page = session.get(to_login.headers["location"], timeout=10)
    assert page.status_code == 200 and "<form" in page.text
    action = unescape(re.search(r'action="([^"]+)"', page.text).group(1))
    return session.post(
        action, data={"username": "ana", "password": password}, allow_redirects=False, timeout=10
    )


def test_authorization_code_with_pkce_then_refresh(overcast, idp, app):
    pool, client = app
    discovery = requests.get(
        f"{overcast.endpoint}/{pool['Id']}/.well-known/openid-configuration", timeout=10
    ).json()
    assert discovery["issuer"] == f"{overcast.endpoint}/{pool['Id']}"
    verifier, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": client["ClientId"],
        "redirect_uri": CALLBACK,
        "scope": "openid email aws.cognito.signin.user.admin",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    refused = sign_in_through_the_login_page(discovery["authorization_endpoint"], params, "Wrong-Passw0rd!")
    assert refused.status_code == 400 and "Incorrect username or password." in refused.text
    back = sign_in_through_the_login_page(discovery["authorization_endpoint"], params)
    assert back.status_code == 302
    location = urlparse(back.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]
    code = query["code"][0]

    form = {
        "grant_type": "authorization_code",
        "client_id": client["ClientId"],
        "code": code,
        "redirect_uri": CALLBACK,
    }
    wrong = requests.post(discovery["token_endpoint"], data={**form, "code_verifier": "not-it"}, timeout=10)
    assert wrong.status_code == 400 and wrong.json() == {"error": "invalid_grant"}  # and the code is spent

    back = sign_in_through_the_login_page(discovery["authorization_endpoint"], params)
    form["code"] = parse_qs(urlparse(back.headers["location"]).query)["code"][0]
    tokens = requests.post(discovery["token_endpoint"], data={**form, "code_verifier": verifier}, timeout=10)
    assert tokens.status_code == 200
    body = tokens.json()
    assert set(body) == {"id_token", "access_token", "refresh_token", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    claims = verified_claims(overcast, body["id_token"], client["ClientId"])
    assert claims["email"] == "ana@example.com"
    access = verified_claims(overcast, body["access_token"])
    assert access["scope"].split() == ["openid", "email", "aws.cognito.signin.user.admin"]
    assert idp.get_user(AccessToken=body["access_token"])["Username"] == "ana"
    again = requests.post(discovery["token_endpoint"], data={**form, "code_verifier": verifier}, timeout=10)
    assert again.json() == {"error": "invalid_grant"}  # a code is good once

    info = requests.get(
        discovery["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    assert info.status_code == 200
    assert info.json()["email"] == "ana@example.com" and info.json()["username"] == "ana"

    overcast.advance_clock("2h")
    refreshed = requests.post(
        discovery["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "client_id": client["ClientId"],
            "refresh_token": body["refresh_token"],
        },
        timeout=10,
    )
    assert refreshed.status_code == 200
    fresh = refreshed.json()
    assert "refresh_token" not in fresh
    assert verified_claims(overcast, fresh["access_token"])["origin_jti"] == access["origin_jti"]
    assert idp.get_user(AccessToken=fresh["access_token"])["Username"] == "ana"
    expired = requests.get(
        discovery["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    assert expired.status_code == 401


def test_authorize_refuses_an_unregistered_redirect(overcast, app):
    pool, client = app
    answer = requests.get(
        f"{overcast.endpoint}/{pool['Id']}/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": client["ClientId"],
            "redirect_uri": "https://evil.example.com",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 400 and "redirect_mismatch" in answer.text


def test_the_pools_domain_serves_the_same_endpoints(overcast, app):
    pool, client = app
    port = urlparse(overcast.endpoint).port
    host = f"my-app.auth.us-east-1.localhost:{port}"
    answer = requests.get(
        f"{overcast.endpoint}/oauth2/authorize",
        params={"response_type": "code", "client_id": client["ClientId"], "redirect_uri": CALLBACK},
        headers={"Host": host},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302
    assert answer.headers["location"].startswith(f"http://{host}/login?")
    bye = requests.get(
        f"{overcast.endpoint}/logout",
        params={"client_id": client["ClientId"], "logout_uri": "https://app.example.com/bye"},
        headers={"Host": host},
        allow_redirects=False,
        timeout=10,
    )
    assert bye.status_code == 302 and bye.headers["location"] == "https://app.example.com/bye"


def test_client_credentials_with_custom_scopes(overcast, idp):
    pool = make_pool(idp)
    idp.create_resource_server(
        UserPoolId=pool["Id"],
        Identifier="orders",
        Name="Orders API",
        Scopes=[
            {"ScopeName": "read", "ScopeDescription": "read orders"},
            {"ScopeName": "write", "ScopeDescription": "write"},
        ],
    )
    machine = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="worker",
        GenerateSecret=True,
        AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthScopes=["orders/read"],
    )["UserPoolClient"]
    token_url = f"{overcast.endpoint}/{pool['Id']}/oauth2/token"
    auth = (machine["ClientId"], machine["ClientSecret"])
    answer = requests.post(
        token_url, data={"grant_type": "client_credentials", "scope": "orders/read"}, auth=auth, timeout=10
    )
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    claims = verified_claims(overcast, body["access_token"])
    assert (
        claims["scope"] == "orders/read"
        and claims["sub"] == machine["ClientId"]
        and claims["token_use"] == "access"
    )
    denied = requests.post(
        token_url, data={"grant_type": "client_credentials", "scope": "orders/write"}, auth=auth, timeout=10
    )
    assert denied.status_code == 400 and denied.json() == {"error": "invalid_scope"}
    bad = requests.post(
        token_url, data={"grant_type": "client_credentials"}, auth=(machine["ClientId"], "nope"), timeout=10
    )
    assert bad.status_code == 400 and bad.json() == {"error": "invalid_client"}


def test_jwks_lists_the_pools_key(overcast, idp):
    pool = make_pool(idp)
    keys = requests.get(f"{overcast.endpoint}/{pool['Id']}/.well-known/jwks.json", timeout=10).json()["keys"]
    assert len(keys) == 1
    assert (
        keys[0]["kty"] == "RSA"
        and keys[0]["alg"] == "RS256"
        and keys[0]["use"] == "sig"
        and keys[0]["e"] == "AQAB"
    )
    missing = requests.get(f"{overcast.endpoint}/us-east-1_missing00/.well-known/jwks.json", timeout=10)
    assert missing.status_code == 404


def test_the_login_page_does_not_skip_mfa(overcast, idp, app):
    pool, client = app
    idp.set_user_pool_mfa_config(
        UserPoolId=pool["Id"], SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="ON"
    )
    params = {"response_type": "code", "client_id": client["ClientId"], "redirect_uri": CALLBACK}
    answer = sign_in_through_the_login_page(f"{overcast.endpoint}/{pool['Id']}/oauth2/authorize", params)
    assert answer.status_code == 400 and "MFA" in answer.text
