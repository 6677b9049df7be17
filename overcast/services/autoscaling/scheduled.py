"""Scheduled actions: set a group's min, max and desired capacity at a time (StartTime) or on a recurrence
(a five-field cron expression, UTC or the action's TimeZone), between StartTime and EndTime, on the virtual
clock. The worker applies those that fell due."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from overcast.context import RequestContext
from overcast.errors import ServiceError
from overcast.services.autoscaling.store import GROUP
from overcast.services.base import Operations

if TYPE_CHECKING:
    from overcast.services.autoscaling.provider import AutoScalingProvider

SCHEDULED = "scheduled"
FIELDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))  # minute hour day-of-month month day-of-week
SEARCH_LIMIT = 366 * 24 * 60  # minutes searched for a recurrence's next time


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationError", message)


def _field(text: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step = part.partition("/")
        if body == "*":
            start, end = low, high
        elif "-" in body:
            start, end = (int(x) for x in body.split("-", 1))
        else:
            start = end = int(body)
        if not (low <= start <= high and low <= end <= high + (1 if (low, high) == (0, 6) else 0)):
            raise ValueError(part)
        values.update(range(start, end + 1, int(step) if step else 1))
    return {7 % 7 if v == 7 else v for v in values} if (low, high) == (0, 6) else values


def parse_cron(expression: str) -> list[set[int]]:
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError(expression)
    return [_field(part, low, high) for part, (low, high) in zip(parts, FIELDS, strict=True)]


def next_time(expression: str, after: float, zone: str | None) -> float | None:
    """The first minute after `after` (epoch seconds) that the cron expression names, in the zone given."""
    minutes, hours, days, months, weekdays = parse_cron(expression)
    tz = ZoneInfo(zone) if zone else UTC
    moment = datetime.fromtimestamp(after, tz).replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(SEARCH_LIMIT):
        if (moment.minute in minutes and moment.hour in hours and moment.day in days and moment.month in months
                and (moment.weekday() + 1) % 7 in weekdays):  # fmt: skip
            return moment.timestamp()
        moment += timedelta(minutes=1)
    return None


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def _iso(moment: float | None) -> str | None:
    return None if moment is None else datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ScheduledOperations(Operations):
    service: AutoScalingProvider

    def put_scheduled_update_group_action(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        group = self.service.group(ctx, params["AutoScalingGroupName"])
        if all(params.get(k) is None for k in ("MinSize", "MaxSize", "DesiredCapacity")):
            raise validation("At least one of MinSize, MaxSize or DesiredCapacity must be specified.")
        now = self.service.clock.now()
        start = _epoch(params.get("StartTime") or params.get("Time"))
        end = _epoch(params.get("EndTime"))
        recurrence = params.get("Recurrence")
        zone = params.get("TimeZone")
        try:
            if zone:
                ZoneInfo(zone)
            if recurrence:
                parse_cron(recurrence)
        except (ValueError, ZoneInfoNotFoundError):
            raise validation(f"Given recurrence schedule '{recurrence}' is invalid" if recurrence and not zone
                             else f"Invalid time zone or recurrence: {zone or recurrence}") from None  # fmt: skip
        if start is not None and start < now and not recurrence:
            raise validation("Given start time is in the past")
        if start is None and not recurrence:
            raise validation("Either StartTime or Recurrence must be specified")
        due = start if start is not None and (not recurrence or start > now) else None
        if recurrence:
            due = next_time(recurrence, max(now, start or now) - 60 if start and start > now else now, zone)
        name = params["ScheduledActionName"]
        action: dict[str, Any] = {
            "AutoScalingGroupName": group["AutoScalingGroupName"],
            "ScheduledActionName": name,
            "ScheduledActionARN": ctx.arn(
                "autoscaling",
                f"scheduledUpdateGroupAction:{uuid.uuid4()}:"
                f"autoScalingGroupName/{group['AutoScalingGroupName']}:"
                f"scheduledActionName/{name}",
            ),  # fmt: skip
            "_due": due,
            "_end": end,
        }
        for key in ("MinSize", "MaxSize", "DesiredCapacity", "Recurrence", "TimeZone"):
            if params.get(key) is not None:
                action[key] = params[key]
        shown = _iso(due) if not recurrence else _iso(start or due)
        if shown:
            action["StartTime"] = action["Time"] = shown
        if end is not None:
            action["EndTime"] = _iso(end)
        self.service.store.put(
            ctx.account_id, ctx.region, SCHEDULED, f"{group['AutoScalingGroupName']}/{name}", action
        )
        self.service.kick()
        return {}

    def describe_scheduled_actions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        actions = self.service.store.listing(ctx.account_id, ctx.region, SCHEDULED)
        if params.get("AutoScalingGroupName"):
            actions = [a for a in actions if a["AutoScalingGroupName"] == params["AutoScalingGroupName"]]
        if params.get("ScheduledActionNames"):
            actions = [a for a in actions if a["ScheduledActionName"] in params["ScheduledActionNames"]]
        return {"ScheduledUpdateGroupActions": [{k: v for k, v in a.items() if not k.startswith("_")}
                                                for a in actions]}  # fmt: skip

    def delete_scheduled_action(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        key = f"{params['AutoScalingGroupName']}/{params['ScheduledActionName']}"
        if self.service.store.get(ctx.account_id, ctx.region, SCHEDULED, key) is None:
            raise validation(f"Scheduled action name not found - The scheduled action "
                             f"{params['ScheduledActionName']} does not exist")  # fmt: skip
        self.service.store.delete(ctx.account_id, ctx.region, SCHEDULED, key)
        return {}

    def apply_due(self, account: str, region: str, group_name: str) -> bool:
        """Apply the group's scheduled actions that fell due (inside the caller's transaction); whether any did."""
        now = self.service.clock.now()
        applied = False
        for action in self.service.store.listing(account, region, SCHEDULED):
            if action["AutoScalingGroupName"] != group_name or action["_due"] is None or action["_due"] > now:
                continue
            group = self.service.store.get(account, region, GROUP, group_name)
            if group is None:
                return applied
            minimum = action.get("MinSize", group["MinSize"])
            maximum = action.get("MaxSize", group["MaxSize"])
            desired = action.get("DesiredCapacity", min(max(group["DesiredCapacity"], minimum), maximum))
            group.update(
                MinSize=minimum, MaxSize=maximum, DesiredCapacity=min(max(desired, minimum), maximum)
            )
            self.service.store.put(account, region, GROUP, group_name, group)
            self.service.scheduled_activity(account, region, group, action)
            key = f"{group_name}/{action['ScheduledActionName']}"
            if action.get("Recurrence"):
                following = next_time(action["Recurrence"], now, action.get("TimeZone"))
                within = following is not None and (action["_end"] is None or following <= action["_end"])
                action["_due"] = following if within else None
                self.service.store.put(account, region, SCHEDULED, key, action)
            else:
                self.service.store.delete(account, region, SCHEDULED, key)  # a one-time action is done
            applied = True
        return applied
