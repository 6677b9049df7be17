"""The event history: LookupEvents over the last 90 days of management events, by one lookup attribute."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.cloudtrail.records import COLUMNS, assemble
from overcast.services.kit.paging import decode_token, encode_token

HISTORY_DAYS = 90
DAY = 86400.0


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def _invalid_token() -> ServiceError:
    return ServiceError("InvalidNextTokenException", "Invalid NextToken.", 400)


class LookupOperations(Operations):
    def lookup_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.service.recorder.flush()  # calls answered a moment ago are in the history
        attributes = params.get("LookupAttributes") or []
        if len(attributes) > 1:
            raise ServiceError(
                "InvalidLookupAttributesException", "You can only specify one lookup attribute.", 400
            )
        now = self.clock.now()
        start = _epoch(params["StartTime"]) if params.get("StartTime") else now - HISTORY_DAYS * DAY
        end = _epoch(params["EndTime"]) if params.get("EndTime") else now
        if start > end:
            raise ServiceError("InvalidTimeRangeException", "Start time must be before end time.", 400)
        limit = params.get("MaxResults") or 50
        if not 1 <= limit <= 50:
            raise ServiceError(
                "InvalidMaxResultsException", "Value for MaxResults must be between 1 and 50.", 400
            )
        if params.get("EventCategory") == "insight":
            return {"Events": []}
        attribute = (attributes[0]["AttributeKey"], attributes[0]["AttributeValue"]) if attributes else None
        scope = json.dumps([attribute, params.get("StartTime") and start, params.get("EndTime") and end])
        before = decode_token(params.get("NextToken"), _invalid_token, scope)
        start = max(start, now - HISTORY_DAYS * DAY)
        rows = self.service.store.lookup(ctx.account_id, ctx.region, start, end, attribute, before, limit + 1)
        events = [self._event(row) for row in rows[:limit]]
        result: dict[str, Any] = {"Events": events}
        if len(rows) > limit:
            result["NextToken"] = encode_token(rows[limit - 1][0], scope)
        return result

    def _event(self, row: tuple) -> dict[str, Any]:
        row_id, call = row[0], dict(zip(COLUMNS, row[1:], strict=True))
        record = assemble(call)
        event: dict[str, Any] = {
            "EventId": call["event_id"],
            "EventName": call["name"],
            "ReadOnly": "true" if call["read_only"] else "false",
        }
        if call["access_key"]:
            event["AccessKeyId"] = call["access_key"]
        event["EventTime"] = int(call["time"])
        event["EventSource"] = call["source"]
        if call["username"]:
            event["Username"] = call["username"]
        event["Resources"] = [
            {"ResourceType": kind, "ResourceName": name}
            for kind, name in self.service.store.resources(row_id)
        ]
        event["CloudTrailEvent"] = json.dumps(record, separators=(",", ":"))
        return event
