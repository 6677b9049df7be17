"""Schedule expressions of scheduled rules: `rate(value unit)` and AWS's six-field `cron(...)`, and when each
fires next.

cron fields: minutes hours day-of-month month day-of-week year, in UTC. Day-of-month and day-of-week cannot both
be given: one of them is `?`. Wildcards: `,` `-` `*` `/` everywhere; `L` (last day of the month, or the last
<weekday> as `5L`), `W` (nearest weekday, `15W`, `LW`) in day-of-month; `#` (`3#2`: the second Tuesday) in
day-of-week, where 1 is Sunday and names SUN-SAT are accepted; months 1-12 or JAN-DEC; years 1970-2199.
A rate fires every `value` units, counted from the moment the rule was scheduled.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name: i for i, name in enumerate(calendar.month_abbr) if name}
_MONTHS = {name.upper(): number for name, number in _MONTHS.items()}
_DAYS = {name: i + 1 for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
_SEARCH_DAYS = 366 * 8  # how far ahead a cron expression is searched for its next day


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class Rate:
    seconds: int

    def next_after(self, moment: float, anchor: float) -> float:
        """The first firing after `moment` of a rate counted from `anchor`."""
        if moment < anchor:
            return anchor
        elapsed = int((moment - anchor) // self.seconds) + 1
        return anchor + elapsed * self.seconds


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    day_of_month: str  # the field's text: checked per month (L, W depend on it)
    months: frozenset[int]
    day_of_week: str
    years: frozenset[int] | None
    zone: tzinfo = UTC  # the time zone the fields are read in (EventBridge rules: UTC; Scheduler: any)

    def next_after(self, moment: float, anchor: float = 0.0) -> float | None:
        """The first firing strictly after `moment` (None if the expression never fires again)."""
        local = datetime.fromtimestamp(moment, self.zone).replace(second=0, microsecond=0, tzinfo=None)
        start = local + timedelta(minutes=1)
        day = start.date()
        for _ in range(_SEARCH_DAYS):
            if (self.years is None or day.year in self.years) and day.month in self.months and self._day(day):
                first_minute = start.hour * 60 + start.minute if day == start.date() else 0
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        if hour * 60 + minute >= first_minute:
                            found = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
                            if found.timestamp() > moment:  # (a wall time repeated by a DST change)
                                return found.timestamp()
            day += timedelta(days=1)
            if self.years is not None and day.year > max(self.years):
                return None
        return None

    def _day(self, day) -> bool:
        if self.day_of_month != "?":
            return _day_of_month_matches(self.day_of_month, day)
        return _day_of_week_matches(self.day_of_week, day)


@dataclass(frozen=True)
class At:
    """EventBridge Scheduler's one-time `at(yyyy-mm-ddThh:mm:ss)`, in its time zone."""

    moment: float

    def next_after(self, moment: float, anchor: float = 0.0) -> float | None:
        return self.moment if self.moment > moment else None


Schedule = Rate | Cron | At
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")


def parse_scheduler(expression: str, zone_name: str | None = None) -> Schedule:
    """A Scheduler expression: `at()`, `rate()` or `cron()`, read in the IANA time zone `zone_name` (UTC by
    default); ScheduleError for an expression or a zone Scheduler refuses."""
    try:
        zone: tzinfo = ZoneInfo(zone_name) if zone_name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(zone_name or "") from None
    at = _AT.match(expression)
    if at:
        try:
            local = datetime.strptime(at.group(1), "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            raise ScheduleError(expression) from None
        return At(local.replace(tzinfo=zone).timestamp())
    schedule = parse(expression)
    if isinstance(schedule, Cron):
        schedule = replace(schedule, zone=zone)
    return schedule


def parse(expression: str) -> Schedule:
    """The schedule of `rate(...)` or `cron(...)`; ScheduleError if AWS would refuse it."""
    rate = _RATE.match(expression)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1 or (value == 1) != (not unit.endswith("s")):
            raise ScheduleError(expression)
        return Rate(value * _UNIT_SECONDS[unit.rstrip("s")])
    cron = _CRON.match(expression)
    if not cron:
        raise ScheduleError(expression)
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise ScheduleError(expression)
    minutes, hours, day_of_month, months, day_of_week, years = fields
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ScheduleError(expression)  # exactly one of the two day fields is '?'
    try:
        schedule = Cron(
            frozenset(_values(minutes, 0, 59)),
            frozenset(_values(hours, 0, 23)),
            _check_day_of_month(day_of_month),
            frozenset(_values(months, 1, 12, _MONTHS)),
            _check_day_of_week(day_of_week),
            None if years == "*" else frozenset(_values(years, 1970, 2199)),
        )
    except (ValueError, KeyError):
        raise ScheduleError(expression) from None
    return schedule


def _number(text: str, names: dict[str, int] | None = None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ValueError(text)
    return int(text)


def _values(field: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    """The numbers a cron field (`*`, `a,b`, `a-b`, `*/n`, `a/n`, `a-b/n`) selects within [low, high]."""
    found: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(part)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            first, last = _number(a, names), _number(b, names)
        else:
            first = _number(base, names)
            last = high if step_text else first
        if not (low <= first <= high and low <= last <= high):
            raise ValueError(part)
        if first <= last:
            found.update(range(first, last + 1, step))
        else:  # a range across the wrap-around (FRI-MON, NOV-FEB)
            span = high - low + 1
            found.update(low + (v - low) % span for v in range(first, last + span + 1, step))
    if not found:
        raise ValueError(field)
    return found


def _check_day_of_month(field: str) -> str:
    if field == "?":
        return field
    for part in field.split(","):
        if part in ("L", "LW"):
            continue
        if part.endswith("W"):
            if not 1 <= _number(part[:-1]) <= 31:
                raise ValueError(part)
            continue
        _values(part, 1, 31)
    return field


def _check_day_of_week(field: str) -> str:
    if field == "?":
        return field
    for part in field.split(","):
        if "#" in part:
            day, nth = part.split("#", 1)
            if not (1 <= _number(day, _DAYS) <= 7 and 1 <= int(nth) <= 5):
                raise ValueError(part)
        elif part.endswith("L") and part != "L":
            if not 1 <= _number(part[:-1], _DAYS) <= 7:
                raise ValueError(part)
        elif part != "L":
            _values(part, 1, 7, _DAYS)
    return field


def _weekday(day) -> int:
    """1 (Sunday) to 7 (Saturday), as cron counts."""
    return (day.weekday() + 1) % 7 + 1


def _day_of_month_matches(field: str, day) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    for part in field.split(","):
        if part == "L":
            if day.day == last:
                return True
        elif part.endswith("W"):
            target = last if part == "LW" else min(int(part[:-1]), last)
            if day.day == _nearest_weekday(day.year, day.month, target, last):
                return True
        elif day.day in _values(part, 1, 31):
            return True
    return False


def _nearest_weekday(year: int, month: int, target: int, last: int) -> int:
    weekday = calendar.weekday(year, month, target)  # Monday 0 .. Sunday 6
    if weekday == 5:  # Saturday: the Friday before, or the Monday after the 1st
        return target - 1 if target > 1 else target + 2
    if weekday == 6:  # Sunday: the Monday after, or the Friday before the month's last day
        return target + 1 if target < last else target - 2
    return target


def _day_of_week_matches(field: str, day) -> bool:
    weekday = _weekday(day)
    last = calendar.monthrange(day.year, day.month)[1]
    for part in field.split(","):
        if "#" in part:
            name, nth = part.split("#", 1)
            if weekday == _number(name, _DAYS) and (day.day - 1) // 7 + 1 == int(nth):
                return True
        elif part == "L":
            if weekday == 7:
                return True
        elif part.endswith("L"):
            if weekday == _number(part[:-1], _DAYS) and day.day + 7 > last:
                return True
        elif weekday in _values(part, 1, 7, _DAYS):
            return True
    return False
