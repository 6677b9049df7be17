"""Listing: ListObjects (v1, v2) and ListObjectVersions over the key index.

A page is a handful of index range scans: keys are read in order from the cursor, and when a key falls
under a common prefix (Delimiter), the scan seeks past every key of that prefix at once (to the prefix's
successor string) instead of reading them, so a page costs the same at a thousand keys or a million.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import encode_token
from overcast.services.s3.common import owner_of, resume_after, to_datetime
from overcast.services.s3.store import ObjectVersion

if TYPE_CHECKING:
    from overcast.services.s3.provider import S3Provider

MAX_KEYS = 1000


@dataclass
class Page:
    entries: list[ObjectVersion] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str | None = None  # the last key or common prefix returned
    last_version: ObjectVersion | None = None


def successor(prefix: str) -> str:
    """The smallest string greater than every string that starts with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _common_prefix(key: str, prefix: str, delimiter: str | None) -> str | None:
    if not delimiter:
        return None
    at = key.find(delimiter, len(prefix))
    return key[: at + len(delimiter)] if at >= 0 else None


class ListingOperations(Operations):
    service: S3Provider

    def list_objects_v2(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.service.bucket_for(ctx, params["Bucket"], "s3:ListBucket")
        prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or None
        max_keys = _max_keys(params)
        token = params.get("ContinuationToken")
        if token == "":
            raise _bad_token()
        after = (
            resume_after(token, "ListObjectsV2", _bad_token) if token else (params.get("StartAfter") or "")
        )
        page = self.current_keys(bucket.id, prefix, delimiter, after, max_keys)
        encode = _encoder(params)
        result: dict[str, Any] = {
            "Name": bucket.name,
            "Prefix": encode(prefix),
            "MaxKeys": max_keys,
            "IsTruncated": page.truncated,
            "KeyCount": len(page.entries) + len(page.prefixes),
            "Contents": [_content(v, encode, params.get("FetchOwner")) for v in page.entries],
            "CommonPrefixes": [{"Prefix": encode(p)} for p in page.prefixes],
        }
        if delimiter:
            result["Delimiter"] = encode(delimiter)
        if params.get("EncodingType"):
            result["EncodingType"] = params["EncodingType"]
        if token:
            result["ContinuationToken"] = token
        if params.get("StartAfter"):
            result["StartAfter"] = encode(params["StartAfter"])
        if page.truncated and page.last is not None:
            result["NextContinuationToken"] = encode_token(page.last, "ListObjectsV2")
        return result

    def list_objects(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.service.bucket_for(ctx, params["Bucket"], "s3:ListBucket")
        prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or None
        max_keys = _max_keys(params)
        marker = params.get("Marker") or ""
        page = self.current_keys(bucket.id, prefix, delimiter, marker, max_keys)
        encode = _encoder(params)
        result: dict[str, Any] = {
            "Name": bucket.name,
            "Prefix": encode(prefix),
            "Marker": encode(marker),
            "MaxKeys": max_keys,
            "IsTruncated": page.truncated,
            "Contents": [_content(v, encode, True) for v in page.entries],
            "CommonPrefixes": [{"Prefix": encode(p)} for p in page.prefixes],
        }
        if delimiter:
            result["Delimiter"] = encode(delimiter)
            if page.truncated and page.last is not None:
                result["NextMarker"] = encode(page.last)
        if params.get("EncodingType"):
            result["EncodingType"] = params["EncodingType"]
        return result

    def current_keys(
        self, bucket_id: int, prefix: str, delimiter: str | None, after: str, max_keys: int
    ) -> Page:
        page = Page()
        if max_keys == 0:  # nothing asked: nothing answered, and nothing left out
            return page
        upper = successor(prefix) if prefix else None
        lower, inclusive = _start(prefix, delimiter, after)
        batch = min(max_keys + 1, MAX_KEYS + 1)
        while True:
            seen = 0
            seeked = False
            for row in self.service.store.current_page(bucket_id, lower, inclusive, upper, batch):
                seen += 1
                lower, inclusive = row.key, False
                if row.delete_marker:
                    continue
                if len(page.entries) + len(page.prefixes) >= max_keys:
                    page.truncated = True
                    return page
                common = _common_prefix(row.key, prefix, delimiter)
                if common is not None:
                    page.prefixes.append(common)
                    page.last = common
                    lower, inclusive, seeked = successor(common), True, True
                    break
                page.entries.append(row)
                page.last = row.key
            if not seeked and seen < batch:
                return page

    def list_object_versions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.service.bucket_for(ctx, params["Bucket"], "s3:ListBucketVersions")
        prefix, delimiter = params.get("Prefix") or "", params.get("Delimiter") or None
        max_keys = _max_keys(params)
        key_marker, version_marker = params.get("KeyMarker") or "", params.get("VersionIdMarker")
        within = None
        if version_marker and key_marker:
            marked = self.service.store.version(bucket.id, key_marker, version_marker)
            if marked is None and version_marker == "null":
                pass  # the key's null version is gone (a list-and-delete loop): go on after the key
            elif marked is None:
                raise ServiceError(
                    "InvalidArgument",
                    "Invalid version id specified",
                    400,
                    ArgumentName="version-id-marker",
                    ArgumentValue=version_marker,
                )
            else:
                within = (key_marker, marked.id)
        elif version_marker:
            raise ServiceError(
                "InvalidArgument",
                "A version-id marker cannot be specified without a key marker.",
                400,
                ArgumentName="version-id-marker",
                ArgumentValue=version_marker,
            )
        page = self._versions(bucket.id, prefix, delimiter, key_marker, within, max_keys)
        encode = _encoder(params)
        versions, markers = [], []
        for v in page.entries:
            entry: dict[str, Any] = {
                "Key": encode(v.key),
                "VersionId": v.version_id,
                "IsLatest": bool(v.is_latest),
                "LastModified": to_datetime(v.modified),
                "Owner": owner_of(_owner(v)),
            }
            if v.delete_marker:
                markers.append(entry)
            else:
                entry.update(_sizes(v))
                versions.append(entry)
        result: dict[str, Any] = {
            "Name": bucket.name,
            "Prefix": encode(prefix),
            "KeyMarker": encode(key_marker),
            "MaxKeys": max_keys,
            "IsTruncated": page.truncated,
            "Versions": versions,
            "DeleteMarkers": markers,
            "CommonPrefixes": [{"Prefix": encode(p)} for p in page.prefixes],
        }
        result["VersionIdMarker"] = version_marker or ""
        if delimiter:
            result["Delimiter"] = encode(delimiter)
        if params.get("EncodingType"):
            result["EncodingType"] = params["EncodingType"]
        if page.truncated:
            if page.last_version is not None and page.last == page.last_version.key:
                result["NextKeyMarker"] = encode(page.last_version.key)
                result["NextVersionIdMarker"] = page.last_version.version_id
            elif page.last is not None:
                result["NextKeyMarker"] = encode(page.last)
        return result

    def _versions(
        self,
        bucket_id: int,
        prefix: str,
        delimiter: str | None,
        key_marker: str,
        within: tuple[str, int] | None,
        max_keys: int,
    ) -> Page:
        page = Page()
        if max_keys == 0:
            return page
        upper = successor(prefix) if prefix else None
        lower, inclusive = _start(prefix, delimiter, key_marker)
        batch = min(max_keys + 1, MAX_KEYS + 1)
        while True:
            rows = self.service.store.versions_page(bucket_id, lower, inclusive, upper, batch, within)
            within = None
            seeked = False
            seen = 0
            for row in rows:
                seen += 1
                if len(page.entries) + len(page.prefixes) >= max_keys:
                    page.truncated = True
                    return page
                common = _common_prefix(row.key, prefix, delimiter)
                if common is not None:
                    page.prefixes.append(common)
                    page.last = common
                    lower, inclusive, seeked, within = successor(common), True, True, None
                    break
                page.entries.append(row)
                page.last, page.last_version = row.key, row
                within = (row.key, row.id)
                lower, inclusive = row.key, False
            if not seeked and seen < batch:
                return page


def _start(prefix: str, delimiter: str | None, after: str) -> tuple[str, bool]:
    """Where a page starts: at the prefix, after the marker, or past a common prefix the last page ended on."""
    if after < prefix:
        return prefix, True
    if after and _common_prefix(after, prefix, delimiter) == after:
        return successor(after), True
    return after, False


def _content(version: ObjectVersion, encode: Any, with_owner: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Key": encode(version.key),
        "LastModified": to_datetime(version.modified),
        **_sizes(version),
    }
    if with_owner:
        entry["Owner"] = owner_of(_owner(version))
    return entry


def _sizes(version: ObjectVersion) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "ETag": version.etag,
        "Size": version.size,
        "StorageClass": version.storage_class,
    }
    checksum = version.meta.get("Checksum")
    if checksum:
        entry["ChecksumAlgorithm"] = [checksum["algorithm"]]
        entry["ChecksumType"] = checksum["type"]
    return entry


def _owner(version: ObjectVersion) -> str:
    return version.meta.get("Owner") or ""


def _max_keys(params: dict[str, Any]) -> int:
    value = params.get("MaxKeys")
    if value is None:
        return MAX_KEYS
    if value < 0:
        raise ServiceError("InvalidArgument", "maxKeys should be non-negative", 400)
    return min(value, MAX_KEYS)


def _encoder(params: dict[str, Any]):
    if params.get("EncodingType") == "url":
        return lambda text: quote(text, safe="/") if text else text
    return lambda text: text


def _bad_token() -> ServiceError:
    return ServiceError(
        "InvalidArgument",
        "The continuation token provided is incorrect",
        400,
        ArgumentName="continuation-token",
    )
