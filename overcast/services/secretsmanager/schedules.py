"""Rotation schedules: `AutomaticallyAfterDays`, `rate(N days|hours)` and `cron(min hour day month weekday
year)` (AWS's six-field form, `?` for "any"), and when the next rotation is due. Pure logic.

A cron schedule is searched day by day (at most a few years ahead), then for its first hour and minute of
that day after the starting moment: exact, and cheap enough for an operation run once per rotation.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

_RATE = re.compile(r"^rate\((\d+) (hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_DURATION = re.compile(r"^(\d+)h$")
_MONTHS = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
_DAYS = {d: i + 1 for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}
_SEARCH_DAYS = 366 * 5


class ScheduleError(ValueError):
    """A schedule Secrets Manager would refuse; the message is its text."""


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int] | None:
    """The values a cron field allows (None: any)."""
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _value(first, names), _value(last, names)
        else:
            start = _value(part, names)
            end = high if "/" in text else start
        if not low <= start <= high or not low <= end <= high or step < 1:
            raise ScheduleError("Invalid cron expression")
        values.update(range(start, end + 1, step))
    return values


def _value(text: str, names: dict[str, int] | None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ScheduleError("Invalid cron expression")
    return int(text)


class Cron:
    def __init__(self, expression: str) -> None:
        fields = expression.split()
        if len(fields) != 6:
            raise ScheduleError("Invalid cron expression")
        try:
            self.minutes = _field(fields[0], 0, 59)
            self.hours = _field(fields[1], 0, 23)
            self.days = _field(fields[2], 1, 31)
            self.months = _field(fields[3], 1, 12, _MONTHS)
            self.weekdays = _field(fields[4], 1, 7, _DAYS)
            self.years = _field(fields[5], 1970, 2199)
        except ValueError as error:
            raise ScheduleError(str(error) or "Invalid cron expression") from None

    def _day_matches(self, day: datetime) -> bool:
        weekday = (day.isoweekday() % 7) + 1  # AWS: 1 = Sunday
        return (
            (self.years is None or day.year in self.years)
            and (self.months is None or day.month in self.months)
            and (self.days is None or day.day in self.days)
            and (self.weekdays is None or weekday in self.weekdays)
        )

    def next_after(self, moment: float) -> float | None:
        start = datetime.fromtimestamp(moment, UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        hours = sorted(self.hours) if self.hours is not None else list(range(24))
        minutes = sorted(self.minutes) if self.minutes is not None else list(range(60))
        for _ in range(_SEARCH_DAYS):
            if self._day_matches(day):
                for hour in hours:
                    for minute in minutes:
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate.timestamp()
            day += timedelta(days=1)
        return None


def check_rules(rules: dict[str, Any]) -> None:
    """RotateSecret's checks of RotationRules, with Secrets Manager's InvalidParameterException texts."""
    after_days = rules.get("AutomaticallyAfterDays")
    expression = rules.get("ScheduleExpression")
    if after_days is not None and expression:
        raise ScheduleError("You can't specify both AutomaticallyAfterDays and ScheduleExpression.")
    if after_days is not None and not 1 <= after_days <= 1000:
        raise ScheduleError("AutomaticallyAfterDays must be between 1 and 1000.")
    if expression:
        rate = _RATE.match(expression)
        if rate:
            count, unit = int(rate.group(1)), rate.group(2)
            if unit.startswith("hour") and not 4 <= count <= 24 * 1000:
                raise ScheduleError("The rotation schedule rate must be at least 4 hours.")
            if unit.startswith("day") and not 1 <= count <= 1000:
                raise ScheduleError("The rotation schedule rate must be between 1 and 1000 days.")
        elif _CRON.match(expression):
            Cron(_CRON.match(expression).group(1))  # type: ignore[union-attr]
        else:
            raise ScheduleError("Invalid ScheduleExpression format.")
    duration = rules.get("Duration")
    if duration:
        found = _DURATION.match(duration)
        if not found or not 1 <= int(found.group(1)) <= 24:
            raise ScheduleError("Duration must be between 1h and 24h.")


def next_rotation(rules: dict[str, Any], after: float) -> float | None:
    """When a secret rotated (or made rotatable) at `after` is next due to rotate."""
    if rules.get("AutomaticallyAfterDays"):
        return after + rules["AutomaticallyAfterDays"] * 86400.0
    expression = rules.get("ScheduleExpression") or ""
    rate = _RATE.match(expression)
    if rate:
        seconds = 3600.0 if rate.group(2).startswith("hour") else 86400.0
        return after + int(rate.group(1)) * seconds
    cron = _CRON.match(expression)
    if cron:
        return Cron(cron.group(1)).next_after(after)
    return None
