"""Bucket configurations that S3 stores and returns: CORS, lifecycle, policy, tagging, website, encryption,
logging, request payment, accelerate, notifications, replication, Block Public Access, Object Lock, and the
Id-keyed inventory / analytics / metrics / intelligent-tiering configurations.

Each simple configuration is a row of (put member, get shape, not-found error) in `_DOCUMENTS`; the methods
are generated from that table so that every one behaves the same way (owner only, stored as JSON).
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.s3.common import policy_is_public, seconds, to_datetime
from overcast.services.s3.core import S3Core
from overcast.services.s3.objects import check_tags


class _Document:
    """One stored configuration: how Put names it, how Get returns it, and what Get says when absent."""

    def __init__(
        self,
        kind: str,
        member: str,
        result_member: str | None,
        missing: tuple[str, str] | None,
        default: dict[str, Any] | None = None,
    ) -> None:
        self.kind, self.member, self.result_member, self.missing, self.default = (
            kind,
            member,
            result_member,
            missing,
            default,
        )


_DOCUMENTS = {
    "Cors": _Document(
        "cors",
        "CORSConfiguration",
        None,
        ("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
    ),
    "LifecycleConfiguration": _Document(
        "lifecycle",
        "LifecycleConfiguration",
        None,
        ("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
    ),
    "Tagging": _Document("tagging", "Tagging", None, ("NoSuchTagSet", "The TagSet does not exist")),
    "Website": _Document(
        "website",
        "WebsiteConfiguration",
        None,
        ("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration"),
    ),
    "Encryption": _Document(
        "encryption",
        "ServerSideEncryptionConfiguration",
        "ServerSideEncryptionConfiguration",
        (
            "ServerSideEncryptionConfigurationNotFoundError",
            "The server side encryption configuration was not found",
        ),
    ),
    "Logging": _Document("logging", "BucketLoggingStatus", None, None, {}),
    "RequestPayment": _Document(
        "request_payment", "RequestPaymentConfiguration", None, None, {"Payer": "BucketOwner"}
    ),
    "AccelerateConfiguration": _Document("accelerate", "AccelerateConfiguration", None, None, {}),
    "Replication": _Document(
        "replication",
        "ReplicationConfiguration",
        "ReplicationConfiguration",
        ("ReplicationConfigurationNotFoundError", "The replication configuration was not found"),
    ),
    "PublicAccessBlock": _Document(
        "public_access_block",
        "PublicAccessBlockConfiguration",
        "PublicAccessBlockConfiguration",
        ("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found"),
    ),
    "ObjectLockConfiguration": _Document(
        "object_lock",
        "ObjectLockConfiguration",
        "ObjectLockConfiguration",
        ("ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket"),
    ),
}

# Id-keyed configurations: suffix of the operation names -> (kind, member, list member).
_BY_ID = {
    "InventoryConfiguration": ("inventory", "InventoryConfiguration", "InventoryConfigurationList"),
    "AnalyticsConfiguration": ("analytics", "AnalyticsConfiguration", "AnalyticsConfigurationList"),
    "MetricsConfiguration": ("metrics", "MetricsConfiguration", "MetricsConfigurationList"),
    "IntelligentTieringConfiguration": (
        "intelligent_tiering",
        "IntelligentTieringConfiguration",
        "IntelligentTieringConfigurationList",
    ),
}


def _jsonable(value: Any) -> Any:
    """Configurations may hold datetimes (lifecycle dates): stored as epoch seconds, read back as datetimes."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "timestamp"):
        return {"$time": seconds(value)}
    return value


def _restored(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$time"}:
            return to_datetime(value["$time"])
        return {k: _restored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restored(v) for v in value]
    return value


class ConfigOps(S3Core):
    def put_document(self, ctx: RequestContext, params: dict[str, Any], name: str) -> dict[str, Any]:
        spec = _DOCUMENTS[name]
        bucket = self.owner_only(ctx, params["Bucket"])
        document = params.get(spec.member) or {}
        check = getattr(self, f"_check_{spec.kind}", None)
        if check:
            check(bucket, document)
        self.store.put_config(bucket.id, spec.kind, _jsonable(document))
        return {}

    def get_document(self, ctx: RequestContext, params: dict[str, Any], name: str) -> dict[str, Any]:
        spec = _DOCUMENTS[name]
        bucket = self.owner_only(ctx, params["Bucket"])
        document = self.store.config(bucket.id, spec.kind)
        if document is None:
            if spec.missing is None:
                return dict(spec.default or {})
            code, message = spec.missing
            raise ServiceError(code, message, 404, BucketName=bucket.name)
        document = _restored(document)
        return {spec.result_member: document} if spec.result_member else document

    def delete_document(self, ctx: RequestContext, params: dict[str, Any], name: str) -> dict[str, Any]:
        spec = _DOCUMENTS[name]
        bucket = self.owner_only(ctx, params["Bucket"])
        self.store.delete_config(bucket.id, spec.kind)
        return {}

    # -- checks run before a configuration is stored ---------------------------------------------------

    def _check_tagging(self, bucket: Any, document: dict[str, Any]) -> None:
        check_tags(document.get("TagSet") or [], limit=50)

    def _check_website(self, bucket: Any, document: dict[str, Any]) -> None:
        everything = document.get("RedirectAllRequestsTo")
        if everything:
            if any(document.get(k) for k in ("IndexDocument", "ErrorDocument", "RoutingRules")):
                raise ServiceError(
                    "InvalidArgument",
                    "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.",
                    400,
                    ArgumentName="RedirectAllRequestsTo",
                )
            return
        suffix = (document.get("IndexDocument") or {}).get("Suffix")
        if suffix is None:
            raise ServiceError(
                "InvalidArgument",
                "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
                400,
                ArgumentName="IndexDocument",
            )
        if not suffix or "/" in suffix:
            raise ServiceError(
                "InvalidArgument",
                "The IndexDocument Suffix is not well formed",
                400,
                ArgumentName="IndexDocument",
                ArgumentValue=suffix,
            )
        rules = document.get("RoutingRules") or []
        if len(rules) > 50:
            raise ServiceError("InvalidArgument", "Too many routing rules (at most 50)", 400)
        for rule in rules:
            redirect = rule.get("Redirect") or {}
            if "ReplaceKeyWith" in redirect and "ReplaceKeyPrefixWith" in redirect:
                raise ServiceError(
                    "InvalidRequest",
                    "You can only define ReplaceKeyPrefix or ReplaceKey but not both.",
                    400,
                )
            code = redirect.get("HttpRedirectCode")
            if code is not None and not (str(code).isdigit() and 301 <= int(code) <= 399):
                raise ServiceError(
                    "InvalidRedirectLocation",
                    f"The provided HTTP redirect code ({code}) is not valid. Valid codes are 3XX except 300.",
                    400,
                )

    def _check_replication(self, bucket: Any, document: dict[str, Any]) -> None:
        from overcast.services.s3.replication import destination_name

        if bucket.versioning != "Enabled":
            raise ServiceError(
                "InvalidRequest",
                "Versioning must be 'Enabled' on the bucket to apply a replication configuration",
                400,
            )
        rules = document.get("Rules") or []
        ids = [r["ID"] for r in rules if r.get("ID")]
        if not rules or len(rules) > 1000 or len(ids) != len(set(ids)):
            raise ServiceError(
                "InvalidArgument" if rules else "MalformedXML",
                "Rule Id must be unique" if rules else "The XML you provided was not well-formed",
                400,
            )
        for rule in rules:
            if rule.get("Status") not in ("Enabled", "Disabled"):
                raise ServiceError("MalformedXML", "The XML you provided was not well-formed", 400)
            if "Filter" in rule and "DeleteMarkerReplication" not in rule:
                raise ServiceError(
                    "InvalidRequest",
                    "DeleteMarkerReplication must be specified for this version of Cross Region Replication configuration schema.",
                    400,
                )
            destination = self.store.bucket(destination_name(rule))
            if destination is None:
                raise ServiceError("InvalidRequest", "Destination bucket must exist.", 400)
            if destination.versioning != "Enabled":
                raise ServiceError("InvalidRequest", "Destination bucket must have versioning enabled.", 400)

    def _check_object_lock(self, bucket: Any, document: dict[str, Any]) -> None:
        if not bucket.object_lock:
            if bucket.versioning != "Enabled":
                raise ServiceError(
                    "InvalidBucketState",
                    "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
                    409,
                )
            self.store.update_bucket(bucket.id, object_lock=1)

    def _check_lifecycle(self, bucket: Any, document: dict[str, Any]) -> None:
        rules = document.get("Rules") or []
        if not rules or len(rules) > 1000:
            raise ServiceError(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
                400,
            )
        for rule in rules:  # AWS names a rule that has no ID (x-amz-expiration names the rule)
            if not rule.get("ID"):
                rule["ID"] = base64.b64encode(str(uuid.uuid4()).encode()).decode().rstrip("=")
        ids = [r.get("ID") for r in rules if r.get("ID")]
        if len(ids) != len(set(ids)):
            raise ServiceError(
                "InvalidArgument",
                "RuleId must be unique. Found same ID for more than one rule",
                400,
                ArgumentName="ID",
            )
        for rule in rules:
            if rule.get("Status") not in ("Enabled", "Disabled"):
                raise ServiceError(
                    "MalformedXML",
                    "The XML you provided was not well-formed or did not "
                    "validate against our published schema",
                    400,
                )

    def _check_cors(self, bucket: Any, document: dict[str, Any]) -> None:
        rules = document.get("CORSRules") or []
        if not rules or len(rules) > 100:
            raise ServiceError(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our published schema",
                400,
            )
        for rule in rules:
            for method in rule.get("AllowedMethods") or []:
                if method not in ("GET", "PUT", "POST", "DELETE", "HEAD"):
                    raise ServiceError(
                        "InvalidRequest",
                        f"Found unsupported HTTP method in CORS config. Unsupported method is {method}",
                        400,
                    )

    # -- bucket policies --------------------------------------------------------------------------

    def put_bucket_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.owner_only(ctx, params["Bucket"])
        text = params["Policy"]
        try:
            policy = json.loads(text)
        except ValueError as exc:
            raise ServiceError(
                "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'", 400
            ) from exc
        if not isinstance(policy, dict) or not policy.get("Statement"):
            raise ServiceError("MalformedPolicy", "Missing required field Statement", 400)
        for statement in (
            policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
        ):
            if statement.get("Effect") not in ("Allow", "Deny"):
                raise ServiceError("MalformedPolicy", "Invalid effect: " + str(statement.get("Effect")), 400)
            if "Principal" not in statement and "NotPrincipal" not in statement:
                raise ServiceError("MalformedPolicy", "Missing required field Principal", 400)
            for resource in _as_list(statement.get("Resource")):
                if not str(resource).startswith(f"arn:aws:s3:::{bucket.name}"):
                    raise ServiceError("MalformedPolicy", "Policy has invalid resource", 400)
        if policy_is_public(policy) and self.public_access_block(bucket).get("BlockPublicPolicy"):
            raise ServiceError(
                "AccessDenied",
                "User is not authorized to perform: s3:PutBucketPolicy on "
                f'resource: "arn:aws:s3:::{bucket.name}" because public policies are blocked by '
                "the BlockPublicPolicy block public access setting.",
                403,
            )
        self.store.put_config(bucket.id, "policy", policy)
        self.store.put_config(bucket.id, "policy_text", text)
        return {}

    def get_bucket_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.owner_only(ctx, params["Bucket"])
        text = self.store.config(bucket.id, "policy_text")
        if text is None:
            raise ServiceError(
                "NoSuchBucketPolicy", "The bucket policy does not exist", 404, BucketName=bucket.name
            )
        return {"Policy": text}

    def delete_bucket_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.owner_only(ctx, params["Bucket"])
        self.store.delete_config(bucket.id, "policy")
        self.store.delete_config(bucket.id, "policy_text")
        return {}

    def get_bucket_policy_status(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.owner_only(ctx, params["Bucket"])
        policy = self.store.config(bucket.id, "policy")
        if policy is None:
            raise ServiceError(
                "NoSuchBucketPolicy", "The bucket policy does not exist", 404, BucketName=bucket.name
            )
        return {"PolicyStatus": {"IsPublic": policy_is_public(policy)}}

    # -- Id-keyed configurations ----------------------------------------------------------------------

    def put_by_id(self, ctx: RequestContext, params: dict[str, Any], suffix: str) -> dict[str, Any]:
        kind, member, _ = _BY_ID[suffix]
        bucket = self.owner_only(ctx, params["Bucket"])
        document = params[member]
        if document.get("Id") != params["Id"]:
            raise ServiceError(
                "InvalidArgument", "Configuration Id does not match the Id in the request", 400
            )
        self.store.put_config(bucket.id, kind, _jsonable(document), params["Id"])
        return {}

    def get_by_id(self, ctx: RequestContext, params: dict[str, Any], suffix: str) -> dict[str, Any]:
        kind, member, _ = _BY_ID[suffix]
        bucket = self.owner_only(ctx, params["Bucket"])
        document = self.store.config(bucket.id, kind, params["Id"])
        if document is None:
            raise ServiceError("NoSuchConfiguration", "The specified configuration does not exist.", 404)
        return {member: _restored(document)}

    def delete_by_id(self, ctx: RequestContext, params: dict[str, Any], suffix: str) -> dict[str, Any]:
        kind, _, _ = _BY_ID[suffix]
        bucket = self.owner_only(ctx, params["Bucket"])
        if self.store.config(bucket.id, kind, params["Id"]) is None:
            raise ServiceError("NoSuchConfiguration", "The specified configuration does not exist.", 404)
        self.store.delete_config(bucket.id, kind, params["Id"])
        return {}

    def list_by_id(self, ctx: RequestContext, params: dict[str, Any], suffix: str) -> dict[str, Any]:
        kind, _, list_member = _BY_ID[suffix]
        bucket = self.owner_only(ctx, params["Bucket"])
        return {
            list_member: [_restored(c) for c in self.store.configs(bucket.id, kind)],
            "IsTruncated": False,
        }


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _document_methods(name: str) -> dict[str, Any]:
    """put_bucket_<name>, get_bucket_<name>, delete_bucket_<name> for a stored document."""
    from botocore import xform_name

    def put(self: ConfigOps, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.put_document(ctx, params, name)

    def get(self: ConfigOps, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.get_document(ctx, params, name)

    def delete(self: ConfigOps, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.delete_document(ctx, params, name)

    operations = {
        "Cors": "BucketCors",
        "LifecycleConfiguration": "BucketLifecycleConfiguration",
        "Tagging": "BucketTagging",
        "Website": "BucketWebsite",
        "Encryption": "BucketEncryption",
        "Logging": "BucketLogging",
        "RequestPayment": "BucketRequestPayment",
        "AccelerateConfiguration": "BucketAccelerateConfiguration",
        "Replication": "BucketReplication",
        "PublicAccessBlock": "PublicAccessBlock",
        "ObjectLockConfiguration": "ObjectLockConfiguration",
    }[name]
    methods = {xform_name("Put" + operations): put, xform_name("Get" + operations): get}
    delete_name = "DeleteBucketLifecycle" if name == "LifecycleConfiguration" else "Delete" + operations
    if _DOCUMENTS[name].missing is not None and name != "ObjectLockConfiguration":
        methods[xform_name(delete_name)] = delete
    return methods


def _by_id_methods(suffix: str) -> dict[str, Any]:
    from botocore import xform_name

    def make(verb: str):
        def method(self: ConfigOps, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
            return getattr(self, f"{verb}_by_id")(ctx, params, suffix)

        return method

    return {
        xform_name(f"{verb.title()}Bucket{suffix}{'s' if verb == 'list' else ''}"): make(verb)
        for verb in ("put", "get", "delete", "list")
    }


for _name in _DOCUMENTS:
    for _method_name, _method in _document_methods(_name).items():
        setattr(ConfigOps, _method_name, _method)
for _suffix in _BY_ID:
    for _method_name, _method in _by_id_methods(_suffix).items():
        setattr(ConfigOps, _method_name, _method)
