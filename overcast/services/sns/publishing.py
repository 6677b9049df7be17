"""SNS Publish and PublishBatch: to a topic (fanned out by fanout.py), a platform endpoint or a phone number."""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.arns import parse_arn
from overcast.services.sns.checks import (
    FIFO_TOKEN,
    MAX_MESSAGE_BYTES,
    PHONE,
    attributes_size,
    check_batch,
    check_message_attributes,
    invalid,
    messages_by_protocol,
)
from overcast.services.sns.delivery import Published
from overcast.services.sns.store import Topic

if TYPE_CHECKING:
    from overcast.services.sns.provider import SnsProvider

DEDUP_WINDOW = 300.0


class PublishOperations(Operations):
    service: SnsProvider

    async def publish(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction():
            published, result = self._accept(ctx, params)
        if published is not None:
            await self.service.fanout.fan_out(published)
        return result

    async def publish_batch(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entries = params["PublishBatchRequestEntries"]
        check_batch(entries)
        accepted: list[Published] = []
        successful, failed = [], []
        for entry in entries:  # an invalid attribute in any entry refuses the whole batch
            check_message_attributes(entry.get("MessageAttributes") or {})
        with self.db.transaction():
            self.service.topic(ctx, params["TopicArn"])
            for entry in entries:
                try:
                    with self.db.transaction():
                        published, result = self._accept(ctx, {**entry, "TopicArn": params["TopicArn"]})
                except ServiceError as error:
                    failed.append(
                        {
                            "Id": entry["Id"],
                            "Code": error.code,
                            "Message": error.message,
                            "SenderFault": error.sender_fault,
                        }
                    )
                    continue
                successful.append({"Id": entry["Id"], **result})
                if published is not None:
                    accepted.append(published)
        for published in accepted:
            await self.service.fanout.fan_out(published)
        return {"Successful": successful, "Failed": failed}

    def _accept(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[Published | None, dict[str, Any]]:
        """Validate a publish and record it; (what to deliver or None for a FIFO duplicate, the response)."""
        targets = [params.get(k) for k in ("TopicArn", "TargetArn", "PhoneNumber") if params.get(k)]
        if len(targets) != 1:
            raise invalid("TopicArn or TargetArn Reason: no value for required parameter")
        message = params["Message"]
        if not message:
            raise invalid("Empty message")
        attributes = params.get("MessageAttributes") or {}
        check_message_attributes(attributes)
        if len(message.encode()) + attributes_size(attributes) > MAX_MESSAGE_BYTES:
            raise invalid("Message too long")
        subject = params.get("Subject")
        if subject is not None and (
            not subject or len(subject) > 100 or not subject.isprintable() or not subject.isascii()
        ):
            raise invalid("Subject")
        messages = messages_by_protocol(message, params.get("MessageStructure"))
        if params.get("PhoneNumber"):
            return None, self._to_phone(ctx, params["PhoneNumber"], messages.get("sms", messages["default"]))
        target = parse_arn(params.get("TargetArn") or "")
        if target is not None and target.resource.startswith("endpoint/"):
            return None, self._to_endpoint(ctx, params["TargetArn"], messages)
        topic = self.service.topic(
            ctx,
            params.get("TopicArn") or params["TargetArn"],
            "TopicArn" if params.get("TopicArn") else "TargetArn",
        )
        self.service.keys.before_publish(ctx, topic)
        now = self.clock.now()
        published = Published(
            message_id=str(uuid.uuid4()),
            topic_arn=topic.arn,
            account=topic.account,
            region=topic.region,
            fifo=topic.fifo,
            messages=messages,
            subject=subject,
            attributes=attributes,
            timestamp=now,
            base_url=self.service.base_url(ctx),
            group_id=params.get("MessageGroupId"),
            signature_version=topic.attributes.get("SignatureVersion", "1"),
            trace_header=ctx.request.headers.get("x-amzn-trace-id") if ctx.request is not None else None,
        )
        if topic.fifo:
            duplicate = self._fifo_accept(topic, params, published, now)
            if duplicate is not None:
                return None, duplicate
        elif params.get("MessageDeduplicationId"):
            raise invalid(
                "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter "
                "that is not valid for this topic type"
            )
        published.subscriptions = [
            s for s in self.service.store.topic_subscriptions(topic.arn) if s.confirmed
        ]
        result = {"MessageId": published.message_id}
        if published.sequence_number:
            result["SequenceNumber"] = published.sequence_number
        return published, result

    def _fifo_accept(
        self, topic: Topic, params: dict[str, Any], published: Published, now: float
    ) -> dict | None:
        """Group and deduplication rules of a FIFO topic; the original's response for a duplicate."""
        store = self.service.store
        group = params.get("MessageGroupId")
        if not group:
            raise invalid("The MessageGroupId parameter is required for FIFO topics")
        dedup = params.get("MessageDeduplicationId")
        if dedup is None:
            if topic.attributes.get("ContentBasedDeduplication") != "true":
                raise invalid(
                    "The topic should either have ContentBasedDeduplication enabled or "
                    "MessageDeduplicationId provided explicitly"
                )
            dedup = hashlib.sha256(params["Message"].encode()).hexdigest()
        for name, value in (("MessageGroupId", group), ("MessageDeduplicationId", dedup)):
            if not FIFO_TOKEN.match(value):
                raise invalid(
                    f"{name} Reason: {name} can only include alphanumeric and punctuation characters. 1 "
                    "to 128 in length."
                )
        original = store.duplicate(topic.arn, dedup, now)
        if original is not None:
            return {"MessageId": original[0], "SequenceNumber": original[1]}
        published.dedup_id = dedup
        published.sequence_number = str(10**19 + store.next_sequence_number(topic.arn))
        store.remember_dedup(
            topic.arn, dedup, now + DEDUP_WINDOW, published.message_id, published.sequence_number
        )
        return None

    def _to_phone(self, ctx: RequestContext, phone: str, text: str) -> dict[str, Any]:
        """Publish(PhoneNumber=...): captured in the outbox as the phone would receive it."""
        if not PHONE.fullmatch(phone):
            raise invalid("PhoneNumber Reason: input incorrectly formatted")
        message_id = str(uuid.uuid4())
        if self.service.opted_out(ctx.account_id, ctx.region, phone):
            return {"MessageId": message_id}  # accepted, never delivered (AWS logs a delivery failure)
        self._outbox(ctx, "sms", phone, message_id, text)
        return {"MessageId": message_id}

    def _to_endpoint(
        self, ctx: RequestContext, endpoint_arn: str, messages: dict[str, str]
    ) -> dict[str, Any]:
        """Publish(TargetArn=<endpoint>): captured in the outbox as the push service would receive it."""
        try:
            application_arn, attributes = self.service.platform_endpoint(endpoint_arn)
        except ServiceError as error:
            if error.code != "NotFound":
                raise
            raise invalid("TargetArn Reason: No endpoint found for the target arn specified") from None
        platform, application = self.service.platform_application(application_arn)
        if application.get("Enabled") == "false":
            raise ServiceError("PlatformApplicationDisabled", "Platform application is disabled.")
        if attributes.get("Enabled") == "false":
            raise ServiceError("EndpointDisabled", "Endpoint is disabled")
        message_id = str(uuid.uuid4())
        self._outbox(
            ctx, "application", endpoint_arn, message_id, messages.get(platform, messages["default"])
        )
        return {"MessageId": message_id}

    def _outbox(
        self, ctx: RequestContext, protocol: str, endpoint: str, message_id: str, payload: str
    ) -> None:
        self.service.store.add_to_outbox(
            {
                "account": ctx.account_id,
                "region": ctx.region,
                "protocol": protocol,
                "endpoint": endpoint,
                "message_id": message_id,
                "kind": "Notification",
                "payload": payload,
                "created_at": self.clock.now(),
            }
        )
