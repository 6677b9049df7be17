"""Delivering a published message to a topic's subscribers: filter policies, SNS's envelope (delivery.py),
SQS queues and Lambda functions through the kit (as sns.amazonaws.com, with aws:SourceArn the topic), HTTP
POSTs with retries, the outbox for what would leave this machine, and subscription dead-letter queues."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from overcast.errors import ServiceError
from overcast.services.kit.delivery import Sender, deliver
from overcast.services.sns import delivery, filters, retry
from overcast.services.sns.delivery import Published
from overcast.services.sns.store import Subscription

if TYPE_CHECKING:
    from overcast.services.sns.provider import SnsProvider

log = logging.getLogger("overcast.sns")


class FanOut:
    """The provider's deliveries (not an operation family: publishing and subscriptions call it)."""

    def __init__(self, service: SnsProvider) -> None:
        self.service = service
        self.platform = service.platform
        self.clock = service.clock

    async def fan_out(self, published: Published) -> None:
        if published.subscriptions:
            await self.service.signer.ready()
        for subscription in published.subscriptions:
            if not _passes_filter(subscription, published):
                continue
            try:
                await self._deliver(subscription, published)
            except Exception:  # one subscriber's failure never fails the publish or the other subscribers
                log.exception("SNS delivery to %s failed", subscription.arn)

    def http_policy(self, subscription: Subscription) -> dict[str, Any]:
        """The subscription's effective delivery policy (its own, or its topic's defaults)."""
        topic = self.service.store.topic(subscription.topic_arn)
        topic_policy = topic.attributes.get("DeliveryPolicy") if topic else None
        return retry.effective_subscription_policy(
            topic_policy, subscription.attributes.get("DeliveryPolicy")
        )

    def _payload(self, subscription: Subscription, published: Published) -> tuple[str, bool]:
        """(body, raw) of what a subscriber receives."""
        if subscription.attributes.get("RawMessageDelivery") == "true":
            return published.message_for(subscription.protocol), True
        document = delivery.notification(
            published, subscription.protocol, subscription.arn, self.service.signer
        )
        return delivery.dumps(document), False

    async def _deliver(self, subscription: Subscription, published: Published) -> None:
        service = self.service
        protocol = subscription.protocol
        if protocol == "sqs":
            body, raw = self._payload(subscription, published)
            await self._to_queue(subscription.endpoint, body, published, raw, subscription)
        elif protocol in ("http", "https") and delivery.is_local(subscription.endpoint):
            body, raw = self._payload(subscription, published)
            self.platform.spawn(self._to_http(subscription, published, body, raw))
        elif protocol == "lambda":
            await self._to_lambda(subscription, published)
        else:
            body, _ = self._payload(subscription, published)
            if protocol in ("email", "sms"):
                body = published.message_for(protocol)
            if protocol == "sms" and service.opted_out(
                subscription.account, subscription.region, subscription.endpoint
            ):
                return
            if protocol == "application":
                deliverable, platform = self._endpoint_accepts(subscription.endpoint)
                if not deliverable:
                    return
                body = published.messages.get(platform or "", published.message_for(protocol))
            with service.db.transaction():
                service.capture(subscription, "Notification", published.message_id, body)

    def _endpoint_accepts(self, endpoint_arn: str) -> tuple[bool, str | None]:
        """(deliverable, platform) for an `application` subscription's endpoint."""
        store = self.service.store
        found = store.platform_endpoint(endpoint_arn)
        if found is None:
            return True, None  # an endpoint we do not know: captured as addressed
        application = store.platform_application(found[0])
        enabled = found[1].get("Enabled") != "false" and (
            application is None or application[1].get("Enabled") != "false"
        )
        return enabled, application[0] if application else None

    @staticmethod
    def _sender(published: Published) -> Sender:
        return Sender("sns.amazonaws.com", published.account, source_arn=published.topic_arn)

    async def _to_queue(
        self, queue_arn: str, body: str, published: Published, raw: bool, subscription: Subscription | None
    ) -> None:
        options: dict[str, Any] = {}
        if raw and published.attributes:
            options["attributes"] = published.attributes
        if published.group_id:  # to FIFO queues and, from FIFO topics, to standard queues too
            options["message_group_id"] = published.group_id
        if published.fifo and queue_arn.endswith(".fifo"):
            options["deduplication_id"] = published.dedup_id
        if published.trace_header:
            options["trace_header"] = published.trace_header
        try:
            await deliver(self.platform, queue_arn, body, self._sender(published), **options)
        except ServiceError as error:
            log.info("SNS could not deliver %s to %s: %s", published.message_id, queue_arn, error)
            if subscription is not None:
                await self._dead_letter(subscription, published, body)

    async def _dead_letter(self, subscription: Subscription, published: Published, body: str) -> None:
        """A message the subscriber could not take goes to the subscription's dead-letter queue, if any."""
        text = subscription.attributes.get("RedrivePolicy")
        if not text:
            return
        target = json.loads(text).get("deadLetterTargetArn", "")
        raw = subscription.attributes.get("RawMessageDelivery") == "true"
        await self._to_queue(target, body, published, raw, None)

    async def _to_http(self, subscription: Subscription, published: Published, body: str, raw: bool) -> None:
        headers = delivery.http_headers(
            "Notification", published.message_id, published.topic_arn, subscription.arn, raw
        )
        policy = self.http_policy(subscription)
        headers["Content-Type"] = policy["requestPolicy"]["headerContentType"]
        for delay in [None, *retry.retry_delays(policy["healthyRetryPolicy"])]:
            if delay:
                await self.clock.sleep_until(self.clock.now() + delay)
            if await delivery.post(subscription.endpoint, body, headers):
                return
        log.info("SNS gave up delivering %s to %s", published.message_id, subscription.endpoint)
        await self._dead_letter(subscription, published, body)

    async def _to_lambda(self, subscription: Subscription, published: Published) -> None:
        document = delivery.notification(published, "lambda", subscription.arn, self.service.signer)
        # Lambda's event spells two of the envelope's keys differently, and always has Subject and
        # MessageAttributes (null and {} when the message had none).
        if "SigningCertURL" in document:
            document["SigningCertUrl"] = document.pop("SigningCertURL")
        document["UnsubscribeUrl"] = document.pop("UnsubscribeURL")
        document.setdefault("Subject", None)
        document.setdefault("MessageAttributes", {})
        event = {
            "Records": [
                {
                    "EventSource": "aws:sns",
                    "EventVersion": "1.0",
                    "EventSubscriptionArn": subscription.arn,
                    "Sns": document,
                }
            ]
        }
        try:
            await deliver(self.platform, subscription.endpoint, json.dumps(event), self._sender(published))
        except ServiceError as error:
            log.info("SNS could not invoke %s: %s", subscription.endpoint, error)
            await self._dead_letter(subscription, published, json.dumps(document))


def _passes_filter(subscription: Subscription, published: Published) -> bool:
    text = subscription.attributes.get("FilterPolicy")
    if not text:
        return True
    policy = json.loads(text)
    if subscription.attributes.get("FilterPolicyScope") == "MessageBody":
        try:
            body = json.loads(published.message_for(subscription.protocol))
        except ValueError:
            return False
        return filters.matches(policy, body)
    return filters.matches(policy, filters.attribute_values(published.attributes))
