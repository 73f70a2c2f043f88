"""The dashboard's figures (issue 14) equal an independent recomputation
in Python on small random data sets (hypothesis), on SQLite and
PostgreSQL: incoming per type, channel, team and day; the backlog's age
buckets; first response and resolution percentiles; SLA attainment;
reopens and ratings; hours offered and booked per advisor, appointments
held and missed; every table of every part and its CSV."""

import csv
import datetime
import html
import io
import re
from collections import Counter
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.db.models import Value
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appointments.models import (
    Advisor,
    Appointment,
    AppointmentType,
    AvailabilityOverride,
    WeeklyHours,
)
from backoffice.views.insights import EXPORTS
from cooperative.models import ClosingDay, Cooperative, Estate
from core.stats import Percentile, Seconds, percentile
from insights import selectors
from insights.selectors import Scope
from routing.models import Absence, Team
from routing.worktime import holiday_dates
from tests.factories import appointment_put, ticket_create
from tests.helpers import MOST, de, measured, otp_verify, repeated
from tickets.models import Channel, RequestType, Status, Ticket, TicketEvent

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime.datetime(2027, 3, 20, 12, 0, tzinfo=BERLIN)
SCOPE = Scope(first_day=datetime.date(2027, 3, 6), last_day=datetime.date(2027, 3, 19))

pytestmark = pytest.mark.django_db


def test_percentile_in_sql_equals_postgresqls_definition(cast):
    """gp_percentile (SQLite) and percentile_cont (PostgreSQL) against the
    same definition in Python, interpolation and NULLs included."""
    hours = [3.0, 1.0, 10.0, 4.0, None]
    for value in hours:
        ticket_create(
            created_at=NOW,
            first_response_at=NOW + datetime.timedelta(hours=value) if value else None,
        )
    response = Seconds("first_response_at", "created_at")
    for fraction, want in [(0.0, 1.0), (0.25, 2.5), (0.5, 3.5), (0.9, 8.2), (1.0, 10.0)]:
        got = Ticket.objects.aggregate(p=Percentile(response, fraction))["p"] / 3600
        assert got == pytest.approx(want, abs=1e-4)
        assert percentile(hours, fraction) == pytest.approx(want)
    with pytest.raises(ValueError):
        Percentile(Value(1.0), 1.5)
    assert percentile([], 0.5) is None
    assert Ticket.objects.filter(pk=-1).aggregate(p=Percentile(response, 0.5))["p"] is None


def test_seconds_between_two_datetimes_in_sql(cast):
    ticket = ticket_create(
        created_at=NOW - datetime.timedelta(hours=5, minutes=30),
        first_response_at=NOW,
    )
    seconds = (
        Ticket.objects.filter(pk=ticket.pk)
        .annotate(s=Seconds("first_response_at", "created_at"))
        .values_list("s", flat=True)
        .get()
    )
    assert seconds == pytest.approx(5.5 * 3600, abs=0.01)


SPEC = st.fixed_dictionaries(
    {
        "day": st.integers(0, 20),  # days before NOW; 1..14 fall in SCOPE
        "hour": st.integers(0, 23),
        "type": st.sampled_from(["schadensmeldung", "mitgliedsbescheinigung", "allgemein"]),
        "channel": st.sampled_from([Channel.PORTAL, Channel.PHONE, Channel.EMAIL]),
        "team": st.sampled_from(["Technik", "Mitgliederwesen"]),
        "response": st.one_of(st.none(), st.floats(0.1, 300)),
        "resolution": st.one_of(st.none(), st.floats(0.1, 900)),
        "rating": st.one_of(st.none(), st.integers(1, 5)),
        "breached": st.booleans(),
        "reopened": st.booleans(),
    }
)


def _plant(specs):
    teams = {
        team.name: team for team in Team.objects.filter(name__in=["Technik", "Mitgliederwesen"])
    }
    types = {
        t.slug: t
        for t in RequestType.objects.filter(
            slug__in=["schadensmeldung", "mitgliedsbescheinigung", "allgemein"]
        )
    }
    planted = []
    for spec in specs:
        created = (
            NOW - datetime.timedelta(days=spec["day"]) + datetime.timedelta(hours=spec["hour"] - 12)
        ).astimezone(datetime.UTC)  # in UTC: hours added to a Berlin time are wall-clock hours
        finished = spec["resolution"] is not None
        ticket = ticket_create(
            request_type=types[spec["type"]],
            channel=spec["channel"],
            team=teams[spec["team"]],
            created_at=created,
            first_response_at=created + datetime.timedelta(hours=spec["response"])
            if spec["response"]
            else None,
            resolved_at=created + datetime.timedelta(hours=spec["resolution"])
            if finished
            else None,
            status=Status.RESOLVED if finished else Status.IN_PROGRESS,
            rating=spec["rating"] if finished else None,
            breached_at=created if spec["breached"] else None,
            first_response_breached_at=None,
        )
        if spec["reopened"] and finished:
            TicketEvent.objects.create(
                ticket=ticket, kind=TicketEvent.Kind.STATUS, public=True,
                data={"from": Status.RESOLVED, "to": Status.IN_PROGRESS},
            )  # fmt: skip
        planted.append((spec, created, ticket))
    return planted


def _in_scope(created):
    return SCOPE.start <= created < SCOPE.end


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(specs=st.lists(SPEC, min_size=1, max_size=7))
def test_the_figures_equal_a_recomputation(cast, specs):
    with transaction.atomic():
        Ticket.objects.all().delete()
        planted = _plant(specs)
        inside = [(spec, ticket) for spec, created, ticket in planted if _in_scope(created)]

        by_type = {
            row.key: row.values["count"] for row in selectors.incoming_by(SCOPE, "request_type")
        }
        assert by_type == dict(Counter(str(t.request_type_id) for _, t in inside))
        by_channel = {
            row.key: row.values["count"] for row in selectors.incoming_by(SCOPE, "channel")
        }
        assert by_channel == dict(Counter(s["channel"] for s, _ in inside))
        per_day = dict(selectors.incoming_per_day(SCOPE))
        assert sum(per_day.values()) == len(inside)
        expected_days = Counter(t.created_at.astimezone(BERLIN).date() for _, t in inside)
        assert {d: c for d, c in per_day.items() if c} == dict(expected_days)

        for row in selectors.timings(SCOPE, by="team"):
            mine = [(s, t) for s, t in inside if str(t.team_id) == row.key]
            responses = [s["response"] for s, _ in mine if s["response"]]
            resolutions = [s["resolution"] for s, _ in mine if s["resolution"] is not None]
            assert row.values["count"] == len(mine)
            for name, values, fraction in [
                ("response_median", responses, 0.5), ("response_p90", responses, 0.9),
                ("resolution_median", resolutions, 0.5), ("resolution_p90", resolutions, 0.9),
            ]:  # fmt: skip
                want = percentile(values, fraction)
                assert (row.values[name] is None) == (want is None)
                if want is not None:
                    assert row.values[name] == pytest.approx(want, rel=1e-6, abs=1e-4)
            with_sla = [t for _, t in mine if t.sla_policy_id]
            breached = [t for s, t in mine if t.sla_policy_id and s["breached"]]
            assert (row.values["with_sla"], row.values["breached"]) == (
                len(with_sla),
                len(breached),
            )

        figures = selectors.reopened_and_rated(SCOPE)
        finished = [s for s, _ in inside if s["resolution"] is not None]
        assert figures["finished"] == len(finished)
        assert figures["reopened"] == sum(1 for s in finished if s["reopened"])
        ratings = [s["rating"] for s in finished if s["rating"]]
        assert figures["rated"] == len(ratings)
        if ratings:
            assert figures["rating_average"] == pytest.approx(sum(ratings) / len(ratings))
        transaction.set_rollback(True)


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(ages=st.lists(st.tuples(st.integers(0, 60), st.booleans()), min_size=1, max_size=8))
def test_the_backlog_buckets_equal_a_recomputation(cast, ages):
    with transaction.atomic():
        Ticket.objects.all().delete()
        for age, finished in ages:
            ticket_create(
                created_at=NOW - datetime.timedelta(days=age, hours=1),
                status=Status.RESOLVED if finished else Status.IN_PROGRESS,
            )
        rows = selectors.backlog(SCOPE, by="team", now=NOW)
        open_ages = [age for age, finished in ages if not finished]
        total = sum(row.values["total"] for row in rows)
        assert total == len(open_ages)
        buckets = Counter()
        for row in rows:
            for key, _young, _old in selectors.AGE_BUCKETS:
                buckets[key] += row.values[key]
        want = Counter(
            "0_2" if age <= 2 else "3_7" if age <= 7 else "8_30" if age <= 30 else "31"
            for age in open_ages
        )
        assert {k: v for k, v in buckets.items() if v} == dict(want)
        transaction.set_rollback(True)


def test_the_scope_narrows_to_an_estate_and_a_team(cast):
    inside = ticket_create(created_at=NOW - datetime.timedelta(days=3))
    other_team = Team.objects.exclude(pk=inside.team_id).first()
    ticket_create(created_at=NOW - datetime.timedelta(days=3), team=other_team)
    estate = inside.unit.building.estate_id
    scoped = Scope(SCOPE.first_day, SCOPE.last_day, estate_id=estate, team_id=inside.team_id)
    rows = selectors.incoming_by(scoped, "team")
    assert [(row.key, row.values["count"]) for row in rows] == [(str(inside.team_id), 1)]
    assert rows[0].filters["estate"] == str(estate) and rows[0].filters["team"] == str(
        inside.team_id
    )
    assert connection.vendor in ("sqlite", "postgresql")


# The page ---------------------------------------------------------------------------------


PAGE = "/bearbeitung/ueberblick/"


@pytest.fixture
def lead(cast):
    client = Client()
    client.force_login(cast.tom)
    otp_verify(client, cast.tom)
    return client


def _links(page: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'href="(/bearbeitung/\?[^"]+)"', page)]


def test_every_count_opens_exactly_its_requests_in_the_inbox(cast, lead):
    now = timezone.now()
    for days in (1, 3, 10, 40):
        ticket_create(created_at=now - datetime.timedelta(days=days))
    ticket_create(created_at=now - datetime.timedelta(days=2), channel=Channel.PHONE)
    checked = 0
    for part in ("eingang", "rueckstand", "zeiten", "schwerpunkte"):
        page = lead.get(PAGE, {"teil": part, "zeitraum": "30"}).content.decode()
        links = _links(page)
        assert links, part
        for link in links:
            inbox = lead.get(link).content.decode()
            listed = len(re.findall(r'href="/bearbeitung/anliegen/[^"/]+/"', inbox))
            # the number shown as the link's text
            shown = re.search(re.escape(link.replace("&", "&amp;")) + r'">(\d+)', page)
            if shown:
                assert listed == int(shown.group(1)), (part, link)
                checked += 1
    assert checked >= 10  # type, channel, estate, team/handler totals and buckets, timings


def test_handlers_and_members_get_404_and_a_lead_sees_the_parts(cast, lead):
    hanna = Client()
    hanna.force_login(cast.hanna)
    assert hanna.get(PAGE).status_code == 404
    alice = Client()
    alice.force_login(cast.alice)
    assert alice.get(PAGE).status_code == 404
    for part in ("eingang", "rueckstand", "zeiten", "schwerpunkte", "ergebnis"):
        assert lead.get(PAGE, {"teil": part}).status_code == 200
    page = lead.get(PAGE).content.decode()
    assert de("Requests received per day") in page and "<svg" in page


def test_a_bad_period_is_explained_and_the_last_90_days_shown(cast, lead):
    page = lead.get(PAGE, {"zeitraum": "eigener", "von": "2026-11-01", "bis": "2026-10-01"})
    body = page.content.decode()
    assert de("The end of the period lies before its start.") in body
    today = timezone.localdate()
    assert page.context["scope"].first_day == today - datetime.timedelta(days=89)
    body = lead.get(PAGE, {"zeitraum": "eigener", "von": "gestern"}).content.decode()
    assert de("Enter a date such as 2026-03-31.") in body


def test_the_csv_has_the_tables_figures(cast, lead):
    ticket_create(created_at=timezone.now() - datetime.timedelta(days=1))
    response = lead.get("/bearbeitung/ueberblick/eingang-anliegenart.csv", {"zeitraum": "7"})
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = [line.split(";") for line in text.lstrip("\ufeff").splitlines()]
    assert rows[1][0] == "Schadensmeldung / Reparatur" and rows[1][1] == "1"
    days = lead.get("/bearbeitung/ueberblick/eingang-tage.csv", {"zeitraum": "7"})
    assert len(days.content.decode().splitlines()) == 1 + 7
    assert lead.get("/bearbeitung/ueberblick/gibt-es-nicht.csv").status_code == 404


@pytest.mark.parametrize("part", ["eingang", "rueckstand", "zeiten", "schwerpunkte", "ergebnis"])
def test_each_part_needs_few_statements(cast, lead, part):
    now = timezone.now()
    for days in (1, 5, 12):
        ticket_create(created_at=now - datetime.timedelta(days=days))
    statements = measured(lead, f"{PAGE}?teil={part}")
    assert len(statements) <= MOST, "\n".join(statements)
    assert not repeated(statements), repeated(statements)


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    planted=st.lists(
        st.tuples(st.integers(1, 27), st.sampled_from(["schadensmeldung", "allgemein"])),
        min_size=1,
        max_size=8,
    )
)
def test_focal_points_and_the_heat_table_equal_a_recomputation(cast, planted):
    """Rising: now (the 14 days of SCOPE) against the 14 days before."""
    with transaction.atomic():
        Ticket.objects.all().delete()
        types = {
            t.slug: t for t in RequestType.objects.filter(slug__in=["schadensmeldung", "allgemein"])
        }
        made = []
        for days, slug in planted:
            created = (NOW - datetime.timedelta(days=days)).astimezone(datetime.UTC)
            made.append((ticket_create(request_type=types[slug], created_at=created), created))
        now_count, before_count = Counter(), Counter()
        before = selectors.previous(SCOPE)
        for ticket, created in made:
            if SCOPE.start <= created < SCOPE.end:
                now_count[str(ticket.request_type_id)] += 1
            elif before.start <= created < before.end:
                before_count[str(ticket.request_type_id)] += 1
        want = {
            key: (now_count[key], before_count[key])
            for key in now_count
            if now_count[key] > before_count[key]
        }
        got = {
            row.key: (row.values["now"], row.values["before"])
            for row in selectors.rising(SCOPE, "request_type")
        }
        assert got == want
        columns, rows = selectors.heat(SCOPE)
        cells = Counter()
        for row in rows:
            for key, count in row.values.items():
                cells[(row.key, key)] += count
        want_cells = Counter(
            (str(ticket.unit.building.estate_id), str(ticket.request_type_id))
            for ticket, created in made
            if SCOPE.start <= created < SCOPE.end
        )
        assert cells == want_cells
        assert {key for key, _name in columns} == {key for _estate, key in want_cells}
        transaction.set_rollback(True)


@pytest.mark.parametrize(
    "name", ["eingang-tage", "eingang-anliegenart", "rueckstand-team", "zeiten-anliegenart"]
)
def test_each_csv_needs_few_statements(cast, lead, name):
    now = timezone.now()
    for days in (1, 5, 12):
        ticket_create(created_at=now - datetime.timedelta(days=days))
    statements = measured(lead, f"{PAGE}{name}.csv")
    assert len(statements) <= MOST, "\n".join(statements)
    assert not repeated(statements), repeated(statements)


# Appointments: hours offered and booked per advisor -------------------------------------

# Two weeks in May 2027, no DST change; Ascension Day (Thursday 6 May) is a
# public holiday in every federal state, so the cast's Berlin has it too.
MAY = Scope(first_day=datetime.date(2027, 5, 3), last_day=datetime.date(2027, 5, 16))
ASCENSION = datetime.date(2027, 5, 6)


def _may(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2027, 5, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture
def topic(cast):
    return AppointmentType.objects.create(slug="beratung", name_de="Beratung", name_en="Advice")


def _hours(advisor, weekly=(), overrides=()):
    WeeklyHours.objects.bulk_create(
        WeeklyHours(advisor=advisor, weekday=day, starts=datetime.time(*a), ends=datetime.time(*b))
        for day, a, b in weekly
    )
    AvailabilityOverride.objects.bulk_create(
        AvailabilityOverride(
            advisor=advisor,
            date=date,
            starts=datetime.time(*a) if a else None,
            ends=datetime.time(*b) if b else None,
        )
        for date, a, b in overrides
    )


def _closing_day(date):
    ClosingDay.objects.create(cooperative=Cooperative.objects.current(), date=date)


def test_hours_offered_and_booked_of_a_seeded_fortnight(cast, topic):
    """Hanna: Mondays 9–12 and 13–15, Thursdays 9–12, Fridays 10–11:30.
    Thursday 6 May is Ascension Day, Monday 10 May a closing day, Thursday
    13 May she is away, Friday 7 May she works 8–9 instead, Friday 14 May
    not at all. Monday 3 May she blocked 10–11 and 11:30–13:30 (of which
    half an hour each side of lunch were hours); a cancelled block takes
    nothing off. Offered: 5 h − 2 h on the 3rd, 1 h on the 7th = 4 h.
    Booked: 30 + 45 + 30 minutes stand, one is cancelled, one lies after
    the period. Tom no longer takes bookings: he offers nothing, but his
    appointment counts. Ada offers and had nothing: no row."""
    assert ASCENSION in holiday_dates("BE", 2027)
    alice = cast.alice.member
    hanna = Advisor.objects.create(user=cast.hanna)
    _hours(
        hanna,
        weekly=[(0, (9,), (12,)), (0, (13,), (15,)), (3, (9,), (12,)), (4, (10,), (11, 30))],
        overrides=[(datetime.date(2027, 5, 7), (8,), (9,)), (datetime.date(2027, 5, 14), None, None)],
    )  # fmt: skip
    Absence.objects.create(user=cast.hanna, kind=Absence.Kind.VACATION,
                           starts=datetime.date(2027, 5, 13), ends=datetime.date(2027, 5, 13))  # fmt: skip
    _closing_day(datetime.date(2027, 5, 10))
    appointment_put(hanna, _may(3, 10), 60, block=True)
    appointment_put(hanna, _may(3, 11, 30), 120, block=True)
    appointment_put(hanna, _may(7, 8, 30), 30, Appointment.Status.CANCELLED, block=True)
    appointment_put(hanna, _may(3, 9), 30, Appointment.Status.ATTENDED, member=alice, topic=topic)
    appointment_put(
        hanna, _may(3, 13, 30), 45, Appointment.Status.NO_SHOW, member=alice, topic=topic
    )
    appointment_put(
        hanna, _may(3, 14, 15), 30, Appointment.Status.CANCELLED, member=alice, topic=topic
    )
    appointment_put(hanna, _may(7, 8), 30, member=alice, topic=topic)
    appointment_put(hanna, _may(17, 9), 30, Appointment.Status.ATTENDED, member=alice, topic=topic)
    tom = Advisor.objects.create(user=cast.tom, active=False)
    _hours(tom, weekly=[(0, (9,), (12,))])
    appointment_put(tom, _may(4, 10), 30, Appointment.Status.ATTENDED, member=alice, topic=topic)
    Advisor.objects.create(user=cast.ada)

    rows, total = selectors.appointments_by_advisor(MAY)
    got = {row.label: row.values for row in rows}
    assert list(got) == ["Hanna Beispiel", "Tom Teamleiter"]
    assert got["Hanna Beispiel"] == {
        "offered_hours": pytest.approx(4.0), "booked_hours": pytest.approx(1.75),
        "share": pytest.approx(1.75 / 4), "booked": 3, "attended": 1, "no_show": 1,
        "no_show_rate": pytest.approx(0.5), "cancelled": 1,
    }  # fmt: skip
    assert got["Tom Teamleiter"] == {
        "offered_hours": 0, "booked_hours": pytest.approx(0.5), "share": None, "booked": 1,
        "attended": 1, "no_show": 0, "no_show_rate": pytest.approx(0.0), "cancelled": 0,
    }  # fmt: skip
    assert total.values == {
        "offered_hours": pytest.approx(4.0), "booked_hours": pytest.approx(2.25),
        "share": pytest.approx(2.25 / 4), "booked": 4, "attended": 2, "no_show": 1,
        "no_show_rate": pytest.approx(1 / 3), "cancelled": 1,
    }  # fmt: skip
    # The estate and team narrow requests, never appointments.
    team = Team.objects.first()
    estate = Estate.objects.first()
    scoped = Scope(MAY.first_day, MAY.last_day, estate_id=estate.pk, team_id=team.pk)
    assert selectors.appointments_by_advisor(scoped)[1].values == total.values


RANGES = [
    (),
    (((8, 0), (12, 0)),),
    (((9, 0), (11, 30)), ((13, 0), (16, 0))),
    (((10, 15), (18, 45)),),
]
TAKEN = st.tuples(
    st.sampled_from(["attended", "no_show", "booked", "cancelled", "block", "block-cancelled"]),
    st.integers(0, 45),  # minute of the hour it starts
    st.integers(5, 60),  # minutes long (cut at the end of the hour: none overlap)
)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    weekly=st.lists(st.sampled_from(range(len(RANGES))), min_size=7, max_size=7),
    overrides=st.dictionaries(st.integers(0, 13), st.sampled_from(range(len(RANGES))), max_size=4),
    away=st.one_of(st.none(), st.tuples(st.integers(-3, 13), st.integers(0, 4))),
    closed=st.sets(st.integers(-2, 15), max_size=3),
    taken=st.dictionaries(st.tuples(st.integers(-2, 15), st.integers(6, 19)), TAKEN, max_size=12),
)
def test_hours_offered_and_booked_equal_a_minute_by_minute_recount(
    cast, topic, weekly, overrides, away, closed, taken
):
    """Random hours, overrides, an absence, closing days, bookings and
    blocks (one in an hour at most, so none overlap) around MAY: offered
    hours equal a count of the minutes that lie in the day's ranges on an
    open day and in no standing block; booked hours the standing
    appointments' minutes; the counts theirs."""
    with transaction.atomic():
        first = MAY.first_day
        day_of = {n: first + datetime.timedelta(days=n) for n in range(-3, 20)}
        advisor = Advisor.objects.create(user=cast.hanna)
        _hours(
            advisor,
            weekly=[(day, a, b) for day, index in enumerate(weekly) for a, b in RANGES[index]],
            overrides=[
                (day_of[n], a, b)
                for n, index in overrides.items()
                for a, b in (RANGES[index] or [(None, None)])
            ],
        )
        if away:
            Absence.objects.create(user=cast.hanna, kind=Absence.Kind.TRAINING,
                                   starts=day_of[away[0]], ends=day_of[away[0] + away[1]])  # fmt: skip
        for n in closed:
            _closing_day(day_of[n])
        blocked: dict[datetime.date, list[tuple[int, int]]] = {}
        booked_minutes = 0
        counts = Counter()
        for (n, hour), (what, minute, length) in taken.items():
            length = min(length, 60 - minute)
            starts = datetime.datetime.combine(day_of[n], datetime.time(hour, minute), BERLIN)
            status = {"block": "booked", "block-cancelled": "cancelled"}.get(what, what)
            block = what.startswith("block")
            appointment_put(advisor, starts, length, status, block=block, member=cast.alice.member,
                 topic=topic)  # fmt: skip
            if block and status == "booked":
                start = hour * 60 + minute
                blocked.setdefault(day_of[n], []).append((start, start + length))
            if not block and MAY.first_day <= day_of[n] <= MAY.last_day:
                counts[status] += 1
                if status != "cancelled":
                    booked_minutes += length

        offered_minutes = 0
        holidays = holiday_dates("BE", 2027)
        absent = (
            {day_of[away[0]] + datetime.timedelta(days=k) for k in range(away[1] + 1)}
            if away
            else set()
        )
        for day in MAY.days():
            if day in holidays or day in {day_of[n] for n in closed} or day in absent:
                continue
            n = (day - first).days
            ranges = RANGES[overrides[n]] if n in overrides else RANGES[weekly[day.weekday()]]
            for minute in range(24 * 60):
                inside = any(a[0] * 60 + a[1] <= minute < b[0] * 60 + b[1] for a, b in ranges)
                free = not any(s <= minute < e for s, e in blocked.get(day, []))
                offered_minutes += inside and free

        rows, total = selectors.appointments_by_advisor(MAY)
        if not (offered_minutes or sum(counts.values())):
            assert rows == []
        else:
            (row,) = rows
            assert row.values["offered_hours"] == pytest.approx(offered_minutes / 60)
            assert row.values["booked_hours"] == pytest.approx(booked_minutes / 60)
            assert row.values["booked"] == counts["booked"] + counts["attended"] + counts["no_show"]
            assert row.values["attended"] == counts["attended"]
            assert row.values["no_show"] == counts["no_show"]
            assert row.values["cancelled"] == counts["cancelled"]
            assert total.values == row.values
        transaction.set_rollback(True)


def _advisors_seeded(cast, topic, *, count: int) -> None:
    """`count` advisors who take bookings, with hours, an override, an
    absence, a block and appointments over the last weeks."""
    today = timezone.localdate()
    users = [cast.hanna, cast.tom, cast.ada][:count]
    for number, user in enumerate(users):
        advisor = Advisor.objects.create(user=user)
        _hours(
            advisor,
            weekly=[(day, (9,), (12,)) for day in range(5)],
            overrides=[(today - datetime.timedelta(days=3), (10,), (11,))],
        )
        Absence.objects.create(user=user, kind=Absence.Kind.SICK,
                               starts=today - datetime.timedelta(days=20),
                               ends=today - datetime.timedelta(days=18))  # fmt: skip
        for days in (2, 9, 16, 40, 200):
            moment = datetime.datetime.combine(
                today - datetime.timedelta(days=days), datetime.time(9, 30), BERLIN
            )
            appointment_put(advisor, moment, 30, Appointment.Status.ATTENDED, member=cast.alice.member,
                 topic=topic)  # fmt: skip
            appointment_put(advisor, moment + datetime.timedelta(hours=1), 30, block=True)
        appointment_put(advisor, datetime.datetime.combine(today, datetime.time(8), BERLIN)
             + datetime.timedelta(days=number + 1), 30, member=cast.alice.member, topic=topic)  # fmt: skip
    _closing_day(today - datetime.timedelta(days=5))


@pytest.mark.parametrize("advisors", [1, 3])
def test_the_outcome_part_with_advisors_needs_few_statements(cast, lead, topic, advisors):
    """Hours offered are read once per kind (weekly hours, overrides,
    absences, blocks, closing days) for all advisors and days: the same
    statements for one advisor or three, 7 days or 365."""
    _advisors_seeded(cast, topic, count=advisors)
    ticket_create(created_at=timezone.now() - datetime.timedelta(days=1))
    counts = set()
    for period in ("7", "365"):
        statements = measured(lead, f"{PAGE}?teil=ergebnis&zeitraum={period}")
        assert len(statements) <= MOST, "\n".join(statements)
        assert not repeated(statements), repeated(statements)
        counts.add(len(statements))
        page = lead.get(PAGE, {"teil": "ergebnis", "zeitraum": period}).content.decode()
        assert page.count('<th scope="row">') >= advisors + 1  # the advisors and the total
    assert len(counts) == 1
    for name in ("ergebnis-beratung", "ergebnis-anliegen"):
        statements = measured(lead, f"{PAGE}{name}.csv?zeitraum=365")
        assert len(statements) <= MOST and not repeated(statements), statements


def test_the_outcome_page_shows_the_advisors_and_that_the_filters_do_not_apply(cast, lead, topic):
    _advisors_seeded(cast, topic, count=2)
    page = lead.get(PAGE, {"teil": "ergebnis", "zeitraum": "30"}).content.decode()
    assert de("Hours offered and booked per advisor") in page
    assert de("Advisors belong to no estate or team: the estate and team filters do not apply "
              "to appointments.") in page  # fmt: skip
    assert "Hanna Beispiel" in page and "Tom Teamleiter" in page and de("All advisors") in page
    team = Team.objects.first()
    filtered = lead.get(PAGE, {"teil": "ergebnis", "zeitraum": "30", "team": team.pk})
    body = filtered.content.decode()
    assert de("The estate and team chosen above do not apply here: advisors belong to no estate "
              "or team, so every advisor is counted.") in body  # fmt: skip
    assert "Hanna Beispiel" in body and "Tom Teamleiter" in body
    # two advisors, each 1 of 4 appointments in the last 30 days held; the
    # same figures with the team chosen
    csv_plain = lead.get(f"{PAGE}ergebnis-beratung.csv", {"zeitraum": "30"}).content
    csv_team = lead.get(f"{PAGE}ergebnis-beratung.csv", {"zeitraum": "30", "team": team.pk})
    assert csv_plain == csv_team.content


class _Tables(HTMLParser):
    """Each <section>'s tables (headings, rows of body and foot) and CSV links."""

    def __init__(self):
        super().__init__()
        self.sections: list[dict] = []
        self._cell: list[str] | None = None
        self._where = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append({"tables": [], "csv": []})
        elif not self.sections:
            return
        elif tag == "table":
            self.sections[-1]["tables"].append({"headings": [], "rows": 0})
        elif tag in ("thead", "tbody", "tfoot"):
            self._where = tag
        elif tag == "tr" and self._where in ("tbody", "tfoot"):
            self.sections[-1]["tables"][-1]["rows"] += 1
        elif tag == "th" and self._where == "thead":
            self._cell = []
        elif tag == "a" and ".csv" in attrs.get("href", ""):
            self.sections[-1]["csv"].append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "th" and self._cell is not None:
            self.sections[-1]["tables"][-1]["headings"].append("".join(self._cell).strip())
            self._cell = None
        elif tag in ("thead", "tbody", "tfoot"):
            self._where = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_every_table_of_every_part_has_its_csv_with_the_same_headings_and_rows(cast, lead, topic):
    """Each part's sections: every table has one CSV link; the CSV's header
    begins with the table's headings (a CSV may add the counts behind a
    share) and has as many rows as the table's body and foot."""
    now = timezone.now()
    types = {
        t.slug: t for t in RequestType.objects.filter(slug__in=["schadensmeldung", "allgemein"])
    }
    for days, slug in [
        (1, "schadensmeldung"),
        (2, "schadensmeldung"),
        (3, "allgemein"),
        (40, "allgemein"),
    ]:
        ticket_create(created_at=now - datetime.timedelta(days=days), request_type=types[slug])
    ticket_create(created_at=now - datetime.timedelta(days=5), channel=Channel.PHONE,
                  status=Status.RESOLVED, resolved_at=now - datetime.timedelta(days=4), rating=4)  # fmt: skip
    _advisors_seeded(cast, topic, count=2)
    seen = set()
    for part in ("eingang", "rueckstand", "zeiten", "schwerpunkte", "ergebnis"):
        parser = _Tables()
        parser.feed(lead.get(PAGE, {"teil": part, "zeitraum": "30"}).content.decode())
        sections = [section for section in parser.sections if section["tables"]]
        assert sections, part
        for section in sections:
            (table,) = section["tables"]
            (link,) = section["csv"]
            assert table["rows"] > 0 and table["headings"], (part, section)
            answer = lead.get(html.unescape(link))
            assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
            rows = list(
                csv.reader(io.StringIO(answer.content.decode().lstrip("\ufeff")), delimiter=";")
            )
            assert rows[0][: len(table["headings"])] == table["headings"], (part, link)
            assert len(rows) - 1 == table["rows"], (part, link)
            seen.add(html.unescape(link).split("/")[-1].split(".csv")[0])
    assert seen == set(EXPORTS) | {"eingang-tage"}
