"""Reading rooms and their bookings: what a member may book and sees of
their own bookings, the busy times the calendar and the booking service
plan with (rooms.plan), and what staff of the room's team see."""

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, Q, When
from django.http import Http404
from django.utils import timezone

from members.models import Contract
from rooms import plan
from rooms.models import Room, RoomBooking, RoomKind
from routing.models import Team


def rules_for(room: Room, *, notice: bool = True) -> plan.Rules:
    return plan.Rules(
        by_night=room.by_night,
        check_in=room.check_in,
        check_out=room.check_out,
        opens=room.opens,
        closes=room.closes,
        cleaning=datetime.timedelta(minutes=room.cleaning_minutes),
        min_units=room.min_units,
        max_units=room.max_units,
        notice=datetime.timedelta(hours=room.min_notice_hours if notice else 0),
        horizon=datetime.timedelta(days=room.horizon_days),
        zone=ZoneInfo(settings.TIME_ZONE),
    )


def member_estate_ids(member, *, on: datetime.date | None = None) -> set[int]:
    """The estates the member lives in now (current contracts)."""
    return set(
        Contract.objects.current(on)
        .filter(members=member)
        .values_list("unit__building__estate_id", flat=True)
    )


def rooms_for_member(member, *, kind: str = ""):
    """The rooms this member can book: active, and for rooms kept for an
    estate's residents only if the member lives there."""
    rooms = Room.objects.bookable().select_related("estate")
    if kind in RoomKind.values:
        rooms = rooms.filter(kind=kind)
    estates = member_estate_ids(member)
    return rooms.filter(Q(residents_only=False) | Q(estate_id__in=estates))


def get_room_for_member(member, slug: str) -> Room | None:
    return rooms_for_member(member).filter(slug=slug).first()


def busy_between(
    room: Room, start: datetime.datetime, end: datetime.datetime, *, exclude: int | None = None
) -> list[plan.Interval]:
    """The busy times (cleaning included) of the room's active bookings
    that reach into [start, end)."""
    bookings = RoomBooking.objects.active().filter(
        room=room, busy_until__gt=start, starts_at__lt=end
    )
    if exclude is not None:
        bookings = bookings.exclude(pk=exclude)
    return list(bookings.values_list("starts_at", "busy_until"))


def _month_after(first: datetime.date) -> datetime.date:
    return (first + datetime.timedelta(days=32)).replace(day=1)


def months_of(
    room: Room, first: datetime.date, count: int, *, now: datetime.datetime, notice: bool = True
) -> list[tuple[datetime.date, list]]:
    """The availability calendar of `count` months from the month of
    `first`: (first day, weeks of plan.Day) each, from one query."""
    rules = rules_for(room, notice=notice)
    starts = [first.replace(day=1)]
    while len(starts) < count:
        starts.append(_month_after(starts[-1]))
    # A stay beginning on the last day reaches into the month after.
    reach = datetime.timedelta(days=room.min_units + 1 if room.by_night else 1)
    busy = busy_between(
        room,
        plan.at(starts[0], datetime.time(0), rules.zone),
        plan.at(_month_after(starts[-1]), datetime.time(0), rules.zone) + reach,
    )
    return [(start, plan.month_plan(rules, start.year, start.month, busy, now)) for start in starts]


def month_of(room: Room, year: int, month: int, *, now: datetime.datetime, notice: bool = True):
    """The availability calendar of one month (weeks of plan.Day)."""
    return months_of(room, datetime.date(year, month, 1), 1, now=now, notice=notice)[0][1]


def month_shown(value: str, form, *, now: datetime.datetime) -> datetime.date:
    """The month a calendar shows: asked for ("YYYY-MM"), else the month of
    the date chosen (or prefilled) in `form`, else this one; never before
    this month."""
    this_month = timezone.localtime(now).date().replace(day=1)
    try:
        month = datetime.date.fromisoformat(f"{value}-01")
    except ValueError:
        month = None
    if month is None and form is not None and form.is_bound:
        # The fields that are valid even when the stay is not (taken, too
        # short, departure first): the calendar shows the month asked for.
        form.is_valid()
        cleaned = getattr(form, "cleaned_data", {})
        chosen = cleaned.get("anreise") or cleaned.get("tag")
        month = chosen.replace(day=1) if chosen else None
    if month is None and form is not None and not form.is_bound:
        # A day picked in the calendar (prefilled): stay in its month.
        for name in ("anreise", "tag"):
            try:
                month = datetime.date.fromisoformat(str(form.initial.get(name, ""))).replace(day=1)
            except ValueError:
                continue
            break
    return max(month or this_month, this_month)


def calendar_context(
    room: Room, month: datetime.date, *, now: datetime.datetime, notice: bool = True
) -> dict:
    """What rooms/_calendar.html shows: two months from `month` (at the end
    of a month the first alone would offer hardly a day), and the months
    before and after that can be booked."""
    today = timezone.localdate(now)
    last = today + datetime.timedelta(days=room.horizon_days)
    # Not past the horizon: a hand-made ?monat=2099-01 shows the last month.
    month = min(month, last.replace(day=1))
    following = _month_after(month)
    previous = (month - datetime.timedelta(days=1)).replace(day=1)
    return {
        "months": months_of(room, month, 2 if following <= last else 1, now=now, notice=notice),
        "previous_month": previous if previous >= today.replace(day=1) else None,
        "next_month": following if following <= last else None,
        "today": today,
    }


def bookings_of_member(member, *, now: datetime.datetime | None = None):
    """A member's room bookings still to come (held or awaiting staff)."""
    return RoomBooking.objects.upcoming(now=now).filter(member=member).select_related("room")


def booking_by_request_key(member, request_key: str) -> RoomBooking | None:
    """The booking a confirmation form already made (its hidden key)."""
    if not request_key:
        return None
    return RoomBooking.objects.filter(member=member, request_key=request_key[:64]).first()


def get_booking_for_member(member, public_id) -> RoomBooking | None:
    """One of the member's own bookings (None for anyone else's: 404)."""
    return (
        RoomBooking.objects.filter(member=member, public_id=public_id)
        .select_related("room", "member")
        .first()
    )


# Staff ---------------------------------------------------------------------------------
#
# A room's bookings are seen and confirmed by the team that looks after it
# (members and lead); team leads and admins see every room's.


def sees_every_room(user) -> bool:
    return user.is_staff and user.is_lead_or_admin


def looks_after(user, room: Room) -> bool:
    """Whether this person confirms the room's bookings: its team's
    members and lead, team leads and admins."""
    if not user.is_staff:
        return False
    return sees_every_room(user) or Team.objects.with_member(user).filter(pk=room.team_id).exists()


def get_booking_booked_for_staff(user, public_id) -> RoomBooking:
    """A booking this person made for a caller, or one of a room they
    look after; 404 otherwise."""
    if not user.is_staff:
        raise Http404
    booking = (
        RoomBooking.objects.filter(
            Q(booked_by=user) | Q(room__in=rooms_for_staff(user)), public_id=public_id
        )
        .select_related("room", "member__user")
        .first()
    )
    if booking is None:
        raise Http404
    return booking


def rooms_for_staff(user):
    if not user.is_staff:
        return Room.objects.none()
    rooms = Room.objects.select_related("team")
    if not sees_every_room(user):
        rooms = rooms.filter(team__in=Team.objects.with_member(user))
    return rooms


def bookings_for_staff(user, *, room: Room | None = None, now: datetime.datetime | None = None):
    """Bookings this person looks after that are still to come or await a
    decision: awaiting confirmation first, then by date."""
    now = now or timezone.now()
    bookings = RoomBooking.objects.filter(room__in=rooms_for_staff(user), ends_at__gt=now).exclude(
        status__in=[RoomBooking.Status.CANCELLED, RoomBooking.Status.DECLINED]
    )
    if room is not None:
        bookings = bookings.filter(room=room)
    waiting_first = Case(When(status=RoomBooking.Status.REQUESTED, then=0), default=1)
    return bookings.select_related("room", "member").order_by(waiting_first, "starts_at", "pk")


def get_booking_for_staff(user, public_id) -> RoomBooking:
    """A booking of a room this person looks after; 404 otherwise."""
    if not user.is_staff:
        raise Http404
    booking = (
        RoomBooking.objects.filter(public_id=public_id, room__in=rooms_for_staff(user))
        .select_related("room", "member__user", "booked_by", "decided_by", "cancelled_by")
        .first()
    )
    if booking is None:
        raise Http404
    return booking
