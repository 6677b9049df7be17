"""IAM users' access keys (AKIA...): at most two per user; the authorizer records their last use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.iam.errors import limit_exceeded
from overcast.services.iam.keys import new_access_key_id, new_secret
from overcast.services.iam.store import Entity

if TYPE_CHECKING:
    from overcast.services.iam.provider import IamProvider

ACCESS_KEYS_PER_USER = 2


def access_key_shape(row: tuple, user: Entity, *, secret: bool = False) -> dict[str, Any]:
    shape = {"UserName": user.name, "AccessKeyId": row[0], "Status": row[4], "CreateDate": row[5]}
    if secret:
        shape["SecretAccessKey"] = row[3]
    return shape


class AccessKeyOperations(Operations):
    service: IamProvider

    def create_access_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        user = self.service.caller_user(ctx, params)
        if len(store.access_keys_of(ctx.account_id, user.key)) >= ACCESS_KEYS_PER_USER:
            raise limit_exceeded(f"Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}")
        key_id, secret = new_access_key_id(), new_secret()
        store.add_access_key(key_id, ctx.account_id, user.key, secret, self.clock.now())
        return {"AccessKey": access_key_shape(store.access_key(key_id), user, secret=True)}

    def list_access_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("UserName") and ctx.principal.kind == "root":
            return {"AccessKeyMetadata": [], "IsTruncated": False}
        user = self.service.caller_user(ctx, params)
        rows = self.service.store.access_keys_of(ctx.account_id, user.key)
        return {"AccessKeyMetadata": [access_key_shape(r, user) for r in rows], "IsTruncated": False}

    def update_access_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.store.set_access_key_status(self._own_key(ctx, params)[0], params["Status"])
        return {}

    def delete_access_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.store.delete_access_key(self._own_key(ctx, params)[0])
        return {}

    def get_access_key_last_used(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        row = store.access_key(params["AccessKeyId"])
        if row is None or row[1] != ctx.account_id:
            raise ServiceError("AccessDenied", "The access key is not in your account.", 403)
        user = store.get(ctx.account_id, "user", row[2])
        last_used: dict[str, Any] = {"ServiceName": row[7] or "N/A", "Region": row[8] or "N/A"}
        if row[6]:
            last_used["LastUsedDate"] = row[6]
        return {"UserName": user.name if user else row[2], "AccessKeyLastUsed": last_used}

    def _own_key(self, ctx: RequestContext, params: dict[str, Any]) -> tuple:
        """The row of the access key the request names, which must be the user's."""
        user = self.service.caller_user(ctx, params)
        row = self.service.store.access_key(params["AccessKeyId"])
        if row is None or row[1] != ctx.account_id or row[2] != user.key:
            raise ServiceError(
                "NoSuchEntity", f"The Access Key with id {params['AccessKeyId']} cannot be found.", 404
            )
        return row
