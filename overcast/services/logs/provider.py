"""CloudWatch Logs: log groups and streams, events, filter patterns, retention, metric and subscription
filters, and Logs Insights queries over the stored events."""

from __future__ import annotations

import asyncio
import base64
import gzip
import itertools
import json
import logging
import re
import uuid
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.identity import service_principal
from overcast.services import is_available
from overcast.services.base import ServiceProvider
from overcast.services.logs import insights
from overcast.services.logs.filter_pattern import PatternError, compile_pattern, sql_prefilter
from overcast.services.logs.store import Event, LogGroup, LogsStore, LogStream

log = logging.getLogger("overcast.logs")

RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26
DAY_MS = 86_400_000
MAX_AGE_MS = 14 * DAY_MS
MAX_FUTURE_MS = 2 * 3_600_000
MAX_TAGS = 50
MAX_SUBSCRIPTION_FILTERS = 2
MAX_METRIC_FILTERS = 100
MAX_RESOURCE_POLICIES = 10  # account-level policies per region
FIELDS_SAMPLE = 10_000  # events GetLogGroupFields looks at
FILTER_SCAN_LIMIT = 100_000  # events FilterLogEvents examines per call before handing back a nextToken
END_OF_TIME = 10**15
_NAME = re.compile(r"[.\-_/#A-Za-z0-9]+")
_STREAM_NAME = re.compile(r"[^:*]*")
_TOKEN = re.compile(r"([fb])/(\d{20})(\d{20})")


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message)


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)


def encode_token(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode()


def decode_token(token: str | None) -> list[Any] | None:
    if not token:
        return None
    try:
        parts = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError:
        raise invalid("The specified nextToken is invalid.") from None
    if not isinstance(parts, list):
        raise invalid("The specified nextToken is invalid.")
    return parts


class LogsProvider(ServiceProvider):
    service_name = "logs"

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The resource a request acts on, for authorization."""
        group = params.get("logGroupName")
        if not group:
            return params.get("resourceArn")
        stream = params.get("logStreamName")
        suffix = f":log-stream:{stream}" if stream else ":*"
        return ctx.arn("logs", f"log-group:{group}{suffix}")

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = LogsStore(self.db)

    async def start(self) -> None:
        self.platform.spawn(self._expire_forever())

    def now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    # -- lookups -------------------------------------------------------------------------------------

    def _group(self, ctx: RequestContext, params: dict[str, Any]) -> LogGroup:
        name = group_name(params.get("logGroupIdentifier") or params.get("logGroupName"))
        if not name:
            raise invalid("Either logGroupName or logGroupIdentifier must be specified.")
        found = self.store.group(ctx.account_id, ctx.region, name)
        if found is None:
            raise not_found("The specified log group does not exist.")
        return found

    def _stream(self, group: LogGroup, name: str) -> LogStream:
        found = self.store.stream(group.id, name)
        if found is None:
            raise not_found("The specified log stream does not exist.")
        return found

    # -- log groups ----------------------------------------------------------------------------------

    def create_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["logGroupName"]
        check_name(name, "logGroupName", _NAME)
        if name.lower().startswith("aws/"):
            raise invalid("Log groups starting with AWS/ are reserved for AWS.")
        tags = params.get("tags") or {}
        check_tags(tags)
        if self.store.group(ctx.account_id, ctx.region, name):
            raise ServiceError("ResourceAlreadyExistsException", "The specified log group already exists")
        self.store.create_group(
            ctx.account_id,
            ctx.region,
            name,
            self.now_ms(),
            params.get("kmsKeyId"),
            params.get("logGroupClass") or "STANDARD",
            tags,
        )
        return {}

    def delete_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.store.delete_group(self._group(ctx, params).id)
        return {}

    def describe_log_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix, pattern = params.get("logGroupNamePrefix") or "", params.get("logGroupNamePattern")
        if prefix and pattern:
            raise invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
        limit = params.get("limit") or 50
        token = decode_token(params.get("nextToken"))
        after = str(token[0]) if token else ""
        identifiers = params.get("logGroupIdentifiers")
        if identifiers:
            groups = [
                g
                for g in (self.store.group(ctx.account_id, ctx.region, group_name(i)) for i in identifiers)
                if g
            ]
        else:
            groups = self.store.list_groups(
                ctx.account_id, ctx.region, prefix, pattern, after, params.get("logGroupClass"), limit + 1
            )
        result: dict[str, Any] = {"logGroups": [self._describe_group(g) for g in groups[:limit]]}
        if len(groups) > limit:
            result["nextToken"] = encode_token(groups[limit - 1].name)
        return result

    def _describe_group(self, group: LogGroup) -> dict[str, Any]:
        described: dict[str, Any] = {
            "logGroupName": group.name,
            "creationTime": group.created_at,
            "metricFilterCount": self.store.metric_filter_count(group.id),
            "arn": group.arn + ":*",
            "storedBytes": group.stored_bytes,
            "logGroupClass": group.group_class,
            "logGroupArn": group.arn,
        }
        if group.retention_days:
            described["retentionInDays"] = group.retention_days
        if group.kms_key_id:
            described["kmsKeyId"] = group.kms_key_id
        return described

    def put_retention_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        days = params["retentionInDays"]
        if days not in RETENTION_DAYS:
            raise invalid(
                f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy "
                f"constraint: Member must satisfy enum value set: [{', '.join(map(str, RETENTION_DAYS))}]"
            )
        group = self._group(ctx, params)
        self.store.update_group(group.id, retention_days=days)
        self.db.after_commit(self._wake_expiry)
        return {}

    def delete_retention_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.store.update_group(self._group(ctx, params).id, retention_days=None)
        return {}

    def associate_kms_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.store.update_group(self._group(ctx, params).id, kms_key_id=params["kmsKeyId"])
        return {}

    def disassociate_kms_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.store.update_group(self._group(ctx, params).id, kms_key_id=None)
        return {}

    # -- tags ----------------------------------------------------------------------------------------

    def _group_by_arn(self, ctx: RequestContext, arn: str) -> LogGroup:
        parts = arn.split(":", 6)
        if len(parts) < 7 or parts[2] != "logs" or parts[5] != "log-group":
            raise invalid(f"Invalid resource arn: {arn}")
        name = parts[6][:-2] if parts[6].endswith(":*") else parts[6]
        group = self.store.group(parts[4], parts[3], name)
        if group is None or parts[4] != ctx.account_id:
            raise not_found(f"The specified resource does not exist: {arn}")
        return group

    def _set_tags(self, group: LogGroup, add: dict[str, str], remove: list[str]) -> None:
        tags = {**json.loads(group.tags), **add}
        for key in remove:
            tags.pop(key, None)
        check_tags(tags)
        self.store.update_group(group.id, tags=json.dumps(tags))

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group_by_arn(ctx, params["resourceArn"])
        if len({**json.loads(group.tags), **params["tags"]}) > MAX_TAGS:  # the newer API has its own error
            raise ServiceError(
                "TooManyTagsException",
                f"A resource can have no more than {MAX_TAGS} tags.",
                resourceName=params["resourceArn"],
            )
        self._set_tags(group, params["tags"], [])
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._set_tags(self._group_by_arn(ctx, params["resourceArn"]), {}, params["tagKeys"])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"tags": json.loads(self._group_by_arn(ctx, params["resourceArn"]).tags)}

    def tag_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._set_tags(self._group(ctx, params), params["tags"], [])
        return {}

    def untag_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._set_tags(self._group(ctx, params), {}, params["tags"])
        return {}

    def list_tags_log_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"tags": json.loads(self._group(ctx, params).tags)}

    # -- log streams ---------------------------------------------------------------------------------

    def create_log_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["logStreamName"]
        check_name(name, "logStreamName", _STREAM_NAME)
        group = self._group(ctx, params)
        if self.store.stream(group.id, name):
            raise ServiceError("ResourceAlreadyExistsException", "The specified log stream already exists")
        self.store.create_stream(group.id, name, self.now_ms())
        return {}

    def delete_log_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group(ctx, params)
        self.store.delete_stream(self._stream(group, params["logStreamName"]))
        return {}

    def describe_log_streams(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group(ctx, params)
        prefix = params.get("logStreamNamePrefix") or ""
        by_time = params.get("orderBy") == "LastEventTime"
        if by_time and prefix:
            raise invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
        descending = bool(params.get("descending"))
        limit = params.get("limit") or 50
        token = decode_token(params.get("nextToken"))
        if by_time:
            after = (int(token[0]), str(token[1])) if token else None
            streams = self.store.list_streams_by_time(group.id, after, descending, limit + 1)
        else:
            streams = self.store.list_streams_by_name(
                group.id, prefix, str(token[0]) if token else None, descending, limit + 1
            )
        result: dict[str, Any] = {"logStreams": [describe_stream(group, s) for s in streams[:limit]]}
        if len(streams) > limit:
            last = streams[limit - 1]
            result["nextToken"] = (
                encode_token(last.last_event if last.last_event is not None else -1, last.name)
                if by_time
                else encode_token(last.name)
            )
        return result

    # -- events --------------------------------------------------------------------------------------

    def put_log_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        events = params["logEvents"]
        check_batch(events)
        group = self._group(ctx, params)
        stream = self._stream(group, params["logStreamName"])
        now = self.now_ms()
        rejected, accepted = classify_events(events, now, group.retention_cutoff(now))
        result: dict[str, Any] = {"nextSequenceToken": f"{now:056d}"}
        if rejected:
            result["rejectedLogEventsInfo"] = rejected
        if accepted:
            kept = [(e["timestamp"], e["message"]) for e in accepted]
            ids = self.store.add_events(group, stream, kept, now)
            self._subscribers(ctx, group, stream, ids, kept)
        return result

    def get_log_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group(ctx, params)
        stream = self._stream(group, params["logStreamName"])
        low, high = self._time_range(group, params)
        limit = params.get("limit") or 10_000
        token = params.get("nextToken")
        if token:
            found = _TOKEN.fullmatch(token)
            if not found:
                raise invalid("The specified nextToken is invalid.")
            direction, cursor = found.group(1), (int(found.group(2)), int(found.group(3)))
            events = self.store.stream_page(stream.id, low, high, cursor, direction == "f", limit)
        else:
            direction, cursor = "f", (0, 0)
            events = self.store.stream_page(
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

    def _time_range(self, group: LogGroup, params: dict[str, Any]) -> tuple[int, int]:
        """[low, high) of the timestamps a read may return: the caller's range within the retention period."""
        low = max(params.get("startTime") or 0, group.retention_cutoff(self.now_ms()))
        end = params.get("endTime")
        return low, END_OF_TIME if end is None else end

    def filter_log_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group(ctx, params)
        names, prefix = params.get("logStreamNames"), params.get("logStreamNamePrefix")
        if names and prefix:
            raise invalid("You cannot specify both logStreamNames and logStreamNamePrefix.")
        streams = self.store.stream_ids(group.id, names, prefix) if names or prefix else None
        if names and not streams:
            raise not_found("The specified log stream does not exist.")
        matcher = pattern_matcher(params.get("filterPattern"))
        low, high = self._time_range(group, params)
        limit = params.get("limit") or 10_000
        token = decode_token(params.get("nextToken"))
        cursor = (int(token[0]), int(token[1])) if token else None
        found: list[dict[str, Any]] = []
        scanned, last = 0, None
        contains, lacks = sql_prefilter(params.get("filterPattern"))
        selected = list(streams) if streams is not None else None
        for event in self.store.group_scan(
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
            result["nextToken"] = encode_token(last.timestamp, last.id)
        return result

    # -- metric filters ------------------------------------------------------------------------------

    def put_metric_filter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group(ctx, params)
        pattern_matcher(params["filterPattern"])
        name = params["filterName"]
        existing = {
            row[1] for row in self.store.metric_filters(ctx.account_id, ctx.region, group.id, name, None, 1)
        }
        if name not in existing and self.store.metric_filter_count(group.id) >= MAX_METRIC_FILTERS:
            raise ServiceError("LimitExceededException", "Resource limit exceeded.")
        transformations = [{k: v for k, v in t.items()} for t in params["metricTransformations"]]
        self.store.put_metric_filter(group.id, name, params["filterPattern"], transformations, self.now_ms())
        return {}

    def describe_metric_filters(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        metric_name, namespace = params.get("metricName"), params.get("metricNamespace")
        if bool(metric_name) != bool(namespace):
            raise invalid("metricName and metricNamespace must be specified together.")
        group_id = self._group(ctx, params).id if params.get("logGroupName") else None
        if params.get("filterNamePrefix") and group_id is None:
            raise invalid("logGroupName is required when filterNamePrefix is specified.")
        limit = params.get("limit") or 50
        token = decode_token(params.get("nextToken"))
        rows = self.store.metric_filters(
            ctx.account_id,
            ctx.region,
            group_id,
            params.get("filterNamePrefix") or "",
            (token[0], token[1]) if token else None,
            10_000 if metric_name else limit + 1,
        )
        filters = [describe_metric_filter(row) for row in rows]
        if metric_name:
            filters = [
                f
                for f in filters
                if any(
                    t["metricName"] == metric_name and t["metricNamespace"] == namespace
                    for t in f["metricTransformations"]
                )
            ]
        result: dict[str, Any] = {"metricFilters": filters[:limit]}
        if len(filters) > limit:
            result["nextToken"] = encode_token(
                filters[limit - 1]["logGroupName"], filters[limit - 1]["filterName"]
            )
        return result

    def delete_metric_filter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group(ctx, params)
        if not self.store.delete_filter("logs_metric_filters", group.id, params["filterName"]):
            raise not_found("The specified metric filter does not exist.")
        return {}

    def test_metric_filter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        matcher = pattern_matcher(params["filterPattern"])
        matches = []
        for number, message in enumerate(params["logEventMessages"], start=1):
            extracted = matcher(message)
            if extracted is not None:
                matches.append({"eventNumber": number, "eventMessage": message, "extractedValues": extracted})
        return {"matches": matches}

    # -- subscription filters ------------------------------------------------------------------------

    def put_subscription_filter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group(ctx, params)
        pattern_matcher(params["filterPattern"])
        name = params["filterName"]
        existing = {row[0] for row in self.store.subscription_filters(group.id)}
        if name not in existing and len(existing) >= MAX_SUBSCRIPTION_FILTERS:
            raise ServiceError("LimitExceededException", "Resource limit exceeded.")
        self.store.put_subscription_filter(
            group.id,
            name,
            params["filterPattern"],
            params["destinationArn"],
            params.get("roleArn"),
            params.get("distribution") or "ByLogStream",
            self.now_ms(),
        )
        return {}

    def describe_subscription_filters(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group(ctx, params)
        prefix = params.get("filterNamePrefix") or ""
        filters = []
        for name, pattern, destination, role, distribution, created in self.store.subscription_filters(
            group.id
        ):
            if name.startswith(prefix):
                described = {
                    "filterName": name,
                    "logGroupName": group.name,
                    "filterPattern": pattern,
                    "destinationArn": destination,
                    "distribution": distribution,
                    "creationTime": created,
                }
                if role:
                    described["roleArn"] = role
                filters.append(described)
        return {"subscriptionFilters": filters}

    def delete_subscription_filter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = self._group(ctx, params)
        if not self.store.delete_filter("logs_subscription_filters", group.id, params["filterName"]):
            raise not_found("The specified subscription filter does not exist.")
        return {}

    def _subscribers(
        self,
        ctx: RequestContext,
        group: LogGroup,
        stream: LogStream,
        ids: list[int],
        events: list[tuple[int, str]],
    ) -> None:
        """Hand the new events each subscription filter matches to its destination once the write commits."""
        for name, pattern, destination, _role, _distribution, _created in self.store.subscription_filters(
            group.id
        ):
            matcher = compile_pattern(pattern)
            matched = [
                {"id": f"{i:056d}", "timestamp": ts, "message": message}
                for i, (ts, message) in zip(ids, events, strict=True)
                if matcher(message) is not None
            ]
            if not matched:
                continue
            payload = {
                "messageType": "DATA_MESSAGE",
                "owner": ctx.account_id,
                "logGroup": group.name,
                "logStream": stream.name,
                "subscriptionFilters": [name],
                "logEvents": matched,
            }
            deliver = self._deliver(ctx.account_id, ctx.region, destination, payload)
            self.db.after_commit(lambda d=deliver: self.platform.spawn(d))

    async def _deliver(self, account: str, region: str, destination: str, payload: dict[str, Any]) -> None:
        data = gzip.compress(json.dumps(payload, separators=(",", ":")).encode())
        principal = service_principal("logs.amazonaws.com", account)
        try:
            if ":lambda:" in destination and is_available("lambda"):
                body = json.dumps({"awslogs": {"data": base64.b64encode(data).decode()}}).encode()
                await self.platform.call(
                    "lambda",
                    "Invoke",
                    {"FunctionName": destination, "InvocationType": "Event", "Payload": body},
                    principal=principal,
                    account_id=account,
                    region=region,
                )
        except ServiceError as error:  # AWS drops what it cannot deliver; say why in the server log
            log.warning("subscription delivery to %s failed: %s", destination, error)

    # -- Logs Insights -------------------------------------------------------------------------------

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
            group = self.store.group(ctx.account_id, ctx.region, name)
            if group is None:
                raise not_found(f"Log group '{name}' does not exist for account ID '{ctx.account_id}'.")
            groups.append(group)
        results, statistics = self._run_query(
            query, groups, start * 1000, end * 1000 + 999, params.get("limit")
        )
        query_id = str(uuid.uuid4())
        self.store.save_query(
            query_id,
            ctx.account_id,
            ctx.region,
            params["queryString"],
            names,
            self.now_ms(),
            "Complete",
            results,
            statistics,
        )
        return {"queryId": query_id}

    def _run_query(
        self, query: insights.Query, groups: list[LogGroup], low: int, high: int, limit: int | None
    ) -> tuple[list[Any], dict[str, float]]:
        now = self.now_ms()

        def records():
            for group in groups:
                for event in self.store.group_scan(
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
        row = self.store.query(ctx.account_id, ctx.region, params["queryId"])
        if row is None:
            raise not_found(f"Query does not exist: {params['queryId']}")
        return {"results": json.loads(row[5]), "statistics": json.loads(row[6]), "status": row[4]}

    def stop_query(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self.store.query(ctx.account_id, ctx.region, params["queryId"])
        if row is None:
            raise not_found(f"Query does not exist: {params['queryId']}")
        return {"success": False}  # queries complete as they start: nothing left to stop

    def describe_queries(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("maxResults") or 1000
        token = decode_token(params.get("nextToken"))
        rows = self.store.queries(
            ctx.account_id,
            ctx.region,
            params.get("status"),
            (int(token[0]), str(token[1])) if token else None,
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
            result["nextToken"] = encode_token(rows[limit - 1][3], rows[limit - 1][0])
        return result

    def get_log_record(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """A query result's @ptr back to the whole event, with the fields Insights discovers in it."""
        try:
            group_id, event_id = map(int, base64.b64decode(params["logRecordPointer"]).decode().split(":"))
        except ValueError:
            raise invalid("The specified logRecordPointer is invalid.") from None
        group = self.store.group_by_id(group_id)
        event = self.store.event(group_id, event_id) if group and group.account == ctx.account_id else None
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
        group = self._group(ctx, params)
        at = params.get("time")
        high = at * 1000 if at is not None else self.now_ms()  # `time` is epoch seconds
        low = max(high - 15 * 60_000, group.retention_cutoff(self.now_ms()))
        counts: dict[str, int] = {}
        total = 0
        for event in itertools.islice(
            self.store.group_scan(group.id, low, high + 1, None, None), FIELDS_SAMPLE
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

    # -- resource policies ---------------------------------------------------------------------------

    def put_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, arn = params.get("policyName") or "", params.get("resourceArn") or ""
        document = params.get("policyDocument")
        if not document or not (name or arn):
            raise invalid("policyName and policyDocument are required.")
        try:
            json.loads(document)
        except ValueError:
            raise invalid("Invalid policy document: not valid JSON.") from None
        if arn:
            self._group_by_arn(ctx, arn)
        existing = {row[0] for row in self.store.resource_policies(ctx.account_id, ctx.region, arn)}
        if not arn and name not in existing and len(existing) >= MAX_RESOURCE_POLICIES:
            raise ServiceError("LimitExceededException", "Resource limit exceeded.")
        revision, now = str(uuid.uuid4()), self.now_ms()
        self.store.put_resource_policy(ctx.account_id, ctx.region, name, arn, document, now, revision)
        return {"resourcePolicy": describe_policy(name, arn, document, now, revision), "revisionId": revision}

    def describe_resource_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params.get("resourceArn") or ""
        rows = self.store.resource_policies(ctx.account_id, ctx.region, arn)
        return {"resourcePolicies": [describe_policy(name, arn, *rest) for name, *rest in rows]}

    def delete_resource_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, arn = params.get("policyName") or "", params.get("resourceArn") or ""
        if not self.store.delete_resource_policy(ctx.account_id, ctx.region, name, arn):
            raise not_found("Policy with name [" + name + "] does not exist")
        return {}

    # -- retention worker ----------------------------------------------------------------------------

    async def _expire_forever(self) -> None:
        """Delete events older than their group's retention, whenever the clock moves and every minute."""
        while True:
            try:
                while self._expire_some():
                    await asyncio.sleep(0)
            except Exception:  # a failed sweep must not end the worker
                log.exception("log retention sweep failed")
            await self.clock.wait_for_change(60)

    def _expire_some(self) -> bool:
        """One batch per group with a retention policy; True while there is more to delete."""
        more = False
        now = self.now_ms()
        with self.db.transaction():
            for group in self.store.groups_with_retention():
                more |= self.store.expire_events(group, group.retention_cutoff(now)) > 0
        return more

    def _wake_expiry(self) -> None:
        """A new retention policy takes effect now, not at the next minute."""
        self.platform.spawn(self._expire_once())

    async def _expire_once(self) -> None:
        while self._expire_some():
            await asyncio.sleep(0)


# -- helpers ----------------------------------------------------------------------------------------


def group_name(identifier: str | None) -> str | None:
    """A log group name from a name or an ARN (arn:aws:logs:<region>:<account>:log-group:<name>[:*])."""
    if not identifier or not identifier.startswith("arn:"):
        return identifier
    name = identifier.split(":log-group:", 1)[-1]
    return name[:-2] if name.endswith(":*") else name


def check_name(name: str, member: str, pattern: re.Pattern[str]) -> None:
    if not pattern.fullmatch(name):
        raise invalid(
            f"1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {pattern.pattern}"
        )


def check_tags(tags: dict[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise invalid(f"A resource can have no more than {MAX_TAGS} tags.")
    for key in tags:
        if key.lower().startswith("aws:"):
            raise invalid("Tag keys beginning with 'aws:' are reserved.")


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


def describe_policy(name: str, arn: str, document: str, updated: int, revision: str) -> dict[str, Any]:
    described: dict[str, Any] = {
        "policyDocument": document,
        "lastUpdatedTime": updated,
        "revisionId": revision,
        "policyScope": "RESOURCE" if arn else "ACCOUNT",
    }
    if name:
        described["policyName"] = name
    if arn:
        described["resourceArn"] = arn
    return described


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


def filtered_event(event: Event) -> dict[str, Any]:
    return {
        "logStreamName": event.stream,
        "timestamp": event.timestamp,
        "message": event.message,
        "ingestionTime": event.ingestion,
        "eventId": f"{event.id:056d}",
    }


def describe_metric_filter(row: tuple[str, str, str, str, int]) -> dict[str, Any]:
    group, name, pattern, transformations, created = row
    return {
        "filterName": name,
        "filterPattern": pattern,
        "metricTransformations": json.loads(transformations),
        "creationTime": created,
        "logGroupName": group,
    }


def pattern_matcher(pattern: str | None):
    try:
        return compile_pattern(pattern)
    except PatternError as error:
        raise invalid(f"Invalid filter pattern: {error}") from None
