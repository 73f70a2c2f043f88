"""The emergency page in a real Chromium: a member reports water running out
of the wall, is asked to call first (large tel: links, axe-core clean at
1280 and 360 px), and sends by keyboard alone once she has called."""

import pytest

from routing.models import Priority
from tests.browser import PHONE, assert_accessible, assert_fits_width, log_in, submit, tab_to
from tickets.models import Ticket

pytestmark = pytest.mark.browser

TOUCH = 48  # px: the smallest comfortable target for a finger (WCAG 2.5.5)


def call_links(page) -> list[dict]:
    """Each tel: link on the page with its size, as laid out now."""
    return page.evaluate(
        """[...document.querySelectorAll('main a[href^="tel:"]')].map(a => {
            const box = a.getBoundingClientRect();
            return {href: a.getAttribute('href'), width: box.width, height: box.height,
                    big: a.classList.contains('call-button')};
        })"""
    )


def check_call_page(page, width):
    assert_accessible(page)
    assert_fits_width(page)
    links = call_links(page)
    hrefs = [link["href"] for link in links]
    assert "tel:03012345699" in hrefs and "tel:112" in hrefs, hrefs
    for link in links:
        assert link["big"], link
        assert link["height"] >= TOUCH, link
        assert link["width"] >= min(width - 40, 280), link


def test_a_member_is_asked_to_call_and_sends_by_keyboard_after_calling(
    page, live_server, cast, password
):
    base = live_server.url
    log_in(page, base, "alice@example.org", password)
    page.goto(base + "/anliegen/neu/schadensmeldung/")
    page.check("#id_room_1")
    page.fill("#id_what", "Wasser läuft aus der Wand im Bad!")
    page.check("#id_urgency_0")
    page.check("#id_master_key_0")
    submit(page)
    page.wait_for_url(base + "/anliegen/neu/schadensmeldung/pruefen/")

    # Before anything is sent: the call page, at desktop and phone width.
    heading = page.locator("main h1").inner_text()
    assert heading in ("Bitte rufen Sie jetzt an", "Please call now"), heading
    check_call_page(page, 1280)
    page.set_viewport_size(PHONE)
    check_call_page(page, PHONE["width"])
    assert Ticket.objects.count() == 0

    # Keyboard only: from the top of the page to the confirmation, Enter.
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    ticket = Ticket.objects.get()
    page.wait_for_url(base + f"/anliegen/{ticket.reference}/")
    assert ticket.priority == Priority.EMERGENCY

    # The confirmation repeats whom to call, at both widths.
    assert "tel:03012345699" in [link["href"] for link in call_links(page)]
    assert_fits_width(page)
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert_accessible(page)
    for link in call_links(page):
        assert link["height"] >= TOUCH, link
