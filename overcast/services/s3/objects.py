"""Objects: put (streamed, checksummed, conditional), get/head (ranges, conditions), delete, copy, attributes."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, unquote

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.s3 import bodies, checksums, encryption, lifecycle
from overcast.services.s3.common import (
    ARCHIVED_CLASSES,
    STORAGE_CLASSES,
    access_denied,
    acls_not_supported,
    canned_acl,
    check_key,
    etag_matches,
    grants_are_public,
    header_grants,
    new_version_id,
    no_such_bucket,
    no_such_key,
    not_modified,
    precondition_failed,
    quoted,
    seconds,
    to_datetime,
)
from overcast.services.s3.notifications import NotificationOps
from overcast.services.s3.replication import ReplicationOps
from overcast.services.s3.store import INLINE, Bucket, ObjectVersion

CONTENT_FIELDS = (
    "ContentType",
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "WebsiteRedirectLocation",
)
RESPONSE_OVERRIDES = {
    "ResponseContentType": "ContentType",
    "ResponseCacheControl": "CacheControl",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentLanguage": "ContentLanguage",
}
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
MAX_TAGS = 10


@dataclass
class _CopyPlan:
    """A CopyObject checked and prepared inside its first transaction."""

    source_bucket: Bucket
    source: ObjectVersion
    bucket: Bucket
    meta: dict[str, Any]
    storage_class: str
    enc: str
    cipher: encryption.BodyCipher
    data: bytes | None = None  # a body kept in the row, in the destination's encryption
    linked: list[str] = field(default_factory=list)  # committed links to the source's files (same key)
    pinned: list[tuple[Any, int]] = field(default_factory=list)  # (PendingBlob link, size) to re-encrypt
    source_cipher: encryption.BodyCipher | None = None


class ObjectOps(NotificationOps, ReplicationOps):
    # -- writing -----------------------------------------------------------------------------------

    async def put_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, key = params["Bucket"], params["Key"]
        with bodies.refusing_unread_body():
            check_key(key)
            bucket = self.bucket_for(ctx, name, "s3:PutObject", key)
            changes = self.db.conn.total_changes
            meta = self.new_object_meta(ctx, bucket, params)
            storage_class = storage_class_of(params)
            _check_write_conditions_supported(params)
            algorithms = requested_checksums(params, ctx)
            enc, cipher = self.keys.for_new(meta, params)
        received = await bodies.receive(
            self.platform.blobs, params.get("Body"), algorithms or ["CRC64NVME"], inline=True, cipher=cipher
        )
        try:
            checksum = verify_body(params, received, algorithms, ctx)
            with self.db.transaction():
                # This process is the database's only writer: while total_changes stays the same, the bucket
                # read before the body arrived is still what the database holds.
                if self.db.conn.total_changes != changes:
                    bucket = self._still_there(name)
                self._check_write_conditions(bucket, key, params)
                meta["Checksum"] = checksum
                blob_id = self.platform.blobs.commit(received.blob) if received.blob is not None else None
                now = self.clock.now()
                version_id = self.put_version(
                    bucket,
                    key,
                    size=received.size,
                    etag=quoted(received.md5_hex),
                    modified=now,
                    storage_class=storage_class,
                    blob_id=blob_id,
                    data=received.data,
                    meta=meta,
                    enc=enc,
                )
                expiration = self.expiration(bucket, key, meta, received.size, now)
                self.notify(
                    ctx,
                    bucket,
                    ctx.extra.get("event", "ObjectCreated:Put"),
                    key,
                    received.size,
                    quoted(received.md5_hex),
                    version_id,
                )
        except BaseException:
            bodies.discard(self.platform.blobs, received)
            raise
        result = {"ETag": quoted(received.md5_hex), **sse_fields(meta), **checksum_fields(checksum)}
        if bucket.versioning:
            result["VersionId"] = version_id
        if expiration:
            result["Expiration"] = expiration
        return result

    def _still_there(self, name: str) -> Bucket:
        bucket = self.store.bucket(name)
        if bucket is None:
            raise no_such_bucket(name)
        return bucket

    def _check_write_conditions(self, bucket: Bucket, key: str, params: dict[str, Any]) -> None:
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
        rule = self.replication_for(bucket, key, fields)
        self.store.insert_version(bucket.id, key, version_id, **fields)
        if rule is not None:
            self.schedule_replication(bucket, key, version_id, rule)
        return version_id

    def expiration(
        self, bucket: Bucket, key: str, meta: dict[str, Any], size: int, modified: float
    ) -> str | None:
        """The `x-amz-expiration` header of a new current version, if a lifecycle rule expires it."""
        config = self.store.config(bucket.id, "lifecycle")
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
        encoding = [
            e for e in (meta.get("ContentEncoding") or "").split(",") if e.strip() not in ("aws-chunked", "")
        ]
        if encoding:
            meta["ContentEncoding"] = ",".join(encoding)
        else:
            meta.pop("ContentEncoding", None)
        if params.get("Expires") is not None:
            meta["Expires"] = seconds(params["Expires"])
        user_metadata = params.get("Metadata") or {}
        if sum(len(k.encode()) + len(str(v).encode()) for k, v in user_metadata.items()) > MAX_METADATA_BYTES:
            raise ServiceError(
                "MetadataTooLarge",
                "Your metadata headers exceed the maximum allowed metadata size",
                400,
                MaxSizeAllowed=MAX_METADATA_BYTES,
            )
        if user_metadata:
            meta["Metadata"] = user_metadata
        owner = (
            bucket.account
            if bucket.ownership in (None, "BucketOwnerEnforced", "BucketOwnerPreferred")
            else ctx.principal.account_id
        )
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
        grants = grants if grants is not None else canned_acl(acl or "private", owner, bucket.account)
        if grants_are_public(grants) and self.public_access_block(bucket).get("BlockPublicAcls"):
            raise ServiceError("AccessDenied", "Access Denied", 403)
        return grants

    def encryption_of(self, bucket: Bucket, params: dict[str, Any]) -> dict[str, Any]:
        """SSE-S3 by default (or the bucket's default), SSE-KMS as asked, SSE-C: the key's MD5 is kept."""
        if params.get("SSECustomerAlgorithm") or params.get("SSECustomerKey"):
            return {"SSECustomer": check_customer_key(params)}
        algorithm = params.get("ServerSideEncryption")
        key_id = params.get("SSEKMSKeyId")
        if algorithm is None:
            default = (self.store.config(bucket.id, "encryption") or {}).get("Rules", [{}])[0]
            by_default = default.get("ApplyServerSideEncryptionByDefault") or {}
            algorithm = by_default.get("SSEAlgorithm", "AES256")
            key_id = key_id or by_default.get("KMSMasterKeyID")
        result: dict[str, Any] = {"SSE": algorithm}
        if algorithm.startswith("aws:kms"):
            result["KMSKeyId"] = key_id or f"arn:aws:kms:{bucket.region}:{bucket.account}:alias/aws/s3"
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
            default = ((self.store.config(bucket.id, "object_lock") or {}).get("Rule") or {}).get(
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

    def get_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self.readable_version(ctx, params, "s3:GetObject")
        result = self.object_headers(bucket, version, params)
        size = version.size
        start, end = 0, size
        part_number = params.get("PartNumber")
        if part_number:
            start, end = self._part_range(version, part_number)
            result["PartsCount"] = max(1, len(version.part_list))
        else:
            wanted = bodies.parse_range(params.get("Range"), size)
            if wanted is not None:
                start, end = wanted
        if (start, end) != (0, size) or part_number:
            result["ContentRange"] = f"bytes {start}-{end - 1}/{size}" if size else None
            result["__status__"] = 206
            if not part_number:
                for name in checksums.ALGORITHMS:
                    result.pop(checksums.param_name(name), None)
                result.pop("ChecksumType", None)
        result["ContentLength"] = end - start
        result["Body"] = self.body_of(version, start, end, params)
        for override, member in RESPONSE_OVERRIDES.items():
            if params.get(override):
                result[member] = params[override]
        if params.get("ResponseExpires"):
            result["Expires"] = params["ResponseExpires"]
        return result

    def head_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self.readable_version(ctx, params, "s3:GetObject", head=True)
        result = self.object_headers(bucket, version, params)
        result["ContentLength"] = version.size
        if params.get("PartNumber"):
            start, end = self._part_range(version, params["PartNumber"])
            result["ContentLength"] = end - start
            result["PartsCount"] = max(1, len(version.part_list))
            result["ContentRange"] = f"bytes {start}-{end - 1}/{version.size}"
            result["__status__"] = 206
        elif params.get("Range"):
            wanted = bodies.parse_range(params["Range"], version.size)
            if wanted:
                result["ContentLength"] = wanted[1] - wanted[0]
                result["ContentRange"] = f"bytes {wanted[0]}-{wanted[1] - 1}/{version.size}"
                result["__status__"] = 206
        return result

    def body_of(
        self, version: ObjectVersion, start: int, end: int, params: dict[str, Any], prefix: str = ""
    ) -> Any:
        """Bytes [start, end) of a version, decrypted (an SSE-C key comes from `params`, its names starting
        with `prefix`, "CopySource" for a copy's source): bytes, or an async iterator for large ranges."""
        inline = self.store.inline_data(version.id) if version.blob_id == INLINE else None
        cipher = self.keys.cipher_for(version.enc, params, prefix)
        return bodies.read_range(self.platform.blobs, version, start, end, inline, cipher)

    def _part_range(self, version: ObjectVersion, number: int) -> tuple[int, int]:
        sizes = [part[1] for part in version.part_list] or [version.size]
        if number > len(sizes):
            raise ServiceError(
                "InvalidPartNumber",
                "The requested partnumber is not satisfiable",
                416,
                PartNumberRequested=number,
                ActualPartCount=len(sizes),
            )
        start = sum(sizes[: number - 1])
        return start, start + sizes[number - 1]

    def readable_version(
        self, ctx: RequestContext, params: dict[str, Any], action: str, head: bool = False
    ) -> tuple[Bucket, ObjectVersion]:
        """The version a GET/HEAD addresses, once access, delete markers, conditions, storage class and
        SSE-C keys allow it to be read."""
        name, key = params["Bucket"], params["Key"]
        bucket = self.store.bucket(name)
        if bucket is None:
            raise no_such_bucket(name)
        version_id = params.get("VersionId")
        version = self.lookup_version(bucket, key, version_id)
        self.authorize(
            ctx,
            bucket,
            action if not version_id else "s3:GetObjectVersion",
            key,
            version.meta.get("Acl") if version else None,
        )
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
                headers["Last-Modified"] = _http_date(version.modified)
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
            self.authorize(ctx, bucket, "s3:ListBucket")
        except ServiceError:
            raise access_denied() from None

    def lookup_version(self, bucket: Bucket, key: str, version_id: str | None) -> ObjectVersion | None:
        if version_id:
            return self.store.version(bucket.id, key, version_id)
        return self.store.current(bucket.id, key)

    def is_restored(self, version: ObjectVersion) -> bool:
        restore = version.meta.get("Restore")
        return bool(restore) and restore["ready_at"] <= self.clock.now() < restore["expires_at"]

    def restore_header(self, version: ObjectVersion) -> str | None:
        restore = version.meta.get("Restore")
        if not restore or self.clock.now() >= restore["expires_at"]:
            return None
        if self.clock.now() < restore["ready_at"]:
            return 'ongoing-request="true"'
        return f'ongoing-request="false", expiry-date="{_http_date(restore["expires_at"])}"'

    def object_headers(
        self, bucket: Bucket, version: ObjectVersion, params: dict[str, Any]
    ) -> dict[str, Any]:
        """The response members GetObject and HeadObject share."""
        meta = version.meta
        result: dict[str, Any] = {
            "AcceptRanges": "bytes",
            "LastModified": to_datetime(int(version.modified)),
            "ETag": version.etag,
            "ContentType": meta.get("ContentType") or "binary/octet-stream",
        }
        for name in CONTENT_FIELDS[1:]:
            if name in meta:
                result[name] = meta[name]
        if "Expires" in meta:
            result["Expires"] = to_datetime(meta["Expires"])
        if "Metadata" in meta:
            result["Metadata"] = meta["Metadata"]
        if bucket.versioning:
            result["VersionId"] = version.version_id
        if version.storage_class != "STANDARD":
            result["StorageClass"] = version.storage_class
        if meta.get("Tags"):
            result["TagCount"] = len(meta["Tags"])
        restore = self.restore_header(version)
        if restore:
            result["Restore"] = restore
        result.update(sse_fields(meta))
        retention = meta.get("Retention")
        if retention:
            result["ObjectLockMode"] = retention["Mode"]
            result["ObjectLockRetainUntilDate"] = to_datetime(retention["RetainUntilDate"])
        if meta.get("LegalHold"):
            result["ObjectLockLegalHoldStatus"] = meta["LegalHold"]
        if meta.get("ReplicationStatus"):
            result["ReplicationStatus"] = meta["ReplicationStatus"]
        if version.is_latest:
            expiration = lifecycle.expiration(self.store.config(bucket.id, "lifecycle"), version)
            if expiration:
                result["Expiration"] = expiration
        if params.get("ChecksumMode") == "ENABLED" and meta.get("Checksum"):
            if params.get("PartNumber") and version.parts:
                part = version.part_list[params["PartNumber"] - 1]
                if len(part) > 2 and part[2]:
                    result.update(
                        checksum_fields({**meta["Checksum"], "value": part[2], "type": "COMPOSITE"})
                    )
            else:
                result.update(checksum_fields(meta["Checksum"]))
        return result

    # -- deleting ----------------------------------------------------------------------------------

    def delete_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, key = params["Bucket"], params["Key"]
        bucket = self.bucket_for(ctx, name, "s3:DeleteObject", key)
        result = self.delete_one(bucket, key, params.get("VersionId"), params)
        self._notify_removed(ctx, bucket, key, params.get("VersionId"), result)
        return result

    def _notify_removed(
        self, ctx: RequestContext, bucket: Bucket, key: str, version_id: str | None, result: dict[str, Any]
    ) -> None:
        created_marker = result.get("DeleteMarker") and not version_id
        event = "ObjectRemoved:DeleteMarkerCreated" if created_marker else "ObjectRemoved:Delete"
        self.notify(ctx, bucket, event, key, version_id=result.get("VersionId"))

    def delete_one(
        self, bucket: Bucket, key: str, version_id: str | None, params: dict[str, Any]
    ) -> dict[str, Any]:
        """Delete a key (a delete marker when versioned) or one version of it for good."""
        if version_id:
            version = self.store.version(bucket.id, key, version_id)
            if version is None:
                if version_id != "null" and not _looks_like_version_id(version_id):
                    raise ServiceError(
                        "InvalidArgument",
                        "Invalid version id specified",
                        400,
                        ArgumentName="versionId",
                        ArgumentValue=version_id,
                    )
                return {"VersionId": version_id}
            self.check_lock_allows_delete(version, params)
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

    def check_lock_allows_delete(self, version: ObjectVersion, params: dict[str, Any]) -> None:
        meta = version.meta
        if meta.get("LegalHold") == "ON":
            raise ServiceError("AccessDenied", "Access Denied because object protected by object lock.", 403)
        retention = meta.get("Retention")
        if retention and retention["RetainUntilDate"] > self.clock.now():
            if retention["Mode"] == "COMPLIANCE" or not params.get("BypassGovernanceRetention"):
                raise ServiceError(
                    "AccessDenied", "Access Denied because object protected by object lock.", 403
                )

    def delete_objects(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.bucket_for(ctx, params["Bucket"], "s3:DeleteObject")
        request = params["Delete"]
        objects = request.get("Objects") or []
        if len(objects) > 1000 or not objects:
            raise ServiceError(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
                400,
            )
        deleted, errors = [], []
        for item in objects:
            key, version_id = item["Key"], item.get("VersionId")
            try:
                with self.db.transaction():
                    outcome = self.delete_one(bucket, key, version_id, params)
                    self._notify_removed(ctx, bucket, key, version_id, outcome)
            except ServiceError as error:
                errors.append(
                    {"Key": key, "VersionId": version_id, "Code": error.code, "Message": error.message}
                )
                continue
            entry: dict[str, Any] = {"Key": key}
            if version_id:
                entry["VersionId"] = version_id
            if outcome.get("DeleteMarker"):
                entry["DeleteMarker"] = True
                if not version_id:
                    entry["DeleteMarkerVersionId"] = outcome["VersionId"]
            deleted.append(entry)
        result: dict[str, Any] = {"Errors": errors} if errors else {}
        if not request.get("Quiet"):
            result["Deleted"] = deleted
        return result

    # -- copying -----------------------------------------------------------------------------------

    async def copy_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Data under the same key is shared (hard links, or the row's bytes); under another key (SSE-S3 to
        SSE-C, one customer key to another, plain text written before encryption at rest) it is re-encrypted:
        bodies in rows at once, blob files streamed outside the transaction, from links made inside it."""
        with self.db.transaction():
            plan = self._plan_copy(ctx, params)
            if not plan.pinned:
                return self._store_copy(ctx, params, plan, None)
        blobs = self.platform.blobs
        written: list[Any] = []
        try:
            for pin, size in plan.pinned:
                plain = bodies.read_file(pin.path, size, plan.source_cipher)
                written.append(await blobs.write(plan.cipher.encrypting(plain)))
            with self.db.transaction():
                plan.bucket = self._still_there(plan.bucket.name)
                self._check_write_conditions(plan.bucket, params["Key"], params)
                return self._store_copy(ctx, params, plan, written)
        except BaseException:
            for pending in written:
                blobs.discard(pending)
            raise
        finally:
            for pin, _size in plan.pinned:
                blobs.discard(pin)

    def _plan_copy(self, ctx: RequestContext, params: dict[str, Any]) -> _CopyPlan:
        name, key = params["Bucket"], params["Key"]
        check_key(key)
        source_bucket, source = self.copy_source(ctx, params)
        bucket = self.bucket_for(ctx, name, "s3:PutObject", key)
        same = source_bucket.id == bucket.id and source.key == key and bool(source.is_latest)
        meta = self._copied_meta(ctx, bucket, source, params)
        storage_class = params.get("StorageClass") or ("STANDARD" if same else source.storage_class)
        if storage_class not in STORAGE_CLASSES:
            raise ServiceError("InvalidStorageClass", "The storage class you specified is not valid", 400)
        if (
            same
            and params.get("MetadataDirective", "COPY") == "COPY"
            and storage_class == source.storage_class
            and sse_fields(meta) == sse_fields(source.meta)
            and not any(
                params.get(n)
                for n in (
                    "ServerSideEncryption",
                    "WebsiteRedirectLocation",
                    "SSECustomerAlgorithm",
                    "StorageClass",
                )
            )
        ):
            raise ServiceError(
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an "
                "object to itself without changing the object's metadata, storage class, website "
                "redirect location or encryption attributes.",
                400,
            )
        self._check_write_conditions(bucket, key, params)
        enc, cipher = self.keys.for_new(meta, params)
        plan = _CopyPlan(source_bucket, source, bucket, meta, storage_class, enc, cipher)
        blobs = self.platform.blobs
        same_key = source.enc == enc and (
            enc != encryption.CUSTOMER or source.meta.get("SSECustomer") == meta.get("SSECustomer")
        )
        if source.blob_id == INLINE:
            data = self.store.inline_data(source.id)
            if not same_key:
                source_cipher = self.keys.cipher_for(source.enc, params, "CopySource")
                data = cipher.seal(source_cipher.open(data) if source_cipher and data else data)
            plan.data = data
        elif same_key:
            plan.linked = [blobs.commit(blobs.copy(blob_id)) for blob_id, _size in bodies.segments(source)]
        else:
            # Re-encrypted after this transaction, from links that keep the files if the source is deleted.
            plan.source_cipher = self.keys.cipher_for(source.enc, params, "CopySource")
            plan.pinned = [(blobs.copy(blob_id), size) for blob_id, size in bodies.segments(source)]
        return plan

    def _store_copy(
        self, ctx: RequestContext, params: dict[str, Any], plan: _CopyPlan, written: list[Any] | None
    ) -> dict[str, Any]:
        """Inside the transaction: the new version, from the plan and the blobs re-encrypted for it."""
        source, bucket, meta, key = plan.source, plan.bucket, plan.meta, params["Key"]
        blobs = self.platform.blobs
        blob_ids = plan.linked if written is None else [blobs.commit(pending) for pending in written]
        parts = [[blob_id, *part[1:]] for blob_id, part in zip(blob_ids, source.part_list, strict=False)]
        blob_id = blob_ids[0] if blob_ids and not source.parts else None
        now = self.clock.now()
        version_id = self.put_version(
            bucket,
            key,
            size=source.size,
            etag=source.etag,
            modified=now,
            storage_class=plan.storage_class,
            blob_id=blob_id,
            parts=parts or None,
            meta=meta,
            data=plan.data,
            enc=plan.enc,
        )
        self.notify(ctx, bucket, "ObjectCreated:Copy", key, source.size, source.etag, version_id)
        copy_result: dict[str, Any] = {"ETag": source.etag, "LastModified": to_datetime(now)}
        copy_result.update(checksum_fields(meta.get("Checksum")))
        result: dict[str, Any] = {"CopyObjectResult": copy_result, **sse_fields(meta)}
        expiration = self.expiration(bucket, key, meta, source.size, now)
        if expiration:
            result["Expiration"] = expiration
        if bucket.versioning:
            result["VersionId"] = version_id
        if plan.source_bucket.versioning:
            result["CopySourceVersionId"] = source.version_id
        return result

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
        version = self.lookup_version(bucket, source_key, version_id)
        self.authorize(ctx, bucket, "s3:GetObject", source_key, version.meta.get("Acl") if version else None)
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
            check_customer_key_on_read(version.meta, _copy_source_key_params(params))
        return bucket, version

    def _copied_meta(
        self, ctx: RequestContext, bucket: Bucket, source: ObjectVersion, params: dict[str, Any]
    ) -> dict[str, Any]:
        directive = params.get("MetadataDirective", "COPY")
        if directive == "REPLACE":
            meta = self.new_object_meta(ctx, bucket, {**params, "Tagging": None})
        else:
            meta = self.new_object_meta(
                ctx,
                bucket,
                {
                    k: v
                    for k, v in params.items()
                    if k not in CONTENT_FIELDS and k not in ("Metadata", "Expires", "Tagging")
                },
            )
            for name in (*CONTENT_FIELDS, "Metadata", "Expires"):
                if name in source.meta:
                    meta[name] = source.meta[name]
        if params.get("TaggingDirective") == "REPLACE":
            if params.get("Tagging"):
                meta["Tags"] = tags_from_query(params["Tagging"])
        elif source.meta.get("Tags"):
            meta["Tags"] = source.meta["Tags"]
        if source.meta.get("Checksum"):
            meta["Checksum"] = source.meta["Checksum"]
        return meta

    # -- attributes --------------------------------------------------------------------------------

    def get_object_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, version = self.readable_version(
            ctx, {**params, "Key": params["Key"]}, "s3:GetObject", head=True
        )
        wanted = set(params.get("ObjectAttributes") or [])
        result: dict[str, Any] = {"LastModified": to_datetime(int(version.modified))}
        if bucket.versioning:
            result["VersionId"] = version.version_id
        if "ETag" in wanted:
            result["ETag"] = (version.etag or "").strip('"')
        if "StorageClass" in wanted:
            result["StorageClass"] = version.storage_class
        if "ObjectSize" in wanted:
            result["ObjectSize"] = version.size
        checksum = version.meta.get("Checksum")
        if "Checksum" in wanted and checksum:
            value = checksum["value"].split("-")[0]
            result["Checksum"] = {
                checksums.param_name(checksum["algorithm"]): value,
                "ChecksumType": checksum["type"],
            }
        if "ObjectParts" in wanted and version.parts:
            result["ObjectParts"] = self._object_parts(version, checksum, params)
        return result

    def _object_parts(
        self, version: ObjectVersion, checksum: dict | None, params: dict[str, Any]
    ) -> dict[str, Any]:
        parts = version.part_list
        marker = params.get("PartNumberMarker") or 0
        limit = params.get("MaxParts") or 1000
        page = list(enumerate(parts, start=1))[marker : marker + limit]
        entries = []
        for number, part in page:
            entry: dict[str, Any] = {"PartNumber": number, "Size": part[1]}
            if checksum and len(part) > 2 and part[2]:
                entry[checksums.param_name(checksum["algorithm"])] = part[2]
            entries.append(entry)
        truncated = marker + limit < len(parts)
        result: dict[str, Any] = {
            "TotalPartsCount": len(parts),
            "PartNumberMarker": marker,
            "MaxParts": limit,
            "IsTruncated": truncated,
            "Parts": entries,
        }
        if entries:
            result["NextPartNumberMarker"] = entries[-1]["PartNumber"]
        return result


# -- request checks shared by the object operations ------------------------------------------------


def storage_class_of(params: dict[str, Any]) -> str:
    storage_class = params.get("StorageClass") or "STANDARD"
    if storage_class not in STORAGE_CLASSES:
        raise ServiceError(
            "InvalidStorageClass",
            "The storage class you specified is not valid",
            400,
            StorageClassRequested=storage_class,
        )
    return storage_class


def _check_write_conditions_supported(params: dict[str, Any]) -> None:
    if params.get("IfNoneMatch") not in (None, "*"):
        raise ServiceError(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            501,
            Header="If-None-Match",
        )


def requested_checksums(params: dict[str, Any], ctx: RequestContext) -> list[str]:
    """The checksum algorithms a write names: x-amz-sdk-checksum-algorithm, a value, or a trailer."""
    found: list[str] = []
    given = [a for a in checksums.ALGORITHMS if params.get(checksums.param_name(a))]
    if len(given) > 1:
        raise ServiceError(
            "InvalidRequest",
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
            400,
        )
    found += given
    algorithm = params.get("ChecksumAlgorithm")
    if algorithm:
        if algorithm not in checksums.ALGORITHMS:
            raise ServiceError(
                "InvalidRequest",
                "Checksum algorithm provided is unsupported. Please try again with "
                "any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
                400,
            )
        if algorithm not in found:
            found.append(algorithm)
    trailer = ctx.request.headers.get("x-amz-trailer") if ctx.request else None
    if trailer:
        name = trailer.strip().lower().removeprefix("x-amz-checksum-").upper()
        if name in checksums.ALGORITHMS and name not in found:
            found.append(name)
    return found


def verify_body(
    params: dict[str, Any], received: bodies.Received, algorithms: list[str], ctx: RequestContext
) -> dict[str, Any]:
    """Check Content-MD5 and the checksum a client sent (header or trailer); the checksum to store."""
    md5 = params.get("ContentMD5")
    if md5:
        try:
            expected = base64.b64decode(md5, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ServiceError("InvalidDigest", "The Content-MD5 you specified is not valid.", 400) from exc
        if len(expected) != 16:
            raise ServiceError("InvalidDigest", "The Content-MD5 you specified is not valid.", 400)
        if expected.hex() != received.md5_hex:
            raise ServiceError(
                "BadDigest",
                "The Content-MD5 you specified did not match what we received.",
                400,
                ExpectedDigest=md5,
                CalculatedDigest=base64.b64encode(bytes.fromhex(received.md5_hex)).decode(),
            )
    length = params.get("ContentLength")
    if (
        length is not None
        and length != received.size
        and not (ctx.request and "aws-chunked" in (ctx.request.headers.get("content-encoding") or ""))
    ):
        raise ServiceError(
            "IncompleteBody",
            "You did not provide the number of bytes specified by the Content-Length HTTP header",
            400,
        )
    algorithm = algorithms[0] if algorithms else "CRC64NVME"
    computed = received.checksums[algorithm]
    sent = params.get(checksums.param_name(algorithm)) or received.trailers.get(
        checksums.header_name(algorithm)
    )
    if sent is not None and sent != computed:
        raise ServiceError(
            "BadDigest", f"The {algorithm} you specified did not match the calculated checksum.", 400
        )
    return {"algorithm": algorithm, "value": computed, "type": "FULL_OBJECT"}


def check_read_conditions(params: dict[str, Any], version: ObjectVersion) -> None:
    """RFC 7232 as S3 applies it: If-Match before If-Unmodified-Since, If-None-Match before If-Modified-Since."""
    etag = version.etag or ""
    modified = int(version.modified)
    if_match, if_none_match = params.get("IfMatch"), params.get("IfNoneMatch")
    if if_match is not None:
        if not etag_matches(if_match, etag):
            raise precondition_failed("If-Match")
    elif params.get("IfUnmodifiedSince") is not None and modified > seconds(params["IfUnmodifiedSince"]):
        raise precondition_failed("If-Unmodified-Since")
    if if_none_match is not None:
        if etag_matches(if_none_match, etag):
            raise not_modified_with(version)
    elif params.get("IfModifiedSince") is not None and modified <= seconds(params["IfModifiedSince"]):
        raise not_modified_with(version)


def not_modified_with(version: ObjectVersion) -> ServiceError:
    error = not_modified()
    error.headers = {"ETag": version.etag or "", "Last-Modified": _http_date(version.modified)}
    return error


def check_copy_conditions(params: dict[str, Any], version: ObjectVersion) -> None:
    """x-amz-copy-source-if-*: every failure is 412 (a copy has no 304)."""
    etag, modified = version.etag or "", int(version.modified)
    if_match, if_none_match = params.get("CopySourceIfMatch"), params.get("CopySourceIfNoneMatch")
    if if_match is not None and not etag_matches(if_match, etag):
        raise precondition_failed("x-amz-copy-source-If-Match")
    if if_none_match is not None and etag_matches(if_none_match, etag):
        raise precondition_failed("x-amz-copy-source-If-None-Match")
    since = params.get("CopySourceIfModifiedSince")
    if since is not None and if_none_match is None and modified <= seconds(since):
        raise precondition_failed("x-amz-copy-source-If-Modified-Since")
    until = params.get("CopySourceIfUnmodifiedSince")
    if until is not None and if_match is None and modified > seconds(until):
        raise precondition_failed("x-amz-copy-source-If-Unmodified-Since")


def check_customer_key(params: dict[str, Any]) -> str:
    """Validate SSE-C parameters; returns the key's base64 MD5 (all S3 keeps of the key)."""
    if params.get("SSECustomerAlgorithm") != "AES256":
        raise ServiceError(
            "InvalidEncryptionAlgorithmError",
            "The encryption request you specified is not valid. The valid value is AES256.",
            400,
        )
    key_text = params.get("SSECustomerKey") or ""
    try:
        key = base64.b64decode(key_text, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ServiceError(
            "InvalidArgument",
            "The secret key was invalid for the specified algorithm.",
            400,
            ArgumentName="x-amz-server-side-encryption",
            ArgumentValue="null",
        )
    digest = base64.b64encode(hashlib.md5(key).digest()).decode()
    if params.get("SSECustomerKeyMD5") and params["SSECustomerKeyMD5"] != digest:
        raise ServiceError(
            "InvalidArgument",
            "The calculated MD5 hash of the key did not match the hash that was provided.",
            400,
        )
    return digest


def check_customer_key_on_read(meta: dict[str, Any], params: dict[str, Any]) -> None:
    stored = meta.get("SSECustomer")
    if not stored:
        return
    if not params.get("SSECustomerKey"):
        raise ServiceError(
            "InvalidRequest",
            "The object was stored using a form of Server Side Encryption. The "
            "correct parameters must be provided to retrieve the object.",
            400,
        )
    if check_customer_key(params) != stored:
        raise ServiceError(
            "AccessDenied",
            "Requests specifying Server Side Encryption with Customer provided keys "
            "must provide the correct secret key.",
            403,
        )


def _copy_source_key_params(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "SSECustomerAlgorithm": params.get("CopySourceSSECustomerAlgorithm"),
        "SSECustomerKey": params.get("CopySourceSSECustomerKey"),
        "SSECustomerKeyMD5": params.get("CopySourceSSECustomerKeyMD5"),
    }


def sse_fields(meta: dict[str, Any]) -> dict[str, Any]:
    if meta.get("SSECustomer"):
        return {"SSECustomerAlgorithm": "AES256", "SSECustomerKeyMD5": meta["SSECustomer"]}
    result: dict[str, Any] = {"ServerSideEncryption": meta.get("SSE", "AES256")}
    if meta.get("KMSKeyId"):
        result["SSEKMSKeyId"] = meta["KMSKeyId"]
    if meta.get("BucketKeyEnabled"):
        result["BucketKeyEnabled"] = True
    return result


def checksum_fields(checksum: dict[str, Any] | None) -> dict[str, Any]:
    if not checksum:
        return {}
    return {checksums.param_name(checksum["algorithm"]): checksum["value"], "ChecksumType": checksum["type"]}


def tags_from_query(text: str) -> list[dict[str, str]]:
    return check_tags([{"Key": k, "Value": v} for k, v in parse_qsl(text, keep_blank_values=True)])


def check_tags(tags: list[dict[str, str]], limit: int = MAX_TAGS) -> list[dict[str, str]]:
    if len(tags) > limit:
        raise ServiceError("BadRequest", f"Object tags cannot be greater than {limit}", 400)
    keys = set()
    for tag in tags:
        key, value = tag.get("Key") or "", tag.get("Value") or ""
        if not key or len(key) > 128 or len(value) > 256 or key.startswith("aws:"):
            raise ServiceError("InvalidTag", "The TagKey you have provided is invalid", 400, TagKey=key)
        if key in keys:
            raise ServiceError(
                "InvalidTag", "Cannot provide multiple Tags with the same key", 400, TagKey=key
            )
        keys.add(key)
    return [{"Key": t["Key"], "Value": t.get("Value") or ""} for t in tags]


def _looks_like_version_id(value: str) -> bool:
    return len(value) == 32


def _http_date(moment: float) -> str:
    from email.utils import formatdate

    return formatdate(int(moment), usegmt=True)
