"""Meine Mitgliedschaft and the form to cancel voluntary shares in a real
Chromium: reached from Mein Bereich, used with the keyboard alone,
axe-core clean and without sideways scrolling at 1280 px and on a 360 px
phone — the wide tables scroll inside their own region, which the keyboard
reaches."""

import pytest
from django.utils import timezone

from members.shares import cancellation_effective_on
from tests.browser import PHONE, check_page, log_in, submit, tab_to
from tickets.models import Ticket

pytestmark = pytest.mark.browser


def test_alice_reads_her_membership_and_cancels_a_share_by_keyboard(
    page, live_server, cast, password
):
    base = live_server.url
    log_in(page, base, "alice@example.org", password)
    page.locator("main a[href='/mein-bereich/mitgliedschaft/']").click()
    page.wait_for_url(base + "/mein-bereich/mitgliedschaft/")
    main = page.locator("main").inner_text()
    assert "20001" in main and "800,00 €" in main and "Resteinzahlung" in main
    assert page.locator("main svg[role=img] title").first.text_content()
    check_page(page)

    # The bookings' table scrolls sideways on a phone, inside its region,
    # which takes the keyboard's focus (and arrow keys) itself.
    page.set_viewport_size(PHONE)
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    tab_to(page, "[role=region][aria-labelledby=bookings-title]", limit=120)
    page.set_viewport_size({"width": 1280, "height": 900})

    # To the cancellation form with the keyboard.
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    tab_to(page, "main a[href='/anliegen/neu/anteile-kuendigen/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(base + "/anliegen/neu/anteile-kuendigen/")
    earliest = cancellation_effective_on(
        timezone.localdate(), notice_months=3, end_month=12
    ).isoformat()
    assert page.locator(f"#id_effective_0[value='{earliest}']").is_checked()
    check_page(page)

    # Too many: the error summary takes the focus, nothing typed is lost.
    tab_to(page, "#id_count")
    page.keyboard.type("4")
    tab_to(page, "#id_remarks")
    page.keyboard.type("Bitte auf mein bekanntes Konto.")
    tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.matches('[data-error-summary]')")
    assert page.locator("#id_count").input_value() == "4"
    assert page.locator("#id_remarks").input_value() == "Bitte auf mein bekanntes Konto."
    check_page(page)

    page.fill("#id_count", "")
    tab_to(page, "#id_count")
    page.keyboard.type("1")
    tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(base + "/anliegen/neu/anteile-kuendigen/pruefen/")
    check_page(page)
    submit(page)
    ticket = Ticket.objects.get()
    assert ticket.answers == {
        "count": 1,
        "effective": earliest,
        "remarks": "Bitte auf mein bekanntes Konto.",
    }
    page.wait_for_url(base + f"/anliegen/{ticket.reference}/")
    check_page(page)
