"""Booking an advisor (issue 13): the services and the database's own
guarantee. Never double-booked — by 20 threads at once, by partial
overlaps and buffers, on PostgreSQL (exclusion constraint) and SQLite
(triggers) alike; a double submit gives the same booking; "any advisor"
takes the next one; cancel, reschedule and the reminder each change what
they should, tell the member with an invite of the same UID and a higher
SEQUENCE, and never send anything twice."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation
from icalendar import Calendar

from appointments import services
from appointments.models import Appointment, AppointmentType, token_hash
from appointments.selectors import get_appointment_by_link, slots_free
from appointments.services import BookingError, SlotTaken, appointment_book
from demo.appointments import appointments_demo_ensure
from mail.models import OutboundEmail
from tests.factories import ticket_create
from tests.helpers import de, parallel

BERLIN = ZoneInfo("Europe/Berlin")
# A Monday morning well ahead (Paul's demo holiday lies before it).
NOW = datetime.datetime(2027, 3, 1, 7, 0, tzinfo=BERLIN)
TUESDAY_0830 = datetime.datetime(2027, 3, 2, 8, 30, tzinfo=BERLIN)  # Tom's Tuesday morning
MONDAY_0830 = datetime.datetime(
    2027, 3, 15, 8, 30, tzinfo=BERLIN
)  # Tom and Paul both (8 March is a holiday in Berlin)


@pytest.fixture
def advisors(cast):
    return appointments_demo_ensure(hanna=cast.hanna, tom=cast.tom, today=datetime.date(2026, 1, 5))


@pytest.fixture
def letting(advisors):
    return AppointmentType.objects.get(slug="vermietung")


def book(cast, letting, starts_at=TUESDAY_0830, advisor=None, **extra):
    extra.setdefault("now", NOW)
    return appointment_book(
        member=extra.pop("member", cast.alice.member),
        appointment_type=letting,
        starts_at=starts_at,
        booked_by=extra.pop("booked_by", cast.alice),
        advisor=advisor,
        **extra,
    )


def invite_of(email: OutboundEmail):
    calendar = Calendar.from_ical(email.calendar)
    [event] = calendar.walk("VEVENT")
    return calendar, event


# Booking -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_books_a_free_slot_and_sends_an_invite(cast, advisors, letting):
    booked = book(cast, letting, advisor=advisors["tom"], note="Tausch in eine kleinere Wohnung")
    appointment = booked.appointment
    assert appointment.advisor == advisors["tom"] and appointment.member == cast.alice.member
    assert appointment.starts_at == TUESDAY_0830
    assert appointment.ends_at == TUESDAY_0830 + datetime.timedelta(minutes=30)
    assert appointment.busy_until == appointment.ends_at + datetime.timedelta(minutes=10)
    assert appointment.reminder_due_at == TUESDAY_0830 - datetime.timedelta(hours=24)
    assert len(booked.link_token) >= 43  # 256 bits, URL-safe
    assert appointment.link_token_hash == token_hash(booked.link_token)
    assert get_appointment_by_link(token_hash(booked.link_token)) == appointment
    [email] = OutboundEmail.objects.filter(to="alice@example.org")
    assert email.calendar_method == "REQUEST"
    calendar, event = invite_of(email)
    assert calendar["METHOD"] == "REQUEST" and str(event["UID"]) == appointment.ical_uid()
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == TUESDAY_0830
    assert booked.link_token in email.body
    # Tom is taken at 8:30 now; 9:00 too (the buffer), 9:10 is not on the grid.
    free = slots_free(
        appointment_type=letting,
        advisors=[advisors["tom"]],
        first_day=TUESDAY_0830.date(),
        last_day=TUESDAY_0830.date(),
        now=NOW,
    )
    starts = {slot.starts.astimezone(BERLIN).strftime("%H:%M") for slot in free}
    assert "08:30" not in starts and "09:00" not in starts and "09:30" in starts


@pytest.mark.django_db
def test_a_double_submit_gives_the_same_booking(cast, advisors, letting):
    first = book(cast, letting, advisor=advisors["tom"], request_key="k" * 32)
    again = book(cast, letting, advisor=advisors["tom"], request_key="k" * 32)
    assert again.appointment.pk == first.appointment.pk
    assert Appointment.objects.count() == 1
    assert OutboundEmail.objects.filter(to="alice@example.org").count() == 1


@pytest.mark.parametrize(
    "starts_at, says",
    [
        (NOW - datetime.timedelta(hours=1), "already passed"),
        (NOW + datetime.timedelta(hours=3), "at least 24 hours ahead"),
        (datetime.datetime(2027, 6, 1, 8, 30, tzinfo=BERLIN), "at most 56 days ahead"),
        (datetime.datetime(2027, 3, 2, 12, 30, tzinfo=BERLIN), "not offered"),  # lunch
        (datetime.datetime(2027, 3, 3, 8, 30, tzinfo=BERLIN), "not offered"),  # no Wednesday
        (datetime.datetime(2027, 3, 2, 8, 45, tzinfo=BERLIN), "not offered"),  # off the grid
    ],
)
@pytest.mark.django_db
def test_a_time_that_may_not_be_booked_is_refused_with_its_reason(
    cast, advisors, letting, starts_at, says
):
    with pytest.raises(BookingError) as refused, translation.override("en"):
        book(cast, letting, starts_at=starts_at, advisor=advisors["tom"])
    assert says in str(refused.value)
    assert not isinstance(refused.value, SlotTaken)
    assert not Appointment.objects.exists() and not OutboundEmail.objects.exists()


@pytest.mark.django_db
def test_an_advisor_who_does_not_offer_the_topic_is_refused(cast, advisors, letting):
    with pytest.raises(BookingError):
        book(cast, letting, advisor=advisors["hanna"])
    assert not Appointment.objects.exists()


@pytest.mark.django_db
def test_any_advisor_takes_the_next_one_when_the_first_is_taken(cast, advisors, letting):
    first = book(cast, letting, starts_at=MONDAY_0830)
    second = book(cast, letting, starts_at=MONDAY_0830, member=cast.dave.member,
                  booked_by=cast.dave)  # fmt: skip
    assert {first.appointment.advisor, second.appointment.advisor} == {
        advisors["tom"],
        advisors["paul"],
    }
    with pytest.raises(SlotTaken) as taken:
        book(cast, letting, starts_at=MONDAY_0830, member=cast.bob.member, booked_by=cast.bob)
    nearest = taken.value.nearest
    assert nearest and all(slot.starts != MONDAY_0830 for slot in nearest)
    assert Appointment.objects.count() == 2


@pytest.mark.django_db
def test_a_request_of_someone_else_cannot_be_linked(cast, advisors, letting):
    daves = ticket_create(member=cast.dave.member, created_by=cast.dave)
    with pytest.raises(BookingError):
        book(cast, letting, advisor=advisors["tom"], ticket=daves)
    assert not Appointment.objects.exists()


# The database's own guarantee ---------------------------------------------------------------


def _row(advisor, starts_at, minutes=30, before=0, after=0, **extra):
    ends_at = starts_at + datetime.timedelta(minutes=minutes)
    return Appointment(
        advisor=advisor,
        kind=Appointment.Kind.BLOCK,
        starts_at=starts_at,
        ends_at=ends_at,
        busy_from=starts_at - datetime.timedelta(minutes=before),
        busy_until=ends_at + datetime.timedelta(minutes=after),
        **extra,
    )


@pytest.mark.django_db
def test_the_database_refuses_overlaps_and_buffers_but_not_back_to_back(advisors):
    tom, paul = advisors["tom"], advisors["paul"]
    _row(tom, TUESDAY_0830, after=10).save()  # busy 8:30–9:10
    for clash in (
        _row(tom, TUESDAY_0830),  # the same time
        _row(tom, TUESDAY_0830 + datetime.timedelta(minutes=15)),  # partly
        _row(tom, TUESDAY_0830 + datetime.timedelta(minutes=30)),  # inside the buffer
        _row(tom, TUESDAY_0830 + datetime.timedelta(minutes=45), before=10),  # its buffer
        _row(tom, TUESDAY_0830 - datetime.timedelta(minutes=60), minutes=240),  # around it
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            clash.save()
    _row(tom, TUESDAY_0830 + datetime.timedelta(minutes=40)).save()  # back to back: 9:10
    _row(paul, TUESDAY_0830).save()  # another advisor
    cancelled = _row(tom, TUESDAY_0830 - datetime.timedelta(minutes=30),
                     status=Appointment.Status.CANCELLED, after=15)  # fmt: skip
    cancelled.save()  # a cancelled one takes no time
    # …and cannot come back to life over a booking (the UPDATE is checked too).
    cancelled.status = Appointment.Status.BOOKED
    with pytest.raises(IntegrityError), transaction.atomic():
        cancelled.save(update_fields=["status"])
    moved = Appointment.objects.get(advisor=paul)
    moved.advisor = tom
    with pytest.raises(IntegrityError), transaction.atomic():
        moved.save(update_fields=["advisor"])
    assert Appointment.objects.active().filter(advisor=tom).count() == 2


# Cancel and reschedule ------------------------------------------------------------------------


@pytest.mark.django_db
def test_cancel_frees_the_time_kills_the_link_and_sends_the_cancellation(cast, advisors, letting):
    booked = book(cast, letting, advisor=advisors["tom"])
    cancelled = services.appointment_cancel(appointment=booked.appointment, actor=None, now=NOW)
    assert cancelled.status == Appointment.Status.CANCELLED and cancelled.sequence == 1
    assert get_appointment_by_link(token_hash(booked.link_token)) is None
    email = OutboundEmail.objects.filter(to="alice@example.org").latest("pk")
    calendar, event = invite_of(email)
    assert email.calendar_method == "CANCEL" and calendar["METHOD"] == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1
    assert str(event["UID"]) == booked.appointment.ical_uid()
    # The time is free again: someone else books it.
    again = book(cast, letting, advisor=advisors["tom"], member=cast.dave.member,
                 booked_by=cast.dave)  # fmt: skip
    assert again.appointment.starts_at == TUESDAY_0830
    with pytest.raises(BookingError):
        services.appointment_cancel(appointment=booked.appointment, actor=None, now=NOW)


@pytest.mark.django_db
def test_members_change_only_until_the_cutoff_staff_at_any_time(cast, advisors, letting):
    booked = book(cast, letting, advisor=advisors["tom"])
    late = TUESDAY_0830 - datetime.timedelta(hours=1)
    with pytest.raises(BookingError):
        services.appointment_cancel(appointment=booked.appointment, actor=cast.alice, now=late)
    assert Appointment.objects.get().status == Appointment.Status.BOOKED
    services.appointment_cancel(appointment=booked.appointment, actor=cast.tom, now=late)
    assert Appointment.objects.get().status == Appointment.Status.CANCELLED


@pytest.mark.django_db
def test_reschedule_claims_the_new_time_and_gives_up_the_old(cast, advisors, letting):
    booked = book(cast, letting, advisor=advisors["tom"])
    later = TUESDAY_0830 + datetime.timedelta(hours=2)  # 10:30
    moved = services.appointment_reschedule(
        appointment=booked.appointment, starts_at=later, actor=None, now=NOW
    )
    appointment = moved.appointment
    assert appointment.pk == booked.appointment.pk and appointment.starts_at == later
    assert appointment.sequence == 1 and moved.link_token != booked.link_token
    assert get_appointment_by_link(token_hash(booked.link_token)) is None  # the old link died
    assert get_appointment_by_link(token_hash(moved.link_token)) == appointment
    _, event = invite_of(OutboundEmail.objects.filter(to="alice@example.org").latest("pk"))
    assert int(event["SEQUENCE"]) == 1 and event.decoded("DTSTART") == later
    assert str(event["UID"]) == booked.appointment.ical_uid()
    # The old time is free for someone else now.
    book(cast, letting, advisor=advisors["tom"], member=cast.dave.member, booked_by=cast.dave)


@pytest.mark.django_db
def test_reschedule_to_a_taken_time_keeps_the_old_one(cast, advisors, letting):
    mine = book(cast, letting, advisor=advisors["tom"])
    later = TUESDAY_0830 + datetime.timedelta(hours=2)
    book(cast, letting, starts_at=later, advisor=advisors["tom"], member=cast.dave.member,
         booked_by=cast.dave)  # fmt: skip
    with pytest.raises(SlotTaken) as taken:
        services.appointment_reschedule(
            appointment=mine.appointment, starts_at=later, actor=None, now=NOW
        )
    assert taken.value.nearest
    kept = Appointment.objects.get(pk=mine.appointment.pk)
    assert kept.starts_at == TUESDAY_0830 and kept.sequence == 0
    assert kept.link_token_hash == token_hash(mine.link_token)


# Reminders ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_reminder_goes_once_and_a_moved_booking_drops_the_stale_one(cast, advisors, letting):
    booked = book(cast, letting, advisor=advisors["tom"], now=NOW - datetime.timedelta(days=7))
    appointment = booked.appointment
    planned = appointment.reminder_due_at
    # Moved to tomorrow (as by staff): the reminder is due now.
    now = datetime.datetime.now(datetime.UTC)
    tomorrow = now + datetime.timedelta(hours=23)
    Appointment.objects.filter(pk=appointment.pk).update(
        reminder_due_at=now - datetime.timedelta(minutes=1),
        starts_at=tomorrow,
        ends_at=tomorrow + datetime.timedelta(hours=1),
        busy_from=tomorrow,
        busy_until=tomorrow + datetime.timedelta(hours=1),
    )
    # A task planned for the old moment: the booking plans another now.
    assert services.reminder_send(appointment_id=appointment.pk, planned=planned) is False
    assert services.reminders_due() == 1
    assert services.reminders_due() == 0  # the timer again, or a retried task: nothing
    assert services.reminder_send(appointment_id=appointment.pk) is False
    bodies = list(OutboundEmail.objects.values_list("body", flat=True))
    assert sum(de("we look forward to your appointment:") in body for body in bodies) == 1


@pytest.mark.django_db
def test_a_booking_inside_the_reminder_window_gets_no_reminder(cast, advisors, letting):
    # Staff book a caller in at short notice (members only from 24 hours
    # ahead): the reminder would come after the booking itself.
    soon = book(cast, letting, advisor=advisors["tom"], booked_by=cast.tom,
                now=TUESDAY_0830 - datetime.timedelta(hours=3))  # fmt: skip
    assert soon.appointment.reminder_due_at is None
    ahead = book(cast, letting, starts_at=TUESDAY_0830 + datetime.timedelta(hours=1),
                 advisor=advisors["tom"], now=TUESDAY_0830 - datetime.timedelta(hours=25))  # fmt: skip
    assert ahead.appointment.reminder_due_at == ahead.appointment.starts_at - datetime.timedelta(
        hours=24
    )


@pytest.mark.django_db
def test_a_cancelled_booking_gets_no_reminder(cast, advisors, letting):
    booked = book(cast, letting, advisor=advisors["tom"])
    services.appointment_cancel(appointment=booked.appointment, actor=None, now=NOW)
    Appointment.objects.filter(pk=booked.appointment.pk).update(
        reminder_due_at=datetime.datetime.now(datetime.UTC)
    )
    assert services.reminders_due() == 0


# Parallel requests, each with its own connection ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_bookings_of_one_slot_give_exactly_one(cast, advisors, letting):
    results = parallel(20, lambda i: book(cast, letting, advisor=advisors["tom"]))
    booked = [r for r in results if isinstance(r, services.Booked)]
    taken = [r for r in results if isinstance(r, SlotTaken)]
    assert len(booked) == 1 and len(taken) == 19, results
    assert Appointment.objects.active().count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_any_advisor_bookings_fill_each_advisor_once(cast, advisors, letting):
    results = parallel(8, lambda i: book(cast, letting, starts_at=MONDAY_0830))
    booked = [r for r in results if isinstance(r, services.Booked)]
    assert len(booked) == 2, results  # Tom and Paul offer letting on Monday mornings
    assert {b.appointment.advisor_id for b in booked} == {advisors["tom"].pk, advisors["paul"].pk}
    assert all(isinstance(r, services.Booked | SlotTaken) for r in results), results


@pytest.mark.django_db(transaction=True)
def test_the_daily_maximum_holds_under_parallel_requests(cast, advisors):
    social = AppointmentType.objects.get(slug="sozialberatung")  # at most 3 a day
    sabine = advisors["sabine"]
    tuesday = datetime.date(2027, 3, 2)
    free = slots_free(
        appointment_type=social, advisors=[sabine], first_day=tuesday, last_day=tuesday, now=NOW
    )
    assert len(free) >= 6
    times = [slot.starts for slot in free[:6]]
    results = parallel(
        6,
        lambda i: appointment_book(
            member=cast.alice.member,
            appointment_type=social,
            starts_at=times[i],
            booked_by=cast.alice,
            advisor=sabine,
            now=NOW,
        ),
    )
    assert sum(isinstance(r, services.Booked) for r in results) == 3, results
    assert Appointment.objects.active().filter(advisor=sabine).count() == 3


@pytest.mark.django_db(transaction=True)
def test_parallel_double_submits_give_one_booking(cast, advisors, letting):
    results = parallel(
        6, lambda i: book(cast, letting, advisor=advisors["tom"], request_key="same-form")
    )
    assert all(isinstance(r, services.Booked) for r in results), results
    assert len({r.appointment.pk for r in results}) == 1
    assert Appointment.objects.count() == 1


@pytest.mark.django_db
def test_a_member_cannot_book_out_the_advisors_weeks(cast, advisors, letting, settings):
    settings.APPOINTMENTS_MAX_UPCOMING = 2
    first = book(cast, letting, advisor=advisors["tom"])
    book(cast, letting, starts_at=TUESDAY_0830 + datetime.timedelta(hours=1),
         advisor=advisors["tom"])  # fmt: skip
    with pytest.raises(BookingError) as refused, translation.override("en"):
        book(cast, letting, starts_at=TUESDAY_0830 + datetime.timedelta(hours=2),
             advisor=advisors["tom"])  # fmt: skip
    assert "already have 2 appointments coming up" in str(refused.value)
    assert Appointment.objects.count() == 2
    # Staff booking for her on the phone decide themselves…
    book(cast, letting, starts_at=TUESDAY_0830 + datetime.timedelta(hours=2),
         advisor=advisors["tom"], booked_by=cast.tom)  # fmt: skip
    # …and a cancelled one frees a place.
    services.appointment_cancel(appointment=first.appointment, actor=None, now=NOW)
    services.appointment_cancel(
        appointment=Appointment.objects.filter(booked_by=cast.tom).get(), actor=cast.tom, now=NOW
    )
    book(cast, letting, starts_at=TUESDAY_0830 + datetime.timedelta(hours=3),
         advisor=advisors["tom"])  # fmt: skip
    assert Appointment.objects.active().filter(member=cast.alice.member).count() == 2
