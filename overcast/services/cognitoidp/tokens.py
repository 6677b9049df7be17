"""The tokens a sign-in ends with: ID and access tokens (RS256 JWTs with AWS's claims, signed by the pool's
key) and refresh tokens (opaque, kept by digest), with the pre token generation trigger's changes, and the
checks an access token passes before an operation acts for its user.

The issuer is `<where the caller reached Overcast>/<pool id>` (e.g. `http://localhost:4566/us-east-1_AbC`),
rather than AWS's `https://cognito-idp.<region>.amazonaws.com/<pool id>`: it serves its own discovery
(`<iss>/.well-known/openid-configuration`, `<iss>/.well-known/jwks.json`), so a verifier that follows the
issuer (pycognito with an endpoint_url, OIDC libraries, API Gateway authorizers) finds the keys here.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.platform import new_request_id as new_uuid  # random UUIDs, cheaper than uuid4()
from overcast.services.cognitoidp.store import Pool, User
from overcast.services.cognitoidp.triggers import pre_token_version, user_attributes
from overcast.services.kit import jws as signing

if TYPE_CHECKING:
    from overcast.services.cognitoidp.provider import CognitoIdpProvider

VERIFIED_KEPT = 4096  # tokens whose signature was checked, remembered (a token never changes)
UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
ADMIN_SCOPE = "aws.cognito.signin.user.admin"
# Claims a pre token generation trigger cannot change.
PROTECTED = frozenset(
    {
        "acr", "amr", "aud", "auth_time", "azp", "exp", "iat", "identities", "iss", "sub", "token_use", "nonce",
        "at_hash", "event_id", "jti", "origin_jti", "cognito:username", "client_id", "username", "scope",
    }
)  # fmt: skip
TYPED = {"email_verified": "bool", "phone_number_verified": "bool", "updated_at": "int"}


def validity(client: dict[str, Any], kind: str) -> int:
    """Seconds a token of `kind` (AccessToken, IdToken, RefreshToken) lasts for `client`."""
    defaults = {"AccessToken": (60, "minutes"), "IdToken": (60, "minutes"), "RefreshToken": (30, "days")}
    amount, unit = defaults[kind]
    given = client.get(f"{kind}Validity")
    if given is not None:
        amount = given
        unit = (client.get("TokenValidityUnits") or {}).get(kind) or (
            "days" if kind == "RefreshToken" else "hours"
        )
    return int(amount * UNIT_SECONDS[unit])


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_JWE_HEADER = (
    base64.urlsafe_b64encode(b'{"cty":"JWT","enc":"A256GCM","alg":"RSA-OAEP"}').rstrip(b"=").decode()
)


def new_refresh_token() -> str:
    """An opaque refresh token shaped like AWS's (a five-part JWE)."""
    random = signing.b64url(secrets.token_bytes(884))
    return ".".join([_JWE_HEADER, random[:342], random[342:358], random[358:1158], random[1158:]])


def _claim_value(name: str, value: str) -> Any:
    kind = TYPED.get(name)
    if kind == "bool":
        return value.lower() == "true"
    if kind == "int":
        try:
            return int(value)
        except ValueError:
            return value
    return value


def _invalid_access() -> ServiceError:
    return ServiceError("NotAuthorizedException", "Invalid Access Token", 400)


class Tokens:
    def __init__(self, provider: CognitoIdpProvider) -> None:
        self.provider = provider
        self.store = provider.store
        self.clock = provider.clock
        self.db = provider.db
        self._verified: OrderedDict[str, tuple[str, dict[str, Any]]] = (
            OrderedDict()
        )  # token -> (pool, claims)

    # -- issuing -------------------------------------------------------------------------------------------

    async def issue(
        self,
        ctx: RequestContext | None,
        pool: Pool,
        client: dict[str, Any],
        user: User,
        *,
        source: str = "TokenGeneration_Authentication",
        auth_time: int | None = None,
        origin_jti: str | None = None,
        scopes: list[str] | None = None,
        metadata: dict[str, str] | None = None,
        with_refresh: bool = True,
        issuer: str | None = None,
        nonce: str | None = None,
    ) -> dict[str, Any]:
        """AuthenticationResult: IdToken, AccessToken, (RefreshToken), ExpiresIn, TokenType."""
        now = int(self.clock.now())
        auth_time = auth_time or now
        scopes = list(scopes or [ADMIN_SCOPE])
        groups = self._groups(pool, user)
        group_names = [group["GroupName"] for group in groups]
        roles = [group["RoleArn"] for group in groups if group.get("RoleArn")]
        preferred = next((group["RoleArn"] for group in groups if group.get("RoleArn")), None)
        changes = await self._pre_token(
            pool, client, user, source, group_names, roles, preferred, scopes, metadata
        )
        override = changes.get("groupOverrideDetails") or {}
        if override.get("groupsToOverride") is not None:
            group_names = list(override["groupsToOverride"])
        if override.get("iamRolesToOverride") is not None:
            roles = list(override["iamRolesToOverride"])
        if override.get("preferredRole") is not None:
            preferred = override["preferredRole"]
        origin_jti = origin_jti or new_uuid()
        event_id = new_uuid()
        iss = issuer or self.provider.issuer(ctx, pool)
        common = {"sub": user.sub}
        if group_names:
            common["cognito:groups"] = group_names
        id_claims: dict[str, Any] = dict(common)
        readable = client.get("ReadAttributes")
        for name, value in user.attributes.items():
            if name.startswith("dev:") or (readable is not None and name not in readable):
                continue
            id_claims[name] = _claim_value(name, value)
        if roles:
            id_claims["cognito:roles"] = roles
        if preferred:
            id_claims["cognito:preferred_role"] = preferred
        id_claims.update(
            {
                "iss": iss,
                "cognito:username": user.username,
                "origin_jti": origin_jti,
                "aud": client["ClientId"],
                "event_id": event_id,
                "token_use": "id",
                "auth_time": auth_time,
                "exp": now + validity(client, "IdToken"),
                "iat": now,
                "jti": new_uuid(),
            }
        )
        if nonce:
            id_claims["nonce"] = nonce
        access_scopes = [s for s in scopes if s not in (changes.get("scopesToSuppress") or ())]
        access_scopes += [s for s in changes.get("scopesToAdd") or () if s not in access_scopes]
        access_claims: dict[str, Any] = {
            **common,
            "iss": iss,
            "client_id": client["ClientId"],
            "origin_jti": origin_jti,
            "event_id": event_id,
            "token_use": "access",
            "scope": " ".join(access_scopes),
            "auth_time": auth_time,
            "exp": now + validity(client, "AccessToken"),
            "iat": now,
            "jti": new_uuid(),
            "username": user.username,
        }
        self._apply(id_claims, changes.get("id") or {})
        self._apply(access_claims, changes.get("access") or {})
        key = self.provider.signing_key(pool)
        result: dict[str, Any] = {
            "AccessToken": signing.sign(access_claims, key, pool.kid),
            "ExpiresIn": validity(client, "AccessToken"),
            "TokenType": "Bearer",
        }
        if with_refresh:
            refresh = new_refresh_token()
            with self.db.transaction():
                self.store.add_refresh(
                    digest(refresh),
                    pool.id,
                    client["ClientId"],
                    user.key,
                    origin_jti,
                    {"scopes": scopes, "auth_time": auth_time, "issuer": iss},
                    now,
                    now + validity(client, "RefreshToken"),
                )
            result["RefreshToken"] = refresh
        result["IdToken"] = signing.sign(id_claims, key, pool.kid)
        return result

    def _groups(self, pool: Pool, user: User) -> list[dict[str, Any]]:
        """The user's groups, by precedence (lowest first; groups without one last), then name."""
        groups = [
            self.store.child(pool.id, "group", name) for name in self.store.groups_of(pool.id, user.key)
        ]
        found = [group for group in groups if group is not None]
        return sorted(
            found, key=lambda g: (g.get("Precedence") is None, g.get("Precedence") or 0, g["GroupName"])
        )

    @staticmethod
    def _apply(claims: dict[str, Any], change: dict[str, Any]) -> None:
        for name in change.get("claimsToSuppress") or ():
            if name not in PROTECTED:
                claims.pop(name, None)
        for name, value in (change.get("claimsToAddOrOverride") or {}).items():
            if name not in PROTECTED:
                claims[name] = value

    async def _pre_token(
        self,
        pool: Pool,
        client: dict[str, Any],
        user: User,
        source: str,
        groups: list[str],
        roles: list[str],
        preferred: str | None,
        scopes: list[str],
        metadata: dict[str, str] | None,
    ) -> dict[str, Any]:
        """What the pre token generation trigger changes, as {id, access, groupOverrideDetails, scopesToAdd,
        scopesToSuppress}; empty without a trigger."""
        triggers = self.provider.triggers
        if not triggers.configured(pool, "PreTokenGeneration"):
            return {}
        version = pre_token_version(pool)
        request: dict[str, Any] = {
            "userAttributes": user_attributes(user),
            "groupConfiguration": {
                "groupsToOverride": groups,
                "iamRolesToOverride": roles,
                "preferredRole": preferred,
            },
            "clientMetadata": metadata or {},
        }
        if version != "1":
            request["scopes"] = scopes
        empty = {"claimsOverrideDetails": None} if version == "1" else {"claimsAndScopeOverrideDetails": None}
        answer = await triggers.run(
            pool,
            "PreTokenGeneration",
            source,
            user.username,
            client["ClientId"],
            request,
            empty,
            version=version,
        )
        answer = answer or {}
        if version == "1":
            details = answer.get("claimsOverrideDetails") or {}
            return {
                "id": {k: details.get(k) for k in ("claimsToAddOrOverride", "claimsToSuppress")},
                "groupOverrideDetails": details.get("groupOverrideDetails"),
            }
        details = answer.get("claimsAndScopeOverrideDetails") or {}
        access = details.get("accessTokenGeneration") or {}
        return {
            "id": details.get("idTokenGeneration") or {},
            "access": access,
            "groupOverrideDetails": details.get("groupOverrideDetails"),
            "scopesToAdd": access.get("scopesToAdd"),
            "scopesToSuppress": access.get("scopesToSuppress"),
        }

    # -- checking ------------------------------------------------------------------------------------------

    def forget(self) -> None:
        """After `overcast reset`: pools are gone, and with them what their tokens were checked against."""
        self._verified.clear()

    def verified(self, token: str, expected_use: str | None = None) -> tuple[Pool, dict[str, Any]]:
        """(pool, claims) of a token one of Overcast's pools signed; raises signing.InvalidToken otherwise.
        Expiry and revocation are the caller's to check. The pool is read-only (shared by later calls)."""
        known = self._verified.get(token)
        if known is not None:
            pool = self.store.pool_readonly(known[0])
            claims = known[1]
        else:
            claims = signing.unverified_claims(token)
            pool_id = str(claims.get("iss", "")).rstrip("/").rsplit("/", 1)[-1]
            pool = self.store.pool_readonly(pool_id)
            if pool is None or signing.header_of(token).get("kid") != pool.kid:
                raise signing.InvalidToken("unknown issuer or key")
            claims = signing.verify(token, self.provider.signing_key(pool))
            self._verified[token] = (pool.id, claims)
            if len(self._verified) > VERIFIED_KEPT:
                self._verified.popitem(last=False)
        if pool is None:  # deleted since
            raise signing.InvalidToken("unknown issuer")
        if expected_use and claims.get("token_use") != expected_use:
            raise signing.InvalidToken("wrong token use")
        return pool, dict(claims)

    def access_user(
        self, token: str, *, scope: str | None = ADMIN_SCOPE
    ) -> tuple[Pool, User, dict[str, Any]]:
        """The pool, user and claims of a valid access token (GetUser and the other token-authorized
        operations); AWS's NotAuthorizedException otherwise."""
        try:
            pool, claims = self.verified(token, "access")
        except signing.InvalidToken:
            raise _invalid_access() from None
        if float(claims.get("exp", 0)) <= self.clock.now():
            raise ServiceError("NotAuthorizedException", "Access Token has expired", 400)
        if self.store.origin_revoked(str(claims.get("origin_jti", ""))):
            raise ServiceError("NotAuthorizedException", "Access Token has been revoked", 400)
        if scope and scope not in str(claims.get("scope", "")).split():
            raise ServiceError("NotAuthorizedException", "Access Token does not have required scopes", 400)
        user = self.store.user_by_sub(pool.id, str(claims.get("sub", "")))
        if user is None:
            raise ServiceError("UserNotFoundException", "User does not exist.", 400)
        if not user.enabled:
            raise ServiceError("NotAuthorizedException", "User is disabled.", 400)
        return pool, user, claims

    def refresh_record(self, token: str, client_id: str) -> dict[str, Any]:
        record = self.store.refresh(digest(token))
        if record is None or record["client_id"] != client_id:
            raise ServiceError("NotAuthorizedException", "Invalid Refresh Token", 400)
        if record["revoked"]:
            raise ServiceError("NotAuthorizedException", "Refresh Token has been revoked", 400)
        if record["expires"] <= self.clock.now():
            raise ServiceError("NotAuthorizedException", "Refresh Token has expired", 400)
        return record
