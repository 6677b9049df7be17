"""EventBridge: composition, the hooks it declares, and what its families share (finding buses and rules,
accepting an event onto a bus)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.platform import new_request_id
from overcast.services.base import ServiceProvider
from overcast.services.events import metrics, patterns, transform
from overcast.services.events.archives import ArchiveOperations
from overcast.services.events.buses import BusOperations
from overcast.services.events.connections import ConnectionOperations
from overcast.services.events.ingest import EventOperations
from overcast.services.events.rules import RuleOperations
from overcast.services.events.store import Bus, EventsStore, Rule
from overcast.services.events.tagging import TagOperations
from overcast.services.events.targets import TargetOperations
from overcast.services.kit.arns import parse_arn
from overcast.services.kit.metrics import MetricCounters, MetricPoint

DEFAULT_BUS = "default"


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message, 400)


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


_last_second: list[Any] = [None, ""]  # the second last formatted and its text (events come in bursts)


def iso(moment: float) -> str:
    """An event's `time`: UTC to the second, as EventBridge writes it."""
    second = int(moment)
    if _last_second[0] != second:
        _last_second[:] = [second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]
    return _last_second[1]


def event_json(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"))


class EventsProvider(ServiceProvider):
    service_name = "events"
    families = (
        BusOperations,
        RuleOperations,
        TargetOperations,
        EventOperations,
        ArchiveOperations,
        ConnectionOperations,
        TagOperations,
    )

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = EventsStore(self.db)
        # Compiled patterns of each bus's enabled rules: (account, region, bus) -> [(name, arn, pattern)].
        # Rebuilt from the table after any rule change; bounded by the rules that exist.
        self._rules: dict[tuple[str, str, str], list[tuple[str, str, patterns.PatternObject]]] = {}
        # Each bus's archives and their compiled patterns (None: every event), rebuilt after archive changes.
        self._archives: dict[str, list[tuple[str, patterns.PatternObject | None]]] = {}
        self.deliveries_changed = asyncio.Event()
        self.schedules_changed = asyncio.Event()
        self.replays_changed = asyncio.Event()
        self.metrics = MetricCounters()  # AWS/Events per rule and bus, collected by CloudWatch (metrics.py)

    async def start(self) -> None:
        from overcast.services.events import workers

        self.platform.spawn(workers.deliver_forever(self))
        self.platform.spawn(workers.schedule_forever(self))
        self.platform.spawn(workers.replay_forever(self))

    def reset(self) -> None:
        self._rules.clear()
        self._archives.clear()
        self.metrics = MetricCounters()

    # -- hooks ---------------------------------------------------------------------------------------------

    def published_metrics(self, minutes: list[float]) -> list[MetricPoint]:
        """AWS/Events per rule, bus and account for the minute that ended last (metrics.py)."""
        return metrics.published(self.metrics, self.clock.now(), minutes)

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        # Called with self None too (the policy layer asks before the provider is loaded): no instance state.
        if ctx.operation == "PutEvents":
            entries = params.get("Entries") or [{}]
            return EventsProvider.bus_arn(ctx, entries[0].get("EventBusName") or DEFAULT_BUS)
        if params.get("ResourceARN"):
            return params["ResourceARN"]
        bus = params.get("EventBusName") or DEFAULT_BUS
        rule = params.get("Rule") if ctx.operation.endswith("Targets") or "ByRule" in ctx.operation else None
        if rule is None and ctx.operation.endswith("Rule"):
            rule = params.get("Name")
        if rule:
            return EventsProvider.rule_arn(ctx.account_id, ctx.region, EventsProvider.bus_name(bus), rule)
        if ctx.operation.endswith("EventBus") and params.get("Name"):
            return EventsProvider.bus_arn(ctx, params["Name"])
        if ctx.operation.endswith("Permission"):
            return EventsProvider.bus_arn(ctx, bus)
        return None

    def authorization_resource(self, ctx: RequestContext, arn: str) -> Any:
        """A bus's owner and resource policy (who may put events on it from another account)."""
        from overcast.policy.enforcement import ResourcePolicy

        parsed = parse_arn(arn)
        if parsed is None or parsed.resource_type != "event-bus":
            return None
        bus = self.store.bus(parsed.account, parsed.region, parsed.resource_id)
        if bus is None:
            return ResourcePolicy(parsed.account) if parsed.resource_id == DEFAULT_BUS else None
        return ResourcePolicy(bus.account, bus.policy, self.tags.get(bus.arn))

    # -- names and ARNs ------------------------------------------------------------------------------------

    @staticmethod
    def bus_name(name_or_arn: str) -> str:
        parsed = parse_arn(name_or_arn)
        return parsed.resource_id if parsed and parsed.resource_type == "event-bus" else name_or_arn

    @staticmethod
    def bus_arn(ctx: RequestContext, name_or_arn: str) -> str:
        if name_or_arn.startswith("arn:"):
            return name_or_arn
        return ctx.arn("events", f"event-bus/{name_or_arn}")

    @staticmethod
    def rule_arn(account: str, region: str, bus: str, name: str) -> str:
        path = name if bus == DEFAULT_BUS else f"{bus}/{name}"
        return f"arn:aws:events:{region}:{account}:rule/{path}"

    # -- buses and rules -----------------------------------------------------------------------------------

    def locate_bus(self, ctx: RequestContext, name_or_arn: str | None) -> tuple[str, str, str]:
        """(account, region, name) of the bus a request names (by name in its own account, or by ARN)."""
        name_or_arn = name_or_arn or DEFAULT_BUS
        parsed = parse_arn(name_or_arn)
        if parsed and parsed.service == "events":
            return parsed.account, parsed.region, parsed.resource_id
        return ctx.account_id, ctx.region, name_or_arn

    def bus(self, account: str, region: str, name: str) -> Bus | None:
        """The bus, the default bus being made on first use."""
        found = self.store.bus(account, region, name)
        if found is None and name == DEFAULT_BUS:
            now = self.clock.now()
            found = Bus(
                account,
                region,
                DEFAULT_BUS,
                f"arn:aws:events:{region}:{account}:event-bus/{DEFAULT_BUS}",
                None,
                None,
                None,
                None,
                now,
                now,
            )
            self.store.add_bus(found)
        return found

    def require_bus(self, ctx: RequestContext, name_or_arn: str | None) -> Bus:
        account, region, name = self.locate_bus(ctx, name_or_arn)
        found = self.bus(account, region, name)
        if found is None:
            raise not_found(f"Event bus {name} does not exist.")
        return found

    def require_rule(self, ctx: RequestContext, name: str, bus_name: str | None) -> Rule:
        bus = self.require_bus(ctx, bus_name)
        rule = self.store.rule(bus.account, bus.region, bus.name, name)
        if rule is None:
            raise not_found(f"Rule {name} does not exist on EventBus {bus.name}.")
        return rule

    def rules_changed(self, account: str, region: str, bus: str) -> None:
        self._rules.pop((account, region, bus), None)
        self.db.after_commit(lambda: self._rules.pop((account, region, bus), None))

    def matching_rules(
        self, account: str, region: str, bus: str, event: dict[str, Any]
    ) -> list[tuple[str, str]]:
        """(name, arn) of the bus's enabled rules whose pattern `event` matches."""
        key = (account, region, bus)
        compiled = self._rules.get(key)
        if compiled is None:
            compiled = [
                (name, arn, patterns.compile_pattern(text))
                for name, arn, text in self.store.enabled_pattern_rules(account, region, bus)
            ]
            self._rules[key] = compiled
        return [(name, arn) for name, arn, pattern in compiled if patterns.matches(pattern, event)]

    def _archives_of(self, bus_arn: str) -> list[tuple[str, patterns.PatternObject | None]]:
        found = self._archives.get(bus_arn)
        if found is None:
            found = self._archives[bus_arn] = [
                (arn, patterns.compile_pattern(text) if text else None)
                for arn, text in self.store.archives_of_bus(bus_arn)
            ]
        return found

    def archives_changed(self) -> None:
        self._archives.clear()
        self.db.after_commit(self._archives.clear)

    # -- events onto a bus ---------------------------------------------------------------------------------

    def new_event(
        self,
        account: str,
        region: str,
        source: str,
        detail_type: str,
        detail: Any,
        resources: list[str] | None = None,
        moment: float | None = None,
    ) -> dict[str, Any]:
        """An event in EventBridge's envelope, its key order included."""
        return {
            "version": "0",
            "id": new_request_id(),
            "detail-type": detail_type,
            "source": source,
            "account": account,
            "time": iso(self.clock.now() if moment is None else moment),
            "region": region,
            "resources": list(resources or []),
            "detail": detail,
        }

    def accept(self, bus: Bus, event: dict[str, Any], only_rules: list[str] | None = None) -> int:
        """Route `event` on `bus` (inside the caller's transaction): archive it, and queue one delivery per
        target of each matching rule (only those named by a replay, when given). The number of deliveries."""
        text: str | None = None
        if only_rules is None:
            for archive_arn, pattern in self._archives_of(bus.arn):
                if pattern is None or patterns.matches(pattern, event):
                    text = text or event_json(event)
                    self.store.archive_event(archive_arn, self.clock.now(), text)
        matched = self.matching_rules(bus.account, bus.region, bus.name, event)
        if not matched:
            return 0
        now = self.clock.now()
        queued = 0
        routed = [name for name, arn in matched if only_rules is None or arn in only_rules]
        if routed:
            metrics.count_routed(self.metrics, bus.account, bus.region, bus.name, routed, now)
        for name, arn in matched:
            if only_rules is not None and arn not in only_rules:
                continue
            for target in self.store.targets(bus.account, bus.region, bus.name, name):
                payload = self.target_input(target, event, name, arn, now)
                text = text or event_json(event)
                self.store.enqueue(bus.account, bus.region, arn, target, text, payload, now)
                queued += 1
        if queued:
            self.db.after_commit(self.deliveries_changed.set)
        return queued

    def target_input(
        self, target: dict[str, Any], event: dict[str, Any], rule: str, rule_arn: str, now: float
    ) -> str:
        """What the target receives: Input, the InputPath's selection, the InputTransformer's output, or the
        event itself."""
        if "Input" in target:
            return target["Input"]
        if target.get("InputPath"):
            return json.dumps(transform.select(event, target["InputPath"]), separators=(",", ":"))
        transformer = target.get("InputTransformer")
        if transformer:
            without_detail = {k: v for k, v in event.items() if k != "detail"}
            variables = {
                "aws.events.rule-arn": rule_arn,
                "aws.events.rule-name": rule,
                "aws.events.event.ingestion-time": iso(now),
                "aws.events.event": event_json(without_detail),
                "aws.events.event.json": event_json(event),
            }
            return transform.fill(
                transformer["InputTemplate"], transformer.get("InputPathsMap") or {}, event, variables
            )
        return event_json(event)
