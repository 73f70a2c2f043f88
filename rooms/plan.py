"""When a room is free (issue 13, point 8): plain data in, plain data out.

No models and no database, so the rules (nights between check-in and
check-out, hours within the room's hours, the cleaning buffer, notice and
horizon, DST days) are tested on their own, and the calendar page and the
booking service decide the same way. The database re-checks every booking
when it is written (migration 0002): a time shown free here may be taken a
moment later.

Local wall-clock times (check-in 15:00, the room's 08:00–22:00) are turned
into aware datetimes of the cooperative's zone and compared in UTC: aware
datetimes that share a tzinfo compare by wall time and ignore `fold`."""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

Interval = tuple[datetime.datetime, datetime.datetime]

_UTC = datetime.UTC
_ONE_DAY = datetime.timedelta(days=1)


class Refused(ValueError):
    """A stay or hours that cannot be booked; `code` says why (the caller
    words the message)."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Rules:
    """What plan needs to know of a room (rooms.models.Room)."""

    by_night: bool
    check_in: datetime.time
    check_out: datetime.time
    opens: datetime.time
    closes: datetime.time
    cleaning: datetime.timedelta
    min_units: int
    max_units: int
    notice: datetime.timedelta
    horizon: datetime.timedelta
    zone: ZoneInfo


@dataclass(frozen=True)
class Span:
    """A stay or hours asked for: [starts, ends) and what the room is kept
    free for ([starts, busy_until)), in UTC; units are nights or hours."""

    starts: datetime.datetime
    ends: datetime.datetime
    busy_until: datetime.datetime
    units: int


def at(day: datetime.date, time: datetime.time, zone: ZoneInfo) -> datetime.datetime:
    """The instant of a local wall-clock time, in UTC."""
    return datetime.datetime.combine(day, time, tzinfo=zone).astimezone(_UTC)


def _overlaps(start: datetime.datetime, until: datetime.datetime, busy: Iterable[Interval]):
    return any(other_start < until and start < other_until for other_start, other_until in busy)


def stay(rules: Rules, arrival: datetime.date, departure: datetime.date) -> Span:
    """A guest apartment from check-in on `arrival` to check-out on
    `departure`; Refused when the dates are not a stay the room allows."""
    nights = (departure - arrival).days
    if nights < 1:
        raise Refused("departure_first")
    if nights < rules.min_units:
        raise Refused("too_short", least=rules.min_units)
    if nights > rules.max_units:
        raise Refused("too_long", most=rules.max_units)
    starts = at(arrival, rules.check_in, rules.zone)
    ends = at(departure, rules.check_out, rules.zone)
    return Span(starts, ends, ends + rules.cleaning, nights)


def hours(rules: Rules, day: datetime.date, start: datetime.time, end: datetime.time) -> Span:
    """A common room on `day` from `start` to `end` (whole hours within
    the room's hours); Refused otherwise."""
    if start.minute or start.second or end.minute or end.second:
        raise Refused("whole_hours")
    if end <= start:
        raise Refused("end_first")
    if start < rules.opens or end > rules.closes:
        raise Refused("outside_hours", opens=rules.opens, closes=rules.closes)
    count = end.hour - start.hour
    if count < rules.min_units:
        raise Refused("too_short", least=rules.min_units)
    if count > rules.max_units:
        raise Refused("too_long", most=rules.max_units)
    starts = at(day, start, rules.zone)
    ends = at(day, end, rules.zone)
    return Span(starts, ends, ends + rules.cleaning, count)


def bookable(rules: Rules, span: Span, busy: Iterable[Interval], now: datetime.datetime) -> None:
    """Refused unless `span` lies within notice and horizon and its busy
    time overlaps none of `busy` (other bookings, cleaning included)."""
    if span.starts < now + rules.notice:
        raise Refused("notice" if span.starts >= now else "past")
    if span.starts > now + rules.horizon:
        raise Refused("horizon")
    if _overlaps(span.starts, span.busy_until, busy):
        raise Refused("taken")


@dataclass(frozen=True)
class Day:
    """One day of the availability calendar.

    state: "free" (a guest apartment: a stay can begin this day; a common
    room: every hour free), "partly" (a common room with some hours free),
    "taken" (nothing can begin), "closed" (past, within the notice, or
    beyond the horizon). `free` lists a common room's free hours as
    (start, end) local times, consecutive hours joined."""

    date: datetime.date
    state: str
    free: tuple[tuple[datetime.time, datetime.time], ...] = ()


def _in_window(rules: Rules, starts: datetime.datetime, now: datetime.datetime) -> bool:
    return now + rules.notice <= starts <= now + rules.horizon


def day_plan(
    rules: Rules, day: datetime.date, busy: Sequence[Interval], now: datetime.datetime
) -> Day:
    if rules.by_night:
        starts = at(day, rules.check_in, rules.zone)
        if not _in_window(rules, starts, now):
            return Day(day, "closed")
        # The shortest stay the room allows must fit from this day on.
        until = at(day + rules.min_units * _ONE_DAY, rules.check_out, rules.zone) + rules.cleaning
        return Day(day, "taken" if _overlaps(starts, until, busy) else "free")
    free: list[tuple[datetime.time, datetime.time]] = []
    offered = taken = 0
    # Every whole hour at which the shortest booking fits within the hours.
    for hour in range(rules.opens.hour + bool(rules.opens.minute), rules.closes.hour + 1):
        start, end = (
            datetime.time(hour),
            datetime.time(hour + rules.min_units) if (hour + rules.min_units < 24) else None,
        )
        if end is None or end > rules.closes:
            break
        starts = at(day, start, rules.zone)
        if not _in_window(rules, starts, now):
            continue
        offered += 1
        if _overlaps(starts, at(day, end, rules.zone) + rules.cleaning, busy):
            taken += 1
        elif free and free[-1][1] >= start:
            free[-1] = (free[-1][0], end)
        else:
            free.append((start, end))
    if not offered:
        return Day(day, "closed")
    if not free:
        return Day(day, "taken")
    return Day(day, "partly" if taken else "free", tuple(free))


def month_plan(
    rules: Rules, year: int, month: int, busy: Sequence[Interval], now: datetime.datetime
) -> list[list[Day | None]]:
    """The month as weeks Monday to Sunday (None outside the month)."""
    weeks: list[list[Day | None]] = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append([day_plan(rules, d, busy, now) if d.month == month else None for d in week])
    return weeks
