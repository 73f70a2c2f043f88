"""Free consultation slots of advisors (issue 13): plain data in, plain data out.

No models and no database, so every rule (holidays, absences, buffers, notice, DST) is
tested exhaustively and the booking page, the "any advisor" view and the "this time was
just taken" page all compute slots the same way. The caller loads availability, bookings
and blocked times; a booking is re-checked by the database when it is written, since a
slot computed here may be taken a moment later.

Times: weekly hours are local wall-clock times of the calendar's zone; everything that
is compared or stepped through is first converted to UTC. Aware datetimes that share a
tzinfo compare by wall time and ignore `fold` (PEP 495), which would make 02:00 CEST and
02:00 CET on 2026-10-25 "equal" and order 02:30 CEST after 02:00 CET.
"""

from __future__ import annotations

import datetime
import heapq
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from routing.worktime import holiday_dates

Range = tuple[datetime.time, datetime.time]
Interval = tuple[datetime.datetime, datetime.datetime]

_UTC = datetime.UTC
_ONE_DAY = datetime.timedelta(days=1)
_ZERO = datetime.timedelta(0)


def _check_ranges(ranges: Sequence[Range], where: str) -> None:
    # Overlapping ranges would offer the same instant twice (each range has its own step
    # grid); refusing them here points at the bad availability, not at a puzzling slot.
    previous_end: datetime.time | None = None
    for start, end in sorted(ranges):
        if start >= end:
            raise ValueError(f"range {start}-{end} on {where} is empty")
        if previous_end is not None and start < previous_end:
            raise ValueError(f"ranges on {where} overlap")
        previous_end = end


def _require_aware(value: datetime.datetime, name: str) -> None:
    # A naive datetime would be read in the server's local zone by astimezone().
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


@dataclass(frozen=True)
class Availability:
    """When one advisor can be booked, and what is already taken.

    `busy` holds existing bookings including their buffers, and blocked times, so a new
    slot only adds its own buffers. `booked_per_day` counts active appointments per local
    date for the daily maximum (cancelled ones no longer count).
    """

    advisor_id: int
    # weekday (Mon=0) -> local wall-clock ranges [start, end)
    weekly: Mapping[int, Sequence[Range]]
    # a date -> ranges that replace the weekly ones that day; an empty sequence = closed
    overrides: Mapping[datetime.date, Sequence[Range]] = field(default_factory=dict)
    # local dates the advisor is away (vacation, training, sick)
    absent_days: frozenset[datetime.date] = frozenset()
    # aware intervals [start, end), any order, may overlap
    busy: Sequence[Interval] = ()
    booked_per_day: Mapping[datetime.date, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for weekday, ranges in self.weekly.items():
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0..6, got {weekday!r}")
            _check_ranges(ranges, f"weekday {weekday}")
        for day, ranges in self.overrides.items():
            _check_ranges(ranges, str(day))
        for start, end in self.busy:
            _require_aware(start, "busy start")
            _require_aware(end, "busy end")

    def ranges(self, day: datetime.date) -> Sequence[Range]:
        """The local ranges of `day`: its override if there is one, else the weekly hours."""
        if day in self.overrides:
            return self.overrides[day]
        return self.weekly.get(day.weekday(), ())


@dataclass(frozen=True)
class Rules:
    """How long a consultation takes and when it may be booked."""

    duration: datetime.timedelta
    # kept free around each appointment (the way to the estate, notes afterwards)
    buffer_before: datetime.timedelta = _ZERO
    buffer_after: datetime.timedelta = _ZERO
    # distance between offered start times; None = back to back (the duration)
    step: datetime.timedelta | None = None
    # so an advisor can prepare (real elapsed time, not office hours)
    min_notice: datetime.timedelta = datetime.timedelta(hours=24)
    # last bookable local date = today + horizon_days
    horizon_days: int = 56
    max_per_day: int | None = None

    def __post_init__(self) -> None:
        if self.duration <= _ZERO:
            raise ValueError("duration must be positive")
        if self.step is not None and self.step <= _ZERO:
            # A zero step would never leave the first start.
            raise ValueError("step must be positive")
        if self.buffer_before < _ZERO or self.buffer_after < _ZERO:
            raise ValueError("buffers must not be negative")
        if self.min_notice < _ZERO:
            raise ValueError("min_notice must not be negative")
        if self.horizon_days < 0:
            raise ValueError("horizon_days must not be negative")
        if self.max_per_day is not None and self.max_per_day < 0:
            raise ValueError("max_per_day must not be negative")


@dataclass(frozen=True)
class Calendar:
    """The office's calendar: public holidays of its federal state and its closing days."""

    # federal state code as the `holidays` package expects, e.g. "BE", "BB", "BY", "NW"
    state: str = "BE"
    tz: str = "Europe/Berlin"
    # company closing days (Betriebsferien, Brückentage)
    closed_days: frozenset[datetime.date] = frozenset()
    # (month, day) -> the office closes at this time (24 and 31 December in
    # many cooperatives): no consultation runs past it, whatever the advisor's hours
    short_days: Mapping[tuple[int, int], datetime.time] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Fail at construction rather than on the booking page.
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

    def is_closed(self, day: datetime.date) -> bool:
        """Whether no consultation takes place on `day` (public holiday or closing day)."""
        return day in self.closed_days or day in holiday_dates(self.state, day.year)

    def closes_at(self, day: datetime.date) -> datetime.time | None:
        """When the office closes early on `day` (a half day), else None."""
        return self.short_days.get((day.month, day.day))


@dataclass(frozen=True, eq=False, slots=True)
class Slot:
    """A free time of one advisor; `starts` and `ends` are aware, in the calendar's zone.

    Equal and hashed by the instants, not the wall times: with the default dataclass
    equality the two 02:00 slots of 2026-10-25 (CEST and CET) would be one in a set.
    """

    advisor_id: int
    starts: datetime.datetime
    ends: datetime.datetime

    def _key(self) -> tuple[datetime.datetime, int, datetime.datetime]:
        return self.starts.astimezone(_UTC), self.advisor_id, self.ends.astimezone(_UTC)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Slot):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


# Instants inside free_slots() are integer microseconds since the epoch: the inner loop
# compares, adds and bisects them for every candidate, and int arithmetic is several times
# faster than datetime arithmetic while staying exact (no float rounding at a boundary).
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)


def _ticks(value: datetime.datetime) -> int:
    return (value - _EPOCH) // _MICROSECOND


def _merged_busy(busy: Iterable[Interval]) -> tuple[list[int], list[int]]:
    """Busy intervals as ticks, merged into disjoint ones: starts and ends both ascending.

    Disjoint intervals let one bisect on the ends answer "does anything overlap [a, b)":
    the first interval ending after a is the only candidate.
    """
    return _merged((_ticks(s), _ticks(e)) for s, e in busy)


def _merged(intervals: Iterable[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Intervals of ticks merged into disjoint ones: starts and ends both ascending."""
    starts: list[int] = []
    ends: list[int] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        # Touching intervals merge too; half-open, so nothing can fit between them.
        if ends and start <= ends[-1]:
            if end > ends[-1]:
                ends[-1] = end
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


_Frame = tuple[int, datetime.datetime]


def _frame(day: datetime.date, zone: ZoneInfo) -> _Frame | None:
    """Local midnight of `day` as ticks and in the zone, or None if the offset changes that day.

    On a day with one offset a local time is midnight plus a fixed amount, both ways; only
    the two DST days a year need a zone lookup per time. Equal offsets at both midnights
    mean no change in between: no zone changes twice within one day.
    """
    midnight = datetime.datetime.combine(day, datetime.time(), tzinfo=zone)
    following = datetime.datetime.combine(day + _ONE_DAY, datetime.time(), tzinfo=zone)
    if midnight.utcoffset() != following.utcoffset():
        return None
    return _ticks(midnight), midnight


def _since_midnight(value: datetime.time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


def free_slots(
    *,
    advisors: Sequence[Availability],
    rules: Rules,
    calendar: Calendar,
    now: datetime.datetime,
    first_day: datetime.date,
    last_day: datetime.date,
) -> list[Slot]:
    """Free slots of all `advisors` on the local dates first_day..last_day, sorted by
    (start instant, advisor id).

    A slot [s, s + duration) starts on the step grid of one availability range, counted
    in absolute time from the range's start, and ends at or before the range's end.
    Stepping through UTC rather than wall time is what keeps DST right: on the spring
    day the missing hour simply yields no start, on the autumn day the repeated hour
    yields each instant once. Range times that fall into the spring gap are read with
    fold=0 (the offset before the change), so 02:30 means 03:30 CEST.

    A slot is offered when its day is no public holiday, closing day or absent day, the
    advisor has fewer than max_per_day appointments that day, the slot with its buffers
    [s - buffer_before, s + duration + buffer_after) overlaps no busy interval (half-open:
    back to back is fine), s >= now + min_notice (and never before now), and its local
    date is at most today + horizon_days.
    """
    _require_aware(now, "now")
    zone = calendar.zone
    step = (rules.step or rules.duration) // _MICROSECOND
    duration = rules.duration // _MICROSECOND
    before = rules.buffer_before // _MICROSECOND
    after = duration + rules.buffer_after // _MICROSECOND
    max_per_day = rules.max_per_day
    earliest = _ticks(now) + rules.min_notice // _MICROSECOND
    # The horizon counts local dates, so a booking window ends at midnight, not at the
    # minute of the request eight weeks ago.
    last = min(last_day, now.astimezone(zone).date() + datetime.timedelta(days=rules.horizon_days))
    # Days wholly before the earliest start cannot hold a slot; not worth building.
    # In UTC: `now + min_notice` in a local zone would add wall-clock time, an hour off
    # across a DST change.
    day = max(first_day, (now.astimezone(_UTC) + rules.min_notice).astimezone(zone).date())
    days: list[tuple[datetime.date, _Frame | None, datetime.time | None]] = []
    while day <= last:
        if not calendar.is_closed(day):
            days.append((day, _frame(day, zone), calendar.closes_at(day)))
        day += _ONE_DAY
    since_midnight: dict[datetime.time, int] = {}
    # Start instant -> local start and end. Advisors share their times of day, so each
    # pair of datetimes is built once rather than once per advisor.
    local: dict[int, tuple[datetime.datetime, datetime.datetime]] = {}
    duration_delta = rules.duration

    found: list[tuple[int, int, tuple[datetime.datetime, datetime.datetime]]] = []
    for advisor in advisors:
        busy_starts, busy_ends = _merged_busy(advisor.busy)
        busy_count = len(busy_ends)
        advisor_id = advisor.advisor_id
        absent_days = advisor.absent_days
        booked_per_day = advisor.booked_per_day
        for day, frame, closes in days:
            if day in absent_days:
                continue
            if max_per_day is not None and booked_per_day.get(day, 0) >= max_per_day:
                continue
            # Ranges are disjoint in wall time; only on a DST day can two of them still
            # meet in absolute time (one ending in the spring gap: 02:30 read with fold=0
            # is 03:30 CEST), so only there is each instant checked for a repeat.
            seen: set[int] | None = set() if frame is None else None
            for range_start, range_end in advisor.ranges(day):
                if closes is not None:
                    # A half day: the range ends when the office closes.
                    range_end = min(range_end, closes)
                    if range_start >= range_end:
                        continue
                if frame is None:
                    start = _ticks(datetime.datetime.combine(day, range_start, tzinfo=zone))
                    end = _ticks(datetime.datetime.combine(day, range_end, tzinfo=zone))
                else:
                    if range_start not in since_midnight:
                        since_midnight[range_start] = _since_midnight(range_start)
                    if range_end not in since_midnight:
                        since_midnight[range_end] = _since_midnight(range_end)
                    start = frame[0] + since_midnight[range_start]
                    end = frame[0] + since_midnight[range_end]
                latest = end - duration
                if latest < earliest:
                    continue
                if start < earliest:
                    # Jump to the first grid point at or after the earliest start.
                    start += -((start - earliest) // step) * step
                while start <= latest:
                    # The first merged interval ending after the buffered start is the
                    # only one that can overlap the buffered slot.
                    index = bisect_right(busy_ends, start - before)
                    if index < busy_count and busy_starts[index] < start + after:
                        # Skip the grid points that still overlap this busy interval.
                        blocked_until = busy_ends[index] + before
                        start += max(1, -((start - blocked_until) // step)) * step
                        continue
                    if seen is not None:
                        if start in seen:
                            start += step
                            continue
                        seen.add(start)
                    times = local.get(start)
                    if times is None:
                        if frame is None:
                            instant = _EPOCH + datetime.timedelta(microseconds=start)
                            times = (
                                instant.astimezone(zone),
                                (instant + duration_delta).astimezone(zone),
                            )
                        else:
                            # One offset all day: wall-clock arithmetic is exact and far
                            # cheaper than a zone lookup.
                            starts = frame[1] + datetime.timedelta(microseconds=start - frame[0])
                            times = (starts, starts + duration_delta)
                        local[start] = times
                    found.append((start, advisor_id, times))
                    start += step
    # By instant, then advisor (each pair occurs once): never by the local datetimes,
    # which compare by wall time within one zone.
    found.sort()
    return [Slot(advisor_id, times[0], times[1]) for _, advisor_id, times in found]


def offered_time(
    *,
    advisors: Sequence[Availability],
    calendar: Calendar,
    first_day: datetime.date,
    last_day: datetime.date,
) -> dict[int, datetime.timedelta]:
    """The time each advisor offers on the local dates first_day..last_day, by advisor id.

    The same days and ranges free_slots steps through: the date's override, else the
    weekly hours; nothing on public holidays, closing days and absent days; a half day's
    ranges end when the office closes. Less each advisor's `busy` intervals where they
    fall into those ranges (the caller decides what is busy: the overview passes blocked
    times, which take the time off offer). Counted in absolute time, so 01:00-04:00 is
    two hours on the spring DST day and four on the autumn one. No notice, horizon,
    daily maximum or topic length: what was on offer, not what could still be booked.
    """
    zone = calendar.zone
    days: list[tuple[datetime.date, _Frame | None, datetime.time | None]] = []
    day = first_day
    while day <= last_day:
        if not calendar.is_closed(day):
            days.append((day, _frame(day, zone), calendar.closes_at(day)))
        day += _ONE_DAY
    since_midnight: dict[datetime.time, int] = {}

    def ticks(day: datetime.date, frame: _Frame | None, value: datetime.time) -> int:
        if frame is None:
            return _ticks(datetime.datetime.combine(day, value, tzinfo=zone))
        if value not in since_midnight:
            since_midnight[value] = _since_midnight(value)
        return frame[0] + since_midnight[value]

    offered: dict[int, datetime.timedelta] = {}
    for advisor in advisors:
        busy_starts, busy_ends = _merged_busy(advisor.busy)
        total = 0
        for day, frame, closes in days:
            if day in advisor.absent_days:
                continue
            intervals = []
            for range_start, range_end in advisor.ranges(day):
                if closes is not None:
                    range_end = min(range_end, closes)
                    if range_start >= range_end:
                        continue
                start, end = ticks(day, frame, range_start), ticks(day, frame, range_end)
                if start < end:
                    intervals.append((start, end))
            if frame is None:
                # Only on a DST day can ranges disjoint in wall time meet in absolute
                # time (one ending in the spring gap): merged, no instant counts twice.
                intervals = list(zip(*_merged(intervals), strict=True))
            for start, end in intervals:
                total += end - start
                # The busy intervals are disjoint and sorted: those from the first that
                # ends after `start` on, while they begin before `end`.
                index = bisect_right(busy_ends, start)
                while index < len(busy_ends) and busy_starts[index] < end:
                    total -= min(end, busy_ends[index]) - max(start, busy_starts[index])
                    index += 1
        offered[advisor.advisor_id] = total * _MICROSECOND
    return offered


def any_advisor(slots: Iterable[Slot]) -> list[tuple[datetime.datetime, tuple[int, ...]]]:
    """The distinct start times of `slots` with the advisors free at each, in time order.

    For a member who does not mind whom they see: one offer per time, and the booking
    picks one of the advisors. Grouped by instant, so the repeated autumn hour stays two
    times.
    """
    grouped: dict[datetime.datetime, tuple[datetime.datetime, set[int]]] = {}
    for slot in slots:
        instant = slot.starts.astimezone(_UTC)
        if instant not in grouped:
            grouped[instant] = (slot.starts, set())
        grouped[instant][1].add(slot.advisor_id)
    return [
        (starts, tuple(sorted(advisor_ids)))
        for _, (starts, advisor_ids) in sorted(grouped.items(), key=lambda item: item[0])
    ]


def nearest(slots: Iterable[Slot], around: datetime.datetime, count: int = 5) -> list[Slot]:
    """The `count` free slots starting nearest to `around`, in time order.

    For "this time was just taken": the member wanted `around`, so what is closest in
    either direction is the best offer. Ties go to the earlier slot, then the lower
    advisor id, so the offer does not change between two page loads.
    """
    _require_aware(around, "around")
    target = around.astimezone(_UTC)

    def distance(slot: Slot) -> tuple[datetime.timedelta, datetime.datetime, int]:
        instant = slot.starts.astimezone(_UTC)
        return abs(instant - target), instant, slot.advisor_id

    chosen = heapq.nsmallest(max(count, 0), slots, key=distance)
    return sorted(chosen, key=lambda slot: (slot.starts.astimezone(_UTC), slot.advisor_id))
