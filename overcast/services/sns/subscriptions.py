"""SNS subscription operations: subscribe (with the confirmation handshake), confirm, unsubscribe, attributes,
listings."""

from __future__ import annotations

import json
import os
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.sns import delivery, filters
from overcast.services.sns.checks import (
    NEEDS_CONFIRMATION,
    PROTOCOLS,
    check_arn,
    check_endpoint,
    invalid,
    invalid_token,
    not_found,
    subscription_attribute,
)
from overcast.services.sns.store import PAGE, Subscription

if TYPE_CHECKING:
    from overcast.services.sns.provider import SnsProvider

# What an attribute reads as when it was never set (re-subscribing with these values is the same subscription)
_DEFAULTS = {"RawMessageDelivery": "false", "FilterPolicyScope": "MessageAttributes"}


class SubscriptionOperations(Operations):
    service: SnsProvider

    async def subscribe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction():
            subscription, created = self._subscribe(ctx, params)
        if created and not subscription.confirmed:
            await self._request_confirmation(ctx, subscription)
        shown = subscription.confirmed or params.get("ReturnSubscriptionArn")
        return {"SubscriptionArn": subscription.arn if shown else "pending confirmation"}

    def _subscribe(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[Subscription, bool]:
        store = self.service.store
        topic = self.service.topic(ctx, params["TopicArn"])
        protocol = params["Protocol"].lower()
        if protocol not in PROTOCOLS:
            raise invalid(f"Amazon SNS does not support this protocol string: {params['Protocol']}")
        endpoint = params.get("Endpoint") or ""
        check_endpoint(topic.fifo, protocol, endpoint)
        attributes: dict[str, str] = {}
        given = params.get("Attributes") or {}
        # The policy is validated against its scope, so the scope goes first.
        for name in sorted(given, key=lambda key: key == "FilterPolicy"):
            try:
                attributes[name] = subscription_attribute(protocol, name, given[name], attributes)
            except ServiceError as error:  # Subscribe names the parameter the policy came in
                if error.message.startswith("Invalid parameter: FilterPolicy"):
                    error.message = error.message.replace(
                        "Invalid parameter: ", "Invalid parameter: Attributes Reason: ", 1
                    )
                raise
        existing = store.find_subscription(topic.arn, protocol, endpoint)
        if existing is not None:  # the same subscription: its attributes (or their defaults) must agree
            if any(existing.attributes.get(k, _DEFAULTS.get(k)) != v for k, v in attributes.items()):
                raise invalid("Attributes Reason: Subscription already exists with different attributes")
            return existing, False
        confirmed = protocol not in NEEDS_CONFIRMATION
        subscription = Subscription(
            arn=f"{topic.arn}:{uuid.uuid4()}",
            topic_arn=topic.arn,
            account=topic.account,
            region=topic.region,
            owner=ctx.account_id,
            protocol=protocol,
            endpoint=endpoint,
            attributes=attributes,
            confirmed=confirmed,
            token=None if confirmed else os.urandom(64).hex(),
            principal=ctx.principal.arn,
        )
        store.save_subscription(subscription, self.clock.now())
        return subscription, True

    async def _request_confirmation(self, ctx: RequestContext, subscription: Subscription) -> None:
        service = self.service
        await service.signer.ready()
        topic = service.store.topic(subscription.topic_arn)
        document = delivery.confirmation(
            str(uuid.uuid4()),
            subscription.topic_arn,
            subscription.token,
            self.clock.now(),
            service.base_url(ctx),
            service.signer,
            topic.attributes.get("SignatureVersion", "1") if topic else "1",
        )
        body = delivery.dumps(document)
        if subscription.protocol in ("http", "https") and delivery.is_local(subscription.endpoint):
            headers = delivery.http_headers(
                "SubscriptionConfirmation", document["MessageId"], subscription.topic_arn, None, raw=False
            )
            self.platform.spawn(delivery.post(subscription.endpoint, body, headers))
            return
        with self.db.transaction():
            service.capture(subscription, "SubscriptionConfirmation", document["MessageId"], body)

    def confirm_subscription(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        self.service.topic(ctx, params["TopicArn"])
        subscription = store.subscription_by_token(params["Token"])
        if subscription is None or subscription.topic_arn != params["TopicArn"]:
            raise invalid("Token")
        subscription.confirmed = True
        store.save_subscription(subscription, self.clock.now())
        return {"SubscriptionArn": subscription.arn}

    def unsubscribe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """A subscription that does not exist (any more) is no error: AWS answers 200."""
        check_arn(params["SubscriptionArn"], "SubscriptionArn", ctx.region)
        self.service.store.delete_subscription(params["SubscriptionArn"])
        return {}

    def _subscription(self, ctx: RequestContext, arn: str) -> Subscription:
        check_arn(arn, "SubscriptionArn", ctx.region)
        subscription = self.service.store.subscription(arn)
        if subscription is None:
            raise not_found("Subscription")
        return subscription

    def get_subscription_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        subscription = self._subscription(ctx, params["SubscriptionArn"])
        attributes = {"RawMessageDelivery": "false", **subscription.attributes}
        if attributes.get("FilterPolicy"):
            attributes.setdefault("FilterPolicyScope", "MessageAttributes")
        else:  # no policy, no scope
            attributes.pop("FilterPolicyScope", None)
        if subscription.principal:
            attributes["SubscriptionPrincipal"] = subscription.principal
        attributes.update(
            SubscriptionArn=subscription.arn,
            TopicArn=subscription.topic_arn,
            Owner=subscription.owner,
            Protocol=subscription.protocol,
            Endpoint=subscription.endpoint,
            PendingConfirmation=str(not subscription.confirmed).lower(),
            ConfirmationWasAuthenticated="true",
        )
        if subscription.protocol in ("http", "https"):
            attributes["EffectiveDeliveryPolicy"] = json.dumps(self.service.fanout.http_policy(subscription))
        return {"Attributes": {k: v for k, v in attributes.items() if v != ""}}

    def set_subscription_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        subscription = self._subscription(ctx, params["SubscriptionArn"])
        name, value = params["AttributeName"], params.get("AttributeValue") or ""
        subscription.attributes[name] = subscription_attribute(
            subscription.protocol, name, value, subscription.attributes
        )
        if name == "FilterPolicyScope" and subscription.attributes.get("FilterPolicy"):
            filters.parse_policy(subscription.attributes["FilterPolicy"], value)
        store.save_subscription(subscription, self.clock.now())
        return {}

    def list_subscriptions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        scope = "ListSubscriptions"
        after = decode_token(params.get("NextToken") or None, invalid_token, scope) or ""
        found = self.service.store.account_subscriptions(ctx.account_id, ctx.region, after)
        return _subscription_page(found, scope)

    def list_subscriptions_by_topic(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        scope = "ListSubscriptionsByTopic"
        topic = self.service.topic(ctx, params["TopicArn"])
        after = decode_token(params.get("NextToken") or None, invalid_token, scope) or ""
        found = self.service.store.topic_subscriptions(topic.arn, after, PAGE + 1)
        return _subscription_page(found, scope)


def _subscription_page(found: list[Subscription], scope: str) -> dict[str, Any]:
    page, token = page_of(found, PAGE, lambda subscription: subscription.arn, scope)
    result: dict[str, Any] = {
        "Subscriptions": [
            {
                "SubscriptionArn": s.arn if s.confirmed else "PendingConfirmation",
                "Owner": s.owner,
                "Protocol": s.protocol,
                "Endpoint": s.endpoint,
                "TopicArn": s.topic_arn,
            }
            for s in page
        ]
    }
    if token:
        result["NextToken"] = token
    return result
