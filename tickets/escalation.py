"""SLA escalation: at warn_percent of a target the handler is warned, at the
target the team lead is told and the ticket counts as overdue. A timer runs
`manage.py routing_escalate` every minute; each step is claimed with a
conditional UPDATE, so running it twice, or on two machines at once, sends
every message exactly once."""

import datetime

from django.db import transaction
from django.db.models import Q

from core.links import absolute_url
from mail.services import email_queue
from tickets.events import event_escalated
from tickets.models import Ticket

# step, condition (besides open and not paused), field that records it, kind
STEPS = [
    ("first_response_warning", "first_response_warn_at", "first_response_warned_at", "warn"),
    ("first_response_breach", "first_response_due_at", "first_response_breached_at", "breach"),
    ("resolution_warning", "warn_at", "warned_at", "warn"),
    ("resolution_breach", "due_at", "breached_at", "breach"),
]


def _recipient(ticket: Ticket, kind: str):
    """Warnings go to the handler (the lead if nobody has it); breaches to
    the team lead (the handler if the team has no lead)."""
    lead = ticket.team.lead if ticket.team_id else None
    first, second = (ticket.assignee, lead) if kind == "warn" else (lead, ticket.assignee)
    for person in (first, second):
        if person is not None and person.is_active:
            return person
    return None


def escalate(*, now: datetime.datetime) -> dict[str, int]:
    counts = dict.fromkeys((step for step, *_ in STEPS), 0)
    running = Ticket.objects.open().filter(sla_paused_at__isnull=True)
    for step, moment, done, kind in STEPS:
        condition = Q(**{f"{moment}__lte": now, f"{done}__isnull": True})
        if step.startswith("first_response"):
            condition &= Q(first_response_at__isnull=True)
        due = running.filter(condition).select_related("team__lead", "assignee", "request_type")
        for ticket in due:
            with transaction.atomic():
                claimed = Ticket.objects.filter(pk=ticket.pk, **{f"{done}__isnull": True}).update(
                    **{done: now}
                )
                if not claimed:
                    continue  # another run got there first
                counts[step] += 1
                # A warning whose deadline has passed as well (the timer was
                # down) is recorded but not sent: the breach message follows.
                target = "first_response_due_at" if step.startswith("first") else "due_at"
                deadline = getattr(ticket, target)
                if kind == "warn" and deadline is not None and deadline <= now:
                    continue
                event = event_escalated(ticket=ticket, step=step, deadline=deadline, at=now)
                person = _recipient(ticket, kind)
                if person is None:
                    continue
                email_queue(
                    to=person.email,
                    template=f"tickets/email/sla_{kind}",
                    context={
                        "ticket": ticket,
                        "event": event,
                        "step": step,
                        "deadline": deadline,
                        "link": absolute_url("backoffice:ticket", args=[ticket.reference]),
                    },
                    language=person.language,
                )
    return counts
