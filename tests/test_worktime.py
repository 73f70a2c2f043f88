"""Working-time calendar: deadlines over office hours, holidays, short days and DST.

Every expected value is worked out by hand (default office: Mon–Thu 08–16, Fri 08–13).
Reference week without holidays: Mon 2026-02-02 … Sun 2026-02-08.
"""

import datetime
import random
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest

from routing import worktime
from routing.worktime import WorkCalendar, calendar_default, holiday_dates

BERLIN = ZoneInfo("Europe/Berlin")
UTC = datetime.UTC


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime.datetime:
    """Berlin local time."""
    return datetime.datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


FULL = ((time(8), time(16)),)
DEFAULT = calendar_default()
BB = calendar_default(state="BB")
NO_SHORT_DAYS = WorkCalendar(hours={0: FULL, 1: FULL, 2: FULL, 3: FULL, 4: ((time(8), time(13)),)})
CLOSED = WorkCalendar(
    hours=DEFAULT.hours,
    closed_days=frozenset({datetime.date(2026, 2, 3)}),
    short_days=DEFAULT.short_days,
)
LUNCH = WorkCalendar(
    hours={d: ((time(8), time(12)), (time(13), time(16))) for d in range(5)},
    short_days={(12, 24): time(14)},
)
# Open on Sunday nights only, so the DST switch (02:00/03:00) falls inside an interval.
NIGHT = WorkCalendar(hours={6: ((time(0), time(6)),)})


@pytest.mark.parametrize(
    ("calendar", "start", "duration", "expected"),
    [
        pytest.param(DEFAULT, at(2026, 2, 2, 9), hours(2), at(2026, 2, 2, 11), id="within-day"),
        pytest.param(DEFAULT, at(2026, 2, 2, 15), hours(3), at(2026, 2, 3, 10), id="over-night"),
        pytest.param(
            DEFAULT, at(2026, 2, 2, 6, 30), hours(1), at(2026, 2, 2, 9), id="before-opening"
        ),
        pytest.param(DEFAULT, at(2026, 2, 2, 17), hours(1), at(2026, 2, 3, 9), id="after-closing"),
        pytest.param(DEFAULT, at(2026, 2, 7, 10), hours(1), at(2026, 2, 9, 9), id="saturday"),
        pytest.param(
            DEFAULT, at(2026, 2, 8, 10), timedelta(minutes=30), at(2026, 2, 9, 8, 30), id="sunday"
        ),
        pytest.param(
            DEFAULT, at(2026, 2, 6, 12), hours(2), at(2026, 2, 9, 9), id="friday-short-hours"
        ),
        pytest.param(
            DEFAULT, at(2026, 2, 6, 12), hours(1), at(2026, 2, 6, 13), id="ends-at-closing"
        ),
        pytest.param(
            DEFAULT, at(2026, 2, 7, 10), timedelta(0), at(2026, 2, 9, 8), id="zero-on-weekend"
        ),
        pytest.param(
            DEFAULT, at(2026, 2, 2, 11), timedelta(0), at(2026, 2, 2, 11), id="zero-in-hours"
        ),
        # 6 + 8 + 8 + 8 + 5 = 35 h until Friday's closing, 2 h more on Monday.
        pytest.param(
            DEFAULT, at(2026, 2, 2, 10), hours(37), at(2026, 2, 9, 10), id="one-working-week"
        ),
        pytest.param(
            DEFAULT,
            datetime.datetime(2026, 2, 2, 8, tzinfo=UTC),  # 09:00 in Berlin (CET)
            hours(1),
            at(2026, 2, 2, 10),
            id="utc-input",
        ),
        pytest.param(
            DEFAULT,
            datetime.datetime(2026, 2, 6, 13, 30, tzinfo=UTC),  # Fri 14:30 in Berlin, closed
            hours(1),
            at(2026, 2, 9, 9),
            id="utc-input-after-closing",
        ),
        # Good Friday 26.3.2027 and Easter Monday 29.3.2027.
        pytest.param(DEFAULT, at(2027, 3, 25, 15), hours(2), at(2027, 3, 30, 9), id="easter-2027"),
        # Tag der Deutschen Einheit, Friday 3.10.2025.
        pytest.param(
            DEFAULT, at(2025, 10, 2, 15), hours(2), at(2025, 10, 6, 9), id="german-unity-day"
        ),
        # Reformationstag, Friday 31.10.2025: holiday in Brandenburg, not in Berlin.
        pytest.param(
            DEFAULT, at(2025, 10, 30, 15), hours(2), at(2025, 10, 31, 9), id="reformation-BE"
        ),
        pytest.param(BB, at(2025, 10, 30, 15), hours(2), at(2025, 11, 3, 9), id="reformation-BB"),
        # Wed 24.12.2025 open 08–12.
        pytest.param(
            DEFAULT, at(2025, 12, 23, 15), hours(3), at(2025, 12, 24, 10), id="christmas-eve"
        ),
        # 1 h Tue + 4 h Wed 24.12.; 25./26.12. holidays, weekend; 1 h on Mon 29.12.
        pytest.param(DEFAULT, at(2025, 12, 23, 15), hours(6), at(2025, 12, 29, 9), id="christmas"),
        pytest.param(
            NO_SHORT_DAYS,
            at(2025, 12, 23, 15),
            hours(6),
            at(2025, 12, 24, 13),
            id="christmas-eve-without-short-days",
        ),
        # Wed 31.12.2025 until 12:00, 1.1.2026 holiday.
        pytest.param(
            DEFAULT, at(2025, 12, 31, 11), hours(2), at(2026, 1, 2, 9), id="new-years-eve"
        ),
        # Fri 24.12.2027: 12:00 cuts the Friday hours, 25./26.12. fall on the weekend.
        pytest.param(
            DEFAULT, at(2027, 12, 24, 11), hours(2), at(2027, 12, 27, 9), id="christmas-friday"
        ),
        pytest.param(
            CLOSED, at(2026, 2, 2, 15), hours(2), at(2026, 2, 4, 9), id="company-closing-day"
        ),
        pytest.param(LUNCH, at(2026, 2, 2, 11), hours(2), at(2026, 2, 2, 14), id="lunch-break"),
        # DST starts Sun 29.3.2026; Fri 1 h + Mon 2 h, Monday is CEST.
        pytest.param(
            DEFAULT, at(2026, 3, 27, 12), hours(3), at(2026, 3, 30, 10), id="dst-spring-weekend"
        ),
        # DST ends Sun 25.10.2026; Monday is CET again.
        pytest.param(
            DEFAULT, at(2026, 10, 23, 12), hours(3), at(2026, 10, 26, 10), id="dst-autumn-weekend"
        ),
        # 00:00 CET = 23:00 UTC; + 3 h real time = 02:00 UTC = 04:00 CEST.
        pytest.param(
            NIGHT, at(2026, 3, 29, 0), hours(3), at(2026, 3, 29, 4), id="dst-spring-inside"
        ),
        # 00:00 CEST = 22:00 UTC; + 4 h real time = 02:00 UTC = 03:00 CET.
        pytest.param(
            NIGHT, at(2026, 10, 25, 0), hours(4), at(2026, 10, 25, 3), id="dst-autumn-inside"
        ),
    ],
)
def test_add(calendar, start, duration, expected):
    result = calendar.add(start=start, duration=duration)
    assert result == expected
    assert result.tzinfo == BERLIN
    # Same wall time and offset, not merely the same instant.
    assert result.replace(tzinfo=None) == expected.replace(tzinfo=None)
    assert result.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    ("start", "duration", "offset"),
    [
        pytest.param(at(2026, 3, 27, 12), hours(3), hours(2), id="spring-cest"),
        pytest.param(at(2026, 10, 23, 12), hours(3), hours(1), id="autumn-cet"),
    ],
)
def test_add_across_dst_has_local_offset(start, duration, offset):
    result = DEFAULT.add(start=start, duration=duration)
    assert result.utcoffset() == offset
    assert (result.hour, result.minute) == (10, 0)


@pytest.mark.parametrize(
    ("calendar", "start", "end", "expected"),
    [
        pytest.param(DEFAULT, at(2026, 2, 2, 9), at(2026, 2, 2, 11), hours(2), id="within-day"),
        pytest.param(DEFAULT, at(2026, 2, 2, 15), at(2026, 2, 3, 10), hours(3), id="over-night"),
        pytest.param(DEFAULT, at(2026, 2, 6), at(2026, 2, 9), hours(5), id="friday-to-monday"),
        pytest.param(DEFAULT, at(2026, 2, 7), at(2026, 2, 8, 23), hours(0), id="weekend"),
        pytest.param(DEFAULT, at(2026, 2, 2), at(2026, 2, 9), hours(37), id="full-week"),
        pytest.param(DEFAULT, at(2026, 2, 3), at(2026, 2, 2), hours(0), id="end-before-start"),
        pytest.param(DEFAULT, at(2026, 2, 3, 9), at(2026, 2, 3, 9), hours(0), id="empty"),
        pytest.param(
            DEFAULT,
            datetime.datetime(2026, 2, 2, 8, tzinfo=UTC),  # 09:00 Berlin
            datetime.datetime(2026, 2, 2, 12, tzinfo=UTC),  # 13:00 Berlin
            hours(4),
            id="utc-input",
        ),
        # Mon–Thu 32 h, Good Friday and Easter Monday closed, Tue 30.3. 8 h.
        pytest.param(DEFAULT, at(2027, 3, 22), at(2027, 3, 31), hours(40), id="easter-2027"),
        pytest.param(DEFAULT, at(2025, 10, 31), at(2025, 11, 1), hours(5), id="reformation-BE"),
        pytest.param(BB, at(2025, 10, 31), at(2025, 11, 1), hours(0), id="reformation-BB"),
        # Mon 22.12. 8 h, Tue 8 h, Wed 24.12. 4 h, Thu/Fri holidays.
        pytest.param(DEFAULT, at(2025, 12, 22), at(2025, 12, 27), hours(20), id="christmas-week"),
        pytest.param(CLOSED, at(2026, 2, 2), at(2026, 2, 5), hours(16), id="company-closing-day"),
        pytest.param(DEFAULT, at(2026, 3, 27), at(2026, 3, 31), hours(13), id="dst-spring-weekend"),
        pytest.param(
            DEFAULT, at(2026, 10, 23), at(2026, 10, 27), hours(13), id="dst-autumn-weekend"
        ),
        # 00:00–06:00 local is 5 h real time in spring and 7 h in autumn.
        pytest.param(NIGHT, at(2026, 3, 29), at(2026, 3, 30), hours(5), id="dst-spring-inside"),
        pytest.param(NIGHT, at(2026, 10, 25), at(2026, 10, 26), hours(7), id="dst-autumn-inside"),
    ],
)
def test_elapsed(calendar, start, end, expected):
    assert calendar.elapsed(start=start, end=end) == expected


@pytest.mark.parametrize(
    ("calendar", "start", "days", "expected"),
    [
        pytest.param(DEFAULT, at(2026, 2, 4, 10), 2, at(2026, 2, 6, 13), id="wed-plus-2"),
        pytest.param(DEFAULT, at(2026, 2, 4, 17), 2, at(2026, 2, 6, 13), id="wed-after-closing"),
        pytest.param(DEFAULT, at(2026, 2, 4, 6), 1, at(2026, 2, 5, 16), id="wed-before-opening"),
        pytest.param(DEFAULT, at(2026, 2, 7, 10), 1, at(2026, 2, 9, 16), id="saturday"),
        pytest.param(DEFAULT, at(2026, 2, 8, 10), 1, at(2026, 2, 9, 16), id="sunday"),
        pytest.param(DEFAULT, at(2026, 2, 2, 10), 5, at(2026, 2, 9, 16), id="one-week"),
        pytest.param(DEFAULT, at(2027, 3, 25, 10), 1, at(2027, 3, 30, 16), id="easter-2027"),
        pytest.param(DEFAULT, at(2027, 3, 25, 10), 3, at(2027, 4, 1, 16), id="easter-2027-plus-3"),
        pytest.param(DEFAULT, at(2025, 10, 30, 10), 1, at(2025, 10, 31, 13), id="reformation-BE"),
        pytest.param(BB, at(2025, 10, 30, 10), 1, at(2025, 11, 3, 16), id="reformation-BB"),
        pytest.param(DEFAULT, at(2025, 12, 23, 10), 1, at(2025, 12, 24, 12), id="christmas-eve"),
        pytest.param(DEFAULT, at(2025, 12, 23, 10), 2, at(2025, 12, 29, 16), id="christmas"),
        pytest.param(CLOSED, at(2026, 2, 2, 10), 1, at(2026, 2, 4, 16), id="company-closing-day"),
        pytest.param(DEFAULT, at(2026, 3, 26, 10), 2, at(2026, 3, 30, 16), id="dst-spring"),
        pytest.param(
            DEFAULT,
            datetime.datetime(2026, 2, 3, 23, 30, tzinfo=UTC),  # already Wed 00:30 in Berlin
            1,
            at(2026, 2, 5, 16),
            id="utc-input-next-local-day",
        ),
    ],
)
def test_add_working_days(calendar, start, days, expected):
    result = calendar.add_working_days(start=start, days=days)
    assert result == expected
    assert result.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    ("calendar", "day", "expected"),
    [
        pytest.param(DEFAULT, datetime.date(2026, 2, 2), [(8, 16)], id="monday"),
        pytest.param(DEFAULT, datetime.date(2026, 2, 6), [(8, 13)], id="friday"),
        pytest.param(DEFAULT, datetime.date(2026, 2, 7), [], id="saturday"),
        pytest.param(DEFAULT, datetime.date(2025, 12, 24), [(8, 12)], id="christmas-eve"),
        pytest.param(NO_SHORT_DAYS, datetime.date(2025, 12, 24), [(8, 16)], id="no-short-days"),
        pytest.param(DEFAULT, datetime.date(2025, 12, 25), [], id="christmas-day"),
        pytest.param(DEFAULT, datetime.date(2025, 12, 26), [], id="boxing-day"),
        pytest.param(DEFAULT, datetime.date(2025, 12, 31), [(8, 12)], id="new-years-eve"),
        pytest.param(DEFAULT, datetime.date(2025, 10, 3), [], id="german-unity-day"),
        pytest.param(DEFAULT, datetime.date(2025, 10, 31), [(8, 13)], id="reformation-BE"),
        pytest.param(BB, datetime.date(2025, 10, 31), [], id="reformation-BB"),
        pytest.param(CLOSED, datetime.date(2026, 2, 3), [], id="company-closing-day"),
        pytest.param(LUNCH, datetime.date(2026, 2, 2), [(8, 12), (13, 16)], id="lunch-break"),
        # 14:00 cut: the morning stays, the afternoon is shortened.
        pytest.param(LUNCH, datetime.date(2025, 12, 24), [(8, 12), (13, 14)], id="lunch-short"),
    ],
)
def test_intervals_and_is_working_day(calendar, day, expected):
    spans = calendar.intervals(day)
    assert [(opens.hour, closes.hour) for opens, closes in spans] == expected
    assert all(opens.date() == day == closes.date() for opens, closes in spans)
    assert all(opens.tzinfo == BERLIN for opens, _ in spans)
    assert calendar.is_working_day(day) is bool(expected)


def test_short_day_before_opening_closes_the_day():
    calendar = WorkCalendar(hours={2: FULL}, short_days={(12, 24): time(7)})
    assert calendar.intervals(datetime.date(2025, 12, 24)) == []
    assert calendar.is_working_day(datetime.date(2025, 12, 24)) is False


def test_dst_day_interval_is_eight_hours():
    # Sunday 29.3.2026 has only 23 hours, the office day still is 08:00–16:00.
    calendar = WorkCalendar(hours={6: FULL})
    [(opens, closes)] = calendar.intervals(datetime.date(2026, 3, 29))
    assert opens.utcoffset() == hours(2)
    assert closes - opens == hours(8)


@pytest.mark.parametrize(
    "calendar", [DEFAULT, BB, LUNCH, NIGHT], ids=["BE", "BB", "lunch", "night"]
)
@pytest.mark.parametrize("seed", range(5))
def test_elapsed_is_inverse_of_add(calendar, seed):
    rng = random.Random(seed)
    first = at(2025, 1, 1)
    for _ in range(20):
        start = first + timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
        duration = timedelta(minutes=rng.randrange(80 * 60))
        end = calendar.add(start=start, duration=duration)
        assert end >= start
        assert calendar.elapsed(start=start, end=end) == duration

        # The other way round: add() finds the earliest moment with that much open time,
        # which is `later` itself or the last closing before it.
        later = start + timedelta(minutes=rng.randrange(10 * 24 * 60))
        spent = calendar.elapsed(start=start, end=later)
        reached = calendar.add(start=start, duration=spent)
        if spent:
            assert reached <= later
            assert calendar.elapsed(start=reached, end=later) == timedelta(0)


def test_calendar_default():
    calendar = calendar_default(state="BY")
    assert calendar.state == "BY"
    assert calendar.tz == "Europe/Berlin"
    assert set(calendar.hours) == {0, 1, 2, 3, 4}
    assert calendar.short_days == {(12, 24): time(12), (12, 31): time(12)}


def test_holiday_dates_are_the_states_public_holidays():
    berlin = holiday_dates("BE", 2026)
    assert datetime.date(2026, 4, 3) in berlin  # Karfreitag, everywhere
    assert datetime.date(2026, 3, 8) in berlin  # Frauentag, only in Berlin and MV
    assert datetime.date(2026, 3, 8) not in holiday_dates("BB", 2026)
    assert datetime.date(2026, 10, 31) in holiday_dates("BB", 2026)  # Reformationstag
    assert datetime.date(2026, 10, 31) not in berlin
    assert all(day.year == 2026 for day in berlin)
    # The old private name stays an alias of the one cached function.
    assert worktime._holiday_dates is holiday_dates


NAIVE = datetime.datetime(2026, 2, 2, 9)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: DEFAULT.add(start=NAIVE, duration=hours(1)), id="add-naive"),
        pytest.param(
            lambda: DEFAULT.elapsed(start=NAIVE, end=at(2026, 2, 3)), id="elapsed-naive-start"
        ),
        pytest.param(
            lambda: DEFAULT.elapsed(start=at(2026, 2, 1), end=NAIVE), id="elapsed-naive-end"
        ),
        pytest.param(
            lambda: DEFAULT.add_working_days(start=NAIVE, days=1), id="working-days-naive"
        ),
        pytest.param(
            lambda: DEFAULT.add(start=at(2026, 2, 2), duration=-hours(1)), id="negative-duration"
        ),
        pytest.param(
            lambda: DEFAULT.add_working_days(start=at(2026, 2, 2), days=0), id="zero-days"
        ),
        pytest.param(
            lambda: WorkCalendar(hours={}).add(start=at(2026, 2, 2), duration=hours(1)),
            id="empty-hours-add",
        ),
        pytest.param(
            lambda: WorkCalendar(hours={}).add_working_days(start=at(2026, 2, 2), days=1),
            id="empty-hours-working-days",
        ),
        pytest.param(
            lambda: WorkCalendar(hours={0: ((time(16), time(8)),)}), id="inverted-interval"
        ),
        pytest.param(
            lambda: WorkCalendar(hours={0: ((time(8), time(12)), (time(11), time(16)))}),
            id="overlapping-intervals",
        ),
        pytest.param(lambda: WorkCalendar(hours={7: FULL}), id="bad-weekday"),
        pytest.param(lambda: WorkCalendar(hours={0: FULL}, tz="Mars/Olympus"), id="unknown-tz"),
        pytest.param(lambda: WorkCalendar(hours={0: FULL}, state="XX"), id="unknown-state"),
    ],
)
def test_errors(call):
    with pytest.raises(ValueError):
        call()
