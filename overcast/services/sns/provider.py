"""SNS: topics, subscriptions, filter policies, publishing and delivery, mobile push and SMS.

The operations live in families (topics.py, subscriptions.py, publishing.py, mobile.py, sms.py); delivery to
subscribers is fanout.py's. Delivery to SQS and Lambda goes through the platform as the sns.amazonaws.com
service principal (services/kit/delivery.py), so a queue's validation and its policy apply as in AWS.
HTTP/HTTPS subscribers on this machine get real POSTs with the confirmation handshake and retries; email,
SMS, mobile push and endpoints elsewhere are captured in an outbox (`SnsProvider.outbox`) instead of being sent.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.http import HttpResponse, json_response
from overcast.services.base import ServiceProvider
from overcast.services.kit.arns import parse_arn
from overcast.services.sns.checks import check_arn, invalid, not_found, phone
from overcast.services.sns.fanout import FanOut
from overcast.services.sns.kms_keys import TopicKeys
from overcast.services.sns.mobile import MobileOperations
from overcast.services.sns.publishing import PublishOperations
from overcast.services.sns.signing import CERTIFICATE_PREFIX, LEGACY_CERTIFICATE_PATH, Signer
from overcast.services.sns.sms import SmsOperations
from overcast.services.sns.store import SnsStore, Subscription, Topic
from overcast.services.sns.subscriptions import SubscriptionOperations
from overcast.services.sns.topics import TopicOperations

OUTBOX_PATH = "/_overcast/sns/outbox"
OPT_OUT_PATH = "/_overcast/sns/opt-out"


class SnsProvider(ServiceProvider):
    service_name = "sns"
    # The SubscribeURL and UnsubscribeURL SNS sends are plain links anyone with them may open.
    unsigned_operations = frozenset({"ConfirmSubscription", "Unsubscribe"})
    families = (TopicOperations, SubscriptionOperations, PublishOperations, MobileOperations, SmsOperations)

    # Batch operations are authorized as the single operation they repeat.
    iam_actions = {"PublishBatch": "Publish"}

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = SnsStore(self.db)
        self.signer = Signer(self.store)
        self.fanout = FanOut(self)
        self.keys = TopicKeys(self)  # SSE-KMS: the KMS requests publishers make through SNS

    async def start(self) -> None:
        await self.signer.ready()  # load the signing key, or make one, before the first delivery needs it

    def reset(self) -> None:
        super().reset()
        self.signer.restore()
        self.keys.forget()

    # -- hooks -------------------------------------------------------------------------------------

    def tagging_request(self, arn: str, add=None, remove=None) -> tuple[str, dict[str, Any]] | None:
        """TagResource / UntagResource of a topic."""
        if add is not None:
            return "TagResource", {
                "ResourceArn": arn,
                "Tags": [{"Key": k, "Value": v} for k, v in add.items()],
            }
        return "UntagResource", {"ResourceArn": arn, "TagKeys": list(remove or ())}

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The resource a request acts on, for authorization."""
        for name in ("TopicArn", "TargetArn"):
            if params.get(name):
                return params[name]
        if params.get("SubscriptionArn"):  # topic:subscription-id: the topic is the resource
            subscription = parse_arn(params["SubscriptionArn"])
            if subscription is None:
                return params["SubscriptionArn"]
            return str(replace(subscription, resource=subscription.resource.split(":", 1)[0]))
        if ctx.operation == "CreateTopic" and params.get("Name"):
            return ctx.arn("sns", params["Name"])
        return params.get("ResourceArn")

    def authorization_resource(self, ctx: RequestContext, arn: str) -> Any:
        """The policy engine's view of a topic (owner, topic policy, tags); None when there is no such topic.

        The default topic policy grants `Principal: *` only under `AWS:SourceOwner` = the owner account, a key
        direct API calls do not carry: the owner's principals are allowed by their identity policies (its root
        always), other accounts need a statement of the topic policy (or AddPermission) naming them."""
        from overcast.policy.enforcement import ResourcePolicy

        topic = self.store.topic(arn)
        if topic is None:
            return None
        policy = topic.attributes.get("Policy") or None
        return ResourcePolicy(topic.account, policy, self.tags.lazy(topic.arn))  # type: ignore[arg-type]

    async def internal_endpoint(self, request, path: str):
        """/_overcast/sns/...: the signing certificate, the outbox (GET to read, DELETE to empty), opt-outs."""
        if (
            path.startswith(CERTIFICATE_PREFIX)
            and path.endswith(".pem")
            and request.method in ("GET", "HEAD")
        ):
            key = await self.signer.ready()
            if path not in (key.certificate_path, LEGACY_CERTIFICATE_PATH):
                return json_response(
                    {"error": f"no certificate {path}: the signing key is {key.certificate_path}"}, 404
                )
            return HttpResponse(
                200, [("content-type", "application/x-x509-ca-cert")], key.certificate.encode()
            )
        if path == OUTBOX_PATH and request.method == "GET":
            query = {k: v[-1] for k, v in parse_qs(request.query).items()}
            try:
                after, limit = int(query.get("after", 0)), min(int(query.get("limit", 1000)), 10_000)
            except ValueError:
                return json_response({"error": "after and limit must be integers"}, 400)
            rows = self.outbox(query.get("account"), query.get("region"), after, limit, query.get("protocol"))
            return json_response({"messages": rows})
        if path == OPT_OUT_PATH and request.method == "POST":
            try:
                order = json.loads(request.body or b"{}")
                number = phone(order["phoneNumber"], "phoneNumber")
            except (ValueError, KeyError, TypeError, ServiceError):
                return json_response({"error": 'expected {"phoneNumber": "+15555550100"}'}, 400)
            account = order.get("account") or self.platform.config.default_account
            self.opt_out(account, order.get("region") or self.platform.config.default_region, number)
            return json_response({"optedOut": number})
        if path == OUTBOX_PATH and request.method == "DELETE":
            self.clear_outbox()
            return json_response({"cleared": True})
        return json_response({"error": f"no internal endpoint {request.method} {request.path}"}, 404)

    # -- the outbox and the signing key --------------------------------------------------------------

    def outbox(
        self,
        account: str | None = None,
        region: str | None = None,
        after: int = 0,
        limit: int = 1000,
        protocol: str | None = None,
    ) -> list[dict[str, Any]]:
        """Captured deliveries (email, SMS, mobile push, non-local HTTP) and email confirmations, oldest first."""
        return self.store.outbox(account, region, after, limit, protocol)

    def clear_outbox(self) -> None:
        with self.db.transaction():
            self.store.clear_outbox()

    def signing_certificate(self) -> str:
        """The PEM certificate whose key signs notifications (served at SigningCertURL)."""
        return self.signer.key().certificate

    def capture(self, subscription: Subscription, kind: str, message_id: str, payload: str) -> None:
        """Keep in the outbox what a subscriber elsewhere would have received."""
        self.store.add_to_outbox(
            {
                "account": subscription.account,
                "region": subscription.region,
                "protocol": subscription.protocol,
                "endpoint": subscription.endpoint,
                "topic_arn": subscription.topic_arn,
                "subscription_arn": subscription.arn,
                "message_id": message_id,
                "kind": kind,
                "payload": payload,
                "created_at": self.clock.now(),
            }
        )

    # -- what the families share -------------------------------------------------------------------

    def base_url(self, ctx: RequestContext) -> str:
        """Where this SNS answers: SigningCertURL, SubscribeURL and UnsubscribeURL point here."""
        if ctx.request is not None:
            return f"{ctx.request.scheme}://{ctx.request.host}"
        return self.platform.config.endpoint

    def topic(self, ctx: RequestContext, arn: str, parameter: str = "TopicArn") -> Topic:
        """The topic an ARN names; its form is checked first (InvalidParameter), then that it exists."""
        check_arn(arn, parameter, ctx.region)
        topic = self.store.topic(arn)
        if topic is None:
            raise not_found()
        return topic

    def platform_application(self, arn: str) -> tuple[str, dict[str, str]]:
        """(platform, attributes) of a platform application."""
        parsed = parse_arn(arn)
        if parsed is None or parsed.service != "sns" or not parsed.resource.startswith("app/"):
            raise invalid(
                f"PlatformApplicationArn Reason: An ARN must have at least 6 elements, not {len(arn.split(':'))}"
            )
        found = self.store.platform_application(arn)
        if found is None:
            raise ServiceError("NotFound", "PlatformApplication does not exist", 404)
        return found

    def platform_endpoint(self, arn: str) -> tuple[str, dict[str, str]]:
        """(application ARN, attributes) of a platform endpoint."""
        parsed = parse_arn(arn)
        if parsed is None or parsed.service != "sns" or not parsed.resource.startswith("endpoint/"):
            raise invalid("EndpointArn Reason: An ARN must have 6 elements separated by ':'")
        found = self.store.platform_endpoint(arn)
        if found is None:
            raise ServiceError("NotFound", "Endpoint does not exist", 404)
        return found

    def opted_out(self, account: str, region: str, number: str) -> bool:
        return self.store.sms_value(account, region, "opted_out", number) is not None

    def opt_out(self, account: str, region: str, number: str) -> None:
        """What a recipient replying STOP does (POST /_overcast/sns/opt-out)."""
        with self.db.transaction():
            self.store.set_sms_value(account, region, "opted_out", number, self.clock.now())
