"""The on-call alert for an emergency: one e-mail to each person on call
(routing.services.on_call_addresses), at once, whatever the office hours.

Exactly once per ticket: the alert claims the ticket with a conditional
UPDATE (on_call_alerted_at still empty) and queues its e-mails in the same
transaction. A second call (a re-routing, a retried request, a re-run
task) finds the ticket claimed and sends nothing; a rollback takes claim
and e-mails back together. Delivery itself is exactly-once per outbox row
(mail.tasks.email_deliver), so a worker that retries a delivery does not
send a second alert either."""

import datetime
import logging

from django.conf import settings
from django.db import transaction

from accounts.models import User
from core.links import absolute_url
from mail.services import email_queue
from routing.models import Priority
from routing.services import on_call_addresses
from tickets.models import Ticket

logger = logging.getLogger(__name__)


def on_call_alert(*, ticket: Ticket, at: datetime.datetime) -> list[str]:
    """Alert the on-call people of the ticket's team (without a team yet:
    of its form's default team) about this emergency, unless that was done
    already. Returns the addresses alerted now ([] when not an emergency,
    alerted before, or nobody is on call: then a warning is logged and the
    ticket stays unclaimed, so a re-routing to a team with a rota still
    alerts)."""
    if ticket.priority != Priority.EMERGENCY:
        return []
    team_id = ticket.team_id or ticket.request_type.default_team_id
    addresses = on_call_addresses(team_id=team_id, at=at)
    if not addresses:
        logger.warning("emergency %s: nobody on call to alert", ticket.reference)
        return []
    with transaction.atomic():
        claimed = Ticket.objects.filter(pk=ticket.pk, on_call_alerted_at__isnull=True).update(
            on_call_alerted_at=at
        )
        if not claimed:
            return []
        ticket.on_call_alerted_at = at
        languages = dict(
            User.objects.filter(email__in=addresses, is_staff=True).values_list("email", "language")
        )
        link = absolute_url("backoffice:ticket", args=[ticket.reference])
        for address in addresses:
            email_queue(
                to=address,
                template="tickets/email/on_call",
                context={"ticket": ticket, "member": ticket.member, "link": link, "at": at},
                language=languages.get(address) or settings.LANGUAGE_CODE,
            )
    return addresses
