"""Which IAM action and resource ARN a request is: `iam_action(ctx)` and `resource_arn(ctx, params)`.

The IAM action of most operations is `<service prefix>:<OperationName>`; the exceptions (S3's ListObjectsV2 is
s3:ListBucket, Lambda's Invoke is lambda:InvokeFunction, ...) are listed here, as AWS's Service Authorization
Reference gives them. The resource is built from the request's identifying parameters; operations that act on
no particular resource (List*, Create* of account-level things) are `*`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from overcast.services.base import RequestContext

# botocore service name -> IAM service prefix, where they differ
PREFIXES = {
    "monitoring": "cloudwatch",
    "dynamodbstreams": "dynamodb",
    "elbv2": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
    "stepfunctions": "states",
    "sesv2": "ses",
    "s3control": "s3",
    "lambda": "lambda",
    "apigatewayv2": "apigateway",
    "events": "events",
    "logs": "logs",
}

ACTION_OVERRIDES = {
    "s3": {
        "ListObjects": "ListBucket",
        "ListObjectsV2": "ListBucket",
        "HeadObject": "GetObject",
        "HeadBucket": "ListBucket",
        "ListBuckets": "ListAllMyBuckets",
        "DeleteObjects": "DeleteObject",
        "ListObjectVersions": "ListBucketVersions",
        "CreateMultipartUpload": "PutObject",
        "UploadPart": "PutObject",
        "UploadPartCopy": "PutObject",
        "CompleteMultipartUpload": "PutObject",
        "CopyObject": "PutObject",
        "ListMultipartUploads": "ListBucketMultipartUploads",
        "ListParts": "ListMultipartUploadParts",
        "SelectObjectContent": "GetObject",
        "GetObjectAttributes": "GetObject",
        "PutBucketNotificationConfiguration": "PutBucketNotification",
        "GetBucketNotificationConfiguration": "GetBucketNotification",
        "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
        "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
        "DeleteBucketLifecycle": "PutLifecycleConfiguration",
        "PutBucketEncryption": "PutEncryptionConfiguration",
        "GetBucketEncryption": "GetEncryptionConfiguration",
        "DeleteBucketEncryption": "PutEncryptionConfiguration",
        "PutBucketCors": "PutBucketCORS",
        "GetBucketCors": "GetBucketCORS",
        "DeleteBucketCors": "PutBucketCORS",
        "DeleteBucketTagging": "PutBucketTagging",
        "DeleteBucketWebsite": "DeleteBucketWebsite",
        "PutBucketReplication": "PutReplicationConfiguration",
        "GetBucketReplication": "GetReplicationConfiguration",
        "DeleteObjectTagging": "DeleteObjectTagging",
        "RestoreObject": "RestoreObject",
    },
    "lambda": {
        "Invoke": "InvokeFunction",
        "InvokeWithResponseStream": "InvokeFunction",
        "GetFunctionConfiguration": "GetFunctionConfiguration",
        "ListVersionsByFunction": "ListVersionsByFunction",
    },
    # Batch operations are authorized as the single operation they repeat.
    "sqs": {
        "SendMessageBatch": "SendMessage",
        "DeleteMessageBatch": "DeleteMessage",
        "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    },
    "sns": {"PublishBatch": "Publish"},
    "dynamodbstreams": {},
    "sts": {"AssumeRoleWithWebIdentity": "AssumeRoleWithWebIdentity"},
}


def iam_action(service: str, operation: str) -> str:
    prefix = PREFIXES.get(service, service)
    return f"{prefix}:{ACTION_OVERRIDES.get(service, {}).get(operation, operation)}"


# -- resources -------------------------------------------------------------------------------------------

ResourceBuilder = Callable[[RequestContext, dict[str, Any]], str | None]


def _sqs(ctx: RequestContext, params: dict[str, Any]) -> str | None:
    url = params.get("QueueUrl")
    if url:
        parts = url.split("?", 1)[0].rstrip("/").rsplit("/", 2)
        if len(parts) == 3 and parts[1].isdigit():
            return ctx.arn("sqs", parts[2], account=parts[1])
        return ctx.arn("sqs", parts[-1])
    if params.get("QueueName"):  # CreateQueue, GetQueueUrl (of another account's queue with its owner id)
        return ctx.arn("sqs", params["QueueName"], account=params.get("QueueOwnerAWSAccountId") or None)
    return None


def _s3(ctx: RequestContext, params: dict[str, Any]) -> str | None:
    bucket = params.get("Bucket")
    if not bucket:
        return None
    key = params.get("Key")
    if key is not None and ctx.operation not in ("ListObjects", "ListObjectsV2"):
        return f"arn:aws:s3:::{bucket}/{key}"
    return f"arn:aws:s3:::{bucket}"


def _sns(ctx: RequestContext, params: dict[str, Any]) -> str | None:
    for name in ("TopicArn", "TargetArn"):
        if params.get(name):
            return params[name]
    if params.get("SubscriptionArn"):
        return params["SubscriptionArn"].rsplit(":", 1)[0]
    if ctx.operation == "CreateTopic" and params.get("Name"):
        return ctx.arn("sns", params["Name"])
    return params.get("ResourceArn")


def _dynamodb(ctx: RequestContext, params: dict[str, Any]) -> str | None:
    name = params.get("TableName") or params.get("ResourceArn") or params.get("StreamArn")
    if not name:
        return None
    return name if name.startswith("arn:") else ctx.arn("dynamodb", f"table/{name}")


def _lambda(ctx: RequestContext, params: dict[str, Any]) -> str | None:
    name = params.get("FunctionName")
    if not name:
        return params.get("Resource") or params.get("ARN")
    if name.startswith("arn:"):
        return name
    if ":" in name:  # account:function:name partial ARNs and name:qualifier
        return ctx.arn("lambda", f"function:{name}")
    return ctx.arn("lambda", f"function:{name}")


def _logs(ctx: RequestContext, params: dict[str, Any]) -> str | None:
    group = params.get("logGroupName")
    if not group:
        return params.get("resourceArn")
    stream = params.get("logStreamName")
    suffix = f":log-stream:{stream}" if stream else ":*"
    return ctx.arn("logs", f"log-group:{group}{suffix}")


_IAM_LISTS = {
    "ListUsers": "user",
    "ListGroups": "group",
    "ListRoles": "role",
    "ListPolicies": "policy",
    "ListInstanceProfiles": "instance-profile",
}


def _iam(ctx: RequestContext, params: dict[str, Any]) -> str | None:
    account = ctx.account_id
    listed = _IAM_LISTS.get(ctx.operation)
    if listed:  # AWS authorizes listings against the path they list
        return f"arn:aws:iam::{account}:{listed}{params.get('PathPrefix') or '/'}"
    if params.get("PolicyArn") and not ctx.operation.startswith(("Attach", "Detach")):
        return params["PolicyArn"]
    for param, kind in (
        ("UserName", "user"),
        ("RoleName", "role"),
        ("GroupName", "group"),
        ("InstanceProfileName", "instance-profile"),
        ("PolicyName", "policy"),
    ):
        name = params.get(param)
        if name:
            if param == "PolicyName" and ctx.operation != "CreatePolicy":
                continue
            return f"arn:aws:iam::{account}:{kind}/{name}"
    return params.get("PolicyArn") or params.get("OpenIDConnectProviderArn") or params.get("SerialNumber")


def _sts(ctx: RequestContext, params: dict[str, Any]) -> str | None:
    return params.get("RoleArn")


BUILDERS: dict[str, ResourceBuilder] = {
    "sqs": _sqs,
    "s3": _s3,
    "sns": _sns,
    "dynamodb": _dynamodb,
    "dynamodbstreams": _dynamodb,
    "lambda": _lambda,
    "logs": _logs,
    "iam": _iam,
    "sts": _sts,
}


def resource_arn(ctx: RequestContext, params: dict[str, Any]) -> str:
    builder = BUILDERS.get(ctx.service)
    found = builder(ctx, params) if builder else None
    return found or "*"


def resource_account(arn: str) -> str | None:
    """The account an ARN names ('' for S3 buckets, whose ARNs name none)."""
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 else None
