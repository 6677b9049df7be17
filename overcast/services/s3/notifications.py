"""Event notifications: S3 tells SQS queues, SNS topics and Lambda functions about created, removed and restored
objects.

Deliveries go through `platform.call` as the s3.amazonaws.com service principal, so the queue's or topic's
own checks apply as they do in AWS. They are sent after the request's transaction commits; a destination
that refuses is logged, never an error for the writer (as in AWS).
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import quote_plus

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import service_principal
from overcast.services.s3.core import S3Core
from overcast.services.s3.store import Bucket, ObjectVersion

log = logging.getLogger("overcast.s3")
_TARGETS = (
    ("QueueConfigurations", "QueueArn", "sqs"),
    ("TopicConfigurations", "TopicArn", "sns"),
    ("LambdaFunctionConfigurations", "LambdaFunctionArn", "lambda"),
)


class NotificationOps(S3Core):
    def notify(
        self,
        ctx: RequestContext,
        bucket: Bucket,
        event: str,
        key: str,
        size: int = 0,
        etag: str | None = None,
        version_id: str | None = None,
    ) -> None:
        """Queue the event for every matching destination; delivered once the transaction commits."""
        targets = self._targets(bucket, event, key)
        if targets:
            record = _record(
                bucket,
                event,
                self.clock.now(),
                _object_entry(bucket, event, key, size, etag, version_id, self.clock.now()),
                principal_id=f"AWS:{ctx.principal.user_id}",
                source_ip=ctx.request.client_ip if ctx.request else "127.0.0.1",
                request_id=ctx.request_id,
            )
            self._send(bucket, targets, record)

    def notify_restore_completed(
        self, bucket: Bucket, version: ObjectVersion, restore: dict[str, Any]
    ) -> None:
        """s3:ObjectRestore:Completed, as S3 itself sends it when the restored copy is ready: from S3 (no
        requester), at the moment the copy became readable, with `glacierEventData` (when the copy expires,
        and the storage class it was restored from)."""
        event = "ObjectRestore:Completed"
        targets = self._targets(bucket, event, version.key)
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
        self._send(bucket, targets, record)

    def _targets(self, bucket: Bucket, event: str, key: str) -> list[tuple[str, str, str]]:
        """(service, ARN, configuration id) of each destination whose configuration wants the event."""
        config = self.store.config(bucket.id, "notification")
        if not config:
            return []
        return [
            (service, entry[arn_member], entry.get("Id") or "")
            for member, arn_member, service in _TARGETS
            for entry in config.get(member) or []
            if _wants(entry, event, key)
        ]

    def _send(self, bucket: Bucket, targets: list[tuple[str, str, str]], record: dict[str, Any]) -> None:
        for service, arn, config_id in targets:
            body = json.dumps({"Records": [{**record, "s3": {**record["s3"], "configurationId": config_id}}]})
            self.db.after_commit(
                lambda s=service, a=arn, b=body: self.platform.spawn(self._deliver(s, a, b, bucket))
            )

    async def _deliver(self, service: str, arn: str, body: str, bucket: Bucket) -> None:
        try:
            await self.send_to(service, arn, body, bucket)
        except ServiceError as error:
            log.info("S3 could not deliver an event to %s: %s", arn, error)

    async def send_to(self, service: str, arn: str, body: str, bucket: Bucket, test: bool = False) -> None:
        """Deliver as s3.amazonaws.com, with the aws:SourceArn / aws:SourceAccount the destination's policy
        conditions on (AWS's documented queue and topic policies for S3 events)."""
        parts = arn.split(":")
        if len(parts) < 6 or parts[2] != service:
            raise ServiceError("InvalidArgument", f"Invalid ARN: {arn}", 400)
        region, account, name = parts[3], parts[4], parts[5]
        principal = service_principal("s3.amazonaws.com", account)
        source = {"aws:SourceArn": f"arn:aws:s3:::{bucket.name}", "aws:SourceAccount": bucket.account}
        if service == "sqs":
            # Straight to SendMessage, as S3 does (the only action the documented queue policy grants it).
            await self.platform.call(
                "sqs",
                "SendMessage",
                {"QueueUrl": f"https://sqs.{region}.amazonaws.com/{account}/{name}", "MessageBody": body},
                principal=principal,
                account_id=account,
                region=region,
                condition_keys=source,
            )
        elif service == "lambda":
            # Asynchronous invocation, as S3 invokes functions; validation only checks that S3 may invoke
            # (AWS sends no test event to a function).
            await self.platform.call(
                "lambda",
                "Invoke",
                {
                    "FunctionName": arn,
                    "InvocationType": "DryRun" if test else "Event",
                    "Payload": body.encode(),
                },
                principal=principal,
                account_id=account,
                region=region,
                condition_keys=source,
            )
        else:
            await self.platform.call(
                "sns",
                "Publish",
                {"TopicArn": arn, "Message": body, "Subject": "Amazon S3 Notification"},
                principal=principal,
                account_id=account,
                region=region,
                condition_keys=source,
            )

    async def put_bucket_notification_configuration(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        """Stored once every destination accepted S3's test event (as AWS validates them)."""
        with self.db.transaction():
            bucket = self.owner_only(ctx, params["Bucket"])
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
                        await self.send_to(service, entry[arn_member], test, bucket, test=True)
                    except ServiceError as error:
                        raise ServiceError(
                            "InvalidArgument",
                            "Unable to validate the following destination configurations",
                            400,
                            ArgumentName=entry[arn_member],
                            ArgumentValue=error.message,
                        ) from error
        with self.db.transaction():
            self.store.put_config(bucket.id, "notification", document)
        return {}

    def get_bucket_notification_configuration(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        bucket = self.owner_only(ctx, params["Bucket"])
        return self.store.config(bucket.id, "notification") or {}


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
                "arn": f"arn:aws:s3:::{bucket.name}",
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
