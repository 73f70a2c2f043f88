"""The team leads' overview in a real Chromium (issue 14): tom opens it
from the navigation, chooses a period and each part by keyboard; axe-core
finds nothing at 1280 px and on a 360 px phone, where nothing scrolls
sideways (wide tables scroll inside themselves); the chart has its title
and description and the same figures as a table."""

import datetime

import pytest
from django.utils import timezone

from tests.browser import check_page, log_in, tab_to
from tests.factories import ticket_create
from tests.helpers import de, otp_device

pytestmark = pytest.mark.browser


def test_tom_reads_the_overview_by_keyboard(page, live_server, cast, password):
    now = timezone.now()
    for days in (1, 2, 2, 9, 35):
        ticket_create(created_at=now - datetime.timedelta(days=days))
    otp_device(cast.tom)
    base = live_server.url
    log_in(page, base, "tom@example.org", password)

    tab_to(page, "a[href='/bearbeitung/ueberblick/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check_page(page)
    svg = page.locator("svg.chart__svg")
    assert svg.get_attribute("role") == "img"
    assert de("Requests received per day") in page.locator("svg title#chart-title").text_content()
    assert page.locator("svg rect.chart__bar").count() == 90
    # Coordinates are plain numbers (a German decimal comma is no SVG number):
    # the bars stand side by side, the higher ones taller.
    xs = page.eval_on_selector_all("svg rect.chart__bar", "els => els.map(e => e.x.baseVal.value)")
    assert xs == sorted(xs) and len(set(xs)) == 90 and xs[-1] > 600
    heights = page.eval_on_selector_all(
        "svg rect.chart__bar", "els => els.map(e => e.height.baseVal.value)"
    )
    assert max(heights) > 100 and heights[-2] > 0  # two requests yesterday: the highest bar
    # The same figures as a table, behind a summary the keyboard opens.
    tab_to(page, "figcaption summary")
    page.keyboard.press("Enter")
    assert page.locator("figcaption table tbody tr").count() == 90
    check_page(page)

    # The last 30 days, by keyboard.
    tab_to(page, "#id_zeitraum")
    page.keyboard.press("Home")  # the native select takes arrow keys
    page.select_option("#id_zeitraum", "30")
    tab_to(page, "form.filters button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("svg rect.chart__bar").count() == 30

    for part in ("rueckstand", "zeiten", "schwerpunkte", "ergebnis"):
        tab_to(page, f"nav a[href*='teil={part}']")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.locator("main nav a[aria-current=page]").get_attribute("href").endswith(part)
        check_page(page)
    # The backlog's numbers lead to the inbox.
    tab_to(page, "nav a[href*='teil=rueckstand']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, "table.data-table a")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/bearbeitung/?" in page.url and "state=open" in page.url
