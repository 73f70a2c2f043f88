"""The dashboard's figures (issue 14) equal an independent recomputation
in Python on small random data sets (hypothesis), on SQLite and
PostgreSQL: incoming per type, channel, team and day; the backlog's age
buckets; first response and resolution percentiles; SLA attainment;
reopens and ratings; appointments held and missed."""

import datetime
import html
import re
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.db.models import Value
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.stats import Percentile, Seconds, percentile
from insights import selectors
from insights.selectors import Scope
from routing.models import Team
from tests.factories import ticket_create
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
