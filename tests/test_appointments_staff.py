"""The staff side of appointments (issue 13) through the Django test client:
an advisor's week (their own; a lead's or admin's choice of any advisor;
a handler who offers none is told so), one appointment with how it went,
cancelling (the member gets the CANCEL invite) and its linked request,
blocking time (never over a booking), booking for a caller from the phone
log (inside the minimum notice, for a member without e-mail too, 409 with
the nearest times when taken), and the advisor's private calendar feed.
Members get 404 everywhere; every page costs a bounded number of
statements."""

import datetime
import hashlib
import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from accounts import roles
from appointments import services
from appointments.models import Advisor, Appointment, AppointmentType
from appointments.selectors import slots_free
from audit.models import AccessLog
from demo.appointments import appointments_demo_ensure
from demo.cast import staff_ensure
from mail.models import OutboundEmail
from members.models import Contract, Member
from tests.factories import ticket_create
from tests.helpers import MOST, de, measured, otp_verify, repeated
from tickets.models import RequestType

pytestmark = pytest.mark.django_db

OVERLAPS_BOOKING = (
    "This time overlaps the appointment on %(when)s (with the time kept free around it). "
    "Move or cancel that appointment first."
)
NOT_ADVISOR = "You do not offer consultations, so there are no appointments of yours here."
TELL_CALLER = "The member has no e-mail address: tell the caller the time."


@pytest.fixture
def advisors(cast):
    return appointments_demo_ensure(hanna=cast.hanna, tom=cast.tom)


@pytest.fixture
def letting(advisors):
    return AppointmentType.objects.get(slug="vermietung")


@pytest.fixture
def visit(advisors):
    return AppointmentType.objects.get(slug="technik-vor-ort")


@pytest.fixture
def jonas(cast):
    """A handler who offers no consultations."""
    return staff_ensure("jonas@example.org", "Jonas", "Jäger", roles.HANDLER)


def log_in(client, user):
    client.force_login(user)
    if user.two_factor_required:
        otp_verify(client, user)  # tom and ada: the code from the app
    return client


def free(appointment_type, advisor, *, now=None, days=28, notice=True):
    now = now or timezone.now()
    today = timezone.localdate(now)
    return slots_free(
        appointment_type=appointment_type,
        advisors=[advisor],
        first_day=today,
        last_day=today + datetime.timedelta(days=days),
        now=now,
        notice=notice,
    )


def book(member, appointment_type, advisor, *, by, index=0, note="", ticket=None):
    slot = free(appointment_type, advisor)[index]
    return services.appointment_book(
        member=member,
        appointment_type=appointment_type,
        starts_at=slot.starts,
        booked_by=by,
        advisor=advisor,
        note=note,
        ticket=ticket,
    ).appointment


def book_in_the_past(member, appointment_type, advisor, *, by):
    """A booking whose time has begun: made a fortnight ago."""
    then = timezone.now() - datetime.timedelta(days=14)
    slot = next(
        s
        for s in free(appointment_type, advisor, now=then, days=13)
        if s.starts < timezone.now() - datetime.timedelta(hours=1)
    )
    return services.appointment_book(
        member=member,
        appointment_type=appointment_type,
        starts_at=slot.starts,
        booked_by=by,
        advisor=advisor,
        now=then,
    ).appointment


def week_of(appointment, **query):
    day = timezone.localdate(appointment.starts_at)
    params = "&".join(f"{k}={v}" for k, v in {"woche": day.isoformat(), **query}.items())
    return reverse("backoffice:appointments") + "?" + params


def page(appointment):
    return reverse("backoffice:appointment", args=[appointment.public_id])


# The week -------------------------------------------------------------------------------


def test_an_advisor_sees_her_own_week(client, cast, advisors, visit, letting):
    mine = book(cast.alice.member, visit, advisors["hanna"], by=cast.alice)
    toms = book(cast.dave.member, letting, advisors["tom"], by=cast.dave)
    # A visit at home is at the member's flat.
    building = Contract.objects.current().get(members=cast.alice.member).unit.building
    assert mine.location.startswith(f"{building.street} {building.house_number}, ")
    log_in(client, cast.hanna)
    html = client.get(week_of(mine)).content.decode()
    assert page(mine) in html and "Alice Ahrens" in html and "20001" in html
    assert visit.name_de in html and '<select class="input" id="berater"' not in html
    assert page(toms) not in html
    # Another advisor's week is not hers to see.
    other = week_of(toms, berater=advisors["tom"].pk)
    assert client.get(other).status_code == 404
    assert client.get(week_of(mine, berater=advisors["hanna"].pk)).status_code == 200


def test_leads_and_admins_choose_any_advisor(client, cast, advisors, visit, letting):
    hannas = book(cast.alice.member, visit, advisors["hanna"], by=cast.alice)
    toms = book(cast.dave.member, letting, advisors["tom"], by=cast.dave)
    log_in(client, cast.tom)
    html = client.get(week_of(toms)).content.decode()
    assert page(toms) in html and '<select class="input" id="berater"' in html  # his own
    html = client.get(week_of(hannas, berater=advisors["hanna"].pk)).content.decode()
    assert page(hannas) in html and page(toms) not in html
    log_in(client, cast.ada)
    html = client.get(week_of(toms, berater=advisors["tom"].pk)).content.decode()
    assert page(toms) in html
    assert client.get(week_of(toms, berater="999999")).status_code == 404


def test_the_week_moves_on_and_shows_blocked_times_and_the_request(client, cast, advisors, visit):
    repair = ticket_create()
    appointment = book(cast.alice.member, visit, advisors["hanna"], by=cast.alice, ticket=repair)
    day = timezone.localdate(appointment.starts_at)
    zone = timezone.get_default_timezone()
    services.appointment_block(
        advisor=advisors["hanna"],
        starts_at=datetime.datetime.combine(day, datetime.time(17, 0), zone),
        ends_at=datetime.datetime.combine(day, datetime.time(18, 0), zone),
        actor=cast.hanna,
        reason="Teamsitzung",
    )
    log_in(client, cast.hanna)
    html = client.get(week_of(appointment)).content.decode()
    assert "17:00–18:00" in html and "Teamsitzung" in html
    # Hanna works in Technik: the request's work page is open to her.
    assert reverse("backoffice:ticket", args=[repair.reference]) in html
    monday = day - datetime.timedelta(days=day.weekday())
    following = (monday + datetime.timedelta(days=7)).isoformat()
    assert f"woche={following}" in html
    later = client.get(reverse("backoffice:appointments"), {"woche": following}).content.decode()
    assert page(appointment) not in later


def test_a_handler_who_offers_no_consultations_is_told_so(client, cast, advisors, visit, jonas):
    hannas = book(cast.alice.member, visit, advisors["hanna"], by=cast.alice)
    log_in(client, jonas)
    for name in ("appointments", "appointment_block", "appointment_feed"):
        answer = client.get(reverse(f"backoffice:{name}"))
        assert answer.status_code == 200 and de(NOT_ADVISOR) in answer.content.decode()
    for name in ("appointment", "appointment_cancel", "appointment_booked"):
        address = reverse(f"backoffice:{name}", args=[hannas.public_id])
        assert client.get(address).status_code == 404
        if name != "appointment_booked":  # a page to read only (POST: 405)
            assert client.post(address, {"action": "attended"}).status_code == 404
    assert client.get(week_of(hannas, berater=advisors["hanna"].pk)).status_code == 404
    # He still books for a caller.
    assert client.get(reverse("backoffice:appointment_book", args=["20001"])).status_code == 200
    assert Appointment.objects.get().status == Appointment.Status.BOOKED


def staff_routes(appointment):
    member, slug = "20001", appointment.appointment_type.slug
    return [
        reverse("backoffice:appointments"),
        reverse("backoffice:appointment_block"),
        reverse("backoffice:appointment_feed"),
        reverse("backoffice:appointment_book", args=[member]),
        reverse("backoffice:appointment_book_slots", args=[member, slug]),
        reverse("backoffice:appointment_book_confirm", args=[member, slug]),
        reverse("backoffice:appointment_booked", args=[appointment.public_id]),
        reverse("backoffice:appointment", args=[appointment.public_id]),
        reverse("backoffice:appointment_cancel", args=[appointment.public_id]),
    ]


def test_members_get_404_on_every_staff_route(client, cast, advisors, letting):
    appointment = book(cast.alice.member, letting, advisors["tom"], by=cast.alice)
    for person in (cast.alice, cast.bob, cast.dave):
        client.force_login(person)
        for address in staff_routes(appointment):
            assert client.get(address).status_code == 404, (person, address)
            assert client.post(address, {"action": "attended"}).status_code == 404
    assert Appointment.objects.get().status == Appointment.Status.BOOKED


# One appointment --------------------------------------------------------------------------


def test_the_appointment_page_shows_the_note_and_request_and_is_logged(
    client, cast, advisors, letting
):
    repair = ticket_create()
    bank = ticket_create(
        request_type=RequestType.objects.get(slug="bankverbindung"),
        answers={
            "account_holder": "Alice Ahrens",
            "iban": "DE02 1203 0000 0000 2020 51",
            "valid_from": "2027-01-01",
            "sepa_consent": "yes",
        },
    )
    about_repair = book(
        cast.alice.member, letting, advisors["tom"], by=cast.alice, note="Tür klemmt", ticket=repair
    )
    about_bank = book(cast.alice.member, letting, advisors["tom"], by=cast.alice, ticket=bank)
    log_in(client, cast.tom)
    html = client.get(page(about_repair)).content.decode()
    assert "Tür klemmt" in html and "alice@example.org" in html
    assert reverse("backoffice:ticket", args=[repair.reference]) in html  # tom leads Technik
    # Rechnungswesen's request: its reference, but no link tom could not follow.
    html = client.get(page(about_bank)).content.decode()
    assert bank.reference in html
    assert reverse("backoffice:ticket", args=[bank.reference]) not in html
    log = AccessLog.objects.filter(actor=cast.tom, member=cast.alice.member)
    assert {entry.path for entry in log} >= {page(about_repair), page(about_bank)}
    # Hanna offers other consultations: not hers to see.
    log_in(client, cast.hanna)
    assert client.get(page(about_repair)).status_code == 404


def test_linking_one_of_the_members_requests(client, cast, advisors, letting):
    appointment = book(cast.alice.member, letting, advisors["tom"], by=cast.alice)
    repair = ticket_create()
    daves = ticket_create(member=cast.dave.member)
    log_in(client, cast.tom)
    assert repair.reference in client.get(page(appointment)).content.decode()
    client.post(page(appointment), {"action": "link", "ticket": repair.reference})
    assert Appointment.objects.get().ticket == repair
    answer = client.post(page(appointment), {"action": "link", "ticket": daves.reference})
    assert answer.status_code == 302
    assert Appointment.objects.get().ticket == repair  # dave's was not offered, nor taken
    with pytest.raises(services.BookingError):
        services.appointment_ticket_link(appointment=appointment, ticket=daves, actor=cast.tom)
    client.post(page(appointment), {"action": "link", "ticket": ""})
    assert Appointment.objects.get().ticket is None


def test_how_it_went_is_recorded_only_once_it_has_begun(client, cast, advisors, letting):
    coming = book(cast.alice.member, letting, advisors["tom"], by=cast.alice)
    begun = book_in_the_past(cast.dave.member, letting, advisors["tom"], by=cast.dave)
    log_in(client, cast.tom)
    html = client.get(page(coming)).content.decode()
    assert 'value="attended"' not in html
    client.post(page(coming), {"action": "attended"})
    assert Appointment.objects.get(pk=coming.pk).status == Appointment.Status.BOOKED
    assert 'value="no_show"' in client.get(page(begun)).content.decode()
    client.post(page(begun), {"action": "no_show"})
    assert Appointment.objects.get(pk=begun.pk).status == Appointment.Status.NO_SHOW
    client.post(page(begun), {"action": "attended"})  # marked already: it stays
    assert Appointment.objects.get(pk=begun.pk).status == Appointment.Status.NO_SHOW
    # The service itself, a minute either side of the start.
    with pytest.raises(services.BookingError):
        services.appointment_mark(
            appointment=coming,
            status=Appointment.Status.ATTENDED,
            actor=cast.tom,
            now=coming.starts_at - datetime.timedelta(minutes=1),
        )
    with pytest.raises(services.BookingError):
        services.appointment_mark(
            appointment=coming, status=Appointment.Status.CANCELLED, actor=cast.tom
        )
    marked = services.appointment_mark(
        appointment=coming,
        status=Appointment.Status.ATTENDED,
        actor=cast.tom,
        now=coming.starts_at + datetime.timedelta(minutes=1),
    )
    assert marked.status == Appointment.Status.ATTENDED


def test_staff_cancel_at_any_time_and_the_member_gets_the_cancel_invite(
    client, cast, advisors, letting
):
    # Past the member's cutoff: only staff can still cancel.
    letting.cancel_cutoff_hours = 24 * 60
    letting.save(update_fields=["cancel_cutoff_hours"])
    appointment = book(cast.alice.member, letting, advisors["tom"], by=cast.alice)
    with pytest.raises(services.BookingError):
        services.appointment_cancel(appointment=appointment, actor=None)
    log_in(client, cast.tom)
    address = reverse("backoffice:appointment_cancel", args=[appointment.public_id])
    assert "alice@example.org" in client.get(address).content.decode()
    assert client.post(address).status_code == 302
    cancelled = Appointment.objects.get()
    assert cancelled.status == Appointment.Status.CANCELLED and cancelled.cancelled_by == cast.tom
    email = OutboundEmail.objects.filter(to="alice@example.org").latest("pk")
    assert email.calendar_method == "CANCEL"
    calendar = Calendar.from_ical(email.calendar)
    [event] = calendar.walk("VEVENT")
    assert calendar["METHOD"] == "CANCEL" and str(event["UID"]) == appointment.ical_uid()
    assert int(event["SEQUENCE"]) == 1
    # Cancelled is cancelled: the page no longer offers it.
    assert client.post(address).status_code == 302
    assert OutboundEmail.objects.filter(calendar_method="CANCEL").count() == 1


# Blocked time -----------------------------------------------------------------------------


def block_form(day, starts, ends, **more):
    return {
        "date": day.isoformat(),
        "starts": starts,
        "ends": ends,
        "reason": "Ortstermin",
        **more,
    }


def test_an_advisor_blocks_a_free_time_and_unblocks_it(client, cast, advisors, visit):
    slot = free(visit, advisors["hanna"])[0]
    day = timezone.localdate(slot.starts)
    start = timezone.localtime(slot.starts)
    log_in(client, cast.hanna)
    answer = client.post(
        reverse("backoffice:appointment_block"),
        block_form(day, f"{start:%H:%M}", f"{start + datetime.timedelta(hours=2):%H:%M}"),
    )
    block = Appointment.objects.get(kind=Appointment.Kind.BLOCK)
    assert answer.status_code == 302 and urlsplit(answer["Location"]).path == reverse(
        "backoffice:appointments"
    )
    assert (block.advisor, block.starts_at, block.note) == (
        advisors["hanna"],
        slot.starts,
        "Ortstermin",
    )
    assert slot not in free(visit, advisors["hanna"])  # members can no longer book it
    client.post(page(block), {"action": "unblock"})
    assert Appointment.objects.get().status == Appointment.Status.CANCELLED
    assert slot in free(visit, advisors["hanna"])


def test_a_block_over_a_booking_or_a_block_is_refused(client, cast, advisors, visit):
    booked = book(cast.alice.member, visit, advisors["hanna"], by=cast.alice)
    start = timezone.localtime(booked.starts_at)
    day = start.date()
    log_in(client, cast.hanna)
    # It ends inside the booking's buffer (30 minutes after a visit).
    after = timezone.localtime(booked.ends_at)
    answer = client.post(
        reverse("backoffice:appointment_block"),
        block_form(day, f"{after + datetime.timedelta(minutes=15):%H:%M}", "23:00"),
    )
    assert answer.status_code == 400
    before_placeholder = de(OVERLAPS_BOOKING).split("%(when)s")[0]
    assert before_placeholder in answer.content.decode()
    assert f"{start:%H:%M}–{after:%H:%M}" in answer.content.decode()
    assert not Appointment.objects.filter(kind=Appointment.Kind.BLOCK).exists()
    # A free evening is fine; a second block over it is not.
    assert (
        client.post(
            reverse("backoffice:appointment_block"), block_form(day, "21:00", "22:00")
        ).status_code
        == 302
    )
    answer = client.post(reverse("backoffice:appointment_block"), block_form(day, "21:30", "23:00"))
    assert answer.status_code == 400
    assert de("This time overlaps a time that is already blocked (%(when)s).").split("(")[0] in (
        answer.content.decode()
    )
    answer = client.post(reverse("backoffice:appointment_block"), block_form(day, "20:00", "19:00"))
    assert answer.status_code == 400 and de("The end must be after the start.") in (
        answer.content.decode()
    )
    assert Appointment.objects.filter(kind=Appointment.Kind.BLOCK).count() == 1
    assert Appointment.objects.get(pk=booked.pk).status == Appointment.Status.BOOKED


def test_a_lead_blocks_time_of_another_advisor_an_advisor_only_her_own(
    client, cast, advisors, visit
):
    day = timezone.localdate() + datetime.timedelta(days=3)
    log_in(client, cast.hanna)
    # Naming tom changes nothing: an advisor's form has no choice of advisor.
    client.post(
        reverse("backoffice:appointment_block"),
        block_form(day, "20:00", "21:00", advisor=advisors["tom"].pk),
    )
    assert Appointment.objects.get().advisor == advisors["hanna"]
    log_in(client, cast.tom)
    client.post(
        reverse("backoffice:appointment_block"),
        block_form(day, "21:00", "22:00", advisor=advisors["sabine"].pk),
    )
    assert Appointment.objects.latest("pk").advisor == advisors["sabine"]


def test_the_block_service_refuses_the_past_and_empty_ranges(cast, advisors):
    now = timezone.now()
    for starts, ends in [
        (now - datetime.timedelta(hours=2), now - datetime.timedelta(hours=1)),
        (now + datetime.timedelta(hours=2), now + datetime.timedelta(hours=1)),
    ]:
        with pytest.raises(services.BookingError):
            services.appointment_block(
                advisor=advisors["tom"], starts_at=starts, ends_at=ends, actor=cast.tom
            )
    with pytest.raises(services.BookingError):
        services.appointment_block(
            advisor=advisors["tom"],
            starts_at=now + datetime.timedelta(hours=1),
            ends_at=now + datetime.timedelta(hours=2),
            actor=cast.alice,  # not staff
        )
    assert not Appointment.objects.exists()


# Booking for a caller ---------------------------------------------------------------------


def first_match(pattern, html):
    return re.search(pattern, html).group(1)


def test_a_handler_books_for_a_caller_inside_the_minimum_notice(
    client, cast, advisors, letting, jonas
):
    # A week's notice for members: every free time of the next days is inside it.
    letting.min_notice_hours = 24 * 7
    letting.save(update_fields=["min_notice_hours"])
    log_in(client, jonas)
    call = client.get(reverse("backoffice:phone_start"), {"mitglied": "20001"}).content.decode()
    start = reverse("backoffice:appointment_book", args=["20001"])
    assert f'href="{start}"' in call
    topics = client.get(start).content.decode()
    slots = reverse("backoffice:appointment_book_slots", args=["20001", letting.slug])
    assert slots in topics
    html = client.get(slots).content.decode()
    day = first_match(r"tag=(\d{4}-\d{2}-\d{2})#freie-zeiten", html)
    html = client.get(slots, {"berater": "alle", "tag": day}).content.decode()
    zeit = first_match(r'name="zeit" value="([^"]+)"', html)
    starts_at = datetime.datetime.fromisoformat(zeit)
    assert starts_at < timezone.now() + datetime.timedelta(days=7)
    members_offer = slots_free(
        appointment_type=letting,
        advisors=[advisors["tom"], advisors["paul"]],
        first_day=timezone.localdate(),
        last_day=timezone.localdate() + datetime.timedelta(days=7),
    )
    assert all(slot.starts != starts_at for slot in members_offer)
    confirm = reverse("backoffice:appointment_book_confirm", args=["20001", letting.slug])
    html = client.get(confirm, {"berater": "alle", "zeit": zeit}).content.decode()
    assert "alice@example.org" in html
    key = first_match(r'name="request_key" value="([^"]+)"', html)
    form = {"berater": "alle", "zeit": zeit, "request_key": key, "note": "Wohnungstausch"}
    answer = client.post(confirm, form)
    appointment = Appointment.objects.get()
    assert answer["Location"] == reverse(
        "backoffice:appointment_booked", args=[appointment.public_id]
    )
    assert (appointment.member, appointment.booked_by, appointment.starts_at) == (
        cast.alice.member,
        jonas,
        starts_at,
    )
    assert appointment.note == "Wohnungstausch"
    [email] = OutboundEmail.objects.filter(to="alice@example.org")
    assert email.calendar_method == "REQUEST"
    done = client.get(answer["Location"]).content.decode()
    assert "alice@example.org" in done and de(TELL_CALLER) not in done
    # The same form once more (a double click): the same booking.
    assert client.post(confirm, form)["Location"] == answer["Location"]
    assert Appointment.objects.count() == 1
    # Jonas booked it; the appointment's page is the advisor's.
    assert client.get(page(appointment)).status_code == 404


def test_a_member_without_email_is_booked_and_the_caller_is_told_the_time(
    client, cast, advisors, letting, jonas
):
    member = Member.objects.filter(user__isnull=True, email="").order_by("member_number").first()
    slot = free(letting, advisors["tom"])[0]
    log_in(client, jonas)
    confirm = reverse(
        "backoffice:appointment_book_confirm", args=[member.member_number, "vermietung"]
    )
    form = {"berater": advisors["tom"].pk, "zeit": slot.starts.isoformat(), "request_key": "k1"}
    assert de("none: the member has no e-mail address. Tell the caller the time.") in (
        client.get(confirm, form).content.decode()
    )
    answer = client.post(confirm, form)
    appointment = Appointment.objects.get()
    assert appointment.member == member and appointment.advisor == advisors["tom"]
    assert not OutboundEmail.objects.exists()
    done = client.get(answer["Location"]).content.decode()
    assert de(TELL_CALLER) in done
    assert timezone.localtime(slot.starts).strftime("%H:%M") in done


def test_a_time_taken_meanwhile_answers_409_with_the_nearest_times(
    client, cast, advisors, letting, jonas
):
    taken = book(cast.dave.member, letting, advisors["tom"], by=cast.dave)
    log_in(client, jonas)
    confirm = reverse("backoffice:appointment_book_confirm", args=["20001", letting.slug])
    answer = client.post(
        confirm,
        {"berater": advisors["tom"].pk, "zeit": taken.starts_at.isoformat(), "request_key": "k"},
    )
    assert answer.status_code == 409
    html = answer.content.decode()
    assert de("This time was just taken") in html and 'role="alert"' in html
    assert html.count('name="zeit"') >= 1
    assert not Appointment.objects.filter(member=cast.alice.member).exists()


def test_an_unknown_member_or_topic_is_not_found(client, cast, advisors, jonas):
    log_in(client, jonas)
    assert client.get(reverse("backoffice:appointment_book", args=["99999"])).status_code == 404
    slots = reverse("backoffice:appointment_book_slots", args=["20001", "gibt-es-nicht"])
    assert client.get(slots).status_code == 404


# The calendar feed ------------------------------------------------------------------------


def feed_path(html):
    return urlsplit(first_match(r'id="feed-url" value="([^"]+)"', html)).path


def test_the_feed_holds_the_advisors_bookings_and_blocks(client, cast, advisors, letting):
    note = "Mietschulden, bitte vertraulich"
    booked = book(cast.alice.member, letting, advisors["tom"], by=cast.alice, note=note)
    gone = book(cast.dave.member, letting, advisors["tom"], by=cast.dave, index=1)
    services.appointment_cancel(appointment=gone, actor=cast.tom)
    now = timezone.now()
    block = services.appointment_block(
        advisor=advisors["tom"],
        starts_at=now + datetime.timedelta(days=30, hours=1),
        ends_at=now + datetime.timedelta(days=30, hours=2),
        actor=cast.tom,
        reason="Fortbildung",
    )
    # Outside the window: five weeks back, nine weeks ahead.
    for days in (-35, 63):
        moment = now + datetime.timedelta(days=days)
        Appointment.objects.create(
            kind=Appointment.Kind.BLOCK,
            advisor=advisors["tom"],
            starts_at=moment,
            ends_at=moment + datetime.timedelta(hours=1),
            busy_from=moment,
            busy_until=moment + datetime.timedelta(hours=1),
        )
    log_in(client, cast.tom)
    html = client.post(reverse("backoffice:appointment_feed"), {"action": "renew"}).content.decode()
    path = feed_path(html)
    token = path.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(token) >= 43  # 256 bits; only its hash is kept
    advisor = Advisor.objects.get(pk=advisors["tom"].pk)
    assert advisor.feed_token_hash == hashlib.sha256(token.encode()).hexdigest()
    client.logout()
    answer = client.get(path)  # a calendar program: no login
    assert answer.status_code == 200 and answer["Cache-Control"] == "private, no-store"
    assert answer["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(answer.content)
    assert calendar["METHOD"] == "PUBLISH"
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    assert set(events) == {booked.ical_uid(), block.ical_uid()}
    event = events[booked.ical_uid()]
    assert "Alice Ahrens" in str(event["SUMMARY"]) and letting.name_de in str(event["SUMMARY"])
    assert event.decoded("DTSTART") == booked.starts_at
    assert event.decoded("DTSTART").utcoffset() == datetime.timedelta(0)
    assert int(event["SEQUENCE"]) == booked.sequence
    assert "Fortbildung" in str(events[block.ical_uid()]["SUMMARY"])
    assert note not in answer.content.decode() and "alice@example.org" not in (
        answer.content.decode()
    )


def test_a_renewed_feed_address_kills_the_old_and_revoked_is_gone(client, cast, advisors):
    log_in(client, cast.hanna)
    feed = reverse("backoffice:appointment_feed")
    first = feed_path(client.post(feed, {"action": "renew"}).content.decode())
    assert client.get(first).status_code == 200
    # The page never shows the address again.
    assert 'id="feed-url"' not in client.get(feed).content.decode()
    second = feed_path(client.post(feed, {"action": "renew"}).content.decode())
    assert first != second
    assert client.get(first).status_code == 404 and client.get(second).status_code == 200
    client.post(feed, {"action": "revoke"})
    assert client.get(second).status_code == 404
    assert Advisor.objects.get(user=cast.hanna).feed_token_hash == ""
    assert client.get(reverse("appointments:feed", args=["x" * 43])).status_code == 404


# What each page costs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "name"),
    [
        ("tom", "week"),
        ("hanna", "week"),
        ("tom", "detail"),
        ("tom", "cancel"),
        ("hanna", "block"),
        ("tom", "block"),
        ("tom", "feed_page"),
        ("jonas", "book_topics"),
        ("jonas", "book_slots"),
        ("jonas", "book_confirm"),
        ("jonas", "booked"),
        ("anon", "feed"),
    ],
)
def test_staff_appointment_pages_take_a_bounded_number_of_statements(
    client, cast, advisors, letting, jonas, person, name
):
    repair = ticket_create()
    for index in range(3):
        book(cast.alice.member, letting, advisors["tom"], by=jonas, index=index, ticket=repair)
    appointment = Appointment.objects.first()
    token = services.advisor_feed_renew(advisor=advisors["tom"])
    services.appointment_block(
        advisor=advisors["tom"],
        starts_at=appointment.starts_at.replace(hour=19, minute=0),
        ends_at=appointment.starts_at.replace(hour=20, minute=0),
        actor=cast.tom,
    )
    day = timezone.localdate(appointment.starts_at).isoformat()
    url = {
        "week": week_of(appointment),
        "detail": page(appointment),
        "cancel": reverse("backoffice:appointment_cancel", args=[appointment.public_id]),
        "block": reverse("backoffice:appointment_block"),
        "feed_page": reverse("backoffice:appointment_feed"),
        "book_topics": reverse("backoffice:appointment_book", args=["20001"]),
        "book_slots": reverse("backoffice:appointment_book_slots", args=["20001", letting.slug])
        + f"?berater=alle&tag={day}",
        "book_confirm": reverse("backoffice:appointment_book_confirm", args=["20001", letting.slug])
        + f"?berater=alle&zeit={appointment.ends_at.isoformat().replace('+', '%2B')}",
        "booked": reverse("backoffice:appointment_booked", args=[appointment.public_id]),
        "feed": reverse("appointments:feed", args=[token]),
    }[name]
    if person != "anon":
        log_in(client, {"tom": cast.tom, "hanna": cast.hanna, "jonas": jonas}[person])
    statements = measured(client, url)
    assert len(statements) <= MOST, "\n".join(statements)
    assert not repeated(statements), repeated(statements)
