"""What other services may ask of identity pools besides their AWS operations: checking an OpenID token
that GetOpenIdToken issued (STS does, for AssumeRoleWithWebIdentity's basic flow).

import overcast.services.cognitoidentity.api as cognito_identity

claims = cognito_identity.verified_open_id_token(platform, token)   # None: not one of ours, or expired
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from overcast.platform import Platform
    from overcast.services.cognitoidentity.provider import CognitoIdentityProvider

ISSUER = "cognito-identity.amazonaws.com"


def verified_open_id_token(platform: Platform, token: str) -> dict[str, Any] | None:
    """The claims of an identity pool's OpenID token with a valid signature, unexpired on the virtual clock."""
    provider: CognitoIdentityProvider | None = platform.running("cognito-identity")  # type: ignore[assignment]
    return provider.verified_open_id_token(token) if provider is not None else None
