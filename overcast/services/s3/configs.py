"""Bucket configurations that S3 stores and returns: CORS, lifecycle, policy, website, encryption, logging,
request payment, accelerate, replication, Block Public Access, Object Lock, and the Id-keyed inventory /
analytics / metrics / intelligent-tiering configurations (tagging is the kit's: buckets.py; notifications:
notifications.py).

The simple configurations behave alike (owner only, stored as JSON, checked first where S3 checks them): one
method serves every Put, one every Get and one every Delete, each finding its document in `DOCUMENTS` by the
operation it serves (`ctx.operation`).
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.policy import document as policy_doc
from overcast.services.base import Operations, operation
from overcast.services.s3.access import as_list, policy_is_public
from overcast.services.s3.common import SSE_S3_DEFAULT, bucket_arn, seconds, to_datetime
from overcast.services.s3.replication import destination_name
from overcast.services.s3.store import Bucket

if TYPE_CHECKING:
    from overcast.services.s3.provider import S3Provider


@dataclass(frozen=True)
class Document:
    """One stored configuration: its kind (the row it is stored under), the Put request's member holding
    it, the Get response's member wrapping it (None: the response is the document), and what Get says when
    there is none: AWS's error (code, message), or `default` when S3 answers with one."""

    kind: str
    member: str
    result_member: str | None = None
    missing: tuple[str, str] | None = None
    default: dict[str, Any] | None = None


CORS = Document(
    "cors", "CORSConfiguration", missing=("NoSuchCORSConfiguration", "The CORS configuration does not exist")
)
LIFECYCLE = Document(
    "lifecycle",
    "LifecycleConfiguration",
    missing=("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
)
WEBSITE = Document(
    "website",
    "WebsiteConfiguration",
    missing=("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration"),
)
ENCRYPTION = Document(
    "encryption",
    "ServerSideEncryptionConfiguration",
    "ServerSideEncryptionConfiguration",
    (
        "ServerSideEncryptionConfigurationNotFoundError",
        "The server side encryption configuration was not found",
    ),
)
LOGGING = Document("logging", "BucketLoggingStatus", default={})
REQUEST_PAYMENT = Document("request_payment", "RequestPaymentConfiguration", default={"Payer": "BucketOwner"})
ACCELERATE = Document("accelerate", "AccelerateConfiguration", default={})
REPLICATION = Document(
    "replication",
    "ReplicationConfiguration",
    "ReplicationConfiguration",
    ("ReplicationConfigurationNotFoundError", "The replication configuration was not found"),
)
PUBLIC_ACCESS_BLOCK = Document(
    "public_access_block",
    "PublicAccessBlockConfiguration",
    "PublicAccessBlockConfiguration",
    ("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found"),
)
OBJECT_LOCK = Document(
    "object_lock",
    "ObjectLockConfiguration",
    "ObjectLockConfiguration",
    ("ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket"),
)

# The document each operation of put_document, get_document and delete_document acts on.
DOCUMENTS: dict[str, Document] = {
    "PutBucketCors": CORS,
    "GetBucketCors": CORS,
    "DeleteBucketCors": CORS,
    "PutBucketLifecycleConfiguration": LIFECYCLE,
    "GetBucketLifecycleConfiguration": LIFECYCLE,
    "DeleteBucketLifecycle": LIFECYCLE,
    "PutBucketWebsite": WEBSITE,
    "GetBucketWebsite": WEBSITE,
    "DeleteBucketWebsite": WEBSITE,
    "PutBucketEncryption": ENCRYPTION,
    "GetBucketEncryption": ENCRYPTION,
    "PutBucketLogging": LOGGING,
    "GetBucketLogging": LOGGING,
    "PutBucketRequestPayment": REQUEST_PAYMENT,
    "GetBucketRequestPayment": REQUEST_PAYMENT,
    "PutBucketAccelerateConfiguration": ACCELERATE,
    "GetBucketAccelerateConfiguration": ACCELERATE,
    "PutBucketReplication": REPLICATION,
    "GetBucketReplication": REPLICATION,
    "DeleteBucketReplication": REPLICATION,
    "PutPublicAccessBlock": PUBLIC_ACCESS_BLOCK,
    "GetPublicAccessBlock": PUBLIC_ACCESS_BLOCK,
    "DeletePublicAccessBlock": PUBLIC_ACCESS_BLOCK,
    "PutObjectLockConfiguration": OBJECT_LOCK,
    "GetObjectLockConfiguration": OBJECT_LOCK,
}

# Id-keyed configurations: what their operation names share -> (kind, member, list member).
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


def _by_id(operation_name: str) -> tuple[str, str, str]:
    """The Id-keyed configuration of an operation (PutBucketMetricsConfiguration: the metrics one)."""
    for verb in ("Put", "Get", "Delete", "List"):
        if operation_name.startswith(verb + "Bucket"):
            return _BY_ID[operation_name[len(verb + "Bucket") :].removesuffix("s")]
    raise KeyError(operation_name)


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


class ConfigOperations(Operations):
    service: S3Provider

    @operation(
        "PutBucketCors",
        "PutBucketLifecycleConfiguration",
        "PutBucketWebsite",
        "PutBucketEncryption",
        "PutBucketLogging",
        "PutBucketRequestPayment",
        "PutBucketAccelerateConfiguration",
        "PutBucketReplication",
        "PutPublicAccessBlock",
        "PutObjectLockConfiguration",
    )
    def put_document(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        spec = DOCUMENTS[ctx.operation]
        bucket = self.service.owner_only(ctx, params["Bucket"])
        document = params.get(spec.member) or {}
        check = self._checks.get(spec.kind)
        if check:
            check(bucket, document)
        if spec is LIFECYCLE:
            document["TransitionDefaultMinimumObjectSize"] = (
                params.get("TransitionDefaultMinimumObjectSize") or "all_storage_classes_128K"
            )
        self.service.store.put_config(bucket.id, spec.kind, _jsonable(document))
        if spec is LIFECYCLE:
            return {"TransitionDefaultMinimumObjectSize": document["TransitionDefaultMinimumObjectSize"]}
        return {}

    @operation(
        "GetBucketCors",
        "GetBucketLifecycleConfiguration",
        "GetBucketWebsite",
        "GetBucketEncryption",
        "GetBucketLogging",
        "GetBucketRequestPayment",
        "GetBucketAccelerateConfiguration",
        "GetBucketReplication",
        "GetPublicAccessBlock",
        "GetObjectLockConfiguration",
    )
    def get_document(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        spec = DOCUMENTS[ctx.operation]
        bucket = self.service.owner_only(ctx, params["Bucket"])
        document = self.service.store.config(bucket.id, spec.kind)
        if document is None:
            if spec.missing is None:
                return dict(spec.default or {})
            code, message = spec.missing
            raise ServiceError(code, message, 404, BucketName=bucket.name)
        document = _restored(document)
        return {spec.result_member: document} if spec.result_member else document

    @operation(
        "DeleteBucketCors",
        "DeleteBucketLifecycle",
        "DeleteBucketWebsite",
        "DeleteBucketReplication",
        "DeletePublicAccessBlock",
    )
    def delete_document(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        spec = DOCUMENTS[ctx.operation]
        bucket = self.service.owner_only(ctx, params["Bucket"])
        self.service.store.delete_config(bucket.id, spec.kind)
        return {}

    def delete_bucket_encryption(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Deleting the configuration returns the bucket to the default, SSE-S3."""
        bucket = self.service.owner_only(ctx, params["Bucket"])
        self.service.store.put_config(bucket.id, "encryption", SSE_S3_DEFAULT)
        return {}

    @property
    def _checks(self) -> dict[str, Any]:
        """The check each kind of document passes before it is stored (where S3 checks one)."""
        return {
            "website": self._check_website,
            "replication": self._check_replication,
            "object_lock": self._check_object_lock,
            "lifecycle": self._check_lifecycle,
            "cors": self._check_cors,
            "logging": self._check_logging,
        }

    # -- checks run before a configuration is stored ---------------------------------------------------

    def _check_website(self, bucket: Bucket, document: dict[str, Any]) -> None:
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

    def _check_replication(self, bucket: Bucket, document: dict[str, Any]) -> None:
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
            destination = self.service.store.bucket(destination_name(rule))
            if destination is None:
                raise ServiceError("InvalidRequest", "Destination bucket must exist.", 400)
            if destination.versioning != "Enabled":
                raise ServiceError("InvalidRequest", "Destination bucket must have versioning enabled.", 400)

    def _check_object_lock(self, bucket: Bucket, document: dict[str, Any]) -> None:
        retention = (document.get("Rule") or {}).get("DefaultRetention")
        if retention is not None:
            days, years = retention.get("Days"), retention.get("Years")
            if days is not None and years is not None or not retention.get("Mode"):
                raise _malformed_xml()  # exactly one of Days and Years, with a Mode: the schema says so
            if (days if days is not None else years if years is not None else 0) <= 0:
                raise ServiceError(
                    "InvalidArgument", "Default retention period must be a positive integer value.", 400
                )
        if not bucket.object_lock:
            if bucket.versioning != "Enabled":
                raise ServiceError(
                    "InvalidBucketState",
                    "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
                    409,
                )
            self.service.store.update_bucket(bucket.id, object_lock=1)

    def _check_lifecycle(self, bucket: Bucket, document: dict[str, Any]) -> None:
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
                raise _malformed_xml()
            if len(rule.get("ID") or "") > 255:
                raise ServiceError(
                    "InvalidArgument",
                    "ID length should not exceed allowed limit of 255",
                    400,
                    ArgumentName="ID",
                )
            date = (rule.get("Expiration") or {}).get("Date")
            dates = [date, *((t or {}).get("Date") for t in rule.get("Transitions") or [])]
            for moment in (d for d in dates if d is not None):
                if seconds(moment) % 86400:
                    raise ServiceError("InvalidArgument", "'Date' must be at midnight GMT", 400)

    def _check_logging(self, bucket: Bucket, document: dict[str, Any]) -> None:
        target = (document.get("LoggingEnabled") or {}).get("TargetBucket")
        if target is not None and self.service.store.bucket(target) is None:
            raise ServiceError(
                "InvalidTargetBucketForLogging",
                "The target bucket for logging does not exist",
                400,
                TargetBucket=target,
            )

    def _check_cors(self, bucket: Bucket, document: dict[str, Any]) -> None:
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
        """Validated as S3 does (MalformedPolicy), stored as sent; the policy engine evaluates it (access.py).
        204 No Content, as AWS answers."""
        bucket = self._policy_bucket(ctx, params)
        text = params["Policy"]
        policy = _checked_policy(text, bucket_arn(bucket))
        if policy_is_public(policy) and self.service.public_access_block(bucket).get("BlockPublicPolicy"):
            raise ServiceError(
                "AccessDenied",
                "User is not authorized to perform: s3:PutBucketPolicy on "
                f'resource: "{bucket_arn(bucket)}" because public policies are blocked by '
                "the BlockPublicPolicy block public access setting.",
                403,
            )
        self.service.store.put_config(bucket.id, "policy", policy)
        self.service.store.put_config(bucket.id, "policy_text", text)
        return {"__status__": 204}

    def get_bucket_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self._policy_bucket(ctx, params)
        text = self.service.store.config(bucket.id, "policy_text")
        if text is None:
            raise ServiceError(
                "NoSuchBucketPolicy", "The bucket policy does not exist", 404, BucketName=bucket.name
            )
        return {"Policy": text}

    def delete_bucket_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self._policy_bucket(ctx, params)
        self.service.store.delete_config(bucket.id, "policy")
        self.service.store.delete_config(bucket.id, "policy_text")
        return {}

    def _policy_bucket(self, ctx: RequestContext, params: dict[str, Any]) -> Bucket:
        """A bucket policy is its owner's account's to manage: anyone else the policy allows gets 405."""
        bucket = self.service.owner_only(ctx, params["Bucket"])
        if ctx.principal.is_anonymous or ctx.principal.account_id != bucket.account:
            raise ServiceError(
                "MethodNotAllowed", "The specified method is not allowed against this resource.", 405
            )
        return bucket

    def get_bucket_policy_status(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.service.owner_only(ctx, params["Bucket"])
        policy = self.service.store.config(bucket.id, "policy")
        if policy is None:
            raise ServiceError(
                "NoSuchBucketPolicy", "The bucket policy does not exist", 404, BucketName=bucket.name
            )
        return {"PolicyStatus": {"IsPublic": policy_is_public(policy)}}

    # -- Id-keyed configurations ----------------------------------------------------------------------

    @operation(
        "PutBucketInventoryConfiguration",
        "PutBucketAnalyticsConfiguration",
        "PutBucketMetricsConfiguration",
        "PutBucketIntelligentTieringConfiguration",
    )
    def put_by_id(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        kind, member, _ = _by_id(ctx.operation)
        bucket = self.service.owner_only(ctx, params["Bucket"])
        document = params[member]
        if document.get("Id") != params["Id"]:
            raise ServiceError(
                "InvalidArgument", "Configuration Id does not match the Id in the request", 400
            )
        self.service.store.put_config(bucket.id, kind, _jsonable(document), params["Id"])
        # AWS answers these three 204 No Content (metrics configurations: 200)
        return {"__status__": 204} if kind != "metrics" else {}

    @operation(
        "GetBucketInventoryConfiguration",
        "GetBucketAnalyticsConfiguration",
        "GetBucketMetricsConfiguration",
        "GetBucketIntelligentTieringConfiguration",
    )
    def get_by_id(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        kind, member, _ = _by_id(ctx.operation)
        bucket = self.service.owner_only(ctx, params["Bucket"])
        document = self.service.store.config(bucket.id, kind, params["Id"])
        if document is None:
            raise ServiceError("NoSuchConfiguration", "The specified configuration does not exist.", 404)
        return {member: _restored(document)}

    @operation(
        "DeleteBucketInventoryConfiguration",
        "DeleteBucketAnalyticsConfiguration",
        "DeleteBucketMetricsConfiguration",
        "DeleteBucketIntelligentTieringConfiguration",
    )
    def delete_by_id(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        kind, _, _ = _by_id(ctx.operation)
        bucket = self.service.owner_only(ctx, params["Bucket"])
        if self.service.store.config(bucket.id, kind, params["Id"]) is None:
            raise ServiceError("NoSuchConfiguration", "The specified configuration does not exist.", 404)
        self.service.store.delete_config(bucket.id, kind, params["Id"])
        return {}

    @operation(
        "ListBucketInventoryConfigurations",
        "ListBucketAnalyticsConfigurations",
        "ListBucketMetricsConfigurations",
        "ListBucketIntelligentTieringConfigurations",
    )
    def list_by_id(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        kind, _, list_member = _by_id(ctx.operation)
        bucket = self.service.owner_only(ctx, params["Bucket"])
        return {
            list_member: [_restored(c) for c in self.service.store.configs(bucket.id, kind)],
            "IsTruncated": False,
        }


def _malformed_xml() -> ServiceError:
    return ServiceError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
        400,
    )


def _malformed(message: str) -> ServiceError:
    return ServiceError("MalformedPolicy", message, 400)


def _checked_policy(text: str, arn: str) -> dict[str, Any]:
    """A bucket policy as S3 validates it (its MalformedPolicy texts), also readable by the policy engine."""
    try:
        policy = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested past what any policy needs
        policy = None
    if not isinstance(policy, dict):
        raise _malformed("Policies must be valid JSON and the first byte must be '{'")
    if not policy.get("Statement"):
        raise _malformed("Missing required field Statement")
    for statement in as_list(policy["Statement"]):
        if not isinstance(statement, dict):
            raise _malformed("Policies must be valid JSON and the first byte must be '{'")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise _malformed("Invalid effect: " + str(statement.get("Effect")))
        if "Principal" not in statement and "NotPrincipal" not in statement:
            raise _malformed("Missing required field Principal")
        for name in ("Principal", "NotPrincipal"):
            if name in statement and not _valid_principal(statement[name]):
                raise _malformed("Invalid principal in policy")
        if "Action" not in statement and "NotAction" not in statement:
            raise _malformed("Missing required field Action")
        if "Resource" not in statement and "NotResource" not in statement:
            raise _malformed("Missing required field Resource")
        for name in ("Resource", "NotResource"):
            if name not in statement:
                continue
            resources = as_list(statement[name])
            if not resources or not all(_within(r, arn) for r in resources):
                raise _malformed("Policy has invalid resource")
    try:
        policy_doc.validate(text, policy_doc.RESOURCE)
    except ServiceError as error:
        raise _malformed(error.message) from None
    except RecursionError:
        raise _malformed("Policies must be valid JSON and the first byte must be '{'") from None
    return policy


def _valid_principal(value: Any) -> bool:
    """ "*", or a map of principal kinds to a name or a list of names (AWS ids: "*", accounts, ARNs)."""
    if value == "*":
        return True
    if not isinstance(value, dict) or not value:
        return False
    for kind, names in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            return False
        names = as_list(names)
        if not names or not all(isinstance(n, str) and n for n in names):
            return False
        if kind == "AWS" and not all(
            n == "*"
            or (len(n) == 12 and n.isdigit())
            or n.startswith("arn:aws:iam::")
            or n.startswith("arn:aws:sts::")
            for n in names
        ):
            return False
    return True


def _within(resource: Any, arn: str) -> bool:
    """A resource of the bucket `arn`: the bucket itself or objects in it (wildcards allowed)."""
    if not isinstance(resource, str):
        return False
    return (
        resource == arn
        or resource.startswith(arn + "/")
        or (resource.endswith("*") and arn.startswith(resource[:-1]))
    )
