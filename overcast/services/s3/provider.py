"""S3: buckets, objects, listing, multipart uploads, versioning, ACLs, configurations, lifecycle, restore.

The operations live in sibling families, one module per resource family; this class composes them, holds
what they share (the store, the keyring, the object versions, bucket lookup and access, event
notifications) and declares the hooks: browser and website routes, CORS headers, IAM action names, resource
ARNs, and the lifecycle and restore workers.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.http import HttpRequest, HttpResponse
from overcast.policy.actions import iam_action
from overcast.policy.enforcement import ResourcePolicy
from overcast.routing.router import parse_host
from overcast.services.base import HttpRoute, ServiceProvider
from overcast.services.s3 import access, lifecycle, notifications
from overcast.services.s3 import restore as restores
from overcast.services.s3.access import versioned
from overcast.services.s3.buckets import BucketOperations
from overcast.services.s3.common import (
    bucket_arn,
    canned_acl,
    check_expected_owner,
    no_such_bucket,
    seconds,
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

_LOOKED_UP = "s3.bucket"  # ctx.extra: (name, database changes, Bucket) as authorization found it
_ACTION = "s3.action"  # ctx.extra: the action the engine authorizes the request as
_AUTHORIZED = "s3.authorized"  # ctx.extra: (action, resource) the engine authorized the request itself on
_ADDRESSED = "s3.addressed"  # ctx.extra: (object ARN, version id) a further check names (a copy's source)

_LIST_OPERATIONS = ("ListObjects", "ListObjectsV2")
_POLICY_OPERATIONS = ("GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy")
# Operations on an existing object whose policies may test its tags (s3:ExistingObjectTag/<key>); not the
# writes that replace or delete it (AWS: "not supported for PUT Object and DELETE Object").
_EXISTING_TAG_OPERATIONS = frozenset(
    {
        "GetObject",
        "HeadObject",
        "GetObjectAcl",
        "PutObjectAcl",
        "GetObjectTagging",
        "PutObjectTagging",
        "DeleteObjectTagging",
        "GetObjectAttributes",
        "GetObjectRetention",
        "PutObjectRetention",
        "GetObjectLegalHold",
        "PutObjectLegalHold",
        "RestoreObject",
        "SelectObjectContent",
    }
)


def _setting_keys(operation: str, params: dict[str, Any], now: float) -> dict[str, list[str]]:
    """Condition keys of what a request asks for in its body or of one operation only: a conditional write's
    s3:if-match / s3:if-none-match, a new bucket's s3:LocationConstraint and s3:x-amz-object-ownership, the
    retention a write or PutObjectRetention sets (s3:object-lock-*)."""
    keys: dict[str, list[str]] = {}
    until = params.get("ObjectLockRetainUntilDate")
    if operation == "PutObjectRetention":
        retention = params.get("Retention") or {}
        until = retention.get("RetainUntilDate")
        if retention.get("Mode"):
            keys["s3:object-lock-mode"] = [retention["Mode"]]
    if isinstance(until, datetime):
        keys["s3:object-lock-retain-until-date"] = [until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]
        days = math.ceil((seconds(until) - now) / 86400)
        keys["s3:object-lock-remaining-retention-days"] = [str(max(days, 0))]
    if operation in ("PutObject", "CompleteMultipartUpload"):
        for member, key in (("IfMatch", "s3:if-match"), ("IfNoneMatch", "s3:if-none-match")):
            if params.get(member):
                keys[key] = [str(params[member])]
    ownership = params.get("ObjectOwnership")
    if operation == "PutBucketOwnershipControls":
        rules = (params.get("OwnershipControls") or {}).get("Rules") or [{}]
        ownership = rules[0].get("ObjectOwnership")
    if ownership and operation in ("CreateBucket", "PutBucketOwnershipControls"):
        keys["s3:x-amz-object-ownership"] = [ownership]
    constraint = (params.get("CreateBucketConfiguration") or {}).get("LocationConstraint")
    if constraint and operation == "CreateBucket":
        keys["s3:LocationConstraint"] = [constraint]
    return keys


class _Resource(ResourcePolicy):
    """A bucket or object for the policy engine: its document (bucket policy, ACL grants) is built on first
    use, as most requests (the owner's, with --iam off) never need it."""

    def __init__(self, owner: str, tags: Any, build: Callable[[], str | None]) -> None:
        # (not the dataclass's __init__: this runs on every S3 request)
        self.owner, self.tags, self.arn = owner, tags, None
        self._build: Callable[[], str | None] | None = build
        self._document: str | None = None

    @property  # type: ignore[override]
    def document(self) -> str | None:
        if self._build is not None:
            build, self._build = self._build, None
            self._document = build()
        return self._document


# Request members that are S3 condition keys of the same name.
_CONDITION_MEMBERS = {
    "ServerSideEncryption": "s3:x-amz-server-side-encryption",
    "SSEKMSKeyId": "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "SSECustomerAlgorithm": "s3:x-amz-server-side-encryption-customer-algorithm",
    "ACL": "s3:x-amz-acl",
    "StorageClass": "s3:x-amz-storage-class",
    "CopySource": "s3:x-amz-copy-source",
    "MetadataDirective": "s3:x-amz-metadata-directive",
    "WebsiteRedirectLocation": "s3:x-amz-website-redirect-location",
    "VersionId": "s3:VersionId",
    "Delimiter": "s3:delimiter",
    "ObjectLockMode": "s3:object-lock-mode",
    "ObjectLockLegalHoldStatus": "s3:object-lock-legal-hold",
    "GrantFullControl": "s3:x-amz-grant-full-control",
    "GrantRead": "s3:x-amz-grant-read",
    "GrantReadACP": "s3:x-amz-grant-read-acp",
    "GrantWrite": "s3:x-amz-grant-write",
    "GrantWriteACP": "s3:x-amz-grant-write-acp",
}


# The operations that may name an encryption (the others refuse the header).
_CHOOSES_ENCRYPTION = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload"})


def check_no_encryption_header(request: HttpRequest) -> None:
    """x-amz-server-side-encryption is for writes that choose how a new object is stored."""
    value = request.headers.get("x-amz-server-side-encryption")
    if value is not None:
        raise ServiceError(
            "InvalidArgument",
            "x-amz-server-side-encryption header is not supported for this operation.",
            400,
            ArgumentName="x-amz-server-side-encryption",
            ArgumentValue=value,
        )


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
            methods=frozenset({"OPTIONS"}),  # with or without an Origin (without: S3's 400)
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
        "PutBucketNotificationConfiguration": "PutBucketNotification",
        "GetBucketNotificationConfiguration": "GetBucketNotification",
        "DeleteBucketLifecycle": "PutLifecycleConfiguration",
        "DeleteBucketEncryption": "PutEncryptionConfiguration",
        "DeleteBucketCors": "PutBucketCORS",
        "DeleteBucketTagging": "PutBucketTagging",
        # a configuration is deleted with its Put action and listed with its Get action
        "DeleteBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
        "DeleteBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
        "DeleteBucketInventoryConfiguration": "PutInventoryConfiguration",
        "DeleteBucketMetricsConfiguration": "PutMetricsConfiguration",
        "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
        "DeleteBucketReplication": "PutReplicationConfiguration",
        "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
        "ListBucketAnalyticsConfigurations": "GetAnalyticsConfiguration",
        "ListBucketIntelligentTieringConfigurations": "GetIntelligentTieringConfiguration",
        "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
        "ListBucketMetricsConfigurations": "GetMetricsConfiguration",
        "GetBucketLifecycle": "GetLifecycleConfiguration",
        "PutBucketLifecycle": "PutLifecycleConfiguration",
    }

    self_authorized = frozenset({"DeleteObjects"})  # each key as s3:DeleteObject (or DeleteObjectVersion)

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.store = S3Store(self.db)
        self.keys = Keyring(self.store.server_key(self.clock.now()), platform)
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

    def damaged_data(self) -> Iterator[tuple[str, str, str | None]]:
        """Each object version whose stored content no longer matches its record (bodies.check_stored)."""
        from overcast.services.s3 import bodies
        from overcast.services.s3.encryption import CUSTOMER
        from overcast.services.s3.store import INLINE

        for bucket in self.store.all_buckets():
            after = 0
            while rows := self.store.versions_after(bucket.id, after, 500):
                for version in rows:
                    after = version.id
                    if version.delete_marker:
                        continue
                    known = version.enc != CUSTOMER
                    cipher = self.keys.cipher_for(version.enc, {}) if known else None
                    inline = self.store.inline_data(version.id) if version.blob_id == INLINE else None
                    problem = bodies.check_stored(self.platform.blobs, version, inline, cipher, known)
                    if problem:
                        where = f"s3://{bucket.name}/{version.key} (version {version.version_id})"
                        segments = bodies.segments(version)
                        yield where, problem, segments[0][0] if len(segments) == 1 else None

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.platform.spawn(lifecycle.run(self))
        self.platform.spawn(restores.run(self, self.restores_changed))

    def reset(self) -> None:
        self.store.forget_settings()
        self.store.forget_rows()
        # Every object is gone, but a body being received under the key is written with it: keep the key.
        self.store.save_server_key(self.keys.server_key, self.clock.now())

    # -- what the families share: buckets and who may act on them, event notifications --------------------

    def bucket_for(
        self, ctx: RequestContext, name: str, action: str | None, key: str | None = None
    ) -> Bucket:
        """The bucket `name`, if it exists and `ctx.principal` may perform `action` on it (or on `key`); no
        `action`: the operation authorizes what it acts on itself (`self_authorized`)."""
        bucket = self.looked_up(ctx, name)
        if bucket is None:
            raise no_such_bucket(name)
        if action is not None:
            self.authorize(ctx, bucket, action, key)
        if ctx.request is not None and ctx.operation not in _CHOOSES_ENCRYPTION:
            check_no_encryption_header(ctx.request)
        expected = ctx.request.headers.get("x-amz-expected-bucket-owner") if ctx.request else None
        if expected is not None:
            check_expected_owner(expected, bucket)
        return bucket

    def looked_up(self, ctx: RequestContext, name: str) -> Bucket | None:
        """The bucket `name`, as authorization found it if nothing was written since (this process is the
        database's only writer: while total_changes stays the same, so does the row)."""
        found = ctx.extra.get(_LOOKED_UP)
        if found is not None and found[0] == name and found[1] == self.db.conn.total_changes:
            return found[2]
        return self.store.bucket(name)

    def authorize(
        self,
        ctx: RequestContext,
        bucket: Bucket | str,
        action: str,
        key: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        """`action` on the bucket (or on `key` in it) by the platform's policy engine (with the condition keys
        of `params`), unless it is the very action and resource the engine authorized the request for before
        the operation ran."""
        arn = bucket_arn(bucket, key)
        if (action, arn) == ctx.extra.get(_AUTHORIZED):
            return
        ctx.extra.pop(_ACTION, None)  # the lookups from here on are for this check, not the request's own
        self.platform.authorize(ctx, action, arn, params)

    def authorize_version(
        self, ctx: RequestContext, bucket: Bucket, action: str, key: str, version_id: str | None
    ) -> None:
        """`action` on one version of `key` that the request names elsewhere than in its query (a copy's
        source): its ACL is the one consulted."""
        ctx.extra[_ADDRESSED] = (bucket_arn(bucket, key), version_id)
        try:
            self.authorize(ctx, bucket, action, key)
        finally:
            del ctx.extra[_ADDRESSED]

    def authorize_settings(
        self, ctx: RequestContext, bucket: Bucket | str, params: dict[str, Any], key: str | None = None
    ) -> None:
        """The permissions of what the request sets besides its operation's own (access.further_actions)."""
        for action in access.further_actions(ctx.operation, params):
            self.authorize(ctx, bucket, action, key, params)

    def request_action(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """A request naming a version acts on that version: s3:GetObjectVersion, s3:DeleteObjectVersion,
        s3:PutObjectVersionTagging... (AWS's actions for versions)."""
        if ctx.operation == "GetObjectAttributes":
            action = self.attributes_actions(ctx, params)[0]
        else:
            action = versioned(iam_action("s3", ctx.operation), params)
        ctx.extra[_ACTION] = action  # what the engine authorizes the request as (authorization_resource)
        return action

    def attributes_actions(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[str, str]:
        """GetObjectAttributes needs two permissions: s3:GetObjectAttributes and s3:GetObject, or on a
        versioned bucket (or for a version) s3:GetObjectVersionAttributes and s3:GetObjectVersion."""
        bucket = self.looked_up(ctx, params.get("Bucket") or "")
        if params.get("VersionId") or (bucket is not None and bucket.versioning):
            return "s3:GetObjectVersionAttributes", "s3:GetObjectVersion"
        return "s3:GetObjectAttributes", "s3:GetObject"

    # -- the policy engine's view of buckets and objects ----------------------------------------------------

    def authorization_resource(self, ctx: RequestContext, arn: str) -> ResourcePolicy | None:
        """A bucket (or object): its owner, and as its resource policy the bucket policy with the ACL grants
        that concern the caller (access.py)."""
        if ctx.operation == "CreateBucket":
            return None  # a bucket of that name is another's to answer BucketAlreadyExists about
        name, slash, key = arn.removeprefix("arn:aws:s3:::").partition("/")
        bucket = self.store.bucket(name)
        ctx.extra[_LOOKED_UP] = (name, self.db.conn.total_changes, bucket)
        action = ctx.extra.pop(_ACTION, None)
        if action is not None:  # the engine's first lookup while authorizing the request itself
            ctx.extra[_AUTHORIZED] = (action, arn)
        if bucket is None:
            return None
        object_key = key if slash else None
        return _Resource(
            bucket.account,
            self.tags.lazy(bucket_arn(bucket)),
            lambda: self._resource_document(ctx, bucket, arn, object_key),
        )

    def _resource_document(
        self, ctx: RequestContext, bucket: Bucket, arn: str, key: str | None
    ) -> str | None:
        principal = ctx.principal
        if (
            ctx.operation in _POLICY_OPERATIONS
            and principal.kind == "root"
            and principal.account_id == bucket.account
        ):
            return None  # the owner's root can always mend a policy that locks everyone out (AWS)
        block = self.public_access_block(bucket)
        acl: list[dict[str, Any]] = []
        if bucket.ownership != "BucketOwnerEnforced":
            ignore = bool(block.get("IgnorePublicAcls"))
            grants = bucket.grants or canned_acl("private", bucket.account)
            if key is None:
                acl = access.acl_statements(grants, principal, arn, access.BUCKET_PERMISSIONS, ignore)
            else:
                writes = [g for g in grants if g.get("Permission") in ("WRITE", "FULL_CONTROL")]
                acl = access.acl_statements(writes, principal, arn, {"WRITE": access.BUCKET_WRITE}, ignore)
                acl += access.acl_statements(
                    self.object_grants(ctx, bucket, key), principal, arn, access.OBJECT_PERMISSIONS, ignore
                )
        policy = self.store.document(bucket.id, "policy")
        text = self.store.document(bucket.id, "policy_text") if policy else None
        return access.resource_document(policy, text, principal, bucket.account, acl, block)

    def object_grants(self, ctx: RequestContext, bucket: Bucket, key: str) -> list[dict[str, Any]]:
        """The ACL of the object version a request addresses: its own grants, or its owner's FULL_CONTROL (an
        object never inherits the bucket's ACL)."""
        addressed = ctx.extra.get(_ADDRESSED)
        if addressed is not None and addressed[0] == bucket_arn(bucket, key):
            version_id = addressed[1]
        elif ctx.request is not None:
            version_id = (ctx.request.query_params().get("versionId") or [None])[0]
        else:
            version_id = None
        version = self.versions.lookup_version(bucket, key, version_id)
        if version is None or version.delete_marker:
            return []
        grants = version.meta.get("Acl")
        if grants is None:
            grants = canned_acl("private", version.meta.get("Owner") or bucket.account)
        return grants

    def condition_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """S3's request condition keys (the Service Authorization Reference's s3:* keys a request carries)."""
        keys: dict[str, Any] = {}
        for member, key in _CONDITION_MEMBERS.items():
            value = params.get(member)
            if value is not None and value != "":
                keys[key] = [str(value)]
        if ctx.operation in _LIST_OPERATIONS or ctx.operation == "ListObjectVersions":
            keys["s3:prefix"] = [params.get("Prefix") or ""]
            if params.get("MaxKeys") is not None:
                keys["s3:max-keys"] = [str(params["MaxKeys"])]
        tagging = params.get("Tagging")
        if tagging and ctx.operation != "PutBucketTagging":
            # a write's x-amz-tagging query string, or PutObjectTagging's TagSet
            tags = (
                parse_qsl(tagging, keep_blank_values=True)
                if isinstance(tagging, str)
                else [(t.get("Key", ""), t.get("Value", "")) for t in tagging.get("TagSet") or ()]
            )
            for tag_key, value in tags:
                keys[f"s3:RequestObjectTag/{tag_key}"] = [value]
            keys["s3:RequestObjectTagKeys"] = [k for k, _ in tags]
        keys.update(_setting_keys(ctx.operation, params, self.clock.now()))
        owner = self.looked_up(ctx, params["Bucket"]) if params.get("Bucket") else None
        if owner is not None:
            keys["s3:ResourceAccount"] = [owner.account]
        if ctx.operation in _EXISTING_TAG_OPERATIONS and params.get("Bucket") and params.get("Key"):
            keys.update(self._existing_tags(ctx, params["Bucket"], params["Key"], params.get("VersionId")))
        http = ctx.request
        if http is not None:
            keys["s3:authType"] = ["REST-QUERY-STRING" if "X-Amz-Signature" in http.query else "REST-HEADER"]
            keys["s3:signatureversion"] = ["AWS4-HMAC-SHA256"]
            sha = http.headers.get("x-amz-content-sha256")
            if sha:
                keys["s3:x-amz-content-sha256"] = [sha]
            age = self._signature_age(http)
            if age is not None:
                keys["s3:signatureAge"] = [str(age)]
        return keys

    def _signature_age(self, http: HttpRequest) -> int | None:
        """s3:signatureAge: milliseconds since the request (or presigned URL) was signed, on the clock."""
        stamp = (http.query_params().get("X-Amz-Date") or [None])[0] or http.headers.get("x-amz-date")
        try:
            signed = datetime.strptime(stamp or "", "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
        except ValueError:
            return None
        return max(int((self.clock.now() - signed) * 1000), 0)

    def _existing_tags(
        self, ctx: RequestContext, name: str, key: str, version_id: str | None
    ) -> dict[str, list[str]]:
        """s3:ExistingObjectTag/<key> of the version a request addresses (asked only when a policy tests a
        condition: the engine builds the context lazily)."""
        bucket = self.looked_up(ctx, name)
        version = self.versions.lookup_version(bucket, key, version_id) if bucket is not None else None
        if version is None or version.delete_marker:
            return {}
        return {
            f"s3:ExistingObjectTag/{tag['Key']}": [tag["Value"]] for tag in version.meta.get("Tags") or ()
        }

    def known_accounts(self, *also: str) -> set[str]:
        """The accounts whose canonical ids a grant may name: the default one, bucket owners, and `also`."""
        return {self.platform.config.default_account, *self.store.accounts(), *also}

    def owner_only(self, ctx: RequestContext, name: str) -> Bucket:
        """A bucket-configuration operation: the bucket owner's (or whom the policy allows)."""
        return self.bucket_for(ctx, name, iam_action("s3", ctx.operation))

    def public_access_block(self, bucket: Bucket) -> dict[str, bool]:
        """The effective Block Public Access settings: bucket and account level combined."""
        settings: dict[str, bool] = {}
        for source in (
            self.store.document(bucket.id, "public_access_block"),
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
