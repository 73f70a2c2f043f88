"""Writes on requests. Every channel (portal, phone log, e-mail, API) opens
and changes tickets through these functions, so all behave the same."""

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from mail.services import email_queue
from members.models import Contract, Member
from tickets.files import CleanFile
from tickets.models import (
    Attachment,
    ReferenceCounter,
    RequestType,
    Status,
    Ticket,
    TicketDraft,
    TicketEvent,
)


class TicketError(Exception):
    """A change that is not allowed now; the message is safe to show."""


def reference_next(*, year: int) -> str:
    """The next reference A-YYYY-NNNNNN. Call inside a transaction: the
    counter row stays locked until it commits, so numbers never repeat."""
    if not ReferenceCounter.objects.filter(year=year).exists():
        try:
            with transaction.atomic():
                ReferenceCounter.objects.create(year=year)
        except IntegrityError:
            pass  # another request created this year's row at the same moment
    ReferenceCounter.objects.filter(year=year).update(last=F("last") + 1)
    number = ReferenceCounter.objects.get(year=year).last
    return f"A-{year}-{number:06d}"


def _attachments_store(*, ticket: Ticket, event: TicketEvent, files: list[CleanFile], user: User):
    for cleaned in files:
        attachment = Attachment(
            ticket=ticket,
            event=event,
            original_name=cleaned.name,
            content_type=cleaned.content_type,
            size=len(cleaned.content),
            uploaded_by=user,
        )
        attachment.file.save(cleaned.name, ContentFile(cleaned.content), save=False)
        attachment.save()


def draft_save(
    *, user: User, request_type: RequestType, answers: dict, files: list[CleanFile]
) -> TicketDraft:
    """Keep what the member typed and uploaded so far."""
    with transaction.atomic():
        draft, _created = TicketDraft.objects.update_or_create(
            user=user, request_type=request_type, defaults={"answers": answers}
        )
        for cleaned in files:
            attachment = Attachment(
                draft=draft,
                original_name=cleaned.name,
                content_type=cleaned.content_type,
                size=len(cleaned.content),
                uploaded_by=user,
            )
            attachment.file.save(cleaned.name, ContentFile(cleaned.content), save=False)
            attachment.save()
    return draft


def _member_unit(member: Member):
    contract = (
        Contract.objects.current()
        .filter(members=member)
        .select_related("unit")
        .order_by("start")
        .first()
    )
    return contract.unit if contract else None


def ticket_open(
    *,
    request_type: RequestType,
    member: Member,
    answers: dict,
    channel: str,
    created_by: User,
    files: list[CleanFile] = (),
    draft: TicketDraft | None = None,
) -> Ticket:
    """Open a request: reference, snapshot of the form, first public event,
    confirmation e-mail to the member. Files come cleaned (tickets.files)."""
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.create(
            reference=reference_next(year=timezone.localdate(now).year),
            request_type=request_type,
            fields_snapshot=request_type.snapshot(),
            answers=answers,
            member=member,
            unit=_member_unit(member),
            channel=channel,
            team=request_type.default_team,
            created_by=created_by,
        )
        event = TicketEvent.objects.create(
            ticket=ticket,
            kind=TicketEvent.Kind.OPENED,
            public=True,
            actor=created_by,
            data={"channel": channel, "team": ticket.team.name if ticket.team else ""},
            created_at=now,
        )
        _attachments_store(ticket=ticket, event=event, files=list(files), user=created_by)
        if draft is not None:
            draft.attachments.update(draft=None, ticket=ticket, event=event)
            draft.delete()
        _member_notify(ticket, template="tickets/email/opened")
    return ticket


def _member_notify(ticket: Ticket, *, template: str, event: TicketEvent | None = None) -> None:
    member = ticket.member
    user = getattr(member, "user", None)
    address = user.email if user is not None and user.is_active else member.email
    if not address:
        return  # a member without e-mail is told by phone or letter
    language = user.language if user is not None else member.preferred_language
    email_queue(
        to=address,
        template=template,
        context={
            "ticket": ticket,
            "member": member,
            "event": event,
            "link": settings.SITE_URL + reverse("tickets:detail", args=[ticket.reference]),
        },
        language=language,
    )


def ticket_member_reply(
    *, ticket: Ticket, user: User, body: str, files: list[CleanFile] = ()
) -> TicketEvent:
    """A member writes to the office about their request (also answers a
    question to them: the ticket goes back to the handler)."""
    if ticket.status == Status.CLOSED:
        raise TicketError("closed")
    with transaction.atomic():
        event = TicketEvent.objects.create(
            ticket=ticket, kind=TicketEvent.Kind.MEMBER_REPLY, public=True, actor=user, body=body
        )
        _attachments_store(ticket=ticket, event=event, files=list(files), user=user)
        if ticket.status in (Status.WAITING, Status.RESOLVED):
            _status_set(ticket, Status.IN_PROGRESS, actor=user)
        else:
            Ticket.objects.filter(pk=ticket.pk).update(
                version=F("version") + 1, updated_at=timezone.now()
            )
    return event


def _status_set(ticket: Ticket, status: str, *, actor: User) -> TicketEvent:
    old = ticket.status
    ticket.status = status
    ticket.resolved_at = timezone.now() if status == Status.RESOLVED else None
    ticket.version += 1
    ticket.save(update_fields=["status", "resolved_at", "version", "updated_at"])
    return TicketEvent.objects.create(
        ticket=ticket,
        kind=TicketEvent.Kind.STATUS,
        public=True,
        actor=actor,
        data={"from": old, "to": status},
    )


def ticket_reopen(*, ticket: Ticket, user: User, reason: str) -> None:
    """Within 14 days of "resolved" a member may reopen; afterwards not."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if not ticket.can_be_reopened():
            raise TicketError("not reopenable")
        TicketEvent.objects.create(
            ticket=ticket, kind=TicketEvent.Kind.MEMBER_REPLY, public=True, actor=user, body=reason
        )
        _status_set(ticket, Status.IN_PROGRESS, actor=user)
