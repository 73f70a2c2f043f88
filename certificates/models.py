"""Certificates the portal issued from the member records: membership
certificates and extracts of the member's own entries in the members' list."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Member
from tickets.models import Attachment, CertificateKind, Ticket


class Certificate(models.Model):
    """One certificate as issued: what it said (`facts`, the snapshot the
    PDF was made from; the verify page reads it too, so later changes to
    the records change neither), the PDF itself (an attachment of the
    request it answered, so staff and the member's request page have it
    too) and the hash of its verification code (certificates.codes)."""

    kind = models.CharField(_("kind"), max_length=20, choices=CertificateKind.choices)
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="certificates"
    )
    ticket = models.OneToOneField(
        Ticket, verbose_name=_("request"), on_delete=models.PROTECT, related_name="certificate"
    )
    # Emptied only if the request's files are ever deleted: the record of
    # what was certified (facts) stays, and so does its verification.
    attachment = models.ForeignKey(
        Attachment,
        verbose_name=_("PDF"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    # The member in the portal, or a staff member for a caller.
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    # The member asked for it by post: the request stays open for the office.
    by_post = models.BooleanField(_("by post"), default=False)
    facts = models.JSONField(_("what it certifies"), default=dict)
    code_hash = models.CharField(_("verification code (SHA-256)"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_at", "-pk"]
        indexes = [
            # The member's latest of a kind: whether a second click reuses it.
            models.Index(fields=["member", "kind", "-issued_at"], name="certificate_member_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.member_id} {self.issued_at:%Y-%m-%d}"
