"""Speed at a cooperative's real history (issue 11), as far as a test can
say it without timing anything: the pages members and handlers use most
cost the same few queries with 3 requests or 30, no query shape runs twice
on a page, the member visibility and the unread badge are answered from
indexes, and "Meine Anliegen" pages through a long history. The figures
themselves come from the benchmark (bench/rig.py, `make bench`)."""

import datetime
import random
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cooperative.models import Building, Estate, Unit
from insights.selectors import Scope, timings
from members.models import Member
from routing.models import RoutingRule, Strategy, Team
from tests.factories import ticket_create
from tests.helpers import MOST, de, measured, repeated
from tickets.inbox import inbox_page
from tickets.models import RequestType, Status, Ticket
from tickets.selectors import MEMBER_PAGE_SIZE
from tickets.services import ticket_reply

pytestmark = pytest.mark.django_db


def history(cast, count: int) -> list[Ticket]:
    """`count` requests of alice's household (some filed by bob), each with a
    reply from the office, so the badge and "last change" have work."""
    made = []
    for n in range(count):
        member = cast.bob.member if n % 3 == 0 else cast.alice.member
        ticket = ticket_create(member=member, assignee=cast.hanna, status=Status.IN_PROGRESS)
        ticket_reply(
            ticket=ticket,
            actor=cast.hanna,
            body=f"Antwort {n}",
            expected_version=ticket.version,
            public=True,
        )
        made.append(ticket)
    return made


# Query counts ---------------------------------------------------------------


@pytest.mark.parametrize("page", ["list", "detail", "home", "list_page_2"])
def test_member_pages_cost_the_same_few_queries_with_3_or_30_requests(client, cast, page):
    client.force_login(cast.alice)
    # Page 2 needs more than a page to exist (past the end it is the last).
    first = history(cast, MEMBER_PAGE_SIZE + 3 if page == "list_page_2" else 3)

    def url() -> str:
        return {
            "list": "/anliegen/",
            "list_page_2": "/anliegen/?seite=2",
            "detail": f"/anliegen/{first[0].reference}/",
            "home": "/mein-bereich/",
        }[page]

    few = measured(client, url())
    history(cast, 27)
    many = measured(client, url())
    assert len(few) == len(many) <= MOST, many
    assert not repeated(many)


@pytest.mark.parametrize("page", ["inbox", "filtered", "search", "request"])
def test_staff_pages_cost_the_same_few_queries_with_3_or_30_requests(client, cast, page):
    client.force_login(cast.hanna)
    first = history(cast, 3)
    repair = RequestType.objects.get(slug="schadensmeldung")

    def url() -> str:
        return {
            "inbox": "/bearbeitung/",
            "filtered": f"/bearbeitung/?view=all&status=in_progress&request_type={repair.pk}",
            "search": "/bearbeitung/?view=all&q=Antwort",
            "request": f"/bearbeitung/anliegen/{first[0].reference}/",
        }[page]

    few = measured(client, url())
    history(cast, 27)
    many = measured(client, url())
    # Never more with more requests; one fewer at most, when the open ones
    # fill the page and the finished ones are not looked at (tickets.inbox).
    assert len(many) <= len(few) <= MOST, few
    assert len(few) - len(many) <= 1
    assert not repeated(few) and not repeated(many)


def test_the_shape_check_would_see_a_query_per_row(cast):
    # The helper above is what makes "no repeated shape" mean something.
    statements = [
        'SELECT "x" FROM "t" WHERE "id" = 1',
        "BEGIN",
        'SELECT "x" FROM "t" WHERE "id" = 2',
        "COMMIT",
        "BEGIN",
    ]
    assert repeated(statements) == ['SELECT "x" FROM "t" WHERE "id" = 2']


# Indexes ---------------------------------------------------------------------------


def _many_requests(cast, *, count: int = 3000) -> None:
    """`count` requests of 150 other members in 60 other flats, most of them
    finished, written in bulk (the planner needs a table worth an index)."""
    rng = random.Random(11)
    estate = Estate.objects.create(number="E-SPEED", name="Wohnanlage Tempo")
    building = Building.objects.create(
        estate=estate, street="Schnellweg", house_number="1", postcode="10115", city="Berlin"
    )
    units = Unit.objects.bulk_create(
        Unit(building=building, number=f"SPEED-{n}", floor=n % 5, rooms=Decimal(2), living_area=50)
        for n in range(60)
    )
    members = Member.objects.bulk_create(
        Member(
            member_number=f"9{n:05d}",
            first_name="Erika",
            last_name=f"Tempo{n}",
            joined_on=datetime.date(2010, 1, 1),
        )
        for n in range(150)
    )
    model = ticket_create()
    fields = {
        field.attname: getattr(model, field.attname)
        for field in Ticket._meta.concrete_fields
        if not field.primary_key
    }
    now = timezone.now()
    Ticket.objects.bulk_create(
        Ticket(
            **{
                **fields,
                "reference": f"A-2019-{n:06d}",
                "member_id": rng.choice(members).pk,
                "unit_id": rng.choice(units).pk,
                "status": Status.CLOSED if n % 15 else Status.IN_PROGRESS,
                "created_at": now - datetime.timedelta(days=n % 2000),
                "office_activity_at": now - datetime.timedelta(days=n % 2000),
            }
        )
        for n in range(count)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN " + sql)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def _reads_every_ticket(plan: str) -> bool:
    if connection.vendor == "postgresql":
        return re.search(r"Seq Scan on tickets_ticket\b", plan) is not None
    # SQLite: "SCAN tickets_ticket" reads the table; "SEARCH … USING INDEX"
    # looks up, "SCAN … USING COVERING INDEX" reads an index only.
    return re.search(r"^SCAN tickets_ticket\b(?! USING)", plan, re.MULTILINE) is not None


def test_the_member_visibility_and_the_badge_are_answered_from_indexes(cast):
    _many_requests(cast)
    history(cast, 3)
    with CaptureQueriesContext(connection) as captured:
        visible = list(Ticket.objects.visible_to_member(cast.alice.member))
        unread = Ticket.objects.unread_for(cast.alice).count()
    # Alice's: the three with a reply, and the model of the bulk rows.
    assert len(visible) == 4 and unread == 3
    ticket_queries = [q["sql"] for q in captured.captured_queries if "tickets_ticket" in q["sql"]]
    assert len(ticket_queries) == 2
    for sql in ticket_queries:
        plan = _plan(sql)
        assert not _reads_every_ticket(plan), plan


def test_the_inbox_counts_read_open_requests_from_an_index(cast):
    _many_requests(cast)
    with CaptureQueriesContext(connection) as captured:
        inbox_page(
            user=cast.hanna, view="mine", filters={}, sort="action", search="", after="",
            now=timezone.now(),
        )  # fmt: skip
    counts = next(q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"])
    plan = _plan(counts)
    assert not _reads_every_ticket(plan), plan


def test_the_inbox_filtered_by_status_and_type_looks_both_up_in_one_index(cast):
    """The filter pair handlers use most. Without an index over both,
    SQLite (no histograms) looked up every request of the type, which at
    100,000 requests meant 40,000 rows for a page of 25."""
    _many_requests(cast)
    types = list(RequestType.objects.order_by("pk"))
    for n, request_type in enumerate(types):
        Ticket.objects.filter(
            pk__in=list(
                Ticket.objects.filter(reference__startswith="A-2019-")
                .order_by("pk")
                .values_list("pk", flat=True)[n :: len(types)]
            )
        ).update(request_type=request_type)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    chosen = types[0]
    with CaptureQueriesContext(connection) as captured:
        page = inbox_page(
            user=cast.tom, view="all",
            filters={"status": Status.IN_PROGRESS, "request_type": chosen.pk},
            sort="action", search="", after="", now=timezone.now(),
        )  # fmt: skip
    assert page.rows and all(
        t.status == Status.IN_PROGRESS and t.request_type_id == chosen.pk for t in page.rows
    )
    listing = next(
        q["sql"]
        for q in captured.captured_queries
        if "ORDER BY" in q["sql"] and '"tickets_ticket"."request_type_id" =' in q["sql"]
    )
    plan = _plan(listing)
    assert not _reads_every_ticket(plan), plan
    if connection.vendor == "sqlite":
        assert "ticket_status_type" in plan, plan


@pytest.mark.parametrize("filters", [{}, {"age": "older"}, {"age": "7"}])
def test_the_inbox_newest_first_walks_an_index_over_all_requests(cast, filters):
    """ "Newest first" over all requests (and the "received" filter) sorted
    every visible request for one page: 125 ms at 100,000 on SQLite."""
    _many_requests(cast)
    # Spread over five years (bulk_create stamps them all "now").
    bulk = list(
        Ticket.objects.filter(reference__startswith="A-2019-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    for days in range(40):
        Ticket.objects.filter(pk__in=bulk[days::40]).update(
            created_at=now - datetime.timedelta(days=days * 45 + 1)
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    with CaptureQueriesContext(connection) as captured:
        page = inbox_page(
            user=cast.tom, view="all", filters=filters, sort="newest", search="", after="",
            now=now,
        )  # fmt: skip
    assert page.rows
    created = [t.created_at for t in page.rows]
    assert created == sorted(created, reverse=True)
    listing = next(
        q["sql"]
        for q in captured.captured_queries
        if "ORDER BY" in q["sql"] and '"tickets_ticket"."created_at" DESC' in q["sql"]
    )
    plan = _plan(listing)
    assert not _reads_every_ticket(plan), plan


# Meine Anliegen in pages ---------------------------------------------------------------


def test_meine_anliegen_pages_through_a_long_history(client, cast):
    made = [ticket_create() for _ in range(MEMBER_PAGE_SIZE + 3)]
    client.force_login(cast.alice)
    first = client.get("/anliegen/")
    body = first.content.decode()
    assert body.count('class="ticket-list__item"') == MEMBER_PAGE_SIZE
    assert made[-1].reference in body and made[0].reference not in body  # latest first
    assert de("Older requests") in body and de("Newer requests") not in body
    assert first.context["page"].pages == 2
    second = client.get("/anliegen/", {"seite": "2"}).content.decode()
    assert second.count('class="ticket-list__item"') == 3
    assert made[0].reference in second and de("Newer requests") in second
    # A page past the end (a bookmark) is the last page; nonsense the first.
    assert client.get("/anliegen/", {"seite": "99"}).context["page"].number == 2
    for nonsense in ("zwei", "-3", "0", "9" * 40):
        response = client.get("/anliegen/", {"seite": nonsense})
        assert response.status_code == 200
        assert response.context["page"].number in (1, 2)


def test_an_internal_note_does_not_move_a_request_up_the_members_list(client, cast):
    older = ticket_create(created_at=timezone.now() - datetime.timedelta(days=10))
    newer = ticket_create(created_at=timezone.now() - datetime.timedelta(days=5))
    Ticket.objects.filter(pk__in=[older.pk, newer.pk]).update(assignee=cast.hanna)
    older.refresh_from_db()
    ticket_reply(
        ticket=older, actor=cast.hanna, body="Intern", expected_version=older.version, public=False
    )
    client.force_login(cast.alice)

    def order() -> list[str]:
        return [t.reference for t in client.get("/anliegen/").context["tickets"]]

    assert order().index(newer.reference) < order().index(older.reference)
    older.refresh_from_db()
    ticket_reply(
        ticket=older, actor=cast.hanna, body="Antwort", expected_version=older.version, public=True
    )
    assert order().index(older.reference) < order().index(newer.reference)
    row = next(t for t in client.get("/anliegen/").context["tickets"] if t.pk == older.pk)
    assert row.is_new  # the reply is news for alice, marked in the list


# The inbox's building filter ---------------------------------------------------------------


def test_the_building_filter_offers_the_buildings_of_the_chosen_estate(client, cast):
    client.force_login(cast.hanna)
    page = client.get("/bearbeitung/")
    assert [value for value, _ in page.context["form"].fields["building"].choices] == [""]
    assert de("Choose an estate first.") in page.content.decode()
    for estate in Estate.objects.all():
        expected = {str(pk) for pk in estate.buildings.values_list("pk", flat=True)}
        form = client.get("/bearbeitung/", {"view": "all", "estate": estate.pk}).context["form"]
        assert {value for value, _ in form.fields["building"].choices if value} == expected
        building = estate.buildings.first()
        if building is None:
            continue
        # A link with a building but no estate offers that building's estate.
        form = client.get("/bearbeitung/", {"view": "all", "building": building.pk}).context["form"]
        assert {value for value, _ in form.fields["building"].choices if value} == expected
        assert not form.errors


def test_a_member_less_caller_is_found_by_the_name_they_gave(client, cast):
    ticket = ticket_create(member=None, contact_name="Gül Öztürk-Lange", channel="phone")
    client.force_login(cast.hanna)
    for query in ("öztürk", "Öztürk", "Lange", "gül"):
        shown = client.get("/bearbeitung/", {"view": "all", "q": query}).context["tickets"]
        assert [t.reference for t in shown] == [ticket.reference], query


@pytest.mark.parametrize("strategy", ["least_open", "round_robin", "team_queue"])
def test_filing_counts_workloads_only_of_the_teams_members_and_only_for_least_open(cast, strategy):
    """Counting every handler's open requests for every request filed was
    the slowest part of filing at a million requests: the count is asked
    once, under the team's lock, for the chosen team's members only, and
    not at all when the strategy does not weigh workloads."""
    assert strategy in Strategy.values
    RoutingRule.objects.all().delete()
    team = Team.objects.create(name="Nur Hanna und Tom")
    team.members.set([cast.hanna, cast.tom])
    RoutingRule.objects.create(position=1, name="Alles", team=team, strategy=strategy)
    # Ada (not in the team) carries open work; Hanna two, Tom one.
    for handler in (cast.ada, cast.ada, cast.ada, cast.hanna, cast.hanna, cast.tom):
        ticket_create(assignee=handler, status=Status.IN_PROGRESS)
    with CaptureQueriesContext(connection) as captured:
        ticket = ticket_create()
    counts = [
        q["sql"]
        for q in captured.captured_queries
        if "COUNT(" in q["sql"] and '"tickets_ticket"."assignee_id"' in q["sql"]
    ]
    if strategy == "least_open":
        assert len(counts) == 1, counts
        assert re.search(
            rf"assignee_id\" IN \(({cast.hanna.pk}, {cast.tom.pk}|"
            rf"{cast.tom.pk}, {cast.hanna.pk})\)",
            counts[0],
        ), counts[0]
        assert ticket.assignee == cast.tom  # the least open work of the two
        assert ticket.routing_reason["open"] == 1
    else:
        assert counts == []
        assert ticket.team == team


@pytest.mark.parametrize("by", ["team", "request_type"])
def test_the_overviews_times_are_read_from_the_received_index(cast, by):
    """Response and resolution times of the requests received in a period
    (insights.selectors.timings): the period's rows from ticket_received
    alone, which carries the times and deadlines. Through the table
    instead, a year at 1,000,000 requests read 37,000 pages a query.
    PostgreSQL reads an index alone only where the visibility map says so
    (vacuumed rows, never those of a test's transaction): there the plan
    of a seeded database is bench/insights.py's, here no whole-table read."""
    _many_requests(cast)
    today = timezone.localdate()
    scope = Scope(today - datetime.timedelta(days=89), today)
    with CaptureQueriesContext(connection) as captured:
        timings(scope, by=by)
    plan = _plan(captured.captured_queries[0]["sql"])
    assert not _reads_every_ticket(plan), plan
    if connection.vendor == "sqlite":
        assert "COVERING INDEX ticket_received" in plan, plan
