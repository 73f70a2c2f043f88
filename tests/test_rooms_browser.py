"""Guest apartments and common rooms in a real Chromium (issue 13, point 8),
keyboard only: alice goes from Mein Bereich to the guest apartment, picks
a free day in the month's calendar, fills in the departure and the
persons, sees the price, books and cancels again. A departure before the
arrival and nights taken meanwhile are announced (the error summary gets
the focus; the taken nights answer 409 with the calendar). tom, a team
lead, confirms one common-room booking and declines another with a
reason. axe-core finds nothing on every page at 1280 px and on a 360 px
phone, where nothing scrolls sideways.

The dates are counted from today: the demo's stays (rooms_demo_ensure)
are bob's from day 5 to 8 and dave's from day 16 to 18, the guest
apartment wants 24 hours' notice and may be cancelled online until 48
hours before, the common room wants 48 hours' notice."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from demo.rooms import rooms_demo_ensure
from rooms.models import RoomBooking
from rooms.services import room_book, room_span
from tests.browser import check_page, log_in, tab_to
from tests.helpers import de, otp_device

pytestmark = pytest.mark.browser

DAY = datetime.timedelta(days=1)


def focused(page, selector: str) -> bool:
    return page.evaluate(f"document.activeElement.matches({selector!r})")


def press_enter(page):
    """Enter on the focused link or button, waiting for the next page."""
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    return navigation.value


def type_date(page, day: datetime.date) -> None:
    """Type a date into the focused date field, digit by digit, in the
    order this Chromium's fields take them (its UI language decides:
    month first in English, day first in German). The order is found on a
    throwaway field, removed again at once."""
    page.evaluate(
        "() => { const probe = document.createElement('input'); probe.type = 'date';"
        " probe.id = 'probe-date'; document.body.append(probe); }"
    )
    back = page.evaluate("document.activeElement.id")
    page.focus("#probe-date")
    page.keyboard.type("01022030")
    probe = page.input_value("#probe-date")
    page.evaluate("document.getElementById('probe-date').remove()")
    page.focus(f"#{back}")
    digits = {
        "2030-01-02": f"{day:%m%d%Y}",
        "2030-02-01": f"{day:%d%m%Y}",
    }.get(probe, f"{day:%Y%m%d}")
    page.keyboard.type(digits)
    assert page.input_value(f"#{back}") == day.isoformat()


def go_to_month(page, day: datetime.date) -> None:
    """Keyboard: "Next month" until the calendar shows the month of `day`."""
    caption = day.strftime("%Y-%m")
    for _ in range(3):
        if page.locator(f"table.month a[href*='={caption}-']").count():
            return
        tab_to(page, "main a.month-nav__next")
        press_enter(page)
    raise AssertionError(f"the calendar never showed {caption}")


def test_alice_books_the_guest_apartment_and_cancels_by_keyboard(page, live_server, cast, password):
    flat = rooms_demo_ensure(cast)["flat"]
    today = timezone.localdate()
    arrival, departure = today + 9 * DAY, today + 11 * DAY
    base = live_server.url
    log_in(page, base, "alice@example.org", password)
    check_page(page)

    # Mein Bereich: "Gästewohnung oder Raum buchen".
    tab_to(page, f"main a[href='{reverse('rooms:list')}']")
    assert page.evaluate("document.activeElement.textContent.trim()") == de(
        "Book a guest apartment or room"
    )
    press_enter(page)
    check_page(page)
    tab_to(page, f"main a[href='{flat.get_absolute_url()}']")
    press_enter(page)
    check_page(page)

    # The calendar (the next month's if the arrival falls in it): a free
    # day is a link that says "frei".
    go_to_month(page, arrival)
    tab_to(page, f"table.month a[href*='anreise={arrival.isoformat()}']")
    assert de("free") in page.evaluate("document.activeElement.textContent")
    press_enter(page)
    assert page.url.endswith(f"?anreise={arrival.isoformat()}#buchen")
    assert page.input_value("#id_anreise") == arrival.isoformat()
    # The calendar stays in the month of the day picked.
    assert page.locator(f"table.month a[href*='anreise={arrival.isoformat()}']").count() == 1
    check_page(page)

    # From the form's heading, Tab leads to the arrival, then (past the
    # arrival's day, month and year) to the departure.
    page.keyboard.press("Tab")
    assert focused(page, "#id_anreise")
    tab_to(page, "#id_abreise")
    type_date(page, departure)
    tab_to(page, "#id_personen")
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    tab_to(page, "main form[action$='/bestaetigen/'] button[type=submit]")
    assert page.evaluate("document.activeElement.textContent.trim()") == de(
        "Check and see the price"
    )
    response = press_enter(page)
    assert response.status == 200 and "/bestaetigen/" in page.url

    # The confirmation: two nights at 35 € and the cleaning, 25 €.
    summary = page.locator("main .summary-list").inner_text()
    assert "95,00 €" in summary and "2" in summary
    check_page(page)
    tab_to(page, "#id_anlass")
    page.keyboard.type("Meine Eltern")
    tab_to(page, "main form[method=post] button[type=submit]")
    assert page.evaluate("document.activeElement.textContent.trim()") == de(
        "Book with obligation to pay"
    )
    press_enter(page)
    booking = RoomBooking.objects.get(member=cast.alice.member)
    assert page.url == base + booking.get_absolute_url()
    assert booking.status == RoomBooking.Status.CONFIRMED
    assert (booking.units, booking.persons, booking.purpose) == (2, 2, "Meine Eltern")
    assert timezone.localdate(booking.starts_at) == arrival
    assert timezone.localdate(booking.ends_at) == departure
    assert de("Booked. We have sent you a confirmation.") in page.content()
    check_page(page)

    # Cancel, by keyboard too.
    tab_to(page, f"main a[href='{reverse('rooms:cancel', args=[booking.public_id])}']")
    press_enter(page)
    assert "Nein, Buchung behalten" in page.locator("main").inner_text()  # not "Termin"
    check_page(page)
    tab_to(page, "main form[method=post] button[type=submit]")
    press_enter(page)
    booking.refresh_from_db()
    assert booking.status == RoomBooking.Status.CANCELLED
    assert page.url == base + booking.get_absolute_url()
    assert de("Your booking is cancelled.") in page.content()
    check_page(page)


def test_a_departure_before_the_arrival_is_announced(page, live_server, cast, password):
    flat = rooms_demo_ensure(cast)["flat"]
    today = timezone.localdate()
    base = live_server.url
    log_in(page, base, "alice@example.org", password)
    page.goto(base + flat.get_absolute_url())

    tab_to(page, "#id_anreise")
    type_date(page, today + 10 * DAY)
    tab_to(page, "#id_abreise")
    type_date(page, today + 9 * DAY)
    tab_to(page, "main form[action$='/bestaetigen/'] button[type=submit]")
    response = press_enter(page)
    assert response.status == 400
    summary = page.locator("main [data-error-summary]")
    assert summary.get_attribute("role") == "alert"
    assert de("The departure must be at least one day after the arrival.") in summary.inner_text()
    # The summary has the focus (static/js/site.js), so it is read out first.
    assert focused(page, "[data-error-summary]")
    # What was typed stays in the form.
    assert page.input_value("#id_abreise") == (today + 9 * DAY).isoformat()
    check_page(page)
    assert RoomBooking.objects.filter(member=cast.alice.member).count() == 0


def test_nights_taken_meanwhile_answer_409_with_the_calendar(page, live_server, cast, password):
    flat = rooms_demo_ensure(cast)["flat"]
    today = timezone.localdate()
    arrival, departure = today + 9 * DAY, today + 11 * DAY
    base = live_server.url
    log_in(page, base, "alice@example.org", password)
    url = reverse("rooms:confirm", args=[flat.slug])
    page.goto(f"{base}{url}?anreise={arrival}&abreise={departure}&personen=2")
    assert "95,00 €" in page.locator("main .summary-list").inner_text()

    # dave books the same nights while alice reads the price.
    room_book(
        room=flat,
        member=cast.dave.member,
        span=room_span(room=flat, arrival=arrival, departure=departure),
        booked_by=cast.dave,
        persons=3,
    )
    tab_to(page, "main form[method=post] button[type=submit]")
    response = press_enter(page)
    assert response.status == 409
    alert = page.locator("main [role=alert]")
    assert de("This time is already booked. Please choose another one in the calendar.") in (
        alert.inner_text()
    )
    assert focused(page, "[data-error-summary]")
    # The calendar of that month: the arrival day is booked now, no link.
    date = page.locator(".month__date", has_text=re.compile(rf"^{arrival.day}$"))
    cell = page.locator("table.month").first.locator("td", has=date)  # the month shown first
    assert "month__day--taken" in cell.get_attribute("class")
    assert de("booked") in cell.inner_text()
    assert page.locator(f"table.month a[href*='anreise={arrival.isoformat()}']").count() == 0
    check_page(page)
    assert not RoomBooking.objects.filter(member=cast.alice.member).exists()


def test_tom_confirms_and_declines_common_room_bookings_by_keyboard(
    page, live_server, cast, password
):
    hall = rooms_demo_ensure(cast)["hall"]
    # bob's birthday (the demo's) and alice's meeting both await staff.
    bobs = RoomBooking.objects.get(room=hall, member=cast.bob.member)
    day = timezone.localdate() + 20 * DAY
    alices = room_book(
        room=hall,
        member=cast.alice.member,
        span=room_span(room=hall, day=day, start=datetime.time(10), end=datetime.time(14)),
        booked_by=cast.alice,
        persons=8,
        purpose="Hausversammlung",
    )
    assert bobs.status == alices.status == RoomBooking.Status.REQUESTED
    base = live_server.url
    # A team lead logs in with the code from the authenticator app as well.
    otp_device(cast.tom)
    log_in(page, base, "tom@example.org", password)

    # "Raumbuchungen" in the navigation.
    bookings = reverse("backoffice:room_bookings")
    tab_to(page, f"nav.site-nav a[href='{bookings}']")
    assert page.evaluate("document.activeElement.textContent.trim()") == de("Room bookings")
    press_enter(page)
    waiting = page.locator("main ul.ticket-list").first.inner_text()
    assert "Alice Ahrens" in waiting and "Bob Ahrens" in waiting
    check_page(page)

    # alice's: confirm.
    tab_to(page, f"main a[href='{reverse('backoffice:room_booking', args=[alices.public_id])}']")
    press_enter(page)
    assert "Hausversammlung" in page.locator("main").inner_text()
    check_page(page)
    tab_to(page, "main button[name=action][value=confirm]")
    press_enter(page)
    alices.refresh_from_db()
    assert alices.status == RoomBooking.Status.CONFIRMED and alices.decided_by == cast.tom
    assert de("Confirmed. The member gets an e-mail.") in page.content()
    check_page(page)

    # Back to the list (the caption's link), then bob's: decline with a reason.
    tab_to(page, f"main a[href='{bookings}']")
    press_enter(page)
    tab_to(page, f"main a[href='{reverse('backoffice:room_booking', args=[bobs.public_id])}']")
    press_enter(page)
    decline = reverse("backoffice:room_booking_decline", args=[bobs.public_id])
    tab_to(page, f"main a[href='{decline}']")
    press_enter(page)
    check_page(page)
    # Without a reason: announced, the focus on the summary.
    tab_to(page, "main form[method=post] button[type=submit]")
    assert press_enter(page).status == 400
    assert focused(page, "[data-error-summary]")
    check_page(page)
    tab_to(page, "#id_reason")
    page.keyboard.type("Der Raum wird an dem Tag renoviert.")
    tab_to(page, "main form[method=post] button[type=submit]")
    press_enter(page)
    bobs.refresh_from_db()
    assert bobs.status == RoomBooking.Status.DECLINED
    assert bobs.decline_reason == "Der Raum wird an dem Tag renoviert."
    assert de("Declined. The member gets an e-mail with your reason.") in page.content()
    check_page(page)
