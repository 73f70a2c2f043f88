"""Notices to residents (Aushänge): who they are for (an estate, or chosen
buildings of it), when they hold (valid_from to valid_until; without an
end until withdrawn), and whether they are out (published, withdrawn).
NoticeDelivery remembers who was e-mailed a notice, so a retried task
never sends twice."""

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel


class NoticeKind(models.TextChoices):
    HEATING = "heating", _("heating or hot water outage")
    WATER = "water", _("water shut-off")
    POWER = "power", _("power outage")
    LIFT = "lift", _("lift out of service")
    CLEANING = "cleaning", _("staircase cleaning")
    CONSTRUCTION = "construction", _("construction work")
    ASSEMBLY = "assembly", _("invitation to an assembly")
    OTHER = "other", _("other notice")


class NoticeState(models.TextChoices):
    DRAFT = "draft", _("draft")
    UPCOMING = "upcoming", _("announced")
    CURRENT = "current", _("current")
    ENDED = "ended", _("ended")
    WITHDRAWN = "withdrawn", _("withdrawn")


class NoticeQuerySet(models.QuerySet):
    def published(self) -> "NoticeQuerySet":
        """Out and not withdrawn."""
        return self.filter(published_at__isnull=False, withdrawn_at__isnull=True)

    def not_ended(self, now: datetime.datetime) -> "NoticeQuerySet":
        return self.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))

    def for_places(self, places: list[tuple[int, int, datetime.datetime]]) -> "NoticeQuerySet":
        """Notices for residents of these places — (building, estate, since)
        each: for the building, or for its whole estate (a notice without
        buildings), and not ended before `since` (a new tenant does not
        inherit what the previous one was told). Places go in as values, a
        few rows read once per request."""
        if not places:
            return self.none()
        chosen = Notice.buildings.through.objects.filter(notice=OuterRef("pk"))
        whole_estate = ~Exists(chosen)
        visible = Q()
        for building_id, estate_id, since in places:
            still = Q(valid_until__isnull=True) | Q(valid_until__gt=since)
            visible |= (
                Q(estate_id=estate_id)
                & (whole_estate | Exists(chosen.filter(building_id=building_id)))
                & still
            )
        return self.filter(visible)


class Notice(TimeStampedModel):
    """An Aushang: a notice to the residents of an estate, or of chosen
    buildings of it (no buildings: the whole estate)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=14, choices=NoticeKind.choices)
    title_de = models.CharField(_("title (German)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    text_de = models.TextField(_("text (German)"))
    text_en = models.TextField(_("text (English)"), blank=True)
    estate = models.ForeignKey(
        "cooperative.Estate",
        verbose_name=_("estate"),
        on_delete=models.PROTECT,
        related_name="notices",
    )
    buildings = models.ManyToManyField(
        "cooperative.Building",
        verbose_name=_("buildings"),
        blank=True,
        related_name="notices",
        help_text=_("None chosen: the whole estate."),
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(
        _("valid until"), null=True, blank=True, help_text=_("Empty: until withdrawn.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawn by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-valid_from", "-pk"]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        indexes = [
            models.Index(fields=["estate", "valid_until"], name="notice_estate_until"),
            models.Index(fields=["valid_from"], name="notice_valid_from"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="notice_valid_order",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | Q(published_at__isnull=False),
                name="notice_withdrawn_after_published",
            ),
        ]

    def __str__(self) -> str:
        return self.title_de

    @property
    def title(self) -> str:
        english = (get_language() or "de").startswith("en")
        return self.title_en if english and self.title_en else self.title_de

    @property
    def text(self) -> str:
        english = (get_language() or "de").startswith("en")
        return self.text_en if english and self.text_en else self.text_de

    def state(self, now: datetime.datetime | None = None) -> str:
        now = now or timezone.now()
        if self.withdrawn_at is not None:
            return NoticeState.WITHDRAWN
        if self.published_at is None:
            return NoticeState.DRAFT
        if self.valid_until is not None and self.valid_until <= now:
            return NoticeState.ENDED
        if self.valid_from > now:
            return NoticeState.UPCOMING
        return NoticeState.CURRENT

    def get_state_display(self) -> str:
        return NoticeState(self.state()).label

    def has_begun(self, now: datetime.datetime | None = None) -> bool:
        return self.valid_from <= (now or timezone.now())

    def has_ended(self, now: datetime.datetime | None = None) -> bool:
        return self.valid_until is not None and self.valid_until <= (now or timezone.now())

    def is_draft(self) -> bool:
        return self.published_at is None

    def is_out(self, now: datetime.datetime | None = None) -> bool:
        """Published, not withdrawn, not ended: residents read it."""
        return self.state(now) in (NoticeState.UPCOMING, NoticeState.CURRENT)


class NoticeDelivery(models.Model):
    """One e-mail of a notice to one account: the unique pair is the claim,
    so a retried or doubled task sends nobody a notice twice."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    email = models.ForeignKey(
        "mail.OutboundEmail", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("notice e-mail")
        verbose_name_plural = _("notice e-mails")
        constraints = [
            models.UniqueConstraint(fields=["notice", "user"], name="notice_delivery_once")
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} {self.user_id}"
