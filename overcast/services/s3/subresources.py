"""Object sub-resources: tagging, ACL, retention and legal hold of one version of an object (its archive
restore is in restore.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import canonical_user_id
from overcast.services.base import Operations
from overcast.services.s3.buckets import acl_from_request
from overcast.services.s3.common import (
    access_denied,
    acls_not_supported,
    canned_acl,
    check_grantees,
    grants_are_public,
    owner_of,
    seconds,
    to_datetime,
)
from overcast.services.s3.object_rules import check_tags
from overcast.services.s3.store import Bucket, ObjectVersion

if TYPE_CHECKING:
    from overcast.services.s3.provider import S3Provider


class ObjectSubresourceOperations(Operations):
    service: S3Provider

    def _check_owners_grant(
        self, ctx: RequestContext, bucket: Bucket, version: ObjectVersion, owner: str, permission: str
    ) -> None:
        """The ACL of an object another account owns is that account's: the bucket owner's account reads or
        changes it only where the object's ACL grants it (other accounts were checked by the policy engine)."""
        account = ctx.principal.account_id
        if ctx.principal.kind == "service" or account == owner or account != bucket.account:
            return
        grants = version.meta.get("Acl") or canned_acl("private", owner)
        mine = canonical_user_id(account)
        if not any(
            (g.get("Grantee") or {}).get("ID") == mine and g.get("Permission") in (permission, "FULL_CONTROL")
            for g in grants
        ):
            raise access_denied()

    def _versioned(self, bucket: Bucket, version: ObjectVersion, result: dict[str, Any]) -> dict[str, Any]:
        if bucket.versioning:
            result["VersionId"] = version.version_id
        return result

    def put_object_tagging(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self.service.versions.addressed(ctx, params, "s3:PutObjectTagging")
        tags = check_tags(params["Tagging"].get("TagSet") or [])
        self.service.store.update_object(version.id, meta={**version.meta, "Tags": tags})
        return self._versioned(bucket, version, {})

    def get_object_tagging(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self.service.versions.addressed(ctx, params, "s3:GetObjectTagging")
        return self._versioned(bucket, version, {"TagSet": version.meta.get("Tags") or []})

    def delete_object_tagging(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self.service.versions.addressed(ctx, params, "s3:DeleteObjectTagging")
        meta = dict(version.meta)
        meta.pop("Tags", None)
        self.service.store.update_object(version.id, meta=meta)
        return self._versioned(bucket, version, {})

    def put_object_acl(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self.service.versions.addressed(ctx, params, "s3:PutObjectAcl")
        owner = version.meta.get("Owner") or bucket.account
        self._check_owners_grant(ctx, bucket, version, owner, "WRITE_ACP")
        grants = acl_from_request(params, owner, bucket.account)
        if bucket.ownership == "BucketOwnerEnforced":
            if grants not in (canned_acl("private", owner), canned_acl("bucket-owner-full-control", owner)):
                raise acls_not_supported()
            return {}
        check_grantees(grants, self.service.known_accounts(ctx.principal.account_id))
        if grants_are_public(grants) and self.service.public_access_block(bucket).get("BlockPublicAcls"):
            raise ServiceError("AccessDenied", "Access Denied", 403)
        self.service.store.update_object(version.id, meta={**version.meta, "Acl": grants})
        return {}

    def get_object_acl(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self.service.versions.addressed(ctx, params, "s3:GetObjectAcl")
        owner = version.meta.get("Owner") or bucket.account
        self._check_owners_grant(ctx, bucket, version, owner, "READ_ACP")
        grants = version.meta.get("Acl") if bucket.ownership != "BucketOwnerEnforced" else None
        return self._versioned(
            bucket,
            version,
            {"Owner": owner_of(owner), "Grants": canned_acl("private", owner) if grants is None else grants},
        )

    # -- object lock -----------------------------------------------------------------------------------

    def put_object_retention(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self.service.versions.addressed(ctx, params, "s3:PutObjectRetention")
        if not bucket.object_lock:
            raise ServiceError("InvalidRequest", "Bucket is missing Object Lock Configuration", 400)
        retention = params.get("Retention") or {}
        current = version.meta.get("Retention")
        new_until = seconds(retention["RetainUntilDate"]) if retention.get("RetainUntilDate") else 0
        if current and current["RetainUntilDate"] > self.clock.now():
            shortening = new_until < current["RetainUntilDate"] or retention.get("Mode") != current["Mode"]
            if shortening and (
                current["Mode"] == "COMPLIANCE" or not params.get("BypassGovernanceRetention")
            ):
                raise ServiceError(
                    "AccessDenied", "Access Denied because object protected by object lock.", 403
                )
            if shortening:
                self.service.versions.authorize_bypass(ctx, bucket, version.key)
        meta = dict(version.meta)
        if retention.get("Mode"):
            meta["Retention"] = {"Mode": retention["Mode"], "RetainUntilDate": new_until}
        else:
            meta.pop("Retention", None)
        self.service.store.update_object(version.id, meta=meta)
        return {}

    def get_object_retention(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self.service.versions.addressed(ctx, params, "s3:GetObjectRetention")
        if not bucket.object_lock:
            raise ServiceError("InvalidRequest", "Bucket is missing Object Lock Configuration", 400)
        retention = version.meta.get("Retention")
        if not retention:
            raise ServiceError(
                "NoSuchObjectLockConfiguration",
                "The specified object does not have a ObjectLock configuration",
                404,
            )
        return {
            "Retention": {
                "Mode": retention["Mode"],
                "RetainUntilDate": to_datetime(retention["RetainUntilDate"]),
            }
        }

    def put_object_legal_hold(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self.service.versions.addressed(ctx, params, "s3:PutObjectLegalHold")
        if not bucket.object_lock:
            raise ServiceError("InvalidRequest", "Bucket is missing Object Lock Configuration", 400)
        status = (params.get("LegalHold") or {}).get("Status", "OFF")
        self.service.store.update_object(version.id, meta={**version.meta, "LegalHold": status})
        return {}

    def get_object_legal_hold(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self.service.versions.addressed(ctx, params, "s3:GetObjectLegalHold")
        if not bucket.object_lock:
            raise ServiceError("InvalidRequest", "Bucket is missing Object Lock Configuration", 400)
        status = version.meta.get("LegalHold")
        if not status:
            raise ServiceError(
                "NoSuchObjectLockConfiguration",
                "The specified object does not have a ObjectLock configuration",
                404,
            )
        return {"LegalHold": {"Status": status}}
