"""Free consultation slots (appointments.slots): DST, holidays, absences, buffers, notice.

Pure: no database. Expected times are worked out by hand and written as the local time
with its offset, so a slot an hour off (or in the wrong offset) shows in the diff.
2026-03-29 and 2026-10-25 are the Sundays of the DST changes in Europe/Berlin (02:00
CET -> 03:00 CEST; 03:00 CEST -> 02:00 CET). The property tests at the end compare
free_slots() with a slow brute-force reference written here from the specification.
"""

import datetime
from datetime import date, time, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appointments.slots import (
    Availability,
    Calendar,
    Rules,
    Slot,
    any_advisor,
    free_slots,
    nearest,
    offered_time,
)

BERLIN = ZoneInfo("Europe/Berlin")
UTC = datetime.UTC
SPRING = date(2026, 3, 29)  # Sunday
AUTUMN = date(2026, 10, 25)  # Sunday
# Long before every day used here, and a horizon that reaches all of them, so the tests
# that are not about notice or horizon are not limited by them.
EARLY = datetime.datetime(2026, 1, 1, 8, tzinfo=BERLIN)
OPEN = {"min_notice": timedelta(0), "horizon_days": 400}
HALF_HOUR = Rules(duration=timedelta(minutes=30), **OPEN)
BE = Calendar()


def at(day: date, hour: int, minute: int = 0, *, fold: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, time(hour, minute, fold=fold), tzinfo=BERLIN)


def every_day(*ranges: tuple[time, time]) -> dict[int, tuple[tuple[time, time], ...]]:
    return dict.fromkeys(range(7), tuple(ranges))


def hours(start: str, end: str) -> tuple[time, time]:
    return time.fromisoformat(start), time.fromisoformat(end)


def local(slots: list[Slot]) -> list[str]:
    """Start times as local ISO strings with their offset: '2026-03-29T03:00:00+02:00'."""
    return [slot.starts.isoformat() for slot in slots]


def clock(slots: list[Slot]) -> list[str]:
    """Start times as 'HH:MM+OF' (local time and offset), for slots of one day."""
    return [slot.starts.strftime("%H:%M%z") for slot in slots]


def slots_for(
    advisor: Availability | list[Availability],
    first: date,
    last: date | None = None,
    *,
    rules: Rules = HALF_HOUR,
    calendar: Calendar = BE,
    now: datetime.datetime = EARLY,
) -> list[Slot]:
    return free_slots(
        advisors=advisor if isinstance(advisor, list) else [advisor],
        rules=rules,
        calendar=calendar,
        now=now,
        first_day=first,
        last_day=last or first,
    )


# --- DST -------------------------------------------------------------------------------


def test_it_offers_no_time_in_the_missing_spring_hour_and_loses_none():
    advisor = Availability(1, weekly={6: (hours("01:00", "04:00"),)})
    found = slots_for(advisor, SPRING)
    assert local(found) == [
        "2026-03-29T01:00:00+01:00",
        "2026-03-29T01:30:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T03:30:00+02:00",
    ]
    # 01:00 CET to 04:00 CEST are two real hours: four half hours back to back.
    assert [slot.starts.astimezone(UTC).strftime("%H:%M") for slot in found] == [
        "00:00",
        "00:30",
        "01:00",
        "01:30",
    ]
    assert [slot.ends.isoformat() for slot in found][1] == "2026-03-29T03:00:00+02:00"


def test_it_offers_the_repeated_autumn_hour_twice_as_two_instants():
    advisor = Availability(1, weekly={6: (hours("01:00", "04:00"),)})
    found = slots_for(advisor, AUTUMN)
    assert clock(found) == [
        "01:00+0200",
        "01:30+0200",
        "02:00+0200",
        "02:30+0200",
        "02:00+0100",
        "02:30+0100",
        "03:00+0100",
        "03:30+0100",
    ]
    instants = [slot.starts.astimezone(UTC) for slot in found]
    assert len(set(instants)) == 8
    assert all(b - a == timedelta(minutes=30) for a, b in pairwise(instants))
    # The second 02:00 is fold=1, so it names the right instant on its own.
    assert [slot.starts.fold for slot in found] == [0, 0, 0, 0, 1, 1, 0, 0]
    assert len(set(found)) == 8  # slots are equal by instant, not by wall time


@pytest.mark.parametrize(
    ("day", "start", "expected"),
    [
        (SPRING, "13:00", ["13:00+0200", "13:30+0200"]),
        (SPRING, "18:30", ["18:30+0200", "19:00+0200"]),
        (AUTUMN, "13:00", ["13:00+0100", "13:30+0100"]),
        (AUTUMN, "18:30", ["18:30+0100", "19:00+0100"]),
        (SPRING - timedelta(days=1), "13:00", ["13:00+0100", "13:30+0100"]),
        (AUTUMN - timedelta(days=1), "13:00", ["13:00+0200", "13:30+0200"]),
        (SPRING + timedelta(days=2), "13:00", ["13:00+0200", "13:30+0200"]),
        (AUTUMN + timedelta(days=2), "13:00", ["13:00+0100", "13:30+0100"]),
    ],
)
def test_it_gives_afternoon_times_the_offset_after_the_change(day, start, expected):
    end = (datetime.datetime.combine(day, time.fromisoformat(start)) + timedelta(hours=1)).time()
    advisor = Availability(1, weekly=every_day((time.fromisoformat(start), end)))
    found = slots_for(advisor, day)
    assert clock(found) == expected
    # And the offset is the real one, not a label: back to UTC and into Berlin again.
    assert [s.starts.astimezone(UTC).astimezone(BERLIN).strftime("%H:%M%z") for s in found] == (
        expected
    )


def test_a_weekly_series_keeps_its_local_time_across_the_change():
    advisor = Availability(1, weekly={1: (hours("10:00", "10:30"),)})  # Tuesdays
    found = slots_for(advisor, date(2026, 3, 1), date(2026, 4, 30))
    assert [slot.starts.date() for slot in found] == [
        date(2026, 3, 3),
        date(2026, 3, 10),
        date(2026, 3, 17),
        date(2026, 3, 24),
        date(2026, 3, 31),
        date(2026, 4, 7),
        date(2026, 4, 14),
        date(2026, 4, 21),
        date(2026, 4, 28),
    ]
    assert {slot.starts.strftime("%H:%M") for slot in found} == {"10:00"}
    # 10:00 CET is 09:00 UTC, 10:00 CEST is 08:00 UTC.
    assert [slot.starts.astimezone(UTC).hour for slot in found] == [9, 9, 9, 9, 8, 8, 8, 8, 8]


def test_a_weekly_series_keeps_its_local_time_into_winter():
    advisor = Availability(1, weekly={1: (hours("10:00", "10:30"),)})
    found = slots_for(advisor, date(2026, 10, 13), date(2026, 11, 3))
    assert [s.starts.isoformat() for s in found] == [
        "2026-10-13T10:00:00+02:00",
        "2026-10-20T10:00:00+02:00",
        "2026-10-27T10:00:00+01:00",
        "2026-11-03T10:00:00+01:00",
    ]


def test_a_range_ending_in_the_spring_gap_does_not_offer_an_instant_twice():
    # 02:30 does not exist on 2026-03-29; read with fold=0 it is 03:30 CEST, so the two
    # ranges meet from 03:00 to 03:30 in real time.
    advisor = Availability(1, weekly={6: (hours("01:00", "02:30"), hours("03:00", "04:00"))})
    found = slots_for(advisor, SPRING)
    assert clock(found) == ["01:00+0100", "01:30+0100", "03:00+0200", "03:30+0200"]


# --- notice and horizon ----------------------------------------------------------------


def test_the_notice_is_real_elapsed_time_across_the_autumn_change():
    advisor = Availability(1, weekly={6: (hours("01:00", "04:00"),)})
    rules = Rules(duration=timedelta(minutes=30), min_notice=timedelta(hours=24))
    # Saturday 03:00 CEST + 24 real hours = Sunday 02:00 CET (the second 02:00), not the
    # wall clock's 03:00: the first boundary instant is included.
    now = at(AUTUMN - timedelta(days=1), 3)
    found = slots_for(advisor, AUTUMN, rules=rules, now=now)
    assert clock(found) == ["02:00+0100", "02:30+0100", "03:00+0100", "03:30+0100"]
    later = slots_for(advisor, AUTUMN, rules=rules, now=now + timedelta(microseconds=1))
    assert clock(later) == ["02:30+0100", "03:00+0100", "03:30+0100"]


def test_the_notice_is_real_elapsed_time_across_the_spring_change():
    advisor = Availability(1, weekly={6: (hours("01:00", "04:00"),)})
    rules = Rules(duration=timedelta(minutes=30), min_notice=timedelta(hours=24))
    # Saturday 02:30 CET + 24 h = Sunday 01:30 UTC = 03:30 CEST.
    now = at(SPRING - timedelta(days=1), 2, 30)
    assert clock(slots_for(advisor, SPRING, rules=rules, now=now)) == ["03:30+0200"]
    assert slots_for(advisor, SPRING, rules=rules, now=now + timedelta(minutes=1)) == []


def test_a_notice_ending_late_on_the_autumn_day_keeps_that_day():
    # Sunday 00:30 CEST + 24 real hours = Sunday 23:30 CET; on the wall clock it would
    # be Monday 00:30, and the whole Sunday would be lost.
    advisor = Availability(1, weekly={6: (hours("23:00", "23:59"),)})
    rules = Rules(duration=timedelta(minutes=15), min_notice=timedelta(hours=24))
    found = slots_for(
        advisor, AUTUMN - timedelta(days=1), AUTUMN, rules=rules, now=at(AUTUMN, 0, 30)
    )
    assert local(found) == ["2026-10-25T23:30:00+01:00"]


def test_no_slot_starts_before_now_even_without_notice():
    advisor = Availability(1, weekly=every_day(hours("09:00", "11:00")))
    rules = Rules(duration=timedelta(minutes=30), min_notice=timedelta(0))
    day = date(2026, 2, 3)
    assert clock(slots_for(advisor, day, rules=rules, now=at(day, 9, 30))) == [
        "09:30+0100",
        "10:00+0100",
        "10:30+0100",
    ]
    assert clock(slots_for(advisor, day, rules=rules, now=at(day, 9, 31))) == [
        "10:00+0100",
        "10:30+0100",
    ]


@pytest.mark.parametrize(
    ("now", "last_offered"),
    [
        # 56 days after Sunday 2026-08-30 is the autumn Sunday itself.
        (at(date(2026, 8, 30), 12), AUTUMN),
        # 00:30 CEST on the 31st is still the 30th in UTC: the horizon counts local days.
        (at(date(2026, 8, 31), 0, 30), AUTUMN + timedelta(days=1)),
        (at(date(2026, 8, 30), 23, 59), AUTUMN),
        # 56 days after Sunday 2026-02-01 is the spring Sunday.
        (at(date(2026, 2, 1), 10), SPRING),
    ],
)
def test_the_horizon_ends_with_a_local_date(now, last_offered):
    advisor = Availability(1, weekly=every_day(hours("13:00", "14:00")))
    rules = Rules(duration=timedelta(minutes=60), min_notice=timedelta(0), horizon_days=56)
    found = slots_for(
        advisor, last_offered - timedelta(days=2), last_offered + timedelta(days=3), rules=rules,
        now=now,
    )  # fmt: skip
    assert found[-1].starts.date() == last_offered
    assert [slot.starts.date() for slot in found] == [
        last_offered - timedelta(days=2),
        last_offered - timedelta(days=1),
        last_offered,
    ]


def test_a_horizon_of_zero_days_offers_only_today():
    advisor = Availability(1, weekly=every_day(hours("13:00", "14:00")))
    rules = Rules(duration=timedelta(hours=1), min_notice=timedelta(0), horizon_days=0)
    now = at(date(2026, 2, 3), 9)
    found = slots_for(advisor, date(2026, 2, 2), date(2026, 2, 6), rules=rules, now=now)
    assert local(found) == ["2026-02-03T13:00:00+01:00"]


# --- days off --------------------------------------------------------------------------


def test_public_holidays_of_the_state_give_nothing():
    advisor = Availability(1, weekly=every_day(hours("09:00", "10:00")))
    rules = Rules(duration=timedelta(hours=1), **OPEN)
    # Karfreitag and Ostermontag 2026 in Berlin; Thursday and Tuesday around them are open.
    found = slots_for(advisor, date(2026, 4, 2), date(2026, 4, 7), rules=rules)
    assert [slot.starts.date() for slot in found] == [
        date(2026, 4, 2),
        date(2026, 4, 4),
        date(2026, 4, 5),  # Ostersonntag is no public holiday in Berlin
        date(2026, 4, 7),
    ]
    # Heilige Drei Könige is a holiday in Bavaria, not in Berlin.
    epiphany = date(2026, 1, 6)
    assert slots_for(advisor, epiphany, rules=rules)
    assert slots_for(advisor, epiphany, rules=rules, calendar=Calendar(state="BY")) == []


def test_closing_days_give_nothing():
    advisor = Availability(1, weekly=every_day(hours("09:00", "10:00")))
    rules = Rules(duration=timedelta(hours=1), **OPEN)
    calendar = Calendar(closed_days=frozenset({date(2026, 5, 15)}))  # Brückentag
    found = slots_for(advisor, date(2026, 5, 14), date(2026, 5, 16), rules=rules, calendar=calendar)
    # 14 May is Christi Himmelfahrt.
    assert [slot.starts.date() for slot in found] == [date(2026, 5, 16)]


def test_on_the_offices_half_days_no_consultation_runs_past_its_closing():
    advisor = Availability(1, weekly=every_day(hours("09:00", "11:00"), hours("13:00", "15:00")))
    calendar = Calendar(short_days={(12, 24): time(12, 0), (12, 31): time(10, 30)})
    found = slots_for(advisor, date(2026, 12, 23), date(2026, 12, 31), rules=HALF_HOUR,
                      calendar=calendar)  # fmt: skip
    by_day: dict[date, list[str]] = {}
    for slot in found:
        by_day.setdefault(slot.starts.date(), []).append(slot.starts.strftime("%H:%M"))
    assert by_day[date(2026, 12, 23)][-1] == "14:30"  # an ordinary day
    assert by_day[date(2026, 12, 24)] == ["09:00", "09:30", "10:00", "10:30"]  # morning only
    assert by_day[date(2026, 12, 31)] == ["09:00", "09:30", "10:00"]  # cut inside a range
    assert date(2026, 12, 25) not in by_day and date(2026, 12, 26) not in by_day  # holidays


def test_absent_days_give_nothing_for_that_advisor_only():
    absent = Availability(
        1, weekly=every_day(hours("09:00", "10:00")), absent_days=frozenset({date(2026, 2, 3)})
    )
    present = Availability(2, weekly=every_day(hours("09:00", "10:00")))
    rules = Rules(duration=timedelta(hours=1), **OPEN)
    found = slots_for([absent, present], date(2026, 2, 2), date(2026, 2, 4), rules=rules)
    assert [(slot.starts.day, slot.advisor_id) for slot in found] == [
        (2, 1),
        (2, 2),
        (3, 2),
        (4, 1),
        (4, 2),
    ]


def test_an_override_replaces_the_weekly_hours_of_its_day():
    advisor = Availability(
        1,
        weekly={0: (hours("09:00", "10:00"),), 1: (hours("09:00", "10:00"),)},
        overrides={
            date(2026, 2, 3): (hours("14:00", "15:00"), hours("16:00", "16:30")),
            date(2026, 2, 7): (hours("10:00", "11:00"),),  # a Saturday, normally closed
        },
    )
    found = slots_for(advisor, date(2026, 2, 2), date(2026, 2, 8))
    assert local(found) == [
        "2026-02-02T09:00:00+01:00",
        "2026-02-02T09:30:00+01:00",
        "2026-02-03T14:00:00+01:00",
        "2026-02-03T14:30:00+01:00",
        "2026-02-03T16:00:00+01:00",
        "2026-02-07T10:00:00+01:00",
        "2026-02-07T10:30:00+01:00",
    ]


def test_an_empty_override_closes_the_day():
    advisor = Availability(
        1, weekly=every_day(hours("09:00", "10:00")), overrides={date(2026, 2, 3): ()}
    )
    found = slots_for(advisor, date(2026, 2, 2), date(2026, 2, 4))
    assert [slot.starts.day for slot in found] == [2, 2, 4, 4]


def test_an_override_on_a_holiday_does_not_open_it():
    advisor = Availability(
        1,
        weekly=every_day(hours("09:00", "10:00")),
        overrides={date(2026, 4, 3): (hours("09:00", "10:00"),)},
    )
    assert slots_for(advisor, date(2026, 4, 3)) == []


@pytest.mark.parametrize(
    ("booked", "max_per_day", "offered"),
    [
        (3, 3, False),
        (4, 3, False),
        (2, 3, True),
        (0, 0, False),
        (9, None, True),
    ],
)
def test_the_daily_maximum(booked, max_per_day, offered):
    day = date(2026, 2, 3)
    advisor = Availability(
        1, weekly=every_day(hours("09:00", "10:00")), booked_per_day={day: booked}
    )
    rules = Rules(duration=timedelta(minutes=30), max_per_day=max_per_day, **OPEN)
    assert bool(slots_for(advisor, day, rules=rules)) is offered
    # Another day's bookings do not count.
    assert slots_for(advisor, day + timedelta(days=1), rules=rules) or max_per_day == 0


# --- busy times and buffers ------------------------------------------------------------

DAY = date(2026, 2, 3)
BUSY = ((at(DAY, 10), at(DAY, 11)),)


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        # Back to back on both sides.
        (0, 0, ["09:00", "09:30", "11:00", "11:30"]),
        # 09:30 would need 10:00–10:15 after it; 11:00 is fine, nothing before it needed.
        (0, 15, ["09:00", "11:00", "11:30"]),
        (0, 31, ["11:00", "11:30"]),
        # 11:00 would need 10:45–11:00 before it.
        (15, 0, ["09:00", "09:30", "11:30"]),
        (15, 15, ["09:00", "11:30"]),
        # Exactly touching the busy interval with the buffer is still back to back.
        (30, 30, ["09:00", "11:30"]),
        (31, 0, ["09:00", "09:30"]),
    ],
)
def test_buffers_must_not_overlap_busy_times(before, after, expected):
    advisor = Availability(1, weekly=every_day(hours("09:00", "12:00")), busy=BUSY)
    rules = Rules(
        duration=timedelta(minutes=30),
        buffer_before=timedelta(minutes=before),
        buffer_after=timedelta(minutes=after),
        **OPEN,
    )
    assert [s.starts.strftime("%H:%M") for s in slots_for(advisor, DAY, rules=rules)] == expected


@pytest.mark.parametrize(
    ("busy_from", "busy_to", "before", "after", "expected"),
    [
        # Busy until 08:50, the day starts at 09:00: a 15-minute buffer before the first
        # slot reaches back into it, a 10-minute one just touches it.
        ((8, 0), (8, 50), 15, 0, ["09:30", "10:00"]),
        ((8, 0), (8, 50), 10, 0, ["09:00", "09:30", "10:00"]),
        # Busy from 10:40, the day ends at 10:30: the same after the last slot.
        ((10, 40), (11, 0), 0, 15, ["09:00", "09:30"]),
        ((10, 40), (11, 0), 0, 10, ["09:00", "09:30", "10:00"]),
    ],
)
def test_buffers_reach_busy_times_outside_the_hours(busy_from, busy_to, before, after, expected):
    advisor = Availability(
        1,
        weekly=every_day(hours("09:00", "10:30")),
        busy=((at(DAY, *busy_from), at(DAY, *busy_to)),),
    )
    rules = Rules(
        duration=timedelta(minutes=30),
        buffer_before=timedelta(minutes=before),
        buffer_after=timedelta(minutes=after),
        **OPEN,
    )
    assert [s.starts.strftime("%H:%M") for s in slots_for(advisor, DAY, rules=rules)] == expected


def test_busy_intervals_in_any_zone_and_order_overlapping_each_other():
    busy = [
        (at(DAY, 11, 15).astimezone(UTC), at(DAY, 11, 45).astimezone(UTC)),
        (at(DAY, 9), at(DAY, 9, 40)),
        (at(DAY, 9, 20).astimezone(ZoneInfo("America/New_York")), at(DAY, 10)),
        (at(DAY, 11, 20), at(DAY, 11, 25)),  # inside another: must not shorten it
        (at(DAY, 11, 30), at(DAY, 11, 30)),  # empty: blocks nothing
    ]
    advisor = Availability(1, weekly=every_day(hours("09:00", "12:00")), busy=busy)
    rules = Rules(duration=timedelta(minutes=30), step=timedelta(minutes=15), **OPEN)
    assert [s.starts.strftime("%H:%M") for s in slots_for(advisor, DAY, rules=rules)] == [
        "10:00",
        "10:15",
        "10:30",
        "10:45",
    ]


def test_a_busy_interval_over_the_repeated_autumn_hour_blocks_by_instant():
    # Busy from 02:00 CET (the second one) to 03:00 CET: the first 02:xx stays free.
    busy = ((at(AUTUMN, 2, fold=1), at(AUTUMN, 3)),)
    advisor = Availability(1, weekly={6: (hours("01:00", "04:00"),)}, busy=busy)
    assert clock(slots_for(advisor, AUTUMN)) == [
        "01:00+0200",
        "01:30+0200",
        "02:00+0200",
        "02:30+0200",
        "03:00+0100",
        "03:30+0100",
    ]


def test_a_step_smaller_than_the_duration_offers_overlapping_starts():
    advisor = Availability(1, weekly=every_day(hours("09:00", "11:00")))
    rules = Rules(duration=timedelta(hours=1), step=timedelta(minutes=15), **OPEN)
    found = slots_for(advisor, DAY, rules=rules)
    assert [s.starts.strftime("%H:%M") for s in found] == [
        "09:00",
        "09:15",
        "09:30",
        "09:45",
        "10:00",
    ]
    assert found[-1].ends == at(DAY, 11)


def test_the_step_grid_starts_at_each_range_not_at_midnight():
    advisor = Availability(1, weekly=every_day(hours("08:10", "09:00"), hours("13:05", "14:00")))
    rules = Rules(duration=timedelta(minutes=20), step=timedelta(minutes=15), **OPEN)
    assert [s.starts.strftime("%H:%M") for s in slots_for(advisor, DAY, rules=rules)] == [
        "08:10",
        "08:25",
        "08:40",
        "13:05",
        "13:20",
        "13:35",
    ]


# --- order, duplicates, helpers -------------------------------------------------------


def test_slots_are_sorted_by_time_then_advisor_without_duplicates():
    late = Availability(7, weekly=every_day(hours("09:30", "10:30")))
    early = Availability(3, weekly=every_day(hours("09:00", "10:00")))
    found = slots_for([late, early], DAY, DAY + timedelta(days=1))
    assert [(s.starts.strftime("%d %H:%M"), s.advisor_id) for s in found] == [
        ("03 09:00", 3),
        ("03 09:30", 3),
        ("03 09:30", 7),
        ("03 10:00", 7),
        ("04 09:00", 3),
        ("04 09:30", 3),
        ("04 09:30", 7),
        ("04 10:00", 7),
    ]
    assert len(set(found)) == len(found)


def test_sorting_uses_the_instant_in_the_repeated_hour():
    # Advisor 2 only works the second 02:00–03:00 (CET), advisor 1 from 01:00 CEST.
    first = Availability(1, weekly={6: (hours("01:00", "03:00"),)})
    second = Availability(
        2,
        weekly={},
        busy=((at(AUTUMN, 0), at(AUTUMN, 2, 59)),),
        overrides={AUTUMN: (hours("00:00", "04:00"),)},
    )
    found = slots_for([first, second], AUTUMN)
    assert [(s.starts.strftime("%H:%M%z"), s.advisor_id) for s in found] == [
        ("01:00+0200", 1),
        ("01:30+0200", 1),
        ("02:00+0200", 1),
        ("02:30+0200", 1),
        ("02:00+0100", 1),
        ("02:00+0100", 2),
        ("02:30+0100", 1),
        ("02:30+0100", 2),
        ("03:00+0100", 2),
        ("03:30+0100", 2),
    ]


def test_an_empty_period_gives_nothing():
    advisor = Availability(1, weekly=every_day(hours("09:00", "10:00")))
    assert slots_for(advisor, DAY, DAY - timedelta(days=1)) == []
    assert slots_for([], DAY, DAY + timedelta(days=7)) == []


def test_slots_are_equal_by_instant():
    utc = Slot(1, at(DAY, 9).astimezone(UTC), at(DAY, 10).astimezone(UTC))
    assert utc == Slot(1, at(DAY, 9), at(DAY, 10))
    assert hash(utc) == hash(Slot(1, at(DAY, 9), at(DAY, 10)))
    assert Slot(1, at(AUTUMN, 2), at(AUTUMN, 3)) != Slot(1, at(AUTUMN, 2, fold=1), at(AUTUMN, 3))
    assert Slot(1, at(DAY, 9), at(DAY, 10)) != Slot(2, at(DAY, 9), at(DAY, 10))
    assert Slot(1, at(DAY, 9), at(DAY, 10)) != (1, at(DAY, 9), at(DAY, 10))


def test_any_advisor_groups_the_advisors_of_each_instant():
    one = Availability(1, weekly={6: (hours("01:30", "03:00"),)})
    two = Availability(2, weekly={6: (hours("02:00", "03:30"),)})
    grouped = any_advisor(slots_for([two, one], AUTUMN))
    assert [(starts.strftime("%H:%M%z"), advisors) for starts, advisors in grouped] == [
        ("01:30+0200", (1,)),
        ("02:00+0200", (1, 2)),
        ("02:30+0200", (1, 2)),
        ("02:00+0100", (1, 2)),
        ("02:30+0100", (1, 2)),
        ("03:00+0100", (2,)),
    ]
    assert all(starts.tzinfo is BERLIN for starts, _ in grouped)
    assert any_advisor([]) == []


def test_nearest_offers_the_closest_times_on_both_sides_in_time_order():
    advisor = Availability(1, weekly=every_day(hours("09:00", "12:00")))
    other = Availability(2, weekly=every_day(hours("09:00", "12:00")))
    found = slots_for([advisor, other], DAY, DAY + timedelta(days=1))
    wanted = at(DAY, 10, 40)
    offer = nearest(found, wanted, count=3)
    # 10:30 is 10 minutes away (both advisors), 11:00 twenty: the lower advisor wins the tie.
    assert [(s.starts.strftime("%d %H:%M"), s.advisor_id) for s in offer] == [
        ("03 10:30", 1),
        ("03 10:30", 2),
        ("03 11:00", 1),
    ]
    # Equally far on both sides: the earlier one first.
    offer = nearest(found, at(DAY, 10, 15), count=1)
    assert [(s.starts.strftime("%H:%M"), s.advisor_id) for s in offer] == [("10:00", 1)]
    # Far after the last slot: the last ones, still in time order.
    offer = nearest(found, at(DAY + timedelta(days=30), 9), count=2)
    assert [(s.starts.strftime("%d %H:%M"), s.advisor_id) for s in offer] == [
        ("04 11:30", 1),
        ("04 11:30", 2),
    ]
    assert nearest(found, wanted, count=0) == []
    assert nearest([], wanted) == []
    assert len(nearest(found, wanted)) == 5


def test_nearest_measures_real_time_in_the_repeated_hour():
    advisor = Availability(1, weekly={6: (hours("01:00", "04:00"),)})
    found = slots_for(advisor, AUTUMN)
    # Wanted: 02:10 CET. 02:00 CEST is an hour and ten minutes before it in real time.
    offer = nearest(found, at(AUTUMN, 2, 10, fold=1), count=2)
    assert clock(offer) == ["02:00+0100", "02:30+0100"]


NAIVE = datetime.datetime(2026, 2, 3, 9)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: slots_for(Availability(1, weekly={}), DAY, now=NAIVE), id="naive-now"),
        pytest.param(
            lambda: Availability(1, weekly={}, busy=((NAIVE, at(DAY, 10)),)), id="naive-busy"
        ),
        pytest.param(lambda: Availability(1, weekly={7: ()}), id="bad-weekday"),
        pytest.param(
            lambda: Availability(1, weekly={0: (hours("10:00", "09:00"),)}), id="inverted"
        ),
        pytest.param(
            lambda: Availability(1, weekly={0: (hours("09:00", "11:00"), hours("10:00", "12:00"))}),
            id="overlapping",
        ),
        pytest.param(
            lambda: Availability(1, weekly={}, overrides={DAY: (hours("09:00", "09:00"),)}),
            id="empty-override",
        ),
        pytest.param(lambda: Rules(duration=timedelta(0)), id="zero-duration"),
        pytest.param(lambda: Rules(duration=timedelta(hours=1), step=timedelta(0)), id="zero-step"),
        pytest.param(
            lambda: Rules(duration=timedelta(hours=1), buffer_before=timedelta(minutes=-5)),
            id="negative-buffer",
        ),
        pytest.param(
            lambda: Rules(duration=timedelta(hours=1), min_notice=timedelta(hours=-1)),
            id="negative-notice",
        ),
        pytest.param(
            lambda: Rules(duration=timedelta(hours=1), horizon_days=-1), id="negative-horizon"
        ),
        pytest.param(lambda: Rules(duration=timedelta(hours=1), max_per_day=-1), id="negative-max"),
        pytest.param(lambda: Calendar(state="XX"), id="unknown-state"),
        pytest.param(lambda: Calendar(tz="Mars/Olympus"), id="unknown-zone"),
        pytest.param(lambda: nearest([], NAIVE), id="naive-around"),
    ],
)
def test_errors(call):
    with pytest.raises(ValueError):
        call()


# --- properties against a brute-force reference ----------------------------------------


@cache
def public_holidays(state: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("DE", subdiv=state, years=year))


def reference(advisors, rules, calendar, now, first_day, last_day):
    """The specification, candidate by candidate, checking every busy interval and
    every day from scratch: slow and obviously right. {(advisor, UTC start)}."""
    step = rules.step or rules.duration
    earliest = now.astimezone(UTC) + rules.min_notice
    today = now.astimezone(BERLIN).date()
    found = set()
    day = first_day
    while day <= last_day:
        closed = day in public_holidays(calendar.state, day.year) or day in calendar.closed_days
        too_late = day > today + timedelta(days=rules.horizon_days)
        for advisor in advisors:
            full = (
                rules.max_per_day is not None
                and advisor.booked_per_day.get(day, 0) >= rules.max_per_day
            )
            if closed or too_late or full or day in advisor.absent_days:
                continue
            if day in advisor.overrides:
                ranges = advisor.overrides[day]
            else:
                ranges = advisor.weekly.get(day.weekday(), ())
            for opens, closes in ranges:
                start = datetime.datetime.combine(day, opens, tzinfo=BERLIN).astimezone(UTC)
                end = datetime.datetime.combine(day, closes, tzinfo=BERLIN).astimezone(UTC)
                candidate = start
                while candidate + rules.duration <= end:
                    low = candidate - rules.buffer_before
                    high = candidate + rules.duration + rules.buffer_after
                    # An interval [b, e) with e <= b is empty and blocks nothing.
                    free = all(
                        not (b < e and b.astimezone(UTC) < high and low < e.astimezone(UTC))
                        for b, e in advisor.busy
                    )
                    if free and candidate >= earliest and candidate >= now:
                        found.add((advisor.advisor_id, candidate))
                    candidate += step
        day += timedelta(days=1)
    return found


# Periods that hold the traps: both DST changes, Easter, an ordinary week.
STARTS = [
    date(2026, 3, 25),
    date(2026, 10, 21),
    date(2026, 3, 31),
    date(2026, 2, 2),
    date(2027, 3, 26),
    date(2026, 10, 24),
]


def clock_time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


@st.composite
def day_ranges(draw):
    """0–3 sorted, disjoint (perhaps touching) local ranges on a 5-minute grid, from
    anywhere in the day: the small hours of the DST Sundays, where wall times do not
    exist or exist twice, come up often."""
    ranges = []
    cursor = draw(st.integers(0, 287)) * 5
    for gap, length in draw(
        st.lists(st.tuples(st.integers(0, 48), st.integers(1, 120)), min_size=1, max_size=3)
    ):
        start, end = cursor + gap * 5, cursor + (gap + length) * 5
        if end >= 24 * 60:
            break
        ranges.append((clock_time(start), clock_time(end)))
        cursor = end
    return tuple(ranges)


MINUTES = st.integers(0, 120).map(lambda minutes: timedelta(minutes=minutes))


@st.composite
def scenarios(draw):
    first = draw(st.sampled_from(STARTS)) + timedelta(days=draw(st.integers(0, 3)))
    last = first + timedelta(days=draw(st.integers(0, 7)))
    span = st.integers(0, (last - first).days).map(lambda offset: first + timedelta(days=offset))
    origin = datetime.datetime.combine(first, time(), tzinfo=BERLIN).astimezone(UTC)
    zone = draw(st.sampled_from([BERLIN, UTC]))  # of the busy intervals and of now

    advisors = []
    for advisor_id in draw(st.sets(st.integers(1, 9), min_size=1, max_size=3)):
        busy = [
            (
                (origin + timedelta(minutes=begins)).astimezone(zone),
                (origin + timedelta(minutes=begins + length)).astimezone(zone),
            )
            for begins, length in draw(
                st.lists(
                    st.tuples(
                        st.integers(0, ((last - first).days + 1) * 1440), st.integers(-10, 240)
                    ),
                    max_size=8,
                )
            )
        ]
        advisors.append(
            Availability(
                advisor_id,
                weekly=draw(st.dictionaries(st.integers(0, 6), day_ranges(), min_size=4)),
                overrides=draw(st.dictionaries(span, day_ranges(), max_size=2)),
                absent_days=frozenset(draw(st.sets(span, max_size=2))),
                busy=busy,
                booked_per_day=draw(st.dictionaries(span, st.integers(0, 4), max_size=3)),
            )
        )
    rules = Rules(
        duration=timedelta(minutes=draw(st.sampled_from([15, 20, 30, 45, 60, 90]))),
        buffer_before=draw(st.just(timedelta(0)) | MINUTES),
        buffer_after=draw(st.just(timedelta(0)) | MINUTES),
        step=draw(
            st.none() | st.sampled_from([5, 10, 15, 25, 30, 60]).map(lambda m: timedelta(minutes=m))
        ),
        min_notice=draw(
            st.sampled_from([0, 1, 23, 24, 25, 48]).map(lambda h: timedelta(hours=h)) | MINUTES
        ),
        horizon_days=draw(st.integers(0, 12) | st.just(56)),
        max_per_day=draw(st.none() | st.integers(0, 4)),
    )
    calendar = Calendar(
        state=draw(st.sampled_from(["BE", "BY"])),
        closed_days=frozenset(draw(st.sets(span, max_size=2))),
    )
    # From four days before the first day to three days into the period.
    now = (origin + timedelta(minutes=draw(st.integers(-4 * 1440, 3 * 1440)))).astimezone(zone)
    return advisors, rules, calendar, now, first, last


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_property_every_slot_is_allowed(scenario):
    advisors, rules, calendar, now, first, last = scenario
    found = free_slots(
        advisors=advisors, rules=rules, calendar=calendar, now=now, first_day=first, last_day=last
    )
    by_id = {advisor.advisor_id: advisor for advisor in advisors}
    keys = [(slot.starts.astimezone(UTC), slot.advisor_id) for slot in found]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    today = now.astimezone(BERLIN).date()
    for slot in found:
        advisor = by_id[slot.advisor_id]
        starts, ends = slot.starts.astimezone(UTC), slot.ends.astimezone(UTC)
        day = slot.starts.date()
        # In the calendar's zone, with the offset that zone really has at that instant.
        assert slot.starts.tzinfo is BERLIN and slot.ends.tzinfo is BERLIN
        assert slot.starts.utcoffset() == starts.astimezone(BERLIN).utcoffset()
        assert slot.starts.replace(tzinfo=None) == starts.astimezone(BERLIN).replace(tzinfo=None)
        assert slot.ends.utcoffset() == ends.astimezone(BERLIN).utcoffset()
        assert ends - starts == rules.duration
        # Inside one range of its day.
        ranges = advisor.overrides.get(day, advisor.weekly.get(day.weekday(), ()))
        assert any(
            datetime.datetime.combine(day, opens, tzinfo=BERLIN) <= starts
            and ends <= datetime.datetime.combine(day, closes, tzinfo=BERLIN)
            for opens, closes in ranges
        )
        # The buffered slot overlaps no busy interval.
        low, high = starts - rules.buffer_before, ends + rules.buffer_after
        assert all(not (b < e and b < high and low < e) for b, e in advisor.busy), slot
        # Days off, notice, horizon.
        assert first <= day <= last
        assert day not in advisor.absent_days and day not in calendar.closed_days
        assert day not in public_holidays(calendar.state, day.year)
        if rules.max_per_day is not None:
            assert advisor.booked_per_day.get(day, 0) < rules.max_per_day
        assert starts >= now and starts >= now.astimezone(UTC) + rules.min_notice
        assert day <= today + timedelta(days=rules.horizon_days)


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_property_free_slots_are_exactly_the_reference(scenario):
    advisors, rules, calendar, now, first, last = scenario
    found = free_slots(
        advisors=advisors, rules=rules, calendar=calendar, now=now, first_day=first, last_day=last
    )
    got = {(slot.advisor_id, slot.starts.astimezone(UTC)) for slot in found}
    assert len(got) == len(found)
    assert got == reference(advisors, rules, calendar, now, first, last)


# Hours offered (the overview's figure): the same days and ranges, summed --------------


def offered(availability: Availability, first: date, last: date, calendar=BE) -> timedelta:
    return offered_time(advisors=[availability], calendar=calendar, first_day=first,
                        last_day=last)[availability.advisor_id]  # fmt: skip


def test_offered_time_is_absolute_time_on_both_dst_days():
    night = Availability(1, every_day(hours("01:00", "04:00")))
    assert offered(night, SPRING, SPRING) == timedelta(hours=2)  # 02:00-03:00 never happens
    assert offered(night, AUTUMN, AUTUMN) == timedelta(hours=4)  # 02:00-03:00 twice
    assert offered(night, SPRING - timedelta(days=1), SPRING - timedelta(days=1)) == timedelta(
        hours=3
    )


def test_offered_time_counts_an_instant_once_where_spring_ranges_meet():
    # 02:30 lies in the gap: read as 03:30 CEST, so 01:00-02:30 ends where
    # 03:00-04:00 (03:00 CEST) has already begun; 01:00 CET to 04:00 CEST is 2 h.
    split = Availability(1, every_day(hours("01:00", "02:30"), hours("03:00", "04:00")))
    assert offered(split, SPRING, SPRING) == timedelta(hours=2)


def test_offered_time_leaves_out_holidays_closing_days_and_absences_and_ends_half_days():
    # Mon 2026-12-21 .. Sun 2026-12-27: 24 (Thu) closes at 12, 25 and 26 are
    # holidays, 22 a closing day, 23 the advisor is away; 21 has an override.
    week = Availability(
        1,
        {day: (hours("09:00", "11:00"), hours("13:00", "16:00")) for day in range(5)},
        overrides={date(2026, 12, 21): (hours("08:00", "09:30"),)},
        absent_days=frozenset({date(2026, 12, 23)}),
    )
    calendar = Calendar(closed_days=frozenset({date(2026, 12, 22)}),
                        short_days={(12, 24): time(12)})  # fmt: skip
    got = offered(week, date(2026, 12, 21), date(2026, 12, 27), calendar)
    assert got == timedelta(hours=1.5) + timedelta(hours=2)  # the 21st's override; 24th 9-11


def test_offered_time_is_less_the_busy_time_inside_the_ranges_only():
    day = date(2026, 6, 1)  # a Monday
    busy = (
        (at(day, 8), at(day, 9, 30)),  # half an hour of it in the range
        (at(day, 10), at(day, 10, 30)),
        (at(day, 10, 15), at(day, 11)),  # overlapping the one before: counted once
        (at(day, 12), at(day, 13)),  # between the ranges
        (at(day, 15, 30), at(day, 17)),
    )
    advisor = Availability(1, {0: (hours("09:00", "12:00"), hours("14:00", "16:00"))}, busy=busy)
    assert offered(advisor, day, day) == timedelta(hours=5) - timedelta(hours=0.5 + 1 + 0.5)


@settings(max_examples=60, deadline=None)
@given(
    ranges=st.lists(st.tuples(st.integers(0, 47), st.integers(1, 8)), max_size=3),
    busy=st.lists(st.tuples(st.integers(0, 95), st.integers(1, 12)), max_size=4),
    span=st.integers(0, 9),
)
def test_offered_time_equals_a_quarter_hour_count(ranges, busy, span):
    """Around the autumn change: ranges on a half-hour grid, busy intervals in
    absolute quarter hours; offered = the quarter hours of absolute time that
    lie in a range of an open day and in no busy interval."""
    weekly: list[tuple[time, time]] = []
    for start, length in sorted(ranges):
        end = min(48, start + length)
        if weekly and start * 30 < weekly[-1][1].hour * 60 + weekly[-1][1].minute:
            continue  # keep the ranges apart, as the hours' form does
        weekly.append((time(start // 2, start % 2 * 30),
                       time(end // 2, end % 2 * 30) if end < 48 else time(23, 59)))  # fmt: skip
    first = AUTUMN - timedelta(days=3)
    last = first + timedelta(days=span)
    origin = at(first, 0).astimezone(UTC)
    quarter = timedelta(minutes=15)
    intervals = tuple(
        (origin + start * 4 * quarter, origin + (start + length) * quarter)
        for start, length in busy
    )
    advisor = Availability(1, every_day(*weekly), busy=intervals)
    want = 0
    day = first
    while day <= last:
        if not BE.is_closed(day):
            for start, end in weekly:
                moment = datetime.datetime.combine(day, start, tzinfo=BERLIN).astimezone(UTC)
                stop = datetime.datetime.combine(day, end, tzinfo=BERLIN).astimezone(UTC)
                while moment < stop:
                    step = min(quarter, stop - moment)
                    if not any(b <= moment < e for b, e in intervals):
                        want += step // timedelta(minutes=1)
                    moment += step
        day += timedelta(days=1)
    assert offered(advisor, first, last) == timedelta(minutes=want)
