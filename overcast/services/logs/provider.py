"""The CloudWatch Logs provider: its operation families, its hooks, and the lookups they share."""

from __future__ import annotations

from typing import Any

from overcast.context import RequestContext
from overcast.services.base import ServiceProvider
from overcast.services.kit.arns import parse_arn
from overcast.services.logs import exports
from overcast.services.logs.common import group_name, invalid, not_found
from overcast.services.logs.destinations import DestinationOperations
from overcast.services.logs.events import EventOperations
from overcast.services.logs.exports import ExportTaskOperations
from overcast.services.logs.groups import GroupOperations
from overcast.services.logs.metric_filters import MetricFilterOperations
from overcast.services.logs.policies import ResourcePolicyOperations
from overcast.services.logs.queries import InsightsOperations
from overcast.services.logs.query_definitions import QueryDefinitionOperations
from overcast.services.logs.store import LogGroup, LogsStore, LogStream
from overcast.services.logs.streams import StreamOperations
from overcast.services.logs.subscriptions import SubscriptionOperations
from overcast.services.logs.tagging import TagOperations
from overcast.services.logs.workers import RetentionWorker

END_OF_TIME = 10**15


class LogsProvider(ServiceProvider):
    service_name = "logs"
    families = (
        GroupOperations,
        TagOperations,
        StreamOperations,
        EventOperations,
        MetricFilterOperations,
        SubscriptionOperations,
        InsightsOperations,
        ResourcePolicyOperations,
        QueryDefinitionOperations,
        DestinationOperations,
        ExportTaskOperations,
    )

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = LogsStore(self.db)
        self.retention = RetentionWorker(self)

    async def start(self) -> None:
        self.platform.spawn(self.retention.run())
        self.platform.spawn(exports.resume(self))

    def tagging_request(self, arn: str, add=None, remove=None) -> tuple[str, dict[str, Any]] | None:
        """TagResource / UntagResource of a log group."""
        if add is not None:
            return "TagResource", {"resourceArn": arn, "tags": dict(add)}
        return "UntagResource", {"resourceArn": arn, "tagKeys": list(remove or ())}

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        """The resource a request acts on, for authorization."""
        group = params.get("logGroupName")
        if not group:
            return params.get("resourceArn")
        stream = params.get("logStreamName")
        suffix = f":log-stream:{stream}" if stream else ":*"
        return ctx.arn("logs", f"log-group:{group}{suffix}")

    # -- what the families share ---------------------------------------------------------------------

    def now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    def group(self, ctx: RequestContext, params: dict[str, Any]) -> LogGroup:
        """The group a request names by logGroupIdentifier (a name or an ARN) or logGroupName."""
        name = group_name(params.get("logGroupIdentifier") or params.get("logGroupName"))
        if not name:
            raise invalid("Either logGroupName or logGroupIdentifier must be specified.")
        found = self.store.group(ctx.account_id, ctx.region, name)
        if found is None:
            raise not_found("The specified log group does not exist.")
        return found

    def stream(self, group: LogGroup, name: str) -> LogStream:
        found = self.store.stream(group.id, name)
        if found is None:
            raise not_found("The specified log stream does not exist.")
        return found

    def group_by_arn(self, ctx: RequestContext, arn: str) -> LogGroup:
        """The caller's log group an ARN names (arn:aws:logs:<region>:<account>:log-group:<name>[:*])."""
        parsed = parse_arn(arn)
        if parsed is None or parsed.service != "logs" or parsed.resource_type != "log-group":
            raise invalid(f"Invalid resource arn: {arn}")
        group = self.store.group(parsed.account, parsed.region, parsed.resource_id.removesuffix(":*"))
        if group is None or parsed.account != ctx.account_id:
            raise not_found(f"The specified resource does not exist: {arn}")
        return group

    def time_range(self, group: LogGroup, params: dict[str, Any]) -> tuple[int, int]:
        """[low, high) of the timestamps a read may return: the caller's range within the retention period."""
        low = max(params.get("startTime") or 0, group.retention_cutoff(self.now_ms()))
        end = params.get("endTime")
        return low, END_OF_TIME if end is None else end
