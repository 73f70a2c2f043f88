"""Delivery of one outbox row, exactly once as far as the portal can know.

Three committed steps, none inside another transaction, so a crash can
never roll back what already happened at the mail server:
1. claim: a conditional UPDATE gives the row to this attempt (a token);
2. hand-over: just before the message text goes to the server, the moment
   is recorded: until then a crash provably sent nothing;
3. sent: right after the server accepted, the row is marked sent.
A failed attempt (refused, or no server reached) leaves a row `mail_retry`
sends again after a growing pause (mail.backoff) until MAIL_MAX_ATTEMPTS.
A worker killed between 1 and 2 leaves a row `mail_retry` sends again once
its lease has run out; one killed between 2 and 3 leaves it "in doubt",
which is never sent again by itself (a second copy is worse than asking
staff to look). No row lock is held while talking to the server."""

import datetime
import logging
import smtplib
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address
from django.db.models import F, Q
from django.utils import timezone
from django.utils.html import linebreaks, urlize
from django_tasks import task

from mail.backoff import retry_delay
from mail.models import InboundEmail, OutboundEmail

logger = logging.getLogger(__name__)

Status = OutboundEmail.Status

# How long a queued row is left to the task enqueued with it before
# mail_retry enqueues another (harmless, the claim sends once, but noisy).
QUEUED_GRACE = datetime.timedelta(minutes=5)


class MailRefused(Exception):
    """The server answered with an error: it did not take the message."""


class ClaimLost(Exception):
    """The row was given to another attempt meanwhile (this one ran past its
    lease): stop before the message text leaves."""


def email_claim(email_id: int) -> uuid.UUID | None:
    """Give the row to one delivery attempt (committed at once); None if it
    is sent, in doubt, or held by another attempt."""
    token = uuid.uuid4()
    now = timezone.now()
    # A failed row waits out its backoff even when a second task for it is
    # in the queue (mail_retry ran twice before the worker got to it).
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    claimed = (
        OutboundEmail.objects.filter(pk=email_id)
        .filter(Q(status=Status.QUEUED) | (Q(status=Status.FAILED) & due))
        .update(
            status=Status.SENDING,
            claim=token,
            claimed_at=now,
            handed_over_at=None,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    return token if claimed else None


def _held(email_id: int, token: uuid.UUID):
    return OutboundEmail.objects.filter(pk=email_id, claim=token, status=Status.SENDING)


def _smtp_transmit(connection: SmtpBackend, message, *, on_handover: Callable[[], None]):
    """Django's SMTP backend, step by step, so the hand-over is recorded
    after the server accepted sender and recipient and before the text."""
    connection.open()
    try:
        smtp = connection.connection
        encoding = message.encoding or settings.DEFAULT_CHARSET
        sender = sanitize_address(message.from_email, encoding)
        recipients = [sanitize_address(a, encoding) for a in message.recipients()]
        smtp.ehlo_or_helo_if_needed()
        code, answer = smtp.mail(sender)
        if code != 250:
            raise MailRefused(f"MAIL FROM: {code} {answer!r}")
        for recipient in recipients:
            code, answer = smtp.rcpt(recipient)
            if code not in (250, 251):
                raise MailRefused(f"RCPT TO: {code} {answer!r}")
        on_handover()
        code, answer = smtp.data(message.message().as_bytes(linesep="\r\n"))
        if code != 250:
            raise MailRefused(f"DATA: {code} {answer!r}")
    finally:
        try:
            connection.close()
        except Exception:  # closing must not mask what happened
            logger.warning("closing the SMTP connection failed")


def _transmit(message: EmailMessage, *, on_handover: Callable[[], None]) -> None:
    connection = get_connection()
    if isinstance(connection, SmtpBackend):
        _smtp_transmit(connection, message, on_handover=on_handover)
    else:
        # File and memory backends (demo, tests) have no server in between.
        on_handover()
        connection.send_messages([message])


def thread_headers(email: OutboundEmail) -> dict[str, str]:
    """In-Reply-To and References, so that mail programs show a request's
    messages as one conversation: the first message of the thread to this
    recipient starts it; a message the member wrote about the request (by
    e-mail) is what the newest one answers."""
    if not email.thread:
        return {}
    ours = list(
        OutboundEmail.objects.filter(thread=email.thread, to=email.to, pk__lt=email.pk)
        .order_by("pk")
        .only("pk", "created_at")
    )
    theirs = list(
        InboundEmail.objects.filter(ticket_reference=email.thread, sender=email.to)
        .exclude(message_id="")
        .order_by("created_at")
        .values_list("message_id", flat=True)
    )
    chain = [m.message_id() for m in ours[:1]] + [f"<{i}>" for i in theirs[-5:]]
    chain += [m.message_id() for m in ours[1:][-5:]]
    if not chain:
        return {}
    answers = f"<{theirs[-1]}>" if theirs else chain[-1]
    return {"In-Reply-To": answers, "References": " ".join(dict.fromkeys(chain))}


# The name of the invite as an attachment (issue 13): what a member sees,
# and saves, when the mail program does not show the invite itself.
INVITE_FILENAME = "termin.ics"


class InviteMessage(EmailMultiAlternatives):
    """A message with a calendar invite (RFC 6047): Django writes the
    text/calendar parts like any text part; this adds the iTIP method to
    their Content-Type, which is what makes Outlook, Gmail, Apple Mail and
    Thunderbird offer the part as an invite rather than as a file."""

    def __init__(self, *args, calendar_method: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calendar_method = calendar_method

    def message(self):
        message = super().message()
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                charset = part.get_content_charset() or "utf-8"
                part.replace_header(
                    "Content-Type",
                    f'text/calendar; method={self.calendar_method}; charset="{charset}"',
                )
        return message


def message_for(email: OutboundEmail) -> EmailMultiAlternatives:
    """The message as it goes out: text and an HTML part of the same text,
    a stable Message-ID, the thread's headers, Reply-To the mailbox that
    is read, and Auto-Submitted on notifications (RFC 3834), which keeps
    well-behaved out-of-office programs from answering them.

    With a calendar invite, the invite is a third alternative (text/calendar
    with its method: mail programs show it as an invite with the event's
    details) and the same file is attached as termin.ics, for programs that
    show only attachments, and for members who want to import it by hand."""
    headers = {"Message-ID": email.message_id(), **thread_headers(email)}
    if not email.written:
        headers["Auto-Submitted"] = "auto-generated"
    fields = {
        "subject": email.subject,
        "body": email.body,
        "from_email": settings.DEFAULT_FROM_EMAIL,
        "to": [email.to],
        "reply_to": [settings.MAIL_REPLY_TO] if settings.MAIL_REPLY_TO else None,
        "headers": headers,
    }
    if email.calendar:
        message = InviteMessage(**fields, calendar_method=email.calendar_method)
    else:
        message = EmailMultiAlternatives(**fields)
    message.attach_alternative(html_of(email.body), "text/html")
    if email.calendar:
        message.attach_alternative(email.calendar, "text/calendar")
        message.attach(INVITE_FILENAME, email.calendar, "text/calendar")
    return message


def html_of(text: str) -> str:
    """The text as HTML: escaped, paragraphs and line breaks kept, links
    clickable. Nothing else: the text part stays the reference."""
    body = linebreaks(urlize(text, autoescape=True), autoescape=False)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        f'<body style="font-family:sans-serif;font-size:16px;line-height:1.5">{body}</body></html>'
    )


@task()
def email_deliver(email_id: int) -> str:
    """Send one outbox row. Safe to run any number of times, at once too:
    only the attempt holding the claim sends."""
    token = email_claim(email_id)
    if token is None:
        return "not claimable"
    email = OutboundEmail.objects.get(pk=email_id)
    message = message_for(email)
    handed_over = False

    def handover() -> None:
        nonlocal handed_over
        if not _held(email_id, token).update(handed_over_at=timezone.now()):
            raise ClaimLost(email_id)
        handed_over = True

    try:
        _transmit(message, on_handover=handover)
    except Exception as exc:
        # Refused by the server, or no server reached before the hand-over:
        # nothing arrived, so a retry is safe. A connection lost after the
        # hand-over may or may not have delivered it.
        refused = isinstance(exc, MailRefused | ClaimLost | smtplib.SMTPResponseException)
        status = Status.IN_DOUBT if handed_over and not refused else Status.FAILED
        now = timezone.now()
        retry_at = now + retry_delay(attempts=email.attempts) if status == Status.FAILED else None
        _held(email_id, token).update(
            status=status, last_error=repr(exc)[:2000], next_attempt_at=retry_at, updated_at=now
        )
        logger.warning("email delivery failed", extra={"email_id": email_id, "status": status})
        return str(status)
    _held(email_id, token).update(
        status=Status.SENT, sent_at=timezone.now(), last_error="", updated_at=timezone.now()
    )
    logger.info("email sent", extra={"email_id": email_id})
    return "sent"


@task()
def email_deliver_many(email_ids: list[int]) -> dict[str, str]:
    """Send several outbox rows, one after the other (a batch of the mail
    intake: mail.services.email_delivery_batch); each exactly as
    email_deliver, so a worker that dies half-way leaves the rest to
    mail_retry, and running it twice sends nothing twice."""
    return {str(email_id): email_deliver.call(email_id) for email_id in email_ids}
