"""Bookable rooms (issue 13, point 8): guest apartments let by the night
with check-in and check-out times, common rooms let by the hour within
their hours, each with a price and, where the cooperative wants it, a
staff confirmation. The database refuses two active bookings of one room
whose times (with the cleaning buffer) overlap — migration 0002, the same
guarantee as the advisors' appointments."""

import datetime
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel


class RoomKind(models.TextChoices):
    GUEST_FLAT = "guest_flat", _("guest apartment")
    COMMON_ROOM = "common_room", _("common room")


class RoomQuerySet(models.QuerySet):
    def bookable(self) -> "RoomQuerySet":
        return self.filter(active=True)


class Room(TimeStampedModel):
    """A guest apartment or a common room members can book."""

    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=RoomKind.choices)
    name_de = models.CharField(_("name (German)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    description_de = models.TextField(_("description (German)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    estate = models.ForeignKey(
        "cooperative.Estate",
        verbose_name=_("estate"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rooms",
    )
    residents_only = models.BooleanField(
        _("only for residents of the estate"),
        default=False,
        help_text=_("Only members with a current contract in the estate can book it."),
    )
    team = models.ForeignKey(
        "routing.Team",
        verbose_name=_("looked after by"),
        on_delete=models.PROTECT,
        related_name="rooms",
        help_text=_("This team's members see the bookings and confirm them."),
    )
    capacity = models.PositiveSmallIntegerField(_("persons at most"), default=4)
    price = models.DecimalField(
        _("price per night or hour (€)"), max_digits=7, decimal_places=2, default=Decimal("0")
    )
    fee = models.DecimalField(
        _("once per booking (€)"),
        max_digits=7,
        decimal_places=2,
        default=Decimal("0"),
        help_text=_("e.g. the final cleaning"),
    )
    # Guest apartments: arrival and departure times on the days booked.
    check_in = models.TimeField(_("check-in from"), default=datetime.time(15))
    check_out = models.TimeField(_("check-out until"), default=datetime.time(10))
    # Common rooms: the hours within which it is let.
    opens = models.TimeField(_("bookable from"), default=datetime.time(8))
    closes = models.TimeField(_("bookable until"), default=datetime.time(22))
    cleaning_minutes = models.PositiveSmallIntegerField(
        _("cleaning after each booking (minutes)"),
        default=0,
        help_text=_("Kept free after a booking before the next can begin."),
    )
    min_units = models.PositiveSmallIntegerField(_("at least (nights or hours)"), default=1)
    max_units = models.PositiveSmallIntegerField(_("at most (nights or hours)"), default=14)
    min_notice_hours = models.PositiveSmallIntegerField(_("minimum notice (hours)"), default=24)
    horizon_days = models.PositiveSmallIntegerField(_("booking horizon (days)"), default=365)
    cancel_cutoff_hours = models.PositiveSmallIntegerField(
        _("members cancel until (hours before)"), default=48
    )
    needs_confirmation = models.BooleanField(
        _("staff confirm each booking"),
        default=False,
        help_text=_("The time is held for the member until staff confirm or decline."),
    )
    active = models.BooleanField(_("bookable"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    objects = RoomQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name_de"]
        verbose_name = _("bookable room")
        verbose_name_plural = _("bookable rooms")
        constraints = [
            models.CheckConstraint(condition=Q(opens__lt=F("closes")), name="room_hours_order"),
            models.CheckConstraint(
                condition=Q(min_units__gte=1, max_units__gte=F("min_units")),
                name="room_units_order",
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
    def by_night(self) -> bool:
        return self.kind == RoomKind.GUEST_FLAT

    def get_absolute_url(self) -> str:
        return reverse("rooms:room", args=[self.slug])

    def price_for(self, units: int) -> Decimal:
        return self.price * units + self.fee


class RoomBookingQuerySet(models.QuerySet):
    def active(self) -> "RoomBookingQuerySet":
        """What holds the room: confirmed bookings and those awaiting staff."""
        return self.filter(status__in=RoomBooking.HOLDING)

    def upcoming(self, *, now: datetime.datetime | None = None) -> "RoomBookingQuerySet":
        return self.active().filter(ends_at__gt=now or timezone.now()).order_by("starts_at")


class RoomBooking(TimeStampedModel):
    """A member's booking of a room: [starts_at, ends_at) is the stay or the
    hours, busy_until adds the cleaning time; the database keeps the busy
    times of active bookings of one room apart (migration 0002)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("awaiting confirmation")
        CONFIRMED = "confirmed", _("confirmed")
        DECLINED = "declined", _("declined")
        CANCELLED = "cancelled", _("cancelled")

    HOLDING = (Status.REQUESTED, Status.CONFIRMED)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    room = models.ForeignKey(
        Room, verbose_name=_("room"), on_delete=models.PROTECT, related_name="bookings"
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="room_bookings",
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("booked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    busy_until = models.DateTimeField(editable=False)
    # Nights or hours, and the price as shown when booking: a later price
    # change does not change what a member agreed to.
    units = models.PositiveSmallIntegerField(_("nights or hours"))
    price = models.DecimalField(_("price (€)"), max_digits=8, decimal_places=2)
    persons = models.PositiveSmallIntegerField(_("persons"), default=1)
    purpose = models.CharField(_("occasion or guests"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed or declined by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("confirmed or declined at"), null=True, blank=True)
    decline_reason = models.TextField(_("reason"), blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # A second submit of the same confirmation form gives the same booking.
    request_key = models.CharField(max_length=64, blank=True, editable=False)

    objects = RoomBookingQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("room booking")
        verbose_name_plural = _("room bookings")
        indexes = [
            # The calendar and the overlap trigger look for a room's
            # bookings that end after a moment.
            models.Index(fields=["room", "busy_until"], name="room_booking_room_busy"),
            models.Index(fields=["member", "starts_at"], name="room_booking_member_start"),
            models.Index(fields=["status", "starts_at"], name="room_booking_status_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(starts_at__lt=F("ends_at")), name="room_order"),
            models.CheckConstraint(
                condition=Q(busy_until__gte=F("ends_at")), name="room_busy_covers"
            ),
            models.UniqueConstraint(
                fields=["member", "request_key"],
                condition=~Q(request_key=""),
                name="room_booking_request_once",
            ),
        ]

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at)
        return f"{self.room} {local:%d.%m.%Y}"

    def get_absolute_url(self) -> str:
        return reverse("rooms:booking", args=[self.public_id])

    def is_active(self) -> bool:
        return self.status in self.HOLDING

    def cancellable_until(self) -> datetime.datetime:
        return self.starts_at - datetime.timedelta(hours=self.room.cancel_cutoff_hours)

    def member_may_cancel(self, now: datetime.datetime | None = None) -> bool:
        return self.is_active() and (now or timezone.now()) < self.cancellable_until()
