"""EventBridge Scheduler (botocore "scheduler"): schedules (one-time `at()`, `rate()`, `cron()` in any time zone,
start and end dates, flexible time windows) in schedule groups, invoking templated targets (Lambda, SQS, SNS,
Kinesis, Firehose, Step Functions, an event bus) and universal targets (any API through `Platform.call`), with
retries and a dead-letter queue. Served from the EventBridge package (it shares the schedule expressions), as
DynamoDB Streams is served from DynamoDB's; its tables are its own (namespace "scheduler").

Composition, hooks, and what the families and the worker share: when a schedule fires next.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.base import ServiceProvider
from overcast.services.events import schedules
from overcast.services.events.scheduler_ops import GroupOperations, ScheduleOperations, SchedulerTagOperations
from overcast.services.events.store import SchedulerStore

DEFAULT_GROUP = "default"


def epoch(value: Any) -> float | None:
    if value is None:
        return None
    return value.timestamp() if isinstance(value, datetime) else float(value)


def next_fire(config: dict[str, Any], anchor: float, after: float) -> float | None:
    """The schedule's first moment after `after`, within its start and end dates (None: it is over)."""
    schedule = schedules.parse_scheduler(
        config["ScheduleExpression"], config.get("ScheduleExpressionTimezone")
    )
    start, end = epoch(config.get("StartDate")), epoch(config.get("EndDate"))
    if start is not None and after < start and not isinstance(schedule, schedules.At):
        after = start - 1e-6  # the first moment at or after the start date
    moment = schedule.next_after(after, anchor)
    if moment is None or (end is not None and moment > end):
        return None
    return moment


class SchedulerProvider(ServiceProvider):
    service_name = "scheduler"
    families = (ScheduleOperations, GroupOperations, SchedulerTagOperations)

    def __init__(self, platform) -> None:
        super().__init__(platform)
        self.store = SchedulerStore(self.db)
        self.changed = asyncio.Event()

    async def start(self) -> None:
        from overcast.services.events import scheduler_workers

        self.platform.spawn(scheduler_workers.run_forever(self))

    def resource_arn(self, ctx: RequestContext, params: dict[str, Any]) -> str | None:
        if params.get("ResourceArn"):
            return params["ResourceArn"]
        if ctx.operation.endswith(("ScheduleGroup", "ScheduleGroups")):
            return ctx.arn("scheduler", f"schedule-group/{params.get('Name') or '*'}")
        if params.get("Name"):
            return ctx.arn(
                "scheduler", f"schedule/{params.get('GroupName') or DEFAULT_GROUP}/{params['Name']}"
            )
        return None

    def group_exists(self, ctx: RequestContext, name: str) -> bool:
        return name == DEFAULT_GROUP or self.store.group(ctx.account_id, ctx.region, name) is not None

    def require_schedule(self, ctx: RequestContext, params: dict[str, Any]) -> tuple:
        group = params.get("GroupName") or DEFAULT_GROUP
        if not self.group_exists(ctx, group):
            raise ServiceError("ResourceNotFoundException", f"Schedule group {group} does not exist.", 404)
        row = self.store.schedule(ctx.account_id, ctx.region, group, params["Name"])
        if row is None:
            raise ServiceError("ResourceNotFoundException", f"Schedule {params['Name']} does not exist.", 404)
        return row

    @staticmethod
    def config_of(row: tuple) -> dict[str, Any]:
        return json.loads(row[5])
