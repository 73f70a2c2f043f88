"""Booking for a caller in a real Chromium: hanna has alice on the phone,
goes from the phone log to "Make an appointment" and books a letting
consultation with any advisor by keyboard only; then she looks at her
week. axe-core finds nothing on every page, at 1280 and at 360 px."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments import services
from appointments.models import Appointment, AppointmentType
from appointments.selectors import slots_free
from demo.appointments import appointments_demo_ensure
from tests.browser import check_page, log_in, tab_to

pytestmark = pytest.mark.browser


def test_hanna_books_for_a_caller_by_keyboard(page, live_server, cast, password):
    advisors = appointments_demo_ensure(hanna=cast.hanna, tom=cast.tom)
    base = live_server.url
    log_in(page, base, "hanna@example.org", password)
    page.goto(base + reverse("backoffice:phone_start") + "?mitglied=20001")
    check_page(page)

    start = reverse("backoffice:appointment_book", args=["20001"])
    tab_to(page, f"main a[href='{start}']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(base + start)
    check_page(page)

    tab_to(page, "main a[href$='/vermietung/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check_page(page)
    # "Any advisor" is chosen already; the first day with free times.
    tab_to(page, "main .day-list__day")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "freie-zeiten"
    check_page(page)
    tab_to(page, "main button.slot")
    chosen = page.evaluate("document.activeElement.value")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/bestaetigen/" in page.url
    check_page(page)

    tab_to(page, "#id_note")
    page.keyboard.type("Wohnungstausch, ruft aus dem Urlaub an")
    tab_to(page, "main form[method=post] button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    appointment = Appointment.objects.get()
    page.wait_for_url(base + reverse("backoffice:appointment_booked", args=[appointment.public_id]))
    assert appointment.member == cast.alice.member and appointment.booked_by == cast.hanna
    assert appointment.starts_at == datetime.datetime.fromisoformat(chosen)
    assert "alice@example.org" in page.locator("main").inner_text()
    check_page(page)

    # Her own week, with a home visit and a blocked afternoon in it.
    visit = AppointmentType.objects.get(slug="technik-vor-ort")
    today = timezone.localdate()
    slot = slots_free(
        appointment_type=visit,
        advisors=[advisors["hanna"]],
        first_day=today,
        last_day=today + datetime.timedelta(days=28),
    )[0]
    booked = services.appointment_book(
        member=cast.alice.member,
        appointment_type=visit,
        starts_at=slot.starts,
        booked_by=cast.alice,
        advisor=advisors["hanna"],
    ).appointment
    day = timezone.localdate(slot.starts)
    zone = timezone.get_default_timezone()
    services.appointment_block(
        advisor=advisors["hanna"],
        starts_at=datetime.datetime.combine(day, datetime.time(17), zone),
        ends_at=datetime.datetime.combine(day, datetime.time(18), zone),
        actor=cast.hanna,
        reason="Teamsitzung",
    )
    page.goto(base + reverse("backoffice:appointments") + f"?woche={day.isoformat()}")
    main = page.locator("main").inner_text()
    assert "Alice Ahrens" in main and "Teamsitzung" in main
    check_page(page)
    with page.expect_navigation():
        page.locator(f"main a[href$='{booked.public_id}/']").click()
    check_page(page)
