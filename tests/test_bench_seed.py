"""bench/seed.py at smoke scale, on the test database of the run (SQLite,
then PostgreSQL): what it writes is the data the portal's own queries read."""

import datetime
import re

import pytest
from django.db import connection
from django.db.models import Count, F
from django.utils import timezone

from accounts.models import User
from bench.seed import SCALES, seed_database
from tickets.inbox import inbox_page
from tickets.models import RequestType, Ticket, TicketEvent, open_condition
from tickets.search import ticket_search
from tickets.selectors import get_ticket_for_member
from tickets.services import reference_next

pytestmark = pytest.mark.django_db

SMOKE = SCALES["smoke"]


@pytest.fixture
def seeded():
    return seed_database(scale="smoke")


def test_counts_and_spread(seeded):
    tickets = Ticket.objects.all()
    assert tickets.count() == SMOKE.tickets == seeded.counts["tickets"]
    assert User.objects.filter(member__isnull=False).count() >= SMOKE.accounts
    assert User.objects.filter(is_staff=True).count() == 20
    open_share = tickets.filter(open_condition()).count() / SMOKE.tickets
    assert 0.04 <= open_share <= 0.11
    active = set(RequestType.objects.filter(active=True).values_list("pk", flat=True))
    assert set(tickets.values_list("request_type", flat=True)) == active
    events = TicketEvent.objects.count()
    assert events == seeded.counts["events"]
    assert 2.5 <= events / SMOKE.tickets <= 4

    # Real timestamps (auto_now bypassed), spread over the years, ids in the
    # order filed.
    now = timezone.now()
    stamps = list(tickets.order_by("pk").values_list("created_at", flat=True))
    assert stamps == sorted(stamps)
    assert stamps[-1] - stamps[0] > datetime.timedelta(days=365 * (SMOKE.years - 1))
    assert sum(now - stamp < datetime.timedelta(days=1) for stamp in stamps) < SMOKE.tickets / 20
    assert not tickets.filter(updated_at__lt=F("created_at")).exists()

    # The next request filed gets a free reference.
    year = timezone.localdate().year
    assert not tickets.filter(reference=reference_next(year=year)).exists()


def test_the_accounts_the_rig_uses(seeded):
    assert len(seeded.members) == len(set(seeded.members)) > 10
    member = User.objects.get(email=seeded.members[0])
    handler = User.objects.get(email=seeded.staff[0])
    assert member.check_password(seeded.password) and handler.check_password(seeded.password)
    # One hash for every member account.
    hashes = User.objects.filter(member__isnull=False).values("password").distinct()
    assert hashes.count() <= 2  # the demo cast's accounts and the seeded ones
    # Handlers only (they log in without a second step), the busiest first.
    assert not User.objects.filter(
        email__in=seeded.staff, groups__name__in=["Teamleitung", "Administration"]
    ).exists()
    busy = dict(
        Ticket.objects.filter(open_condition(), assignee__isnull=False)
        .values_list("assignee__email")
        .annotate(n=Count("pk"))
    )
    assert busy.get(seeded.staff[0], 0) == max(busy.get(email, 0) for email in seeded.staff)


def test_every_returned_member_sees_their_ticket(seeded):
    assert set(seeded.ticket_for) == set(seeded.members)
    for email in seeded.members:
        user = User.objects.select_related("member").get(email=email)
        reference = seeded.ticket_for[email]
        visible = Ticket.objects.visible_to_member(user.member)
        assert visible.filter(reference=reference).exists(), email
        assert get_ticket_for_member(user, reference).reference == reference


def test_the_search_finds_the_words_in_answers_and_events(seeded):
    admin = User.objects.get(email="ada@example.org")  # sees every request
    for word in seeded.search_words:
        found = list(ticket_search(Ticket.objects.all(), word))
        assert found, word
        assert any(word.lower() in t.answers_text().lower() for t in found), word
        page = inbox_page(
            user=admin,
            view="all",
            filters={},
            sort="newest",
            search=word,
            after="",
            now=timezone.now(),
        )
        assert page.rows, word
    # A word only an internal note has: the event bodies are indexed too.
    note = TicketEvent.objects.filter(kind=TicketEvent.Kind.NOTE).order_by("pk").first()
    word = max(re.findall(r"\w{6,}", note.body), key=len)
    assert note.ticket in ticket_search(Ticket.objects.all(), word)


def test_later_writes_stay_searchable(seeded):
    """On SQLite the search triggers were off while loading: they are back."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            triggers = {row[0] for row in cursor.fetchall()}
        assert {
            f"tickets_{table}_fts_{event}"
            for table in ("ticket", "ticketevent")
            for event in ("insert", "update", "delete")
        } <= triggers
    ticket = Ticket.objects.order_by("pk").last()
    Ticket.objects.filter(pk=ticket.pk).update(answers={"what": "Zauberflötenkasten klemmt"})
    assert list(ticket_search(Ticket.objects.all(), "Zauberflötenkasten")) == [ticket]
