"""The event history: LookupEvents over the last 90 days of management events, by one lookup attribute."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.cloudtrail.records import username
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
        events = [self._event(row_id, text) for row_id, text in rows[:limit]]
        result: dict[str, Any] = {"Events": events}
        if len(rows) > limit:
            result["NextToken"] = encode_token(rows[limit - 1][0], scope)
        return result

    def _event(self, row_id: int, text: str) -> dict[str, Any]:
        record = json.loads(text)
        identity = record.get("userIdentity") or {}
        event: dict[str, Any] = {
            "EventId": record["eventID"],
            "EventName": record["eventName"],
            "ReadOnly": "true" if record["readOnly"] else "false",
        }
        if identity.get("accessKeyId"):
            event["AccessKeyId"] = identity["accessKeyId"]
        event["EventTime"] = (
            datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
        )
        event["EventSource"] = record["eventSource"]
        name = username(identity)
        if name:
            event["Username"] = name
        event["Resources"] = [
            {"ResourceType": kind, "ResourceName": resource}
            for kind, resource in self.service.store.resources(row_id)
        ]
        event["CloudTrailEvent"] = text
        return event
