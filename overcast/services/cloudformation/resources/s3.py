"""S3 resource types: AWS::S3::Bucket (with its configurations) and AWS::S3::BucketPolicy.

A bucket's CloudFormation properties are shaped unlike S3's API (`CorsRules` against `CORSRules`,
`ExpirationInDays` against `Expiration.Days`, ...): each configuration is converted here and put with its own
operation; a configuration taken out of the template is deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from overcast.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    Created,
    HandlerError,
    ResourceContext,
    ResourceHandler,
    boolean,
    document,
    drop_none,
    integer,
    not_found,
    tag_list,
)

_UNSUPPORTED = (
    "AnalyticsConfigurations",
    "IntelligentTieringConfigurations",
    "InventoryConfigurations",
    "MetricsConfigurations",
    "MetadataTableConfiguration",
)


def _date(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _filter(rule: dict[str, Any]) -> dict[str, Any]:
    tags = [{"Key": t["Key"], "Value": t["Value"]} for t in rule.get("TagFilters") or []]
    parts: dict[str, Any] = drop_none(
        {
            "Prefix": rule.get("Prefix"),
            "ObjectSizeGreaterThan": integer(rule.get("ObjectSizeGreaterThan")),
            "ObjectSizeLessThan": integer(rule.get("ObjectSizeLessThan")),
        }
    )
    if tags:
        parts["Tags"] = tags
    if len(parts) > 1 or "Tags" in parts and len(tags) > 1:
        return {"And": parts}
    if "Tags" in parts:
        return {"Tag": tags[0]}
    return parts or {"Prefix": ""}


def lifecycle_rules(configuration: dict[str, Any]) -> list[dict[str, Any]]:
    rules = []
    for rule in configuration.get("Rules") or []:
        converted: dict[str, Any] = drop_none(
            {"ID": rule.get("Id"), "Status": rule["Status"], "Filter": _filter(rule)}
        )
        expiration = drop_none(
            {
                "Days": integer(rule.get("ExpirationInDays")),
                "Date": _date(rule.get("ExpirationDate")),
                "ExpiredObjectDeleteMarker": boolean(rule.get("ExpiredObjectDeleteMarker")),
            }
        )
        if expiration:
            converted["Expiration"] = expiration
        transitions = [
            drop_none(
                {
                    "Days": integer(t.get("TransitionInDays")),
                    "Date": _date(t.get("TransitionDate")),
                    "StorageClass": t["StorageClass"],
                }
            )
            for t in (rule.get("Transitions") or ([rule["Transition"]] if rule.get("Transition") else []))
        ]
        if transitions:
            converted["Transitions"] = transitions
        noncurrent = rule.get("NoncurrentVersionExpiration") or (
            {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]}
            if rule.get("NoncurrentVersionExpirationInDays") is not None
            else None
        )
        if noncurrent:
            converted["NoncurrentVersionExpiration"] = drop_none(
                {
                    "NoncurrentDays": integer(noncurrent.get("NoncurrentDays")),
                    "NewerNoncurrentVersions": integer(noncurrent.get("NewerNoncurrentVersions")),
                }
            )
        noncurrent_transitions = [
            drop_none(
                {
                    "NoncurrentDays": integer(t.get("TransitionInDays")),
                    "StorageClass": t["StorageClass"],
                    "NewerNoncurrentVersions": integer(t.get("NewerNoncurrentVersions")),
                }
            )
            for t in rule.get("NoncurrentVersionTransitions") or []
        ]
        if noncurrent_transitions:
            converted["NoncurrentVersionTransitions"] = noncurrent_transitions
        abort = rule.get("AbortIncompleteMultipartUpload")
        if abort:
            converted["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": integer(abort["DaysAfterInitiation"])
            }
        rules.append(converted)
    return rules


def cors_rules(configuration: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        drop_none(
            {
                "ID": rule.get("Id"),
                "AllowedHeaders": rule.get("AllowedHeaders"),
                "AllowedMethods": rule["AllowedMethods"],
                "AllowedOrigins": rule["AllowedOrigins"],
                "ExposeHeaders": rule.get("ExposedHeaders"),
                "MaxAgeSeconds": integer(rule.get("MaxAge")),
            }
        )
        for rule in configuration.get("CorsRules") or []
    ]


def website(configuration: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if configuration.get("IndexDocument"):
        result["IndexDocument"] = {"Suffix": configuration["IndexDocument"]}
    if configuration.get("ErrorDocument"):
        result["ErrorDocument"] = {"Key": configuration["ErrorDocument"]}
    if configuration.get("RedirectAllRequestsTo"):
        result["RedirectAllRequestsTo"] = drop_none(dict(configuration["RedirectAllRequestsTo"]))
    rules = []
    for rule in configuration.get("RoutingRules") or []:
        converted: dict[str, Any] = {"Redirect": drop_none(dict(rule.get("RedirectRule") or {}))}
        if rule.get("RoutingRuleCondition"):
            converted["Condition"] = drop_none(dict(rule["RoutingRuleCondition"]))
        rules.append(converted)
    if rules:
        result["RoutingRules"] = rules
    return result


def _notification_filter(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if not value or not value.get("S3Key"):
        return None
    return {
        "Key": {
            "FilterRules": [
                {"Name": r["Name"], "Value": r["Value"]} for r in value["S3Key"].get("Rules") or []
            ]
        }
    }


def notifications(configuration: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for source, target, arn_key, key in (
        ("QueueConfigurations", "QueueConfigurations", "QueueArn", "Queue"),
        ("TopicConfigurations", "TopicConfigurations", "TopicArn", "Topic"),
        ("LambdaConfigurations", "LambdaFunctionConfigurations", "LambdaFunctionArn", "Function"),
    ):
        entries = [
            drop_none(
                {
                    arn_key: item[key],
                    "Events": [item["Event"]],
                    "Filter": _notification_filter(item.get("Filter")),
                }
            )
            for item in configuration.get(source) or []
        ]
        if entries:
            result[target] = entries
    if (configuration.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled") in (True, "true"):
        result["EventBridgeConfiguration"] = {}
    return result


def replication(configuration: dict[str, Any]) -> dict[str, Any]:
    rules = []
    for rule in configuration.get("Rules") or []:
        converted = {key: value for key, value in rule.items() if key != "Id"}
        if rule.get("Id"):
            converted["ID"] = rule["Id"]
        if "Filter" not in converted and "Prefix" not in converted:
            converted["Prefix"] = ""
        rules.append(converted)
    return {"Role": configuration["Role"], "Rules": rules}


class Bucket(ResourceHandler):
    type_name = "AWS::S3::Bucket"
    service = "s3"
    create_only = frozenset({"BucketName", "ObjectLockEnabled"})
    attributes = (
        "Arn",
        "DomainName",
        "DualStackDomainName",
        "RegionalDomainName",
        "WebsiteURL",
        "BucketName",
    )
    primary_identifier = "BucketName"

    async def create(self, ctx, properties):
        for name in _UNSUPPORTED:
            if name in properties:
                raise HandlerError(f"Overcast does not support the property {name} of AWS::S3::Bucket yet")
        name = properties.get("BucketName") or ctx.generated_name(63, lowercase=True)
        params: dict[str, Any] = {"Bucket": name}
        if ctx.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
        if properties.get("AccessControl"):
            params["ACL"] = _canned(properties["AccessControl"])
        if boolean(properties.get("ObjectLockEnabled")):
            params["ObjectLockEnabledForBucket"] = True
        await ctx.call("s3", "CreateBucket", params)
        try:
            await self._configure(ctx, name, properties, {})
        except (ServiceError, HandlerError):
            await self.delete(ctx, name, properties)
            raise
        return Created(name, self.known_attributes(ctx, name))

    def known_attributes(self, ctx: ResourceContext, physical_id: str) -> dict[str, Any]:
        name, region = physical_id, ctx.region
        return {
            "Arn": f"arn:aws:s3:::{name}",
            "BucketName": name,
            "DomainName": f"{name}.s3.amazonaws.com",
            "DualStackDomainName": f"{name}.s3.dualstack.{region}.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
            "WebsiteURL": f"http://{name}.s3-website-{region}.amazonaws.com",
        }

    async def _configure(
        self, ctx: ResourceContext, name: str, new: dict[str, Any], old: dict[str, Any]
    ) -> None:
        """Put each configuration that differs from `old`; delete those only `old` has."""

        async def apply(key: str, put, delete=None) -> None:
            value, before = new.get(key), old.get(key)
            if value == before:
                return
            if value is not None:
                await put(value)
            elif delete is not None:
                await delete()

        bucket = {"Bucket": name}
        await apply(
            "OwnershipControls",
            lambda v: ctx.call(
                "s3", "PutBucketOwnershipControls", {**bucket, "OwnershipControls": {"Rules": v["Rules"]}}
            ),
            lambda: ctx.call("s3", "DeleteBucketOwnershipControls", bucket),
        )
        await apply(
            "PublicAccessBlockConfiguration",
            lambda v: ctx.call(
                "s3",
                "PutPublicAccessBlock",
                {**bucket, "PublicAccessBlockConfiguration": {k: boolean(x) for k, x in v.items()}},
            ),
            lambda: ctx.call("s3", "DeletePublicAccessBlock", bucket),
        )
        await apply(
            "VersioningConfiguration",
            lambda v: ctx.call(
                "s3", "PutBucketVersioning", {**bucket, "VersioningConfiguration": {"Status": v["Status"]}}
            ),
            lambda: ctx.call(
                "s3", "PutBucketVersioning", {**bucket, "VersioningConfiguration": {"Status": "Suspended"}}
            ),
        )
        await apply(
            "BucketEncryption",
            lambda v: ctx.call(
                "s3",
                "PutBucketEncryption",
                {
                    **bucket,
                    "ServerSideEncryptionConfiguration": {
                        "Rules": [
                            drop_none(
                                {
                                    "ApplyServerSideEncryptionByDefault": drop_none(
                                        dict(rule.get("ServerSideEncryptionByDefault") or {})
                                    )
                                    or None,
                                    "BucketKeyEnabled": boolean(rule.get("BucketKeyEnabled")),
                                }
                            )
                            for rule in v["ServerSideEncryptionConfiguration"]
                        ]
                    },
                },
            ),
            lambda: ctx.call("s3", "DeleteBucketEncryption", bucket),
        )
        await apply(
            "LifecycleConfiguration",
            lambda v: ctx.call(
                "s3",
                "PutBucketLifecycleConfiguration",
                {**bucket, "LifecycleConfiguration": {"Rules": lifecycle_rules(v)}},
            ),
            lambda: ctx.call("s3", "DeleteBucketLifecycle", bucket),
        )
        await apply(
            "CorsConfiguration",
            lambda v: ctx.call(
                "s3", "PutBucketCors", {**bucket, "CORSConfiguration": {"CORSRules": cors_rules(v)}}
            ),
            lambda: ctx.call("s3", "DeleteBucketCors", bucket),
        )
        await apply(
            "WebsiteConfiguration",
            lambda v: ctx.call("s3", "PutBucketWebsite", {**bucket, "WebsiteConfiguration": website(v)}),
            lambda: ctx.call("s3", "DeleteBucketWebsite", bucket),
        )
        await apply(
            "NotificationConfiguration",
            lambda v: ctx.call(
                "s3",
                "PutBucketNotificationConfiguration",
                {**bucket, "NotificationConfiguration": notifications(v)},
            ),
            lambda: ctx.call(
                "s3", "PutBucketNotificationConfiguration", {**bucket, "NotificationConfiguration": {}}
            ),
        )
        await apply(
            "LoggingConfiguration",
            lambda v: ctx.call(
                "s3",
                "PutBucketLogging",
                {
                    **bucket,
                    "BucketLoggingStatus": {
                        "LoggingEnabled": {
                            "TargetBucket": v.get("DestinationBucketName", name),
                            "TargetPrefix": v.get("LogFilePrefix", ""),
                        }
                    },
                },
            ),
            lambda: ctx.call("s3", "PutBucketLogging", {**bucket, "BucketLoggingStatus": {}}),
        )
        await apply(
            "AccelerateConfiguration",
            lambda v: ctx.call(
                "s3",
                "PutBucketAccelerateConfiguration",
                {**bucket, "AccelerateConfiguration": {"Status": v["AccelerationStatus"]}},
            ),
        )
        await apply(
            "ObjectLockConfiguration",
            lambda v: ctx.call(
                "s3",
                "PutObjectLockConfiguration",
                {
                    **bucket,
                    "ObjectLockConfiguration": drop_none(
                        {
                            "ObjectLockEnabled": v.get("ObjectLockEnabled", "Enabled"),
                            "Rule": {
                                "DefaultRetention": drop_none(
                                    {
                                        k: (integer(x) if k != "Mode" else x)
                                        for k, x in (v.get("Rule") or {}).get("DefaultRetention", {}).items()
                                    }
                                )
                            }
                            if v.get("Rule")
                            else None,
                        }
                    ),
                },
            ),
        )
        await apply(
            "ReplicationConfiguration",
            lambda v: ctx.call(
                "s3", "PutBucketReplication", {**bucket, "ReplicationConfiguration": replication(v)}
            ),
            lambda: ctx.call("s3", "DeleteBucketReplication", bucket),
        )
        await apply(
            "Tags",
            lambda v: ctx.call("s3", "PutBucketTagging", {**bucket, "Tagging": {"TagSet": tag_list(v)}}),
            lambda: ctx.call("s3", "DeleteBucketTagging", bucket),
        )

    async def update(self, ctx, physical_id, properties, previous, attributes):
        for name in _UNSUPPORTED:
            if name in properties:
                raise HandlerError(f"Overcast does not support the property {name} of AWS::S3::Bucket yet")
        if properties.get("AccessControl") != previous.get("AccessControl") and properties.get(
            "AccessControl"
        ):
            await ctx.call(
                "s3", "PutBucketAcl", {"Bucket": physical_id, "ACL": _canned(properties["AccessControl"])}
            )
        await self._configure(ctx, physical_id, properties, previous)
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("s3", "DeleteBucket", {"Bucket": physical_id})
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            await ctx.call("s3", "HeadBucket", {"Bucket": physical_id})
        except ServiceError as error:
            if not_found(error) or error.status == 404:
                return None
            raise
        result: dict[str, Any] = {"BucketName": physical_id}
        versioning = await ctx.call("s3", "GetBucketVersioning", {"Bucket": physical_id})
        if versioning.get("Status"):
            result["VersioningConfiguration"] = {"Status": versioning["Status"]}
        try:
            tags = await ctx.call("s3", "GetBucketTagging", {"Bucket": physical_id})
            result["Tags"] = tags.get("TagSet", [])
        except ServiceError:
            pass
        for key in properties:
            if key not in result and key not in ("VersioningConfiguration", "Tags"):
                result[key] = properties[key]  # configurations Overcast does not read back are taken as set
        return result

    async def list(self, ctx):
        return [bucket["Name"] for bucket in (await ctx.call("s3", "ListBuckets", {})).get("Buckets", [])]


def _canned(value: str) -> str:
    """CloudFormation's AccessControl names (PublicRead) as S3's canned ACLs (public-read)."""
    import re

    return re.sub(r"(?<!^)([A-Z])", r"-\1", value).lower()


class BucketPolicy(ResourceHandler):
    type_name = "AWS::S3::BucketPolicy"
    service = "s3"
    required = ("Bucket", "PolicyDocument")
    create_only = frozenset({"Bucket"})
    primary_identifier = "Bucket"

    async def create(self, ctx, properties):
        await ctx.call(
            "s3",
            "PutBucketPolicy",
            {"Bucket": properties["Bucket"], "Policy": document(properties["PolicyDocument"])},
        )
        return Created(properties["Bucket"])

    async def update(self, ctx, physical_id, properties, previous, attributes):
        await ctx.call(
            "s3",
            "PutBucketPolicy",
            {"Bucket": properties["Bucket"], "Policy": document(properties["PolicyDocument"])},
        )
        return attributes

    async def delete(self, ctx, physical_id, properties):
        try:
            await ctx.call("s3", "DeleteBucketPolicy", {"Bucket": properties.get("Bucket", physical_id)})
        except ServiceError as error:
            if not not_found(error):
                raise

    async def read(self, ctx, physical_id, properties):
        try:
            found = await ctx.call("s3", "GetBucketPolicy", {"Bucket": physical_id})
        except ServiceError as error:
            if not_found(error):
                return None
            raise
        return {"Bucket": physical_id, "PolicyDocument": found["Policy"]}


HANDLERS = (Bucket, BucketPolicy)
