"""Buckets: create (names, regions, ownership, tags), delete, head, list, location, versioning, ACL,
ownership, tagging."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import page_of
from overcast.services.kit.tags import TagRules, tag_dict, tag_list
from overcast.services.s3.common import (
    SSE_S3_DEFAULT,
    acl_from_request,
    acls_not_supported,
    bucket_arn,
    canned_acl,
    check_bucket_name,
    check_grantees,
    grants_are_public,
    header_grants,
    owner_of,
    resume_after,
    to_datetime,
)
from overcast.services.s3.object_rules import check_tags
from overcast.services.s3.store import Bucket

if TYPE_CHECKING:
    from overcast.services.s3.provider import S3Provider

_DEFAULT_PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
MAX_BUCKET_TAGS = 50
# What the kit checks again when it stores a bucket's tags: S3's limits, which `check_tags` has already
# enforced with S3's own error codes (InvalidTag, BadRequest), duplicate keys included.
BUCKET_TAGS = TagRules(
    max_tags=MAX_BUCKET_TAGS,
    reserved_prefix=None,  # check_tags refuses "aws:" keys with S3's wording
    too_many=lambda limit: ServiceError("BadRequest", f"Object tags cannot be greater than {limit}", 400),
    invalid=lambda key: ServiceError(
        "InvalidTag", "The TagKey you have provided is invalid", 400, TagKey=key
    ),
)


def _grants_others(bucket: Bucket) -> bool:
    """Whether the bucket's ACL grants anything to anyone but its owner."""
    owner = canned_acl("private", bucket.account)[0]["Grantee"].get("ID")
    return any((g.get("Grantee") or {}).get("ID") != owner for g in bucket.grants)


@cache
def _regions() -> frozenset[str]:
    """The location constraints S3 knows: the regions of botocore's partitions, and EU."""
    import botocore.session

    session = botocore.session.get_session()
    regions = {"EU"}
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("s3", partition))
    return frozenset(regions)


def _bad_token() -> ServiceError:
    return ServiceError("InvalidArgument", "The continuation token provided is incorrect", 400)


class BucketOperations(Operations):
    service: S3Provider

    def create_bucket(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Bucket"]
        check_bucket_name(name)
        region = self._creation_region(ctx, params.get("CreateBucketConfiguration") or {})
        existing = self.service.store.bucket(name)
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
            # us-east-1 answers 200 to its owner, as AWS does
            return {"Location": f"/{name}", "BucketArn": bucket_arn(existing)}
        if ctx.principal.is_anonymous:
            raise ServiceError("AccessDenied", "Access Denied", 403)  # never anonymously; no context (AWS)
        self.service.authorize_settings(ctx, name, params)
        tags = check_tags((params.get("CreateBucketConfiguration") or {}).get("Tags") or [], MAX_BUCKET_TAGS)
        ownership = params.get("ObjectOwnership") or "BucketOwnerEnforced"
        acl = self._creation_acl(ctx, params, ownership)
        self.service.store.create_bucket(
            name,
            ctx.principal.account_id,
            region,
            self.clock.now(),
            ownership,
            acl,
            bool(params.get("ObjectLockEnabledForBucket")),
        )
        bucket = self.service.store.bucket(name)
        assert bucket is not None
        self.service.store.put_config(bucket.id, "public_access_block", _DEFAULT_PUBLIC_ACCESS_BLOCK)
        self.service.store.put_config(bucket.id, "encryption", SSE_S3_DEFAULT)
        if params.get("ObjectLockEnabledForBucket"):
            self.service.store.put_config(bucket.id, "object_lock", {"ObjectLockEnabled": "Enabled"})
        if tags:
            self._set_tags(bucket, tags)
        if (params.get("CreateBucketConfiguration") or {}).get("LocationConstraint") == "EU":
            self.service.store.put_config(bucket.id, "location_constraint", "EU")  # answered as given
        return {"Location": f"/{name}", "BucketArn": bucket_arn(bucket)}

    def _creation_region(self, ctx: RequestContext, configuration: dict[str, Any]) -> str:
        """The new bucket's region: its LocationConstraint (EU: eu-west-1), which must be a region S3 knows
        and, outside us-east-1's endpoint, the endpoint's own."""
        constraint = configuration.get("LocationConstraint")
        if constraint is not None and (constraint == "us-east-1" or constraint not in _regions()):
            raise ServiceError(
                "InvalidLocationConstraint",
                "The specified location-constraint is not valid",
                400,
                LocationConstraint=constraint,
            )
        region = "eu-west-1" if constraint == "EU" else constraint
        if region is None:
            if ctx.region != "us-east-1":
                raise ServiceError(
                    "IllegalLocationConstraintException",
                    "The unspecified location constraint is "
                    "incompatible for the region specific endpoint this request was sent to.",
                    400,
                )
            return "us-east-1"
        if region != ctx.region and ctx.region != "us-east-1":
            raise ServiceError(
                "IllegalLocationConstraintException",
                f"The {constraint} location constraint is "
                "incompatible for the region specific endpoint this request was sent to.",
                400,
            )
        return region

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
            check_grantees(grants, self.service.known_accounts(ctx.principal.account_id))
            return grants
        return canned_acl(acl or "private", ctx.principal.account_id)

    def delete_bucket(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.service.owner_only(ctx, params["Bucket"])
        if self.service.store.has_objects(bucket.id):
            raise ServiceError(
                "BucketNotEmpty", "The bucket you tried to delete is not empty", 409, BucketName=bucket.name
            )
        for blob_id in self.service.store.delete_bucket(bucket.id):
            self.platform.blobs.delete(blob_id)
        self.service.tags.forget(bucket_arn(bucket))
        return {}

    def head_bucket(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.service.store.bucket(params["Bucket"])
        if bucket is None:
            raise ServiceError("NotFound", "Not Found", 404)
        self.service.authorize(ctx, bucket, "s3:ListBucket")
        return {"BucketArn": bucket_arn(bucket), "BucketRegion": bucket.region, "AccessPointAlias": False}

    def list_buckets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if ctx.principal.is_anonymous:
            raise ServiceError("AccessDenied", "Access Denied", 403)
        limit = params.get("MaxBuckets") or 10_000
        after = resume_after(params.get("ContinuationToken"), "ListBuckets", _bad_token) or ""
        prefix = params.get("Prefix") or ""
        region = params.get("BucketRegion")
        rows = self.service.store.buckets_of(ctx.principal.account_id, after, prefix, limit + 1)
        if region:
            rows = [b for b in rows if b.region == region]
        page, token = page_of(rows, limit, lambda b: b.name, "ListBuckets")
        result: dict[str, Any] = {
            "Buckets": [
                {"Name": b.name, "CreationDate": to_datetime(b.created), "BucketRegion": b.region}
                for b in page
            ],
            "Owner": owner_of(ctx.principal.account_id),
        }
        if prefix:
            result["Prefix"] = prefix
        if token:
            result["ContinuationToken"] = token
        return result

    def get_bucket_location(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.service.owner_only(ctx, params["Bucket"])
        given = self.service.store.config(bucket.id, "location_constraint")
        return {"LocationConstraint": given or (None if bucket.region == "us-east-1" else bucket.region)}

    # -- versioning ------------------------------------------------------------------------------

    def put_bucket_versioning(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.service.owner_only(ctx, params["Bucket"])
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
            # changing MFA delete needs the device's code; saying "Disabled" of a bucket that never had it
            # changes nothing
            if not params.get("MFA") and (mfa_delete == "Enabled" or bucket.mfa_delete == "Enabled"):
                raise ServiceError("AccessDenied", "Mfa Authentication must be used for this request", 403)
            columns["mfa_delete"] = mfa_delete
        self.service.store.update_bucket(bucket.id, **columns)
        return {}

    def get_bucket_versioning(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.service.owner_only(ctx, params["Bucket"])
        result: dict[str, Any] = {}
        if bucket.versioning:
            result["Status"] = bucket.versioning
        if bucket.mfa_delete:
            result["MFADelete"] = bucket.mfa_delete
        return result

    # -- ownership controls and bucket ACLs -------------------------------------------------------

    def put_bucket_ownership_controls(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.service.owner_only(ctx, params["Bucket"])
        rules = params["OwnershipControls"].get("Rules") or []
        if len(rules) != 1:
            raise ServiceError(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
                400,
            )
        ownership = rules[0]["ObjectOwnership"]
        if ownership == "BucketOwnerEnforced" and _grants_others(bucket):
            raise ServiceError(
                "InvalidBucketAclWithObjectOwnership",
                "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
                400,
            )
        if ownership == "BucketOwnerEnforced":
            self.service.store.update_bucket(bucket.id, ownership=ownership, acl=None)
        else:
            self.service.store.update_bucket(bucket.id, ownership=ownership)
        return {}

    def get_bucket_ownership_controls(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.service.owner_only(ctx, params["Bucket"])
        if not bucket.ownership:
            raise ServiceError(
                "OwnershipControlsNotFoundError",
                "The bucket ownership controls were not found",
                404,
                BucketName=bucket.name,
            )
        return {"OwnershipControls": {"Rules": [{"ObjectOwnership": bucket.ownership}]}}

    def delete_bucket_ownership_controls(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.service.owner_only(ctx, params["Bucket"])
        self.service.store.update_bucket(bucket.id, ownership=None)
        return {}

    def put_bucket_acl(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.service.owner_only(ctx, params["Bucket"])
        grants = acl_from_request(params, bucket.account)
        if bucket.ownership == "BucketOwnerEnforced" and grants != canned_acl("private", bucket.account):
            raise acls_not_supported()
        check_grantees(grants, self.service.known_accounts(ctx.principal.account_id))
        if grants_are_public(grants) and self.service.public_access_block(bucket).get("BlockPublicAcls"):
            raise ServiceError("AccessDenied", "Access Denied", 403)
        self.service.store.update_bucket(bucket.id, acl=json.dumps(grants))
        return {}

    def get_bucket_acl(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.service.owner_only(ctx, params["Bucket"])
        grants = bucket.grants if bucket.ownership != "BucketOwnerEnforced" else []
        if bucket.acl is None or bucket.ownership == "BucketOwnerEnforced":
            grants = canned_acl("private", bucket.account)
        return {"Owner": owner_of(bucket.account), "Grants": grants}

    # -- tagging (kept by the kit, where the Resource Groups Tagging API sees it) -------------------

    def put_bucket_tagging(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Replaces the whole tag set (an empty one removes every tag)."""
        bucket = self.service.owner_only(ctx, params["Bucket"])
        self._set_tags(bucket, check_tags(params["Tagging"].get("TagSet") or [], MAX_BUCKET_TAGS))
        return {}

    def get_bucket_tagging(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.service.owner_only(ctx, params["Bucket"])
        tags = self.service.tags.get(bucket_arn(bucket))
        if not tags:
            raise ServiceError("NoSuchTagSet", "The TagSet does not exist", 404, BucketName=bucket.name)
        return {"TagSet": tag_list(tags)}

    def delete_bucket_tagging(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.service.owner_only(ctx, params["Bucket"])
        self.service.tags.forget(bucket_arn(bucket))
        return {}

    def _set_tags(self, bucket: Bucket, tags: list[dict[str, str]]) -> None:
        """`tags` (checked: S3's own wording) as the bucket's whole tag set."""
        self.service.tags.replace(
            bucket_arn(bucket), tag_dict(tags), BUCKET_TAGS, account=bucket.account, region=bucket.region
        )
