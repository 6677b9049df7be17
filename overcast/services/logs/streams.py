"""Log streams of a group: creating, describing (by name or by last event) and deleting them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import page_of
from overcast.services.logs.common import check_name, invalid, token_position
from overcast.services.logs.store import LogGroup, LogStream

if TYPE_CHECKING:
    from overcast.services.logs.provider import LogsProvider

_STREAM_NAME = re.compile(r"[^:*]*")


class StreamOperations(Operations):
    service: LogsProvider

    def create_log_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["logStreamName"]
        check_name(name, "logStreamName", _STREAM_NAME)
        group = self.service.group(ctx, params)
        if self.service.store.stream(group.id, name):
            raise ServiceError("ResourceAlreadyExistsException", "The specified log stream already exists")
        self.service.store.create_stream(group.id, name, self.service.now_ms())
        return {}

    def delete_log_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self.service.group(ctx, params)
        self.service.store.delete_stream(self.service.stream(group, params["logStreamName"]))
        return {}

    def describe_log_streams(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store = self.service.store
        group = self.service.group(ctx, params)
        prefix = params.get("logStreamNamePrefix") or ""
        by_time = params.get("orderBy") == "LastEventTime"
        if by_time and prefix:
            raise invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
        descending = bool(params.get("descending"))
        limit = params.get("limit") or 50
        if by_time:
            scope = "DescribeLogStreams:LastEventTime"
            token = token_position(params, scope, int, str)
            after = (token[0], token[1]) if token else None
            streams = store.list_streams_by_time(group.id, after, descending, limit + 1)
            position = _time_position
        else:
            scope = "DescribeLogStreams:LogStreamName"
            token = token_position(params, scope, str)
            streams = store.list_streams_by_name(
                group.id, prefix, token[0] if token else None, descending, limit + 1
            )
            position = _name_position
        shown, next_token = page_of(streams, limit, position, scope)
        result: dict[str, Any] = {"logStreams": [describe_stream(group, s) for s in shown]}
        if next_token:
            result["nextToken"] = next_token
        return result


def _time_position(stream: LogStream) -> list[Any]:
    return [stream.last_event if stream.last_event is not None else -1, stream.name]


def _name_position(stream: LogStream) -> list[Any]:
    return [stream.name]


def describe_stream(group: LogGroup, stream: LogStream) -> dict[str, Any]:
    described: dict[str, Any] = {
        "logStreamName": stream.name,
        "creationTime": stream.created_at,
        "arn": f"{group.arn}:log-stream:{stream.name}",
        "storedBytes": 0,  # AWS stopped reporting per-stream bytes in 2019: always 0
    }
    if stream.first_event is not None:
        described["firstEventTimestamp"] = stream.first_event
        described["lastEventTimestamp"] = stream.last_event
        described["lastIngestionTime"] = stream.last_ingestion
        described["uploadSequenceToken"] = f"{stream.last_ingestion:056d}"
    return described
