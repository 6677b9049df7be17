"""Archives (the events a bus received, matching an optional pattern, kept for a retention period) and replays
(archived events of a time range sent to the bus again, to all its rules or to the rules named)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.events import patterns
from overcast.services.events.rules import invalid_pattern
from overcast.services.kit.arns import parse_arn

if TYPE_CHECKING:
    from overcast.services.events.provider import EventsProvider

_NAME = re.compile(r"^[\.\-_A-Za-z0-9]{1,48}$")
DAY = 86400.0


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def _not_found(kind: str, name: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"{kind} {name} does not exist.", 400)


class ArchiveOperations(Operations):
    def create_archive(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["ArchiveName"]
        store = self.service.store
        if store.archive(ctx.account_id, ctx.region, name) is not None:
            raise ServiceError("ResourceAlreadyExistsException", f"Archive {name} already exists.", 400)
        source = parse_arn(params["EventSourceArn"])
        if source is None or source.resource_type != "event-bus":
            raise ServiceError("ValidationException", "Parameter EventSourceArn is not valid.", 400)
        if self.service.bus(source.account, source.region, source.resource_id) is None:
            raise _not_found("Event bus", source.resource_id)
        pattern = params.get("EventPattern")
        if pattern:
            try:
                patterns.compile_pattern(pattern)
            except patterns.PatternError as error:
                raise invalid_pattern(error) from None
        now = self.clock.now()
        arn = ctx.arn("events", f"archive/{name}")
        self.service.archives_changed()
        store.put_archive(
            (
                ctx.account_id,
                ctx.region,
                name,
                arn,
                params["EventSourceArn"],
                params.get("Description"),
                pattern,
                params.get("RetentionDays") or 0,
                "ENABLED",
                now,
            )
        )
        return {"ArchiveArn": arn, "State": "ENABLED", "CreationTime": now}

    def describe_archive(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._archive(ctx, params["ArchiveName"])
        _, _, name, arn, source, description, pattern, retention, state, created = row
        count, size = self.service.store.archive_stats(arn)
        result: dict[str, Any] = {"ArchiveArn": arn, "ArchiveName": name, "EventSourceArn": source}
        if description:
            result["Description"] = description
        if pattern:
            result["EventPattern"] = pattern
        result.update(
            State=state, RetentionDays=retention, SizeBytes=size, EventCount=count, CreationTime=created
        )
        return result

    def list_archives(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("NamePrefix") or ""
        found = []
        for row in self.service.store.archives(ctx.account_id, ctx.region):
            _, _, name, arn, source, _, _, retention, state, created = row
            if not name.startswith(prefix) or (
                params.get("EventSourceArn") and source != params["EventSourceArn"]
            ):
                continue
            if params.get("State") and state != params["State"]:
                continue
            count, size = self.service.store.archive_stats(arn)
            found.append(
                {
                    "ArchiveName": name,
                    "EventSourceArn": source,
                    "State": state,
                    "RetentionDays": retention,
                    "SizeBytes": size,
                    "EventCount": count,
                    "CreationTime": created,
                }
            )
        return {"Archives": found}

    def update_archive(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = list(self._archive(ctx, params["ArchiveName"]))
        if "Description" in params:
            row[5] = params["Description"]
        if "EventPattern" in params:
            try:
                patterns.compile_pattern(params["EventPattern"])
            except patterns.PatternError as error:
                raise invalid_pattern(error) from None
            row[6] = params["EventPattern"]
        if "RetentionDays" in params:
            row[7] = params["RetentionDays"]
        self.service.store.put_archive(tuple(row))
        self.service.archives_changed()
        return {"ArchiveArn": row[3], "State": row[8], "CreationTime": row[9]}

    def delete_archive(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._archive(ctx, params["ArchiveName"])
        self.service.store.delete_archive(ctx.account_id, ctx.region, row[2], row[3])
        self.service.archives_changed()
        return {}

    def _archive(self, ctx: RequestContext, name: str) -> tuple:
        row = self.service.store.archive(ctx.account_id, ctx.region, name)
        if row is None:
            raise _not_found("Archive", name)
        return row

    # -- replays ---------------------------------------------------------------------------------------------

    def start_replay(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["ReplayName"]
        store = self.service.store
        if not _NAME.match(name):
            raise ServiceError("ValidationException", "Parameter ReplayName is not valid.", 400)
        if store.replay(ctx.account_id, ctx.region, name) is not None:
            raise ServiceError("ResourceAlreadyExistsException", f"Replay {name} already exists.", 400)
        archive = parse_arn(params["EventSourceArn"])
        if archive is None or store.archive(archive.account, archive.region, archive.resource_id) is None:
            raise _not_found("Archive", archive.resource_id if archive else params["EventSourceArn"])
        start, end = _epoch(params["EventStartTime"]), _epoch(params["EventEndTime"])
        if start >= end:
            raise ServiceError(
                "ValidationException", "Parameter EventStartTime must be before EventEndTime.", 400
            )
        if end > self.clock.now():
            raise ServiceError(
                "ValidationException",
                "Parameter EventEndTime is not valid. Reason: It cannot be in the future.",
                400,
            )
        archive_row = store.archive(archive.account, archive.region, archive.resource_id)
        if params["Destination"]["Arn"] != archive_row[4]:
            raise ServiceError(
                "ValidationException",
                "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.",
                400,
            )
        now = self.clock.now()
        config = {
            "Description": params.get("Description"),
            "EventSourceArn": params["EventSourceArn"],
            "EventStartTime": start,
            "EventEndTime": end,
            "Destination": params["Destination"],
        }
        arn = ctx.arn("events", f"replay/{name}")
        store.put_replay(
            (ctx.account_id, ctx.region, name, arn, json.dumps(config), "STARTING", None, now, None, None)
        )
        self.db.after_commit(self.service.replays_changed.set)
        return {"ReplayArn": arn, "State": "STARTING", "ReplayStartTime": now}

    def describe_replay(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._replay(ctx, params["ReplayName"])
        _, _, name, arn, config_text, state, reason, started, ended, last = row
        config = json.loads(config_text)
        result: dict[str, Any] = {"ReplayName": name, "ReplayArn": arn}
        if config.get("Description"):
            result["Description"] = config["Description"]
        result["State"] = state
        if reason:
            result["StateReason"] = reason
        result.update(
            EventSourceArn=config["EventSourceArn"],
            Destination=config["Destination"],
            EventStartTime=config["EventStartTime"],
            EventEndTime=config["EventEndTime"],
        )
        if last is not None:
            result["EventLastReplayedTime"] = last
        result["ReplayStartTime"] = started
        if ended is not None:
            result["ReplayEndTime"] = ended
        return result

    def list_replays(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = []
        for row in self.service.store.replays(ctx.account_id, ctx.region):
            _, _, name, _, config_text, state, reason, started, ended, last = row
            config = json.loads(config_text)
            if not name.startswith(params.get("NamePrefix") or ""):
                continue
            if params.get("State") and state != params["State"]:
                continue
            entry: dict[str, Any] = {
                "ReplayName": name,
                "EventSourceArn": config["EventSourceArn"],
                "State": state,
                "EventStartTime": config["EventStartTime"],
                "EventEndTime": config["EventEndTime"],
                "ReplayStartTime": started,
            }
            if last is not None:
                entry["EventLastReplayedTime"] = last
            if ended is not None:
                entry["ReplayEndTime"] = ended
            found.append(entry)
        return {"Replays": found}

    def cancel_replay(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = list(self._replay(ctx, params["ReplayName"]))
        if row[5] not in ("STARTING", "RUNNING"):
            raise ServiceError(
                "IllegalStatusException", f"Replay {row[2]} is not in a state that can be cancelled.", 400
            )
        row[5], row[8] = "CANCELLED", self.clock.now()
        self.service.store.put_replay(tuple(row))
        return {"ReplayArn": row[3], "State": "CANCELLING"}

    def _replay(self, ctx: RequestContext, name: str) -> tuple:
        row = self.service.store.replay(ctx.account_id, ctx.region, name)
        if row is None:
            raise _not_found("Replay", name)
        return row


def run_replays(provider: EventsProvider) -> None:
    """Send the archived events of every started replay to its bus again (inside the caller's transaction),
    each with `replay-name`, to the rules the replay names (all of the bus's rules when it names none)."""
    store = provider.store
    now = provider.clock.now()
    for row in store.pending_replays():
        account, region, name, arn, config_text, state, reason, started, ended, last = row
        config = json.loads(config_text)
        archive = parse_arn(config["EventSourceArn"])
        bus_arn = parse_arn(config["Destination"]["Arn"])
        bus = provider.bus(bus_arn.account, bus_arn.region, bus_arn.resource_id) if bus_arn else None
        if archive is None or bus is None:
            store.put_replay(
                (
                    account,
                    region,
                    name,
                    arn,
                    config_text,
                    "FAILED",
                    "Destination not found",
                    started,
                    now,
                    last,
                )
            )
            continue
        archive_row = store.archive(archive.account, archive.region, archive.resource_id)
        rules = config["Destination"].get("FilterArns") or None
        for moment, text in store.archived_events(
            archive_row[3], config["EventStartTime"], config["EventEndTime"]
        ):
            event = json.loads(text)
            event["replay-name"] = name
            provider.accept(bus, event, only_rules=rules or _all_rules(provider, bus))
            last = moment
        store.put_replay((account, region, name, arn, config_text, "COMPLETED", None, started, now, last))


def _all_rules(provider: EventsProvider, bus: Any) -> list[str]:
    return [arn for _, arn, _ in provider.store.enabled_pattern_rules(bus.account, bus.region, bus.name)]
