"""Objects: put (streamed, checksummed, conditional), get/head (ranges, conditions), delete, copy, attributes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.s3 import bodies, checksums, encryption, lifecycle
from overcast.services.s3.common import STORAGE_CLASSES, check_key, quoted, to_datetime
from overcast.services.s3.object_rules import (
    check_write_conditions_supported,
    checksum_fields,
    mail_safe,
    requested_checksums,
    sse_fields,
    storage_class_of,
    tags_from_query,
    verify_body,
)
from overcast.services.s3.store import INLINE, Bucket, ObjectVersion
from overcast.services.s3.versions import CONTENT_FIELDS

if TYPE_CHECKING:
    from overcast.services.s3.provider import S3Provider

RESPONSE_OVERRIDES = {
    "ResponseContentType": "ContentType",
    "ResponseCacheControl": "CacheControl",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentLanguage": "ContentLanguage",
}


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
    checksum: str | None = None  # an algorithm the copy asks for that the source's checksum is not: computed


async def _hashing(chunks: AsyncIterator[bytes], hasher: Any) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        hasher.update(chunk)
        yield chunk


def _whole_object(algorithm: str, hasher: Any) -> dict[str, Any]:
    return {"algorithm": algorithm, "value": checksums.encode(hasher.digest()), "type": "FULL_OBJECT"}


def check_overrides_signed(ctx: RequestContext, params: dict[str, Any]) -> None:
    """response-* overrides need a signed request (a header signature or a presigned URL)."""
    if ctx.principal.is_anonymous and any(
        params.get(name) for name in (*RESPONSE_OVERRIDES, "ResponseExpires")
    ):
        raise ServiceError(
            "InvalidRequest",
            "Request specific response headers cannot be used for anonymous GET requests.",
            400,
        )


def check_range_request(params: dict[str, Any]) -> None:
    """partNumber must be a part number, and not come with a Range."""
    number = params.get("PartNumber")
    if number is None:
        return
    if not 1 <= number <= 10_000:
        raise ServiceError(
            "InvalidArgument",
            "Part number must be an integer between 1 and 10000, inclusive",
            400,
            ArgumentName="partNumber",
            ArgumentValue=number,
        )
    if params.get("Range"):
        raise ServiceError(
            "InvalidRequest", "Cannot specify both Range header and partNumber query parameter", 400
        )


def part_range(version: ObjectVersion, number: int) -> tuple[int, int]:
    """[start, end) of part `number` (an object not uploaded in parts is one part); 416 beyond the parts."""
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


class ObjectOperations(Operations):
    service: S3Provider

    # -- writing -----------------------------------------------------------------------------------

    async def put_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, key = params["Bucket"], params["Key"]
        versions = self.service.versions
        with bodies.refusing_unread_body():
            check_key(key)
            bucket = self.service.bucket_for(ctx, name, "s3:PutObject", key)
            self.service.authorize_settings(ctx, bucket, params, key)
            changes = self.db.conn.total_changes
            meta = versions.new_object_meta(ctx, bucket, params)
            storage_class = storage_class_of(params)
            check_write_conditions_supported(params)
            algorithms = requested_checksums(params, ctx)
            enc, cipher = self.service.keys.for_new(ctx, meta, params, f"arn:aws:s3:::{bucket.name}/{key}")
        received = await bodies.receive(
            self.platform.blobs, params.get("Body"), algorithms or ["CRC64NVME"], inline=True, cipher=cipher
        )
        try:
            checksum = verify_body(params, received, algorithms, ctx)
            with self.db.transaction():
                # This process is the database's only writer: while total_changes stays the same, the bucket
                # read before the body arrived is still what the database holds.
                if self.db.conn.total_changes != changes:
                    bucket = versions.still_there(name)
                versions.check_write_conditions(bucket, key, params)
                meta["Checksum"] = checksum
                blob_id = self.platform.blobs.commit(received.blob) if received.blob is not None else None
                now = self.clock.now()
                version_id = versions.put_version(
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
                expiration = versions.expiration(bucket, key, meta, received.size, now)
                self.service.notify(
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
        if bucket.versioning == "Enabled":  # suspended: the null version, of which S3 says nothing
            result["VersionId"] = version_id
        if expiration:
            result["Expiration"] = expiration
        return result

    # -- reading -----------------------------------------------------------------------------------

    def get_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        check_range_request(params)
        check_overrides_signed(ctx, params)
        bucket, version = self.service.versions.readable_version(ctx, params, "s3:GetObject")
        size = version.size
        start, end = 0, size
        part_number = params.get("PartNumber")
        wanted = None if part_number else bodies.parse_range(params.get("Range"), size)
        if part_number:
            start, end = part_range(version, part_number)
        elif wanted is not None:
            start, end = wanted
        result = self.object_headers(bucket, version, params)
        if part_number:
            result["PartsCount"] = max(1, len(version.part_list))
        if wanted is not None or part_number:
            result["ContentRange"] = f"bytes {start}-{end - 1}/{size}" if size else None
            result["__status__"] = 206
            if not part_number:
                for name in checksums.ALGORITHMS:
                    result.pop(checksums.param_name(name), None)
                result.pop("ChecksumType", None)
        result["ContentLength"] = end - start
        result["Body"] = self.service.versions.body_of(version, start, end, params, ctx=ctx)
        for override, member in RESPONSE_OVERRIDES.items():
            if params.get(override):
                result[member] = mail_safe(params[override])
        if params.get("ResponseExpires"):
            result["Expires"] = params["ResponseExpires"]
        return result

    def head_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        check_range_request(params)
        check_overrides_signed(ctx, params)
        bucket, version = self.service.versions.readable_version(ctx, params, "s3:GetObject", head=True)
        if params.get("PartNumber"):
            start, end = part_range(version, params["PartNumber"])
            result = self.object_headers(bucket, version, params)
            result["ContentLength"] = end - start
            result["PartsCount"] = max(1, len(version.part_list))
            result["ContentRange"] = f"bytes {start}-{end - 1}/{version.size}"
            result["__status__"] = 206
            return result
        result = self.object_headers(bucket, version, params)
        result["ContentLength"] = version.size
        wanted = bodies.parse_range(params.get("Range"), version.size)
        if wanted:
            result["ContentLength"] = wanted[1] - wanted[0]
            result["ContentRange"] = f"bytes {wanted[0]}-{wanted[1] - 1}/{version.size}"
            result["__status__"] = 206
        for override, member in RESPONSE_OVERRIDES.items():
            if params.get(override):
                result[member] = mail_safe(params[override])
        return result

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
            result["Metadata"] = {k: mail_safe(v) for k, v in meta["Metadata"].items()}
        if bucket.versioning:
            result["VersionId"] = version.version_id
        if version.storage_class != "STANDARD":
            result["StorageClass"] = version.storage_class
        if meta.get("Tags"):
            result["TagCount"] = len(meta["Tags"])
        restore = self.service.versions.restore_header(version)
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
            expiration = lifecycle.expiration(self.service.store.document(bucket.id, "lifecycle"), version)
            if expiration:
                result["Expiration"] = expiration
        if params.get("ChecksumMode") == "ENABLED" and meta.get("Checksum"):
            result.update(self._checksum_read(version, params.get("PartNumber")))
        return result

    @staticmethod
    def _checksum_read(version: ObjectVersion, part_number: int | None) -> dict[str, Any]:
        """The checksum GetObject/HeadObject report: the object's; for one part of a COMPOSITE upload, that
        part's; for one part of a FULL_OBJECT upload, none (unless it is the only part: the object's)."""
        checksum = version.meta["Checksum"]
        parts = version.part_list if version.parts else []
        if not part_number or not parts:
            return checksum_fields(checksum)
        part = parts[part_number - 1]
        if checksum["type"] == "COMPOSITE" and len(part) > 2 and part[2]:
            return checksum_fields({**checksum, "value": part[2], "type": "COMPOSITE"})
        if checksum["type"] == "FULL_OBJECT" and len(parts) == 1:
            return checksum_fields(checksum)
        return {}

    # -- deleting ----------------------------------------------------------------------------------

    def delete_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, key = params["Bucket"], params["Key"]
        # deleting a version for good is its own permission (s3:DeleteObjectVersion)
        action = "s3:DeleteObjectVersion" if params.get("VersionId") else "s3:DeleteObject"
        bucket = self.service.bucket_for(ctx, name, action, key)
        result = self.service.versions.delete_one(bucket, key, params.get("VersionId"), params, ctx)
        self._notify_removed(ctx, bucket, key, params.get("VersionId"), result)
        return result

    def _notify_removed(
        self, ctx: RequestContext, bucket: Bucket, key: str, version_id: str | None, result: dict[str, Any]
    ) -> None:
        created_marker = result.get("DeleteMarker") and not version_id
        event = "ObjectRemoved:DeleteMarkerCreated" if created_marker else "ObjectRemoved:Delete"
        self.service.notify(ctx, bucket, event, key, version_id=result.get("VersionId"))

    def delete_objects(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.service.bucket_for(ctx, params["Bucket"], None)  # each key is authorized on its own
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
                action = "s3:DeleteObjectVersion" if version_id else "s3:DeleteObject"
                self.service.authorize(ctx, bucket, action, key)
                with self.db.transaction():
                    outcome = self.service.versions.delete_one(bucket, key, version_id, params, ctx)
                    self._notify_removed(ctx, bucket, key, version_id, outcome)
            except ServiceError as error:
                # a key refused by policy is AWS's short "Access Denied" entry, whoever refused it
                message = "Access Denied" if error.code == "AccessDenied" else error.message
                errors.append({"Key": key, "VersionId": version_id, "Code": error.code, "Message": message})
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
        hasher = checksums.new_hasher(plan.checksum) if plan.checksum else None
        try:
            for pin, size in plan.pinned:
                plain = bodies.read_file(pin.path, size, plan.source_cipher)
                if hasher is not None:
                    plain = _hashing(plain, hasher)
                written.append(await blobs.write(plan.cipher.encrypting(plain)))
            if hasher is not None:
                plan.meta["Checksum"] = _whole_object(plan.checksum, hasher)
            with self.db.transaction():
                plan.bucket = self.service.versions.still_there(plan.bucket.name)
                self.service.versions.check_write_conditions(plan.bucket, params["Key"], params)
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
        source_bucket, source = self.service.versions.copy_source(ctx, params)
        bucket = self.service.bucket_for(ctx, name, "s3:PutObject", key)
        self.service.authorize_settings(ctx, bucket, params, key)
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
        self.service.versions.check_write_conditions(bucket, key, params)
        enc, cipher = self.service.keys.for_new(ctx, meta, params, f"arn:aws:s3:::{bucket.name}/{key}")
        plan = _CopyPlan(source_bucket, source, bucket, meta, storage_class, enc, cipher)
        wanted = params.get("ChecksumAlgorithm")
        if wanted and wanted != (meta.get("Checksum") or {}).get("algorithm"):
            requested_checksums({"ChecksumAlgorithm": wanted}, ctx)  # a supported one
            plan.checksum = wanted
        blobs = self.platform.blobs
        same_key = source.enc == enc and (
            enc != encryption.CUSTOMER or source.meta.get("SSECustomer") == meta.get("SSECustomer")
        )
        if source.blob_id == INLINE:
            data = self.service.store.inline_data(source.id)
            if not same_key or plan.checksum:
                source_cipher = self.service.keys.cipher_for(source.enc, params, "CopySource", ctx)
                plain = source_cipher.open(data) if source_cipher and data else data
                if plan.checksum:
                    hasher = checksums.new_hasher(plan.checksum)
                    hasher.update(plain or b"")
                    meta["Checksum"] = _whole_object(plan.checksum, hasher)
                data = cipher.seal(plain) if not same_key else data
            plan.data = data
        elif same_key and not plan.checksum:
            plan.linked = [blobs.commit(blobs.copy(blob_id)) for blob_id, _size in bodies.segments(source)]
        else:
            # Re-encrypted after this transaction, from links that keep the files if the source is deleted.
            plan.source_cipher = self.service.keys.cipher_for(source.enc, params, "CopySource", ctx)
            plan.pinned = [(blobs.copy(blob_id), size) for blob_id, size in bodies.segments(source)]
        return plan

    def _store_copy(
        self, ctx: RequestContext, params: dict[str, Any], plan: _CopyPlan, written: list[Any] | None
    ) -> dict[str, Any]:
        """Inside the transaction: the new version, from the plan and the blobs re-encrypted for it."""
        source, bucket, meta, key = plan.source, plan.bucket, plan.meta, params["Key"]
        blobs = self.platform.blobs
        blob_ids = plan.linked if written is None else [blobs.commit(pending) for pending in written]
        # the parts' own checksums are the source's algorithm's: a recomputed copy keeps their sizes only
        kept = slice(1, 2) if plan.checksum else slice(1, None)
        parts = [[blob_id, *part[kept]] for blob_id, part in zip(blob_ids, source.part_list, strict=False)]
        blob_id = blob_ids[0] if blob_ids and not source.parts else None
        now = self.clock.now()
        version_id = self.service.versions.put_version(
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
        self.service.notify(ctx, bucket, "ObjectCreated:Copy", key, source.size, source.etag, version_id)
        copy_result: dict[str, Any] = {"ETag": source.etag, "LastModified": to_datetime(now)}
        copy_result.update(checksum_fields(meta.get("Checksum")))
        result: dict[str, Any] = {"CopyObjectResult": copy_result, **sse_fields(meta)}
        expiration = self.service.versions.expiration(bucket, key, meta, source.size, now)
        if expiration:
            result["Expiration"] = expiration
        if bucket.versioning == "Enabled":
            result["VersionId"] = version_id
        if plan.source_bucket.versioning:
            result["CopySourceVersionId"] = source.version_id
        return result

    def _copied_meta(
        self, ctx: RequestContext, bucket: Bucket, source: ObjectVersion, params: dict[str, Any]
    ) -> dict[str, Any]:
        directive = params.get("MetadataDirective", "COPY")
        if directive == "REPLACE":
            meta = self.service.versions.new_object_meta(ctx, bucket, {**params, "Tagging": None})
        else:
            meta = self.service.versions.new_object_meta(
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
        attributes, read = self.service.attributes_actions(ctx, params)
        bucket, version = self.service.versions.readable_version(ctx, params, attributes, head=True)
        self.service.authorize(ctx, bucket, read, params["Key"])
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
            if checksum and not checksum.get("default"):
                result["ObjectParts"] = self._object_parts(version, checksum, params)
            else:  # no additional checksum: S3 lists no parts, it only counts them
                result["ObjectParts"] = {"TotalPartsCount": len(version.part_list)}
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
