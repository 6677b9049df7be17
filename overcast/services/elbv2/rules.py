"""Listener rules: conditions, actions and priorities (ascending: the lowest number is evaluated first)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.elbv2.actions import (
    forwarded_groups,
    normalize_actions,
    normalize_conditions,
    normalize_transforms,
)
from overcast.services.elbv2.common import child_arn, page, rule_not_found, validation
from overcast.services.elbv2.store import Listener, Rule
from overcast.services.elbv2.tagging import RULES, check_new_tags
from overcast.services.kit.tags import tag_dict

if TYPE_CHECKING:
    from overcast.services.elbv2.provider import ElbV2Provider

MAX_RULES = 100


def priority_in_use(priority: int) -> ServiceError:
    return ServiceError("PriorityInUse", f"Priority '{priority}' is currently in use", 400)


class RuleOperations(Operations):
    service: ElbV2Provider

    def _rule(self, ctx: RequestContext, arn: str) -> tuple[Rule, Listener]:
        rule = self.service.store.rule(arn)
        listener = self.service.store.listener(rule.listener_arn) if rule else None
        if (
            rule is None
            or listener is None
            or listener.account != ctx.account_id
            or listener.region != ctx.region
        ):
            raise rule_not_found()
        return rule, listener

    def _actions(
        self, ctx: RequestContext, listener: Listener, actions: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        lb = self.service.store.load_balancer(listener.lb_arn)
        assert lb is not None
        if lb.type != "application":
            raise validation("Rules are supported only by application load balancers")

        def target_group(arn: str) -> dict[str, Any] | None:
            tg = self.service.store.target_group(arn)
            return (
                tg.doc
                if tg is not None and tg.account == ctx.account_id and tg.region == ctx.region
                else None
            )

        out = normalize_actions(
            actions, lb_type=lb.type, listener_protocol=listener.protocol, target_group=target_group
        )
        self.service.keep_client_secrets(lb.arn, actions)
        self.service.check_associations(lb, forwarded_groups(out))
        return out

    def create_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        listener = self.service.listener(ctx, params["ListenerArn"])
        priority = params["Priority"]
        if not 1 <= priority <= 50000:
            raise validation("Priority must be between 1 and 50000")
        conditions = normalize_conditions(params["Conditions"])
        if not conditions:
            raise validation("At least one condition must be specified")
        actions = self._actions(ctx, listener, params["Actions"])
        existing = store.rule_with_priority(listener.arn, priority)
        if existing is not None:
            if existing.doc["Conditions"] == conditions and existing.doc["Actions"] == actions:
                return {"Rules": [existing.doc]}  # the same rule again: AWS answers it
            raise priority_in_use(priority)
        if store.count_rules(listener.arn) >= MAX_RULES:
            raise ServiceError("TooManyRules", "The quota for the number of rules has been reached", 400)
        check_new_tags(params.get("Tags"))
        arn = child_arn(listener.lb_arn, "listener-rule", listener.arn.rsplit("/", 1)[1])
        doc = {
            "RuleArn": arn,
            "Priority": str(priority),
            "Conditions": conditions,
            "Actions": actions,
            "IsDefault": False,
        }
        transforms = normalize_transforms(params.get("Transforms") or [])
        if transforms:
            doc["Transforms"] = transforms
        store.put_rule(Rule(arn, listener.arn, priority, doc))
        store.link(arn, listener.lb_arn, forwarded_groups(actions))
        tags = tag_dict(params.get("Tags"))
        if tags:
            self.service.tags.add(arn, tags, RULES, account=ctx.account_id, region=ctx.region)
        self.service.changed()
        return {"Rules": [doc]}

    def describe_rules(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arns, listener_arn = params.get("RuleArns"), params.get("ListenerArn")
        if arns and listener_arn:
            raise validation("Rule ARNs and a listener ARN cannot be specified at the same time")
        if arns:
            found = [self._rule(ctx, arn)[0] for arn in arns]
        elif listener_arn:
            found = self.service.store.rules_of(self.service.listener(ctx, listener_arn).arn)
        else:
            raise validation("You must specify either listener rule ARNs or a listener ARN")
        chunk, marker = page(found, params, "DescribeRules")
        result: dict[str, Any] = {"Rules": [rule.doc for rule in chunk]}
        if marker:
            result["NextMarker"] = marker
        return result

    def modify_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rule, listener = self._rule(ctx, params["RuleArn"])
        if params.get("Conditions") is not None:
            if rule.priority is None:
                raise ServiceError(
                    "OperationNotPermitted", "The conditions of a default rule cannot be modified", 400
                )
            rule.doc["Conditions"] = normalize_conditions(params["Conditions"])
        if params.get("Actions"):
            rule.doc["Actions"] = self._actions(ctx, listener, params["Actions"])
        if params.get("Transforms") and params.get("ResetTransforms"):
            raise validation("Transforms and ResetTransforms cannot be specified together")
        if params.get("Transforms"):
            if rule.priority is None:
                raise ServiceError(
                    "OperationNotPermitted", "Transforms cannot be added to a default rule", 400
                )
            rule.doc["Transforms"] = normalize_transforms(params["Transforms"])
        elif params.get("ResetTransforms"):
            rule.doc.pop("Transforms", None)
        self.service.store.put_rule(rule)
        self.service.store.link(rule.arn if rule.priority is not None else listener.arn, listener.lb_arn,
                                forwarded_groups(rule.doc["Actions"]))  # fmt: skip
        if rule.priority is None:  # the default rule is the listener's default actions
            listener.doc["DefaultActions"] = rule.doc["Actions"]
            self.service.store.put_listener(listener)
        self.service.changed()
        return {"Rules": [rule.doc]}

    def delete_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rule, _ = self._rule(ctx, params["RuleArn"])
        if rule.priority is None:
            raise ServiceError("OperationNotPermitted", "Default rule cannot be deleted", 400)
        self.service.store.delete_rule(rule.arn)
        self.service.tags.forget(rule.arn)
        self.service.changed()
        return {}

    def set_rule_priorities(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        moves = params["RulePriorities"]
        arns = [move["RuleArn"] for move in moves]
        if len(set(arns)) != len(arns):
            raise validation("A rule can be specified only once")
        wanted = [move["Priority"] for move in moves]
        for priority in wanted:
            if wanted.count(priority) > 1:
                raise priority_in_use(priority)
        rules = []
        for move in moves:
            rule, _ = self._rule(ctx, move["RuleArn"])
            if rule.priority is None:
                raise ServiceError(
                    "OperationNotPermitted", "The priority of a default rule cannot be changed", 400
                )
            rules.append((rule, move["Priority"]))
        moving = set(arns)
        for rule, priority in rules:
            holder = store.rule_with_priority(rule.listener_arn, priority)
            if holder is not None and holder.arn not in moving:
                raise priority_in_use(priority)
        for rule, priority in rules:
            rule.priority = priority
            rule.doc["Priority"] = str(priority)
            store.put_rule(rule)
        self.service.changed()
        return {"Rules": [rule.doc for rule, _ in rules]}
