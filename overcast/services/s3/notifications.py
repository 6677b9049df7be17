"""Event notifications: S3 tells SQS queues, SNS topics and Lambda functions about created, removed and restored
objects.

Deliveries go through the kit's delivery (`Platform.call`) as the s3.amazonaws.com service principal, with
the bucket as `aws:SourceArn` and its owner as `aws:SourceAccount`, so the queue's, topic's or function's own
policy decides as in AWS. They are sent after the request's transaction commits; a destination that refuses
is logged, never an error for the writer (as in AWS).
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

import overcast.services.events.api as events
from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.delivery import Sender, deliver
from overcast.services.s3.common import bucket_arn
from overcast.services.s3.store import Bucket, ObjectVersion

if TYPE_CHECKING:
    from overcast.platform import Platform
    from overcast.services.s3.provider import S3Provider

log = logging.getLogger("overcast.s3")
_TARGETS = (
    ("QueueConfigurations", "QueueArn", "sqs"),
    ("TopicConfigurations", "TopicArn", "sns"),
    ("LambdaFunctionConfigurations", "LambdaFunctionArn", "lambda"),
)


class NotificationOperations(Operations):
    service: S3Provider

    async def put_bucket_notification_configuration(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        """Stored once every destination accepted S3's test event (as AWS validates them)."""
        with self.db.transaction():
            bucket = self.service.owner_only(ctx, params["Bucket"])
        document = params.get("NotificationConfiguration") or {}
        if not params.get("SkipDestinationValidation"):
            test = json.dumps(
                {
                    "Service": "Amazon S3",
                    "Event": "s3:TestEvent",
                    "Bucket": bucket.name,
                    "RequestId": ctx.request_id,
                    "HostId": ctx.request_id,
                    "Time": self.clock.now_datetime().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                }
            )
            for member, arn_member, service in _TARGETS:
                for entry in document.get(member) or []:
                    try:
                        await send(self.platform, service, entry[arn_member], test, bucket, test=True)
                    except ServiceError as error:
                        raise ServiceError(
                            "InvalidArgument",
                            "Unable to validate the following destination configurations",
                            400,
                            ArgumentName=entry[arn_member],
                            ArgumentValue=error.message,
                        ) from error
        with self.db.transaction():
            self.service.store.put_config(bucket.id, "notification", document)
        return {}

    def get_bucket_notification_configuration(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        bucket = self.service.owner_only(ctx, params["Bucket"])
        return self.service.store.config(bucket.id, "notification") or {}


# -- sending events -------------------------------------------------------------------------------------


def object_event(
    service: S3Provider,
    ctx: RequestContext,
    bucket: Bucket,
    event: str,
    key: str,
    size: int = 0,
    etag: str | None = None,
    version_id: str | None = None,
) -> None:
    """Queue the event of a request for every matching destination; delivered once the transaction commits."""
    if not service.store.document(bucket.id, "notification"):
        return  # no destination and no EventBridge (what most writes find: nothing to build)
    to_eventbridge(service, ctx, bucket, event, key, size, etag, version_id, service.clock.now())
    targets = _targets(service, bucket, event, key)
    if targets:
        now = service.clock.now()
        record = _record(
            bucket,
            event,
            now,
            _object_entry(bucket, event, key, size, etag, version_id, now),
            principal_id=f"AWS:{ctx.principal.user_id}",
            source_ip=ctx.request.client_ip if ctx.request else "127.0.0.1",
            request_id=ctx.request_id,
        )
        _send_after_commit(service, bucket, targets, record)


def restore_completed(
    service: S3Provider, bucket: Bucket, version: ObjectVersion, restore: dict[str, Any]
) -> None:
    """s3:ObjectRestore:Completed, as S3 itself sends it when the restored copy is ready: from S3 (no
    requester), at the moment the copy became readable, with `glacierEventData` (when the copy expires,
    and the storage class it was restored from)."""
    event = "ObjectRestore:Completed"
    moment = restore["ready_at"]
    to_eventbridge(
        service, None, bucket, event, version.key, version.size, version.etag, version.version_id, moment
    )
    targets = _targets(service, bucket, event, version.key)
    if not targets:
        return
    moment = restore["ready_at"]
    record = _record(
        bucket,
        event,
        moment,
        _object_entry(bucket, event, version.key, version.size, version.etag, version.version_id, moment),
        principal_id=f"AmazonCustomer:{bucket.account}",
        source_ip="s3.amazonaws.com",
        request_id=secrets.token_hex(8).upper(),
    )
    record["glacierEventData"] = {
        "restoreEventData": {
            "lifecycleRestorationExpiryTime": _iso(restore["expires_at"]),
            "lifecycleRestoreStorageClass": version.storage_class,
        }
    }
    _send_after_commit(service, bucket, targets, record)


def _targets(service: S3Provider, bucket: Bucket, event: str, key: str) -> list[tuple[str, str, str]]:
    """(service, ARN, configuration id) of each destination whose configuration wants the event."""
    config = service.store.document(bucket.id, "notification")
    if not config:
        return []
    return [
        (kind, entry[arn_member], entry.get("Id") or "")
        for member, arn_member, kind in _TARGETS
        for entry in config.get(member) or []
        if _wants(entry, event, key)
    ]


# S3's event types as EventBridge names them: (detail-type, extra detail) by event-name prefix.
_EVENTBRIDGE_TYPES = {
    "ObjectCreated": "Object Created",
    "ObjectRemoved:DeleteMarkerCreated": "Object Deleted",
    "ObjectRemoved": "Object Deleted",
    "ObjectRestore:Post": "Object Restore Initiated",
    "ObjectRestore:Completed": "Object Restore Completed",
    "ObjectTagging:Put": "Object Tags Added",
    "ObjectTagging:Delete": "Object Tags Deleted",
}


def to_eventbridge(
    service: S3Provider,
    ctx: RequestContext | None,
    bucket: Bucket,
    event: str,
    key: str,
    size: int,
    etag: str | None,
    version_id: str | None,
    moment: float,
) -> None:
    """With EventBridge notifications on (`EventBridgeConfiguration: {}`), every event goes to the default
    bus of the bucket's account and region as AWS sends it (source aws.s3), once the transaction commits."""
    config = service.store.document(bucket.id, "notification") or {}
    if "EventBridgeConfiguration" not in config:
        return
    detail_type = next(
        (name for prefix, name in _EVENTBRIDGE_TYPES.items() if event.startswith(prefix)), None
    )
    if detail_type is None:
        return
    item: dict[str, Any] = {"key": key, "sequencer": f"{int(moment * 1e6):016X}"}
    if detail_type == "Object Created":
        item.update(size=size, etag=(etag or "").strip('"'))
    if version_id and version_id != "null":
        item["version-id"] = version_id
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": bucket.name},
        "object": item,
        "request-id": ctx.request_id if ctx else secrets.token_hex(8).upper(),
        "requester": ctx.principal.account_id if ctx else "s3.amazonaws.com",
    }
    if ctx is not None:
        detail["source-ip-address"] = ctx.request.client_ip if ctx.request else "127.0.0.1"
        detail["reason"] = ctx.operation
    if detail_type == "Object Deleted":
        marker = event.endswith("DeleteMarkerCreated")
        detail["deletion-type"] = "Delete Marker Created" if marker else "Permanently Deleted"
    platform = service.platform

    def put() -> None:
        events.put_event(
            platform,
            bucket.account,
            bucket.region,
            source="aws.s3",
            detail_type=detail_type,
            detail=detail,
            resources=[f"arn:aws:s3:::{bucket.name}"],
            moment=moment,
        )

    service.db.after_commit(put)


def _send_after_commit(
    service: S3Provider, bucket: Bucket, targets: list[tuple[str, str, str]], record: dict[str, Any]
) -> None:
    for kind, arn, config_id in targets:
        body = json.dumps({"Records": [{**record, "s3": {**record["s3"], "configurationId": config_id}}]})
        service.db.after_commit(
            lambda k=kind, a=arn, b=body: service.platform.spawn(_deliver(service.platform, k, a, b, bucket))
        )


async def _deliver(platform: Platform, service: str, arn: str, body: str, bucket: Bucket) -> None:
    try:
        await send(platform, service, arn, body, bucket)
    except ServiceError as error:
        log.info("S3 could not deliver an event to %s: %s", arn, error)


async def send(
    platform: Platform, service: str, arn: str, body: str, bucket: Bucket, test: bool = False
) -> None:
    """Deliver as s3.amazonaws.com, with the aws:SourceArn / aws:SourceAccount the destination's policy
    conditions on (AWS's documented queue and topic policies for S3 events): straight to SendMessage (the
    only action the documented queue policy grants S3), Publish with S3's subject, or an asynchronous
    invocation (validation only checks that S3 may invoke: AWS sends no test event to a function)."""
    target = parse_arn(arn)
    if target is None or target.service != service:
        raise ServiceError("InvalidArgument", f"Invalid ARN: {arn}", 400)
    sender = Sender("s3.amazonaws.com", target.account, bucket_arn(bucket), bucket.account)
    options: dict[str, Any] = {}
    if service == "sns":
        options["subject"] = "Amazon S3 Notification"
    elif service == "lambda":
        options["invocation_type"] = "DryRun" if test else "Event"
    await deliver(platform, arn, body, sender, **options)


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _object_entry(
    bucket: Bucket, event: str, key: str, size: int, etag: str | None, version_id: str | None, now: float
) -> dict[str, Any]:
    entry: dict[str, Any] = {"key": quote_plus(key, safe="/"), "sequencer": f"{int(now * 1e6):016X}"}
    if not event.startswith("ObjectRemoved"):
        entry.update(size=size, eTag=(etag or "").strip('"'))
    if version_id and version_id != "null" or bucket.versioning:
        entry["versionId"] = version_id
    return entry


def _record(
    bucket: Bucket,
    event: str,
    moment: float,
    entry: dict[str, Any],
    *,
    principal_id: str,
    source_ip: str,
    request_id: str,
) -> dict[str, Any]:
    """One record of AWS's event message structure (version 2.1)."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": bucket.region,
        "eventTime": _iso(moment),
        "eventName": event,
        "userIdentity": {"principalId": principal_id},
        "requestParameters": {"sourceIPAddress": source_ip},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": request_id},
        "s3": {
            "s3SchemaVersion": "1.0",
            "bucket": {
                "name": bucket.name,
                "ownerIdentity": {"principalId": bucket.account},
                "arn": bucket_arn(bucket),
            },
            "object": entry,
        },
    }


def _wants(entry: dict[str, Any], event: str, key: str) -> bool:
    if not any(fnmatchcase("s3:" + event, pattern) for pattern in entry.get("Events") or []):
        return False
    for rule in ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []:
        name, value = rule.get("Name", "").lower(), rule.get("Value", "")
        if name == "prefix" and not key.startswith(value) or name == "suffix" and not key.endswith(value):
            return False
    return True
