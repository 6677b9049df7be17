"""Object versions as S3 keeps them: a new current version stored as the bucket's versioning state says,
the version a request addresses found and checked before it is read, a key or version deleted, the
metadata a new object records. What the object, multipart, select and object-settings families and the
lifecycle worker share; the provider holds one (`service.versions`).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.s3 import bodies, lifecycle, replication
from overcast.services.s3.access import versioned
from overcast.services.s3.common import (
    ARCHIVED_CLASSES,
    access_denied,
    acls_not_supported,
    canned_acl,
    check_expected_owner,
    check_grantees,
    etag_matches,
    grants_are_public,
    header_grants,
    new_version_id,
    no_such_bucket,
    no_such_key,
    precondition_failed,
    seconds,
)
from overcast.services.s3.object_rules import (
    check_copy_conditions,
    check_customer_key,
    check_customer_key_on_read,
    check_read_conditions,
    copy_source_key_params,
    from_mail_safe,
    http_date,
    looks_like_version_id,
    tags_from_query,
)
from overcast.services.s3.store import INLINE, Bucket, ObjectVersion

if TYPE_CHECKING:
    from overcast.services.s3.provider import S3Provider


CONTENT_FIELDS = (
    "ContentType",
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "WebsiteRedirectLocation",
)
# what insert_version stores for a field not given (replace_version takes every one)
_VERSION_DEFAULTS = {
    "size": 0,
    "etag": None,
    "storage_class": "STANDARD",
    "blob_id": None,
    "parts": None,
    "meta": None,
    "data": None,
    "enc": None,
}
MAX_METADATA_BYTES = 2048


class Versions:
    """The object versions of one S3 provider (its store, blobs, keyring and clock)."""

    def __init__(self, service: S3Provider) -> None:
        self.service = service
        self.store = service.store
        self.keys = service.keys
        self.platform = service.platform
        self.db = service.db
        self.clock = service.clock

    # -- writing -----------------------------------------------------------------------------------

    def still_there(self, name: str) -> Bucket:
        """The bucket `name` read again (by a write that awaited its body); NoSuchBucket if it went."""
        bucket = self.store.bucket(name)
        if bucket is None:
            raise no_such_bucket(name)
        return bucket

    def check_write_conditions(self, bucket: Bucket, key: str, params: dict[str, Any]) -> None:
        """If-None-Match: * (create only) and If-Match (replace only that ETag) on PUT and complete."""
        if_none_match, if_match = params.get("IfNoneMatch"), params.get("IfMatch")
        if if_none_match is None and if_match is None:
            return
        current = self.store.current(bucket.id, key)
        exists = current is not None and not current.delete_marker
        if if_none_match is not None and exists:
            raise precondition_failed("If-None-Match")
        if if_match is not None:
            if not exists:
                raise no_such_key(key)
            if not etag_matches(if_match, current.etag or ""):
                raise precondition_failed("If-Match")

    def put_version(self, bucket: Bucket, key: str, **fields: Any) -> str:
        """Store a new current version of `key` as the bucket's versioning state says; its version id."""
        if bucket.versioning is None and not fields.get("delete_marker"):
            # never versioned: the key's only version (if any) is overwritten in place; one statement when it
            # has no blob file to delete afterwards
            if "modified" not in fields:
                fields["modified"] = self.clock.now()
            if self.store.replace_unfiled_current(bucket.id, key, **{**_VERSION_DEFAULTS, **fields}):
                return "null"
        current = self.store.current(bucket.id, key)
        if bucket.versioning == "Enabled":
            version_id = new_version_id()
            if current is not None:
                self.store.demote(current.id)
        else:
            version_id = "null"
            if current is not None:
                if bucket.versioning is None and not fields.get("delete_marker"):
                    # never versioned: `current` is the key's only version, overwritten in place
                    fields.setdefault("modified", self.clock.now())
                    self.store.replace_version(current.id, **{**_VERSION_DEFAULTS, **fields})
                    for blob_id, _size in bodies.segments(current):
                        self.platform.blobs.delete(blob_id)
                    return version_id
                if current.version_id == "null":
                    self.destroy(current)
                else:
                    self.store.demote(current.id)
            if bucket.versioning == "Suspended":
                older_null = self.store.version(bucket.id, key, "null")
                if older_null is not None:
                    self.destroy(older_null)
        fields.setdefault("modified", self.clock.now())
        rule = replication.rule_for(self.store, bucket, key, fields)
        self.store.insert_version(bucket.id, key, version_id, **fields)
        if rule is not None:
            replication.schedule(self.service, bucket, key, version_id, rule)
        return version_id

    def expiration(
        self, bucket: Bucket, key: str, meta: dict[str, Any], size: int, modified: float
    ) -> str | None:
        """The `x-amz-expiration` header of a new current version, if a lifecycle rule expires it."""
        config = self.store.document(bucket.id, "lifecycle")
        if config is None:
            return None
        return lifecycle.expiration(config, SimpleNamespace(key=key, meta=meta, size=size, modified=modified))

    def destroy(self, version: ObjectVersion) -> None:
        """Remove a version and its data for good."""
        self.store.remove(version.id)
        for blob_id, _size in bodies.segments(version):
            self.platform.blobs.delete(blob_id)

    def new_object_meta(self, ctx: RequestContext, bucket: Bucket, params: dict[str, Any]) -> dict[str, Any]:
        """What a new object records besides its data: content headers, metadata, ACL, tags, encryption."""
        meta: dict[str, Any] = {name: params[name] for name in CONTENT_FIELDS if params.get(name) is not None}
        if "ContentEncoding" in meta:
            encoding = [e for e in meta["ContentEncoding"].split(",") if e.strip() not in ("aws-chunked", "")]
            if encoding:
                meta["ContentEncoding"] = ",".join(encoding)
            else:
                del meta["ContentEncoding"]
        if params.get("Expires") is not None:
            meta["Expires"] = seconds(params["Expires"])
        # RFC 2047 encoded words are decoded as S3 stores them (and encoded again when answered)
        user_metadata = {k: from_mail_safe(str(v)) for k, v in (params.get("Metadata") or {}).items()}
        if sum(len(k.encode()) + len(str(v).encode()) for k, v in user_metadata.items()) > MAX_METADATA_BYTES:
            raise ServiceError(
                "MetadataTooLarge",
                "Your metadata headers exceed the maximum allowed metadata size",
                400,
                MaxSizeAllowed=MAX_METADATA_BYTES,
            )
        if user_metadata:
            meta["Metadata"] = user_metadata
        # Who owns the new object: the bucket owner, unless ACLs are on and the writer keeps it (always under
        # ObjectWriter; under BucketOwnerPreferred unless it hands it over with bucket-owner-full-control)
        writer_keeps = bucket.ownership == "ObjectWriter" or (
            bucket.ownership == "BucketOwnerPreferred" and params.get("ACL") != "bucket-owner-full-control"
        )
        owner = ctx.principal.account_id if writer_keeps and ctx.principal.account_id else bucket.account
        meta["Owner"] = owner if not ctx.principal.is_anonymous else bucket.account
        grants = self.object_acl_from(params, bucket, meta["Owner"])
        if grants is not None:
            meta["Acl"] = grants
        if params.get("Tagging"):
            meta["Tags"] = tags_from_query(params["Tagging"])
        meta.update(self.encryption_of(bucket, params))
        meta.update(self.lock_settings(bucket, params))
        return meta

    def object_acl_from(self, params: dict[str, Any], bucket: Bucket, owner: str) -> list | None:
        grants = header_grants(params)
        acl = params.get("ACL")
        if bucket.ownership == "BucketOwnerEnforced":
            if grants or acl not in (None, "bucket-owner-full-control", "private"):
                raise acls_not_supported()
            return None
        if grants is None and acl is None:
            return None
        if grants is not None:
            check_grantees(grants, self.service.known_accounts(owner, bucket.account))
        grants = grants if grants is not None else canned_acl(acl or "private", owner, bucket.account)
        if grants_are_public(grants) and self.service.public_access_block(bucket).get("BlockPublicAcls"):
            raise ServiceError("AccessDenied", "Access Denied", 403)
        return grants

    def encryption_of(self, bucket: Bucket, params: dict[str, Any]) -> dict[str, Any]:
        """SSE-S3 by default (or the bucket's default), SSE-KMS as asked, SSE-C: the key's MD5 is kept."""
        algorithm = params.get("ServerSideEncryption")
        key_id = params.get("SSEKMSKeyId")
        if params.get("SSECustomerAlgorithm") or params.get("SSECustomerKey"):
            if algorithm:
                raise ServiceError(
                    "InvalidArgument",
                    "Server Side Encryption with Customer provided key is incompatible with the encryption "
                    "method specified",
                    400,
                    ArgumentName="x-amz-server-side-encryption",
                    ArgumentValue=algorithm,
                )
            return {"SSECustomer": check_customer_key(params)}
        if key_id and not (algorithm or "").startswith("aws:kms"):
            raise ServiceError(
                "InvalidArgument",
                "Server Side Encryption with AWS KMS managed key requires HTTP header "
                "x-amz-server-side-encryption : aws:kms",
                400,
                ArgumentName="x-amz-server-side-encryption-aws-kms-key-id",
                ArgumentValue=key_id,
            )
        if algorithm is None:
            default = (self.store.document(bucket.id, "encryption") or {}).get("Rules", [{}])[0]
            by_default = default.get("ApplyServerSideEncryptionByDefault") or {}
            algorithm = by_default.get("SSEAlgorithm", "AES256")
            key_id = key_id or by_default.get("KMSMasterKeyID")
        result: dict[str, Any] = {"SSE": algorithm}
        if algorithm.startswith("aws:kms"):
            if key_id:  # else the AWS managed key aws/s3, whose ARN the new data key tells (Keyring.for_new)
                result["KMSKeyId"] = key_id
            if params.get("BucketKeyEnabled"):
                result["BucketKeyEnabled"] = True
        return result

    def lock_settings(self, bucket: Bucket, params: dict[str, Any]) -> dict[str, Any]:
        mode, until = params.get("ObjectLockMode"), params.get("ObjectLockRetainUntilDate")
        hold = params.get("ObjectLockLegalHoldStatus")
        if (mode or until or hold) and not bucket.object_lock:
            raise ServiceError("InvalidRequest", "Bucket is missing Object Lock Configuration", 400)
        if bool(mode) != bool(until):
            raise ServiceError(
                "InvalidArgument",
                "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
                400,
            )
        result: dict[str, Any] = {}
        if mode:
            result["Retention"] = {"Mode": mode, "RetainUntilDate": seconds(until)}
        elif bucket.object_lock:
            default = ((self.store.document(bucket.id, "object_lock") or {}).get("Rule") or {}).get(
                "DefaultRetention"
            )
            if default:
                days = default.get("Days") or (default.get("Years") or 0) * 365
                result["Retention"] = {
                    "Mode": default["Mode"],
                    "RetainUntilDate": self.clock.now() + days * 86400,
                }
        if hold:
            result["LegalHold"] = hold
        return result

    # -- reading -----------------------------------------------------------------------------------

    def body_of(
        self,
        version: ObjectVersion,
        start: int,
        end: int,
        params: dict[str, Any],
        prefix: str = "",
        ctx: RequestContext | None = None,
    ) -> Any:
        """Bytes [start, end) of a version, decrypted (an SSE-C key comes from `params`, its names starting
        with `prefix`, "CopySource" for a copy's source): bytes, or an async iterator for large ranges."""
        inline = None
        if version.blob_id == INLINE:
            inline = version.inline if version.inline is not None else self.store.inline_data(version.id)
        cipher = self.keys.cipher_for(version.enc, params, prefix, ctx)
        return bodies.read_range(self.platform.blobs, version, start, end, inline, cipher)

    def readable_version(
        self, ctx: RequestContext, params: dict[str, Any], action: str, head: bool = False
    ) -> tuple[Bucket, ObjectVersion]:
        """The version a GET/HEAD addresses, once access, delete markers, conditions, storage class and
        SSE-C keys allow it to be read."""
        name, key = params["Bucket"], params["Key"]
        version_id = params.get("VersionId")
        bucket = self.service.bucket_for(ctx, name, versioned(action, params), key)  # s3:GetObjectVersion
        version = self.lookup_version(bucket, key, version_id, with_data=not head)  # a GET reads its body
        if version is None:
            self._check_may_list(ctx, bucket)
            if version_id:
                raise ServiceError(
                    "NoSuchVersion",
                    "The specified version does not exist.",
                    404,
                    Key=key,
                    VersionId=version_id,
                )
            raise no_such_key(key)
        if version.delete_marker:
            headers = {"x-amz-delete-marker": "true", "x-amz-version-id": version.version_id}
            if version_id:
                headers["Last-Modified"] = http_date(version.modified)
                raise ServiceError(
                    "MethodNotAllowed",
                    "The specified method is not allowed against this resource.",
                    405,
                    headers=headers,
                    Method="GET",
                    ResourceType="DeleteMarker",
                )
            raise ServiceError(
                "NoSuchKey", "The specified key does not exist.", 404, headers=headers, Key=key
            )
        check_read_conditions(params, version)
        if not head and version.storage_class in ARCHIVED_CLASSES and not self.is_restored(version):
            raise ServiceError(
                "InvalidObjectState",
                "The operation is not valid for the object's storage class",
                403,
                StorageClass=version.storage_class,
            )
        check_customer_key_on_read(version.meta, params)
        return bucket, version

    def _check_may_list(self, ctx: RequestContext, bucket: Bucket) -> None:
        """A missing key is 404 only to those who may list the bucket; others get 403 `AccessDenied`, so
        that they learn nothing about which keys exist (as AWS does)."""
        try:
            self.service.authorize(ctx, bucket, "s3:ListBucket")
        except ServiceError:
            raise access_denied() from None

    def lookup_version(
        self, bucket: Bucket, key: str, version_id: str | None, with_data: bool = False
    ) -> ObjectVersion | None:
        if version_id:
            return self.store.version(bucket.id, key, version_id, with_data)
        return self.store.current(bucket.id, key, with_data)

    def is_restored(self, version: ObjectVersion) -> bool:
        restore = version.meta.get("Restore")
        return bool(restore) and restore["ready_at"] <= self.clock.now() < restore["expires_at"]

    def restore_header(self, version: ObjectVersion) -> str | None:
        restore = version.meta.get("Restore")
        if not restore or self.clock.now() >= restore["expires_at"]:
            return None
        if self.clock.now() < restore["ready_at"]:
            return 'ongoing-request="true"'
        return f'ongoing-request="false", expiry-date="{http_date(restore["expires_at"])}"'

    # -- deleting ----------------------------------------------------------------------------------

    def delete_one(
        self,
        bucket: Bucket,
        key: str,
        version_id: str | None,
        params: dict[str, Any],
        ctx: RequestContext | None = None,
    ) -> dict[str, Any]:
        """Delete a key (a delete marker when versioned) or one version of it for good (for `ctx`'s caller;
        None: Overcast's own lifecycle worker)."""
        if version_id:
            version = self.store.version(bucket.id, key, version_id)
            if version is None:
                if version_id != "null" and not looks_like_version_id(version_id):
                    raise ServiceError(
                        "InvalidArgument",
                        "Invalid version id specified",
                        400,
                        ArgumentName="versionId",
                        ArgumentValue=version_id,
                    )
                return {"VersionId": version_id}
            self.check_lock_allows_delete(ctx, bucket, version, params)
            if bucket.mfa_delete == "Enabled" and not params.get("MFA"):
                raise ServiceError("AccessDenied", "Mfa Authentication must be used for this request", 403)
            self.destroy(version)
            if version.is_latest:
                self.store.promote_newest(bucket.id, key)
            result: dict[str, Any] = {"VersionId": version_id}
            if version.delete_marker:
                result["DeleteMarker"] = True
            return result
        if not bucket.versioning:
            current = self.store.current(bucket.id, key)
            if current is not None:
                self.destroy(current)
            return {}
        version_id = self.put_version(bucket, key, delete_marker=True)
        return {"DeleteMarker": True, "VersionId": version_id}

    def check_lock_allows_delete(
        self, ctx: RequestContext | None, bucket: Bucket, version: ObjectVersion, params: dict[str, Any]
    ) -> None:
        meta = version.meta
        if meta.get("LegalHold") == "ON":
            raise ServiceError("AccessDenied", "Access Denied because object protected by object lock.", 403)
        retention = meta.get("Retention")
        if retention and retention["RetainUntilDate"] > self.clock.now():
            if retention["Mode"] == "COMPLIANCE" or not params.get("BypassGovernanceRetention"):
                raise ServiceError(
                    "AccessDenied", "Access Denied because object protected by object lock.", 403
                )
            self.authorize_bypass(ctx, bucket, version.key)

    def authorize_bypass(self, ctx: RequestContext | None, bucket: Bucket, key: str) -> None:
        """Overriding governance-mode retention (x-amz-bypass-governance-retention) is its own permission."""
        if ctx is not None:
            self.service.authorize(ctx, bucket, "s3:BypassGovernanceRetention", key)

    # -- addressing --------------------------------------------------------------------------------

    def copy_source(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[Bucket, ObjectVersion]:
        """The readable source version of CopyObject / UploadPartCopy, its copy conditions checked."""
        text = params["CopySource"]
        path, _, query = text.partition("?")
        source_name, _, source_key = unquote(path).lstrip("/").partition("/")
        version_id = dict(parse_qsl(query)).get("versionId")
        if not source_name or not source_key:
            raise ServiceError(
                "InvalidArgument",
                "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                400,
                ArgumentName="x-amz-copy-source",
                ArgumentValue=text,
            )
        bucket = self.store.bucket(source_name)
        if bucket is None:
            raise no_such_bucket(source_name)
        if params.get("ExpectedSourceBucketOwner") is not None:
            check_expected_owner(params["ExpectedSourceBucketOwner"], bucket)
        # The source is read as GetObject would read it (s3:GetObjectVersion for a version), by every
        # principal: an explicit Deny on the source binds the destination's writer too.
        self.service.authorize_version(
            ctx, bucket, "s3:GetObjectVersion" if version_id else "s3:GetObject", source_key, version_id
        )
        version = self.lookup_version(bucket, source_key, version_id)
        if version is None or version.delete_marker:
            if version_id:
                if version is not None:
                    raise ServiceError(
                        "InvalidRequest",
                        "The source of a copy request may not specifically "
                        "refer to a delete marker by version id.",
                        400,
                    )
                raise ServiceError(
                    "NoSuchVersion",
                    "The specified version does not exist.",
                    404,
                    Key=source_key,
                    VersionId=version_id,
                )
            raise no_such_key(source_key)
        check_copy_conditions(params, version)
        if version.storage_class in ARCHIVED_CLASSES and not self.is_restored(version):
            raise ServiceError(
                "InvalidObjectState",
                "The operation is not valid for the object's storage class",
                403,
                StorageClass=version.storage_class,
            )
        if version.meta.get("SSECustomer"):
            check_customer_key_on_read(version.meta, copy_source_key_params(params))
        return bucket, version

    def addressed(
        self, ctx: RequestContext, params: dict[str, Any], action: str
    ) -> tuple[Bucket, ObjectVersion]:
        """The version a sub-resource request (tagging, ACL, restore, retention, legal hold) names, once
        `action` is allowed on it: the current one, or the one of `VersionId`."""
        bucket = self.service.bucket_for(ctx, params["Bucket"], versioned(action, params), params["Key"])
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
                headers={"x-amz-delete-marker": "true", "x-amz-version-id": version.version_id},
                Method=ctx.request.method if ctx.request else "GET",
                ResourceType="DeleteMarker",
            )
        return bucket, version
