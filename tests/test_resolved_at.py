"""When the office finished a request (Ticket.resolved_at): kept when a
resolved request is closed, set when one is closed at once, cleared when it
is reopened; and migration 0022 fills it for closed requests stored before.

The overview's resolution times and its "finished" count read this field:
before, closing cleared it, so every closed request fell out of them."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from tests.factories import answers_default, ticket_create
from tickets.models import Channel, RequestType, Status, Ticket, TicketEvent
from tickets.services import (
    ticket_log_call,
    ticket_reopen,
    ticket_status_change,
    ticket_withdraw,
)

pytestmark = pytest.mark.django_db

backfill = importlib.import_module("tickets.migrations.0022_closed_requests_resolved_at")


def _change(ticket, status, actor):
    ticket.refresh_from_db()
    ticket_status_change(ticket=ticket, actor=actor, status=status, expected_version=ticket.version)
    ticket.refresh_from_db()
    return ticket


def test_closing_a_resolved_request_keeps_when_it_was_resolved(cast):
    ticket = _change(ticket_create(assignee=cast.hanna), Status.RESOLVED, cast.hanna)
    resolved = ticket.resolved_at
    assert resolved is not None and ticket.closed_at is None
    ticket = _change(ticket, Status.CLOSED, cast.hanna)
    assert ticket.resolved_at == resolved
    assert ticket.closed_at is not None and ticket.closed_at >= resolved


def test_closing_at_once_finishes_it_now(cast):
    ticket = _change(ticket_create(assignee=cast.hanna), Status.CLOSED, cast.hanna)
    assert ticket.resolved_at is not None and ticket.resolved_at == ticket.closed_at


def test_a_call_solved_on_the_phone_counts_as_finished(cast):
    repair = RequestType.objects.get(slug="schadensmeldung")
    ticket = ticket_log_call(
        request_type=repair,
        member=cast.alice.member,
        answers=answers_default(repair),
        channel=Channel.PHONE,
        created_by=cast.hanna,
        note="Haupthahn gezeigt, tropft nicht mehr.",
        solved=True,
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.resolved_at is not None and ticket.closed_at is not None


def test_reopening_clears_it_and_withdrawing_never_sets_it(cast):
    ticket = _change(ticket_create(assignee=cast.hanna), Status.RESOLVED, cast.hanna)
    ticket_reopen(ticket=ticket, user=cast.alice, reason="Tropft wieder.")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and ticket.resolved_at is None
    other = ticket_create(assignee=cast.hanna)
    ticket_withdraw(ticket=other, user=cast.alice, reason="")
    other.refresh_from_db()
    assert other.status == Status.WITHDRAWN and other.resolved_at is None


def _status_event(ticket, old, new, at):
    TicketEvent.objects.create(
        ticket=ticket, kind=TicketEvent.Kind.STATUS, public=True, data={"from": old, "to": new},
        created_at=at,
    )  # fmt: skip


def test_the_migration_fills_closed_requests_from_their_history(cast):
    start = timezone.now() - datetime.timedelta(days=30)
    day = datetime.timedelta(days=1)
    # Resolved on day 2, closed on day 9: resolved on day 2.
    plain = ticket_create(assignee=cast.hanna)
    _status_event(plain, "in_progress", "resolved", start + 2 * day)
    _status_event(plain, "resolved", "closed", start + 9 * day)
    # Resolved on day 1, reopened on day 3, closed at once on day 5: day 5.
    reopened = ticket_create(assignee=cast.hanna)
    _status_event(reopened, "in_progress", "resolved", start + day)
    _status_event(reopened, "resolved", "in_progress", start + 3 * day)
    _status_event(reopened, "in_progress", "closed", start + 5 * day)
    # No status history at all (imported): when it was closed.
    bare = ticket_create(assignee=cast.hanna)
    # A duplicate merged into another is not a resolution; a request still
    # open and one already carrying its moment stay as they are.
    merged = ticket_create(assignee=cast.hanna)
    still_open = ticket_create(assignee=cast.hanna)
    known = ticket_create(assignee=cast.hanna)
    _status_event(known, "in_progress", "resolved", start + 4 * day)
    Ticket.objects.filter(pk__in=[plain.pk, reopened.pk, bare.pk, merged.pk, known.pk]).update(
        status=Status.CLOSED, resolved_at=None, closed_at=start + 20 * day
    )
    Ticket.objects.filter(pk=merged.pk).update(merged_into=plain)
    Ticket.objects.filter(pk=known.pk).update(resolved_at=start + 4 * day)

    backfill.forwards(apps, connection.schema_editor())
    backfill.forwards(apps, connection.schema_editor())  # a second run changes nothing

    def resolved(ticket):
        return Ticket.objects.get(pk=ticket.pk).resolved_at

    assert resolved(plain) == start + 2 * day
    assert resolved(reopened) == start + 5 * day
    assert resolved(bare) == start + 20 * day
    assert resolved(merged) is None
    assert resolved(still_open) is None
    assert resolved(known) == start + 4 * day
