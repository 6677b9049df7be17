"""SNS operations: topics, subscriptions, filter policies, publishing and delivery.

Delivery to SQS goes through the platform's internal call as the sns.amazonaws.com service principal, so a
queue's validation (and, with IAM on, its policy) applies as in AWS. HTTP/HTTPS subscribers on this machine
get real POSTs with the confirmation handshake and retries; email, SMS, mobile push and endpoints elsewhere
are captured in an outbox (`SnsProvider.outbox`) instead of being sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import re
import uuid
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import service_principal
from overcast.services.base import ServiceProvider
from overcast.services.sns import delivery, filters, retry
from overcast.services.sns.delivery import Published
from overcast.services.sns.mobile import MobileOps
from overcast.services.sns.signing import (
    CERTIFICATE_PREFIX,
    LEGACY_CERTIFICATE_PATH,
    SIGNATURE_VERSIONS,
    Signer,
)
from overcast.services.sns.store import PAGE, SnsStore, Subscription, Topic

log = logging.getLogger("overcast.sns")

_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_FIFO_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,251}\.fifo$")
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_FIFO_TOKEN = re.compile(r"^[!-~]{1,128}$")
_FEEDBACK_ATTRIBUTE = re.compile(
    r"^(Application|HTTP|Lambda|SQS|Firehose)(SuccessFeedbackRoleArn|SuccessFeedbackSampleRate|FailureFeedbackRoleArn)$"
)
PROTOCOLS = ("http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose")
NEEDS_CONFIRMATION = ("http", "https", "email", "email-json")
OUTBOX_PATH = "/_overcast/sns/outbox"
OPT_OUT_PATH = "/_overcast/sns/opt-out"
MAX_MESSAGE_BYTES = 262_144
MAX_BATCH = 10
DEDUP_WINDOW = 300.0
TOPIC_ATTRIBUTES = (
    "DeliveryPolicy",
    "DisplayName",
    "Policy",
    "TracingConfig",
    "KmsMasterKeyId",
    "SignatureVersion",
    "ContentBasedDeduplication",
    "ArchivePolicy",
    "FifoThroughputScope",
    "FifoTopic",
)
SUBSCRIPTION_ATTRIBUTES = (
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
)


def invalid(reason: str) -> ServiceError:
    return ServiceError("InvalidParameter", f"Invalid parameter: {reason}")


def not_found(what: str = "Topic") -> ServiceError:
    return ServiceError("NotFound", f"{what} does not exist")


def _arn_parts(arn: str, service: str) -> tuple[str, str, str] | None:
    """(region, account, resource) of an ARN of `service`, or None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != service:
        return None
    return parts[3], parts[4], parts[5]


def _json_object(name: str, text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        raise invalid(f"{name}: failed to parse JSON.") from None
    if not isinstance(document, dict):
        raise invalid(f"{name}: must be a JSON object.")
    return document


class SnsProvider(MobileOps, ServiceProvider):
    service_name = "sns"
    # The SubscribeURL and UnsubscribeURL SNS sends are plain links anyone with them may open.
    unsigned_operations = frozenset({"ConfirmSubscription", "Unsubscribe"})

    # Batch operations are authorized as the single operation they repeat.
    iam_actions = {"PublishBatch": "Publish"}

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The resource a request acts on, for authorization."""
        for name in ("TopicArn", "TargetArn"):
            if params.get(name):
                return params[name]
        if params.get("SubscriptionArn"):
            return params["SubscriptionArn"].rsplit(":", 1)[0]
        if ctx.operation == "CreateTopic" and params.get("Name"):
            return ctx.arn("sns", params["Name"])
        return params.get("ResourceArn")

    PAGE = PAGE

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = SnsStore(self.db)
        self.signer = Signer(self.store)

    async def start(self) -> None:
        await self.signer.ready()  # load the signing key, or make one, before the first delivery needs it

    def reset(self) -> None:
        super().reset()
        self.signer.restore()

    # -- for the platform's internal endpoints ------------------------------------------------------

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

    async def internal_endpoint(self, request, path: str):
        """/_overcast/sns/...: the signing certificate, and the outbox (GET to read, DELETE to empty)."""
        from urllib.parse import parse_qs

        from overcast.http import HttpResponse, json_response

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
                phone = self._phone(order["phoneNumber"], "phoneNumber")
            except (ValueError, KeyError, TypeError, ServiceError):
                return json_response({"error": 'expected {"phoneNumber": "+15555550100"}'}, 400)
            account = order.get("account") or self.platform.config.default_account
            self.opt_out(account, order.get("region") or self.platform.config.default_region, phone)
            return json_response({"optedOut": phone})
        if path == OUTBOX_PATH and request.method == "DELETE":
            self.clear_outbox()
            return json_response({"cleared": True})
        return json_response({"error": f"no internal endpoint {request.method} {request.path}"}, 404)

    # -- helpers -----------------------------------------------------------------------------------

    @staticmethod
    def _base_url(ctx: RequestContext) -> str:
        if ctx.request is not None:
            return f"{ctx.request.scheme}://{ctx.request.host}"
        return f"http://sns.{ctx.region}.localhost.localstack.cloud:4566"

    def _topic(self, arn: str) -> Topic:
        topic = self.store.topic(arn)
        if topic is None:
            raise not_found()
        return topic

    def authorization_resource(self, ctx: RequestContext, arn: str) -> Any:
        """The policy engine's view of a topic (owner, topic policy, tags); None when there is no such topic.

        The default topic policy grants `Principal: *` only under `AWS:SourceOwner` = the owner account, a key
        direct API calls do not carry: the owner's principals are allowed by their identity policies (its root
        always), other accounts need a statement of the topic policy (or AddPermission) naming them."""
        from overcast.policy.enforcement import ResourcePolicy

        topic = self.store.topic(arn)
        if topic is None:
            return None
        return ResourcePolicy(topic.account, topic.attributes.get("Policy") or None, dict(topic.tags))

    @staticmethod
    def _encode_token(after: str) -> str:
        return base64.urlsafe_b64encode(after.encode()).decode()

    @staticmethod
    def _decode_token(token: str | None) -> str:
        if not token:
            return ""
        try:
            return base64.urlsafe_b64decode(token.encode()).decode()
        except (ValueError, binascii.Error):
            raise invalid("NextToken") from None

    # -- topics ------------------------------------------------------------------------------------

    def create_topic(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        given = dict(params.get("Attributes") or {})
        fifo = given.get("FifoTopic", "false").lower() == "true"
        if not (_FIFO_TOPIC_NAME if fifo else _TOPIC_NAME).match(name):
            if fifo:
                raise invalid(
                    "Fifo Topic names must end with .fifo and must be made up of only uppercase and "
                    "lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 "
                    "and 256 characters long."
                )
            raise invalid("Topic Name")
        for key, value in given.items():
            given[key] = self._topic_attribute(key, value, fifo, creating=True)
        tags = {tag["Key"]: tag["Value"] for tag in params.get("Tags") or []}
        self._check_tags(tags)
        policy = params.get("DataProtectionPolicy")
        if policy:
            _json_object("DataProtectionPolicy", policy)
        arn = ctx.arn("sns", name)
        existing = self.store.topic(arn)
        if existing is not None:
            if any(existing.attributes.get(k) != v for k, v in given.items() if k != "FifoTopic"):
                raise invalid("Attributes Reason: Topic already exists with different attributes")
            if any(existing.tags.get(k) != v for k, v in tags.items()):
                raise invalid("Tags Reason: Topic already exists with different tags")
            return {"TopicArn": arn}
        attributes = {"DisplayName": "", "Policy": self._default_policy(ctx.account_id, arn)}
        if fifo:
            attributes.update(FifoTopic="true", ContentBasedDeduplication="false")
        attributes.update({k: v for k, v in given.items() if k != "FifoTopic"})
        topic = Topic(arn, ctx.account_id, ctx.region, name, fifo, attributes, tags, policy, self.clock.now())
        self.store.create_topic(topic)
        return {"TopicArn": arn}

    @staticmethod
    def _default_policy(account: str, arn: str) -> str:
        return json.dumps(
            {
                "Version": "2008-10-17",
                "Id": "__default_policy_ID",
                "Statement": [
                    {
                        "Sid": "__default_statement_ID",
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": [
                            "SNS:GetTopicAttributes",
                            "SNS:SetTopicAttributes",
                            "SNS:AddPermission",
                            "SNS:RemovePermission",
                            "SNS:DeleteTopic",
                            "SNS:Subscribe",
                            "SNS:ListSubscriptionsByTopic",
                            "SNS:Publish",
                        ],
                        "Resource": arn,
                        "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
                    }
                ],
            },
            separators=(",", ":"),
        )

    @staticmethod
    def _topic_attribute(name: str, value: str, fifo: bool, creating: bool) -> str:
        """Validate one topic attribute; returns its stored text."""
        if name not in TOPIC_ATTRIBUTES and not _FEEDBACK_ATTRIBUTE.match(name):
            raise invalid("AttributeName")
        if name == "FifoTopic" and not creating:
            raise invalid("AttributeName: FifoTopic can only be set when the topic is created")
        if name in ("ContentBasedDeduplication", "FifoThroughputScope") and not fifo:
            raise invalid(f"{name}: only FIFO topics have {name}")
        if name in ("ContentBasedDeduplication", "FifoTopic") and value.lower() not in ("true", "false"):
            raise invalid(name)
        if name == "SignatureVersion" and value not in SIGNATURE_VERSIONS:
            raise invalid("SignatureVersion")
        if name == "TracingConfig" and value not in ("PassThrough", "Active"):
            raise invalid("TracingConfig: must be PassThrough or Active")
        if name == "FifoThroughputScope" and value not in ("Topic", "MessageGroup"):
            raise invalid("FifoThroughputScope: must be Topic or MessageGroup")
        if name in ("Policy", "DeliveryPolicy", "ArchivePolicy") and value:
            _json_object(name, value)
        if name == "DeliveryPolicy" and value:
            try:
                retry.validate_topic_policy(value)
            except retry.PolicyError as error:
                raise invalid(f"DeliveryPolicy: {error}") from None
        return value.lower() if name in ("ContentBasedDeduplication", "FifoTopic") else value

    def get_topic_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._topic(params["TopicArn"])
        confirmed, pending = self.store.subscription_counts(topic.arn)
        attributes = dict(topic.attributes)
        attributes.update(
            TopicArn=topic.arn,
            Owner=topic.account,
            SubscriptionsConfirmed=str(confirmed),
            SubscriptionsPending=str(pending),
            SubscriptionsDeleted="0",
            EffectiveDeliveryPolicy=json.dumps(
                retry.effective_topic_policy(attributes.get("DeliveryPolicy"))
            ),
        )
        return {"Attributes": attributes}

    def set_topic_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._topic(params["TopicArn"])
        name, value = params["AttributeName"], params.get("AttributeValue") or ""
        value = self._topic_attribute(name, value, topic.fifo, creating=False)
        if name == "Policy" and not value:
            value = self._default_policy(topic.account, topic.arn)
        topic.attributes[name] = value
        self.store.save_topic(topic)
        return {}

    def delete_topic(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["TopicArn"]
        if self.store.topic(arn) is None:
            raise not_found()
        self.store.delete_topic(arn)
        return {}

    def list_topics(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arns = self.store.topic_arns(ctx.account_id, ctx.region, self._decode_token(params.get("NextToken")))
        result: dict[str, Any] = {"Topics": [{"TopicArn": arn} for arn in arns[:PAGE]]}
        if len(arns) > PAGE:
            result["NextToken"] = self._encode_token(arns[PAGE - 1])
        return result

    def put_data_protection_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._topic(params["ResourceArn"])
        _json_object("DataProtectionPolicy", params["DataProtectionPolicy"])
        topic.data_protection_policy = params["DataProtectionPolicy"]
        self.store.save_topic(topic)
        return {}

    def get_data_protection_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._topic(params["ResourceArn"])
        return {"DataProtectionPolicy": topic.data_protection_policy} if topic.data_protection_policy else {}

    # -- tags and permissions ----------------------------------------------------------------------

    @staticmethod
    def _check_tags(tags: dict[str, str]) -> None:
        if len(tags) > 50:
            raise ServiceError(
                "TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded"
            )
        for key, value in tags.items():
            if not 1 <= len(key) <= 128 or len(value) > 256:
                raise invalid("Tags")

    def _tagged_topic(self, arn: str) -> Topic:
        topic = self.store.topic(arn)
        if topic is None:
            raise ServiceError("ResourceNotFound", "Resource does not exist")
        return topic

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._tagged_topic(params["ResourceArn"])
        tags = {**topic.tags, **{tag["Key"]: tag["Value"] for tag in params["Tags"]}}
        self._check_tags(tags)
        topic.tags = tags
        self.store.save_topic(topic)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._tagged_topic(params["ResourceArn"])
        topic.tags = {k: v for k, v in topic.tags.items() if k not in set(params["TagKeys"])}
        self.store.save_topic(topic)
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._tagged_topic(params["ResourceArn"])
        return {"Tags": [{"Key": k, "Value": v} for k, v in topic.tags.items()]}

    def add_permission(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._topic(params["TopicArn"])
        policy = json.loads(topic.attributes["Policy"])
        statements = policy.setdefault("Statement", [])
        if any(statement.get("Sid") == params["Label"] for statement in statements):
            raise invalid("Statement already exists")
        principals = [f"arn:aws:iam::{account}:root" for account in params["AWSAccountId"]]
        actions = [f"SNS:{action}" for action in params["ActionName"]]
        statements.append(
            {
                "Sid": params["Label"],
                "Effect": "Allow",
                "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
                "Action": actions[0] if len(actions) == 1 else actions,
                "Resource": topic.arn,
            }
        )
        topic.attributes["Policy"] = json.dumps(policy, separators=(",", ":"))
        self.store.save_topic(topic)
        return {}

    def remove_permission(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._topic(params["TopicArn"])
        policy = json.loads(topic.attributes["Policy"])
        policy["Statement"] = [s for s in policy.get("Statement", []) if s.get("Sid") != params["Label"]]
        topic.attributes["Policy"] = json.dumps(policy, separators=(",", ":"))
        self.store.save_topic(topic)
        return {}

    # -- subscriptions -----------------------------------------------------------------------------

    async def subscribe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction():
            subscription, created = self._subscribe(ctx, params)
        if created and not subscription.confirmed:
            await self._request_confirmation(ctx, subscription)
        shown = subscription.confirmed or params.get("ReturnSubscriptionArn")
        return {"SubscriptionArn": subscription.arn if shown else "pending confirmation"}

    def _subscribe(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[Subscription, bool]:
        topic = self._topic(params["TopicArn"])
        protocol = params["Protocol"].lower()
        if protocol not in PROTOCOLS:
            raise invalid(f"Amazon SNS does not support this protocol string: {params['Protocol']}")
        endpoint = params.get("Endpoint") or ""
        self._check_endpoint(topic, protocol, endpoint)
        attributes: dict[str, str] = {}
        given = params.get("Attributes") or {}
        # The policy is validated against its scope, so the scope goes first.
        for name in sorted(given, key=lambda key: key == "FilterPolicy"):
            value = given[name]
            attributes[name] = self._subscription_attribute(protocol, name, value, attributes)
        existing = self.store.find_subscription(topic.arn, protocol, endpoint)
        if existing is not None:
            if any(existing.attributes.get(k) != v for k, v in attributes.items()):
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
        )
        self.store.save_subscription(subscription, self.clock.now())
        return subscription, True

    def _check_endpoint(self, topic: Topic, protocol: str, endpoint: str) -> None:
        valid = {
            "http": endpoint.startswith("http://"),
            "https": endpoint.startswith("https://"),
            "email": "@" in endpoint,
            "email-json": "@" in endpoint,
            "sms": bool(re.fullmatch(r"\+?[0-9]{5,15}", endpoint)),
            "sqs": _arn_parts(endpoint, "sqs") is not None,
            "lambda": _arn_parts(endpoint, "lambda") is not None,
            "firehose": _arn_parts(endpoint, "firehose") is not None,
            "application": (_arn_parts(endpoint, "sns") or ("", "", ""))[2].startswith("endpoint/"),
        }[protocol]
        if not valid:
            raise invalid("Endpoint")
        if protocol == "sqs":
            fifo_queue = endpoint.endswith(".fifo")
            if topic.fifo and not fifo_queue:
                raise invalid(
                    "Invalid parameter: Endpoint Reason: FIFO SNS Topics currently only support FIFO SQS "
                    "Queues as endpoints"
                )
            if not topic.fifo and fifo_queue:
                raise invalid(
                    "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard "
                    "SNS topics"
                )
        elif topic.fifo and protocol not in ("sqs", "lambda", "firehose"):
            raise invalid(
                f"Invalid parameter: Endpoint Reason: FIFO SNS Topics do not support {protocol} endpoints"
            )

    @staticmethod
    def _subscription_attribute(protocol: str, name: str, value: str, others: dict[str, str]) -> str:
        if name not in SUBSCRIPTION_ATTRIBUTES:
            raise invalid("AttributeName")
        if name == "RawMessageDelivery":
            if value.lower() not in ("true", "false"):
                raise invalid("RawMessageDelivery: must be true or false")
            if protocol not in ("sqs", "http", "https", "firehose"):
                raise invalid(f"Delivery protocol [{protocol}] does not support raw message delivery.")
            return value.lower()
        if name == "FilterPolicyScope":
            if value not in ("MessageAttributes", "MessageBody"):
                raise invalid("FilterPolicyScope: Invalid filter policy scope")
            return value
        if name == "FilterPolicy":
            if value:
                filters.parse_policy(value, others.get("FilterPolicyScope", "MessageAttributes"))
            return value
        if name == "RedrivePolicy" and value:
            target = _json_object("RedrivePolicy", value).get("deadLetterTargetArn", "")
            if _arn_parts(target, "sqs") is None:
                raise invalid("RedrivePolicy: deadLetterTargetArn is an invalid arn")
        elif name in ("DeliveryPolicy", "ReplayPolicy") and value:
            _json_object(name, value)
            if name == "DeliveryPolicy":
                try:
                    retry.validate_subscription_policy(value)
                except retry.PolicyError as error:
                    raise invalid(f"DeliveryPolicy: {error}") from None
        return value

    async def _request_confirmation(self, ctx: RequestContext, subscription: Subscription) -> None:
        await self.signer.ready()
        topic = self.store.topic(subscription.topic_arn)
        document = delivery.confirmation(
            str(uuid.uuid4()),
            subscription.topic_arn,
            subscription.token,
            self.clock.now(),
            self._base_url(ctx),
            self.signer,
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
            self._capture(subscription, "SubscriptionConfirmation", document["MessageId"], body)

    def _capture(self, subscription: Subscription, kind: str, message_id: str, payload: str) -> None:
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

    def confirm_subscription(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._topic(params["TopicArn"])
        subscription = self.store.subscription_by_token(params["Token"])
        if subscription is None or subscription.topic_arn != params["TopicArn"]:
            raise invalid("Token")
        subscription.confirmed = True
        self.store.save_subscription(subscription, self.clock.now())
        return {"SubscriptionArn": subscription.arn}

    def unsubscribe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if self.store.subscription(params["SubscriptionArn"]) is None:
            raise not_found("Subscription")
        self.store.delete_subscription(params["SubscriptionArn"])
        return {}

    def get_subscription_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        subscription = self.store.subscription(params["SubscriptionArn"])
        if subscription is None:
            raise not_found("Subscription")
        attributes = {"RawMessageDelivery": "false", **subscription.attributes}
        if attributes.get("FilterPolicy"):
            attributes.setdefault("FilterPolicyScope", "MessageAttributes")
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
            attributes["EffectiveDeliveryPolicy"] = json.dumps(self._http_policy(subscription))
        return {"Attributes": {k: v for k, v in attributes.items() if v != ""}}

    def set_subscription_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        subscription = self.store.subscription(params["SubscriptionArn"])
        if subscription is None:
            raise not_found("Subscription")
        name, value = params["AttributeName"], params.get("AttributeValue") or ""
        subscription.attributes[name] = self._subscription_attribute(
            subscription.protocol, name, value, subscription.attributes
        )
        if name == "FilterPolicyScope" and subscription.attributes.get("FilterPolicy"):
            filters.parse_policy(subscription.attributes["FilterPolicy"], value)
        self.store.save_subscription(subscription, self.clock.now())
        return {}

    def list_subscriptions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = self.store.account_subscriptions(
            ctx.account_id, ctx.region, self._decode_token(params.get("NextToken"))
        )
        return self._subscription_page(found)

    def list_subscriptions_by_topic(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._topic(params["TopicArn"])
        found = self.store.topic_subscriptions(
            topic.arn, self._decode_token(params.get("NextToken")), PAGE + 1
        )
        return self._subscription_page(found)

    def _subscription_page(self, found: list[Subscription]) -> dict[str, Any]:
        result: dict[str, Any] = {
            "Subscriptions": [
                {
                    "SubscriptionArn": s.arn if s.confirmed else "PendingConfirmation",
                    "Owner": s.owner,
                    "Protocol": s.protocol,
                    "Endpoint": s.endpoint,
                    "TopicArn": s.topic_arn,
                }
                for s in found[:PAGE]
            ]
        }
        if len(found) > PAGE:
            result["NextToken"] = self._encode_token(found[PAGE - 1].arn)
        return result

    # -- publishing --------------------------------------------------------------------------------

    async def publish(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction():
            published, result = self._accept(ctx, params)
        if published is not None:
            await self._fan_out(published)
        return result

    async def publish_batch(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entries = params["PublishBatchRequestEntries"]
        self._check_batch(entries)
        accepted: list[Published] = []
        successful, failed = [], []
        with self.db.transaction():
            self._topic(params["TopicArn"])
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
            await self._fan_out(published)
        return {"Successful": successful, "Failed": failed}

    @staticmethod
    def _check_batch(entries: list[dict[str, Any]]) -> None:
        if not entries:
            raise ServiceError("EmptyBatchRequest", "The batch request doesn't contain any entries.")
        if len(entries) > MAX_BATCH:
            raise ServiceError(
                "TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible."
            )
        ids = [entry["Id"] for entry in entries]
        if not all(_BATCH_ID.match(entry_id) for entry_id in ids):
            raise ServiceError(
                "InvalidBatchEntryId",
                "The Id of a batch entry in a batch request doesn't abide by the specification.",
            )
        if len(set(ids)) != len(ids):
            raise ServiceError(
                "BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id."
            )
        total = sum(
            len(e["Message"].encode()) + _attributes_size(e.get("MessageAttributes") or {}) for e in entries
        )
        if total > MAX_MESSAGE_BYTES:
            raise ServiceError(
                "BatchRequestTooLong", "The length of all the messages put together is more than the limit."
            )

    def _accept(self, ctx: RequestContext, params: dict[str, Any]) -> tuple[Published | None, dict[str, Any]]:
        """Validate a publish and record it; (what to deliver or None for a FIFO duplicate, the response)."""
        targets = [params.get(k) for k in ("TopicArn", "TargetArn", "PhoneNumber") if params.get(k)]
        if len(targets) != 1:
            raise invalid("TopicArn or TargetArn Reason: no value for required parameter")
        message = params["Message"]
        if not message:
            raise invalid("Empty message")
        attributes = params.get("MessageAttributes") or {}
        _check_message_attributes(attributes)
        if len(message.encode()) + _attributes_size(attributes) > MAX_MESSAGE_BYTES:
            raise invalid("Message too long")
        subject = params.get("Subject")
        if subject is not None and (
            not subject or len(subject) > 100 or not subject.isprintable() or not subject.isascii()
        ):
            raise invalid("Subject")
        messages = self._messages_by_protocol(message, params.get("MessageStructure"))
        if params.get("PhoneNumber"):
            return None, self._capture_sms(
                ctx, params["PhoneNumber"], messages.get("sms", messages["default"])
            )
        if (params.get("TargetArn") or "").split(":")[-1].startswith("endpoint/"):
            return None, self._push(ctx, params["TargetArn"], messages)
        topic = self._topic(params.get("TopicArn") or params["TargetArn"])
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
            base_url=self._base_url(ctx),
            group_id=params.get("MessageGroupId"),
            signature_version=topic.attributes.get("SignatureVersion", "1"),
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
        published.subscriptions = [s for s in self.store.topic_subscriptions(topic.arn) if s.confirmed]
        result = {"MessageId": published.message_id}
        if published.sequence_number:
            result["SequenceNumber"] = published.sequence_number
        return published, result

    def _fifo_accept(
        self, topic: Topic, params: dict[str, Any], published: Published, now: float
    ) -> dict | None:
        """Group and deduplication rules of a FIFO topic; the original's response for a duplicate."""
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
            if not _FIFO_TOKEN.match(value):
                raise invalid(
                    f"{name} Reason: {name} can only include alphanumeric and punctuation characters. 1 "
                    "to 128 in length."
                )
        original = self.store.duplicate(topic.arn, dedup, now)
        if original is not None:
            return {"MessageId": original[0], "SequenceNumber": original[1]}
        published.dedup_id = dedup
        published.sequence_number = str(10**19 + self.store.next_sequence_number(topic.arn))
        self.store.remember_dedup(
            topic.arn, dedup, now + DEDUP_WINDOW, published.message_id, published.sequence_number
        )
        return None

    @staticmethod
    def _messages_by_protocol(message: str, structure: str | None) -> dict[str, str]:
        if structure is None:
            return {"default": message}
        if structure != "json":
            raise invalid("MessageStructure")
        try:
            document = json.loads(message)
        except ValueError:
            raise invalid("Message Structure - JSON message body failed to parse") from None
        if not isinstance(document, dict) or "default" not in document:
            raise invalid("Message Structure - No default entry in JSON message body")
        if not all(isinstance(value, str) for value in document.values()):
            raise invalid("Message Structure - JSON message values must be strings")
        return document

    def _capture_sms(self, ctx: RequestContext, phone: str, text: str) -> dict[str, Any]:
        if not re.fullmatch(r"\+?[0-9]{5,15}", phone):
            raise invalid("PhoneNumber Reason: input incorrectly formatted")
        message_id = str(uuid.uuid4())
        if self._opted_out(ctx.account_id, ctx.region, phone):
            return {"MessageId": message_id}  # accepted, never delivered (AWS logs a delivery failure)
        self.store.add_to_outbox(
            {
                "account": ctx.account_id,
                "region": ctx.region,
                "protocol": "sms",
                "endpoint": phone,
                "message_id": message_id,
                "kind": "Notification",
                "payload": text,
                "created_at": self.clock.now(),
            }
        )
        return {"MessageId": message_id}

    # -- delivery ----------------------------------------------------------------------------------

    async def _fan_out(self, published: Published) -> None:
        if published.subscriptions:
            await self.signer.ready()
        for subscription in published.subscriptions:
            if not self._passes_filter(subscription, published):
                continue
            try:
                await self._deliver(subscription, published)
            except Exception:  # one subscriber's failure never fails the publish or the other subscribers
                log.exception("SNS delivery to %s failed", subscription.arn)

    @staticmethod
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

    def _payload(self, subscription: Subscription, published: Published) -> tuple[str, bool]:
        """(body, raw) of what a subscriber receives."""
        if subscription.attributes.get("RawMessageDelivery") == "true":
            return published.message_for(subscription.protocol), True
        document = delivery.notification(published, subscription.protocol, subscription.arn, self.signer)
        return delivery.dumps(document), False

    async def _deliver(self, subscription: Subscription, published: Published) -> None:
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
            if protocol == "sms" and self._opted_out(
                subscription.account, subscription.region, subscription.endpoint
            ):
                return
            if protocol == "application":
                deliverable, platform = self._endpoint_accepts(subscription.endpoint)
                if not deliverable:
                    return
                body = published.messages.get(platform or "", published.message_for(protocol))
            with self.db.transaction():
                self._capture(subscription, "Notification", published.message_id, body)

    async def _to_queue(
        self, queue_arn: str, body: str, published: Published, raw: bool, subscription: Subscription | None
    ) -> None:
        region, account, name = _arn_parts(queue_arn, "sqs") or ("", "", "")
        params: dict[str, Any] = {
            "QueueUrl": f"http://sqs.{region}.localhost.localstack.cloud:4566/{account}/{name}",
            "MessageBody": body,
        }
        if raw and published.attributes:
            params["MessageAttributes"] = published.attributes
        if published.fifo:
            params.update(MessageGroupId=published.group_id, MessageDeduplicationId=published.dedup_id)
        try:
            await self.platform.call(
                "sqs",
                "SendMessage",
                params,
                principal=service_principal("sns.amazonaws.com", published.account),
                account_id=account,
                region=region,
            )
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

    def _http_policy(self, subscription: Subscription) -> dict[str, Any]:
        """The subscription's effective delivery policy (its own, or its topic's defaults)."""
        topic = self.store.topic(subscription.topic_arn)
        topic_policy = topic.attributes.get("DeliveryPolicy") if topic else None
        return retry.effective_subscription_policy(
            topic_policy, subscription.attributes.get("DeliveryPolicy")
        )

    async def _to_http(self, subscription: Subscription, published: Published, body: str, raw: bool) -> None:
        headers = delivery.http_headers(
            "Notification", published.message_id, published.topic_arn, subscription.arn, raw
        )
        policy = self._http_policy(subscription)
        headers["Content-Type"] = policy["requestPolicy"]["headerContentType"]
        for delay in [None, *retry.retry_delays(policy["healthyRetryPolicy"])]:
            if delay:
                await self.clock.sleep_until(self.clock.now() + delay)
            if await delivery.post(subscription.endpoint, body, headers):
                return
        log.info("SNS gave up delivering %s to %s", published.message_id, subscription.endpoint)
        await self._dead_letter(subscription, published, body)

    async def _to_lambda(self, subscription: Subscription, published: Published) -> None:
        document = delivery.notification(published, "lambda", subscription.arn, self.signer)
        # Lambda's event spells two of the envelope's keys differently.
        document["SigningCertUrl"] = document.pop("SigningCertURL")
        document["UnsubscribeUrl"] = document.pop("UnsubscribeURL")
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
        region, account, _ = _arn_parts(subscription.endpoint, "lambda") or (
            published.region,
            published.account,
            "",
        )
        try:
            await self.platform.call(
                "lambda",
                "Invoke",
                {
                    "FunctionName": subscription.endpoint,
                    "InvocationType": "Event",
                    "Payload": json.dumps(event).encode(),
                },
                principal=service_principal("sns.amazonaws.com", published.account),
                account_id=account,
                region=region,
            )
        except ServiceError as error:
            log.info("SNS could not invoke %s: %s", subscription.endpoint, error)
            await self._dead_letter(subscription, published, json.dumps(document))


def _attributes_size(attributes: dict[str, Any]) -> int:
    size = 0
    for name, value in attributes.items():
        data = value.get("BinaryValue") or (value.get("StringValue") or "").encode()
        size += len(name.encode()) + len(value.get("DataType", "").encode()) + len(data)
    return size


def _check_message_attributes(attributes: dict[str, Any]) -> None:
    if len(attributes) > 10:
        raise ServiceError(
            "ParameterValueInvalid",
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum [10].",
        )
    for name, value in attributes.items():
        if not re.fullmatch(r"[A-Za-z0-9_\-.]{1,256}", name) or name.lower().startswith(("aws.", "amazon.")):
            raise ServiceError("ParameterValueInvalid", f"The message attribute name '{name}' is invalid.")
        data_type = value.get("DataType", "")
        base = data_type.split(".", 1)[0]
        if base not in ("String", "Number", "Binary"):
            raise ServiceError(
                "ParameterValueInvalid",
                f"The message attribute '{name}' has an invalid message "
                "attribute type, the set of supported type prefixes is Binary, Number, and String.",
            )
        if base == "Binary":
            if not value.get("BinaryValue"):
                raise ServiceError(
                    "ParameterValueInvalid",
                    f"The message attribute '{name}' must contain non-empty "
                    "message attribute value for message attribute type 'Binary'.",
                )
            continue
        text = value.get("StringValue")
        if not text:
            raise ServiceError(
                "ParameterValueInvalid",
                f"The message attribute '{name}' must contain non-empty "
                f"message attribute value for message attribute type '{base}'.",
            )
        if base == "Number":
            try:
                float(text)
            except ValueError:
                raise ServiceError(
                    "ParameterValueInvalid",
                    f"An error occurred while trying to parse the value "
                    f"'{text}' of message attribute '{name}' as a number.",
                ) from None
        if data_type == "String.Array":
            try:
                if not isinstance(json.loads(text), list):
                    raise ValueError
            except ValueError:
                raise ServiceError(
                    "ParameterValueInvalid",
                    f"The message attribute '{name}' with type 'String.Array' has an invalid value.",
                ) from None
