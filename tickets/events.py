"""The history of a ticket: one constructor per kind of event.

Each decides who may read the event (the cooperative's rule: members see what
the office tells them and which team is in charge, never internal notes, the
person handling it, links to other members' requests or deadline warnings)
and gives the event's data one shape, which the history templates
(templates/tickets/detail.html, templates/backoffice/ticket.html) read.
Events are never updated, so a shape, once stored, stays readable: add keys,
do not rename them. Services call these inside their transaction."""

import datetime
from typing import TypedDict

from django.utils import timezone

from accounts.models import User
from mail.models import InboundEmail
from routing.models import Absence, Team
from tickets.models import RequestType, Ticket, TicketEvent


class InCharge(TypedDict):
    """Who had a ticket, as names: the history still reads right after a
    team is renamed or deleted or a person leaves."""

    team: str
    assignee: str


def in_charge(*, team: Team | None, assignee: User | None) -> InCharge:
    return {"team": team.name if team else "", "assignee": str(assignee or "")}


def _create(
    *,
    ticket: Ticket,
    kind: str,
    public: bool,
    actor: User | None,
    body: str = "",
    data: dict | None = None,
    at: datetime.datetime | None = None,
    email: InboundEmail | None = None,
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket,
        kind=kind,
        public=public,
        actor=actor,
        body=body,
        data=data or {},
        created_at=at or timezone.now(),
        email=email,
    )


def event_opened(
    *, ticket: Ticket, actor: User, at: datetime.datetime, email: InboundEmail | None = None
) -> TicketEvent:
    """The "received" event: public. It keeps the routing reason, which
    stays in the history even if the ticket moves later; `email` is the
    message it came by (the mail intake)."""
    return _create(
        ticket=ticket,
        kind=TicketEvent.Kind.OPENED,
        public=True,
        actor=actor,
        data={
            "channel": ticket.channel,
            "team": ticket.team.name if ticket.team else "",
            "reason": ticket.routing_reason,
        },
        at=at,
        email=email,
    )


def event_reply(*, ticket: Ticket, actor: User | None, body: str) -> TicketEvent:
    """The office writes to the member: public. No actor: the portal
    answered by itself (tickets.services.ticket_answer_by_portal)."""
    return _create(ticket=ticket, kind=TicketEvent.Kind.REPLY, public=True, actor=actor, body=body)


def event_note(*, ticket: Ticket, actor: User | None, body: str) -> TicketEvent:
    """A note among staff: internal."""
    return _create(ticket=ticket, kind=TicketEvent.Kind.NOTE, public=False, actor=actor, body=body)


def event_member_reply(*, ticket: Ticket, actor: User, body: str) -> TicketEvent:
    """The member (or their household partner) writes, also to reopen: public."""
    return _create(
        ticket=ticket, kind=TicketEvent.Kind.MEMBER_REPLY, public=True, actor=actor, body=body
    )


def event_shared(*, ticket: Ticket, actor: User, shared: bool) -> TicketEvent:
    """The filer shared a personal request with the household, or stopped
    sharing it. Public: the household reads who let them see it, the
    office why the partner may now write about it."""
    return _create(
        ticket=ticket,
        kind=TicketEvent.Kind.SHARED,
        public=True,
        actor=actor,
        data={"shared": shared},
    )


def event_status(*, ticket: Ticket, actor: User | None, old: str, new: str) -> TicketEvent:
    """A change of status: public, the member follows their request by it."""
    return _create(
        ticket=ticket,
        kind=TicketEvent.Kind.STATUS,
        public=True,
        actor=actor,
        data={"from": old, "to": new},
    )


def event_withdrawn(
    *, ticket: Ticket, actor: User, old: str, reason: str, at: datetime.datetime
) -> TicketEvent:
    """The member took the request back: a change of status like any other
    (same shape, so both histories read it), with the member's optional
    reason as its text. Public: it is the member's own act."""
    return _create(
        ticket=ticket,
        kind=TicketEvent.Kind.STATUS,
        public=True,
        actor=actor,
        body=reason,
        data={"from": old, "to": ticket.status},
        at=at,
    )


def event_assigned(
    *,
    ticket: Ticket,
    actor: User,
    before: InCharge,
    reason: dict | None = None,
    corrected_type: RequestType | None = None,
    absence: Absence | None = None,
) -> TicketEvent:
    """A change of responsibility, from `before` to the ticket's team and
    handler as they are now. Public only when the team changes: members see
    which team is in charge, never who handles it or who is absent.

    Optional keys: the routing `reason` when the rules decided, the
    corrected request type's name ("type"), the kind of `absence` for a
    handover."""
    after = in_charge(team=ticket.team, assignee=ticket.assignee)
    data: dict = {"from": before, "to": after}
    if reason is not None:
        data["reason"] = reason
    if corrected_type is not None:
        data["type"] = corrected_type.name_de
    if absence is not None:
        data["absence"] = absence.get_kind_display()
    return _create(
        ticket=ticket,
        kind=TicketEvent.Kind.ASSIGNED,
        public=before["team"] != after["team"],
        actor=actor,
        data=data,
    )


def event_merged(*, source: Ticket, target: Ticket, actor: User) -> tuple[TicketEvent, TicketEvent]:
    """A duplicate folded into another request of the same member, recorded
    on both: public, so the member finds the request that continues."""
    on_source = _create(
        ticket=source,
        kind=TicketEvent.Kind.MERGED,
        public=True,
        actor=actor,
        data={"into": target.reference},
    )
    on_target = _create(
        ticket=target,
        kind=TicketEvent.Kind.MERGED,
        public=True,
        actor=actor,
        data={"from": source.reference},
    )
    return on_source, on_target


def event_linked(*, ticket: Ticket, other: Ticket, actor: User) -> TicketEvent:
    """Two requests marked as related: internal, the other one may be a
    neighbour's."""
    return _create(
        ticket=ticket,
        kind=TicketEvent.Kind.LINKED,
        public=False,
        actor=actor,
        data={"with": other.reference},
    )


def event_member(*, ticket: Ticket, actor: User, member_number: str) -> TicketEvent:
    """Staff confirmed whose request it is (it came from an address not on
    file): internal, the reason is the member's own business."""
    return _create(
        ticket=ticket,
        kind=TicketEvent.Kind.MEMBER,
        public=False,
        actor=actor,
        data={"member": member_number},
    )


def event_escalated(
    *,
    ticket: Ticket,
    step: str,
    deadline: datetime.datetime | None,
    at: datetime.datetime,
) -> TicketEvent:
    """A deadline warning or breach, by the system (no actor): internal."""
    return _create(
        ticket=ticket,
        kind=TicketEvent.Kind.ESCALATED,
        public=False,
        actor=None,
        data={"step": step, "deadline": deadline.isoformat() if deadline else ""},
        at=at,
    )
