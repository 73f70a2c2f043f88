from django.http import Http404

from accounts.models import User
from members.models import Contract
from tickets.models import RequestType, Ticket


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
