"""S3: buckets, objects, listing, multipart uploads, versioning, ACLs, configurations, lifecycle, restore.

The operations live in one module per family (buckets, objects, listing, multipart, configs); this class
puts them together and adds the per-object sub-resources (tagging, ACL, restore, retention, legal hold) and
the lifecycle worker.
"""

from __future__ import annotations

import asyncio
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.http import HttpRequest, HttpResponse
from overcast.routing.router import parse_host
from overcast.services.base import HttpRoute
from overcast.services.s3 import lifecycle
from overcast.services.s3 import restore as restores
from overcast.services.s3.buckets import BucketOps, acl_from_request
from overcast.services.s3.common import (
    ARCHIVED_CLASSES,
    acls_not_supported,
    canned_acl,
    grants_are_public,
    no_such_key,
    owner_of,
    seconds,
    to_datetime,
)
from overcast.services.s3.configs import ConfigOps
from overcast.services.s3.cors import CorsOps, bucket_of
from overcast.services.s3.lifecycle import DAY
from overcast.services.s3.listing import ListingOps
from overcast.services.s3.multipart import MultipartOps
from overcast.services.s3.notifications import NotificationOps
from overcast.services.s3.post import PostOps
from overcast.services.s3.select import SelectOps
from overcast.services.s3.store import Bucket, ObjectVersion
from overcast.services.s3.website import WebsiteOps, website_bucket

# Restore delays per storage class and retrieval tier, in seconds (AWS's published upper bounds).
RESTORE_DELAYS = {
    "GLACIER": {"Expedited": 5 * 60, "Standard": 5 * 3600, "Bulk": 12 * 3600},
    "DEEP_ARCHIVE": {"Standard": 12 * 3600, "Bulk": 48 * 3600},
}


class S3Provider(
    MultipartOps,
    PostOps,
    ListingOps,
    BucketOps,
    ConfigOps,
    NotificationOps,
    WebsiteOps,
    CorsOps,
    SelectOps,
):
    service_name = "s3"
    # Browsers and website visitors reach S3 without naming an operation: unsigned CORS preflights, HTML form
    # POST uploads, and GETs of the website endpoint.
    routes = (
        HttpRoute("serve_website", "WebsiteGet", host=".s3-website"),
        HttpRoute(
            "serve_preflight",
            "Preflight",
            path="/",
            methods=frozenset({"OPTIONS"}),
            when=lambda request: "origin" in request.headers,
            read_body=False,
        ),
        HttpRoute(
            "serve_form_post",
            "PostObject",
            path="/",
            methods=frozenset({"POST"}),
            when=lambda request: (request.headers.get("content-type") or "").startswith(
                "multipart/form-data"
            ),
        ),
    )
    iam_actions = {
        "ListObjects": "ListBucket",
        "HeadObject": "GetObject",
        "HeadBucket": "ListBucket",
        "DeleteObjects": "DeleteObject",
        "CreateMultipartUpload": "PutObject",
        "UploadPart": "PutObject",
        "UploadPartCopy": "PutObject",
        "CompleteMultipartUpload": "PutObject",
        "CopyObject": "PutObject",
        "SelectObjectContent": "GetObject",
        "GetObjectAttributes": "GetObject",
        "PutBucketNotificationConfiguration": "PutBucketNotification",
        "GetBucketNotificationConfiguration": "GetBucketNotification",
        "DeleteBucketLifecycle": "PutLifecycleConfiguration",
        "DeleteBucketEncryption": "PutEncryptionConfiguration",
        "DeleteBucketCors": "PutBucketCORS",
        "DeleteBucketTagging": "PutBucketTagging",
    }

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The bucket, or the object a request names (listings act on the bucket)."""
        bucket = params.get("Bucket")
        if not bucket:
            return None
        key = params.get("Key")
        if key is not None and ctx.operation not in ("ListObjects", "ListObjectsV2"):
            return f"arn:aws:s3:::{bucket}/{key}"
        return f"arn:aws:s3:::{bucket}"

    def __init__(self, platform: Any) -> None:
        super().__init__(platform)
        self._restores_changed = asyncio.Event()  # a restore started: the completion worker looks again

    # -- declared HTTP routes ------------------------------------------------------------------------------

    def _browser_bucket(self, request: HttpRequest) -> str | None:
        """The bucket an unsigned browser request addresses: by an S3 host name, or by its first path segment
        naming an existing bucket."""
        host = parse_host(request.host)
        name = bucket_of(request)
        if host.service not in (None, "s3") or not name:
            return None
        return name if host.service == "s3" or self.store.bucket(name) is not None else None

    async def serve_website(self, request: HttpRequest) -> HttpResponse | None:
        return await self.website(request) if website_bucket(request.host) else None

    async def serve_preflight(self, request: HttpRequest) -> HttpResponse | None:
        return self.preflight(request) if self._browser_bucket(request) else None

    async def serve_form_post(self, request: HttpRequest) -> HttpResponse | None:
        name = self._browser_bucket(request)
        if name is None or request.path.strip("/") not in ("", name):  # a form POST goes to the bucket itself
            return None
        response = await self.post_object(request)
        response.headers.extend(self.response_headers(request))
        return response

    def cors_headers(self, request: HttpRequest) -> list[tuple[str, str]]:
        """By the bucket's CORS rules."""
        return self.response_headers(request)

    async def start(self) -> None:
        self.platform.spawn(lifecycle.run(self))
        self.platform.spawn(restores.run(self, self._restores_changed))

    def reset(self) -> None:
        self.store.forget_configs()
        # Every object is gone, but a body being received under the key is written with it: keep the key.
        self.store.save_server_key(self.keys.server_key, self.clock.now())

    def delete_bucket_encryption(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Deleting the configuration returns the bucket to the default, SSE-S3."""
        bucket = self.owner_only(ctx, params["Bucket"])
        self.store.put_config(
            bucket.id,
            "encryption",
            {
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                        "BucketKeyEnabled": False,
                    }
                ]
            },
        )
        return {}

    # -- object sub-resources -----------------------------------------------------------------------

    def _object(
        self, ctx: RequestContext, params: dict[str, Any], action: str
    ) -> tuple[Bucket, ObjectVersion]:
        bucket = self.bucket_for(ctx, params["Bucket"], action, params["Key"])
        version = self.lookup_version(bucket, params["Key"], params.get("VersionId"))
        if version is None or (version.delete_marker and not params.get("VersionId")):
            if params.get("VersionId"):
                raise ServiceError(
                    "NoSuchVersion",
                    "The specified version does not exist.",
                    404,
                    Key=params["Key"],
                    VersionId=params["VersionId"],
                )
            raise no_such_key(params["Key"])
        if version.delete_marker:
            raise ServiceError(
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
                405,
                headers={"x-amz-delete-marker": "true"},
            )
        return bucket, version

    def _versioned(self, bucket: Bucket, version: ObjectVersion, result: dict[str, Any]) -> dict[str, Any]:
        if bucket.versioning:
            result["VersionId"] = version.version_id
        return result

    def put_object_tagging(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        from overcast.services.s3.objects import check_tags

        bucket, version = self._object(ctx, params, "s3:PutObjectTagging")
        tags = check_tags(params["Tagging"].get("TagSet") or [])
        self.store.update_object(version.id, meta={**version.meta, "Tags": tags})
        return self._versioned(bucket, version, {})

    def get_object_tagging(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self._object(ctx, params, "s3:GetObjectTagging")
        return self._versioned(bucket, version, {"TagSet": version.meta.get("Tags") or []})

    def delete_object_tagging(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self._object(ctx, params, "s3:DeleteObjectTagging")
        meta = dict(version.meta)
        meta.pop("Tags", None)
        self.store.update_object(version.id, meta=meta)
        return self._versioned(bucket, version, {})

    def put_object_acl(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self._object(ctx, params, "s3:PutObjectAcl")
        owner = version.meta.get("Owner") or bucket.account
        grants = acl_from_request(params, owner, bucket.account)
        if bucket.ownership == "BucketOwnerEnforced":
            if grants not in (canned_acl("private", owner), canned_acl("bucket-owner-full-control", owner)):
                raise acls_not_supported()
            return {}
        if grants_are_public(grants) and self.public_access_block(bucket).get("BlockPublicAcls"):
            raise ServiceError("AccessDenied", "Access Denied", 403)
        self.store.update_object(version.id, meta={**version.meta, "Acl": grants})
        return {}

    def get_object_acl(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self._object(ctx, params, "s3:GetObjectAcl")
        owner = version.meta.get("Owner") or bucket.account
        grants = version.meta.get("Acl") if bucket.ownership != "BucketOwnerEnforced" else None
        return self._versioned(
            bucket, version, {"Owner": owner_of(owner), "Grants": grants or canned_acl("private", owner)}
        )

    # -- archive restore -----------------------------------------------------------------------------

    def restore_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self._object(ctx, params, "s3:RestoreObject")
        if version.storage_class not in ARCHIVED_CLASSES:
            raise ServiceError(
                "InvalidObjectState",
                "Restore is not allowed for the object's current storage class",
                403,
                StorageClass=version.storage_class,
            )
        request = params.get("RestoreRequest") or {}
        days = request.get("Days")
        if not days:
            raise ServiceError(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
                400,
            )
        tier = (request.get("GlacierJobParameters") or {}).get("Tier") or request.get("Tier") or "Standard"
        delay = RESTORE_DELAYS[version.storage_class].get(tier)
        if delay is None:
            raise ServiceError(
                "InvalidArgument",
                f"{tier} retrieval is not supported for the {version.storage_class} storage class",
                400,
            )
        now = self.clock.now()
        restore = version.meta.get("Restore")
        if restore and now < restore["ready_at"]:
            raise ServiceError("RestoreAlreadyInProgress", "Object restore is already in progress", 409)
        # The copy lasts `Days` from when it is ready, to the next midnight UTC (as AWS counts)
        if restore and now < restore["expires_at"]:
            restore = {**restore, "expires_at": lifecycle.midnight_after(now + days * DAY)}
            status = 200
        else:
            ready = now + delay
            restore = {
                "ready_at": ready,
                "expires_at": lifecycle.midnight_after(ready + days * DAY),
                "tier": tier,
            }
            status = 202
        self.store.update_object(version.id, meta={**version.meta, "Restore": restore})
        if status == 202:
            self.store.schedule_restore(version.id, restore["ready_at"])
            self.db.after_commit(self._restores_changed.set)
            self.notify(
                ctx, bucket, "ObjectRestore:Post", version.key, version.size, version.etag, version.version_id
            )
        return {"__status__": status}

    # -- object lock -----------------------------------------------------------------------------------

    def put_object_retention(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self._object(ctx, params, "s3:PutObjectRetention")
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
        meta = dict(version.meta)
        if retention.get("Mode"):
            meta["Retention"] = {"Mode": retention["Mode"], "RetainUntilDate": new_until}
        else:
            meta.pop("Retention", None)
        self.store.update_object(version.id, meta=meta)
        return {}

    def get_object_retention(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _bucket, version = self._object(ctx, params, "s3:GetObjectRetention")
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
        bucket, version = self._object(ctx, params, "s3:PutObjectLegalHold")
        if not bucket.object_lock:
            raise ServiceError("InvalidRequest", "Bucket is missing Object Lock Configuration", 400)
        status = (params.get("LegalHold") or {}).get("Status", "OFF")
        self.store.update_object(version.id, meta={**version.meta, "LegalHold": status})
        return {}

    def get_object_legal_hold(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _bucket, version = self._object(ctx, params, "s3:GetObjectLegalHold")
        status = version.meta.get("LegalHold")
        if not status:
            raise ServiceError(
                "NoSuchObjectLockConfiguration",
                "The specified object does not have a ObjectLock configuration",
                404,
            )
        return {"LegalHold": {"Status": status}}
