"""SLA deadlines in the office's working time or around the clock, and the
pause while the office waits for the member. The working-time calendar
comes from the cooperative: opening hours per weekday, public holidays of
its federal state, closing days and optional half days on 24 and 31
December. A policy whose clock is "calendar" (emergencies) counts plain
hours and days instead (CalendarClock); the ticket's policy decides which
clock its deadlines and their pauses run on (calendar_for)."""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings

from cooperative.cache import cooperative_current
from core.request_cache import request_cached
from routing.models import Clock
from routing.worktime import WorkCalendar, calendar_default

SLA_FIELDS = ("first_response_due_at", "first_response_warn_at", "due_at", "warn_at")
_ZERO = datetime.timedelta(0)


def calendar_current() -> WorkCalendar:
    """The office's working time; read once per web request or batch of
    the mail intake (WorkCalendar is frozen)."""
    return request_cached("work_calendar", _calendar_read)


def _calendar_read() -> WorkCalendar:
    cooperative = cooperative_current()
    state = cooperative.federal_state
    if cooperative.pk is None:
        return calendar_default(state=state)
    hours: dict[int, list] = {}
    for slot in cooperative.opening_hours.order_by("weekday", "opens"):
        hours.setdefault(slot.weekday, []).append((slot.opens, slot.closes))
    if not hours:
        return calendar_default(state=state)
    half = cooperative.half_days_close_at
    return WorkCalendar(
        hours=hours,
        state=state,
        tz=settings.TIME_ZONE,
        closed_days=frozenset(cooperative.closing_days.values_list("date", flat=True)),
        short_days={(12, 24): half, (12, 31): half} if half else {},
    )


@dataclass(frozen=True)
class CalendarClock:
    """Around the clock: every hour counts, nights, weekends and holidays
    too. The same three operations as WorkCalendar, so targets() and
    moved_on() work with either. Pure: no database.

    Hours are real elapsed time (a first response "within 1 hour" is one
    hour after the request even across a DST switch); days are calendar
    days in the cooperative's time zone (filed Saturday 23:40, "1 day" is
    Sunday 23:40 on the wall clock, though that day may have 23 or 25
    hours)."""

    tz: str = "Europe/Berlin"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def add(self, *, start: datetime.datetime, duration: datetime.timedelta):
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("start must be a timezone-aware datetime")
        if duration < datetime.timedelta(0):
            raise ValueError("duration must not be negative")
        # Arithmetic in UTC: aware datetimes in one zone add wall time.
        return (start.astimezone(datetime.UTC) + duration).astimezone(self.zone)

    def elapsed(self, *, start: datetime.datetime, end: datetime.datetime):
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware datetimes")
        return max(end.astimezone(datetime.UTC) - start.astimezone(datetime.UTC), _ZERO)

    def add_working_days(self, *, start: datetime.datetime, days: int):
        """`days` calendar days later at the same wall-clock time (every day
        is a working day around the clock)."""
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("start must be a timezone-aware datetime")
        if days < 1:
            raise ValueError("days must be at least 1")
        local = start.astimezone(self.zone)
        later = datetime.datetime.combine(
            local.date() + datetime.timedelta(days=days), local.time(), tzinfo=self.zone
        )
        # A wall time in the spring gap (02:30 on the switch day) does not
        # exist: the round trip through UTC moves it on by the hour skipped.
        return later.astimezone(datetime.UTC).astimezone(self.zone)


def calendar_for(policy) -> "WorkCalendar | CalendarClock":
    """The clock a policy's deadlines run on: around the clock for a policy
    with clock CALENDAR, else the office's working time. No policy: working
    time (nothing is counted then anyway)."""
    if policy is not None and policy.clock == Clock.CALENDAR:
        return CalendarClock(tz=settings.TIME_ZONE)
    return calendar_current()


def targets(*, policy, start: datetime.datetime, calendar: "WorkCalendar | CalendarClock") -> dict:
    """The four SLA moments of a ticket received at `start`."""
    first = datetime.timedelta(hours=policy.first_response_hours)
    due = calendar.add_working_days(start=start, days=policy.resolution_days)
    share = policy.warn_percent / 100
    return {
        "first_response_due_at": calendar.add(start=start, duration=first),
        "first_response_warn_at": calendar.add(start=start, duration=first * share),
        "due_at": due,
        "warn_at": calendar.add(
            start=start, duration=calendar.elapsed(start=start, end=due) * share
        ),
    }


def moved_on(
    ticket,
    *,
    paused_at: datetime.datetime,
    now: datetime.datetime,
    calendar: "WorkCalendar | CalendarClock",
) -> list[str]:
    """After a pause: every SLA moment still ahead moves on by the time the
    pause took on the ticket's clock (working time, or every hour around
    the clock: calendar_for(ticket's policy)). Returns the changed field
    names."""
    paused = calendar.elapsed(start=paused_at, end=now)
    changed = []
    if not paused:
        return changed
    for name in SLA_FIELDS:
        moment = getattr(ticket, name)
        if moment is not None and moment > paused_at:
            setattr(ticket, name, calendar.add(start=moment, duration=paused))
            changed.append(name)
    return changed
