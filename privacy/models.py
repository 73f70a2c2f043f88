"""A member's data export (DSGVO Art. 15 and 20): one row per request of
the copy, from "requested" to a ZIP in private storage that expires."""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from documents.storage import private_storage


def export_path(instance: "DataExport", filename: str) -> str:
    # A random name: the member's number or name never appears in a path.
    return f"privacy/exports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.zip"


class DataExport(TimeStampedModel):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        PREPARING = "preparing", _("being prepared")
        READY = "ready", _("ready to download")
        FAILED = "failed", _("failed")
        EXPIRED = "expired", _("expired")

    # One export in the works or on offer per member at a time: a second
    # request meets the first one (the unique constraint below is the
    # backstop when two arrive at once).
    LIVE = (Status.REQUESTED, Status.PREPARING, Status.READY)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="data_exports",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    # The ZIP, in the private storage (documents.storage: no URL, apart
    # from the media files) under a random name; never served but through
    # the member's checked download view.
    file = models.FileField(
        _("file"), storage=private_storage, upload_to=export_path, max_length=200, blank=True
    )
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("size"), null=True, blank=True)
    # The worker that builds it claims it with a token (a second task for
    # the same export finds nothing to claim); a claim older than
    # PRIVACY_EXPORT_LEASE_MINUTES belongs to a worker that stopped.
    claim = models.UUIDField(null=True, blank=True, editable=False)
    started_at = models.DateTimeField(_("preparation started at"), null=True, blank=True)
    ready_at = models.DateTimeField(_("ready at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    downloaded_at = models.DateTimeField(_("last downloaded at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # What went wrong, for the administrator: the exception's type only,
    # never its text (which may quote the member's data).
    error = models.CharField(_("error"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["member", "-created_at"], name="data_export_member"),
            models.Index(fields=["status", "expires_at"], name="data_export_status_expiry"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(status__in=["requested", "preparing", "ready"]),
                name="data_export_one_live",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.status} {self.created_at:%Y-%m-%d}"

    def is_downloadable(self, now: datetime.datetime | None = None) -> bool:
        """Ready, complete and not expired: the only state offered."""
        now = now or timezone.now()
        return (
            self.status == self.Status.READY
            and bool(self.file)
            and self.expires_at is not None
            and self.expires_at > now
        )

    def is_in_progress(self) -> bool:
        return self.status in (self.Status.REQUESTED, self.Status.PREPARING)
