"""Booking an appointment in a real Chromium, keyboard only (issue 13):
alice picks a topic, a day and a free time by Tab and Enter; after
choosing a day the focus is on the list of free times; every time is a
real button whose name carries the full date and time; a time taken
meanwhile is announced; she cancels again. axe-core finds nothing at
1280 px and on a 360 px phone on every page."""

import datetime
import re

import pytest
from django.utils import timezone

from appointments.models import Appointment, AppointmentType
from appointments.selectors import slots_free
from appointments.services import appointment_book
from demo.appointments import appointments_demo_ensure
from tests.browser import check_page, log_in, tab_to
from tests.helpers import de

pytestmark = pytest.mark.browser


def focused(page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.textContent")


def test_alice_books_and_cancels_by_keyboard(page, live_server, cast, password):
    advisors = appointments_demo_ensure(hanna=cast.hanna, tom=cast.tom)
    base = live_server.url
    log_in(page, base, "alice@example.org", password)

    # From Mein Bereich: "Termin vereinbaren".
    check_page(page)
    tab_to(page, "main a[href='/termine/neu/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check_page(page)

    tab_to(page, "a[href='/termine/neu/vermietung/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check_page(page)

    # The first day with free times; the page opens with the focus on them.
    tab_to(page, "a.day-list__day")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert focused(page) == "freie-zeiten"
    check_page(page)

    # Every free time is a button named with the full date and time.
    buttons = page.locator("#freie-zeiten ~ form button.slot")
    assert buttons.count() >= 1
    name = page.evaluate(
        "el => el.textContent.replace(/\\s+/g, ' ').trim()", buttons.first.element_handle()
    )
    assert re.search(r"\d{2}:\d{2} " + de("o'clock") + r", \w+, \d{1,2}\. \w+ 20\d\d", name), name
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.matches('button.slot')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/bestaetigen/" in page.url
    check_page(page)

    page.locator("#id_note").focus()
    page.keyboard.type("Wohnungstausch")
    tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    appointment = Appointment.objects.get(member=cast.alice.member)
    assert page.url.endswith(appointment.get_absolute_url())
    assert de("Your appointment is booked. We have sent you a confirmation.") in page.content()
    check_page(page)

    # Cancel, by keyboard too.
    tab_to(page, f"a[href='{appointment.get_absolute_url()}absagen/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check_page(page)
    tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert de("The appointment is cancelled.") in page.content()

    # A time taken between choosing and confirming: announced, with the
    # nearest free times as buttons.
    letting = AppointmentType.objects.get(slug="vermietung")
    today = timezone.localdate()
    slot = slots_free(
        appointment_type=letting,
        advisors=[advisors["tom"]],
        first_day=today,
        last_day=today + datetime.timedelta(days=28),
    )[0]
    page.goto(
        f"{base}/termine/neu/vermietung/bestaetigen/?berater={advisors['tom'].pk}"
        f"&zeit={slot.starts.isoformat().replace('+', '%2B')}"
    )
    appointment_book(
        member=cast.dave.member,
        appointment_type=letting,
        starts_at=slot.starts,
        booked_by=cast.dave,
        advisor=advisors["tom"],
    )
    tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    alert = page.locator("main [role=alert]")
    assert de("This time was just taken") in alert.inner_text()
    assert page.locator("button.slot").count() >= 1
    check_page(page)
