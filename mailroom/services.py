"""One incoming message, from bytes to its outcome (issue 12).

`mail_ingest` is the one code path of `manage.py ingest_mail` (a mail
server's pipe) and `manage.py fetch_mail` (mailboxes). In one transaction
it stores the raw message (mail.InboundEmail) and does what the message
asks for:

* a bounce marks the failed addresses as bouncing, an automatic reply is
  only kept: neither becomes a request nor gets an answer (no mail loops);
* a reply to one of our messages — the reference in the subject
  ("AW: [A-2026-004711] …") or a Message-ID we sent in In-Reply-To /
  References — joins that request as the member's message, with the quoted
  earlier text stripped for display; it reopens a resolved request within
  the reopen period, and after it (or when the request is closed) a new
  request is opened and linked to the old one;
* a colleague's answer to a notification (a staff address that may see
  the request) becomes an internal note on it, never a reply to the member;
* anything else opens a request of the general type, routed like a web
  request (the classifier suggests the real type).

Who sent it decides whose request it is: an address on file for exactly
one member (their account, or the member record) links the member; any
other address opens a request without a member, in triage — never linked
to member data by a guess, and a reply from an address that is not the
request's member's never joins it (a reference in a subject is easy to
copy). Crash-safe and idempotent: a message already stored (same
Message-ID, or same bytes) is not processed again; a crash before the
commit leaves nothing, so reading the message again is safe.

A message over settings.MAIL_MAX_BYTES is never read whole: the pipe
refuses it (the sender gets a bounce), and one found in a mailbox is left
there, its headers kept in quarantine for staff (`mail_too_large`)."""

import datetime
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import User
from core.request_cache import request_cached, request_scope
from mail.models import BouncingAddress, InboundEmail, OutboundEmail
from mail.parse import Kind, Parsed, UnreadableMessage, parse, reference_in, reply_text
from mail.services import email_delivery_batch
from members.models import Member
from tickets import services as ticket_services
from tickets.files import CleanFile, file_clean
from tickets.intake import intake_account
from tickets.models import Category, Channel, FieldKind, RequestType, Status, Ticket, TicketEvent

Outcome = InboundEmail.Status
INTAKE_EMAIL = "e-mail-eingang@genoportal.invalid"  # the account that logs mail without a sender's
SIGNATURES = {
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-signature",
}


# A mailbox run processes its messages in batches, each batch in one
# transaction (a savepoint per message): one commit and one reading of the
# standing facts (routing rules, staff, working calendar, forms) per batch
# instead of per message. Small, because a batch holds the locks a request
# takes while it is filed (the team's round-robin turn, the reference
# counter) until it commits: a web request filed meanwhile waits for at
# most one batch (~0.5 s). Bounded in bytes too: a batch's messages are in
# memory until it commits.
BATCH_MESSAGES = 20
BATCH_BYTES = 32 * 1024 * 1024

T = TypeVar("T")


def mail_ingest_batches(
    items: Iterable[T], *, process: Callable[[T], InboundEmail | None]
) -> Iterator[list[tuple[T, InboundEmail]]]:
    """Run `process` (which stores one message: mail_ingest or
    mail_too_large) on each item, a batch at a time; yields each batch's
    (item, row) pairs once the batch is committed, so the caller marks
    those messages done only then (a crash before the commit leaves them
    unread, and reading them again is safe). `process` returns None for an
    item that is gone (expunged meanwhile). An error in one message undoes
    that message only: the batch before it is committed and yielded, then
    the error is raised (as when each message was its own transaction)."""
    pending = iter(items)
    finished = False
    while not finished:
        done: list[tuple[T, InboundEmail]] = []
        failure: Exception | None = None
        weight = 0
        finished = True  # unless the batch fills up before the items end
        # Their e-mails go out by one task, enqueued after the commit.
        with email_delivery_batch(), request_scope(), transaction.atomic():
            # Locks in the order a single request takes them: the counter
            # first (two batches at once wait, never deadlock).
            ticket_services.reference_counter_hold(year=timezone.localdate().year)
            for item in pending:
                try:
                    with transaction.atomic():
                        email = process(item)
                except Exception as error:  # raised below, after the commit
                    failure = error
                    break
                if email is not None:
                    done.append((item, email))
                    weight += email.size
                if len(done) >= BATCH_MESSAGES or weight >= BATCH_BYTES:
                    finished = False
                    break
        if done:
            yield done
        if failure is not None:
            raise failure


class ImproperlyConfiguredIntake(Exception):
    """The intake cannot open a request at all (no general request type)."""


@dataclass(frozen=True)
class Sender:
    member: Member | None
    user: User | None  # the member's active account, if any


def mail_ingest(*, raw: bytes, mailbox: str, now: datetime.datetime | None = None) -> InboundEmail:
    """Store and process one message (see the module docstring); returns
    its row — the existing one when the message was read before."""
    now = now or timezone.now()
    try:
        parsed = parse(raw)
    except UnreadableMessage as error:
        return _quarantine(raw=raw, mailbox=mailbox, error=str(error))
    known = _known(parsed)
    if known is not None:
        return known
    try:
        # One message reads its facts once, as one web request does (the
        # cooperative's emergency words and sender, the form's fields).
        with request_scope(), transaction.atomic():
            return _process(parsed, raw=raw, mailbox=mailbox, now=now)
    except IntegrityError:
        # Read at the same moment by another worker: theirs counts.
        known = _known(parsed)
        if known is None:
            raise
        return known


def _known(parsed: Parsed) -> InboundEmail | None:
    same = Q(content_hash=parsed.content_hash)
    if parsed.message_id:
        same |= Q(message_id=parsed.message_id)
    return InboundEmail.objects.filter(same).first()


def _quarantine(*, raw: bytes, mailbox: str, error: str) -> InboundEmail:
    """Kept for staff to read, never dropped, never processed."""
    digest = hashlib.sha256(raw).hexdigest()
    email, _ = InboundEmail.objects.get_or_create(
        content_hash=digest,
        defaults={
            "mailbox": mailbox,
            "raw": raw,
            "size": len(raw),
            "status": Outcome.QUARANTINE,
            "notes": [{"kind": "unreadable", "error": error[:500]}],
        },
    )
    return email


# The size column is a PositiveIntegerField (an integer on PostgreSQL): a
# larger message is stored with this size, its real size is in the note.
SIZE_COLUMN_MAX = 2**31 - 1


def mail_too_large(*, headers: bytes, size: int, mailbox: str, where: str) -> InboundEmail:
    """A message over settings.MAIL_MAX_BYTES found in a mailbox: only its
    headers are kept, in quarantine, with a note saying where the original
    was left, so staff learn of it and an admin can fetch it by hand —
    nothing a member sent is lost, and no message eats the server's memory.
    Known again by its headers and size: reading the mailbox twice adds no
    second row."""
    digest = hashlib.sha256(b"too large %d\n" % size + headers).hexdigest()
    known = InboundEmail.objects.filter(content_hash=digest).first()
    if known is not None:
        return known
    try:
        parsed = parse(headers)
    except UnreadableMessage:
        parsed = None
    # No Message-ID in its column: should an admin raise the limit and put
    # the message back, the intake must take it in, not find it known.
    email, _ = InboundEmail.objects.get_or_create(
        content_hash=digest,
        defaults={
            "mailbox": mailbox,
            "raw": headers,
            "size": min(size, SIZE_COLUMN_MAX),
            "sender": parsed.sender[:254] if parsed else "",
            "subject": parsed.subject[:998] if parsed else "",
            "sent_at": parsed.date if parsed else None,
            "status": Outcome.QUARANTINE,
            "notes": [{"kind": "too_large", "size": size, "where": where[:500]}],
        },
    )
    return email


_KIND_OUTCOME = {Kind.BOUNCE: Outcome.BOUNCE, Kind.AUTO_REPLY: Outcome.AUTO_REPLY}


def _process(parsed: Parsed, *, raw: bytes, mailbox: str, now: datetime.datetime) -> InboundEmail:
    email = InboundEmail.objects.create(
        mailbox=mailbox,
        message_id=parsed.message_id[:998],
        content_hash=parsed.content_hash,
        raw=raw,
        size=len(raw),
        sender=parsed.sender[:254],
        subject=parsed.subject[:998],
        sent_at=parsed.date,
        # Final for a bounce or an automatic reply; set below for the others.
        status=_KIND_OUTCOME.get(parsed.kind, Outcome.AUTO_REPLY),
        spam=parsed.spam,
        notes=[{"kind": "defects", "items": list(parsed.defects)}] if parsed.defects else [],
    )
    if parsed.kind == Kind.BOUNCE:
        for address in parsed.bounced:
            _bouncing(address, now=now)
        return email
    if parsed.kind == Kind.AUTO_REPLY:
        return email
    if _too_many(parsed.sender, now=now):
        return _outcome(email, Outcome.IGNORED)
    sender = Sender(None, None) if parsed.spam else _sender(parsed.sender)
    files, refused = _files(parsed)
    if refused:
        email.notes = [*email.notes, {"kind": "refused", "files": refused}]
    ticket = _thread(parsed)
    if (
        ticket is not None
        and _may_write(sender, ticket, parsed.sender)
        and _open_to_replies(ticket, now=now)
    ):
        event = ticket_services.ticket_member_reply(
            ticket=ticket,
            user=sender.user or _intake_account(),
            body=reply_text(parsed.text),
            files=files,
        )
        _refused_note(ticket, refused)
        TicketEvent.objects.filter(pk=event.pk).update(email=email)
        email.ticket_reference = ticket.reference
        return _outcome(email, Outcome.REPLY)
    colleague = (
        _colleague(parsed.sender, ticket) if ticket is not None and not parsed.spam else None
    )
    if colleague is not None:
        # A handler answered a notification by e-mail: an internal note on
        # the request (never a reply to the member: what a mail program
        # quotes is not meant for them), not a stranger's new request.
        event = ticket_services.ticket_reply(
            ticket=ticket,
            actor=colleague,
            body=reply_text(parsed.text),
            expected_version=ticket.version,
            public=False,
            files=files,
        )
        _refused_note(ticket, refused)
        TicketEvent.objects.filter(pk=event.pk).update(email=email)
        email.ticket_reference = ticket.reference
        return _outcome(email, Outcome.REPLY)
    opened = _open(parsed, sender=sender, files=files, now=now, email=email)
    _refused_note(opened, refused)
    if ticket is not None and _may_write(sender, ticket, parsed.sender):
        # A reply after the request was closed: a new request, linked so
        # the handler sees both. (Someone else quoting its reference gets
        # a request of their own, not tied to a stranger's.)
        ticket_services.ticket_link(ticket=opened, other=ticket, actor=_intake_account())
    if parsed.spam:
        email.notes = [*email.notes, {"kind": "spam"}]
    email.ticket_reference = opened.reference
    return _outcome(email, Outcome.TICKET)


def _open_to_replies(ticket: Ticket, *, now: datetime.datetime) -> bool:
    """Still open, or resolved within the reopen period."""
    if ticket.status in ticket_services.NO_MESSAGES:
        return False
    return ticket.status != Status.RESOLVED or ticket.can_be_reopened(now)


def _outcome(email: InboundEmail, status: str) -> InboundEmail:
    email.status = status
    email.save(update_fields=["status", "ticket_reference", "notes", "updated_at"])
    return email


def _bouncing(address: str, *, now: datetime.datetime) -> None:
    row, created = BouncingAddress.objects.get_or_create(
        address=address, defaults={"last_bounce_at": now}
    )
    if not created:
        BouncingAddress.objects.filter(pk=row.pk).update(
            last_bounce_at=now, bounces=row.bounces + 1
        )


def _too_many(sender: str, *, now: datetime.datetime) -> bool:
    """A second guard against mail loops (the first: automatic replies are
    recognised): more messages from one address within an hour than a
    person writes are kept, not processed."""
    if not sender:
        return False
    limit = settings.MAIL_SENDER_LIMIT_PER_HOUR
    recent = InboundEmail.objects.filter(
        sender=sender, created_at__gte=now - datetime.timedelta(hours=1)
    ).exclude(status=Outcome.IGNORED)
    return recent.count() > limit  # this message's own row is among them


def _sender(address: str) -> Sender:
    """The member an address belongs to — only when exactly one member has
    it on file (account or member record); else nobody."""
    if not address:
        return Sender(None, None)
    # lower(email) = the address (parse() gives it in lower case), not
    # email__iexact: that compares upper() on PostgreSQL, which no index
    # answers; lower(email) has one on both tables.
    users = list(
        User.objects.alias(address=Lower("email"))
        .filter(address=address, is_active=True, member__isnull=False)
        .select_related("member")[:2]
    )
    if len(users) == 1:
        return Sender(users[0].member, users[0])
    if users:
        return Sender(None, None)
    members = list(Member.objects.alias(address=Lower("email")).filter(address=address)[:2])
    if len(members) == 1:
        account = User.objects.filter(member=members[0], is_active=True).first()
        return Sender(members[0], account)
    return Sender(None, None)


def _colleague(address: str, ticket: Ticket) -> User | None:
    """The staff member an address belongs to, if they may see the request.
    (A sender address can be forged like any other: what comes of it is an
    internal note, which the work page links to the message as it came.)"""
    if not address:
        return None
    staff = (
        User.objects.alias(address=Lower("email"))
        .filter(address=address, is_active=True, is_staff=True, member__isnull=True)
        .first()
    )
    if staff is None or not Ticket.objects.visible_to_staff(staff).filter(pk=ticket.pk).exists():
        return None
    return staff


def _thread(parsed: Parsed) -> Ticket | None:
    """The request a reply belongs to: the reference in the subject, else a
    Message-ID we sent that it answers."""
    reference = reference_in(parsed.subject)
    if reference:
        ticket = Ticket.objects.filter(reference=reference).first()
        if ticket is not None:
            return ticket
    for message_id in (*parsed.in_reply_to, *reversed(parsed.references)):
        thread = _our_thread(message_id)
        if thread:
            ticket = Ticket.objects.filter(reference=thread).first()
            if ticket is not None:
                return ticket
    return None


def _our_thread(message_id: str) -> str:
    """The request of an outbox message by its Message-ID
    ("outbox-17.20260312091400@host", OutboundEmail.message_id)."""
    local = message_id.split("@", 1)[0]
    if not local.startswith("outbox-") or "." not in local:
        return ""
    number = local.removeprefix("outbox-").split(".", 1)[0]
    if not number.isdigit():
        return ""
    sent = OutboundEmail.objects.filter(pk=int(number)).first()
    if sent is None or sent.message_id().strip("<>") != message_id:
        return ""
    return sent.thread


def _may_write(sender: Sender, ticket: Ticket, address: str) -> bool:
    """Only the request's member, or a household member who can see it;
    for a request without a member, the address that opened it."""
    if sender.member is None:
        return bool(
            ticket.member_id is None
            and address
            and ticket.contact_email
            and ticket.contact_email.lower() == address
        )
    return Ticket.objects.visible_to_member(sender.member).filter(pk=ticket.pk).exists()


def _files(parsed: Parsed) -> tuple[list[CleanFile], list[dict]]:
    """The attachments that pass the web upload's checks, and the refused
    ones with the reason (listed on the request, never silently dropped)."""
    kept, refused = [], []
    limit = settings.TICKET_ATTACHMENT_MAX_COUNT
    for attachment in parsed.attachments:
        if attachment.content_type in SIGNATURES:
            # A signed message's signature is no file of the member's: it
            # stays in the stored message (the staff's view of the e-mail
            # lists it), and "refused: smime.p7s" on every signed message
            # would teach staff to ignore the refusal notes.
            continue
        if len(kept) >= limit:
            refused.append({"name": attachment.filename, "reason": "too many files"})
            continue
        upload = SimpleUploadedFile(attachment.filename, attachment.data, attachment.content_type)
        try:
            kept.append(file_clean(upload))
        except ValidationError as error:
            refused.append({"name": attachment.filename, "reason": " ".join(error.messages)})
    return kept, refused


def _refused_note(ticket: Ticket, refused: list[dict]) -> None:
    if not refused:
        return
    lines = "\n".join(f"- {item['name']}: {item['reason']}" for item in refused)
    TicketEvent.objects.create(
        ticket=ticket,
        kind=TicketEvent.Kind.NOTE,
        public=False,
        actor=_intake_account(),
        body=f"Nicht übernommene Anhänge der E-Mail / attachments not taken over:\n{lines}",
    )


def general_type() -> RequestType | None:
    """The request type e-mail opens: the first active general one (read
    once per batch of messages)."""
    return request_cached(
        "mail_general_type",
        RequestType.objects.filter(active=True, category=Category.GENERAL)
        .select_related("default_team")  # its queue, for routing
        .order_by("position", "pk")
        .first,
    )


def _open(
    parsed: Parsed, *, sender: Sender, files: list, now: datetime.datetime, email: InboundEmail
) -> Ticket:
    request_type = general_type()
    if request_type is None:
        # Raised, not stored: the transaction is rolled back and the
        # message stays in the mailbox (or the mail server retries the
        # pipe) until an admin has made a general request type.
        raise ImproperlyConfiguredIntake("no active request type of the general category")
    answers = {}
    fields = request_type.snapshot()
    text_key = next((f["key"] for f in fields if f["kind"] == FieldKind.TEXT), None)
    long_key = next((f["key"] for f in fields if f["kind"] == FieldKind.TEXTAREA), None)
    if text_key:
        answers[text_key] = parsed.subject[:200]
    if long_key:
        answers[long_key] = parsed.text.strip()[:10000]
    return ticket_services.ticket_open(
        request_type=request_type,
        member=sender.member,
        answers=answers,
        channel=Channel.EMAIL,
        created_by=sender.user or _intake_account(),
        files=files,
        now=now,
        contact_name="" if sender.member else parsed.sender_name[:200],
        # Spam gets no confirmation: its sender is most likely forged.
        contact_email="" if sender.member or parsed.spam else parsed.sender,
        email=email,
    )


def _intake_account() -> User:
    """The account that logs what came without a member's account."""
    return intake_account(email=INTAKE_EMAIL, name="E-Mail-Eingang")
