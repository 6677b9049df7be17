"""What S3 checks of object requests, and how it answers them: storage classes, checksums and Content-MD5,
conditional requests, SSE-C keys, response fields and object tags. Functions of the request and the stored
version only, no database: the object, multipart, versions and object-settings code share them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any
from urllib.parse import parse_qsl

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.s3 import bodies, checksums
from overcast.services.s3.common import (
    STORAGE_CLASSES,
    etag_matches,
    not_modified,
    precondition_failed,
    seconds,
)
from overcast.services.s3.store import ObjectVersion

MAX_TAGS = 10


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


def check_write_conditions_supported(params: dict[str, Any]) -> None:
    if params.get("IfNoneMatch") not in (None, "*"):
        raise ServiceError(
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            501,
            Header="If-None-Match",
        )


_CHECKSUM_MEMBERS = tuple(
    (a, checksums.param_name(a)) for a in checksums.ALGORITHMS
)  # ("CRC32", "ChecksumCRC32")


def requested_checksums(params: dict[str, Any], ctx: RequestContext) -> list[str]:
    """The checksum algorithms a write names: x-amz-sdk-checksum-algorithm, a value, or a trailer."""
    found: list[str] = []
    given = [a for a, member in _CHECKSUM_MEMBERS if params.get(member)]
    for algorithm in given:
        if not checksums.well_formed(algorithm, params[checksums.param_name(algorithm)]):
            raise ServiceError(
                "InvalidRequest", f"Value for {checksums.header_name(algorithm)} header is invalid.", 400
            )
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
    error.headers = {"ETag": version.etag or "", "Last-Modified": http_date(version.modified)}
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
    if not params.get("SSECustomerKeyMD5"):
        raise ServiceError(
            "InvalidArgument",
            "Requests specifying Server Side Encryption with Customer provided keys must provide the client "
            "calculated MD5 of the secret key.",
            400,
            ArgumentName="x-amz-server-side-encryption-customer-key-MD5",
            ArgumentValue="null",
        )
    if params["SSECustomerKeyMD5"] != digest:
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


def copy_source_key_params(params: dict[str, Any]) -> dict[str, Any]:
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


def looks_like_version_id(value: str) -> bool:
    return len(value) == 32


def http_date(moment: float) -> str:
    from email.utils import formatdate

    return formatdate(int(moment), usegmt=True)


def mail_safe(text: str) -> str:
    """A header value as S3 answers it: as it is when printable ASCII, else RFC 2047-encoded (UTF-8, base64),
    as S3 returns non-ASCII metadata."""
    if text.isascii() and text.isprintable():
        return text
    return "=?UTF-8?B?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def from_mail_safe(text: str) -> str:
    """A header value with RFC 2047 encoded words decoded (S3 decodes them in metadata it is given)."""
    if "=?" not in text:
        return text
    from email.header import decode_header

    try:
        words = decode_header(text)
    except (ValueError, UnicodeError):
        return text
    return "".join(
        word.decode(charset or "utf-8", "replace") if isinstance(word, bytes) else word
        for word, charset in words
    )
