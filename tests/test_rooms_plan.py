"""When a room is free (rooms.plan, pure): nights between check-in and
check-out, whole hours within the room's hours, the cleaning buffer,
notice and horizon, and the DST days of Europe/Berlin."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rooms import plan

BERLIN = ZoneInfo("Europe/Berlin")
UTC = datetime.UTC
T = datetime.time


def flat(**changes) -> plan.Rules:
    values = {
        "by_night": True, "check_in": T(15), "check_out": T(10), "opens": T(8), "closes": T(22),
        "cleaning": datetime.timedelta(hours=3), "min_units": 1, "max_units": 14,
        "notice": datetime.timedelta(hours=24), "horizon": datetime.timedelta(days=365),
        "zone": BERLIN,
    }  # fmt: skip
    return plan.Rules(**{**values, **changes})


def hall(**changes) -> plan.Rules:
    return flat(by_night=False, min_units=2, max_units=10, cleaning=datetime.timedelta(hours=1),
                **changes)  # fmt: skip


NOW = datetime.datetime(2026, 3, 1, 12, tzinfo=BERLIN)


def test_a_stay_runs_from_check_in_to_check_out_and_counts_nights():
    span = plan.stay(flat(), datetime.date(2026, 3, 10), datetime.date(2026, 3, 13))
    assert span.units == 3
    assert span.starts == datetime.datetime(2026, 3, 10, 14, tzinfo=UTC)  # 15:00 CET
    assert span.ends == datetime.datetime(2026, 3, 13, 9, tzinfo=UTC)  # 10:00 CET
    assert span.busy_until == span.ends + datetime.timedelta(hours=3)


def test_a_stay_over_the_spring_change_keeps_local_times():
    span = plan.stay(flat(), datetime.date(2026, 3, 28), datetime.date(2026, 3, 30))
    assert span.starts.astimezone(BERLIN).time() == T(15)
    assert span.ends.astimezone(BERLIN).time() == T(10)
    assert span.starts == datetime.datetime(2026, 3, 28, 14, tzinfo=UTC)  # CET
    assert span.ends == datetime.datetime(2026, 3, 30, 8, tzinfo=UTC)  # CEST
    assert span.units == 2


def test_a_stay_over_the_autumn_change_keeps_local_times():
    span = plan.stay(flat(), datetime.date(2026, 10, 24), datetime.date(2026, 10, 26))
    assert span.starts == datetime.datetime(2026, 10, 24, 13, tzinfo=UTC)  # CEST
    assert span.ends == datetime.datetime(2026, 10, 26, 9, tzinfo=UTC)  # CET


@pytest.mark.parametrize(
    "arrival, departure, code",
    [((3, 10), (3, 10), "departure_first"), ((3, 10), (3, 9), "departure_first"),
     ((3, 1), (3, 20), "too_long")],
)  # fmt: skip
def test_stays_the_room_does_not_allow_are_refused(arrival, departure, code):
    with pytest.raises(plan.Refused) as refused:
        plan.stay(flat(), datetime.date(2026, *arrival), datetime.date(2026, *departure))
    assert refused.value.code == code


def test_a_stay_shorter_than_the_minimum_is_refused():
    with pytest.raises(plan.Refused) as refused:
        plan.stay(flat(min_units=2), datetime.date(2026, 3, 10), datetime.date(2026, 3, 11))
    assert (refused.value.code, refused.value.params) == ("too_short", {"least": 2})


@pytest.mark.parametrize(
    "start, end, code",
    [(T(14, 30), T(18), "whole_hours"), (T(14), T(18, 15), "whole_hours"),
     (T(18), T(14), "end_first"), (T(7), T(10), "outside_hours"), (T(20), T(23), "outside_hours"),
     (T(14), T(15), "too_short"), (T(8), T(19), "too_long")],
)  # fmt: skip
def test_hours_the_room_does_not_allow_are_refused(start, end, code):
    with pytest.raises(plan.Refused) as refused:
        plan.hours(hall(), datetime.date(2026, 3, 10), start, end)
    assert refused.value.code == code


def test_hours_on_the_autumn_change_day_are_local_wall_clock_hours():
    span = plan.hours(hall(), datetime.date(2026, 10, 25), T(14), T(18))
    assert span.units == 4
    assert span.starts == datetime.datetime(2026, 10, 25, 13, tzinfo=UTC)  # CET again


def _busy(*spans: plan.Span) -> list[plan.Interval]:
    return [(span.starts, span.busy_until) for span in spans]


def test_departure_day_can_be_the_next_arrival_day_but_not_within_the_cleaning():
    first = plan.stay(flat(), datetime.date(2026, 3, 10), datetime.date(2026, 3, 12))
    nxt = plan.stay(flat(), datetime.date(2026, 3, 12), datetime.date(2026, 3, 14))
    plan.bookable(flat(), nxt, _busy(first), NOW)  # 10:00 + 3 h cleaning < 15:00
    long_cleaning = flat(cleaning=datetime.timedelta(hours=6))
    first = plan.stay(long_cleaning, datetime.date(2026, 3, 10), datetime.date(2026, 3, 12))
    with pytest.raises(plan.Refused, match="taken"):
        plan.bookable(long_cleaning, nxt, _busy(first), NOW)


def test_overlapping_stays_are_refused():
    first = plan.stay(flat(), datetime.date(2026, 3, 10), datetime.date(2026, 3, 12))
    inside = plan.stay(flat(), datetime.date(2026, 3, 11), datetime.date(2026, 3, 12))
    around = plan.stay(flat(), datetime.date(2026, 3, 9), datetime.date(2026, 3, 14))
    for span in (inside, around):
        with pytest.raises(plan.Refused, match="taken"):
            plan.bookable(flat(), span, _busy(first), NOW)


def test_notice_past_and_horizon():
    rules = flat()
    tomorrow = plan.stay(rules, datetime.date(2026, 3, 2), datetime.date(2026, 3, 3))
    plan.bookable(rules, tomorrow, [], NOW)  # 15:00 tomorrow is 27 h ahead
    with pytest.raises(plan.Refused, match="notice"):
        plan.bookable(rules, tomorrow, [], NOW + datetime.timedelta(hours=4))
    with pytest.raises(plan.Refused, match="past"):
        plan.bookable(rules, tomorrow, [], NOW + datetime.timedelta(days=2))
    far = plan.stay(rules, datetime.date(2027, 3, 2), datetime.date(2027, 3, 3))
    with pytest.raises(plan.Refused, match="horizon"):
        plan.bookable(rules, far, [], NOW)


def test_the_notice_boundary_on_the_spring_change_day_is_exact():
    rules = flat(notice=datetime.timedelta(hours=2))
    span = plan.stay(rules, datetime.date(2026, 3, 29), datetime.date(2026, 3, 30))
    # 15:00 CEST is 13:00 UTC; two hours before is 11:00 UTC = 13:00 CEST.
    plan.bookable(rules, span, [], datetime.datetime(2026, 3, 29, 11, tzinfo=UTC))
    with pytest.raises(plan.Refused, match="notice"):
        plan.bookable(rules, span, [], datetime.datetime(2026, 3, 29, 11, 1, tzinfo=UTC))


def test_the_month_marks_nights_that_can_begin():
    first = plan.stay(flat(), datetime.date(2026, 3, 10), datetime.date(2026, 3, 12))
    weeks = plan.month_plan(flat(), 2026, 3, _busy(first), NOW)
    days = {day.date.day: day.state for week in weeks for day in week if day}
    assert len(days) == 31
    assert days[1] == "closed"  # today, within the notice
    assert days[2] == "free"
    # The night before ends at 10:00 (+3 h cleaning): still free.
    assert (days[9], days[10], days[11], days[12]) == ("free", "taken", "taken", "free")
    assert all(len(week) == 7 for week in weeks)
    assert weeks[0][:6] == [None] * 6  # 1 March 2026 is a Sunday


def test_a_common_room_day_lists_its_free_hours_and_is_partly_taken():
    rules = hall()
    day = datetime.date(2026, 3, 10)
    booked = plan.hours(rules, day, T(14), T(18))  # busy until 19:00 with the cleaning
    result = plan.day_plan(rules, day, _busy(booked), NOW)
    assert result.state == "partly"
    # A two-hour booking must end (plus an hour's cleaning) by 14:00, or begin at 19:00.
    assert result.free == ((T(8), T(13)), (T(19), T(22)))
    assert plan.day_plan(rules, day, [], NOW).state == "free"
    assert plan.day_plan(rules, day, [], NOW).free == ((T(8), T(22)),)
    whole = plan.hours(rules, day, T(8), T(18))
    evening = plan.hours(rules, day, T(19), T(22))
    assert plan.day_plan(rules, day, _busy(whole, evening), NOW).state == "taken"
    assert plan.day_plan(rules, datetime.date(2026, 2, 27), [], NOW).state == "closed"


@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(1, 5)), max_size=6),
    st.integers(0, 45),
    st.integers(1, 6),
)
def test_a_day_shown_free_can_be_booked_and_a_taken_one_cannot(stays, arrival, nights):
    """Property: the calendar and the booking check agree on every night."""
    rules = flat(notice=datetime.timedelta(0))
    start = datetime.date(2026, 3, 1)
    busy = []
    for offset, length in stays:
        span = plan.stay(rules, start + datetime.timedelta(offset),
                         start + datetime.timedelta(offset + length))  # fmt: skip
        if not any(s < span.busy_until and span.starts < u for s, u in busy):
            busy.append((span.starts, span.busy_until))
    now = datetime.datetime(2026, 2, 1, tzinfo=UTC)
    day = start + datetime.timedelta(arrival)
    one_night = plan.stay(rules, day, day + datetime.timedelta(1))
    state = plan.day_plan(rules, day, busy, now).state
    try:
        plan.bookable(rules, one_night, busy, now)
        assert state == "free"
    except plan.Refused as refused:
        assert refused.code == "taken" and state == "taken"
