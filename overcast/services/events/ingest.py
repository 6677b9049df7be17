"""Events in: PutEvents (AWS's limits and per-entry errors) and TestEventPattern."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.events import patterns
from overcast.services.events.rules import invalid_pattern

MAX_REQUEST_BYTES = 256 * 1024
TEST_EVENT_FIELDS = ("id", "account", "source", "time", "region", "resources", "detail-type")


def entry_size(entry: dict[str, Any]) -> int:
    """An entry's size as AWS counts it: 14 bytes for a Time, then the UTF-8 bytes of Source, DetailType,
    Detail and each resource."""
    size = 14 if entry.get("Time") is not None else 0
    for name in ("Source", "DetailType", "Detail"):
        text = entry.get(name)
        if text:
            size += len(text) if text.isascii() else len(text.encode())
    return size + sum(len(resource.encode()) for resource in entry.get("Resources") or ())


def _failure(code: str, message: str) -> dict[str, str]:
    return {"ErrorCode": code, "ErrorMessage": message}


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


class EventOperations(Operations):
    def put_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entries = params["Entries"]
        # Entries are never larger than the request that carried them: only a large one is counted.
        body = ctx.request.body if ctx.request is not None else None
        if (body is None or len(body) > MAX_REQUEST_BYTES) and sum(
            map(entry_size, entries)
        ) > MAX_REQUEST_BYTES:
            raise ServiceError(
                "ValidationException", "Total size of the entries in the request is over the limit."
            )
        sender = ctx.principal.account_id or ctx.account_id
        from_service = ctx.principal.kind == "service"
        results, failed = [], 0
        buses: dict[str | None, Any] = {}  # the buses this request names, each looked up once
        for entry in entries:
            outcome = self._put(ctx, entry, sender, from_service, buses)
            failed += "ErrorCode" in outcome
            results.append(outcome)
        return {"FailedEntryCount": failed, "Entries": results}

    def _put(
        self,
        ctx: RequestContext,
        entry: dict[str, Any],
        sender: str,
        from_service: bool,
        buses: dict[str | None, Any],
    ) -> dict[str, str]:
        source, detail_type, text = entry.get("Source"), entry.get("DetailType"), entry.get("Detail")
        if not (source and detail_type and text):
            name = "Source" if not source else "DetailType" if not detail_type else "Detail"
            return _failure(
                "InvalidArgument", f"Parameter {name} is not valid. Reason: {name} is a required argument."
            )
        try:
            detail = json.loads(text)
        except ValueError:
            detail = None
        if not isinstance(detail, dict):
            return _failure("MalformedDetail", "Detail is malformed.")
        if source.startswith("aws.") and not from_service:
            return _failure("NotAuthorizedForSourceException", "Not authorized for the source.")
        named = entry.get("EventBusName")
        if named not in buses:
            buses[named] = self.service.bus(*self.service.locate_bus(ctx, named))
        bus = buses[named]
        if bus is None:
            name = self.service.locate_bus(ctx, named)[2]
            return _failure("ResourceNotFoundException", f"Event bus {name} does not exist.")
        moment = _epoch(entry["Time"]) if entry.get("Time") is not None else None
        event = self.service.new_event(
            sender, ctx.region, source, detail_type, detail, entry.get("Resources"), moment
        )
        self.service.accept(bus, event)
        return {"EventId": event["id"]}

    def test_event_pattern(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        try:
            pattern = patterns.compile_pattern(params["EventPattern"])
        except patterns.PatternError as error:
            raise invalid_pattern(error) from None
        try:
            event = json.loads(params["Event"])
        except ValueError:
            event = None
        if not isinstance(event, dict) or any(name not in event for name in TEST_EVENT_FIELDS):
            raise ServiceError("ValidationException", "Parameter Event is not valid.", 400)
        return {"Result": patterns.matches(pattern, event)}
