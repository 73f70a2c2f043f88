"""Writes on requests. Every channel (portal, phone log, e-mail, API) opens
and changes tickets through these functions, so all behave the same."""

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from core.links import absolute_url
from mail.models import InboundEmail
from mail.services import email_queue
from members.models import Contract, Member
from routing import sla
from tickets import events
from tickets.files import CleanFile
from tickets.models import (
    Attachment,
    ReferenceCounter,
    RequestType,
    Status,
    Ticket,
    TicketDraft,
    TicketEvent,
    TicketVisit,
)
from tickets.route import ticket_route

logger = logging.getLogger(__name__)


class TicketError(Exception):
    """A change that is not allowed now; the message is safe to show."""


class TicketWithdrawn(TicketError):
    """The member withdrew the request: the office sends no more replies."""


# Nobody writes into these any more: the office closed them (a merged
# duplicate is closed too) or the member withdrew them. A member starts a
# new request instead; staff may still note internally on a withdrawn one.
NO_MESSAGES = (Status.CLOSED, Status.WITHDRAWN)


def reference_next(*, year: int) -> str:
    """The next reference A-YYYY-NNNNNN. Call inside a transaction: the
    counter row stays locked until it commits, so numbers never repeat."""
    number = _counter_step(year)
    if number is None:  # the year's first request
        try:
            with transaction.atomic():
                ReferenceCounter.objects.create(year=year)
        except IntegrityError:
            pass  # another request created this year's row at the same moment
        number = _counter_step(year)
    return f"A-{year}-{number:06d}"


def reference_counter_hold(*, year: int) -> None:
    """Take the year's counter lock now, until the transaction ends. For
    work that files several requests and replies in one transaction (the
    mail intake's batch): a request's row locked by a reply before the
    counter by a later new request is the reverse of the usual order
    (counter, then rows), and two such transactions deadlocked; taken
    first, they wait for each other instead. (The year's first request has
    no row to lock yet: that batch takes it when it files one.)"""
    list(ReferenceCounter.objects.select_for_update().filter(year=year).values_list("pk"))


def _counter_step(year: int) -> int | None:
    """Count the year's counter on by one and read it, in one statement
    (UPDATE … RETURNING, which both databases have and the ORM does not);
    None when the year has no row yet."""
    quote = connection.ops.quote_name
    meta = ReferenceCounter._meta
    table, last, year_column = (
        quote(meta.db_table),
        quote(meta.get_field("last").column),
        quote(meta.get_field("year").column),
    )
    with connection.cursor() as cursor:
        # Names from the model, the value as a parameter.
        cursor.execute(
            f"UPDATE {table} SET {last} = {last} + 1 WHERE {year_column} = %s RETURNING {last}",  # noqa: S608
            [year],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _attachments_store(*, files: list[CleanFile], user: User, **owner) -> None:
    """Store cleaned files for their owner: a draft, or a ticket and event.
    All or none: should one fail (a full disk), the rows of this call are
    rolled back and the files it wrote are removed again."""
    if not files:
        return
    written: list[str] = []
    try:
        with transaction.atomic():
            for cleaned in files:
                attachment = Attachment(
                    **owner,
                    original_name=cleaned.name,
                    content_type=cleaned.content_type,
                    size=len(cleaned.content),
                    uploaded_by=user,
                )
                attachment.file.save(cleaned.name, ContentFile(cleaned.content), save=False)
                written.append(attachment.file.name)
                attachment.save()
    except Exception:
        _files_delete(written)
        raise


def _files_delete(names: Sequence[str]) -> None:
    storage = Attachment._meta.get_field("file").storage
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            # An orphan file harms nobody; a stopped clean-up would leave more.
            logger.exception("attachment file %s could not be deleted", name)


class AttachmentLimitExceeded(TicketError):
    """More files, or more bytes together, than one request may carry.
    `kept` is the number of files the draft had already."""

    def __init__(self, *, kept: int):
        super().__init__("attachment limit")
        self.kept = kept


def attachments_total_max() -> int:
    """The bytes all files of one request may have together: as many
    full-size files as a request may carry. It is checked on the files as
    stored, since a re-encoded image can be larger than its upload."""
    return settings.TICKET_ATTACHMENT_MAX_COUNT * settings.TICKET_ATTACHMENT_MAX_BYTES


def draft_save(
    *, user: User, request_type: RequestType, answers: dict, files: list[CleanFile]
) -> TicketDraft:
    """Keep what the member typed and uploaded so far. The files are stored
    only if the draft stays within the limits of one request (count and
    total size, its earlier files included); else none of them is, and
    AttachmentLimitExceeded is raised after the answers have been saved."""
    with transaction.atomic():
        # update_or_create locks the draft row: two posts at once to the same
        # draft are counted one after the other, so together they cannot
        # pass the limits either.
        draft, _created = TicketDraft.objects.update_or_create(
            user=user, request_type=request_type, defaults={"answers": answers}
        )
        kept = draft.attachments.aggregate(count=Count("pk"), size=Coalesce(Sum("size"), 0))
        fits = (
            kept["count"] + len(files) <= settings.TICKET_ATTACHMENT_MAX_COUNT
            and kept["size"] + sum(len(f.content) for f in files) <= attachments_total_max()
        )
        if fits:
            _attachments_store(draft=draft, files=files, user=user)
    if files and not fits:
        raise AttachmentLimitExceeded(kept=kept["count"])
    return draft


def drafts_expire(*, now: datetime.datetime) -> int:
    """Delete the drafts nobody saved for DRAFT_EXPIRY_DAYS, with their
    files; returns how many. Idempotent: a timer runs it.

    The files are deleted only once the rows are: should the transaction
    fail, every row still has its file. A crash between the commit and the
    file deletion leaves orphan files, which harm nobody."""
    cutoff = now - datetime.timedelta(days=settings.DRAFT_EXPIRY_DAYS)
    with transaction.atomic():
        # Locked: a draft the member saves meanwhile is no longer old
        # (PostgreSQL checks the condition again after the wait), and no
        # file can be added to or taken from a draft that goes.
        drafts = list(
            TicketDraft.objects.select_for_update()
            .filter(updated_at__lt=cutoff)
            .values_list("pk", flat=True)
        )
        names = list(
            Attachment.objects.select_for_update()
            .filter(draft__in=drafts)
            .values_list("file", flat=True)
        )
        TicketDraft.objects.filter(pk__in=drafts).delete()  # their attachment rows too
        transaction.on_commit(lambda: _files_delete(names))
    return len(drafts)


def _member_unit(member: Member | None):
    if member is None:
        return None
    contract = (
        Contract.objects.current()
        .filter(members=member)
        .select_related("unit__building")  # routing reads the building
        .order_by("start")
        .first()
    )
    return contract.unit if contract else None


def ticket_open(
    *,
    request_type: RequestType,
    member: Member | None,
    answers: dict,
    channel: str,
    created_by: User,
    files: list[CleanFile] = (),
    draft: TicketDraft | None = None,
    now: datetime.datetime | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    notify: bool = True,
    email: InboundEmail | None = None,
) -> Ticket:
    """Open a request: reference, snapshot of the form, first public event,
    confirmation e-mail to the member. Files come cleaned (tickets.files).
    An emergency alerts the on-call people in the same transaction, once
    (ticket_route → tickets.on_call); `now` is the moment that decides who
    is on call (tests pass a Saturday night).

    `member` is None for someone who is not a member: the request goes to
    triage (ticket_route) and the contact fields say who it is. They also
    name who got in touch for a member (a partner, a relative). `notify`
    off: nobody is e-mailed (a call solved at once, ticket_log_call).
    `email`: the message it came by (mail intake), linked from its first
    event."""
    now = now or timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.create(
            reference=reference_next(year=timezone.localdate(now).year),
            request_type=request_type,
            fields_snapshot=request_type.snapshot(),
            answers=answers,
            member=member,
            unit=_member_unit(member),
            shared_with_household=request_type.shared_with_household,
            channel=channel,
            created_by=created_by,
            contact_name=contact_name,
            contact_phone=contact_phone,
            contact_email=contact_email,
            member_activity_at=now,  # the inbox shows it as new to every handler
        )
        # A call solved at once (notify off) alerts nobody on call either.
        ticket_route(ticket, now=now, alert_on_call=notify)
        event = events.event_opened(ticket=ticket, actor=created_by, at=now, email=email)
        _attachments_store(ticket=ticket, event=event, files=list(files), user=created_by)
        if draft is not None:
            draft.attachments.update(draft=None, ticket=ticket, event=event)
            draft.delete()
        if notify:
            _member_notify(ticket, template="tickets/email/opened")
        if notify and ticket.assignee is not None and ticket.assignee != created_by:
            _staff_notify(
                ticket, user=ticket.assignee, template="tickets/email/assigned", event=event
            )
    return ticket


def ticket_log_call(
    *,
    request_type: RequestType,
    member: Member | None,
    answers: dict,
    channel: str,
    created_by: User,
    files: list[CleanFile] = (),
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    note: str = "",
    solved: bool = False,
) -> Ticket:
    """A call, a visit at the counter or a letter or e-mail that staff
    type in: opened as any request (ticket_open: the member sees it in the
    portal), the staff member's notes on it as an internal note.

    `solved` ("solved on the phone"): closed at once, in the same
    transaction, with the note saying how (TicketError without one). It
    counts as a closed request of its type and team like any other, nobody
    has to work on it, and nobody is e-mailed: the caller has the answer."""
    note = note.strip()
    if solved and not note:
        raise TicketError("a request solved at once needs a note")
    with transaction.atomic():
        ticket = ticket_open(
            request_type=request_type,
            member=member,
            answers=answers,
            channel=channel,
            created_by=created_by,
            files=files,
            contact_name=contact_name,
            contact_phone=contact_phone,
            contact_email=contact_email,
            notify=not solved,
        )
        if note:
            events.event_note(ticket=ticket, actor=created_by, body=note)
        if solved:
            _status_set(ticket, Status.CLOSED, actor=created_by)
    return ticket


def ticket_answer_by_portal(
    *, ticket: Ticket, body: str, files: list[CleanFile], close: bool
) -> TicketEvent:
    """The portal answers a request itself right after it was opened (a
    certificate made from the member records; ticket_open with `notify`
    off before it, in the same transaction).

    `close`: a public reply from nobody in person (staff read
    "automatically") carrying the answer's files, and the request closed at
    once with its status event. It counts as a closed request of its type
    and team like any other (the overview's figures), nobody has to work
    on it, and nobody is e-mailed: the member is looking at the answer.

    Without `close` the office has to do something with it (post the
    certificate): the files go into an internal note saying what (`body`),
    and the request stays open as filed, routed to its team."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        record = events.event_reply if close else events.event_note
        event = record(ticket=ticket, actor=None, body=body)
        _attachments_store(ticket=ticket, event=event, files=list(files), user=ticket.created_by)
        if close:
            _status_set(ticket, Status.CLOSED, actor=None)
        else:
            _bump(ticket)
    return event


def ticket_reroute(
    *,
    ticket: Ticket,
    actor: User,
    expected_version: int,
    request_type: RequestType | None = None,
) -> TicketEvent:
    """Route again by the rules, e.g. after the request type was corrected
    (the answers stay as filed; the snapshot keeps their labels)."""
    with transaction.atomic():
        ticket = _locked(ticket, expected_version)
        before = events.in_charge(team=ticket.team, assignee=ticket.assignee)
        changed_type = request_type is not None and request_type != ticket.request_type
        if changed_type:
            ticket.request_type = request_type
            ticket.save(update_fields=["request_type", "updated_at"])
        ticket_route(ticket)  # sets the new team, handler, SLA on this object
        ticket.version += 1
        ticket.save(update_fields=["version", "updated_at"])
        event = events.event_assigned(
            ticket=ticket,
            actor=actor,
            before=before,
            reason=ticket.routing_reason,
            corrected_type=request_type if changed_type else None,
        )
        moved = event.data["to"] != before
        if ticket.assignee is not None and ticket.assignee != actor and moved:
            _staff_notify(
                ticket, user=ticket.assignee, template="tickets/email/assigned", event=event
            )
    return event


def _member_notify(ticket: Ticket, *, template: str, event: TicketEvent | None = None) -> None:
    member = ticket.member
    if member is None:
        # Not a member: no portal to link to; the address they gave, if any.
        address, language, link = ticket.contact_email, settings.LANGUAGE_CODE, ""
    else:
        user = getattr(member, "user", None)
        address = user.email if user is not None and user.is_active else member.email
        language = user.language if user is not None else member.preferred_language
        link = absolute_url("tickets:detail", args=[ticket.reference])
    if not address:
        return  # a member without e-mail is told by phone or letter
    email_queue(
        to=address,
        template=template,
        context={
            "ticket": ticket,
            "member": member,
            "event": event,
            "link": link,
            # The mailbox that is read (Reply-To): an answer by e-mail joins
            # the request, so the member may simply reply.
            "reply_by_email": bool(settings.MAIL_REPLY_TO),
        },
        language=language,
        thread=ticket.reference,  # a reply to it joins this request
        # The handler's own words (a reply, a question), not a notice.
        written=template in ("tickets/email/reply", "tickets/email/question"),
    )


def ticket_member_reply(
    *, ticket: Ticket, user: User, body: str, files: list[CleanFile] = ()
) -> TicketEvent:
    """A member writes to the office about their request (also answers a
    question to them: the ticket goes back to the handler)."""
    with transaction.atomic():
        # Read the status under the row lock: the page the member wrote on
        # may be older than the office closing or merging the request, and
        # the reply must not reopen it over that (or skip the status change
        # a handler's question asked for).
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.status in NO_MESSAGES:
            raise TicketError(ticket.status)
        event = events.event_member_reply(ticket=ticket, actor=user, body=body)
        _attachments_store(ticket=ticket, event=event, files=list(files), user=user)
        # The inbox marks it for every handler who has not looked since.
        Ticket.objects.filter(pk=ticket.pk).update(member_activity_at=event.created_at)
        if ticket.status in (Status.WAITING, Status.RESOLVED):
            _status_set(ticket, Status.IN_PROGRESS, actor=user)
        else:
            Ticket.objects.filter(pk=ticket.pk).update(
                version=F("version") + 1, updated_at=timezone.now()
            )
        _staff_notify(
            ticket, user=ticket.assignee, template="tickets/email/member_replied", event=event
        )
    return event


def _status_set(ticket: Ticket, status: str, *, actor: User | None) -> TicketEvent:
    """`actor` None: the portal itself (ticket_answer_by_portal), which is
    no news for the member who is looking at its answer."""
    old = ticket.status
    now = timezone.now()
    ticket.status = status
    # resolved_at: when the office finished the request — the overview's
    # resolution times and "finished" count read it. Closing a resolved
    # request keeps the moment it was resolved; closing it at once (solved
    # on the phone, a certificate) finishes it now; reopening clears it, and
    # a request the member withdrew was never resolved.
    if status == Status.RESOLVED:
        ticket.resolved_at = now
    elif status == Status.CLOSED:
        ticket.resolved_at = ticket.resolved_at or now
        ticket.closed_at = now
    else:
        ticket.resolved_at = None
    ticket.version += 1
    fields = ["status", "resolved_at", "closed_at", "version", "updated_at"]
    if actor is not None and actor.is_staff:
        ticket.office_activity_at = now
        fields.append("office_activity_at")
    # The SLA clock stands still while the office waits for the member.
    if status == Status.WAITING and ticket.sla_paused_at is None:
        ticket.sla_paused_at = now
        fields.append("sla_paused_at")
    elif status != Status.WAITING and ticket.sla_paused_at is not None:
        fields += sla.moved_on(
            ticket,
            paused_at=ticket.sla_paused_at,
            now=now,
            calendar=sla.calendar_for(ticket.sla_policy),  # the policy's clock
        )
        ticket.sla_paused_at = None
        fields.append("sla_paused_at")
    if ticket.is_finished() and ticket.first_response_at is None:
        ticket.first_response_at = now  # settling it answers it
        fields.append("first_response_at")
    ticket.save(update_fields=fields)
    return events.event_status(ticket=ticket, actor=actor, old=old, new=status)


def ticket_reopen(*, ticket: Ticket, user: User, reason: str) -> None:
    """Within 14 days of "resolved" a member may reopen; afterwards not."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if not ticket.can_be_reopened():
            raise TicketError("not reopenable")
        event = events.event_member_reply(ticket=ticket, actor=user, body=reason)
        Ticket.objects.filter(pk=ticket.pk).update(member_activity_at=event.created_at)
        _status_set(ticket, Status.IN_PROGRESS, actor=user)


def ticket_withdraw(*, ticket: Ticket, user: User, reason: str) -> TicketEvent:
    """The member who filed a request takes it back while it is open
    (received, in progress, or a question to them): it is finished, nobody
    writes into it any more, and the handler is told as of a member's reply.
    Only the filer, never a household partner (PermissionDenied); a request
    that is finished already raises TicketError."""
    if ticket.member_id is None or user.member_id != ticket.member_id:
        raise PermissionDenied
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.is_finished():
            raise TicketError(ticket.status)
        old = ticket.status
        now = timezone.now()
        ticket.status = Status.WITHDRAWN
        # Finished: no deadline runs any more, so a pause simply ends.
        ticket.sla_paused_at = None
        ticket.member_activity_at = now
        ticket.version += 1
        ticket.save(
            update_fields=["status", "sla_paused_at", "member_activity_at", "version", "updated_at"]
        )
        event = events.event_withdrawn(ticket=ticket, actor=user, old=old, reason=reason, at=now)
        _staff_notify(ticket, user=ticket.assignee, template="tickets/email/withdrawn", event=event)
    return event


class TicketConflict(TicketError):
    """Someone else changed the ticket since the form was loaded."""


def _locked(ticket: Ticket, expected_version: int) -> Ticket:
    current = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if current.version != expected_version:
        raise TicketConflict("version")
    return current


def _bump(ticket: Ticket) -> None:
    ticket.version += 1
    ticket.save(update_fields=["version", "updated_at"])


def _staff_notify(ticket: Ticket, *, user: User | None, template: str, event: TicketEvent):
    if user is None or not user.is_active:
        return
    email_queue(
        to=user.email,
        template=template,
        context={
            "ticket": ticket,
            "event": event,
            "link": absolute_url("backoffice:ticket", args=[ticket.reference]),
        },
        language=user.language,
    )


def ticket_reply(
    *,
    ticket: Ticket,
    actor: User,
    body: str,
    expected_version: int,
    public: bool,
    ask_member: bool = False,
    files: list[CleanFile] = (),
) -> TicketEvent:
    """A public reply to the member, or an internal note. A public reply can
    ask the member a question (status "question to you")."""
    with transaction.atomic():
        ticket = _locked(ticket, expected_version)
        if public and ticket.status == Status.WITHDRAWN:
            raise TicketWithdrawn("withdrawn")
        record = events.event_reply if public else events.event_note
        event = record(ticket=ticket, actor=actor, body=body)
        _attachments_store(ticket=ticket, event=event, files=list(files), user=actor)
        if public and ask_member:
            _status_set(ticket, Status.WAITING, actor=actor)
            _member_notify(ticket, template="tickets/email/question", event=event)
        elif public:
            if ticket.status == Status.RECEIVED:
                _status_set(ticket, Status.IN_PROGRESS, actor=actor)
            else:
                _bump(ticket)
        if public:
            ticket.office_activity_at = timezone.now()
            if ticket.first_response_at is None:
                ticket.first_response_at = ticket.office_activity_at
            ticket.save(update_fields=["office_activity_at", "first_response_at"])
            # A question already went out as its own e-mail above; the reply
            # notice on top sent the member two e-mails for one message.
            if not ask_member:
                _member_notify(ticket, template="tickets/email/reply", event=event)
        else:
            _bump(ticket)
    return event


def ticket_status_change(
    *, ticket: Ticket, actor: User, status: str, expected_version: int, notify: bool = True
) -> TicketEvent:
    """Move a ticket to another status; the member hears of resolution
    (unless `notify` is off: an incident resolving many requests tells each
    member once for all)."""
    with transaction.atomic():
        ticket = _locked(ticket, expected_version)
        if status == ticket.status:
            raise TicketError("unchanged")
        event = _status_set(ticket, status, actor=actor)
        if notify and status == Status.RESOLVED:
            _member_notify(ticket, template="tickets/email/resolved", event=event)
    return event


def ticket_assign(
    *,
    ticket: Ticket,
    actor: User,
    team,
    assignee: User | None,
    expected_version: int,
    notify: bool = True,
) -> TicketEvent:
    """Give the ticket to a team and optionally a person; the person is told
    (unless `notify` is off: a bulk change tells them once for all)."""
    with transaction.atomic():
        ticket = _locked(ticket, expected_version)
        if assignee is not None and team is not None and not team.has_member(assignee):
            raise TicketError("assignee not in team")
        before = events.in_charge(team=ticket.team, assignee=ticket.assignee)
        ticket.team = team
        ticket.assignee = assignee
        ticket.version += 1
        ticket.save(update_fields=["team", "assignee", "version", "updated_at"])
        event = events.event_assigned(ticket=ticket, actor=actor, before=before)
        if notify and assignee is not None and assignee != actor:
            _staff_notify(ticket, user=assignee, template="tickets/email/assigned", event=event)
    return event


@dataclass
class BulkOutcome:
    """What a bulk action did, by reference, so the handler can be told."""

    changed: list[str] = field(default_factory=list)
    # Changed by a colleague since the list was loaded: left as they are.
    conflicts: list[str] = field(default_factory=list)
    # Not possible for this ticket (already in that state, closed, ...).
    skipped: list[str] = field(default_factory=list)


def _bulk(selection: Sequence[tuple[Ticket, int]], change) -> BulkOutcome:
    # One transaction for the batch, one savepoint per ticket: a ticket that
    # cannot change leaves the others alone, and a crash changes none.
    outcome = BulkOutcome()
    with transaction.atomic():
        for ticket, version in sorted(selection, key=lambda pair: pair[0].pk):
            try:
                change(ticket, version)
            except TicketConflict:
                outcome.conflicts.append(ticket.reference)
            except TicketError:
                outcome.skipped.append(ticket.reference)
            else:
                outcome.changed.append(ticket.reference)
    return outcome


def _batch_notify(references: list[str], *, user: User | None, actor: User) -> None:
    """One e-mail for requests given to someone at once, not one each."""
    if not references or user is None or not user.is_active:
        return
    email_queue(
        to=user.email,
        template="tickets/email/assigned_bulk",
        context={
            "references": references,
            "actor": actor,
            "link": absolute_url("backoffice:inbox", query={"view": "mine"}),
        },
        language=user.language,
    )


def tickets_bulk_assign(
    *,
    selection: Sequence[tuple[Ticket, int]],
    actor: User,
    team,
    assignee: User | None,
) -> BulkOutcome:
    """Assign several tickets (each with the version the list showed) at
    once. Closed tickets are skipped; the new handler gets one e-mail."""

    def change(ticket: Ticket, version: int) -> None:
        if ticket.is_finished():
            raise TicketError("closed")
        ticket_assign(
            ticket=ticket,
            actor=actor,
            team=team,
            assignee=assignee,
            expected_version=version,
            notify=False,
        )

    with transaction.atomic():
        outcome = _bulk(selection, change)
        if assignee != actor:
            _batch_notify(outcome.changed, user=assignee, actor=actor)
    return outcome


def tickets_bulk_status(
    *, selection: Sequence[tuple[Ticket, int]], actor: User, status: str
) -> BulkOutcome:
    """Set several tickets to one status; each member hears of resolution as
    with a single change. Closed and withdrawn tickets and those already in
    that status are skipped."""

    def change(ticket: Ticket, version: int) -> None:
        # Reopening is a deliberate, single act; a bulk "resolved" must not
        # tell a member who withdrew that their request was settled.
        if ticket.status in (Status.CLOSED, Status.WITHDRAWN):
            raise TicketError("finished")
        ticket_status_change(ticket=ticket, actor=actor, status=status, expected_version=version)

    return _bulk(selection, change)


def ticket_rate(*, ticket: Ticket, user: User, rating: int, comment: str) -> None:
    """Once resolved, a member may rate the handling once (1-5 stars)."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if not ticket.can_be_rated():
            raise TicketError("not ratable")
        ticket.rating = rating
        ticket.rating_comment = comment
        ticket.save(update_fields=["rating", "rating_comment", "updated_at"])


def ticket_share(*, ticket: Ticket, user: User, shared: bool) -> bool:
    """The filer lets the household see one of their personal requests
    (bank details, a certificate …), or stops it again. The household is
    whoever sees requests about the flat (Ticket.objects.visible_to_member):
    the members on its current contract since before it was filed. Requests
    about the flat are the household's anyway and stay so. Returns whether
    anything changed: a second click writes no second event."""
    if not ticket.is_filed_by(user):
        raise TicketError("only the filer shares a request")
    if ticket.request_type.shared_with_household:
        raise TicketError("a request about the flat is the household's anyway")
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.shared_with_household == shared:
            return False
        ticket.shared_with_household = shared
        ticket.save(update_fields=["shared_with_household", "updated_at"])
        events.event_shared(ticket=ticket, actor=user, shared=shared)
    return True


def ticket_visit(*, ticket: Ticket, user: User) -> None:
    """Remember that this account has seen the ticket as it is now: a member
    (the unread badge) or staff (the inbox marks news since their visit)."""
    # One upsert: no savepoint and no lost race between two open tabs.
    TicketVisit.objects.bulk_create(
        [TicketVisit(user=user, ticket=ticket, seen_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["user", "ticket"],
        update_fields=["seen_at"],
    )


def ticket_merge(*, source: Ticket, target: Ticket, actor: User, expected_version: int) -> None:
    """Fold a duplicate into another request of the same member: the
    duplicate is closed and points to the target, which the member sees."""
    # Two requests without a member may be from two different people.
    if source.pk == target.pk or source.member_id is None or source.member_id != target.member_id:
        raise TicketError("not mergeable")
    with transaction.atomic():
        source = _locked(source, expected_version)
        if source.merged_into_id:
            raise TicketError("already merged")
        source.merged_into = target
        source.status = Status.CLOSED
        source.closed_at = timezone.now()
        source.office_activity_at = source.closed_at
        source.version += 1
        source.save(
            update_fields=[
                "merged_into",
                "status",
                "closed_at",
                "office_activity_at",
                "version",
                "updated_at",
            ]
        )
        events.event_merged(source=source, target=target, actor=actor)
        Attachment.objects.filter(ticket=source).update(ticket=target)
        Ticket.objects.filter(pk=target.pk).update(version=F("version") + 1)


def ticket_link(*, ticket: Ticket, other: Ticket, actor: User) -> None:
    """Mark two requests as related (e.g. the same leak reported by neighbours)."""
    if ticket.pk == other.pk:
        raise TicketError("same ticket")
    with transaction.atomic():
        ticket.related.add(other)
        events.event_linked(ticket=ticket, other=other, actor=actor)


def ticket_member_set(
    *, ticket: Ticket, member: Member, actor: User, expected_version: int
) -> TicketEvent:
    """Staff confirm whose request it is (it came without a member: an
    address not on file, a caller not found at first). From then on it is
    the member's request like any other: in their portal, their household's
    when the type is shared, and e-mails go to the member's address on file,
    never to the address the message came from (which stays in the contact
    fields for staff). Routed again when nobody had it yet (triage), since
    the member's building now decides the team."""
    with transaction.atomic():
        ticket = _locked(ticket, expected_version)
        if ticket.member_id is not None:
            raise TicketError("has a member")
        ticket.member = member
        ticket.unit = _member_unit(member)
        ticket.version += 1
        ticket.save(update_fields=["member", "unit", "version", "updated_at"])
        event = events.event_member(ticket=ticket, actor=actor, member_number=member.member_number)
        if ticket.team_id is None and not ticket.is_finished():
            before = events.in_charge(team=ticket.team, assignee=ticket.assignee)
            ticket_route(ticket)  # saves the new team, handler, SLA
            assigned = events.event_assigned(
                ticket=ticket, actor=actor, before=before, reason=ticket.routing_reason
            )
            if ticket.assignee is not None and ticket.assignee != actor:
                _staff_notify(
                    ticket, user=ticket.assignee, template="tickets/email/assigned", event=assigned
                )
    return event


def absence_hand_over(*, absence, actor: User) -> BulkOutcome:
    """Give the absent person's open tickets to the substitute, or to their
    teams' queues without one. Internal only: members see the team, never
    who is away. The substitute gets one e-mail for all of them.

    Only someone who may record this absence hands over (PermissionDenied
    otherwise). A ticket of a team the substitute neither works in nor
    leads goes to that team's queue instead: a handover never shows a
    request to someone outside its team (ticket_assign demands the same),
    and refusing the whole handover would leave the requests with someone
    who is away."""
    if not absence.may_be_recorded_by(actor):
        raise PermissionDenied
    outcome = BulkOutcome()
    substitute = absence.substitute
    if substitute is not None and not (substitute.is_staff and substitute.is_active):
        substitute = None  # left meanwhile: never give requests to a closed account
    their_teams = set()
    if substitute is not None:
        their_teams = set(substitute.teams.values_list("pk", flat=True))
        their_teams |= set(substitute.led_teams.values_list("pk", flat=True))
    given = []
    with transaction.atomic():
        tickets = (
            Ticket.objects.open().select_for_update().filter(assignee=absence.user).order_by("pk")
        )
        for ticket in tickets:
            # The query chose the absent person's tickets: they had them.
            before = events.in_charge(team=ticket.team, assignee=absence.user)
            # No team yet (triage): every staff member sees those.
            may_see = ticket.team_id is None or ticket.team_id in their_teams
            ticket.assignee = substitute if may_see else None
            ticket.version += 1
            ticket.save(update_fields=["assignee", "version", "updated_at"])
            events.event_assigned(ticket=ticket, actor=actor, before=before, absence=absence)
            outcome.changed.append(ticket.reference)
            if ticket.assignee is not None:
                given.append(ticket.reference)
        absence.handed_over_at = timezone.now()
        absence.save(update_fields=["handed_over_at", "updated_at"])
        _batch_notify(given, user=substitute, actor=actor)
    return outcome
