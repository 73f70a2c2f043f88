"""Impressum, Datenschutz and the contact page in a real Chromium: reached
from the footer, accessible (axe-core) and without sideways scrolling at
1280 px and on a 360 px phone."""

import pytest

from cooperative.cache import cooperative_cache_clear
from cooperative.models import Cooperative
from tests.browser import PHONE, assert_accessible, assert_fits_width, log_in

pytestmark = pytest.mark.browser


def check_both_widths(page):
    size = page.viewport_size
    assert_accessible(page)
    assert_fits_width(page)
    page.set_viewport_size(PHONE)
    assert_accessible(page)
    assert_fits_width(page)
    page.set_viewport_size(size)


def test_a_stranger_opens_both_pages_from_the_footer(page, live_server, cast):
    Cooperative.objects.update(
        imprint="Wohnungsgenossenschaft Beispiel eG\nGenossenschaftsweg 1\n\n"
        "Vertreten durch den Vorstand: Petra Muster",
        privacy_notice="",
    )
    cooperative_cache_clear()
    page.goto(live_server.url + "/")
    page.locator("footer a[href='/impressum/']").click()
    page.wait_for_url(live_server.url + "/impressum/")
    assert "Petra Muster" in page.locator("main").inner_text()
    check_both_widths(page)
    page.locator("footer a[href='/datenschutz/']").click()
    page.wait_for_url(live_server.url + "/datenschutz/")
    # No text yet: who is responsible and how to reach them.
    assert "Genossenschaftsweg 1" in page.locator("main").inner_text()
    check_both_widths(page)


def test_alice_finds_the_address_change_from_her_contact_page(page, live_server, cast, password):
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, "alice@example.org", password)
    page.goto(live_server.url + "/mein-bereich/kontakt/")
    check_both_widths(page)
    page.locator("main a[href='/anliegen/neu/adressaenderung/']").click()
    page.wait_for_url(live_server.url + "/anliegen/neu/adressaenderung/")
    assert page.locator("#id_postcode").is_visible()
    assert page.locator("footer a[href='/impressum/']").is_visible()
