"""Phone intake in a real Chromium: hanna types a name, the list appears as
she types (htmx), she picks alice with the keyboard only and files a repair
report for her; axe-core finds nothing at 1280 and 360 px on the way."""

import pytest

from tests.browser import PHONE, assert_fits_width, check_page, log_in, tab_to
from tests.helpers import de
from tickets.models import Channel, Ticket

pytestmark = pytest.mark.browser

NOTHING = "No member found. Check the spelling, or search by address, phone or member number."


def test_hanna_finds_alice_by_name_and_files_by_keyboard(page, live_server, cast, password):
    base = live_server.url
    # htmx under the strict Content-Security-Policy: nothing may be refused.
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    log_in(page, base, "hanna@example.org", password)
    page.goto(base + "/bearbeitung/anruf/")
    check_page(page)

    # Typing lists the members as she types: no submit, no page load.
    page.locator("#member-q").focus()
    page.keyboard.type("ahrens ali", delay=30)
    results = page.locator("#member-results .member-results__link")
    results.first.wait_for()
    assert results.count() == 1
    assert "Alice Ahrens" in results.first.inner_text()
    status = page.locator("#member-results-status")
    assert status.get_attribute("role") == "status"
    assert "1" in status.inner_text()
    page.wait_for_url(base + "/bearbeitung/anruf/?q=ahrens+ali")  # a reload keeps the list
    check_page(page)

    # An odd query: the empty state, then back to a useful one.
    page.locator("#member-q").fill("\"'<b>" + "ö" * 300)
    page.locator("#member-q").dispatch_event("input")
    results.first.wait_for(state="detached")  # the empty state, with its message
    assert de(NOTHING) in status.inner_text()
    check_page(page)
    page.locator("#member-q").fill("")
    page.keyboard.type("Ahrens", delay=30)
    results.nth(1).wait_for()
    assert results.count() == 2

    assert page.evaluate("window.__violations") == []

    # Keyboard only: Tab from the search box to alice, Enter picks her.
    page.locator("#member-q").focus()
    tab_to(page, "#member-results .member-results__link")
    assert "Alice Ahrens" in page.evaluate("document.activeElement.innerText")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "mitglied=20001" in page.url
    main = page.locator("main").inner_text()
    assert "Alice Ahrens" in main and "Bob Ahrens" in main  # her household
    check_page(page)

    # The form (grouped like the member's page) and the channel, by keyboard.
    tab_to(page, "#id_request_type")
    page.select_option("#id_request_type", label="Schadensmeldung / Reparatur")
    tab_to(page, "#id_channel_0")
    page.keyboard.press("ArrowDown")  # the counter
    tab_to(page, "main form[method=post] button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(base + "/bearbeitung/anruf/20001/schadensmeldung/counter/")
    check_page(page)

    # Bob came to the counter about their flat.
    tab_to(page, "#id_caller_0")
    page.keyboard.press("ArrowDown")  # Bob, of the household
    tab_to(page, "#id_room_0")
    page.keyboard.press("ArrowDown")
    tab_to(page, "#id_what")
    page.keyboard.type("Die Wohnungstür klemmt.")
    tab_to(page, "#id_urgency_0")
    page.keyboard.press("Space")
    tab_to(page, "#id_master_key_0")
    page.keyboard.press("Space")
    tab_to(page, "#id_note")
    page.keyboard.type("Herr Ahrens kam persönlich vorbei.")
    tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    ticket = Ticket.objects.get()
    page.wait_for_url(base + f"/bearbeitung/anliegen/{ticket.reference}/")
    assert (ticket.member, ticket.channel) == (cast.alice.member, Channel.COUNTER)
    assert ticket.contact_name.startswith("Bob Ahrens")
    assert ticket.answers["what"] == "Die Wohnungstür klemmt."
    assert "Herr Ahrens kam persönlich vorbei." in page.locator("main").inner_text()
    check_page(page)


def test_a_caller_who_is_not_a_member_on_a_phone_screen(page, live_server, cast, password):
    base = live_server.url
    log_in(page, base, "hanna@example.org", password)
    page.set_viewport_size(PHONE)
    page.goto(base + "/bearbeitung/anruf/")
    assert_fits_width(page)
    with page.expect_navigation():
        page.locator("main a[href$='kein_mitglied=1']").click()
    page.set_viewport_size({"width": 1280, "height": 900})
    check_page(page)
    page.select_option("#id_request_type", label="Schadensmeldung / Reparatur")
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").click()
    page.wait_for_url(base + "/bearbeitung/anruf/kein-mitglied/schadensmeldung/phone/")
    check_page(page)

    # Sent without a name: the error summary gets the focus, nothing is lost.
    page.fill("#id_note", "Anruf eines Nachbarn.")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert page.evaluate("document.activeElement.matches('[data-error-summary]')")
    assert page.input_value("#id_note") == "Anruf eines Nachbarn."
    check_page(page)
    page.fill("#id_contact_name", "Hans Nachbar")
    page.check("#id_room_0")
    page.fill("#id_what", "Wasser im Treppenhaus.")
    page.check("#id_urgency_0")
    page.check("#id_master_key_1")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    ticket = Ticket.objects.get()
    page.wait_for_url(base + f"/bearbeitung/anliegen/{ticket.reference}/")
    assert ticket.member is None and ticket.team is None
    assert "Hans Nachbar" in page.locator("main").inner_text()
    check_page(page)
