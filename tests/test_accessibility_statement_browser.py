"""The accessibility statement and the barrier report in a real Chromium:
reached from the footer, the report sent with the keyboard alone, without
a login and logged in; axe-core clean and without sideways scrolling at
1280 px and on a 360 px phone on every page on the way."""

import pytest

from tests.browser import check_page, log_in, tab_to
from tickets.models import Ticket

pytestmark = pytest.mark.browser


def _send_by_keyboard(page):
    tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_visitor_reports_a_barrier_by_keyboard(page, live_server, cast):
    base = live_server.url
    page.goto(base + "/")
    page.locator("footer a[href='/barrierefreiheit/']").click()
    page.wait_for_url(base + "/barrierefreiheit/")
    assert "axe-core" in page.locator("main").inner_text()
    check_page(page)

    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    tab_to(page, "main a[href='/barrierefreiheit/melden/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(base + "/barrierefreiheit/melden/")
    check_page(page)
    # The robots' field is out of reach for people: Tab never lands on it.
    assert not page.locator("#id_contact-website").is_visible()

    # Sent empty first: the summary takes the focus; then filled in by keyboard.
    _send_by_keyboard(page)
    assert page.evaluate("document.activeElement.matches('[data-error-summary]')")
    check_page(page)
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    tab_to(page, "#id_page")
    page.keyboard.type("Anmeldung")
    tab_to(page, "#id_problem")
    page.keyboard.type("Die Fehlermeldung wird nicht vorgelesen.")
    tab_to(page, "#id_reply_0")
    page.keyboard.press("Space")  # by e-mail
    tab_to(page, "#id_contact-email")
    page.keyboard.type("gast@example.net")
    _send_by_keyboard(page)
    page.wait_for_url(base + "/barrierefreiheit/melden/gesendet/")
    ticket = Ticket.objects.get()
    assert ticket.contact_email == "gast@example.net" and ticket.member is None
    assert ticket.reference in page.locator("main").inner_text()
    check_page(page)


def test_alice_reports_a_barrier_from_the_page_she_is_on(page, live_server, cast, password):
    base = live_server.url
    log_in(page, base, "alice@example.org", password)
    page.goto(base + "/termine/")
    page.locator("footer a[href^='/barrierefreiheit/melden/']").click()
    page.wait_for_url(base + "/barrierefreiheit/melden/?seite=/termine/")
    assert page.locator("#id_page").input_value() == "/termine/"
    check_page(page)
    page.fill("#id_problem", "Die Uhrzeiten sind schwer zu lesen.")
    page.check("#id_reply_0")
    _send_by_keyboard(page)
    page.wait_for_url(base + "/barrierefreiheit/melden/gesendet/")
    ticket = Ticket.objects.get()
    assert ticket.member == cast.alice.member and ticket.answers["page"] == "/termine/"
    check_page(page)
    page.locator(f"main a[href='/anliegen/{ticket.reference}/']").click()
    page.wait_for_url(base + f"/anliegen/{ticket.reference}/")
    assert "Die Uhrzeiten sind schwer zu lesen." in page.locator("main").inner_text()
