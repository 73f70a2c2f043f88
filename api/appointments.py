"""The member's appointments as JSON (issue 13): the same selectors and
services as the member pages (appointments.views), so a booking through
the API obeys every rule a booking on the page does.

A time taken between reading the free times and booking is 409 with the
nearest free times; a time that may not be booked (passed, inside the
notice, beyond the horizon, not offered, too many upcoming) is 422 with the
reason; the same request_key sent again is the same booking (200, the
first answer was 201)."""

import datetime
import uuid
from typing import Annotated

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from api.schemas import (
    ANY,
    AppointmentOut,
    BookIn,
    Error,
    Invalid,
    SlotsOut,
    Taken,
    TopicOut,
    advisor_out,
    appointment_out,
    slot_out,
    topic_out,
)
from appointments import selectors, services
from appointments.models import Appointment, AppointmentType

# The longest range of days one request of free times reads: a month is
# what a calendar shows, and the cost grows with the days.
DAYS_MAX = 31

router = Router(tags=["appointments"])


def _topic(slug: str) -> AppointmentType:
    topic = selectors.get_appointment_type_for_member(slug)
    if topic is None:
        raise Http404
    return topic


def _own(request, public_id: uuid.UUID) -> Appointment:
    appointment = selectors.get_appointment_for_member(request.auth.member, public_id)
    if appointment is None:
        raise Http404
    return appointment


def _not_offered() -> Status:
    return Status(422, {"detail": _("This advisor does not offer this kind of appointment.")})


# The topics ("/topics…") come before "/{public_id}": Django tries the
# addresses in order, and "topics" would do as an id's text.


@router.get("/topics", response={200: list[TopicOut]}, url_name="topics")
def topics(request):
    """The topics a member can book now."""
    return [topic_out(topic) for topic in selectors.appointment_types_bookable()]


@router.get("/topics/{slug}/slots", response={200: SlotsOut, 422: Invalid}, url_name="slots")
def slots(
    request,
    slug: str,
    advisor: Annotated[str, Query(description='An advisor\'s id, or "any".')] = ANY,
    first_day: Annotated[
        datetime.date | None,
        Query(alias="from", description="The first day (YYYY-MM-DD); today when left out."),
    ] = None,
    days: Annotated[
        int, Query(ge=1, le=DAYS_MAX, description=f"How many days, 1 to {DAYS_MAX}.")
    ] = 7,
):
    """The free times of a topic, with one advisor or any."""
    topic = _topic(slug)
    offering = selectors.advisors_for(topic)
    if advisor == ANY:
        chosen = offering
    else:
        chosen = [one for one in offering if str(one.pk) == advisor]
        if not chosen:
            return _not_offered()
    today = timezone.localdate()
    first = max(first_day or today, today)
    last = first + datetime.timedelta(days=days - 1)
    free = selectors.slots_free(
        appointment_type=topic, advisors=chosen, first_day=first, last_day=last
    )
    by_id = {one.pk: one for one in offering}
    return {
        "topic": topic.slug,
        "first_day": first,
        "last_day": last,
        "advisors": [advisor_out(one) for one in offering],
        "slots": [slot_out(slot, by_id) for slot in free],
    }


@router.get("", response={200: list[AppointmentOut]}, url_name="appointments")
def appointment_list(request):
    """The member's appointments still to come, soonest first."""
    return [appointment_out(a) for a in selectors.appointments_of_member(request.auth.member)]


@router.post(
    "",
    response={200: AppointmentOut, 201: AppointmentOut, 409: Taken, 422: Invalid},
    url_name="appointment_book",
)
def appointment_book(request, data: BookIn):
    """Book a free time. 201 with the booking; 200 with the same booking
    when this request_key booked already; 409 with the nearest free times
    when the time was just taken; 422 with the reason when it may not be
    booked."""
    member = request.auth.member
    again = selectors.get_appointment_by_request_key(member, data.request_key)
    if again is not None:
        return Status(200, appointment_out(again))
    topic = selectors.get_appointment_type_for_member(data.topic)
    if topic is None:
        return Status(
            422, {"detail": _("This kind of appointment cannot be booked at the moment.")}
        )
    advisor = None
    if data.advisor != ANY:
        advisor = selectors.advisor_for_choice(topic, str(data.advisor))
        if advisor is None:
            return _not_offered()
    try:
        booked = services.appointment_book(
            member=member,
            appointment_type=topic,
            starts_at=data.starts_at,
            booked_by=request.auth,
            advisor=advisor,
            note=data.note,
            request_key=data.request_key,
        )
    except services.SlotTaken as error:
        by_id = {one.pk: one for one in selectors.advisors_for(topic)}
        if advisor is not None:
            by_id[advisor.pk] = advisor
        nearest = [slot_out(slot, by_id) for slot in error.nearest if slot.advisor_id in by_id]
        return Status(409, {"detail": str(error), "nearest": nearest})
    except services.BookingError as error:
        return Status(422, {"detail": str(error)})
    # The same key sent twice at once: the second found the first's booking
    # inside the service, which hands out no new link for it.
    created = bool(booked.link_token)
    return Status(201 if created else 200, appointment_out(booked.appointment))


@router.get("/{public_id}", response={200: AppointmentOut}, url_name="appointment")
def appointment_detail(request, public_id: uuid.UUID):
    """One of the member's own appointments (404 for anyone else's)."""
    return appointment_out(_own(request, public_id))


@router.post(
    "/{public_id}/cancel",
    response={200: AppointmentOut, 409: Error},
    url_name="appointment_cancel",
)
def appointment_cancel(request, public_id: uuid.UUID):
    """Cancel: the time is free again at once. 409 when it is no longer
    booked or past the topic's cutoff (then only a call helps)."""
    appointment = _own(request, public_id)
    try:
        cancelled = services.appointment_cancel(appointment=appointment, actor=request.auth)
    except services.BookingError as error:
        return Status(409, {"detail": str(error)})
    cancelled.ticket = appointment.ticket  # already read: not read again
    return appointment_out(cancelled)
