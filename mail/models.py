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
    body = models.TextField(_("body"))
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

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"

    def message_id(self) -> str:
        """The same Message-ID for every attempt at this row: if staff send
        a message in doubt again, mail programs show it once."""
        host = urlsplit(settings.SITE_URL).hostname or "genoportal.invalid"
        return f"<outbox-{self.pk}.{self.created_at:%Y%m%d%H%M%S}@{host}>"
