"""Working-time calendar for SLA deadlines (office hours, public holidays, closing days).

Pure Python: no database, no Django. All arithmetic happens in the calendar's time zone;
results are aware datetimes in that zone.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

Interval = tuple[datetime.datetime, datetime.datetime]

# A calendar without a single open interval in this many days is treated as broken, so that
# add() and add_working_days() cannot loop forever (e.g. empty hours, everything closed).
MAX_EMPTY_DAYS = 3 * 366

_UTC = datetime.UTC
_ONE_DAY = datetime.timedelta(days=1)


@lru_cache(maxsize=256)
def holiday_dates(state: str, year: int) -> frozenset[datetime.date]:
    """Public holidays of one German federal state in one year (cached, the lookup is slow).

    Public because appointment slots (appointments.slots) close on the same days as the
    office; one cache serves both. Raises NotImplementedError for an unknown state.
    """
    return frozenset(holidays.country_holidays("DE", subdiv=state, years=year))


# The name this module used before holiday_dates() was public.
_holiday_dates = holiday_dates


def _require_aware(value: datetime.datetime, name: str) -> None:
    # utcoffset() is None for naive datetimes and for tzinfos that cannot tell.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


@dataclass(frozen=True)
class WorkCalendar:
    """Office hours per weekday plus holidays of a federal state, closing days and short days."""

    # weekday (Mon=0) -> open intervals in local time, sorted and non-overlapping
    hours: Mapping[int, Sequence[tuple[datetime.time, datetime.time]]]
    # federal state code as the `holidays` package expects, e.g. "BE", "BB", "BY", "NW"
    state: str = "BE"
    tz: str = "Europe/Berlin"
    # company closing days (Betriebsferien, Brückentage)
    closed_days: frozenset[datetime.date] = frozenset()
    # (month, day) -> the office closes at this time; only on days that are working days anyway
    short_days: Mapping[tuple[int, int], datetime.time] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for weekday, spans in self.hours.items():
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0..6, got {weekday!r}")
            previous_end: datetime.time | None = None
            for opens, closes in spans:
                if opens >= closes:
                    raise ValueError(f"interval {opens}-{closes} on weekday {weekday} is empty")
                if previous_end is not None and opens < previous_end:
                    raise ValueError(f"intervals on weekday {weekday} overlap or are unsorted")
                previous_end = closes
        # Fail at construction rather than at the first deadline computation.
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.tz!r}") from exc
        try:
            holiday_dates(self.state, 2000)
        except NotImplementedError as exc:
            raise ValueError(f"unknown federal state {self.state!r}") from exc

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone (ZoneInfo caches instances, so this is cheap)."""
        return ZoneInfo(self.tz)

    def is_holiday(self, day: datetime.date) -> bool:
        """Whether `day` is a public holiday in the calendar's federal state."""
        return day in holiday_dates(self.state, day.year)

    def is_working_day(self, day: datetime.date) -> bool:
        """Whether the office is open at all on `day`."""
        return bool(self.intervals(day))

    def intervals(self, day: datetime.date) -> list[Interval]:
        """Aware open intervals of the local date `day`; [] on holidays and closing days."""
        spans = self.hours.get(day.weekday(), ())
        if not spans or day in self.closed_days or self.is_holiday(day):
            return []
        cutoff = self.short_days.get((day.month, day.day))
        zone = self.zone
        result = []
        for opens, closes in spans:
            if cutoff is not None:
                if opens >= cutoff:
                    continue
                closes = min(closes, cutoff)
            # Built per local date: a DST switch at night does not shift the office hours.
            result.append(
                (
                    datetime.datetime.combine(day, opens, tzinfo=zone),
                    datetime.datetime.combine(day, closes, tzinfo=zone),
                )
            )
        return result

    def _utc_intervals_from(self, day: datetime.date) -> Iterator[Interval]:
        """Open intervals in UTC from `day` on; raises if none turns up for MAX_EMPTY_DAYS."""
        empty_days = 0
        while True:
            spans = self.intervals(day)
            if spans:
                empty_days = 0
            else:
                empty_days += 1
                if empty_days > MAX_EMPTY_DAYS:
                    raise ValueError("no working hours found within three years")
            # Compare and subtract in UTC: aware datetimes sharing one tzinfo are compared by
            # wall time, which is wrong across a DST switch inside an interval.
            for opens, closes in spans:
                yield opens.astimezone(_UTC), closes.astimezone(_UTC)
            day += _ONE_DAY

    def add(self, *, start: datetime.datetime, duration: datetime.timedelta) -> datetime.datetime:
        """The moment when `duration` of open office time has passed after `start`."""
        _require_aware(start, "start")
        if duration < datetime.timedelta(0):
            raise ValueError("duration must not be negative")
        cursor = start.astimezone(_UTC)
        remaining = duration
        for opens, closes in self._utc_intervals_from(start.astimezone(self.zone).date()):
            if closes <= cursor:
                continue
            # Outside office hours the clock starts at the next opening.
            begin = max(cursor, opens)
            available = closes - begin
            # `<=` so a duration that ends exactly at closing time yields that closing time,
            # not the next morning's opening.
            if remaining <= available:
                return (begin + remaining).astimezone(self.zone)
            remaining -= available
        raise AssertionError("unreachable: _utc_intervals_from never ends")  # pragma: no cover

    def elapsed(self, *, start: datetime.datetime, end: datetime.datetime) -> datetime.timedelta:
        """Open office time between `start` and `end` (zero if end <= start)."""
        _require_aware(start, "start")
        _require_aware(end, "end")
        start_utc = start.astimezone(_UTC)
        end_utc = end.astimezone(_UTC)
        total = datetime.timedelta(0)
        if end_utc <= start_utc:
            return total
        day = start.astimezone(self.zone).date()
        last_day = end.astimezone(self.zone).date()
        while day <= last_day:
            for opens, closes in self.intervals(day):
                overlap = min(closes.astimezone(_UTC), end_utc) - max(
                    opens.astimezone(_UTC), start_utc
                )
                if overlap > datetime.timedelta(0):
                    total += overlap
            day += _ONE_DAY
        return total

    def add_working_days(self, *, start: datetime.datetime, days: int) -> datetime.datetime:
        """Closing time of the `days`-th working day after the local date of `start`.

        Day 1 is the first working day strictly after start's local date, whether or not
        start itself falls on a working day or within office hours.
        """
        _require_aware(start, "start")
        if days < 1:
            raise ValueError("days must be at least 1")
        day = start.astimezone(self.zone).date()
        counted = 0
        empty_days = 0
        while True:
            day += _ONE_DAY
            spans = self.intervals(day)
            if not spans:
                empty_days += 1
                if empty_days > MAX_EMPTY_DAYS:
                    raise ValueError("no working day found within three years")
                continue
            empty_days = 0
            counted += 1
            if counted == days:
                # Round trip through UTC normalises a closing time that falls into a DST gap.
                return spans[-1][1].astimezone(_UTC).astimezone(self.zone)


def calendar_default(*, state: str = "BE") -> WorkCalendar:
    """Typical Geschäftsstelle: Mon–Thu 08:00–16:00, Fri 08:00–13:00, 24.12./31.12. until 12:00."""
    full_day = ((datetime.time(8), datetime.time(16)),)
    return WorkCalendar(
        hours={
            0: full_day,
            1: full_day,
            2: full_day,
            3: full_day,
            4: ((datetime.time(8), datetime.time(13)),),
        },
        state=state,
        short_days={(12, 24): datetime.time(12), (12, 31): datetime.time(12)},
    )
