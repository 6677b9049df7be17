"""Identity pools' provider: the families it composes, the region's OpenID token signing key and its JWKS
(`/_overcast/cognito-identity/.well-known/jwks_uri`), and what the families share: finding pools and
identities, and checking the tokens of the providers a pool trusts."""

from __future__ import annotations

import hashlib
import uuid
from collections import OrderedDict
from typing import Any

import overcast.services.cognitoidp.api as cognito_idp
import overcast.services.sts.api as sts
from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.http import HttpRequest, HttpResponse, json_response
from overcast.services.base import ServiceProvider
from overcast.services.cognitoidentity.identities import IdentityOperations
from overcast.services.cognitoidentity.pools import IdentityPoolOperations
from overcast.services.cognitoidentity.store import CognitoIdentityStore
from overcast.services.kit import jws as signing
from overcast.services.kit.arns import parse_arn

ISSUER = "https://cognito-identity.amazonaws.com"
JWKS_PATH = "/_overcast/cognito-identity/.well-known/jwks_uri"


def invalid_login(detail: str) -> ServiceError:
    return ServiceError("NotAuthorizedException", f"Invalid login token. {detail}", 400)


class CognitoIdentityProvider(ServiceProvider):
    service_name = "cognito-identity"
    families = (IdentityPoolOperations, IdentityOperations)

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = CognitoIdentityStore(self.db)
        sts.prepare(platform)
        cognito_idp.prepare(platform)
        self._keys: OrderedDict[str, tuple[str, Any]] = OrderedDict()

    # -- lookups ---------------------------------------------------------------------------------------

    def pool_for(self, ctx: RequestContext, pool_id: str) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
        """(account, region, description, roles) of the pool; any account's for a request AWS serves unsigned."""
        found = self.store.pool(pool_id)
        if found is None or (not ctx.principal.is_anonymous and found[0] != ctx.account_id):
            raise ServiceError("ResourceNotFoundException", f"IdentityPool '{pool_id}' not found.", 400)
        return found

    def identity_for(self, identity_id: str) -> dict[str, Any]:
        found = self.store.identity(identity_id)
        if found is None:
            raise ServiceError("ResourceNotFoundException", f"Identity '{identity_id}' not found.", 400)
        return found

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        if params.get("ResourceArn"):
            return params["ResourceArn"]
        if params.get("IdentityPoolId"):
            return f"arn:aws:cognito-identity:{ctx.region}:{ctx.account_id}:identitypool/{params['IdentityPoolId']}"
        return None

    def reset(self) -> None:
        self._keys.clear()  # their rows are gone with `overcast reset`

    # -- the region's signing key ----------------------------------------------------------------------

    def signing_key(self, region: str) -> tuple[str, Any]:
        """(kid, private key) signing the region's OpenID tokens; made on first use, inside a transaction
        (remembered only once read back from the store: a rolled-back request leaves no key behind)."""
        cached = self._keys.get(region)
        if cached is not None:
            return cached
        stored = self.store.key(region)
        if stored is None:
            kid, pem = signing.new_key()
            self.store.put_key(region, kid, pem)
            return kid, signing.load_key(pem)
        loaded = self._keys[region] = (stored[0], signing.load_key(stored[1]))
        return loaded

    def open_id_token(
        self, region: str, pool_id: str, identity_id: str, amr: list[str], duration: int
    ) -> str:
        now = int(self.clock.now())
        kid, key = self.signing_key(region)
        claims = {
            "sub": identity_id,
            "aud": pool_id,
            "amr": amr,
            f"{ISSUER}/identity-pool-arn": f"arn:aws:cognito-identity:{region}:{self.store.pool(pool_id)[0]}:identitypool/{pool_id}",  # type: ignore[index]
            "iss": ISSUER,
            "exp": now + duration,
            "iat": now,
        }
        return signing.sign(claims, key, kid)

    def verified_open_id_token(self, token: str) -> dict[str, Any] | None:
        """The claims of an OpenID token one of the regions' keys signed, unexpired; None otherwise."""
        try:
            kid = signing.header_of(token).get("kid")
            claims = signing.unverified_claims(token)
        except signing.InvalidToken:
            return None
        pool_id = str(claims.get("aud", ""))
        region = pool_id.split(":", 1)[0]
        stored = self.store.key(region)
        if stored is None or stored[0] != kid:
            return None
        try:
            claims = signing.verify(token, self.signing_key(region)[1])
        except signing.InvalidToken:
            return None
        return claims if float(claims.get("exp", 0)) > self.clock.now() else None

    async def internal_endpoint(self, request: HttpRequest, path: str) -> HttpResponse | None:
        if path == JWKS_PATH and request.method in ("GET", "HEAD"):
            keys = []
            for region in (
                "us-east-1",
                "us-east-2",
                "us-west-1",
                "us-west-2",
                "eu-west-1",
                "eu-central-1",
                "ap-southeast-1",
                "ap-northeast-1",
            ):
                stored = self.store.key(region)
                if stored:
                    keys.append(signing.jwk(signing.load_key(stored[1]), stored[0]))
            return json_response({"keys": keys})
        return json_response({"error": f"no internal endpoint {request.method} {request.path}"}, 404)

    # -- logins ----------------------------------------------------------------------------------------

    def login_subjects(
        self, config: dict[str, Any], logins: dict[str, str]
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """[(provider, subject, claims)] of the logins a request presents, each checked against the pool's
        providers: Cognito user pools' ID tokens are verified (signature, expiry, audience); OIDC, SAML and
        the public providers' tokens are taken as the provider's word (their keys are not Overcast's)."""
        found = []
        for name, token in logins.items():
            found.append(self._login(config, name, token))
        return found

    def _login(self, config: dict[str, Any], name: str, token: str) -> tuple[str, str, dict[str, Any]]:
        for entry in config.get("CognitoIdentityProviders") or ():
            if _pool_of(entry["ProviderName"]) == _pool_of(name):
                checked = cognito_idp.verified_token(self.platform, token, "id")
                if checked is None or checked[0] != _pool_of(name):
                    raise invalid_login("Not a valid OpenId Connect identity token.")
                claims = checked[1]
                if entry.get("ClientId") and claims.get("aud") != entry["ClientId"]:
                    raise invalid_login("Incorrect token audience.")
                return entry["ProviderName"], str(claims["sub"]), claims
        if name == "cognito-identity.amazonaws.com":
            claims = self.verified_open_id_token(token)
            if claims is None:
                raise invalid_login("Not a valid OpenId Connect identity token.")
            return name, str(claims["sub"]), claims
        oidc = {
            (parse_arn(arn).resource_id if parse_arn(arn) else arn): arn
            for arn in config.get("OpenIdConnectProviderARNs") or ()
        }
        known = set((config.get("SupportedLoginProviders") or {}).keys()) | set(
            config.get("SamlProviderARNs") or ()
        )
        if name in oidc or name in known:
            try:
                claims = signing.unverified_claims(token)
                subject = str(claims.get("sub") or hashlib.sha256(token.encode()).hexdigest())
            except signing.InvalidToken:
                claims, subject = {}, hashlib.sha256(token.encode()).hexdigest()
            return name, subject, claims
        raise ServiceError(
            "NotAuthorizedException",
            f"Invalid login token. Can't find a provider named {name} in the pool.",
            400,
        )

    @staticmethod
    def new_id(region: str) -> str:
        return f"{region}:{uuid.uuid4()}"


def _pool_of(provider_name: str) -> str:
    """The user pool id a Cognito provider name ends with (cognito-idp.<region>.amazonaws.com/<pool id>)."""
    return provider_name.rstrip("/").rsplit("/", 1)[-1].split(":", 1)[0]
