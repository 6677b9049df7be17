"""The part of the S3 provider every operation family builds on: the store, bucket lookup and access."""

from __future__ import annotations

from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import ServiceProvider
from overcast.services.s3.common import (
    PUBLIC_GROUPS,
    access_denied,
    acl_allows,
    bucket_arn,
    grants_are_public,
    no_such_bucket,
    policy_decision,
    policy_is_public,
)
from overcast.services.s3.encryption import Keyring
from overcast.services.s3.store import Bucket, S3Store

# The ACL permission that stands for an action when a bucket still honours ACLs.
_ACL_PERMISSION = {
    "s3:GetObject": "READ",
    "s3:ListBucket": "READ",
    "s3:PutObject": "WRITE",
    "s3:DeleteObject": "WRITE",
    "s3:GetObjectVersion": "READ",
}


class S3Core(ServiceProvider):
    service_name = "s3"

    def __init__(self, platform: Any) -> None:
        super().__init__(platform)
        self.store = S3Store(self.db)
        self.keys = Keyring(self.store.server_key(self.clock.now()))

    def bucket_for(
        self,
        ctx: RequestContext,
        name: str,
        action: str,
        key: str | None = None,
        object_grants: list[dict[str, Any]] | None = None,
    ) -> Bucket:
        """The bucket `name`, if it exists and `ctx.principal` may perform `action` on it (or on `key`)."""
        bucket = self.store.bucket(name)
        if bucket is None:
            raise no_such_bucket(name)
        self.authorize(ctx, bucket, action, key, object_grants)
        expected = ctx.request.headers.get("x-amz-expected-bucket-owner") if ctx.request else None
        if expected and expected != bucket.account:
            raise access_denied()
        return bucket

    def authorize(
        self,
        ctx: RequestContext,
        bucket: Bucket,
        action: str,
        key: str | None = None,
        object_grants: list[dict[str, Any]] | None = None,
    ) -> None:
        """Owners may do anything here (IAM evaluates their policies); others need the policy or an ACL."""
        principal = ctx.principal
        if principal.kind == "service" or (
            not principal.is_anonymous and principal.account_id == bucket.account
        ):
            return
        policy = self.store.config(bucket.id, "policy")
        decision = policy_decision(policy, principal, action, bucket_arn(bucket, key))
        if decision == "Deny":
            raise access_denied()
        if decision == "Allow":
            # RestrictPublicBuckets: a public policy admits no one outside the owner's account
            if policy_is_public(policy) and self.public_access_block(bucket).get("RestrictPublicBuckets"):
                raise access_denied()
            return
        if bucket.ownership != "BucketOwnerEnforced":
            permission = _ACL_PERMISSION.get(action)
            grants = object_grants if key is not None and object_grants is not None else bucket.grants
            if (
                permission
                and grants_are_public(grants)
                and self.public_access_block(bucket).get("IgnorePublicAcls")
            ):
                grants = [g for g in grants if g.get("Grantee", {}).get("URI") not in PUBLIC_GROUPS]
            if permission and acl_allows(grants, principal, permission):
                return
        raise access_denied()

    def owner_only(self, ctx: RequestContext, name: str) -> Bucket:
        """A bucket-configuration operation: the bucket owner's (or whom the policy allows)."""
        return self.bucket_for(ctx, name, "s3:" + ctx.operation)

    def public_access_block(self, bucket: Bucket) -> dict[str, bool]:
        """The effective Block Public Access settings: bucket and account level combined."""
        settings: dict[str, bool] = {}
        for source in (
            self.store.config(bucket.id, "public_access_block"),
            self.store.account_setting(bucket.account, "public_access_block"),
        ):
            for name, value in (source or {}).items():
                settings[name] = settings.get(name, False) or bool(value)
        return settings


def bad_request(code: str, message: str, status: int = 400, **fields: Any) -> ServiceError:
    return ServiceError(code, message, status, **fields)
