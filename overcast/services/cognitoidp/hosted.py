"""The pool's own HTTP endpoints: its JWKS and OpenID discovery, and the hosted UI's OAuth 2.0 endpoints
(`/oauth2/authorize` with a minimal login page at `/login`, `/oauth2/token` for the authorization code grant
with PKCE, client credentials with custom scopes and refresh tokens, `/oauth2/userInfo`, `/logout`).

They answer at `<Overcast>/<pool id>/...` (the issuer's own URL) and at the pool's domain, as
`http://<domain>.auth.<region>.localhost:<port>/...` (AWS: `https://<domain>.auth.<region>.amazoncognito.com`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from overcast.errors import ServiceError
from overcast.http import HttpRequest, HttpResponse, json_response
from overcast.services.cognitoidp.store import Pool
from overcast.services.cognitoidp.tokens import ADMIN_SCOPE, digest, validity
from overcast.services.cognitoidp.triggers import user_attributes
from overcast.services.kit import jws as signing

if TYPE_CHECKING:
    from overcast.services.cognitoidp.provider import CognitoIdpProvider

CODE_LIFETIME = 300.0
STANDARD_SCOPES = ("openid", "email", "phone", "profile", ADMIN_SCOPE)
LOGIN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Sign in</title></head>
<body><h1>Sign in</h1>{error}
<form method="post" action="{action}">
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form></body></html>
"""


def _redirect(location: str) -> HttpResponse:
    return HttpResponse(302, [("location", location), ("content-length", "0")])


def _oauth_error(error: str, status: int = 400, description: str | None = None) -> HttpResponse:
    body: dict[str, str] = {"error": error}
    if description:
        body["error_description"] = description
    return json_response(body, status)


def _page(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(status, [("content-type", "text/html; charset=utf-8")], text.encode())


def _form(request: HttpRequest) -> dict[str, str]:
    body = request.body.decode("utf-8", "replace") if request.body else ""
    return {name: values[-1] for name, values in parse_qs(body, keep_blank_values=True).items()}


class HostedUI:
    def __init__(self, provider: CognitoIdpProvider) -> None:
        self.provider = provider
        self.store = provider.store
        self.clock = provider.clock
        self.db = provider.db

    async def serve(self, request: HttpRequest, pool: Pool, path: str) -> HttpResponse | None:
        method = request.method
        if path == "/.well-known/jwks.json" and method in ("GET", "HEAD"):
            key = self.provider.signing_key(pool)
            return json_response({"keys": [signing.jwk(key, pool.kid)]})
        if path == "/.well-known/openid-configuration" and method in ("GET", "HEAD"):
            return json_response(self.discovery(request, pool))
        if path == "/oauth2/authorize" and method == "GET":
            return self.authorize(request, pool)
        if path == "/login" and method == "GET":
            return self.login_page(request, pool)
        if path == "/login" and method == "POST":
            return await self.login(request, pool)
        if path == "/oauth2/token" and method == "POST":
            return await self.token(request, pool)
        if path == "/oauth2/userInfo" and method in ("GET", "POST"):
            return self.user_info(request)
        if path == "/logout" and method == "GET":
            return self.logout(request, pool)
        return None

    def _root(self, request: HttpRequest, pool: Pool) -> str:
        """The URL prefix this request reached the pool's endpoints at."""
        base = self.provider.base_url(request)
        return base if ".auth." in request.host else f"{base}/{pool.id}"

    def discovery(self, request: HttpRequest, pool: Pool) -> dict[str, Any]:
        issuer = f"{self.provider.base_url(request)}/{pool.id}"
        root = self._root(request, pool)
        return {
            "authorization_endpoint": f"{root}/oauth2/authorize",
            "end_session_endpoint": f"{root}/logout",
            "id_token_signing_alg_values_supported": ["RS256"],
            "issuer": issuer,
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "response_types_supported": ["code", "token"],
            "revocation_endpoint": f"{root}/oauth2/revoke",
            "scopes_supported": ["openid", "email", "phone", "profile"],
            "subject_types_supported": ["public"],
            "token_endpoint": f"{root}/oauth2/token",
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "userinfo_endpoint": f"{root}/oauth2/userInfo",
        }

    # -- authorization ---------------------------------------------------------------------------------

    def _authorize_problem(
        self, pool: Pool, query: dict[str, str]
    ) -> tuple[dict[str, Any] | None, str | None]:
        """(client, problem): what is wrong with an authorization request, if anything."""
        client = self.store.client(query.get("client_id", ""))
        if client is None or client["UserPoolId"] != pool.id:
            return None, "invalid_request: client_id"
        if not client.get("AllowedOAuthFlowsUserPoolClient"):
            return client, "unauthorized_client"
        if query.get("redirect_uri") not in (client.get("CallbackURLs") or ()):
            return client, "redirect_mismatch"
        flow = {"code": "code", "token": "implicit"}.get(query.get("response_type", ""))
        if flow is None or flow not in (client.get("AllowedOAuthFlows") or ()):
            return client, "unsupported_response_type"
        if query.get("code_challenge") and query.get("code_challenge_method", "S256") != "S256":
            return client, "invalid_request: code_challenge_method"
        return client, None

    def authorize(self, request: HttpRequest, pool: Pool) -> HttpResponse:
        query = {name: values[-1] for name, values in request.query_params().items()}
        _, problem = self._authorize_problem(pool, query)
        if problem:
            return _page(f"<p>error={html.escape(problem)}</p>", 400)
        return _redirect(f"{self._root(request, pool)}/login?{request.query}")

    def login_page(self, request: HttpRequest, pool: Pool, error: str = "") -> HttpResponse:
        action = f"{self._root(request, pool)}/login?{html.escape(request.query)}"
        notice = f'<p class="error">{html.escape(error)}</p>' if error else ""
        return _page(LOGIN_PAGE.format(action=action, error=notice), 400 if error else 200)

    async def login(self, request: HttpRequest, pool: Pool) -> HttpResponse:
        query = {name: values[-1] for name, values in request.query_params().items()}
        client, problem = self._authorize_problem(pool, query)
        if problem or client is None:
            return _page(f"<p>error={html.escape(problem or 'invalid_request')}</p>", 400)
        form = _form(request)
        user = self.provider.find_user(pool, form.get("username", ""))
        if user is None:
            return self.login_page(request, pool, "Incorrect username or password.")
        triggers = self.provider.triggers
        attributes = user_attributes(user)
        try:
            await triggers.run(
                pool, "PreAuthentication", "PreAuthentication_Authentication", user.username, client["ClientId"],
                {"userAttributes": attributes, "validationData": {}, "userNotFound": False},
            )  # fmt: skip
        except ServiceError as error:
            return self.login_page(request, pool, error.message)
        if not self.provider.accounts.password_matches(user, form.get("password", "")):
            return self.login_page(request, pool, "Incorrect username or password.")
        if not user.enabled or user.status != "CONFIRMED":
            return self.login_page(
                request, pool, "User is disabled." if not user.enabled else "User is not confirmed."
            )
        mode = pool.config.get("MfaConfiguration", "OFF")
        if mode == "ON" or (mode == "OPTIONAL" and user.settings.get("mfa_enabled")):
            # Never past a second factor: this page does not ask for one.
            return self.login_page(
                request, pool, "This user signs in with MFA, which this login page does not offer."
            )
        await triggers.run(
            pool, "PostAuthentication", "PostAuthentication_Authentication", user.username, client["ClientId"],
            {"userAttributes": attributes, "newDeviceUsed": False, "clientMetadata": {}},
        )  # fmt: skip
        scopes = self._scopes(client, query.get("scope"))
        if query["response_type"] == "token":
            issued = await self.provider.tokens.issue(
                None, pool, client, user, source="TokenGeneration_HostedAuth", scopes=scopes,
                with_refresh=False, issuer=f"{self.provider.base_url(request)}/{pool.id}", nonce=query.get("nonce"),
            )  # fmt: skip
            fragment = {
                "access_token": issued["AccessToken"],
                "token_type": "Bearer",
                "expires_in": issued["ExpiresIn"],
            }
            if "openid" in scopes:
                fragment["id_token"] = issued["IdToken"]
            if query.get("state"):
                fragment["state"] = query["state"]
            return _redirect(f"{query['redirect_uri']}#{urlencode(fragment)}")
        code = str(uuid.uuid4())
        now = self.clock.now()
        with self.db.transaction():
            self.store.put_session(
                digest(code),
                pool.id,
                {
                    "challenge": "OAUTH_CODE",
                    "client": client["ClientId"],
                    "key": user.key,
                    "redirect_uri": query["redirect_uri"],
                    "scopes": scopes,
                    "code_challenge": query.get("code_challenge"),
                    "nonce": query.get("nonce"),
                    "auth_time": int(now),
                },
                now + CODE_LIFETIME,
                now,
            )
        answer = {"code": code, **({"state": query["state"]} if query.get("state") else {})}
        separator = "&" if "?" in query["redirect_uri"] else "?"
        return _redirect(f"{query['redirect_uri']}{separator}{urlencode(answer)}")

    @staticmethod
    def _scopes(client: dict[str, Any], requested: str | None) -> list[str]:
        allowed = list(client.get("AllowedOAuthScopes") or [])
        if not requested:
            return allowed
        return [scope for scope in requested.split() if scope in allowed]

    # -- the token endpoint -------------------------------------------------------------------------------

    def _client_of(self, request: HttpRequest, pool: Pool, form: dict[str, str]) -> dict[str, Any] | None:
        """The authenticated client of a token request (Basic authorization or client_id/client_secret)."""
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("authorization") or ""
        if header.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
        client = self.store.client(client_id or "")
        if client is None or client["UserPoolId"] != pool.id:
            return None
        if "ClientSecret" in client and secret != client["ClientSecret"]:
            return None
        return client

    async def token(self, request: HttpRequest, pool: Pool) -> HttpResponse:
        form = _form(request)
        client = self._client_of(request, pool, form)
        if client is None:
            return _oauth_error("invalid_client")
        grant = form.get("grant_type")
        issuer = f"{self.provider.base_url(request)}/{pool.id}"
        if grant == "authorization_code":
            return await self._code_grant(pool, client, form, issuer)
        if grant == "refresh_token":
            return await self._refresh_grant(pool, client, form, issuer)
        if grant == "client_credentials":
            return self._client_credentials(pool, client, form, issuer)
        return _oauth_error("unsupported_grant_type")

    async def _code_grant(
        self, pool: Pool, client: dict[str, Any], form: dict[str, str], issuer: str
    ) -> HttpResponse:
        code = form.get("code", "")
        found = self.store.session(digest(code))
        with self.db.transaction():
            self.store.delete_session(digest(code))  # a code is good once
        if found is None or found[1].get("challenge") != "OAUTH_CODE" or found[2] <= self.clock.now():
            return _oauth_error("invalid_grant")
        state = found[1]
        if state["client"] != client["ClientId"] or state["redirect_uri"] != form.get("redirect_uri"):
            return _oauth_error("invalid_grant")
        if state.get("code_challenge"):
            verifier = form.get("code_verifier", "")
            computed = signing.b64url(hashlib.sha256(verifier.encode()).digest())
            if not verifier or not secrets.compare_digest(computed, state["code_challenge"]):
                return _oauth_error("invalid_grant")
        user = self.store.user(pool.id, state["key"])
        if user is None or not user.enabled:
            return _oauth_error("invalid_grant")
        issued = await self.provider.tokens.issue(
            None, pool, client, user, source="TokenGeneration_HostedAuth", auth_time=state["auth_time"],
            scopes=state["scopes"], issuer=issuer, nonce=state.get("nonce"),
        )  # fmt: skip
        body = {
            "access_token": issued["AccessToken"],
            "refresh_token": issued["RefreshToken"],
            "expires_in": issued["ExpiresIn"],
            "token_type": "Bearer",
        }
        if "openid" in state["scopes"]:
            body["id_token"] = issued["IdToken"]
        return json_response(body)

    async def _refresh_grant(
        self, pool: Pool, client: dict[str, Any], form: dict[str, str], issuer: str
    ) -> HttpResponse:
        try:
            record = self.provider.tokens.refresh_record(form.get("refresh_token", ""), client["ClientId"])
        except ServiceError:
            return _oauth_error("invalid_grant")
        user = self.store.user(pool.id, record["key"])
        if user is None or not user.enabled:
            return _oauth_error("invalid_grant")
        scopes = record["data"].get("scopes") or []
        issued = await self.provider.tokens.issue(
            None, pool, client, user, source="TokenGeneration_RefreshTokens", auth_time=record["data"].get("auth_time"),
            origin_jti=record["origin_jti"], scopes=scopes, with_refresh=False, issuer=issuer,
        )  # fmt: skip
        body = {
            "access_token": issued["AccessToken"],
            "expires_in": issued["ExpiresIn"],
            "token_type": "Bearer",
        }
        if "openid" in scopes or ADMIN_SCOPE in scopes:
            body["id_token"] = issued["IdToken"]
        return json_response(body)

    def _client_credentials(
        self, pool: Pool, client: dict[str, Any], form: dict[str, str], issuer: str
    ) -> HttpResponse:
        if (
            "client_credentials" not in (client.get("AllowedOAuthFlows") or ())
            or "ClientSecret" not in client
        ):
            return _oauth_error("unauthorized_client")
        allowed = [scope for scope in client.get("AllowedOAuthScopes") or () if scope not in STANDARD_SCOPES]
        requested = form.get("scope")
        scopes = requested.split() if requested else allowed
        if not scopes or any(scope not in allowed for scope in scopes):
            return _oauth_error("invalid_scope")
        now = int(self.clock.now())
        claims = {
            "sub": client["ClientId"],
            "token_use": "access",
            "scope": " ".join(scopes),
            "auth_time": now,
            "iss": issuer,
            "exp": now + validity(client, "AccessToken"),
            "iat": now,
            "version": 2,
            "jti": str(uuid.uuid4()),
            "client_id": client["ClientId"],
        }
        token = signing.sign(claims, self.provider.signing_key(pool), pool.kid)
        return json_response(
            {"access_token": token, "expires_in": validity(client, "AccessToken"), "token_type": "Bearer"}
        )

    # -- user info and logout -------------------------------------------------------------------------------

    def user_info(self, request: HttpRequest) -> HttpResponse:
        header = request.headers.get("authorization") or ""
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        try:
            _, user, claims = self.provider.tokens.access_user(token, scope=None)
        except ServiceError as error:
            response = _oauth_error("invalid_token", 401, error.message)
            response.headers.append(
                ("www-authenticate", f'Bearer error="invalid_token", error_description="{error.message}"')
            )
            return response
        scopes = str(claims.get("scope", "")).split()
        if "openid" not in scopes and ADMIN_SCOPE not in scopes:
            return _oauth_error("insufficient_scope", 403)
        info: dict[str, Any] = {"sub": user.sub}
        info.update(user.attributes)
        info["username"] = user.username
        return json_response(info)

    def logout(self, request: HttpRequest, pool: Pool) -> HttpResponse:
        query = {name: values[-1] for name, values in request.query_params().items()}
        client = self.store.client(query.get("client_id", ""))
        if client is None or client["UserPoolId"] != pool.id:
            return _page("<p>error=invalid_request</p>", 400)
        if query.get("logout_uri"):
            if query["logout_uri"] not in (client.get("LogoutURLs") or ()):
                return _page("<p>error=redirect_mismatch</p>", 400)
            return _redirect(query["logout_uri"])
        if query.get("redirect_uri"):
            return _redirect(f"{self._root(request, pool)}/oauth2/authorize?{request.query}")
        return _page("<p>Signed out.</p>")
