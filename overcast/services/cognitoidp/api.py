"""What other services may ask of Cognito user pools besides their AWS operations (docs/adding-a-service.md:
one road): checking a token one of Overcast's pools issued.

import overcast.services.cognitoidp.api as cognito_idp

found = cognito_idp.verified_token(platform, id_token)   # None: not a valid token of Overcast's pools
if found is not None:
    pool_id, claims = found
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from overcast.platform import Platform
    from overcast.services.cognitoidp.provider import CognitoIdpProvider


def _provider(platform: Platform) -> CognitoIdpProvider:
    return platform.provider("cognito-idp")  # type: ignore[return-value]


def prepare(platform: Platform) -> None:
    """Build the user pools' provider now (its tables are created outside any request's transaction)."""
    _provider(platform)


def verified_token(
    platform: Platform, token: str, token_use: str | None = None
) -> tuple[str, dict[str, Any]] | None:
    """(pool id, claims) of a JWT that one of Overcast's user pools signed and that has not expired on the
    virtual clock (of `token_use` "id" or "access" when given); None for anything else (another issuer, a bad
    signature, an expired token)."""
    from overcast.services.kit.jws import InvalidToken

    provider = platform.running("cognito-idp")
    if provider is None:  # not started: no pool exists (a data directory with pools starts it)
        return None
    try:
        pool, claims = provider.tokens.verified(token, token_use)  # type: ignore[attr-defined]
    except InvalidToken:
        return None
    if float(claims.get("exp", 0)) <= platform.clock.now():
        return None
    return pool.id, claims


def is_pool_issuer(platform: Platform, issuer: str) -> str | None:
    """The pool id when `issuer` (with or without its scheme) names one of Overcast's pools: Overcast's own
    `<host>/<pool id>` or AWS's `cognito-idp.<region>.amazonaws.com/<pool id>`."""
    pool_id = issuer.rstrip("/").rsplit("/", 1)[-1]
    provider: CognitoIdpProvider | None = platform.running("cognito-idp")  # type: ignore[assignment]
    if "_" not in pool_id or provider is None:
        return None
    return pool_id if provider.store.pool(pool_id) is not None else None
