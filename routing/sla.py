"""SLA deadlines in the office's working time, and the pause while the
office waits for the member. The calendar comes from the cooperative:
opening hours per weekday, public holidays of its federal state, closing
days and optional half days on 24 and 31 December."""

import datetime

from django.conf import settings

from cooperative.models import Cooperative
from routing.worktime import WorkCalendar, calendar_default

SLA_FIELDS = ("first_response_due_at", "first_response_warn_at", "due_at", "warn_at")


def calendar_current() -> WorkCalendar:
    cooperative = Cooperative.objects.current()
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


def targets(*, policy, start: datetime.datetime, calendar: WorkCalendar) -> dict:
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
    ticket, *, paused_at: datetime.datetime, now: datetime.datetime, calendar: WorkCalendar
) -> list[str]:
    """After a pause: every SLA moment still ahead moves on by the working
    time the pause took. Returns the changed field names."""
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
