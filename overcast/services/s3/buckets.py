"""Buckets: create (names, regions, ownership), delete, head, list, location, versioning, ACL, ownership."""

from __future__ import annotations

import base64
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.s3.common import (
    acls_not_supported,
    canned_acl,
    check_bucket_name,
    grants_are_public,
    header_grants,
    no_such_bucket,
    owner_of,
    to_datetime,
)
from overcast.services.s3.core import S3Core

_DEFAULT_PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


class BucketOps(S3Core):
    def create_bucket(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Bucket"]
        check_bucket_name(name)
        region = self._creation_region(ctx, params.get("CreateBucketConfiguration") or {})
        existing = self.store.bucket(name)
        if existing is not None:
            if existing.account != ctx.principal.account_id or ctx.principal.is_anonymous:
                raise ServiceError(
                    "BucketAlreadyExists",
                    "The requested bucket name is not available. The bucket "
                    "namespace is shared by all users of the system. Please select a different "
                    "name and try again.",
                    409,
                    BucketName=name,
                )
            if region != "us-east-1":
                raise ServiceError(
                    "BucketAlreadyOwnedByYou",
                    "Your previous request to create the named bucket succeeded and you already own it.",
                    409,
                    BucketName=name,
                )
            return {"Location": f"/{name}"}  # us-east-1 answers 200 to its owner, as AWS does
        if ctx.principal.is_anonymous:
            raise ServiceError("AccessDenied", "Anonymous users cannot create buckets", 403)
        ownership = params.get("ObjectOwnership") or "BucketOwnerEnforced"
        acl = self._creation_acl(ctx, params, ownership)
        self.store.create_bucket(
            name,
            ctx.principal.account_id,
            region,
            self.clock.now(),
            ownership,
            acl,
            bool(params.get("ObjectLockEnabledForBucket")),
        )
        bucket = self.store.bucket(name)
        assert bucket is not None
        self.store.put_config(bucket.id, "public_access_block", _DEFAULT_PUBLIC_ACCESS_BLOCK)
        self.store.put_config(bucket.id, "encryption", _SSE_S3_DEFAULT)
        if params.get("ObjectLockEnabledForBucket"):
            self.store.put_config(bucket.id, "object_lock", {"ObjectLockEnabled": "Enabled"})
        return {"Location": f"/{name}"}

    def _creation_region(self, ctx: RequestContext, configuration: dict[str, Any]) -> str:
        constraint = configuration.get("LocationConstraint")
        if constraint == "us-east-1":
            raise ServiceError(
                "InvalidLocationConstraint",
                "The specified location-constraint is not valid",
                400,
                LocationConstraint=constraint,
            )
        if constraint in ("EU",):
            constraint = "eu-west-1"
        if constraint is None:
            if ctx.region != "us-east-1":
                raise ServiceError(
                    "IllegalLocationConstraintException",
                    "The unspecified location constraint is "
                    "incompatible for the region specific endpoint this request was sent to.",
                    400,
                )
            return "us-east-1"
        if constraint != ctx.region and ctx.region != "us-east-1":
            raise ServiceError(
                "IllegalLocationConstraintException",
                f"The {constraint} location constraint is "
                "incompatible for the region specific endpoint this request was sent to.",
                400,
            )
        return constraint

    def _creation_acl(self, ctx: RequestContext, params: dict[str, Any], ownership: str) -> list | None:
        grants = header_grants(params)
        acl = params.get("ACL")
        if ownership == "BucketOwnerEnforced" and (grants or acl not in (None, "private")):
            raise ServiceError(
                "InvalidBucketAclWithObjectOwnership",
                "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
                400,
            )
        if grants is not None:
            return grants
        return canned_acl(acl or "private", ctx.principal.account_id)

    def delete_bucket(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.owner_only(ctx, params["Bucket"])
        if self.store.has_objects(bucket.id):
            raise ServiceError(
                "BucketNotEmpty", "The bucket you tried to delete is not empty", 409, BucketName=bucket.name
            )
        for blob_id in self.store.delete_bucket(bucket.id):
            self.platform.blobs.delete(blob_id)
        return {}

    def head_bucket(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.store.bucket(params["Bucket"])
        if bucket is None:
            raise ServiceError("NotFound", "Not Found", 404)
        self.authorize(ctx, bucket, "s3:ListBucket")
        return {"BucketRegion": bucket.region, "AccessPointAlias": False}

    def list_buckets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if ctx.principal.is_anonymous:
            raise ServiceError("AccessDenied", "Access Denied", 403)
        limit = params.get("MaxBuckets") or 10_000
        after = _decode_token(params.get("ContinuationToken"))
        prefix = params.get("Prefix") or ""
        region = params.get("BucketRegion")
        rows = self.store.buckets_of(ctx.principal.account_id, after, prefix, limit + 1)
        if region:
            rows = [b for b in rows if b.region == region]
        result: dict[str, Any] = {
            "Buckets": [
                {"Name": b.name, "CreationDate": to_datetime(b.created), "BucketRegion": b.region}
                for b in rows[:limit]
            ],
            "Owner": owner_of(ctx.principal.account_id),
        }
        if prefix:
            result["Prefix"] = prefix
        if len(rows) > limit:
            result["ContinuationToken"] = base64.urlsafe_b64encode(rows[limit - 1].name.encode()).decode()
        return result

    def get_bucket_location(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.owner_only(ctx, params["Bucket"])
        return {"LocationConstraint": None if bucket.region == "us-east-1" else bucket.region}

    # -- versioning ------------------------------------------------------------------------------

    def put_bucket_versioning(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.owner_only(ctx, params["Bucket"])
        configuration = params.get("VersioningConfiguration") or {}
        status = configuration.get("Status")
        if status not in ("Enabled", "Suspended"):
            raise ServiceError(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
                400,
            )
        if status == "Suspended" and bucket.object_lock:
            raise ServiceError(
                "InvalidBucketState",
                "An Object Lock configuration is present on this bucket, "
                "so the versioning state cannot be changed.",
                409,
            )
        columns: dict[str, Any] = {"versioning": status}
        mfa_delete = configuration.get("MFADelete")
        if mfa_delete:
            if not params.get("MFA"):
                raise ServiceError("AccessDenied", "Mfa Authentication must be used for this request", 403)
            columns["mfa_delete"] = mfa_delete
        self.store.update_bucket(bucket.id, **columns)
        return {}

    def get_bucket_versioning(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.owner_only(ctx, params["Bucket"])
        result: dict[str, Any] = {}
        if bucket.versioning:
            result["Status"] = bucket.versioning
        if bucket.mfa_delete:
            result["MFADelete"] = bucket.mfa_delete
        return result

    # -- ownership controls and bucket ACLs -------------------------------------------------------

    def put_bucket_ownership_controls(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.owner_only(ctx, params["Bucket"])
        rules = params["OwnershipControls"].get("Rules") or []
        if len(rules) != 1:
            raise ServiceError(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
                400,
            )
        ownership = rules[0]["ObjectOwnership"]
        if ownership == "BucketOwnerEnforced":
            self.store.update_bucket(bucket.id, ownership=ownership, acl=None)
        else:
            self.store.update_bucket(bucket.id, ownership=ownership)
        return {}

    def get_bucket_ownership_controls(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.owner_only(ctx, params["Bucket"])
        if not bucket.ownership:
            raise ServiceError(
                "OwnershipControlsNotFoundError",
                "The bucket ownership controls were not found",
                404,
                BucketName=bucket.name,
            )
        return {"OwnershipControls": {"Rules": [{"ObjectOwnership": bucket.ownership}]}}

    def delete_bucket_ownership_controls(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.owner_only(ctx, params["Bucket"])
        self.store.update_bucket(bucket.id, ownership=None)
        return {}

    def put_bucket_acl(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.owner_only(ctx, params["Bucket"])
        grants = acl_from_request(params, bucket.account)
        if bucket.ownership == "BucketOwnerEnforced" and grants != canned_acl("private", bucket.account):
            raise acls_not_supported()
        if grants_are_public(grants) and self.public_access_block(bucket).get("BlockPublicAcls"):
            raise ServiceError("AccessDenied", "Access Denied", 403)
        self.store.update_bucket(bucket.id, acl=_json(grants))
        return {}

    def get_bucket_acl(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.owner_only(ctx, params["Bucket"])
        grants = bucket.grants if bucket.ownership != "BucketOwnerEnforced" else []
        return {"Owner": owner_of(bucket.account), "Grants": grants or canned_acl("private", bucket.account)}


_SSE_S3_DEFAULT = {
    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]
}


def acl_from_request(
    params: dict[str, Any], owner: str, bucket_owner: str | None = None
) -> list[dict[str, Any]]:
    """The grants a Put*Acl request sets: a canned ACL, grant headers, or an AccessControlPolicy document."""
    grants = header_grants(params)
    if grants is not None:
        return grants
    policy = params.get("AccessControlPolicy")
    if policy is not None and params.get("ACL") is None:
        return [
            {
                "Grantee": {k: v for k, v in g.get("Grantee", {}).items() if v is not None},
                "Permission": g.get("Permission"),
            }
            for g in policy.get("Grants") or []
        ]
    return canned_acl(params.get("ACL") or "private", owner, bucket_owner)


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def _decode_token(token: str | None) -> str:
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise ServiceError("InvalidArgument", "The continuation token provided is incorrect", 400) from exc


__all__ = ["BucketOps", "acl_from_request", "no_such_bucket"]
