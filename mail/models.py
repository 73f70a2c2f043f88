"""The outbox: every e-mail is a row first, written in the same transaction
as the change it reports, then delivered by a task. A crash between commit
and delivery leaves a row to retry instead of a lost message.

Delivery is exactly-once as far as the portal can know it (mail.tasks):
a worker claims a row with a token in a committed step, records the moment
it hands the message to the SMTP server, and marks it sent in a committed
step of its own. A worker that dies before the hand-over leaves a row that
is safely sent again; one that dies after it leaves a row "in doubt" that
is never sent twice automatically (staff decide)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel


class OutboundEmailQuerySet(models.QuerySet):
    def failing(self, *, max_attempts: int | None = None) -> "OutboundEmailQuerySet":
        """What needs a person: e-mails the portal gave up on after
        `max_attempts` (settings.MAIL_MAX_ATTEMPTS) failed attempts, and
        those in doubt, which are never sent again by themselves."""
        if max_attempts is None:
            max_attempts = settings.MAIL_MAX_ATTEMPTS
        given_up = models.Q(status=OutboundEmail.Status.FAILED, attempts__gte=max_attempts)
        return self.filter(given_up | models.Q(status=OutboundEmail.Status.IN_DOUBT))


class OutboundEmail(TimeStampedModel):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("being sent")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        # The worker stopped after handing the message to the mail server but
        # before it heard back: it may have arrived. Never re-sent by itself.
        IN_DOUBT = "in_doubt", _("in doubt")

    to = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=255)
    # The request it is about (its reference), so that a reply to this
    # message joins that request (In-Reply-To/References).
    thread = models.CharField(_("request"), max_length=20, blank=True)
    # Written by a person (a handler's reply, a question to the member):
    # not marked "Auto-Submitted", so the member's mail program treats it
    # as a letter (out-of-office replies answer it, which the intake keeps
    # without a loop). Everything else is an automatic notification.
    written = models.BooleanField(_("written by a person"), default=False)
    body = models.TextField(_("body"))
    # A calendar invite that goes with the text (an appointment booked,
    # moved or cancelled): the .ics file as text, and its METHOD (REQUEST,
    # CANCEL), which the message repeats in the part's Content-Type so that
    # mail programs offer it as an invite. Empty for every other e-mail.
    calendar = models.TextField(_("calendar invite"), blank=True)
    calendar_method = models.CharField(_("calendar invite method"), max_length=10, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # The delivery attempt that holds the row (mail.tasks.email_claim).
    claim = models.UUIDField(_("delivery token"), null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    handed_over_at = models.DateTimeField(_("handed to the mail server at"), null=True, blank=True)
    # When mail_retry may enqueue the row again (mail.backoff after a failed
    # attempt; a grace period after staff sent it again). Empty: a queued row
    # waits five minutes from its creation for its own task.
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # The staff member who last had it sent again (mail.services.email_send_again).
    sent_again_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent again by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    sent_again_at = models.DateTimeField(_("sent again at"), null=True, blank=True)

    objects = OutboundEmailQuerySet.as_manager()

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            # mail_retry's due rows, and the failing ones staff are shown.
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["thread", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"

    def is_given_up(self, *, max_attempts: int | None = None) -> bool:
        """Failed so often that only staff send it again (see failing())."""
        if max_attempts is None:
            max_attempts = settings.MAIL_MAX_ATTEMPTS
        return self.status == self.Status.FAILED and self.attempts >= max_attempts

    def message_id(self) -> str:
        """The same Message-ID for every attempt at this row: if staff send
        a message in doubt again, mail programs show it once."""
        host = urlsplit(settings.SITE_URL).hostname or "genoportal.invalid"
        return f"<outbox-{self.pk}.{self.created_at:%Y%m%d%H%M%S}@{host}>"


class InboundEmail(TimeStampedModel):
    """One message that arrived (issue 12), kept raw for staff, whatever
    became of it. Stored and processed in one transaction by the intake
    (the face above tickets), so a crash half-way leaves neither the row
    nor a ticket, and the message is simply read again. Known by its
    Message-ID, and by the hash of its bytes when it has none: reading a
    mailbox twice never makes a second ticket."""

    class Status(models.TextChoices):
        TICKET = "ticket", _("new request")
        REPLY = "reply", _("joined a request")
        BOUNCE = "bounce", _("undeliverable notice")
        AUTO_REPLY = "auto_reply", _("automatic reply")
        IGNORED = "ignored", _("ignored (too many from this sender)")
        QUARANTINE = "quarantine", _("could not be read")

    mailbox = models.CharField(_("mailbox"), max_length=100)
    message_id = models.CharField(_("Message-ID"), max_length=998, blank=True)
    content_hash = models.CharField(_("content hash"), max_length=64, unique=True)
    raw = models.BinaryField(_("original message"))
    size = models.PositiveIntegerField(_("size"))
    sender = models.EmailField(_("from"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    status = models.CharField(_("outcome"), max_length=12, choices=Status.choices)
    # The request it opened or joined (a reference, not a key: mail sits
    # below tickets; tickets.TicketEvent.email points back at this row).
    ticket_reference = models.CharField(_("request"), max_length=20, blank=True)
    spam = models.BooleanField(_("marked as spam"), default=False)
    # What the intake noticed: refused attachments, odd headers, the error
    # of a message it could not read.
    notes = models.JSONField(_("notes"), default=list, blank=True)

    class Meta:
        verbose_name = _("incoming e-mail")
        verbose_name_plural = _("incoming e-mails")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["message_id"],
                condition=~models.Q(message_id=""),
                name="inbound_email_message_id",
            )
        ]
        indexes = [models.Index(fields=["sender", "created_at"])]

    def __str__(self) -> str:
        return f"{self.sender}: {self.subject}"


class BouncingAddress(TimeStampedModel):
    """An address our mail could not be delivered to (from a bounce): staff
    see it on the member, and it is fixed by a new address."""

    address = models.EmailField(_("address"), unique=True)
    last_bounce_at = models.DateTimeField(_("last undeliverable notice"))
    bounces = models.PositiveIntegerField(_("undeliverable notices"), default=1)

    class Meta:
        verbose_name = _("bouncing address")
        verbose_name_plural = _("bouncing addresses")

    def __str__(self) -> str:
        return self.address
