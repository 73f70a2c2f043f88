"""The back-office inbox: hanna (Technik) finds her work in views, filters,
searches and pages through it; nobody else's requests ever show up."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import roles
from audit.models import AccessLog
from backoffice.forms import BulkForm
from cooperative.models import Building, Estate
from demo.cast import staff_ensure
from members.models import Member
from routing.models import Team
from tests.browser import PHONE, assert_accessible, assert_fits_width
from tests.factories import ticket_create
from tests.helpers import de, otp_verify
from tickets.models import Category, Channel, RequestType, Status, Ticket, TicketEvent
from tickets.search import ticket_search

pytestmark = pytest.mark.django_db

URL = "/bearbeitung/"
ON_POSTGRES = connection.vendor == "postgresql"


# The story ---------------------------------------------------------------------


def team_made(name, *, members=(), lead=None) -> Team:
    """The team exactly as the story needs it, whatever the demo data set up."""
    team, _ = Team.objects.update_or_create(name=name, defaults={"lead": lead})
    team.members.set(members)
    return team


@pytest.fixture
def technik(cast) -> Team:
    return team_made("Technik", members=[cast.hanna])


@pytest.fixture
def vermietung(cast) -> Team:
    return team_made("Vermietung", lead=cast.tom)


@pytest.fixture
def leak(technik) -> RequestType:
    return RequestType.objects.create(
        slug="test-wasserschaden",
        name_de="Wasserschaden",
        name_en="Water damage",
        category=Category.REPAIR,
        default_team=technik,
    )


@pytest.fixture
def question(cast) -> RequestType:
    """No default team and no rule: every request of this type starts in
    triage. (Not the free-text category: the classifier would route those.)"""
    return RequestType.objects.create(
        slug="test-frage",
        name_de="Frage",
        name_en="Question",
        category=Category.PAYMENTS,
    )


def shown(response) -> set[str]:
    assert response.status_code == 200
    return {ticket.reference for ticket in response.context["tickets"]}


def refs(*tickets) -> set[str]:
    return {ticket.reference for ticket in tickets}


@pytest.fixture
def story(cast, technik, vermietung, leak, question):
    """Hanna's morning: what is hers, her team's, unassigned, overdue, done,
    and one request of another team she must not see."""
    now = timezone.now()
    alice, dave = cast.alice.member, cast.dave.member
    return {
        "mine": ticket_create(
            request_type=leak,
            member=alice,
            answers={"what": "Wasserhahn tropft"},
            assignee=cast.hanna,
        ),
        "overdue": ticket_create(
            request_type=leak,
            member=dave,
            answers={"what": "Heizung kalt"},
            assignee=cast.hanna,
            status=Status.IN_PROGRESS,
            due_at=now - datetime.timedelta(hours=2),
        ),
        "team_queue": ticket_create(
            request_type=leak,
            member=dave,
            answers={"what": "Fenster klemmt"},
            due_at=now + datetime.timedelta(days=2),
        ),
        "team_tom": ticket_create(
            request_type=leak, member=alice, answers={"what": "Tür quietscht"}, assignee=cast.tom
        ),
        "triage": ticket_create(
            request_type=question, member=dave, answers={"what": "Frage zur Abrechnung"}
        ),
        "closed": ticket_create(
            request_type=leak,
            member=alice,
            answers={"what": "Licht im Keller"},
            assignee=cast.hanna,
            status=Status.CLOSED,
            due_at=now - datetime.timedelta(days=3),
        ),
        "other_team": ticket_create(
            request_type=question,
            member=alice,
            answers={"what": "Untervermietung"},
            team=vermietung,
            assignee=cast.tom,
        ),
    }


# Access ------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_the_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/anmelden/?next=/bearbeitung/")


def test_members_get_404(client, cast):
    client.force_login(cast.alice)
    assert client.get(URL).status_code == 404


def test_wrong_methods(client, cast):
    client.force_login(cast.hanna)
    assert client.put(URL).status_code == 405
    assert client.delete(URL).status_code == 405
    # POST is the bulk action: an empty one is explained, not an error page.
    assert client.post(URL).status_code == 200


# Views -------------------------------------------------------------------------


def test_each_view_shows_exactly_its_requests(client, cast, story):
    s = story
    client.force_login(cast.hanna)
    assert shown(client.get(URL, {"view": "mine"})) == refs(s["mine"], s["overdue"])
    assert shown(client.get(URL, {"view": "teams"})) == refs(
        s["mine"], s["overdue"], s["team_queue"], s["team_tom"]
    )
    assert shown(client.get(URL, {"view": "triage"})) == refs(s["team_queue"], s["triage"])
    assert shown(client.get(URL, {"view": "overdue"})) == refs(s["overdue"])
    assert shown(client.get(URL, {"view": "all"})) == refs(
        s["mine"], s["overdue"], s["team_queue"], s["team_tom"], s["triage"], s["closed"]
    )


def test_the_team_lead_sees_his_team_and_the_admin_everything(client, cast, story):
    s = story
    client.force_login(cast.tom)
    otp_verify(client, cast.tom)
    assert shown(client.get(URL, {"view": "teams"})) == refs(s["other_team"])
    # Assigned to tom in a team he does not lead: his, though not his team's.
    assert shown(client.get(URL, {"view": "mine"})) == refs(s["team_tom"], s["other_team"])
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    assert shown(client.get(URL, {"view": "all"})) == refs(*s.values())


def test_the_default_view_is_mine_when_something_is_assigned_else_my_teams(client, cast, story):
    client.force_login(cast.hanna)
    response = client.get(URL)
    assert response.context["view"] == "mine"
    assert shown(response) == refs(story["mine"], story["overdue"])
    Ticket.objects.filter(assignee=cast.hanna).update(assignee=None)
    response = client.get(URL)
    assert response.context["view"] == "teams"


def test_an_unknown_view_falls_back_to_the_default(client, cast, story):
    client.force_login(cast.hanna)
    response = client.get(URL, {"view": "../etc"})
    assert response.context["view"] == "mine"


def test_the_page_shows_each_row_and_flags_overdue_in_words(client, cast, story):
    client.force_login(cast.hanna)
    body = client.get(URL, {"view": "mine"}).content.decode()
    overdue = story["overdue"]
    assert f'href="/bearbeitung/anliegen/{overdue.reference}/"' in body
    assert "Dave Dietrich" in body and "20003" in body
    assert "Südallee 1" in body and "1. OG rechts" in body
    assert "Wasserschaden" in body
    in_progress = de("in progress")
    assert in_progress[0].upper() + in_progress[1:] in body
    assert "Technik" in body and "Hanna Beispiel" in body
    assert de("overdue") in body
    assert body.count(f">{de('overdue')}</strong>") == 1  # the future one is not flagged
    assert 'aria-current="page"' in body
    # Tabs keep the view's counts: open requests; "all" (with the finished
    # ones, years of them) has none.
    tabs = {tab["name"]: tab["count"] for tab in client.get(URL).context["tabs"]}
    assert tabs == {"mine": 2, "teams": 4, "triage": 2, "overdue": 1, "all": None}


def test_an_empty_view_says_so(client, cast, technik):
    client.force_login(cast.hanna)
    response = client.get(URL, {"view": "overdue"})
    assert de("No requests match.") in response.content.decode()


# Filters -------------------------------------------------------------------------


def test_each_filter_narrows_the_list(client, cast, story, leak, question):
    s = story
    client.force_login(cast.hanna)

    def only(**params):
        return shown(client.get(URL, {"view": "all", **params}))

    assert only(request_type=question.pk) == refs(s["triage"])
    assert only(request_type=leak.pk, status=Status.CLOSED) == refs(s["closed"])
    assert only(status=Status.IN_PROGRESS) == refs(s["overdue"])
    north = Estate.objects.get(name="Wohnanlage Nord")
    assert only(estate=north.pk) == refs(s["mine"], s["team_tom"], s["closed"])
    south_1 = Building.objects.get(street="Südallee", house_number="1")
    assert only(building=south_1.pk) == refs(s["overdue"], s["team_queue"], s["triage"])
    assert only(assignee=cast.tom.pk) == refs(s["team_tom"])
    assert only(assignee="none") == refs(s["team_queue"], s["triage"])
    assert only(assignee=cast.hanna.pk, view="mine") == refs(s["mine"], s["overdue"])

    Ticket.objects.filter(pk=s["triage"].pk).update(channel=Channel.PHONE)
    assert only(channel=Channel.PHONE) == refs(s["triage"])


def test_the_age_filter(client, cast, leak):
    now = timezone.now()
    ago = {
        days: ticket_create(
            request_type=leak, member=cast.alice.member, created_at=now - datetime.timedelta(days)
        )
        for days in (0, 3, 20, 40)
    }
    client.force_login(cast.hanna)

    def aged(age):
        return shown(client.get(URL, {"view": "all", "age": age}))

    assert aged("today") == refs(ago[0])
    assert aged("7") == refs(ago[0], ago[3])
    assert aged("30") == refs(ago[0], ago[3], ago[20])
    assert aged("older") == refs(ago[40])


def test_team_state_and_received_period_filters(client, cast, story, leak):
    """The dashboard's figures link here with these (issue 14)."""
    s = story
    client.force_login(cast.ada)  # every team's
    otp_verify(client, cast.ada)

    def only(**params):
        return shown(client.get(URL, {"view": "all", **params}))

    vermietung = s["other_team"].team
    assert only(team=vermietung.pk) == refs(s["other_team"])
    assert only(team="none") == refs(s["triage"])
    assert only(state="finished") == refs(s["closed"])
    assert s["closed"].reference not in only(state="open")
    # Local days, both included: 23:30 on the 9th belongs to the 9th.
    zone = timezone.get_default_timezone()
    late = ticket_create(
        request_type=leak,
        member=cast.alice.member,
        created_at=datetime.datetime(2026, 3, 9, 23, 30, tzinfo=zone),
    )
    early = ticket_create(
        request_type=leak,
        member=cast.alice.member,
        created_at=datetime.datetime(2026, 3, 10, 0, 10, tzinfo=zone),
    )
    assert only(received_from="2026-03-09", received_to="2026-03-09") == refs(late)
    assert only(received_from="2026-03-10", received_to="2026-03-10") == refs(early)
    assert only(received_from="2026-03-09", received_to="2026-03-10") == refs(late, early)
    page = client.get(URL, {"view": "all", "received_from": "gestern"}).content.decode()
    assert de("Enter a date such as 2026-03-31.") in page


def test_bad_filter_values_are_explained_and_ignored(client, cast, story):
    client.force_login(cast.hanna)
    response = client.get(
        URL,
        {
            "view": "all",
            "request_type": "abc",
            "estate": "999999",
            "building": "1 OR 1=1",
            "status": "lost",
            "assignee": "-1",
            "age": "forever",
            "sort": "random",
            "channel": Channel.PORTAL,  # the good one still applies
            "q": "x" * 201,
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'role="alert"' in body
    for message in [
        "Choose a request type from the list.",
        "Choose an estate from the list.",
        "Choose a building from the list.",
        "Choose a status from the list.",
        "Choose a handler from the list.",
        "Choose a time span from the list.",
        "Choose a sort order from the list.",
        "Enter at most 200 characters.",
    ]:
        assert de(message) in body
    assert 'href="#id_request_type"' in body  # the summary links to the field
    assert len(shown(response)) == 6
    # Links on the page carry only the values that were good.
    next_links = [tab["url"] for tab in response.context["tabs"]]
    assert all("lost" not in link and "channel=portal" in link for link in next_links)


def test_a_tampered_page_link_starts_from_the_top(client, cast, story):
    client.force_login(cast.hanna)
    everything = shown(client.get(URL, {"view": "all"}))
    created = timezone.now().isoformat()
    for after in [
        "garbage",
        "due|x|y|z",
        "due|-|2026-13-45T00:00:00+00:00|1",
        f"due|-|{created}|0",
        f"due|-|{created}|{2**70}",
        f"due|-|{created[:19]}|5",  # no time zone
        f"newest|{created}|5",  # a cursor of the other order
        "due|-|" + "9" * 400 + "|1",
        "due|9999-12-31T23:59:59-12:00|0001-01-01T00:00:00+14:00|1",  # beyond the calendar
        "",
    ]:
        response = client.get(URL, {"view": "all", "after": after})
        assert shown(response) == everything, after
        if after:
            assert (
                de("The link to the next page was not valid, so the list starts from the top.")
                in response.content.decode()
            ), after


# Keyset pagination ---------------------------------------------------------------


def walk(client, params) -> list[list[str]]:
    pages = []
    response = client.get(URL, params)
    while True:
        pages.append([ticket.reference for ticket in response.context["tickets"]])
        next_url = response.context["next_url"]
        if not next_url:
            return pages
        assert "after=" in next_url
        response = client.get(URL + next_url)
        assert response.context["first_url"]


@pytest.mark.parametrize("sort", ["due", "newest"])
def test_keyset_pages_have_no_gaps_and_no_duplicates(client, cast, leak, sort):
    start = timezone.now() - datetime.timedelta(days=10)
    for i in range(60):
        ticket_create(
            request_type=leak,
            member=cast.alice.member,
            # Many equal keys: the order must still be total.
            created_at=start + datetime.timedelta(minutes=i // 3),
            due_at=None if i % 4 == 0 else start + datetime.timedelta(hours=i % 5),
        )
    client.force_login(cast.hanna)
    pages = walk(client, {"view": "all", "sort": sort})
    assert [len(page) for page in pages] == [25, 25, 10]
    flat = [ref for page in pages for ref in page]
    assert len(set(flat)) == 60

    def key(t):
        if sort == "newest":
            return (-t.created_at.timestamp(), -t.pk)
        return (t.due_at is None, t.due_at or start, t.created_at, t.pk)

    expected = [t.reference for t in sorted(Ticket.objects.all(), key=key)]
    assert flat == expected


def test_paging_keeps_the_filters(client, cast, leak, question):
    for _ in range(27):
        ticket_create(request_type=leak, member=cast.alice.member)
    ticket_create(request_type=question, member=cast.alice.member)
    client.force_login(cast.hanna)
    pages = walk(client, {"view": "all", "request_type": leak.pk})
    assert [len(page) for page in pages] == [25, 2]


# Search --------------------------------------------------------------------------


@pytest.fixture
def texts(cast, leak, question):
    alice, dave = cast.alice.member, cast.dave.member
    tickets = {
        "tap": ticket_create(
            request_type=leak,
            member=alice,
            answers={"what": "Die Wasserhähne in Küche und Bad tropfen."},
        ),
        "dave_tap": ticket_create(
            request_type=leak, member=dave, answers={"what": "Der Wasserhahn im Bad tropft."}
        ),
        "radiator": ticket_create(
            request_type=leak, member=dave, answers={"what": "Heizkörper im Wohnzimmer bleibt kalt"}
        ),
        "bill": ticket_create(
            request_type=question,
            member=alice,
            answers={"what": "Frage zur Nebenkostenabrechnung 2025"},
        ),
    }
    TicketEvent.objects.create(
        ticket=tickets["radiator"],
        kind=TicketEvent.Kind.NOTE,
        public=False,
        actor=cast.hanna,
        body="Schlüssel liegt bei Familie Özdemir im Erdgeschoss.",
    )
    TicketEvent.objects.create(
        ticket=tickets["bill"],
        kind=TicketEvent.Kind.REPLY,
        public=True,
        actor=cast.hanna,
        body="Die Abrechnung kommt im Juni.",
    )
    return tickets


def found(client, q, view="all") -> set[str]:
    return shown(client.get(URL, {"view": view, "q": q}))


def test_it_finds_a_request_by_its_reference(client, cast, texts):
    client.force_login(cast.hanna)
    bill = texts["bill"]
    assert found(client, bill.reference) == refs(bill)
    assert found(client, f"  {bill.reference.lower()} ") == refs(bill)
    assert found(client, bill.reference[-6:]) == refs(bill)  # the number alone


def test_it_finds_requests_by_member_name_and_number(client, cast, texts):
    t = texts
    client.force_login(cast.hanna)
    assert found(client, "Dietrich") == refs(t["dave_tap"], t["radiator"])
    assert found(client, "ahrens") == refs(t["tap"], t["bill"])
    assert found(client, "alice ahrens") == refs(t["tap"], t["bill"])
    assert found(client, "20003") == refs(t["dave_tap"], t["radiator"])
    # Umlauts in names, typed in any case (SQLite's LIKE alone folds only A-Z).
    Member.objects.filter(pk=cast.dave.member.pk).update(last_name="Öztürk")
    assert found(client, "öztürk") == refs(t["dave_tap"], t["radiator"])
    assert found(client, "ÖZTÜRK") == refs(t["dave_tap"], t["radiator"])


def test_it_finds_requests_by_type_and_by_their_text(client, cast, texts):
    t = texts
    client.force_login(cast.hanna)
    assert found(client, "frage") == refs(t["bill"])  # the type's name, both languages
    assert found(client, "question") == refs(t["bill"])
    assert found(client, "Wohnzimmer") == refs(t["radiator"])  # the answers
    assert found(client, "Nebenkostenabrechnung") == refs(t["bill"])
    assert found(client, "juni") == refs(t["bill"])  # a public reply
    assert found(client, "schlüssel") == refs(t["radiator"])  # an internal note, any case
    assert found(client, "ÖZDEMIR") == refs(t["radiator"])
    assert found(client, "heiz") == refs(t["radiator"])  # the start of a word
    # Every word must match somewhere: Alice's tap, not Dave's.
    assert found(client, "Ahrens Wasserhähne") == refs(t["tap"])
    assert found(client, "Zauberflöte") == set()


def test_a_search_over_all_requests_finds_open_ones_first_then_finished_ones(client, cast, texts):
    """The search looks among open requests and among finished ones apart
    (issue 11: at a million requests, collecting every match of a broad word
    first cost 1.4 s); each part still finds by every place a word can be."""
    t = texts
    Ticket.objects.filter(pk__in=[t["radiator"].pk, t["bill"].pk]).update(status=Status.RESOLVED)
    client.force_login(cast.hanna)
    for word, expected in [
        ("schlüssel", refs(t["radiator"])),  # an internal note of a finished request
        ("juni", refs(t["bill"])),  # a reply on a finished request
        ("Dietrich", refs(t["dave_tap"], t["radiator"])),  # one open, one finished
        ("tropf", refs(t["tap"], t["dave_tap"])),  # both open
    ]:
        response = client.get(URL, {"view": "all", "q": word})
        assert shown(response) == expected, word
        statuses = [ticket.status for ticket in response.context["tickets"]]
        assert statuses == sorted(statuses, key=lambda status: status == Status.RESOLVED), word
    # The views of open requests never show the finished matches.
    assert found(client, "Dietrich", view="teams") <= refs(t["dave_tap"])


def test_german_word_forms(client, cast, texts):
    t = texts
    client.force_login(cast.hanna)
    # PostgreSQL stems, SQLite matches the start of the word (umlauts folded):
    # either way the singular finds the plural.
    assert found(client, "Wasserhahn") == refs(t["tap"], t["dave_tap"])
    assert found(client, "tropft") >= refs(t["dave_tap"])
    if ON_POSTGRES:
        # Only German stemming takes the plural back to the singular.
        assert found(client, "Wasserhähne") == refs(t["tap"], t["dave_tap"])
        assert found(client, "Heizkörpern") == refs(t["radiator"])
        assert found(client, "tropfen") == refs(t["tap"], t["dave_tap"])
    else:
        assert found(client, "Wasserhähne") == refs(t["tap"])


def test_search_stays_within_what_the_handler_may_see(client, cast, texts, vermietung):
    Ticket.objects.filter(pk=texts["bill"].pk).update(team=vermietung)
    client.force_login(cast.hanna)
    assert found(client, "Nebenkostenabrechnung") == set()
    assert found(client, texts["bill"].reference) == set()
    client.force_login(cast.tom)
    otp_verify(client, cast.tom)
    assert found(client, "Nebenkostenabrechnung") == refs(texts["bill"])


def test_search_combines_with_views_and_filters(client, cast, texts):
    Ticket.objects.filter(pk=texts["dave_tap"].pk).update(assignee=cast.hanna)
    client.force_login(cast.hanna)
    assert found(client, "Wasserhahn", view="mine") == refs(texts["dave_tap"])
    response = client.get(URL, {"view": "all", "q": "Wasserhahn", "status": Status.RESOLVED})
    assert shown(response) == set()


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "'",
        "Wasser*",
        "a:*",
        "!!!",
        "NEAR(a b)",
        "x & y | !z",
        "a-b-c",
        "((",
        "_",
        "ü" * 200,
    ],
)
def test_odd_search_input_never_breaks_the_page(client, cast, texts, query):
    client.force_login(cast.hanna)
    assert client.get(URL, {"view": "all", "q": query}).status_code == 200


def test_a_nul_in_the_search_gets_the_friendly_bad_request_page(client, cast, texts):
    # No keyboard types it; core.middleware answers 400 for a NUL anywhere
    # in a request before any query sees it (PostgreSQL refuses it).
    client.force_login(cast.hanna)
    response = client.get(URL, {"view": "all", "q": "nul\x00l"})
    assert response.status_code == 400
    assert 'href="/"' in response.content.decode()


def test_a_search_is_recorded_in_the_access_log(client, cast, texts):
    client.force_login(cast.hanna)
    client.get(URL, {"view": "all", "q": "Dietrich"})
    entry = AccessLog.objects.get(actor=cast.hanna)
    assert entry.action == "search" and "Dietrich" in entry.subject
    client.get(URL, {"view": "all"})
    assert AccessLog.objects.count() == 1  # browsing the list is not a search


def test_the_search_index_follows_every_write(cast, texts):
    tap = texts["tap"]
    Ticket.objects.filter(pk=tap.pk).update(answers={"what": "Spülmaschine läuft aus"})
    assert list(ticket_search(Ticket.objects.all(), "Spülmaschine")) == [tap]
    assert tap not in ticket_search(Ticket.objects.all(), "Küche")
    Ticket.objects.filter(pk=tap.pk).delete()
    assert not ticket_search(Ticket.objects.all(), "Spülmaschine").exists()


def test_the_search_index_survived_all_migrations():
    """Each database has its own index objects (migration 0007); a later
    migration that rebuilds the tables on SQLite drops the triggers and must
    create them again. Checked on whichever database the suite runs on."""
    with connection.cursor() as cursor:
        if ON_POSTGRES:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename LIKE 'tickets_%'"
            )
            found = dict(cursor.fetchall())
            for name in ("tickets_ticket_answers_fts", "tickets_ticketevent_body_fts"):
                assert name in found and "gin" in found[name].lower()
            return
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('trigger', 'table')")
        names = {row[0] for row in cursor.fetchall()}
    expected = {
        "tickets_ticket_fts",
        *(
            f"tickets_{table}_fts_{event}"
            for table in ("ticket", "ticketevent")
            for event in ("insert", "update", "delete")
        ),
    }
    assert expected <= names


# Bulk actions --------------------------------------------------------------------


def notes(client, response) -> dict[str, list[str]]:
    """The messages the page after the redirect shows, by level."""
    page = client.get(response["Location"])
    told: dict[str, list[str]] = {}
    for message in page.context["messages"]:
        told.setdefault(message.level_tag, []).append(str(message))
    return told


def sorted_refs(*tickets) -> list[str]:
    return [t.reference for t in sorted(tickets, key=lambda t: t.pk)]


def ticked(*tickets) -> list[str]:
    return [f"{ticket.pk}:{ticket.version}" for ticket in tickets]


def bulk(client, *tickets, query="?view=all", **fields):
    data = {"bulk-selected": ticked(*tickets)}
    data.update({f"bulk-{name}": value for name, value in fields.items()})
    return client.post(URL + query, data)


def history(ticket) -> list[str]:
    return list(ticket.events.order_by("pk").values_list("kind", flat=True))


def test_bulk_assign_moves_every_ticked_request_and_tells_the_handler_once(
    client, cast, story, vermietung, outbox
):
    client.force_login(cast.hanna)
    queue, triage = story["team_queue"], story["triage"]
    response = bulk(
        client,
        queue,
        triage,
        query="?view=teams&sort=newest",
        action="assign",
        team=vermietung.pk,
        assignee=cast.tom.pk,
    )
    # Back to the same view with its filters, and told what happened.
    assert response.status_code == 302
    assert response["Location"] == URL + "?view=teams&sort=newest"
    for ticket in (queue, triage):
        ticket.refresh_from_db()
        assert (ticket.team, ticket.assignee) == (vermietung, cast.tom)
        assert history(ticket)[-1] == TicketEvent.Kind.ASSIGNED
    assert len([m for m in outbox if m.to == ["tom@example.org"]]) == 1
    mail_to_tom = next(m for m in outbox if m.to == ["tom@example.org"])
    assert queue.reference in mail_to_tom.body and triage.reference in mail_to_tom.body
    told = notes(client, response)
    assert told["success"] == [f"Zugewiesen: 2 Anliegen ({', '.join(sorted_refs(queue, triage))})."]
    # Untouched requests stay as they were.
    story["mine"].refresh_from_db()
    assert story["mine"].assignee == cast.hanna


def test_bulk_assign_to_the_team_queue(client, cast, story, technik):
    client.force_login(cast.hanna)
    mine = story["mine"]
    response = bulk(client, mine, action="assign", team=technik.pk, assignee="")
    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.team, mine.assignee) == (technik, None)


def test_bulk_resolve_tells_each_member_and_skips_what_is_already_closed(
    client, cast, story, outbox
):
    client.force_login(cast.hanna)
    mine, overdue, closed = story["mine"], story["overdue"], story["closed"]
    response = bulk(client, mine, overdue, closed, action="status", status=Status.RESOLVED)
    assert response.status_code == 302
    for ticket in (mine, overdue):
        ticket.refresh_from_db()
        assert ticket.status == Status.RESOLVED
    closed.refresh_from_db()
    assert closed.status == Status.CLOSED
    resolved_mail = {m.to[0] for m in outbox if "erledigt" in m.subject.lower()}
    assert resolved_mail == {"alice@example.org", "dave@example.org"}
    told = notes(client, response)
    assert told["success"] == [
        f"Status geändert zu „erledigt“: 2 Anliegen ({', '.join(sorted_refs(mine, overdue))})."
    ]
    assert closed.reference in told["info"][0]  # named as not possible


def test_bulk_close(client, cast, story):
    client.force_login(cast.hanna)
    queue = story["team_queue"]
    bulk(client, queue, action="status", status=Status.CLOSED)
    queue.refresh_from_db()
    assert queue.status == Status.CLOSED and queue.closed_at is not None


def test_a_request_a_colleague_changed_meanwhile_is_left_alone(client, cast, story, technik):
    client.force_login(cast.hanna)
    mine, overdue = story["mine"], story["overdue"]
    stale = ticked(overdue)
    # Tom answers the overdue one after hanna's list was loaded.
    from tickets.services import ticket_reply

    ticket_reply(
        ticket=overdue,
        actor=cast.tom,
        body="Bin dran.",
        expected_version=overdue.version,
        public=False,
    )
    response = client.post(
        URL + "?view=all",
        {
            "bulk-selected": ticked(mine) + stale,
            "bulk-action": "status",
            "bulk-status": Status.CLOSED,
        },
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    overdue.refresh_from_db()
    assert mine.status == Status.CLOSED
    assert overdue.status == Status.IN_PROGRESS
    told = notes(client, response)
    assert told["success"] == [f"Status geändert zu „geschlossen“: 1 Anliegen ({mine.reference})."]
    assert overdue.reference in told["warning"][0]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"action": "assign"}, "Choose the team that takes over the requests."),
        ({"action": "assign", "team": "999999"}, "Choose a team from the list."),
        ({"action": "status"}, "Choose the new status."),
        ({"action": "status", "status": "received"}, "Choose a status from the list."),
        ({"action": "explode"}, "Choose what to do."),
        ({}, "Choose what to do."),
    ],
)
def test_bad_bulk_input_is_explained_changes_nothing_and_keeps_the_ticks(
    client, cast, story, fields, message
):
    client.force_login(cast.hanna)
    mine, queue = story["mine"], story["team_queue"]
    before = {t.pk: (t.status, t.team_id, t.assignee_id, t.version) for t in (mine, queue)}
    events = TicketEvent.objects.count()
    response = bulk(client, mine, queue, **fields)
    assert response.status_code == 200
    assert de(message) in response.content.decode()
    # The ticks are still there: the handler corrects and sends again.
    assert response.context["checked"] == set(ticked(mine, queue))
    assert response.content.decode().count(" checked>") == 2
    for ticket in (mine, queue):
        ticket.refresh_from_db()
        assert (ticket.status, ticket.team_id, ticket.assignee_id, ticket.version) == before[
            ticket.pk
        ]
    assert TicketEvent.objects.count() == events


def test_a_handler_outside_the_team_is_refused(client, cast, story, technik):
    client.force_login(cast.hanna)
    mine = story["mine"]
    response = bulk(client, mine, action="assign", team=technik.pk, assignee=cast.tom.pk)
    assert response.status_code == 200
    assert f"{cast.tom.get_full_name()} ist nicht im Team Technik." in response.content.decode()
    mine.refresh_from_db()
    assert mine.team == technik and mine.assignee == cast.hanna


def test_nothing_ticked(client, cast, story):
    client.force_login(cast.hanna)
    response = client.post(URL, {"bulk-action": "status", "bulk-status": Status.CLOSED})
    assert response.status_code == 200
    assert de("Select at least one request in the list.") in response.content.decode()


@pytest.mark.parametrize("value", ["abc", "1:x", "99999999:1", "-1:1", "1:1:1"])
def test_tampered_or_foreign_ticks_change_nothing(client, cast, story, value):
    client.force_login(cast.hanna)
    mine = story["mine"]
    response = client.post(
        URL,
        {
            "bulk-selected": [*ticked(mine), value],
            "bulk-action": "status",
            "bulk-status": Status.CLOSED,
        },
    )
    assert response.status_code == 200
    assert de(BulkForm.NOT_AVAILABLE) in response.content.decode()
    mine.refresh_from_db()
    assert mine.status == Status.RECEIVED


def test_another_teams_request_cannot_be_changed_in_bulk(client, cast, story):
    client.force_login(cast.hanna)
    other = story["other_team"]
    response = bulk(client, other, action="status", status=Status.CLOSED)
    assert response.status_code == 200
    assert de(BulkForm.NOT_AVAILABLE) in response.content.decode()
    other.refresh_from_db()
    assert other.status == Status.RECEIVED


def test_members_and_visitors_cannot_post_bulk_actions(client, cast, story):
    mine = story["mine"]
    data = {"bulk-selected": ticked(mine), "bulk-action": "status", "bulk-status": "closed"}
    response = client.post(URL, data)
    assert response.status_code == 302 and "/anmelden/" in response["Location"]
    client.force_login(cast.alice)
    assert client.post(URL, data).status_code == 404
    mine.refresh_from_db()
    assert mine.status == Status.RECEIVED


# Query count ---------------------------------------------------------------------


@pytest.mark.parametrize("count", [5, 50])
def test_the_query_count_does_not_grow_with_the_tickets(
    client, cast, leak, vermietung, django_assert_max_num_queries, count
):
    for i in range(count):
        ticket_create(
            request_type=leak,
            member=cast.alice.member if i % 2 else cast.dave.member,
            answers={"what": "Wasserhahn tropft"},
            assignee=cast.hanna if i % 3 else None,
            due_at=timezone.now() + datetime.timedelta(days=i - 3),
        )
    client.force_login(cast.hanna)
    north = Estate.objects.get(name="Wohnanlage Nord")
    params = {"view": "all", "q": "Wasserhahn", "status": Status.RECEIVED, "estate": north.pk}
    client.get(URL, params)  # warm up: session, caches
    with django_assert_max_num_queries(12):
        response = client.get(URL, {"view": "all"})
    assert len(response.context["tickets"]) == min(count, 25)
    with django_assert_max_num_queries(12):
        client.get(URL, params)
    with CaptureQueriesContext(connection) as default_view:
        client.get(URL)
    assert len(default_view) <= 12


def test_the_query_count_does_not_grow_with_the_staff(client, cast, leak):
    # The handler filter lists every active staff member by name: one query
    # for all of them, however many there are (it once loaded each
    # person's member link on its own).
    ticket_create(request_type=leak, member=cast.alice.member, assignee=cast.hanna)
    client.force_login(cast.hanna)
    client.get(URL)  # warm up: session, caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    few = queries()
    for i in range(15):
        staff_ensure(f"kollegin{i}@example.org", f"Kollegin{i}", "Test", roles.HANDLER)
    assert queries() == few


# A real browser --------------------------------------------------------------------


@pytest.mark.browser
def test_the_inbox_works_by_keyboard_and_on_a_phone(page, live_server, cast, leak, password):
    now = timezone.now()
    for i in range(30):
        ticket_create(
            request_type=leak,
            member=cast.alice.member if i % 2 else cast.dave.member,
            answers={"what": "Wasserhahn tropft"},
            assignee=cast.hanna if i % 3 else None,
            due_at=now + datetime.timedelta(days=i - 2),
        )
    base = live_server.url
    page.goto(base + "/anmelden/?next=/bearbeitung/")
    page.fill("#id_email", "hanna@example.org")
    page.fill("#id_password", password)
    page.press("#id_password", "Enter")
    page.wait_for_url(re.compile(r".*/bearbeitung/$"))
    assert page.locator("table tbody tr").count() == 20  # assigned to hanna, open
    assert page.locator(".inbox-table").evaluate("e => e.scrollWidth <= e.clientWidth")
    assert_accessible(page)
    assert_fits_width(page)

    # Filter by keyboard only: choose a status, send the form with Enter.
    page.focus("#id_q")
    page.keyboard.type("Dietrich")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*q=Dietrich.*"))
    assert page.locator("table tbody tr").count() > 0
    assert "Alice Ahrens" not in page.locator("table").inner_text()

    # A bad value: the error summary, still accessible.
    page.goto(base + "/bearbeitung/?view=all&status=lost")
    assert page.get_by_role("alert").is_visible()
    assert_accessible(page)

    page.set_viewport_size(PHONE)
    page.goto(base + "/bearbeitung/?view=all")
    assert page.locator("a[rel=next]").count() == 1
    assert_accessible(page)
    assert_fits_width(page)
    # One card per request: nothing to scroll sideways, every value labelled.
    region = page.locator(".inbox-table")
    assert region.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert page.locator("tbody tr").first.evaluate("e => getComputedStyle(e).display") == "block"
    assert page.locator("tbody td").first.get_attribute("data-label")
    page.locator("a[rel=next]").click()
    page.wait_for_url(re.compile(r".*after=.*"))
    assert page.locator("table tbody tr").count() == 5
    assert_fits_width(page)


@pytest.mark.browser
def test_bulk_actions_by_keyboard(page, live_server, cast, story, vermietung, password):
    page.goto(live_server.url + "/anmelden/?next=/bearbeitung/%3Fview%3Dteams")
    page.fill("#id_email", "hanna@example.org")
    page.fill("#id_password", password)
    page.press("#id_password", "Enter")
    page.wait_for_url(re.compile(r".*view=teams$"))
    queue, mine = story["team_queue"], story["mine"]

    # Nothing ticked: explained, accessible, focus on the summary.
    page.focus("#id_bulk-status")
    page.keyboard.press("End")  # last option: closed
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "status"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("alert").is_visible()
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    assert_accessible(page)

    # "Select all" ticks every box; unticking one leaves it half-ticked.
    pick_all = page.locator("[data-pick-all]")
    assert pick_all.is_visible()
    pick_all.focus()
    page.keyboard.press("Space")
    assert page.locator("input[name='bulk-selected']:checked").count() == 4
    page.keyboard.press("Space")
    assert page.locator("input[name='bulk-selected']:checked").count() == 0

    # Tick two requests with the space bar, assign them to Vermietung / Tom.
    page.focus(f"#pick-{queue.pk}")
    page.keyboard.press("Space")
    page.focus(f"#pick-{mine.pk}")
    page.keyboard.press("Space")
    assert pick_all.evaluate("e => e.indeterminate")
    page.focus("#id_bulk-team")
    page.select_option("#id_bulk-team", str(vermietung.pk))
    page.select_option("#id_bulk-assignee", str(cast.tom.pk))
    page.focus("button[value=assign]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    status = page.get_by_role("status")
    assert queue.reference in status.inner_text()
    assert_accessible(page)
    for ticket in (queue, mine):
        ticket.refresh_from_db()
        assert ticket.team == vermietung and ticket.assignee == cast.tom

    page.set_viewport_size(PHONE)
    page.reload()
    assert_fits_width(page)
    assert_accessible(page)
