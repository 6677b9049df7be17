"""Logs Insights: queries (run to completion when they start, their results kept), log records by @ptr and
the fields of a group's recent events. The query language is insights.py."""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from typing import TYPE_CHECKING, Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import Operations
from overcast.services.kit.paging import encode_token
from overcast.services.logs import insights
from overcast.services.logs.common import group_name, invalid, not_found, token_position
from overcast.services.logs.store import LogGroup

if TYPE_CHECKING:
    from overcast.services.logs.provider import LogsProvider

FIELDS_SAMPLE = 10_000  # events GetLogGroupFields looks at


class InsightsOperations(Operations):
    service: LogsProvider

    def start_query(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        names = [
            group_name(n)
            for n in (
                params.get("logGroupIdentifiers")
                or params.get("logGroupNames")
                or ([params["logGroupName"]] if params.get("logGroupName") else [])
            )
        ]
        if not names:
            raise invalid("Log group name or identifiers must be specified.")
        start, end = params["startTime"], params["endTime"]
        if end < start:
            raise invalid("End time must be after start time.")
        try:
            query = insights.parse(params["queryString"])
        except insights.QueryError as error:
            raise ServiceError("MalformedQueryException", str(error)) from None
        groups = []
        for name in names:
            group = self.service.store.group(ctx.account_id, ctx.region, name)
            if group is None:
                raise not_found(f"Log group '{name}' does not exist for account ID '{ctx.account_id}'.")
            groups.append(group)
        results, statistics = self._run(query, groups, start * 1000, end * 1000 + 999, params.get("limit"))
        query_id = str(uuid.uuid4())
        self.service.store.save_query(
            query_id,
            ctx.account_id,
            ctx.region,
            params["queryString"],
            names,
            self.service.now_ms(),
            "Complete",
            results,
            statistics,
        )
        return {"queryId": query_id}

    def _run(
        self, query: insights.Query, groups: list[LogGroup], low: int, high: int, limit: int | None
    ) -> tuple[list[Any], dict[str, float]]:
        store, now = self.service.store, self.service.now_ms()

        def records():
            for group in groups:
                for event in store.group_scan(
                    group.id, max(low, group.retention_cutoff(now)), high + 1, None, None
                ):
                    yield {
                        "@timestamp": event.timestamp,
                        "@message": event.message,
                        "@logStream": event.stream,
                        "@log": f"{group.account}:{group.name}",
                        "@ingestionTime": event.ingestion,
                        "@ptr": base64.b64encode(f"{group.id}:{event.id}".encode()).decode(),
                    }

        return insights.execute(query, records(), limit or 10_000)

    def get_query_results(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self.service.store.query(ctx.account_id, ctx.region, params["queryId"])
        if row is None:
            raise not_found(f"Query does not exist: {params['queryId']}")
        return {"results": json.loads(row[5]), "statistics": json.loads(row[6]), "status": row[4]}

    def stop_query(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self.service.store.query(ctx.account_id, ctx.region, params["queryId"])
        if row is None:
            raise not_found(f"Query does not exist: {params['queryId']}")
        return {"success": False}  # queries complete as they start: nothing left to stop

    def describe_queries(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("maxResults") or 1000
        token = token_position(params, "DescribeQueries", int, str)
        rows = self.service.store.queries(
            ctx.account_id,
            ctx.region,
            params.get("status"),
            (token[0], token[1]) if token else None,
            limit + 1,
        )
        wanted = params.get("logGroupName")
        queries = []
        for query_id, query_string, names, created, status in rows[:limit]:
            names = json.loads(names)
            if wanted and wanted not in names:
                continue
            queries.append(
                {
                    "queryId": query_id,
                    "queryString": query_string,
                    "status": status,
                    "createTime": created,
                    "logGroupName": names[0],
                }
            )
        result: dict[str, Any] = {"queries": queries}
        if len(rows) > limit:
            result["nextToken"] = encode_token([rows[limit - 1][3], rows[limit - 1][0]], "DescribeQueries")
        return result

    def get_log_record(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """A query result's @ptr back to the whole event, with the fields Insights discovers in it."""
        try:
            group_id, event_id = map(int, base64.b64decode(params["logRecordPointer"]).decode().split(":"))
        except ValueError:
            raise invalid("The specified logRecordPointer is invalid.") from None
        store = self.service.store
        group = store.group_by_id(group_id)
        event = store.event(group_id, event_id) if group and group.account == ctx.account_id else None
        if group is None or event is None:
            raise not_found("The specified log record does not exist.")
        record = insights.record_fields(event.message)
        record.update(
            {
                "@timestamp": str(event.timestamp),
                "@message": event.message,
                "@logStream": event.stream,
                "@log": f"{group.account}:{group.name}",
                "@ingestionTime": str(event.ingestion),
            }
        )
        return {"logRecord": {key: str(value) for key, value in record.items()}}

    def get_log_group_fields(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Fields of the events in the 15 minutes before `time` (default now), with how often each occurs."""
        group = self.service.group(ctx, params)
        now = self.service.now_ms()
        at = params.get("time")
        high = at * 1000 if at is not None else now  # `time` is epoch seconds
        low = max(high - 15 * 60_000, group.retention_cutoff(now))
        counts: dict[str, int] = {}
        total = 0
        for event in itertools.islice(
            self.service.store.group_scan(group.id, low, high + 1, None, None), FIELDS_SAMPLE
        ):
            total += 1
            for name in (
                "@timestamp",
                "@message",
                "@logStream",
                "@log",
                "@ingestionTime",
                *insights.record_fields(event.message),
            ):
                counts[name] = counts.get(name, 0) + 1
        return {
            "logGroupFields": [
                {"name": name, "percent": count * 100 // total} for name, count in counts.items()
            ]
        }
