import datetime
from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    Max,
    OuterRef,
    Prefetch,
    Q,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Lower
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from mail.models import BouncingAddress, OutboundEmail
from members.models import Contract, ContractMember, Member
from tickets.models import (
    FINISHED,
    REOPEN_DAYS,
    FieldKind,
    RequestField,
    RequestType,
    Ticket,
    TicketEvent,
    open_condition,
    unread_condition,
)


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


def share_request_types(user: User) -> dict[str, RequestType]:
    """The member's forms about shares, by the kind of their share field
    (FieldKind.SHARES_SUBSCRIBE, SHARES_CANCEL): which form "Meine
    Mitgliedschaft" links to for each. The first by the forms' order when
    the office made more than one."""
    fields = (
        RequestField.objects.filter(
            kind__in=(FieldKind.SHARES_SUBSCRIBE, FieldKind.SHARES_CANCEL),
            request_type__in=request_types_for_member(user),
        )
        .select_related("request_type")
        .order_by("-request_type__position", "-request_type__pk")
    )
    # Later rows overwrite earlier ones: the first in order stays.
    return {field.kind: field.request_type for field in fields}


def get_request_type_for_member(user: User, slug: str) -> RequestType:
    request_type = request_types_for_member(user).filter(slug=slug).first()
    if request_type is None:
        raise Http404
    return request_type


def get_ticket_for_staff(
    user: User, reference: str, *, mail_facts: bool = False, annotations: dict | None = None
) -> Ticket:
    """Staff reach a ticket only within their visibility; else 404.

    `mail_facts` (the work page): whether mail to the member or the contact
    address came back undeliverable (`mail_bouncing`) and whether an e-mail
    about the request was given up on or is in doubt (`mail_failing`) — answered in
    the same query, so the usual page, where neither is the case, asks
    nothing more. `annotations`: more of the same kind, by their names."""
    tickets = Ticket.objects.visible_to_staff(user).select_related(
        "request_type",
        "team",
        "assignee",
        "member__user",
        "unit__building__estate",
        "created_by",
        "sla_policy",
        "suggested_type",
        "merged_into",
    )
    if mail_facts:
        addresses = [
            Lower(OuterRef(field))
            for field in ("contact_email", "member__email", "member__user__email")
        ]
        tickets = tickets.annotate(
            mail_bouncing=Exists(BouncingAddress.objects.filter(address__in=addresses)),
            mail_failing=Exists(
                OutboundEmail.objects.failing().filter(thread=OuterRef("reference"))
            ),
        )
    if annotations:
        # What apps above tickets show on the page (an incident, say), in
        # the same query.
        tickets = tickets.annotate(**annotations)
    ticket = tickets.filter(reference=reference).first()
    if ticket is None:
        raise Http404
    return ticket


def tickets_for_staff_by_reference(user: User, references: list[str]) -> list[Ticket]:
    """The requests with these references that the staff member may see
    (one query); references outside their visibility are simply absent, so
    the caller can name them without telling whether they exist."""
    return list(Ticket.objects.visible_to_staff(user).filter(reference__in=references))


def tickets_open_for_member(member, *, limit: int, user: User | None = None) -> list[Ticket]:
    """Mein Bereich's requests (own and household), in one query: every
    open one first, newest first, so none hides behind settled ones; then
    those finished within REOPEN_DAYS (a resolved one may still be
    reopened). Each row carries `card_total`, how many there are beyond
    `limit` too, and `is_new`: office activity the account `user` has not
    seen (the rule of Ticket.objects.unread_for)."""
    since = timezone.now() - datetime.timedelta(days=REOPEN_DAYS)
    # The rows are the member's already: the unread rule on the row alone.
    is_new = (
        ExpressionWrapper(unread_condition(user), output_field=BooleanField())
        if user is not None
        else Value(False)
    )
    return list(
        Ticket.objects.visible_to_member(member)
        .filter(open_condition() | Q(status__in=FINISHED, updated_at__gte=since))
        .annotate(
            finished_rank=Case(When(open_condition(), then=Value(0)), default=Value(1)),
            card_total=Window(Count("pk")),
            is_new=is_new,
        )
        .select_related("request_type")
        .order_by("finished_rank", "-created_at")[:limit]
    )


MEMBER_PAGE_SIZE = 20


@dataclass(frozen=True)
class MemberPage:
    """One page of "Meine Anliegen": its rows, which page of how many."""

    tickets: list[Ticket]
    number: int
    count: int  # requests on all pages
    pages: int


def tickets_for_member_page(member, *, user: User, page: int) -> MemberPage:
    """ "Meine Anliegen" (own and household), latest change first, a page of
    MEMBER_PAGE_SIZE at a time, in one query: each row carries
    `last_change` (the latest event the member may read: an internal note
    moves nothing here), `is_new` (the badge's rule) and the number of all
    rows (a window count). A page past the end is the last page (a bookmark
    after requests were merged away), at most one query more."""
    rows = (
        Ticket.objects.visible_to_member(member)
        .select_related("request_type", "member")
        .only(
            "reference",
            "status",
            "member_id",
            "created_at",
            "office_activity_at",
            "request_type__name_de",
            "request_type__name_en",
            "member__first_name",
            "member__last_name",
            "member__title",
        )
        .annotate(
            last_change=Max("events__created_at", filter=Q(events__public=True)),
            is_new=ExpressionWrapper(unread_condition(user), output_field=BooleanField()),
            total=Window(Count("pk")),
        )
        .order_by("-last_change", "-pk")
    )
    number = max(page, 1)
    start = (number - 1) * MEMBER_PAGE_SIZE
    tickets = list(rows[start : start + MEMBER_PAGE_SIZE])
    if not tickets and number > 1:
        count = Ticket.objects.visible_to_member(member).count()
        number = max(1, -(-count // MEMBER_PAGE_SIZE))
        start = (number - 1) * MEMBER_PAGE_SIZE
        tickets = list(rows[start : start + MEMBER_PAGE_SIZE])
    count = tickets[0].total if tickets else 0
    return MemberPage(
        tickets=tickets,
        number=number,
        count=count,
        pages=max(1, -(-count // MEMBER_PAGE_SIZE)),
    )


def household_partners(ticket: Ticket) -> list[Member]:
    """Who besides the filer sees this request while it is shared with the
    household: the members on a current contract for its flat who were on
    it the day it was filed (the household part of
    Ticket.objects.visible_to_member, seen from the ticket). The share
    control names them, so the filer knows who will read it."""
    if ticket.unit_id is None or ticket.member_id is None:
        return []
    on_it = (
        ContractMember.objects.filter(
            contract__in=Contract.objects.current(), contract__unit_id=ticket.unit_id
        )
        .annotate(since=Coalesce("joined", "contract__start"))
        .filter(since__lte=timezone.localdate(ticket.created_at))
        .exclude(member_id=ticket.member_id)
    )
    return list(
        Member.objects.filter(pk__in=on_it.values("member_id")).order_by("first_name", "pk")
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
