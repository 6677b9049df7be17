"""Rules: an event pattern or a schedule on a bus, enabled or disabled."""

from __future__ import annotations

from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.events import patterns, schedules
from overcast.services.events.store import Rule
from overcast.services.kit.paging import decode_token, page_of
from overcast.services.kit.tags import tag_dict

ENABLED_STATES = ("ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")


def invalid_pattern(error: patterns.PatternError) -> ServiceError:
    return ServiceError("InvalidEventPatternException", f"Event pattern is not valid. Reason: {error}", 400)


def _invalid_token() -> ServiceError:
    return ServiceError("ValidationException", "The nextToken provided is invalid.", 400)


class RuleOperations(Operations):
    def put_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = self.service.require_bus(ctx, params.get("EventBusName"))
        pattern, schedule = params.get("EventPattern"), params.get("ScheduleExpression")
        if not pattern and not schedule:
            raise ServiceError(
                "ValidationException",
                "Parameter(s) EventPattern or ScheduleExpression must be specified.",
                400,
            )
        if pattern:
            try:
                patterns.compile_pattern(pattern)
            except patterns.PatternError as error:
                raise invalid_pattern(error) from None
        if schedule:
            if bus.name != "default":
                raise ServiceError(
                    "ValidationException",
                    "ScheduleExpression is supported only on the default event bus.",
                    400,
                )
            try:
                schedules.parse(schedule)
            except schedules.ScheduleError:
                raise ServiceError(
                    "ValidationException", "Parameter ScheduleExpression is not valid.", 400
                ) from None
        name = params["Name"]
        existing = self.service.store.rule(bus.account, bus.region, bus.name, name)
        if existing is not None and existing.managed_by:
            raise ServiceError(
                "ManagedRuleException",
                f"Rule {name} is managed by an AWS service and can be modified only by that service.",
                400,
            )
        rule = Rule(
            bus.account,
            bus.region,
            bus.name,
            name,
            self.service.rule_arn(bus.account, bus.region, bus.name, name),
            pattern or None,
            schedule or None,
            params.get("State") or "ENABLED",
            params.get("Description"),
            params.get("RoleArn"),
            None,
            existing.created_by if existing else ctx.account_id,
        )
        self.service.store.put_rule(rule)
        if params.get("Tags"):
            self.service.tags.add(
                rule.arn, tag_dict(params["Tags"]), account=ctx.account_id, region=ctx.region
            )
        self._reschedule(
            rule,
            changed=existing is None
            or existing.schedule != rule.schedule
            or existing.state not in ENABLED_STATES,
        )
        self.service.rules_changed(bus.account, bus.region, bus.name)
        return {"RuleArn": rule.arn}

    def describe_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rule = self.service.require_rule(ctx, params["Name"], params.get("EventBusName"))
        result = self._rule(rule)
        result["CreatedBy"] = rule.created_by
        return result

    def list_rules(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = self.service.require_bus(ctx, params.get("EventBusName"))
        limit = params.get("Limit") or 100
        prefix = params.get("NamePrefix") or ""
        scope = f"rules:{bus.arn}:{prefix}"
        after = decode_token(params.get("NextToken"), _invalid_token, scope) or ""
        rows = self.service.store.rules(bus.account, bus.region, bus.name, prefix, after, limit + 1)
        page, token = page_of(rows, limit, lambda rule: rule.name, scope)
        result: dict[str, Any] = {"Rules": [self._rule(rule) for rule in page]}
        if token:
            result["NextToken"] = token
        return result

    def delete_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = self.service.require_bus(ctx, params.get("EventBusName"))
        rule = self.service.store.rule(bus.account, bus.region, bus.name, params["Name"])
        if rule is None:
            return {}
        if rule.managed_by and not params.get("Force"):
            raise ServiceError(
                "ManagedRuleException",
                f"Rule {rule.name} is managed by an AWS service and can be modified only by that service.",
                400,
            )
        if self.service.store.target_count(bus.account, bus.region, bus.name, rule.name):
            raise ServiceError("ValidationException", "Rule can't be deleted since it has targets.", 400)
        self.service.store.delete_rule(bus.account, bus.region, bus.name, rule.name)
        self.service.store.unschedule_rule(rule.arn)
        self.service.tags.forget(rule.arn)
        self.service.rules_changed(bus.account, bus.region, bus.name)
        return {}

    def enable_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._set_state(ctx, params, "ENABLED")

    def disable_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._set_state(ctx, params, "DISABLED")

    def list_rule_names_by_target(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = self.service.require_bus(ctx, params.get("EventBusName"))
        limit = params.get("Limit") or 100
        scope = f"by-target:{bus.arn}:{params['TargetArn']}"
        after = decode_token(params.get("NextToken"), _invalid_token, scope) or ""
        names = self.service.store.rule_names_by_target(
            bus.account, bus.region, bus.name, params["TargetArn"], after, limit + 1
        )
        page, token = page_of(names, limit, lambda name: name, scope)
        result: dict[str, Any] = {"RuleNames": page}
        if token:
            result["NextToken"] = token
        return result

    # -- helpers ---------------------------------------------------------------------------------------------

    def _set_state(self, ctx: RequestContext, params: dict[str, Any], state: str) -> dict[str, Any]:
        rule = self.service.require_rule(ctx, params["Name"], params.get("EventBusName"))
        was_enabled = rule.state in ENABLED_STATES
        self.service.store.set_rule_state(rule.account, rule.region, rule.bus, rule.name, state)
        rule.state = state
        self._reschedule(rule, changed=was_enabled != (state in ENABLED_STATES))
        self.service.rules_changed(rule.account, rule.region, rule.bus)
        return {}

    def _reschedule(self, rule: Rule, changed: bool) -> None:
        """A scheduled rule, enabled, has its next firing stored (counted from now when its schedule or its
        state changed); disabled or unscheduled, none."""
        if not rule.schedule or rule.state not in ENABLED_STATES:
            self.service.store.unschedule_rule(rule.arn)
            return
        if not changed:
            return
        now = self.clock.now()
        next_fire = schedules.parse(rule.schedule).next_after(now, now)
        if next_fire is None:
            self.service.store.unschedule_rule(rule.arn)
            return
        self.service.store.schedule_rule(rule, now, next_fire)
        self.db.after_commit(self.service.schedules_changed.set)

    def _rule(self, rule: Rule) -> dict[str, Any]:
        result: dict[str, Any] = {"Name": rule.name, "Arn": rule.arn}
        if rule.pattern:
            result["EventPattern"] = rule.pattern
        if rule.schedule:
            result["ScheduleExpression"] = rule.schedule
        result["State"] = rule.state
        if rule.description:
            result["Description"] = rule.description
        if rule.role_arn:
            result["RoleArn"] = rule.role_arn
        if rule.managed_by:
            result["ManagedBy"] = rule.managed_by
        result["EventBusName"] = rule.bus
        return result
