"""SLA escalation: warn at 80 %, tell the lead at breach, mark overdue; the
timer may run the command any number of times."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from routing.models import Team
from tests.factories import ticket_create
from tickets.escalation import escalate
from tickets.models import Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(cast, repair):
    team = Team.objects.get(name="Technik")
    team.members.set([cast.hanna])
    team.lead = cast.tom
    team.save()
    return ticket_create(request_type=repair, assignee=cast.hanna)


def set_moments(ticket, **moments):
    Ticket.objects.filter(pk=ticket.pk).update(**moments)
    ticket.refresh_from_db()


def run() -> str:
    out = io.StringIO()
    call_command("routing_escalate", stdout=out)
    return out.getvalue()


def sent_to(outbox, address):
    return [m for m in outbox if m.to == [address]]


def test_warning_then_breach_each_exactly_once(client, cast, ticket, outbox):
    now = timezone.now()
    set_moments(
        ticket,
        first_response_warn_at=now - datetime.timedelta(minutes=5),
        first_response_due_at=now + datetime.timedelta(hours=1),
        warn_at=now + datetime.timedelta(days=3),
        due_at=now + datetime.timedelta(days=4),
    )
    outbox.clear()
    assert "first_response_warning: 1" in run()
    warning = sent_to(outbox, "hanna@example.org")
    assert len(warning) == 1 and ticket.reference in warning[0].subject
    assert "bald fällig" in warning[0].subject.lower()
    # The timer runs again and again: nothing new.
    assert "first_response_warning: 0" in run()
    run()
    assert len(outbox) == 1
    assert ticket.events.filter(kind=TicketEvent.Kind.ESCALATED).count() == 1
    event = ticket.events.get(kind=TicketEvent.Kind.ESCALATED)
    assert event.public is False  # members never see escalations

    # The deadline passes: the team lead hears of it, the inbox says overdue.
    set_moments(ticket, first_response_due_at=timezone.now() - datetime.timedelta(minutes=1))
    assert "first_response_breach: 1" in run()
    to_lead = sent_to(outbox, "tom@example.org")
    assert len(to_lead) == 1 and "Überfällig" in to_lead[0].subject
    run()
    assert len(outbox) == 2
    client.force_login(cast.hanna)
    overdue = client.get("/bearbeitung/", {"view": "overdue"})
    assert ticket.reference in {t.reference for t in overdue.context["tickets"]}


def test_an_answer_in_time_stops_the_first_response_clock(cast, ticket, outbox):
    from tickets.services import ticket_reply

    now = timezone.now()
    set_moments(
        ticket,
        first_response_warn_at=now + datetime.timedelta(minutes=30),
        first_response_due_at=now + datetime.timedelta(hours=1),
    )
    ticket_reply(
        ticket=ticket,
        actor=cast.hanna,
        body="Wir kümmern uns.",
        expected_version=ticket.version,
        public=True,
    )
    outbox.clear()
    later = now + datetime.timedelta(hours=2)
    counts = escalate(now=later)
    assert counts["first_response_warning"] == counts["first_response_breach"] == 0
    assert sent_to(outbox, "hanna@example.org") == []


def test_while_waiting_for_the_member_nothing_escalates(cast, ticket, outbox):
    now = timezone.now()
    set_moments(
        ticket,
        status=Status.WAITING,
        sla_paused_at=now - datetime.timedelta(hours=1),
        due_at=now - datetime.timedelta(minutes=1),
    )
    assert escalate(now=now)["resolution_breach"] == 0
    set_moments(ticket, status=Status.RESOLVED, sla_paused_at=None)
    assert escalate(now=now)["resolution_breach"] == 0  # settled: nothing to chase


def test_after_the_timer_was_down_the_breach_is_sent_without_a_stale_warning(cast, ticket, outbox):
    now = timezone.now()
    set_moments(
        ticket,
        warn_at=now - datetime.timedelta(days=2),
        due_at=now - datetime.timedelta(days=1),
    )
    outbox.clear()
    counts = escalate(now=now)
    assert counts["resolution_warning"] == 1 and counts["resolution_breach"] == 1
    assert sent_to(outbox, "hanna@example.org") == []  # no "due soon" for what is overdue
    assert len(sent_to(outbox, "tom@example.org")) == 1
    ticket.refresh_from_db()
    assert ticket.warned_at == ticket.breached_at == now


@pytest.mark.django_db(transaction=True)
def test_two_timers_at_once_send_each_message_once(cast, ticket, outbox):
    import threading

    from django.db import connections

    now = timezone.now()
    set_moments(
        ticket,
        warn_at=now - datetime.timedelta(minutes=1),
        due_at=now + datetime.timedelta(hours=5),
    )
    outbox.clear()
    results, errors = [], []

    def worker():
        try:
            results.append(escalate(now=now)["resolution_warning"])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(results) == 1
    assert len(sent_to(outbox, "hanna@example.org")) == 1
