"""SNS topic operations: create, attributes, list, delete, data protection, tags, permissions."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.kit.tags import tag_dict, tag_list
from overcast.services.sns import retry
from overcast.services.sns.checks import (
    TAG_RULES,
    check_arn,
    default_policy,
    invalid,
    invalid_token,
    json_object,
    topic_attribute,
)
from overcast.services.sns.store import PAGE, Topic

if TYPE_CHECKING:
    from overcast.services.sns.provider import SnsProvider

_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_FIFO_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,251}\.fifo$")


class TopicOperations(Operations):
    service: SnsProvider

    def create_topic(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
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
            given[key] = topic_attribute(key, value, fifo, creating=True)
        tags = tag_dict(params.get("Tags"))
        TAG_RULES.check(tags)
        policy = params.get("DataProtectionPolicy")
        if policy:
            json_object("DataProtectionPolicy", policy)
        arn = ctx.arn("sns", name)
        existing = service.store.topic(arn)
        if existing is not None:
            if any(existing.attributes.get(k) != v for k, v in given.items() if k != "FifoTopic"):
                raise invalid("Attributes Reason: Topic already exists with different attributes")
            if tags:
                current = service.tags.get(arn)
                if any(current.get(k) != v for k, v in tags.items()):
                    raise invalid("Tags Reason: Topic already exists with different tags")
            return {"TopicArn": arn}
        attributes = {"DisplayName": "", "Policy": default_policy(ctx.account_id, arn)}
        if fifo:
            attributes.update(FifoTopic="true", ContentBasedDeduplication="false")
        attributes.update({k: v for k, v in given.items() if k != "FifoTopic"})
        topic = Topic(arn, ctx.account_id, ctx.region, name, fifo, attributes, policy, self.clock.now())
        service.store.create_topic(topic)
        service.tags.add(arn, tags, TAG_RULES, account=ctx.account_id, region=ctx.region)
        return {"TopicArn": arn}

    def get_topic_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self.service.topic(ctx, params["TopicArn"])
        confirmed, pending = self.service.store.subscription_counts(topic.arn)
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
        topic = self.service.topic(ctx, params["TopicArn"])
        name, value = params["AttributeName"], params.get("AttributeValue") or ""
        value = topic_attribute(name, value, topic.fifo, creating=False)
        if name == "Policy" and not value:
            value = default_policy(topic.account, topic.arn)
        topic.attributes[name] = value
        self.service.store.save_topic(topic)
        return {}

    def delete_topic(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Deleting a topic that does not exist is no error: AWS answers 200."""
        arn = params["TopicArn"]
        check_arn(arn, "TopicArn", ctx.region)
        if self.service.store.topic(arn) is None:
            return {}
        self.service.store.delete_topic(arn)
        self.service.tags.forget(arn)
        return {}

    def list_topics(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        after = decode_token(params.get("NextToken") or None, invalid_token, "ListTopics") or ""
        arns = self.service.store.topic_arns(ctx.account_id, ctx.region, after)
        page, token = page_of(arns, PAGE, lambda arn: arn, "ListTopics")
        result: dict[str, Any] = {"Topics": [{"TopicArn": arn} for arn in page]}
        if token:
            result["NextToken"] = token
        return result

    def put_data_protection_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self.service.topic(ctx, params["ResourceArn"], "ResourceArn")
        json_object("DataProtectionPolicy", params["DataProtectionPolicy"])
        topic.data_protection_policy = params["DataProtectionPolicy"]
        self.service.store.save_topic(topic)
        return {}

    def get_data_protection_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self.service.topic(ctx, params["ResourceArn"], "ResourceArn")
        return {"DataProtectionPolicy": topic.data_protection_policy} if topic.data_protection_policy else {}

    # -- tags --------------------------------------------------------------------------------------

    def _tagged_topic(self, arn: str) -> Topic:
        topic = self.service.store.topic(arn)
        if topic is None:
            raise ServiceError("ResourceNotFound", "Resource does not exist")
        return topic

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._tagged_topic(params["ResourceArn"])
        tags = tag_dict(params["Tags"])
        self.service.tags.add(topic.arn, tags, TAG_RULES, account=topic.account, region=topic.region)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._tagged_topic(params["ResourceArn"])
        self.service.tags.remove(topic.arn, params["TagKeys"])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self._tagged_topic(params["ResourceArn"])
        return {"Tags": tag_list(self.service.tags.get(topic.arn))}

    # -- permissions (statements of the topic policy) ----------------------------------------------

    def add_permission(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self.service.topic(ctx, params["TopicArn"])
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
        self.service.store.save_topic(topic)
        return {}

    def remove_permission(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = self.service.topic(ctx, params["TopicArn"])
        policy = json.loads(topic.attributes["Policy"])
        policy["Statement"] = [s for s in policy.get("Statement", []) if s.get("Sid") != params["Label"]]
        topic.attributes["Policy"] = json.dumps(policy, separators=(",", ":"))
        self.service.store.save_topic(topic)
        return {}
