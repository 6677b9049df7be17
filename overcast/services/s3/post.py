"""Browser POST uploads: `POST /<bucket>` with a multipart/form-data body, a policy document and its signature.

The policy (base64 JSON: expiration and conditions) is checked against every form field; its signature is
SigV4 (x-amz-algorithm, x-amz-credential, x-amz-signature) or SigV2 (AWSAccessKeyId, signature). Without a
policy the upload is anonymous and needs a bucket that allows public writes. The object is then stored by
PutObject's own code, so everything a PUT does (checksums, ACL rules, versioning, events) applies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.http import HttpRequest, HttpResponse
from overcast.identity import ANONYMOUS, Principal, root_principal
from overcast.platform import new_request_id
from overcast.services.base import Operations
from overcast.services.s3.common import no_such_bucket
from overcast.services.s3.cors import bucket_of

if TYPE_CHECKING:
    from overcast.services.s3.provider import S3Provider

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?')
_DISPOSITION = re.compile(r'(\w+)="([^"]*)"')
# Form fields that the policy does not have to mention.
_UNCHECKED = {"policy", "signature", "awsaccesskeyid", "x-amz-signature", "file"}
_CONTENT_FIELDS = {
    "content-type": "ContentType",
    "cache-control": "CacheControl",
    "content-disposition": "ContentDisposition",
    "content-encoding": "ContentEncoding",
    "expires": "Expires",
}


def _denied(reason: str) -> ServiceError:
    return ServiceError("AccessDenied", f"Invalid according to Policy: {reason}", 403)


def _expiration(value: Any) -> float:
    """The policy's expiration: an ISO 8601 moment (2030-01-01T12:00:00.000Z); anything else is refused."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if moment.tzinfo is None or "T" not in str(value):
            raise ValueError(value)
        return moment.timestamp()
    except ValueError:
        raise ServiceError(
            "InvalidPolicyDocument", f"Invalid Policy: Invalid 'expiration' value: '{value}'", 400
        ) from None


def _check_simple(condition: dict[str, Any], values: dict[str, str]) -> str:
    """{"field": "value"}: exactly one property, matched exactly; the field it covers."""
    if len(condition) != 1:
        raise ServiceError(
            "InvalidPolicyDocument",
            "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property "
            "specified.",
            400,
        )
    ((name, expected),) = condition.items()
    name = name.lower().lstrip("$")
    if values.get(name) != expected:
        raise _denied(f'Policy Condition failed: ["eq", "${name}", "{expected}"]')
    return name


def _check_length(condition: list[Any], size: int) -> None:
    """["content-length-range", low, high] (integers, as AWS's parser takes them)."""
    try:
        if len(condition) != 3:
            raise ValueError(condition)
        low, high = int(condition[1]), int(condition[2])
    except (TypeError, ValueError):
        raise _denied(f"Policy Condition failed: {json.dumps(condition)}") from None
    if size < low:
        raise ServiceError(
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed size",
            400,
            ProposedSize=size,
            MinSizeAllowed=low,
        )
    if size > high:
        raise ServiceError(
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
            400,
            ProposedSize=size,
            MaxSizeAllowed=high,
        )


def _tagging(text: str) -> str:
    """The `tagging` field (a <Tagging> document) as PutObject's x-amz-tagging query string."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        raise ServiceError(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema",
            400,
        ) from None
    pairs = []
    for tag in root.iter():
        if tag.tag.rsplit("}", 1)[-1] == "Tag":
            parts = {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in tag}
            pairs.append((parts.get("Key", ""), parts.get("Value", "")))
    return urlencode(pairs)


def parse_form(content_type: str, body: bytes) -> tuple[dict[str, str], tuple[str, str, bytes] | None]:
    """Form fields (names lower-cased, in order) and the file part (filename, content type, data)."""
    match = _BOUNDARY.search(content_type)
    if not match:
        raise ServiceError(
            "MalformedPOSTRequest",
            "The body of your POST request is not well-formed multipart/form-data.",
            400,
        )
    delimiter = b"--" + match.group(1).encode()
    fields: dict[str, str] = {}
    upload = None
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.lstrip(b"\r\n").partition(b"\r\n\r\n")
        data = data[:-2] if data.endswith(b"\r\n") else data
        headers = {
            line.split(b":", 1)[0].strip().lower(): line.split(b":", 1)[1].strip().decode("utf-8", "replace")
            for line in head.split(b"\r\n")
            if b":" in line
        }
        params = dict(_DISPOSITION.findall(headers.get(b"content-disposition", "")))
        name = params.get("name", "").lower()
        if name == "file":
            upload = (params.get("filename", ""), headers.get(b"content-type", ""), data)
            break  # AWS ignores everything after the file
        fields[name] = data.decode("utf-8")
    return fields, upload


class PostOperations(Operations):
    service: S3Provider

    async def post_object(self, request: HttpRequest) -> HttpResponse:
        """Handle a browser POST upload (the provider's declared route for multipart/form-data POSTs)."""
        request_id = new_request_id()
        try:
            return await self._post_object(request, request_id)
        except ServiceError as error:
            from overcast.protocol import serialize_error
            from overcast.protocol.models import get_service_model

            return serialize_error("rest-xml", get_service_model("s3"), None, error, request_id)

    async def _post_object(self, request: HttpRequest, request_id: str) -> HttpResponse:
        name = bucket_of(request) or ""
        body = request.body if request.stream is None else await request.stream.read()
        fields, upload = parse_form(request.headers.get("content-type") or "", bytes(body))
        if upload is None:
            raise ServiceError(
                "InvalidArgument",
                "POST requires exactly one file upload per request.",
                400,
                ArgumentName="file",
                ArgumentValue="0",
            )
        filename, file_type, data = upload
        if "key" not in fields:
            raise ServiceError(
                "InvalidArgument",
                "Bucket POST must contain a field named 'key'.  If it is "
                "specified, please check the order of the fields.",
                400,
                ArgumentName="key",
            )
        key = fields["key"] = fields["key"].replace("${filename}", filename)  # before the policy sees it
        principal = self._post_principal(fields, name, len(data))
        if self.service.store.bucket(name) is None:
            raise no_such_bucket(name)
        region = self.service.store.bucket(name).region  # type: ignore[union-attr]
        ctx = RequestContext(
            "s3",
            "PutObject",
            principal.account_id or self.platform.config.default_account,
            region,
            principal,
            request_id,
            request,
            extra={"event": "ObjectCreated:Post"},
        )
        params = self._put_params(name, key, fields, file_type, data)
        result = await self.platform.invoke(ctx, params)  # authorized as s3:PutObject, as AWS does
        return self._post_response(request, fields, name, key, result["ETag"], request_id)

    def _post_principal(self, fields: dict[str, str], bucket: str, size: int) -> Principal:
        if "policy" not in fields:
            return ANONYMOUS
        text = fields["policy"]
        access_key, secret = self._post_credentials(fields)
        signature_field = "x-amz-signature" if "x-amz-credential" in fields else "signature"
        if signature_field not in fields:
            name = "X-Amz-Signature" if signature_field == "x-amz-signature" else "Signature"
            raise ServiceError(
                "InvalidArgument",
                f"Bucket POST must contain a field named '{name}'.  If it is specified, please check the "
                "order of the fields.",
                400,
                ArgumentName=name,
            )
        if "x-amz-signature" in fields:
            _, date, region, service, _ = (fields.get("x-amz-credential") or "////").split("/")[:5]
            key = ("AWS4" + secret).encode()
            for part in (date, region, service, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            expected = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
            given = fields["x-amz-signature"]
        else:
            expected = base64.b64encode(
                hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()
            ).decode()
            given = fields.get("signature", "")
        if secret and not hmac.compare_digest(expected, given):
            raise ServiceError(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the "
                "signature you provided. Check your key and signing method.",
                403,
            )
        self._check_policy(text, fields, bucket, size)
        credential = self.platform.credentials.lookup(access_key)
        if credential is not None:
            return credential.principal
        account = (
            access_key
            if len(access_key) == 12 and access_key.isdigit()
            else self.platform.config.default_account
        )
        return root_principal(account, access_key)

    def _post_credentials(self, fields: dict[str, str]) -> tuple[str, str]:
        """The access key of the form and its secret ('' when Overcast does not know it: not verifiable)."""
        access_key = (fields.get("x-amz-credential") or "").split("/")[0] or fields.get("awsaccesskeyid", "")
        if not access_key:
            raise ServiceError(
                "InvalidArgument",
                "Bucket POST must contain a field named 'AWSAccessKeyId'.  If "
                "it is specified, please check the order of the fields.",
                400,
            )
        credential = self.platform.credentials.lookup(access_key)
        if credential is None and self.platform.config.iam == "enforce":
            raise ServiceError(
                "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", 403
            )
        return access_key, credential.secret_key if credential else ""

    def _check_policy(self, text: str, fields: dict[str, str], bucket: str, size: int) -> None:
        try:
            policy = json.loads(base64.b64decode(text))
            expiration, conditions = policy["expiration"], policy["conditions"]
        except (ValueError, KeyError, TypeError, binascii.Error, RecursionError):
            raise ServiceError("InvalidPolicyDocument", "Invalid Policy: Invalid JSON.", 400) from None
        if self.clock.now() > _expiration(expiration):
            raise _denied("Policy expired.")
        values = {**fields, "bucket": bucket}
        covered = {"bucket"}
        for condition in conditions if isinstance(conditions, list) else [conditions]:
            if isinstance(condition, dict):
                covered.add(_check_simple(condition, values))
                continue
            if not isinstance(condition, list) or not condition:
                raise _denied(f"Policy Condition failed: {json.dumps(condition)}")
            operator = str(condition[0]).lower()
            if operator == "content-length-range":
                _check_length(condition, size)
                continue
            if len(condition) != 3 or not str(condition[1]).startswith("$"):
                raise _denied(f"Policy Condition failed: {json.dumps(condition)}")
            name, expected = str(condition[1]).lower().lstrip("$"), str(condition[2])
            covered.add(name)
            actual = values.get(name, "")
            ok = (
                actual == expected
                if operator == "eq"
                else operator == "starts-with" and actual.startswith(expected)
            )
            if not ok:
                raise _denied(f'Policy Condition failed: ["{operator}", "${name}", "{expected}"]')
        extra = [
            n
            for n in fields
            if n not in covered
            and n not in _UNCHECKED
            and not n.startswith("x-ignore-")
            and n not in ("x-amz-signature",)
        ]
        if extra:
            raise _denied(f"Extra input fields: {', '.join(extra)}")

    def _put_params(
        self, bucket: str, key: str, fields: dict[str, str], file_type: str, data: bytes
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": data}
        metadata = {n[len("x-amz-meta-") :]: v for n, v in fields.items() if n.startswith("x-amz-meta-")}
        if metadata:
            params["Metadata"] = metadata
        for field, member in _CONTENT_FIELDS.items():
            if field in fields and member != "Expires":
                params[member] = fields[field]
        params.setdefault("ContentType", file_type or None)
        if "acl" in fields:
            params["ACL"] = fields["acl"]
        if "x-amz-storage-class" in fields:
            params["StorageClass"] = fields["x-amz-storage-class"]
        if "x-amz-server-side-encryption" in fields:
            params["ServerSideEncryption"] = fields["x-amz-server-side-encryption"]
        if fields.get("tagging"):
            params["Tagging"] = _tagging(fields["tagging"])
        return params

    def _post_response(
        self, request: HttpRequest, fields: dict[str, str], bucket: str, key: str, etag: str, request_id: str
    ) -> HttpResponse:
        location = f"http://{request.host}/{bucket}/{quote(key)}"
        headers = [("ETag", etag), ("x-amz-request-id", request_id)]
        redirect = fields.get("success_action_redirect") or fields.get("redirect")
        if redirect:
            separator = "&" if "?" in redirect else "?"
            target = f"{redirect}{separator}bucket={quote(bucket)}&key={quote(key)}&etag={quote(etag)}"
            return HttpResponse(303, [*headers, ("Location", target)], b"")
        headers.append(("Location", location))
        status = fields.get("success_action_status")
        if status == "201":
            body = (
                f'<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>{escape(location)}</Location>'
                f"<Bucket>{escape(bucket)}</Bucket><Key>{escape(key)}</Key><ETag>{escape(etag)}</ETag>"
                "</PostResponse>"
            ).encode()
            return HttpResponse(201, [*headers, ("Content-Type", "application/xml")], body)
        return HttpResponse(200 if status == "200" else 204, headers, b"")
