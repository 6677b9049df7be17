"""S3: buckets, objects, listing, multipart uploads, versioning, ACLs, configurations, lifecycle, restore.

The operations live in sibling families, one module per resource family; this class composes them, holds
what they share (the store, the keyring, the object versions, bucket lookup and access, event
notifications) and declares the hooks: browser and website routes, CORS headers, IAM action names, resource
ARNs, and the lifecycle and restore workers.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.http import HttpRequest, HttpResponse
from overcast.routing.router import parse_host
from overcast.services.base import HttpRoute, ServiceProvider
from overcast.services.s3 import lifecycle, notifications
from overcast.services.s3 import restore as restores
from overcast.services.s3.buckets import BucketOperations
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
from overcast.services.s3.configs import ConfigOperations
from overcast.services.s3.cors import CorsOperations, bucket_of
from overcast.services.s3.encryption import Keyring
from overcast.services.s3.listing import ListingOperations
from overcast.services.s3.multipart import MultipartOperations
from overcast.services.s3.notifications import NotificationOperations
from overcast.services.s3.objects import ObjectOperations
from overcast.services.s3.post import PostOperations
from overcast.services.s3.restore import RestoreOperations
from overcast.services.s3.select import SelectOperations
from overcast.services.s3.store import Bucket, S3Store
from overcast.services.s3.subresources import ObjectSubresourceOperations
from overcast.services.s3.versions import Versions
from overcast.services.s3.website import WebsiteOperations, website_bucket

if TYPE_CHECKING:
    from overcast.platform import Platform

# The ACL permission that stands for an action when a bucket still honours ACLs.
_ACL_PERMISSION = {
    "s3:GetObject": "READ",
    "s3:ListBucket": "READ",
    "s3:PutObject": "WRITE",
    "s3:DeleteObject": "WRITE",
    "s3:GetObjectVersion": "READ",
}


class S3Provider(ServiceProvider):
    service_name = "s3"
    families = (
        BucketOperations,
        ObjectOperations,
        ObjectSubresourceOperations,
        RestoreOperations,
        ListingOperations,
        MultipartOperations,
        ConfigOperations,
        NotificationOperations,
        SelectOperations,
        CorsOperations,
        WebsiteOperations,
        PostOperations,
    )
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

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.store = S3Store(self.db)
        self.keys = Keyring(self.store.server_key(self.clock.now()))
        self.versions = Versions(self)
        self.cors = self.family(CorsOperations)
        self.restores_changed = asyncio.Event()  # a restore started: the completion worker looks again

    def tagging_request(self, arn: str, add=None, remove=None) -> tuple[str, dict[str, Any]] | None:
        """A bucket's tags are one set (PutBucketTagging replaces it): the current set with the change made."""
        name = arn.removeprefix("arn:aws:s3:::")
        if not name or "/" in name:
            return None
        tags = self.tags.get(arn)
        tags.update(add or {})
        for key in remove or ():
            tags.pop(key, None)
        if not tags:
            return "DeleteBucketTagging", {"Bucket": name}
        tag_set = [{"Key": k, "Value": v} for k, v in tags.items()]
        return "PutBucketTagging", {"Bucket": name, "Tagging": {"TagSet": tag_set}}

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The bucket, or the object a request names (listings act on the bucket)."""
        bucket = params.get("Bucket")
        if not bucket:
            return None
        key = params.get("Key")
        if key is not None and ctx.operation not in ("ListObjects", "ListObjectsV2"):
            return bucket_arn(bucket, key)
        return bucket_arn(bucket)

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
        if not website_bucket(request.host):
            return None
        return await self.family(WebsiteOperations).website(request)

    async def serve_preflight(self, request: HttpRequest) -> HttpResponse | None:
        return self.cors.preflight(request) if self._browser_bucket(request) else None

    async def serve_form_post(self, request: HttpRequest) -> HttpResponse | None:
        name = self._browser_bucket(request)
        if name is None or request.path.strip("/") not in ("", name):  # a form POST goes to the bucket itself
            return None
        response = await self.family(PostOperations).post_object(request)
        response.headers.extend(self.cors.response_headers(request))
        return response

    def cors_headers(self, request: HttpRequest) -> list[tuple[str, str]]:
        """By the bucket's CORS rules."""
        return self.cors.response_headers(request)

    def accepts_origin(self, request: HttpRequest) -> bool:
        """A page of another origin may send signed requests where the bucket's CORS rules let it."""
        return bool(self.cors.response_headers(request))

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.platform.spawn(lifecycle.run(self))
        self.platform.spawn(restores.run(self, self.restores_changed))

    def reset(self) -> None:
        self.store.forget_configs()
        # Every object is gone, but a body being received under the key is written with it: keep the key.
        self.store.save_server_key(self.keys.server_key, self.clock.now())

    # -- what the families share: buckets and who may act on them, event notifications --------------------

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

    def notify(
        self,
        ctx: RequestContext,
        bucket: Bucket,
        event: str,
        key: str,
        size: int = 0,
        etag: str | None = None,
        version_id: str | None = None,
    ) -> None:
        """Send `event` ("ObjectCreated:Put") about `key` to every destination of the bucket's notification
        configuration that wants it, once the request's transaction commits."""
        notifications.object_event(self, ctx, bucket, event, key, size, etag, version_id)
