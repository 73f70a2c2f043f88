from django.db.models import Prefetch
from django.http import Http404

from accounts.models import User
from members.models import Contract
from tickets.models import RequestType, Status, Ticket, TicketEvent


def get_ticket_for_member(user: User, reference: str) -> Ticket:
    """The one way a member reaches a ticket: their own or their household's,
    else 404 (never 403: a stranger learns nothing about other references)."""
    ticket = (
        Ticket.objects.visible_to_member(user.member)
        .select_related("request_type", "team", "unit__building", "member", "merged_into")
        .filter(reference=reference)
        .first()
    )
    if ticket is None:
        raise Http404
    return ticket


def request_types_for_member(user: User):
    """The forms this member may use in the portal."""
    types = RequestType.objects.filter(active=True, in_portal=True)
    if not Contract.objects.current().filter(members=user.member).exists():
        types = types.exclude(audience=RequestType.Audience.CONTRACT_HOLDERS)
    return types


def get_request_type_for_member(user: User, slug: str) -> RequestType:
    request_type = request_types_for_member(user).filter(slug=slug).first()
    if request_type is None:
        raise Http404
    return request_type


def get_ticket_for_staff(user: User, reference: str) -> Ticket:
    """Staff reach a ticket only within their visibility; else 404."""
    ticket = (
        Ticket.objects.visible_to_staff(user)
        .select_related(
            "request_type",
            "team",
            "assignee",
            "member",
            "unit__building__estate",
            "created_by",
            "sla_policy",
            "suggested_type",
            "merged_into",
        )
        .filter(reference=reference)
        .first()
    )
    if ticket is None:
        raise Http404
    return ticket


def tickets_open_for_member(member, *, limit: int) -> list[Ticket]:
    """The member's latest requests that are not closed (own and household),
    for Mein Bereich."""
    return list(
        Ticket.objects.visible_to_member(member)
        .exclude(status=Status.CLOSED)
        .select_related("request_type")
        .order_by("-created_at")[:limit]
    )


# --- samples for the request-type classifier (routing.classifier) -----------


def ticket_text(ticket: Ticket) -> str:
    """The free text of a ticket: its string answers and the body of its
    first event. Uses `events_by_pk` if training_samples prefetched it."""
    parts = [ticket.answers_text()]
    events = getattr(ticket, "events_by_pk", None)
    if events is not None:
        first = events[0] if events else None
    else:
        first = ticket.events.order_by("pk").first()
    if first is not None and first.body.strip():
        parts.append(first.body)
    return " ".join(part.strip() for part in parts if part.strip())


def training_samples() -> list[tuple[str, str]]:
    """(slug, text) of every finished request that was not merged into
    another one; the type a handler left it with is the label."""
    tickets = (
        Ticket.objects.finished()
        .filter(merged_into__isnull=True)
        .select_related("request_type")
        .only("pk", "answers", "request_type__slug")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=TicketEvent.objects.order_by("pk").only("pk", "ticket_id", "body"),
                to_attr="events_by_pk",
            )
        )
        .order_by("pk")
    )
    samples = []
    for ticket in tickets.iterator(chunk_size=1000):
        text = ticket_text(ticket)
        if text:
            samples.append((ticket.request_type.slug, text))
    return samples
