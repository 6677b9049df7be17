"""Log events: PutLogEvents (with AWS's rules for old, expired and future events), GetLogEvents pages of one
stream, and FilterLogEvents over a group with a filter pattern."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.services.base import Operations
from overcast.services.kit.paging import encode_token
from overcast.services.logs import subscriptions
from overcast.services.logs.common import invalid, not_found, pattern_matcher, token_position
from overcast.services.logs.filter_pattern import sql_prefilter
from overcast.services.logs.store import Event

if TYPE_CHECKING:
    from overcast.services.logs.provider import LogsProvider

MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26
DAY_MS = 86_400_000
MAX_AGE_MS = 14 * DAY_MS
MAX_FUTURE_MS = 2 * 3_600_000
FILTER_SCAN_LIMIT = 100_000  # events FilterLogEvents examines per call before handing back a nextToken
# GetLogEvents' tokens have AWS's own shape: direction, then timestamp and event id of the page's edge
_TOKEN = re.compile(r"([fb])/(\d{20})(\d{20})")


class EventOperations(Operations):
    service: LogsProvider

    def put_log_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        events = params["logEvents"]
        check_batch(events)
        group = service.group(ctx, params)
        stream = service.stream(group, params["logStreamName"])
        now = service.now_ms()
        rejected, accepted = classify_events(events, now, group.retention_cutoff(now))
        result: dict[str, Any] = {"nextSequenceToken": f"{now:056d}"}
        if rejected:
            result["rejectedLogEventsInfo"] = rejected
        if accepted:
            kept = [(e["timestamp"], e["message"]) for e in accepted]
            ids = service.store.add_events(group, stream, kept, now)
            subscriptions.notify(service, ctx, group, stream, ids, kept)
        return result

    def get_log_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        group = service.group(ctx, params)
        stream = service.stream(group, params["logStreamName"])
        low, high = service.time_range(group, params)
        limit = params.get("limit") or 10_000
        token = params.get("nextToken")
        if token:
            found = _TOKEN.fullmatch(token)
            if not found:
                raise invalid("The specified nextToken is invalid.")
            direction, cursor = found.group(1), (int(found.group(2)), int(found.group(3)))
            events = service.store.stream_page(stream.id, low, high, cursor, direction == "f", limit)
        else:
            direction, cursor = "f", (0, 0)
            events = service.store.stream_page(
                stream.id, low, high, None, bool(params.get("startFromHead")), limit
            )
        if events:
            forward = f"f/{events[-1].timestamp:020d}{events[-1].id:020d}"
            backward = f"b/{events[0].timestamp:020d}{events[0].id:020d}"
        else:  # nothing further this way: the same position again, so a poller can come back later
            forward = f"f/{cursor[0]:020d}{cursor[1]:020d}"
            backward = f"b/{cursor[0]:020d}{cursor[1]:020d}"
        return {
            "events": [
                {"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion} for e in events
            ],
            "nextForwardToken": forward,
            "nextBackwardToken": backward,
        }

    def filter_log_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        group = service.group(ctx, params)
        names, prefix = params.get("logStreamNames"), params.get("logStreamNamePrefix")
        if names and prefix:
            raise invalid("You cannot specify both logStreamNames and logStreamNamePrefix.")
        streams = service.store.stream_ids(group.id, names, prefix) if names or prefix else None
        if names and not streams:
            raise not_found("The specified log stream does not exist.")
        matcher = pattern_matcher(params.get("filterPattern"))
        low, high = service.time_range(group, params)
        limit = params.get("limit") or 10_000
        token = token_position(params, "FilterLogEvents", int, int)
        cursor = (token[0], token[1]) if token else None
        found: list[dict[str, Any]] = []
        scanned, last = 0, None
        contains, lacks = sql_prefilter(params.get("filterPattern"))
        selected = list(streams) if streams is not None else None
        for event in service.store.group_scan(
            group.id, low, high, cursor, selected, contains=contains, lacks=lacks
        ):
            if len(found) == limit or scanned == FILTER_SCAN_LIMIT:
                break
            scanned += 1
            last = event
            if matcher(event.message) is not None:
                found.append(filtered_event(event))
        else:
            last = None  # the scan reached the end: no more pages
        result: dict[str, Any] = {"events": found, "searchedLogStreams": []}
        if last is not None:
            result["nextToken"] = encode_token([last.timestamp, last.id], "FilterLogEvents")
        return result


def check_batch(events: list[dict[str, Any]]) -> None:
    """The rules that fail the whole PutLogEvents call (count, size, order)."""
    if len(events) > 10_000:
        raise invalid("The number of log events in a batch exceeds 10000.")
    size = sum(len(e["message"].encode()) + EVENT_OVERHEAD for e in events)
    if size > MAX_BATCH_BYTES:
        raise invalid(f"Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}")
    for before, after in zip(events, events[1:], strict=False):
        if after["timestamp"] < before["timestamp"]:
            raise invalid("Log events in a single PutLogEvents request must be in chronological order.")


def classify_events(events: list[dict[str, Any]], now: int, cutoff: int) -> tuple[dict[str, int], list[dict]]:
    """Split a chronological batch into what AWS rejects (too old, expired, too new) and what it keeps."""
    rejected: dict[str, int] = {}
    too_old_before = now - MAX_AGE_MS
    start = 0
    while start < len(events) and (
        events[start]["timestamp"] < too_old_before or events[start]["timestamp"] < cutoff
    ):
        start += 1
    if start:
        last_old = max((i for i in range(start) if events[i]["timestamp"] < too_old_before), default=None)
        last_expired = max((i for i in range(start) if events[i]["timestamp"] < cutoff), default=None)
        if last_old is not None:
            rejected["tooOldLogEventEndIndex"] = last_old
        if last_expired is not None:
            rejected["expiredLogEventEndIndex"] = last_expired
    end = start
    while end < len(events) and events[end]["timestamp"] <= now + MAX_FUTURE_MS:
        end += 1
    if end < len(events):
        rejected["tooNewLogEventStartIndex"] = end
    accepted = events[start:end]
    if accepted and accepted[-1]["timestamp"] - accepted[0]["timestamp"] > DAY_MS:
        raise invalid(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
        )
    return rejected, accepted


def filtered_event(event: Event) -> dict[str, Any]:
    return {
        "logStreamName": event.stream,
        "timestamp": event.timestamp,
        "message": event.message,
        "ingestionTime": event.ingestion,
        "eventId": f"{event.id:056d}",
    }
