"""Reading what the slot generation needs (appointments.slots, pure) out of
the database: each advisor's weekly hours, date overrides, absences
(routing's, the same that routing respects) and booked time, the
cooperative's holidays and closing days — one query per kind for any
number of advisors and days, whatever the range."""

import datetime
from collections import defaultdict
from collections.abc import Sequence

from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone

from appointments.models import (
    Advisor,
    Appointment,
    AppointmentType,
    AvailabilityOverride,
    WeeklyHours,
)
from appointments.slots import Availability, Calendar, Rules, Slot, any_advisor, free_slots
from cooperative.cache import cooperative_current
from cooperative.models import ClosingDay, Cooperative
from routing.models import Absence
from tickets.models import Ticket


def rules_for(appointment_type: AppointmentType, *, notice: bool = True) -> Rules:
    """The type's rules; without the minimum notice for staff (a caller
    booked in at short notice)."""
    return Rules(
        duration=appointment_type.duration,
        buffer_before=appointment_type.buffer_before,
        buffer_after=appointment_type.buffer_after,
        min_notice=datetime.timedelta(hours=appointment_type.min_notice_hours if notice else 0),
        horizon_days=appointment_type.horizon_days,
        max_per_day=appointment_type.max_per_advisor_per_day,
    )


def calendar_current(cooperative: Cooperative | None = None) -> Calendar:
    """The cooperative's public holidays (its federal state), closing days
    and half days (24 and 31 December, when it closes early then).
    `cooperative`: the row, when the caller has it already (the overview's
    figures take the page's copy, up to a minute old; a booking reads the
    row as it is now)."""
    cooperative = cooperative or cooperative_current()
    closed = frozenset(ClosingDay.objects.values_list("date", flat=True))
    half = cooperative.half_days_close_at
    return Calendar(
        state=cooperative.federal_state or "BE",
        tz=timezone.get_default_timezone_name(),
        closed_days=closed,
        # The same half days as the SLA's working calendar (routing.sla).
        short_days={(12, 24): half, (12, 31): half} if half else {},
    )


def advisors_for(appointment_type: AppointmentType) -> list[Advisor]:
    """Who offers the topic, in the order "any advisor" tries them: the one
    booked longest ago first (fair turns), never-booked ones before all."""
    advisors = Advisor.objects.bookable().filter(types=appointment_type).select_related("user")
    return sorted(
        advisors,
        key=lambda a: (a.last_booked_at is not None, a.last_booked_at or timezone.now(), a.pk),
    )


def _bounds(first_day: datetime.date, last_day: datetime.date):
    """The range of absolute time the local days cover (a day either side:
    a buffer may reach across midnight)."""
    zone = timezone.get_default_timezone()
    start = datetime.datetime.combine(first_day - datetime.timedelta(days=1), datetime.time(), zone)
    end = datetime.datetime.combine(last_day + datetime.timedelta(days=2), datetime.time(), zone)
    return start, end


def availability_for(
    advisors: Sequence[Advisor],
    *,
    first_day: datetime.date,
    last_day: datetime.date,
    exclude: Appointment | None = None,
    ignore_busy: bool = False,
    busy_kind: str | None = None,
) -> list[Availability]:
    """Each advisor's availability between the two local dates. `exclude`:
    a booking being moved does not stand in its own way. `ignore_busy`:
    the times on offer at all (to tell "not offered" from "just taken").
    `busy_kind`: only this kind of Appointment is busy (the overview's
    offered hours: blocked times only, bookings being what it measures)."""
    ids = [advisor.pk for advisor in advisors]
    weekly: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for advisor_id, weekday, starts, ends in WeeklyHours.objects.filter(
        advisor_id__in=ids
    ).values_list("advisor_id", "weekday", "starts", "ends"):
        weekly[advisor_id][weekday].append((starts, ends))
    overrides: dict[int, dict[datetime.date, list]] = defaultdict(lambda: defaultdict(list))
    for advisor_id, date, starts, ends in AvailabilityOverride.objects.filter(
        advisor_id__in=ids, date__range=(first_day, last_day)
    ).values_list("advisor_id", "date", "starts", "ends"):
        ranges = overrides[advisor_id][date]
        if starts is not None:
            ranges.append((starts, ends))
    user_of = {advisor.pk: advisor.user_id for advisor in advisors}
    absent: dict[int, set[datetime.date]] = defaultdict(set)
    for user_id, starts, ends in Absence.objects.filter(
        user_id__in=user_of.values(), starts__lte=last_day, ends__gte=first_day
    ).values_list("user_id", "starts", "ends"):
        day = max(starts, first_day)
        while day <= min(ends, last_day):
            absent[user_id].add(day)
            day += datetime.timedelta(days=1)
    busy: dict[int, list] = defaultdict(list)
    per_day: dict[int, dict[datetime.date, int]] = defaultdict(lambda: defaultdict(int))
    if not ignore_busy:
        start, end = _bounds(first_day, last_day)
        zone = timezone.get_default_timezone()
        taken = (
            Appointment.objects.active()
            .filter(advisor_id__in=ids, busy_until__gt=start, busy_from__lt=end)
            .order_by()  # the model's ordering: a sort nothing here needs
        )
        if exclude is not None:
            taken = taken.exclude(pk=exclude.pk)
        if busy_kind is not None:
            # kind = …, not IN (…): SQLite uses the blocks' partial index
            # (appointment_block_busy) only for the very condition it names.
            taken = taken.filter(kind=busy_kind)
        for advisor_id, kind, busy_from, busy_until, starts_at in taken.values_list(
            "advisor_id", "kind", "busy_from", "busy_until", "starts_at"
        ):
            busy[advisor_id].append((busy_from, busy_until))
            if kind == Appointment.Kind.APPOINTMENT:
                # The zone once, not looked up again for every row.
                per_day[advisor_id][starts_at.astimezone(zone).date()] += 1
    return [
        Availability(
            advisor_id=advisor.pk,
            weekly={day: tuple(r) for day, r in weekly[advisor.pk].items()},
            overrides={day: tuple(r) for day, r in overrides[advisor.pk].items()},
            absent_days=frozenset(absent[advisor.user_id]),
            busy=tuple(busy[advisor.pk]),
            booked_per_day=dict(per_day[advisor.pk]),
        )
        for advisor in advisors
    ]


def slots_free(
    *,
    appointment_type: AppointmentType,
    advisors: Sequence[Advisor],
    first_day: datetime.date,
    last_day: datetime.date,
    now: datetime.datetime | None = None,
    exclude: Appointment | None = None,
    ignore_busy: bool = False,
    notice: bool = True,
) -> list[Slot]:
    """The free slots of the topic with these advisors between two local
    dates (the type's notice, horizon and daily maximum applied; `notice`
    off for staff)."""
    return free_slots(
        advisors=availability_for(
            advisors,
            first_day=first_day,
            last_day=last_day,
            exclude=exclude,
            ignore_busy=ignore_busy,
        ),
        rules=rules_for(appointment_type, notice=notice),
        calendar=calendar_current(),
        now=now or timezone.now(),
        first_day=first_day,
        last_day=last_day,
    )


def appointments_of_member(member, *, now: datetime.datetime | None = None):
    """A member's bookings still to come, soonest first, with what the
    list shows."""
    return (
        Appointment.objects.upcoming(now=now)
        .filter(member=member)
        .select_related("appointment_type", "advisor__user", "ticket")
    )


def get_appointment_for_member(member, public_id) -> Appointment | None:
    """One of the member's own bookings (None for anyone else's: 404)."""
    return (
        Appointment.objects.filter(member=member, public_id=public_id, kind="appointment")
        .select_related("appointment_type", "advisor__user", "ticket", "member")
        .first()
    )


def get_appointment_by_request_key(member, request_key: str) -> Appointment | None:
    """The member's booking made with this request key, if any: a request
    sent again (a retry after a lost answer) gets the booking it made, even
    when the topic can no longer be booked since."""
    if not request_key:
        return None
    return (
        Appointment.objects.filter(member=member, request_key=request_key)
        .select_related("appointment_type", "advisor__user", "ticket")
        .first()
    )


def get_appointment_by_link(token_hash: str) -> Appointment | None:
    """The booking a link in an e-mail names, while the link lives: until
    the appointment starts and only while it is booked."""
    if not token_hash:
        return None
    return (
        Appointment.objects.filter(
            Q(link_token_hash=token_hash),
            status=Appointment.Status.BOOKED,
            starts_at__gt=timezone.now(),
        )
        .select_related("appointment_type", "advisor__user", "member")
        .first()
    )


def appointment_types_bookable():
    """The topics a member can book: active, with an advisor who takes
    bookings (one query)."""
    has_advisor = Advisor.objects.bookable().filter(types=OuterRef("pk"))
    return AppointmentType.objects.filter(Exists(has_advisor), active=True)


def get_appointment_type_for_member(slug: str) -> AppointmentType | None:
    return appointment_types_bookable().filter(slug=slug).first()


def advisor_for_choice(appointment_type: AppointmentType, value: str) -> Advisor | None:
    """The advisor a member chose by id, if they offer the topic; None
    for "any advisor" or anything else."""
    if not value.isdigit():
        return None
    return (
        Advisor.objects.bookable()
        .filter(pk=int(value), types=appointment_type)
        .select_related("user")
        .first()
    )


# Staff ----------------------------------------------------------------------------------
#
# Who sees whose appointments: an advisor their own; team leads and admins
# every advisor's (they plan the office's days). Another handler sees none
# (404), though any staff member may book for a caller.


def sees_every_advisor(user) -> bool:
    """Team leads and admins see and plan every advisor's appointments
    (asked once per request)."""
    return user.is_staff and user.is_lead_or_admin


def advisor_own(user) -> Advisor | None:
    """The staff member's own advisor row, if they offer consultations."""
    if not user.is_staff:
        return None
    return Advisor.objects.filter(user=user).select_related("user").first()


def advisors_all():
    """Every advisor (also those not taking bookings now: their booked
    appointments stand), by name."""
    return Advisor.objects.select_related("user")


def get_advisor_for_staff(user, advisor_id) -> Advisor:
    """An advisor whose days this person may see: their own, or any for a
    team lead or admin; 404 otherwise."""
    advisors = Advisor.objects.select_related("user").filter(pk=advisor_id)
    if not sees_every_advisor(user):
        advisors = advisors.filter(user=user, user__is_staff=True)
    advisor = advisors.first()
    if advisor is None:
        raise Http404
    return advisor


def _with_ticket_visible(appointments, user):
    """Whether the viewer may open the linked request's work page, in the
    same query (a link only where it leads somewhere)."""
    visible = Ticket.objects.visible_to_staff(user).filter(pk=OuterRef("ticket_id"))
    return appointments.annotate(ticket_visible=Exists(visible))


def _for_staff(user, public_id, *, booked_by_too: bool = False) -> Appointment:
    if not user.is_staff:
        raise Http404
    appointments = Appointment.objects.filter(public_id=public_id)
    if not sees_every_advisor(user):
        mine = Q(advisor__user=user)
        if booked_by_too:
            mine |= Q(booked_by=user, kind=Appointment.Kind.APPOINTMENT)
        appointments = appointments.filter(mine)
    appointment = (
        _with_ticket_visible(appointments, user)
        .select_related(
            "appointment_type",
            "advisor__user",
            "member__user",
            "ticket",
            "booked_by",
            "cancelled_by",
        )
        .first()
    )
    if appointment is None:
        raise Http404
    return appointment


def get_appointment_for_staff(user, public_id) -> Appointment:
    """An appointment or blocked time on the staff pages: the advisor's
    own, any for a team lead or admin; 404 for everyone else."""
    return _for_staff(user, public_id)


def get_appointment_booked_for_staff(user, public_id) -> Appointment:
    """The page after booking for a caller: also for whoever booked it
    (a colleague at the phone who is not the advisor)."""
    return _for_staff(user, public_id, booked_by_too=True)


def appointments_of_week(advisor: Advisor, monday: datetime.date, *, user) -> list[Appointment]:
    """The advisor's bookings (cancelled ones too, marked so) and blocked
    times (those still standing) in the local week from `monday`, by start,
    in one query."""
    zone = timezone.get_default_timezone()
    start = datetime.datetime.combine(monday, datetime.time(), zone)
    end = datetime.datetime.combine(monday + datetime.timedelta(days=7), datetime.time(), zone)
    appointments = Appointment.objects.filter(
        advisor=advisor, starts_at__gte=start, starts_at__lt=end
    ).exclude(kind=Appointment.Kind.BLOCK, status=Appointment.Status.CANCELLED)
    return list(
        _with_ticket_visible(appointments, user)
        .select_related("appointment_type", "member", "ticket")
        .order_by("starts_at", "pk")
    )


def get_advisor_by_feed(token_hash: str) -> Advisor | None:
    """The advisor a calendar feed's secret names (None: unknown, renewed
    meanwhile, revoked, or the person has left)."""
    if not token_hash:
        return None
    return (
        Advisor.objects.filter(feed_token_hash=token_hash, user__is_active=True)
        .select_related("user")
        .first()
    )


FEED_PAST = datetime.timedelta(weeks=4)
FEED_AHEAD = datetime.timedelta(weeks=8)


def appointments_for_feed(advisor: Advisor, *, now: datetime.datetime) -> list[Appointment]:
    """What the advisor's calendar feed holds: bookings and blocked times
    not cancelled, from four weeks back to eight weeks ahead."""
    return list(
        Appointment.objects.active()
        .filter(advisor=advisor, starts_at__gte=now - FEED_PAST, starts_at__lt=now + FEED_AHEAD)
        .select_related("appointment_type", "member")
        .order_by("starts_at", "pk")
    )


def days_and_times(
    appointment_type: AppointmentType,
    advisors: Sequence[Advisor],
    *,
    day_value: str,
    exclude: Appointment | None = None,
    notice: bool = True,
) -> tuple[dict[datetime.date, list[tuple[datetime.date, int]]], datetime.date | None, list]:
    """What the choose-a-time pages show (the member's, and staff booking
    for a caller): the days with free times over the topic's horizon,
    grouped by week (Monday → [(day, free times)]), the chosen day if it
    has free times (`day_value`, an ISO date from the address), and that
    day's free times, each once ("any advisor": whoever is free then)."""
    today = timezone.localdate()
    slots = slots_free(
        appointment_type=appointment_type,
        advisors=advisors,
        first_day=today,
        last_day=today + datetime.timedelta(days=appointment_type.horizon_days),
        exclude=exclude,
        notice=notice,
    )
    # Slots are in the cooperative's zone already: their date is local.
    days: dict[datetime.date, int] = {}
    for slot in slots:
        day = slot.starts.date()
        days[day] = days.get(day, 0) + 1
    try:
        chosen = datetime.date.fromisoformat(day_value) if day_value else None
    except ValueError:
        chosen = None
    if chosen not in days:
        chosen = None
    times = []
    if chosen is not None:
        of_day = [slot for slot in slots if slot.starts.date() == chosen]
        times = [timezone.localtime(starts) for starts, _ids in any_advisor(of_day)]
    weeks: dict[datetime.date, list[tuple[datetime.date, int]]] = {}
    for day, count in days.items():
        weeks.setdefault(day - datetime.timedelta(days=day.weekday()), []).append((day, count))
    return weeks, chosen, times
