"""Booking, confirming, declining and cancelling rooms (issue 13, point 8).

Never double-booked, as the advisors' appointments: the time is checked
under a lock on the room's row (parallel bookings of one room take
turns), and the database refuses overlapping busy times of active bookings
in any case (migration 0002), which turns into RoomTaken. A booking of a
room that needs staff confirmation holds the time as "awaiting
confirmation" until staff confirm or decline it. A second submit of the
same confirmation (request_key) gives the same booking."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from core.links import absolute_url
from mail.services import email_queue
from members.models import Member
from rooms import plan, selectors
from rooms.models import Room, RoomBooking

NOTE_MAX = 1000
PURPOSE_MAX = 200


class RoomBookingError(Exception):
    """A booking that cannot be made or changed; the message is safe to show."""


class RoomTaken(RoomBookingError):
    """The time was free when shown and is taken now."""


def _time(value: datetime.time) -> str:
    return formats.time_format(value, "H:i")


def _refused(room: Room, error: plan.Refused) -> RoomBookingError:
    """plan's reason in the member's words."""
    unit_least = error.params.get("least", 0)
    unit_most = error.params.get("most", 0)
    messages = {
        "departure_first": _("The departure must be at least one day after the arrival."),
        "end_first": _("The end must be after the start."),
        "whole_hours": _("Please choose whole hours (e.g. 14:00 to 18:00)."),
        "outside_hours": _("The room can be booked between %(opens)s and %(closes)s.")
        % {"opens": _time(room.opens), "closes": _time(room.closes)},
        "too_short": (
            ngettext(
                "Please book at least %(count)s night.",
                "Please book at least %(count)s nights.",
                unit_least,
            )
            if room.by_night
            else ngettext(
                "Please book at least %(count)s hour.",
                "Please book at least %(count)s hours.",
                unit_least,
            )
        )
        % {"count": unit_least},
        "too_long": (
            ngettext(
                "You can book at most %(count)s night.",
                "You can book at most %(count)s nights.",
                unit_most,
            )
            if room.by_night
            else ngettext(
                "You can book at most %(count)s hour.",
                "You can book at most %(count)s hours.",
                unit_most,
            )
        )
        % {"count": unit_most},
        "past": _("This time is in the past."),
        "notice": ngettext(
            "Please book at least %(count)s hour ahead.",
            "Please book at least %(count)s hours ahead.",
            room.min_notice_hours,
        )
        % {"count": room.min_notice_hours},
        "horizon": ngettext(
            "You can book up to %(count)s day ahead.",
            "You can book up to %(count)s days ahead.",
            room.horizon_days,
        )
        % {"count": room.horizon_days},
        "taken": _("This time is already booked. Please choose another one in the calendar."),
    }
    if error.code == "taken":
        return RoomTaken(messages["taken"])
    return RoomBookingError(messages[error.code])


def room_span(
    *,
    room: Room,
    arrival: datetime.date | None = None,
    departure: datetime.date | None = None,
    day: datetime.date | None = None,
    start: datetime.time | None = None,
    end: datetime.time | None = None,
) -> plan.Span:
    """The stay (guest apartment: arrival and departure) or the hours
    (common room: day, start, end) asked for; RoomBookingError when the
    room does not allow it."""
    rules = selectors.rules_for(room)
    try:
        if room.by_night:
            if arrival is None or departure is None:
                raise RoomBookingError(_("Please give the arrival and the departure."))
            return plan.stay(rules, arrival, departure)
        if day is None or start is None or end is None:
            raise RoomBookingError(_("Please give the day, the start and the end."))
        return plan.hours(rules, day, start, end)
    except plan.Refused as error:
        raise _refused(room, error) from None


@dataclass(frozen=True)
class Quote:
    span: plan.Span
    price: Decimal  # nights or hours times the price, plus the fee


def room_quote(
    *, room: Room, span: plan.Span, now: datetime.datetime | None = None, notice: bool = True
) -> Quote:
    """Whether `span` can be booked now (RoomBookingError otherwise) and
    what it costs: what the confirmation page shows. `notice` off for
    staff booking for a caller (they arrange the key at short notice)."""
    now = now or timezone.now()
    rules = selectors.rules_for(room, notice=notice)
    busy = selectors.busy_between(room, span.starts, span.busy_until)
    try:
        plan.bookable(rules, span, busy, now)
    except plan.Refused as error:
        raise _refused(room, error) from None
    return Quote(span, room.price_for(span.units))


def _check_member(room: Room, member: Member, persons: int, *, by_staff: bool, now) -> None:
    if not room.active:
        raise RoomBookingError(_("This room cannot be booked at the moment."))
    if persons < 1 or persons > room.capacity:
        raise RoomBookingError(
            ngettext(
                "This room is for at most %(count)s person.",
                "This room is for at most %(count)s persons.",
                room.capacity,
            )
            % {"count": room.capacity}
        )
    if room.residents_only and room.estate_id not in selectors.member_estate_ids(member):
        raise RoomBookingError(_("This room is kept for the residents of its estate."))
    if not by_staff:
        upcoming = RoomBooking.objects.upcoming(now=now).filter(member=member).count()
        if upcoming >= settings.ROOMS_MAX_UPCOMING:
            raise RoomBookingError(
                _(
                    "You already have %(count)s bookings coming up. Please cancel one you "
                    "no longer need, or call us."
                )
                % {"count": upcoming}
            )


def _notify(booking: RoomBooking, *, template: str) -> None:
    user = getattr(booking.member, "user", None)
    address = user.email if user is not None and user.is_active else booking.member.email
    if not address:
        return  # booked for a caller without e-mail: staff tell them
    language = (user.language if user is not None else booking.member.preferred_language) or (
        settings.LANGUAGE_CODE
    )
    email_queue(
        to=address,
        template=template,
        context={
            "booking": booking,
            "room": booking.room,
            "member": booking.member,
            "starts": timezone.localtime(booking.starts_at),
            "ends": timezone.localtime(booking.ends_at),
            "link": absolute_url("rooms:booking", args=[booking.public_id]),
        },
        language=language,
    )


def room_book(
    *,
    room: Room,
    member: Member,
    span: plan.Span,
    booked_by: User,
    persons: int = 1,
    purpose: str = "",
    note: str = "",
    request_key: str = "",
    now: datetime.datetime | None = None,
) -> RoomBooking:
    """Book `span` of `room` for `member`. Held at once, confirmed at once
    unless the room needs staff confirmation. RoomBookingError for what may
    not be booked, RoomTaken when it was taken meanwhile."""
    now = now or timezone.now()
    if request_key:
        again = RoomBooking.objects.filter(member=member, request_key=request_key).first()
        if again is not None:
            return again
    by_staff = booked_by.is_staff
    _check_member(room, member, persons, by_staff=by_staff, now=now)
    # Staff who look after the room decide as they book for a caller;
    # anyone else's booking waits for them like a member's.
    decides = room.needs_confirmation and selectors.looks_after(booked_by, room)
    status = (
        RoomBooking.Status.REQUESTED
        if room.needs_confirmation and not decides
        else RoomBooking.Status.CONFIRMED
    )
    try:
        with transaction.atomic():
            # The room's lock: parallel bookings of it take turns and see
            # each other; the database's constraint is the backstop.
            Room.objects.select_for_update().filter(pk=room.pk).values_list("pk").first()
            if request_key:
                again = RoomBooking.objects.filter(member=member, request_key=request_key).first()
                if again is not None:
                    return again
            quote = room_quote(room=room, span=span, now=now, notice=not by_staff)
            booking = RoomBooking.objects.create(
                room=room,
                member=member,
                booked_by=booked_by,
                starts_at=span.starts,
                ends_at=span.ends,
                busy_until=span.busy_until,
                units=span.units,
                price=quote.price,
                persons=persons,
                purpose=purpose.strip()[:PURPOSE_MAX],
                note=note.strip()[:NOTE_MAX],
                status=status,
                decided_by=booked_by if decides else None,
                decided_at=now if decides else None,
                request_key=request_key,
            )
            _notify(
                booking,
                template="rooms/email/requested"
                if status == RoomBooking.Status.REQUESTED
                else "rooms/email/confirmed",
            )
    except IntegrityError:
        # Taken between the check and the insert, or this very form sent
        # twice at once.
        if request_key:
            again = RoomBooking.objects.filter(member=member, request_key=request_key).first()
            if again is not None:
                return again
        raise RoomTaken(
            _("This time is already booked. Please choose another one in the calendar.")
        ) from None
    return booking


def _locked(booking: RoomBooking) -> RoomBooking:
    return (
        RoomBooking.objects.select_for_update(of=("self",))
        .select_related("room", "member__user")
        .get(pk=booking.pk)
    )


def room_booking_confirm(
    *, booking: RoomBooking, actor: User, now: datetime.datetime | None = None
) -> RoomBooking:
    """Staff confirm a booking awaiting confirmation; the member is told."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(booking)
        if current.status != RoomBooking.Status.REQUESTED:
            raise RoomBookingError(_("This booking is not awaiting confirmation."))
        current.status = RoomBooking.Status.CONFIRMED
        current.decided_by = actor
        current.decided_at = now
        current.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
        _notify(current, template="rooms/email/confirmed")
    return current


def room_booking_decline(
    *, booking: RoomBooking, actor: User, reason: str, now: datetime.datetime | None = None
) -> RoomBooking:
    """Staff decline a booking awaiting confirmation, with a reason the
    member reads; the time is free again."""
    now = now or timezone.now()
    reason = reason.strip()[:NOTE_MAX]
    if not reason:
        raise RoomBookingError(_("Please tell the member why."))
    with transaction.atomic():
        current = _locked(booking)
        if current.status != RoomBooking.Status.REQUESTED:
            raise RoomBookingError(_("This booking is not awaiting confirmation."))
        current.status = RoomBooking.Status.DECLINED
        current.decided_by = actor
        current.decided_at = now
        current.decline_reason = reason
        current.save(
            update_fields=["status", "decided_by", "decided_at", "decline_reason", "updated_at"]
        )
        _notify(current, template="rooms/email/declined")
    return current


def room_booking_cancel(
    *, booking: RoomBooking, actor: User, now: datetime.datetime | None = None
) -> RoomBooking:
    """Cancel: the time is free again at once and the member is told. A
    member until the room's cutoff, staff at any time before it ends."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(booking)
        if not current.is_active():
            raise RoomBookingError(_("This booking is no longer active."))
        if actor.is_staff:
            if current.ends_at <= now:
                raise RoomBookingError(_("This booking is over."))
        elif not current.member_may_cancel(now):
            raise RoomBookingError(
                _("This booking can no longer be cancelled online. Please call us.")
            )
        current.status = RoomBooking.Status.CANCELLED
        current.cancelled_at = now
        current.cancelled_by = actor
        current.save(update_fields=["status", "cancelled_at", "cancelled_by", "updated_at"])
        _notify(current, template="rooms/email/cancelled")
    return current
