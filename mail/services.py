from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.template import Context, Engine
from django.utils import timezone, translation
from icalendar import Calendar

from cooperative.cache import cooperative_current
from mail.models import OutboundEmail
from mail.tasks import QUEUED_GRACE, email_deliver, email_deliver_many

# The e-mails of a delivery batch (email_delivery_batch), once committed.
_batch: ContextVar[list[int] | None] = ContextVar("genoportal_delivery_batch", default=None)


@contextmanager
def email_delivery_batch() -> Iterator[None]:
    """E-mails queued inside go out by one delivery task, enqueued as the
    block ends, instead of one task each: the mail intake files a batch of
    requests in one transaction, and a task per confirmation was a tenth of
    its time. Only e-mails whose transaction committed are in it (each is
    added by an on-commit hook, which a rolled-back savepoint drops); put
    the transaction inside the block. Should the process die before the
    task is enqueued, mail_retry sends them after QUEUED_GRACE, as for a
    lost single task."""
    committed: list[int] = []
    token = _batch.set(committed)
    try:
        yield
    finally:
        _batch.reset(token)
    if committed:
        email_deliver_many.enqueue(committed)


def _render_text(name: str, context: dict) -> str:
    """A plain-text template rendered without HTML escaping. E-mails are not
    HTML: with Django's default escaping a request type "Schlüssel & Schloss"
    arrived as "Schlüssel &amp; Schloss" (and "O'Neill" as "O&#x27;Neill").
    render_to_string always escapes, so the template is rendered through the
    engine with a Context that does not; no template can forget it."""
    template = Engine.get_default().get_template(name)
    return template.render(Context(context, autoescape=False))


def _calendar_checked(calendar: bytes | str, method: str) -> str:
    """The invite as text, refused (ValueError) unless it is an iCalendar
    object whose METHOD is `method`: the message repeats the method in the
    part's Content-Type, and mail programs that find the two disagreeing
    show no invite, or file the wrong one (RFC 6047 2.4)."""
    text = calendar.decode("utf-8") if isinstance(calendar, bytes) else calendar
    if bool(text) != bool(method):
        raise ValueError("a calendar invite needs its method, and a method its invite")
    if not text:
        return ""
    if not (method.isascii() and method.isalpha() and method.isupper()):
        raise ValueError(f"not a calendar method: {method!r}")
    found = Calendar.from_ical(text).get("METHOD")
    if found is None or str(found) != method:
        raise ValueError(f"the invite's METHOD is {found!r}, not {method!r}")
    return text


def email_queue(
    *,
    to: str,
    template: str,
    context: dict,
    language: str,
    thread: str = "",
    written: bool = False,
    calendar: bytes | str = b"",
    calendar_method: str = "",
) -> OutboundEmail:
    """Render `template` (…_subject.txt / …_body.txt) in the recipient's language,
    store it in the outbox and deliver it once the surrounding transaction commits.

    `calendar` is an invite that goes with it (an .ics file, UTF-8) and
    `calendar_method` its METHOD (REQUEST, CANCEL): the message then carries
    it both as an invite and as the attachment termin.ics (mail.tasks)."""
    calendar = _calendar_checked(calendar, calendar_method)
    context = {"cooperative": cooperative_current(), **context}
    with translation.override(language):
        subject = _render_text(f"{template}_subject.txt", context).strip()
        body = _render_text(f"{template}_body.txt", context)
    with transaction.atomic():
        email = OutboundEmail.objects.create(
            to=to,
            subject=" ".join(subject.split()),
            body=body,
            thread=thread,
            written=written,
            calendar=calendar,
            calendar_method=calendar_method,
        )
        batch = _batch.get()
        if batch is not None:
            transaction.on_commit(lambda: batch.append(email.pk))
        else:
            transaction.on_commit(lambda: email_deliver.enqueue(email.pk))
    return email


# The actor is typed as Django's user: mail sits below accounts (the layer
# contract in pyproject.toml), like the foreign key to AUTH_USER_MODEL.
def email_send_again(*, email: OutboundEmail, actor: AbstractBaseUser) -> bool:
    """Staff have the portal try again: an e-mail it gave up on, one that
    failed (without waiting for its backoff), or one in doubt after checking
    with the recipient that it did not arrive (a copy keeps its Message-ID,
    so mail programs show it once). It starts a fresh round of attempts.

    Only a failed or in-doubt row is reset, by one conditional UPDATE: two
    clicks, or two staff members at once, enqueue one delivery, and a row
    that is sent or being sent is never touched. Returns whether it was
    queued; `email` is updated in memory to match."""
    now = timezone.now()
    changes = {
        "status": OutboundEmail.Status.QUEUED,
        "attempts": 0,
        "claim": None,
        "handed_over_at": None,
        # Its own task runs on commit; mail_retry steps in only if that is lost.
        "next_attempt_at": now + QUEUED_GRACE,
        "sent_again_by": actor,
        "sent_again_at": now,
        "updated_at": now,
    }
    with transaction.atomic():
        reset = OutboundEmail.objects.filter(
            pk=email.pk, status__in=[OutboundEmail.Status.FAILED, OutboundEmail.Status.IN_DOUBT]
        ).update(**changes)
        if reset:
            transaction.on_commit(lambda: email_deliver.enqueue(email.pk))
    if reset:
        for field, value in changes.items():
            setattr(email, field, value)
    return bool(reset)
