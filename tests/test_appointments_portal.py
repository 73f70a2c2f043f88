"""The member's appointment pages (issue 13) through the Django test client:
topic → advisor → day → time → confirm → booked; a time taken meanwhile
answers 409 with the nearest free times; bad input changes nothing;
another member's booking is a 404; the e-mail's link works without a
login until the booking changes, then shows a friendly page; every page
costs a bounded number of statements."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments import services
from appointments.models import Appointment, AppointmentType
from appointments.selectors import slots_free
from demo.appointments import appointments_demo_ensure
from mail.models import OutboundEmail
from tests.factories import ticket_create
from tests.helpers import MOST, de, measured, repeated

pytestmark = pytest.mark.django_db


@pytest.fixture
def advisors(cast):
    return appointments_demo_ensure(hanna=cast.hanna, tom=cast.tom)


@pytest.fixture
def letting(advisors):
    return AppointmentType.objects.get(slug="vermietung")


def free(letting, advisors, *, advisor="tom"):
    today = timezone.localdate()
    return slots_free(
        appointment_type=letting,
        advisors=[advisors[advisor]],
        first_day=today,
        last_day=today + datetime.timedelta(days=28),
    )


@pytest.fixture
def alice_client(client, cast):
    client.force_login(cast.alice)
    return client


def test_a_member_books_step_by_step(alice_client, cast, advisors, letting):
    page = alice_client.get(reverse("appointments:new"))
    assert page.status_code == 200 and letting.name_de in page.content.decode()
    page = alice_client.get(reverse("appointments:slots", args=[letting.slug]))
    assert page.status_code == 200
    day = re.search(r"tag=(\d{4}-\d{2}-\d{2})#freie-zeiten", page.content.decode()).group(1)
    page = alice_client.get(
        reverse("appointments:slots", args=[letting.slug]), {"berater": "alle", "tag": day}
    )
    html = page.content.decode()
    assert 'id="freie-zeiten"' in html
    first = re.search(r'name="zeit" value="([^"]+)"', html).group(1)
    page = alice_client.get(
        reverse("appointments:confirm", args=[letting.slug]), {"berater": "alle", "zeit": first}
    )
    assert page.status_code == 200
    key = re.search(r'name="request_key" value="([^"]+)"', page.content.decode()).group(1)
    answer = alice_client.post(
        reverse("appointments:confirm", args=[letting.slug]),
        {"berater": "alle", "zeit": first, "request_key": key, "note": "Wohnungstausch"},
    )
    appointment = Appointment.objects.get()
    assert answer.status_code == 302 and answer["Location"] == appointment.get_absolute_url()
    assert appointment.member == cast.alice.member and appointment.note == "Wohnungstausch"
    assert appointment.starts_at == datetime.datetime.fromisoformat(first)
    # The same form sent again (a double click, the back button): the same booking.
    again = alice_client.post(
        reverse("appointments:confirm", args=[letting.slug]),
        {"berater": "alle", "zeit": first, "request_key": key},
    )
    assert again["Location"] == appointment.get_absolute_url()
    assert Appointment.objects.count() == 1
    detail = alice_client.get(appointment.get_absolute_url())
    assert detail.status_code == 200 and str(appointment.advisor) in detail.content.decode()
    listing = alice_client.get(reverse("appointments:list"))
    assert appointment.get_absolute_url() in listing.content.decode()
    home = alice_client.get(reverse("portal:member_home"))
    assert appointment.get_absolute_url() in home.content.decode()
    [email] = OutboundEmail.objects.filter(to="alice@example.org")
    assert email.calendar_method == "REQUEST"


def test_a_time_taken_meanwhile_answers_409_with_the_nearest_free_times(
    alice_client, cast, advisors, letting
):
    slot = free(letting, advisors)[0]
    services.appointment_book(
        member=cast.dave.member,
        appointment_type=letting,
        starts_at=slot.starts,
        booked_by=cast.dave,
        advisor=advisors["tom"],
    )
    answer = alice_client.post(
        reverse("appointments:confirm", args=[letting.slug]),
        {
            "berater": str(advisors["tom"].pk),
            "zeit": slot.starts.isoformat(),
            "request_key": "abc",
        },
    )
    assert answer.status_code == 409
    html = answer.content.decode()
    assert de("This time was just taken") in html and 'role="alert"' in html
    assert html.count('name="zeit"') >= 1
    assert Appointment.objects.filter(member=cast.alice.member).count() == 0


@pytest.mark.parametrize("zeit", ["", "morgen", "2027-03-02T08:30:00", "2020-01-01T10:00:00+01:00"])
def test_bad_times_are_refused_and_change_nothing(alice_client, advisors, letting, zeit):
    answer = alice_client.post(
        reverse("appointments:confirm", args=[letting.slug]),
        {"berater": "alle", "zeit": zeit, "request_key": "abc"},
    )
    assert answer.status_code in (302, 400)
    assert not Appointment.objects.exists() and not OutboundEmail.objects.exists()
    if answer.status_code == 400:
        assert de("This time has already passed. Please choose another one.") in (
            answer.content.decode()
        )


def test_a_time_outside_the_hours_is_refused_with_a_message(alice_client, advisors, letting):
    slot = free(letting, advisors)[0]
    odd = slot.starts + datetime.timedelta(minutes=7)
    answer = alice_client.post(
        reverse("appointments:confirm", args=[letting.slug]),
        {"berater": "alle", "zeit": odd.isoformat(), "request_key": "abc"},
    )
    assert answer.status_code == 400
    assert de("This time is not offered. Please choose one of the free times.") in (
        answer.content.decode()
    )
    assert not Appointment.objects.exists()


def test_another_members_booking_is_not_found(client, cast, advisors, letting):
    slot = free(letting, advisors)[0]
    booked = services.appointment_book(
        member=cast.alice.member,
        appointment_type=letting,
        starts_at=slot.starts,
        booked_by=cast.alice,
        advisor=advisors["tom"],
    )
    public_id = booked.appointment.public_id
    for person in (cast.bob, cast.dave):
        client.force_login(person)
        for name in ("detail", "cancel", "move", "ics"):
            assert client.get(reverse(f"appointments:{name}", args=[public_id])).status_code == 404
        assert client.post(reverse("appointments:cancel", args=[public_id])).status_code == 404
    assert Appointment.objects.get().status == Appointment.Status.BOOKED


def test_the_emails_link_cancels_without_a_login_and_then_is_dead(client, cast, advisors, letting):
    slot = free(letting, advisors)[0]
    booked = services.appointment_book(
        member=cast.alice.member,
        appointment_type=letting,
        starts_at=slot.starts,
        booked_by=cast.alice,
        advisor=advisors["tom"],
    )
    link = reverse("appointments:link", args=[booked.link_token])
    assert client.get(link).status_code == 200
    tampered = reverse("appointments:link", args=[booked.link_token[:-2] + "xx"])
    answer = client.get(tampered)
    assert answer.status_code == 404 and de("This link is no longer valid") in (
        answer.content.decode()
    )
    assert client.post(tampered, {"action": "cancel"}).status_code == 404
    assert Appointment.objects.get().status == Appointment.Status.BOOKED
    done = client.post(link, {"action": "cancel"})
    assert done.status_code == 200
    assert Appointment.objects.get().status == Appointment.Status.CANCELLED
    assert client.get(link).status_code == 404


def test_moving_by_the_link_gives_a_new_link_and_kills_the_old(client, cast, advisors, letting):
    slots = free(letting, advisors)
    booked = services.appointment_book(
        member=cast.alice.member,
        appointment_type=letting,
        starts_at=slots[0].starts,
        booked_by=cast.alice,
        advisor=advisors["tom"],
    )
    move = reverse("appointments:link_move", args=[booked.link_token])
    assert client.get(move).status_code == 200
    later = slots[-1].starts
    answer = client.post(move, {"zeit": later.isoformat()})
    appointment = Appointment.objects.get()
    assert appointment.starts_at == later and appointment.sequence == 1
    assert answer.status_code == 302 and booked.link_token not in answer["Location"]
    assert client.get(answer["Location"]).status_code == 200
    assert client.get(reverse("appointments:link", args=[booked.link_token])).status_code == 404


def test_an_appointment_about_a_request(alice_client, cast, advisors, letting):
    repair = ticket_create()
    page = alice_client.get(reverse("tickets:detail", args=[repair.reference]))
    assert f"{reverse('appointments:new')}?anliegen={repair.reference}" in page.content.decode()
    slot = free(letting, advisors)[0]
    page = alice_client.get(
        reverse("appointments:confirm", args=[letting.slug]),
        {"zeit": slot.starts.isoformat(), "anliegen": repair.reference},
    )
    assert f'value="{repair.reference}" selected' in page.content.decode()
    alice_client.post(
        reverse("appointments:confirm", args=[letting.slug]),
        {"zeit": slot.starts.isoformat(), "ticket": repair.reference, "request_key": "r1"},
    )
    assert Appointment.objects.get().ticket == repair


@pytest.mark.parametrize(
    "name", ["list", "new", "slots", "detail", "confirm", "cancel", "move", "ics", "link",
             "link_move"],
)  # fmt: skip
def test_appointment_pages_take_a_bounded_number_of_statements(
    alice_client, cast, advisors, letting, name
):
    for _ in range(3):
        booked = services.appointment_book(
            member=cast.alice.member,
            appointment_type=letting,
            starts_at=free(letting, advisors)[0].starts,
            booked_by=cast.alice,
            advisor=advisors["tom"],
        )
    appointment = booked.appointment
    day = timezone.localdate(appointment.starts_at).isoformat()
    public_id = appointment.public_id
    url = {
        "list": reverse("appointments:list"),
        "new": reverse("appointments:new"),
        "slots": reverse("appointments:slots", args=[letting.slug]) + f"?tag={day}",
        "detail": appointment.get_absolute_url(),
        "confirm": reverse("appointments:confirm", args=[letting.slug])
        + "?zeit="
        + free(letting, advisors)[0].starts.isoformat().replace("+", "%2B"),
        "cancel": reverse("appointments:cancel", args=[public_id]),
        "move": reverse("appointments:move", args=[public_id]) + f"?tag={day}",
        "ics": reverse("appointments:ics", args=[public_id]),
        "link": reverse("appointments:link", args=[booked.link_token]),
        "link_move": reverse("appointments:link_move", args=[booked.link_token]) + f"?tag={day}",
    }[name]
    statements = measured(alice_client, url)
    assert len(statements) <= MOST, "\n".join(statements)
    assert not repeated(statements), repeated(statements)


@pytest.mark.parametrize(
    "query, offered",
    [("Termin", True), ("Beratung Nebenkosten", True), ("persönliches Gespräch", True),
     ("Handwerkertermin", False), ("Termin Handwerker", False), ("Heizung kalt", False)],
)  # fmt: skip
def test_the_form_search_offers_an_appointment_for_words_that_want_one(
    alice_client, advisors, query, offered
):
    page = alice_client.get(reverse("tickets:new"), {"q": query}).content.decode()
    assert ('id="appointment-offer"' in page) is offered
    if offered:
        assert f'href="{reverse("appointments:new")}"' in page
