"""Multipart uploads: create, upload part (and part copy), complete, abort, list uploads and parts.

Parts stay the blobs they were uploaded as; completing an upload records the chosen parts' blobs as the
object's pieces, so completing a 10,000-part upload copies no data. The ETag is S3's: the MD5 of the
parts' binary MD5s, then "-N". Checksums are per part, and for the object either COMPOSITE (the checksum of
the part checksums, "-N") or FULL_OBJECT (CRCs combined arithmetically).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import canonical_user_id
from overcast.services.base import Operations
from overcast.services.s3 import bodies, checksums
from overcast.services.s3.common import check_key, owner_of, to_datetime
from overcast.services.s3.object_rules import (
    check_customer_key,
    check_customer_key_on_read,
    checksum_fields,
    requested_checksums,
    sse_fields,
    storage_class_of,
    verify_body,
)

if TYPE_CHECKING:
    from overcast.services.s3.provider import S3Provider

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10_000
COMPLETION_KEPT = 24 * 3600  # how long a completed upload answers a repeated completion (virtual seconds)


def _part_list(requested: list[dict[str, Any]]) -> list[list[Any]]:
    """The parts a completion names, comparable with those of an earlier one."""
    return [[part.get("PartNumber"), (part.get("ETag") or "").strip().strip('"')] for part in requested]


def _no_such_upload(upload_id: str) -> ServiceError:
    return ServiceError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the "
        "upload may have been aborted or completed.",
        404,
        UploadId=upload_id,
    )


def _checksum_type(algorithm: str | None, requested: str | None) -> str | None:
    if algorithm is None:
        if requested:
            raise ServiceError(
                "InvalidRequest",
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.",
                400,
            )
        return None
    kind = requested or ("FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE")
    if kind == "FULL_OBJECT" and algorithm not in checksums.CRC_ALGORITHMS:
        raise ServiceError(
            "InvalidRequest",
            f"The FULL_OBJECT checksum type cannot be used with the {algorithm.lower()} checksum algorithm.",
            400,
        )
    if kind == "COMPOSITE" and algorithm == "CRC64NVME":
        raise ServiceError(
            "InvalidRequest",
            "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.",
            400,
        )
    return kind


def check_part_key(meta: dict[str, Any], params: dict[str, Any]) -> None:
    """A part of an SSE-C upload comes with the upload's customer key (and a plain upload's with none)."""
    if not meta.get("SSECustomer") and not params.get("SSECustomerKey"):
        return
    if not meta.get("SSECustomer"):
        raise _encryption_mismatch()
    if not params.get("SSECustomerKey"):
        check_customer_key_on_read(meta, params)  # no key at all: the key must be provided (400)
    if check_customer_key(params) != meta["SSECustomer"]:
        raise _encryption_mismatch()


def _encryption_mismatch() -> ServiceError:
    return ServiceError(
        "InvalidRequest", "The provided encryption parameters did not match the ones used originally.", 400
    )


class MultipartOperations(Operations):
    service: S3Provider

    def create_multipart_upload(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, key = params["Bucket"], params["Key"]
        check_key(key)
        bucket = self.service.bucket_for(ctx, name, "s3:PutObject", key)
        self.service.authorize_settings(ctx, bucket, params, key)
        meta = self.service.versions.new_object_meta(ctx, bucket, params)
        algorithm = params.get("ChecksumAlgorithm")
        kind = _checksum_type(algorithm, params.get("ChecksumType"))
        upload_id = secrets.token_urlsafe(48)
        self.service.store.create_upload(
            upload_id,
            bucket.id,
            key,
            self.clock.now(),
            {
                "meta": meta,
                "storage_class": storage_class_of(params),
                "algorithm": algorithm,
                "type": kind,
                "initiator": ctx.principal.arn,
                "initiator_account": ctx.principal.account_id,
                # how the parts are stored (absent: plain text, as before)
                "enc": self.service.keys.enc_for(ctx, meta, params, f"arn:aws:s3:::{name}/{key}"),
            },
        )
        result: dict[str, Any] = {"Bucket": name, "Key": key, "UploadId": upload_id, **sse_fields(meta)}
        if algorithm:
            result["ChecksumAlgorithm"] = algorithm
            result["ChecksumType"] = kind
        return result

    def _upload_of(
        self, ctx: RequestContext, params: dict[str, Any], action: str
    ) -> tuple[Any, dict[str, Any]]:
        bucket = self.service.bucket_for(ctx, params["Bucket"], action, params["Key"])
        upload = self.service.store.upload(params["UploadId"])
        if upload is None or upload[0] != bucket.id or upload[1] != params["Key"]:
            raise _no_such_upload(params["UploadId"])
        return bucket, upload[3]

    async def upload_part(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with bodies.refusing_unread_body():
            number = _part_number(params["PartNumber"])
            _bucket, upload = self._upload_of(ctx, params, "s3:PutObject")
            check_part_key(upload["meta"], params)
            algorithm = upload["algorithm"] or "CRC64NVME"
            sent = requested_checksums(params, ctx)
            if upload["algorithm"] and sent and sent[0] != algorithm:
                raise ServiceError(
                    "InvalidRequest",
                    f"Checksum Type mismatch occurred, expected checksum Type: "
                    f"{algorithm.lower()}, actual checksum Type: {sent[0].lower()}",
                    400,
                )
        hashed = [algorithm, *(a for a in sent if a != algorithm)]
        cipher = self.service.keys.cipher_for(upload.get("enc"), params, ctx=ctx)
        received = await bodies.receive(self.platform.blobs, params.get("Body"), hashed, cipher=cipher)
        try:
            verify_body(params, received, sent or [algorithm], ctx)
            checksum = {"value": received.checksums[algorithm]}
            with self.db.transaction():
                if self.service.store.upload(params["UploadId"]) is None:
                    raise _no_such_upload(params["UploadId"])
                blob_id = self.platform.blobs.commit(received.blob)
                replaced = self.service.store.put_part(
                    params["UploadId"],
                    number,
                    blob_id,
                    received.size,
                    f'"{received.md5_hex}"',
                    self.clock.now(),
                    checksum["value"],
                )
                if replaced:
                    self.platform.blobs.delete(replaced)
        except BaseException:
            bodies.discard(self.platform.blobs, received)
            raise
        result: dict[str, Any] = {"ETag": f'"{received.md5_hex}"', **sse_fields(upload["meta"])}
        for name in sent or ([algorithm] if upload["algorithm"] else []):
            result[checksums.param_name(name)] = received.checksums[name]
        return result

    async def upload_part_copy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        number = _part_number(params["PartNumber"])
        with self.db.transaction():
            _bucket, upload = self._upload_of(ctx, params, "s3:PutObject")
            check_part_key(upload["meta"], params)
            source_bucket, source = self.service.versions.copy_source(ctx, params)
            start, end = _copy_range(params.get("CopySourceRange"), source.size)
            data = self.service.versions.body_of(source, start, end, params, "CopySource", ctx)
        algorithm = upload["algorithm"] or "CRC64NVME"
        cipher = self.service.keys.cipher_for(upload.get("enc"), params, ctx=ctx)
        received = await bodies.receive(self.platform.blobs, data, [algorithm], cipher=cipher)
        try:
            with self.db.transaction():
                if self.service.store.upload(params["UploadId"]) is None:
                    raise _no_such_upload(params["UploadId"])
                blob_id = self.platform.blobs.commit(received.blob)
                now = self.clock.now()
                replaced = self.service.store.put_part(
                    params["UploadId"],
                    number,
                    blob_id,
                    received.size,
                    f'"{received.md5_hex}"',
                    now,
                    received.checksums[algorithm],
                )
                if replaced:
                    self.platform.blobs.delete(replaced)
        except BaseException:
            bodies.discard(self.platform.blobs, received)
            raise
        copy_result: dict[str, Any] = {"ETag": f'"{received.md5_hex}"', "LastModified": to_datetime(now)}
        if upload["algorithm"]:
            copy_result[checksums.param_name(algorithm)] = received.checksums[algorithm]
        result: dict[str, Any] = {"CopyPartResult": copy_result, **sse_fields(upload["meta"])}
        if source_bucket.versioning:
            result["CopySourceVersionId"] = source.version_id
        return result

    def complete_multipart_upload(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        upload_id, key = params["UploadId"], params["Key"]
        requested = (params.get("MultipartUpload") or {}).get("Parts") or []
        bucket = self.service.bucket_for(ctx, params["Bucket"], "s3:PutObject", key)
        if self.service.store.upload(upload_id) is None:
            return self._completed_again(bucket, key, upload_id, requested)
        bucket, upload = self._upload_of(ctx, params, "s3:PutObject")
        if not requested:
            raise ServiceError("InvalidRequest", "You must specify at least one part", 400)
        stored = {row[0]: row for row in self.service.store.parts(upload_id)}
        chosen = self._chosen_parts(upload, upload_id, requested, stored)
        size = sum(part[2] for part in chosen)
        if params.get("MpuObjectSize") is not None and params["MpuObjectSize"] != size:
            raise ServiceError(
                "InvalidRequest",
                f"The provided 'x-amz-mp-object-size' header value "
                f"{params['MpuObjectSize']} does not match what was computed: {size}",
                400,
            )
        checksum = self._object_checksum(upload, chosen, params)
        self.service.versions.check_write_conditions(bucket, key, params)
        digest = hashlib.md5(b"".join(bytes.fromhex(p[3].strip('"')) for p in chosen)).hexdigest()
        etag = f'"{digest}-{len(chosen)}"'
        # an upload that named no algorithm has S3's own checksum only ("default": no part checksums to show)
        meta = {
            **upload["meta"],
            "Checksum": checksum if upload["algorithm"] else {**checksum, "default": True},
        }
        pieces = [[p[1], p[2], p[5]] for p in chosen]
        used = {p[1] for p in chosen}
        for row in stored.values():
            if row[1] not in used:
                self.platform.blobs.delete(row[1])
        self.service.store.delete_upload(upload_id)
        now = self.clock.now()
        version_id = self.service.versions.put_version(
            bucket,
            key,
            size=size,
            etag=etag,
            modified=now,
            storage_class=upload["storage_class"],
            parts=pieces,
            meta=meta,
            enc=upload.get("enc"),
        )
        self.service.notify(ctx, bucket, "ObjectCreated:CompleteMultipartUpload", key, size, etag, version_id)
        host = ctx.request.host if ctx.request else "localhost"
        result: dict[str, Any] = {
            "Location": f"http://{host}/{bucket.name}/{quote(key)}",
            "Bucket": bucket.name,
            "Key": key,
            "ETag": etag,
            **sse_fields(meta),
            **checksum_fields(checksum),  # CRC64NVME, FULL_OBJECT, when the upload named no algorithm
        }
        if bucket.versioning == "Enabled":
            result["VersionId"] = version_id
        expiration = self.service.versions.expiration(bucket, key, meta, size, now)
        if expiration:
            result["Expiration"] = expiration
        self.service.store.forget_completions_before(now - COMPLETION_KEPT)
        self.service.store.record_completion(upload_id, bucket.id, key, now, _part_list(requested), result)
        return result

    def _completed_again(
        self, bucket: Any, key: str, upload_id: str, requested: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """A CompleteMultipartUpload repeated with the same parts is answered as the first one was."""
        done = self.service.store.completion(upload_id)
        if done is None or done[0] != bucket.id or done[1] != key or done[2] != _part_list(requested):
            raise _no_such_upload(upload_id)
        return done[3]

    def _chosen_parts(
        self,
        upload: dict[str, Any],
        upload_id: str,
        requested: list[dict[str, Any]],
        stored: dict[int, tuple],
    ) -> list[tuple]:
        chosen: list[tuple] = []
        previous = 0
        algorithm = upload["algorithm"]
        for index, part in enumerate(requested):
            number = part["PartNumber"]
            if number <= previous:
                raise ServiceError(
                    "InvalidPartOrder",
                    "The list of parts was not in ascending order. Parts must be ordered by part number.",
                    400,
                    UploadId=upload_id,
                )
            previous = number
            row = stored.get(number)
            etag = (part.get("ETag") or "").strip().strip('"')
            sent = part.get(checksums.param_name(algorithm)) if algorithm else None
            if row is None or row[3].strip('"') != etag or (sent and sent != row[5]):
                raise ServiceError(
                    "InvalidPart",
                    "One or more of the specified parts could not be found.  The part "
                    "may not have been uploaded, or the specified entity tag may not match the "
                    "part's entity tag.",
                    400,
                    UploadId=upload_id,
                    PartNumber=number,
                    ETag=part.get("ETag"),
                )
            if index < len(requested) - 1 and row[2] < MIN_PART_SIZE:
                raise ServiceError(
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                    400,
                    ProposedSize=row[2],
                    MinSizeAllowed=MIN_PART_SIZE,
                    PartNumber=number,
                    ETag=row[3].strip('"'),
                )
            chosen.append(row)
        return chosen

    def _object_checksum(
        self, upload: dict[str, Any], chosen: list[tuple], params: dict[str, Any]
    ) -> dict[str, Any]:
        algorithm = upload["algorithm"] or "CRC64NVME"
        kind = upload["type"] or "FULL_OBJECT"
        if kind == "COMPOSITE":
            value = checksums.composite(algorithm, [p[5] for p in chosen])
        else:
            value = checksums.full_object_crc(algorithm, [(p[5], p[2]) for p in chosen])
        sent = params.get(checksums.param_name(algorithm))
        if sent and sent.split("-")[0] != value.split("-")[0]:
            raise ServiceError(
                "BadDigest",
                f"The {algorithm.lower()} you specified for the full object did not "
                "match the calculated checksum.",
                400,
            )
        return {"algorithm": algorithm, "value": value, "type": kind}

    def abort_multipart_upload(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._upload_of(ctx, params, "s3:AbortMultipartUpload")
        abort_upload(self.service, params["UploadId"])
        return {}

    def list_parts(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _bucket, upload = self._upload_of(ctx, params, "s3:ListMultipartUploadParts")
        marker = params.get("PartNumberMarker") or 0
        limit = min(params.get("MaxParts") or 1000, 1000)
        rows = self.service.store.parts(params["UploadId"], marker, limit + 1)
        algorithm = upload["algorithm"]
        parts = []
        for number, _blob, size, etag, modified, checksum in rows[:limit]:
            entry: dict[str, Any] = {
                "PartNumber": number,
                "LastModified": to_datetime(modified),
                "ETag": etag,
                "Size": size,
            }
            if algorithm:
                entry[checksums.param_name(algorithm)] = checksum
            parts.append(entry)
        result: dict[str, Any] = {
            "Bucket": params["Bucket"],
            "Key": params["Key"],
            "UploadId": params["UploadId"],
            "PartNumberMarker": marker,
            "MaxParts": limit,
            "IsTruncated": len(rows) > limit,
            "Parts": parts,
            "Initiator": _initiator(upload),
            "Owner": owner_of(upload["meta"].get("Owner", "")),
            "StorageClass": upload["storage_class"],
        }
        if parts:
            result["NextPartNumberMarker"] = parts[-1]["PartNumber"]
        if algorithm:
            result["ChecksumAlgorithm"] = algorithm
            result["ChecksumType"] = upload["type"]
        return result

    def list_multipart_uploads(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.service.bucket_for(ctx, params["Bucket"], "s3:ListBucketMultipartUploads")
        prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter")
        limit = min(params.get("MaxUploads") or 1000, 1000)
        key_marker, id_marker = params.get("KeyMarker") or "", params.get("UploadIdMarker") or ""
        after_key = key_marker if id_marker or not key_marker else key_marker + "\x00"
        uploads, prefixes = [], []
        truncated = False
        last: tuple[str, str] | None = None
        while not truncated:
            rows = self.service.store.uploads_page(
                bucket.id, max(after_key, prefix) if not id_marker else after_key, id_marker, 1001
            )
            for upload_id, key, initiated, meta in rows:
                after_key, id_marker = key, upload_id
                if not key.startswith(prefix):
                    if key > prefix:
                        rows = []
                        break
                    continue
                if len(uploads) + len(prefixes) >= limit:
                    truncated = True
                    break
                at = key.find(delimiter, len(prefix)) if delimiter else -1
                if at >= 0:
                    common = key[: at + len(delimiter)]
                    if common not in prefixes:
                        prefixes.append(common)
                    continue
                uploads.append(_upload_entry(upload_id, key, initiated, meta))
                last = (key, upload_id)
            if len(rows) < 1001:
                break
        result: dict[str, Any] = {
            "Bucket": bucket.name,
            "KeyMarker": key_marker,
            "UploadIdMarker": params.get("UploadIdMarker") or "",
            "Prefix": prefix,
            "MaxUploads": limit,
            "IsTruncated": truncated,
            "Uploads": uploads,
            "CommonPrefixes": [{"Prefix": p} for p in prefixes],
        }
        if delimiter:
            result["Delimiter"] = delimiter
        if truncated and last:
            result["NextKeyMarker"], result["NextUploadIdMarker"] = last
        return result


def abort_upload(service: S3Provider, upload_id: str) -> None:
    """Forget an upload and its parts' data: AbortMultipartUpload, and lifecycle's
    AbortIncompleteMultipartUpload."""
    for row in service.store.parts(upload_id):
        service.platform.blobs.delete(row[1])
    service.store.delete_upload(upload_id)


def _upload_entry(upload_id: str, key: str, initiated: float, meta: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "UploadId": upload_id,
        "Key": key,
        "Initiated": to_datetime(initiated),
        "StorageClass": meta["storage_class"],
        "Owner": owner_of(meta["meta"].get("Owner", "")),
        "Initiator": _initiator(meta),
    }
    if meta.get("algorithm"):
        entry["ChecksumAlgorithm"] = meta["algorithm"]
        entry["ChecksumType"] = meta["type"]
    return entry


def _initiator(upload: dict[str, Any]) -> dict[str, str]:
    """Who started an upload, as S3 names them: the canonical id of their account."""
    return {"ID": canonical_user_id(upload.get("initiator_account") or "")}


def _part_number(number: int) -> int:
    if not 1 <= number <= MAX_PARTS:
        raise ServiceError(
            "InvalidArgument",
            "Part number must be an integer between 1 and 10000, inclusive",
            400,
            ArgumentName="partNumber",
            ArgumentValue=number,
        )
    return number


def _copy_range(header: str | None, size: int) -> tuple[int, int]:
    """x-amz-copy-source-range: exactly bytes=first-last, within the source."""
    if not header:
        return 0, size
    first, dash, last = header.removeprefix("bytes=").partition("-")
    if not header.startswith("bytes=") or not dash or not first.isdigit() or not last.isdigit():
        raise ServiceError(
            "InvalidArgument",
            "The x-amz-copy-source-range value must be of the form "
            "bytes=first-last where first and last are the zero-based offsets of the first and "
            "last bytes to copy",
            400,
            ArgumentName="x-amz-copy-source-range",
            ArgumentValue=header,
        )
    start, end = int(first), int(last) + 1
    if end <= start or end > size:
        raise ServiceError(
            "InvalidArgument",
            f"Range specified is not valid for source object of size: {size}",
            400,
            ArgumentName="x-amz-copy-source-range",
            ArgumentValue=header,
        )
    return start, end
