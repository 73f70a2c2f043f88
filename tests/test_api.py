"""The JSON API face (`/api/v1/`, issue 13) through the Django test client:
alice reads the topics and free times, books, reads and cancels her
appointments as JSON; a time dave took meanwhile answers 409 with the
nearest free times; a request sent twice is one booking; every refused
time says why (422) in the member's language; dave never sees alice's
booking; without a login 401, staff 404; a POST without the CSRF token is
refused; every endpoint costs a bounded number of statements."""

import datetime
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.services import language_set
from appointments import services
from appointments.models import Appointment, AppointmentType
from appointments.selectors import slots_free
from demo.appointments import appointments_demo_ensure
from mail.models import OutboundEmail
from tests.helpers import MOST, measured, otp_verify, repeated

pytestmark = pytest.mark.django_db

BOOK = "/api/v1/appointments"
TOPICS = "/api/v1/appointments/topics"


def german(text: str) -> str:
    """The German (default) text of a source string, as the JSON carries it."""
    with translation.override("de"):
        return gettext(text)


def english(text: str) -> str:
    with translation.override("en"):
        return gettext(text)


@pytest.fixture
def advisors(cast):
    return appointments_demo_ensure(hanna=cast.hanna, tom=cast.tom)


@pytest.fixture
def letting(advisors):
    return AppointmentType.objects.get(slug="vermietung")


@pytest.fixture
def alice_client(client, cast):
    client.force_login(cast.alice)
    return client


def free(letting, advisors, *, advisor="tom"):
    today = timezone.localdate()
    return slots_free(
        appointment_type=letting,
        advisors=[advisors[advisor]],
        first_day=today,
        last_day=today + datetime.timedelta(days=28),
    )


def slots_url(topic, **query) -> str:
    url = reverse("api:slots", kwargs={"slug": topic.slug})
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def post(client, url, body=None, **extra):
    return client.post(url, json.dumps(body or {}), content_type="application/json", **extra)


def booking(letting, starts_at, *, advisor="any", key="schluessel-1", **more):
    return {
        "topic": letting.slug,
        "advisor": advisor,
        "starts_at": starts_at.isoformat(),
        "request_key": key,
        **more,
    }


def book_for(cast, member_user, letting, advisors, starts_at, advisor="tom"):
    return services.appointment_book(
        member=member_user.member,
        appointment_type=letting,
        starts_at=starts_at,
        booked_by=member_user,
        advisor=advisors[advisor],
    ).appointment


# Reading -----------------------------------------------------------------------------------


def test_it_lists_the_bookable_topics(alice_client, letting):
    answer = alice_client.get(TOPICS)
    assert answer.status_code == 200 and answer["Content-Type"].startswith("application/json")
    topics = {topic["slug"]: topic for topic in answer.json()}
    assert topics["vermietung"] == {
        "slug": "vermietung",
        "name": "Vermietung und Wohnungswechsel",
        "description": letting.description_de,
        "duration_minutes": 30,
        "where": "office",
        "where_label": german("at the office"),
    }
    assert answer["Cache-Control"] == "private, no-store"


def test_it_lists_the_free_times_of_one_advisor(alice_client, advisors, letting):
    tom = advisors["tom"]
    answer = alice_client.get(slots_url(letting, advisor=tom.pk, days=29))  # as free(): 29 days
    assert answer.status_code == 200
    body = answer.json()
    expected = free(letting, advisors)
    assert len(body["slots"]) == len(expected) > 0
    first = body["slots"][0]
    starts = datetime.datetime.fromisoformat(first["starts_at"])
    # ISO 8601 with the offset of Berlin's wall clock, as the pages show it.
    assert starts == expected[0].starts and first["starts_at"][-6:] in ("+01:00", "+02:00")
    assert datetime.datetime.fromisoformat(first["ends_at"]) - starts == letting.duration
    assert first["advisor"] == {"id": tom.pk, "name": str(tom)}
    assert {slot["advisor"]["id"] for slot in body["slots"]} == {tom.pk}
    assert {one["id"] for one in body["advisors"]} == {advisors["tom"].pk, advisors["paul"].pk}


def test_it_lists_the_free_times_of_any_advisor_from_a_day_on(alice_client, advisors, letting):
    today = timezone.localdate()
    answer = alice_client.get(slots_url(letting, advisor="any", days=3))
    body = answer.json()
    assert answer.status_code == 200
    assert body["first_day"] == today.isoformat()
    assert body["last_day"] == (today + datetime.timedelta(days=2)).isoformat()
    later = today + datetime.timedelta(days=7)
    body = alice_client.get(slots_url(letting, **{"from": later.isoformat(), "days": 7})).json()
    assert body["first_day"] == later.isoformat()
    assert all(
        later <= datetime.date.fromisoformat(slot["starts_at"][:10]) for slot in body["slots"]
    )
    # A day in the past reads from today: nothing past is ever offered.
    body = alice_client.get(slots_url(letting, **{"from": "2020-01-01"})).json()
    assert body["first_day"] == today.isoformat()


@pytest.mark.parametrize("days", ["0", "32", "viele"])
def test_the_days_are_bounded(alice_client, letting, days):
    answer = alice_client.get(slots_url(letting, days=days))
    assert answer.status_code == 422
    assert answer.json()["detail"] == german(
        "Some of the data sent is not valid; “errors” names the fields."
    )
    assert answer.json()["errors"]


def test_an_advisor_who_does_not_offer_the_topic_is_refused(alice_client, advisors, letting):
    for value in (advisors["hanna"].pk, "tom", 999999):
        answer = alice_client.get(slots_url(letting, advisor=value))
        assert answer.status_code == 422
        assert answer.json() == {
            "detail": german("This advisor does not offer this kind of appointment."),
            "errors": [],
        }


def test_an_unknown_topic_is_not_found(alice_client, advisors):
    answer = alice_client.get(reverse("api:slots", kwargs={"slug": "gibt-es-nicht"}))
    assert answer.status_code == 404
    assert answer.json() == {"detail": german("Not found.")}


# Booking, reading, cancelling -----------------------------------------------------------------


def test_a_member_books_reads_lists_and_cancels(alice_client, cast, advisors, letting):
    slot = free(letting, advisors)[0]
    answer = post(
        alice_client,
        BOOK,
        booking(letting, slot.starts, advisor=advisors["tom"].pk, note="Wohnungstausch"),
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    appointment = Appointment.objects.get()
    assert body["id"] == str(appointment.public_id)
    assert appointment.member == cast.alice.member and appointment.advisor == advisors["tom"]
    assert appointment.note == "Wohnungstausch" and appointment.booked_by == cast.alice
    assert datetime.datetime.fromisoformat(body["starts_at"]) == slot.starts
    assert body["status"] == "booked" and body["status_label"] == german("booked")
    assert body["topic"] == {"slug": "vermietung", "name": letting.name_de}
    assert body["advisor"]["id"] == advisors["tom"].pk
    assert body["may_change"] is True and body["request"] is None
    # The member is told as on the pages: the e-mail with the invite.
    [email] = OutboundEmail.objects.filter(to="alice@example.org")
    assert email.calendar_method == "REQUEST"

    detail = alice_client.get(reverse("api:appointment", args=[appointment.public_id]))
    assert detail.status_code == 200 and detail.json() == body
    listing = alice_client.get(BOOK)
    assert listing.status_code == 200 and [a["id"] for a in listing.json()] == [body["id"]]

    cancel = post(alice_client, reverse("api:appointment_cancel", args=[appointment.public_id]))
    assert cancel.status_code == 200
    assert cancel.json()["status"] == "cancelled" and cancel.json()["may_change"] is False
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert alice_client.get(BOOK).json() == []
    # The time is free again at once.
    assert slot.starts in {s.starts for s in free(letting, advisors)}
    # Cancelled twice: it says so.
    again = post(alice_client, reverse("api:appointment_cancel", args=[appointment.public_id]))
    assert again.status_code == 409
    assert again.json() == {"detail": german("This appointment is no longer booked.")}


def test_any_advisor_is_booked_in_fair_turns(alice_client, advisors, letting):
    slot = free(letting, advisors)[0]
    answer = post(alice_client, BOOK, booking(letting, slot.starts))
    assert answer.status_code == 201
    assert answer.json()["advisor"]["id"] == Appointment.objects.get().advisor_id


def test_a_time_taken_meanwhile_answers_409_with_the_nearest_free_times(
    alice_client, cast, advisors, letting
):
    slot = free(letting, advisors)[0]
    book_for(cast, cast.dave, letting, advisors, slot.starts)
    answer = post(alice_client, BOOK, booking(letting, slot.starts, advisor=advisors["tom"].pk))
    assert answer.status_code == 409
    body = answer.json()
    assert body["detail"] == german("This time was just taken. Here are the nearest free times.")
    nearest = [datetime.datetime.fromisoformat(s["starts_at"]) for s in body["nearest"]]
    assert nearest and slot.starts not in nearest
    assert set(nearest) <= {s.starts for s in free(letting, advisors)}
    assert all(s["advisor"]["id"] == advisors["tom"].pk for s in body["nearest"])
    assert not Appointment.objects.filter(member=cast.alice.member).exists()
    # One of the nearest times, the same request key: booked.
    answer = post(
        alice_client,
        BOOK,
        booking(letting, nearest[0], advisor=advisors["tom"].pk),
    )
    assert answer.status_code == 201


def test_the_same_request_sent_twice_is_one_booking(alice_client, cast, advisors, letting):
    slot = free(letting, advisors)[0]
    first = post(alice_client, BOOK, booking(letting, slot.starts, key="doppelt-123"))
    again = post(alice_client, BOOK, booking(letting, slot.starts, key="doppelt-123"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Appointment.objects.count() == 1
    assert OutboundEmail.objects.filter(to="alice@example.org").count() == 1
    # Even once the topic is no longer offered: the retry gets its booking.
    AppointmentType.objects.filter(pk=letting.pk).update(active=False)
    late = post(alice_client, BOOK, booking(letting, slot.starts, key="doppelt-123"))
    assert late.status_code == 200 and late.json()["id"] == first.json()["id"]
    # The key is the member's own: dave's same key is his own booking.
    AppointmentType.objects.filter(pk=letting.pk).update(active=True)
    dave = Client()
    dave.force_login(cast.dave)
    other = post(dave, BOOK, booking(letting, free(letting, advisors)[0].starts, key="doppelt-123"))
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert Appointment.objects.count() == 2


def _refusals(letting, advisors):
    """Times that may not be booked, each with the reason the member reads."""
    slot = free(letting, advisors)[0]
    now = timezone.localtime()
    return {
        "past": (
            now - datetime.timedelta(hours=1),
            german("This time has already passed. Please choose another one."),
        ),
        "notice": (
            now + datetime.timedelta(hours=3),
            german("Appointments of this kind can be booked at least %(hours)s hours ahead.")
            % {"hours": 24},
        ),
        "horizon": (
            slot.starts + datetime.timedelta(days=70),
            german("Appointments of this kind can be booked at most %(days)s days ahead.")
            % {"days": 56},
        ),
        "outside the hours": (
            slot.starts + datetime.timedelta(minutes=7),
            german("This time is not offered. Please choose one of the free times."),
        ),
    }


@pytest.mark.parametrize("case", ["past", "notice", "horizon", "outside the hours"])
def test_a_time_that_may_not_be_booked_is_refused_with_its_reason(
    alice_client, advisors, letting, case
):
    starts_at, says = _refusals(letting, advisors)[case]
    answer = post(alice_client, BOOK, booking(letting, starts_at, advisor=advisors["tom"].pk))
    assert answer.status_code == 422, answer.content
    assert answer.json()["detail"] == says
    assert not Appointment.objects.exists() and not OutboundEmail.objects.exists()


def test_too_many_upcoming_appointments_are_refused(
    alice_client, cast, advisors, letting, settings
):
    settings.APPOINTMENTS_MAX_UPCOMING = 1
    first, second = free(letting, advisors)[:2]
    book_for(cast, cast.alice, letting, advisors, first.starts)
    answer = post(alice_client, BOOK, booking(letting, second.starts, key="noch-einer"))
    assert answer.status_code == 422
    assert answer.json()["detail"] == german(
        "You already have %(count)s appointments coming up. Please cancel one "
        "you no longer need, or call us."
    ) % {"count": 1}
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    "change, status",
    [
        ({"starts_at": "morgen"}, 422),
        ({"starts_at": "2027-03-02T08:30:00"}, 422),  # no offset: which 08:30?
        ({"request_key": "kurz"}, 422),
        ({"request_key": "k" * 65}, 422),
        ({"note": "x" * 1001}, 422),
        ({"note": "Hallo\x00Welt"}, 422),  # PostgreSQL cannot store it
        ({"advisor": "jemand"}, 422),
        ({"topic": "gibt-es-nicht"}, 422),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(alice_client, advisors, letting, change, status):
    slot = free(letting, advisors)[0]
    answer = post(alice_client, BOOK, {**booking(letting, slot.starts), **change})
    assert answer.status_code == status, answer.content
    assert answer.json()["detail"]
    assert not Appointment.objects.exists() and not OutboundEmail.objects.exists()


def test_a_broken_body_is_refused(alice_client, advisors):
    answer = alice_client.post(BOOK, "{kein json", content_type="application/json")
    assert answer.status_code == 400
    assert answer.json() == {"detail": german("The data sent is not valid JSON.")}
    assert not Appointment.objects.exists()


def test_cancelling_past_the_cutoff_is_refused_with_a_message(
    alice_client, cast, advisors, letting
):
    appointment = book_for(cast, cast.alice, letting, advisors, free(letting, advisors)[0].starts)
    # Changes end this many hours before: for this booking, already now.
    AppointmentType.objects.filter(pk=letting.pk).update(cancel_cutoff_hours=24 * 90)
    detail = alice_client.get(reverse("api:appointment", args=[appointment.public_id])).json()
    assert detail["may_change"] is False
    answer = post(alice_client, reverse("api:appointment_cancel", args=[appointment.public_id]))
    assert answer.status_code == 409
    assert answer.json() == {
        "detail": german("This appointment can no longer be changed online. Please call us.")
    }
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


# Who may ---------------------------------------------------------------------------------------


def test_another_members_appointment_is_not_found(client, cast, advisors, letting):
    appointment = book_for(cast, cast.alice, letting, advisors, free(letting, advisors)[0].starts)
    for someone in (cast.bob, cast.dave):  # her household partner too: it is hers alone
        client.force_login(someone)
        detail = client.get(reverse("api:appointment", args=[appointment.public_id]))
        assert detail.status_code == 404 and detail.json() == {"detail": german("Not found.")}
        cancel = post(client, reverse("api:appointment_cancel", args=[appointment.public_id]))
        assert cancel.status_code == 404
        assert client.get(BOOK).json() == []
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_a_malformed_id_is_refused(alice_client, advisors):
    answer = alice_client.get(f"{BOOK}/kein-termin")
    assert answer.status_code == 422
    assert [error["loc"] for error in answer.json()["errors"]] == [["path", "public_id"]]


def _everything(letting, public_id):
    return [
        ("get", TOPICS),
        ("get", slots_url(letting)),
        ("get", BOOK),
        ("get", reverse("api:appointment", args=[public_id])),
        ("post", BOOK),
        ("post", reverse("api:appointment_cancel", args=[public_id])),
    ]


def test_without_a_login_it_answers_401(client, cast, advisors, letting):
    appointment = book_for(cast, cast.alice, letting, advisors, free(letting, advisors)[0].starts)
    for method, url in _everything(letting, appointment.public_id):
        answer = client.get(url) if method == "get" else post(client, url, {})
        assert answer.status_code == 401, url
        assert answer.json() == {"detail": german("Please log in.")}
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


@pytest.mark.parametrize("role", ["hanna", "tom", "ada"])
def test_staff_get_404_as_on_the_member_pages(client, cast, advisors, letting, role):
    appointment = book_for(cast, cast.alice, letting, advisors, free(letting, advisors)[0].starts)
    user = getattr(cast, role)
    client.force_login(user)
    if user.two_factor_required:
        otp_verify(client, user)
    slot = free(letting, advisors)[1]
    for method, url in _everything(letting, appointment.public_id):
        body = booking(letting, slot.starts) if url == BOOK else {}
        answer = client.get(url) if method == "get" else post(client, url, body)
        assert answer.status_code == 404, (url, answer.content)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert Appointment.objects.count() == 1


def test_a_post_without_the_csrf_token_is_refused(cast, advisors, letting):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cast.alice)
    slot = free(letting, advisors)[0]
    refused = post(browser, BOOK, booking(letting, slot.starts))
    assert refused.status_code == 403
    assert refused.json()["detail"] == german(
        "The security token (CSRF) is missing or wrong. Please load the page again and "
        "repeat what you did."
    )
    assert not Appointment.objects.exists()
    # A wrong token is no better.
    browser.cookies["csrftoken"] = "x" * 32
    wrong = post(browser, BOOK, booking(letting, slot.starts), HTTP_X_CSRFTOKEN="y" * 32)
    assert wrong.status_code == 403 and not Appointment.objects.exists()
    del browser.cookies["csrftoken"]
    # Any GET of the API hands out the cookie; sent back as the header, it books.
    assert browser.get(TOPICS).status_code == 200
    token = browser.cookies["csrftoken"].value
    booked = post(browser, BOOK, booking(letting, slot.starts), HTTP_X_CSRFTOKEN=token)
    assert booked.status_code == 201
    cancel = reverse("api:appointment_cancel", args=[booked.json()["id"]])
    assert post(browser, cancel).status_code == 403
    assert post(browser, cancel, HTTP_X_CSRFTOKEN=token).status_code == 200


# Languages ---------------------------------------------------------------------------------------


def test_messages_are_german_by_default_and_english_for_an_english_account(
    alice_client, cast, advisors, letting
):
    slot = free(letting, advisors)[0]
    book_for(cast, cast.dave, letting, advisors, slot.starts)
    body = booking(letting, slot.starts, advisor=advisors["tom"].pk)
    german_answer = post(alice_client, BOOK, body).json()
    assert german_answer["detail"] == german(
        "This time was just taken. Here are the nearest free times."
    )
    assert german_answer["detail"] != english(
        "This time was just taken. Here are the nearest free times."
    )
    # A logged-in member's saved language wins, as on the pages.
    language_set(user=cast.alice, language="en")
    english_answer = post(alice_client, BOOK, body)
    assert english_answer["Content-Language"] == "en"
    assert english_answer.json()["detail"] == (
        "This time was just taken. Here are the nearest free times."
    )
    topics = {t["slug"]: t for t in alice_client.get(TOPICS).json()}
    assert topics["vermietung"]["name"] == "Letting and moving flats"
    assert topics["vermietung"]["where_label"] == "at the office"


def test_without_a_login_the_browser_or_the_cookie_chooses_the_language(client, advisors):
    assert client.get(TOPICS).json()["detail"] == "Bitte melden Sie sich an."
    answer = client.get(TOPICS, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert answer.json()["detail"] == "Please log in."
    browser = Client()
    browser.cookies["genoportal_language"] = "en"
    assert browser.get(TOPICS).json()["detail"] == "Please log in."


# The document ---------------------------------------------------------------------------------


def test_the_openapi_document_lists_every_endpoint(client):
    answer = client.get(reverse("api:openapi-json"))
    assert answer.status_code == 200
    document = answer.json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    assert set(paths) == {
        "/api/v1/appointments/topics",
        "/api/v1/appointments/topics/{slug}/slots",
        "/api/v1/appointments",
        "/api/v1/appointments/{public_id}",
        "/api/v1/appointments/{public_id}/cancel",
    }
    assert set(paths["/api/v1/appointments"]) == {"get", "post"}
    assert {"201", "200", "409", "422"} <= set(paths["/api/v1/appointments"]["post"]["responses"])
    # No interactive page that would load Swagger UI from a CDN.
    assert client.get("/api/v1/docs").status_code == 404


# Statements --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["topics", "slots", "appointments", "appointment"])
def test_reading_takes_a_bounded_number_of_statements(alice_client, cast, advisors, letting, name):
    for _ in range(3):
        booked = book_for(cast, cast.alice, letting, advisors, free(letting, advisors)[0].starts)
    url = {
        "topics": TOPICS,
        "slots": slots_url(letting, days=31),
        "appointments": BOOK,
        "appointment": reverse("api:appointment", args=[booked.public_id]),
    }[name]
    statements = measured(alice_client, url)
    assert len(statements) <= MOST, "\n".join(statements)
    assert not repeated(statements), repeated(statements)


def _statements(client, url, body=None) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        answer = post(client, url, body)
    return answer.status_code, [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize("before", [0, 2])
def test_booking_and_cancelling_take_a_bounded_number_of_statements(
    alice_client, cast, advisors, letting, before
):
    for _ in range(before):
        book_for(cast, cast.alice, letting, advisors, free(letting, advisors)[0].starts)
    slot = free(letting, advisors)[0]
    status, booking_statements = _statements(
        alice_client, BOOK, booking(letting, slot.starts, advisor=advisors["tom"].pk)
    )
    assert status == 201
    # The lock, the checks, the insert, the outbox: as many with earlier
    # bookings as without (27 measured, with the e-mail and its invite).
    assert len(booking_statements) <= 30, "\n".join(booking_statements)
    public_id = Appointment.objects.latest("created_at").public_id
    status, cancel_statements = _statements(
        alice_client, reverse("api:appointment_cancel", args=[public_id])
    )
    assert status == 200
    assert len(cancel_statements) <= 15, "\n".join(cancel_statements)
