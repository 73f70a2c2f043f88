"""Consultations with an advisor (issue 13).

Who offers what (`Advisor`, `AppointmentType`), when (`WeeklyHours`,
`AvailabilityOverride`; absences are routing's, holidays and closing days
the cooperative's) and what is booked (`Appointment`, which also holds the
times staff block). The database itself refuses two active bookings of one
advisor whose buffered times overlap (migration 0002: an exclusion
constraint on PostgreSQL, triggers on SQLite), so no form, race or second
process can double-book."""

import datetime
import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel


class LocationKind(models.TextChoices):
    OFFICE = "office", _("at the office")
    PHONE = "phone", _("by phone")
    VIDEO = "video", _("by video call")
    HOME = "home", _("home visit")


class AppointmentType(TimeStampedModel):
    """A topic members can book (Vermietung, Nebenkosten …) and how it runs."""

    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    name_de = models.CharField(_("name (German)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    description_de = models.TextField(_("description (German)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    location_kind = models.CharField(
        _("where"), max_length=10, choices=LocationKind.choices, default=LocationKind.OFFICE
    )
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=30)
    buffer_before_minutes = models.PositiveSmallIntegerField(
        _("buffer before (minutes)"), default=0
    )
    buffer_after_minutes = models.PositiveSmallIntegerField(_("buffer after (minutes)"), default=10)
    min_notice_hours = models.PositiveSmallIntegerField(
        _("minimum notice (hours)"),
        default=24,
        help_text=_("Members can book no later than this many hours before the appointment."),
    )
    horizon_days = models.PositiveSmallIntegerField(
        _("booking horizon (days)"),
        default=56,
        help_text=_("Members can book up to this many days ahead."),
    )
    max_per_advisor_per_day = models.PositiveSmallIntegerField(
        _("at most per advisor and day"), null=True, blank=True
    )
    cancel_cutoff_hours = models.PositiveSmallIntegerField(
        _("cancel or change until (hours before)"), default=2
    )
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name_de"]
        verbose_name = _("appointment type")
        verbose_name_plural = _("appointment types")
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5), name="appointment_type_duration_min"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "de").startswith("en") else self.name_de

    @property
    def description(self) -> str:
        english = (get_language() or "de").startswith("en")
        return self.description_en if english else self.description_de

    @property
    def duration(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.duration_minutes)

    @property
    def buffer_before(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.buffer_before_minutes)

    @property
    def buffer_after(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.buffer_after_minutes)


class AdvisorQuerySet(models.QuerySet):
    def bookable(self) -> "AdvisorQuerySet":
        return self.filter(active=True, user__is_active=True, user__is_staff=True)


class Advisor(TimeStampedModel):
    """A staff member who offers consultations."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.CASCADE,
        related_name="advisor",
        limit_choices_to={"is_staff": True},
    )
    types = models.ManyToManyField(
        AppointmentType, verbose_name=_("topics"), related_name="advisors", blank=True
    )
    room = models.CharField(_("room"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    video_link = models.URLField(_("video call link"), blank=True)
    active = models.BooleanField(_("takes bookings"), default=True)
    # "Any advisor" takes turns: the one booked longest ago goes first.
    last_booked_at = models.DateTimeField(_("last booked at"), null=True, blank=True)
    # The private calendar feed (Outlook, Thunderbird): only a hash is kept;
    # a new token makes the old address stop working.
    feed_token_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    feed_token_created_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = AdvisorQuerySet.as_manager()

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        verbose_name = _("advisor")
        verbose_name_plural = _("advisors")

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.email


class WeeklyHours(models.Model):
    """A range of the week in which an advisor takes appointments (local
    wall-clock time; several per day)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    advisor = models.ForeignKey(Advisor, on_delete=models.CASCADE, related_name="weekly_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))

    class Meta:
        ordering = ["advisor", "weekday", "starts"]
        verbose_name = _("consultation hours")
        verbose_name_plural = _("consultation hours")
        constraints = [
            models.CheckConstraint(condition=Q(starts__lt=F("ends")), name="weekly_hours_order"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class AvailabilityOverride(models.Model):
    """A date on which an advisor's hours differ from the week's: the rows
    of a date replace its weekly hours; a row without times means not
    available that day."""

    advisor = models.ForeignKey(Advisor, on_delete=models.CASCADE, related_name="overrides")
    date = models.DateField(_("date"))
    starts = models.TimeField(_("from"), null=True, blank=True)
    ends = models.TimeField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["advisor", "date", "starts"]
        verbose_name = _("different hours on a date")
        verbose_name_plural = _("different hours on dates")
        constraints = [
            models.CheckConstraint(
                condition=Q(starts__isnull=True, ends__isnull=True) | Q(starts__lt=F("ends")),
                name="availability_override_order",
            ),
        ]

    def __str__(self) -> str:
        if self.starts is None:
            return f"{self.date:%d.%m.%Y}: –"
        return f"{self.date:%d.%m.%Y} {self.starts:%H:%M}–{self.ends:%H:%M}"


class AppointmentQuerySet(models.QuerySet):
    def active(self) -> "AppointmentQuerySet":
        """What occupies the advisor's time (all but cancelled)."""
        return self.exclude(status=Appointment.Status.CANCELLED)

    def upcoming(self, *, now: datetime.datetime | None = None) -> "AppointmentQuerySet":
        return self.filter(
            status=Appointment.Status.BOOKED, ends_at__gt=now or timezone.now()
        ).order_by("starts_at")


class Appointment(TimeStampedModel):
    """A booked consultation, or time an advisor blocked (kind BLOCK, no
    member). busy_from/busy_until are the times with the type's buffers:
    what the database keeps from overlapping, half-open, so back-to-back
    bookings fit."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("booked")
        CANCELLED = "cancelled", _("cancelled")
        ATTENDED = "attended", _("attended")
        NO_SHOW = "no_show", _("did not come")

    class Kind(models.TextChoices):
        APPOINTMENT = "appointment", _("appointment")
        BLOCK = "block", _("blocked time")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(
        _("kind"), max_length=12, choices=Kind.choices, default=Kind.APPOINTMENT
    )
    advisor = models.ForeignKey(
        Advisor, verbose_name=_("advisor"), on_delete=models.PROTECT, related_name="appointments"
    )
    appointment_type = models.ForeignKey(
        AppointmentType,
        verbose_name=_("topic"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("booked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    busy_from = models.DateTimeField(editable=False)
    busy_until = models.DateTimeField(editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.BOOKED
    )
    # As it was booked: a later change of the advisor's room or of the
    # type does not move an appointment someone already has.
    location_kind = models.CharField(
        _("where"), max_length=10, choices=LocationKind.choices, blank=True
    )
    location = models.CharField(_("place"), max_length=300, blank=True)
    note = models.TextField(_("note"), blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("request"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appointments",
    )
    # iCalendar SEQUENCE: one more on every change the member is told of.
    sequence = models.PositiveIntegerField(default=0, editable=False)
    # The link in the e-mails (cancel or change without logging in): only a
    # hash is kept; a new one on every change, none after cancelling.
    link_token_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    # A second submit of the same confirmation form gives the same booking.
    request_key = models.CharField(max_length=64, blank=True, editable=False)
    reminder_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        indexes = [
            models.Index(fields=["advisor", "starts_at"], name="appointment_advisor_start"),
            # The free-slot read and the SQLite overlap trigger look for an
            # advisor's bookings that end after a moment: without it, every
            # row of the advisor's years of history was read.
            models.Index(fields=["advisor", "busy_until"], name="appointment_advisor_busy"),
            models.Index(fields=["member", "starts_at"], name="appointment_member_start"),
            # The overview's offered hours read an advisor's blocked times
            # over up to three years: without it, every booking of those
            # years was read to find the few blocks among them.
            models.Index(
                fields=["advisor", "busy_until"],
                condition=Q(kind="block"),
                name="appointment_block_busy",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="appointment_order"
            ),
            models.CheckConstraint(
                condition=Q(busy_from__lte=F("starts_at"), busy_until__gte=F("ends_at")),
                name="appointment_busy_covers",
            ),
            models.CheckConstraint(
                condition=Q(kind="block") | Q(member__isnull=False, appointment_type__isnull=False),
                name="appointment_has_member",
            ),
            models.UniqueConstraint(
                fields=["member", "request_key"],
                condition=~Q(request_key=""),
                name="appointment_request_once",
            ),
        ]

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at)
        return f"{local:%d.%m.%Y %H:%M} {self.advisor}"

    def get_absolute_url(self) -> str:
        return reverse("appointments:detail", args=[self.public_id])

    def ical_uid(self) -> str:
        """Stable for the booking's life: calendar programs match changes
        and the cancellation to the entry by it."""
        return f"termin-{self.public_id}@genoportal"

    def is_active(self) -> bool:
        return self.status != self.Status.CANCELLED

    def changeable_until(self) -> datetime.datetime:
        """Members may cancel or change until this moment (the type's cutoff)."""
        hours = self.appointment_type.cancel_cutoff_hours if self.appointment_type else 0
        return self.starts_at - datetime.timedelta(hours=hours)

    def member_may_change(self, now: datetime.datetime | None = None) -> bool:
        return (
            self.kind == self.Kind.APPOINTMENT
            and self.status == self.Status.BOOKED
            and (now or timezone.now()) < self.changeable_until()
        )


def token_hash(token: str) -> str:
    """What is stored of a link's or feed's secret token."""
    return hashlib.sha256(token.encode()).hexdigest()
