"""Phone and counter intake by name: hanna finds the member by name,
address, unit, phone or member number, logs who called and notes on the
call, files requests for callers who are not members (triage), and closes
what she solved on the phone at once. Also: a ticket without a member
works everywhere the office looks at it."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import override
from hypothesis import given
from hypothesis import strategies as st

from audit.models import AccessLog
from core.folding import SearchText, quick_fold
from core.text import fold
from members.models import Member
from members.selectors import SEARCH_LIMIT, member_for_call, members_search
from routing.models import Team
from tests.factories import TAP, ticket_create
from tests.helpers import de
from tickets import services
from tickets.models import (
    CannedResponse,
    Category,
    Channel,
    RequestType,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.search import ticket_search
from tickets.selectors import training_samples

pytestmark = pytest.mark.django_db

START = "/bearbeitung/anruf/"
MEMBERS = "/bearbeitung/anruf/mitglieder/"
HTMX = {"HTTP_HX_REQUEST": "true"}
REPAIR_FIELDS = {"room": "hallway", "what": "Licht im Flur kaputt", "urgency": "normal"}


def form_url(number, slug="schadensmeldung", channel="phone"):
    return f"/bearbeitung/anruf/{number}/{slug}/{channel}/"


def numbers(query):
    return [hit.member.member_number for hit in members_search(query=query).hits]


@pytest.fixture
def mueller(cast):
    """A member whose name has umlauts, an accent and a hyphen."""
    return Member.objects.create(
        member_number="30001",
        first_name="José",
        last_name="Müller-Lüdenscheidt",
        street="Weißdornweg 7",
        postcode="12345",
        city="Berlin",
        phone="+49 (30) 777-1234",
        joined_on=datetime.date(2001, 1, 1),
    )


# Folding in the database ------------------------------------------------------------


@given(st.text(max_size=40))
def test_the_quick_fold_is_fold(text):
    assert quick_fold(text) == fold(text)


NAMES = [
    "Müller-Lüdenscheidt",
    "ÖZTÜRK",
    "Weißdornweg",
    "GROẞSTRASSE",
    "José Ñúñez",
    "Çelik",
    "Dvořák",
    "Łukasz Wałęsa",
    "İnci",
    "Ærø",
    "ĲSSELMEER",
    "O'Neill",
    "Zoë",
]


def test_the_database_folds_as_python_does(cast):
    """The same text, folded by PostgreSQL's table or SQLite's function,
    is what core.text.fold makes of it."""
    for name in NAMES:
        Member.objects.filter(member_number="20003").update(last_name=name)
        folded = (
            Member.objects.filter(member_number="20003")
            .annotate(folded=SearchText("last_name"))
            .values_list("folded", flat=True)
            .get()
        )
        assert folded == f" {fold(name)} ", name


# The lookup -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "Lüdenscheidt",
        "luedenscheidt",
        "LÜDENSCHEIDT",
        "müller-lüdenscheidt",
        "jose müller",  # several words, any order, accent folded
        "MUELLER JOSÉ",
        "Weißdornweg 7",  # street and number
        "weissdornweg",
        "030 7771234",  # phone with spaces, without the country code
        "0307771234",
        "+49 30 777 1234",
        "30001",  # member number
    ],
)
def test_it_finds_a_member_by_name_address_phone_or_number(mueller, query):
    assert numbers(query)[0] == "30001"


def test_it_finds_the_household_by_its_unit_number_and_position(cast):
    found = numbers("0101900")
    assert found[:2] == ["20001", "20002"]  # alice and bob, nobody else
    assert len(found) == 2
    assert numbers("2. OG links Nordring")[:2] == ["20001", "20002"]


def test_it_finds_alice_by_her_phone_with_or_without_spaces(cast):
    for query in ["030 5550001", "0305550001", "030/555 0001", "+49 30 5550001"]:
        assert numbers(query) == ["20001"], query


def test_the_words_narrow_it_down_and_rank_the_best_first(cast):
    assert numbers("ahrens") == ["20001", "20002"]
    assert numbers("Ahrens Bob") == ["20002"]
    # "Nordring 1": the house number as a whole word, not every "1" in a number.
    found = numbers("Nordring 1")
    assert found[:2] == ["20001", "20002"]
    assert "20003" not in found  # dave lives in Südallee
    # The exact member number wins over members whose phone contains it.
    assert numbers("20003")[0] == "20003"


def test_a_former_member_is_marked_and_listed_after_current_ones(cast):
    Member.objects.filter(member_number="20002").update(left_on=datetime.date(2020, 1, 1))
    search = members_search(query="ahrens")
    assert [(h.member.member_number, h.is_active) for h in search.hits] == [
        ("20001", True),
        ("20002", False),
    ]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "'",
        '"; DROP TABLE members_member; --',
        "%",
        "_",
        "\\",
        "x" * 500,
        "ä" * 500,
        "Müller " * 80,
        "a",
    ],
)
def test_odd_input_gives_results_or_an_empty_list(cast, query):
    search = members_search(query=query)
    assert len(search.hits) <= SEARCH_LIMIT
    assert all(isinstance(hit.member, Member) for hit in search.hits)


def test_a_vague_query_is_bounded_and_says_there_is_more(cast):
    search = members_search(query="e")  # too short: nothing searched
    assert not search.searched and not search.hits
    search = members_search(query="er")
    assert search.searched
    assert len(search.hits) == SEARCH_LIMIT
    assert search.more


def test_member_for_call_knows_the_household(cast):
    hit = member_for_call("20001")
    assert hit.contract.unit.number == "0101900"
    assert [m.first_name for m in hit.household] == ["Bob"]
    assert member_for_call("99999") is None


# The search page and the as-you-type list ----------------------------------------------


def test_the_search_page_lists_members_as_links_without_script(client, cast):
    client.force_login(cast.hanna)
    response = client.get(START, {"q": "Ahrens"})
    body = response.content.decode()
    assert response.status_code == 200
    assert f'{START}?q=Ahrens&amp;mitglied=20001"' in body
    assert f'{START}?q=Ahrens&amp;mitglied=20002"' in body
    assert "20003" not in body
    assert 'role="status"' in body
    assert "htmx-2.0.11.min.js" in body
    # The search of member data is in the access log.
    assert AccessLog.objects.filter(actor=cast.hanna, action="search").exists()


def test_the_as_you_type_list_is_a_fragment_with_its_count(client, cast):
    client.force_login(cast.hanna)
    response = client.get(MEMBERS, {"q": "ahrens"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'hx-swap-oob="innerHTML"' in body
    assert "mitglied=20001" in body and "mitglied=20002" in body
    assert response["HX-Replace-Url"] == f"{START}?q=ahrens"


def test_the_list_without_htmx_sends_to_the_search_page(client, cast):
    client.force_login(cast.hanna)
    response = client.get(MEMBERS, {"q": "Müller & Söhne"})
    assert response.status_code == 302
    assert response["Location"] == f"{START}?q=M%C3%BCller+%26+S%C3%B6hne"


NOTHING = "No member found. Check the spelling, or search by address, phone or member number."
TOO_SHORT = "Please type at least two letters or digits."


@pytest.mark.parametrize(
    "query, state",
    [
        ("", None),
        ("'", TOO_SHORT),
        ('"><script>alert(1)</script>', NOTHING),
        ("x" * 500, NOTHING),
        ("Ö" * 500, NOTHING),
        ("zzzzzz", NOTHING),
    ],
)
def test_odd_input_on_the_page_gives_an_empty_state(client, cast, query, state):
    client.force_login(cast.hanna)
    for response in (client.get(START, {"q": query}), client.get(MEMBERS, {"q": query}, **HTMX)):
        body = response.content.decode()
        assert response.status_code == 200
        assert "<script>alert(1)" not in body
        assert "member-results__link" not in body
        for text in (NOTHING, TOO_SHORT):
            assert (de(text) in body) == (text == state)


def test_a_short_query_asks_for_more(client, cast):
    client.force_login(cast.hanna)
    response = client.get(MEMBERS, {"q": "a"}, **HTMX)
    assert de(TOO_SHORT) in response.content.decode()


def test_the_lookup_needs_a_fixed_number_of_queries(client, cast, django_assert_max_num_queries):
    client.force_login(cast.hanna)
    client.get(MEMBERS, {"q": "ahrens"}, **HTMX)  # warm up: session, caches
    with CaptureQueriesContext(connection) as few:
        client.get(MEMBERS, {"q": "ahrens"}, **HTMX)
    for i in range(40):
        Member.objects.create(
            member_number=f"4{i:04d}",
            first_name="Erika",
            last_name=f"Ahrens{i}",
            joined_on=datetime.date(2000, 1, 1),
        )
    with django_assert_max_num_queries(len(few)):
        response = client.get(MEMBERS, {"q": "ahrens"}, **HTMX)
    assert response.content.decode().count("mitglied=") == SEARCH_LIMIT
    assert len(few) <= 8


def test_the_start_page_needs_a_fixed_number_of_queries(
    client, cast, django_assert_max_num_queries
):
    client.force_login(cast.hanna)
    client.get(START, {"mitglied": "20001"})
    with django_assert_max_num_queries(14):
        client.get(START, {"q": "Nordring"})
    with django_assert_max_num_queries(14):
        client.get(START, {"mitglied": "20001"})


def test_outsiders_and_wrong_methods(client, cast):
    assert client.get(MEMBERS, {"q": "ahrens"}, **HTMX)["Location"].startswith("/anmelden/")
    client.force_login(cast.alice)
    assert client.get(MEMBERS, {"q": "ahrens"}, **HTMX).status_code == 404
    client.force_login(cast.hanna)
    assert client.post(MEMBERS, {"q": "ahrens"}).status_code == 405
    assert client.put(START).status_code == 405
    # Letters are logged by hand; the portal and the interface are not.
    assert client.get(form_url("20001", channel="letter")).status_code == 200
    for channel in ("fax", "portal", "api"):
        assert client.get(form_url("20001", channel=channel)).status_code == 404
    assert client.get(form_url("99999")).status_code == 404


# Choosing the member, the form and the channel ------------------------------------------


def test_picking_a_member_shows_the_household_and_the_grouped_forms(client, cast):
    RequestType.objects.filter(slug="schadensmeldung").update(in_portal=False)
    client.force_login(cast.hanna)
    response = client.get(START, {"q": "ahrens", "mitglied": "20001"})
    body = response.content.decode()
    assert "Alice Ahrens" in body and "Bob Ahrens" in body  # the household
    assert f'href="{START}?q=ahrens"' in body  # back to the same results
    # The forms grouped as on the member's page (staff-only ones too).
    choices = response.context["form"].fields["request_type"].choices
    with override("de"):
        assert [label for label, _types in choices[1:]] == [
            str(label)
            for value, label in Category.choices
            if RequestType.objects.filter(category=value, active=True).exists()
        ]
    repairs = dict(choices[1:])[Category.REPAIR.label]
    assert RequestType.objects.get(slug="schadensmeldung").pk in [pk for pk, _name in repairs]
    response = client.post(
        START,
        {
            "member_number": "20001",
            "request_type": RequestType.objects.get(slug="schadensmeldung").pk,
            "channel": Channel.EMAIL,
        },
    )
    assert response["Location"] == form_url("20001", channel="email")


def test_without_a_member_the_start_form_asks_for_one(client, cast):
    client.force_login(cast.hanna)
    repair = RequestType.objects.get(slug="schadensmeldung")
    for data in ({}, {"not_member": "False", "member_number": ""}):
        response = client.post(START, {**data, "request_type": repair.pk, "channel": "phone"})
        assert response.status_code == 200
        body = response.content.decode()
        assert de("Please find the member first, or choose “not a member”.") in body
        assert 'id="member-q"' in body  # the search, to find one
    response = client.post(
        START, {"not_member": "True", "request_type": repair.pk, "channel": "counter"}
    )
    assert response["Location"] == form_url("kein-mitglied", channel="counter")


def test_the_staff_form_does_not_show_texts_written_to_the_member(client, cast):
    client.force_login(cast.hanna)
    body = client.get(form_url("20001")).content.decode()
    repair = RequestType.objects.get(slug="schadensmeldung")
    assert repair.help_de[:40] not in body
    assert "Beschreiben Sie kurz, was Sie sehen." not in body
    assert "Im Notfall rufen Sie bitte sofort" not in body
    assert "Was ist kaputt?" in body  # the questions stay: staff ask them


# Filing ---------------------------------------------------------------------------------


def test_a_call_from_bob_about_alices_flat_records_the_caller(client, cast, outbox):
    client.force_login(cast.hanna)
    response = client.post(
        form_url("20001"),
        {
            **REPAIR_FIELDS,
            "master_key": "yes",
            "caller": "household-20002",
            "note": "Rief vom Handy an, Frau Ahrens ist verreist.",
        },
    )
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/bearbeitung/anliegen/{ticket.reference}/"
    assert ticket.member == cast.alice.member
    assert ticket.contact_name == f"Bob Ahrens ({de('household')})"
    assert ticket.contact_phone == cast.bob.member.phone
    assert ticket.channel == Channel.PHONE
    note = ticket.events.get(kind=TicketEvent.Kind.NOTE)
    assert (note.public, note.body, note.actor) == (
        False,
        "Rief vom Handy an, Frau Ahrens ist verreist.",
        cast.hanna,
    )
    assert ["alice@example.org"] in [m.to for m in outbox]  # her confirmation
    page = client.get(response["Location"]).content.decode()
    assert ticket.contact_name in page
    # The member sees the request, not the internal note.
    client.force_login(cast.alice)
    detail = client.get(f"/anliegen/{ticket.reference}/").content.decode()
    assert "verreist" not in detail


def test_someone_else_with_a_relation_is_recorded(client, cast):
    client.force_login(cast.hanna)
    client.post(
        form_url("20003", channel="counter"),
        {
            **REPAIR_FIELDS,
            "master_key": "no",
            "caller": "other",
            "contact_name": "Erika Dietrich",
            "relation": "Tochter",
            "contact_phone": "0170 1234567",
            "contact_email": "erika@example.org",
        },
    )
    ticket = Ticket.objects.get()
    assert (ticket.member, ticket.contact_name, ticket.contact_phone, ticket.contact_email) == (
        cast.dave.member,
        "Erika Dietrich (Tochter)",
        "0170 1234567",
        "erika@example.org",
    )
    # The name of someone else is needed, and nothing typed is lost.
    response = client.post(
        form_url("20003"),
        {**REPAIR_FIELDS, "master_key": "no", "caller": "other", "relation": "Sohn"},
    )
    body = response.content.decode()
    assert de("Please enter the name of the person who got in touch.") in body
    assert "Licht im Flur kaputt" in body and 'value="Sohn"' in body
    assert Ticket.objects.count() == 1


def test_a_caller_who_is_not_a_member_lands_in_triage(client, cast, outbox):
    client.force_login(cast.hanna)
    response = client.post(
        form_url("kein-mitglied", channel="counter"),
        {
            **REPAIR_FIELDS,
            "master_key": "no",
            "contact_name": "Hans Nachbar",
            "contact_phone": "030 999",
            "contact_email": "hans@example.org",
            "note": "Wohnt gegenüber, sah Wasser im Treppenhaus.",
        },
    )
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/bearbeitung/anliegen/{ticket.reference}/"
    assert ticket.member is None and ticket.unit is None
    assert (ticket.team, ticket.assignee) == (None, None)
    assert ticket.routing_reason["how"] == "not_member"
    assert ticket.contact_name == "Hans Nachbar"
    # The confirmation goes to the address given, without a portal link.
    assert [m.to for m in outbox] == [["hans@example.org"]]
    assert "Hans Nachbar" in outbox[0].body
    assert "/anliegen/" not in outbox[0].body
    assert ticket.reference in outbox[0].body
    # The office's pages work without a member.
    page = client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert "Hans Nachbar" in body and de("not a member") in body
    assert de("Not from a member → triage (not yet assigned)") in body
    inbox = client.get("/bearbeitung/", {"view": "triage"})
    assert (
        ticket.reference in inbox.content.decode() and de("not a member") in inbox.content.decode()
    )
    assert list(ticket_search(Ticket.objects.all(), "Nachbar")) == [ticket]
    # A text block greets them by the name given.
    block = CannedResponse.objects.create(title="Gruß", body_de="Guten Tag {anrede}, {vorgang}")
    assert block.render(ticket=ticket, handler=cast.hanna, language="de") == (
        f"Guten Tag Hans Nachbar, {ticket.reference}"
    )
    response = client.get(f"/bearbeitung/anliegen/{ticket.reference}/", {"baustein": block.pk})
    assert "Guten Tag Hans Nachbar" in response.content.decode()
    # A reply reaches them by e-mail too.
    services.ticket_reply(
        ticket=ticket,
        actor=cast.hanna,
        body="Wir kümmern uns.",
        expected_version=ticket.version,
        public=True,
    )
    assert outbox[-1].to == ["hans@example.org"] and "Wir kümmern uns." in outbox[-1].body
    # No member sees it.
    for account in (cast.alice, cast.bob, cast.dave):
        client.force_login(account)
        assert client.get(f"/anliegen/{ticket.reference}/").status_code == 404


def test_a_non_member_needs_a_name_and_two_such_requests_never_merge(client, cast):
    client.force_login(cast.hanna)
    response = client.post(form_url("kein-mitglied"), {**REPAIR_FIELDS, "master_key": "no"})
    assert de("Please enter the name of the person who got in touch.") in response.content.decode()
    assert not Ticket.objects.exists()
    repair = RequestType.objects.get(slug="schadensmeldung")
    first, second = (
        services.ticket_open(
            request_type=repair,
            member=None,
            answers=dict(TAP),
            channel=Channel.PHONE,
            created_by=cast.hanna,
            contact_name=name,
        )
        for name in ("Hans", "Grete")
    )
    with pytest.raises(services.TicketError):
        services.ticket_merge(
            source=first, target=second, actor=cast.hanna, expected_version=first.version
        )
    # The work page lists no "other open requests" of another non-member.
    body = client.get(f"/bearbeitung/anliegen/{first.reference}/").content.decode()
    assert second.reference not in body


def test_solved_on_the_phone_files_a_closed_request_for_the_statistics(client, cast, outbox):
    Team.objects.get(name="Technik").members.add(cast.hanna)
    client.force_login(cast.hanna)
    data = {**REPAIR_FIELDS, "master_key": "yes", "solved": "1"}
    # Without a note it is refused, nothing filed, nothing typed lost.
    response = client.post(form_url("20001"), data)
    body = response.content.decode()
    assert de("Please note briefly how the request was solved.") in body
    assert "Licht im Flur kaputt" in body
    assert not Ticket.objects.exists()
    response = client.post(
        form_url("20001"), {**data, "note": "Sicherung war raus; wieder eingeschaltet."}
    )
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/bearbeitung/anliegen/{ticket.reference}/"
    assert ticket.status == Status.CLOSED
    assert ticket.closed_at is not None and ticket.first_response_at is not None
    assert [(e.kind, e.public) for e in ticket.events.order_by("pk")] == [
        (TicketEvent.Kind.OPENED, True),
        (TicketEvent.Kind.NOTE, False),
        (TicketEvent.Kind.STATUS, True),
    ]
    assert ticket.events.get(kind=TicketEvent.Kind.STATUS).data == {
        "from": Status.RECEIVED,
        "to": Status.CLOSED,
    }
    # Counted like any finished request: closed, with its type and team.
    assert list(Ticket.objects.finished()) == [ticket]
    assert ticket not in Ticket.objects.open()
    assert ticket.team.name == "Technik"
    assert [slug for slug, _text in training_samples()] == ["schadensmeldung"]
    assert outbox == []  # the caller has the answer: nobody is e-mailed


def test_the_service_refuses_a_solved_call_without_a_note(cast):
    repair = RequestType.objects.get(slug="schadensmeldung")
    with pytest.raises(services.TicketError):
        services.ticket_log_call(
            request_type=repair,
            member=cast.alice.member,
            answers=dict(TAP),
            channel=Channel.PHONE,
            created_by=cast.hanna,
            note="   ",
            solved=True,
        )
    assert not Ticket.objects.exists()


def test_other_callers_of_ticket_open_keep_working(cast):
    ticket = ticket_create()
    assert (ticket.member, ticket.contact_name) == (cast.alice.member, "")
    assert ticket.unit is not None and ticket.routing_reason["how"] != "not_member"
