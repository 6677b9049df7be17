"""Who a caller is: GetCallerIdentity, GetAccessKeyInfo, DecodeAuthorizationMessage."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.sts.provider import StsProvider


def account_of_key(access_key_id: str) -> str | None:
    """The account AWS encodes in an access key id (AKIA/ASIA followed by base32)."""
    try:
        decoded = base64.b32decode(access_key_id[4:] + "=" * (-len(access_key_id[4:]) % 8))
    except ValueError:
        return None
    number = int.from_bytes(decoded[:6], "big")
    return f"{(number & 0x7FFFFFFFFF80) >> 7:012d}"


class IdentityOperations(Operations):
    service: StsProvider

    def get_caller_identity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        principal = ctx.principal
        return {"UserId": principal.user_id, "Account": principal.account_id, "Arn": principal.arn}

    def get_access_key_info(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = params["AccessKeyId"]
        found = self.platform.credentials.lookup(key)
        if found is not None:
            return {"Account": found.principal.account_id}
        account = account_of_key(key) if key.startswith(("AKIA", "ASIA")) else None
        return {"Account": account or self.platform.config.default_account}

    def decode_authorization_message(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        try:
            decoded = base64.b64decode(params["EncodedMessage"], validate=True).decode()
            json.loads(decoded)
        except ValueError:
            raise ServiceError(
                "InvalidAuthorizationMessageException", "The specified authorization message is invalid.", 400
            ) from None
        return {"DecodedMessage": decoded}
