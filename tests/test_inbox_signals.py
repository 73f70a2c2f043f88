"""Inbox signals: hanna (Technik) and tom (its lead) see in the inbox what
the member did since each of them last looked, when a request last moved,
its priority, and a "needs action" order; one question to the member is one
e-mail."""

import datetime
import re

import pytest
from aiosmtpd.handlers import Message
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mail.models import OutboundEmail
from routing.models import Priority, Team
from tests.factories import ticket_create
from tests.helpers import de, otp_verify
from tests.mailserver import smtp_server
from tickets import services
from tickets.models import Category, RequestType, Status, Ticket, TicketVisit

pytestmark = pytest.mark.django_db

URL = "/bearbeitung/"
NEW = de("New")
REPLIED = de("Reply from the member")


@pytest.fixture
def technik(cast) -> Team:
    """Hanna works in Technik, Tom leads it: both see its requests."""
    team, _ = Team.objects.update_or_create(name="Technik", defaults={"lead": cast.tom})
    team.members.set([cast.hanna])
    return team


@pytest.fixture
def leak(technik) -> RequestType:
    return RequestType.objects.create(
        slug="test-leck",
        name_de="Wasserschaden",
        name_en="Water damage",
        category=Category.REPAIR,
        default_team=technik,
    )


def filed(leak, cast, **changes) -> Ticket:
    """A request alice filed in the portal, given to hanna."""
    return ticket_create(
        request_type=leak,
        member=cast.alice.member,
        answers={"what": "Wasser tropft von der Decke"},
        assignee=cast.hanna,
        **changes,
    )


def work_page(ticket) -> str:
    return f"/bearbeitung/anliegen/{ticket.reference}/"


def row(body: str, ticket) -> str:
    """The HTML of the ticket's row in the inbox table."""
    match = re.search(
        rf'<tr role="row"[^>]*>(?:(?!</tr>).)*?{ticket.reference}.*?</tr>', body, re.S
    )
    assert match, f"{ticket.reference} is not in the list"
    return match.group(0)


def inbox(client, **params) -> str:
    response = client.get(URL, {"view": "all", **params})
    assert response.status_code == 200
    return response.content.decode()


def marker(client, ticket) -> str | None:
    """The marker the ticket's row shows, None without one."""
    html = row(inbox(client), ticket)
    found = re.search(r'<strong class="tag tag--news">([^<]*)</strong>', html)
    if found is None:
        assert "inbox-table__row--news" not in html
        return None
    assert "inbox-table__row--news" in html  # the row is bold too
    return found.group(1)


def log_in_tom(client, cast):
    client.force_login(cast.tom)
    otp_verify(client, cast.tom)


def member_replies(client, cast, ticket, text="Ab 8 Uhr bin ich zu Hause."):
    client.force_login(cast.alice)
    response = client.post(f"/anliegen/{ticket.reference}/", {"body": text})
    assert response.status_code == 302


# Markers ---------------------------------------------------------------------------


def test_a_new_request_is_marked_new_until_the_handler_opens_it(client, cast, leak):
    ticket = filed(leak, cast)
    client.force_login(cast.hanna)
    assert marker(client, ticket) == NEW
    assert client.get(work_page(ticket)).status_code == 200
    assert marker(client, ticket) is None
    # Looking again changes nothing; the visit is one row per handler.
    client.get(work_page(ticket))
    assert marker(client, ticket) is None
    assert TicketVisit.objects.filter(ticket=ticket, user=cast.hanna).count() == 1


def test_a_member_reply_marks_it_for_each_handler_until_they_look(client, cast, leak):
    ticket = filed(leak, cast)
    client.force_login(cast.hanna)
    client.get(work_page(ticket))
    log_in_tom(client, cast)
    client.get(work_page(ticket))
    assert marker(client, ticket) is None

    member_replies(client, cast, ticket)
    ticket.refresh_from_db()
    assert ticket.member_activity_at is not None

    client.force_login(cast.hanna)
    assert marker(client, ticket) == REPLIED
    client.get(work_page(ticket))
    assert marker(client, ticket) is None
    # Tom has not looked since the reply: still marked for him.
    log_in_tom(client, cast)
    assert marker(client, ticket) == REPLIED
    client.get(work_page(ticket))
    assert marker(client, ticket) is None


def test_the_answer_to_a_question_and_a_reopening_are_marked(client, cast, leak):
    ticket = filed(leak, cast)
    client.force_login(cast.hanna)
    client.get(work_page(ticket))
    ticket.refresh_from_db()
    services.ticket_reply(
        ticket=ticket,
        actor=cast.hanna,
        body="Wann sind Sie zu Hause?",
        expected_version=ticket.version,
        public=True,
        ask_member=True,
    )
    assert marker(client, ticket) is None  # her own question is no news to her
    member_replies(client, cast, ticket)
    client.force_login(cast.hanna)
    assert marker(client, ticket) == REPLIED

    client.get(work_page(ticket))
    ticket.refresh_from_db()
    services.ticket_status_change(
        ticket=ticket, actor=cast.hanna, status=Status.RESOLVED, expected_version=ticket.version
    )
    assert marker(client, ticket) is None
    services.ticket_reopen(ticket=ticket, user=cast.alice, reason="Es tropft wieder.")
    assert marker(client, ticket) == REPLIED


def test_what_the_office_does_is_not_marked(client, cast, leak):
    ticket = filed(leak, cast)
    client.force_login(cast.hanna)
    client.get(work_page(ticket))
    ticket.refresh_from_db()
    services.ticket_reply(
        ticket=ticket,
        actor=cast.hanna,
        body="Der Klempner kommt.",
        expected_version=ticket.version,
        public=True,
    )
    ticket.refresh_from_db()
    services.ticket_reply(
        ticket=ticket,
        actor=cast.tom,
        body="Schlüssel beim Hauswart.",
        expected_version=ticket.version,
        public=False,
    )
    assert marker(client, ticket) is None


def test_finished_requests_carry_no_marker(client, cast, leak):
    ticket = filed(leak, cast, status=Status.CLOSED)
    client.force_login(cast.hanna)
    assert marker(client, ticket) is None


def test_without_recorded_member_activity_the_filing_counts(client, cast, leak):
    """Requests filed before member activity was recorded have none."""
    ticket = filed(leak, cast)
    Ticket.objects.filter(pk=ticket.pk).update(member_activity_at=None)
    client.force_login(cast.hanna)
    assert marker(client, ticket) == NEW
    client.get(work_page(ticket))
    assert marker(client, ticket) is None


def test_a_visit_before_the_reply_does_not_hide_it(client, cast, leak):
    ticket = filed(leak, cast)
    now = timezone.now()
    TicketVisit.objects.create(
        user=cast.hanna, ticket=ticket, seen_at=now - datetime.timedelta(hours=1)
    )
    Ticket.objects.filter(pk=ticket.pk).update(member_activity_at=now)
    client.force_login(cast.hanna)
    assert marker(client, ticket) == REPLIED


# Last activity and priority ----------------------------------------------------------


def test_the_last_activity_is_the_latest_of_filing_member_and_office(client, cast, leak):
    now = timezone.now().replace(microsecond=0)
    days = [now - datetime.timedelta(days=n) for n in range(6)]
    office_last = filed(
        leak, cast, created_at=days[5], member_activity_at=days[4], office_activity_at=days[1]
    )
    member_last = filed(
        leak, cast, created_at=days[5], member_activity_at=days[2], office_activity_at=days[3]
    )
    only_filed = filed(
        leak, cast, created_at=days[4], member_activity_at=None, office_activity_at=None
    )
    client.force_login(cast.hanna)
    response = client.get(URL, {"view": "all"})
    last = {t.reference: t.last_activity_at for t in response.context["tickets"]}
    assert last[office_last.reference] == days[1]
    assert last[member_last.reference] == days[2]
    assert last[only_filed.reference] == days[4]
    body = response.content.decode()
    assert f'<th scope="col" role="columnheader">{de("Last activity")}</th>' in body
    shown = timezone.localtime(days[1]).isoformat()
    assert f'data-label="{de("Last activity")}"><div><time datetime="{shown}">' in row(
        body, office_last
    )


def test_the_priority_column_names_each_priority_and_sets_emergencies_apart(client, cast, leak):
    tickets = {priority: filed(leak, cast, priority=priority) for priority in Priority.values}
    client.force_login(cast.hanna)
    body = inbox(client)
    assert f'<th scope="col" role="columnheader">{de("Priority")}</th>' in body
    for priority, ticket in tickets.items():
        label = de(priority)  # the codes are the English labels
        label = label[0].upper() + label[1:]
        html = row(body, ticket)
        assert f'data-label="{de("Priority")}"' in html
        if priority == Priority.EMERGENCY:
            # In words and in its own strong element, not by colour alone.
            assert f'<strong class="priority priority--emergency">{label}</strong>' in html
        else:
            assert f'<span class="priority priority--{priority}">{label}</span>' in html


# Needs action ------------------------------------------------------------------------


@pytest.fixture
def morning(client, cast, leak):
    """Hanna's requests: all looked at once, then an emergency came in
    (seen), alice wrote on one, one is due soon, one later, one without a
    due date, and one is done."""
    now = timezone.now()

    def due(days):
        return now + datetime.timedelta(days=days)

    tickets = {
        "soon": filed(leak, cast, due_at=due(1)),
        "later": filed(leak, cast, due_at=due(3)),
        "undated": filed(leak, cast, due_at=None),
        "replied": filed(leak, cast, due_at=due(5)),
        "emergency": filed(leak, cast, due_at=due(10), priority=Priority.EMERGENCY),
        "done": filed(leak, cast, due_at=due(-1), status=Status.RESOLVED),
    }
    client.force_login(cast.hanna)
    for ticket in tickets.values():
        client.get(work_page(ticket))
    member_replies(client, cast, tickets["replied"])
    client.force_login(cast.hanna)
    return tickets


def order(client, **params) -> list[str]:
    response = client.get(URL, {"view": "all", **params})
    assert response.status_code == 200
    return [ticket.reference for ticket in response.context["tickets"]]


def test_needs_action_is_the_default_order(client, cast, morning):
    m = morning
    expected = [m[name].reference for name in ("emergency", "replied", "soon", "later", "undated")]
    assert order(client) == [*expected, m["done"].reference]
    assert order(client, sort="action") == order(client)
    # The due-date order is one click away and differs.
    assert order(client, sort="due") == [
        m[name].reference for name in ("done", "soon", "later", "replied", "emergency", "undated")
    ]


def test_a_new_request_counts_as_news_and_an_unseen_emergency_still_leads(client, cast, morning):
    m = morning
    fresh = filed(morning["soon"].request_type, cast, due_at=timezone.now())
    alarm = filed(
        morning["soon"].request_type,
        cast,
        due_at=timezone.now() + datetime.timedelta(days=20),
        priority=Priority.EMERGENCY,
    )
    assert order(client)[:4] == [
        m["emergency"].reference,
        alarm.reference,
        fresh.reference,
        m["replied"].reference,
    ]


def test_the_sort_links_keep_the_view_and_filters_and_mark_the_current_one(client, cast, morning):
    response = client.get(URL, {"view": "all", "status": Status.RECEIVED})
    sorts = response.context["sorts"]
    assert [s["current"] for s in sorts] == [True, False, False]
    assert all("view=all" in s["url"] and "status=received" in s["url"] for s in sorts)
    assert "sort=due" in sorts[1]["url"]
    body = response.content.decode()
    assert f'aria-current="true">{de("Needs action")}</a>' in body
    assert de("Needs action: emergencies, news from the member, due soonest") in body
    # Another order does not open the filter panel: the links show it.
    assert not client.get(URL, {"view": "all", "sort": "due"}).context["filters_open"]


def test_needs_action_pages_have_no_gaps_and_no_duplicates(client, cast, leak):
    start = timezone.now() - datetime.timedelta(days=10)
    for i in range(60):
        filed(
            leak,
            cast,
            created_at=start + datetime.timedelta(minutes=i // 3),
            due_at=None if i % 4 == 0 else start + datetime.timedelta(hours=i % 5),
            priority=Priority.EMERGENCY if i % 7 == 0 else Priority.NORMAL,
            status=Status.CLOSED if i % 11 == 0 else Status.RECEIVED,
        )
    # Hanna looked at every other one since the member's last activity.
    seen_pks = set(Ticket.objects.order_by("pk").values_list("pk", flat=True)[::2])
    TicketVisit.objects.bulk_create(
        TicketVisit(user=cast.hanna, ticket_id=pk, seen_at=timezone.now()) for pk in seen_pks
    )
    client.force_login(cast.hanna)

    pages = []
    response = client.get(URL, {"view": "all"})
    while True:
        pages.append([t.reference for t in response.context["tickets"]])
        if not response.context["next_url"]:
            break
        assert "after=action%7C" in response.context["next_url"]
        response = client.get(URL + response.context["next_url"])
    assert [len(page) for page in pages] == [25, 25, 10]
    flat = [ref for page in pages for ref in page]

    def key(t):
        if t.is_finished():
            rank = 3
        elif t.priority == Priority.EMERGENCY:
            rank = 0
        else:
            rank = 2 if t.pk in seen_pks else 1
        return (rank, t.due_at is None, t.due_at or start, t.created_at, t.pk)

    assert flat == [t.reference for t in sorted(Ticket.objects.all(), key=key)]


@pytest.mark.parametrize(
    "after",
    [
        "action|9|-|2026-01-01T00:00:00+00:00|1",
        "action|x|-|2026-01-01T00:00:00+00:00|1",
        "action||-|2026-01-01T00:00:00+00:00|1",
        "action|1|2026-01-01T00:00:00+00:00|1",  # too short
        "due|-|2026-01-01T00:00:00+00:00|1",  # another order's cursor
    ],
)
def test_a_tampered_needs_action_link_starts_from_the_top(client, cast, morning, after):
    response = client.get(URL, {"view": "all", "after": after})
    assert len(response.context["tickets"]) == len(morning)
    assert (
        de("The link to the next page was not valid, so the list starts from the top.")
        in response.content.decode()
    )


# Query count -------------------------------------------------------------------------


def inbox_queries(client, cast, leak, count: int) -> int:
    now = timezone.now()
    for i in range(count):
        ticket = filed(
            leak,
            cast,
            due_at=now + datetime.timedelta(days=i - 3),
            priority=Priority.EMERGENCY if i % 5 == 0 else Priority.NORMAL,
        )
        if i % 2:
            TicketVisit.objects.create(user=cast.hanna, ticket=ticket)
    client.force_login(cast.hanna)
    client.get(URL)  # warm up: session, caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"view": "all"})
    assert len(response.context["tickets"]) == min(count, 25)
    return len(queries)


def test_the_query_count_stays_flat_with_3_or_30_requests(client, cast, leak):
    few = inbox_queries(client, cast, leak, 3)
    Ticket.objects.all().delete()
    many = inbox_queries(client, cast, leak, 30)
    # Never more with more requests. One fewer with 30: the open ones fill
    # the page, so the finished ones are not looked at (tickets.inbox).
    assert many <= few <= 12
    assert few - many <= 1


# One e-mail per question ----------------------------------------------------------------


class Collector(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.mark.django_db(transaction=True)
def test_a_question_to_the_member_sends_one_email(client, cast, leak, settings):
    ticket = filed(leak, cast)
    client.force_login(cast.hanna)
    before = set(OutboundEmail.objects.values_list("pk", flat=True))
    with smtp_server(Collector(), settings) as smtp:
        response = client.post(
            work_page(ticket),
            {
                "action": "reply",
                "version": ticket.version,
                "visibility": "public",
                "ask_member": "on",
                "body": "Wann sind Sie zu Hause?",
            },
        )
        assert response.status_code == 302
        new = OutboundEmail.objects.exclude(pk__in=before)
        assert [(e.to, e.status) for e in new] == [("alice@example.org", "sent")]
        assert len(smtp.messages) == 1
        sent = smtp.messages[0]
        assert sent["To"] == "alice@example.org"
        text = next(p for p in sent.walk() if p.get_content_type() == "text/plain")
        assert "Wann sind Sie zu Hause?" in text.get_payload(decode=True).decode()
        # The handler's own words: a letter, not an automatic notice.
        assert sent["Auto-Submitted"] is None
        # The question's own e-mail, not the reply notice as well.
        assert new.get().subject == de("[%(reference)s] We have a question about your request") % {
            "reference": ticket.reference
        }

        # A plain reply is one e-mail too (the reply notice).
        ticket.refresh_from_db()
        client.post(
            work_page(ticket),
            {
                "action": "reply",
                "version": ticket.version,
                "visibility": "public",
                "body": "Danke, wir kommen um 9 Uhr.",
            },
        )
        assert len(smtp.messages) == 2
        assert OutboundEmail.objects.exclude(pk__in=before).count() == 2
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING  # still waiting for the answer
